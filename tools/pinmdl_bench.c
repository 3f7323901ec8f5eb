// SPDX-License-Identifier: GPL-2.0
/*
 * pinmdl_bench: what a descriptor and the ioctl ABI cost over pinning pages
 * in the kernel with nothing around it, measured side by side in one run.
 *
 *   pinmdl_bench [--rounds N] [--max-pages N] [--max-io BYTES]
 *                [--max-big MIB] [--big-rounds N] [--only-big | --no-big]
 *
 * For anonymous 4 KiB pages, THP, hugetlb 2 MiB pages and memfd, and for
 * each page count, every round times one after the other:
 *   - pinmdl LOCK+UNLOCK of a reused descriptor, and CREATE+LOCK+UNLOCK+FREE,
 *     as user space sees them (two and four ioctls), locked for write;
 *   - the kernel's gup_test PIN_FAST_BENCHMARK and PIN_LONGTERM_BENCHMARK
 *     on the same memory and page count, with the flags of pinmdl's write
 *     lock (FOLL_WRITE | FOLL_LONGTERM), as whole ioctls and as their own
 *     in-kernel pin+unpin time (get_delta_usec + put_delta_usec);
 *   - pinmdl's own in-kernel LOCK and UNLOCK time (debugfs pinmdl/timing),
 *     the descriptor's work with the system calls around it left out;
 *   - io_uring's IORING_REGISTER_BUFFERS and IORING_UNREGISTER_BUFFERS of
 *     the same range as one iovec (two system calls, as LOCK+UNLOCK), the
 *     kernel's own "lock this buffer for zero-copy I/O": it pins with
 *     FOLL_WRITE | FOLL_LONGTERM too.
 * The floor is the smaller gup_test in-kernel time: the pages pinned and
 * unpinned with no system call and no descriptor at all. gup_test reports
 * whole microseconds, so below MIN_BATCH pages its in-kernel time is taken
 * over as many calls of that many pages as make MIN_BATCH, pinned in one
 * ioctl, and divided. gup_test unpins all of them at once, which releases
 * a huge folio once for every call that pinned part of it: below 512 pages
 * of THP or hugetlb the floor's put is cheaper than any per-call unpin.
 * PIN_LONGTERM_BENCHMARK pins with pin_user_pages() under mmap_lock, taken
 * outside its timed part; PIN_FAST_BENCHMARK with pin_user_pages_fast(),
 * as pinmdl does.
 *
 * Then direct I/O (LOCK, SUBMIT CHECKSUM, UNLOCK) against SUBMIT_BUFFERED
 * CHECKSUM from 4 KiB up; the request path of targets (IO CHECKSUM) against
 * SUBMIT, and a DELAY 0 round trip; and the descriptor memory a page from
 * debugfs.
 * Each figure is the median of the rounds, and each ratio the median of
 * the ratios of the rounds, so that a slow spell of the machine running
 * the guest moves both sides of a ratio alike. Lines for machines:
 *   RATIO <metric> <memory> <pages> <value>
 *   SPLIT <memory> <pages> <lock> <unlock> <floor get> <floor put> (usec)
 *   MEM bytes_per_page <value>, MEM header_bytes <value>
 *   PLOT <memory> <method> <pages> <usec>, IO <method> <bytes> <usec>
 *   ROUNDTRIP delay0 <async|sync> <usec>
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/pinmdl.h>

#include "pinmdl_bench_util.h"
#include <liburing.h>

#include "gup_test.h"

#define PAGE		4096UL
#define HPAGE		(2UL << 20)
/*
 * From the enum in the bench kernel's (7.3, as 6.12) mm_types.h, as its gup_test
 * does; 6.1 numbers them otherwise.
 */
#define FOLL_WRITE	0x01
#define FOLL_LONGTERM	0x100
#define MIN_BATCH	16384	/* pages timed together at the least */
#define MAX_ROUNDS	101
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static const unsigned long page_counts[] = { 1, 16, 512, 4096, 65536, 262144 };

/* What a round times; the floor is the smaller of the two kernel times. */
enum method { LOCK_UNLOCK, CREATE_FREE, PIN_FAST, PIN_LONGTERM, FAST_KERNEL,
	      LONGTERM_KERNEL, LOCK_UNLOCK_KERNEL, URING_REGISTER, NR_METHODS };

static const char *const method_names[NR_METHODS] = {
	"lock_unlock", "create_lock_unlock_free", "gup_pin_fast",
	"gup_pin_longterm", "gup_pin_fast_kernel", "gup_pin_longterm_kernel",
	"lock_unlock_kernel", "uring_register",
};

#define TIMING	"/sys/kernel/debug/pinmdl/timing"

struct memory {
	const char *name;
	char *buf;
	size_t len;
	size_t map_len;
	char *map;
};

static int dev_fd, gup_fd, rounds = 21;
static struct io_uring ring;

static uint32_t create(void *addr, size_t len)
{
	struct pinmdl_create c = { .addr = (uintptr_t)addr, .length = len };

	xioctl(dev_fd, PINMDL_IOC_CREATE, &c, "CREATE");
	return c.handle;
}

static void lock(uint32_t h, uint32_t op)
{
	struct pinmdl_lock l = { .handle = h, .access_mode = PINMDL_USER_MODE,
				 .operation = op };

	xioctl(dev_fd, PINMDL_IOC_LOCK, &l, "LOCK");
}

static void unlock(uint32_t h)
{
	struct pinmdl_handle_arg a = { .handle = h };

	xioctl(dev_fd, PINMDL_IOC_UNLOCK, &a, "UNLOCK");
}

static void destroy(uint32_t h)
{
	struct pinmdl_handle_arg a = { .handle = h };

	xioctl(dev_fd, PINMDL_IOC_FREE, &a, "FREE");
}

/*
 * Calls of @pages pages a round makes, so that it times MIN_BATCH pages,
 * or as many as @m holds.
 */
static int batch(const struct memory *m, unsigned long pages)
{
	unsigned long most = m->len / PAGE < MIN_BATCH ? m->len / PAGE :
			     MIN_BATCH;

	return pages < most ? most / pages : 1;
}

static double time_lock_unlock(uint32_t h, int calls)
{
	double t = now_usec();
	int i;

	for (i = 0; i < calls; i++) {
		lock(h, PINMDL_IO_WRITE_ACCESS);
		unlock(h);
	}
	return (now_usec() - t) / calls;
}

