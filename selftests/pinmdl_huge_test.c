// SPDX-License-Identifier: GPL-2.0
/*
 * Huge locks: ranges of PINMDL_HUGE_MIB MiB (default 4096, in a guest of
 * 8 GiB and 2 vCPUs) pinned by the locker and its workers at once.
 * Never-touched and pre-touched anonymous memory, THP and hugetlb give the
 * PFNs the page tables map; a SIGKILL in the middle of a parallel lock, a
 * hole or a PROT_NONE page in the last piece leave nothing pinned; ranges
 * locked and unlocked again and again, released at close and at exit,
 * never hold a CPU long enough for the soft-lockup or hung-task detector
 * (the guest runs with softlockup_panic=1 and hung_task_panic=1); past
 * 8 GiB, in a guest of 16 GiB, one descriptor or four lock 12 GiB. The
 * workers are threads of the locker's process (6.1 has none): they wait
 * on a userfaultfd as the locker would, and keep to its cgroup (cpu.max,
 * memory.high and a SIGKILL within 100 ms, memory.max with a bystander
 * that survives the OOM killer) and its protection keys. Each test checks
 * that every pin came back.
 */
#define _GNU_SOURCE
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#include "kselftest_harness.h"
#include "pinmdl_util.h"

/* The 8 MiB pieces of a parallel lock. */
#define PIECE		(8UL << 20)

/* The cgroups of the tests, and the range they lock. */
#define CG_ROOT		"/sys/fs/cgroup"
#define CG_CPU		CG_ROOT "/pmhuge_cpu"
#define CG_MEM		CG_ROOT "/pmhuge_mem"
#define CG_FRZ		CG_ROOT "/pmhuge_frz"
#define CG_LEN		(128UL << 20)

/*
 * The workers of a parallel lock are threads of the locker's process: its
 * cgroup's limits and its protection keys hold for them as for it.
 */

/*
 * A cgroup v2 group @dir under the root, with @ctrl enabled for it (none
 * if NULL); 0 or -1.
 */
static int cg_make(const char *dir, const char *ctrl)
{
	char cmd[256];

	if (access(CG_ROOT "/cgroup.controllers", F_OK) &&
	    pm_run("mount -t cgroup2 none " CG_ROOT))
		return -1;
	if (!ctrl)
		return mkdir(dir, 0755) && errno != EEXIST ? -1 : 0;
	snprintf(cmd, sizeof(cmd),
		 "grep -qw %s " CG_ROOT "/cgroup.controllers && "
		 "echo +%s > " CG_ROOT "/cgroup.subtree_control && mkdir -p %s",
		 ctrl, ctrl, dir);
	return pm_run(cmd) ? -1 : 0;
}

static int cg_write(const char *dir, const char *file, const char *val)
{
	char path[128];
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "w");
	if (!f)
		return -1;
	ret = fputs(val, f) < 0;
	return fclose(f) || ret ? -1 : 0;
}

/* Move the calling process into @dir; 0 or -1. */
static int cg_enter(const char *dir)
{
	char pid[32];

	snprintf(pid, sizeof(pid), "%d\n", getpid());
	return cg_write(dir, "cgroup.procs", pid);
}

/* The value of @key in the flat-keyed @file of @dir, or -1. */
static long long cg_key(const char *dir, const char *file, const char *key)
{
	char path[128], k[64];
	long long v, found = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fscanf(f, "%63s %lld", k, &v) == 2)
		if (!strcmp(k, key))
			found = v;
	fclose(f);
	return found;
}

/* CPU time the machine has spent busy, every CPU together, in ms. */
static long long busy_ms(void)
{
	unsigned long long t[8] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	long long sum = -1;

	if (f && fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu",
			&t[0], &t[1], &t[2], &t[3], &t[4], &t[5], &t[6],
			&t[7]) == 8)
		/* user nice system [idle iowait] irq softirq steal */
		sum = (t[0] + t[1] + t[2] + t[5] + t[6] + t[7]) * 1000 /
		      sysconf(_SC_CLK_TCK);
	if (f)
		fclose(f);
	return sum;
}


