// SPDX-License-Identifier: GPL-2.0
/*
 * Huge locks: ranges of PINMDL_HUGE_MIB MiB (default 4096, in a guest of
 * 8 GiB and 2 vCPUs) pinned by the locker and kernel workers at once.
 * Never-touched and pre-touched anonymous memory, THP and hugetlb give the
 * PFNs the page tables map; a SIGKILL in the middle of a parallel lock, a
 * hole or a PROT_NONE page in the last piece leave nothing pinned; ranges
 * locked and unlocked again and again, released at close and at exit,
 * never hold a CPU long enough for the soft-lockup or hung-task detector
 * (the guest runs with softlockup_panic=1 and hung_task_panic=1); and no
 * worker ever waits on a userfaultfd; past 8 GiB, in a guest of 16 GiB,
 * one descriptor or four lock 12 GiB. Each test checks that every pin
 * came back.
 */
#define _GNU_SOURCE
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>

#include "kselftest_harness.h"
#include "pinmdl_util.h"

/* The 8 MiB pieces of a parallel lock. */
#define PIECE		(8UL << 20)

FIXTURE(huge)
{
	int fd;
	long pins;
	size_t len;
	unsigned long long max_pinned;
	unsigned long long workers;
	struct pm_mem m;
};

/* The range of a huge lock, in bytes: whole 2 MiB pages. */
static size_t huge_len(void)
{
	const char *mib = getenv("PINMDL_HUGE_MIB");
	size_t n = mib ? strtoul(mib, NULL, 0) : 4096;

	return (n ? n : 4096) << 20;
}

FIXTURE_SETUP(huge)
{
	self->m.raw = NULL;
	self->m.backing = -1;
	self->len = huge_len();
	self->fd = pm_open();
	ASSERT_LE(0, self->fd);
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "one CPU: every lock is pinned by the locker");
	self->max_pinned = pm_param("max_pinned_pages");
	self->workers = pm_param("lock_workers");
	ASSERT_EQ(0, pm_set_param("max_pinned_pages", self->len / PM_PAGE));
	ASSERT_EQ(0, pm_set_param("lock_workers", 0));
	ASSERT_GE(self->len / PM_PAGE, pm_param("parallel_lock_pages"));
	self->pins = pm_pins();
}

FIXTURE_TEARDOWN(huge)
{
	pm_mem_unmap(&self->m);
	close(self->fd);
	EXPECT_EQ(self->pins, pm_pins());
	EXPECT_EQ(0, pm_stat("pages_pinned"));
	if (self->max_pinned)
		pm_set_param("max_pinned_pages", self->max_pinned);
	pm_set_param("lock_workers", self->workers);
}

/* Whether the PFNs of the locked @h are those @buf's page tables map. */
static int pfns_match(int fd, uint32_t h, const char *buf, size_t len)
{
	size_t pages = len / PM_PAGE, i;
	uint64_t *pfns = malloc(pages * 8), *map = malloc(pages * 8);
	struct pinmdl_query q;
	int ok = 0;

	if (!pfns || !map || pm_query(fd, h, &q, pfns, pages) ||
	    q.page_count != pages || pm_pagemap_pfns(buf, pages, map))
		goto out;
	for (i = 0; i < pages; i++) {
		if (!map[i] || pfns[i] != map[i]) {
			fprintf(stderr, "# page %zu: PFN %#llx, mapped %#llx\n",
				i, (unsigned long long)pfns[i],
				(unsigned long long)map[i]);
			goto out;
		}
	}
	ok = 1;
out:
	free(pfns);
	free(map);
	return ok;
}

/*
 * Lock @len bytes at @buf for write, check the PFNs, unlock and free;
 * with @shared, check that workers pinned part of it.
 */
static void lock_check_unlock(struct __test_metadata *_metadata, int fd,
			      char *buf, size_t len, bool shared)
{
	long by_workers = pm_stat("pages_pinned_by_workers");
	uint32_t h = pm_create_locked(fd, buf, len, PINMDL_IO_WRITE_ACCESS);

	ASSERT_NE(0, h);
	if (shared)
		EXPECT_LT(by_workers, pm_stat("pages_pinned_by_workers"));
	EXPECT_EQ(len / PM_PAGE, pm_stat("pages_pinned"));
	EXPECT_TRUE(pfns_match(fd, h, buf, len));
	/* What the pins hold is what the process sees. */
	buf[0] = 1;
	buf[len - 1] = 2;
	EXPECT_EQ(0, pm_unlock(fd, h));
	EXPECT_EQ(0, pm_free(fd, h));
}

static void touch(char *buf, size_t len)
{
	size_t off;

	for (off = 0; off < len; off += PM_PAGE)
		buf[off] = (char)(off >> 12);
}

