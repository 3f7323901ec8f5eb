// SPDX-License-Identifier: GPL-2.0
/*
 * Target "pinmdl_blk" (pinmdl_blk.ko): direct I/O between a block device
 * and locked memory. Each test runs on a memory-backed null_blk device
 * made through configfs and on the guest's virtio-blk disk /dev/vda (when
 * the guest has one): what pinmdl writes reads back byte for byte with
 * pread(O_DIRECT) and the reverse, on every kind of memory and through
 * chains; every errno row of pinmdl_blk; page cache coherence; and, on
 * null_blk, bad blocks, a device removed with requests in flight and a
 * process killed with requests in flight. The tests that move the most
 * data have minutes rather than the harness's 30 s: under TCG on the
 * debug kernel (KASAN) they take tens of seconds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "pinmdl_util.h"

#define BLK		"pinmdl_blk"
#define NULLB_DIR	"/sys/kernel/config/nullb"
#define DISK_MIB	64
#define MAX_IO		(8UL << 20)

/*
 * Make (or remove, @attrs NULL) null_blk device @name through configfs:
 * DISK_MIB MiB, memory-backed, then @attrs ("name=value ...", which may
 * change those) before power on. Its node goes into @path. 0, or -1.
 */
static int nullb_make(const char *name, const char *attrs, char *path,
		      size_t size)
{
	char cmd[1024], line[32];
	FILE *f;
	int index;

	if (!attrs) {
		snprintf(cmd, sizeof(cmd),
			 "echo 0 > %s/%s/power; rmdir %s/%s", NULLB_DIR, name,
			 NULLB_DIR, name);
		return pm_run(cmd) ? -1 : 0;
	}
	snprintf(cmd, sizeof(cmd),
		 "set -e; grep -q ' /sys/kernel/config ' /proc/mounts || "
		 "mount -t configfs none /sys/kernel/config; "
		 "d=%s/%s; mkdir $d; echo %d > $d/size; "
		 "echo 1 > $d/memory_backed; for a in %s; do "
		 "echo ${a#*=} > $d/${a%%=*}; done; echo 1 > $d/power",
		 NULLB_DIR, name, DISK_MIB, attrs);
	if (pm_run(cmd))
		return -1;
	snprintf(cmd, sizeof(cmd), "%s/%s/index", NULLB_DIR, name);
	f = fopen(cmd, "r");
	if (!f)
		return -1;
	index = fgets(line, sizeof(line), f) ? atoi(line) : -1;
	fclose(f);
	/* Named after the directory since Linux 6.8, by index before. */
	snprintf(path, size, "/dev/%s", name);
	if (!access(path, F_OK))
		return 0;
	snprintf(path, size, "/dev/nullb%d", index);
	return access(path, F_OK);
}

static int nullb_set(const char *name, const char *attr, const char *val)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "echo %s > %s/%s/%s", val, NULLB_DIR, name,
		 attr);
	return pm_run(cmd);
}

/* Bytes of a pattern that tells apart every offset and every @seed. */
static void pattern(char *buf, size_t len, uint64_t dev_off, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (char)((dev_off + i) * 31 + ((dev_off + i) >> 9) * 7 +
				seed * 101);
}

/* An aligned buffer for O_DIRECT, with its contents from @dev at @off. */
static char *direct_read(int dev, uint64_t off, size_t len)
{
	char *buf = pm_map(len, PROT_READ | PROT_WRITE);

	if (buf && pread(dev, buf, len, off) != (ssize_t)len) {
		munmap(buf, len);
		buf = NULL;
	}
	return buf;
}

static int direct_write(int dev, uint64_t off, size_t len, unsigned int seed)
{
	char *buf = pm_map(len, PROT_READ | PROT_WRITE);
	int ret;

	if (!buf)
		return -1;
	pattern(buf, len, off, seed);
	ret = pwrite(dev, buf, len, off) == (ssize_t)len ? 0 : -1;
	munmap(buf, len);
	return ret;
}

/* An IO at @dev_off; the struct back in @out. */
static int blk_io(int fd, int target, uint32_t op, uint64_t dev_off,
		  const struct pinmdl_segment *segs, uint32_t n,
		  uint32_t flags, struct pinmdl_io *out)
{
	struct pinmdl_io io = { .target = target, .op = op,
				.dev_offset = dev_off,
				.segments = (uintptr_t)segs,
				.nr_segments = n, .flags = flags };
	int ret = pm_ioctl(fd, PINMDL_IOC_IO, &io);

	if (out)
		*out = io;
	return ret;
}

/* 0 if @io (async: its completion) moved @want bytes without error. */
static int blk_result(int fd, const struct pinmdl_io *io, uint64_t want)
{
	struct pinmdl_completion c;

	if (!(io->flags & PINMDL_SUBMIT_ASYNC))
		return io->result == want ? 0 : -1;
	if (pm_completion(fd, &c, 10000))
		return -1;
	return c.request_id == io->request_id && !c.status &&
	       c.result == want ? 0 : -1;
}

/* Collect @n completions; each must have @status (or any error if < -1000). */
static int collect(int fd, int n, int want_status, uint64_t want_result)
{
	struct pinmdl_completion c;
	int i, bad = 0;

	for (i = 0; i < n; i++) {
		if (pm_completion(fd, &c, 30000))
			return -1;
		if (want_status < -1000 ? c.status >= 0 :
		    c.status != want_status ||
		    (!want_status && c.result != want_result))
			bad++;
	}
	return bad;
}

FIXTURE(blk) {
	int fd;
	int dev;
	int direct;
	int target;
	uint32_t block;
	uint64_t capacity;
	char path[64];
	char name[32];
	long pins;
};

FIXTURE_VARIANT(blk) {
	int nullb;
};

FIXTURE_VARIANT_ADD(blk, nullb) {
	.nullb = 1,
};

FIXTURE_VARIANT_ADD(blk, virtio) {
	.nullb = 0,
};

FIXTURE_SETUP(blk)
{
	static int seq;
	struct pinmdl_target_open o;

	self->name[0] = 0;
	self->pins = pm_pins();
	if (variant->nullb) {
		snprintf(self->name, sizeof(self->name), "pmblk%d_%d",
			 getpid(), seq++);
		ASSERT_EQ(0, nullb_make(self->name, "blocksize=512",
					self->path, sizeof(self->path)));
	} else {
		snprintf(self->path, sizeof(self->path), "/dev/vda");
		if (access(self->path, F_OK))
			SKIP(return, "no virtio-blk disk in this guest");
	}
	self->dev = open(self->path, O_RDWR);
	ASSERT_LE(0, self->dev);
	self->direct = open(self->path, O_RDWR | O_DIRECT);
	ASSERT_LE(0, self->direct);
	self->fd = pm_open();
	ASSERT_LE(0, self->fd);
	self->target = pm_target_open(self->fd, BLK, self->dev, &o);
	ASSERT_LT(0, self->target);
	self->block = o.block_size;
	self->capacity = o.capacity;
	/* The device's own block size and size. */
	{
		uint64_t bytes;
		int ssz;

		ASSERT_EQ(0, ioctl(self->dev, BLKSSZGET, &ssz));
		ASSERT_EQ(0, ioctl(self->dev, BLKGETSIZE64, &bytes));
		ASSERT_EQ(ssz, o.block_size);
		ASSERT_EQ(bytes, o.capacity);
		/* The tests below need 512-byte blocks and 64 MiB. */
		ASSERT_EQ(512, o.block_size);
		ASSERT_LE((uint64_t)DISK_MIB << 20, o.capacity);
	}
	ASSERT_LE(16, o.max_segments);
}

FIXTURE_TEARDOWN(blk)
{
	close(self->fd);
	close(self->direct);
	close(self->dev);
	if (self->name[0])
		nullb_make(self->name, NULL, NULL, 0);
	/* Nothing stays pinned once the file and the device are closed. */
	EXPECT_EQ(self->pins, pm_pins());
}

/*
 * TARGET_OPEN's rows of pinmdl_blk: the fd's kind, then its rights (a
 * file opened for neither reading nor writing, O_ACCMODE 3).
 */
TEST_F(blk, open_errnos)
{
	int devnull = open("/dev/null", O_RDWR), reg, nullio, devio;
	char path[] = "/tmp/pmblk-XXXXXX";

	ASSERT_LE(0, devnull);
	reg = mkstemp(path);
	ASSERT_LE(0, reg);
	unlink(path);
	nullio = open("/dev/null", O_ACCMODE);
	ASSERT_LE(0, nullio);
	devio = open(self->path, O_ACCMODE);
	ASSERT_LE(0, devio);
	EXPECT_EQ(-EINVAL, pm_target_open(self->fd, BLK, -1, NULL));
	EXPECT_EQ(-ENOTBLK, pm_target_open(self->fd, BLK, devnull, NULL));
	EXPECT_EQ(-ENOTBLK, pm_target_open(self->fd, BLK, reg, NULL));
	EXPECT_EQ(-ENOTBLK, pm_target_open(self->fd, BLK, self->fd, NULL));
	EXPECT_EQ(-ENOTBLK, pm_target_open(self->fd, BLK, nullio, NULL));
	EXPECT_EQ(-EBADF, pm_target_open(self->fd, BLK, devio, NULL));
	EXPECT_EQ(-EBADF, pm_target_open(self->fd, BLK, 12345, NULL));
	/* Each open is a new id, also of the same device. */
	EXPECT_LT(self->target, pm_target_open(self->fd, BLK, self->dev, NULL));
	/* An open target holds its driver. */
	EXPECT_NE(0, pm_run("rmmod pinmdl_blk 2>/dev/null"));
	close(devio);
	close(nullio);
	close(reg);
	close(devnull);
}

