// SPDX-License-Identifier: GPL-2.0
/*
 * Targets and I/O requests through /dev/pinmdl: TARGET_OPEN, TARGET_CLOSE,
 * IO with segment chains and CANCEL, against the two targets of
 * pinmdl_lower ("pinmdl_lower" and "pinmdl_lower.1"): every row of the
 * errno tables in their order, chains of every kind of memory, DELAY and
 * its cancellation, and a target that goes away with requests in flight.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "pinmdl_util.h"

#define LOWER		"pinmdl_lower"
#define LOWER1		"pinmdl_lower.1"
#define PRESENT		"/sys/kernel/debug/pinmdl_lower/pinmdl_lower/present"

/* Plug or unplug pinmdl_lower's target, and read back that it is so. */
static int pm_set_present(int present)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "echo %d > %s && grep -qx %d %s", present,
		 PRESENT, present, PRESENT);
	return pm_run(cmd);
}

TEST(target_open_errnos_in_order)
{
	int fd = pm_open(), devnull = open("/dev/null", O_RDONLY), i, id;
	char *page = pm_map(2 * PM_PAGE, PROT_READ | PROT_WRITE);
	struct pinmdl_target_open o = { .fd = -1 };
	char *edge, longname[40];

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, page);
	/* flags and reserved, then the name, before the fd. */
	o.name = (uintptr_t)LOWER;
	o.flags = 1;
	o.fd = 12345;
	EXPECT_EQ(-EINVAL, pm_ioctl(fd, PINMDL_IOC_TARGET_OPEN, &o));
	o.flags = 0;
	o.reserved = 1;
	EXPECT_EQ(-EINVAL, pm_ioctl(fd, PINMDL_IOC_TARGET_OPEN, &o));
	o.reserved = 0;
	memset(longname, 'a', sizeof(longname));
	o.name = (uintptr_t)longname;
	EXPECT_EQ(-EINVAL, pm_ioctl(fd, PINMDL_IOC_TARGET_OPEN, &o));
	o.name = 8;
	EXPECT_EQ(-EFAULT, pm_ioctl(fd, PINMDL_IOC_TARGET_OPEN, &o));
	/* The fd, before the name's target. */
	o.name = (uintptr_t)"no_such_target";
	EXPECT_EQ(-EBADF, pm_ioctl(fd, PINMDL_IOC_TARGET_OPEN, &o));
	o.fd = -1;
	EXPECT_EQ(-ENODEV, pm_ioctl(fd, PINMDL_IOC_TARGET_OPEN, &o));
	/* The target's own check: pinmdl_lower takes no fd. */
	EXPECT_EQ(-EINVAL, pm_target_open(fd, LOWER, devnull, NULL));

	/* A name that ends just before an unmapped page is read. */
	ASSERT_EQ(0, munmap(page + PM_PAGE, PM_PAGE));
	edge = page + PM_PAGE - sizeof(LOWER);
	memcpy(edge, LOWER, sizeof(LOWER));
	id = pm_target_open(fd, edge, -1, &o);
	EXPECT_LT(0, id);
	EXPECT_EQ(1, o.block_size);
	EXPECT_EQ(0, o.capacity);
	EXPECT_LE(16, o.max_segments);

	/* A new id each time, up to 64 open; then EMFILE. */
	for (i = 1; i < 64; i++)
		EXPECT_LT(id, pm_target_open(fd, i & 1 ? LOWER1 : LOWER, -1,
					     NULL));
	EXPECT_EQ(-EMFILE, pm_target_open(fd, LOWER, -1, NULL));
	/* ENODEV still comes before EMFILE. */
	EXPECT_EQ(-ENODEV, pm_target_open(fd, "no_such_target", -1, NULL));
	EXPECT_EQ(0, pm_target_close(fd, id));
	EXPECT_LT(0, pm_target_open(fd, LOWER, -1, NULL));
	close(devnull);
	close(fd);
	munmap(page, PM_PAGE);
}