FIXTURE(huge)
{
	int fd;
	long pins;
	size_t len;
	unsigned long long max_pinned;
	unsigned long long workers;
	bool parallel;
	pid_t kids[2];
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
	/* Workers are vhost tasks: 6.1 has none, and pins every lock alone. */
	self->parallel = !pm_run("grep -qw vhost_task_create /proc/kallsyms");
}

/*
 * Every child gone, every cgroup removed, and every worker reaped: the
 * threads of the children's locks end soon after them, whatever their
 * job control did.
 */
FIXTURE_TEARDOWN(huge)
{
	struct timespec t0, pause = { 0, 10 * 1000 * 1000 };
	int i;

	for (i = 0; i < 2; i++) {
		if (self->kids[i] <= 0)
			continue;
		kill(self->kids[i], SIGKILL);
		waitpid(self->kids[i], NULL, 0);
	}
	cg_write(CG_FRZ, "cgroup.freeze", "0");
	rmdir(CG_CPU);
	rmdir(CG_MEM);
	rmdir(CG_FRZ);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (pm_stat("lock_workers_live") > 0 && pm_ms_since(&t0) < 20000)
		nanosleep(&pause, NULL);
	EXPECT_EQ(0, pm_stat("lock_workers_live"));
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

/*
 * Until the workers are at it (two pieces pinned past @base), for at most
 * a minute; with @pid, also until that child has exited. True if it has.
 */
static bool wait_two_pieces(long base, pid_t pid, int *status)
{
	struct timespec t0, pause = { 0, 10 * 1000 * 1000 };

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (pm_pins() < base + 2 * (long)(PIECE / PM_PAGE) &&
	       pm_ms_since(&t0) < 60000) {
		if (pid > 0 && waitpid(pid, status, WNOHANG))
			return true;
		nanosleep(&pause, NULL);
	}
	return pid > 0 && waitpid(pid, status, WNOHANG);
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
			  self->parallel);
}

TEST_F_TIMEOUT(huge, touched_anon, 600)
{
	ASSERT_EQ(0, pm_mem_map(&self->m, PM_ANON, self->len,
				PROT_READ | PROT_WRITE, 0));
	touch(self->m.buf, self->len);
	lock_check_unlock(_metadata, self->fd, self->m.buf, self->len,
			  self->parallel);
}

TEST_F_TIMEOUT(huge, untouched_thp, 600)
{
	int ret = pm_mem_map(&self->m, PM_THP, self->len,
			     PROT_READ | PROT_WRITE, 0);

	ASSERT_LE(0, ret);
	if (ret)
		SKIP(return, "no THP: %s", strerror(errno));
	lock_check_unlock(_metadata, self->fd, self->m.buf, self->len,
			  self->parallel);
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
	lock_check_unlock(_metadata, self->fd, self->m.buf, len,
			  self->parallel);
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
	struct timespec t0;
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
	if (wait_two_pieces(self->pins, pid, &status))
		SKIP(return, "the lock ended before it could be killed");
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

/*
 * SIGSTOP in the middle of a parallel lock: the workers stop when their
 * part is done, the locker when the lock returns, and the process stops
 * as a whole, never held up by a thread waiting for another; SIGCONT lets
 * it go on with the range locked.
 */
TEST_F_TIMEOUT(huge, sigstop_during_parallel_lock, 600)
{
	struct timespec t0, pause = { 0, 10 * 1000 * 1000 };
	int ready[2], status = 0;
	pid_t pid, got;
	char c = 0;

	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pm_mem_map(&self->m, PM_ANON, self->len,
				PROT_READ | PROT_WRITE, 0));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fd = pm_open();

		if (fd < 0 || write(ready[1], &c, 1) != 1)
			_exit(1);
		_exit(pm_create_locked(fd, self->m.buf, self->len,
				       PINMDL_IO_WRITE_ACCESS) ? 0 : 2);
	}
	self->kids[0] = pid;
	close(ready[1]);
	ASSERT_EQ(1, read(ready[0], &c, 1));
	wait_two_pieces(self->pins, 0, NULL);
	ASSERT_EQ(0, kill(pid, SIGSTOP));
	/* The lock goes on to its end, then the whole process stops. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!(got = waitpid(pid, &status, WNOHANG | WUNTRACED)) &&
	       pm_ms_since(&t0) < 90000)
		nanosleep(&pause, NULL);
	EXPECT_EQ(pid, got);
	EXPECT_TRUE(got != pid || WIFSTOPPED(status));
	ASSERT_EQ(0, kill(pid, SIGCONT));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	self->kids[0] = 0;
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(self->pins, pm_pins());
	EXPECT_EQ(0, pm_stat("pages_pinned"));
	close(ready[0]);
}

/*
 * SIGKILL while the cgroup is frozen, after a parallel lock: the workers,
 * killed frozen, are reaped all the same (the teardown waits for them).
 */
