/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the pinmdl selftests: ioctl wrappers that return 0 or
 * -errno, the system-wide pin balance, PFNs from /proc/self/pagemap, the
 * module's debugfs counters and parameters, and test buffers of every kind
 * of memory.
 */
#ifndef _PINMDL_UTIL_H
#define _PINMDL_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/pinmdl.h>

#define PM_PAGE		4096UL
#define PM_HPAGE	(2UL << 20)

static inline int pm_open(void)
{
	return open("/dev/pinmdl", O_RDWR | O_CLOEXEC);
}

static inline int pm_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

static inline int pm_create(int fd, const void *addr, uint64_t len,
			    uint32_t *handle)
{
	struct pinmdl_create c = { .addr = (uintptr_t)addr, .length = len };
	int ret = pm_ioctl(fd, PINMDL_IOC_CREATE, &c);

	if (!ret && handle)
		*handle = c.handle;
	return ret;
}

static inline int pm_lock(int fd, uint32_t handle, uint32_t op)
{
	struct pinmdl_lock l = { .handle = handle,
				 .access_mode = PINMDL_USER_MODE,
				 .operation = op };

	return pm_ioctl(fd, PINMDL_IOC_LOCK, &l);
}

static inline int pm_unlock(int fd, uint32_t handle)
{
	struct pinmdl_handle_arg h = { .handle = handle };

	return pm_ioctl(fd, PINMDL_IOC_UNLOCK, &h);
}

static inline int pm_free(int fd, uint32_t handle)
{
	struct pinmdl_handle_arg h = { .handle = handle };

	return pm_ioctl(fd, PINMDL_IOC_FREE, &h);
}

static inline int pm_query(int fd, uint32_t handle, struct pinmdl_query *q,
			   uint64_t *pfns, uint64_t capacity)
{
	memset(q, 0, sizeof(*q));
	q->handle = handle;
	q->pfns = (uintptr_t)pfns;
	q->pfn_capacity = capacity;
	return pm_ioctl(fd, PINMDL_IOC_QUERY, q);
}

static inline int pm_partial(int fd, uint32_t parent, const void *addr,
			     uint64_t len, uint32_t *handle)
{
	struct pinmdl_partial p = { .parent = parent,
				    .addr = (uintptr_t)addr, .length = len };
	int ret = pm_ioctl(fd, PINMDL_IOC_PARTIAL, &p);

	if (!ret && handle)
		*handle = p.handle;
	return ret;
}

/* Rebuild the partial @handle of @parent over [@addr, @addr + @len). */
static inline int pm_partial_reuse(int fd, uint32_t parent, uint32_t handle,
				   const void *addr, uint64_t len)
{
	struct pinmdl_partial p = { .parent = parent, .handle = handle,
				    .addr = (uintptr_t)addr, .length = len };

	return pm_ioctl(fd, PINMDL_IOC_PARTIAL_REUSE, &p);
}

static inline int pm_advance(int fd, uint32_t handle, uint64_t bytes)
{
	struct pinmdl_advance a = { .handle = handle, .bytes = bytes };

	return pm_ioctl(fd, PINMDL_IOC_ADVANCE, &a);
}

/* The mmap(2) offset of @handle's pages into *@offset (if not NULL). */
static inline int pm_map_offset(int fd, uint32_t handle, uint64_t *offset)
{
	struct pinmdl_map m = { .handle = handle };
	int ret = pm_ioctl(fd, PINMDL_IOC_MAP_OFFSET, &m);

	if (!ret && offset)
		*offset = m.offset;
	return ret;
}

/* Create and lock in one step; returns the handle or 0 on failure. */
static inline uint32_t pm_create_locked(int fd, const void *addr,
					uint64_t len, uint32_t op)
{
	uint32_t h;

	if (pm_create(fd, addr, len, &h))
		return 0;
	if (pm_lock(fd, h, op)) {
		pm_free(fd, h);
		return 0;
	}
	return h;
}

static inline long pm_vmstat(const char *name)
{
	char line[128];
	size_t n = strlen(name);
	long val = -1;
	FILE *f;

	f = fopen("/proc/vmstat", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, n) && line[n] == ' ')
			val = atol(line + n + 1);
	fclose(f);
	return val;
}

/* Pages pinned system-wide (FOLL_PIN acquired minus released). */
static inline long pm_pins(void)
{
	int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY);

	if (fd >= 0) {
		if (write(fd, "1", 1) != 1)
			perror("stat_refresh");
		close(fd);
	}
	return pm_vmstat("nr_foll_pin_acquired") -
	       pm_vmstat("nr_foll_pin_released");
}

