// SPDX-License-Identifier: GPL-2.0
/*
 * The request path: pinmdl_lower.ko executes FILL, CHECKSUM and COPY on
 * locked descriptors from its own workqueue, synchronously or with
 * completions read(2) from the file, on every kind of memory, after munmap,
 * through partial descriptors, and through SUBMIT_BUFFERED.
 */
#define _GNU_SOURCE
#include <glob.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>

#include "kselftest_harness.h"
#include "pinmdl_util.h"

FIXTURE(lower)
{
	int fd;
	long pins;
	struct pm_mem m;
	char *buf;
	size_t len;
};

FIXTURE_VARIANT(lower)
{
	enum pm_mem_kind kind;
	bool touch;
};

FIXTURE_VARIANT_ADD(lower, anon)
{
	.kind = PM_ANON, .touch = true,
};

FIXTURE_VARIANT_ADD(lower, anon_never_touched)
{
	.kind = PM_ANON,
};

FIXTURE_VARIANT_ADD(lower, thp)
{
	.kind = PM_THP, .touch = true,
};

FIXTURE_VARIANT_ADD(lower, hugetlb)
{
	.kind = PM_HUGETLB, .touch = true,
};

FIXTURE_VARIANT_ADD(lower, memfd_shared)
{
	.kind = PM_MEMFD, .touch = true,
};

FIXTURE_VARIANT_ADD(lower, file_private)
{
	.kind = PM_FILE,
};

FIXTURE_SETUP(lower)
{
	size_t i, len = 32 * PM_PAGE;
	int ret;

	self->m.backing = -1;
	self->pins = pm_pins();
	self->fd = pm_open();
	ASSERT_LE(0, self->fd);
	if (variant->kind == PM_THP || variant->kind == PM_HUGETLB)
		len = PM_HPAGE;
	ret = pm_mem_map(&self->m, variant->kind, len, PROT_READ | PROT_WRITE,
			 variant->kind == PM_MEMFD);
	if (ret > 0)
		SKIP(return, "no such memory: %s", strerror(errno));
	ASSERT_EQ(0, ret);
	self->buf = self->m.buf;
	self->len = self->m.len;
	if (variant->touch)
		for (i = 0; i < self->len; i++)
			self->buf[i] = (char)(i * 7);
}

FIXTURE_TEARDOWN(lower)
{
	close(self->fd);
	pm_mem_unmap(&self->m);
	EXPECT_EQ(self->pins, pm_pins()) TH_LOG("pages left pinned");
}

static bool all_bytes(const char *p, size_t len, char val)
{
	while (len--)
		if (*p++ != val)
			return false;
	return true;
}

