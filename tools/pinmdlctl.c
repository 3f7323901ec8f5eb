// SPDX-License-Identifier: GPL-2.0
/*
 * pinmdlctl: look at and experiment with /dev/pinmdl.
 *
 *   pinmdlctl stats                        the module's counters
 *   pinmdlctl lock SIZE [--read|--write] [--hold SECONDS]
 *                                          lock a fresh buffer and show it
 *   pinmdlctl demo [--uring] [--overwrite BLOCK-DEVICE]
 *                                          a narrated tour, routine by
 *                                          routine; with a disk no one
 *                                          uses, a buffer written to its
 *                                          first MiB through pinmdl_blk
 *                                          (overwriting it) and read back;
 *                                          with --uring, through io_uring
 *                                          commands
 *   pinmdlctl pattern                      the demo's MiB, to stdout
 *   pinmdlctl trace [SECONDS]              print pinmdl's trace events as
 *                                          they come (until interrupted)
 *
 * Errors print the errno's name and what it means in pinmdl's terms
 * (pinmdl_errors.h, as pinmdl(4) ERRORS says).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <liburing.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/pinmdl.h>
#include "pinmdl_errors.h"

#define PAGE	4096UL

/* @what ended with @err from ioctl @cmd: its name and what it means. */
static void report(const char *what, unsigned long cmd, int err)
{
	const char *name = strerrorname_np(err);

	if (!err) {
		printf("   %s: done\n", what);
		return;
	}
	printf("   %s: %s: %s\n", what, name ? name : "?",
	       pinmdl_strerror(cmd, err));
}

/* The demo's ring, with --uring: its calls go as io_uring commands. */
static struct io_uring *demo_ring;

/*
 * ioctl @cmd with @arg as an io_uring command on demo_ring: its errno,
 * and CREATE's handle or IO's result written back as the ioctl would.
 */
static int uring_ioctl(int fd, unsigned long cmd, void *arg)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(demo_ring);
	struct io_uring_cqe *cqe;
	int ret;

	if (!sqe)
		return EBUSY;
	memset(sqe, 0, 128);
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fd;
	sqe->cmd_op = cmd;
	memcpy(sqe->cmd, arg, _IOC_SIZE(cmd));
	if (io_uring_submit_and_wait(demo_ring, 1) < 0 ||
	    io_uring_wait_cqe(demo_ring, &cqe))
		return EIO;
	ret = -cqe->res;
	if (!ret && cmd == PINMDL_IOC_CREATE)
		((struct pinmdl_create *)arg)->handle = cqe->big_cqe[0];
	if (!ret && cmd == PINMDL_IOC_IO)
		((struct pinmdl_io *)arg)->result = cqe->big_cqe[0];
	io_uring_cqe_seen(demo_ring, cqe);
	return ret;
}

static int xioctl(int fd, unsigned long cmd, void *arg)
{
	switch (demo_ring ? cmd : 0) {
	case PINMDL_IOC_CREATE:
	case PINMDL_IOC_LOCK:
	case PINMDL_IOC_UNLOCK:
	case PINMDL_IOC_FREE:
	case PINMDL_IOC_IO:
	case PINMDL_IOC_CANCEL:
		return uring_ioctl(fd, cmd, arg);
	}
	return ioctl(fd, cmd, arg) ? errno : 0;
}

static int open_dev(void)
{
	int fd = open("/dev/pinmdl", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "pinmdlctl: /dev/pinmdl: %s\n",
			pinmdl_strerror(PINMDL_OPEN_DEVICE, errno));
		exit(1);
	}
	return fd;
}

static const char *op_name(uint32_t op)
{
	static const char *const names[] = { "IoReadAccess", "IoWriteAccess",
					     "IoModifyAccess" };

	return op < 3 ? names[op] : "?";
}

static void print_flags(uint32_t flags)
{
	static const char *const names[] = { "PAGES_LOCKED", "PARTIAL",
		"SOURCE_IS_KERNEL", "WRITE_OPERATION", "MAPPED_SYSTEM_VA",
		"IN_FLIGHT", "0x40", "PAGE_LIST", "ALLOCATED", "USER_MAPPED" };
	int i, any = 0;

	for (i = 0; i < 10; i++)
		if (flags & (1u << i))
			printf("%s%s", any++ ? "|" : "", names[i]);
	if (!any)
		printf("0");
}

