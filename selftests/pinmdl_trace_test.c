// SPDX-License-Identifier: GPL-2.0
/*
 * pinmdl's trace events, read back from tracefs: a lock, a failed lock
 * with its errno, a partial descriptor, an unlock, a request's submit and
 * complete, a cancelled request's and a refused one's, each with the
 * fields of what was done; an IO command that may not wait where it is
 * issued, sent again from an io_uring worker; pinmdlctl trace; and debugfs
 * pinmdl/timing, which counts the nanoseconds of the same events.
 */
#define _GNU_SOURCE
#include <liburing.h>
#include "kselftest_harness.h"
#include "pinmdl_util.h"

#define LOWER	"pinmdl_lower"
#define DISK	"/dev/vda"

static int trace_write(const char *file, const char *val)
{
	char path[128];
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), "%s/%s", pm_tracefs(), file);
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

	snprintf(path, sizeof(path), "%s/trace", pm_tracefs());
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

/* "req=... " of the line at @line, with its space, into @req. */
static void req_of(const char *line, char *req, size_t size)
{
	const char *at = strstr(line, "req=");

	snprintf(req, size, "%.*s", at ? (int)strcspn(at, " \n") + 1 : 0,
		 at ? at : "");
}

static int lower_present(const char *val)
{
	FILE *f = fopen("/sys/kernel/debug/pinmdl_lower/pinmdl_lower/present",
			"w");
	int ret;

	if (!f)
		return -1;
	ret = fputs(val, f) < 0;
	return fclose(f) || ret ? -1 : 0;
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
	ASSERT_EQ(0, trace_write("tracing_on", "1"));
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
	const char *line;
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
	req_of(line, req, sizeof(req));
	ASSERT_NE(0, req[0]);
	EXPECT_NE(NULL, find(trace, "pinmdl_request_complete:", req,
			     "segments=1 bytes=16384 status=0"))
		TH_LOG("no complete with %s in %s", req, trace);
	free(trace);
	pm_unlock(self->fd, h);
	pm_free(self->fd, h);
	pm_target_close(self->fd, target);
	munmap(buf, len);
}

/*
 * A request cancelled: its submit, cancel and complete (-ECANCELED) name
 * the same request. A request refused because its target went away
 * gives a fail event with the errno.
 */
