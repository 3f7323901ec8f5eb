// SPDX-License-Identifier: GPL-2.0
/*
 * The io_uring commands of /dev/pinmdl (IORING_OP_URING_CMD): CREATE,
 * LOCK, UNLOCK, FREE, IO and CANCEL with the ioctl's struct in a 128-byte
 * SQE and the result in a 32-byte CQE; every errno the same as the
 * ioctl's; batches of 256 LOCKs and UNLOCKs in one submission; IO commands
 * in flight by the hundred on pinmdl_lower and on a block device, their
 * CQEs posted when the requests complete and never read(2); CANCEL by
 * user_data, as an ioctl and as a command; linked and registered-file
 * submissions; the file's bound of asynchronous requests; a ring fd used
 * from another process; a ring torn down with commands in flight. Nothing
 * stays pinned after any of them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "pinmdl_util.h"

#define LOWER		"pinmdl_lower"
#define DISK		"/dev/vda"
#define RING_DEPTH	512

/* Queue command @op with the ioctl struct @arg (of @size bytes). */
static struct io_uring_sqe *queue_cmd(struct io_uring *ring, int fd,
				      unsigned int op, const void *arg,
				      size_t size, uint64_t user_data)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe)
		return NULL;
	memset(sqe, 0, 128);
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fd;
	sqe->cmd_op = op;
	sqe->user_data = user_data;
	memcpy(sqe->cmd, arg, size);
	return sqe;
}

/* Wait for one CQE: its res, user_data and big_cqe[0]. */
static int reap(struct io_uring *ring, uint64_t *user_data, uint64_t *extra)
{
	struct io_uring_cqe *cqe;
	int ret = io_uring_wait_cqe(ring, &cqe);

	if (ret)
		return ret;
	ret = cqe->res;
	if (user_data)
		*user_data = cqe->user_data;
	if (extra)
		*extra = cqe->big_cqe[0];
	io_uring_cqe_seen(ring, cqe);
	return ret;
}

/* One command, submitted and waited for: its res, and big_cqe[0]. */
static int run_cmd(struct io_uring *ring, int fd, unsigned int op,
		   const void *arg, size_t size, uint64_t *extra)
{
	if (!queue_cmd(ring, fd, op, arg, size, 7) ||
	    io_uring_submit(ring) != 1)
		return -EBADE;
	return reap(ring, NULL, extra);
}

#define CMD(ring, fd, op, arg, extra) \
	run_cmd(ring, fd, op, &(arg), sizeof(arg), extra)

static int ring_init(struct io_uring *ring, unsigned int flags)
{
	struct io_uring_params p = { .flags = flags };

	return io_uring_queue_init_params(RING_DEPTH, ring, &p);
}

FIXTURE(uring) {
	struct io_uring ring;
	int fd;
	long pins;
	char *buf;
	size_t len;
};

FIXTURE_SETUP(uring)
{
	self->pins = pm_pins();
	self->fd = pm_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ring_init(&self->ring, IORING_SETUP_SQE128 |
					    IORING_SETUP_CQE32));
	self->len = 64 * PM_PAGE;
	self->buf = pm_map(self->len, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, self->buf);
	memset(self->buf, 0x3c, self->len);
}

FIXTURE_TEARDOWN(uring)
{
	io_uring_queue_exit(&self->ring);
	close(self->fd);
	munmap(self->buf, self->len);
	EXPECT_EQ(self->pins, pm_pins());
}

/* CREATE's handle in big_cqe[0]; LOCK, UNLOCK and FREE of it. */
TEST_F(uring, create_lock_unlock_free)
{
	struct pinmdl_create c = { .addr = (uintptr_t)self->buf,
				   .length = self->len };
	struct pinmdl_lock l = { .access_mode = PINMDL_USER_MODE,
				 .operation = PINMDL_IO_WRITE_ACCESS };
	struct pinmdl_handle_arg h = { 0 };
	struct pinmdl_query q;
	uint64_t handle = 0;

	ASSERT_EQ(0, CMD(&self->ring, self->fd, PINMDL_IOC_CREATE, c, &handle));
	ASSERT_LT(0, handle);
	l.handle = h.handle = handle;
	EXPECT_EQ(0, CMD(&self->ring, self->fd, PINMDL_IOC_LOCK, l, NULL));
	ASSERT_EQ(0, pm_query(self->fd, handle, &q, NULL, 0));
	EXPECT_TRUE(q.flags & PINMDL_F_PAGES_LOCKED);
	EXPECT_EQ(self->pins + 64, pm_pins());
	EXPECT_EQ(0, CMD(&self->ring, self->fd, PINMDL_IOC_UNLOCK, h, NULL));
	EXPECT_EQ(self->pins, pm_pins());
	EXPECT_EQ(0, CMD(&self->ring, self->fd, PINMDL_IOC_FREE, h, NULL));
	EXPECT_EQ(-ENOENT, pm_query(self->fd, handle, &q, NULL, 0));
}

/* Run @op with @arg as an ioctl and as a command: the same errno. */
static void same_errno(struct __test_metadata *_metadata, struct io_uring *ring,
		       int fd, unsigned int op, const void *arg, size_t size,
		       int want, const char *what)
{
	char copy[80];
	int got;

	memcpy(copy, arg, size);
	got = ioctl(fd, op, copy) ? -errno : 0;
	EXPECT_EQ(want, got) TH_LOG("ioctl: %s", what);
	got = run_cmd(ring, fd, op, arg, size, NULL);
	EXPECT_EQ(want, got) TH_LOG("command: %s", what);
}