/* An id that cannot be copied out leaves nothing open, and no WARN. */
TEST(target_open_readonly_arg)
{
	struct pinmdl_target_open *o = pm_map(PM_PAGE, PROT_READ | PROT_WRITE);
	int fd = pm_open(), i;

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, o);
	o->name = (uintptr_t)LOWER;
	o->fd = -1;
	ASSERT_EQ(0, mprotect(o, PM_PAGE, PROT_READ));
	for (i = 0; i < 100; i++)
		EXPECT_EQ(-EFAULT, pm_ioctl(fd, PINMDL_IOC_TARGET_OPEN, o));
	/* Not one of the 64 places was kept. */
	for (i = 0; i < 64; i++)
		EXPECT_LT(0, pm_target_open(fd, LOWER, -1, NULL));
	EXPECT_EQ(-ENOENT, pm_target_close(fd, 1000));
	close(fd);
	munmap(o, PM_PAGE);
}

TEST(target_close_errnos)
{
	struct pinmdl_handle_arg a = { .handle = 1, .flags = 1 };
	int fd = pm_open(), t;
	struct pinmdl_io io;

	ASSERT_LE(0, fd);
	t = pm_target_open(fd, LOWER, -1, NULL);
	ASSERT_LT(0, t);
	EXPECT_EQ(-EINVAL, pm_ioctl(fd, PINMDL_IOC_TARGET_CLOSE, &a));
	EXPECT_EQ(-ENOENT, pm_target_close(fd, t + 100));
	ASSERT_EQ(0, pm_io(fd, t, PINMDL_LOWER_DELAY, NULL, 0, 10000,
			   PINMDL_SUBMIT_ASYNC, &io));
	EXPECT_EQ(-EBUSY, pm_target_close(fd, t));
	EXPECT_EQ(0, pm_cancel(fd, io.request_id));
	EXPECT_EQ(0, pm_target_close(fd, t));
	EXPECT_EQ(-ENOENT, pm_target_close(fd, t));
	close(fd);
}

/* A child of the test process tries @fd's descriptor @h: EPERM. */
struct other_mm {
	int fd;
	uint32_t target;
	uint32_t handle;
};

static int io_from_other_mm(void *arg)
{
	struct other_mm *o = arg;
	struct pinmdl_segment s = { .handle = o->handle, .length = 1 };

	return pm_io(o->fd, o->target, PINMDL_LOWER_CHECKSUM, &s, 1, 0, 0,
		     NULL) == -EPERM ? 0 : 1;
}

