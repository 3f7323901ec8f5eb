// SPDX-License-Identifier: GPL-2.0
/*
 * async_queue: asynchronous reads of a block device's first 16 MiB into
 * one locked buffer, DEPTH requests in flight, each into its own slot
 * (one descriptor may be in any number of requests at once). poll(2)
 * says a completion is there, read(2) takes it, its request id names the
 * slot; each MiB's first byte is printed in the order they complete.
 *
 *   modprobe pinmdl_blk && ./async_queue /dev/vdb
 */
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/pinmdl.h>
#include "pinmdl_errors.h"

#define DEPTH	8		/* requests in flight */
#define CHUNK	(64u << 10)	/* bytes a request */
#define TOTAL	(16u << 20)

static void die(const char *what, unsigned long cmd, int err)
{
	fprintf(stderr, "%s: %s\n", what, pinmdl_strerror(cmd, err));
	exit(1);
}

int main(int argc, char **argv)
{
	struct pinmdl_lock l = { .access_mode = PINMDL_USER_MODE,
				 .operation = PINMDL_IO_WRITE_ACCESS };
	struct pinmdl_target_open t = { .name = (uintptr_t)"pinmdl_blk" };
	struct pinmdl_create c = { .length = DEPTH * CHUNK };
	uint64_t id[DEPTH], off[DEPTH], next = 0, end;
	unsigned char *buf;
	struct pinmdl_completion comp;
	struct pollfd p = { .events = POLLIN };
	int fd, slot, busy = 0;

	if (argc != 2)
		die("usage: async_queue BLOCK-DEVICE", 0, EINVAL);
	fd = open("/dev/pinmdl", O_RDWR);
	t.fd = open(argv[1], O_RDONLY);
	if (fd < 0 || t.fd < 0)
		die(fd < 0 ? "/dev/pinmdl" : argv[1], 0, errno);
	p.fd = fd;
	buf = mmap(NULL, c.length, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		die("mmap", 0, errno);
	c.addr = (uintptr_t)buf;
	if (ioctl(fd, PINMDL_IOC_CREATE, &c))
		die("CREATE", PINMDL_IOC_CREATE, errno);
	l.handle = c.handle;
	if (ioctl(fd, PINMDL_IOC_LOCK, &l))
		die("LOCK", PINMDL_IOC_LOCK, errno);
	if (ioctl(fd, PINMDL_IOC_TARGET_OPEN, &t))
		die("TARGET_OPEN", PINMDL_IOC_TARGET_OPEN, errno);
	end = t.capacity < TOTAL ? t.capacity / CHUNK * CHUNK : TOTAL;

	while (next < end || busy) {
		/* Fill every free slot with the next chunk of the device. */
		for (slot = 0; slot < DEPTH && next < end; slot++) {
			struct pinmdl_segment seg = { c.handle, 0, slot * CHUNK, CHUNK };
			struct pinmdl_io io = { .target = t.target,
				.op = PINMDL_BLK_READ, .dev_offset = next,
				.segments = (uintptr_t)&seg, .nr_segments = 1,
				.flags = PINMDL_SUBMIT_ASYNC };

			if (busy & 1 << slot)
				continue;
			if (ioctl(fd, PINMDL_IOC_IO, &io))
				die("IO", PINMDL_IOC_IO, errno);
			id[slot] = io.request_id;
			off[slot] = next;
			next += CHUNK;
			busy |= 1 << slot;
		}
		/* Wait for a completion and find its slot. */
		if (poll(&p, 1, -1) < 0 || read(fd, &comp, sizeof(comp)) < 0)
			die("poll or read", 0, errno);
		if (comp.status)
			die("BLK_READ", PINMDL_IOC_IO, -comp.status);
		for (slot = 0; slot < DEPTH && id[slot] != comp.request_id; slot++)
			;
		if (slot == DEPTH)
			die("completion", 0, EPROTO);
		if (off[slot] % (1u << 20) == 0)
			printf("MiB %2d: %02x\n", (int)(off[slot] >> 20),
			       buf[slot * CHUNK]);
		busy &= ~(1 << slot);
	}
	return 0;
}