#define SAME(op, arg, want) \
	same_errno(_metadata, &self->ring, self->fd, op, &(arg), sizeof(arg), \
		   want, #op " " #want)

/* Every errno of CREATE, LOCK, UNLOCK, FREE, IO and CANCEL, both ways. */
TEST_F(uring, errnos_as_the_ioctls)
{
	struct pinmdl_create c = { .addr = (uintptr_t)self->buf };
	struct pinmdl_lock l = { .access_mode = PINMDL_USER_MODE };
	struct pinmdl_handle_arg h = { .handle = 0xdead };
	struct pinmdl_cancel can = { .request_id = 12345 };
	struct pinmdl_io io = { .target = 999 };
	uint32_t handle;

	ASSERT_EQ(0, pm_create(self->fd, self->buf, self->len, &handle));
	SAME(PINMDL_IOC_CREATE, c, -EINVAL);
	c.length = 1ULL << 60;
	SAME(PINMDL_IOC_CREATE, c, -E2BIG);
	c.length = self->len;
	c.flags = 1;
	SAME(PINMDL_IOC_CREATE, c, -EINVAL);

	l.handle = 0xdead;
	SAME(PINMDL_IOC_LOCK, l, -ENOENT);
	l.handle = handle;
	l.flags = 1;
	SAME(PINMDL_IOC_LOCK, l, -EINVAL);
	l.flags = 0;
	l.access_mode = PINMDL_KERNEL_MODE;
	SAME(PINMDL_IOC_LOCK, l, -EPERM);
	l.access_mode = 7;
	SAME(PINMDL_IOC_LOCK, l, -EINVAL);
	l.access_mode = PINMDL_USER_MODE;
	l.operation = 9;
	SAME(PINMDL_IOC_LOCK, l, -EINVAL);

	SAME(PINMDL_IOC_UNLOCK, h, -ENOENT);
	SAME(PINMDL_IOC_FREE, h, -ENOENT);
	h.handle = handle;
	SAME(PINMDL_IOC_UNLOCK, h, -EINVAL);
	h.flags = 1;
	SAME(PINMDL_IOC_UNLOCK, h, -EINVAL);
	SAME(PINMDL_IOC_FREE, h, -EINVAL);
	h.flags = 0;

	SAME(PINMDL_IOC_IO, io, -ENOENT);
	io.flags = 0x80;
	SAME(PINMDL_IOC_IO, io, -EINVAL);

	SAME(PINMDL_IOC_CANCEL, can, -ENOENT);
	can.flags = PINMDL_CANCEL_USER_DATA;
	SAME(PINMDL_IOC_CANCEL, can, -ENOENT);
	can.flags = 0x80;
	SAME(PINMDL_IOC_CANCEL, can, -EINVAL);
	can.flags = 0;
	can.reserved = 1;
	SAME(PINMDL_IOC_CANCEL, can, -EINVAL);

	/* State: LOCK twice, FREE of a locked one. */
	l = (struct pinmdl_lock){ .handle = handle,
				  .access_mode = PINMDL_USER_MODE };
	EXPECT_EQ(0, CMD(&self->ring, self->fd, PINMDL_IOC_LOCK, l, NULL));
	SAME(PINMDL_IOC_LOCK, l, -EBUSY);
	SAME(PINMDL_IOC_FREE, h, -EBUSY);
	EXPECT_EQ(0, CMD(&self->ring, self->fd, PINMDL_IOC_UNLOCK, h, NULL));

	/* An IO command is asynchronous by nature: it says nothing more. */
	io.flags = PINMDL_SUBMIT_ASYNC;
	EXPECT_EQ(-EINVAL, CMD(&self->ring, self->fd, PINMDL_IOC_IO, io, NULL));
	/* Ioctls that are no command, and no command at all. */
	EXPECT_EQ(-ENOTTY, CMD(&self->ring, self->fd, PINMDL_IOC_QUERY, c, NULL));
	EXPECT_EQ(-ENOTTY, CMD(&self->ring, self->fd, PINMDL_IOC_TARGET_OPEN,
			       c, NULL));
	EXPECT_EQ(-ENOTTY, CMD(&self->ring, self->fd, 0x1234, c, NULL));
	EXPECT_EQ(0, CMD(&self->ring, self->fd, PINMDL_IOC_FREE, h, NULL));
}

/* A ring without 128-byte SQEs or 32-byte CQEs gets EINVAL. */
TEST_F(uring, small_ring_refused)
{
	struct pinmdl_create c = { .addr = (uintptr_t)self->buf,
				   .length = self->len };
	unsigned int flags[] = { 0, IORING_SETUP_SQE128, IORING_SETUP_CQE32 };
	struct io_uring small;
	int i;

	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, ring_init(&small, flags[i]));
		EXPECT_EQ(-EINVAL, CMD(&small, self->fd, PINMDL_IOC_CREATE, c,
				       NULL));
		io_uring_queue_exit(&small);
	}
	EXPECT_EQ(0, pm_stat("descriptors_live"));
}

