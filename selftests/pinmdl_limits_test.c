// SPDX-License-Identifier: GPL-2.0
/*
 * Limits and hardening (DESIGN.md, "Limits and hardening"): no ioctl
 * sleeps behind a LOCK in progress, an unlocked descriptor costs its
 * header only and a file holds at most max_descriptors, pinned pages are
 * charged to the user as well as to the mm, no lock takes a folio's
 * reference count past max_folio_refs, and QUERY's PFNs are decided at
 * open. Each test checks that every pin came back.
 */
#define _GNU_SOURCE
#include <linux/capability.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "pinmdl_util.h"

/* The ioctls timed while a LOCK runs, in the order they are tried. */
enum { BUSY_LOCK, BUSY_UNLOCK, BUSY_FREE, BUSY_PARTIAL, BUSY_SUBMIT,
       BUSY_QUERY, BUSY_NR };

/* What the locking child saw, in memory shared with the test. */
struct busy_report {
	int stage;		/* 1: LOCK running, 2: every ioctl tried */
	int uffd;		/* the LOCK waits on an unresolved uffd page */
	int err[BUSY_NR];
	long ms[BUSY_NR];
	uint32_t query_flags;
};

struct busy_lock {
	int fd;
	uint32_t h;
	volatile int done;
};

static void *busy_lock_thread(void *p)
{
	struct busy_lock *bl = p;

	pm_lock(bl->fd, bl->h, PINMDL_IO_WRITE_ACCESS);
	bl->done = 1;
	return NULL;
}

/* @len bytes whose missing pages wait on a userfaultfd nobody serves. */
static char *uffd_region(size_t len)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	char *buf = pm_map(len, PROT_READ | PROT_WRITE);
	int uffd = syscall(__NR_userfaultfd, O_CLOEXEC);

	if (!buf || uffd < 0 || ioctl(uffd, UFFDIO_API, &api))
		return NULL;
	reg.range.start = (uintptr_t)buf;
	reg.range.len = len;
	return ioctl(uffd, UFFDIO_REGISTER, &reg) ? NULL : buf;
}

/*
 * Start a LOCK of @len bytes at @buf in a thread; return 0 once it is
 * running (another ioctl on the descriptor says EBUSY), 1 if it ended
 * before, -1 on failure.
 */
static int busy_start(struct busy_lock *bl, char *buf, size_t len)
{
	struct timespec t0;
	pthread_t t;

	if (pm_create(bl->fd, buf, len, &bl->h) ||
	    pthread_create(&t, NULL, busy_lock_thread, bl))
		return -1;
	pthread_detach(t);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (pm_unlock(bl->fd, bl->h) != -EBUSY) {
		if (bl->done)
			return 1;
		if (pm_ms_since(&t0) > 20000)
			return -1;
	}
	return 0;
}

/* Try each ioctl on the descriptor whose LOCK runs, timing each. */
static void busy_measure(struct busy_lock *bl, char *buf,
			 struct busy_report *r)
{
	struct pinmdl_query q;
	struct timespec t0;
	int i;

	for (i = 0; i < BUSY_NR; i++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		switch (i) {
		case BUSY_LOCK:
			r->err[i] = pm_lock(bl->fd, bl->h,
					    PINMDL_IO_READ_ACCESS);
			break;
		case BUSY_UNLOCK:
			r->err[i] = pm_unlock(bl->fd, bl->h);
			break;
		case BUSY_FREE:
			r->err[i] = pm_free(bl->fd, bl->h);
			break;
		case BUSY_PARTIAL:
			r->err[i] = pm_partial(bl->fd, bl->h, buf, 1, NULL);
			break;
		case BUSY_SUBMIT:
			r->err[i] = pm_submit(bl->fd, bl->h,
					      PINMDL_LOWER_CHECKSUM, 0, 1, 0, 0,
					      NULL);
			break;
		case BUSY_QUERY:
			r->err[i] = pm_query(bl->fd, bl->h, &q, NULL, 0);
			r->query_flags = q.flags;
			break;
		}
		r->ms[i] = pm_ms_since(&t0);
	}
}

