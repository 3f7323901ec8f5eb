// SPDX-License-Identifier: GPL-2.0
/*
 * The programs of examples/, run as a user would run them (the binaries
 * beside this one in the guest), their output checked line by line: a
 * buffer locked and checksummed by pinmdl_lower; a block device read into
 * one locked buffer again and again, synchronously and through a queue of
 * asynchronous requests, against a pattern whose every 4 KiB block holds
 * its own offset, each MiB's FNV-1a hash checked, on the guest's
 * virtio-blk disk and on loop devices whose size is not whole MiB; a
 * malloc'd buffer exported as a dma-buf, filled by pinmdl_lower's importer
 * and written through the dma-buf's mapping; and an error told in
 * pinmdl's terms. Nothing stays pinned after any of them,
 * and every example beside this test has a test here.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "pinmdl_util.h"

#define DISK	"/dev/vda"
#define MIB	(1UL << 20)
#define SMALL	(2 * MIB + 132 * 1024)	/* a loop device of 2 MiB and more */
#define TINY	(132 * 1024)		/* one smaller than a read */
#define DEPTH	8			/* async_queue's requests in flight */

/* The programs of examples/, each run by the TEST of its name below. */
static const char *const examples[] = { "lock_checksum", "blk_read",
					"async_queue", "uring_queue",
					"dmabuf_export" };

/* Run @cmd (stderr too) into @out; its exit status, or -1. */
static int capture(const char *cmd, char *out, size_t size)
{
	char line[512];
	size_t used = 0;
	FILE *p;
	int status;

	out[0] = 0;
	snprintf(line, sizeof(line), "%s 2>&1", cmd);
	p = popen(line, "r");
	if (!p)
		return -1;
	used = fread(out, 1, size - 1, p);
	out[used] = 0;
	status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* @len bytes of the pattern from byte @off: each 8 bytes hold their offset. */
static void pattern(void *buf, uint64_t off, size_t len)
{
	uint64_t *w = buf;
	size_t i;

	for (i = 0; i < len / 8; i++)
		w[i] = off + 8 * i;
}

/* The 32-bit FNV-1a hash of @len bytes of the pattern from byte @off. */
static uint32_t pattern_fnv1a(uint64_t off, size_t len)
{
	unsigned char *buf = malloc(len);
	uint32_t hash = 2166136261u;
	size_t i;

	if (!buf)
		return 0;
	pattern(buf, off, len);
	for (i = 0; i < len; i++)
		hash = (hash ^ buf[i]) * 16777619u;
	free(buf);
	return hash;
}

/* Write the first @size bytes of the pattern to @fd; 0, or -1. */
static int write_pattern(int fd, uint64_t size)
{
	char *buf = pm_map(MIB, PROT_READ | PROT_WRITE);
	uint64_t off, len;
	int ret = 0;

	if (!buf)
		return -1;
	for (off = 0; off < size && !ret; off += MIB) {
		len = size - off < MIB ? size - off : MIB;
		pattern(buf, off, len);
		if (pwrite(fd, buf, len, off) != (ssize_t)len)
			ret = -1;
	}
	munmap(buf, MIB);
	return ret;
}

/*
 * The guest's disk holding the pattern in its first 16 MiB: no longer
 * swap nor read-only, whatever a test before left it as; 0, or -1.
 */
static int disk_pattern(void)
{
	int fd, ro = 0, ret;

	swapoff(DISK);
	fd = open(DISK, O_RDONLY);
	if (fd < 0 || ioctl(fd, BLKROSET, &ro))
		return -1;
	close(fd);
	fd = open(DISK, O_WRONLY | O_DIRECT);
	if (fd < 0)
		return -1;
	ret = write_pattern(fd, 16 * MIB);
	close(fd);
	return ret;
}

/*
 * A loop device over a file of @size bytes of the pattern: its path in
 * @path, its fd returned (loop_detach() ends it), -2 without loop devices,
 * -1 on failure.
 */
static int loop_attach(uint64_t size, char *path, size_t path_size)
{
	char file[] = "/tmp/pm-examples-XXXXXX";
	int ctl, n, back, dev = -1;

	ctl = open("/dev/loop-control", O_RDWR);
	if (ctl < 0)
		return -2;
	n = ioctl(ctl, LOOP_CTL_GET_FREE);
	back = mkstemp(file);
	if (n >= 0 && back >= 0 && !write_pattern(back, size)) {
		unlink(file);
		snprintf(path, path_size, "/dev/loop%d", n);
		dev = open(path, O_RDWR);
		if (dev >= 0 && ioctl(dev, LOOP_SET_FD, back)) {
			close(dev);
			dev = -1;
		}
	}
	if (back >= 0)
		close(back);
	close(ctl);
	return dev;
}

static void loop_detach(int dev)
{
	ioctl(dev, LOOP_CLR_FD, 0);
	close(dev);
}

/*
 * Whether @out holds, for each MiB of a device of @size bytes (at most 16
 * MiB read), the line blk_read and async_queue print, and no other MiB
 * line; the first line missing is logged.
 */
static int mib_lines(struct __test_metadata *_metadata, const char *out,
		     uint64_t size)
{
	uint64_t end = size < 16 * MIB ? size : 16 * MIB, off, len;
	const char *p = out;
	char want[96];
	int lines = 0;

	for (off = 0; off < end; off += MIB) {
		len = end - off < MIB ? end - off : MIB;
		snprintf(want, sizeof(want),
			 "MiB %2d: %d bytes, FNV-1a %08x\n", (int)(off / MIB),
			 (int)len, pattern_fnv1a(off, len));
		if (!strstr(out, want)) {
			TH_LOG("no line \"%.*s\" in:\n%s",
			       (int)strlen(want) - 1, want, out);
			return 0;
		}
	}
	while ((p = strstr(p, "MiB ")))
		lines++, p++;
	if (lines != (int)((end + MIB - 1) / MIB)) {
		TH_LOG("%d MiB lines where %d were due:\n%s", lines,
		       (int)((end + MIB - 1) / MIB), out);
		return 0;
	}
	return 1;
}

TEST(lock_checksum)
{
	long pins = pm_pins();
	char out[4096];

	ASSERT_EQ(0, capture("./lock_checksum", out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "locked 1048576 bytes: 256 pages\n"));
	EXPECT_NE(NULL, strstr(out, ": match\n"));
	EXPECT_EQ(NULL, strstr(out, "MISMATCH"));
	EXPECT_EQ(pins, pm_pins());
}

TEST(dmabuf_export)
{
	long pins = pm_pins();
	char out[4096];

	ASSERT_EQ(0, capture("./dmabuf_export", out, sizeof(out)))
		TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "wrote 1048576 bytes of 0x5a into the "
				    "buffer: match\n")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "in the buffer: 0xa5\n"));
	EXPECT_EQ(pins, pm_pins());
}