static void show(int fd, uint32_t handle)
{
	uint64_t pfns[8];
	struct pinmdl_query q = { .handle = handle, .pfns = (uintptr_t)pfns,
				  .pfn_capacity = 8 };
	uint64_t i;
	int err = xioctl(fd, PINMDL_IOC_QUERY, &q);

	if (err) {
		report("QUERY", PINMDL_IOC_QUERY, err);
		return;
	}
	printf("   handle %u: start_va 0x%" PRIx64 " byte_offset %u byte_count %" PRIu64
	       " pages %" PRIu64 "\n   flags ", handle, (uint64_t)q.start_va,
	       q.byte_offset, (uint64_t)q.byte_count, (uint64_t)q.page_count);
	print_flags(q.flags);
	if (q.flags & (PINMDL_F_PAGES_LOCKED | PINMDL_F_PARTIAL))
		printf(" operation %s", op_name(q.operation));
	if (q.parent)
		printf(" parent %u", q.parent);
	printf("\n");
	if (q.pfn_capacity) {
		printf("   PFNs (MmGetMdlPfnArray):");
		for (i = 0; i < q.pfn_capacity; i++)
			printf(" 0x%" PRIx64, (uint64_t)pfns[i]);
		if (q.page_count > q.pfn_capacity)
			printf(" ...");
		if (!pfns[0])
			printf("  (zeros: PFNs need a file opened with CAP_SYS_ADMIN, rule 10)");
		printf("\n");
	}
}

static int cmd_stats(void)
{
	char line[256];
	FILE *f = fopen("/sys/kernel/debug/pinmdl/stats", "r");

	if (!f) {
		fprintf(stderr, "pinmdlctl: debugfs pinmdl/stats: %s\n",
			strerror(errno));
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		char key[64];
		long val;

		if (sscanf(line, "%63s %ld", key, &val) != 2)
			continue;
		if (!strncmp(key, "failures_", 9) && !val)
			continue;
		printf("   %-22s %ld\n", key, val);
	}
	fclose(f);
	return 0;
}

static int create(int fd, void *addr, uint64_t len, uint32_t *handle)
{
	struct pinmdl_create c = { .addr = (uintptr_t)addr, .length = len };
	int err = xioctl(fd, PINMDL_IOC_CREATE, &c);

	*handle = c.handle;
	return err;
}

static int lock(int fd, uint32_t handle, uint32_t op)
{
	struct pinmdl_lock l = { .handle = handle,
				 .access_mode = PINMDL_USER_MODE,
				 .operation = op };

	return xioctl(fd, PINMDL_IOC_LOCK, &l);
}

static int cmd_lock(int argc, char **argv)
{
	uint32_t op = PINMDL_IO_WRITE_ACCESS, handle;
	unsigned long hold = 0;
	char *end, *buf;
	uint64_t size;
	int i, fd, err;

	if (argc < 1)
		return 2;
	size = strtoull(argv[0], &end, 0);
	if (*end == 'k' || *end == 'K')
		size <<= 10;
	else if (*end == 'm' || *end == 'M')
		size <<= 20;
	else if (*end == 'g' || *end == 'G')
		size <<= 30;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--read"))
			op = PINMDL_IO_READ_ACCESS;
		else if (!strcmp(argv[i], "--write"))
			op = PINMDL_IO_WRITE_ACCESS;
		else if (!strcmp(argv[i], "--hold") && i + 1 < argc)
			hold = strtoul(argv[++i], NULL, 0);
		else
			return 2;
	}
	fd = open_dev();
	buf = mmap(NULL, size ? size : 1, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	err = create(fd, buf, size, &handle);
	if (err) {
		report("CREATE", PINMDL_IOC_CREATE, err);
		return 1;
	}
	err = lock(fd, handle, op);
	if (err) {
		report("LOCK", PINMDL_IOC_LOCK, err);
		return 1;
	}
	printf("locked %" PRIu64 " bytes for %s:\n", size, op_name(op));
	show(fd, handle);
	if (hold) {
		printf("holding for %lu s\n", hold);
		fflush(stdout);
		sleep(hold);
	}
	return 0;
}