static int busy_child(void *p)
{
	const size_t small = 16 * PM_PAGE, big = 512UL << 20;
	struct busy_report *r = p;
	struct busy_lock bl = { .fd = pm_open() };
	int attempt;
	char *buf;

	if (bl.fd < 0)
		return 2;
	/*
	 * A LOCK waits on userfaultfd; should it not, the LOCK of 512 MiB
	 * never touched takes long enough. A LOCK
	 * that ended before every ioctl was tried does not count.
	 */
	for (attempt = 0; attempt < 3; attempt++) {
		r->uffd = !attempt;
		buf = attempt ? pm_map(big, PROT_READ | PROT_WRITE) :
				uffd_region(small);
		bl.done = 0;
		if (!buf || busy_start(&bl, buf, attempt ? big : small))
			continue;
		__atomic_store_n(&r->stage, 1, __ATOMIC_SEQ_CST);
		busy_measure(&bl, buf, r);
		if (!bl.done)
			break;
		pm_unlock(bl.fd, bl.h);
		pm_free(bl.fd, bl.h);
		munmap(buf, attempt ? big : small);
	}
	if (attempt == 3)
		return 3;
	/* Still running: the test kills this process in the middle of it. */
	__atomic_store_n(&r->stage, 2, __ATOMIC_SEQ_CST);
	for (;;)
		pause();
}

/*
 * A LOCK that waits (on a userfaultfd page nobody resolves, or faulting in
 * 512 MiB) holds up no other ioctl of its descriptor: each answers within
 * 100 ms, EBUSY but QUERY, which shows the descriptor unlocked; SIGKILL
 * then ends the LOCK and leaves nothing pinned or allocated.
 */