TEST_F_TIMEOUT(huge, sigkill_while_frozen, 600)
{
	struct timespec t0, pause = { 0, 10 * 1000 * 1000 };
	long locks = pm_stat("parallel_locks");
	int ready[2], status;
	char c = 0;
	pid_t pid;

	if (!self->parallel)
		SKIP(return, "a kernel without vhost tasks has no workers");
	if (cg_make(CG_FRZ, NULL) || access(CG_FRZ "/cgroup.freeze", F_OK))
		SKIP(return, "no cgroup2 freezer");
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pm_mem_map(&self->m, PM_ANON, self->len,
				PROT_READ | PROT_WRITE, 0));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fd = pm_open();

		if (fd < 0 || cg_enter(CG_FRZ) || write(ready[1], &c, 1) != 1 ||
		    !pm_create_locked(fd, self->m.buf, self->len,
				      PINMDL_IO_WRITE_ACCESS))
			_exit(1);
		for (;;)
			sleep(1000);
	}
	self->kids[0] = pid;
	close(ready[1]);
	ASSERT_EQ(1, read(ready[0], &c, 1));
	wait_two_pieces(self->pins, 0, NULL);
	/* Frozen once the lock is done: the workers at their next look. */
	ASSERT_EQ(0, cg_write(CG_FRZ, "cgroup.freeze", "1"));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (cg_key(CG_FRZ, "cgroup.events", "frozen") != 1 &&
	       pm_ms_since(&t0) < 120000)
		nanosleep(&pause, NULL);
	EXPECT_EQ(1, cg_key(CG_FRZ, "cgroup.events", "frozen"));
	EXPECT_EQ(locks + 1, pm_stat("parallel_locks"));
	/* Frozen before they could be reaped: the reaper waits for them. */
	EXPECT_LT(0, pm_stat("lock_workers_live"));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	self->kids[0] = 0;
	EXPECT_TRUE(WIFSIGNALED(status));
	/* Reaped though still frozen: killed, they are held no more. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (pm_stat("lock_workers_live") > 0 && pm_ms_since(&t0) < 20000)
		nanosleep(&pause, NULL);
	EXPECT_EQ(0, pm_stat("lock_workers_live"));
	EXPECT_EQ(0, cg_write(CG_FRZ, "cgroup.freeze", "0"));
	EXPECT_EQ(self->pins, pm_pins());
	close(ready[0]);
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
		lock_check_unlock(_metadata, self->fd, buf, self->len,
				  self->parallel);

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

/* Whether @tid is @locker or one of its workers, while it waits. */
static bool lockers_thread(pid_t locker, pid_t tid)
{
	char path[64], comm[32] = "";
	FILE *f;

	if (tid == locker)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", getpid(), tid);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = 0;
	fclose(f);
	return !strcmp(comm, "pinmdl-lock\n");
}