TEST(blk_read)
{
	long pins = pm_pins();
	char out[4096];

	if (access(DISK, F_OK))
		SKIP(return, "no virtio-blk disk in this guest");
	ASSERT_EQ(0, disk_pattern());
	ASSERT_EQ(0, capture("./blk_read " DISK, out, sizeof(out)));
	EXPECT_TRUE(mib_lines(_metadata, out, 16 * MIB));
	EXPECT_EQ(NULL, strstr(out, "less than one read"));
	EXPECT_EQ(pins, pm_pins());
}

/* DEPTH requests in flight at once: the disk has more MiB than that. */
TEST(async_queue)
{
	long pins = pm_pins();
	char out[4096], want[64];

	if (access(DISK, F_OK))
		SKIP(return, "no virtio-blk disk in this guest");
	ASSERT_EQ(0, disk_pattern());
	ASSERT_EQ(0, capture("./async_queue " DISK, out, sizeof(out)));
	EXPECT_TRUE(mib_lines(_metadata, out, 16 * MIB));
	snprintf(want, sizeof(want), "at most %d requests in flight\n", DEPTH);
	EXPECT_NE(NULL, strstr(out, want)) TH_LOG("%s", out);
	EXPECT_EQ(pins, pm_pins());
}

/* The same reads as IO commands through io_uring, CQEs and all. */
TEST(uring_queue)
{
	long pins = pm_pins();
	char out[4096];

	if (access(DISK, F_OK))
		SKIP(return, "no virtio-blk disk in this guest");
	ASSERT_EQ(0, disk_pattern());
	ASSERT_EQ(0, capture("./uring_queue " DISK, out, sizeof(out)));
	EXPECT_TRUE(mib_lines(_metadata, out, 16 * MIB));
	EXPECT_EQ(pins, pm_pins());
}