TEST(ioctls_never_wait_for_a_lock_in_progress)
{
	static const char *const names[BUSY_NR] = {
		"LOCK", "UNLOCK", "FREE", "PARTIAL", "SUBMIT", "QUERY" };
	long pins = pm_pins(), live = pm_stat("descriptors_live");
	struct busy_report *r;
	struct timespec t0;
	int i, status;
	pid_t pid;

	r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, r);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(busy_child(r));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (__atomic_load_n(&r->stage, __ATOMIC_SEQ_CST) < 2 &&
	       pm_ms_since(&t0) < 60000 && waitpid(pid, &status, WNOHANG) == 0)
		usleep(10000);
	ASSERT_EQ(2, r->stage) TH_LOG("the LOCK never ran long enough");
	TH_LOG("the LOCK waited on %s", r->uffd ? "userfaultfd" : "512 MiB");
	for (i = 0; i < BUSY_NR; i++) {
		EXPECT_EQ(i == BUSY_QUERY ? 0 : -EBUSY, r->err[i])
			TH_LOG("%s", names[i]);
		EXPECT_GT(100, r->ms[i]) TH_LOG("%s took %ld ms", names[i],
						r->ms[i]);
	}
	EXPECT_EQ(0, r->query_flags);

	/* The LOCK stays killable, and everything goes with the process. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_GT(10000, pm_ms_since(&t0));
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(pins, pm_pins());
	EXPECT_EQ(live, pm_stat("descriptors_live"));
	munmap(r, sizeof(*r));
}

#define STUCK_LOCKERS	80
#define STUCK_LEN	(4UL << 20)

struct stuck_lockers {
	int fd;
	int returned;
};

/* LOCK 4 MiB whose pages wait on a userfaultfd nobody serves. */
static void *lock_stuck(void *arg)
{
	struct stuck_lockers *s = arg;
	char *buf = uffd_region(STUCK_LEN);
	uint32_t h;

	if (buf && !pm_create(s->fd, buf, STUCK_LEN, &h))
		pm_lock(s->fd, h, PINMDL_IO_WRITE_ACCESS);
	__atomic_add_fetch(&s->returned, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/*
 * LOCKs waiting on userfaultfd pages hold nothing other LOCKs need: with
 * 80 of them stuck in a child (were each to hold the reservation of a
 * 1024-page GUP call, 64 would exhaust what all calls may reserve), a LOCK
 * elsewhere still goes through at once. The child dies with all of them.
 */
TEST(locks_stuck_on_userfaultfd_hold_up_no_other)
{
	struct stuck_lockers *s = mmap(NULL, sizeof(*s),
				       PROT_READ | PROT_WRITE,
				       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	char *buf = pm_map(PM_PAGE, PROT_READ | PROT_WRITE);
	long pins = pm_pins();
	struct timespec t0;
	int fd = pm_open(), status, i;
	pthread_t t;
	uint32_t h;
	pid_t pid;

	ASSERT_NE(MAP_FAILED, s);
	ASSERT_NE(NULL, buf);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		s->fd = pm_open();
		for (i = 0; i < STUCK_LOCKERS; i++)
			if (pthread_create(&t, NULL, lock_stuck, s))
				_exit(1);
		pause();
		_exit(0);
	}
	sleep(3);
	EXPECT_EQ(0, __atomic_load_n(&s->returned, __ATOMIC_SEQ_CST))
		TH_LOG("a LOCK of userfaultfd pages did not wait");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	h = pm_create_locked(fd, buf, PM_PAGE, PINMDL_IO_WRITE_ACCESS);
	EXPECT_NE(0, h);
	EXPECT_GT(2000, pm_ms_since(&t0));
	EXPECT_EQ(0, pm_unlock(fd, h));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	close(fd);
	munmap(buf, PM_PAGE);
	munmap(s, sizeof(*s));
	EXPECT_EQ(pins, pm_pins());
}

/*
 * An unlocked descriptor costs its header only; the PFN array (8 bytes a
 * page, rounded up by the allocator by less than a page, never to a power
 * of two) exists while it is locked.
 */
TEST(pfn_array_only_while_locked)
{
	const uint64_t pages[] = { 1, 2, 511, 513, 4096, 4097 };
	size_t len = 4097 * PM_PAGE, i;
	char *buf = pm_map(len, PROT_READ | PROT_WRITE);
	long base = pm_stat("descriptor_bytes"), pins = pm_pins(), header;
	int fd = pm_open();
	uint32_t h;

	ASSERT_NE(NULL, buf);
	ASSERT_LE(0, base);
	memset(buf, 1, len);
	/* A descriptor of 4 GiB is no bigger than one of a page. */
	ASSERT_EQ(0, pm_create(fd, buf, 1UL << 32, &h));
	header = pm_stat("descriptor_bytes") - base;
	EXPECT_LT(0, header);
	EXPECT_GE(256, header);
	EXPECT_EQ(0, pm_free(fd, h));
	for (i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		long delta;

		ASSERT_EQ(0, pm_create(fd, buf, pages[i] * PM_PAGE, &h));
		EXPECT_EQ(header, pm_stat("descriptor_bytes") - base);
		ASSERT_EQ(0, pm_lock(fd, h, PINMDL_IO_READ_ACCESS));
		delta = pm_stat("descriptor_bytes") - base - header;
		EXPECT_LE(8 * pages[i], delta) TH_LOG("%lu pages", pages[i]);
		EXPECT_GT(8 * pages[i] + PM_PAGE, delta)
			TH_LOG("%lu pages", pages[i]);
		EXPECT_EQ(0, pm_unlock(fd, h));
		EXPECT_EQ(header, pm_stat("descriptor_bytes") - base);
		EXPECT_EQ(0, pm_free(fd, h));
	}
	EXPECT_EQ(base, pm_stat("descriptor_bytes"));
	close(fd);
	munmap(buf, len);
	EXPECT_EQ(pins, pm_pins());
}

/* The module parameters a test changes, put back whatever happens. */
FIXTURE(params)
{
	unsigned long long max_descriptors;
	unsigned long long max_pinned_pages;
	unsigned long long max_folio_refs;
};

FIXTURE_SETUP(params)
{
	self->max_descriptors = pm_param("max_descriptors");
	self->max_pinned_pages = pm_param("max_pinned_pages");
	self->max_folio_refs = pm_param("max_folio_refs");
	ASSERT_EQ(65536, self->max_descriptors);
	ASSERT_EQ(1U << 30, self->max_folio_refs);
	ASSERT_NE(0, self->max_pinned_pages);
}

FIXTURE_TEARDOWN(params)
{
	EXPECT_EQ(0, pm_set_param("max_descriptors", self->max_descriptors));
	EXPECT_EQ(0, pm_set_param("max_folio_refs", self->max_folio_refs));
	EXPECT_EQ(0, pm_set_param("max_pinned_pages",
				  self->max_pinned_pages));
}

/* CREATE and PARTIAL past max_descriptors in one file: EMFILE. */
TEST_F(params, max_descriptors_emfile)
{
	char *buf = pm_map(PM_PAGE, PROT_READ | PROT_WRITE);
	long live = pm_stat("descriptors_live");
	int fd = pm_open(), fd2 = pm_open();
	uint32_t h[8], x;
	int i;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, pm_set_param("max_descriptors", 8));
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, pm_create(fd, buf, PM_PAGE, &h[i]));
	EXPECT_EQ(0, pm_lock(fd, h[0], PINMDL_IO_READ_ACCESS));
	EXPECT_EQ(-EMFILE, pm_create(fd, buf, PM_PAGE, &x));
	EXPECT_EQ(-EMFILE, pm_partial(fd, h[0], buf, 1, &x));
	/* Argument checks come first; nothing is left behind. */
	EXPECT_EQ(-EINVAL, pm_create(fd, buf, 0, &x));
	EXPECT_EQ(live + 8, pm_stat("descriptors_live"));
	/* The cap is per file. */
	EXPECT_EQ(0, pm_create(fd2, buf, PM_PAGE, &x));
	/* A freed descriptor makes room again. */
	EXPECT_EQ(0, pm_free(fd, h[1]));
	EXPECT_EQ(0, pm_partial(fd, h[0], buf, 1, &x));
	EXPECT_EQ(-EMFILE, pm_create(fd, buf, PM_PAGE, &x));
	close(fd);
	close(fd2);
	EXPECT_EQ(live, pm_stat("descriptors_live"));
	munmap(buf, PM_PAGE);
}