TEST_F(lower, fill_and_checksum)
{
	struct pinmdl_submit s;
	uint32_t h;

	h = pm_create_locked(self->fd, self->buf, self->len,
			     PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	ASSERT_EQ(0, pm_submit(self->fd, h, PINMDL_LOWER_FILL, 100,
			       self->len - 200, 0x1ab, 0, NULL));
	EXPECT_TRUE(all_bytes(self->buf + 100, self->len - 200, (char)0xab));
	if (variant->touch)
		EXPECT_EQ((char)(99 * 7), self->buf[99]);

	ASSERT_EQ(0, pm_submit(self->fd, h, PINMDL_LOWER_CHECKSUM, 3,
			       self->len - 5, 0, 0, &s));
	EXPECT_EQ(pm_crc32c(self->buf + 3, self->len - 5), s.result);
	EXPECT_EQ(0, pm_unlock(self->fd, h));
}

TEST_F(lower, read_lock_checksums_but_refuses_writes)
{
	struct pinmdl_submit s;
	uint32_t h;

	h = pm_create_locked(self->fd, self->buf, self->len,
			     PINMDL_IO_READ_ACCESS);
	ASSERT_NE(0, h);
	EXPECT_EQ(-EACCES, pm_submit(self->fd, h, PINMDL_LOWER_FILL, 0, 1, 0,
				     0, NULL));
	ASSERT_EQ(0, pm_submit(self->fd, h, PINMDL_LOWER_CHECKSUM, 0,
			       self->len, 0, 0, &s));
	EXPECT_EQ(pm_crc32c(self->buf, self->len), s.result);
	/* Later writes through the VA are what the lower driver reads. */
	memset(self->buf, 0x5c, self->len);
	ASSERT_EQ(0, pm_submit(self->fd, h, PINMDL_LOWER_CHECKSUM, 0,
			       self->len, 0, 0, &s));
	EXPECT_EQ(pm_crc32c(self->buf, self->len), s.result);
}

TEST_F(lower, works_after_munmap)
{
	struct pinmdl_submit s;
	char *expect;
	uint32_t h;

	h = pm_create_locked(self->fd, self->buf, self->len,
			     PINMDL_IO_MODIFY_ACCESS);
	ASSERT_NE(0, h);
	ASSERT_EQ(0, munmap(self->m.raw, self->m.raw_len));
	self->m.raw = NULL;
	ASSERT_EQ(0, pm_submit(self->fd, h, PINMDL_LOWER_FILL, 0, self->len,
			       0x3c, 0, NULL));
	ASSERT_EQ(0, pm_submit(self->fd, h, PINMDL_LOWER_CHECKSUM, 0,
			       self->len, 0, 0, &s));
	expect = malloc(self->len);
	ASSERT_NE(NULL, expect);
	memset(expect, 0x3c, self->len);
	EXPECT_EQ(pm_crc32c(expect, self->len), s.result);
	free(expect);
	EXPECT_EQ(0, pm_unlock(self->fd, h));
}

TEST_F(lower, partial_descriptor)
{
	struct pinmdl_submit s;
	uint32_t h, part;

	h = pm_create_locked(self->fd, self->buf, self->len,
			     PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	ASSERT_EQ(0, pm_partial(self->fd, h, self->buf + PM_PAGE + 1,
				2 * PM_PAGE, &part));
	ASSERT_EQ(0, pm_submit(self->fd, part, PINMDL_LOWER_FILL, 10, 100,
			       0x77, 0, NULL));
	EXPECT_TRUE(all_bytes(self->buf + PM_PAGE + 11, 100, 0x77));
	ASSERT_EQ(0, pm_submit(self->fd, part, PINMDL_LOWER_CHECKSUM, 0,
			       2 * PM_PAGE, 0, 0, &s));
	EXPECT_EQ(pm_crc32c(self->buf + PM_PAGE + 1, 2 * PM_PAGE), s.result);
	EXPECT_EQ(-EINVAL, pm_submit(self->fd, part, PINMDL_LOWER_FILL,
				     2 * PM_PAGE, 1, 0, 0, NULL));
	EXPECT_EQ(0, pm_free(self->fd, part));
}

TEST_F(lower, copy_between_descriptors)
{
	char *src = pm_map(self->len, PROT_READ | PROT_WRITE);
	uint32_t h, hs, ro;
	size_t i;

	ASSERT_NE(NULL, src);
	for (i = 0; i < self->len; i++)
		src[i] = (char)(i * 13 + 1);
	h = pm_create_locked(self->fd, self->buf, self->len,
			     PINMDL_IO_WRITE_ACCESS);
	hs = pm_create_locked(self->fd, src, self->len,
			      PINMDL_IO_READ_ACCESS);
	ASSERT_NE(0, h);
	ASSERT_NE(0, hs);
	ASSERT_EQ(0, pm_submit(self->fd, h, PINMDL_LOWER_COPY, 5,
			       self->len - 10, hs, 0, NULL));
	EXPECT_EQ(0, memcmp(self->buf + 5, src + 5, self->len - 10));
	/* The source may be any lock; the target needs a write lock. */
	EXPECT_EQ(-EACCES, pm_submit(self->fd, hs, PINMDL_LOWER_COPY, 0, 1, h,
				     0, NULL));
	EXPECT_EQ(-EINVAL, pm_submit(self->fd, h, PINMDL_LOWER_COPY, 0,
				     self->len + 1, hs, 0, NULL));
	EXPECT_EQ(-ENOENT, pm_submit(self->fd, h, PINMDL_LOWER_COPY, 0, 1,
				     999, 0, NULL));
	ASSERT_EQ(0, pm_create(self->fd, src, self->len, &ro));
	EXPECT_EQ(-EINVAL, pm_submit(self->fd, h, PINMDL_LOWER_COPY, 0, 1, ro,
				     0, NULL));
	munmap(src, self->len);
}

TEST_F(lower, async_completions)
{
	struct pinmdl_submit fill, sum;
	struct pinmdl_completion c[2];
	struct pollfd p = { .fd = self->fd, .events = POLLIN };
	int i, seen = 0;
	uint32_t h;

	h = pm_create_locked(self->fd, self->buf, self->len,
			     PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	ASSERT_EQ(0, pm_submit(self->fd, h, PINMDL_LOWER_FILL, 0, self->len,
			       0x21, PINMDL_SUBMIT_ASYNC, &fill));
	ASSERT_EQ(0, pm_submit(self->fd, h, PINMDL_LOWER_CHECKSUM, 0,
			       self->len, 0, PINMDL_SUBMIT_ASYNC, &sum));
	EXPECT_NE(fill.request_id, sum.request_id);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(1, poll(&p, 1, 10000));
		ASSERT_EQ(sizeof(c[i]), read(self->fd, &c[i], sizeof(c[i])));
		EXPECT_EQ(0, c[i].status);
		seen |= c[i].request_id == fill.request_id ? 1 :
			c[i].request_id == sum.request_id ? 2 : 4;
	}
	EXPECT_EQ(3, seen);
	EXPECT_TRUE(all_bytes(self->buf, self->len, 0x21));
	/* Exactly one completion each: nothing more to read. */
	EXPECT_EQ(0, poll(&p, 1, 0));
}

TEST_F(lower, buffered_matches_direct)
{
	uint64_t buffered;
	struct pinmdl_submit s;
	uint32_t h;
	long pins;

	memset(self->buf, 0x42, self->len / 2);
	pins = pm_pins();
	ASSERT_EQ(0, pm_submit_buffered(self->fd, self->buf, self->len,
					PINMDL_LOWER_CHECKSUM, 0, &buffered));
	EXPECT_EQ(pins, pm_pins());
	h = pm_create_locked(self->fd, self->buf, self->len,
			     PINMDL_IO_READ_ACCESS);
	ASSERT_NE(0, h);
	ASSERT_EQ(0, pm_submit(self->fd, h, PINMDL_LOWER_CHECKSUM, 0,
			       self->len, 0, 0, &s));
	EXPECT_EQ(s.result, buffered);
	EXPECT_EQ(pm_crc32c(self->buf, self->len), buffered);
	EXPECT_EQ(0, pm_unlock(self->fd, h));

	ASSERT_EQ(0, pm_submit_buffered(self->fd, self->buf + 1, self->len - 2,
					PINMDL_LOWER_FILL, 0x99, NULL));
	EXPECT_TRUE(all_bytes(self->buf + 1, self->len - 2, (char)0x99));
}

/*
 * A request maps and touches only its own range, a chunk at a time: FILL
 * leaves no system mapping of the descriptor behind, and ranges across
 * the lower driver's 1 MiB chunks add up exactly.
 */
TEST_F(lower, requests_touch_only_their_range)
{
	const size_t offs[] = { 0, 1, PM_PAGE - 1, 5 * PM_PAGE + 3 };
	struct pinmdl_submit s;
	struct pinmdl_query q;
	uint32_t h, src;
	size_t i, off, len;

	h = pm_create_locked(self->fd, self->buf, self->len,
			     PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		off = offs[i];
		len = self->len - off - 7;
		ASSERT_EQ(0, pm_submit(self->fd, h, PINMDL_LOWER_FILL, off, len,
				       0x30 + i, 0, NULL));
		EXPECT_TRUE(all_bytes(self->buf + off, len, (char)(0x30 + i)));
		self->buf[off + len / 2] = 0x7f;
		ASSERT_EQ(0, pm_submit(self->fd, h, PINMDL_LOWER_CHECKSUM, off,
				       len, 0, 0, &s));
		EXPECT_EQ(pm_crc32c(self->buf + off, len), s.result);
	}
	ASSERT_EQ(0, pm_query(self->fd, h, &q, NULL, 0));
	EXPECT_FALSE(q.flags & PINMDL_F_MAPPED_SYSTEM_VA);

	/* COPY from a descriptor of the second half onto the first. */
	src = pm_create_locked(self->fd, self->buf + self->len / 2,
			       self->len / 2, PINMDL_IO_READ_ACCESS);
	ASSERT_NE(0, src);
	memset(self->buf, 0x11, self->len / 2);
	memset(self->buf + self->len / 2, 0x22, self->len / 2);
	ASSERT_EQ(0, pm_submit(self->fd, h, PINMDL_LOWER_COPY, 3,
			       self->len / 2 - 5, src, 0, NULL));
	EXPECT_TRUE(all_bytes(self->buf, 3, 0x11));
	EXPECT_TRUE(all_bytes(self->buf + 3, self->len / 2 - 5, 0x22));
	EXPECT_TRUE(all_bytes(self->buf + self->len / 2 - 2, 2, 0x11));
	EXPECT_EQ(0, pm_unlock(self->fd, src));
	EXPECT_EQ(0, pm_unlock(self->fd, h));
}

FIXTURE(req)
{
	int fd;
	long pins;
	char *buf;
	size_t len;
	uint32_t h;
};

FIXTURE_SETUP(req)
{
	self->pins = pm_pins();
	self->fd = pm_open();
	ASSERT_LE(0, self->fd);
	self->len = 64 * PM_PAGE;
	self->buf = pm_map(self->len, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, self->buf);
	self->h = pm_create_locked(self->fd, self->buf, self->len,
				   PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, self->h);
}

FIXTURE_TEARDOWN(req)
{
	close(self->fd);
	munmap(self->buf, self->len);
	EXPECT_EQ(self->pins, pm_pins()) TH_LOG("pages left pinned");
}

TEST_F(req, submit_einval)
{
	struct pinmdl_submit s = { .handle = self->h, .op = PINMDL_LOWER_FILL,
				   .length = 1 };
	uint32_t unlocked;

	s.flags = 2;
	EXPECT_EQ(-EINVAL, pm_ioctl(self->fd, PINMDL_IOC_SUBMIT, &s));
	s.flags = 0;
	s.reserved = 1;
	EXPECT_EQ(-EINVAL, pm_ioctl(self->fd, PINMDL_IOC_SUBMIT, &s));
	s.reserved = 0;
	s.op = 4;
	EXPECT_EQ(-EINVAL, pm_ioctl(self->fd, PINMDL_IOC_SUBMIT, &s));
	s.op = 0;
	EXPECT_EQ(-EINVAL, pm_ioctl(self->fd, PINMDL_IOC_SUBMIT, &s));
	/* Argument checks come before the handle lookup. */
	s.handle = 999;
	EXPECT_EQ(-EINVAL, pm_ioctl(self->fd, PINMDL_IOC_SUBMIT, &s));
	EXPECT_EQ(-ENOENT, pm_submit(self->fd, 999, PINMDL_LOWER_FILL, 0, 1,
				     0, 0, NULL));
	EXPECT_EQ(-EINVAL, pm_submit(self->fd, self->h, PINMDL_LOWER_FILL, 0,
				     0, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, pm_submit(self->fd, self->h, PINMDL_LOWER_FILL,
				     self->len, 1, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, pm_submit(self->fd, self->h, PINMDL_LOWER_FILL, 1,
				     self->len, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, pm_submit(self->fd, self->h, PINMDL_LOWER_CHECKSUM,
				     ~0ULL, 2, 0, 0, NULL));
	ASSERT_EQ(0, pm_create(self->fd, self->buf, PM_PAGE, &unlocked));
	EXPECT_EQ(-EINVAL, pm_submit(self->fd, unlocked, PINMDL_LOWER_CHECKSUM,
				     0, 1, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, pm_submit_buffered(self->fd, self->buf, 0,
					      PINMDL_LOWER_FILL, 0, NULL));
	EXPECT_EQ(-EINVAL, pm_submit_buffered(self->fd, self->buf, 1,
					      PINMDL_LOWER_COPY, 0, NULL));
	EXPECT_EQ(-EFAULT, pm_submit_buffered(self->fd, NULL, 1,
					      PINMDL_LOWER_CHECKSUM, 0, NULL));
	/* Longer than a descriptor may be: as CREATE. */
	EXPECT_EQ(-E2BIG, pm_submit_buffered(self->fd, self->buf,
					     pm_param("max_descriptor_bytes") + 1,
					     PINMDL_LOWER_CHECKSUM, 0, NULL));
	EXPECT_EQ(-EFAULT, pm_ioctl(self->fd, PINMDL_IOC_SUBMIT, NULL));
}

static int foreign_submit(void *p)
{
	int *fd_h = p;

	if (pm_submit(fd_h[0], fd_h[1], PINMDL_LOWER_CHECKSUM, 0, 1, 0, 0,
		      NULL) != -EPERM)
		return 1;
	/* An unknown source handle is ENOENT before any ownership check. */
	if (pm_submit(fd_h[0], fd_h[1], PINMDL_LOWER_COPY, 0, 1, 4242, 0,
		      NULL) != -ENOENT)
		return 2;
	return pm_submit(fd_h[0], fd_h[1], PINMDL_LOWER_COPY, 0, 1, fd_h[1],
			 0, NULL) == -EPERM ? 0 : 3;
}

TEST_F(req, submit_from_other_address_space_eperm)
{
	int fd_h[2] = { self->fd, (int)self->h };

	EXPECT_EQ(0, pm_in_child(foreign_submit, fd_h));
}

TEST_F(req, read_arguments)
{
	struct pinmdl_completion c;
	int flags = fcntl(self->fd, F_GETFL);

	EXPECT_EQ(-1, read(self->fd, &c, sizeof(c) - 1));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, flags | O_NONBLOCK));
	EXPECT_EQ(-1, read(self->fd, &c, sizeof(c)));
	EXPECT_EQ(EAGAIN, errno);
}

TEST_F(req, runs_in_the_lower_drivers_context)
{
	char comm[64] = "";
	int pid = 0;
	FILE *f;

	ASSERT_EQ(0, pm_submit(self->fd, self->h, PINMDL_LOWER_FILL, 0, 1, 1,
			       0, NULL));
	f = fopen("/sys/kernel/debug/pinmdl_lower/last_task", "r");
	ASSERT_NE(NULL, f);
	ASSERT_EQ(2, fscanf(f, "%d %63s", &pid, comm));
	fclose(f);
	EXPECT_NE(getpid(), pid);
	EXPECT_NE(gettid(), pid);
	EXPECT_EQ(0, strncmp(comm, "kworker", 7)) TH_LOG("ran in %s", comm);
}

TEST_F(req, too_many_unread_eagain)
{
	struct pinmdl_completion c;
	int i, n = 0, read_back = 0;
	int ret;

	for (i = 0; i < 1000; i++) {
		ret = pm_submit(self->fd, self->h, PINMDL_LOWER_FILL, 0, 1, 0,
				PINMDL_SUBMIT_ASYNC, NULL);
		if (ret)
			break;
		n++;
	}
	EXPECT_EQ(-EAGAIN, ret);
	EXPECT_LT(0, n);
	while (read_back < n && read(self->fd, &c, sizeof(c)) == sizeof(c)) {
		EXPECT_EQ(0, c.status);
		read_back++;
	}
	EXPECT_EQ(n, read_back);
	/* Reading frees places again. */
	EXPECT_EQ(0, pm_submit(self->fd, self->h, PINMDL_LOWER_FILL, 0, 1, 0,
			       PINMDL_SUBMIT_ASYNC, NULL));
}

/* Submit a long FILL asynchronously; true if it was still in flight. */
static bool long_request_in_flight(int fd, uint32_t h, size_t len,
				   uint32_t *flags)
{
	struct pinmdl_query q;

	if (pm_submit(fd, h, PINMDL_LOWER_FILL, 0, len, 0x11,
		      PINMDL_SUBMIT_ASYNC, NULL))
		return false;
	if (pm_query(fd, h, &q, NULL, 0))
		return false;
	*flags = q.flags;
	return q.flags & PINMDL_F_IN_FLIGHT;
}

/*
 * SUBMIT_BUFFERED of any length up to max_descriptor_bytes, through a
 * bounded bounce buffer: a CHECKSUM over 2 GiB and more (read as zero
 * pages) equals the crc32c of that many zero bytes, and a FILL across
 * chunks at odd offsets lands exactly.
 */
FIXTURE(buffered)
{
};

FIXTURE_SETUP(buffered)
{
}

FIXTURE_TEARDOWN(buffered)
{
}

TEST_F_TIMEOUT(buffered, past_int_max, 600)
{
	size_t len = (1UL << 31) + 3 * PM_PAGE + 5, small = (3UL << 20) + 7;
	char *zeros = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS |
			   MAP_NORESERVE, -1, 0);
	char *buf = pm_map(small + 2, PROT_READ | PROT_WRITE);
	long pins = pm_pins();
	int fd = pm_open();
	uint64_t result;

	ASSERT_NE(MAP_FAILED, zeros);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, pm_submit_buffered(fd, zeros, len, PINMDL_LOWER_CHECKSUM,
					0, &result));
	EXPECT_EQ(pm_crc32c_zeros(~0U, len), result);
	munmap(zeros, len);

	memset(buf, 0x5c, small + 2);
	ASSERT_EQ(0, pm_submit_buffered(fd, buf + 1, small, PINMDL_LOWER_FILL,
					0x3a, NULL));
	EXPECT_EQ(0x5c, buf[0]);
	EXPECT_TRUE(all_bytes(buf + 1, small, 0x3a));
	EXPECT_EQ(0x5c, buf[small + 1]);
	buf[small / 2] = 1;
	ASSERT_EQ(0, pm_submit_buffered(fd, buf + 1, small,
					PINMDL_LOWER_CHECKSUM, 0, &result));
	EXPECT_EQ(pm_crc32c(buf + 1, small), result);
	close(fd);
	munmap(buf, small + 2);
	EXPECT_EQ(pins, pm_pins());
}

struct owner_pipes {
	int fd;
	int to_child[2];
	int to_parent[2];
};

/* The child's side: its own descriptor, request and completion. */
static int completion_owner_child(void *p)
{
	struct owner_pipes *op = p;
	char *buf = pm_map(PM_PAGE, PROT_READ | PROT_WRITE);
	struct pollfd pfd = { .fd = op->fd, .events = POLLIN };
	struct pinmdl_completion c;
	struct pinmdl_submit s;
	uint32_t h;
	char x;

	if (!buf)
		return 1;
	memset(buf, 0x61, PM_PAGE);
	h = pm_create_locked(op->fd, buf, PM_PAGE, PINMDL_IO_READ_ACCESS);
	if (!h || pm_submit(op->fd, h, PINMDL_LOWER_CHECKSUM, 0, PM_PAGE, 0,
			    PINMDL_SUBMIT_ASYNC, &s))
		return 2;
	/* Ready, and left unread while the parent looks. */
	if (poll(&pfd, 1, 10000) != 1)
		return 3;
	if (write(op->to_parent[1], "r", 1) != 1 ||
	    read(op->to_child[0], &x, 1) != 1)
		return 4;
	if (read(op->fd, &c, sizeof(c)) != sizeof(c))
		return 5;
	if (c.request_id != s.request_id || c.status ||
	    c.result != pm_crc32c(buf, PM_PAGE))
		return 6;
	/* The parent's completion is not the child's to see. */
	if (poll(&pfd, 1, 0) != 0 || read(op->fd, &c, sizeof(c)) != -1 ||
	    errno != EAGAIN)
		return 7;
	return pm_unlock(op->fd, h) ? 8 : 0;
}

/*
 * Completions belong to the address space that submitted: a forked child
 * sharing the file neither sees nor takes the parent's, nor the parent
 * the child's (read(2) says EAGAIN, poll(2) nothing ready).
 */
TEST(completions_belong_to_the_submitter)
{
	struct owner_pipes op = { .fd = pm_open() };
	char *buf = pm_map(PM_PAGE, PROT_READ | PROT_WRITE);
	struct pollfd pfd = { .fd = op.fd, .events = POLLIN };
	long pins = pm_pins();
	struct pinmdl_completion c;
	struct pinmdl_submit s;
	int status;
	pid_t pid;
	uint32_t h;
	char x;

	ASSERT_LE(0, op.fd);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, fcntl(op.fd, F_SETFL, O_NONBLOCK));
	ASSERT_EQ(0, pipe(op.to_child));
	ASSERT_EQ(0, pipe(op.to_parent));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(completion_owner_child(&op));
	ASSERT_EQ(1, read(op.to_parent[0], &x, 1));

	/* The child's completion is ready, but not the parent's. */
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	EXPECT_EQ(-1, read(op.fd, &c, sizeof(c)));
	EXPECT_EQ(EAGAIN, errno);
	memset(buf, 0x62, PM_PAGE);
	h = pm_create_locked(op.fd, buf, PM_PAGE, PINMDL_IO_READ_ACCESS);
	ASSERT_NE(0, h);
	ASSERT_EQ(0, pm_submit(op.fd, h, PINMDL_LOWER_CHECKSUM, 0, PM_PAGE, 0,
			       PINMDL_SUBMIT_ASYNC, &s));
	ASSERT_EQ(1, poll(&pfd, 1, 10000));
	ASSERT_EQ(sizeof(c), read(op.fd, &c, sizeof(c)));
	EXPECT_EQ(s.request_id, c.request_id);
	EXPECT_EQ(pm_crc32c(buf, PM_PAGE), c.result);
	EXPECT_EQ(-1, read(op.fd, &c, sizeof(c)));
	EXPECT_EQ(EAGAIN, errno);

	/* One more of the parent's, ready and unread while the child reads. */
	ASSERT_EQ(0, pm_submit(op.fd, h, PINMDL_LOWER_CHECKSUM, 0, PM_PAGE, 0,
			       PINMDL_SUBMIT_ASYNC, &s));
	ASSERT_EQ(1, poll(&pfd, 1, 10000));
	ASSERT_EQ(1, write(op.to_child[1], "g", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(sizeof(c), read(op.fd, &c, sizeof(c)));
	EXPECT_EQ(s.request_id, c.request_id);
	EXPECT_EQ(0, pm_unlock(op.fd, h));
	close(op.fd);
	munmap(buf, PM_PAGE);
	EXPECT_EQ(pins, pm_pins());
}

/* Fill the file's bound with completions, then exit without reading. */
static int unread_child(void *p)
{
	struct pollfd pfd = { .fd = *(int *)p, .events = POLLIN };
	char *buf = pm_map(PM_PAGE, PROT_READ | PROT_WRITE);
	uint32_t h;
	int i;

	if (!buf)
		return 1;
	h = pm_create_locked(pfd.fd, buf, PM_PAGE, PINMDL_IO_READ_ACCESS);
	if (!h)
		return 2;
	for (i = 0; i < 256; i++)
		if (pm_submit(pfd.fd, h, PINMDL_LOWER_CHECKSUM, 0, 1, 0,
			      PINMDL_SUBMIT_ASYNC, NULL))
			return 3;
	if (pm_submit(pfd.fd, h, PINMDL_LOWER_CHECKSUM, 0, 1, 0,
		      PINMDL_SUBMIT_ASYNC, NULL) != -EAGAIN)
		return 4;
	return poll(&pfd, 1, 10000) == 1 ? 0 : 5;
}

/*
 * The completions of an address space that is gone can never be read:
 * they do not keep the others sharing the file from submitting.
 */
TEST(completions_of_a_gone_process_are_dropped)
{
	char *buf = pm_map(PM_PAGE, PROT_READ | PROT_WRITE);
	struct pinmdl_completion c;
	struct pinmdl_submit s;
	long pins = pm_pins();
	int fd = pm_open();
	uint32_t h;

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, pm_in_child(unread_child, &fd));
	h = pm_create_locked(fd, buf, PM_PAGE, PINMDL_IO_READ_ACCESS);
	ASSERT_NE(0, h);
	/* The child's requests may still be finishing: wait for them. */
	usleep(200000);
	ASSERT_EQ(0, pm_submit(fd, h, PINMDL_LOWER_CHECKSUM, 0, PM_PAGE, 0,
			       PINMDL_SUBMIT_ASYNC, &s));
	ASSERT_EQ(sizeof(c), read(fd, &c, sizeof(c)));
	EXPECT_EQ(s.request_id, c.request_id);
	EXPECT_EQ(0, pm_unlock(fd, h));
	close(fd);
	munmap(buf, PM_PAGE);
	EXPECT_EQ(pins, pm_pins());
}

TEST(in_flight_rules)
{
	size_t len = 256UL << 20;
	char *buf = pm_map(len, PROT_READ | PROT_WRITE);
	struct pinmdl_completion c;
	struct pinmdl_query q;
	long pins = pm_pins();
	uint32_t h, flags = 0;
	int fd = pm_open(), tries;
	bool caught = false;

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, buf);
	h = pm_create_locked(fd, buf, len, PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	for (tries = 0; tries < 5 && !caught; tries++) {
		caught = long_request_in_flight(fd, h, len, &flags);
		if (caught) {
			EXPECT_EQ(-EBUSY, pm_unlock(fd, h));
			EXPECT_EQ(-EBUSY, pm_free(fd, h));
		}
		ASSERT_EQ(sizeof(c), read(fd, &c, sizeof(c)));
		EXPECT_EQ(0, c.status);
	}
	EXPECT_TRUE(caught) TH_LOG("never saw a request in flight");
	ASSERT_EQ(0, pm_query(fd, h, &q, NULL, 0));
	EXPECT_EQ(0, q.flags & PINMDL_F_IN_FLIGHT);
	EXPECT_EQ(0, pm_unlock(fd, h));
	EXPECT_EQ(0, pm_free(fd, h));
	close(fd);
	munmap(buf, len);
	EXPECT_EQ(pins, pm_pins());
}

TEST(close_with_requests_in_flight)
{
	size_t len = 64UL << 20;
	char *buf = pm_map(len, PROT_READ | PROT_WRITE);
	long pins = pm_pins(), leaks = pm_stat("leaks_released");
	int fd = pm_open(), i;
	uint32_t h;

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, buf);
	h = pm_create_locked(fd, buf, len, PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, pm_submit(fd, h, PINMDL_LOWER_FILL, 0, len, i,
				       PINMDL_SUBMIT_ASYNC, NULL));
	/* The lock goes away with the process's address space, too. */
	munmap(buf, len);
	close(fd);
	EXPECT_EQ(pins, pm_pins());
	EXPECT_EQ(leaks + 1, pm_stat("leaks_released"));
}

/*
 * Objects in use in the kmalloc caches that charge no memory cgroup
 * (/proc/slabinfo, as root), or -1; and in *@cg_caches how many caches
 * there are that do (none in a kernel without memory cgroups).
 */
static long uncharged_kmalloc_objects(int *cg_caches)
{
	char line[512], name[64];
	long active, sum = 0;
	FILE *f = fopen("/proc/slabinfo", "r");

	*cg_caches = 0;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %ld", name, &active) != 2 ||
		    strncmp(name, "kmalloc-", 8) ||
		    !strncmp(name, "kmalloc-rcl-", 12))
			continue;
		if (!strncmp(name, "kmalloc-cg-", 11))
			(*cg_caches)++;
		else
			sum += active;
	}
	fclose(f);
	return sum;
}