/* IO's rows of pinmdl_blk, each provoked, in the contract's order. */
TEST_F(blk, io_errnos_in_order)
{
	char *buf = pm_map(4 * PM_PAGE, PROT_READ | PROT_WRITE);
	struct pinmdl_segment s = { .length = PM_PAGE };
	uint32_t hw, hr, part, bogus = 9999;
	int ro, wo, tro, two, one = 1, zero = 0;
	struct pinmdl_io io;

	ASSERT_NE(NULL, buf);
	hw = pm_create_locked(self->fd, buf, 2 * PM_PAGE,
			      PINMDL_IO_WRITE_ACCESS);
	hr = pm_create_locked(self->fd, buf + 2 * PM_PAGE, 2 * PM_PAGE,
			      PINMDL_IO_READ_ACCESS);
	ASSERT_NE(0, hw);
	ASSERT_NE(0, hr);
	ASSERT_EQ(0, pm_partial(self->fd, hw, buf + 256, 1024, &part));
	s.handle = hw;

	/* The op: unknown, a non-zero arg, no segments, FLUSH's form. */
	EXPECT_EQ(-EINVAL, pm_io(self->fd, self->target, 0, &s, 1, 0, 0, 0));
	EXPECT_EQ(-EINVAL, pm_io(self->fd, self->target, 4, &s, 1, 0, 0, 0));
	EXPECT_EQ(-EINVAL, pm_io(self->fd, self->target, PINMDL_BLK_READ, &s,
				 1, 1, 0, 0));
	EXPECT_EQ(-EINVAL, pm_io(self->fd, self->target, PINMDL_BLK_READ,
				 NULL, 0, 0, 0, 0));
	EXPECT_EQ(-EINVAL, pm_io(self->fd, self->target, PINMDL_BLK_FLUSH, &s,
				 1, 0, 0, 0));
	/* A misaligned dev_offset, before the segment's unknown handle. */
	s.handle = bogus;
	EXPECT_EQ(-EINVAL, blk_io(self->fd, self->target, PINMDL_BLK_WRITE,
				  256, &s, 1, 0, NULL));
	EXPECT_EQ(-EINVAL, blk_io(self->fd, self->target, PINMDL_BLK_FLUSH,
				  512, NULL, 0, 0, NULL));
	EXPECT_EQ(-ENOENT, blk_io(self->fd, self->target, PINMDL_BLK_WRITE,
				  0, &s, 1, 0, NULL));
	/* Segments: a length, then a start in memory, off the block size. */
	s = (struct pinmdl_segment){ .handle = hw, .length = 256 };
	EXPECT_EQ(-EINVAL, pm_io(self->fd, self->target, PINMDL_BLK_WRITE, &s,
				 1, 0, 0, 0));
	s = (struct pinmdl_segment){ .handle = hw, .offset = 256,
				     .length = 512 };
	EXPECT_EQ(-EINVAL, pm_io(self->fd, self->target, PINMDL_BLK_WRITE, &s,
				 1, 0, 0, 0));
	s = (struct pinmdl_segment){ .handle = part, .length = 512 };
	EXPECT_EQ(-EINVAL, pm_io(self->fd, self->target, PINMDL_BLK_WRITE, &s,
				 1, 0, 0, 0));
	s.offset = 256;
	EXPECT_EQ(0, pm_io(self->fd, self->target, PINMDL_BLK_WRITE, &s, 1, 0,
			   0, &io));
	EXPECT_EQ(512, io.result);
	/* READ into a read lock: EACCES, before the range past capacity. */
	s = (struct pinmdl_segment){ .handle = hr, .length = PM_PAGE };
	EXPECT_EQ(-EACCES, blk_io(self->fd, self->target, PINMDL_BLK_READ,
				  self->capacity, &s, 1, 0, NULL));
	EXPECT_EQ(-EINVAL, blk_io(self->fd, self->target, PINMDL_BLK_WRITE,
				  self->capacity, &s, 1, 0, NULL));
	EXPECT_EQ(-EINVAL, blk_io(self->fd, self->target, PINMDL_BLK_WRITE,
				  self->capacity - 512, &s, 1, 0, NULL));
	EXPECT_EQ(0, blk_io(self->fd, self->target, PINMDL_BLK_WRITE,
			    self->capacity - PM_PAGE, &s, 1, 0, &io));
	EXPECT_EQ(PM_PAGE, io.result);

	/* The bound file's rights; past capacity still comes first. */
	ro = open(self->path, O_RDONLY);
	wo = open(self->path, O_WRONLY);
	ASSERT_LE(0, ro);
	ASSERT_LE(0, wo);
	tro = pm_target_open(self->fd, BLK, ro, NULL);
	two = pm_target_open(self->fd, BLK, wo, NULL);
	ASSERT_LT(0, tro);
	ASSERT_LT(0, two);
	s = (struct pinmdl_segment){ .handle = hw, .length = PM_PAGE };
	EXPECT_EQ(-EBADF, pm_io(self->fd, tro, PINMDL_BLK_WRITE, &s, 1, 0, 0,
				0));
	EXPECT_EQ(-EBADF, pm_io(self->fd, tro, PINMDL_BLK_FLUSH, NULL, 0, 0, 0,
				0));
	EXPECT_EQ(0, pm_io(self->fd, tro, PINMDL_BLK_READ, &s, 1, 0, 0, 0));
	EXPECT_EQ(-EBADF, pm_io(self->fd, two, PINMDL_BLK_READ, &s, 1, 0, 0,
				0));
	EXPECT_EQ(0, pm_io(self->fd, two, PINMDL_BLK_WRITE, &s, 1, 0, 0, 0));
	EXPECT_EQ(0, pm_io(self->fd, two, PINMDL_BLK_FLUSH, NULL, 0, 0, 0, 0));
	EXPECT_EQ(-EINVAL, blk_io(self->fd, tro, PINMDL_BLK_WRITE,
				  self->capacity, &s, 1, 0, NULL));
	/* A device set read-only refuses a write as write(2) would. */
	ASSERT_EQ(0, ioctl(self->dev, BLKROSET, &one));
	EXPECT_EQ(-EPERM, pm_io(self->fd, self->target, PINMDL_BLK_WRITE, &s,
				1, 0, 0, 0));
	EXPECT_EQ(0, pm_io(self->fd, self->target, PINMDL_BLK_READ, &s, 1, 0,
			   0, 0));
	ASSERT_EQ(0, ioctl(self->dev, BLKROSET, &zero));
	EXPECT_EQ(0, pm_io(self->fd, self->target, PINMDL_BLK_WRITE, &s, 1, 0,
			   0, 0));
	close(ro);
	close(wo);
	munmap(buf, 4 * PM_PAGE);
}

/*
 * 4 KiB to 8 MiB through every kind of memory: a WRITE reads back with
 * pread(O_DIRECT), and what pwrite(O_DIRECT) wrote a READ brings back,
 * synchronously and asynchronously.
 */
TEST_F_TIMEOUT(blk, roundtrip_every_kind_and_size, 300)
{
	enum pm_mem_kind kinds[] = { PM_ANON, PM_THP, PM_HUGETLB, PM_MEMFD };
	size_t sizes[] = { 4096, 65536, 1 << 20, MAX_IO }, len;
	unsigned int seed = 1, flags;
	struct pinmdl_segment s;
	struct pinmdl_io io;
	int k, i, async, ret;
	struct pm_mem m;
	uint64_t off;
	uint32_t h;
	char *back;

	for (k = 0; k < 4; k++) {
		ret = pm_mem_map(&m, kinds[k], MAX_IO, PROT_READ | PROT_WRITE,
				 kinds[k] == PM_MEMFD);
		ASSERT_LE(0, ret);
		if (ret) {
			TH_LOG("memory kind %d unavailable: skipped", k);
			continue;
		}
		h = pm_create_locked(self->fd, m.buf, MAX_IO,
				     PINMDL_IO_WRITE_ACCESS);
		ASSERT_NE(0, h);
		for (i = 0; i < 4; i++) {
			for (async = 0; async < 2; async++, seed++) {
				len = sizes[i];
				flags = async ? PINMDL_SUBMIT_ASYNC : 0;
				/* Device and buffer offsets vary. */
				off = (seed * 3 * MAX_IO / 8) %
				      (((uint64_t)DISK_MIB << 20) - len) &
				      ~4095UL;
				s = (struct pinmdl_segment){
					.handle = h,
					.offset = (MAX_IO - len) / 2 & ~511UL,
					.length = len,
				};
				pattern(m.buf + s.offset, len, off, seed);
				ASSERT_EQ(0, blk_io(self->fd, self->target,
						    PINMDL_BLK_WRITE, off, &s,
						    1, flags, &io));
				ASSERT_EQ(0, blk_result(self->fd, &io, len));
				back = direct_read(self->direct, off, len);
				ASSERT_NE(NULL, back);
				EXPECT_EQ(0, memcmp(back, m.buf + s.offset,
						    len));
				munmap(back, len);

				/* The reverse. */
				ASSERT_EQ(0, direct_write(self->direct, off,
							  len, seed + 1000));
				memset(m.buf + s.offset, 0, len);
				ASSERT_EQ(0, blk_io(self->fd, self->target,
						    PINMDL_BLK_READ, off, &s,
						    1, flags, &io));
				ASSERT_EQ(0, blk_result(self->fd, &io, len));
				back = direct_read(self->direct, off, len);
				ASSERT_NE(NULL, back);
				EXPECT_EQ(0, memcmp(back, m.buf + s.offset,
						    len));
				munmap(back, len);
			}
		}
		EXPECT_EQ(0, pm_unlock(self->fd, h));
		EXPECT_EQ(0, pm_free(self->fd, h));
		pm_mem_unmap(&m);
	}
}

