// SPDX-License-Identifier: GPL-2.0
/*
 * A seeded, reproducible ioctl fuzzer for /dev/pinmdl. Several threads of
 * several processes call every ioctl, read(2) and poll(2) with random,
 * boundary and hostile arguments (kernel addresses, overflowing lengths,
 * stale and foreign handles, unmapped pointers) while another thread
 * munmaps, remaps, mprotects and MADV_DONTNEEDs the memory under the
 * descriptors. Every call must succeed or fail with an errno of the
 * contract; at the end every pin is released and pinned_vm is 0.
 *
 * PINMDL_FUZZ_CALLS (default 20000) and PINMDL_FUZZ_SEED (default: the
 * time) set the length and the seed; the seed is printed to reproduce.
 * PINMDL_FUZZ_SECONDS runs for that long instead (a soak).
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <signal.h>
#include <time.h>

#include "kselftest_harness.h"
#include "pinmdl_util.h"

#define FUZZ_THREADS	3
#define FUZZ_PROCS	2
#define ARENA_PAGES	256
#define ARENA_GUARD	8	/* reservation, in arena sizes */
#define MAX_HANDLES	48
#define MAX_TARGETS	8	/* per thread: 3 x 2 x 8 stays under 64 */

struct fuzz {
	int fd;
	char *arena;
	unsigned long calls;
	unsigned long per_thread;
	time_t deadline;
	unsigned long done;
	unsigned long long seed;
	unsigned long bad;
	int bad_errno;
	int bad_cmd;
	volatile int stop;
};

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static bool errno_allowed(int err)
{
	switch (err) {
	case 0: case EINVAL: case ENOENT: case EPERM: case EBUSY: case EFAULT:
	case ENOMEM: case EINTR: case E2BIG: case EACCES: case ENODEV:
	case EAGAIN: case ENOTTY: case EMFILE: case EBADF:
		return true;
	}
	return false;
}

static uint64_t fuzz_addr(struct fuzz *f, uint64_t *s)
{
	static const uint64_t hostile[] = {
		0, 1, 4096, 0x7ffffffff000ULL, 0x800000000000ULL,
		0xffff888000000000ULL, 0xffffffff81000000ULL, ~0ULL,
		~0ULL - 4095,
	};

	if (rnd(s) % 8 == 0)
		return hostile[rnd(s) % (sizeof(hostile) / sizeof(hostile[0]))];
	return (uintptr_t)f->arena + rnd(s) % (ARENA_PAGES * PM_PAGE + 64);
}

/*
 * A pointer no call can read or write: for an argument whose success
 * would hand back an fd only that argument holds.
 */
static uint64_t fuzz_fault_addr(uint64_t *s)
{
	static const uint64_t hostile[] = {
		0, 1, 4096, 0x800000000000ULL, 0xffff888000000000ULL,
		0xffffffff81000000ULL, ~0ULL, ~0ULL - 4095,
	};

	return hostile[rnd(s) % (sizeof(hostile) / sizeof(hostile[0]))];
}

static uint64_t fuzz_len(uint64_t *s)
{
	static const uint64_t hostile[] = {
		0, 1, ~0ULL, 1ULL << 32, (1ULL << 32) + 1, 1ULL << 63,
		0x7fffffffULL, ARENA_PAGES * PM_PAGE * (ARENA_GUARD - 2),
	};

	if (rnd(s) % 10 == 0)
		return hostile[rnd(s) % (sizeof(hostile) / sizeof(hostile[0]))];
	return 1 + rnd(s) % (rnd(s) % 2 ? PM_PAGE * 4 : ARENA_PAGES * PM_PAGE);
}

static uint32_t fuzz_handle(uint32_t *handles, uint64_t *s)
{
	if (rnd(s) % 8 == 0)
		return rnd(s) % 2 ? (uint32_t)rnd(s) : 0;
	return handles[rnd(s) % MAX_HANDLES];
}

static uint32_t fuzz_small(uint64_t *s, uint32_t sane)
{
	return rnd(s) % 16 ? sane : (uint32_t)rnd(s);
}

/*
 * Remember a new handle in place of an old one, which is unlocked and
 * freed: a thread keeps a bounded number of descriptors, so the run's
 * kernel memory stays bounded however long it goes.
 */
static void fuzz_keep(struct fuzz *f, uint32_t *handles, uint32_t handle,
		      uint64_t *s)
{
	uint32_t *slot = &handles[rnd(s) % MAX_HANDLES];

	pm_unlock(f->fd, *slot);
	pm_free(f->fd, *slot);
	*slot = handle;
}