TEST_F_TIMEOUT(huge, untouched_anon, 600)
{
	ASSERT_EQ(0, pm_mem_map(&self->m, PM_ANON, self->len,
				PROT_READ | PROT_WRITE, 0));
	lock_check_unlock(_metadata, self->fd, self->m.buf, self->len,
			  true);
}

TEST_F_TIMEOUT(huge, touched_anon, 600)
{
	ASSERT_EQ(0, pm_mem_map(&self->m, PM_ANON, self->len,
				PROT_READ | PROT_WRITE, 0));
	touch(self->m.buf, self->len);
	lock_check_unlock(_metadata, self->fd, self->m.buf, self->len,
			  true);
}

TEST_F_TIMEOUT(huge, untouched_thp, 600)
{
	int ret = pm_mem_map(&self->m, PM_THP, self->len,
			     PROT_READ | PROT_WRITE, 0);

	ASSERT_LE(0, ret);
	if (ret)
		SKIP(return, "no THP: %s", strerror(errno));
	lock_check_unlock(_metadata, self->fd, self->m.buf, self->len,
			  true);
}

/*
 * Past the 7.5 GiB the module once held at most: PINMDL_BIG_GIB GiB
 * (default 12, in a guest of 16 GiB) of THP locked as one descriptor, then
 * as four, with max_pinned_pages and max_descriptor_bytes raised to it.
 */
TEST_F_TIMEOUT(huge, past_eight_gib, 1800)
{
	const char *gib = getenv("PINMDL_BIG_GIB");
	size_t len = (gib ? strtoul(gib, NULL, 0) : 12) << 30, quarter;
	unsigned long long max_bytes = pm_param("max_descriptor_bytes");
	uint32_t h[4];
	int ret, i;

	if (!len || pm_ram_bytes() < len + (1536UL << 20))
		SKIP(return, "%llu MiB of RAM: not enough to lock %zu MiB",
		     pm_ram_bytes() >> 20, len >> 20);
	ASSERT_EQ(0, pm_set_param("max_pinned_pages", len / PM_PAGE));
	ASSERT_EQ(0, pm_set_param("max_descriptor_bytes", len));
	ret = pm_mem_map(&self->m, PM_THP, len, PROT_READ | PROT_WRITE, 0);
	ASSERT_EQ(0, ret);
	h[0] = pm_create_locked(self->fd, self->m.buf, len,
				PINMDL_IO_WRITE_ACCESS);
	EXPECT_NE(0, h[0]);
	EXPECT_EQ(len / PM_PAGE, pm_stat("pages_pinned"));
	EXPECT_EQ(0, pm_unlock(self->fd, h[0]));
	EXPECT_EQ(0, pm_free(self->fd, h[0]));
	quarter = len / 4;
	for (i = 0; i < 4; i++) {
		h[i] = pm_create_locked(self->fd, self->m.buf + i * quarter,
					quarter, PINMDL_IO_WRITE_ACCESS);
		EXPECT_NE(0, h[i]);
	}
	EXPECT_EQ(len / PM_PAGE, pm_stat("pages_pinned"));
	for (i = 0; i < 4; i++)
		EXPECT_EQ(0, pm_unlock(self->fd, h[i]));
	EXPECT_EQ(0, pm_set_param("max_descriptor_bytes", max_bytes));
}

/*
 * 256 MiB of memfd, mapped shared and faulted in: workers pin the pages
 * already mapped and fault in none (shmem).
 */
TEST_F_TIMEOUT(huge, touched_memfd, 600)
{
	size_t len = 256UL << 20;

	ASSERT_GE(len / PM_PAGE, pm_param("parallel_lock_pages"));
	ASSERT_EQ(0, pm_mem_map(&self->m, PM_MEMFD, len,
				PROT_READ | PROT_WRITE, 1));
	touch(self->m.buf, len);
	lock_check_unlock(_metadata, self->fd, self->m.buf, len, true);
}

static long nr_hugepages(void)
{
	FILE *f = fopen("/proc/sys/vm/nr_hugepages", "r");
	long n = 0;

	if (f && fscanf(f, "%ld", &n) != 1)
		n = 0;
	if (f)
		fclose(f);
	return n;
}

/* hugetlb pages reserved for the test, at most half of the range. */
TEST_F_TIMEOUT(huge, hugetlb, 600)
{
	long old = nr_hugepages();
	size_t len = self->len / 2;
	char cmd[96];
	int ret;

	snprintf(cmd, sizeof(cmd), "echo %zu >/proc/sys/vm/nr_hugepages",
		 len / PM_HPAGE);
	ASSERT_EQ(0, pm_run(cmd));
	ret = pm_mem_map(&self->m, PM_HUGETLB, len, PROT_READ | PROT_WRITE,
			 0);
	/* Workers leave hugetlb to the locker. */
	if (!ret)
		lock_check_unlock(_metadata, self->fd, self->m.buf, len, false);
	pm_mem_unmap(&self->m);
	snprintf(cmd, sizeof(cmd), "echo %ld >/proc/sys/vm/nr_hugepages",
		 old);
	pm_run(cmd);
	ASSERT_LE(0, ret);
	if (ret)
		SKIP(return, "%zu hugetlb pages not to be had", len / PM_HPAGE);
}