TEST(io_errnos_in_order)
{
	char *buf = pm_map(4 * PM_PAGE, PROT_READ | PROT_WRITE);
	struct pinmdl_segment s[2] = {}, big[65] = {};
	int fd = pm_open(), t, t1, i;
	uint32_t w, r, unlocked;
	struct pinmdl_io io;
	struct other_mm o;

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, buf);
	t = pm_target_open(fd, LOWER, -1, NULL);
	ASSERT_LT(0, t);
	w = pm_create_locked(fd, buf, 2 * PM_PAGE, PINMDL_IO_WRITE_ACCESS);
	r = pm_create_locked(fd, buf + 2 * PM_PAGE, PM_PAGE,
			     PINMDL_IO_READ_ACCESS);
	ASSERT_NE(0, w);
	ASSERT_NE(0, r);
	ASSERT_EQ(0, pm_create(fd, buf + 3 * PM_PAGE, PM_PAGE, &unlocked));
	s[0] = (struct pinmdl_segment){ .handle = w, .length = PM_PAGE };
	s[1] = s[0];

	/* 1: the struct alone, before the target. */
	EXPECT_EQ(-EINVAL, pm_io(fd, 999, PINMDL_LOWER_FILL, s, 1, 0, 2,
				 NULL));
	EXPECT_EQ(-EFAULT, pm_io(fd, 999, PINMDL_LOWER_FILL,
				 (void *)8, 1, 0, 0, NULL));
	/* 2: the target, before the op. */
	EXPECT_EQ(-ENOENT, pm_io(fd, 999, 77, s, 1, 0, 0, NULL));
	/* 3: the op on that target, before the segments. */
	s[0].handle = 9999;
	EXPECT_EQ(-EINVAL, pm_io(fd, t, 77, s, 1, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, pm_io(fd, t, PINMDL_LOWER_FILL, s, 0, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, pm_io(fd, t, PINMDL_LOWER_CHECKSUM, big, 65, 0, 0,
				 NULL));
	EXPECT_EQ(-EINVAL, pm_io(fd, t, PINMDL_LOWER_CHECKSUM, NULL, 100000, 0,
				 0, NULL));
	EXPECT_EQ(-EINVAL, pm_io(fd, t, PINMDL_LOWER_DELAY, NULL, 0,
				 PINMDL_LOWER_DELAY_MAX + 1, 0, NULL));
	EXPECT_EQ(-EINVAL, pm_io(fd, t, PINMDL_LOWER_COPY, s, 1, 0, 0, NULL));
	/* CHECKSUM takes no argument: a starting value is the kernel's. */
	EXPECT_EQ(-EINVAL, pm_io(fd, t, PINMDL_LOWER_CHECKSUM, s, 1, 1, 0,
				 NULL));
	t1 = pm_target_open(fd, LOWER1, -1, NULL);
	ASSERT_LT(0, t1);
	EXPECT_EQ(-EINVAL, pm_io(fd, t1, PINMDL_LOWER_CHECKSUM, s, 1, ~0ULL, 0,
				 NULL));
	io = (struct pinmdl_io){ .target = t, .op = PINMDL_LOWER_FILL,
				 .dev_offset = 1, .segments = (uintptr_t)s,
				 .nr_segments = 1 };
	EXPECT_EQ(-EINVAL, pm_ioctl(fd, PINMDL_IOC_IO, &io));
	/* 4: each segment in turn: reserved, handle, owner, state, access. */
	s[0].handle = w;
	s[0].reserved = 1;
	s[1].handle = 9999;
	EXPECT_EQ(-EINVAL, pm_io(fd, t, PINMDL_LOWER_CHECKSUM, s, 2, 0, 0,
				 NULL));
	s[0].reserved = 0;
	EXPECT_EQ(-ENOENT, pm_io(fd, t, PINMDL_LOWER_CHECKSUM, s, 2, 0, 0,
				 NULL));
	s[0].handle = unlocked;
	EXPECT_EQ(-EINVAL, pm_io(fd, t, PINMDL_LOWER_CHECKSUM, s, 2, 0, 0,
				 NULL));
	s[0].handle = w;
	s[0].offset = PM_PAGE + 1;
	EXPECT_EQ(-EINVAL, pm_io(fd, t, PINMDL_LOWER_CHECKSUM, s, 1, 0, 0,
				 NULL));
	s[0].offset = 0;
	s[0].length = 0;
	EXPECT_EQ(-EINVAL, pm_io(fd, t, PINMDL_LOWER_CHECKSUM, s, 1, 0, 0,
				 NULL));
	s[0].length = PM_PAGE;
	s[1] = (struct pinmdl_segment){ .handle = r, .length = PM_PAGE };
	EXPECT_EQ(-EACCES, pm_io(fd, t, PINMDL_LOWER_FILL, s, 2, 0, 0, NULL));
	/* COPY writes its first segment only. */
	EXPECT_EQ(0, pm_io(fd, t, PINMDL_LOWER_COPY, s, 2, 0, 0, NULL));
	s[0].handle = r;
	s[1].handle = w;
	EXPECT_EQ(-EACCES, pm_io(fd, t, PINMDL_LOWER_COPY, s, 2, 0, 0, NULL));
	o = (struct other_mm){ .fd = fd, .target = t, .handle = w };
	EXPECT_EQ(0, pm_in_child(io_from_other_mm, &o));
	for (i = 0; i < 65; i++)
		big[i] = (struct pinmdl_segment){ .handle = w, .length = 1 };
	EXPECT_EQ(0, pm_io(fd, t, PINMDL_LOWER_CHECKSUM, big, 64, 0, 0, NULL));

	/* 6: a target gone, after every other check. */
	ASSERT_EQ(0, pm_set_present(0));
	s[0].handle = w;
	EXPECT_EQ(-EINVAL, pm_io(fd, t, 77, s, 1, 0, 0, NULL));
	s[0].handle = 9999;
	EXPECT_EQ(-ENOENT, pm_io(fd, t, PINMDL_LOWER_FILL, s, 1, 0, 0, NULL));
	s[0].handle = w;
	EXPECT_EQ(-ENODEV, pm_io(fd, t, PINMDL_LOWER_FILL, s, 1, 0, 0, NULL));
	EXPECT_EQ(-ENODEV, pm_target_open(fd, LOWER, -1, NULL));
	EXPECT_EQ(0, pm_target_close(fd, t));
	ASSERT_EQ(0, pm_set_present(1));
	EXPECT_LT(0, pm_target_open(fd, LOWER, -1, NULL));
	close(fd);
	munmap(buf, 4 * PM_PAGE);
}

/*
 * Chains of 1, 2 and 64 segments over anonymous 4 KiB, THP, hugetlb and
 * memfd memory, partial descriptors among them: CHECKSUM is the crc of
 * the segments as one stream, FILL writes every segment, COPY copies.
 */
TEST(chains_of_every_kind)
{
	enum pm_mem_kind kinds[] = { PM_ANON, PM_THP, PM_HUGETLB, PM_MEMFD };
	struct pinmdl_segment segs[64];
	struct pm_mem mem[4];
	uint32_t h[4], part[4];
	int fd = pm_open(), t, k, n, i, lens[] = { 1, 2, 64 };
	size_t len = PM_HPAGE, total, off;
	char *flat = malloc(64 * PM_HPAGE);
	struct pinmdl_io io;

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, flat);
	t = pm_target_open(fd, LOWER, -1, NULL);
	ASSERT_LT(0, t);
	for (k = 0; k < 4; k++) {
		if (pm_mem_map(&mem[k], kinds[k], len, PROT_READ | PROT_WRITE,
			       kinds[k] == PM_MEMFD)) {
			/* No hugetlb page here: anonymous memory instead. */
			ASSERT_EQ(0, pm_mem_map(&mem[k], PM_ANON, len,
						PROT_READ | PROT_WRITE, 0));
		}
		for (off = 0; off < len; off++)
			mem[k].buf[off] = (char)(off * 13 + k * 101);
		h[k] = pm_create_locked(fd, mem[k].buf, len,
					PINMDL_IO_WRITE_ACCESS);
		ASSERT_NE(0, h[k]);
		ASSERT_EQ(0, pm_partial(fd, h[k], mem[k].buf + 4093, 70000,
					&part[k]));
	}
	for (n = 0; n < 3; n++) {
		total = 0;
		for (i = 0; i < lens[n]; i++) {
			k = i % 4;
			/* Whole descriptors, partial ones, odd ranges. */
			segs[i] = (struct pinmdl_segment){
				.handle = i & 4 ? part[k] : h[k],
				.offset = (i * 4099) % 5000,
				.length = 1 + (i * 7919) % 60000,
			};
			memcpy(flat + total,
			       (i & 4 ? mem[k].buf + 4093 : mem[k].buf) +
			       segs[i].offset, segs[i].length);
			total += segs[i].length;
		}
		ASSERT_EQ(0, pm_io(fd, t, PINMDL_LOWER_CHECKSUM, segs, lens[n],
				   0, 0, &io));
		EXPECT_EQ(pm_crc32c(flat, total), io.result);
		EXPECT_NE(0, io.request_id);
		/* The same through the asynchronous path. */
		ASSERT_EQ(0, pm_io(fd, t, PINMDL_LOWER_CHECKSUM, segs, lens[n],
				   0, PINMDL_SUBMIT_ASYNC, &io));
		{
			struct pinmdl_completion c;

			ASSERT_EQ(0, pm_completion(fd, &c, 10000));
			EXPECT_EQ(io.request_id, c.request_id);
			EXPECT_EQ(0, c.status);
			EXPECT_EQ(pm_crc32c(flat, total), c.result);
		}
	}
	/* FILL over a chain of four kinds, then read it back. */
	for (k = 0; k < 4; k++)
		segs[k] = (struct pinmdl_segment){ .handle = h[k],
						   .offset = 4000 + k,
						   .length = 9000 };
	ASSERT_EQ(0, pm_io(fd, t, PINMDL_LOWER_FILL, segs, 4, 0x1c7, 0, &io));
	EXPECT_EQ(4 * 9000, io.result);
	for (k = 0; k < 4; k++) {
		EXPECT_EQ(0xc7, (unsigned char)mem[k].buf[4000 + k + 8999]);
		EXPECT_EQ(0xc7, (unsigned char)mem[k].buf[4000 + k]);
		EXPECT_NE(0xc7, (unsigned char)mem[k].buf[4000 + k + 9000]);
	}
	/* COPY: hugetlb (or anon) range onto a memfd partial range. */
	segs[0] = (struct pinmdl_segment){ .handle = part[3], .offset = 1,
					   .length = 50000 };
	segs[1] = (struct pinmdl_segment){ .handle = h[2], .offset = 100000,
					   .length = 50000 };
	ASSERT_EQ(0, pm_io(fd, t, PINMDL_LOWER_COPY, segs, 2, 0, 0, &io));
	EXPECT_EQ(0, memcmp(mem[3].buf + 4093 + 1, mem[2].buf + 100000,
			    50000));
	close(fd);
	for (k = 0; k < 4; k++)
		pm_mem_unmap(&mem[k]);
	free(flat);
}

