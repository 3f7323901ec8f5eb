// SPDX-License-Identifier: GPL-2.0
/*
 * pinmdl_blk_bench: direct I/O between a block device and user memory
 * through pinmdl_blk, against what a user would pick instead, side by side
 * in one run on a memory-backed null_blk device.
 *
 *   pinmdl_blk_bench [--rounds N] [--mib N] [--max-size BYTES]
 *                    [--min-mib N] [--fio PATH]
 *
 * For reads and writes of 4 KiB, 64 KiB, 1 MiB and 8 MiB (up to
 * --max-size), every round times one after the other, each moving the same
 * bytes (--min-mib MiB, 64 I/Os at the least):
 *   - pinmdl: the buffer locked once, then IO requests, synchronous
 *     (queue depth 1) and asynchronous at queue depth 32 (IO, then read(2)
 *     of a completion and the next IO);
 *   - pread/pwrite on an O_DIRECT file (the kernel pins per I/O), and at
 *     queue depth 32 io_uring READ/WRITE on that O_DIRECT file (pinning
 *     per I/O too);
 *   - io_uring READ_FIXED/WRITE_FIXED on a registered buffer, QD1 and QD32
 *     (pinned once, as with pinmdl): the strongest anchor;
 *   - pinmdl through io_uring: IO commands (IORING_OP_URING_CMD) on the
 *     same locked buffer, QD1 and QD32, each CQE posted when its request
 *     completes.
 * Then fio, when given, runs psync direct=1 and io_uring fixedbufs=1
 * direct=1 on the same device, an independent check of those figures.
 * Each figure is the median of the rounds, each ratio the median of the
 * rounds' ratios. Lines for machines:
 *   RATIO blk_<read|write>_vs_odirect nullb <bytes> <qd> <value>
 *   RATIO blk_<read|write>_vs_uring_fixed nullb <bytes> <qd> <value>
 *   RATIO blk_<read|write>_uring_vs_<odirect|uring_fixed> nullb <bytes> <qd>
 *         <value>  (pinmdl through io_uring commands)
 *   BLK <method> <read|write> <bytes> <qd> <MB/s>
 *   FIO <psync|uring_fixed> <read|write> <bytes> <qd> <MB/s>
 * A ratio is pinmdl's time over the other's: below 1, pinmdl is faster.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <linux/pinmdl.h>

#include "pinmdl_bench_util.h"

#define MAX_ROUNDS	51
#define QD		32
#define MIN_OPS		64
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static const size_t sizes[] = { 4096, 65536, 1 << 20, 8 << 20 };

enum method { PM_SYNC, PM_ASYNC, OD_SYNC, OD_URING, FX_SYNC, FX_URING,
	      PM_CMD1, PM_CMD, NR_METHODS };

static const char *const method_names[NR_METHODS] = {
	"pinmdl", "pinmdl", "odirect", "odirect_uring", "uring_fixed",
	"uring_fixed", "pinmdl_uring", "pinmdl_uring",
};

static const int method_qd[NR_METHODS] = { 1, QD, 1, QD, 1, QD, 1, QD };

static int rounds = 11, pm_fd, dev_fd, direct_fd;
static unsigned long min_bytes = 16UL << 20, max_size = 8UL << 20;
static uint32_t target;
static uint64_t dev_bytes;
static struct io_uring ring;
/* pinmdl's IO commands: 128-byte SQEs, 32-byte CQEs. */
static struct io_uring cmd_ring;
static char dev_path[64];

/* A memory-backed null_blk device of @mib MiB; its node in dev_path. */
static void make_nullb(unsigned long mib)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd),
		 "grep -q ' /sys/kernel/config ' /proc/mounts || "
		 "mount -t configfs none /sys/kernel/config; "
		 "d=/sys/kernel/config/nullb/pmbench; mkdir $d && "
		 "echo %lu > $d/size && echo 1 > $d/memory_backed && "
		 "echo 1 > $d/power", mib);
	if (system(cmd))
		die("null_blk through configfs");
	/* Named after the directory since Linux 6.8, by index before. */
	snprintf(dev_path, sizeof(dev_path), "/dev/pmbench");
	if (access(dev_path, F_OK)) {
		FILE *f = fopen("/sys/kernel/config/nullb/pmbench/index", "r");
		int index = -1;

		if (!f || fscanf(f, "%d", &index) != 1)
			die("null_blk index");
		fclose(f);
		snprintf(dev_path, sizeof(dev_path), "/dev/nullb%d", index);
	}
}

