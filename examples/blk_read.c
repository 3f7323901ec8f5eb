// SPDX-License-Identifier: GPL-2.0
/*
 * blk_read: lock a buffer once, read a block device into it again and
 * again through pinmdl_blk (direct I/O into the locked pages: no copy, no
 * pin per read), a MiB at a time up to 16 MiB or the device's end (the
 * last read short if need be), and print each MiB's size and FNV-1a hash.
 *
 *   modprobe pinmdl_blk && ./blk_read /dev/vdb
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/pinmdl.h>
#include "pinmdl_errors.h"

#define LEN (1u << 20)

static void die(const char *what, unsigned long cmd)
{
	fprintf(stderr, "%s: %s\n", what, pinmdl_strerror(cmd, errno));
	exit(1);
}

int main(int argc, char **argv)
{
	struct pinmdl_create c = { .length = LEN };
	struct pinmdl_lock l = { .access_mode = PINMDL_USER_MODE };
	struct pinmdl_target_open t = { .name = (uintptr_t)"pinmdl_blk" };
	struct pinmdl_segment seg = { .length = LEN };
	struct pinmdl_io io = { .op = PINMDL_BLK_READ, .nr_segments = 1 };
	struct pinmdl_handle_arg h = { 0 };
	unsigned char *buf;
	uint64_t off, end, i;
	uint32_t hash;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: %s BLOCK-DEVICE\n", argv[0]);
		return 2;
	}
	fd = open("/dev/pinmdl", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("/dev/pinmdl", PINMDL_OPEN_DEVICE);
	t.fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (t.fd < 0)
		die(argv[1], 0);
	buf = mmap(NULL, LEN, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		die("mmap", 0);

	/* Describe and lock the buffer once: the device writes into it. */
	c.addr = (uintptr_t)buf;
	if (ioctl(fd, PINMDL_IOC_CREATE, &c))
		die("CREATE", PINMDL_IOC_CREATE);
	l.handle = c.handle;
	l.operation = PINMDL_IO_WRITE_ACCESS;
	if (ioctl(fd, PINMDL_IOC_LOCK, &l))
		die("LOCK", PINMDL_IOC_LOCK);

	/* Bind the device to a target id; capacity is bytes, whole blocks. */
	if (ioctl(fd, PINMDL_IOC_TARGET_OPEN, &t))
		die("TARGET_OPEN pinmdl_blk", PINMDL_IOC_TARGET_OPEN);
	seg.handle = c.handle;
	io.target = t.target;
	io.segments = (uintptr_t)&seg;
	end = t.capacity < 16 * LEN ? t.capacity : 16 * LEN;
	if (end < LEN)
		printf("%s: %d bytes, less than one read\n", argv[1], (int)end);

	/* Reads into the same locked pages; the last one may be short. */
	for (off = 0; off < end; off += LEN) {
		seg.length = end - off < LEN ? end - off : LEN;
		io.dev_offset = off;
		if (ioctl(fd, PINMDL_IOC_IO, &io))
			die("IO BLK_READ", PINMDL_IOC_IO);
		/* What the device wrote into the buffer: its 32-bit FNV-1a. */
		for (hash = 2166136261u, i = 0; i < io.result; i++)
			hash = (hash ^ buf[i]) * 16777619u;
		printf("MiB %2d: %d bytes, FNV-1a %08x\n", (int)(off / LEN),
		       (int)io.result, hash);
	}

	h.handle = t.target;
	if (ioctl(fd, PINMDL_IOC_TARGET_CLOSE, &h))
		die("TARGET_CLOSE", PINMDL_IOC_TARGET_CLOSE);
	h.handle = c.handle;
	if (ioctl(fd, PINMDL_IOC_UNLOCK, &h))
		die("UNLOCK", PINMDL_IOC_UNLOCK);
	if (ioctl(fd, PINMDL_IOC_FREE, &h))
		die("FREE", PINMDL_IOC_FREE);
	return 0;
}