/*
 * A chain of several descriptors, partial ones among them, of three kinds
 * of memory, at one dev_offset: the device holds the segments in order,
 * and a READ of a chain splits the device's bytes over it in order.
 */
TEST_F_TIMEOUT(blk, chains_and_partials, 300)
{
	enum pm_mem_kind kinds[] = { PM_ANON, PM_MEMFD, PM_THP };
	struct pinmdl_segment segs[6];
	struct pinmdl_io io;
	struct pm_mem m[3];
	uint32_t h[3], part[3];
	size_t total = 0, len = PM_HPAGE;
	char *flat, *back;
	const uint64_t off = 3 << 20;
	int k, i;

	for (k = 0; k < 3; k++) {
		ASSERT_EQ(0, pm_mem_map(&m[k], kinds[k], len,
					PROT_READ | PROT_WRITE,
					kinds[k] == PM_MEMFD));
		pattern(m[k].buf, len, k << 24, 7 + k);
		h[k] = pm_create_locked(self->fd, m[k].buf, len,
					PINMDL_IO_WRITE_ACCESS);
		ASSERT_NE(0, h[k]);
		/* A partial descriptor 1536 bytes into the buffer. */
		ASSERT_EQ(0, pm_partial(self->fd, h[k], m[k].buf + 1536,
					300 * 1024, &part[k]));
	}
	for (i = 0; i < 6; i++) {
		k = i % 3;
		segs[i] = (struct pinmdl_segment){
			.handle = i < 3 ? h[k] : part[k],
			.offset = 512 * (i * 37 % 64),
			.length = 512 * (1 + i * 97 % 300),
		};
		total += segs[i].length;
	}
	flat = malloc(total);
	ASSERT_NE(NULL, flat);
	for (i = 0, total = 0; i < 6; i++) {
		k = i % 3;
		memcpy(flat + total,
		       m[k].buf + (i < 3 ? 0 : 1536) + segs[i].offset,
		       segs[i].length);
		total += segs[i].length;
	}
	ASSERT_EQ(0, blk_io(self->fd, self->target, PINMDL_BLK_WRITE, off,
			    segs, 6, 0, &io));
	EXPECT_EQ(total, io.result);
	back = direct_read(self->direct, off, (total + 511) & ~511UL);
	ASSERT_NE(NULL, back);
	EXPECT_EQ(0, memcmp(back, flat, total));
	munmap(back, (total + 511) & ~511UL);

	/* READ back over the chain, scrambled first. */
	for (k = 0; k < 3; k++)
		memset(m[k].buf, 0x5a, len);
	ASSERT_EQ(0, blk_io(self->fd, self->target, PINMDL_BLK_READ, off,
			    segs, 6, 0, &io));
	EXPECT_EQ(total, io.result);
	for (i = 0, total = 0; i < 6; i++) {
		k = i % 3;
		EXPECT_EQ(0, memcmp(flat + total, m[k].buf +
				    (i < 3 ? 0 : 1536) + segs[i].offset,
				    segs[i].length));
		total += segs[i].length;
	}
	free(flat);
	for (k = 0; k < 3; k++)
		pm_mem_unmap(&m[k]);
}

