// SPDX-License-Identifier: GPL-2.0
/*
 * What a locked descriptor's family can do besides PARTIAL: ADVANCE
 * (MmAdvanceMdl), PARTIAL_REUSE (MmPrepareMdlForReuse, then
 * IoBuildPartialMdl) and MAP_OFFSET with mmap(2) of /dev/pinmdl
 * (MmMapLockedPagesSpecifyCache, UserMode). Every errno in its order; what
 * QUERY, the PFNs, the lower driver, the pin balance and VmPin see after
 * each call; mappings of write and read locks of ReactOS's kmtest sizes,
 * of partials, in a forked child and in a process that received the file
 * by SCM_RIGHTS, and their end at UNLOCK or at FREE of a partial (SIGBUS,
 * never stale data); and a seeded fuzzer of the three ioctls and of
 * mmap(2) against live descriptors (PINMDL_FAMILY_SEED, PINMDL_FAMILY_CALLS).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "kselftest_harness.h"
#include "pinmdl_util.h"

#define LOWER	"pinmdl_lower"

/* What a test buffer holds at @at: not the same from one page to the next. */
static char pat(const char *at, unsigned int seed)
{
	uintptr_t a = (uintptr_t)at;

	return (char)(a * 7 + (a >> 12) * 13 + seed * 101);
}

/* Write at @dst the @len bytes of pattern @seed that belong at @key. */
static void fill_at(char *dst, const char *key, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		dst[i] = pat(key + i, seed);
}

static void fill(char *p, size_t len, unsigned int seed)
{
	fill_at(p, p, len, seed);
}

/*
 * Whether @view holds the @len bytes of pattern @seed that belong at @key;
 * read afresh each time, as a mapping's pages may go meanwhile.
 */
static bool is_pat(const volatile char *view, const char *key, size_t len,
		   unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (view[i] != pat(key + i, seed))
			return false;
	return true;
}

/* Pages spanned by [@start, @start + @len). */
static uint64_t spanned(const char *start, uint64_t len)
{
	uintptr_t s = (uintptr_t)start;

	return (s + len + PM_PAGE - 1) / PM_PAGE - s / PM_PAGE;
}

static char *page_of(const char *p)
{
	return (char *)((uintptr_t)p & ~(PM_PAGE - 1));
}

/* FOLL_PIN releases so far, system-wide. */
static long pins_released(void)
{
	pm_pins();
	return pm_vmstat("nr_foll_pin_released");
}

/* mmap(2) @pages pages of a descriptor from its page @k; NULL on failure. */
static char *umap(int fd, uint64_t offset, size_t k, size_t pages, int prot)
{
	char *p = mmap(NULL, pages * PM_PAGE, prot, MAP_SHARED, fd,
		       offset + k * PM_PAGE);

	return p == MAP_FAILED ? NULL : p;
}

/* What mmap(2) of @len bytes at @offset says: 0 (unmapped again) or -errno. */
static int umap_errno(int fd, uint64_t offset, size_t len, int prot,
		      int flags)
{
	void *p = mmap(NULL, len, prot, flags, fd, offset);

	if (p == MAP_FAILED)
		return -errno;
	munmap(p, len);
	return 0;
}

static bool user_mapped(int fd, uint32_t h)
{
	struct pinmdl_query q;

	return !pm_query(fd, h, &q, NULL, 0) &&
	       (q.flags & PINMDL_F_USER_MAPPED);
}

static sigjmp_buf probe_env;
static volatile sig_atomic_t probe_sig;

static void probe_handler(int sig)
{
	probe_sig = sig;
	siglongjmp(probe_env, 1);
}

/*
 * Read the byte at @p into *@val, or with @write write *@val there: 0, or
 * the signal the access raised (SIGBUS, SIGSEGV).
 */
static int probe(volatile char *p, bool write, char *val)
{
	struct sigaction sa = { .sa_handler = probe_handler }, bus, segv;

	sigaction(SIGBUS, &sa, &bus);
	sigaction(SIGSEGV, &sa, &segv);
	probe_sig = 0;
	if (!sigsetjmp(probe_env, 1)) {
		if (write)
			*p = *val;
		else
			*val = *p;
	}
	sigaction(SIGBUS, &bus, NULL);
	sigaction(SIGSEGV, &segv, NULL);
	return probe_sig;
}

/*
 * QUERY of @h describes [@start, @start + @count): its fields, and if
 * @pfns is not NULL, the PFNs of its pages.
 */
static void expect_range(struct __test_metadata *_metadata, int fd,
			 uint32_t h, const char *start, uint64_t count,
			 const uint64_t *pfns)
{
	uint64_t n = spanned(start, count), got[32];
	struct pinmdl_query q;

	ASSERT_GE(32, n);
	ASSERT_EQ(0, pm_query(fd, h, &q, got, 32));
	EXPECT_EQ((uintptr_t)page_of(start), q.start_va);
	EXPECT_EQ((uintptr_t)start & (PM_PAGE - 1), q.byte_offset);
	EXPECT_EQ(count, q.byte_count);
	EXPECT_EQ(n, q.page_count);
	EXPECT_EQ(n, q.pfn_capacity);
	if (pfns)
		EXPECT_EQ(0, memcmp(pfns, got, n * sizeof(*got)));
}

FIXTURE(fam)
{
	int fd;
	long pins;
	long vmpin;
	char *buf;
	size_t len;
};

FIXTURE_SETUP(fam)
{
	self->pins = pm_pins();
	self->vmpin = pm_vmpin_kb();
	self->fd = pm_open();
	ASSERT_LE(0, self->fd) TH_LOG("open /dev/pinmdl: %s", strerror(errno));
	self->len = 16 * PM_PAGE;
	self->buf = pm_map(self->len, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, self->buf);
	fill(self->buf, self->len, 0);
}

FIXTURE_TEARDOWN(fam)
{
	if (self->fd >= 0)
		close(self->fd);
	munmap(self->buf, self->len);
	EXPECT_EQ(self->pins, pm_pins()) TH_LOG("pages left pinned");
	EXPECT_EQ(self->vmpin, pm_vmpin_kb()) TH_LOG("VmPin left charged");
}