/* 256 LOCKs in one submission, then 256 UNLOCKs, then 256 FREEs. */
TEST_F(uring, batches_of_256)
{
	uint32_t h[256];
	unsigned int op[] = { PINMDL_IOC_LOCK, PINMDL_IOC_UNLOCK,
			      PINMDL_IOC_FREE };
	uint64_t ud;
	int i, k, seen[256];

	for (i = 0; i < 256; i++)
		ASSERT_EQ(0, pm_create(self->fd, self->buf + i % 64 * PM_PAGE,
				       PM_PAGE, &h[i]));
	for (k = 0; k < 3; k++) {
		for (i = 0; i < 256; i++) {
			struct pinmdl_lock l = {
				.handle = h[i], .access_mode = PINMDL_USER_MODE,
				.operation = PINMDL_IO_READ_ACCESS };
			struct pinmdl_handle_arg a = { .handle = h[i] };
			void *arg = k ? (void *)&a : (void *)&l;
			size_t size = k ? sizeof(a) : sizeof(l);

			ASSERT_NE(NULL, queue_cmd(&self->ring, self->fd, op[k],
						  arg, size, i));
		}
		ASSERT_EQ(256, io_uring_submit(&self->ring));
		memset(seen, 0, sizeof(seen));
		for (i = 0; i < 256; i++) {
			EXPECT_EQ(0, reap(&self->ring, &ud, NULL));
			ASSERT_GT(256, ud);
			seen[ud]++;
		}
		for (i = 0; i < 256; i++)
			EXPECT_EQ(1, seen[i]);
		if (!k)
			EXPECT_EQ(self->pins + 256, pm_pins());
	}
	EXPECT_EQ(0, pm_stat("descriptors_live"));
}

/* Open @name as a target of @fd; lock the buffer; the target id. */
static int lower_and_lock(struct __test_metadata *_metadata, int fd,
			  char *buf, size_t len, uint32_t *h)
{
	struct pinmdl_target_open o;
	int t = pm_target_open(fd, LOWER, -1, &o);

	EXPECT_LT(0, t);
	*h = pm_create_locked(fd, buf, len, PINMDL_IO_WRITE_ACCESS);
	EXPECT_NE(0, *h);
	return t;
}

/* Queue an IO command of one segment. */
static struct io_uring_sqe *queue_io(struct io_uring *ring, int fd, int t,
				     unsigned int op, uint64_t arg,
				     struct pinmdl_segment *seg,
				     uint64_t user_data)
{
	struct pinmdl_io io = { .target = t, .op = op, .arg = arg,
				.segments = (uintptr_t)seg, .nr_segments = 1 };

	return queue_cmd(ring, fd, PINMDL_IOC_IO, &io, sizeof(io), user_data);
}

/*
 * 200 IO CHECKSUM commands on pinmdl_lower in flight at once over one
 * locked buffer: each CQE carries its checksum, and read(2) sees none.
 */
TEST_F(uring, io_many_in_flight_on_lower)
{
	struct pinmdl_completion comp;
	struct pinmdl_segment seg[200];
	uint64_t ud, extra;
	uint32_t h, crc[64];
	int i, t, n = 200;

	for (i = 0; i < 64; i++) {
		memset(self->buf + i * PM_PAGE, i, PM_PAGE);
		crc[i] = pm_crc32c(self->buf + i * PM_PAGE, PM_PAGE);
	}
	t = lower_and_lock(_metadata, self->fd, self->buf, self->len, &h);
	for (i = 0; i < n; i++) {
		seg[i] = (struct pinmdl_segment){ .handle = h,
			.offset = i % 64 * PM_PAGE, .length = PM_PAGE };
		ASSERT_NE(NULL, queue_io(&self->ring, self->fd, t,
					 PINMDL_LOWER_CHECKSUM, 0, &seg[i], i));
	}
	ASSERT_EQ(n, io_uring_submit(&self->ring));
	for (i = 0; i < n; i++) {
		EXPECT_EQ(0, reap(&self->ring, &ud, &extra));
		ASSERT_GT(n, ud);
		EXPECT_EQ(crc[ud % 64], extra) TH_LOG("user_data %llu",
						      (unsigned long long)ud);
	}
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, O_NONBLOCK));
	EXPECT_EQ(-1, read(self->fd, &comp, sizeof(comp)));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, pm_unlock(self->fd, h));
	EXPECT_EQ(0, pm_free(self->fd, h));
	EXPECT_EQ(0, pm_target_close(self->fd, t));
}

/*
 * IO commands that fail on their segments (unknown handle, a read into a
 * read lock, another address space's descriptor) or on the request as a
 * whole, issued inline and from io_uring's workers (IOSQE_ASYNC): each
 * gets the ioctl's errno, and nothing is left in flight.
 */
TEST_F(uring, io_errors_inline_and_async)
{
	struct pinmdl_target_open o;
	struct pinmdl_segment seg[3];
	uint64_t ud;
	uint32_t h;
	int i, k, t, res, want[3] = { -ENOENT, -EACCES, -EINVAL };

	t = pm_target_open(self->fd, LOWER, -1, &o);
	ASSERT_LT(0, t);
	h = pm_create_locked(self->fd, self->buf, self->len,
			     PINMDL_IO_READ_ACCESS);
	ASSERT_NE(0, h);
	seg[0] = (struct pinmdl_segment){ .handle = 0xdead, .length = PM_PAGE };
	seg[1] = (struct pinmdl_segment){ .handle = h, .length = PM_PAGE };
	seg[2] = (struct pinmdl_segment){ .handle = h, .offset = self->len,
					  .length = PM_PAGE };
	for (k = 0; k < 2; k++) {
		for (i = 0; i < 300; i++) {
			struct io_uring_sqe *sqe;

			sqe = queue_io(&self->ring, self->fd, t,
				       i % 3 == 2 ? PINMDL_LOWER_CHECKSUM :
						    PINMDL_LOWER_FILL, 0,
				       &seg[i % 3], i);
			ASSERT_NE(NULL, sqe);
			if (k)
				sqe->flags |= IOSQE_ASYNC;
		}
		ASSERT_EQ(300, io_uring_submit(&self->ring));
		for (i = 0; i < 300; i++) {
			res = reap(&self->ring, &ud, NULL);
			EXPECT_EQ(want[ud % 3], res) TH_LOG("user_data %llu",
							    (unsigned long long)ud);
		}
	}
	EXPECT_EQ(0, pm_unlock(self->fd, h));
	EXPECT_EQ(0, pm_free(self->fd, h));
	EXPECT_EQ(0, pm_target_close(self->fd, t));
}