/* 256 requests in flight at once, writes then reads, each 4 KiB apart. */
TEST_F_TIMEOUT(blk, hundreds_in_flight, 300)
{
	const int n = 256;
	size_t len = n * PM_PAGE;
	char *buf = pm_map(len, PROT_READ | PROT_WRITE), *back;
	struct pinmdl_segment s;
	struct pinmdl_io io;
	uint32_t h;
	int i;

	ASSERT_NE(NULL, buf);
	pattern(buf, len, 0, 77);
	h = pm_create_locked(self->fd, buf, len, PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	for (i = 0; i < n; i++) {
		s = (struct pinmdl_segment){ .handle = h,
					     .offset = i * PM_PAGE,
					     .length = PM_PAGE };
		io = (struct pinmdl_io){ .target = self->target,
					 .op = PINMDL_BLK_WRITE,
					 .dev_offset = (n - 1 - i) * PM_PAGE,
					 .segments = (uintptr_t)&s,
					 .nr_segments = 1,
					 .flags = PINMDL_SUBMIT_ASYNC };
		ASSERT_EQ(0, pm_ioctl(self->fd, PINMDL_IOC_IO, &io));
	}
	EXPECT_EQ(0, collect(self->fd, n, 0, PM_PAGE));
	back = direct_read(self->direct, 0, len);
	ASSERT_NE(NULL, back);
	for (i = 0; i < n; i++)
		EXPECT_EQ(0, memcmp(back + (n - 1 - i) * PM_PAGE,
				    buf + i * PM_PAGE, PM_PAGE));
	/* And read back, in the device's order this time. */
	memset(buf, 0, len);
	for (i = 0; i < n; i++) {
		s = (struct pinmdl_segment){ .handle = h,
					     .offset = i * PM_PAGE,
					     .length = PM_PAGE };
		io = (struct pinmdl_io){ .target = self->target,
					 .op = PINMDL_BLK_READ,
					 .dev_offset = i * PM_PAGE,
					 .segments = (uintptr_t)&s,
					 .nr_segments = 1,
					 .flags = PINMDL_SUBMIT_ASYNC };
		ASSERT_EQ(0, pm_ioctl(self->fd, PINMDL_IOC_IO, &io));
	}
	EXPECT_EQ(0, collect(self->fd, n, 0, PM_PAGE));
	EXPECT_EQ(0, memcmp(back, buf, len));
	munmap(back, len);
	EXPECT_EQ(0, pm_unlock(self->fd, h));
	munmap(buf, len);
}

/*
 * The device's page cache stays coherent as with O_DIRECT: dirty cached
 * data is written back before a READ, and a WRITE replaces what a
 * buffered read sees afterwards. FLUSH completes, sync and async.
 */
TEST_F(blk, page_cache_coherent_and_flush)
{
	char *buf = pm_map(16 * PM_PAGE, PROT_READ | PROT_WRITE);
	char cached[16 * PM_PAGE];
	struct pinmdl_segment s;
	struct pinmdl_io io;
	const uint64_t off = 5 << 20;
	uint32_t h;

	ASSERT_NE(NULL, buf);
	h = pm_create_locked(self->fd, buf, 16 * PM_PAGE,
			     PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	s = (struct pinmdl_segment){ .handle = h, .length = 16 * PM_PAGE };

	/* Buffered data, dirty in the cache: a READ sees it. */
	pattern(cached, sizeof(cached), off, 31);
	ASSERT_EQ(sizeof(cached), pwrite(self->dev, cached, sizeof(cached),
					 off));
	io = (struct pinmdl_io){ .target = self->target, .op = PINMDL_BLK_READ,
				 .dev_offset = off, .segments = (uintptr_t)&s,
				 .nr_segments = 1 };
	ASSERT_EQ(0, pm_ioctl(self->fd, PINMDL_IOC_IO, &io));
	EXPECT_EQ(0, memcmp(buf, cached, sizeof(cached)));

	/* The range is cached now; a WRITE replaces what it shows. */
	ASSERT_EQ(sizeof(cached), pread(self->dev, cached, sizeof(cached),
					off));
	pattern(buf, 16 * PM_PAGE, off, 32);
	io.op = PINMDL_BLK_WRITE;
	ASSERT_EQ(0, pm_ioctl(self->fd, PINMDL_IOC_IO, &io));
	ASSERT_EQ(sizeof(cached), pread(self->dev, cached, sizeof(cached),
					off));
	EXPECT_EQ(0, memcmp(buf, cached, sizeof(cached)));

	/* FLUSH moves nothing. */
	ASSERT_EQ(0, pm_io(self->fd, self->target, PINMDL_BLK_FLUSH, NULL, 0,
			   0, 0, &io));
	EXPECT_EQ(0, io.result);
	ASSERT_EQ(0, pm_io(self->fd, self->target, PINMDL_BLK_FLUSH, NULL, 0,
			   0, PINMDL_SUBMIT_ASYNC, &io));
	EXPECT_EQ(0, collect(self->fd, 1, 0, 0));
	munmap(buf, 16 * PM_PAGE);
}

/*
 * Bad blocks: a request over them completes with EIO (sync and async), and
 * its descriptor stays locked and usable; a buffered write over them fails
 * in write-back, which FLUSH reports.
 */
TEST_F(blk, bad_blocks_give_eio)
{
	char *buf = pm_map(8 * PM_PAGE, PROT_READ | PROT_WRITE);
	struct pinmdl_segment s;
	struct pinmdl_query q;
	struct pinmdl_io io;
	uint32_t h;
	int other;

	if (!variant->nullb)
		SKIP(return, "bad blocks are null_blk's");
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, nullb_set(self->name, "badblocks", "+2048-2055"));
	h = pm_create_locked(self->fd, buf, 8 * PM_PAGE,
			     PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	s = (struct pinmdl_segment){ .handle = h, .length = 8 * PM_PAGE };
	io = (struct pinmdl_io){ .target = self->target, .op = PINMDL_BLK_READ,
				 .dev_offset = 2040 * 512,
				 .segments = (uintptr_t)&s, .nr_segments = 1 };
	EXPECT_EQ(-EIO, pm_ioctl(self->fd, PINMDL_IOC_IO, &io));
	io.op = PINMDL_BLK_WRITE;
	EXPECT_EQ(-EIO, pm_ioctl(self->fd, PINMDL_IOC_IO, &io));
	io.flags = PINMDL_SUBMIT_ASYNC;
	ASSERT_EQ(0, pm_ioctl(self->fd, PINMDL_IOC_IO, &io));
	EXPECT_EQ(0, collect(self->fd, 1, -EIO, 0));
	/* The descriptor is still locked, and works on good blocks. */
	ASSERT_EQ(0, pm_query(self->fd, h, &q, NULL, 0));
	EXPECT_EQ(PINMDL_F_PAGES_LOCKED | PINMDL_F_WRITE_OPERATION,
		  q.flags & (PINMDL_F_PAGES_LOCKED | PINMDL_F_WRITE_OPERATION |
			     PINMDL_F_IN_FLIGHT));
	io.dev_offset = 4096 * 512;
	io.flags = 0;
	EXPECT_EQ(0, pm_ioctl(self->fd, PINMDL_IOC_IO, &io));
	EXPECT_EQ(8 * PM_PAGE, io.result);
	EXPECT_EQ(0, pm_unlock(self->fd, h));

	/*
	 * A buffered write that fails in write-back: FLUSH reports it once,
	 * as fsync(2) of the bound file would, even after another opener's
	 * fsync() saw it first.
	 */
	other = open(self->path, O_RDWR);
	ASSERT_LE(0, other);
	ASSERT_EQ(PM_PAGE, pwrite(other, buf, PM_PAGE, 2048 * 512));
	EXPECT_EQ(-1, fsync(other));
	EXPECT_EQ(EIO, errno);
	EXPECT_EQ(-EIO, blk_io(self->fd, self->target, PINMDL_BLK_FLUSH, 0,
			       NULL, 0, 0, NULL));
	EXPECT_EQ(0, blk_io(self->fd, self->target, PINMDL_BLK_FLUSH, 0, NULL,
			    0, 0, NULL));
	close(other);
	munmap(buf, 8 * PM_PAGE);
}

struct power_off {
	const char *name;
	int ret;
};

static void *power_off_fn(void *arg)
{
	struct power_off *p = arg;

	p->ret = nullb_set(p->name, "power", "0");
	return NULL;
}

/*
 * The device removed (power off) with requests in flight on a slow device
 * and more submitted meanwhile: each completes exactly once, those the
 * device did not finish with an error; later IO fails with ENODEV,
 * TARGET_CLOSE works and nothing stays pinned.
 */
TEST_F(blk, device_removed_in_flight)
{
	const int n = 64;
	char *buf = pm_map(n * PM_PAGE, PROT_READ | PROT_WRITE), path[64];
	char name[48], cmd[128];
	struct power_off p = { .name = name };
	struct pinmdl_completion c;
	struct pinmdl_segment s;
	int dev, t, i, queued = 0, failed = 0, got = 0, errors = 0, ret;
	int other = 0;
	struct pinmdl_io io;
	pthread_t thr;
	uint32_t h;
	long pins;

	if (!variant->nullb)
		SKIP(return, "removal is null_blk's");
	ASSERT_NE(NULL, buf);
	snprintf(name, sizeof(name), "%s_slow", self->name);
	/* Each request takes 20 ms in the device. */
	ASSERT_EQ(0, nullb_make(name, "irqmode=2 completion_nsec=20000000",
				path, sizeof(path)));
	pins = pm_pins();
	dev = open(path, O_RDWR);
	ASSERT_LE(0, dev);
	t = pm_target_open(self->fd, BLK, dev, NULL);
	ASSERT_LT(0, t);
	h = pm_create_locked(self->fd, buf, n * PM_PAGE,
			     PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	for (i = 0; i < n; i++) {
		s = (struct pinmdl_segment){ .handle = h,
					     .offset = i * PM_PAGE,
					     .length = PM_PAGE };
		io = (struct pinmdl_io){ .target = t, .op = PINMDL_BLK_WRITE,
					 .dev_offset = i * PM_PAGE,
					 .segments = (uintptr_t)&s,
					 .nr_segments = 1,
					 .flags = PINMDL_SUBMIT_ASYNC };
		ASSERT_EQ(0, pm_ioctl(self->fd, PINMDL_IOC_IO, &io));
		queued++;
	}
	ASSERT_EQ(0, pthread_create(&thr, NULL, power_off_fn, &p));
	/* Keep submitting while it goes, until it is gone. */
	for (i = 0; i < 100000; i++) {
		ret = pm_ioctl(self->fd, PINMDL_IOC_IO, &io);
		if (!ret) {
			queued++;
		} else {
			failed++;
			if (ret == -ENODEV)
				break;
			other++;
		}
	}
	pthread_join(thr, NULL);
	EXPECT_EQ(0, p.ret);
	EXPECT_EQ(-ENODEV, pm_ioctl(self->fd, PINMDL_IOC_IO, &io));
	while (got < queued && !pm_completion(self->fd, &c, 10000)) {
		got++;
		if (c.status) {
			errors++;
			EXPECT_EQ(-EIO, c.status);
		} else {
			EXPECT_EQ(PM_PAGE, c.result);
		}
	}
	EXPECT_EQ(queued, got);
	/* Refused only once gone; completed whole, or with EIO. */
	EXPECT_EQ(0, other);
	EXPECT_EQ(-ETIMEDOUT, pm_completion(self->fd, &c, 100));
	TH_LOG("%d completed (%d with an error), %d refused", got, errors,
	       failed);
	EXPECT_EQ(0, pm_target_close(self->fd, t));
	close(dev);
	EXPECT_EQ(0, pm_unlock(self->fd, h));
	EXPECT_EQ(pins, pm_pins());
	snprintf(cmd, sizeof(cmd), "rmdir %s/%s", NULLB_DIR, name);
	EXPECT_EQ(0, pm_run(cmd));
	munmap(buf, n * PM_PAGE);
}

struct killed {
	const char *path;
	int pipe;
};

static int submit_then_wait(void *arg)
{
	struct killed *k = arg;
	const int n = 64;
	char *buf = pm_map(n * PM_PAGE, PROT_READ | PROT_WRITE);
	int fd = pm_open(), dev = open(k->path, O_RDWR), t, i;
	struct pinmdl_segment s;
	struct pinmdl_io io;
	uint32_t h;

	if (!buf || fd < 0 || dev < 0)
		return 1;
	t = pm_target_open(fd, BLK, dev, NULL);
	h = pm_create_locked(fd, buf, n * PM_PAGE, PINMDL_IO_WRITE_ACCESS);
	if (t <= 0 || !h)
		return 1;
	for (i = 0; i < n; i++) {
		s = (struct pinmdl_segment){ .handle = h,
					     .offset = i * PM_PAGE,
					     .length = PM_PAGE };
		io = (struct pinmdl_io){ .target = t,
					 .op = i & 1 ? PINMDL_BLK_READ :
						       PINMDL_BLK_WRITE,
					 .dev_offset = i * PM_PAGE,
					 .segments = (uintptr_t)&s,
					 .nr_segments = 1,
					 .flags = PINMDL_SUBMIT_ASYNC };
		if (pm_ioctl(fd, PINMDL_IOC_IO, &io))
			return 1;
	}
	if (write(k->pipe, "x", 1) != 1)
		return 1;
	for (;;)
		pause();
}

/* A process killed with 64 requests in flight leaves nothing pinned. */
TEST_F(blk, killed_with_requests_in_flight)
{
	struct timespec t0;
	char path[64], name[48], x;
	struct killed k = { .path = path };
	int pfd[2], status;
	long pins;
	pid_t pid;

	if (!variant->nullb)
		SKIP(return, "a slow device is null_blk's");
	snprintf(name, sizeof(name), "%s_slow", self->name);
	ASSERT_EQ(0, nullb_make(name, "irqmode=2 completion_nsec=50000000",
				path, sizeof(path)));
	ASSERT_EQ(0, pipe(pfd));
	k.pipe = pfd[1];
	pins = pm_pins();
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(submit_then_wait(&k));
	ASSERT_EQ(1, read(pfd[0], &x, 1));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	TH_LOG("the killed process was reaped after %ld ms", pm_ms_since(&t0));
	/* Its file is released once the requests completed. */
	while (pm_pins() != pins && pm_ms_since(&t0) < 10000)
		usleep(10000);
	EXPECT_EQ(pins, pm_pins());
	close(pfd[0]);
	close(pfd[1]);
	EXPECT_EQ(0, nullb_make(name, NULL, NULL, 0));
}

/**
 * struct early_cancel - a CANCEL sent as soon as a request's id is out
 * @fd: the file
 * @id: where IO puts the id
 * @returned: the IO ioctl returned
 * @ret: what CANCEL returned
 * @during_queue: CANCEL returned before the IO ioctl did
 */
struct early_cancel {
	int fd;
	__u64 *id;
	int returned;
	int ret;
	int during_queue;
};

static void *early_cancel_fn(void *arg)
{
	struct early_cancel *e = arg;
	__u64 id;

	while (!(id = __atomic_load_n(e->id, __ATOMIC_ACQUIRE)) &&
	       !__atomic_load_n(&e->returned, __ATOMIC_ACQUIRE))
		sched_yield();
	e->ret = id ? pm_cancel(e->fd, id) : -ENODATA;
	e->during_queue = !__atomic_load_n(&e->returned, __ATOMIC_ACQUIRE);
	return NULL;
}

/*
 * An asynchronous WRITE to @t of @n segments of @len bytes of @h, cancelled
 * from another thread as soon as its id is out: CANCEL finds it while its
 * bios are still being sent. Its completion into @c.
 */
static void write_cancelled_early(struct __test_metadata *_metadata, int fd,
				  int t, uint32_t h, uint64_t len, uint32_t n,
				  struct pinmdl_completion *c)
{
	struct pinmdl_segment *segs = calloc(n, sizeof(*segs));
	struct pinmdl_io io = { .target = t, .op = PINMDL_BLK_WRITE,
				.nr_segments = n,
				.flags = PINMDL_SUBMIT_ASYNC };
	struct early_cancel e = { .fd = fd, .id = &io.request_id };
	struct timespec t0;
	pthread_t thr;
	uint32_t i;
	int ret;

	ASSERT_NE(NULL, segs);
	for (i = 0; i < n; i++)
		segs[i] = (struct pinmdl_segment){ .handle = h, .length = len };
	io.segments = (uintptr_t)segs;
	ASSERT_EQ(0, pthread_create(&thr, NULL, early_cancel_fn, &e));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = pm_ioctl(fd, PINMDL_IOC_IO, &io);
	__atomic_store_n(&e.returned, 1, __ATOMIC_RELEASE);
	pthread_join(thr, NULL);
	TH_LOG("IO returned after %ld ms", pm_ms_since(&t0));
	ASSERT_EQ(0, ret);
	ASSERT_NE(0, io.request_id);
	/* Not ENOENT: the request is there while it is being queued. */
	EXPECT_EQ(0, e.ret);
	EXPECT_TRUE(e.during_queue);
	ASSERT_EQ(0, pm_completion(fd, c, 120000));
	TH_LOG("completed after %ld ms: status %d, %llu bytes",
	       pm_ms_since(&t0), c->status, (unsigned long long)c->result);
	EXPECT_EQ(io.request_id, c->request_id);
	/* One completion, and only one. */
	EXPECT_EQ(-ETIMEDOUT, pm_completion(fd, c + 1, 100));
	free(segs);
}

/*
 * CANCEL of a request while its target's queue sends its bios, the long
 * part of a request to a slow device: each of 64 MiB of WRITE's 50 ms
 * requests waits for the one before. One direct I/O cannot be recalled:
 * it completes cancelled or whole. A request of two direct I/Os (over
 * PINMDL_BLK_IO_MAX, 1 GiB) cancelled during the first does not send the
 * second, and completes with ECANCELED.
 */
TEST_F_TIMEOUT(blk, cancel_while_queued, 300)
{
	const size_t len = 64UL << 20, chunk = PM_HPAGE;
	char path[64], name[48];
	struct pinmdl_completion c[2];
	int dev, t;
	uint32_t h;
	char *buf;

	if (!variant->nullb)
		SKIP(return, "a slow device is null_blk's");
	buf = pm_map(len, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, buf);
	pattern(buf, len, 0, 23);
	h = pm_create_locked(self->fd, buf, len, PINMDL_IO_READ_ACCESS);
	ASSERT_NE(0, h);
	snprintf(name, sizeof(name), "%s_slow", self->name);
	ASSERT_EQ(0, nullb_make(name, "irqmode=2 completion_nsec=50000000 "
				"hw_queue_depth=1", path, sizeof(path)));
	dev = open(path, O_RDWR);
	ASSERT_LE(0, dev);
	t = pm_target_open(self->fd, BLK, dev, NULL);
	ASSERT_LT(0, t);
	write_cancelled_early(_metadata, self->fd, t, h, len, 1, c);
	EXPECT_TRUE(c[0].status == -ECANCELED ||
		    (!c[0].status && c[0].result == len));
	EXPECT_EQ(0, pm_target_close(self->fd, t));
	close(dev);
	EXPECT_EQ(0, nullb_make(name, NULL, NULL, 0));

	/* 1 GiB and 2 MiB, without storage; the first 1 GiB takes seconds. */
	ASSERT_EQ(0, nullb_make(name, "size=4096 memory_backed=0 irqmode=2 "
				"completion_nsec=1000000 hw_queue_depth=1 "
				"max_sectors=2048",
				path, sizeof(path)));
	dev = open(path, O_RDWR);
	ASSERT_LE(0, dev);
	t = pm_target_open(self->fd, BLK, dev, NULL);
	ASSERT_LT(0, t);
	write_cancelled_early(_metadata, self->fd, t, h, chunk,
			      (1UL << 30) / chunk + 1, c);
	EXPECT_EQ(-ECANCELED, c[0].status);
	EXPECT_EQ(0, pm_target_close(self->fd, t));
	close(dev);
	EXPECT_EQ(0, nullb_make(name, NULL, NULL, 0));
	EXPECT_EQ(0, pm_unlock(self->fd, h));
	munmap(buf, len);
}

/* A device used for swap refuses a WRITE, as write(2) of it would. */
TEST_F(blk, swap_device_refuses_write)
{
	char *buf = pm_map(PM_PAGE, PROT_READ | PROT_WRITE), cmd[192];
	struct pinmdl_segment s;
	uint32_t h;

	ASSERT_NE(NULL, buf);
	h = pm_create_locked(self->fd, buf, PM_PAGE, PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	s = (struct pinmdl_segment){ .handle = h, .length = PM_PAGE };
	snprintf(cmd, sizeof(cmd), "mkswap %s >/dev/null && swapon %s",
		 self->path, self->path);
	if (pm_run(cmd))
		SKIP(return, "no swap in this kernel");
	EXPECT_EQ(-ETXTBSY, blk_io(self->fd, self->target, PINMDL_BLK_WRITE,
				   1 << 20, &s, 1, 0, NULL));
	EXPECT_EQ(0, blk_io(self->fd, self->target, PINMDL_BLK_READ, 1 << 20,
			    &s, 1, 0, NULL));
	snprintf(cmd, sizeof(cmd), "swapoff %s", self->path);
	ASSERT_EQ(0, pm_run(cmd));
	EXPECT_EQ(0, blk_io(self->fd, self->target, PINMDL_BLK_WRITE, 1 << 20,
			    &s, 1, 0, NULL));
	munmap(buf, PM_PAGE);
}

/*
 * The BTF id of the function @name in the kernel's BTF
 * (/sys/kernel/btf/vmlinux), or -1.
 */
static int vmlinux_btf_func(const char *name)
{
	struct btf_header *hdr;
	struct btf_type *t;
	const char *strs;
	char *btf, *p, *end;
	size_t len = 0, cap = 8 << 20;
	int fd, id = 1, found = -1;
	ssize_t n;

	fd = open("/sys/kernel/btf/vmlinux", O_RDONLY | O_CLOEXEC);
	btf = malloc(cap);
	while (fd >= 0 && btf && (n = read(fd, btf + len, cap - len)) > 0)
		if ((len += n) == cap)
			btf = realloc(btf, cap *= 2);
	if (fd >= 0)
		close(fd);
	if (!btf || len < sizeof(*hdr))
		goto out;
	hdr = (struct btf_header *)btf;
	if (hdr->magic != BTF_MAGIC ||
	    hdr->hdr_len + hdr->str_off + hdr->str_len > len ||
	    hdr->hdr_len + hdr->type_off + hdr->type_len > len)
		goto out;
	strs = btf + hdr->hdr_len + hdr->str_off;
	p = btf + hdr->hdr_len + hdr->type_off;
	end = p + hdr->type_len;
	for (; p + sizeof(*t) <= end; id++) {
		t = (struct btf_type *)p;
		p += sizeof(*t);
		switch (BTF_INFO_KIND(t->info)) {
		case BTF_KIND_INT:
		case BTF_KIND_VAR:
		case BTF_KIND_DECL_TAG:
			p += 4;
			break;
		case BTF_KIND_ARRAY:
			p += sizeof(struct btf_array);
			break;
		case BTF_KIND_STRUCT:
		case BTF_KIND_UNION:
			p += BTF_INFO_VLEN(t->info) * sizeof(struct btf_member);
			break;
		case BTF_KIND_ENUM:
			p += BTF_INFO_VLEN(t->info) * sizeof(struct btf_enum);
			break;
		case BTF_KIND_FUNC_PROTO:
			p += BTF_INFO_VLEN(t->info) * sizeof(struct btf_param);
			break;
		case BTF_KIND_DATASEC:
			p += BTF_INFO_VLEN(t->info) *
			     sizeof(struct btf_var_secinfo);
			break;
		case BTF_KIND_ENUM64:
			p += BTF_INFO_VLEN(t->info) * sizeof(struct btf_enum64);
			break;
		case BTF_KIND_FUNC:
			if (t->name_off < hdr->str_len &&
			    !strcmp(strs + t->name_off, name)) {
				found = id;
				goto out;
			}
			break;
		case BTF_KIND_PTR:
		case BTF_KIND_FWD:
		case BTF_KIND_TYPEDEF:
		case BTF_KIND_VOLATILE:
		case BTF_KIND_CONST:
		case BTF_KIND_RESTRICT:
		case BTF_KIND_FLOAT:
		case BTF_KIND_TYPE_TAG:
			break;
		default:
			goto out;
		}
	}
out:
	free(btf);
	return found;
}

/*
 * A BPF security module program, attached: the file_permission hook
 * refuses reads (MAY_READ) with EACCES to this process alone. The link's
 * fd, which detaches it when closed, or -1.
 */
static int refuse_reads(void)
{
	struct bpf_insn prog[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = 6,
		  .src_reg = 1 },
		{ .code = BPF_JMP | BPF_CALL,
		  .imm = BPF_FUNC_get_current_pid_tgid },
		{ .code = BPF_ALU64 | BPF_RSH | BPF_K, .imm = 32 },
		{ .code = BPF_JMP | BPF_JNE | BPF_K, .off = 4,
		  .imm = getpid() },
		/* The hook's second argument, the access mask. */
		{ .code = BPF_LDX | BPF_MEM | BPF_DW, .dst_reg = 2,
		  .src_reg = 6, .off = 8 },
		{ .code = BPF_JMP | BPF_JNE | BPF_K, .dst_reg = 2, .off = 2,
		  .imm = 4 /* MAY_READ */ },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .imm = -EACCES },
		{ .code = BPF_JMP | BPF_EXIT },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr attr = {};
	int id = vmlinux_btf_func("bpf_lsm_file_permission"), fd, link;

	if (id < 0)
		return -1;
	attr.prog_type = BPF_PROG_TYPE_LSM;
	attr.expected_attach_type = BPF_LSM_MAC;
	attr.insns = (uintptr_t)prog;
	attr.insn_cnt = sizeof(prog) / sizeof(prog[0]);
	attr.license = (uintptr_t)"GPL";
	attr.attach_btf_id = id;
	fd = syscall(__NR_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	if (fd < 0)
		return -1;
	memset(&attr, 0, sizeof(attr));
	attr.raw_tracepoint.prog_fd = fd;
	link = syscall(__NR_bpf, BPF_RAW_TRACEPOINT_OPEN, &attr, sizeof(attr));
	close(fd);
	return link;
}

/*
 * A request passes the security checks read(2) and write(2) make of each
 * access (rw_verify_area()): while a BPF security module refuses this
 * process's reads with EACCES, a READ fails with EACCES as read(2) does,
 * and a WRITE, which it lets through, succeeds.
 */
TEST_F(blk, security_module_refusal)
{
	char *buf = pm_map(PM_PAGE, PROT_READ | PROT_WRITE);
	struct pinmdl_segment s;
	uint32_t h;
	int link;

	ASSERT_NE(NULL, buf);
	h = pm_create_locked(self->fd, buf, PM_PAGE, PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	s = (struct pinmdl_segment){ .handle = h, .length = PM_PAGE };
	link = refuse_reads();
	if (link < 0)
		SKIP(return, "no BPF security module: %s", strerror(errno));
	EXPECT_EQ(-1, pread(self->dev, buf, PM_PAGE, 0));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(-EACCES, blk_io(self->fd, self->target, PINMDL_BLK_READ, 0,
				  &s, 1, 0, NULL));
	EXPECT_EQ(0, blk_io(self->fd, self->target, PINMDL_BLK_WRITE, 0, &s, 1,
			    0, NULL));
	close(link);
	EXPECT_EQ(0, blk_io(self->fd, self->target, PINMDL_BLK_READ, 0, &s, 1,
			    0, NULL));
	EXPECT_EQ(0, pm_unlock(self->fd, h));
	munmap(buf, PM_PAGE);
}

/*
 * A WRITE over a page of the device's cache that cannot be dropped (the
 * page of the superblock, which a file system mounted on the device holds;
 * the WRITE goes to the boot block before it, which ext2 leaves alone)
 * leaves the cache showing what was written, as O_DIRECT does by falling
 * back to a buffered write.
 */
TEST_F(blk, write_over_a_held_cache_page)
{
	char *buf = pm_map(PM_PAGE, PROT_READ | PROT_WRITE);
	char cmd[256], cached[1024];
	struct pinmdl_segment s;
	uint32_t h;

	ASSERT_NE(NULL, buf);
	snprintf(cmd, sizeof(cmd),
		 "mke2fs -q -b 1024 %s >/dev/null 2>&1 && "
		 "mkdir -p /mnt/pmblk && "
		 "mount -t ext2 %s /mnt/pmblk 2>/dev/null", self->path,
		 self->path);
	if (pm_run(cmd))
		SKIP(return, "no ext2 file system on the device");
	/* The page is cached, with the boot block's zeros. */
	ASSERT_EQ(sizeof(cached), pread(self->dev, cached, sizeof(cached), 0));
	pattern(buf, sizeof(cached), 0, 41);
	h = pm_create_locked(self->fd, buf, PM_PAGE, PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	s = (struct pinmdl_segment){ .handle = h, .length = sizeof(cached) };
	EXPECT_EQ(0, blk_io(self->fd, self->target, PINMDL_BLK_WRITE, 0, &s, 1,
			    0, NULL));
	EXPECT_EQ(0, pm_unlock(self->fd, h));
	ASSERT_EQ(sizeof(cached), pread(self->dev, cached, sizeof(cached), 0));
	EXPECT_EQ(0, memcmp(buf, cached, sizeof(cached)));
	EXPECT_EQ(0, pm_run("umount /mnt/pmblk"));
	munmap(buf, PM_PAGE);
}

/* Pages of a buffer touched one of each of two buffers in turn. */
static char *scattered_pages(size_t pages, char **other)
{
	char *a = pm_map(pages * PM_PAGE, PROT_READ | PROT_WRITE);
	char *b = pm_map(pages * PM_PAGE, PROT_READ | PROT_WRITE);
	size_t i;

	if (!a || !b)
		return NULL;
	madvise(a, pages * PM_PAGE, MADV_NOHUGEPAGE);
	madvise(b, pages * PM_PAGE, MADV_NOHUGEPAGE);
	for (i = 0; i < pages; i++) {
		a[i * PM_PAGE] = 1;
		b[i * PM_PAGE] = 1;
	}
	*other = b;
	return a;
}

/* Runs of physically contiguous pages in @buf (pagemap, as root). */
static size_t page_runs(const char *buf, size_t pages)
{
	uint64_t pfn, last = 0;
	size_t i, runs = 0;

	for (i = 0; i < pages; i++, last = pfn) {
		pfn = pm_pagemap_pfn(buf + i * PM_PAGE);
		if (!i || pfn != last + 1)
			runs++;
	}
	return runs;
}

/*
 * Requests past what one bio may carry: a chain over more than 65535
 * bio_vecs (one buffer repeated 1024 times) reads back exactly; a READ of
 * 2 GiB goes as several bios; a long one stops when cancelled.
 */
TEST_F_TIMEOUT(blk, requests_of_many_bios, 300)
{
	const size_t pages = 80, len = pages * PM_PAGE;
	struct pinmdl_segment *segs = calloc(1024, sizeof(*segs));
	char *other = NULL, *buf = scattered_pages(pages, &other), *back;
	char path[64], name[48];
	struct pm_mem big;
	struct pinmdl_io io;
	int dev, t, i;
	uint32_t h;

	if (!variant->nullb)
		SKIP(return, "big devices are null_blk's");
	ASSERT_NE(NULL, segs);
	ASSERT_NE(NULL, buf);
	TH_LOG("%zu runs of contiguous pages in %zu pages", page_runs(buf, pages),
	       pages);
	pattern(buf, len, 0, 55);
	h = pm_create_locked(self->fd, buf, len, PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	for (i = 0; i < 1024; i++)
		segs[i] = (struct pinmdl_segment){ .handle = h, .length = len };

	/* 320 MiB of memory-backed device, written from 320 KiB. */
	snprintf(name, sizeof(name), "%s_big", self->name);
	ASSERT_EQ(0, nullb_make(name, "size=320", path, sizeof(path)));
	dev = open(path, O_RDWR | O_DIRECT);
	ASSERT_LE(0, dev);
	t = pm_target_open(self->fd, BLK, dev, NULL);
	ASSERT_LT(0, t);
	ASSERT_EQ(0, blk_io(self->fd, t, PINMDL_BLK_WRITE, 0, segs, 1024, 0,
			    &io));
	EXPECT_EQ(1024 * len, io.result);
	back = pm_map(len, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, back);
	for (i = 0; i < 1024; i++) {
		ASSERT_EQ(len, pread(dev, back, len, i * len));
		ASSERT_EQ(0, memcmp(back, buf, len));
	}
	/*
	 * And back over the chain: every copy lands in the same memory, in
	 * no set order, and all are the same.
	 */
	memset(buf, 0, len);
	ASSERT_EQ(0, blk_io(self->fd, t, PINMDL_BLK_READ, 0, segs, 1024, 0,
			    &io));
	EXPECT_EQ(1024 * len, io.result);
	EXPECT_EQ(0, memcmp(back, buf, len));
	EXPECT_EQ(0, pm_target_close(self->fd, t));
	close(dev);
	EXPECT_EQ(0, nullb_make(name, NULL, NULL, 0));

	/* 2 GiB from a 4 GiB device without storage: more than one bio. */
	ASSERT_EQ(0, pm_mem_map(&big, PM_ANON, PM_HPAGE, PROT_READ | PROT_WRITE,
				0));
	EXPECT_EQ(0, pm_unlock(self->fd, h));
	h = pm_create_locked(self->fd, big.buf, PM_HPAGE,
			     PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	for (i = 0; i < 1024; i++)
		segs[i] = (struct pinmdl_segment){ .handle = h,
						   .length = PM_HPAGE };
	ASSERT_EQ(0, nullb_make(name, "size=4096 memory_backed=0", path,
				sizeof(path)));
	dev = open(path, O_RDWR);
	ASSERT_LE(0, dev);
	t = pm_target_open(self->fd, BLK, dev, NULL);
	ASSERT_LT(0, t);
	ASSERT_EQ(0, blk_io(self->fd, t, PINMDL_BLK_READ, PM_HPAGE, segs, 1024,
			    0, &io));
	EXPECT_EQ(1024 * PM_HPAGE, io.result);
	EXPECT_EQ(0, pm_target_close(self->fd, t));
	close(dev);
	EXPECT_EQ(0, nullb_make(name, NULL, NULL, 0));
	EXPECT_EQ(0, pm_unlock(self->fd, h));
	pm_mem_unmap(&big);
	munmap(back, len);
	munmap(other, len);
	munmap(buf, len);
	free(segs);
}

#define MEM_CG		"/sys/fs/cgroup/pmblk_mem"
#define MEM_REQS	256
#define MEM_SEGS	1024
#define MEM_PAGES	2048UL
/*
 * What a request may charge (pinmdl_blk in README.md): 32 bytes a
 * segment, two direct I/Os of 1024 bio_vecs of 16 bytes, under 4 KiB more.
 */
#define MEM_PER_REQ	(MEM_SEGS * 32 + 2 * 1024 * 16 + 4096)
/* The memory cgroup's charges are batched: a little more either way. */
#define MEM_SLACK	(1L << 20)

/* The requests' submitter: in the cgroup, a thread a request. */
struct mem_child {
	const char *path;
	int go;		/* a byte releases one more request */
	int report;	/* 'r' once ready, then 'e' for a refused one */
	int fd;
	struct pinmdl_io io;
	sem_t sem;
};

static void *mem_submit(void *arg)
{
	struct mem_child *c = arg;
	struct pinmdl_io io = c->io;

	while (sem_wait(&c->sem))
		;
	if (pm_ioctl(c->fd, PINMDL_IOC_IO, &io) &&
	    write(c->report, "e", 1) != 1)
		abort();
	return NULL;
}

static int mem_child(struct mem_child *c)
{
	struct pinmdl_segment *segs = calloc(MEM_SEGS, sizeof(*segs));
	char *other, *buf;
	pthread_attr_t attr;
	pthread_t thr;
	int dev, t, i;
	uint32_t h;
	FILE *procs = fopen(MEM_CG "/cgroup.procs", "w");
	char x;

	/* Gone with the test, whatever becomes of it. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || !segs || !procs ||
	    fprintf(procs, "%d\n", getpid()) < 0 || fclose(procs))
		return 1;
	c->fd = pm_open();
	dev = open(c->path, O_RDWR);
	buf = scattered_pages(MEM_PAGES, &other);
	if (c->fd < 0 || dev < 0 || !buf)
		return 1;
	t = pm_target_open(c->fd, BLK, dev, NULL);
	h = pm_create_locked(c->fd, buf, MEM_PAGES * PM_PAGE,
			     PINMDL_IO_READ_ACCESS);
	if (t <= 0 || !h)
		return 1;
	for (i = 0; i < MEM_SEGS; i++)
		segs[i] = (struct pinmdl_segment){
			.handle = h, .length = MEM_PAGES * PM_PAGE };
	c->io = (struct pinmdl_io){ .target = t, .op = PINMDL_BLK_WRITE,
				    .segments = (uintptr_t)segs,
				    .nr_segments = MEM_SEGS,
				    .flags = PINMDL_SUBMIT_ASYNC };
	if (sem_init(&c->sem, 0, 0) || pthread_attr_init(&attr) ||
	    pthread_attr_setstacksize(&attr, 1 << 16))
		return 1;
	for (i = 0; i < MEM_REQS; i++)
		if (pthread_create(&thr, &attr, mem_submit, c))
			return 1;
	if (write(c->report, "r", 1) != 1)
		return 1;
	while (read(c->go, &x, 1) == 1)
		sem_post(&c->sem);
	for (;;)
		pause();
}

/* Bytes charged to the cgroup now, or -1. */
static long mem_cg_current(void)
{
	FILE *f = fopen(MEM_CG "/memory.current", "r");
	long v = -1;

	if (f && fscanf(f, "%ld", &v) != 1)
		v = -1;
	if (f)
		fclose(f);
	return v;
}

/*
 * What a request allocates grows with its segments, not its pages: 256
 * asynchronous requests of 1024 segments, each the whole of one 8 MiB
 * descriptor of scattered pages (2 million pages, 8 GiB a request), in
 * flight together on a slow null_blk device, charge their submitter's
 * memory cgroup (slab, large kmalloc and vmalloc alike) at most the bound
 * of each, where a bio_vec a page would be 32 MiB each. They start one at
 * a time, the charge looked at after each.
 */
TEST_F_TIMEOUT(blk, request_memory_bounded_by_segments, 300)
{
	struct mem_child c = { .path = NULL };
	long base, now = 0, peak = 0, pins;
	const char *name = "pmblk_mem";
	int go[2], report[2], i, refused = 0;
	struct timespec t0;
	char path[64], x;
	pid_t pid;

	if (!variant->nullb)
		SKIP(return, "a slow device is null_blk's");
	if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) &&
	    pm_run("mount -t cgroup2 none /sys/fs/cgroup"))
		SKIP(return, "no cgroup2");
	if (pm_run("grep -qw memory /sys/fs/cgroup/cgroup.controllers"))
		SKIP(return, "a kernel without memory cgroups charges nothing");
	ASSERT_EQ(0, pm_run("echo +memory > /sys/fs/cgroup/cgroup.subtree_control"
			    " && mkdir -p " MEM_CG));
	/*
	 * 16 GiB without storage, 50 ms a request, and tags enough that
	 * what is in flight drains in a few rounds once they are killed.
	 */
	ASSERT_EQ(0, nullb_make(name, "size=16384 memory_backed=0 irqmode=2 "
				"completion_nsec=50000000 hw_queue_depth=256",
				path, sizeof(path)));
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(report));
	c.path = path;
	c.go = go[0];
	c.report = report[1];
	pins = pm_pins();
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(go[1]);
		close(report[0]);
		_exit(mem_child(&c));
	}
	close(go[0]);
	close(report[1]);
	x = 0;
	EXPECT_EQ(1, read(report[0], &x, 1));
	EXPECT_EQ('r', x);
	base = mem_cg_current();
	EXPECT_LT(0, base);
	if (x != 'r' || base <= 0)
		goto out;
	for (i = 0; i < MEM_REQS && peak <= MEM_REQS * MEM_PER_REQ; i++) {
		if (write(go[1], "x", 1) != 1)
			break;
		usleep(50000);
		now = mem_cg_current() - base;
		peak = now > peak ? now : peak;
	}
	/* Each holds at least its segments once it is in. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (now < (long)MEM_REQS * MEM_SEGS * 32 && pm_ms_since(&t0) < 20000 &&
	       peak <= MEM_REQS * MEM_PER_REQ) {
		usleep(100000);
		now = mem_cg_current() - base;
		peak = now > peak ? now : peak;
	}
	TH_LOG("%d requests: %ld KiB charged, %ld KiB at most, bound %ld KiB",
	       i, now >> 10, peak >> 10,
	       (MEM_REQS * MEM_PER_REQ + MEM_SLACK) >> 10);
	EXPECT_GE(MEM_REQS * MEM_PER_REQ + MEM_SLACK, peak);
	EXPECT_LE((long)MEM_REQS * MEM_SEGS * 32, now);
	EXPECT_EQ(0, fcntl(report[0], F_SETFL, O_NONBLOCK));
	while (read(report[0], &x, 1) == 1)
		refused++;
	EXPECT_EQ(0, refused);
out:
	/* Killed, it stops them between their direct I/Os. */
	EXPECT_EQ(0, kill(pid, SIGKILL));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	EXPECT_EQ(pid, waitpid(pid, NULL, 0));
	while (pm_pins() != pins && pm_ms_since(&t0) < 120000)
		usleep(100000);
	EXPECT_EQ(pins, pm_pins());
	TH_LOG("all done %ld ms after the kill", pm_ms_since(&t0));
	close(go[1]);
	close(report[0]);
	EXPECT_EQ(0, pm_run("rmdir " MEM_CG));
	EXPECT_EQ(0, nullb_make(name, NULL, NULL, 0));
}

/*
 * A loop device whose block size and size change after TARGET_OPEN: the
 * open reports whole blocks of the size then, and each request is checked
 * against the device as it is now.
 */
TEST(loop_limits_follow_the_device)
{
	char file[] = "/tmp/pmblk-loop-XXXXXX", path[32];
	int ctl, n, back, dev, fd = pm_open(), t;
	char *buf = pm_map(2 * PM_PAGE, PROT_READ | PROT_WRITE);
	struct pinmdl_target_open o;
	struct pinmdl_segment s;
	uint64_t size;
	uint32_t h;
	int gone;

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, buf);
	ctl = open("/dev/loop-control", O_RDWR);
	if (ctl < 0)
		SKIP(return, "no loop devices in this kernel");
	n = ioctl(ctl, LOOP_CTL_GET_FREE);
	ASSERT_LE(0, n);
	back = mkstemp(file);
	ASSERT_LE(0, back);
	unlink(file);
	/* 256 blocks of 4 KiB and half a block more. */
	ASSERT_EQ(0, ftruncate(back, 256 * 4096 + 2048));
	snprintf(path, sizeof(path), "/dev/loop%d", n);
	dev = open(path, O_RDWR);
	ASSERT_LE(0, dev);
	ASSERT_EQ(0, ioctl(dev, LOOP_SET_FD, back));
	ASSERT_EQ(0, ioctl(dev, LOOP_SET_BLOCK_SIZE, 4096));
	t = pm_target_open(fd, BLK, dev, &o);
	ASSERT_LT(0, t);
	EXPECT_EQ(4096, o.block_size);
	EXPECT_EQ(256 * 4096, o.capacity);
	h = pm_create_locked(fd, buf, 2 * PM_PAGE, PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	s = (struct pinmdl_segment){ .handle = h, .length = PM_PAGE };
	EXPECT_EQ(0, blk_io(fd, t, PINMDL_BLK_WRITE, 4096, &s, 1, 0, NULL));
	/* Opened at 512-byte blocks, then 4 KiB: a 512-byte offset fails. */
	ASSERT_EQ(0, ioctl(dev, LOOP_SET_BLOCK_SIZE, 512));
	t = pm_target_open(fd, BLK, dev, &o);
	ASSERT_LT(0, t);
	EXPECT_EQ(512, o.block_size);
	EXPECT_EQ(256 * 4096 + 2048, o.capacity);
	EXPECT_EQ(0, blk_io(fd, t, PINMDL_BLK_WRITE, 512, &s, 1, 0, NULL));
	ASSERT_EQ(0, ioctl(dev, LOOP_SET_BLOCK_SIZE, 4096));
	EXPECT_EQ(-EINVAL, blk_io(fd, t, PINMDL_BLK_WRITE, 512, &s, 1, 0,
				  NULL));
	EXPECT_EQ(0, blk_io(fd, t, PINMDL_BLK_WRITE, 4096, &s, 1, 0, NULL));
	/* The device shrinks: what is past its new end fails. */
	ASSERT_EQ(0, ftruncate(back, 16 * 4096));
	ASSERT_EQ(0, ioctl(dev, LOOP_SET_CAPACITY, 0));
	EXPECT_EQ(-EINVAL, blk_io(fd, t, PINMDL_BLK_READ, 16 * 4096, &s, 1, 0,
				  NULL));
	EXPECT_EQ(0, blk_io(fd, t, PINMDL_BLK_READ, 15 * 4096, &s, 1, 0,
			    NULL));
	/*
	 * Its backing file detached: a device left without space is gone
	 * (ENODEV). Linux 6.1 detaches at once; later kernels wait for the
	 * last close and meanwhile keep the size and fail each I/O (EIO).
	 */
	ASSERT_EQ(0, ioctl(dev, LOOP_CLR_FD, 0));
	ASSERT_EQ(0, ioctl(dev, BLKGETSIZE64, &size));
	gone = size ? -EIO : -ENODEV;
	EXPECT_EQ(gone, blk_io(fd, t, PINMDL_BLK_READ, 0, &s, 1, 0, NULL));
	EXPECT_EQ(gone, blk_io(fd, t, PINMDL_BLK_FLUSH, 0, NULL, 0, 0, NULL));
	close(fd);
	close(dev);
	close(back);
	close(ctl);
	munmap(buf, 2 * PM_PAGE);
}

/*
 * The rules of write(2) and read(2) with O_DIRECT hold for a request by
 * construction, as it is the bound file's own direct I/O: a file opened
 * O_DSYNC writes with REQ_FUA (seen in the block layer's block_bio_queue
 * event, on a null_blk device with a write cache, which keeps REQ_FUA),
 * a plain one without.
 */
TEST(dsync_file_writes_with_fua)
{
	char name[32], path[64], tpath[128], line[512], want[32], cmd[512];
	const char *tr = pm_tracefs();
	int fd, dsync, plain, t_dsync, t_plain, found_fua = 0, found_plain = 0;
	struct pinmdl_segment seg;
	struct stat st;
	uint32_t h;
	char *buf;
	FILE *f;

	snprintf(name, sizeof(name), "pmfua%d", getpid());
	snprintf(tpath, sizeof(tpath), "%s/events/block/block_bio_queue", tr);
	if (access(tpath, F_OK))
		SKIP(return, "no tracefs block events");
	ASSERT_EQ(0, nullb_make(name, "blocksize=512 cache_size=16", path,
				sizeof(path)));
	dsync = open(path, O_RDWR | O_DSYNC);
	plain = open(path, O_RDWR);
	ASSERT_LE(0, dsync);
	ASSERT_LE(0, plain);
	ASSERT_EQ(0, fstat(plain, &st));
	snprintf(want, sizeof(want), "%u,%u ", major(st.st_rdev),
		 minor(st.st_rdev));
	fd = pm_open();
	ASSERT_LE(0, fd);
	t_dsync = pm_target_open(fd, BLK, dsync, NULL);
	t_plain = pm_target_open(fd, BLK, plain, NULL);
	ASSERT_LT(0, t_dsync);
	ASSERT_LT(0, t_plain);
	buf = pm_map(PM_PAGE, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, buf);
	pattern(buf, PM_PAGE, 0, 5);
	h = pm_create_locked(fd, buf, PM_PAGE, PINMDL_IO_READ_ACCESS);
	ASSERT_LT(0, h);
	seg = (struct pinmdl_segment){ .handle = h, .length = PM_PAGE };

	snprintf(cmd, sizeof(cmd),
		 "cd %s && echo 0 > tracing_on && echo > trace && "
		 "echo 1 > events/block/block_bio_queue/enable && "
		 "echo 1 > tracing_on", tr);
	ASSERT_EQ(0, pm_run(cmd));
	/* The O_DSYNC file at block 0, the plain one at block 8. */
	ASSERT_EQ(0, blk_io(fd, t_dsync, PINMDL_BLK_WRITE, 0, &seg, 1, 0,
			    NULL));
	ASSERT_EQ(0, blk_io(fd, t_plain, PINMDL_BLK_WRITE, PM_PAGE, &seg, 1, 0,
			    NULL));
	snprintf(cmd, sizeof(cmd),
		 "echo 0 > %s/events/block/block_bio_queue/enable", tr);
	ASSERT_EQ(0, pm_run(cmd));
	snprintf(tpath, sizeof(tpath), "%s/trace", tr);
	f = fopen(tpath, "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, want), rwbs[16];
		unsigned long long sector;

		if (!p || sscanf(p + strlen(want), "%15s %llu", rwbs,
				 &sector) != 2 || rwbs[0] != 'W')
			continue;
		if (sector == 0)
			found_fua |= !!strchr(rwbs, 'F');
		else if (sector == PM_PAGE / 512)
			found_plain |= 1 + !!strchr(rwbs, 'F');
	}
	fclose(f);
	EXPECT_EQ(1, found_fua);
	/* Seen, and without REQ_FUA. */
	EXPECT_EQ(1, found_plain);

	EXPECT_EQ(0, pm_unlock(fd, h));
	close(fd);
	close(plain);
	close(dsync);
	munmap(buf, PM_PAGE);
	EXPECT_EQ(0, nullb_make(name, NULL, NULL, 0));
}

/* Bytes the process read or wrote to storage (/proc/self/io, @field). */
static long long proc_io(const char *field)
{
	char line[128];
	long long v = -1;
	size_t n = strlen(field);
	FILE *f = fopen("/proc/self/io", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':')
			v = atoll(line + n + 1);
	fclose(f);
	return v;
}

/* The submitter's I/O accounting counts a request as its own I/O. */
TEST_F(blk, task_io_accounting)
{
	const size_t len = 1 << 20;
	struct pinmdl_segment seg;
	long long rd, wr;
	uint32_t h;
	char *buf;

	if (proc_io("write_bytes") < 0)
		SKIP(return, "no task I/O accounting");
	buf = pm_map(len, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, buf);
	pattern(buf, len, 0, 9);
	h = pm_create_locked(self->fd, buf, len, PINMDL_IO_WRITE_ACCESS);
	ASSERT_LT(0, h);
	seg = (struct pinmdl_segment){ .handle = h, .length = len };
	wr = proc_io("write_bytes");
	rd = proc_io("read_bytes");
	ASSERT_EQ(0, blk_io(self->fd, self->target, PINMDL_BLK_WRITE, 0, &seg,
			    1, 0, NULL));
	EXPECT_LE(wr + (long long)len, proc_io("write_bytes"));
	ASSERT_EQ(0, blk_io(self->fd, self->target, PINMDL_BLK_READ, 0, &seg,
			    1, 0, NULL));
	EXPECT_LE(rd + (long long)len, proc_io("read_bytes"));
	EXPECT_EQ(0, pm_unlock(self->fd, h));
	munmap(buf, len);
}

/* fsnotify sees a BLK_WRITE as a write(2) and a BLK_READ as a read(2). */
TEST_F(blk, fsnotify_sees_requests)
{
	char ev[4096] __attribute__((aligned(8)));
	struct inotify_event *e;
	struct pinmdl_segment seg;
	int in, wd, mask, n, async;
	uint32_t h;
	char *buf;

	buf = pm_map(PM_PAGE, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, buf);
	h = pm_create_locked(self->fd, buf, PM_PAGE, PINMDL_IO_WRITE_ACCESS);
	ASSERT_LT(0, h);
	seg = (struct pinmdl_segment){ .handle = h, .length = PM_PAGE };
	in = inotify_init1(IN_NONBLOCK);
	ASSERT_LE(0, in);
	wd = inotify_add_watch(in, self->path, IN_MODIFY | IN_ACCESS);
	ASSERT_LE(0, wd);
	/* Synchronous, then asynchronous: each op's event, once each. */
	for (async = 0; async < 2; async++) {
		ASSERT_EQ(0, blk_io(self->fd, self->target, PINMDL_BLK_WRITE,
				    0, &seg, 1,
				    async ? PINMDL_SUBMIT_ASYNC : 0, NULL));
		if (async)
			ASSERT_EQ(0, collect(self->fd, 1, 0, PM_PAGE));
		ASSERT_EQ(0, blk_io(self->fd, self->target, PINMDL_BLK_READ,
				    0, &seg, 1,
				    async ? PINMDL_SUBMIT_ASYNC : 0, NULL));
		if (async)
			ASSERT_EQ(0, collect(self->fd, 1, 0, PM_PAGE));
		mask = 0;
		n = read(in, ev, sizeof(ev));
		ASSERT_LT(0, n);
		for (e = (void *)ev; (char *)e < ev + n;
		     e = (void *)((char *)e + sizeof(*e) + e->len))
			mask |= e->wd == wd ? (int)e->mask : 0;
		EXPECT_EQ(IN_MODIFY | IN_ACCESS, mask);
	}
	close(in);
	EXPECT_EQ(0, pm_unlock(self->fd, h));
	munmap(buf, PM_PAGE);
}

TEST_HARNESS_MAIN