#define LOCKED_VM_HELPER	"PM_LOCKED_VM_HELPER"

/*
 * The helper execve()d by the test, as the same user with a fresh mm, on
 * the file it inherited: its LOCK finds the user's locked_vm full, then,
 * once the parent unlocked, room.
 */
static int locked_vm_helper(const char *env)
{
	char *buf = pm_map(PM_PAGE, PROT_READ | PROT_WRITE);
	int fd, rd, wr, ret;
	uint32_t h;
	char c;

	if (sscanf(env, "%d,%d,%d", &fd, &rd, &wr) != 3 || !buf ||
	    pm_create(fd, buf, PM_PAGE, &h))
		return 10;
	ret = pm_lock(fd, h, PINMDL_IO_READ_ACCESS);
	if (ret != -ENOMEM)
		return 11;
	/* Refused as it should be: let the parent unlock, then again. */
	if (write(wr, "r", 1) != 1 || read(rd, &c, 1) != 1)
		return 12;
	if (pm_lock(fd, h, PINMDL_IO_READ_ACCESS))
		return 13;
	return pm_unlock(fd, h) || pm_free(fd, h) ? 14 : 0;
}

__attribute__((constructor)) static void locked_vm_helper_main(void)
{
	const char *env = getenv(LOCKED_VM_HELPER);

	if (env)
		_exit(locked_vm_helper(env));
}