/* io_uring's registration and unregistration of @pages pages at @buf. */
static double time_uring_register(char *buf, unsigned long pages, int calls)
{
	struct iovec iov = { .iov_base = buf, .iov_len = pages * PAGE };
	double t = now_usec();
	int i, ret;

	for (i = 0; i < calls; i++) {
		ret = io_uring_register_buffers(&ring, &iov, 1);
		if (!ret)
			ret = io_uring_unregister_buffers(&ring);
		if (ret) {
			errno = -ret;
			die("io_uring buffer registration");
		}
	}
	return (now_usec() - t) / calls;
}

static double time_create_free(char *buf, unsigned long pages, int calls)
{
	double t = now_usec();
	uint32_t h;
	int i;

	for (i = 0; i < calls; i++) {
		h = create(buf, pages * PAGE);
		lock(h, PINMDL_IO_WRITE_ACCESS);
		unlock(h);
		destroy(h);
	}
	return (now_usec() - t) / calls;
}

static struct gup_test gup_args(char *buf, unsigned long pages,
				unsigned long per_call)
{
	struct gup_test g = {
		.addr = (uintptr_t)buf,
		.size = pages * PAGE,
		.nr_pages_per_call = per_call,
		.gup_flags = FOLL_WRITE | FOLL_LONGTERM,
	};

	return g;
}

/* Whole gup_test ioctls of @pages pages, as user space sees them. */
static double time_gup_ioctl(unsigned long cmd, char *buf,
			     unsigned long pages, int calls)
{
	struct gup_test g;
	double t = now_usec();
	int i;

	for (i = 0; i < calls; i++) {
		g = gup_args(buf, pages, pages);
		xioctl(gup_fd, cmd, &g, "gup_test");
		if (g.size != pages * PAGE) {
			errno = EFAULT;
			die("gup_test pinned part of the range");
		}
	}
	return (now_usec() - t) / calls;
}

/*
 * gup_test's own pin and unpin times for @pages pages, in calls of that
 * many, into @split; return their sum.
 */
static double time_gup_kernel(unsigned long cmd, char *buf,
			      unsigned long pages, int calls, double *split)
{
	struct gup_test g = gup_args(buf, pages * calls, pages);

	xioctl(gup_fd, cmd, &g, "gup_test");
	if (g.size != pages * calls * PAGE) {
		errno = EFAULT;
		die("gup_test pinned part of the range");
	}
	split[0] = (double)g.get_delta_usec / calls;
	split[1] = (double)g.put_delta_usec / calls;
	return split[0] + split[1];
}

/* Fault every page in, writing, so that no lock or pin faults. */
static void touch(struct memory *m)
{
	size_t off;

	for (off = 0; off < m->len; off += PAGE)
		m->buf[off] = (char)(off / PAGE * 7 + 1);
}

/*
 * Map @len bytes of @m->name memory, 2 MiB aligned, and leave it
 * untouched. Return 0, or -1 when the guest cannot provide it (no hugetlb
 * pages or THP).
 */
static int memory_map_untouched(struct memory *m, size_t len)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS, fd = -1;

	m->len = len;
	m->map_len = len + HPAGE;
	if (!strcmp(m->name, "hugetlb")) {
		m->map_len = len;
		flags |= MAP_HUGETLB;
	} else if (!strcmp(m->name, "memfd")) {
		fd = memfd_create("pinmdl_bench", 0);
		if (fd < 0 || ftruncate(fd, len))
			die("memfd");
		m->map_len = len;
		flags = MAP_SHARED;
	}
	m->map = mmap(NULL, m->map_len, PROT_READ | PROT_WRITE, flags, fd, 0);
	if (fd >= 0)
		close(fd);
	if (m->map == MAP_FAILED)
		return -1;
	m->buf = m->map;
	if (!strcmp(m->name, "4k") || !strcmp(m->name, "thp")) {
		m->buf = (char *)(((uintptr_t)m->map + HPAGE - 1) & ~(HPAGE - 1));
		if (madvise(m->buf, len, strcmp(m->name, "thp") ?
			    MADV_NOHUGEPAGE : MADV_HUGEPAGE))
			die("madvise");
	}
	return 0;
}

/* The same, every page faulted in. */
static int memory_map(struct memory *m, size_t len)
{
	if (memory_map_untouched(m, len))
		return -1;
	touch(m);
	return 0;
}

/* The number after "@key@sep" on a line of @path, or -1. */
static long file_field(const char *path, const char *key, char sep)
{
	FILE *f = fopen(path, "r");
	size_t n = strlen(key);
	char line[256];
	long v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == sep)
			v = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return v;
}

static void timing_switch(const char *on)
{
	int fd = open(TIMING, O_WRONLY);

	if (fd < 0 || write(fd, on, 1) != 1)
		die(TIMING);
	close(fd);
}

/* A number of debugfs pinmdl/timing; the file must have it. */
static long timing_read(const char *name)
{
	long v = file_field(TIMING, name, ' ');

	if (v < 0) {
		errno = ENOENT;
		die(name);
	}
	return v;
}

/*
 * The in-kernel time of LOCK and UNLOCK, as pinmdl/timing counts it, for
 * @calls of each, into @split; return their sum. Switching timing on and
 * off patches the code of LOCK and UNLOCK, which QEMU then translates
 * anew: one LOCK+UNLOCK after each switch, timed by no one, pays for that.
 */
static double time_lock_unlock_kernel(uint32_t h, int calls, double *split)
{
	int i;

	timing_switch("1");
	lock(h, PINMDL_IO_WRITE_ACCESS);
	unlock(h);
	timing_switch("1");
	for (i = 0; i < calls; i++) {
		lock(h, PINMDL_IO_WRITE_ACCESS);
		unlock(h);
	}
	timing_switch("0");
	lock(h, PINMDL_IO_WRITE_ACCESS);
	unlock(h);
	if (timing_read("locks") != calls || timing_read("unlocks") != calls) {
		errno = EPROTO;
		die("pinmdl/timing counted other calls");
	}
	split[0] = timing_read("lock_ns") / 1e3 / calls;
	split[1] = timing_read("unlock_ns") / 1e3 / calls;
	return split[0] + split[1];
}

