// SPDX-License-Identifier: GPL-2.0
/*
 * pinmdl's trace events, read back from tracefs: a lock, a failed lock
 * with its errno, a partial descriptor, an unlock, and a request's submit
 * and complete, each with the fields of what was done; and debugfs
 * pinmdl/timing, which counts the nanoseconds of the same events.
 */
#define _GNU_SOURCE
#include "kselftest_harness.h"
#include "pinmdl_util.h"

#define LOWER	"pinmdl_lower"

static const char *tracefs(void)
{
	return access("/sys/kernel/tracing/events", F_OK) ?
	       "/sys/kernel/debug/tracing" : "/sys/kernel/tracing";
}

static int trace_write(const char *file, const char *val)
{
	char path[128];
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), "%s/%s", tracefs(), file);
	f = fopen(path, "w");
	if (!f)
		return -1;
	ret = fputs(val, f) < 0;
	return fclose(f) || ret ? -1 : 0;
}

/* The trace buffer, NUL-terminated, in a buffer to free. */
static char *trace_read(void)
{
	size_t len = 0, cap = 1 << 16;
	char path[128], *buf = malloc(cap);
	FILE *f;

	snprintf(path, sizeof(path), "%s/trace", tracefs());
	f = fopen(path, "r");
	if (!f || !buf) {
		free(buf);
		return NULL;
	}
	while (!feof(f)) {
		if (len + 4096 > cap)
			buf = realloc(buf, cap *= 2);
		len += fread(buf + len, 1, cap - len - 1, f);
		if (ferror(f))
			break;
	}
	fclose(f);
	buf[len] = 0;
	return buf;
}

/* The first line of @trace with all of @a, @b and @c in it, or NULL. */
static const char *find(const char *trace, const char *a, const char *b,
			const char *c)
{
	const char *line = trace, *end;
	char one[512];
	size_t n;

	for (; *line; line = *end ? end + 1 : end) {
		end = strchrnul(line, '\n');
		n = end - line < (long)sizeof(one) - 1 ? end - line :
							 sizeof(one) - 1;
		memcpy(one, line, n);
		one[n] = 0;
		if (strstr(one, a) && strstr(one, b) && strstr(one, c))
			return line;
	}
	return NULL;
}

/* The number after @key on the line at @line, or -1. */
static long long field(const char *line, const char *key)
{
	const char *end = strchrnul(line, '\n'), *at = strstr(line, key);

	return at && at < end ? strtoll(at + strlen(key), NULL, 0) : -1;
}

FIXTURE(trace)
{
	int fd;
	long pins;
};

FIXTURE_SETUP(trace)
{
	self->fd = pm_open();
	ASSERT_LE(0, self->fd);
	self->pins = pm_pins();
	if (trace_write("events/pinmdl/enable", "0"))
		SKIP(return, "no tracefs or no pinmdl events");
	ASSERT_EQ(0, trace_write("trace", ""));
	ASSERT_EQ(0, trace_write("events/pinmdl/enable", "1"));
}

FIXTURE_TEARDOWN(trace)
{
	trace_write("events/pinmdl/enable", "0");
	close(self->fd);
	EXPECT_EQ(self->pins, pm_pins());
}

TEST_F(trace, lock_partial_unlock_and_a_failed_lock)
{
	size_t len = 16 * PM_PAGE;
	char *buf = pm_map(len, PROT_READ | PROT_WRITE), *hole;
	char handle[32], va[48], pages[32], *trace;
	uint32_t h, bad, part;
	const char *line;

	ASSERT_NE(NULL, buf);
	hole = pm_map(PM_PAGE, PROT_READ);
	ASSERT_NE(NULL, hole);
	ASSERT_EQ(0, munmap(hole, PM_PAGE));
	ASSERT_EQ(0, pm_create(self->fd, buf, len, &h));
	ASSERT_EQ(0, pm_lock(self->fd, h, PINMDL_IO_WRITE_ACCESS));
	ASSERT_EQ(0, pm_partial(self->fd, h, buf + PM_PAGE, PM_PAGE, &part));
	ASSERT_EQ(0, pm_free(self->fd, part));
	ASSERT_EQ(0, pm_unlock(self->fd, h));
	ASSERT_EQ(0, pm_create(self->fd, hole, PM_PAGE, &bad));
	ASSERT_EQ(-EFAULT, pm_lock(self->fd, bad, PINMDL_IO_READ_ACCESS));
	ASSERT_EQ(0, trace_write("events/pinmdl/enable", "0"));

	trace = trace_read();
	ASSERT_NE(NULL, trace);
	snprintf(handle, sizeof(handle), "handle=%u ", h);
	snprintf(va, sizeof(va), "va=%p ", buf);
	line = find(trace, "pinmdl_lock:", handle, va);
	ASSERT_NE(NULL, line) TH_LOG("%s", trace);
	EXPECT_NE(NULL, find(line, "pages=16 ", "op=write", "ret=0 "));
	EXPECT_NE(NULL, find(line, "mode=user", "ns=", "pinmdl_lock:"));
	EXPECT_LT(0, field(line, "ns="));
	snprintf(pages, sizeof(pages), "parent=%u ", h);
	EXPECT_NE(NULL, find(trace, "pinmdl_partial:", pages, "ret=0"));
	line = find(trace, "pinmdl_unlock:", handle, "pages=16 ");
	ASSERT_NE(NULL, line);
	EXPECT_NE(NULL, find(line, "pinmdl_unlock:", "ret=0 ", "ns="));
	EXPECT_LT(0, field(line, "ns="));
	snprintf(handle, sizeof(handle), "handle=%u ", bad);
	line = find(trace, "pinmdl_lock:", handle, "op=read");
	ASSERT_NE(NULL, line) TH_LOG("%s", trace);
	EXPECT_NE(NULL, find(line, "pinmdl_lock:", "pages=1 ", "ret=-14 "));
	free(trace);
	pm_free(self->fd, bad);
	pm_free(self->fd, h);
	munmap(buf, len);
}