/* Where the @i-th I/O of @len bytes goes on the device. */
static uint64_t dev_off(uint64_t i, size_t len)
{
	return i * len % (dev_bytes - dev_bytes % len);
}

static int pm_io(int op, uint32_t h, uint64_t slot, size_t len, uint64_t i,
		 uint32_t flags)
{
	struct pinmdl_segment s = { .handle = h, .offset = slot * len,
				    .length = len };
	struct pinmdl_io io = { .target = target, .op = op,
				.dev_offset = dev_off(i, len),
				.segments = (uintptr_t)&s, .nr_segments = 1,
				.flags = flags };

	return ioctl(pm_fd, PINMDL_IOC_IO, &io);
}

static void pm_reap(void)
{
	struct pinmdl_completion c;

	if (read(pm_fd, &c, sizeof(c)) != sizeof(c))
		die("read of a completion");
	if (c.status) {
		errno = -c.status;
		die("pinmdl_blk request");
	}
}

static double time_pinmdl(int op, uint32_t h, size_t len, int ops, int qd)
{
	double t0 = now_usec();
	int i;

	for (i = 0; i < ops; i++) {
		if (qd > 1 && i >= qd)
			pm_reap();
		if (pm_io(op, h, i % qd, len, i,
			  qd > 1 ? PINMDL_SUBMIT_ASYNC : 0))
			die("PINMDL_IOC_IO");
	}
	for (i = 0; qd > 1 && i < qd && i < ops; i++)
		pm_reap();
	return now_usec() - t0;
}

/* Queue IO command @i of @len bytes from slot @slot of descriptor @h. */
static void cmd_prep(int op, uint32_t h, uint64_t slot, size_t len,
		     uint64_t i, struct pinmdl_segment *segs)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&cmd_ring);
	struct pinmdl_io io = { .target = target, .op = op,
				.dev_offset = dev_off(i, len),
				.segments = (uintptr_t)&segs[slot],
				.nr_segments = 1 };

	if (!sqe)
		die("io_uring_get_sqe");
	segs[slot] = (struct pinmdl_segment){ .handle = h,
					      .offset = slot * len,
					      .length = len };
	memset(sqe, 0, 128);
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = pm_fd;
	sqe->cmd_op = PINMDL_IOC_IO;
	sqe->user_data = slot;
	memcpy(sqe->cmd, &io, sizeof(io));
}

/* Wait for one IO command's CQE; its slot. */
static uint64_t cmd_reap(size_t len)
{
	struct io_uring_cqe *cqe;
	uint64_t slot;

	if (io_uring_wait_cqe(&cmd_ring, &cqe))
		die("io_uring_wait_cqe");
	if (cqe->res || cqe->big_cqe[0] != len) {
		errno = cqe->res < 0 ? -cqe->res : EIO;
		die("pinmdl IO command");
	}
	slot = cqe->user_data;
	io_uring_cqe_seen(&cmd_ring, cqe);
	return slot;
}

/* pinmdl through io_uring: @qd IO commands kept in flight. */
static double time_cmd(int op, uint32_t h, size_t len, int ops, int qd)
{
	struct pinmdl_segment segs[QD];
	double t0 = now_usec();
	uint64_t slot;
	int i, done = 0;

	for (i = 0; i < ops && i < qd; i++)
		cmd_prep(op, h, i, len, i, segs);
	if (io_uring_submit(&cmd_ring) < 0)
		die("io_uring_submit");
	for (; done < ops; done++) {
		slot = cmd_reap(len);
		if (i < ops) {
			cmd_prep(op, h, slot, len, i++, segs);
			if (io_uring_submit(&cmd_ring) < 0)
				die("io_uring_submit");
		}
	}
	return now_usec() - t0;
}