/*
 * One timing of @method on @pages pages of @m, in usec a call; the kernel
 * methods also give their pin and unpin parts in @split.
 */
static double time_method(enum method method, struct memory *m, uint32_t h,
			  unsigned long pages, double *split)
{
	int calls = batch(m, pages);

	switch (method) {
	case LOCK_UNLOCK:
		return time_lock_unlock(h, calls);
	case CREATE_FREE:
		return time_create_free(m->buf, pages, calls);
	case PIN_FAST:
		return time_gup_ioctl(PIN_FAST_BENCHMARK, m->buf, pages, calls);
	case PIN_LONGTERM:
		return time_gup_ioctl(PIN_LONGTERM_BENCHMARK, m->buf, pages,
				      calls);
	case FAST_KERNEL:
		return time_gup_kernel(PIN_FAST_BENCHMARK, m->buf, pages,
				       calls, split);
	case LONGTERM_KERNEL:
		return time_gup_kernel(PIN_LONGTERM_BENCHMARK, m->buf, pages,
				       calls, split);
	case LOCK_UNLOCK_KERNEL:
		return time_lock_unlock_kernel(h, calls, split);
	case URING_REGISTER:
		return time_uring_register(m->buf, pages, calls);
	default:
		abort();
	}
}

/*
 * Medians of a page count's rounds; ratios are taken round by round. The
 * splits are pinmdl's in-kernel lock and unlock and the floor's get and put.
 */
struct result {
	double usec[NR_METHODS];
	double floor;
	double vs_floor;
	double vs_gup;
	double kernel_vs_floor;
	double vs_uring;
	double split[4];
};

/*
 * Time every method on @pages pages of @m, rounds times, rotating the order
 * so that no method always runs first.
 */
static void bench_count(struct memory *m, unsigned long pages,
			struct result *res)
{
	static double samples[NR_METHODS][MAX_ROUNDS], floor[MAX_ROUNDS],
		      vs_floor[MAX_ROUNDS], vs_gup[MAX_ROUNDS],
		      kernel_vs_floor[MAX_ROUNDS], vs_uring[MAX_ROUNDS],
		      split[4][MAX_ROUNDS];
	double parts[NR_METHODS][2];
	uint32_t h = create(m->buf, pages * PAGE);
	int r, k, method, fl;

	for (r = 0; r < rounds; r++) {
		for (k = 0; k < NR_METHODS; k++) {
			method = (r + k) % NR_METHODS;
			samples[method][r] = time_method(method, m, h, pages,
							 parts[method]);
		}
		fl = samples[FAST_KERNEL][r] < samples[LONGTERM_KERNEL][r] ?
		     FAST_KERNEL : LONGTERM_KERNEL;
		floor[r] = samples[fl][r];
		vs_floor[r] = samples[LOCK_UNLOCK][r] / floor[r];
		vs_gup[r] = samples[LOCK_UNLOCK][r] / samples[PIN_LONGTERM][r];
		kernel_vs_floor[r] = samples[LOCK_UNLOCK_KERNEL][r] / floor[r];
		vs_uring[r] = samples[LOCK_UNLOCK][r] /
			      samples[URING_REGISTER][r];
		split[0][r] = parts[LOCK_UNLOCK_KERNEL][0];
		split[1][r] = parts[LOCK_UNLOCK_KERNEL][1];
		split[2][r] = parts[fl][0];
		split[3][r] = parts[fl][1];
	}
	destroy(h);
	for (k = 0; k < NR_METHODS; k++)
		res->usec[k] = median(samples[k], rounds);
	for (k = 0; k < 4; k++)
		res->split[k] = median(split[k], rounds);
	res->floor = median(floor, rounds);
	res->vs_floor = median(vs_floor, rounds);
	res->vs_gup = median(vs_gup, rounds);
	res->kernel_vs_floor = median(kernel_vs_floor, rounds);
	res->vs_uring = median(vs_uring, rounds);
}

#define NR_COUNTS	ARRAY_SIZE(page_counts)

/* The pinning benchmark on one kind of memory, up to @max_pages pages. */
static void bench_memory(const char *name, unsigned long max_pages)
{
	struct memory m = { .name = name };
	struct result res[NR_COUNTS], *r;
	size_t i, n;
	int k;

	if (memory_map(&m, max_pages * PAGE)) {
		printf("\n%s: skipped, no such memory (%s)\n", name,
		       strerror(errno));
		return;
	}
	printf("\n%s", name);
	if (!strcmp(name, "thp"))
		printf(" (%ld of %zu kB in huge pages)",
		       file_field("/proc/self/smaps_rollup", "AnonHugePages",
				  ':'), m.len >> 10);
	printf(", usec an operation:\n%7s %10s %12s %10s %12s %9s %7s %5s"
	       " %10s %6s | %9s %7s %8s %8s %8s %8s\n", "pages", "lock+unl",
	       "create..free", "gup_fast", "gup_longterm", "floor", "/floor",
	       "/gup", "uring_reg", "/uring", "in-kernel", "/floor", "lock",
	       "unlock", "get", "put");
	for (n = 0; n < NR_COUNTS && page_counts[n] <= max_pages; n++) {
		r = &res[n];
		bench_count(&m, page_counts[n], r);
		printf("%7lu %10.1f %12.1f %10.1f %12.1f %9.2f %6.2fx %4.2fx"
		       " %10.1f %5.2fx | %9.2f %6.2fx %8.2f %8.2f %8.2f %8.2f\n",
		       page_counts[n], r->usec[LOCK_UNLOCK],
		       r->usec[CREATE_FREE], r->usec[PIN_FAST],
		       r->usec[PIN_LONGTERM], r->floor, r->vs_floor,
		       r->vs_gup, r->usec[URING_REGISTER], r->vs_uring,
		       r->usec[LOCK_UNLOCK_KERNEL],
		       r->kernel_vs_floor, r->split[0], r->split[1],
		       r->split[2], r->split[3]);
		fflush(stdout);
	}
	munmap(m.map, m.map_len);

	for (i = 0; i < n; i++) {
		printf("RATIO lock_unlock_vs_floor %s %lu %.3f\n", name,
		       page_counts[i], res[i].vs_floor);
		printf("RATIO lock_unlock_vs_gup %s %lu %.3f\n", name,
		       page_counts[i], res[i].vs_gup);
		printf("RATIO kernel_vs_floor %s %lu %.3f\n", name,
		       page_counts[i], res[i].kernel_vs_floor);
		printf("RATIO lock_unlock_vs_uring_register %s %lu %.3f\n",
		       name, page_counts[i], res[i].vs_uring);
		printf("SPLIT %s %lu %.3f %.3f %.3f %.3f\n", name,
		       page_counts[i], res[i].split[0], res[i].split[1],
		       res[i].split[2], res[i].split[3]);
	}
	for (i = 0; i < n; i++) {
		for (k = LOCK_UNLOCK; k <= PIN_LONGTERM; k++)
			printf("PLOT %s %s %lu %.3f\n", name, method_names[k],
			       page_counts[i], res[i].usec[k]);
		for (k = LOCK_UNLOCK_KERNEL; k <= URING_REGISTER; k++)
			printf("PLOT %s %s %lu %.3f\n", name, method_names[k],
			       page_counts[i], res[i].usec[k]);
		printf("PLOT %s floor %lu %.3f\n", name, page_counts[i],
		       res[i].floor);
	}
}