/*
 * Serve every fault with a zero page, counting those of threads not the
 * locker's process's.
 */
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
		if (!lockers_thread(w->locker,
				    (pid_t)msg.arg.pagefault.feat.ptid))
			w->foreign++;
		zp.range.start = msg.arg.pagefault.address & ~(PM_PAGE - 1);
		ioctl(w->uffd, UFFDIO_ZEROPAGE, &zp);
	}
	return NULL;
}

/*
 * A range of 16 pieces with a missing page under a userfaultfd in the
 * middle of each: the locker, or the worker that takes the piece, a
 * thread of the locker's process, faults it and waits for the handler, on
 * every kernel (with no GUP pin in flight, one that may drop the
 * mmap_lock); the lock succeeds.
 */
TEST_F_TIMEOUT(huge, userfaultfd_faults_in_the_lockers_threads, 600)
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
	/* The workers pinned pieces. */
	if (self->parallel)
		EXPECT_LT(by_workers, pm_stat("pages_pinned_by_workers"));
	EXPECT_EQ(0, pm_unlock(self->fd, h));
	EXPECT_EQ(0, pm_free(self->fd, h));
}

/* Spin in user space until the calling thread has used @ms of CPU more. */
static void spin_cpu_ms(long ms)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
	do
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	while ((t.tv_sec - t0.tv_sec) * 1000 +
	       (t.tv_nsec - t0.tv_nsec) / 1000000 < ms);
}

/*
 * A parallel lock by a task whose cgroup may use a fifth of a CPU is
 * charged to the cgroup, workers included, and keeps to that fifth: over
 * the lock and 300 ms of CPU in user space after it, which pay for what
 * the lock overran (on 7.3 a task is throttled on its way back to user
 * space, never in the kernel: the lock's threads run on till it ends; on
 * 6.12 in the kernel too).
 */