#define CHARGED_FILES	5
#define CHARGED_PER_FILE 200

/*
 * Every allocation a request makes is charged to the submitter's memory
 * cgroup, the lower driver's own part of it too: with 1000 DELAYs in
 * flight, the kmalloc caches that charge no cgroup hold about what they
 * held before.
 */
TEST(requests_are_charged_to_the_submitter)
{
	int fd[CHARGED_FILES], t[CHARGED_FILES], i, j, cg;
	long before, during;

	if (uncharged_kmalloc_objects(&cg) < 0)
		SKIP(return, "/proc/slabinfo: %s", strerror(errno));
	if (!cg)
		SKIP(return, "a kernel without memory cgroups charges nothing");
	for (i = 0; i < CHARGED_FILES; i++) {
		fd[i] = pm_open();
		ASSERT_LE(0, fd[i]);
		t[i] = pm_target_open(fd[i], "pinmdl_lower", -1, NULL);
		ASSERT_LT(0, t[i]);
	}
	before = uncharged_kmalloc_objects(&cg);
	for (i = 0; i < CHARGED_FILES; i++)
		for (j = 0; j < CHARGED_PER_FILE; j++)
			ASSERT_EQ(0, pm_io(fd[i], t[i], PINMDL_LOWER_DELAY,
					   NULL, 0, PINMDL_LOWER_DELAY_MAX,
					   PINMDL_SUBMIT_ASYNC, NULL));
	during = uncharged_kmalloc_objects(&cg);
	EXPECT_GT(CHARGED_FILES * CHARGED_PER_FILE / 4, during - before)
		TH_LOG("%ld more uncharged objects with %d requests in flight",
		       during - before, CHARGED_FILES * CHARGED_PER_FILE);
	/* Closing cancels the requests and waits for them. */
	for (i = 0; i < CHARGED_FILES; i++)
		close(fd[i]);
}