/*
 * PFNs mapped now at the @pages pages from @addr, from /proc/self/pagemap,
 * into @pfns (0 for a page not present). Return 0, or -1 if unreadable.
 */
static inline int pm_pagemap_pfns(const void *addr, size_t pages,
				  uint64_t *pfns)
{
	int fd = open("/proc/self/pagemap", O_RDONLY);
	ssize_t want = pages * sizeof(*pfns);
	size_t i;

	if (fd < 0)
		return -1;
	if (pread(fd, pfns, want, (uintptr_t)addr / PM_PAGE * sizeof(*pfns)) !=
	    want) {
		close(fd);
		return -1;
	}
	close(fd);
	for (i = 0; i < pages; i++)
		pfns[i] = (pfns[i] >> 63) ? pfns[i] & ((1ULL << 55) - 1) : 0;
	return 0;
}

/* PFN mapped at @addr now, from /proc/self/pagemap; 0 if not present. */
static inline uint64_t pm_pagemap_pfn(const void *addr)
{
	uint64_t pfn;

	return pm_pagemap_pfns(addr, 1, &pfn) ? 0 : pfn;
}

/* The number @name of the debugfs file pinmdl/@file, or -1. */
static inline long pm_debugfs(const char *file, const char *name)
{
	char key[64], path[128];
	long val, found = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/pinmdl/%s", file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", key, &val) == 2)
		if (!strcmp(key, name))
			found = val;
	fclose(f);
	return found;
}

/* A counter of debugfs pinmdl/stats, or -1. */
static inline long pm_stat(const char *name)
{
	return pm_debugfs("stats", name);
}

/* Switch debugfs pinmdl/timing on (resetting it) or off; 0 or -1. */
static inline int pm_timing(int on)
{
	FILE *f = fopen("/sys/kernel/debug/pinmdl/timing", "w");
	int ret;

	if (!f)
		return -1;
	ret = fputs(on ? "1" : "0", f) < 0;
	return fclose(f) || ret ? -1 : 0;
}

static inline unsigned long long pm_param(const char *name)
{
	char path[128];
	unsigned long long val = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/pinmdl/parameters/%s", name);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%llu", &val) != 1)
		val = 0;
	fclose(f);
	return val;
}

static inline int pm_set_param(const char *name, unsigned long long val)
{
	char path[128];
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), "/sys/module/pinmdl/parameters/%s", name);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	ret = fprintf(f, "%llu\n", val) > 0 ? 0 : -EIO;
	return fclose(f) ? -errno : ret;
}

/* Become nobody: no capabilities left (CAP_IPC_LOCK, CAP_SYS_ADMIN). */
/* The machine's RAM in bytes, as the kernel counts it (MemTotal). */
static inline unsigned long long pm_ram_bytes(void)
{
	unsigned long long kb = 0;
	char line[128];
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb << 10;
}

static inline int pm_drop_privileges(void)
{
	if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
		return -errno;
	return 0;
}

/* VmPin of this process in kB, from /proc/self/status. */
static inline long pm_vmpin_kb(void)
{
	char line[128];
	long val = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmPin:", 6))
			val = atol(line + 6);
	fclose(f);
	return val;
}

/* Run a shell command; its exit status, or -1 if it did not exit. */
/* Where tracefs is: its own mount, or under debugfs. */
static inline const char *pm_tracefs(void)
{
	return access("/sys/kernel/tracing/events", F_OK) ?
	       "/sys/kernel/debug/tracing" : "/sys/kernel/tracing";
}