TEST(delay_holds_segments_and_cancels_at_once)
{
	char *buf = pm_map(PM_PAGE, PROT_READ | PROT_WRITE);
	struct pinmdl_segment s = { .length = PM_PAGE };
	struct pinmdl_completion c;
	struct timespec t0;
	struct pinmdl_io io;
	int fd = pm_open(), t;

	ASSERT_LE(0, fd);
	t = pm_target_open(fd, LOWER, -1, NULL);
	ASSERT_LT(0, t);
	s.handle = pm_create_locked(fd, buf, PM_PAGE, PINMDL_IO_READ_ACCESS);
	ASSERT_NE(0, s.handle);
	ASSERT_EQ(0, pm_io(fd, t, PINMDL_LOWER_DELAY, &s, 1, 10000,
			   PINMDL_SUBMIT_ASYNC, &io));
	EXPECT_EQ(-EBUSY, pm_unlock(fd, s.handle));
	EXPECT_EQ(-ETIMEDOUT, pm_completion(fd, &c, 0));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	EXPECT_EQ(0, pm_cancel(fd, io.request_id));
	ASSERT_EQ(0, pm_completion(fd, &c, 5000));
	EXPECT_GT(1000, pm_ms_since(&t0));
	EXPECT_EQ(io.request_id, c.request_id);
	EXPECT_EQ(-ECANCELED, c.status);
	/* Completed (and read): CANCEL finds nothing, changes nothing. */
	EXPECT_EQ(-ENOENT, pm_cancel(fd, io.request_id));
	EXPECT_EQ(0, pm_unlock(fd, s.handle));

	/* A DELAY that runs out completes with arg as its result. */
	ASSERT_EQ(0, pm_io(fd, t, PINMDL_LOWER_DELAY, NULL, 0, 20, 0, &io));
	EXPECT_EQ(20, io.result);
	ASSERT_EQ(0, pm_io(fd, t, PINMDL_LOWER_DELAY, NULL, 0, 1,
			   PINMDL_SUBMIT_ASYNC, &io));
	ASSERT_EQ(0, pm_completion(fd, &c, 5000));
	EXPECT_EQ(0, c.status);
	EXPECT_EQ(1, c.result);
	/* Completed but unread: ENOENT as well. */
	ASSERT_EQ(0, pm_io(fd, t, PINMDL_LOWER_DELAY, NULL, 0, 0,
			   PINMDL_SUBMIT_ASYNC, &io));
	usleep(100 * 1000);
	EXPECT_EQ(-ENOENT, pm_cancel(fd, io.request_id));
	ASSERT_EQ(0, pm_completion(fd, &c, 5000));
	EXPECT_EQ(0, c.status);
	close(fd);
	munmap(buf, PM_PAGE);
}