/* The kernel's crc32c(~0, data, len): Castagnoli, no final inversion. */
static uint32_t crc32c(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint32_t crc = ~0U;
	int k;

	while (len--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82F63B78U & -(crc & 1));
	}
	return crc;
}

static const char *tracefs(void)
{
	return access("/sys/kernel/tracing/events", F_OK) ?
	       "/sys/kernel/debug/tracing" : "/sys/kernel/tracing";
}

/* Write @val to tracefs's @file; 0 or -1. */
static int trace_set(const char *dir, const char *file, const char *val)
{
	char path[128];
	int fd, ret;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return -1;
	ret = write(fd, val, strlen(val)) == (ssize_t)strlen(val) ? 0 : -1;
	close(fd);
	return ret;
}

/* One SUBMIT of 5 pages of @handle; 0, or 1 if it failed. */
static int demo_submit(int fd, uint32_t handle, uint32_t op, uint64_t arg,
		       uint64_t *result)
{
	struct pinmdl_submit s = { .handle = handle, .op = op,
				   .length = 5 * PAGE, .arg = arg };
	int err = xioctl(fd, PINMDL_IOC_SUBMIT, &s);

	if (err)
		report("SUBMIT", PINMDL_IOC_SUBMIT, err);
	else if (op == PINMDL_LOWER_CHECKSUM)
		printf("   crc32c 0x%08x\n", (unsigned int)s.result);
	else
		printf("   done\n");
	*result = s.result;
	return err ? 1 : 0;
}

/* A refusal the tour expects: @err must be @want. 0, or 1 if not. */
static int demo_refused(const char *what, unsigned long cmd, int err,
			int want)
{
	report(what, cmd, err);
	if (err == want)
		return 0;
	printf("   (expected %s)\n", strerrorname_np(want));
	return 1;
}

static void step(const char *windows, const char *pinmdl)
{
	printf("\n== %s  ->  %s\n", windows, pinmdl);
}

#define DEMO_BLK_LEN	(1UL << 20)

/* The demo's MiB: lines of 32 bytes, numbered. */
static void demo_pattern(char *buf)
{
	char line[64];
	size_t i;

	for (i = 0; i < DEMO_BLK_LEN; i += 32) {
		snprintf(line, sizeof(line), "pinmdl demo, line %13zu\n",
			 i / 32);
		memcpy(buf + i, line, 32);
	}
}

/*
 * pinmdlctl pattern: the MiB that demo writes to a disk, to stdout, for
 * the disk to be compared with it (dd iflag=direct ... | cmp).
 */
static int cmd_pattern(void)
{
	char *buf = malloc(DEMO_BLK_LEN);

	if (!buf) {
		perror("pinmdlctl: pattern");
		return 1;
	}
	demo_pattern(buf);
	if (fwrite(buf, 1, DEMO_BLK_LEN, stdout) != DEMO_BLK_LEN ||
	    fflush(stdout)) {
		perror("pinmdlctl: pattern");
		free(buf);
		return 1;
	}
	free(buf);
	return 0;
}

/* Print the events of the tracefs instance @dir, then remove it. */
static void demo_trace_dump(const char *dir)
{
	char path[160], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/trace", dir);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (line[0] != '#')
			printf("   %s", line);
	if (f)
		fclose(f);
	trace_set(dir, "events/pinmdl/enable", "0");
	if (rmdir(dir))
		printf("   cannot remove %s: %s\n", dir, strerror(errno));
}

/*
 * Read the first MiB of @dev back through a file of its own opened with
 * O_DIRECT, past the page cache, and compare it with @buf: 0 if the disk
 * holds it, 1 if not.
 */