/*
 * 200 DELAY 200 ms commands in flight at once, inline and from workers:
 * together in well under the 40 s they would take one after the other.
 */
TEST_F(uring, delays_overlap)
{
	struct pinmdl_segment seg;
	struct timespec t0;
	uint32_t h;
	int i, t;

	t = lower_and_lock(_metadata, self->fd, self->buf, self->len, &h);
	seg = (struct pinmdl_segment){ .handle = h, .length = PM_PAGE };
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 200; i++) {
		struct io_uring_sqe *sqe = queue_io(&self->ring, self->fd, t,
						    PINMDL_LOWER_DELAY, 200,
						    &seg, i);

		ASSERT_NE(NULL, sqe);
		if (i % 2)
			sqe->flags |= IOSQE_ASYNC;
	}
	ASSERT_EQ(200, io_uring_submit(&self->ring));
	for (i = 0; i < 200; i++)
		EXPECT_EQ(0, reap(&self->ring, NULL, NULL));
	EXPECT_GT(10000, pm_ms_since(&t0));
	EXPECT_EQ(0, pm_unlock(self->fd, h));
	EXPECT_EQ(0, pm_free(self->fd, h));
	EXPECT_EQ(0, pm_target_close(self->fd, t));
}

/*
 * CANCEL by user_data of DELAY 10 s commands, as an ioctl and as a
 * command: each is stopped (-ECANCELED) at once, the two of one name both.
 */
TEST_F(uring, cancel_by_user_data)
{
	struct pinmdl_cancel can = { .flags = PINMDL_CANCEL_USER_DATA };
	struct pinmdl_segment seg;
	struct timespec t0;
	uint64_t ud;
	uint32_t h;
	int i, t, res, cancelled = 0;

	t = lower_and_lock(_metadata, self->fd, self->buf, self->len, &h);
	seg = (struct pinmdl_segment){ .handle = h, .length = PM_PAGE };
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_NE(NULL, queue_io(&self->ring, self->fd, t, PINMDL_LOWER_DELAY,
				 10000, &seg, 41));
	ASSERT_NE(NULL, queue_io(&self->ring, self->fd, t, PINMDL_LOWER_DELAY,
				 10000, &seg, 42));
	ASSERT_NE(NULL, queue_io(&self->ring, self->fd, t, PINMDL_LOWER_DELAY,
				 10000, &seg, 42));
	ASSERT_EQ(3, io_uring_submit(&self->ring));
	/* The first by ioctl, the other two by one command. */
	can.request_id = 41;
	EXPECT_EQ(0, pm_ioctl(self->fd, PINMDL_IOC_CANCEL, &can));
	can.request_id = 42;
	ASSERT_NE(NULL, queue_cmd(&self->ring, self->fd, PINMDL_IOC_CANCEL,
				  &can, sizeof(can), 99));
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	for (i = 0; i < 4; i++) {
		res = reap(&self->ring, &ud, NULL);
		if (ud == 99) {
			EXPECT_EQ(0, res);
			continue;
		}
		EXPECT_EQ(-ECANCELED, res) TH_LOG("user_data %llu",
						  (unsigned long long)ud);
		cancelled++;
	}
	EXPECT_EQ(3, cancelled);
	EXPECT_GT(5000, pm_ms_since(&t0));
	/* None in flight any more. */
	EXPECT_EQ(-ENOENT, pm_ioctl(self->fd, PINMDL_IOC_CANCEL, &can));
	EXPECT_EQ(0, pm_unlock(self->fd, h));
	EXPECT_EQ(0, pm_free(self->fd, h));
	EXPECT_EQ(0, pm_target_close(self->fd, t));
}

/*
 * IO commands count among the file's 256 asynchronous requests: the 257th
 * gets EAGAIN, as an asynchronous ioctl does then; a request id never
 * names a command.
 */