TEST_F_TIMEOUT(huge, cpu_max_holds_for_workers, 600)
{
	long long busy, usage, all;
	long by_workers, locks;
	struct timespec t0;
	int ready[2];
	long wall;
	char c = 0;
	pid_t pid;

	if (cg_make(CG_CPU, "cpu"))
		SKIP(return, "no cgroup2 cpu controller");
	ASSERT_EQ(0, cg_write(CG_CPU, "cpu.max", "20000 100000"));
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pm_mem_map(&self->m, PM_ANON, CG_LEN,
				PROT_READ | PROT_WRITE, 0));
	by_workers = pm_stat("pages_pinned_by_workers");
	locks = pm_stat("parallel_locks");
	busy = busy_ms();
	usage = cg_key(CG_CPU, "cpu.stat", "usage_usec");
	all = usage;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* A file of its own: its lock goes with its exit. */
		int fd = pm_open();

		if (fd < 0 || cg_enter(CG_CPU) ||
		    !pm_create_locked(fd, self->m.buf, CG_LEN,
				      PINMDL_IO_WRITE_ACCESS) ||
		    write(ready[1], "l", 1) != 1)
			_exit(1);
		spin_cpu_ms(300);
		if (write(ready[1], "d", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	self->kids[0] = pid;
	close(ready[1]);
	/* The lock alone: the CPU the machine spent on it. */
	ASSERT_EQ(1, read(ready[0], &c, 1));
	busy = busy_ms() - busy;
	usage = (cg_key(CG_CPU, "cpu.stat", "usage_usec") - usage) / 1000;
	/* The lock and the spin after it: the cgroup's share. */
	ASSERT_EQ(1, read(ready[0], &c, 1));
	wall = pm_ms_since(&t0);
	all = (cg_key(CG_CPU, "cpu.stat", "usage_usec") - all) / 1000;
	if (self->parallel) {
		EXPECT_EQ(locks + 1, pm_stat("parallel_locks"));
		EXPECT_LT(by_workers, pm_stat("pages_pinned_by_workers"));
	}
	TH_LOG("lock: %lld ms busy, %lld ms in the cgroup; with the spin: %lld ms in %ld ms",
	       busy, usage, all, wall);
	/*
	 * All the CPU the machine spent on the lock is the cgroup's, and no
	 * more than a fifth of a CPU on the whole: room for the ticks'
	 * rounding, the rest of the machine and the period it ends in.
	 */
	EXPECT_GE(usage * 12 / 10 + 50, busy);
	EXPECT_GE(wall / 5 * 13 / 10 + 200, all);
	close(ready[0]);
}


/*
 * A parallel lock by a task whose cgroup is throttled past memory.high
 * ends within 100 ms of a SIGKILL: every thread that pins is the
 * process's, and its throttling sleep ends with the kill.
 */
TEST_F_TIMEOUT(huge, sigkill_while_memory_high_throttles, 600)
{
	struct timespec t0, pause = { 0, 10 * 1000 * 1000 };
	int ready[2], status;
	long high = 0, ms, locks = pm_stat("parallel_locks");
	char c = 0;
	pid_t pid;

	if (cg_make(CG_MEM, "memory"))
		SKIP(return, "no cgroup2 memory controller");
	ASSERT_EQ(0, cg_write(CG_MEM, "memory.high", "33554432"));
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pm_mem_map(&self->m, PM_ANON, 4 * CG_LEN,
				PROT_READ | PROT_WRITE, 0));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		uint32_t h;

		if (cg_enter(CG_MEM) || write(ready[1], &c, 1) != 1)
			_exit(1);
		h = pm_create_locked(self->fd, self->m.buf, 4 * CG_LEN,
				     PINMDL_IO_WRITE_ACCESS);
		/* Done before the kill: the test could not kill it. */
		_exit(h ? 2 : 3);
	}
	self->kids[0] = pid;
	close(ready[1]);
	ASSERT_EQ(1, read(ready[0], &c, 1));
	/* Until the cgroup is throttled, and a little more. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((high = cg_key(CG_MEM, "memory.events", "high")) <= 0 &&
	       pm_ms_since(&t0) < 60000 && !waitpid(pid, &status, WNOHANG))
		nanosleep(&pause, NULL);
	pause.tv_nsec = 300 * 1000 * 1000;
	nanosleep(&pause, NULL);
	if (waitpid(pid, &status, WNOHANG)) {
		self->kids[0] = 0;
		SKIP(return, "the lock ended before it could be killed");
	}
	EXPECT_LT(0, high);
	/* The lock is over when every pin it took has come back. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	EXPECT_EQ(0, kill(pid, SIGKILL));
	while (pm_pins() != self->pins && pm_ms_since(&t0) < 10000)
		;
	ms = pm_ms_since(&t0);
	EXPECT_EQ(pid, waitpid(pid, &status, 0));
	self->kids[0] = 0;
	if (self->parallel)
		EXPECT_EQ(locks + 1, pm_stat("parallel_locks"));
	TH_LOG("lock gone %ld ms after the kill", ms);
	EXPECT_GT(100, ms);
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(self->pins, pm_pins());
	EXPECT_EQ(0, pm_stat("pages_pinned"));
	close(ready[0]);
}

/* In the cgroup: a process of 16 MiB that waits to be killed. */
static void bystander(int ready)
{
	char *buf = pm_map(16UL << 20, PROT_READ | PROT_WRITE);
	char c = 0;

	if (!buf || cg_enter(CG_MEM))
		_exit(1);
	touch(buf, 16UL << 20);
	if (write(ready, &c, 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

/*
 * A parallel lock past its cgroup's memory.max makes the OOM killer pick
 * the locker, which goes at once, workers and all: a bystander in the same
 * cgroup survives, and nothing stays pinned.
 */
TEST_F_TIMEOUT(huge, memory_max_spares_bystander, 600)
{
	long locks = pm_stat("parallel_locks");
	int ready[2], status;
	pid_t by, pid;
	char c = 0;

	if (cg_make(CG_MEM, "memory"))
		SKIP(return, "no cgroup2 memory controller");
	ASSERT_EQ(0, cg_write(CG_MEM, "memory.max", "134217728"));
	cg_write(CG_MEM, "memory.swap.max", "0");
	ASSERT_EQ(0, pipe(ready));
	by = fork();
	ASSERT_LE(0, by);
	if (!by)
		bystander(ready[1]);
	self->kids[1] = by;
	close(ready[1]);
	ASSERT_EQ(1, read(ready[0], &c, 1));
	ASSERT_EQ(0, pm_mem_map(&self->m, PM_ANON, 4 * CG_LEN,
				PROT_READ | PROT_WRITE, 0));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (cg_enter(CG_MEM))
			_exit(1);
		_exit(pm_create_locked(self->fd, self->m.buf, 4 * CG_LEN,
				       PINMDL_IO_WRITE_ACCESS) ? 2 : 3);
	}
	self->kids[0] = pid;
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	self->kids[0] = 0;
	if (self->parallel)
		EXPECT_EQ(locks + 1, pm_stat("parallel_locks"));
	/* The cgroup's OOM killer chose the locker, workers and all. */
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	EXPECT_EQ(0, waitpid(by, &status, WNOHANG));
	EXPECT_EQ(0, kill(by, SIGKILL));
	EXPECT_EQ(by, waitpid(by, &status, 0));
	self->kids[1] = 0;
	EXPECT_EQ(1, cg_key(CG_MEM, "memory.events", "oom_kill"));
	EXPECT_EQ(self->pins, pm_pins());
	EXPECT_EQ(0, pm_stat("pages_pinned"));
	close(ready[0]);
}

/*
 * Protection keys hold for the workers as for the locker, whose PKRU they
 * are created with: a range of a key the locker may write is locked for
 * write with workers; with the key write-disabled in the locker, a write
 * lock of a range that has that key past its first piece fails with
 * EFAULT, no worker pins a page of it, and nothing stays pinned.
 */
TEST_F_TIMEOUT(huge, protection_keys_hold_in_workers, 600)
{
	long by_workers, locks;
	size_t first;
	uint32_t h;
	char *buf;
	int pkey;

	pkey = pkey_alloc(0, 0);
	if (pkey < 0)
		SKIP(return, "no protection keys: %s", strerror(errno));
	ASSERT_EQ(0, pm_mem_map(&self->m, PM_ANON, CG_LEN,
				PROT_READ | PROT_WRITE, 0));
	buf = self->m.buf;
	ASSERT_EQ(0, pkey_mprotect(buf, CG_LEN, PROT_READ | PROT_WRITE, pkey));
	lock_check_unlock(_metadata, self->fd, buf, CG_LEN, self->parallel);

	/* The locker's first piece keeps key 0; every later one has pkey. */
	first = ((uintptr_t)buf / PIECE + 1) * PIECE - (uintptr_t)buf;
	ASSERT_EQ(0, pkey_mprotect(buf, first, PROT_READ | PROT_WRITE, 0));
	ASSERT_EQ(0, pm_create(self->fd, buf, CG_LEN, &h));
	/* Never touched again, so that the lock is worth workers. */
	ASSERT_EQ(0, madvise(buf, CG_LEN, MADV_DONTNEED));
	by_workers = pm_stat("pages_pinned_by_workers");
	locks = pm_stat("parallel_locks");
	ASSERT_EQ(0, pkey_set(pkey, PKEY_DISABLE_WRITE));
	EXPECT_EQ(-EFAULT, pm_lock(self->fd, h, PINMDL_IO_WRITE_ACCESS));
	ASSERT_EQ(0, pkey_set(pkey, 0));
	if (self->parallel)
		EXPECT_EQ(locks + 1, pm_stat("parallel_locks"));
	/* The workers' pieces are all write-disabled: they pinned nothing. */
	EXPECT_EQ(by_workers, pm_stat("pages_pinned_by_workers"));
	EXPECT_EQ(0, pm_free(self->fd, h));
	EXPECT_EQ(self->pins, pm_pins());
	EXPECT_EQ(0, pm_stat("pages_pinned"));
	EXPECT_EQ(0, pkey_free(pkey));
}

TEST_HARNESS_MAIN
