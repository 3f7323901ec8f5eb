// SPDX-License-Identifier: GPL-2.0
/*
 * lock_checksum: lock a buffer (MmProbeAndLockPages), show how many pages
 * it pinned, and have the pinmdl_lower driver checksum it in the kernel
 * straight from those pages; the user's own checksum must agree.
 *
 *   modprobe pinmdl_lower && ./lock_checksum
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/pinmdl.h>
#include "pinmdl_errors.h"

#define LEN (1u << 20)

static void die(const char *what, unsigned long cmd)
{
	fprintf(stderr, "%s: %s\n", what, pinmdl_strerror(cmd, errno));
	exit(1);
}

/* crc32c(~0, data, len) with no final inversion, as pinmdl_lower sums. */
static uint32_t crc32c(const unsigned char *p, size_t len)
{
	uint32_t crc = ~0u;
	int k;

	while (len--)
		for (crc ^= *p++, k = 0; k < 8; k++)
			crc = crc >> 1 ^ (0x82f63b78 & -(crc & 1));
	return crc;
}

int main(void)
{
	struct pinmdl_lock l = { .access_mode = PINMDL_USER_MODE,
				 .operation = PINMDL_IO_READ_ACCESS };
	struct pinmdl_target_open topen = { .fd = -1 };
	struct pinmdl_handle_arg h = { 0 }, close_arg = { 0 };
	struct pinmdl_create c = { .length = LEN };
	struct pinmdl_query q = { 0 };
	struct pinmdl_segment seg = { .length = LEN };
	struct pinmdl_io io = { .op = PINMDL_LOWER_CHECKSUM, .nr_segments = 1 };
	unsigned char *buf;
	size_t i;
	int fd;

	fd = open("/dev/pinmdl", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("/dev/pinmdl", PINMDL_OPEN_DEVICE);
	buf = aligned_alloc(4096, LEN);
	if (!buf)
		die("aligned_alloc", 0);
	for (i = 0; i < LEN; i++)
		buf[i] = (unsigned char)(i * 7);

	/* IoAllocateMdl, then MmProbeAndLockPages(UserMode, IoReadAccess). */
	c.addr = (uintptr_t)buf;
	if (ioctl(fd, PINMDL_IOC_CREATE, &c))
		die("CREATE", PINMDL_IOC_CREATE);
	l.handle = c.handle;
	if (ioctl(fd, PINMDL_IOC_LOCK, &l))
		die("LOCK", PINMDL_IOC_LOCK);
	q.handle = c.handle;
	if (ioctl(fd, PINMDL_IOC_QUERY, &q))
		die("QUERY", PINMDL_IOC_QUERY);
	printf("locked %llu bytes: %llu pages\n",
	       (unsigned long long)q.byte_count,
	       (unsigned long long)q.page_count);

	/* IoCallDriver: one request, one segment, to the memory driver. */
	topen.name = (uintptr_t)"pinmdl_lower";
	if (ioctl(fd, PINMDL_IOC_TARGET_OPEN, &topen))
		die("TARGET_OPEN pinmdl_lower", PINMDL_IOC_TARGET_OPEN);
	seg.handle = c.handle;
	io.target = topen.target;
	io.segments = (uintptr_t)&seg;
	if (ioctl(fd, PINMDL_IOC_IO, &io))
		die("IO CHECKSUM", PINMDL_IOC_IO);
	printf("kernel checksum 0x%08llx, user checksum 0x%08x: %s\n",
	       (unsigned long long)io.result, crc32c(buf, LEN),
	       io.result == crc32c(buf, LEN) ? "match" : "MISMATCH");

	close_arg.handle = topen.target;
	if (ioctl(fd, PINMDL_IOC_TARGET_CLOSE, &close_arg))
		die("TARGET_CLOSE", PINMDL_IOC_TARGET_CLOSE);
	h.handle = c.handle;
	if (ioctl(fd, PINMDL_IOC_UNLOCK, &h))
		die("UNLOCK", PINMDL_IOC_UNLOCK);
	if (ioctl(fd, PINMDL_IOC_FREE, &h))
		die("FREE", PINMDL_IOC_FREE);
	return io.result == crc32c(buf, LEN) ? 0 : 1;
}