static inline int pm_run(const char *cmd)
{
	int status = system(cmd);

	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static inline void *pm_map(size_t len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* The kinds of memory a test buffer is made of. */
enum pm_mem_kind { PM_ANON, PM_THP, PM_HUGETLB, PM_MEMFD, PM_FILE };

/*
 * A test buffer: @len bytes at @buf inside the mapping @raw of @raw_len
 * bytes, of the memfd or unlinked file @backing (else -1).
 */
struct pm_mem {
	char *raw;
	size_t raw_len;
	char *buf;
	size_t len;
	int backing;
};

/* A memfd or an unlinked file of @len bytes of 0x33, or -1. */
static inline int pm_mem_backing(enum pm_mem_kind kind, size_t len)
{
	char path[] = "/tmp/pinmdl-mem-XXXXXX";
	char *data;
	int fd;

	if (kind == PM_MEMFD) {
		fd = memfd_create("pinmdl", 0);
	} else {
		fd = mkstemp(path);
		if (fd >= 0)
			unlink(path);
	}
	if (fd < 0)
		return -1;
	/* File contents the pins must keep seeing correctly. */
	data = malloc(len);
	if (data)
		memset(data, 0x33, len);
	if (!data || pwrite(fd, data, len, 0) != (ssize_t)len) {
		close(fd);
		fd = -1;
	}
	free(data);
	return fd;
}

/*
 * Map @m: @len bytes of @kind memory with @prot, shared or private; THP is
 * 2 MiB aligned and advised, @len of THP and hugetlb whole huge pages.
 * Return 0; 1 if this kernel cannot give that memory (no free hugetlb
 * page, no THP), errno telling why; -1 on any other failure.
 */
static inline int pm_mem_map(struct pm_mem *m, enum pm_mem_kind kind,
			     size_t len, int prot, int shared)
{
	int flags = (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS;

	m->backing = -1;
	m->len = m->raw_len = len;
	switch (kind) {
	case PM_ANON:
		break;
	case PM_THP:
		m->raw_len = len + PM_HPAGE;
		break;
	case PM_HUGETLB:
		flags |= MAP_HUGETLB;
		break;
	case PM_MEMFD:
	case PM_FILE:
		m->backing = pm_mem_backing(kind, len);
		if (m->backing < 0)
			return -1;
		flags &= ~MAP_ANONYMOUS;
		break;
	}
	m->raw = mmap(NULL, m->raw_len, prot, flags, m->backing, 0);
	if (m->raw == MAP_FAILED) {
		m->raw = NULL;
		return kind == PM_HUGETLB ? 1 : -1;
	}
	m->buf = m->raw;
	if (kind == PM_THP) {
		m->buf = (char *)(((uintptr_t)m->raw + PM_HPAGE - 1) &
				  ~(PM_HPAGE - 1));
		if (madvise(m->buf, len, MADV_HUGEPAGE))
			return 1;
	}
	return 0;
}

static inline void pm_mem_unmap(struct pm_mem *m)
{
	if (m->raw)
		munmap(m->raw, m->raw_len);
	if (m->backing >= 0)
		close(m->backing);
	m->raw = NULL;
	m->backing = -1;
}

/*
 * The kernel log from now on: /dev/kmsg, read from its end without
 * blocking. Its fd, or -1 if it cannot be read (the caller skips).
 */
static inline int pm_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0 && lseek(fd, 0, SEEK_END) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/*
 * The next record of the kernel log @fd (from pm_kmsg_open()) that
 * contains @text, into @line of @size bytes: 0, or -1 if there is none.
 */
static inline int pm_kmsg_find(int fd, const char *text, char *line,
			       size_t size)
{
	char rec[2048];
	ssize_t n;

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		/* Records overwritten before they were read: go on. */
		if (n < 0 && errno == EPIPE)
			continue;
		if (n <= 0)
			return -1;
		rec[n] = 0;
		if (strstr(rec, text)) {
			n = (size_t)n < size ? n : (ssize_t)size - 1;
			memcpy(line, rec, n);
			line[n] = 0;
			return 0;
		}
	}
}

/* Run @fn in a child process; return its exit status (or 128 + signal). */
static inline int pm_in_child(int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (!pid)
		_exit(fn(arg));
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) :
				   128 + WTERMSIG(status);
}

static inline int pm_submit(int fd, uint32_t handle, uint32_t op,
			    uint64_t offset, uint64_t len, uint64_t arg,
			    uint32_t flags, struct pinmdl_submit *out)
{
	struct pinmdl_submit s = { .handle = handle, .op = op,
				   .offset = offset, .length = len,
				   .arg = arg, .flags = flags };
	int ret = pm_ioctl(fd, PINMDL_IOC_SUBMIT, &s);

	if (out)
		*out = s;
	return ret;
}

static inline int pm_submit_buffered(int fd, void *addr, uint64_t len,
				     uint32_t op, uint64_t arg,
				     uint64_t *result)
{
	struct pinmdl_submit_buffered b = { .addr = (uintptr_t)addr,
					    .length = len, .op = op,
					    .arg = arg };
	int ret = pm_ioctl(fd, PINMDL_IOC_SUBMIT_BUFFERED, &b);

	if (result)
		*result = b.result;
	return ret;
}

/* The kernel's crc32c(~0, data, len): Castagnoli, no final inversion. */
static inline uint32_t pm_crc32c(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint32_t crc = ~0U;
	int k;

	while (len--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82F63B78U & -(crc & 1));
	}
	return crc;
}

/* The 32x32 matrix over GF(2) @m times the vector @v. */
static inline uint32_t pm_gf2_times(const uint32_t *m, uint32_t v)
{
	uint32_t sum = 0;

	for (; v; v >>= 1, m++)
		if (v & 1)
			sum ^= *m;
	return sum;
}