/* Queue a LOCK or UNLOCK command of descriptor @h on @cring. */
static void lock_cmd(struct io_uring *cring, unsigned int op, uint32_t h)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(cring);
	struct pinmdl_lock l = { .handle = h, .access_mode = PINMDL_USER_MODE,
				 .operation = PINMDL_IO_WRITE_ACCESS };
	struct pinmdl_handle_arg a = { .handle = h };

	if (!sqe)
		die("io_uring_get_sqe");
	memset(sqe, 0, 128);
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = dev_fd;
	sqe->cmd_op = op;
	if (op == PINMDL_IOC_LOCK)
		memcpy(sqe->cmd, &l, sizeof(l));
	else
		memcpy(sqe->cmd, &a, sizeof(a));
}

/* @n commands @op of @h[] in one io_uring_enter(), and their CQEs. */
static void cmd_batch(struct io_uring *cring, unsigned int op,
		      const uint32_t *h, int n)
{
	struct io_uring_cqe *cqe;
	int i;

	for (i = 0; i < n; i++)
		lock_cmd(cring, op, h[i]);
	if (io_uring_submit_and_wait(cring, n) != n)
		die("io_uring_submit_and_wait");
	for (i = 0; i < n; i++) {
		if (io_uring_wait_cqe(cring, &cqe))
			die("io_uring_wait_cqe");
		if (cqe->res) {
			errno = -cqe->res;
			die("LOCK or UNLOCK command");
		}
		io_uring_cqe_seen(cring, cqe);
	}
}

/*
 * LOCK+UNLOCK pairs through io_uring commands, @batch LOCKs then @batch
 * UNLOCKs an io_uring_enter(), of @pages pages each on @name memory,
 * against the floor (gup_test's in-kernel pin and unpin):
 *   RATIO uring_lock_unlock_vs_floor <memory> <pages> <batch> <value>
 */
static void bench_uring_locks(const char *name)
{
	static const unsigned long counts[] = { 1, 16, 512 };
	static const int batches[] = { 1, 8, 32 };
	double t[MAX_ROUNDS], r[MAX_ROUNDS], split[2], fl, lt;
	struct io_uring cring;
	struct memory m = { .name = name };
	uint32_t h[32];
	size_t c, b;
	int k, i, j, calls;

	if (memory_map(&m, 32 * 512 * PAGE)) {
		printf("\n%s: no memory for the io_uring locks (%s)\n", name,
		       strerror(errno));
		return;
	}
	if (io_uring_queue_init(64, &cring, IORING_SETUP_SQE128 |
					    IORING_SETUP_CQE32))
		die("io_uring_queue_init of 128-byte SQEs");
	printf("\n%s, LOCK+UNLOCK through io_uring commands, usec a pair:\n"
	       "%7s %6s %10s %9s %7s\n", name, "pages", "batch", "lock+unl",
	       "floor", "/floor");
	for (c = 0; c < ARRAY_SIZE(counts); c++) {
		for (b = 0; b < ARRAY_SIZE(batches); b++) {
			int n = batches[b];

			for (i = 0; i < n; i++)
				h[i] = create(m.buf + i * 512 * PAGE,
					      counts[c] * PAGE);
			calls = 256 / n + 1;
			cmd_batch(&cring, PINMDL_IOC_LOCK, h, n);
			cmd_batch(&cring, PINMDL_IOC_UNLOCK, h, n);
			for (k = 0; k < rounds; k++) {
				double t0 = now_usec();

				for (j = 0; j < calls; j++) {
					cmd_batch(&cring, PINMDL_IOC_LOCK, h, n);
					cmd_batch(&cring, PINMDL_IOC_UNLOCK, h,
						  n);
				}
				t[k] = (now_usec() - t0) / (calls * n);
				/* As many pages as the memory holds. */
				fl = time_gup_kernel(PIN_FAST_BENCHMARK, m.buf,
						     counts[c],
						     16384 / counts[c], split);
				lt = time_gup_kernel(PIN_LONGTERM_BENCHMARK,
						     m.buf, counts[c],
						     16384 / counts[c], split);
				fl = lt < fl ? lt : fl;
				r[k] = t[k] / fl;
			}
			for (i = 0; i < n; i++)
				destroy(h[i]);
			printf("%7lu %6d %10.2f %9.2f %6.2fx\n", counts[c], n,
			       median(t, rounds), median(t, rounds) /
			       median(r, rounds), median(r, rounds));
			printf("RATIO uring_lock_unlock_vs_floor %s %lu %d "
			       "%.3f\n", name, counts[c], n, median(r, rounds));
			fflush(stdout);
		}
	}
	io_uring_queue_exit(&cring);
	munmap(m.map, m.map_len);
}

/* Checksum of @len bytes at @buf through a locked descriptor. */
static uint64_t checksum_direct(uint32_t h, size_t len)
{
	struct pinmdl_submit s = { .handle = h, .op = PINMDL_LOWER_CHECKSUM,
				   .length = len };

	lock(h, PINMDL_IO_READ_ACCESS);
	xioctl(dev_fd, PINMDL_IOC_SUBMIT, &s, "SUBMIT");
	unlock(h);
	return s.result;
}