/* A fault in the last piece: every piece before it comes back. */
TEST_F_TIMEOUT(huge, fault_in_last_piece, 600)
{
	char *last;
	uint32_t h;

	ASSERT_EQ(0, pm_mem_map(&self->m, PM_ANON, self->len,
				PROT_READ | PROT_WRITE, 0));
	last = self->m.buf + self->len - PM_PAGE;
	ASSERT_EQ(0, pm_create(self->fd, self->m.buf, self->len, &h));
	ASSERT_EQ(0, mprotect(last, PM_PAGE, PROT_NONE));
	EXPECT_EQ(-EFAULT, pm_lock(self->fd, h, PINMDL_IO_WRITE_ACCESS));
	EXPECT_EQ(self->pins, pm_pins());
	EXPECT_EQ(0, pm_stat("pages_pinned"));
	ASSERT_EQ(0, munmap(last, PM_PAGE));
	EXPECT_EQ(-EFAULT, pm_lock(self->fd, h, PINMDL_IO_WRITE_ACCESS));
	EXPECT_EQ(self->pins, pm_pins());
	/* Nothing half changed: the same range locks once mapped again. */
	ASSERT_EQ(last, mmap(last, PM_PAGE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	EXPECT_EQ(0, pm_lock(self->fd, h, PINMDL_IO_WRITE_ACCESS));
	EXPECT_EQ(0, pm_unlock(self->fd, h));
	EXPECT_EQ(0, pm_free(self->fd, h));
}

/*
 * SIGKILL while the locker and its workers fault in a never-touched
 * range: the process dies promptly and nothing stays pinned.
 */
TEST_F_TIMEOUT(huge, sigkill_during_parallel_lock, 600)
{
	struct timespec t0, pause = { 0, 10 * 1000 * 1000 };
	int ready[2], status;
	char c = 0;
	pid_t pid;
	uint32_t h;

	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pm_mem_map(&self->m, PM_ANON, self->len,
				PROT_READ | PROT_WRITE, 0));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (pm_create(self->fd, self->m.buf, self->len, &h) ||
		    write(ready[1], &c, 1) != 1)
			_exit(1);
		pm_lock(self->fd, h, PINMDL_IO_WRITE_ACCESS);
		/* Finished before the kill: the test could not kill it. */
		_exit(2);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));
	/* Until the workers are at it: two pieces pinned, say. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (pm_pins() < self->pins + 2 * (long)(PIECE / PM_PAGE) &&
	       pm_ms_since(&t0) < 60000 && !waitpid(pid, &status, WNOHANG))
		nanosleep(&pause, NULL);
	if (waitpid(pid, &status, WNOHANG)) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		SKIP(return, "the lock ended before it could be killed");
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	/* A worker stops at its next chunk; the lock would take longer. */
	EXPECT_GT(10000, pm_ms_since(&t0));
	EXPECT_EQ(self->pins, pm_pins());
	EXPECT_EQ(0, pm_stat("pages_pinned"));
	close(ready[0]);
	close(ready[1]);
}

/* In a child: lock two halves of a fresh range and exit with them. */
static int lock_and_exit(void *arg)
{
	size_t len = *(size_t *)arg;
	char *buf = pm_map(len, PROT_READ | PROT_WRITE);
	int fd = pm_open();

	if (!buf || fd < 0 ||
	    !pm_create_locked(fd, buf, len / 2, PINMDL_IO_WRITE_ACCESS) ||
	    !pm_create_locked(fd, buf + len / 2, len / 2,
			      PINMDL_IO_WRITE_ACCESS) ||
	    pm_stat("pages_pinned") != (long)(len / PM_PAGE))
		return 1;
	return 0;
}

/*
 * Twice the range locked and unlocked, then two halves left locked to the
 * release at close, and two more to the release at a process's exit.
 */
