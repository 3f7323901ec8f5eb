// SPDX-License-Identifier: GPL-2.0
/*
 * The programs of examples/, run as a user would run them (the binaries
 * beside this one in the guest), their output checked line by line: a
 * buffer locked and checksummed by pinmdl_lower; a block device read into
 * one locked buffer again and again, synchronously and through a queue
 * of asynchronous requests, against a pattern written to the guest's
 * virtio-blk disk; and an error told in pinmdl's terms. Nothing stays
 * pinned after any of them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "pinmdl_util.h"

#define DISK	"/dev/vda"
#define MIB	(1UL << 20)

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

/* MiB @i of the first 16 of DISK holds byte 0xa0 + i; 0, or -1. */
static int write_pattern(void)
{
	char *buf = pm_map(MIB, PROT_READ | PROT_WRITE);
	int fd, i, ret = 0;

	fd = open(DISK, O_WRONLY | O_DIRECT);
	if (fd < 0 || !buf)
		return -1;
	for (i = 0; i < 16 && !ret; i++) {
		memset(buf, 0xa0 + i, MIB);
		if (pwrite(fd, buf, MIB, i * MIB) != (ssize_t)MIB)
			ret = -1;
	}
	close(fd);
	munmap(buf, MIB);
	return ret;
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

TEST(blk_read_many_times_into_one_lock)
{
	long pins = pm_pins();
	char out[4096], want[64];
	int i;

	if (access(DISK, F_OK))
		SKIP(return, "no virtio-blk disk in this guest");
	ASSERT_EQ(0, write_pattern());
	ASSERT_EQ(0, capture("./blk_read " DISK, out, sizeof(out)));
	for (i = 0; i < 16; i++) {
		snprintf(want, sizeof(want), "MiB %2d: %02x .. %02x\n", i,
			 0xa0 + i, 0xa0 + i);
		EXPECT_NE(NULL, strstr(out, want)) TH_LOG("%s", out);
	}
	EXPECT_EQ(pins, pm_pins());
}

TEST(async_queue_reads_in_flight)
{
	long pins = pm_pins();
	char out[4096], want[64];
	int i;

	if (access(DISK, F_OK))
		SKIP(return, "no virtio-blk disk in this guest");
	ASSERT_EQ(0, write_pattern());
	ASSERT_EQ(0, capture("./async_queue " DISK, out, sizeof(out)));
	for (i = 0; i < 16; i++) {
		snprintf(want, sizeof(want), "MiB %2d: %02x\n", i, 0xa0 + i);
		EXPECT_NE(NULL, strstr(out, want)) TH_LOG("%s", out);
	}
	EXPECT_EQ(pins, pm_pins());
}

/* A character device to pinmdl_blk: the error says what pinmdl needs. */
TEST(errors_speak)
{
	long pins = pm_pins();
	char out[4096];

	EXPECT_EQ(1, capture("./blk_read /dev/null", out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "TARGET_OPEN pinmdl_blk: pinmdl_blk "
				    "needs an fd of a block device\n"))
		TH_LOG("%s", out);
	EXPECT_EQ(1, capture("./blk_read /nonexistent", out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "/nonexistent: No such file"))
		TH_LOG("%s", out);
	EXPECT_EQ(pins, pm_pins());
}

TEST_HARNESS_MAIN