static uint64_t checksum_buffered(char *buf, size_t len)
{
	struct pinmdl_submit_buffered s = { .addr = (uintptr_t)buf,
					    .length = len,
					    .op = PINMDL_LOWER_CHECKSUM };

	xioctl(dev_fd, PINMDL_IOC_SUBMIT_BUFFERED, &s, "SUBMIT_BUFFERED");
	return s.result;
}

/*
 * Direct I/O against METHOD_BUFFERED on 4 KiB anonymous memory, 4 KiB to
 * @max_bytes: both checksum the same bytes, and must agree.
 */
static void bench_io(size_t max_bytes)
{
	static double direct[MAX_ROUNDS], buffered[MAX_ROUNDS],
		      ratio[MAX_ROUNDS];
	double d[16], b[16], q[16], t;
	struct memory m = { .name = "4k" };
	size_t len, crossover = 0;
	uint64_t sum_d = 0, sum_b = 0;
	int r, calls, i, n;
	uint32_t h;

	if (memory_map(&m, max_bytes))
		die("mmap");
	printf("\ndirect (LOCK, SUBMIT CHECKSUM, UNLOCK) against SUBMIT_BUFFERED"
	       " CHECKSUM, usec an operation:\n%10s %10s %10s %7s\n",
	       "bytes", "direct", "buffered", "ratio");
	for (n = 0, len = PAGE; len <= max_bytes && n < 16; n++, len *= 4) {
		h = create(m.buf, len);
		calls = len < (1 << 20) ? (1 << 20) / len : 1;
		for (r = 0; r < rounds; r++) {
			t = now_usec();
			for (i = 0; i < calls; i++)
				sum_d = checksum_direct(h, len);
			direct[r] = (now_usec() - t) / calls;
			t = now_usec();
			for (i = 0; i < calls; i++)
				sum_b = checksum_buffered(m.buf, len);
			buffered[r] = (now_usec() - t) / calls;
			ratio[r] = direct[r] / buffered[r];
		}
		destroy(h);
		if (sum_d != sum_b) {
			errno = EIO;
			die("direct and buffered checksums differ");
		}
		d[n] = median(direct, rounds);
		b[n] = median(buffered, rounds);
		q[n] = median(ratio, rounds);
		if (q[n] >= 1)
			crossover = 0;
		else if (!crossover)
			crossover = len;
		printf("%10zu %10.1f %10.1f %6.2fx\n", len, d[n], b[n], q[n]);
		fflush(stdout);
	}
	munmap(m.map, m.map_len);
	if (crossover)
		printf("direct is faster from %zu bytes up\n", crossover);
	else
		printf("direct is not faster at %zu bytes\n", len / 4);
	for (i = 0, len = PAGE; i < n; i++, len *= 4)
		printf("RATIO direct_vs_buffered 4k %zu %.3f\n"
		       "IO direct %zu %.3f\nIO buffered %zu %.3f\n",
		       len / PAGE, q[i], len, d[i], len, b[i]);
}

/* Open target @name of /dev/pinmdl; return its id. */
static uint32_t target_open(const char *name)
{
	struct pinmdl_target_open o = { .name = (uintptr_t)name, .fd = -1 };

	xioctl(dev_fd, PINMDL_IOC_TARGET_OPEN, &o, "TARGET_OPEN");
	return o.target;
}

/* LOCK, one IO CHECKSUM of the whole descriptor to @target, UNLOCK. */
static uint64_t checksum_io(uint32_t target, uint32_t h, size_t len)
{
	struct pinmdl_segment seg = { .handle = h, .length = len };
	struct pinmdl_io io = { .target = target,
				.op = PINMDL_LOWER_CHECKSUM,
				.segments = (uintptr_t)&seg, .nr_segments = 1 };

	lock(h, PINMDL_IO_READ_ACCESS);
	xioctl(dev_fd, PINMDL_IOC_IO, &io, "IO");
	unlock(h);
	return io.result;
}

/*
 * The request path of targets against SUBMIT, side by side: LOCK, IO
 * CHECKSUM, UNLOCK against LOCK, SUBMIT CHECKSUM, UNLOCK, 4 KiB to
 * @max_bytes; then the round trip of one asynchronous DELAY 0 (IO, then
 * read(2) of its completion) and of a synchronous one.
 */
/*
 * CHECKSUMs of @pages pages kept 32 in flight on pinmdl_lower, @n of
 * them: through IO ioctls and read(2) of their completions, or (@uring)
 * through IO commands on @cring. Usec a request.
 */
static double time_checksum_qd32(struct io_uring *cring, bool uring,
				  uint32_t target, uint32_t h,
				  unsigned long pages, int n)
{
	struct pinmdl_segment seg = { .handle = h, .length = pages * PAGE };
	struct pinmdl_io io = { .target = target, .op = PINMDL_LOWER_CHECKSUM,
				.segments = (uintptr_t)&seg, .nr_segments = 1,
				.flags = uring ? 0 : PINMDL_SUBMIT_ASYNC };
	struct pinmdl_completion c;
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	int sent = 0, done = 0;
	double t = now_usec();

	while (done < n) {
		for (; sent < n && sent - done < 32; sent++) {
			if (!uring) {
				xioctl(dev_fd, PINMDL_IOC_IO, &io, "IO");
				continue;
			}
			sqe = io_uring_get_sqe(cring);
			if (!sqe)
				die("io_uring_get_sqe");
			memset(sqe, 0, 128);
			sqe->opcode = IORING_OP_URING_CMD;
			sqe->fd = dev_fd;
			sqe->cmd_op = PINMDL_IOC_IO;
			memcpy(sqe->cmd, &io, sizeof(io));
		}
		if (!uring) {
			if (read(dev_fd, &c, sizeof(c)) != sizeof(c) || c.status)
				die("completion of CHECKSUM");
		} else {
			if (io_uring_submit_and_wait(cring, 1) < 0 ||
			    io_uring_wait_cqe(cring, &cqe) || cqe->res)
				die("CQE of CHECKSUM");
			io_uring_cqe_seen(cring, cqe);
		}
		done++;
	}
	return (now_usec() - t) / n;
}

/*
 * CHECKSUM at queue depth 32 through IO commands against IO ioctls and
 * read(2) of their completions, of 1 and 16 pages:
 *   RATIO checksum_qd32_uring_vs_ioctl 4k <pages> <value>
 */