static int demo_read_back(const char *dev, const char *buf)
{
	char *back = mmap(NULL, DEMO_BLK_LEN, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int fd, ret = 1;
	ssize_t n = -1;
	size_t i;

	if (back == MAP_FAILED) {
		printf("   mmap: %s\n", strerror(errno));
		return 1;
	}
	fd = open(dev, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (fd >= 0)
		n = pread(fd, back, DEMO_BLK_LEN, 0);
	if (n < 0) {
		printf("   %s: %s\n", dev, strerror(errno));
	} else if (n != (ssize_t)DEMO_BLK_LEN) {
		printf("   %s: read %zd bytes of %lu\n", dev, n, DEMO_BLK_LEN);
	} else if (memcmp(back, buf, DEMO_BLK_LEN)) {
		for (i = 0; back[i] == buf[i]; i++)
			;
		printf("   the disk differs from the buffer from byte %zu on\n",
		       i);
	} else {
		printf("   the disk holds the buffer, byte for byte; its first lines:\n");
		for (i = 0; i < 3 * 32; i += 32)
			printf("   | %.31s\n", back + i);
		ret = 0;
	}
	if (fd >= 0)
		close(fd);
	munmap(back, DEMO_BLK_LEN);
	return ret;
}

static volatile sig_atomic_t demo_signal;

static void demo_stopped(int sig)
{
	demo_signal = sig;
}

/*
 * The block device part of the demo: a buffer locked once and written to
 * the first MiB of @dev through pinmdl_blk by one request, whose trace
 * events are shown, then read back with O_DIRECT and compared. @dev is
 * opened O_EXCL: a device mounted or in use is refused (EBUSY). SIGINT,
 * SIGTERM and SIGHUP wait until the trace instance is removed and all is
 * released, then take effect. 0, or 1 if anything failed.
 */
static int demo_blk(int fd, const char *dev)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa = { .sa_handler = demo_stopped }, old[3];
	struct pinmdl_target_open t = { .name = (uintptr_t)"pinmdl_blk" };
	struct pinmdl_segment seg = { .length = DEMO_BLK_LEN };
	struct pinmdl_io io = { .op = PINMDL_BLK_WRITE, .nr_segments = 1 };
	struct pinmdl_handle_arg a = { 0 };
	int err, i, ret = 1, traced;
	char dir[128], *buf;
	uint32_t h;

	/* Signals the caller ignores (a background job's SIGINT) stay so. */
	for (i = 0; i < 3; i++)
		if (!sigaction(sigs[i], NULL, &old[i]) &&
		    old[i].sa_handler != SIG_IGN)
			sigaction(sigs[i], &sa, NULL);
	step("open a disk no one uses and bind it to the block target",
	     "open(O_EXCL), PINMDL_IOC_TARGET_OPEN(\"pinmdl_blk\", fd)");
	t.fd = open(dev, O_RDWR | O_EXCL | O_CLOEXEC);
	if (t.fd < 0) {
		printf("   %s: %s%s\n", dev, strerror(errno), errno == EBUSY ?
		       " (mounted or in use: give a scratch disk)" : "");
		goto out_signals;
	}
	err = xioctl(fd, PINMDL_IOC_TARGET_OPEN, &t);
	if (err) {
		report("TARGET_OPEN", PINMDL_IOC_TARGET_OPEN, err);
		goto out_close;
	}
	printf("   %s is target %u: block_size %u, capacity %" PRIu64
	       " bytes, max_segments %u\n", dev, t.target, t.block_size,
	       (uint64_t)t.capacity, t.max_segments);

	step("a 1 MiB buffer of text, locked once for the disk to read",
	     "CREATE + LOCK(IoReadAccess)");
	buf = mmap(NULL, DEMO_BLK_LEN, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		printf("   mmap: %s\n", strerror(errno));
		goto out_target;
	}
	demo_pattern(buf);
	err = create(fd, buf, DEMO_BLK_LEN, &h);
	if (err) {
		report("CREATE", PINMDL_IOC_CREATE, err);
		goto out_unmap;
	}
	err = lock(fd, h, PINMDL_IO_READ_ACCESS);
	if (err) {
		report("LOCK", PINMDL_IOC_LOCK, err);
		goto out_free;
	}
	show(fd, h);

	step("IoCallDriver: write the buffer to the disk, straight from its pages",
	     "PINMDL_IOC_IO(BLK_WRITE, dev_offset 0)");
	snprintf(dir, sizeof(dir), "%s/instances/pinmdlctl.%d", tracefs(),
		 (int)getpid());
	traced = !mkdir(dir, 0700);
	if (!traced || trace_set(dir, "events/pinmdl/enable", "1"))
		printf("   (no trace events: %s)\n", strerror(errno));
	seg.handle = h;
	io.target = t.target;
	io.segments = (uintptr_t)&seg;
	err = xioctl(fd, PINMDL_IOC_IO, &io);
	if (err)
		report("IO", PINMDL_IOC_IO, err);
	else
		printf("   done: %" PRIu64 " bytes written\n", (uint64_t)io.result);
	if (traced) {
		step("the request's life in pinmdl's trace events",
		     "tracefs events/pinmdl");
		demo_trace_dump(dir);
	}
	if (!err) {
		step("read the disk back past the page cache and compare",
		     "pread() of a second file, opened O_DIRECT");
		ret = demo_read_back(dev, buf);
	}

	step("done with the buffer and the disk",
	     "MmUnlockPages, IoFreeMdl, TARGET_CLOSE");
	a.handle = h;
	err = xioctl(fd, PINMDL_IOC_UNLOCK, &a);
	report("UNLOCK", PINMDL_IOC_UNLOCK, err);
	if (err)
		ret = 1;
out_free:
	a.handle = h;
	err = xioctl(fd, PINMDL_IOC_FREE, &a);
	report("FREE", PINMDL_IOC_FREE, err);
	if (err)
		ret = 1;
out_unmap:
	munmap(buf, DEMO_BLK_LEN);
out_target:
	a.handle = t.target;
	err = xioctl(fd, PINMDL_IOC_TARGET_CLOSE, &a);
	report("TARGET_CLOSE", PINMDL_IOC_TARGET_CLOSE, err);
	if (err)
		ret = 1;
out_close:
	close(t.fd);
out_signals:
	for (i = 0; i < 3; i++)
		sigaction(sigs[i], &old[i], NULL);
	if (demo_signal) {
		printf("   interrupted\n");
		fflush(stdout);
		raise(demo_signal);
		ret = 1;
	}
	return ret;
}

/*
 * pinmdlctl demo [--overwrite DEV]: the tour. Refusals it shows must be
 * the errno it expects; 0 if every step did what it says, else 1.
 */
static int cmd_demo(const char *dev)
{
	static char expect[5 * PAGE];
	size_t len = 6 * PAGE;
	struct pinmdl_partial p;
	struct pinmdl_handle_arg a;
	uint64_t result;
	uint32_t h, h2, want;
	char *buf;
	int fd, err, status, bad = 0;
	pid_t pid;

	printf("pinmdl demo: the Windows probe-and-lock routines on /dev/pinmdl\n");
	fd = open_dev();
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		perror("mmap");
		return 1;
	}

	step("IoAllocateMdl(buf + 100, 5 pages)", "PINMDL_IOC_CREATE");
	err = create(fd, buf + 100, 5 * PAGE, &h);
	if (err) {
		report("CREATE", PINMDL_IOC_CREATE, err);
		return 1;
	}
	show(fd, h);

	step("MmProbeAndLockPages(UserMode, IoWriteAccess)",
	     "PINMDL_IOC_LOCK");
	err = lock(fd, h, PINMDL_IO_WRITE_ACCESS);
	if (err) {
		report("LOCK", PINMDL_IOC_LOCK, err);
		return 1;
	}
	show(fd, h);

	step("IoBuildPartialMdl(pages 1-2)", "PINMDL_IOC_PARTIAL");
	p = (struct pinmdl_partial){ .parent = h,
				     .addr = (uintptr_t)buf + PAGE,
				     .length = 2 * PAGE };
	err = xioctl(fd, PINMDL_IOC_PARTIAL, &p);
	if (err) {
		report("PARTIAL", PINMDL_IOC_PARTIAL, err);
		bad = 1;
	} else {
		show(fd, p.handle);
	}

	step("MmProbeAndLockPages on a locked MDL (a bug check on Windows)",
	     "PINMDL_IOC_LOCK again");
	bad |= demo_refused("refused", PINMDL_IOC_LOCK,
			    lock(fd, h, PINMDL_IO_READ_ACCESS), EBUSY);

	step("MmUnlockPages while a partial MDL uses it", "PINMDL_IOC_UNLOCK");
	a = (struct pinmdl_handle_arg){ .handle = h };
	bad |= demo_refused("UNLOCK", PINMDL_IOC_UNLOCK,
			    xioctl(fd, PINMDL_IOC_UNLOCK, &a),
			    p.handle ? EBUSY : 0);

	step("munmap the buffer: locked pages stay (rule 6)",
	     "counters after munmap");
	munmap(buf, len);
	cmd_stats();

	step("IoCallDriver: the lower driver fills the unmapped buffer",
	     "PINMDL_IOC_SUBMIT(FILL 0x5a)");
	bad |= demo_submit(fd, h, PINMDL_LOWER_FILL, 0x5a, &result);
	step("IoCallDriver: the lower driver checksums it through its sg table",
	     "PINMDL_IOC_SUBMIT(CHECKSUM)");
	memset(expect, 0x5a, sizeof(expect));
	want = crc32c(expect, sizeof(expect));
	printf("   expected crc32c 0x%08x\n", want);
	if (demo_submit(fd, h, PINMDL_LOWER_CHECKSUM, 0, &result) ||
	    result != want) {
		printf("   (the checksums differ)\n");
		bad = 1;
	}
	step("METHOD_BUFFERED: the same checksum through a kernel copy",
	     "PINMDL_IOC_SUBMIT_BUFFERED(CHECKSUM)");
	{
		struct pinmdl_submit_buffered b = {
			.addr = (uintptr_t)expect, .length = sizeof(expect),
			.op = PINMDL_LOWER_CHECKSUM,
		};

		err = xioctl(fd, PINMDL_IOC_SUBMIT_BUFFERED, &b);
		if (err)
			report("SUBMIT_BUFFERED", PINMDL_IOC_SUBMIT_BUFFERED, err);
		else
			printf("   crc32c 0x%08x, no page pinned\n",
			       (unsigned int)b.result);
		if (err || b.result != want)
			bad = 1;
	}

	if (dev)
		bad |= demo_blk(fd, dev);

	step("a process exits with pages locked (PROCESS_HAS_LOCKED_PAGES)",
	     "released at close, counted and reported");
	fflush(stdout);
	pid = fork();
	if (!pid) {
		int cfd = open_dev();
		char *cbuf = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (cbuf == MAP_FAILED)
			_exit(1);
		err = create(cfd, cbuf, 4 * PAGE, &h2);
		if (err) {
			report("CREATE", PINMDL_IOC_CREATE, err);
			_exit(1);
		}
		err = lock(cfd, h2, PINMDL_IO_READ_ACCESS);
		if (err) {
			report("LOCK", PINMDL_IOC_LOCK, err);
			_exit(1);
		}
		printf("   child %d locked 4 pages and exits\n", getpid());
		fflush(stdout);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid ||
	    !WIFEXITED(status) || WEXITSTATUS(status)) {
		printf("   the child failed\n");
		bad = 1;
	}

	step("MmUnlockPages + IoFreeMdl at close", "close(/dev/pinmdl)");
	close(fd);
	cmd_stats();
	return bad;
}