TEST(cancel_errnos)
{
	struct pinmdl_cancel c = { .request_id = 1, .flags = 2 };
	int fd = pm_open();

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, pm_ioctl(fd, PINMDL_IOC_CANCEL, &c));
	/* By user_data: no IO command of that name is in flight. */
	c.flags = PINMDL_CANCEL_USER_DATA;
	EXPECT_EQ(-ENOENT, pm_ioctl(fd, PINMDL_IOC_CANCEL, &c));
	c.flags = 0;
	c.reserved = 1;
	EXPECT_EQ(-EINVAL, pm_ioctl(fd, PINMDL_IOC_CANCEL, &c));
	EXPECT_EQ(-ENOENT, pm_cancel(fd, 0));
	EXPECT_EQ(-ENOENT, pm_cancel(fd, 12345));
	close(fd);
}

/* A forked child cannot cancel its parent's request. */
struct cancel_other {
	int fd;
	uint64_t id;
};

static int cancel_from_child(void *arg)
{
	struct cancel_other *o = arg;

	return pm_cancel(o->fd, o->id) == -ENOENT ? 0 : 1;
}

TEST(cancel_only_own_address_space)
{
	struct pinmdl_completion c;
	struct cancel_other o;
	struct pinmdl_io io;
	int fd = pm_open(), t;

	ASSERT_LE(0, fd);
	t = pm_target_open(fd, LOWER, -1, NULL);
	ASSERT_LT(0, t);
	ASSERT_EQ(0, pm_io(fd, t, PINMDL_LOWER_DELAY, NULL, 0, 10000,
			   PINMDL_SUBMIT_ASYNC, &io));
	o = (struct cancel_other){ .fd = fd, .id = io.request_id };
	EXPECT_EQ(0, pm_in_child(cancel_from_child, &o));
	EXPECT_EQ(0, pm_cancel(fd, io.request_id));
	ASSERT_EQ(0, pm_completion(fd, &c, 5000));
	EXPECT_EQ(-ECANCELED, c.status);
	close(fd);
}