TEST_F_TIMEOUT(huge, lock_unlock_repeatedly_and_release, 900)
{
	size_t half = self->len / 2;
	char *buf;
	int i, fd;

	ASSERT_EQ(0, pm_mem_map(&self->m, PM_ANON, self->len,
				PROT_READ | PROT_WRITE, 0));
	buf = self->m.buf;
	touch(buf, self->len);
	for (i = 0; i < 2; i++)
		lock_check_unlock(_metadata, self->fd, buf, self->len, true);

	fd = pm_open();
	ASSERT_LE(0, fd);
	ASSERT_NE(0, pm_create_locked(fd, buf, half, PINMDL_IO_WRITE_ACCESS));
	ASSERT_NE(0, pm_create_locked(fd, buf + half, half,
				      PINMDL_IO_READ_ACCESS));
	EXPECT_EQ(self->len / PM_PAGE, pm_stat("pages_pinned"));
	close(fd);
	EXPECT_EQ(self->pins, pm_pins());

	/* The child faults in a range of its own: no copy of this one. */
	pm_mem_unmap(&self->m);
	EXPECT_EQ(0, pm_in_child(lock_and_exit, &self->len));
	EXPECT_EQ(self->pins, pm_pins());
}

#define UFFD_LEN	(16 * PIECE)

/* A userfaultfd on the first page of each piece, and who faulted there. */
struct uffd_watch {
	int uffd;
	char *buf;
	pid_t locker;
	int faults;
	int foreign;
	int done;
};

/* Serve every fault with a zero page, counting those not the locker's. */
static void *uffd_serve(void *arg)
{
	struct uffd_watch *w = arg;
	struct uffd_msg msg;
	struct uffdio_zeropage zp = { .range.len = PM_PAGE };
	struct pollfd p = { .fd = w->uffd, .events = POLLIN };

	while (!__atomic_load_n(&w->done, __ATOMIC_ACQUIRE)) {
		if (poll(&p, 1, 100) <= 0)
			continue;
		if (read(w->uffd, &msg, sizeof(msg)) != sizeof(msg) ||
		    msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		w->faults++;
		if ((pid_t)msg.arg.pagefault.feat.ptid != w->locker)
			w->foreign++;
		zp.range.start = msg.arg.pagefault.address & ~(PM_PAGE - 1);
		ioctl(w->uffd, UFFDIO_ZEROPAGE, &zp);
	}
	return NULL;
}

/*
 * A range of 16 pieces with a missing page under a userfaultfd in the
 * middle of each:
 * the workers leave those pages to the locker, which alone faults them
 * and waits for the handler, on every kernel (it faults in with no GUP
 * pin in flight, one that may drop the mmap_lock); the lock succeeds.
 */
TEST_F_TIMEOUT(huge, userfaultfd_faults_only_in_the_locker, 600)
{
	struct uffdio_api api = { .api = UFFD_API,
				  .features = UFFD_FEATURE_THREAD_ID };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING,
				       .range.len = PM_PAGE };
	struct uffd_watch w = { .locker = gettid() };
	pthread_t server;
	unsigned long i;
	long by_workers;
	uint32_t h;
	int ret;

	ASSERT_GE(UFFD_LEN / PM_PAGE, pm_param("parallel_lock_pages"));
	w.uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (w.uffd < 0)
		SKIP(return, "no userfaultfd: %s", strerror(errno));
	ASSERT_EQ(0, ioctl(w.uffd, UFFDIO_API, &api));
	/* Piece-aligned, so that each piece has one watched page. */
	ASSERT_EQ(0, pm_mem_map(&self->m, PM_THP, UFFD_LEN + PIECE,
				PROT_READ | PROT_WRITE, 0));
	ASSERT_EQ(0, madvise(self->m.buf, UFFD_LEN + PIECE,
			     MADV_NOHUGEPAGE));
	w.buf = (char *)(((uintptr_t)self->m.buf + PIECE - 1) & ~(PIECE - 1));
	for (i = 0; i < UFFD_LEN; i += PIECE) {
		reg.range.start = (uintptr_t)w.buf + i + PIECE / 2;
		ASSERT_EQ(0, ioctl(w.uffd, UFFDIO_REGISTER, &reg));
	}
	ASSERT_EQ(0, pthread_create(&server, NULL, uffd_serve, &w));
	ASSERT_EQ(0, pm_create(self->fd, w.buf, UFFD_LEN, &h));
	by_workers = pm_stat("pages_pinned_by_workers");
	ret = pm_lock(self->fd, h, PINMDL_IO_WRITE_ACCESS);
	__atomic_store_n(&w.done, 1, __ATOMIC_RELEASE);
	pthread_join(server, NULL);
	close(w.uffd);
	EXPECT_EQ(0, w.foreign);
	ASSERT_EQ(0, ret);
	EXPECT_TRUE(pfns_match(self->fd, h, w.buf, UFFD_LEN));
	EXPECT_EQ(UFFD_LEN / PIECE, w.faults);
	/* The workers faulted in the rest of the pieces. */
	EXPECT_LT(by_workers, pm_stat("pages_pinned_by_workers"));
	EXPECT_EQ(0, pm_unlock(self->fd, h));
	EXPECT_EQ(0, pm_free(self->fd, h));
}

TEST_HARNESS_MAIN
