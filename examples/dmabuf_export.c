// SPDX-License-Identifier: GPL-2.0
/*
 * dmabuf_export: lock a malloc'd buffer (udmabuf would refuse it), export
 * it as a dma-buf, have pinmdl_lower import it as a device driver would
 * and fill it, and write through a mapping of the dma-buf.
 *   modprobe pinmdl_lower && ./dmabuf_export
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/dma-buf.h>
#include <linux/pinmdl.h>
#include "pinmdl_errors.h"

#define LEN (1u << 20)

static void die(const char *what, unsigned long cmd)
{
	fprintf(stderr, "%s: %s\n", what, pinmdl_strerror(cmd, errno));
	exit(1);
}

int main(void)
{
	struct pinmdl_lock l = { .access_mode = PINMDL_USER_MODE,
				 .operation = PINMDL_IO_MODIFY_ACCESS };
	struct pinmdl_target_open t = { .name = (uintptr_t)"pinmdl_lower" };
	struct pinmdl_io io = { .op = PINMDL_LOWER_DMABUF_FILL };
	struct dma_buf_sync sync = { DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE };
	struct pinmdl_create c = { .length = LEN };
	struct pinmdl_handle_arg h = { 0 };
	struct pinmdl_export e = { 0 };
	unsigned char *buf, *map;
	int fd, i, same;

	fd = open("/dev/pinmdl", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("/dev/pinmdl", PINMDL_OPEN_DEVICE);
	buf = aligned_alloc(4096, LEN);
	if (!buf)
		die("aligned_alloc", 0);
	for (i = 0; i < (int)LEN; i++)
		buf[i] = (unsigned char)i;

	/* Lock the buffer for the devices to write too, and export it. */
	c.addr = (uintptr_t)buf;
	if (ioctl(fd, PINMDL_IOC_CREATE, &c))
		die("CREATE", PINMDL_IOC_CREATE);
	l.handle = c.handle;
	if (ioctl(fd, PINMDL_IOC_LOCK, &l))
		die("LOCK", PINMDL_IOC_LOCK);
	e.handle = c.handle;
	e.flags = PINMDL_EXPORT_WRITE | PINMDL_EXPORT_CLOEXEC;
	if (ioctl(fd, PINMDL_IOC_EXPORT_DMABUF, &e))
		die("EXPORT_DMABUF", PINMDL_IOC_EXPORT_DMABUF);

	/* An importer: the driver attaches its device, maps the dma-buf. */
	t.fd = -1;
	if (ioctl(fd, PINMDL_IOC_TARGET_OPEN, &t))
		die("TARGET_OPEN pinmdl_lower", PINMDL_IOC_TARGET_OPEN);
	io.target = t.target;
	io.arg = e.fd | 0x5aull << 32;	/* the byte to fill with */
	if (ioctl(fd, PINMDL_IOC_IO, &io))
		die("IO DMABUF_FILL", PINMDL_IOC_IO);
	for (i = 0, same = 1; i < (int)LEN; i++)
		same &= buf[i] == 0x5a;
	printf("the importer wrote %llu bytes of 0x5a into the buffer: %s\n",
	       (unsigned long long)io.result, same ? "match" : "MISMATCH");

	/* The dma-buf's own mapping reaches the same pages. */
	map = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, e.fd, 0);
	if (map == MAP_FAILED || ioctl(e.fd, DMA_BUF_IOCTL_SYNC, &sync))
		die("mmap of the dma-buf", 0);
	map[7] = 0xa5;
	sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE;
	ioctl(e.fd, DMA_BUF_IOCTL_SYNC, &sync);
	printf("written through the dma-buf, in the buffer: 0x%02x\n", buf[7]);

	/* The pages stay locked while the dma-buf lives: UNLOCK is EBUSY. */
	h.handle = c.handle;
	if (!ioctl(fd, PINMDL_IOC_UNLOCK, &h) || errno != EBUSY)
		die("UNLOCK while exported", PINMDL_IOC_UNLOCK);
	munmap(map, LEN);
	close(e.fd);
	if (ioctl(fd, PINMDL_IOC_UNLOCK, &h) || ioctl(fd, PINMDL_IOC_FREE, &h))
		die("UNLOCK, FREE", PINMDL_IOC_UNLOCK);
	return !same || buf[7] != 0xa5;
}
