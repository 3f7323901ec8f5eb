// SPDX-License-Identifier: GPL-2.0
/*
 * async_queue: DEPTH asynchronous reads of a MiB in flight at once, each
 * into its slot of one locked buffer of DEPTH MiB, over a block device's
 * first 16 MiB (or all of it); completions taken with poll(2) and read(2).
 *
 *   modprobe pinmdl_blk && ./async_queue /dev/vdb
 */
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

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
	struct pinmdl_segment seg = { 0 };
	struct pinmdl_io io = { .op = PINMDL_BLK_READ, .nr_segments = 1,
		.segments = (uintptr_t)&seg, .flags = PINMDL_SUBMIT_ASYNC };
	struct pinmdl_handle_arg h = { 0 };
	struct pinmdl_completion comp;
	struct pollfd p = { .events = POLLIN };
	uint64_t id[DEPTH] = { 0 }, off[DEPTH], next = 0, end, i;
	int fd, slot, n = 0, peak = 0;
	unsigned char *buf;
	uint32_t hash;

	if (argc != 2) {
		fprintf(stderr, "usage: %s BLOCK-DEVICE\n", argv[0]);
		return 2;
	}
	p.fd = fd = open("/dev/pinmdl", O_RDWR | O_CLOEXEC);
	pinmdl_check(fd < 0, "/dev/pinmdl", PINMDL_OPEN_DEVICE);
	t.fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	pinmdl_check(t.fd < 0, argv[1], 0);
	buf = mmap(NULL, c.length, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pinmdl_check(buf == MAP_FAILED, "mmap", 0);
	c.addr = (uintptr_t)buf;
	IOCTL(fd, PINMDL_IOC_CREATE, &c);
	l.handle = seg.handle = c.handle;
	IOCTL(fd, PINMDL_IOC_LOCK, &l);
	IOCTL(fd, PINMDL_IOC_TARGET_OPEN, &t);
	io.target = t.target;
	end = t.capacity < 16 * CHUNK ? t.capacity : 16 * CHUNK;
	if (end < CHUNK)
		printf("%s: %d bytes, less than one read\n", argv[1], (int)end);

	while (next < end || n) {
		/* Fill every free slot (id 0) with the next chunk. */
		for (slot = 0; slot < DEPTH && next < end; slot++) {
			if (id[slot])
				continue;
			seg.offset = slot * CHUNK;
			seg.length = end - next < CHUNK ? end - next : CHUNK;
			io.dev_offset = off[slot] = next;
			IOCTL(fd, PINMDL_IOC_IO, &io);
			id[slot] = io.request_id;	/* from 1 on, never 0 */
			next += seg.length;
			peak = ++n > peak ? n : peak;
		}
		/* Wait for a completion; its id names one of the busy slots. */
		pinmdl_check(poll(&p, 1, -1) < 0, "poll", 0);
		pinmdl_check(read(fd, &comp, sizeof(comp)) < 0, "read", 0);
		for (slot = 0; slot < DEPTH && id[slot] != comp.request_id;)
			slot++;
		errno = slot == DEPTH ? EPROTO : -comp.status;
		pinmdl_check(errno, "PINMDL_BLK_READ", PINMDL_IOC_IO);
		for (hash = 2166136261u, i = 0; i < comp.result; i++)
			hash = (hash ^ buf[slot * CHUNK + i]) * 16777619u;
		printf("MiB %2d: %d bytes, FNV-1a %08x\n",
		       (int)(off[slot] / CHUNK), (int)comp.result, hash);
		id[slot] = 0;
		n--;
	}
	printf("at most %d requests in flight\n", peak);

	h.handle = t.target;
	IOCTL(fd, PINMDL_IOC_TARGET_CLOSE, &h);
	h.handle = c.handle;
	IOCTL(fd, PINMDL_IOC_UNLOCK, &h);
	IOCTL(fd, PINMDL_IOC_FREE, &h);
	return 0;
}
