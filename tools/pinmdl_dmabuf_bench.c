// SPDX-License-Identifier: GPL-2.0
/*
 * pinmdl_dmabuf_bench: dma-buf export of a locked buffer against udmabuf,
 * measured side by side in one run.
 *
 *   pinmdl_dmabuf_bench [--rounds N]
 *
 * The same memfd, sealed against shrinking and mapped shared, is made a
 * dma-buf both ways: pinmdl's CREATE, LOCK (modify) and EXPORT_DMABUF
 * (WRITE) of the mapping, and udmabuf's UDMABUF_CREATE of the memfd. Each
 * dma-buf is then imported by pinmdl_lower (DMABUF_CHECKSUM: attach, map
 * for the device, read all of it through the kernel mapping), and torn
 * down (close; UNLOCK and FREE). An anonymous buffer, which udmabuf
 * refuses, is exported and imported by pinmdl alone.
 *
 * Each ratio is the median of the ratios of the rounds, the two methods
 * timed one after the other in each round; the checksum reads every byte,
 * the same work for both, so export-only and teardown ratios say where a
 * difference lies:
 *   RATIO dmabuf_export_vs_udmabuf memfd <bytes> <value>
 *   RATIO dmabuf_export_only_vs_udmabuf memfd <bytes> <value>
 *   RATIO dmabuf_release_vs_udmabuf memfd <bytes> <value>
 *   TIME dmabuf_export anon <bytes> <usec per GiB, export plus import>
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/pinmdl.h>
#include <linux/udmabuf.h>

#include "pinmdl_bench_util.h"

#define MAX_ROUNDS	101

static int dev_fd, target, rounds = 7;

/* Times of one dma-buf's life, in microseconds. */
struct dmabuf_times {
	double made;		/* the dma-buf exists */
	double imported;	/* and pinmdl_lower checksummed it */
	double released;	/* and it is gone, the buffer unlocked */
};

static void import(int fd)
{
	struct pinmdl_io io = { .target = target,
				.op = PINMDL_LOWER_DMABUF_CHECKSUM,
				.arg = (uint32_t)fd };

	xioctl(dev_fd, PINMDL_IOC_IO, &io, "IO DMABUF_CHECKSUM");
}

static struct dmabuf_times time_pinmdl(void *buf, size_t len)
{
	struct pinmdl_create c = { .addr = (uintptr_t)buf, .length = len };
	struct pinmdl_lock l = { .access_mode = PINMDL_USER_MODE,
				 .operation = PINMDL_IO_MODIFY_ACCESS };
	struct pinmdl_export e = { .flags = PINMDL_EXPORT_WRITE |
					    PINMDL_EXPORT_CLOEXEC };
	struct pinmdl_handle_arg a;
	struct dmabuf_times t;
	double t0 = now_usec();

	xioctl(dev_fd, PINMDL_IOC_CREATE, &c, "CREATE");
	l.handle = c.handle;
	e.handle = c.handle;
	xioctl(dev_fd, PINMDL_IOC_LOCK, &l, "LOCK");
	xioctl(dev_fd, PINMDL_IOC_EXPORT_DMABUF, &e, "EXPORT_DMABUF");
	t.made = now_usec() - t0;
	import(e.fd);
	t.imported = now_usec() - t0;
	close(e.fd);
	a = (struct pinmdl_handle_arg){ .handle = c.handle };
	xioctl(dev_fd, PINMDL_IOC_UNLOCK, &a, "UNLOCK");
	xioctl(dev_fd, PINMDL_IOC_FREE, &a, "FREE");
	t.released = now_usec() - t0;
	return t;
}

static struct dmabuf_times time_udmabuf(int udmabuf, int memfd, size_t len)
{
	struct udmabuf_create u = { .memfd = memfd, .flags = UDMABUF_FLAGS_CLOEXEC,
				    .size = len };
	struct dmabuf_times t;
	double t0 = now_usec();
	int fd = ioctl(udmabuf, UDMABUF_CREATE, &u);

	if (fd < 0)
		die("UDMABUF_CREATE");
	t.made = now_usec() - t0;
	import(fd);
	t.imported = now_usec() - t0;
	close(fd);
	t.released = now_usec() - t0;
	return t;
}

static void bench_memfd(int udmabuf, size_t len)
{
	static double all[MAX_ROUNDS], made[MAX_ROUNDS], gone[MAX_ROUNDS];
	struct dmabuf_times p, u;
	int memfd, r;
	char *buf;

	memfd = memfd_create("pinmdl_dmabuf_bench", MFD_ALLOW_SEALING);
	if (memfd < 0 || ftruncate(memfd, len) ||
	    fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK))
		die("memfd");
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (buf == MAP_FAILED)
		die("mmap memfd");
	memset(buf, 0x5a, len);
	for (r = 0; r < rounds; r++) {
		p = time_pinmdl(buf, len);
		u = time_udmabuf(udmabuf, memfd, len);
		all[r] = p.imported / u.imported;
		made[r] = p.made / u.made;
		gone[r] = (p.released - p.imported) /
			  (u.released - u.imported);
	}
	printf("RATIO dmabuf_export_vs_udmabuf memfd %zu %.3f\n", len,
	       median(all, rounds));
	printf("RATIO dmabuf_export_only_vs_udmabuf memfd %zu %.3f\n", len,
	       median(made, rounds));
	printf("RATIO dmabuf_release_vs_udmabuf memfd %zu %.3f\n", len,
	       median(gone, rounds));
	munmap(buf, len);
	close(memfd);
}

static void bench_anon(size_t len)
{
	static double per_gib[MAX_ROUNDS];
	char *buf;
	int r;

	buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		die("mmap anon");
	memset(buf, 0x5a, len);
	for (r = 0; r < rounds; r++)
		per_gib[r] = time_pinmdl(buf, len).imported *
			     (double)(1UL << 30) / len;
	printf("TIME dmabuf_export anon %zu %.0f\n", len,
	       median(per_gib, rounds));
	munmap(buf, len);
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 64UL << 20, 1UL << 30 };
	struct pinmdl_target_open o = { .name = (uintptr_t)"pinmdl_lower",
					.fd = -1 };
	int udmabuf;
	size_t k;

	if (argc == 3 && !strcmp(argv[1], "--rounds"))
		rounds = atoi(argv[2]);
	if (rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "usage: pinmdl_dmabuf_bench [--rounds 1..%d]\n",
			MAX_ROUNDS);
		return 2;
	}
	dev_fd = open("/dev/pinmdl", O_RDWR | O_CLOEXEC);
	if (dev_fd < 0)
		die("/dev/pinmdl");
	xioctl(dev_fd, PINMDL_IOC_TARGET_OPEN, &o, "TARGET_OPEN pinmdl_lower");
	target = o.target;
	udmabuf = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	for (k = 0; k < 2; k++) {
		if (udmabuf >= 0)
			bench_memfd(udmabuf, sizes[k]);
		else
			printf("# no /dev/udmabuf: dmabuf_export_vs_udmabuf not measured\n");
		bench_anon(sizes[k]);
	}
	return 0;
}