static volatile sig_atomic_t trace_stop;

static void trace_stopped(int sig)
{
	(void)sig;
	trace_stop = 1;
}

/*
 * Copy pinmdl's trace events to stdout for @argv[0] seconds, or until
 * SIGINT, SIGTERM or SIGHUP, or until stdout closes: from a tracefs
 * instance of its own, so that other tracing sessions keep their events
 * and buffer as they are; the instance goes at the end.
 */
static int cmd_trace(int argc, char **argv)
{
	const char *top = tracefs();
	struct sigaction sa = { .sa_handler = trace_stopped };
	char dir[128], path[160], buf[4096], *end;
	unsigned long seconds = 0;
	struct pollfd p;
	int fd, ret = 1;
	ssize_t n;

	if (argc > 1)
		return 2;
	if (argc) {
		errno = 0;
		seconds = strtoul(argv[0], &end, 10);
		if (errno || end == argv[0] || *end || seconds > 86400 * 365) {
			fprintf(stderr, "pinmdlctl: trace: bad number of seconds '%s'\n",
				argv[0]);
			return 2;
		}
	}
	snprintf(dir, sizeof(dir), "%s/instances/pinmdlctl.%d", top,
		 (int)getpid());
	if (mkdir(dir, 0700)) {
		fprintf(stderr, "pinmdlctl: cannot make the tracefs instance %s (tracefs mounted? root?): %s\n",
			dir, strerror(errno));
		return 1;
	}
	if (trace_set(dir, "events/pinmdl/enable", "1")) {
		fprintf(stderr, "pinmdlctl: no pinmdl trace events (is pinmdl.ko loaded?): %s\n",
			strerror(errno));
		goto out_rmdir;
	}
	snprintf(path, sizeof(path), "%s/trace_pipe", dir);
	fd = open(path, O_RDONLY | O_NONBLOCK);
	if (fd < 0) {
		perror(path);
		goto out_rmdir;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	/* A closed stdout (pinmdlctl trace | head) is an end, not a death. */
	signal(SIGPIPE, SIG_IGN);
	if (seconds)
		alarm(seconds);
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	ret = 0;
	/* Poll with a timeout, so that a signal between two looks is seen. */
	while (!trace_stop) {
		if (poll(&p, 1, 200) < 0 && errno != EINTR) {
			perror("poll");
			ret = 1;
			break;
		}
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0) {
			if (n < 0)
				perror(path);
			ret = n < 0;
			break;
		}
		if (fwrite(buf, 1, n, stdout) != (size_t)n || fflush(stdout)) {
			ret = errno != EPIPE;
			break;
		}
	}
	close(fd);
	trace_set(dir, "events/pinmdl/enable", "0");
out_rmdir:
	if (rmdir(dir))
		fprintf(stderr, "pinmdlctl: cannot remove %s: %s\n", dir,
			strerror(errno));
	return ret;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: pinmdlctl stats\n"
		"       pinmdlctl lock SIZE [--read|--write] [--hold SECONDS]\n"
		"       pinmdlctl demo [--uring] [--overwrite BLOCK-DEVICE]\n"
		"       pinmdlctl pattern\n"
		"       pinmdlctl trace [SECONDS]\n");
}