static void bench_checksum_qd32(void)
{
	static const unsigned long counts[] = { 1, 16 };
	double r[MAX_ROUNDS], a[MAX_ROUNDS], b[MAX_ROUNDS];
	struct memory m = { .name = "4k" };
	struct io_uring cring;
	uint32_t target, h;
	size_t c;
	int k;

	if (memory_map(&m, 16 * PAGE))
		die("mmap");
	if (io_uring_queue_init(64, &cring, IORING_SETUP_SQE128 |
					    IORING_SETUP_CQE32))
		die("io_uring_queue_init of 128-byte SQEs");
	target = target_open("pinmdl_lower");
	h = create(m.buf, 16 * PAGE);
	lock(h, PINMDL_IO_READ_ACCESS);
	printf("\nCHECKSUM at queue depth 32, usec a request:\n"
	       "%7s %10s %10s %7s\n", "pages", "ioctl", "uring", "ratio");
	for (c = 0; c < ARRAY_SIZE(counts); c++) {
		for (k = 0; k < rounds; k++) {
			a[k] = time_checksum_qd32(&cring, false, target, h,
						  counts[c], 2048);
			b[k] = time_checksum_qd32(&cring, true, target, h,
						  counts[c], 2048);
			r[k] = b[k] / a[k];
		}
		printf("%7lu %10.2f %10.2f %6.3fx\n", counts[c],
		       median(a, rounds), median(b, rounds), median(r, rounds));
		printf("RATIO checksum_qd32_uring_vs_ioctl 4k %lu %.3f\n",
		       counts[c], median(r, rounds));
		fflush(stdout);
	}
	unlock(h);
	destroy(h);
	io_uring_queue_exit(&cring);
	munmap(m.map, m.map_len);
}

static void bench_requests(size_t max_bytes)
{
	static double via_io[MAX_ROUNDS], via_submit[MAX_ROUNDS],
		      ratio[MAX_ROUNDS], async_rt[MAX_ROUNDS],
		      sync_rt[MAX_ROUNDS];
	struct pinmdl_io delay = { .op = PINMDL_LOWER_DELAY,
				   .flags = PINMDL_SUBMIT_ASYNC };
	struct memory m = { .name = "4k" };
	uint64_t sum_io = 0, sum_submit = 0;
	struct pinmdl_completion c;
	int r, calls, i;
	uint32_t target, h;
	size_t len;
	double t;

	if (memory_map(&m, max_bytes))
		die("mmap");
	target = target_open("pinmdl_lower");
	printf("\nrequests: LOCK+IO(CHECKSUM)+UNLOCK against "
	       "LOCK+SUBMIT(CHECKSUM)+UNLOCK, usec an operation:\n"
	       "%10s %10s %10s %7s\n", "bytes", "io", "submit", "ratio");
	for (len = PAGE; len <= max_bytes; len *= 4) {
		h = create(m.buf, len);
		/* At least 4 MiB a round: one call alone is too noisy. */
		calls = len < (4 << 20) ? (4 << 20) / len : 1;
		for (r = 0; r < rounds; r++) {
			t = now_usec();
			for (i = 0; i < calls; i++)
				sum_io = checksum_io(target, h, len);
			via_io[r] = (now_usec() - t) / calls;
			t = now_usec();
			for (i = 0; i < calls; i++)
				sum_submit = checksum_direct(h, len);
			via_submit[r] = (now_usec() - t) / calls;
			ratio[r] = via_io[r] / via_submit[r];
		}
		destroy(h);
		if (sum_io != sum_submit) {
			errno = EIO;
			die("IO and SUBMIT checksums differ");
		}
		printf("%10zu %10.1f %10.1f %6.3fx\n", len,
		       median(via_io, rounds), median(via_submit, rounds),
		       median(ratio, rounds));
		printf("RATIO io_vs_submit 4k %zu %.3f\n", len / PAGE,
		       median(ratio, rounds));
		fflush(stdout);
	}
	munmap(m.map, m.map_len);

	delay.target = target;
	calls = 256;
	for (r = 0; r < rounds; r++) {
		t = now_usec();
		for (i = 0; i < calls; i++) {
			xioctl(dev_fd, PINMDL_IOC_IO, &delay, "IO DELAY");
			if (read(dev_fd, &c, sizeof(c)) != sizeof(c) ||
			    c.status)
				die("completion of DELAY 0");
		}
		async_rt[r] = (now_usec() - t) / calls;
		delay.flags = 0;
		t = now_usec();
		for (i = 0; i < calls; i++)
			xioctl(dev_fd, PINMDL_IOC_IO, &delay, "IO DELAY");
		sync_rt[r] = (now_usec() - t) / calls;
		delay.flags = PINMDL_SUBMIT_ASYNC;
	}
	printf("DELAY 0 round trip: %.1f usec asynchronous (IO, read(2) of "
	       "its completion), %.1f usec synchronous\n",
	       median(async_rt, rounds), median(sync_rt, rounds));
	printf("ROUNDTRIP delay0 async %.3f\nROUNDTRIP delay0 sync %.3f\n",
	       median(async_rt, rounds), median(sync_rt, rounds));
}

/* A counter of debugfs pinmdl/stats. */
static long stat_read(const char *name)
{
	long v = file_field("/sys/kernel/debug/pinmdl/stats", name, ' ');

	if (v < 0) {
		errno = ENOENT;
		die(name);
	}
	return v;
}

/*
 * Descriptor memory while locked, as the allocator set it aside (an
 * unlocked descriptor is its header alone): the cost a page is the slope
 * between the two largest descriptors, the fixed part the most left over
 * beyond 8 bytes a page at any size (header and allocator rounding).
 */