/*
 * The crc32c state after @len zero bytes from state @crc, in O(log @len)
 * steps, as zlib's crc32_combine() does: the effect of one zero bit is a
 * linear map, squared into the effect of 2, 4, 8... zero bytes.
 */
static inline uint32_t pm_crc32c_zeros(uint32_t crc, uint64_t len)
{
	uint32_t op[32], sq[32];
	int i;

	/* The effect of one zero bit, then of one zero byte. */
	op[0] = 0x82F63B78U;
	for (i = 1; i < 32; i++)
		op[i] = 1U << (i - 1);
	for (i = 0; i < 3; i++) {
		for (int k = 0; k < 32; k++)
			sq[k] = pm_gf2_times(op, op[k]);
		memcpy(op, sq, sizeof(op));
	}
	for (; len; len >>= 1) {
		if (len & 1)
			crc = pm_gf2_times(op, crc);
		for (i = 0; i < 32; i++)
			sq[i] = pm_gf2_times(op, op[i]);
		memcpy(op, sq, sizeof(op));
	}
	return crc;
}

/*
 * An ext2 file system on /dev/loop7 mounted at /mnt/pm: a file system
 * whose shared mappings need dirty tracking. 0, or -1 if this kernel has
 * none (the caller skips).
 */
static inline int pm_mount_ext2(void)
{
	return pm_run("mkdir -p /mnt/pm && "
		      "dd if=/dev/zero of=/tmp/pm-ext2.img bs=1M count=8 2>/dev/null && "
		      "losetup /dev/loop7 /tmp/pm-ext2.img 2>/dev/null && "
		      "mke2fs -q /dev/loop7 >/dev/null 2>&1 && "
		      "mount -t ext2 /dev/loop7 /mnt/pm 2>/dev/null") ? -1 : 0;
}

static inline int pm_umount_ext2(void)
{
	return pm_run("umount /mnt/pm && losetup -d /dev/loop7 && "
		      "rm /tmp/pm-ext2.img");
}

static inline int pm_target_open(int fd, const char *name, int tfd,
			  struct pinmdl_target_open *out)
{
	struct pinmdl_target_open o = { .name = (uintptr_t)name, .fd = tfd };
	int ret = pm_ioctl(fd, PINMDL_IOC_TARGET_OPEN, &o);

	if (out)
		*out = o;
	return ret ? ret : (int)o.target;
}

static inline int pm_target_close(int fd, uint32_t target)
{
	struct pinmdl_handle_arg a = { .handle = target };

	return pm_ioctl(fd, PINMDL_IOC_TARGET_CLOSE, &a);
}

static inline int pm_io(int fd, uint32_t target, uint32_t op,
		 const struct pinmdl_segment *segs, uint32_t n, uint64_t arg,
		 uint32_t flags, struct pinmdl_io *out)
{
	struct pinmdl_io io = { .target = target, .op = op,
				.segments = (uintptr_t)segs,
				.nr_segments = n, .arg = arg, .flags = flags };
	int ret = pm_ioctl(fd, PINMDL_IOC_IO, &io);

	if (out)
		*out = io;
	return ret;
}

static inline int pm_cancel(int fd, uint64_t id)
{
	struct pinmdl_cancel c = { .request_id = id };

	return pm_ioctl(fd, PINMDL_IOC_CANCEL, &c);
}

/* Read one completion, waiting at most @ms; -errno if none. */
static inline int pm_completion(int fd, struct pinmdl_completion *c, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, ms) != 1)
		return -ETIMEDOUT;
	return read(fd, c, sizeof(*c)) == sizeof(*c) ? 0 : -errno;
}

/* An fd of pinmdl_lower.ko as the guest has it, for pm_load(); or -1. */
static inline int pm_lower_ko(void)
{
	glob_t g;
	int fd = -1;

	if (!glob("/mods/*-pinmdl_lower.ko", 0, NULL, &g))
		fd = open(g.gl_pathv[0], O_RDONLY | O_CLOEXEC);
	globfree(&g);
	return fd;
}

/* finit_module(2) of the module file @ko: 0 or -errno. */
static inline int pm_load(int ko)
{
	return syscall(SYS_finit_module, ko, "", 0) ? -errno : 0;
}

/* delete_module(2) of @name, failing rather than waiting: 0 or -errno. */
static inline int pm_unload(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK) ? -errno : 0;
}

/* Milliseconds since @t0 on the monotonic clock. */
static inline long pm_ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

#endif /* _PINMDL_UTIL_H */
