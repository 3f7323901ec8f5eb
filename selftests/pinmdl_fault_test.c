// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection: failslab and fail_page_alloc fail the Nth allocation of
 * the calling task (/proc/thread-self/fail-nth) for N = 1, 2, ... on every
 * path of CREATE, LOCK, PARTIAL, QUERY, SUBMIT (sync and async),
 * SUBMIT_BUFFERED and TARGET_OPEN, until the call gets through without an
 * injected failure. Each failure must be an errno, leave no half state, and leave
 * nothing pinned or allocated. Needs a kernel with fault injection
 * (debug-7.3); skipped elsewhere.
 */
#define _GNU_SOURCE
#include <poll.h>

#include "kselftest_harness.h"
#include "pinmdl_util.h"

#define MAX_NTH		500

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -EIO;
}

/* Make failslab and fail_page_alloc obey fail-nth for any allocation. */
static int setup_injection(void)
{
	static const char *const settings[][2] = {
		{ "/sys/kernel/debug/failslab/ignore-gfp-wait", "N" },
		{ "/sys/kernel/debug/failslab/verbose", "0" },
		{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N" },
		{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-highmem", "N" },
		{ "/sys/kernel/debug/fail_page_alloc/min-order", "0" },
		{ "/sys/kernel/debug/fail_page_alloc/verbose", "0" },
	};
	size_t i;

	if (access("/proc/thread-self/fail-nth", W_OK))
		return -ENOENT;
	for (i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
		if (write_file(settings[i][0], settings[i][1]))
			return -ENOENT;
	return 0;
}

static void arm(int nth)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%d", nth);
	write_file("/proc/thread-self/fail-nth", buf);
}

/* Disarm; true if the armed failure was injected. */
static bool disarm(void)
{
	char buf[16] = "";
	int fd = open("/proc/thread-self/fail-nth", O_RDWR);
	bool injected;

	if (fd < 0)
		return false;
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = 0;
	injected = atoi(buf) == 0;
	if (write(fd, "0", 1) != 1)
		injected = false;
	close(fd);
	return injected;
}

enum op { OP_CREATE, OP_LOCK, OP_PARTIAL, OP_QUERY, OP_SUBMIT,
	  OP_SUBMIT_ASYNC, OP_SUBMIT_BUFFERED, OP_TARGET_OPEN };

struct state {
	int fd;
	char *buf;
	size_t len;
	uint32_t locked;
	uint32_t unlocked;
};

FIXTURE(fault)
{
	long pins;
	long live;
	unsigned long injected;
};

FIXTURE_VARIANT(fault)
{
	enum op op;
};

FIXTURE_VARIANT_ADD(fault, create) { .op = OP_CREATE };
FIXTURE_VARIANT_ADD(fault, lock) { .op = OP_LOCK };
FIXTURE_VARIANT_ADD(fault, partial) { .op = OP_PARTIAL };
FIXTURE_VARIANT_ADD(fault, query) { .op = OP_QUERY };
FIXTURE_VARIANT_ADD(fault, submit) { .op = OP_SUBMIT };
FIXTURE_VARIANT_ADD(fault, submit_async) { .op = OP_SUBMIT_ASYNC };
FIXTURE_VARIANT_ADD(fault, submit_buffered) { .op = OP_SUBMIT_BUFFERED };
FIXTURE_VARIANT_ADD(fault, target_open) { .op = OP_TARGET_OPEN };

FIXTURE_SETUP(fault)
{
	if (setup_injection())
		SKIP(return, "no fault injection in this kernel");
	self->pins = pm_pins();
	self->live = pm_stat("descriptors_live");
}

FIXTURE_TEARDOWN(fault)
{
	disarm();
}

static int prepare(struct state *st)
{
	st->len = 64 * PM_PAGE;
	st->fd = pm_open();
	st->buf = pm_map(st->len, PROT_READ | PROT_WRITE);
	if (st->fd < 0 || !st->buf)
		return -1;
	memset(st->buf, 0x11, st->len);
	st->locked = pm_create_locked(st->fd, st->buf, st->len,
				      PINMDL_IO_WRITE_ACCESS);
	if (!st->locked || pm_create(st->fd, st->buf, st->len, &st->unlocked))
		return -1;
	return 0;
}

static int run_op(enum op op, struct state *st)
{
	struct pinmdl_query q;
	uint64_t pfns[64];
	uint32_t h;

	switch (op) {
	case OP_CREATE:
		return pm_create(st->fd, st->buf, st->len, &h);
	case OP_LOCK:
		return pm_lock(st->fd, st->unlocked, PINMDL_IO_READ_ACCESS);
	case OP_PARTIAL:
		return pm_partial(st->fd, st->locked, st->buf + 5, 0, &h);
	case OP_QUERY:
		return pm_query(st->fd, st->locked, &q, pfns, 64);
	case OP_SUBMIT:
		return pm_submit(st->fd, st->locked, PINMDL_LOWER_CHECKSUM, 0,
				 st->len, 0, 0, NULL);
	case OP_SUBMIT_ASYNC:
		return pm_submit(st->fd, st->locked, PINMDL_LOWER_FILL, 0,
				 st->len, 7, PINMDL_SUBMIT_ASYNC, NULL);
	case OP_SUBMIT_BUFFERED:
		return pm_submit_buffered(st->fd, st->buf, st->len,
					  PINMDL_LOWER_FILL, 9, NULL);
	case OP_TARGET_OPEN: {
		int id = pm_target_open(st->fd, "pinmdl_lower", -1, NULL);

		return id < 0 ? id : 0;
	}
	}
	return -EINVAL;
}

/* Collect the completion of an asynchronous request, outside injection. */
static int completion_status(struct state *st)
{
	struct pollfd p = { .fd = st->fd, .events = POLLIN };
	struct pinmdl_completion c;

	if (poll(&p, 1, 10000) != 1 || read(st->fd, &c, sizeof(c)) != sizeof(c))
		return -ETIME;
	return c.status;
}

/* The descriptors of @st are as prepare() left them, bar @op's success. */
static bool no_half_state(enum op op, struct state *st, int ret)
{
	struct pinmdl_query q;

	if (pm_query(st->fd, st->unlocked, &q, NULL, 0))
		return false;
	if (op == OP_LOCK && ret && q.flags)
		return false;
	if (pm_query(st->fd, st->locked, &q, NULL, 0))
		return false;
	/* A request may have left its (cached) system mapping: not a half state. */
	return (q.flags & ~PINMDL_F_MAPPED_SYSTEM_VA) ==
	       (PINMDL_F_PAGES_LOCKED | PINMDL_F_WRITE_OPERATION);
}

TEST_F(fault, every_allocation_fails_cleanly)
{
	int nth, ret, bad = 0, done = 0;
	struct state st;

	for (nth = 1; nth <= MAX_NTH && !done; nth++) {
		bool injected;

		ASSERT_EQ(0, prepare(&st));
		arm(nth);
		ret = run_op(variant->op, &st);
		injected = disarm();
		if (variant->op == OP_SUBMIT_ASYNC && !ret)
			ret = completion_status(&st);
		if (!injected)
			done = 1;
		else
			self->injected++;
		if (ret && ret != -ENOMEM) {
			TH_LOG("failure %d of the call: errno %d", nth, -ret);
			bad++;
		}
		if (!injected && ret) {
			TH_LOG("no failure injected, yet errno %d", -ret);
			bad++;
		}
		if (!no_half_state(variant->op, &st, ret)) {
			struct pinmdl_query q1, q2;

			pm_query(st.fd, st.unlocked, &q1, NULL, 0);
			pm_query(st.fd, st.locked, &q2, NULL, 0);
			TH_LOG("half state after failure %d (errno %d): flags %#x %#x",
			       nth, -ret, q1.flags, q2.flags);
			bad++;
		}
		close(st.fd);
		munmap(st.buf, st.len);
		EXPECT_EQ(self->pins, pm_pins()) TH_LOG("failure %d", nth);
		EXPECT_EQ(self->live, pm_stat("descriptors_live"));
	}
	EXPECT_EQ(0, bad);
	EXPECT_TRUE(done) TH_LOG("still failing after %d injections", MAX_NTH);
	printf("# %lu allocation failures injected\n", self->injected);
}

TEST_HARNESS_MAIN