static double time_odirect(int write, char *buf, size_t len, int ops)
{
	double t0 = now_usec();
	ssize_t n;
	int i;

	for (i = 0; i < ops; i++) {
		n = write ? pwrite(direct_fd, buf, len, dev_off(i, len)) :
			    pread(direct_fd, buf, len, dev_off(i, len));
		if (n != (ssize_t)len)
			die("O_DIRECT I/O");
	}
	return now_usec() - t0;
}

static void uring_prep(int write, int fixed, char *buf, size_t len,
		       uint64_t slot, uint64_t i)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
	char *p = buf + slot * len;

	if (!sqe)
		die("io_uring_get_sqe");
	if (fixed && write)
		io_uring_prep_write_fixed(sqe, direct_fd, p, len,
					  dev_off(i, len), 0);
	else if (fixed)
		io_uring_prep_read_fixed(sqe, direct_fd, p, len,
					 dev_off(i, len), 0);
	else if (write)
		io_uring_prep_write(sqe, direct_fd, p, len, dev_off(i, len));
	else
		io_uring_prep_read(sqe, direct_fd, p, len, dev_off(i, len));
	sqe->user_data = slot;
}

/* Wait for one completion; its slot. */
static uint64_t uring_reap(size_t len)
{
	struct io_uring_cqe *cqe;
	uint64_t slot;

	if (io_uring_wait_cqe(&ring, &cqe))
		die("io_uring_wait_cqe");
	if (cqe->res != (int)len) {
		errno = cqe->res < 0 ? -cqe->res : EIO;
		die("io_uring I/O");
	}
	slot = cqe->user_data;
	io_uring_cqe_seen(&ring, cqe);
	return slot;
}

static double time_uring(int write, int fixed, char *buf, size_t len,
			 int ops, int qd)
{
	double t0 = now_usec();
	uint64_t slot;
	int i, done = 0;

	for (i = 0; i < ops && i < qd; i++)
		uring_prep(write, fixed, buf, len, i, i);
	if (io_uring_submit(&ring) < 0)
		die("io_uring_submit");
	for (; done < ops; done++) {
		slot = uring_reap(len);
		if (i < ops) {
			uring_prep(write, fixed, buf, len, slot, i++);
			if (io_uring_submit(&ring) < 0)
				die("io_uring_submit");
		}
	}
	return now_usec() - t0;
}

static double time_method(enum method m, int write, uint32_t h, char *buf,
			  size_t len, int ops)
{
	int op = write ? PINMDL_BLK_WRITE : PINMDL_BLK_READ;

	switch (m) {
	case PM_SYNC:
	case PM_ASYNC:
		return time_pinmdl(op, h, len, ops, method_qd[m]);
	case OD_SYNC:
		return time_odirect(write, buf, len, ops);
	case OD_URING:
		return time_uring(write, 0, buf, len, ops, QD);
	case FX_SYNC:
	case FX_URING:
		return time_uring(write, 1, buf, len, ops, method_qd[m]);
	case PM_CMD1:
	case PM_CMD:
		return time_cmd(op, h, len, ops, method_qd[m]);
	default:
		return 0;
	}
}