static void bench_memory_use(unsigned long max_pages)
{
	size_t len = max_pages * PAGE, n;
	long base = stat_read("descriptor_bytes"), bytes[NR_COUNTS];
	long header = 0, over;
	char *va = mmap(NULL, len, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint32_t h;

	if (va == MAP_FAILED)
		die("mmap");
	printf("\ndescriptor memory:\n%7s %10s %10s\n", "pages", "bytes",
	       "a page");
	for (n = 0; n < NR_COUNTS && page_counts[n] <= max_pages; n++) {
		h = create(va, page_counts[n] * PAGE);
		lock(h, PINMDL_IO_WRITE_ACCESS);
		bytes[n] = stat_read("descriptor_bytes") - base;
		unlock(h);
		destroy(h);
		over = bytes[n] - 8 * (long)page_counts[n];
		if (over > header)
			header = over;
		printf("%7lu %10ld %10.2f\n", page_counts[n], bytes[n],
		       (double)bytes[n] / page_counts[n]);
	}
	munmap(va, len);
	printf("MEM bytes_per_page %.3f\nMEM header_bytes %ld\n",
	       (double)(bytes[n - 1] - bytes[n - 2]) /
	       (page_counts[n - 1] - page_counts[n - 2]), header);
}

/*
 * What a system call costs here, the least each ioctl of LOCK+UNLOCK adds
 * to the floor: getppid(), and an UNLOCK that finds no descriptor.
 */
static void bench_syscall(void)
{
	static double sys[MAX_ROUNDS], nop[MAX_ROUNDS];
	struct pinmdl_handle_arg a = { .handle = 0 };
	int r, i, calls = 4096;
	double t;

	for (r = 0; r < rounds; r++) {
		t = now_usec();
		for (i = 0; i < calls; i++)
			getppid();
		sys[r] = (now_usec() - t) / calls;
		t = now_usec();
		for (i = 0; i < calls; i++)
			if (!ioctl(dev_fd, PINMDL_IOC_UNLOCK, &a) ||
			    errno != ENOENT)
				die("UNLOCK of handle 0");
		nop[r] = (now_usec() - t) / calls;
	}
	printf("\nsystem call: %.2f usec (getppid), %.2f usec (UNLOCK of no "
	       "descriptor)\n", median(sys, rounds), median(nop, rounds));
}

#define PARAMS	"/sys/module/pinmdl/parameters/"

static void set_param(const char *name, const char *val)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), PARAMS "%s", name);
	fd = open(path, O_WRONLY);
	if (fd < 0 || write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		die(path);
	close(fd);
}

/*
 * The wake-up probes: a SCHED_FIFO thread on each CPU that sleeps 1 ms at
 * a time and keeps the longest it overslept. Kernel work that does not
 * reschedule holds its CPU's probe off, so while a LOCK or an UNLOCK runs
 * (the locker's, and its workers' on other CPUs), the longest oversleep is
 * the longest a CPU went without rescheduling.
 */
#define MAX_PROBES	64

static volatile int probe_on;
static double probe_max[MAX_PROBES];
static pthread_t probes[MAX_PROBES];
static long nr_probes;

static void *probe(void *arg)
{
	struct sched_param sp = { .sched_priority = 1 };
	struct timespec ms = { 0, 1000000 };
	long cpu = (long)arg;
	double t, late;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity");
	if (sched_setscheduler(0, SCHED_FIFO, &sp))
		die("SCHED_FIFO");
	while (probe_on) {
		t = now_usec();
		nanosleep(&ms, NULL);
		late = now_usec() - t - 1000;
		if (late > probe_max[cpu])
			probe_max[cpu] = late;
	}
	return NULL;
}

static void probe_start(void)
{
	struct timespec settle = { 0, 20000000 };
	long cpu;

	nr_probes = sysconf(_SC_NPROCESSORS_ONLN);
	if (nr_probes > MAX_PROBES)
		nr_probes = MAX_PROBES;
	probe_on = 1;
	for (cpu = 0; cpu < nr_probes; cpu++)
		if (pthread_create(&probes[cpu], NULL, probe, (void *)cpu))
			die("pthread_create");
	nanosleep(&settle, NULL);
	for (cpu = 0; cpu < nr_probes; cpu++)
		probe_max[cpu] = 0;
}

/* The longest any CPU went without rescheduling since probe_start(). */
static double probe_stop(void)
{
	double most = 0;
	long cpu;

	probe_on = 0;
	for (cpu = 0; cpu < nr_probes; cpu++) {
		pthread_join(probes[cpu], NULL);
		if (probe_max[cpu] > most)
			most = probe_max[cpu];
	}
	return most;
}

/*
 * One LOCK of @len bytes of @m, on the CPUs @workers allows ("1", or "0"
 * for all), in usec. With @lock_late, the probe watches the LOCK and then
 * the UNLOCK, and *@lock_late and *@unlock_late get the longest the CPU
 * went without rescheduling (usec).
 */
static double time_big_lock(struct memory *m, size_t len, const char *workers,
			    double *lock_late, double *unlock_late)
{
	uint32_t h = create(m->buf, len);
	double t;

	set_param("lock_workers", workers);
	if (lock_late)
		probe_start();
	t = now_usec();
	lock(h, PINMDL_IO_WRITE_ACCESS);
	t = now_usec() - t;
	if (lock_late) {
		*lock_late = probe_stop();
		probe_start();
	}
	unlock(h);
	if (lock_late)
		*unlock_late = probe_stop();
	destroy(h);
	return t;
}

/*
 * LOCK of 1/4, 1/2 and all of @max_mib MiB of @name memory, never touched
 * (a fresh mapping each time: the pins fault in and zero every page) and
 * pre-touched, on one CPU and on all, @rounds times each, alternating.
 * RESCHED is the median over the rounds of all of it of the longest time
 * the CPU went without rescheduling in a round: the host may stall a
 * vCPU now and then, which a median passes over.
 */