TEST_F(fam, advance_argument_checks_first)
{
	struct pinmdl_advance a = { .flags = 1, .bytes = 1 };
	char *start = self->buf + 100;
	long pins = pm_pins();
	int other = pm_open();
	uint32_t h, foreign;

	ASSERT_LE(0, other);
	h = pm_create_locked(self->fd, start, 8 * PM_PAGE,
			     PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	a.handle = h;
	EXPECT_EQ(-EINVAL, pm_ioctl(self->fd, PINMDL_IOC_ADVANCE, &a));
	a.handle = 4242;
	EXPECT_EQ(-EINVAL, pm_ioctl(self->fd, PINMDL_IOC_ADVANCE, &a));
	EXPECT_EQ(-EINVAL, pm_advance(self->fd, 4242, 0));
	EXPECT_EQ(-EINVAL, pm_advance(self->fd, h, 0));
	EXPECT_EQ(-ENOENT, pm_advance(self->fd, 4242, 1));
	EXPECT_EQ(-ENOENT, pm_advance(self->fd, 0, 1));
	/* A handle of another open file, none of this one, is unknown here. */
	ASSERT_EQ(0, pm_create(other, start, PM_PAGE, NULL));
	foreign = pm_create_locked(other, start, PM_PAGE,
				   PINMDL_IO_READ_ACCESS);
	ASSERT_NE(0, foreign);
	ASSERT_NE(h, foreign);
	EXPECT_EQ(-ENOENT, pm_advance(self->fd, foreign, 1));
	EXPECT_EQ(-EFAULT, pm_ioctl(self->fd, PINMDL_IOC_ADVANCE, NULL));
	close(other);
	/* Nothing moved, nothing unpinned. */
	expect_range(_metadata, self->fd, h, start, 8 * PM_PAGE, NULL);
	EXPECT_EQ(pins + 9, pm_pins());
	EXPECT_EQ(0, pm_unlock(self->fd, h));
}

TEST_F(fam, advance_state_einval)
{
	char *start = self->buf + 100;
	uint64_t count = 8 * PM_PAGE;
	struct pinmdl_query q;
	uint32_t h, part, unlocked;
	long pins = pm_pins();

	ASSERT_EQ(0, pm_create(self->fd, start, count, &unlocked));
	EXPECT_EQ(-EINVAL, pm_advance(self->fd, unlocked, 1));
	h = pm_create_locked(self->fd, start, count, PINMDL_IO_READ_ACCESS);
	ASSERT_NE(0, h);
	EXPECT_EQ(-EINVAL, pm_advance(self->fd, h, count));
	EXPECT_EQ(-EINVAL, pm_advance(self->fd, h, count + 1));
	EXPECT_EQ(-EINVAL, pm_advance(self->fd, h, ~0ULL));
	expect_range(_metadata, self->fd, h, start, count, NULL);
	EXPECT_EQ(pins + 9, pm_pins());

	/* The bound is the byte count left, not the first one. */
	ASSERT_EQ(0, pm_advance(self->fd, h, PM_PAGE));
	EXPECT_EQ(-EINVAL, pm_advance(self->fd, h, count - PM_PAGE));
	ASSERT_EQ(0, pm_query(self->fd, h, &q, NULL, 0));
	EXPECT_EQ(PINMDL_F_PAGES_LOCKED, q.flags);
	EXPECT_EQ(PINMDL_IO_READ_ACCESS, q.operation);

	/* A partial descriptor does not advance. */
	ASSERT_EQ(0, pm_partial(self->fd, h, start + PM_PAGE, 100, &part));
	EXPECT_EQ(-EINVAL, pm_advance(self->fd, part, 1));
	expect_range(_metadata, self->fd, part, start + PM_PAGE, 100, NULL);
	EXPECT_EQ(0, pm_free(self->fd, part));

	/* Nor does a descriptor once unlocked. */
	ASSERT_EQ(0, pm_unlock(self->fd, h));
	EXPECT_EQ(-EINVAL, pm_advance(self->fd, h, 1));
	EXPECT_EQ(pins, pm_pins());
}

TEST_F(fam, advance_ebusy_with_partials)
{
	char *start = self->buf + 100;
	uint32_t h, p1, p2;
	long pins;

	h = pm_create_locked(self->fd, start, 8 * PM_PAGE,
			     PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	ASSERT_EQ(0, pm_partial(self->fd, h, start, PM_PAGE, &p1));
	ASSERT_EQ(0, pm_partial(self->fd, h, start + 5 * PM_PAGE, 0, &p2));
	pins = pm_pins();
	EXPECT_EQ(-EBUSY, pm_advance(self->fd, h, 1));
	EXPECT_EQ(0, pm_free(self->fd, p1));
	EXPECT_EQ(-EBUSY, pm_advance(self->fd, h, 1));
	expect_range(_metadata, self->fd, h, start, 8 * PM_PAGE, NULL);
	EXPECT_EQ(pins, pm_pins());
	EXPECT_EQ(0, pm_free(self->fd, p2));
	EXPECT_EQ(0, pm_advance(self->fd, h, PM_PAGE));
	EXPECT_EQ(pins - 1, pm_pins());
	EXPECT_EQ(0, pm_unlock(self->fd, h));
}

/*
 * From buffer + 100 over 12 pages (13 spanned): to the next page boundary,
 * one byte on, 5000 bytes across a page, and all but the last byte. The
 * pages left behind are unpinned and uncharged at once, the PFNs are the
 * old ones from the new first page on, and UNLOCK unpins the rest.
 */
TEST_F(fam, advance_moves_the_start)
{
	const uint64_t steps[] = { PM_PAGE - 100, 1, 5000, 0 };
	char *start = self->buf + 100;
	uint64_t count = 12 * PM_PAGE, pfns[13], bytes, held = 13, n;
	long pins = pm_pins(), vmpin = pm_vmpin_kb(), released;
	struct pinmdl_query q;
	unsigned int i, k;
	uint32_t h;

	h = pm_create_locked(self->fd, start, count, PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	ASSERT_EQ(0, pm_pagemap_pfns(self->buf, 13, pfns));
	for (k = 0; k < 13; k++)
		ASSERT_NE(0, pfns[k]);
	expect_range(_metadata, self->fd, h, start, count, pfns);
	EXPECT_EQ(pins + 13, pm_pins());
	EXPECT_EQ(vmpin + 13 * (long)PM_PAGE / 1024, pm_vmpin_kb());
	for (i = 0; i < ARRAY_SIZE(steps); i++) {
		bytes = steps[i] ? steps[i] : count - 1;
		released = pins_released();
		ASSERT_EQ(0, pm_advance(self->fd, h, bytes));
		start += bytes;
		count -= bytes;
		n = spanned(start, count);
		expect_range(_metadata, self->fd, h, start, count,
			     pfns + (page_of(start) - self->buf) / PM_PAGE);
		EXPECT_EQ(pins + (long)n, pm_pins()) TH_LOG("step %u", i);
		EXPECT_EQ(released + (long)(held - n), pins_released());
		EXPECT_EQ(vmpin + (long)(n * PM_PAGE / 1024), pm_vmpin_kb());
		held = n;
	}
	ASSERT_EQ(0, pm_query(self->fd, h, &q, NULL, 0));
	EXPECT_EQ(PINMDL_F_PAGES_LOCKED | PINMDL_F_WRITE_OPERATION, q.flags);
	EXPECT_EQ(PINMDL_IO_WRITE_ACCESS, q.operation);
	EXPECT_EQ(1, q.byte_count);
	EXPECT_EQ(-EINVAL, pm_advance(self->fd, h, 1));
	EXPECT_EQ(0, pm_unlock(self->fd, h));
	EXPECT_EQ(pins, pm_pins());
	EXPECT_EQ(vmpin, pm_vmpin_kb());
}

/* Requests and PARTIAL count from the new start, and end at the old end. */
TEST_F(fam, advance_requests_use_the_new_start)
{
	char *start = self->buf + 100, *now = start + 5000;
	uint64_t count = 8 * PM_PAGE - 5000;
	struct pinmdl_submit s;
	uint32_t h, ro, part;

	h = pm_create_locked(self->fd, start, 8 * PM_PAGE,
			     PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	ASSERT_EQ(0, pm_advance(self->fd, h, 5000));
	ASSERT_EQ(0, pm_submit(self->fd, h, PINMDL_LOWER_CHECKSUM, 0, count, 0,
			       0, &s));
	EXPECT_EQ(pm_crc32c(now, count), s.result);
	ASSERT_EQ(0, pm_submit(self->fd, h, PINMDL_LOWER_CHECKSUM, 10, 100, 0,
			       0, &s));
	EXPECT_EQ(pm_crc32c(now + 10, 100), s.result);
	ASSERT_EQ(0, pm_submit(self->fd, h, PINMDL_LOWER_FILL, 0, 10, 0x3c, 0,
			       NULL));
	EXPECT_TRUE(is_pat(start, start, 5000, 0));
	EXPECT_EQ(0x3c, now[0]);
	EXPECT_EQ(0x3c, now[9]);
	EXPECT_TRUE(is_pat(now + 10, now + 10, count - 10, 0));
	EXPECT_EQ(-EINVAL, pm_submit(self->fd, h, PINMDL_LOWER_CHECKSUM, 0,
				     count + 1, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, pm_submit(self->fd, h, PINMDL_LOWER_CHECKSUM,
				     count - 1, 2, 0, 0, NULL));

	/* PARTIAL knows only the new range. */
	EXPECT_EQ(-EINVAL, pm_partial(self->fd, h, start, 1, NULL));
	EXPECT_EQ(-EINVAL, pm_partial(self->fd, h, now - 1, 2, NULL));
	ASSERT_EQ(0, pm_partial(self->fd, h, now, 0, &part));
	expect_range(_metadata, self->fd, part, now, count, NULL);
	EXPECT_EQ(0, pm_free(self->fd, part));
	EXPECT_EQ(0, pm_unlock(self->fd, h));

	/* A read lock stays one. */
	ro = pm_create_locked(self->fd, start, 8 * PM_PAGE,
			      PINMDL_IO_READ_ACCESS);
	ASSERT_NE(0, ro);
	ASSERT_EQ(0, pm_advance(self->fd, ro, 5000));
	ASSERT_EQ(0, pm_submit(self->fd, ro, PINMDL_LOWER_CHECKSUM, 0, count,
			       0, 0, &s));
	EXPECT_EQ(pm_crc32c(now, count), s.result);
	EXPECT_EQ(-EACCES, pm_submit(self->fd, ro, PINMDL_LOWER_FILL, 0, 1, 0,
				     0, NULL));
	EXPECT_EQ(0, pm_unlock(self->fd, ro));
}

/*
 * ADVANCE of a mapped descriptor is EBUSY; once unmapped it goes, and
 * takes the offset along: MAP_OFFSET again maps from the new first page.
 */
TEST_F(fam, advance_of_mapped_ebusy_then_revokes_offset)
{
	char *start = self->buf + 100, *m;
	uint64_t off, off2;
	uint32_t h;

	h = pm_create_locked(self->fd, start, 8 * PM_PAGE,
			     PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	ASSERT_EQ(0, pm_map_offset(self->fd, h, &off));
	m = umap(self->fd, off, 0, 9, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, m) TH_LOG("mmap: %s", strerror(errno));
	EXPECT_EQ(-EBUSY, pm_advance(self->fd, h, 5000));
	expect_range(_metadata, self->fd, h, start, 8 * PM_PAGE, NULL);
	ASSERT_EQ(0, munmap(m, 9 * PM_PAGE));
	ASSERT_EQ(0, pm_advance(self->fd, h, 5000));
	EXPECT_EQ(-EINVAL, umap_errno(self->fd, off, PM_PAGE, PROT_READ,
				      MAP_SHARED));

	/* From buffer + 5100: 8 pages from the buffer's second. */
	ASSERT_EQ(0, pm_map_offset(self->fd, h, &off2));
	EXPECT_EQ(0, off2 % PM_PAGE);
	EXPECT_EQ(-EINVAL, umap_errno(self->fd, off2, 9 * PM_PAGE, PROT_READ,
				      MAP_SHARED));
	m = umap(self->fd, off2, 0, 8, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, m) TH_LOG("mmap: %s", strerror(errno));
	EXPECT_EQ(0, memcmp(m, self->buf + PM_PAGE, 8 * PM_PAGE));
	EXPECT_TRUE(user_mapped(self->fd, h));
	EXPECT_EQ(0, munmap(m, 8 * PM_PAGE));
	EXPECT_EQ(0, pm_unlock(self->fd, h));
}

TEST_F(fam, reuse_errnos)
{
	char *start = self->buf + 10, *end = self->buf + self->len - 10;
	char *at = self->buf + 3 * PM_PAGE + 5;
	uint32_t p, p2, part, part2, unlocked;
	long pins;

	p = pm_create_locked(self->fd, start, end - start,
			     PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, p);
	p2 = pm_create_locked(self->fd, self->buf, 4 * PM_PAGE,
			      PINMDL_IO_READ_ACCESS);
	ASSERT_NE(0, p2);
	ASSERT_EQ(0, pm_create(self->fd, self->buf, PM_PAGE, &unlocked));
	ASSERT_EQ(0, pm_partial(self->fd, p, at, 2 * PM_PAGE, &part));
	ASSERT_EQ(0, pm_partial(self->fd, p2, self->buf, PM_PAGE, &part2));
	pins = pm_pins();

	EXPECT_EQ(-ENOENT, pm_partial_reuse(self->fd, p, 4242, at, 1));
	EXPECT_EQ(-ENOENT, pm_partial_reuse(self->fd, p, 0, at, 1));
	EXPECT_EQ(-ENOENT, pm_partial_reuse(self->fd, 4242, part, at, 1));
	EXPECT_EQ(-ENOENT, pm_partial_reuse(self->fd, 4242, 4243, at, 1));

	/* Not a partial descriptor. */
	EXPECT_EQ(-EINVAL, pm_partial_reuse(self->fd, p, p, at, 1));
	EXPECT_EQ(-EINVAL, pm_partial_reuse(self->fd, p, p2, at, 1));
	EXPECT_EQ(-EINVAL, pm_partial_reuse(self->fd, p, unlocked, at, 1));
	/* Not its parent, though the range is inside that one too. */
	EXPECT_EQ(-EINVAL, pm_partial_reuse(self->fd, p2, part, at, 1));
	EXPECT_EQ(-EINVAL, pm_partial_reuse(self->fd, p, part2, at, 1));
	EXPECT_EQ(-EINVAL, pm_partial_reuse(self->fd, part, part, at, 1));
	/* Outside the parent. */
	EXPECT_EQ(-EINVAL, pm_partial_reuse(self->fd, p, part, start - 1, 4));
	EXPECT_EQ(-EINVAL, pm_partial_reuse(self->fd, p, part, end - 1, 2));
	EXPECT_EQ(-EINVAL, pm_partial_reuse(self->fd, p, part, end, 0));
	EXPECT_EQ(-EINVAL, pm_partial_reuse(self->fd, p, part, at, ~0ULL));
	EXPECT_EQ(-EINVAL, pm_partial_reuse(self->fd, p, part, NULL, 1));
	EXPECT_EQ(-EFAULT, pm_ioctl(self->fd, PINMDL_IOC_PARTIAL_REUSE, NULL));

	/* The partial is what it was; the last byte is inside. */
	expect_range(_metadata, self->fd, part, at, 2 * PM_PAGE, NULL);
	EXPECT_EQ(pins, pm_pins());
	EXPECT_EQ(0, pm_partial_reuse(self->fd, p, part, end - 1, 1));
	EXPECT_EQ(0, pm_partial_reuse(self->fd, p, part, end - 1, 0));
	expect_range(_metadata, self->fd, part, end - 1, 1, NULL);
}

/*
 * The same handle describes the new range, over the parent's pages; the
 * parent, the pins and the number of descriptors are unchanged.
 */
TEST_F(fam, reuse_moves_the_partial)
{
	char *start = self->buf + 10, *end = self->buf + self->len - 10;
	struct {
		char *at;
		uint64_t len;
	} steps[] = {
		{ self->buf + 7 * PM_PAGE + 100, 3 * PM_PAGE },
		{ self->buf + 15 * PM_PAGE, 0 },
		{ start, 1 },
		{ start, 0 },
	};
	struct pinmdl_query q, parent, after;
	uint64_t ppfns[16], apfns[16], count;
	uint32_t p, part, p2, part2;
	struct pinmdl_submit s;
	long pins, live;
	unsigned int i;

	p = pm_create_locked(self->fd, start, end - start,
			     PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, p);
	ASSERT_EQ(0, pm_query(self->fd, p, &parent, ppfns, 16));
	ASSERT_EQ(0, pm_pagemap_pfns(self->buf, 16, apfns));
	ASSERT_EQ(0, memcmp(apfns, ppfns, sizeof(ppfns)));
	ASSERT_NE(0, ppfns[0]);
	ASSERT_EQ(0, pm_partial(self->fd, p, self->buf + 3 * PM_PAGE + 5,
				2 * PM_PAGE, &part));
	pins = pm_pins();
	live = pm_stat("descriptors_live");
	for (i = 0; i < ARRAY_SIZE(steps); i++) {
		count = steps[i].len ? steps[i].len : end - steps[i].at;
		ASSERT_EQ(0, pm_partial_reuse(self->fd, p, part, steps[i].at,
					      steps[i].len));
		expect_range(_metadata, self->fd, part, steps[i].at, count,
			     ppfns + (page_of(steps[i].at) - self->buf) /
				     PM_PAGE);
		ASSERT_EQ(0, pm_query(self->fd, part, &q, NULL, 0));
		EXPECT_EQ(PINMDL_F_PARTIAL | PINMDL_F_WRITE_OPERATION,
			  q.flags);
		EXPECT_EQ(PINMDL_IO_WRITE_ACCESS, q.operation);
		EXPECT_EQ(p, q.parent);
		/* Requests go to the new range. */
		ASSERT_EQ(0, pm_submit(self->fd, part, PINMDL_LOWER_CHECKSUM,
				       0, count, 0, 0, &s));
		EXPECT_EQ(pm_crc32c(steps[i].at, count), s.result);
		EXPECT_EQ(-EINVAL, pm_submit(self->fd, part,
					     PINMDL_LOWER_CHECKSUM, 0,
					     count + 1, 0, 0, NULL));
		EXPECT_EQ(pins, pm_pins());
		EXPECT_EQ(live, pm_stat("descriptors_live"));
	}
	ASSERT_EQ(0, pm_submit(self->fd, part, PINMDL_LOWER_FILL, 0, 3, 0x77,
			       0, NULL));
	EXPECT_EQ(0x77, start[2]);
	EXPECT_EQ(pat(start + 3, 0), start[3]);

	ASSERT_EQ(0, pm_query(self->fd, p, &after, apfns, 16));
	EXPECT_EQ(parent.flags, after.flags);
	EXPECT_EQ(parent.start_va, after.start_va);
	EXPECT_EQ(parent.byte_offset, after.byte_offset);
	EXPECT_EQ(parent.byte_count, after.byte_count);
	EXPECT_EQ(parent.page_count, after.page_count);
	EXPECT_EQ(0, memcmp(ppfns, apfns, sizeof(ppfns)));
	/* Still the parent's child. */
	EXPECT_EQ(-EBUSY, pm_unlock(self->fd, p));
	EXPECT_EQ(0, pm_free(self->fd, part));
	EXPECT_EQ(0, pm_unlock(self->fd, p));

	/* A partial of a read lock stays a read one. */
	p2 = pm_create_locked(self->fd, self->buf, 4 * PM_PAGE,
			      PINMDL_IO_READ_ACCESS);
	ASSERT_NE(0, p2);
	ASSERT_EQ(0, pm_partial(self->fd, p2, self->buf, 1, &part2));
	ASSERT_EQ(0, pm_partial_reuse(self->fd, p2, part2,
				      self->buf + PM_PAGE + 1, 2));
	ASSERT_EQ(0, pm_query(self->fd, part2, &q, NULL, 0));
	EXPECT_EQ(PINMDL_F_PARTIAL, q.flags);
	EXPECT_EQ(PINMDL_IO_READ_ACCESS, q.operation);
	EXPECT_EQ(1, q.byte_offset);
	EXPECT_EQ(2, q.byte_count);
}

/* PARTIAL_REUSE of a mapped partial is EBUSY; after it, the offset is gone. */
TEST_F(fam, reuse_of_mapped_ebusy_then_revokes_offset)
{
	char *at = self->buf + PM_PAGE + 7, *m;
	uint64_t off, off2;
	uint32_t p, part;

	p = pm_create_locked(self->fd, self->buf, 8 * PM_PAGE,
			     PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, p);
	ASSERT_EQ(0, pm_partial(self->fd, p, at, PM_PAGE, &part));
	ASSERT_EQ(0, pm_map_offset(self->fd, part, &off));
	m = umap(self->fd, off, 0, 2, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, m) TH_LOG("mmap: %s", strerror(errno));
	EXPECT_EQ(-EBUSY, pm_partial_reuse(self->fd, p, part,
					   self->buf + 4 * PM_PAGE, PM_PAGE));
	expect_range(_metadata, self->fd, part, at, PM_PAGE, NULL);
	ASSERT_EQ(0, munmap(m, 2 * PM_PAGE));
	ASSERT_EQ(0, pm_partial_reuse(self->fd, p, part,
				      self->buf + 4 * PM_PAGE, PM_PAGE));
	EXPECT_EQ(-EINVAL, umap_errno(self->fd, off, PM_PAGE, PROT_READ,
				      MAP_SHARED));
	ASSERT_EQ(0, pm_map_offset(self->fd, part, &off2));
	EXPECT_EQ(-EINVAL, umap_errno(self->fd, off2, 2 * PM_PAGE, PROT_READ,
				      MAP_SHARED));
	m = umap(self->fd, off2, 0, 1, PROT_READ);
	ASSERT_NE(NULL, m) TH_LOG("mmap: %s", strerror(errno));
	EXPECT_EQ(0, memcmp(m, self->buf + 4 * PM_PAGE, PM_PAGE));
	EXPECT_EQ(0, munmap(m, PM_PAGE));
	EXPECT_EQ(0, pm_free(self->fd, part));
	EXPECT_EQ(0, pm_unlock(self->fd, p));
}

/* A DELAY request holding a descriptor or a partial: EBUSY until it ends. */
TEST_F(fam, in_flight_ebusy)
{
	struct pinmdl_segment seg = { .length = PM_PAGE };
	struct pinmdl_completion c;
	struct pinmdl_query q;
	struct pinmdl_io io;
	uint32_t h, part;
	int t;

	t = pm_target_open(self->fd, LOWER, -1, NULL);
	ASSERT_LT(0, t);
	h = pm_create_locked(self->fd, self->buf, 8 * PM_PAGE,
			     PINMDL_IO_READ_ACCESS);
	ASSERT_NE(0, h);
	seg.handle = h;
	ASSERT_EQ(0, pm_io(self->fd, t, PINMDL_LOWER_DELAY, &seg, 1, 10000,
			   PINMDL_SUBMIT_ASYNC, &io));
	ASSERT_EQ(0, pm_query(self->fd, h, &q, NULL, 0));
	ASSERT_TRUE(q.flags & PINMDL_F_IN_FLIGHT);
	EXPECT_EQ(-EBUSY, pm_advance(self->fd, h, PM_PAGE));
	EXPECT_EQ(-EINVAL, pm_advance(self->fd, h, 0));
	EXPECT_EQ(0, pm_cancel(self->fd, io.request_id));
	ASSERT_EQ(0, pm_completion(self->fd, &c, 5000));
	EXPECT_EQ(-ECANCELED, c.status);
	EXPECT_EQ(0, pm_advance(self->fd, h, PM_PAGE));

	ASSERT_EQ(0, pm_partial(self->fd, h, self->buf + PM_PAGE, PM_PAGE,
				&part));
	seg.handle = part;
	ASSERT_EQ(0, pm_io(self->fd, t, PINMDL_LOWER_DELAY, &seg, 1, 10000,
			   PINMDL_SUBMIT_ASYNC, &io));
	ASSERT_EQ(0, pm_query(self->fd, part, &q, NULL, 0));
	ASSERT_TRUE(q.flags & PINMDL_F_IN_FLIGHT);
	EXPECT_EQ(-EBUSY, pm_partial_reuse(self->fd, h, part,
					   self->buf + 2 * PM_PAGE, PM_PAGE));
	expect_range(_metadata, self->fd, part, self->buf + PM_PAGE, PM_PAGE,
		     NULL);
	EXPECT_EQ(0, pm_cancel(self->fd, io.request_id));
	ASSERT_EQ(0, pm_completion(self->fd, &c, 5000));
	EXPECT_EQ(0, pm_partial_reuse(self->fd, h, part,
				      self->buf + 2 * PM_PAGE, PM_PAGE));
	EXPECT_EQ(0, pm_free(self->fd, part));
	EXPECT_EQ(0, pm_unlock(self->fd, h));
	EXPECT_EQ(0, pm_target_close(self->fd, t));
}

struct foreign {
	int fd;
	uint32_t parent;
	uint32_t part;
	char *buf;
};

/* Argument checks, then the handle, then the address space: EPERM. */
static int foreign_child(void *p)
{
	struct foreign *a = p;
	struct pinmdl_map m = { .handle = a->parent, .flags = 2 };
	struct pinmdl_advance adv = { .handle = a->parent, .flags = 1,
				      .bytes = 1 };
	uint32_t own;

	if (pm_ioctl(a->fd, PINMDL_IOC_MAP_OFFSET, &m) != -EINVAL ||
	    pm_ioctl(a->fd, PINMDL_IOC_ADVANCE, &adv) != -EINVAL ||
	    pm_advance(a->fd, a->parent, 0) != -EINVAL)
		return 1;
	if (pm_map_offset(a->fd, 4242, NULL) != -ENOENT ||
	    pm_advance(a->fd, 4242, 1) != -ENOENT ||
	    pm_partial_reuse(a->fd, 4242, a->part, a->buf, 1) != -ENOENT ||
	    pm_partial_reuse(a->fd, a->parent, 4242, a->buf, 1) != -ENOENT)
		return 2;
	/* EPERM before any state: the parent has a child, part is partial. */
	if (pm_map_offset(a->fd, a->parent, NULL) != -EPERM ||
	    pm_map_offset(a->fd, a->part, NULL) != -EPERM)
		return 3;
	if (pm_advance(a->fd, a->parent, 1) != -EPERM ||
	    pm_advance(a->fd, a->part, 1) != -EPERM)
		return 4;
	if (pm_partial_reuse(a->fd, a->parent, a->part, a->buf, 1) != -EPERM)
		return 5;
	/* Its own descriptors in the shared file are its own. */
	own = pm_create_locked(a->fd, a->buf, 2 * PM_PAGE,
			       PINMDL_IO_WRITE_ACCESS);
	if (!own || pm_advance(a->fd, own, PM_PAGE) ||
	    pm_map_offset(a->fd, own, NULL))
		return 6;
	return pm_unlock(a->fd, own) || pm_free(a->fd, own) ? 7 : 0;
}

TEST_F(fam, other_address_space_eperm)
{
	struct foreign a = { .fd = self->fd, .buf = self->buf };
	long pins;

	a.parent = pm_create_locked(self->fd, self->buf, 4 * PM_PAGE,
				    PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, a.parent);
	ASSERT_EQ(0, pm_partial(self->fd, a.parent, self->buf + 10, 20,
				&a.part));
	pins = pm_pins();
	EXPECT_EQ(0, pm_in_child(foreign_child, &a));
	expect_range(_metadata, self->fd, a.parent, self->buf, 4 * PM_PAGE,
		     NULL);
	expect_range(_metadata, self->fd, a.part, self->buf + 10, 20, NULL);
	EXPECT_EQ(pins, pm_pins());
}

TEST_F(fam, map_offset_errnos)
{
	struct pinmdl_map m = { .flags = 2 };
	uint64_t o1, o2, o3, o4;
	uint32_t h, h2, part, unlocked;

	h = pm_create_locked(self->fd, self->buf, 4 * PM_PAGE,
			     PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	ASSERT_EQ(0, pm_create(self->fd, self->buf, PM_PAGE, &unlocked));
	m.handle = h;
	EXPECT_EQ(-EINVAL, pm_ioctl(self->fd, PINMDL_IOC_MAP_OFFSET, &m));
	m.handle = 4242;
	EXPECT_EQ(-EINVAL, pm_ioctl(self->fd, PINMDL_IOC_MAP_OFFSET, &m));
	EXPECT_EQ(-ENOENT, pm_map_offset(self->fd, 4242, NULL));
	EXPECT_EQ(-ENOENT, pm_map_offset(self->fd, 0, NULL));
	EXPECT_EQ(-EINVAL, pm_map_offset(self->fd, unlocked, NULL));
	EXPECT_EQ(-EFAULT, pm_ioctl(self->fd, PINMDL_IOC_MAP_OFFSET, NULL));

	/* Page aligned, and the same while valid. */
	ASSERT_EQ(0, pm_map_offset(self->fd, h, &o1));
	ASSERT_EQ(0, pm_map_offset(self->fd, h, &o2));
	EXPECT_EQ(0, o1 % PM_PAGE);
	EXPECT_EQ(o1, o2);
	EXPECT_FALSE(user_mapped(self->fd, h));

	/* Other descriptors' windows do not overlap it. */
	h2 = pm_create_locked(self->fd, self->buf + 8 * PM_PAGE, PM_PAGE,
			      PINMDL_IO_READ_ACCESS);
	ASSERT_NE(0, h2);
	ASSERT_EQ(0, pm_partial(self->fd, h, self->buf + PM_PAGE, 1, &part));
	ASSERT_EQ(0, pm_map_offset(self->fd, h2, &o3));
	ASSERT_EQ(0, pm_map_offset(self->fd, part, &o4));
	EXPECT_EQ(0, o3 % PM_PAGE);
	EXPECT_EQ(0, o4 % PM_PAGE);
	EXPECT_TRUE(o3 >= o1 + 4 * PM_PAGE || o3 + PM_PAGE <= o1);
	EXPECT_TRUE(o4 >= o1 + 4 * PM_PAGE || o4 + PM_PAGE <= o1);
	EXPECT_NE(o3, o4);

	/* Unlocked, it has none. */
	EXPECT_EQ(0, pm_free(self->fd, part));
	ASSERT_EQ(0, pm_unlock(self->fd, h));
	EXPECT_EQ(-EINVAL, pm_map_offset(self->fd, h, NULL));
	EXPECT_EQ(0, pm_unlock(self->fd, h2));
}

TEST_F(fam, mmap_errnos)
{
	uint64_t off, roff, rpoff;
	uint32_t h, r, rp;
	int other;
	char *m;

	h = pm_create_locked(self->fd, self->buf + 100, 4 * PM_PAGE,
			     PINMDL_IO_WRITE_ACCESS);
	r = pm_create_locked(self->fd, self->buf + 8 * PM_PAGE, 2 * PM_PAGE,
			     PINMDL_IO_READ_ACCESS);
	ASSERT_NE(0, h);
	ASSERT_NE(0, r);
	ASSERT_EQ(0, pm_partial(self->fd, r, self->buf + 8 * PM_PAGE + 1, 10,
				&rp));
	ASSERT_EQ(0, pm_map_offset(self->fd, h, &off));
	ASSERT_EQ(0, pm_map_offset(self->fd, r, &roff));
	ASSERT_EQ(0, pm_map_offset(self->fd, rp, &rpoff));

	EXPECT_EQ(-EINVAL, umap_errno(self->fd, off, PM_PAGE, PROT_READ,
				      MAP_PRIVATE));
	EXPECT_EQ(-EINVAL, umap_errno(self->fd, off, PM_PAGE,
				      PROT_READ | PROT_WRITE, MAP_PRIVATE));
	/* Five pages spanned: page 4 is the last one. */
	EXPECT_EQ(0, umap_errno(self->fd, off, 5 * PM_PAGE, PROT_READ,
				MAP_SHARED));
	EXPECT_EQ(0, umap_errno(self->fd, off + 4 * PM_PAGE, PM_PAGE,
				PROT_READ, MAP_SHARED));
	EXPECT_EQ(-EINVAL, umap_errno(self->fd, off, 6 * PM_PAGE, PROT_READ,
				      MAP_SHARED));
	EXPECT_EQ(-EINVAL, umap_errno(self->fd, off + 4 * PM_PAGE,
				      2 * PM_PAGE, PROT_READ, MAP_SHARED));
	/* The last page of the offsets windows are given from: none. */
	EXPECT_EQ(-EINVAL, umap_errno(self->fd, 0xffffffffULL * PM_PAGE,
				      PM_PAGE, PROT_READ, MAP_SHARED));

	/* A file no MAP_OFFSET was called on has no offset at all. */
	other = pm_open();
	ASSERT_LE(0, other);
	EXPECT_EQ(-EINVAL, umap_errno(other, 0, PM_PAGE, PROT_READ,
				      MAP_SHARED));
	EXPECT_EQ(-EINVAL, umap_errno(other, off, PM_PAGE, PROT_READ,
				      MAP_SHARED));
	EXPECT_EQ(-EINVAL, umap_errno(other, roff, PM_PAGE, PROT_READ,
				      MAP_SHARED));
	close(other);

	/* A read lock and its partials map for reading only. */
	EXPECT_EQ(-EACCES, umap_errno(self->fd, roff, 2 * PM_PAGE,
				      PROT_READ | PROT_WRITE, MAP_SHARED));
	EXPECT_EQ(-EACCES, umap_errno(self->fd, roff + PM_PAGE, PM_PAGE,
				      PROT_WRITE, MAP_SHARED));
	EXPECT_EQ(-EACCES, umap_errno(self->fd, rpoff, PM_PAGE,
				      PROT_READ | PROT_WRITE, MAP_SHARED));
	EXPECT_EQ(0, umap_errno(self->fd, rpoff, PM_PAGE, PROT_READ,
				MAP_SHARED));
	m = umap(self->fd, roff, 0, 2, PROT_READ);
	ASSERT_NE(NULL, m) TH_LOG("mmap: %s", strerror(errno));
	EXPECT_EQ(-1, mprotect(m, 2 * PM_PAGE, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(-1, mprotect(m + PM_PAGE, PM_PAGE, PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(0, mprotect(m, 2 * PM_PAGE, PROT_NONE));
	EXPECT_EQ(0, mprotect(m, 2 * PM_PAGE, PROT_READ));
	EXPECT_EQ(0, memcmp(m, self->buf + 8 * PM_PAGE, 2 * PM_PAGE));
	EXPECT_EQ(0, munmap(m, 2 * PM_PAGE));
	EXPECT_EQ(0, pm_free(self->fd, rp));
	EXPECT_EQ(0, pm_unlock(self->fd, r));
	EXPECT_EQ(0, pm_unlock(self->fd, h));
}

/*
 * A file opened read-only maps shared and read-only: mmap(2) leaves such
 * a mapping VM_MAYSHARE without VM_SHARED, and the kernel itself refuses
 * PROT_WRITE (EACCES).
 */
TEST_F(fam, read_only_file_maps_shared)
{
	int fd = open("/dev/pinmdl", O_RDONLY | O_CLOEXEC);
	uint64_t off;
	uint32_t h;
	char *m;

	ASSERT_LE(0, fd);
	fill(self->buf, PM_PAGE, 5);
	h = pm_create_locked(fd, self->buf, PM_PAGE, PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	ASSERT_EQ(0, pm_map_offset(fd, h, &off));
	m = mmap(NULL, PM_PAGE, PROT_READ, MAP_SHARED, fd, off);
	ASSERT_NE(MAP_FAILED, m) TH_LOG("mmap: %s", strerror(errno));
	EXPECT_TRUE(is_pat(m, self->buf, PM_PAGE, 5));
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PM_PAGE, PROT_READ | PROT_WRITE,
				   MAP_SHARED, fd, off));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(0, munmap(m, PM_PAGE));
	EXPECT_EQ(0, pm_unlock(fd, h));
	close(fd);
}

/*
 * An offset retired by UNLOCK does not name the next descriptor's pages:
 * windows are given after the last one while there is room.
 */
TEST_F(fam, retired_offset_not_reused_at_once)
{
	uint64_t first, second;
	uint32_t a, b;

	a = pm_create_locked(self->fd, self->buf, PM_PAGE,
			     PINMDL_IO_READ_ACCESS);
	ASSERT_NE(0, a);
	ASSERT_EQ(0, pm_map_offset(self->fd, a, &first));
	ASSERT_EQ(0, pm_unlock(self->fd, a));
	b = pm_create_locked(self->fd, self->buf + PM_PAGE, PM_PAGE,
			     PINMDL_IO_READ_ACCESS);
	ASSERT_NE(0, b);
	ASSERT_EQ(0, pm_map_offset(self->fd, b, &second));
	EXPECT_NE(first, second);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PM_PAGE, PROT_READ, MAP_SHARED,
				   self->fd, first));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, pm_unlock(self->fd, b));
}

TEST_F(fam, user_mapped_flag)
{
	char *m1, *m2;
	uint64_t off;
	uint32_t h;

	h = pm_create_locked(self->fd, self->buf, 4 * PM_PAGE,
			     PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	ASSERT_EQ(0, pm_map_offset(self->fd, h, &off));
	EXPECT_FALSE(user_mapped(self->fd, h));
	m1 = umap(self->fd, off, 0, 4, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, m1) TH_LOG("mmap: %s", strerror(errno));
	EXPECT_TRUE(user_mapped(self->fd, h));
	m2 = umap(self->fd, off, 2, 1, PROT_READ);
	ASSERT_NE(NULL, m2) TH_LOG("mmap: %s", strerror(errno));
	EXPECT_EQ(0, memcmp(m2, self->buf + 2 * PM_PAGE, PM_PAGE));
	/* A hole, then the whole first mapping: the second one is left. */
	ASSERT_EQ(0, munmap(m1 + PM_PAGE, PM_PAGE));
	EXPECT_TRUE(user_mapped(self->fd, h));
	ASSERT_EQ(0, munmap(m1, 4 * PM_PAGE));
	EXPECT_TRUE(user_mapped(self->fd, h));
	ASSERT_EQ(0, munmap(m2, PM_PAGE));
	EXPECT_FALSE(user_mapped(self->fd, h));
	EXPECT_EQ(0, pm_unlock(self->fd, h));
}

/* A partial maps the parent's pages; its FREE takes them from the mapping. */
TEST_F(fam, partial_mapping_shows_parents_pages)
{
	char *at = self->buf + 3 * PM_PAGE + 50, *m, val = 0;
	uint64_t off;
	uint32_t p, part;

	p = pm_create_locked(self->fd, self->buf + 100, 10 * PM_PAGE,
			     PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, p);
	ASSERT_EQ(0, pm_partial(self->fd, p, at, 2 * PM_PAGE, &part));
	ASSERT_EQ(0, pm_map_offset(self->fd, part, &off));
	EXPECT_EQ(-EINVAL, umap_errno(self->fd, off, 4 * PM_PAGE, PROT_READ,
				      MAP_SHARED));
	m = umap(self->fd, off, 0, 3, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, m) TH_LOG("mmap: %s", strerror(errno));
	EXPECT_TRUE(user_mapped(self->fd, part));
	EXPECT_EQ(0, memcmp(m, self->buf + 3 * PM_PAGE, 3 * PM_PAGE));
	fill_at(m + 50, at, 2 * PM_PAGE, 9);
	EXPECT_TRUE(is_pat(at, at, 2 * PM_PAGE, 9));
	fill(at, 2 * PM_PAGE, 10);
	EXPECT_TRUE(is_pat(m + 50, at, 2 * PM_PAGE, 10));

	EXPECT_EQ(-EBUSY, pm_unlock(self->fd, p));
	ASSERT_EQ(0, pm_free(self->fd, part));
	EXPECT_EQ(SIGBUS, probe(m + 50, false, &val));
	EXPECT_EQ(SIGBUS, probe(m + 2 * PM_PAGE, true, &val));
	EXPECT_TRUE(is_pat(at, at, 2 * PM_PAGE, 10));
	EXPECT_EQ(0, munmap(m, 3 * PM_PAGE));
	EXPECT_EQ(0, pm_unlock(self->fd, p));
}

struct inherit {
	int fd;
	uint64_t off;
	char *buf;
};

static int inherit_child(void *p)
{
	struct inherit *a = p;
	char *m = umap(a->fd, a->off, 0, 7, PROT_READ | PROT_WRITE);

	if (!m)
		return 1;
	/* The parent's pages: what its buffer held when it forked. */
	if (memcmp(m, a->buf, 7 * PM_PAGE))
		return 2;
	fill_at(m + 100, a->buf + 100, 6 * PM_PAGE, 5);
	return 0;
}

/* A forked child maps with the fd and offset it inherited. */
TEST_F(fam, forked_child_maps_inherited_fd)
{
	struct inherit a = { .fd = self->fd, .buf = self->buf };
	uint32_t h;

	h = pm_create_locked(self->fd, self->buf + 100, 6 * PM_PAGE,
			     PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	ASSERT_EQ(0, pm_map_offset(self->fd, h, &a.off));
	EXPECT_EQ(0, pm_in_child(inherit_child, &a));
	/* Its writes went to the parent's pages; its mapping went with it. */
	EXPECT_TRUE(is_pat(self->buf + 100, self->buf + 100, 6 * PM_PAGE, 5));
	EXPECT_TRUE(is_pat(self->buf, self->buf, 100, 0));
	EXPECT_FALSE(user_mapped(self->fd, h));
	EXPECT_EQ(0, pm_unlock(self->fd, h));
}

/*
 * A process that never held the file but received it by SCM_RIGHTS,
 * driven by the owner over the same socket.
 */
enum rx_op { RX_MAP, RX_CLOSE, RX_CHECK, RX_UNMAP, RX_SPIN };

struct rx_cmd {
	enum rx_op op;
	uint32_t handle;
	uint64_t offset;	/* the mmap(2) offset */
	uint64_t pages;		/* pages to map */
	uint64_t first;		/* the descriptor's first byte: map + first */
	uint64_t count;		/* its length */
	uint64_t key;		/* its address in the owner */
	unsigned int seed;	/* the pattern it should hold */
};

static int send_cmd(int sock, const struct rx_cmd *c, int fd)
{
	char ctl[CMSG_SPACE(sizeof(int))] = {};
	struct iovec iov = { .iov_base = (void *)c, .iov_len = sizeof(*c) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;

	if (fd >= 0) {
		mh.msg_control = ctl;
		mh.msg_controllen = sizeof(ctl);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	return sendmsg(sock, &mh, 0) == sizeof(*c) ? 0 : -1;
}

/*
 * The next command into *@c, and the fd sent with it into *@fd (or -1):
 * 0, 1 at the end of the stream, or -1.
 */
static int recv_cmd(int sock, struct rx_cmd *c, int *fd)
{
	char ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = c, .iov_len = sizeof(*c) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctl,
			     .msg_controllen = sizeof(ctl) };
	struct cmsghdr *cm;
	ssize_t n = recvmsg(sock, &mh, 0);

	if (n != sizeof(*c))
		return n ? -1 : 1;
	*fd = -1;
	cm = CMSG_FIRSTHDR(&mh);
	if (cm && cm->cmsg_type == SCM_RIGHTS)
		memcpy(fd, CMSG_DATA(cm), sizeof(int));
	return 0;
}

static int reply(int sock, int answer)
{
	return write(sock, &answer, sizeof(answer)) == sizeof(answer) ? 0 : -1;
}

/* The receiver: map, close, check, unmap, or read until the mapping goes. */
static int receiver(int sock)
{
	struct rx_cmd c;
	char *map = NULL;
	int fd = -1, rfd, answer, ret;
	bool replied = false;

	for (;;) {
		ret = recv_cmd(sock, &c, &rfd);
		if (ret)
			return ret < 0 ? 100 : 0;
		answer = 0;
		switch (c.op) {
		case RX_MAP:
			fd = rfd;
			/* MAP_OFFSET is the owner's to call, not its. */
			if (fd < 0 ||
			    pm_map_offset(fd, c.handle, NULL) != -EPERM)
				return 101;
			map = umap(fd, c.offset, 0, c.pages, PROT_READ);
			answer = map ? 0 : errno;
			break;
		case RX_CLOSE:
			answer = close(fd) ? errno : 0;
			break;
		case RX_CHECK:
			answer = !is_pat(map + c.first, (char *)c.key, c.count,
					 c.seed);
			break;
		case RX_UNMAP:
			answer = munmap(map, c.pages * PM_PAGE) ? errno : 0;
			break;
		case RX_SPIN:
			/* Only ever the first pattern, until SIGBUS. */
			for (;;) {
				if (!is_pat(map + c.first, (char *)c.key,
					    c.count, c.seed))
					_exit(3);
				if (!replied && reply(sock, 0))
					_exit(102);
				replied = true;
			}
		}
		if (reply(sock, answer))
			return 102;
	}
}

/* Fork the receiver; close @close_fd in it. Its socket into *@sock. */
static pid_t start_receiver(int close_fd, int *sock)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -1;
	pid = fork();
	if (!pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(sv[0]);
		close(close_fd);
		_exit(receiver(sv[1]));
	}
	close(sv[1]);
	*sock = sv[0];
	return pid;
}

/* Send @c (with @fd if not -1); the receiver's answer, or -1. */
static int rx(int sock, enum rx_op op, struct rx_cmd *c, int fd)
{
	int answer;

	c->op = op;
	if (send_cmd(sock, c, fd) ||
	    read(sock, &answer, sizeof(answer)) != sizeof(answer))
		return -1;
	return answer;
}

/* Wait at most @ms for @pid to end: its status, or -1 (then it is killed). */
static int wait_for(pid_t pid, int ms)
{
	int status, waited;

	for (waited = 0; waited < ms; waited += 10) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

/*
 * The receiver maps the owner's buffer and sees each of its writes, with
 * the fd it received, after it closed it, and after the owner closed its
 * own too: then the mapping alone holds the file, and its munmap releases
 * the lock.
 */
TEST_F(fam, scm_rights_receiver_reads_owner_writes)
{
	char *start = self->buf + 100;
	long leaks = pm_stat("leaks_released");
	struct rx_cmd c = { .first = 100, .count = 5 * PM_PAGE,
			    .key = (uintptr_t)start, .pages = 6 };
	int sock, status;
	unsigned int r;
	pid_t pid;

	c.handle = pm_create_locked(self->fd, start, c.count,
				    PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, c.handle);
	ASSERT_EQ(0, pm_map_offset(self->fd, c.handle, &c.offset));
	pid = start_receiver(self->fd, &sock);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, rx(sock, RX_MAP, &c, self->fd));
	/* Mapped by the other process only. */
	EXPECT_TRUE(user_mapped(self->fd, c.handle));
	for (r = 1; r <= 6; r++) {
		if (r == 3)
			ASSERT_EQ(0, rx(sock, RX_CLOSE, &c, -1));
		if (r == 5) {
			close(self->fd);
			self->fd = -1;
		}
		fill(start, c.count, r);
		c.seed = r;
		EXPECT_EQ(0, rx(sock, RX_CHECK, &c, -1)) TH_LOG("round %u", r);
	}
	EXPECT_EQ(self->pins + 6, pm_pins());
	/* The last reference to the file goes: the lock is released. */
	ASSERT_EQ(0, rx(sock, RX_UNMAP, &c, -1));
	EXPECT_EQ(self->pins, pm_pins());
	EXPECT_EQ(leaks + 1, pm_stat("leaks_released"));
	close(sock);
	status = wait_for(pid, 10000);
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
		TH_LOG("receiver status %#x", status);
}

/*
 * UNLOCK while the receiver reads through its mapping in a loop: it ends
 * by SIGBUS, without a hang, and never sees what the owner writes into
 * its buffer after UNLOCK, nor the pages that buffer gets afterwards.
 */
TEST_F(fam, unlock_revokes_a_readers_mapping)
{
	char *start = self->buf + 100;
	struct rx_cmd c = { .first = 100, .count = 5 * PM_PAGE,
			    .key = (uintptr_t)start, .pages = 6, .seed = 1 };
	int sock, status;
	pid_t pid;

	fill(start, c.count, 1);
	c.handle = pm_create_locked(self->fd, start, c.count,
				    PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, c.handle);
	ASSERT_EQ(0, pm_map_offset(self->fd, c.handle, &c.offset));
	pid = start_receiver(self->fd, &sock);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, rx(sock, RX_MAP, &c, self->fd));
	ASSERT_EQ(0, rx(sock, RX_CLOSE, &c, -1));
	/* Its first pass is done; let it go round a few more. */
	ASSERT_EQ(0, rx(sock, RX_SPIN, &c, -1));
	usleep(20000);
	EXPECT_EQ(0, pm_unlock(self->fd, c.handle));
	fill(start, c.count, 2);
	ASSERT_EQ(0, madvise(self->buf, self->len, MADV_DONTNEED));
	fill(start, c.count, 3);
	status = wait_for(pid, 10000);
	EXPECT_NE(-1, status) TH_LOG("the reader hung");
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS)
		TH_LOG("reader status %#x (exit 3: it read stale data)",
		       status);
	close(sock);
	EXPECT_EQ(0, pm_free(self->fd, c.handle));
}

/*
 * A mapping UNLOCK emptied stays empty: the same descriptor locked and
 * mapped again, or a new one on the same pages, fill only new mappings.
 */
TEST_F(fam, revoked_mapping_stays_empty)
{
	char *old, *m, val = 0;
	uint64_t off;
	uint32_t h, h2;

	h = pm_create_locked(self->fd, self->buf, 2 * PM_PAGE,
			     PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	ASSERT_EQ(0, pm_map_offset(self->fd, h, &off));
	old = umap(self->fd, off, 0, 2, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, old) TH_LOG("mmap: %s", strerror(errno));
	ASSERT_EQ(0, pm_unlock(self->fd, h));
	ASSERT_EQ(0, pm_lock(self->fd, h, PINMDL_IO_WRITE_ACCESS));
	ASSERT_EQ(0, pm_map_offset(self->fd, h, &off));
	m = umap(self->fd, off, 0, 2, PROT_READ);
	ASSERT_NE(NULL, m) TH_LOG("mmap: %s", strerror(errno));
	EXPECT_EQ(0, memcmp(m, self->buf, 2 * PM_PAGE));
	EXPECT_EQ(SIGBUS, probe(old, false, &val));
	EXPECT_EQ(SIGBUS, probe(old + PM_PAGE, true, &val));
	EXPECT_EQ(0, munmap(m, 2 * PM_PAGE));

	ASSERT_EQ(0, pm_unlock(self->fd, h));
	ASSERT_EQ(0, pm_free(self->fd, h));
	h2 = pm_create_locked(self->fd, self->buf, 2 * PM_PAGE,
			      PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h2);
	ASSERT_EQ(0, pm_map_offset(self->fd, h2, &off));
	m = umap(self->fd, off, 0, 2, PROT_READ);
	ASSERT_NE(NULL, m) TH_LOG("mmap: %s", strerror(errno));
	EXPECT_EQ(SIGBUS, probe(old, false, &val));
	EXPECT_EQ(0, probe(m, false, &val));
	EXPECT_EQ(self->buf[0], val);
	EXPECT_EQ(0, munmap(m, 2 * PM_PAGE));
	EXPECT_EQ(0, munmap(old, 2 * PM_PAGE));
	EXPECT_EQ(0, pm_unlock(self->fd, h2));
}

/* The mapping is VM_PFNMAP: nothing pins through it. */
TEST_F(fam, mapping_is_pfnmap)
{
	char tmp[64], *m;
	struct iovec local = { .iov_base = tmp, .iov_len = sizeof(tmp) };
	struct iovec remote = { .iov_len = sizeof(tmp) };
	uint32_t h, h2;
	uint64_t off;
	long pins;

	h = pm_create_locked(self->fd, self->buf, 4 * PM_PAGE,
			     PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	ASSERT_EQ(0, pm_map_offset(self->fd, h, &off));
	m = umap(self->fd, off, 0, 4, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, m) TH_LOG("mmap: %s", strerror(errno));
	pins = pm_pins();
	ASSERT_EQ(0, pm_create(self->fd, m + 10, 3 * PM_PAGE, &h2));
	EXPECT_EQ(-EFAULT, pm_lock(self->fd, h2, PINMDL_IO_READ_ACCESS));
	EXPECT_EQ(-EFAULT, pm_lock(self->fd, h2, PINMDL_IO_WRITE_ACCESS));
	EXPECT_EQ(pins, pm_pins());
	EXPECT_EQ(0, pm_free(self->fd, h2));
	remote.iov_base = m + 10;
	EXPECT_EQ(-1, process_vm_readv(getpid(), &local, 1, &remote, 1, 0));
	EXPECT_EQ(EFAULT, errno);
	/* Loads and stores go through it all the same. */
	EXPECT_EQ(0, memcmp(m, self->buf, 4 * PM_PAGE));
	EXPECT_EQ(0, munmap(m, 4 * PM_PAGE));
	EXPECT_EQ(0, pm_unlock(self->fd, h));
}

/*
 * A seeded fuzzer of MAP_OFFSET, ADVANCE, PARTIAL_REUSE, mmap(2),
 * mprotect(2), munmap(2) and loads and stores through the mappings, against
 * four locked parents (a partial each on the first two) whose model says
 * what every call must answer. The buffer never changes, so a load through
 * a mapping must give the byte of the buffer it maps, until UNLOCK or FREE
 * of a partial revoke it: then SIGBUS. A forked child first meets EPERM.
 */
#define FZ_REGION	6	/* pages of the buffer each parent lives in */
#define FZ_PARENTS	4
#define FZ_SLOTS	6	/* the parents, then partials of parents 0, 1 */
#define FZ_MAPS		12
#define FZ_SEED		0x5a
#define FZ_UNLOCKED	-1	/* a descriptor never locked */
#define FZ_UNKNOWN	-2	/* a handle that is no descriptor */

struct fz_desc {
	uint32_t h;
	uint32_t op;
	char *start;
	uint64_t count;
	uint64_t off;		/* MAP_OFFSET's answer, if has_off */
	bool has_off;
};

struct fz_map {
	char *addr;		/* NULL: a free entry */
	size_t len;
	int prot;
	uint32_t h;		/* the descriptor mapped */
	bool ro;		/* of a read lock */
	char *va;		/* the buffer address of its first byte */
	bool revoked;
};

struct fz {
	int fd;
	char *buf;
	uint64_t s;
	struct fz_desc d[FZ_SLOTS];
	uint32_t unlocked;
	struct fz_map m[FZ_MAPS];
	unsigned long calls, bad, mapped, moved, revoked_loads;
};

static uint64_t fz_rnd(struct fz *f)
{
	f->s ^= f->s << 13;
	f->s ^= f->s >> 7;
	f->s ^= f->s << 17;
	return f->s;
}

/* One call answered @ret: it must be @a, @b or @c. */
static void fz_expect(struct fz *f, const char *what, int ret, int a, int b,
		      int c)
{
	f->calls++;
	if (ret == a || ret == b || ret == c)
		return;
	if (f->bad++ < 10)
		fprintf(stderr, "# call %lu: %s: %d, not %d/%d/%d\n",
			f->calls, what, ret, a, b, c);
}

static void fz_fail(struct fz *f, const char *what)
{
	fz_expect(f, what, 1, 0, 0, 0);
}

static uint64_t fz_pages(const struct fz_desc *d)
{
	return spanned(d->start, d->count);
}

/* A slot, now and then the never locked descriptor or an unknown handle. */
static int fz_slot(struct fz *f)
{
	switch (fz_rnd(f) % 10) {
	case 0:
		return FZ_UNLOCKED;
	case 1:
		return FZ_UNKNOWN;
	default:
		return fz_rnd(f) % FZ_SLOTS;
	}
}

static uint32_t fz_handle(struct fz *f, int slot)
{
	if (slot == FZ_UNLOCKED)
		return f->unlocked;
	if (slot == FZ_UNKNOWN)
		return fz_rnd(f) % 2 ? 0 : 0x80000000u | (uint32_t)fz_rnd(f);
	return f->d[slot].h;
}

static bool fz_mapped(struct fz *f, uint32_t h)
{
	int i;

	for (i = 0; i < FZ_MAPS; i++)
		if (f->m[i].addr && f->m[i].h == h && !f->m[i].revoked)
			return true;
	return false;
}

static void fz_revoke(struct fz *f, uint32_t h)
{
	int i;

	for (i = 0; i < FZ_MAPS; i++)
		if (f->m[i].addr && f->m[i].h == h)
			f->m[i].revoked = true;
}

/* QUERY of a slot says what the model says. */
static void fz_check(struct fz *f, int slot)
{
	struct fz_desc *d = &f->d[slot];
	struct pinmdl_query q;

	fz_expect(f, "QUERY", pm_query(f->fd, d->h, &q, NULL, 0), 0, 0, 0);
	if (q.start_va != (uintptr_t)page_of(d->start) ||
	    q.byte_offset != ((uintptr_t)d->start & (PM_PAGE - 1)) ||
	    q.byte_count != d->count || q.page_count != fz_pages(d))
		fz_fail(f, "QUERY's range");
	if (!(q.flags & PINMDL_F_USER_MAPPED) != !fz_mapped(f, d->h))
		fz_fail(f, "QUERY's USER_MAPPED");
}

static void fz_new_parent(struct fz *f, int p)
{
	struct fz_desc *d = &f->d[p];

	d->start = f->buf + p * FZ_REGION * PM_PAGE + fz_rnd(f) % PM_PAGE;
	d->count = 1 + fz_rnd(f) % ((FZ_REGION - 1) * PM_PAGE);
	d->op = fz_rnd(f) % 3;
	d->has_off = false;
	d->h = pm_create_locked(f->fd, d->start, d->count, d->op);
	if (!d->h)
		fz_fail(f, "LOCK");
}

static void fz_new_partial(struct fz *f, int slot)
{
	struct fz_desc *d = &f->d[slot], *p = &f->d[slot - FZ_PARENTS];
	uint64_t at = fz_rnd(f) % p->count, len = 0;

	if (fz_rnd(f) % 4)
		len = 1 + fz_rnd(f) % (p->count - at);
	d->start = p->start + at;
	d->count = len ? len : p->count - at;
	d->op = p->op;
	d->has_off = false;
	fz_expect(f, "PARTIAL", pm_partial(f->fd, p->h, d->start, len, &d->h),
		  0, 0, 0);
}

/* UNLOCK and FREE a parent (and its partial), then lock another. */
static void fz_cycle(struct fz *f)
{
	int p = fz_rnd(f) % FZ_PARENTS, part = p + FZ_PARENTS;

	if (part < FZ_SLOTS) {
		fz_expect(f, "FREE", pm_free(f->fd, f->d[part].h), 0, 0, 0);
		fz_revoke(f, f->d[part].h);
	}
	fz_expect(f, "UNLOCK", pm_unlock(f->fd, f->d[p].h), 0, 0, 0);
	fz_revoke(f, f->d[p].h);
	fz_expect(f, "FREE", pm_free(f->fd, f->d[p].h), 0, 0, 0);
	fz_new_parent(f, p);
	if (part < FZ_SLOTS)
		fz_new_partial(f, part);
}

/* MAP_OFFSET of a slot that has none yet, or of anything. */
static void fz_map_offset(struct fz *f, int slot)
{
	struct pinmdl_map m = { .handle = fz_handle(f, slot) };
	struct fz_desc *d = slot >= 0 ? &f->d[slot] : NULL;
	int want, ret, i;

	if (!(fz_rnd(f) % 8))
		m.flags = (uint32_t)fz_rnd(f) | 2;
	want = m.flags || slot == FZ_UNLOCKED ? -EINVAL :
	       slot == FZ_UNKNOWN ? -ENOENT : 0;
	ret = pm_ioctl(f->fd, PINMDL_IOC_MAP_OFFSET, &m);
	fz_expect(f, "MAP_OFFSET", ret, want, want, want);
	if (ret || !d)
		return;
	if (m.offset % PM_PAGE || (d->has_off && m.offset != d->off))
		fz_fail(f, "MAP_OFFSET's offset");
	/* No other valid window overlaps it. */
	for (i = 0; i < FZ_SLOTS; i++)
		if (i != slot && f->d[i].has_off &&
		    f->d[i].off < m.offset + fz_pages(d) * PM_PAGE &&
		    m.offset < f->d[i].off + fz_pages(&f->d[i]) * PM_PAGE)
			fz_fail(f, "MAP_OFFSET's window");
	d->off = m.offset;
	d->has_off = true;
}

static void fz_advance(struct fz *f)
{
	int slot = fz_slot(f), a, b;
	struct pinmdl_advance adv = { .handle = fz_handle(f, slot) };
	struct fz_desc *d = slot >= 0 ? &f->d[slot] : NULL;
	uint64_t count = d ? d->count : PM_PAGE;
	bool busy = false;
	int ret;

	switch (fz_rnd(f) % 6) {
	case 0:
		adv.bytes = 0;
		break;
	case 1:
		adv.bytes = count - 1;
		break;
	case 2:
		adv.bytes = count;
		break;
	case 3:
		adv.bytes = fz_rnd(f);
		break;
	default:
		adv.bytes = 1 + fz_rnd(f) % count;
		break;
	}
	if (!(fz_rnd(f) % 8))
		adv.flags = (uint32_t)fz_rnd(f) | 1;
	if (adv.flags || !adv.bytes || slot == FZ_UNLOCKED) {
		a = -EINVAL;
	} else if (slot == FZ_UNKNOWN) {
		a = -ENOENT;
	} else {
		/* The first two parents always have a partial. */
		busy = slot < 2 || fz_mapped(f, d->h);
		a = slot >= FZ_PARENTS || adv.bytes >= count ? -EINVAL :
		    busy ? -EBUSY : 0;
	}
	/* Which state error comes first is not said: either will do. */
	b = busy ? -EBUSY : a;
	ret = pm_ioctl(f->fd, PINMDL_IOC_ADVANCE, &adv);
	fz_expect(f, "ADVANCE", ret, a, b, a);
	if (ret || a)
		return;
	d->start += adv.bytes;
	d->count -= adv.bytes;
	d->has_off = false;
	f->moved++;
	fz_check(f, slot);
}

static void fz_reuse(struct fz *f)
{
	int hs = fz_rnd(f) % 4 ? FZ_PARENTS + fz_rnd(f) % 2 : fz_slot(f);
	int ps = hs >= FZ_PARENTS && fz_rnd(f) % 8 ? hs - FZ_PARENTS :
						     fz_slot(f);
	struct pinmdl_partial r = { .parent = fz_handle(f, ps),
				    .handle = fz_handle(f, hs) };
	struct fz_desc *p = &f->d[ps >= 0 ? ps : 0];
	char *end = p->start + p->count, *at;
	bool inside;
	int a, b, ret;

	if (fz_rnd(f) % 4) {
		at = p->start + fz_rnd(f) % p->count;
		r.length = fz_rnd(f) % 3 ? 0 : 1 + fz_rnd(f) % (end - at);
	} else {
		at = f->buf + fz_rnd(f) % (FZ_PARENTS * FZ_REGION * PM_PAGE);
		r.length = fz_rnd(f) % 2 ? fz_rnd(f) % (2 * PM_PAGE) :
					   fz_rnd(f);
	}
	r.addr = (uintptr_t)at;
	inside = at >= p->start && at < end &&
		 r.length <= (uint64_t)(end - at);
	if (hs == FZ_UNKNOWN || ps == FZ_UNKNOWN)
		a = -ENOENT;
	else if (hs < FZ_PARENTS || ps != hs - FZ_PARENTS)
		a = -EINVAL;
	else if (fz_mapped(f, r.handle))
		a = -EBUSY;
	else
		a = inside ? 0 : -EINVAL;
	/* Mapped and outside: which comes first is not said. */
	b = a == -EBUSY && !inside ? -EINVAL : a;
	ret = pm_ioctl(f->fd, PINMDL_IOC_PARTIAL_REUSE, &r);
	fz_expect(f, "PARTIAL_REUSE", ret, a, b, a);
	if (ret || a)
		return;
	f->d[hs].start = at;
	f->d[hs].count = r.length ? r.length : (uint64_t)(end - at);
	f->d[hs].has_off = false;
	f->moved++;
	fz_check(f, hs);
}

/* A load (and a store of the same byte) through mapping @i. */
static void fz_touch(struct fz *f, int i)
{
	struct fz_map *m = &f->m[i];
	size_t x = fz_rnd(f) % m->len;
	char val = 0;
	int want = m->revoked ? SIGBUS : 0;

	if (!(m->prot & PROT_READ))
		return;
	fz_expect(f, "load", probe(m->addr + x, false, &val), want, want,
		  want);
	if (m->revoked) {
		f->revoked_loads++;
		return;
	}
	if (val != pat(m->va + x, FZ_SEED))
		fz_fail(f, "the byte loaded");
	if (m->prot & PROT_WRITE)
		fz_expect(f, "store", probe(m->addr + x, true, &val), 0, 0, 0);
}

/* munmap(2) mapping @i, or sometimes only its first page. */
static void fz_munmap(struct fz *f, int i, bool whole)
{
	struct fz_map *m = &f->m[i];

	if (!whole && m->len > PM_PAGE && fz_rnd(f) % 2) {
		fz_expect(f, "munmap", munmap(m->addr, PM_PAGE), 0, 0, 0);
		m->addr += PM_PAGE;
		m->va += PM_PAGE;
		m->len -= PM_PAGE;
		return;
	}
	fz_expect(f, "munmap", munmap(m->addr, m->len), 0, 0, 0);
	m->addr = NULL;
}

static void fz_mmap(struct fz *f)
{
	static const int prots[] = { PROT_READ, PROT_READ | PROT_WRITE,
				     PROT_WRITE, PROT_NONE };
	int slot = fz_rnd(f) % FZ_SLOTS, prot, flags = MAP_SHARED, w = -1;
	int i, a, b;
	struct fz_desc *d = &f->d[slot];
	uint64_t off, k = 0, pages;
	size_t len;
	char *p;

	if (!d->has_off)
		fz_map_offset(f, slot);
	if (!d->has_off)
		return;
	if (fz_rnd(f) % 8)
		off = d->off + fz_rnd(f) % (fz_pages(d) + 2) * PM_PAGE;
	else
		off = fz_rnd(f) % (1ULL << 44) & ~(PM_PAGE - 1);
	len = 1 + fz_rnd(f) % ((fz_pages(d) + 1) * PM_PAGE);
	pages = (len + PM_PAGE - 1) / PM_PAGE;
	prot = prots[fz_rnd(f) % ARRAY_SIZE(prots)];
	if (!(fz_rnd(f) % 10))
		flags = MAP_PRIVATE;
	/* The window the offset falls in, if any. */
	for (i = 0; i < FZ_SLOTS; i++)
		if (f->d[i].has_off && off >= f->d[i].off &&
		    off < f->d[i].off + fz_pages(&f->d[i]) * PM_PAGE)
			w = i;
	if (w >= 0)
		k = (off - f->d[w].off) / PM_PAGE;
	a = flags != MAP_SHARED || w < 0 ||
	    k + pages > fz_pages(&f->d[w]) ? -EINVAL : 0;
	b = w >= 0 && (prot & PROT_WRITE) &&
	    f->d[w].op == PINMDL_IO_READ_ACCESS ? -EACCES : a;
	if (!a)
		a = b;
	p = mmap(NULL, len, prot, flags, f->fd, off);
	fz_expect(f, "mmap", p == MAP_FAILED ? -errno : 0, a, b, a);
	if (p == MAP_FAILED)
		return;
	if (a || b) {
		munmap(p, len);
		return;
	}
	for (i = 0; i < FZ_MAPS && f->m[i].addr; i++)
		;
	if (i == FZ_MAPS) {
		i = fz_rnd(f) % FZ_MAPS;
		fz_munmap(f, i, true);
	}
	f->m[i] = (struct fz_map){
		.addr = p, .len = pages * PM_PAGE, .prot = prot,
		.h = f->d[w].h, .ro = f->d[w].op == PINMDL_IO_READ_ACCESS,
		.va = page_of(f->d[w].start) + k * PM_PAGE,
	};
	f->mapped++;
	fz_touch(f, i);
}

static void fz_mprotect(struct fz *f, int i)
{
	static const int prots[] = { PROT_READ, PROT_READ | PROT_WRITE,
				     PROT_NONE };
	int prot = prots[fz_rnd(f) % ARRAY_SIZE(prots)], ret, want;
	struct fz_map *m = &f->m[i];

	want = (prot & PROT_WRITE) && m->ro ? -EACCES : 0;
	ret = mprotect(m->addr, m->len, prot) ? -errno : 0;
	/* A revoked mapping may refuse a write it no longer has pages for. */
	fz_expect(f, "mprotect", ret, want, m->revoked ? -EACCES : want,
		  want);
	if (!ret)
		m->prot = prot;
}

/* Some mapping in use, or -1. */
static int fz_some_map(struct fz *f)
{
	int i = fz_rnd(f) % FZ_MAPS, n;

	for (n = 0; n < FZ_MAPS; n++, i = (i + 1) % FZ_MAPS)
		if (f->m[i].addr)
			return i;
	return -1;
}

/* In a forked child: the parent's descriptors, any argument, never 0. */
static int fz_foreign(void *p)
{
	struct fz *f = p;
	int i, slot, want, ret;
	uint64_t bytes;
	uint32_t h;

	for (i = 0; i < 300; i++) {
		slot = fz_rnd(f) % 8 ? (int)(fz_rnd(f) % FZ_SLOTS) : FZ_UNKNOWN;
		h = fz_handle(f, slot);
		want = slot == FZ_UNKNOWN ? -ENOENT : -EPERM;
		switch (fz_rnd(f) % 3) {
		case 0:
			ret = pm_map_offset(f->fd, h, NULL);
			break;
		case 1:
			bytes = fz_rnd(f) % 4;
			ret = pm_advance(f->fd, h, bytes);
			if (!bytes)
				want = -EINVAL;
			break;
		default:
			ret = pm_partial_reuse(f->fd, f->d[0].h, h,
					       f->d[0].start, 0);
			break;
		}
		fz_expect(f, "in a child", ret, want, want, want);
	}
	return f->bad ? 1 : 0;
}

TEST_F_TIMEOUT(fam, fuzz, 120)
{
	const char *env_seed = getenv("PINMDL_FAMILY_SEED");
	const char *env_calls = getenv("PINMDL_FAMILY_CALLS");
	unsigned long n = env_calls ? strtoul(env_calls, NULL, 0) : 4000, i;
	struct fz f = { .fd = self->fd };
	unsigned long long seed;
	int slot, m;

	seed = env_seed ? strtoull(env_seed, NULL, 0) : (uint64_t)time(NULL);
	printf("# family fuzz: %lu rounds, seed %llu (PINMDL_FAMILY_SEED)\n",
	       n, seed);
	fflush(stdout);
	f.s = seed ? seed : 1;
	f.buf = pm_map(FZ_PARENTS * FZ_REGION * PM_PAGE,
		       PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, f.buf);
	fill(f.buf, FZ_PARENTS * FZ_REGION * PM_PAGE, FZ_SEED);
	ASSERT_EQ(0, pm_create(f.fd, f.buf, PM_PAGE, &f.unlocked));
	for (slot = 0; slot < FZ_PARENTS; slot++)
		fz_new_parent(&f, slot);
	for (; slot < FZ_SLOTS; slot++)
		fz_new_partial(&f, slot);
	ASSERT_EQ(0, f.bad);
	EXPECT_EQ(0, pm_in_child(fz_foreign, &f));

	for (i = 0; i < n; i++) {
		switch (fz_rnd(&f) % 16) {
		case 0: case 1: case 2:
			fz_map_offset(&f, fz_slot(&f));
			break;
		case 3: case 4: case 5:
			fz_advance(&f);
			break;
		case 6: case 7: case 8:
			fz_reuse(&f);
			break;
		case 9: case 10: case 11:
			fz_mmap(&f);
			break;
		case 12:
			m = fz_some_map(&f);
			if (m >= 0)
				fz_touch(&f, m);
			break;
		case 13:
			m = fz_some_map(&f);
			if (m >= 0)
				fz_mprotect(&f, m);
			break;
		case 14:
			m = fz_some_map(&f);
			if (m >= 0)
				fz_munmap(&f, m, false);
			break;
		default:
			fz_cycle(&f);
			break;
		}
	}
	for (slot = 0; slot < FZ_SLOTS; slot++)
		fz_check(&f, slot);
	for (m = 0; m < FZ_MAPS; m++)
		if (f.m[m].addr)
			fz_munmap(&f, m, true);
	printf("# family fuzz: %lu calls, %lu mmaps, %lu moves, %lu SIGBUS\n",
	       f.calls, f.mapped, f.moved, f.revoked_loads);
	EXPECT_EQ(0, f.bad) TH_LOG("seed %llu", seed);
	/* Closing releases everything left locked. */
	close(self->fd);
	self->fd = -1;
	EXPECT_EQ(self->pins, pm_pins());
	EXPECT_EQ(self->vmpin, pm_vmpin_kb());
	munmap(f.buf, FZ_PARENTS * FZ_REGION * PM_PAGE);
}

struct locker {
	int fd;
	uint32_t h;
	int ret;
	int done;
};

static void *lock_thread(void *p)
{
	struct locker *l = p;

	l->ret = pm_lock(l->fd, l->h, PINMDL_IO_WRITE_ACCESS);
	__atomic_store_n(&l->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * MAP_OFFSET while another thread's LOCK of 64 MiB faults its pages in:
 * EINVAL (not locked yet), then EBUSY (being locked), then 0, never out
 * of that order; EBUSY is seen in one of five tries.
 */
TEST(map_offset_ebusy_while_locking)
{
	const size_t len = 64UL << 20;
	char *buf = pm_map(len, PROT_READ | PROT_WRITE);
	struct locker l = { .fd = pm_open() };
	int tries, ret, rank, last, finished;
	long pins = pm_pins();
	bool busy = false;
	pthread_t t;

	ASSERT_LE(0, l.fd);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, pm_create(l.fd, buf, len, &l.h));
	for (tries = 0; tries < 5 && !busy; tries++) {
		/* Fresh pages to fault in each time. */
		ASSERT_EQ(0, madvise(buf, len, MADV_DONTNEED));
		l.done = 0;
		last = 0;
		ASSERT_EQ(0, pthread_create(&t, NULL, lock_thread, &l));
		do {
			finished = __atomic_load_n(&l.done, __ATOMIC_ACQUIRE);
			ret = pm_map_offset(l.fd, l.h, NULL);
			rank = ret == -EINVAL ? 0 : ret == -EBUSY ? 1 :
			       ret == 0 ? 2 : -1;
			EXPECT_LE(last, rank) TH_LOG("MAP_OFFSET: %d", ret);
			if (rank < last)
				break;
			last = rank;
			busy |= ret == -EBUSY;
		} while (ret && !finished);
		pthread_join(t, NULL);
		ASSERT_EQ(0, l.ret);
		EXPECT_EQ(0, ret);
		ASSERT_EQ(0, pm_unlock(l.fd, l.h));
	}
	EXPECT_TRUE(busy) TH_LOG("never saw a LOCK in progress");
	close(l.fd);
	munmap(buf, len);
	EXPECT_EQ(pins, pm_pins());
}

/*
 * ReactOS's kmtest MmMapLockedPagesSpecifyCache_user, translated: buffers
 * of 2048 to 10240 bytes, at a page start and 3000 bytes into one, locked
 * and mapped into user space; a pattern written on either side is read on
 * the other, and after UNLOCK the mapping has no pages left (SIGBUS).
 */
#define UMAP_RAW	(4 * PM_PAGE)	/* 3000 + 10240 bytes at most */

FIXTURE(umap)
{
	int fd;
	long pins;
	char *raw;
};

FIXTURE_VARIANT(umap)
{
	size_t len;
};

FIXTURE_VARIANT_ADD(umap, len_2048)
{
	.len = 2048,
};

FIXTURE_VARIANT_ADD(umap, len_4096)
{
	.len = 4096,
};

FIXTURE_VARIANT_ADD(umap, len_6144)
{
	.len = 6144,
};

FIXTURE_VARIANT_ADD(umap, len_8192)
{
	.len = 8192,
};

FIXTURE_VARIANT_ADD(umap, len_10240)
{
	.len = 10240,
};

FIXTURE_SETUP(umap)
{
	self->pins = pm_pins();
	self->fd = pm_open();
	ASSERT_LE(0, self->fd);
	self->raw = pm_map(UMAP_RAW, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, self->raw);
}

FIXTURE_TEARDOWN(umap)
{
	close(self->fd);
	munmap(self->raw, UMAP_RAW);
	EXPECT_EQ(self->pins, pm_pins()) TH_LOG("pages left pinned");
}

TEST_F(umap, write_lock_both_ways)
{
	const size_t starts[] = { 0, 3000 };
	size_t i, n, len = variant->len, bo;
	char *start, *m, val = 0;
	uint64_t off;
	uint32_t h;

	for (i = 0; i < ARRAY_SIZE(starts); i++) {
		bo = starts[i];
		start = self->raw + bo;
		n = spanned(start, len);
		fill(self->raw, UMAP_RAW, i);
		h = pm_create_locked(self->fd, start, len,
				     PINMDL_IO_WRITE_ACCESS);
		ASSERT_NE(0, h);
		ASSERT_EQ(0, pm_map_offset(self->fd, h, &off));
		m = umap(self->fd, off, 0, n, PROT_READ | PROT_WRITE);
		ASSERT_NE(NULL, m) TH_LOG("mmap: %s", strerror(errno));
		EXPECT_TRUE(user_mapped(self->fd, h));
		/* Whole pages: the bytes around the range as well. */
		EXPECT_EQ(0, memcmp(m, self->raw, n * PM_PAGE));

		fill_at(m + bo, start, len, 2);
		EXPECT_TRUE(is_pat(start, start, len, 2));
		EXPECT_TRUE(is_pat(self->raw, self->raw, bo, i));
		EXPECT_TRUE(is_pat(start + len, start + len,
				   n * PM_PAGE - bo - len, i));
		fill(start, len, 3);
		EXPECT_TRUE(is_pat(m + bo, start, len, 3));

		/* UNLOCK takes the pages from the mapping, not the mapping. */
		ASSERT_EQ(0, pm_unlock(self->fd, h));
		EXPECT_EQ(self->pins, pm_pins());
		EXPECT_EQ(SIGBUS, probe(m + bo, false, &val));
		EXPECT_EQ(SIGBUS, probe(m + n * PM_PAGE - 1, true, &val));
		EXPECT_TRUE(is_pat(start, start, len, 3));
		EXPECT_EQ(MAP_FAILED, mmap(m, PM_PAGE, PROT_READ,
					   MAP_PRIVATE | MAP_ANONYMOUS |
					   MAP_FIXED_NOREPLACE, -1, 0));
		EXPECT_EQ(EEXIST, errno);
		EXPECT_EQ(-EINVAL, umap_errno(self->fd, off, PM_PAGE,
					      PROT_READ, MAP_SHARED));
		EXPECT_EQ(0, munmap(m, n * PM_PAGE));
		EXPECT_EQ(0, pm_free(self->fd, h));
	}
}

TEST_F(umap, read_lock_read_only)
{
	char *start = self->raw + 1000, *m, val;
	size_t len = variant->len, n = spanned(start, len);
	uint64_t off;
	uint32_t h;

	fill(self->raw, UMAP_RAW, 4);
	h = pm_create_locked(self->fd, start, len, PINMDL_IO_READ_ACCESS);
	ASSERT_NE(0, h);
	ASSERT_EQ(0, pm_map_offset(self->fd, h, &off));
	EXPECT_EQ(-EACCES, umap_errno(self->fd, off, n * PM_PAGE,
				      PROT_READ | PROT_WRITE, MAP_SHARED));
	m = umap(self->fd, off, 0, n, PROT_READ);
	ASSERT_NE(NULL, m) TH_LOG("mmap: %s", strerror(errno));
	EXPECT_EQ(0, memcmp(m, self->raw, n * PM_PAGE));
	fill(start, len, 5);
	EXPECT_TRUE(is_pat(m + 1000, start, len, 5));
	EXPECT_EQ(-1, mprotect(m, n * PM_PAGE, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	ASSERT_EQ(0, pm_unlock(self->fd, h));
	EXPECT_EQ(SIGBUS, probe(m + 1000, false, &val));
	EXPECT_EQ(0, munmap(m, n * PM_PAGE));
	EXPECT_EQ(0, pm_free(self->fd, h));
}

TEST_HARNESS_MAIN