/* One size, one direction: every method each round, medians after. */
static void bench_size(size_t len, int write)
{
	static const struct {
		enum method pm, other;
		const char *how, *vs;
	} pairs[] = {
		{ PM_SYNC, OD_SYNC, "", "odirect" },
		{ PM_ASYNC, OD_URING, "", "odirect" },
		{ PM_SYNC, FX_SYNC, "", "uring_fixed" },
		{ PM_ASYNC, FX_URING, "", "uring_fixed" },
		{ PM_CMD1, OD_SYNC, "_uring", "odirect" },
		{ PM_CMD1, FX_SYNC, "_uring", "uring_fixed" },
		{ PM_CMD, FX_URING, "_uring", "uring_fixed" },
	};
	double t[NR_METHODS][MAX_ROUNDS], r[ARRAY_SIZE(pairs)][MAX_ROUNDS];
	size_t buf_len = len * QD, p;
	int ops = min_bytes / len, m, k;
	const char *rw = write ? "write" : "read";
	struct iovec iov;
	uint32_t h;
	char *buf;

	if (ops < MIN_OPS)
		ops = MIN_OPS;
	buf = mmap(NULL, buf_len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (buf == MAP_FAILED)
		die("mmap");
	memset(buf, 0x5a, buf_len);
	{
		struct pinmdl_create c = { .addr = (uintptr_t)buf,
					   .length = buf_len };
		struct pinmdl_lock l;

		xioctl(pm_fd, PINMDL_IOC_CREATE, &c, "PINMDL_IOC_CREATE");
		h = c.handle;
		l = (struct pinmdl_lock){ .handle = h,
					  .access_mode = PINMDL_USER_MODE,
					  .operation = PINMDL_IO_WRITE_ACCESS };
		xioctl(pm_fd, PINMDL_IOC_LOCK, &l, "PINMDL_IOC_LOCK");
	}
	iov = (struct iovec){ .iov_base = buf, .iov_len = buf_len };
	if (io_uring_register_buffers(&ring, &iov, 1))
		die("io_uring_register_buffers");
	/* A warm-up round, untimed. */
	for (m = 0; m < NR_METHODS; m++)
		time_method(m, write, h, buf, len, QD);
	for (k = 0; k < rounds; k++) {
		for (m = 0; m < NR_METHODS; m++)
			t[m][k] = time_method(m, write, h, buf, len, ops);
		for (p = 0; p < ARRAY_SIZE(pairs); p++)
			r[p][k] = t[pairs[p].pm][k] / t[pairs[p].other][k];
	}
	for (p = 0; p < ARRAY_SIZE(pairs); p++)
		printf("RATIO blk_%s%s_vs_%s nullb %zu %d %.3f\n", rw,
		       pairs[p].how, pairs[p].vs, len, method_qd[pairs[p].pm],
		       median(r[p], rounds));
	for (m = 0; m < NR_METHODS; m++)
		printf("BLK %s %s %zu %d %.1f\n", method_names[m], rw, len,
		       method_qd[m],
		       (double)len * ops / median(t[m], rounds));
	fflush(stdout);
	io_uring_unregister_buffers(&ring);
	{
		struct pinmdl_handle_arg a = { .handle = h };

		xioctl(pm_fd, PINMDL_IOC_UNLOCK, &a, "PINMDL_IOC_UNLOCK");
		xioctl(pm_fd, PINMDL_IOC_FREE, &a, "PINMDL_IOC_FREE");
	}
	munmap(buf, buf_len);
}

/* fio on the same device: MB/s of one job, from its terse output. */
static void bench_fio(const char *fio, size_t len, int write, int uring,
		      int qd)
{
	char cmd[768], line[4096], *field;
	unsigned long bytes = min_bytes * 4 > len * MIN_OPS ?
			      min_bytes * 4 : len * MIN_OPS;
	double kib = -1;
	FILE *f;
	int i;

	snprintf(cmd, sizeof(cmd),
		 "%s --name=pm --filename=%s --rw=%s --bs=%zu --direct=1 "
		 "--ioengine=%s --iodepth=%d --io_size=%lu --size=%lu "
		 "--output-format=terse --terse-version=3 2>&1",
		 fio, dev_path, write ? "write" : "read", len,
		 uring ? "io_uring --fixedbufs=1" : "psync", qd, bytes,
		 (unsigned long)dev_bytes);
	f = popen(cmd, "r");
	if (!f)
		die("popen fio");
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "3;", 2))
			continue;
		/* Bandwidth in KiB/s: field 7 for reads, 48 for writes. */
		field = strtok(line, ";");
		for (i = 1; field && i < (write ? 48 : 7); i++)
			field = strtok(NULL, ";");
		if (field)
			kib = atof(field);
	}
	if (pclose(f) || kib < 0) {
		fprintf(stderr, "pinmdl_blk_bench: fio failed: %s\n", cmd);
		exit(1);
	}
	printf("FIO %s %s %zu %d %.1f\n", uring ? "uring_fixed" : "psync",
	       write ? "write" : "read", len, qd, kib * 1024 / 1e6);
	fflush(stdout);
}