static int locked_vm_child(void *unused)
{
	struct rlimit rl = { 16 * PM_PAGE, 16 * PM_PAGE };
	char *buf = pm_map(16 * PM_PAGE, PROT_READ | PROT_WRITE);
	int fd = pm_open(), to_child[2], to_parent[2], status;
	char env[64], c;
	uint32_t h;
	pid_t pid;

	if (fd < 0 || !buf || pipe(to_child) || pipe(to_parent))
		return 1;
	fd = fcntl(fd, F_DUPFD, 3); /* without O_CLOEXEC, for the helper */
	if (fd < 0 || setrlimit(RLIMIT_MEMLOCK, &rl) || pm_drop_privileges())
		return 2;
	h = pm_create_locked(fd, buf, 16 * PM_PAGE, PINMDL_IO_WRITE_ACCESS);
	if (!h)
		return 3;
	snprintf(env, sizeof(env), "%d,%d,%d", fd, to_child[0], to_parent[1]);
	pid = fork();
	if (pid < 0)
		return 4;
	if (!pid) {
		setenv(LOCKED_VM_HELPER, env, 1);
		execl("/proc/self/exe", "pinmdl_limits_test", NULL);
		_exit(20);
	}
	if (read(to_parent[0], &c, 1) != 1) {
		waitpid(pid, &status, 0);
		return WIFEXITED(status) ? WEXITSTATUS(status) : 5;
	}
	if (pm_unlock(fd, h) || write(to_child[1], "u", 1) != 1)
		return 6;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return 7;
	return WEXITSTATUS(status);
}

/*
 * RLIMIT_MEMLOCK holds for the user, not only for one mm: a process
 * execve()d with the file, starting from a fresh mm, cannot pin past what
 * its user already pinned (io_uring's user->locked_vm).
 */
TEST(locked_vm_charged_to_the_user)
{
	long pins = pm_pins();

	EXPECT_EQ(0, pm_in_child(locked_vm_child, NULL));
	EXPECT_EQ(pins, pm_pins());
}

/*
 * The two limits do not constrain each other: max_pinned_pages is any
 * number of pages up to RAM (default half of it), max_folio_refs any
 * number from 2048 to 2^31 - 2^27, whatever the other is.
 */
TEST_F(params, max_pinned_pages_up_to_ram)
{
	unsigned long long ram = pm_ram_bytes() / PM_PAGE;
	unsigned long long top = (1ULL << 31) - (1ULL << 27);

	ASSERT_NE(0, ram);
	EXPECT_EQ(ram / 2, self->max_pinned_pages);
	ASSERT_EQ(0, pm_set_param("max_folio_refs", 2048));
	EXPECT_EQ(0, pm_set_param("max_pinned_pages", ram));
	EXPECT_EQ(ram, pm_param("max_pinned_pages"));
	EXPECT_EQ(-EINVAL, pm_set_param("max_pinned_pages", ram + 1));
	EXPECT_EQ(-EINVAL, pm_set_param("max_folio_refs", 2047));
	EXPECT_EQ(0, pm_set_param("max_folio_refs", top));
	EXPECT_EQ(-EINVAL, pm_set_param("max_folio_refs", top + 1));
	EXPECT_EQ(top, pm_param("max_folio_refs"));
	EXPECT_EQ(ram, pm_param("max_pinned_pages"));
}

/*
 * A pin adds 1024 references to a small folio: with max_folio_refs 2048,
 * one page (a reference of its mapping, maybe one more of the LRU's) takes
 * one lock and refuses the second with ENOMEM, holding nothing of it; the
 * second goes through once the first is unlocked.
 */
