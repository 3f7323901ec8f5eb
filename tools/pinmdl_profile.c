// SPDX-License-Identifier: GPL-2.0
/*
 * pinmdl_profile: N reads of 4 KiB from a block device through pinmdl_blk,
 * one at a time, into a locked buffer, as IO ioctls or as IO commands on
 * an io_uring; prints the time a read took. scripts/profile runs it under
 * perf to tell where that time goes.
 *
 *   pinmdl_profile ioctl|uring N DEVICE
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/pinmdl.h>

#define BUF_BYTES	(1 << 20)
#define IO_BYTES	4096

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/* One IO command, and its CQE. */
static void uring_io(struct io_uring *ring, int fd, const struct pinmdl_io *io)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct io_uring_cqe *cqe;

	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
	sqe->cmd_op = PINMDL_IOC_IO;
	memcpy(sqe->cmd, io, sizeof(*io));
	if (io_uring_submit_and_wait(ring, 1) != 1 ||
	    io_uring_wait_cqe(ring, &cqe))
		die("io_uring");
	if (cqe->res) {
		errno = -cqe->res;
		die("IO command");
	}
	io_uring_cqe_seen(ring, cqe);
}

int main(int argc, char **argv)
{
	struct pinmdl_lock l = { .access_mode = PINMDL_USER_MODE,
				 .operation = PINMDL_IO_WRITE_ACCESS };
	struct pinmdl_segment seg = { .length = IO_BYTES };
	struct pinmdl_io io = { .op = PINMDL_BLK_READ, .nr_segments = 1,
				.segments = (uintptr_t)&seg };
	struct pinmdl_create c = { .length = BUF_BYTES };
	struct pinmdl_target_open t = { .name = (uintptr_t)"pinmdl_blk" };
	struct io_uring_params p = { .flags = IORING_SETUP_SQE128 |
					      IORING_SETUP_CQE32 };
	struct timespec a, b;
	struct io_uring ring;
	int fd, uring;
	long i, n;
	char *buf;

	if (argc != 4 || (strcmp(argv[1], "ioctl") && strcmp(argv[1], "uring"))) {
		fprintf(stderr, "usage: %s ioctl|uring N DEVICE\n", argv[0]);
		return 2;
	}
	uring = !strcmp(argv[1], "uring");
	n = atol(argv[2]);
	fd = open("/dev/pinmdl", O_RDWR);
	t.fd = open(argv[3], O_RDONLY);
	if (fd < 0 || t.fd < 0)
		die("open");
	buf = mmap(NULL, BUF_BYTES, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (buf == MAP_FAILED)
		die("mmap");
	c.addr = (uintptr_t)buf;
	if (ioctl(fd, PINMDL_IOC_CREATE, &c))
		die("CREATE");
	l.handle = seg.handle = c.handle;
	if (ioctl(fd, PINMDL_IOC_LOCK, &l) ||
	    ioctl(fd, PINMDL_IOC_TARGET_OPEN, &t))
		die("LOCK or TARGET_OPEN");
	io.target = t.target;
	if (uring && io_uring_queue_init_params(8, &ring, &p))
		die("io_uring_queue_init");

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < n; i++) {
		io.dev_offset = i % 256 * IO_BYTES;
		if (uring)
			uring_io(&ring, fd, &io);
		else if (ioctl(fd, PINMDL_IOC_IO, &io))
			die("IO");
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%s: %.2f us a read\n", argv[1],
	       ((b.tv_sec - a.tv_sec) * 1e6 + (b.tv_nsec - a.tv_nsec) / 1e3) /
	       n);
	return 0;
}