/*
 * pinmdlctl demo [--uring] [--overwrite DEV]: with --uring, CREATE, LOCK,
 * UNLOCK, FREE and IO go as io_uring commands.
 */
static int demo_args(int argc, char **argv)
{
	struct io_uring ring;
	const char *dev = NULL;
	bool uring = false;
	int i, ret;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--uring")) {
			uring = true;
		} else if (!strcmp(argv[i], "--overwrite") && i + 1 < argc) {
			dev = argv[++i];
		} else if (argv[i][0] != '-') {
			fprintf(stderr, "pinmdlctl: demo writes over the first MiB of %s: say so with --overwrite\n",
				argv[i]);
			return 1;
		} else {
			return 2;
		}
	}
	if (uring) {
		ret = io_uring_queue_init(8, &ring, IORING_SETUP_SQE128 |
						    IORING_SETUP_CQE32);
		if (ret) {
			fprintf(stderr, "pinmdlctl: io_uring: %s\n",
				strerror(-ret));
			return 1;
		}
		demo_ring = &ring;
		printf("(CREATE, LOCK, UNLOCK, FREE and IO through io_uring commands)\n");
	}
	ret = cmd_demo(dev);
	if (uring)
		io_uring_queue_exit(&ring);
	demo_ring = NULL;
	return ret;
}

int main(int argc, char **argv)
{
	int ret = 2;

	if (argc >= 2 && !strcmp(argv[1], "stats"))
		ret = cmd_stats();
	else if (argc >= 2 && !strcmp(argv[1], "lock"))
		ret = cmd_lock(argc - 2, argv + 2);
	else if (argc >= 2 && !strcmp(argv[1], "demo"))
		ret = demo_args(argc - 2, argv + 2);
	else if (argc == 2 && !strcmp(argv[1], "pattern"))
		ret = cmd_pattern();
	else if (argc >= 2 && !strcmp(argv[1], "trace"))
		ret = cmd_trace(argc - 2, argv + 2);
	if (ret == 2)
		usage();
	return ret;
}
