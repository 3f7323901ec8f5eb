// SPDX-License-Identifier: GPL-2.0
/*
 * blk_read: lock a 1 MiB buffer once, then read a block device into it
 * again and again through pinmdl_blk: each read is the device's own
 * direct I/O straight into the locked pages, with no copy and no pin per
 * read. It reads the device's first 16 MiB (or less), a MiB at a time,
 * and prints each MiB's first and last byte.
 *
 *   modprobe pinmdl_blk && ./blk_read /dev/vdb
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

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
	uint64_t mib;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: %s BLOCK-DEVICE\n", argv[0]);
		return 2;
	}
	fd = open("/dev/pinmdl", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("/dev/pinmdl", 0);
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

	/* Bind the block device to a target id; capacity is in bytes. */
	if (ioctl(fd, PINMDL_IOC_TARGET_OPEN, &t))
		die("TARGET_OPEN pinmdl_blk", PINMDL_IOC_TARGET_OPEN);
	seg.handle = c.handle;
	io.target = t.target;
	io.segments = (uintptr_t)&seg;

	/* Any number of reads into the same locked pages. */
	for (mib = 0; mib < 16 && (mib + 1) * LEN <= t.capacity; mib++) {
		io.dev_offset = mib * LEN;
		if (ioctl(fd, PINMDL_IOC_IO, &io))
			die("IO BLK_READ", PINMDL_IOC_IO);
		printf("MiB %2llu: %02x .. %02x\n", (unsigned long long)mib,
		       buf[0], buf[LEN - 1]);
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