/* Requests submitted one by one; another thread cancels each at once. */
struct cancel_race {
	int fd;
	_Atomic uint64_t id;
	atomic_int stop;
	int cancelled;
	int missed;
};

static void *cancel_thread(void *arg)
{
	struct cancel_race *r = arg;
	uint64_t seen = 0, id;
	int ret;

	while (!atomic_load(&r->stop)) {
		id = atomic_load(&r->id);
		if (id == seen)
			continue;
		ret = pm_cancel(r->fd, id);
		if (!ret)
			r->cancelled++;
		else if (ret == -ENOENT)
			r->missed++;
		else
			return (void *)1;
		seen = id;
	}
	return NULL;
}

TEST(cancel_races_completion)
{
	int fd = pm_open(), t, i, rounds = 3000, ok = 0, cancelled = 0;
	struct cancel_race r = { .fd = fd };
	struct pinmdl_completion c;
	struct pinmdl_io io;
	pthread_t th;
	void *res;

	ASSERT_LE(0, fd);
	t = pm_target_open(fd, LOWER, -1, NULL);
	ASSERT_LT(0, t);
	ASSERT_EQ(0, pthread_create(&th, NULL, cancel_thread, &r));
	for (i = 0; i < rounds; i++) {
		ASSERT_EQ(0, pm_io(fd, t, PINMDL_LOWER_DELAY, NULL, 0, 0,
				   PINMDL_SUBMIT_ASYNC, &io));
		atomic_store(&r.id, io.request_id);
		ASSERT_EQ(0, pm_completion(fd, &c, 5000));
		ASSERT_EQ(io.request_id, c.request_id);
		if (c.status == 0)
			ok++;
		else if (c.status == -ECANCELED)
			cancelled++;
	}
	atomic_store(&r.stop, 1);
	pthread_join(th, &res);
	EXPECT_EQ(NULL, res);
	/* One completion each, never lost, never two. */
	EXPECT_EQ(rounds, ok + cancelled);
	EXPECT_EQ(-ETIMEDOUT, pm_completion(fd, &c, 200));
	EXPECT_LE(cancelled, r.cancelled);
	TH_LOG("%d completed, %d cancelled; CANCEL: %d asked, %d too late",
	       ok, cancelled, r.cancelled, r.missed);
	close(fd);
}