TEST_F(uring, bound_of_the_file)
{
	struct pinmdl_cancel can = { .flags = PINMDL_CANCEL_USER_DATA,
				     .request_id = 5 };
	struct pinmdl_segment seg;
	uint64_t id;
	uint32_t h;
	int i, t;

	t = lower_and_lock(_metadata, self->fd, self->buf, self->len, &h);
	seg = (struct pinmdl_segment){ .handle = h, .length = PM_PAGE };
	for (i = 0; i < 256; i++)
		ASSERT_NE(NULL, queue_io(&self->ring, self->fd, t,
					 PINMDL_LOWER_DELAY, 10000, &seg, 5));
	ASSERT_EQ(256, io_uring_submit(&self->ring));
	ASSERT_NE(NULL, queue_io(&self->ring, self->fd, t, PINMDL_LOWER_DELAY,
				 10000, &seg, 6));
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	EXPECT_EQ(-EAGAIN, reap(&self->ring, NULL, NULL));
	EXPECT_EQ(-EAGAIN, pm_io(self->fd, t, PINMDL_LOWER_DELAY, &seg, 1, 0,
				 PINMDL_SUBMIT_ASYNC, NULL));
	for (id = 1; id < 300; id++) {
		struct pinmdl_cancel by_id = { .request_id = id };

		EXPECT_EQ(-ENOENT, pm_ioctl(self->fd, PINMDL_IOC_CANCEL,
					    &by_id));
	}
	EXPECT_EQ(0, pm_ioctl(self->fd, PINMDL_IOC_CANCEL, &can));
	for (i = 0; i < 256; i++)
		EXPECT_EQ(-ECANCELED, reap(&self->ring, NULL, NULL));
	EXPECT_EQ(0, pm_unlock(self->fd, h));
	EXPECT_EQ(0, pm_free(self->fd, h));
	EXPECT_EQ(0, pm_target_close(self->fd, t));
}

/*
 * LOCK, IO (FILL) and UNLOCK of one handle linked, through a registered
 * file: they run in order, and the buffer holds what the FILL wrote.
 */
TEST_F(uring, linked_and_registered)
{
	struct pinmdl_lock l = { .access_mode = PINMDL_USER_MODE,
				 .operation = PINMDL_IO_WRITE_ACCESS };
	struct pinmdl_target_open o;
	struct pinmdl_handle_arg a;
	struct pinmdl_segment seg;
	struct pinmdl_io io;
	struct io_uring_sqe *sqe;
	uint64_t ud, extra;
	uint32_t h;
	int i, t;

	t = pm_target_open(self->fd, LOWER, -1, &o);
	ASSERT_LT(0, t);
	ASSERT_EQ(0, pm_create(self->fd, self->buf, self->len, &h));
	ASSERT_EQ(0, io_uring_register_files(&self->ring, &self->fd, 1));
	l.handle = a.handle = seg.handle = h;
	seg.offset = 0;
	seg.length = self->len;
	seg.reserved = 0;
	io = (struct pinmdl_io){ .target = t, .op = PINMDL_LOWER_FILL,
				 .arg = 0xa5, .segments = (uintptr_t)&seg,
				 .nr_segments = 1 };
	sqe = queue_cmd(&self->ring, 0, PINMDL_IOC_LOCK, &l, sizeof(l), 1);
	sqe->flags |= IOSQE_FIXED_FILE | IOSQE_IO_LINK;
	sqe = queue_cmd(&self->ring, 0, PINMDL_IOC_IO, &io, sizeof(io), 2);
	sqe->flags |= IOSQE_FIXED_FILE | IOSQE_IO_LINK;
	sqe = queue_cmd(&self->ring, 0, PINMDL_IOC_UNLOCK, &a, sizeof(a), 3);
	sqe->flags |= IOSQE_FIXED_FILE;
	ASSERT_EQ(3, io_uring_submit(&self->ring));
	for (i = 1; i <= 3; i++) {
		EXPECT_EQ(0, reap(&self->ring, &ud, &extra));
		EXPECT_EQ(i, ud);
		if (ud == 2)
			EXPECT_EQ(self->len, extra);
	}
	for (i = 0; i < (int)self->len; i += 997)
		EXPECT_EQ((char)0xa5, self->buf[i]);
	EXPECT_EQ(0, pm_free(self->fd, h));
	EXPECT_EQ(0, pm_target_close(self->fd, t));
}

/*
 * A ring fd (and /dev/pinmdl) in another process, which maps the ring
 * itself: its commands act for that process, which cannot reach this
 * one's descriptors (EPERM).
 */