/* Write the device whole, so that reads copy data rather than zeros. */
static void prefill(void)
{
	size_t len = sizes[ARRAY_SIZE(sizes) - 1];
	char *buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t off;

	if (buf == MAP_FAILED)
		die("mmap");
	memset(buf, 0xa5, len);
	for (off = 0; off + len <= dev_bytes; off += len)
		if (pwrite(direct_fd, buf, len, off) != (ssize_t)len)
			die("prefill");
	munmap(buf, len);
}

static unsigned long arg_num(const char *opt, const char *val)
{
	char *end;
	unsigned long n;

	if (!val)
		goto bad;
	n = strtoul(val, &end, 0);
	if (*end || !n)
		goto bad;
	return n;
bad:
	fprintf(stderr, "pinmdl_blk_bench: %s needs a positive number\n", opt);
	exit(2);
}

int main(int argc, char **argv)
{
	struct pinmdl_target_open o = { .name = (uintptr_t)"pinmdl_blk" };
	unsigned long mib = 256;
	const char *fio = NULL;
	size_t s;
	int i, w;

	for (i = 1; i < argc; i += 2) {
		if (!strcmp(argv[i], "--rounds")) {
			rounds = arg_num(argv[i], argv[i + 1]);
		} else if (!strcmp(argv[i], "--mib")) {
			mib = arg_num(argv[i], argv[i + 1]);
		} else if (!strcmp(argv[i], "--max-size")) {
			max_size = arg_num(argv[i], argv[i + 1]);
		} else if (!strcmp(argv[i], "--min-mib")) {
			min_bytes = arg_num(argv[i], argv[i + 1]) << 20;
		} else if (!strcmp(argv[i], "--fio") && i + 1 < argc) {
			fio = argv[i + 1];
		} else {
			fprintf(stderr, "usage: pinmdl_blk_bench [--rounds N]"
				" [--mib N] [--max-size BYTES] [--min-mib N]"
				" [--fio PATH]\n");
			return 2;
		}
	}
	if (rounds > MAX_ROUNDS || mib < 64) {
		fprintf(stderr, "pinmdl_blk_bench: at most %d rounds, and a "
			"device of at least 64 MiB\n", MAX_ROUNDS);
		return 2;
	}
	make_nullb(mib);
	dev_bytes = (uint64_t)mib << 20;
	pm_fd = open("/dev/pinmdl", O_RDWR);
	dev_fd = open(dev_path, O_RDWR);
	direct_fd = open(dev_path, O_RDWR | O_DIRECT);
	if (pm_fd < 0 || dev_fd < 0 || direct_fd < 0)
		die("open");
	o.fd = dev_fd;
	xioctl(pm_fd, PINMDL_IOC_TARGET_OPEN, &o, "PINMDL_IOC_TARGET_OPEN");
	target = o.target;
	if (io_uring_queue_init(2 * QD, &ring, 0))
		die("io_uring_queue_init");
	if (io_uring_queue_init(2 * QD, &cmd_ring, IORING_SETUP_SQE128 |
						   IORING_SETUP_CQE32))
		die("io_uring_queue_init of 128-byte SQEs");
	printf("pinmdl_blk_bench: null_blk %s, %lu MiB memory-backed; median"
	       " of %d rounds, each moving at least %lu MiB a method\n",
	       dev_path, mib, rounds, min_bytes >> 20);
	prefill();
	for (s = 0; s < ARRAY_SIZE(sizes) && sizes[s] <= max_size; s++)
		for (w = 1; w >= 0; w--)
			bench_size(sizes[s], w);
	for (s = 0; fio && s < ARRAY_SIZE(sizes) && sizes[s] <= max_size; s++)
		for (w = 1; w >= 0; w--) {
			bench_fio(fio, sizes[s], w, 0, 1);
			bench_fio(fio, sizes[s], w, 1, 1);
			bench_fio(fio, sizes[s], w, 1, QD);
		}
	io_uring_queue_exit(&ring);
	close(direct_fd);
	close(dev_fd);
	close(pm_fd);
	return 0;
}