TEST_F(params, max_folio_refs_refuses_second_lock_of_a_page)
{
	char *buf = pm_map(PM_PAGE, PROT_READ | PROT_WRITE);
	long pins = pm_pins();
	int fd = pm_open();
	uint32_t h[2];

	ASSERT_NE(NULL, buf);
	memset(buf, 1, PM_PAGE);
	ASSERT_EQ(0, pm_set_param("max_folio_refs", 2048));
	ASSERT_EQ(0, pm_create(fd, buf, PM_PAGE, &h[0]));
	ASSERT_EQ(0, pm_create(fd, buf, PM_PAGE, &h[1]));
	ASSERT_EQ(0, pm_lock(fd, h[0], PINMDL_IO_READ_ACCESS));
	EXPECT_EQ(-ENOMEM, pm_lock(fd, h[1], PINMDL_IO_READ_ACCESS));
	EXPECT_EQ(-ENOMEM, pm_lock(fd, h[1], PINMDL_IO_WRITE_ACCESS));
	EXPECT_EQ(pins + 1, pm_pins());
	EXPECT_EQ(1, pm_stat("pages_pinned"));
	EXPECT_EQ(0, pm_unlock(fd, h[0]));
	EXPECT_EQ(0, pm_lock(fd, h[1], PINMDL_IO_WRITE_ACCESS));
	EXPECT_EQ(pins + 1, pm_pins());
	close(fd);
	munmap(buf, PM_PAGE);
	EXPECT_EQ(pins, pm_pins());
}

/* Whether the 2 MiB at @buf are one THP (smaps: AnonHugePages). */
static int is_thp(const char *buf)
{
	unsigned long lo, hi, kb;
	char line[256];
	int in = 0, thp = 0;
	FILE *f = fopen("/proc/self/smaps", "r");

	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2)
			in = lo <= (uintptr_t)buf && (uintptr_t)buf < hi;
		else if (in && sscanf(line, "AnonHugePages: %lu kB", &kb) == 1)
			thp = kb >= 2048;
	}
	if (f)
		fclose(f);
	return thp;
}

/*
 * A pin of a large folio adds one reference a page: with max_folio_refs
 * 2048, a locked 2 MiB THP (512 pages) takes three locks of all of it and
 * refuses the fourth with ENOMEM, holding nothing of it.
 */
TEST_F(params, max_folio_refs_refuses_nth_lock_of_a_huge_page)
{
	struct pm_mem m = { 0 };
	long pins = pm_pins();
	int fd = pm_open(), i, n = 0, ret = 0;
	uint32_t h[5];

	ASSERT_LE(0, pm_mem_map(&m, PM_THP, PM_HPAGE, PROT_READ | PROT_WRITE,
				0));
	memset(m.buf, 1, PM_HPAGE);
	if (!is_thp(m.buf)) {
		pm_mem_unmap(&m);
		SKIP(return, "no THP to be had");
	}
	ASSERT_EQ(0, pm_set_param("max_folio_refs", 2048));
	for (i = 0; i < 5; i++) {
		ASSERT_EQ(0, pm_create(fd, m.buf, PM_HPAGE, &h[i]));
		ret = pm_lock(fd, h[i], PINMDL_IO_WRITE_ACCESS);
		if (ret)
			break;
		n++;
	}
	EXPECT_EQ(-ENOMEM, ret);
	EXPECT_EQ(3, n);
	EXPECT_EQ(pins + 3 * 512, pm_pins());
	close(fd);
	pm_mem_unmap(&m);
	EXPECT_EQ(pins, pm_pins());
}

struct one_page_race {
	char *buf;
	int fd;
	int stop;
	int held;
	int most;
	long locks;
};