static void bench_parallel_memory(const char *name, size_t max_mib,
				  int big_rounds)
{
	static const char *const kinds[] = { "untouched", "touched" };
	double one[MAX_ROUNDS], all[MAX_ROUNDS], ratio[MAX_ROUNDS];
	static double late[2][2][2][MAX_ROUNDS];
	double t[2], l = 0, u = 0;
	struct memory m = { .name = name };
	size_t len, div;
	int kind, r, k, w;

	for (kind = 0; kind < 2; kind++) {
		for (div = 4; div >= 1; div /= 2) {
			len = (max_mib << 20) / div;
			if (kind && memory_map(&m, len))
				return;
			for (r = 0; r < big_rounds; r++) {
				/* Odd rounds time all CPUs first. */
				for (k = 0; k < 2; k++) {
					w = (r + k) % 2;
					if (!kind &&
					    memory_map_untouched(&m, len))
						return;
					t[w] = time_big_lock(&m, len,
							     w ? "0" : "1",
							     div == 1 ? &l : NULL,
							     &u);
					late[kind][w][0][r] = l;
					late[kind][w][1][r] = u;
					if (!kind)
						munmap(m.map, m.map_len);
				}
				one[r] = t[0];
				all[r] = t[1];
				ratio[r] = all[r] / one[r];
			}
			if (kind)
				munmap(m.map, m.map_len);
			printf("%-5s %-9s %6zu MiB: 1 CPU %10.0f usec, all %10.0f usec, %.3fx\n",
			       name, kinds[kind], len >> 20,
			       median(one, big_rounds), median(all, big_rounds),
			       median(ratio, big_rounds));
			printf("RATIO parallel_lock_vs_serial %s_%s %zu %.3f\n",
			       name, kinds[kind], len, median(ratio, big_rounds));
			fflush(stdout);
		}
	}
	for (kind = 0; kind < 2; kind++) {
		for (w = 0; w < 2; w++) {
			printf("RESCHED lock %s_%s %s %zu %.0f\n", name,
			       kinds[kind], w ? "all" : "1", max_mib << 20,
			       median(late[kind][w][0], big_rounds));
			printf("RESCHED unlock %s_%s %s %zu %.0f\n", name,
			       kinds[kind], w ? "all" : "1", max_mib << 20,
			       median(late[kind][w][1], big_rounds));
		}
	}
}

/*
 * The parallel lock, and how long big locks and unlocks hold a CPU. The
 * guest's memory is all touched once first, so that no side of a ratio
 * pays for the host's first fault of guest RAM.
 */
static void bench_parallel(size_t max_mib, int big_rounds)
{
	struct memory m = { .name = "4k" };
	char pages[32];
	int fd;

	/* The hugetlb pages' turn is over: their memory is wanted here. */
	fd = open("/proc/sys/vm/nr_hugepages", O_WRONLY);
	if (fd < 0 || write(fd, "0", 1) != 1)
		die("nr_hugepages");
	close(fd);
	if (memory_map(&m, (max_mib << 20) + (max_mib << 18)))
		die("mmap");
	munmap(m.map, m.map_len);
	snprintf(pages, sizeof(pages), "%zu", (max_mib << 20) / PAGE);
	set_param("max_pinned_pages", pages);
	printf("\nparallel lock: median of %d rounds on %ld CPUs; RESCHED is the longest any CPU went without rescheduling during LOCK and UNLOCK of %zu MiB on 1 or all CPUs, in usec (a SCHED_FIFO probe on each CPU)\n",
	       big_rounds, sysconf(_SC_NPROCESSORS_ONLN), max_mib);
	bench_parallel_memory("4k", max_mib, big_rounds);
	bench_parallel_memory("thp", max_mib, big_rounds);
	set_param("lock_workers", "0");
}

static unsigned long arg_num(const char *opt, const char *val)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = val ? strtoul(val, &end, 0) : 0;
	if (!val || errno || *end || !v) {
		fprintf(stderr, "pinmdl_bench: %s wants a positive number\n",
			opt);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static const char *const memories[] = { "4k", "thp", "hugetlb",
						"memfd" };
	unsigned long max_pages = 262144, max_io = 64 << 20, max_big = 4096;
	int big_rounds = 5, only_big = 0, no_big = 0;
	size_t i;

	for (i = 1; i < (size_t)argc; i += 2) {
		if (!strcmp(argv[i], "--only-big")) {
			only_big = 1;
			i--;
		} else if (!strcmp(argv[i], "--no-big")) {
			no_big = 1;
			i--;
		} else if (!strcmp(argv[i], "--rounds")) {
			rounds = arg_num(argv[i], argv[i + 1]);
		} else if (!strcmp(argv[i], "--max-pages")) {
			max_pages = arg_num(argv[i], argv[i + 1]);
		} else if (!strcmp(argv[i], "--max-io")) {
			max_io = arg_num(argv[i], argv[i + 1]);
		} else if (!strcmp(argv[i], "--max-big")) {
			max_big = arg_num(argv[i], argv[i + 1]);
		} else if (!strcmp(argv[i], "--big-rounds")) {
			big_rounds = arg_num(argv[i], argv[i + 1]);
		} else {
			fprintf(stderr, "usage: pinmdl_bench [--rounds N] "
				"[--max-pages N] [--max-io BYTES] "
				"[--max-big MIB] [--big-rounds N] "
				"[--only-big | --no-big]\n");
			return 2;
		}
	}
	if (rounds > MAX_ROUNDS || big_rounds > MAX_ROUNDS || max_io < PAGE ||
	    max_big < 4) {
		fprintf(stderr, "pinmdl_bench: at most %d rounds, at least "
			"a page of I/O and 4 MiB of big locks\n", MAX_ROUNDS);
		return 2;
	}
	/* Whole 2 MiB pages, so that THP and hugetlb cover the range. */
	max_pages = (max_pages + 511) & ~511UL;
	dev_fd = open("/dev/pinmdl", O_RDWR);
	if (dev_fd < 0)
		die("/dev/pinmdl");
	gup_fd = open("/sys/kernel/debug/gup_test", O_RDWR);
	if (gup_fd < 0)
		die("/sys/kernel/debug/gup_test (CONFIG_GUP_TEST)");
	errno = -io_uring_queue_init(8, &ring, 0);
	if (errno)
		die("io_uring_queue_init");
	if (only_big) {
		bench_parallel(max_big, big_rounds);
		return 0;
	}
	printf("pinmdl_bench: median of %d rounds; write locks, and gup_test"
	       " pins with FOLL_WRITE | FOLL_LONGTERM\n", rounds);
	bench_syscall();
	/* One CPU a lock, as io_uring and gup_test pin on one. */
	set_param("lock_workers", "1");
	for (i = 0; i < ARRAY_SIZE(memories); i++)
		bench_memory(memories[i], max_pages);
	bench_uring_locks("4k");
	bench_uring_locks("thp");
	set_param("lock_workers", "0");
	bench_io(max_io);
	bench_requests(max_io);
	bench_checksum_qd32();
	bench_memory_use(max_pages);
	if (!no_big)
		bench_parallel(max_big, big_rounds);
	return 0;
}