TEST(unload_order_and_enodev)
{
	char *buf = pm_map(PM_PAGE, PROT_READ | PROT_WRITE);
	char cmd[512];
	glob_t g;
	int fd = pm_open();
	uint32_t h;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, glob("/mods/*-pinmdl_lower.ko", 0, NULL, &g));
	h = pm_create_locked(fd, buf, PM_PAGE, PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);

	/* The core cannot go while its lower driver is loaded. */
	EXPECT_NE(0, pm_run("rmmod pinmdl 2>/dev/null"));
	ASSERT_EQ(0, pm_run("rmmod pinmdl_lower"));
	EXPECT_EQ(-ENODEV, pm_submit(fd, h, PINMDL_LOWER_FILL, 0, 1, 0, 0,
				     NULL));
	EXPECT_EQ(-ENODEV, pm_submit_buffered(fd, buf, 1, PINMDL_LOWER_FILL, 0,
					      NULL));
	/* State checks still come first. */
	EXPECT_EQ(-EINVAL, pm_submit(fd, h, PINMDL_LOWER_FILL, 0, 2 * PM_PAGE,
				     0, 0, NULL));
	snprintf(cmd, sizeof(cmd), "insmod %s", g.gl_pathv[0]);
	ASSERT_EQ(0, pm_run(cmd));
	EXPECT_EQ(0, pm_submit(fd, h, PINMDL_LOWER_FILL, 0, 1, 0, 0, NULL));
	globfree(&g);
	close(fd);
}

