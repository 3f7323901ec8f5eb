// SPDX-License-Identifier: GPL-2.0
/*
 * uring_queue: async_queue through io_uring: DEPTH IO commands of a MiB in
 * flight, each into its slot of one locked buffer; a 128-byte SQE carries
 * struct pinmdl_io, its 32-byte CQE the status and the bytes moved.
 *
 *   modprobe pinmdl_blk && ./uring_queue /dev/vdb
 */
#include <liburing.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/pinmdl.h>
#include "pinmdl_errors.h"

#define DEPTH	8		/* requests in flight */
#define CHUNK	(1u << 20)	/* bytes a request; the last may be short */

/* ioctl @cmd; if it fails, exit saying what errno means for @cmd. */
#define IOCTL(fd, cmd, arg)	pinmdl_check(ioctl(fd, cmd, arg), #cmd, cmd)

int main(int argc, char **argv)
{
	struct pinmdl_lock l = { .access_mode = PINMDL_USER_MODE,
				 .operation = PINMDL_IO_WRITE_ACCESS };
	struct pinmdl_target_open t = { .name = (uintptr_t)"pinmdl_blk" };
	struct pinmdl_create c = { .length = DEPTH * CHUNK };
	struct pinmdl_segment seg[DEPTH];
	struct pinmdl_handle_arg h = { 0 };
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	uint64_t off[DEPTH], next = 0, end, i;
	int fd, slot, free[DEPTH] = { 0, 1, 2, 3, 4, 5, 6, 7 }, nfree = DEPTH;
	unsigned char *buf;
	uint32_t hash;

	if (argc != 2) {
		fprintf(stderr, "usage: %s BLOCK-DEVICE\n", argv[0]);
		return 2;
	}
	fd = open("/dev/pinmdl", O_RDWR | O_CLOEXEC);
	pinmdl_check(fd < 0, "/dev/pinmdl", PINMDL_OPEN_DEVICE);
	t.fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	pinmdl_check(t.fd < 0, argv[1], 0);
	buf = mmap(NULL, c.length, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pinmdl_check(buf == MAP_FAILED, "mmap", 0);
	c.addr = (uintptr_t)buf;
	IOCTL(fd, PINMDL_IOC_CREATE, &c);
	l.handle = c.handle;
	IOCTL(fd, PINMDL_IOC_LOCK, &l);
	IOCTL(fd, PINMDL_IOC_TARGET_OPEN, &t);
	end = t.capacity < 16 * CHUNK ? t.capacity : 16 * CHUNK;
	/* pinmdl's commands need 128-byte SQEs and 32-byte CQEs. */
	errno = -io_uring_queue_init(DEPTH, &ring, IORING_SETUP_SQE128 |
						   IORING_SETUP_CQE32);
	pinmdl_check(errno, "io_uring_queue_init", 0);

	/* Keep DEPTH reads in flight, one more each time one completes. */
	while (next < end || nfree < DEPTH) {
		for (; nfree && next < end; next += seg[slot].length) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
			struct pinmdl_io io = { .target = t.target,
				.op = PINMDL_BLK_READ, .dev_offset = next,
				.nr_segments = 1 };

			slot = free[--nfree];
			seg[slot] = (struct pinmdl_segment){ .handle = c.handle,
				.offset = slot * CHUNK,
				.length = end - next < CHUNK ? end - next : CHUNK };
			io.segments = (uintptr_t)&seg[slot];
			io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
			sqe->cmd_op = PINMDL_IOC_IO;
			memcpy(sqe->cmd, &io, sizeof(io));
			sqe->user_data = slot;
			off[slot] = next;
		}
		errno = -io_uring_submit_and_wait(&ring, 1);
		pinmdl_check(errno > 0 || io_uring_peek_cqe(&ring, &cqe), "CQE", 0);
		errno = -cqe->res;
		pinmdl_check(errno, "PINMDL_BLK_READ", PINMDL_IOC_IO);
		slot = cqe->user_data;
		for (hash = 2166136261u, i = 0; i < cqe->big_cqe[0]; i++)
			hash = (hash ^ buf[slot * CHUNK + i]) * 16777619u;
		printf("MiB %2d: %d bytes, FNV-1a %08x\n", (int)(off[slot] / CHUNK),
		       (int)cqe->big_cqe[0], hash);
		io_uring_cqe_seen(&ring, cqe);
		free[nfree++] = slot;
	}
	io_uring_queue_exit(&ring);
	h.handle = t.target;
	IOCTL(fd, PINMDL_IOC_TARGET_CLOSE, &h);
	h.handle = c.handle;
	IOCTL(fd, PINMDL_IOC_UNLOCK, &h);
	IOCTL(fd, PINMDL_IOC_FREE, &h);
	return 0;
}