TEST(close_cancels_promptly)
{
	char *buf = pm_map(PM_PAGE, PROT_READ | PROT_WRITE);
	struct pinmdl_segment s = { .length = PM_PAGE };
	int fd = pm_open(), t, i;
	long pins = pm_pins();
	struct timespec t0;

	ASSERT_LE(0, fd);
	t = pm_target_open(fd, LOWER, -1, NULL);
	ASSERT_LT(0, t);
	s.handle = pm_create_locked(fd, buf, PM_PAGE, PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, s.handle);
	for (i = 0; i < 16; i++)
		ASSERT_EQ(0, pm_io(fd, t, PINMDL_LOWER_DELAY, &s, 1, 60000,
				   PINMDL_SUBMIT_ASYNC, NULL));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	close(fd);
	EXPECT_GT(1000, pm_ms_since(&t0));
	EXPECT_EQ(pins, pm_pins());
	munmap(buf, PM_PAGE);
}

/* A synchronous DELAY whose submitter is killed is cancelled. */
TEST(killed_sync_request_is_cancelled)
{
	struct timespec t0;
	int fd = pm_open(), t, status;
	pid_t pid;

	ASSERT_LE(0, fd);
	t = pm_target_open(fd, LOWER, -1, NULL);
	ASSERT_LT(0, t);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		pm_io(fd, t, PINMDL_LOWER_DELAY, NULL, 0, 60000, 0, NULL);
		_exit(3);
	}
	usleep(200 * 1000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_GT(2000, pm_ms_since(&t0));
	/* Nothing of it is left in flight. */
	EXPECT_EQ(0, pm_target_close(fd, t));
	close(fd);
}

/*
 * The target goes away with requests in flight: they complete with an
 * error, new ones fail with ENODEV, TARGET_CLOSE still works, and the
 * driver's other target keeps serving.
 */