/*
 * Devices whose size is not whole MiB: the last read is short, and one
 * smaller than a read is read whole and said to be so.
 */
TEST(small_devices)
{
	static const uint64_t sizes[] = { SMALL, TINY };
	static const char *const progs[] = { "blk_read", "async_queue",
					     "uring_queue" };
	long pins = pm_pins();
	char path[32], cmd[64], out[4096], want[96];
	int i, j, dev;

	for (i = 0; i < 2; i++) {
		dev = loop_attach(sizes[i], path, sizeof(path));
		if (dev == -2)
			SKIP(return, "no loop devices in this kernel");
		ASSERT_LE(0, dev);
		for (j = 0; j < 3; j++) {
			snprintf(cmd, sizeof(cmd), "./%s %s", progs[j], path);
			EXPECT_EQ(0, capture(cmd, out, sizeof(out)))
				TH_LOG("%s: %s", cmd, out);
			EXPECT_TRUE(mib_lines(_metadata, out, sizes[i]));
			snprintf(want, sizeof(want),
				 "%s: %d bytes, less than one read\n", path,
				 (int)sizes[i]);
			/* uring_queue says nothing of a short device. */
			EXPECT_EQ(sizes[i] < MIB && j < 2, !!strstr(out, want))
				TH_LOG("%s: %s", cmd, out);
		}
		loop_detach(dev);
	}
	EXPECT_EQ(pins, pm_pins());
}

/*
 * A character device to pinmdl_blk: the error says what pinmdl needs;
 * a missing device, what the system says; no device, the usage.
 */
TEST(errors_speak)
{
	long pins = pm_pins();
	char out[4096];

	EXPECT_EQ(1, capture("./blk_read /dev/null", out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "TARGET_OPEN pinmdl_blk: pinmdl_blk "
				    "needs an fd of a block device\n"))
		TH_LOG("%s", out);
	EXPECT_EQ(1, capture("./async_queue /dev/null", out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "PINMDL_IOC_TARGET_OPEN: pinmdl_blk "
				    "needs an fd of a block device\n"))
		TH_LOG("%s", out);
	EXPECT_EQ(1, capture("./blk_read /nonexistent", out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "/nonexistent: No such file"))
		TH_LOG("%s", out);
	EXPECT_EQ(2, capture("./blk_read", out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "usage: ")) TH_LOG("%s", out);
	EXPECT_EQ(2, capture("./async_queue", out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "usage: ")) TH_LOG("%s", out);
	EXPECT_EQ(pins, pm_pins());
}

/*
 * Every program beside this test that is not pinmdl's own (the tests,
 * pinmdlctl) is an example with a TEST above, and each of those is there.
 */
TEST(every_example_has_a_test)
{
	char self[4096], magic[4];
	unsigned int i, found = 0;
	struct dirent *e;
	struct stat st;
	ssize_t n;
	DIR *d;
	int fd;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	ASSERT_LT(0, n);
	self[n] = 0;
	d = opendir(dirname(self));
	ASSERT_NE(NULL, d);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || !strncmp(e->d_name, "pinmdl", 6) ||
		    fstatat(dirfd(d), e->d_name, &st, 0) ||
		    !S_ISREG(st.st_mode) || !(st.st_mode & S_IXUSR))
			continue;
		fd = openat(dirfd(d), e->d_name, O_RDONLY);
		if (fd < 0)
			continue;
		n = read(fd, magic, 4);
		close(fd);
		if (n != 4 || memcmp(magic, "\177ELF", 4))
			continue;
		for (i = 0; i < ARRAY_SIZE(examples); i++)
			if (!strcmp(e->d_name, examples[i]))
				break;
		EXPECT_GT(ARRAY_SIZE(examples), i)
			TH_LOG("%s: an example without a test", e->d_name);
		found += i < ARRAY_SIZE(examples);
	}
	closedir(d);
	EXPECT_EQ(ARRAY_SIZE(examples), found)
		TH_LOG("not every example is beside the test");
}

TEST_HARNESS_MAIN