/*
 * Remember a new target id in place of an old one, which is closed (unless
 * a request is in flight on it: then the new one is closed).
 */
static void fuzz_keep_target(struct fuzz *f, uint32_t *targets,
			     uint32_t target, uint64_t *s)
{
	uint32_t *slot = &targets[rnd(s) % MAX_TARGETS];
	struct pinmdl_handle_arg a = { .handle = *slot };

	if (!*slot || !pm_ioctl(f->fd, PINMDL_IOC_TARGET_CLOSE, &a)) {
		*slot = target;
		return;
	}
	a.handle = target;
	pm_ioctl(f->fd, PINMDL_IOC_TARGET_CLOSE, &a);
}

/* A target id: one of this thread's, now and then any number. */
static uint32_t fuzz_target(uint32_t *targets, uint64_t *s)
{
	if (rnd(s) % 8 == 0)
		return (uint32_t)rnd(s) % 80;
	return targets[rnd(s) % MAX_TARGETS];
}

/* An IO of up to 4 random segments (or a hostile array) to a target. */
static void fuzz_io(struct fuzz *f, uint32_t *handles, uint32_t *targets,
		    uint64_t *s, struct pinmdl_io *io,
		    struct pinmdl_segment *segs)
{
	unsigned int i;

	for (i = 0; i < 4; i++) {
		segs[i].handle = fuzz_handle(handles, s);
		segs[i].reserved = fuzz_small(s, 0);
		segs[i].offset = rnd(s) % 4 ? rnd(s) % PM_PAGE : rnd(s);
		segs[i].length = rnd(s) % 2 ? 1 + rnd(s) % (2 * PM_PAGE) :
					      fuzz_len(s);
	}
	io->target = fuzz_target(targets, s);
	io->op = fuzz_small(s, 1 + rnd(s) % 4);
	io->dev_offset = fuzz_small(s, 0);
	io->segments = rnd(s) % 16 ? (uintptr_t)segs : fuzz_addr(f, s);
	io->nr_segments = fuzz_small(s, rnd(s) % 5);
	/* A DELAY is short, or a random (mostly refused) length. */
	io->arg = io->op == PINMDL_LOWER_DELAY ? fuzz_small(s, rnd(s) % 20) :
						 rnd(s);
	io->flags = fuzz_small(s, rnd(s) % 2);
}