TEST_F(trace, request_submit_and_complete)
{
	size_t len = 4 * PM_PAGE;
	char *buf = pm_map(len, PROT_READ | PROT_WRITE), *trace, req[64];
	struct pinmdl_segment s = { .length = len };
	const char *line, *at;
	struct pinmdl_io io;
	int target;
	uint32_t h;

	ASSERT_NE(NULL, buf);
	target = pm_target_open(self->fd, LOWER, -1, NULL);
	if (target < 0)
		SKIP(return, "no %s target", LOWER);
	h = pm_create_locked(self->fd, buf, len, PINMDL_IO_READ_ACCESS);
	ASSERT_NE(0, h);
	s.handle = h;
	ASSERT_EQ(0, pm_io(self->fd, target, PINMDL_LOWER_CHECKSUM, &s, 1, 0,
			   0, &io));
	ASSERT_EQ(0, trace_write("events/pinmdl/enable", "0"));

	trace = trace_read();
	ASSERT_NE(NULL, trace);
	line = find(trace, "pinmdl_request_submit:", "target=" LOWER " ",
		    "bytes=16384 status=0");
	ASSERT_NE(NULL, line) TH_LOG("%s", trace);
	/* The complete names the same request as the submit. */
	at = strstr(line, "req=");
	ASSERT_NE(NULL, at);
	snprintf(req, sizeof(req), "%.*s", (int)strcspn(at, " \n") + 1, at);
	EXPECT_NE(NULL, find(trace, "pinmdl_request_complete:", req,
			     "segments=1 bytes=16384 status=0"))
		TH_LOG("no complete with %s in %s", req, trace);
	free(trace);
	pm_unlock(self->fd, h);
	pm_free(self->fd, h);
	pm_target_close(self->fd, target);
	munmap(buf, len);
}

/* The sum of ns= over the events @event of handle @h with ret=0. */
static long long sum_ns(const char *trace, const char *event, uint32_t h,
			int *count)
{
	const char *line = trace;
	long long sum = 0;
	char handle[32];

	snprintf(handle, sizeof(handle), "handle=%u ", h);
	*count = 0;
	while ((line = find(line, event, handle, "ret=0 "))) {
		sum += field(line, "ns=");
		(*count)++;
		line = strchrnul(line, '\n');
	}
	return sum;
}

/*
 * pinmdl/timing adds up the very nanoseconds the events carry, for the
 * locks and unlocks that succeed while it is on, and nothing while off.
 */
TEST_F(trace, timing_agrees_with_the_events)
{
	size_t len = 8 * PM_PAGE;
	char *buf = pm_map(len, PROT_READ | PROT_WRITE), *trace;
	int i, locks, unlocks;
	long long lock_ns, unlock_ns;
	uint32_t h;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, pm_create(self->fd, buf, len, &h));
	if (pm_timing(1))
		SKIP(return, "no debugfs pinmdl/timing");
	ASSERT_EQ(0, pm_timing(0));
	ASSERT_EQ(0, pm_lock(self->fd, h, PINMDL_IO_READ_ACCESS));
	ASSERT_EQ(0, pm_unlock(self->fd, h));
	EXPECT_EQ(0, pm_debugfs("timing", "locks"));
	EXPECT_EQ(0, pm_debugfs("timing", "unlocks"));

	ASSERT_EQ(0, trace_write("trace", ""));
	ASSERT_EQ(0, pm_timing(1));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, pm_lock(self->fd, h, PINMDL_IO_WRITE_ACCESS));
		ASSERT_EQ(-EBUSY, pm_lock(self->fd, h, PINMDL_IO_READ_ACCESS));
		ASSERT_EQ(0, pm_unlock(self->fd, h));
	}
	ASSERT_EQ(0, pm_timing(0));
	ASSERT_EQ(0, trace_write("events/pinmdl/enable", "0"));

	trace = trace_read();
	ASSERT_NE(NULL, trace);
	lock_ns = sum_ns(trace, "pinmdl_lock:", h, &locks);
	unlock_ns = sum_ns(trace, "pinmdl_unlock:", h, &unlocks);
	EXPECT_EQ(3, locks) TH_LOG("%s", trace);
	EXPECT_EQ(3, unlocks);
	EXPECT_EQ(3, pm_debugfs("timing", "locks"));
	EXPECT_EQ(3, pm_debugfs("timing", "unlocks"));
	EXPECT_LT(0, lock_ns);
	EXPECT_EQ(lock_ns, pm_debugfs("timing", "lock_ns"));
	EXPECT_EQ(unlock_ns, pm_debugfs("timing", "unlock_ns"));
	free(trace);
	pm_free(self->fd, h);
	munmap(buf, len);
}

TEST_HARNESS_MAIN
