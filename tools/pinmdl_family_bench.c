// SPDX-License-Identifier: GPL-2.0
/*
 * pinmdl_family_bench: the rest of the MDL family against what a user
 * would pick instead, measured side by side in one run.
 *
 *   pinmdl_family_bench [--rounds N]
 *
 * A server reading a client's buffer: the client's pages locked and
 * mapped into the server (CREATE, LOCK and MAP_OFFSET by the owner of the
 * buffer, then mmap(2), a read of every byte into the server's own buffer,
 * munmap(2), UNLOCK and FREE), against process_vm_readv(2) of the same
 * bytes from a child process, per call and with the lock and the mapping
 * reused for 100 reads. The client here is the benchmark itself: the
 * message that would carry the file and the offset between two processes
 * is left out, as process_vm_readv(2) needs none.
 *
 * ALLOC_PAGES and FREE of 1 MiB and 64 MiB against an allocation of the
 * same size from the kernel's system dma-buf heap (/dev/dma_heap/system),
 * which also zeroes its pages, and the close of its dma-buf.
 *
 * Each ratio is the median of the ratios of the rounds, the two methods
 * timed one after the other in each round:
 *   RATIO process_map_vs_process_vm_readv <bytes> <reuses> <value>
 *   RATIO alloc_pages_vs_dma_heap <bytes> <value>
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/dma-heap.h>
#include <linux/pinmdl.h>

#include "pinmdl_bench_util.h"

#define MAX_ROUNDS	101
#define REUSES		100

static int dev_fd, rounds = 11;

static uint32_t lock_buffer(void *addr, size_t len)
{
	struct pinmdl_create c = { .addr = (uintptr_t)addr, .length = len };
	struct pinmdl_lock l = { .access_mode = PINMDL_USER_MODE,
				 .operation = PINMDL_IO_READ_ACCESS };

	xioctl(dev_fd, PINMDL_IOC_CREATE, &c, "CREATE");
	l.handle = c.handle;
	xioctl(dev_fd, PINMDL_IOC_LOCK, &l, "LOCK");
	return c.handle;
}

static void unlock_buffer(uint32_t h)
{
	struct pinmdl_handle_arg a = { .handle = h };

	xioctl(dev_fd, PINMDL_IOC_UNLOCK, &a, "UNLOCK");
	xioctl(dev_fd, PINMDL_IOC_FREE, &a, "FREE");
}

/*
 * @reads reads of @len bytes of @client through a mapping of its locked
 * pages into @out, with one lock and one mapping for them all.
 */
static double time_map(char *client, size_t len, int reads, char *out)
{
	double t = now_usec();
	struct pinmdl_map m;
	char *p;
	int i;

	m = (struct pinmdl_map){ .handle = lock_buffer(client, len) };
	xioctl(dev_fd, PINMDL_IOC_MAP_OFFSET, &m, "MAP_OFFSET");
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, dev_fd, m.offset);
	if (p == MAP_FAILED)
		die("mmap");
	for (i = 0; i < reads; i++)
		memcpy(out, p, len);
	munmap(p, len);
	unlock_buffer(m.handle);
	return now_usec() - t;
}

/* @reads process_vm_readv(2) of @len bytes at @remote in @pid into @out. */
static double time_vm_readv(pid_t pid, char *remote, size_t len, int reads,
			    char *out)
{
	struct iovec local = { out, len }, rem = { remote, len };
	double t = now_usec();
	int i;

	for (i = 0; i < reads; i++)
		if (process_vm_readv(pid, &local, 1, &rem, 1, 0) != (ssize_t)len)
			die("process_vm_readv");
	return now_usec() - t;
}

/*
 * The client's buffer is the benchmark's own, and a child forked with it
 * holds the same bytes at the same address for process_vm_readv(2).
 */
static void bench_process_map(void)
{
	static const size_t sizes[] = { 4096, 65536, 1 << 20 };
	static const int reuses[] = { 1, REUSES };
	static double ratio[MAX_ROUNDS];
	size_t max = sizes[2], k;
	char *client, *out;
	unsigned int j;
	pid_t pid;
	int r;

	client = mmap(NULL, max, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	out = malloc(max);
	if (client == MAP_FAILED || !out)
		die("buffers");
	memset(client, 0x5a, max);
	memset(out, 0, max);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		pause();
		_exit(0);
	}
	for (k = 0; k < 3; k++) {
		for (j = 0; j < 2; j++) {
			for (r = 0; r < rounds; r++)
				ratio[r] = time_map(client, sizes[k],
						    reuses[j], out) /
					   time_vm_readv(pid, client, sizes[k],
							 reuses[j], out);
			printf("RATIO process_map_vs_process_vm_readv %zu %d %.3f\n",
			       sizes[k], reuses[j], median(ratio, rounds));
		}
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	munmap(client, max);
	free(out);
}

static double time_alloc_pages(size_t len)
{
	struct pinmdl_alloc_pages a = { .length = len, .node = -1,
					.flags = PINMDL_ALLOC_FULLY_REQUIRED };
	struct pinmdl_handle_arg f;
	double t = now_usec();

	xioctl(dev_fd, PINMDL_IOC_ALLOC_PAGES, &a, "ALLOC_PAGES");
	f = (struct pinmdl_handle_arg){ .handle = a.handle };
	xioctl(dev_fd, PINMDL_IOC_FREE, &f, "FREE");
	return now_usec() - t;
}

static double time_dma_heap(int heap, size_t len)
{
	struct dma_heap_allocation_data d = {
		.len = len,
		.fd_flags = O_RDWR | O_CLOEXEC,
	};
	double t = now_usec();

	xioctl(heap, DMA_HEAP_IOCTL_ALLOC, &d, "DMA_HEAP_IOCTL_ALLOC");
	close(d.fd);
	return now_usec() - t;
}

static void bench_alloc_pages(void)
{
	static const size_t sizes[] = { 1 << 20, 64 << 20 };
	static double ratio[MAX_ROUNDS];
	int heap, r;
	size_t k;

	heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	if (heap < 0) {
		printf("# no /dev/dma_heap/system: alloc_pages_vs_dma_heap not measured\n");
		return;
	}
	for (k = 0; k < 2; k++) {
		for (r = 0; r < rounds; r++)
			ratio[r] = time_alloc_pages(sizes[k]) /
				   time_dma_heap(heap, sizes[k]);
		printf("RATIO alloc_pages_vs_dma_heap %zu %.3f\n", sizes[k],
		       median(ratio, rounds));
	}
	close(heap);
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--rounds"))
		rounds = atoi(argv[2]);
	if (rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "usage: pinmdl_family_bench [--rounds 1..%d]\n",
			MAX_ROUNDS);
		return 2;
	}
	dev_fd = open("/dev/pinmdl", O_RDWR | O_CLOEXEC);
	if (dev_fd < 0)
		die("/dev/pinmdl");
	bench_process_map();
	bench_alloc_pages();
	return 0;
}