static void fuzz_call(struct fuzz *f, uint32_t *handles, uint32_t *targets,
		      uint64_t *s)
{
	static const char *const names[] = { "pinmdl_lower",
					     "pinmdl_lower.1", "" };
	unsigned int which = rnd(s) % 22;
	struct pinmdl_segment segs[4];
	union {
		struct pinmdl_create c;
		struct pinmdl_lock l;
		struct pinmdl_handle_arg h;
		struct pinmdl_query q;
		struct pinmdl_partial p;
		struct pinmdl_submit sub;
		struct pinmdl_submit_buffered b;
		struct pinmdl_completion done;
		struct pinmdl_target_open t;
		struct pinmdl_io io;
		struct pinmdl_cancel cancel;
		struct pinmdl_map map;
		struct pinmdl_advance adv;
		struct pinmdl_export exp;
	} a;
	uint64_t pfns[8];
	unsigned long cmd = 0;
	void *arg = &a;
	int ret = 0;

	memset(&a, 0, sizeof(a));
	switch (which) {
	case 0: case 1:
		cmd = PINMDL_IOC_CREATE;
		a.c.addr = fuzz_addr(f, s);
		a.c.length = fuzz_len(s);
		a.c.flags = fuzz_small(s, 0);
		break;
	case 2: case 3:
		cmd = PINMDL_IOC_LOCK;
		a.l.handle = fuzz_handle(handles, s);
		a.l.access_mode = fuzz_small(s, PINMDL_USER_MODE);
		a.l.operation = fuzz_small(s, rnd(s) % 3);
		a.l.flags = fuzz_small(s, 0);
		break;
	case 4:
		cmd = PINMDL_IOC_UNLOCK;
		a.h.handle = fuzz_handle(handles, s);
		a.h.flags = fuzz_small(s, 0);
		break;
	case 5:
		cmd = PINMDL_IOC_FREE;
		a.h.handle = fuzz_handle(handles, s);
		a.h.flags = fuzz_small(s, 0);
		break;
	case 6:
		cmd = PINMDL_IOC_QUERY;
		a.q.handle = fuzz_handle(handles, s);
		a.q.flags = fuzz_small(s, 0);
		a.q.reserved = fuzz_small(s, 0);
		a.q.pfns = rnd(s) % 4 ? (uintptr_t)pfns : fuzz_addr(f, s);
		a.q.pfn_capacity = rnd(s) % 4 ? 8 : rnd(s);
		if (a.q.pfns == (uintptr_t)pfns && a.q.pfn_capacity > 8)
			a.q.pfn_capacity = 8;
		break;
	case 7:
		cmd = PINMDL_IOC_PARTIAL;
		a.p.parent = fuzz_handle(handles, s);
		a.p.addr = fuzz_addr(f, s);
		a.p.length = rnd(s) % 3 ? 0 : fuzz_len(s);
		break;
	case 8: case 9:
		cmd = PINMDL_IOC_SUBMIT;
		a.sub.handle = fuzz_handle(handles, s);
		a.sub.op = fuzz_small(s, 1 + rnd(s) % 3);
		a.sub.offset = rnd(s) % 4 ? rnd(s) % PM_PAGE : rnd(s);
		a.sub.length = fuzz_len(s);
		a.sub.arg = a.sub.op == PINMDL_LOWER_COPY ?
			    fuzz_handle(handles, s) : rnd(s);
		a.sub.flags = fuzz_small(s, rnd(s) % 2);
		a.sub.reserved = fuzz_small(s, 0);
		break;
	case 10:
		cmd = PINMDL_IOC_SUBMIT_BUFFERED;
		a.b.addr = fuzz_addr(f, s);
		a.b.length = fuzz_len(s) % (1 << 20);
		a.b.op = fuzz_small(s, 1 + rnd(s) % 2);
		a.b.flags = fuzz_small(s, 0);
		a.b.arg = rnd(s);
		break;
	case 11:
		cmd = PINMDL_IOC_TARGET_OPEN;
		a.t.name = rnd(s) % 8 ? (uintptr_t)names[rnd(s) % 3] :
					fuzz_addr(f, s);
		a.t.fd = fuzz_small(s, rnd(s) % 4 ? -1 : f->fd);
		a.t.flags = fuzz_small(s, 0);
		a.t.reserved = fuzz_small(s, 0);
		break;
	case 12:
		cmd = PINMDL_IOC_TARGET_CLOSE;
		a.h.handle = fuzz_target(targets, s);
		a.h.flags = fuzz_small(s, 0);
		break;
	case 13: case 14:
		cmd = PINMDL_IOC_IO;
		fuzz_io(f, handles, targets, s, &a.io, segs);
		break;
	case 15:
		cmd = PINMDL_IOC_CANCEL;
		a.cancel.request_id = rnd(s) % 4 ? rnd(s) % 4096 : rnd(s);
		a.cancel.flags = fuzz_small(s, 0);
		a.cancel.reserved = fuzz_small(s, 0);
		break;
	case 16:
		cmd = PINMDL_IOC_MAP_OFFSET;
		a.map.handle = fuzz_handle(handles, s);
		a.map.flags = fuzz_small(s, 0);
		break;
	case 17:
		cmd = PINMDL_IOC_ADVANCE;
		a.adv.handle = fuzz_handle(handles, s);
		a.adv.flags = fuzz_small(s, 0);
		a.adv.bytes = rnd(s) % 2 ? rnd(s) % (2 * PM_PAGE) : fuzz_len(s);
		break;
	case 18:
		cmd = PINMDL_IOC_PARTIAL_REUSE;
		a.p.parent = fuzz_handle(handles, s);
		a.p.handle = fuzz_handle(handles, s);
		a.p.addr = fuzz_addr(f, s);
		a.p.length = rnd(s) % 3 ? 0 : fuzz_len(s);
		break;
	case 19:
		cmd = PINMDL_IOC_EXPORT_DMABUF;
		a.exp.handle = fuzz_handle(handles, s);
		a.exp.flags = fuzz_small(s, rnd(s) % 4);
		a.exp.reserved = fuzz_small(s, 0);
		break;
	default:
		if (rnd(s) % 2) {
			struct pollfd p = { .fd = f->fd, .events = POLLIN };

			if (poll(&p, 1, 0) < 0)
				ret = -errno;
			else if ((p.revents & POLLIN) &&
				 read(f->fd, &a.done, sizeof(a.done)) < 0)
				ret = -errno;
		} else {
			cmd = rnd(s) % 2 ? _IOWR(PINMDL_IOC_MAGIC, rnd(s) % 32,
						  struct pinmdl_query) :
					   (unsigned long)rnd(s);
			arg = rnd(s) % 2 ? arg : (void *)(uintptr_t)fuzz_addr(f, s);
		}
		break;
	}
	if (cmd) {
		/* A hostile pointer for the argument itself, now and then. */
		if (rnd(s) % 32 == 0)
			arg = (void *)(uintptr_t)
			      (cmd == PINMDL_IOC_EXPORT_DMABUF ?
			       fuzz_fault_addr(s) : fuzz_addr(f, s));
		ret = pm_ioctl(f->fd, cmd, arg);
		if (!ret && arg == &a && cmd == PINMDL_IOC_CREATE)
			fuzz_keep(f, handles, a.c.handle, s);
		if (!ret && arg == &a && cmd == PINMDL_IOC_PARTIAL)
			fuzz_keep(f, handles, a.p.handle, s);
		if (!ret && arg == &a && cmd == PINMDL_IOC_TARGET_OPEN)
			fuzz_keep_target(f, targets, a.t.target, s);
		/* A dma-buf would keep its descriptor's pages pinned. */
		if (!ret && arg == &a && cmd == PINMDL_IOC_EXPORT_DMABUF)
			close(a.exp.fd);
	}
	if (!errno_allowed(-ret)) {
		__atomic_add_fetch(&f->bad, 1, __ATOMIC_RELAXED);
		f->bad_errno = -ret;
		f->bad_cmd = which;
	}
}