/* Lock and unlock the page again and again; count the locks held at once. */
static void *lock_one_page(void *arg)
{
	struct one_page_race *r = arg;
	int held, most;
	uint32_t h;

	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		if (pm_create(r->fd, r->buf, PM_PAGE, &h))
			break;
		if (!pm_lock(r->fd, h, PINMDL_IO_WRITE_ACCESS)) {
			held = __atomic_add_fetch(&r->held, 1, __ATOMIC_SEQ_CST);
			most = __atomic_load_n(&r->most, __ATOMIC_RELAXED);
			while (held > most &&
			       !__atomic_compare_exchange_n(&r->most, &most, held,
							    0, __ATOMIC_SEQ_CST,
							    __ATOMIC_RELAXED))
				;
			__atomic_sub_fetch(&r->held, 1, __ATOMIC_SEQ_CST);
			__atomic_add_fetch(&r->locks, 1, __ATOMIC_RELAXED);
			pm_unlock(r->fd, h);
		}
		pm_free(r->fd, h);
	}
	return NULL;
}

/*
 * Concurrent LOCKs of one page: with max_folio_refs 4096 no more than
 * three of them ever hold it at once (each pin checked, none counted
 * twice), and every refused one gives back what it pinned.
 */
TEST_F(params, max_folio_refs_holds_under_concurrent_locks)
{
	struct one_page_race r = { .fd = pm_open() };
	long pins = pm_pins();
	pthread_t t[4];
	int i;

	r.buf = pm_map(PM_PAGE, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, r.buf);
	memset(r.buf, 1, PM_PAGE);
	ASSERT_EQ(0, pm_set_param("max_folio_refs", 4096));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, lock_one_page, &r));
	sleep(3);
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	EXPECT_LT(0, r.locks);
	EXPECT_LE(1, r.most);
	EXPECT_GE(3, r.most);
	EXPECT_EQ(pins, pm_pins());
	close(r.fd);
	munmap(r.buf, PM_PAGE);
}

/* Set whether CAP_SYS_ADMIN is effective, keeping it permitted. */
static int sys_admin_effective(bool on)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -1;
	if (on)
		data[0].effective |= 1U << CAP_SYS_ADMIN;
	else
		data[0].effective &= ~(1U << CAP_SYS_ADMIN);
	return syscall(SYS_capset, &hdr, data) ? -1 : 0;
}

/*
 * Open /dev/pinmdl with CAP_SYS_ADMIN effective or not (@opener), lock a
 * buffer with it effective or not (@caller), and return 0 if QUERY showed
 * the PFNs exactly when the opener was privileged.
 */
static int pfns_at_open(bool opener, bool caller)
{
	char *buf = pm_map(16 * PM_PAGE, PROT_READ | PROT_WRITE);
	struct pinmdl_query q;
	uint64_t pfns[16];
	int fd, i, shown = 0;
	uint32_t h;

	if (!buf || sys_admin_effective(opener))
		return 1;
	fd = pm_open();
	if (fd < 0 || sys_admin_effective(caller))
		return 2;
	h = pm_create_locked(fd, buf, 16 * PM_PAGE, PINMDL_IO_WRITE_ACCESS);
	if (!h)
		return 3;
	memset(pfns, 0xff, sizeof(pfns));
	if (pm_query(fd, h, &q, pfns, 16) || q.pfn_capacity != 16)
		return 4;
	for (i = 0; i < 16; i++)
		shown += pfns[i] != 0;
	if (shown != (opener ? 16 : 0))
		return 5;
	if (q.flags != (PINMDL_F_PAGES_LOCKED | PINMDL_F_WRITE_OPERATION) ||
	    q.page_count != 16)
		return 6;
	return pm_unlock(fd, h) ? 7 : 0;
}

static int pfns_child(void *arg)
{
	int which = *(int *)arg;

	return pfns_at_open(which & 1, which & 2);
}

/* Rule 10: PFNs through a file whose opener had CAP_SYS_ADMIN, only. */
TEST(pfns_decided_at_open)
{
	long pins = pm_pins();
	int which;

	for (which = 0; which < 4; which++)
		EXPECT_EQ(0, pm_in_child(pfns_child, &which))
			TH_LOG("opener %s, caller %s",
			       which & 1 ? "privileged" : "unprivileged",
			       which & 2 ? "privileged" : "unprivileged");
	EXPECT_EQ(pins, pm_pins());
}

TEST_HARNESS_MAIN