TEST_F(uring, other_process_refused)
{
	struct io_uring_params p = { .flags = IORING_SETUP_SQE128 |
					      IORING_SETUP_CQE32 };
	struct pinmdl_lock l = { .access_mode = PINMDL_USER_MODE };
	struct pinmdl_handle_arg a;
	struct io_uring shared;
	int status;
	uint32_t h;
	pid_t pid;

	ASSERT_EQ(0, io_uring_queue_init_params(8, &shared, &p));
	ASSERT_EQ(0, pm_create(self->fd, self->buf, self->len, &h));
	l.handle = a.handle = h;
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct io_uring ring;
		int lock, fr;

		if (io_uring_queue_mmap(shared.ring_fd, &p, &ring))
			_exit(2);
		lock = CMD(&ring, self->fd, PINMDL_IOC_LOCK, l, NULL);
		fr = CMD(&ring, self->fd, PINMDL_IOC_FREE, a, NULL);
		_exit(lock == -EPERM && fr == -EPERM ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
		TH_LOG("child exit %d", WEXITSTATUS(status));
	io_uring_queue_exit(&shared);
	EXPECT_EQ(0, pm_free(self->fd, h));
}

/* Whether the running kernel is @major.@minor or later. */
static bool kernel_at_least(int major, int minor)
{
	struct utsname u;
	int ma = 0, mi = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
		return false;
	return ma > major || (ma == major && mi >= minor);
}

/*
 * An SQE is the kernel's once submitted: user space writes the next
 * commands into the same slots at once. A command linked behind a DELAY
 * of 200 ms, issued only once the DELAY is done, still does what its SQE
 * said at submission, not what the slot says by then.
 */
TEST_F(uring, linked_sqe_reused_at_once)
{
	struct pinmdl_segment seg = { .length = 64 * PM_PAGE };
	struct io_uring_sqe *sqe;
	uint64_t ud, extra;
	uint32_t h;
	int t, i, ret;

	memset(self->buf, 0, self->len);
	t = lower_and_lock(_metadata, self->fd, self->buf, self->len, &h);
	seg.handle = h;
	sqe = queue_io(&self->ring, self->fd, t, PINMDL_LOWER_DELAY, 200, &seg,
		       1);
	ASSERT_NE(NULL, sqe);
	sqe->flags |= IOSQE_IO_LINK;
	sqe = queue_io(&self->ring, self->fd, t, PINMDL_LOWER_FILL, 0x5a, &seg,
		       2);
	ASSERT_NE(NULL, sqe);
	ASSERT_EQ(2, io_uring_submit(&self->ring));
	/* The slot now says: FILL with 0x11 on an unknown target. */
	((struct pinmdl_io *)sqe->cmd)->arg = 0x11;
	((struct pinmdl_io *)sqe->cmd)->target = 999;
	EXPECT_EQ(0, reap(&self->ring, &ud, NULL));
	EXPECT_EQ(1, ud);
	ret = reap(&self->ring, &ud, &extra);
	EXPECT_EQ(2, ud);
	/*
	 * Before Linux 6.15 (io_uring/uring_cmd: unconditionally copy SQEs
	 * at prep time), 6.12 reads a linked command's SQE only as it
	 * issues it: the unknown target of the slot as it is now.
	 */
	if (ret == -ENOENT && kernel_at_least(6, 10) &&
	    !kernel_at_least(6, 15)) {
		pm_unlock(self->fd, h);
		pm_free(self->fd, h);
		pm_target_close(self->fd, t);
		SKIP(return, "this kernel reads a linked SQE at issue (doc/uring.md)");
	}
	EXPECT_EQ(0, ret);
	EXPECT_EQ(self->len, extra);
	for (i = 0; i < (int)self->len; i += 997)
		ASSERT_EQ((char)0x5a, self->buf[i]);
	EXPECT_EQ(0, pm_unlock(self->fd, h));
	EXPECT_EQ(0, pm_free(self->fd, h));
	EXPECT_EQ(0, pm_target_close(self->fd, t));
}

/*
 * In a child: a ring with 16 IO commands in flight on pinmdl_lower (DELAY
 * @ms each), then @then ("exit" or a program to exec).
 */
static void child_in_flight(struct __test_metadata *_metadata, char *buf,
			    size_t len, unsigned int ms, int ready,
			    const char *then)
{
	struct pinmdl_segment seg;
	struct io_uring ring;
	uint32_t h;
	int fd = pm_open(), i, t;

	if (fd < 0 || ring_init(&ring, IORING_SETUP_SQE128 |
				       IORING_SETUP_CQE32))
		_exit(1);
	t = lower_and_lock(_metadata, fd, buf, len, &h);
	seg = (struct pinmdl_segment){ .handle = h, .length = PM_PAGE };
	for (i = 0; i < 16; i++)
		queue_io(&ring, fd, t, PINMDL_LOWER_DELAY, ms, &seg, i);
	if (io_uring_submit(&ring) != 16 || write(ready, "x", 1) != 1)
		_exit(1);
	if (strcmp(then, "exit"))
		execl(then, then, "3", NULL);
	_exit(0);
}

/* Until nothing is pinned or live beyond the fixture's start; the ms. */
static long wait_released(long pins, long max_ms)
{
	struct timespec t0, pause = { 0, 20 * 1000 * 1000 };

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((pm_pins() != pins || pm_stat("descriptors_live")) &&
	       pm_ms_since(&t0) < max_ms)
		nanosleep(&pause, NULL);
	return pm_ms_since(&t0);
}

/*
 * A process exits with IO commands in flight on its ring: the ring's
 * teardown cancels them where the kernel lets a driver mark a command
 * cancelable (6.7 and later: DELAY 30 s each, released in seconds) or
 * waits for them (6.1: DELAY 3 s); nothing stays pinned or in flight.
 */
TEST_F(uring, ring_torn_down_in_flight)
{
	bool cancelable = kernel_at_least(6, 7);
	int status, ready[2];
	char c;
	pid_t pid;

	ASSERT_EQ(0, pipe(ready));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		child_in_flight(_metadata, self->buf, self->len,
				cancelable ? 30000 : 3000, ready[1], "exit");
	ASSERT_EQ(1, read(ready[0], &c, 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	EXPECT_GT(cancelable ? 10000 : 20000, wait_released(self->pins, 40000));
	EXPECT_EQ(self->pins, pm_pins());
	EXPECT_EQ(0, pm_stat("descriptors_live"));
	close(ready[0]);
	close(ready[1]);
}

/*
 * An exec with IO commands in flight (DELAY 30 s) cancels them (6.7 and
 * later): their descriptors are released while the new program runs.
 */
TEST_F(uring, exec_cancels_in_flight)
{
	int status, ready[2];
	char c;
	pid_t pid;

	if (!kernel_at_least(6, 7))
		SKIP(return, "no cancelable io_uring commands before 6.7");
	if (access("/bin/sleep", X_OK))
		SKIP(return, "no /bin/sleep to exec");
	ASSERT_EQ(0, pipe(ready));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		child_in_flight(_metadata, self->buf, self->len, 30000,
				ready[1], "/bin/sleep");
	ASSERT_EQ(1, read(ready[0], &c, 1));
	/* Released before the program (sleep 3) ends. */
	EXPECT_GT(2500, wait_released(self->pins, 10000));
	EXPECT_EQ(0, waitpid(pid, &status, WNOHANG));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(self->pins, pm_pins());
	close(ready[0]);
	close(ready[1]);
}

/*
 * IO commands on a block device through pinmdl_blk: 64 writes of 64 KiB
 * in flight from one locked buffer, read back with pread(O_DIRECT); then
 * 64 reads into it, compared with the device.
 */
TEST_F(uring, io_on_a_block_device)
{
	struct pinmdl_segment seg[64];
	struct pinmdl_target_open o;
	size_t len = 64 * 65536;
	char *buf, *back;
	uint64_t ud, extra;
	int dev, direct, t, i, k;
	uint32_t h;

	if (access(DISK, F_OK))
		SKIP(return, "no virtio-blk disk in this guest");
	dev = open(DISK, O_RDWR);
	ASSERT_LE(0, dev);
	direct = open(DISK, O_RDWR | O_DIRECT);
	ASSERT_LE(0, direct);
	t = pm_target_open(self->fd, "pinmdl_blk", dev, &o);
	ASSERT_LT(0, t);
	buf = pm_map(len, PROT_READ | PROT_WRITE);
	back = pm_map(len, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, back);
	for (i = 0; i < (int)len; i++)
		buf[i] = (char)(i * 13 + (i >> 16));
	h = pm_create_locked(self->fd, buf, len, PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	for (k = 0; k < 2; k++) {
		if (k)
			memset(buf, 0, len);
		for (i = 0; i < 64; i++) {
			struct pinmdl_io io = { .target = t,
				.op = k ? PINMDL_BLK_READ : PINMDL_BLK_WRITE,
				.dev_offset = (63 - i) * 65536ULL,
				.segments = (uintptr_t)&seg[i],
				.nr_segments = 1 };

			seg[i] = (struct pinmdl_segment){ .handle = h,
				.offset = i * 65536ULL, .length = 65536 };
			ASSERT_NE(NULL, queue_cmd(&self->ring, self->fd,
						  PINMDL_IOC_IO, &io,
						  sizeof(io), i));
		}
		ASSERT_EQ(64, io_uring_submit(&self->ring));
		for (i = 0; i < 64; i++) {
			EXPECT_EQ(0, reap(&self->ring, &ud, &extra));
			EXPECT_EQ(65536, extra);
		}
		if (!k) {
			/* Written in reverse order of 64 KiB blocks. */
			for (i = 0; i < 64; i++)
				ASSERT_EQ(65536, pread(direct, back + i * 65536,
						       65536,
						       (63 - i) * 65536ULL));
		}
	}
	/* Read back into the buffer: the same bytes as the device's. */
	EXPECT_EQ(0, memcmp(buf, back, len));
	EXPECT_EQ(0, pm_unlock(self->fd, h));
	EXPECT_EQ(0, pm_free(self->fd, h));
	EXPECT_EQ(0, pm_target_close(self->fd, t));
	close(dev);
	close(direct);
	munmap(buf, len);
	munmap(back, len);
}

/*
 * A LOCK of never-touched memory cannot pin where the command is issued
 * without waiting: it is issued again where it may fault, and succeeds,
 * every page pinned; one of mapped memory pins at once. Both count as
 * one lock each.
 */
TEST_F(uring, lock_faults_in_where_it_may)
{
	struct pinmdl_lock l = { .access_mode = PINMDL_USER_MODE,
				 .operation = PINMDL_IO_WRITE_ACCESS };
	struct pinmdl_handle_arg a = { 0 };
	size_t len = 512 * PM_PAGE;
	long locks = pm_stat("locks");
	char *fresh = pm_map(len, PROT_READ | PROT_WRITE);
	uint32_t h[2];
	int i;

	ASSERT_NE(NULL, fresh);
	ASSERT_EQ(0, pm_create(self->fd, fresh, len, &h[0]));
	ASSERT_EQ(0, pm_create(self->fd, self->buf, self->len, &h[1]));
	for (i = 0; i < 2; i++) {
		l.handle = h[i];
		EXPECT_EQ(0, CMD(&self->ring, self->fd, PINMDL_IOC_LOCK, l,
				 NULL));
	}
	EXPECT_EQ(self->pins + 512 + 64, pm_pins());
	EXPECT_EQ(locks + 2, pm_stat("locks"));
	for (i = 0; i < 2; i++) {
		a.handle = h[i];
		EXPECT_EQ(0, CMD(&self->ring, self->fd, PINMDL_IOC_UNLOCK, a,
				 NULL));
		EXPECT_EQ(0, CMD(&self->ring, self->fd, PINMDL_IOC_FREE, a,
				 NULL));
	}
	/* What the lock wrote by faulting is there, zeroes. */
	EXPECT_EQ(0, fresh[len - 1]);
	munmap(fresh, len);
}

/* Two threads submitting through one ring, each LOCK/UNLOCK its own. */
struct shared_ring {
	struct io_uring *ring;
	pthread_mutex_t lock;
	int fd;
	char *buf;
	int bad;
};

static void *lock_unlock_thread(void *arg)
{
	struct shared_ring *sr = arg;
	struct pinmdl_create c = { .length = 16 * PM_PAGE };
	struct pinmdl_lock l = { .access_mode = PINMDL_USER_MODE };
	struct pinmdl_handle_arg a = { 0 };
	uint64_t h;
	int i;

	c.addr = (uintptr_t)sr->buf;
	pthread_mutex_lock(&sr->lock);
	if (CMD(sr->ring, sr->fd, PINMDL_IOC_CREATE, c, &h))
		sr->bad++;
	pthread_mutex_unlock(&sr->lock);
	l.handle = a.handle = h;
	for (i = 0; i < 300; i++) {
		pthread_mutex_lock(&sr->lock);
		if (CMD(sr->ring, sr->fd, PINMDL_IOC_LOCK, l, NULL) ||
		    CMD(sr->ring, sr->fd, PINMDL_IOC_UNLOCK, a, NULL))
			sr->bad++;
		pthread_mutex_unlock(&sr->lock);
	}
	pthread_mutex_lock(&sr->lock);
	if (CMD(sr->ring, sr->fd, PINMDL_IOC_FREE, a, NULL))
		sr->bad++;
	pthread_mutex_unlock(&sr->lock);
	return NULL;
}

TEST_F(uring, ring_shared_by_two_threads)
{
	struct shared_ring sr = { .ring = &self->ring, .fd = self->fd,
				  .lock = PTHREAD_MUTEX_INITIALIZER };
	pthread_t t[2];
	int i;

	for (i = 0; i < 2; i++) {
		sr.buf = self->buf + i * 32 * PM_PAGE;
		ASSERT_EQ(0, pthread_create(&t[i], NULL, lock_unlock_thread,
					    &sr));
		/* Each thread reads sr.buf before the next one is made. */
		usleep(10000);
	}
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	EXPECT_EQ(0, sr.bad);
	EXPECT_EQ(0, pm_stat("descriptors_live"));
}

/*
 * Random commands and payloads, 20000 of them: every CQE is 0 or an errno
 * of the contract, and nothing is left pinned (the fixture's teardown).
 */
TEST_F(uring, fuzz_commands)
{
	static const unsigned int ops[] = {
		PINMDL_IOC_CREATE, PINMDL_IOC_LOCK, PINMDL_IOC_UNLOCK,
		PINMDL_IOC_FREE, PINMDL_IOC_IO, PINMDL_IOC_CANCEL,
		PINMDL_IOC_QUERY, PINMDL_IOC_TARGET_OPEN, 0, 0xffffffff,
	};
	static const int allowed[] = {
		0, -EINVAL, -ENOENT, -EPERM, -EBUSY, -EFAULT, -ENOMEM, -E2BIG,
		-EMFILE, -EACCES, -ENOTTY, -EAGAIN, -ENODEV, -ECANCELED,
	};
	struct pinmdl_target_open o;
	struct io_uring_sqe *sqe;
	unsigned int seed = time(NULL);
	uint32_t words[20];
	uint64_t ud;
	int i, j, k, res, t;

	t = pm_target_open(self->fd, LOWER, -1, &o);
	ASSERT_LT(0, t);
	TH_LOG("seed %u", seed);
	srand(seed);
	for (i = 0; i < 20000 / 32; i++) {
		for (j = 0; j < 32; j++) {
			for (k = 0; k < 20; k++)
				words[k] = rand() % 4 ? rand() % 8 : rand();
			/* Now and then a range of the buffer, a target. */
			if (rand() % 2) {
				uint64_t addr = (uintptr_t)self->buf +
						rand() % 64 * PM_PAGE;

				memcpy(words, &addr, sizeof(addr));
			}
			if (rand() % 4 == 0)
				words[0] = t;
			sqe = queue_cmd(&self->ring, self->fd,
					ops[rand() % ARRAY_SIZE(ops)], words,
					sizeof(words), j);
			/* Issued where it may block, now and then. */
			if (rand() % 4 == 0)
				sqe->flags |= IOSQE_ASYNC;
		}
		ASSERT_EQ(32, io_uring_submit(&self->ring));
		for (j = 0; j < 32; j++) {
			res = reap(&self->ring, &ud, NULL);
			for (k = 0; k < (int)ARRAY_SIZE(allowed); k++)
				if (res == allowed[k])
					break;
			EXPECT_GT(ARRAY_SIZE(allowed), k) TH_LOG("res %d", res);
		}
	}
	/* Every command's CQE is in: nothing is in flight on the target. */
	EXPECT_EQ(0, pm_target_close(self->fd, t));
	close(self->fd);
	self->fd = pm_open();
	ASSERT_LE(0, self->fd);
}

/*
 * pinmdlctl's demo with --uring (when the guest has pinmdlctl beside this
 * test): the tour through io_uring commands, refusals included.
 */
TEST_F(uring, pinmdlctl_demo_uring)
{
	char out[16384];
	size_t n;
	FILE *p;

	if (access("./pinmdlctl", X_OK))
		SKIP(return, "no pinmdlctl beside the test");
	p = popen("./pinmdlctl demo --uring 2>&1", "r");
	ASSERT_NE(NULL, p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = 0;
	EXPECT_EQ(0, pclose(p)) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "through io_uring commands")) TH_LOG("%s", out);
	/* LOCK of a locked MDL, as a command: the ioctl's EBUSY. */
	EXPECT_NE(NULL, strstr(out, "refused: EBUSY")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "PAGES_LOCKED")) TH_LOG("%s", out);
}

TEST_HARNESS_MAIN