static void *fuzz_thread(void *p)
{
	struct fuzz *f = p;
	uint64_t s = f->seed ^ ((uint64_t)gettid() << 32) ^ 0x9e3779b97f4a7c15ULL;
	uint32_t handles[MAX_HANDLES], targets[MAX_TARGETS] = {};
	unsigned long i;

	for (i = 0; i < MAX_HANDLES; i++)
		handles[i] = 1 + i % 16;
	for (i = 0; f->deadline || i < f->per_thread; i++) {
		if (f->deadline && !(i % 256) && time(NULL) >= f->deadline)
			break;
		fuzz_call(f, handles, targets, &s);
	}
	__atomic_add_fetch(&f->done, i, __ATOMIC_RELAXED);
	return NULL;
}

/* Change the memory under the descriptors while the fuzzers run. */
static void *chaos_thread(void *p)
{
	struct fuzz *f = p;
	uint64_t s = f->seed ^ 0x1234567ULL;

	while (!f->stop) {
		size_t first = rnd(&s) % ARENA_PAGES;
		size_t n = 1 + rnd(&s) % (ARENA_PAGES - first);
		char *at = f->arena + first * PM_PAGE;

		switch (rnd(&s) % 5) {
		case 0:
			munmap(at, n * PM_PAGE);
			break;
		case 1:
			mmap(at, n * PM_PAGE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
			break;
		case 2:
			mprotect(at, n * PM_PAGE,
				 (int)(rnd(&s) % 4) & (PROT_READ | PROT_WRITE));
			break;
		case 3:
			madvise(at, n * PM_PAGE, MADV_DONTNEED);
			break;
		default:
			if (mmap(at, PM_PAGE, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
				 -1, 0) == at)
				memset(at, (int)rnd(&s), PM_PAGE);
			break;
		}
		usleep(200);
	}
	return NULL;
}

/* One process: fuzzer threads plus a chaos thread on a shared file. */
static unsigned long fuzz_process(struct fuzz *f)
{
	pthread_t t[FUZZ_THREADS], chaos;
	int i;

	/*
	 * The arena sits at the start of an inaccessible reservation many
	 * times its size, so no random range reaches the test's own memory.
	 */
	f->arena = mmap(NULL, ARENA_GUARD * ARENA_PAGES * PM_PAGE, PROT_NONE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (f->arena == MAP_FAILED ||
	    mprotect(f->arena, ARENA_PAGES * PM_PAGE, PROT_READ | PROT_WRITE))
		return 1;
	memset(f->arena, 0x5a, ARENA_PAGES * PM_PAGE);
	pthread_create(&chaos, NULL, chaos_thread, f);
	for (i = 0; i < FUZZ_THREADS; i++)
		pthread_create(&t[i], NULL, fuzz_thread, f);
	for (i = 0; i < FUZZ_THREADS; i++)
		pthread_join(t[i], NULL);
	f->stop = 1;
	pthread_join(chaos, NULL);
	return f->bad;
}

FIXTURE(fuzz)
{
};

FIXTURE_SETUP(fuzz)
{
}

FIXTURE_TEARDOWN(fuzz)
{
}

/* Long runs (make check-long, make soak) are bounded by the guest runner. */
TEST_F_TIMEOUT(fuzz, ioctls, 86400)
{
	const char *env_calls = getenv("PINMDL_FUZZ_CALLS");
	const char *env_seed = getenv("PINMDL_FUZZ_SEED");
	const char *env_secs = getenv("PINMDL_FUZZ_SECONDS");
	struct fuzz f = {};
	long pins = pm_pins();
	pid_t pids[FUZZ_PROCS];
	int i, status;

	f.calls = env_calls ? strtoul(env_calls, NULL, 0) : 20000;
	f.seed = env_seed ? strtoull(env_seed, NULL, 0) : (uint64_t)time(NULL);
	if (!f.seed)
		f.seed = 1;
	f.per_thread = f.calls / FUZZ_THREADS / (FUZZ_PROCS + 1);
	if (env_secs)
		f.deadline = time(NULL) + strtol(env_secs, NULL, 0);
	if (f.deadline)
		printf("# fuzz: for %s s, seed %llu (PINMDL_FUZZ_SEED)\n",
		       env_secs, f.seed);
	else
		printf("# fuzz: %lu calls, seed %llu (PINMDL_FUZZ_SEED)\n",
		       f.per_thread * FUZZ_THREADS * (FUZZ_PROCS + 1), f.seed);
	fflush(stdout);

	f.fd = pm_open();
	ASSERT_LE(0, f.fd);
	/*
	 * Two threads may both see POLLIN for one completion: the one that
	 * reads second must get EAGAIN, not wait for a completion that may
	 * never come.
	 */
	ASSERT_EQ(0, fcntl(f.fd, F_SETFL, O_NONBLOCK));
	/* Forked processes share the file: their calls on the parent's
	 * descriptors meet EPERM, their own work in the same table.
	 */
	for (i = 0; i < FUZZ_PROCS; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (!pids[i]) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			f.seed += i + 1;
			fuzz_process(&f);
			printf("# fuzz: process %d made %lu calls\n", i + 1,
			       f.done);
			fflush(stdout);
			if (f.bad)
				fprintf(stderr, "child: %lu bad errnos, last %d on call %d\n",
					f.bad, f.bad_errno, f.bad_cmd);
			/* Its locks stay with the shared file until close. */
			_exit(f.bad ? 1 : 0);
		}
	}
	EXPECT_EQ(0, fuzz_process(&f)) TH_LOG("errno %d on call kind %d",
					      f.bad_errno, f.bad_cmd);
	printf("# fuzz: process 0 made %lu calls\n", f.done);
	for (i = 0; i < FUZZ_PROCS; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		EXPECT_TRUE(WIFEXITED(status));
		EXPECT_EQ(0, WEXITSTATUS(status));
	}
	close(f.fd);
	/* Everything left locked was released at close. */
	EXPECT_EQ(pins, pm_pins());
	EXPECT_EQ(0, pm_vmpin_kb());
	EXPECT_EQ(0, pm_stat("pages_pinned"));
	EXPECT_EQ(0, pm_stat("descriptors_live"));
	printf("# fuzz: seed %llu done: %ld locks, %ld unlocks, peak %ld pages pinned, %ld leaks released, failures EINVAL %ld ENOENT %ld EPERM %ld EBUSY %ld EFAULT %ld ENOMEM %ld E2BIG %ld EACCES %ld EAGAIN %ld ENOTTY %ld\n",
	       f.seed, pm_stat("locks"), pm_stat("unlocks"),
	       pm_stat("pages_pinned_peak"), pm_stat("leaks_released"), pm_stat("failures_EINVAL"),
	       pm_stat("failures_ENOENT"), pm_stat("failures_EPERM"),
	       pm_stat("failures_EBUSY"), pm_stat("failures_EFAULT"),
	       pm_stat("failures_ENOMEM"), pm_stat("failures_E2BIG"),
	       pm_stat("failures_EACCES"), pm_stat("failures_EAGAIN"),
	       pm_stat("failures_ENOTTY"));
}

TEST_HARNESS_MAIN