TEST_F(trace, request_cancel_and_a_refusal)
{
	char *buf = pm_map(PM_PAGE, PROT_READ | PROT_WRITE), *trace, req[64];
	struct pinmdl_segment s = { .length = PM_PAGE };
	struct pinmdl_completion c;
	struct pinmdl_io io;
	const char *line;
	int target;

	ASSERT_NE(NULL, buf);
	target = pm_target_open(self->fd, LOWER, -1, NULL);
	if (target < 0)
		SKIP(return, "no %s target", LOWER);
	s.handle = pm_create_locked(self->fd, buf, PM_PAGE,
				    PINMDL_IO_READ_ACCESS);
	ASSERT_NE(0, s.handle);
	ASSERT_EQ(0, pm_io(self->fd, target, PINMDL_LOWER_DELAY, &s, 1, 10000,
			   PINMDL_SUBMIT_ASYNC, &io));
	ASSERT_EQ(0, pm_cancel(self->fd, io.request_id));
	ASSERT_EQ(0, pm_completion(self->fd, &c, 5000));
	EXPECT_EQ(-ECANCELED, c.status);
	ASSERT_EQ(0, lower_present("0"));
	EXPECT_EQ(-ENODEV, pm_io(self->fd, target, PINMDL_LOWER_CHECKSUM, &s,
				 1, 0, 0, NULL));
	ASSERT_EQ(0, lower_present("1"));
	ASSERT_EQ(0, trace_write("events/pinmdl/enable", "0"));

	trace = trace_read();
	ASSERT_NE(NULL, trace);
	line = find(trace, "pinmdl_request_submit:", "target=" LOWER " ",
		    "segments=1 bytes=4096 status=0");
	ASSERT_NE(NULL, line) TH_LOG("%s", trace);
	req_of(line, req, sizeof(req));
	EXPECT_NE(NULL, find(trace, "pinmdl_request_cancel:", req,
			     "target=" LOWER " "))
		TH_LOG("no cancel with %s in %s", req, trace);
	EXPECT_NE(NULL, find(trace, "pinmdl_request_cancel:", req,
			     "status=0 "));
	EXPECT_NE(NULL, find(trace, "pinmdl_request_complete:", req,
			     "status=-125 "));
	EXPECT_NE(NULL, find(trace, "pinmdl_request_fail:", "target=" LOWER " ",
			     "status=-19 "))
		TH_LOG("no fail event in %s", trace);
	free(trace);
	pm_target_close(self->fd, target);
	pm_unlock(self->fd, s.handle);
	pm_free(self->fd, s.handle);
	munmap(buf, PM_PAGE);
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

/* Whether tracefs instance @inst has pinmdl's events on. */
static int instance_enabled(const char *inst)
{
	char path[192], val[8] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/events/pinmdl/enable", inst);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(val, sizeof(val), f))
		val[0] = 0;
	fclose(f);
	return val[0] == '1';
}

/* One IO command on a ring of its own: its CQE's res, and no other. */
static int uring_io(struct __test_metadata *_metadata, int fd,
		    const struct pinmdl_io *io)
{
	struct io_uring_params p = { .flags = IORING_SETUP_SQE128 |
					      IORING_SETUP_CQE32 };
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	int res;

	EXPECT_EQ(0, io_uring_queue_init_params(4, &ring, &p));
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
	sqe->cmd_op = PINMDL_IOC_IO;
	memcpy(sqe->cmd, io, sizeof(*io));
	EXPECT_EQ(1, io_uring_submit_and_wait(&ring, 1));
	EXPECT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
	res = cqe->res;
	io_uring_cqe_seen(&ring, cqe);
	EXPECT_EQ(-EAGAIN, io_uring_peek_cqe(&ring, &cqe));
	io_uring_queue_exit(&ring);
	return res;
}

/* Whether the line at @line names an io_uring worker as its task. */
static bool from_worker(const char *line)
{
	const char *at = strstr(line, "iou-wrk-");

	return at && at < strchrnul(line, '\n');
}

/*
 * A FLUSH of pinmdl_blk waits for the device: as an io_uring command,
 * where it is issued without waiting it is refused (-EAGAIN, nothing
 * queued, no CQE), then sent again from an io_uring worker of the
 * submitter, and done there; its one CQE says 0. A read of 4 KiB, which
 * the block layer takes without waiting, goes where it was issued.
 */
TEST_F(trace, uring_io_that_would_wait_goes_to_a_worker)
{
	struct pinmdl_segment seg = { .length = PM_PAGE };
	struct pinmdl_io io = { .op = PINMDL_BLK_FLUSH };
	char *buf = pm_map(PM_PAGE, PROT_READ | PROT_WRITE), *trace;
	struct pinmdl_target_open o;
	const char *line;
	int dev;

	ASSERT_NE(NULL, buf);
	if (access(DISK, F_OK))
		SKIP(return, "no virtio-blk disk in this guest");
	dev = open(DISK, O_RDWR);
	ASSERT_LE(0, dev);
	io.target = pm_target_open(self->fd, "pinmdl_blk", dev, &o);
	if (io.target == -ENODEV)
		SKIP(return, "pinmdl_blk is not loaded");
	ASSERT_LT(0, io.target);
	/* A write error of an earlier test is this open's first fsync's. */
	fsync(dev);
	seg.handle = pm_create_locked(self->fd, buf, PM_PAGE,
				      PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, seg.handle);
	EXPECT_EQ(0, uring_io(_metadata, self->fd, &io));
	io.op = PINMDL_BLK_READ;
	io.segments = (uintptr_t)&seg;
	io.nr_segments = 1;
	EXPECT_EQ(0, uring_io(_metadata, self->fd, &io));
	ASSERT_EQ(0, trace_write("events/pinmdl/enable", "0"));

	trace = trace_read();
	ASSERT_NE(NULL, trace);
	line = find(trace, "pinmdl_request_fail:", "target=pinmdl_blk",
		    "status=-11 ");
	ASSERT_NE(NULL, line) TH_LOG("%s", trace);
	EXPECT_FALSE(from_worker(line));
	EXPECT_NE(NULL, find(line, "op=3 ", "", "")) TH_LOG("%s", trace);
	line = find(line, "iou-wrk-", "pinmdl_request_submit:",
		    "target=pinmdl_blk");
	ASSERT_NE(NULL, line) TH_LOG("%s", trace);
	line = find(line, "pinmdl_request_complete:", "target=pinmdl_blk",
		    "status=0 ");
	ASSERT_NE(NULL, line) TH_LOG("%s", trace);
	/* The read: submitted once, by the test itself, and done. */
	EXPECT_EQ(NULL, find(line, "pinmdl_request_fail:", "op=1 ", ""));
	line = find(line, "pinmdl_request_submit:", "target=pinmdl_blk",
		    "op=1 ");
	ASSERT_NE(NULL, line) TH_LOG("%s", trace);
	EXPECT_FALSE(from_worker(line)) TH_LOG("%s", trace);
	EXPECT_NE(NULL, find(line, "pinmdl_request_complete:", "op=1 ",
			     "status=0 "));
	free(trace);
	EXPECT_EQ(0, pm_unlock(self->fd, seg.handle));
	EXPECT_EQ(0, pm_free(self->fd, seg.handle));
	EXPECT_EQ(0, pm_target_close(self->fd, io.target));
	close(dev);
	munmap(buf, PM_PAGE);
}

/*
 * pinmdlctl trace (when the guest has it beside this test) prints the
 * events of a lock made meanwhile from a tracefs instance of its own,
 * leaves the global switches as they were and removes its instance.
 */
TEST_F(trace, pinmdlctl_trace)
{
	char *buf = pm_map(PM_PAGE, PROT_READ | PROT_WRITE), handle[32];
	char inst[128], out[] = "/tmp/pinmdlctl-trace.XXXXXX", *text;
	size_t n;
	FILE *f;
	pid_t pid;
	uint32_t h;
	int status, i, ofd;

	ASSERT_NE(NULL, buf);
	if (access("./pinmdlctl", X_OK))
		SKIP(return, "no pinmdlctl beside the test");
	ASSERT_EQ(0, trace_write("events/pinmdl/enable", "0"));
	ofd = mkstemp(out);
	ASSERT_LE(0, ofd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		dup2(ofd, 1);
		execl("./pinmdlctl", "pinmdlctl", "trace", "4", NULL);
		_exit(127);
	}
	close(ofd);
	/*
	 * Lock once the instance is there with pinmdl's events on (making an
	 * instance and its events takes a while on a debug kernel), and
	 * pinmdlctl had a moment to open its trace_pipe: what comes before
	 * the open is kept in the instance's buffer anyway.
	 */
	snprintf(inst, sizeof(inst), "%s/instances/pinmdlctl.%d", pm_tracefs(),
		 (int)pid);
	for (i = 0; i < 500 && !instance_enabled(inst); i++)
		usleep(20000);
	ASSERT_TRUE(instance_enabled(inst));
	usleep(200000);
	ASSERT_EQ(0, pm_create(self->fd, buf, PM_PAGE, &h));
	ASSERT_EQ(0, pm_lock(self->fd, h, PINMDL_IO_READ_ACCESS));
	ASSERT_EQ(0, pm_unlock(self->fd, h));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_NE(0, access(inst, F_OK)) TH_LOG("%s is still there", inst);

	f = fopen(out, "r");
	ASSERT_NE(NULL, f);
	text = calloc(1, 1 << 16);
	ASSERT_NE(NULL, text);
	n = fread(text, 1, (1 << 16) - 1, f);
	fclose(f);
	unlink(out);
	text[n] = 0;
	snprintf(handle, sizeof(handle), "handle=%u ", h);
	EXPECT_NE(NULL, find(text, "pinmdl_lock:", handle, "ret=0 "))
		TH_LOG("pinmdlctl printed: %s", text);
	EXPECT_NE(NULL, find(text, "pinmdl_unlock:", handle, "ret=0 "));
	/* Nothing went to the global buffer, whose events stayed off. */
	free(text);
	text = trace_read();
	ASSERT_NE(NULL, text);
	EXPECT_EQ(NULL, find(text, "pinmdl_lock:", handle, "ret=0 "));
	free(text);
	pm_free(self->fd, h);
	munmap(buf, PM_PAGE);
}

TEST_HARNESS_MAIN
