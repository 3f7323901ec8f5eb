// SPDX-License-Identifier: GPL-2.0
/*
 * Races, each with a bounded number of rounds: close against ioctls in
 * flight, fork, munmap and mprotect against LOCK, SIGKILL during the LOCK
 * of 768 MiB, and unloading the lower driver while requests are queued.
 * The guest runner fails the run on any splat; each test checks that
 * every pin came back.
 */
#define _GNU_SOURCE
#include <glob.h>
#include <linux/userfaultfd.h>
#include <stddef.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>

#include "kselftest_harness.h"
#include "pinmdl_util.h"

#define ROUNDS	40
#define RACE_TIMEOUT	300	/* seconds per test, for slow guests */

FIXTURE(race)
{
};

FIXTURE_SETUP(race)
{
}

FIXTURE_TEARDOWN(race)
{
}

struct hammer {
	int fd;
	char *buf;
	size_t len;
	volatile int stop;
	unsigned long calls;
};

static void *hammer_thread(void *p)
{
	struct hammer *hm = p;
	struct pinmdl_query q;
	uint32_t h;

	while (!hm->stop) {
		h = 1 + hm->calls % 8;
		pm_lock(hm->fd, h, PINMDL_IO_WRITE_ACCESS);
		pm_query(hm->fd, h, &q, NULL, 0);
		pm_submit(hm->fd, h, PINMDL_LOWER_FILL, 0, PM_PAGE, 1,
			  hm->calls % 2 ? PINMDL_SUBMIT_ASYNC : 0, NULL);
		pm_partial(hm->fd, h, hm->buf, 1, NULL);
		pm_unlock(hm->fd, h);
		if (pm_create(hm->fd, hm->buf, hm->len, &h) == -EBADF)
			break;
		__atomic_add_fetch(&hm->calls, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

TEST_F_TIMEOUT(race, close_races_ioctls, RACE_TIMEOUT)
{
	long pins = pm_pins(), live = pm_stat("descriptors_live");
	int round, i;

	for (round = 0; round < ROUNDS; round++) {
		struct hammer hm = { .len = 16 * PM_PAGE };
		struct timespec ts = { 0, (round % 5 + 1) * 1000 * 1000 };
		pthread_t t[3];

		hm.buf = pm_map(hm.len, PROT_READ | PROT_WRITE);
		hm.fd = pm_open();
		ASSERT_LE(0, hm.fd);
		for (i = 0; i < 3; i++)
			ASSERT_EQ(0, pthread_create(&t[i], NULL, hammer_thread,
						    &hm));
		nanosleep(&ts, NULL);
		close(hm.fd); /* ioctls in flight finish first */
		hm.stop = 1;
		for (i = 0; i < 3; i++)
			pthread_join(t[i], NULL);
		munmap(hm.buf, hm.len);
	}
	EXPECT_EQ(pins, pm_pins());
	EXPECT_EQ(live, pm_stat("descriptors_live"));
}

struct vm_chaos {
	char *buf;
	size_t len;
	volatile int stop;
};

static void *vm_chaos_thread(void *p)
{
	struct vm_chaos *c = p;
	unsigned int n = 0;

	while (!c->stop) {
		switch (n++ % 4) {
		case 0:
			munmap(c->buf + PM_PAGE, 2 * PM_PAGE);
			break;
		case 1:
			mmap(c->buf + PM_PAGE, 2 * PM_PAGE,
			     PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
			break;
		case 2:
			mprotect(c->buf, c->len, PROT_READ);
			break;
		default:
			mprotect(c->buf, c->len, PROT_READ | PROT_WRITE);
			break;
		}
	}
	return NULL;
}

static void *fork_thread(void *p)
{
	struct vm_chaos *c = p;

	while (!c->stop) {
		pid_t pid = fork();

		if (!pid)
			_exit(0);
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
	return NULL;
}

TEST_F_TIMEOUT(race, fork_munmap_mprotect_race_lock, RACE_TIMEOUT)
{
	struct vm_chaos c = { .len = 8 * PM_PAGE };
	long pins = pm_pins();
	pthread_t chaos, forker;
	int fd = pm_open(), i, ret;
	unsigned long ok = 0, refused = 0;
	uint32_t h;

	ASSERT_LE(0, fd);
	c.buf = mmap(NULL, c.len, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, c.buf);
	ASSERT_EQ(0, pm_create(fd, c.buf, c.len, &h));
	ASSERT_EQ(0, pthread_create(&chaos, NULL, vm_chaos_thread, &c));
	ASSERT_EQ(0, pthread_create(&forker, NULL, fork_thread, &c));
	for (i = 0; i < ROUNDS * 50; i++) {
		ret = pm_lock(fd, h, i % 2 ? PINMDL_IO_WRITE_ACCESS :
					     PINMDL_IO_READ_ACCESS);
		if (!ret) {
			ok++;
			EXPECT_EQ(0, pm_unlock(fd, h));
		} else {
			refused++;
			EXPECT_EQ(-EFAULT, ret);
		}
	}
	c.stop = 1;
	pthread_join(chaos, NULL);
	pthread_join(forker, NULL);
	printf("# %lu locks, %lu refused while the mapping changed\n", ok,
	       refused);
	close(fd);
	EXPECT_EQ(pins, pm_pins());
}

/* Under max_pinned_pages of the 2 GiB guest, so that the LOCK does run. */
static int big_lock(void *unused)
{
	size_t len = 768UL << 20;
	char *buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	int fd = pm_open();
	uint32_t h;

	if (fd < 0 || buf == MAP_FAILED || pm_create(fd, buf, len, &h))
		return 1;
	pm_lock(fd, h, PINMDL_IO_WRITE_ACCESS);
	return 2;
}

TEST_F_TIMEOUT(race, sigkill_during_big_lock, RACE_TIMEOUT)
{
	long pins = pm_pins(), eintr = pm_stat("failures_EINTR");
	long enomem = pm_stat("failures_ENOMEM");
	int round, status;

	for (round = 0; round < 3; round++) {
		struct timespec ts = { 0, (round + 1) * 150 * 1000 * 1000 };
		pid_t pid = fork();

		ASSERT_LE(0, pid);
		if (!pid)
			_exit(big_lock(NULL));
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_EQ(pins, pm_pins());
	}
	EXPECT_EQ(0, pm_stat("pages_pinned"));
	/* The LOCKs ran and were killed, not refused. */
	EXPECT_EQ(enomem, pm_stat("failures_ENOMEM"));
	EXPECT_LT(eintr, pm_stat("failures_EINTR"));
}

TEST_F_TIMEOUT(race, unload_lower_with_requests_queued, RACE_TIMEOUT)
{
	size_t len = 32UL << 20;
	char *buf = pm_map(len, PROT_READ | PROT_WRITE);
	struct pinmdl_completion c;
	int fd = pm_open(), i, n = 0, tries, read_back = 0;
	long pins = pm_pins();
	char cmd[512];
	glob_t g;
	uint32_t h;

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, buf);
	if (glob("/mods/*-pinmdl_lower.ko", 0, NULL, &g))
		SKIP(return, "pinmdl_lower.ko is not in /mods");
	h = pm_create_locked(fd, buf, len, PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	for (i = 0; i < 16; i++)
		if (!pm_submit(fd, h, PINMDL_LOWER_FILL, 0, len, i,
			       PINMDL_SUBMIT_ASYNC, NULL))
			n++;
	/* Each request holds the module: unloading waits for them. */
	for (tries = 0; tries < 600; tries++) {
		if (!pm_run("rmmod pinmdl_lower 2>/dev/null"))
			break;
		usleep(50 * 1000);
	}
	EXPECT_LT(tries, 600);
	EXPECT_EQ(-ENODEV, pm_submit(fd, h, PINMDL_LOWER_FILL, 0, 1, 0, 0,
				     NULL));
	while (read_back < n && read(fd, &c, sizeof(c)) == sizeof(c)) {
		EXPECT_EQ(0, c.status);
		read_back++;
	}
	EXPECT_EQ(n, read_back);
	snprintf(cmd, sizeof(cmd), "insmod %s", g.gl_pathv[0]);
	EXPECT_EQ(0, pm_run(cmd));
	globfree(&g);
	close(fd);
	munmap(buf, len);
	EXPECT_EQ(pins, pm_pins());
}

struct limit_race {
	int fd;
	char *buf;
	long limit_pages;
	volatile int stop;
	int over;
};

static void *limit_thread(void *p)
{
	struct limit_race *lr = p;
	uint32_t h[4];
	int i, round;

	for (round = 0; round < ROUNDS * 5; round++) {
		for (i = 0; i < 4; i++)
			h[i] = pm_create_locked(lr->fd, lr->buf, 8 * PM_PAGE,
						PINMDL_IO_WRITE_ACCESS);
		if (pm_stat("pages_pinned") > lr->limit_pages)
			__atomic_add_fetch(&lr->over, 1, __ATOMIC_RELAXED);
		for (i = 0; i < 4; i++) {
			if (!h[i])
				continue;
			pm_unlock(lr->fd, h[i]);
			pm_free(lr->fd, h[i]);
		}
	}
	return NULL;
}

/* max_pinned_pages holds with four threads locking at once. */
TEST_F_TIMEOUT(race, max_pinned_pages_under_concurrency, RACE_TIMEOUT)
{
	unsigned long long old = pm_param("max_pinned_pages");
	struct limit_race lr = { .limit_pages = 40 };
	long pins = pm_pins();
	pthread_t t[4];
	int i;

	lr.fd = pm_open();
	lr.buf = pm_map(8 * PM_PAGE, PROT_READ | PROT_WRITE);
	ASSERT_LE(0, lr.fd);
	ASSERT_NE(NULL, lr.buf);
	ASSERT_EQ(0, pm_stat("pages_pinned"));
	ASSERT_EQ(0, pm_set_param("max_pinned_pages", lr.limit_pages));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, limit_thread, &lr));
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	EXPECT_EQ(0, pm_set_param("max_pinned_pages", old));
	EXPECT_EQ(0, lr.over);
	close(lr.fd);
	EXPECT_EQ(pins, pm_pins());
}

static void *memlock_thread(void *p)
{
	struct limit_race *lr = p;
	uint32_t h;
	int round;

	for (round = 0; round < ROUNDS * 10; round++) {
		h = pm_create_locked(lr->fd, lr->buf, 8 * PM_PAGE,
				     PINMDL_IO_READ_ACCESS);
		if (pm_vmpin_kb() > lr->limit_pages * (long)PM_PAGE / 1024)
			__atomic_add_fetch(&lr->over, 1, __ATOMIC_RELAXED);
		if (h) {
			pm_unlock(lr->fd, h);
			pm_free(lr->fd, h);
		}
	}
	return NULL;
}

static int memlock_race_child(void *unused)
{
	struct limit_race lr = { .limit_pages = 20 };
	struct rlimit rl = { 20 * PM_PAGE, 20 * PM_PAGE };
	pthread_t t[4];
	int i;

	lr.fd = pm_open();
	lr.buf = pm_map(8 * PM_PAGE, PROT_READ | PROT_WRITE);
	if (lr.fd < 0 || !lr.buf || setrlimit(RLIMIT_MEMLOCK, &rl) ||
	    pm_drop_privileges())
		return 1;
	for (i = 0; i < 4; i++)
		if (pthread_create(&t[i], NULL, memlock_thread, &lr))
			return 2;
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	if (lr.over)
		return 3;
	return pm_vmpin_kb() ? 4 : 0;
}

/* RLIMIT_MEMLOCK holds with four threads of one process locking at once. */
TEST_F_TIMEOUT(race, rlimit_memlock_under_concurrency, RACE_TIMEOUT)
{
	long pins = pm_pins();

	EXPECT_EQ(0, pm_in_child(memlock_race_child, NULL));
	EXPECT_EQ(pins, pm_pins());
}

struct remapper {
	char *region;
	size_t len;
	int file;
	volatile int stop;
	unsigned long swaps;
};

/* Swap the region between a shared ext2 mapping and anonymous memory. */
static void *remap_thread(void *p)
{
	struct remapper *rm = p;

	while (!rm->stop) {
		mmap(rm->region, rm->len, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_FIXED, rm->file, 0);
		mmap(rm->region, rm->len, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		rm->swaps++;
	}
	return NULL;
}

/*
 * A write lock never holds pages of a file system that tracks dirty pages,
 * even when another thread replaces the mapping with anonymous memory
 * right after the pin (6.1 pins them in GUP-fast and leaves the check to
 * pinmdl): the locked PFNs are never the file's.
 */
TEST_F_TIMEOUT(race, write_lock_never_keeps_file_pages, RACE_TIMEOUT)
{
	struct remapper rm = { .len = 16 * PM_PAGE };
	uint64_t file_pfns[16], pfns[16];
	unsigned long ok = 0, refused = 0;
	long pins = pm_pins();
	struct pinmdl_query q;
	int fd = pm_open(), i, j, k, ret;
	char *stable;
	pthread_t t;
	uint32_t h;

	ASSERT_LE(0, fd);
	if (pm_mount_ext2())
		SKIP(return, "no ext2 on a loop device in this kernel");
	rm.file = open("/mnt/pm/data", O_CREAT | O_RDWR, 0600);
	ASSERT_LE(0, rm.file);
	ASSERT_EQ(0, ftruncate(rm.file, rm.len));
	/* The file's pages stay in the page cache while mapped here. */
	stable = mmap(NULL, rm.len, PROT_READ | PROT_WRITE, MAP_SHARED,
		      rm.file, 0);
	ASSERT_NE(MAP_FAILED, stable);
	memset(stable, 1, rm.len);
	for (i = 0; i < 16; i++) {
		file_pfns[i] = pm_pagemap_pfn(stable + i * PM_PAGE);
		ASSERT_NE(0, file_pfns[i]);
	}
	rm.region = pm_map(rm.len, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, rm.region);
	ASSERT_EQ(0, pthread_create(&t, NULL, remap_thread, &rm));

	for (i = 0; i < ROUNDS * 50; i++) {
		ASSERT_EQ(0, pm_create(fd, rm.region, rm.len, &h));
		ret = pm_lock(fd, h, PINMDL_IO_WRITE_ACCESS);
		if (ret) {
			EXPECT_TRUE(ret == -EFAULT) TH_LOG("LOCK: %d", ret);
			refused++;
		} else {
			ok++;
			ASSERT_EQ(0, pm_query(fd, h, &q, pfns, 16));
			for (j = 0; j < 16; j++)
				for (k = 0; k < 16; k++)
					EXPECT_NE(file_pfns[k], pfns[j]);
			EXPECT_EQ(0, pm_unlock(fd, h));
		}
		EXPECT_EQ(0, pm_free(fd, h));
	}
	rm.stop = 1;
	pthread_join(t, NULL);
	printf("# %lu write locks of anonymous memory, %lu refused, %lu swaps\n",
	       ok, refused, rm.swaps);
	munmap(stable, rm.len);
	munmap(rm.region, rm.len);
	close(rm.file);
	close(fd);
	EXPECT_EQ(0, pm_umount_ext2());
	EXPECT_EQ(pins, pm_pins());
}

struct publish {
	int fd;
	struct pinmdl_create *c;
	int ret;
};

static void *publish_thread(void *p)
{
	struct publish *pb = p;

	pb->ret = pm_ioctl(pb->fd, PINMDL_IOC_CREATE, pb->c);
	return NULL;
}

/*
 * A CREATE whose handle cannot be copied out never publishes it: no other
 * thread can find it, free it and see its number reused, so the failed
 * call never frees another thread's new descriptor. The copy-out is held
 * on a write-protected userfaultfd page while this thread frees and
 * creates, then fails for good once the page is unmapped.
 */
TEST_F_TIMEOUT(race, unreturned_handle_never_frees_another, RACE_TIMEOUT)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_WP };
	struct uffdio_writeprotect wp = { .mode = UFFDIO_WRITEPROTECT_MODE_WP };
	char *pages = pm_map(2 * PM_PAGE, PROT_READ | PROT_WRITE);
	char *buf = pm_map(PM_PAGE, PROT_READ | PROT_WRITE);
	struct publish pb = { .fd = pm_open() };
	long live = pm_stat("descriptors_live");
	struct uffdio_range wake;
	struct uffd_msg msg;
	struct pinmdl_query q;
	uint32_t mine, h;
	pthread_t t;
	int uffd;

	ASSERT_LE(0, pb.fd);
	ASSERT_NE(NULL, pages);
	ASSERT_NE(NULL, buf);
	memset(pages, 0, 2 * PM_PAGE);
	uffd = syscall(__NR_userfaultfd, O_CLOEXEC);
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api))
		SKIP(return, "no userfaultfd: %s", strerror(errno));
	reg.range.start = (uintptr_t)pages + PM_PAGE;
	reg.range.len = PM_PAGE;
	wp.range = reg.range;
	wake = reg.range;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg) ||
	    ioctl(uffd, UFFDIO_WRITEPROTECT, &wp))
		SKIP(return, "no userfaultfd write protection: %s",
		     strerror(errno));

	/* The arguments end on the first page, the handle on the second. */
	pb.c = (struct pinmdl_create *)(pages + PM_PAGE -
					offsetof(struct pinmdl_create, handle));
	pb.c->addr = (uintptr_t)buf;
	pb.c->length = PM_PAGE;
	ASSERT_EQ(0, pthread_create(&t, NULL, publish_thread, &pb));
	ASSERT_EQ(sizeof(msg), read(uffd, &msg, sizeof(msg)));
	ASSERT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);

	/* The CREATE waits to write its handle: free whatever is there. */
	for (h = 1; h <= 4; h++)
		pm_free(pb.fd, h);
	ASSERT_EQ(0, pm_create(pb.fd, buf, PM_PAGE, &mine));
	ASSERT_EQ(0, munmap(pages + PM_PAGE, PM_PAGE));
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_WAKE, &wake));
	pthread_join(t, NULL);
	EXPECT_EQ(-EFAULT, pb.ret);
	EXPECT_EQ(0, pm_query(pb.fd, mine, &q, NULL, 0));
	EXPECT_EQ(live + 1, pm_stat("descriptors_live"));
	close(pb.fd);
	close(uffd);
	EXPECT_EQ(live, pm_stat("descriptors_live"));
	munmap(pages, PM_PAGE);
	munmap(buf, PM_PAGE);
}

TEST_HARNESS_MAIN