/*
 * Nine write locks of one page, each sent a CHECKSUM, a FILL and a COPY
 * from the next: the device only reads what it checksums and copies from,
 * so each lock's mapping is a DMA_TO_DEVICE one, and DMA-API debugging
 * (which warns past seven overlapping mappings a device may write) has
 * nothing to say: the guest's runner fails on any report.
 */
TEST(nine_write_locks_of_one_page)
{
	char *buf = pm_map(PM_PAGE, PROT_READ | PROT_WRITE);
	struct pinmdl_submit s;
	long pins = pm_pins();
	int fd = pm_open(), i;
	uint32_t h[9];

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, buf);
	memset(buf, 0x5a, PM_PAGE);
	for (i = 0; i < 9; i++) {
		h[i] = pm_create_locked(fd, buf, PM_PAGE,
					PINMDL_IO_WRITE_ACCESS);
		ASSERT_NE(0, h[i]);
		ASSERT_EQ(0, pm_submit(fd, h[i], PINMDL_LOWER_CHECKSUM, 0,
				       PM_PAGE, 0, 0, &s));
		EXPECT_EQ(pm_crc32c(buf, PM_PAGE), s.result);
	}
	for (i = 0; i < 9; i++) {
		ASSERT_EQ(0, pm_submit(fd, h[i], PINMDL_LOWER_FILL, 0, 64,
				       0x30 + i, 0, NULL));
		ASSERT_EQ(0, pm_submit(fd, h[i], PINMDL_LOWER_COPY, 64, 64,
				       h[(i + 1) % 9], 0, NULL));
	}
	EXPECT_TRUE(all_bytes(buf, 64, 0x38));
	for (i = 0; i < 9; i++)
		EXPECT_EQ(0, pm_unlock(fd, h[i]));
	close(fd);
	munmap(buf, PM_PAGE);
	EXPECT_EQ(pins, pm_pins());
}