TEST(unregister_with_requests_in_flight)
{
	char *buf = pm_map(PM_PAGE, PROT_READ | PROT_WRITE);
	struct pinmdl_segment s = { .length = PM_PAGE };
	int fd = pm_open(), t, t1, i, n = 8;
	struct pinmdl_completion c;
	struct timespec t0;
	struct pinmdl_io io;
	long pins;

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, buf);
	memset(buf, 0x42, PM_PAGE);
	t = pm_target_open(fd, LOWER, -1, NULL);
	t1 = pm_target_open(fd, LOWER1, -1, NULL);
	ASSERT_LT(0, t);
	ASSERT_LT(0, t1);
	pins = pm_pins();
	s.handle = pm_create_locked(fd, buf, PM_PAGE, PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, s.handle);
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, pm_io(fd, t, PINMDL_LOWER_DELAY, &s, 1, 30000,
				   PINMDL_SUBMIT_ASYNC, NULL));
	ASSERT_EQ(0, pm_io(fd, t1, PINMDL_LOWER_DELAY, &s, 1, 2000,
			   PINMDL_SUBMIT_ASYNC, NULL));

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_EQ(0, pm_set_present(0));
	EXPECT_GT(2000, pm_ms_since(&t0));
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, pm_completion(fd, &c, 5000));
		EXPECT_EQ(-ECANCELED, c.status);
	}
	EXPECT_EQ(-ENODEV, pm_io(fd, t, PINMDL_LOWER_CHECKSUM, &s, 1, 0, 0,
				 NULL));
	/* The other target serves on. */
	ASSERT_EQ(0, pm_io(fd, t1, PINMDL_LOWER_CHECKSUM, &s, 1, 0, 0, &io));
	EXPECT_EQ(pm_crc32c(buf, PM_PAGE), io.result);
	ASSERT_EQ(0, pm_completion(fd, &c, 5000));
	EXPECT_EQ(0, c.status);
	EXPECT_EQ(2000, c.result);
	EXPECT_EQ(0, pm_target_close(fd, t));
	EXPECT_EQ(0, pm_unlock(fd, s.handle));
	EXPECT_EQ(pins, pm_pins());
	ASSERT_EQ(0, pm_set_present(1));
	t = pm_target_open(fd, LOWER, -1, NULL);
	ASSERT_LT(0, t);
	EXPECT_EQ(0, pm_io(fd, t, PINMDL_LOWER_DELAY, NULL, 0, 0, 0, NULL));
	close(fd);
	munmap(buf, PM_PAGE);
}

/* An open target holds the driver's module. */
TEST(open_target_holds_module)
{
	int fd = pm_open(), t;

	ASSERT_LE(0, fd);
	t = pm_target_open(fd, LOWER, -1, NULL);
	ASSERT_LT(0, t);
	EXPECT_NE(0, pm_run("rmmod pinmdl_lower 2>/dev/null"));
	EXPECT_EQ(0, pm_target_close(fd, t));
	close(fd);
}

/* SUBMIT is a one-segment IO to pinmdl_lower: the same results. */
TEST(submit_is_io)
{
	char *buf = pm_map(3 * PM_PAGE, PROT_READ | PROT_WRITE);
	struct pinmdl_segment s = { .offset = 17, .length = 2 * PM_PAGE };
	struct pinmdl_submit sub;
	struct pinmdl_io io;
	int fd = pm_open(), t;

	ASSERT_LE(0, fd);
	t = pm_target_open(fd, LOWER, -1, NULL);
	ASSERT_LT(0, t);
	memset(buf, 0x11, 3 * PM_PAGE);
	s.handle = pm_create_locked(fd, buf, 3 * PM_PAGE,
				    PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, s.handle);
	ASSERT_EQ(0, pm_io(fd, t, PINMDL_LOWER_CHECKSUM, &s, 1, 0, 0, &io));
	ASSERT_EQ(0, pm_submit(fd, s.handle, PINMDL_LOWER_CHECKSUM, 17,
			       2 * PM_PAGE, 0, 0, &sub));
	EXPECT_EQ(io.result, sub.result);
	EXPECT_EQ(pm_crc32c(buf + 17, 2 * PM_PAGE), io.result);
	close(fd);
	munmap(buf, 3 * PM_PAGE);
}

TEST_HARNESS_MAIN