/* Slots of the swiotlb in use (debugfs), or -1 without it. */
static long swiotlb_used(void)
{
	static const char *const files[] = {
		"/sys/kernel/debug/swiotlb/io_tlb_used",
		"/sys/kernel/debug/swiotlb/io_tlb_inuse",
	};
	long used = -1;
	unsigned int i;
	FILE *f;

	for (i = 0; i < sizeof(files) / sizeof(files[0]) && used < 0; i++) {
		f = fopen(files[i], "r");
		if (!f)
			continue;
		if (fscanf(f, "%ld", &used) != 1)
			used = -1;
		fclose(f);
	}
	return used;
}

/*
 * Where the device bounces every mapping (swiotlb=force, as in a SEV or
 * TDX guest), a request holds bounce slots for its access alone: a 64 MiB
 * lock, idle after 1-byte and whole requests, holds none, and a request
 * as large as the whole bounce pool still goes through. Without bouncing,
 * the same holds trivially.
 */
TEST(bounce_slots_only_for_the_access)
{
	size_t len = 64UL << 20, i;
	char *buf = pm_map(len, PROT_READ | PROT_WRITE);
	long pins = pm_pins(), base = swiotlb_used();
	struct pinmdl_submit s;
	int fd = pm_open();
	uint32_t h;

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, buf);
	if (base < 0)
		SKIP(return, "no swiotlb in debugfs");
	for (i = 0; i < len; i += PM_PAGE / 2)
		buf[i] = (char)(i >> 11);
	h = pm_create_locked(fd, buf, len, PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	ASSERT_EQ(0, pm_submit(fd, h, PINMDL_LOWER_CHECKSUM, 0, 1, 0, 0, &s));
	EXPECT_EQ(pm_crc32c(buf, 1), s.result);
	/* Locked and idle: not a bounce slot held for it. */
	EXPECT_GE(base + 64, swiotlb_used());
	ASSERT_EQ(0, pm_submit(fd, h, PINMDL_LOWER_CHECKSUM, 0, len, 0, 0,
			       &s));
	EXPECT_EQ(pm_crc32c(buf, len), s.result);
	EXPECT_GE(base + 64, swiotlb_used());
	EXPECT_EQ(0, pm_unlock(fd, h));
	EXPECT_GE(base + 64, swiotlb_used());
	close(fd);
	munmap(buf, len);
	EXPECT_EQ(pins, pm_pins());
}

/* pinmdl_lower's reference count, or -1. */
static long lower_refcnt(void)
{
	char buf[32] = "";
	int fd = open("/sys/module/pinmdl_lower/refcnt", O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? atol(buf) : -1;
}

FIXTURE(unload) {};
FIXTURE_SETUP(unload) {}
FIXTURE_TEARDOWN(unload) {}

#define UNLOAD_ROUNDS	300

/*
 * Once the completion of an asynchronous SUBMIT is read, nothing holds
 * pinmdl_lower: it unloads at once. The reader spins to read each
 * completion the moment it is there, and looks at the module's count
 * right after.
 */
TEST_F_TIMEOUT(unload, after_async_completion, 300)
{
	char *buf = pm_map(PM_PAGE, PROT_READ | PROT_WRITE);
	int fd = pm_open(), ko = pm_lower_ko(), i;
	struct pinmdl_completion c;
	long refs = 0;
	uint32_t h;

	ASSERT_LE(0, fd);
	ASSERT_LE(0, ko);
	ASSERT_EQ(0, fcntl(fd, F_SETFL, O_NONBLOCK));
	h = pm_create_locked(fd, buf, PM_PAGE, PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	for (i = 0; i < UNLOAD_ROUNDS && !refs; i++) {
		ASSERT_EQ(0, pm_submit(fd, h, i % 2 ? PINMDL_LOWER_FILL :
				       PINMDL_LOWER_CHECKSUM, 0, PM_PAGE, 0,
				       PINMDL_SUBMIT_ASYNC, NULL));
		while (read(fd, &c, sizeof(c)) != sizeof(c))
			ASSERT_EQ(EAGAIN, errno);
		EXPECT_EQ(0, c.status);
		refs = lower_refcnt();
	}
	EXPECT_EQ(0, refs) TH_LOG("round %d of %d", i, UNLOAD_ROUNDS);
	ASSERT_EQ(0, pm_unload("pinmdl_lower"));
	ASSERT_EQ(0, pm_load(ko));
	close(ko);
	close(fd);
	munmap(buf, PM_PAGE);
}

TEST_HARNESS_MAIN
