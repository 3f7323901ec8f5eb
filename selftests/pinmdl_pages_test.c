// SPDX-License-Identifier: GPL-2.0
/*
 * PINMDL_IOC_CREATE_PAGES (MmProbeAndLockSelectedPages): one descriptor
 * over up to 1024 page-aligned ranges of the caller, which LOCK pins all
 * or none. Its errnos (EINVAL, E2BIG, EFAULT, EMFILE); what QUERY shows
 * before and after the lock, the PFNs of the ranges' pages in order,
 * overlapping ranges pinned once per occurrence; LOCK's EFAULT for a hole
 * or a read-only page in any range and ENOMEM past RLIMIT_MEMLOCK, leaving
 * nothing pinned; offsets of SUBMIT and IO segments and the pages of
 * mmap(2) running over the ranges in order; PARTIAL and ADVANCE refused;
 * EPERM in a forked child; anonymous, THP, memfd and hugetlb ranges in one
 * list; everything back at UNLOCK, FREE and close; and a seeded fuzzer of
 * its arguments (PINMDL_PAGES_SEED, PINMDL_PAGES_CALLS). Each test checks
 * that the pin balance and VmPin are back where they started.
 */
#define _GNU_SOURCE
#include "kselftest_harness.h"
#include "pinmdl_util.h"

#define LOWER		"pinmdl_lower"
#define BUF_PAGES	64
/* Far past the end of user space, whether page tables have 4 or 5 levels. */
#define KERNEL_ADDR	0xffff888000000000ULL
#define LOCKED_W	(PINMDL_F_PAGE_LIST | PINMDL_F_PAGES_LOCKED | \
			 PINMDL_F_WRITE_OPERATION)

static int create_pages_ex(int fd, struct pinmdl_create_pages *c)
{
	return pm_ioctl(fd, PINMDL_IOC_CREATE_PAGES, c);
}

static int create_pages(int fd, const struct pinmdl_range *r, uint32_t n,
			uint32_t *handle)
{
	struct pinmdl_create_pages c = { .ranges = (uintptr_t)r,
					 .nr_ranges = n };
	int ret = create_pages_ex(fd, &c);

	if (!ret && handle)
		*handle = c.handle;
	return ret;
}

/* The range of @pages pages at @addr. */
static struct pinmdl_range rng(const char *addr, size_t pages)
{
	return (struct pinmdl_range){ .addr = (uintptr_t)addr,
				      .length = pages * PM_PAGE };
}

static uint64_t list_bytes(const struct pinmdl_range *r, uint32_t n)
{
	uint64_t sum = 0;

	while (n--)
		sum += r[n].length;
	return sum;
}

/* The address of byte @off of the list, the ranges one after another. */
static char *list_addr(const struct pinmdl_range *r, uint64_t off)
{
	while (off >= r->length)
		off -= (r++)->length;
	return (char *)(uintptr_t)(r->addr + off);
}

/* The list's bytes, one range after another, in a new buffer. */
static char *gather(const struct pinmdl_range *r, uint32_t n)
{
	char *flat = malloc(list_bytes(r, n) + 1), *p = flat;
	uint32_t i;

	for (i = 0; flat && i < n; i++) {
		memcpy(p, (char *)(uintptr_t)r[i].addr, r[i].length);
		p += r[i].length;
	}
	return flat;
}

/* What a test buffer holds at @at: not the same from one page to the next. */
static char pat(const char *at, unsigned int seed)
{
	uintptr_t a = (uintptr_t)at;

	return (char)(a * 7 + (a >> 12) * 13 + seed * 101);
}

static void fill(char *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = pat(p + i, seed);
}

/*
 * QUERY of the page list @h of @r[@n] shows @flags, and once locked the
 * PFNs of the ranges' pages in order, as /proc/self/pagemap has them.
 */
static void expect_list(struct __test_metadata *_metadata, int fd,
			uint32_t h, const struct pinmdl_range *r, uint32_t n,
			uint32_t flags)
{
	uint64_t bytes = list_bytes(r, n), pages = bytes / PM_PAGE, i, k = 0;
	uint64_t *pfns = calloc(pages, sizeof(*pfns));
	uint64_t *want = calloc(pages, sizeof(*want));
	struct pinmdl_query q;

	ASSERT_NE(NULL, pfns);
	ASSERT_NE(NULL, want);
	ASSERT_EQ(0, pm_query(fd, h, &q, pfns, pages));
	EXPECT_EQ(flags, q.flags);
	EXPECT_EQ(r[0].addr, q.start_va);
	EXPECT_EQ(0, q.byte_offset);
	EXPECT_EQ(bytes, q.byte_count);
	EXPECT_EQ(pages, q.page_count);
	EXPECT_EQ(0, q.parent);
	if (!(flags & PINMDL_F_PAGES_LOCKED)) {
		EXPECT_EQ(0, q.pfn_capacity);
	} else {
		EXPECT_EQ(pages, q.pfn_capacity);
		for (i = 0; i < n; k += r[i++].length / PM_PAGE)
			ASSERT_EQ(0, pm_pagemap_pfns((void *)(uintptr_t)r[i].addr,
						     r[i].length / PM_PAGE,
						     want + k));
		for (i = 0; i < pages; i++)
			if (!want[i] || pfns[i] != want[i])
				break;
		EXPECT_EQ(pages, i) TH_LOG("page %lu: PFN %#lx, pagemap %#lx",
					   i, pfns[i], want[i]);
	}
	free(pfns);
	free(want);
}

FIXTURE(pages)
{
	int fd;
	long pins;
	long vmpin;
	long pinned;
	long live;
	unsigned long long max_descriptors;
	char *buf;
};

FIXTURE_SETUP(pages)
{
	self->pins = pm_pins();
	self->vmpin = pm_vmpin_kb();
	self->pinned = pm_stat("pages_pinned");
	self->live = pm_stat("descriptors_live");
	self->max_descriptors = pm_param("max_descriptors");
	ASSERT_LE(0, self->vmpin);
	ASSERT_NE(0, self->max_descriptors);
	self->fd = pm_open();
	ASSERT_LE(0, self->fd) TH_LOG("open /dev/pinmdl: %s", strerror(errno));
	self->buf = pm_map(BUF_PAGES * PM_PAGE, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, self->buf);
	fill(self->buf, BUF_PAGES * PM_PAGE, 0);
}

FIXTURE_TEARDOWN(pages)
{
	close(self->fd);
	munmap(self->buf, BUF_PAGES * PM_PAGE);
	if (pm_param("max_descriptors") != self->max_descriptors)
		EXPECT_EQ(0, pm_set_param("max_descriptors",
					  self->max_descriptors));
	EXPECT_EQ(self->pins, pm_pins()) TH_LOG("pages left pinned");
	EXPECT_EQ(self->vmpin, pm_vmpin_kb()) TH_LOG("VmPin left charged");
	EXPECT_EQ(self->pinned, pm_stat("pages_pinned"));
	EXPECT_EQ(self->live, pm_stat("descriptors_live"));
}

/*
 * Flags, reserved, no range, more than 1024, and one bad range first, in
 * the middle or last of 1024: EINVAL, and no descriptor left.
 */
TEST_F(pages, create_einval)
{
	const struct pinmdl_range bad[] = {
		{ (uintptr_t)self->buf + 1, PM_PAGE },
		{ (uintptr_t)self->buf + PM_PAGE / 2, 2 * PM_PAGE },
		{ (uintptr_t)self->buf, PM_PAGE + 1 },
		{ (uintptr_t)self->buf, 100 },
		{ (uintptr_t)self->buf, 0 },
		{ ~0xfffULL, PM_PAGE },
		{ ~0xfffULL, 2 * PM_PAGE },
		{ PM_PAGE, ~0xfffULL },
	};
	const uint32_t at[] = { 0, 500, PINMDL_MAX_RANGES - 1 };
	static struct pinmdl_range r[PINMDL_MAX_RANGES + 1];
	struct pinmdl_create_pages c;
	size_t i, k;
	uint32_t h;

	for (i = 0; i <= PINMDL_MAX_RANGES; i++)
		r[i] = rng(self->buf + i % BUF_PAGES * PM_PAGE, 1);
	EXPECT_EQ(-EINVAL, create_pages(self->fd, r, 0, NULL));
	EXPECT_EQ(-EINVAL, create_pages(self->fd, r, PINMDL_MAX_RANGES + 1, NULL));
	EXPECT_EQ(-EINVAL, create_pages(self->fd, r, ~0U, NULL));
	c = (struct pinmdl_create_pages){ .ranges = (uintptr_t)r,
					  .nr_ranges = 1, .flags = 1 };
	EXPECT_EQ(-EINVAL, create_pages_ex(self->fd, &c));
	c.flags = PINMDL_F_PAGE_LIST;
	EXPECT_EQ(-EINVAL, create_pages_ex(self->fd, &c));
	c.flags = 0;
	c.reserved = 1;
	EXPECT_EQ(-EINVAL, create_pages_ex(self->fd, &c));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		for (k = 0; k < ARRAY_SIZE(at); k++) {
			r[at[k]] = bad[i];
			EXPECT_EQ(-EINVAL, create_pages(self->fd, r, PINMDL_MAX_RANGES,
							NULL))
				TH_LOG("range %u: %#llx + %#llx", at[k],
				       bad[i].addr, bad[i].length);
			r[at[k]] = rng(self->buf + at[k] % BUF_PAGES * PM_PAGE,
				       1);
		}
	}
	EXPECT_EQ(self->live, pm_stat("descriptors_live"));
	/* The same 1024 ranges, none bad: one descriptor. */
	ASSERT_EQ(0, create_pages(self->fd, r, PINMDL_MAX_RANGES, &h));
	EXPECT_NE(0, h);
	expect_list(_metadata, self->fd, h, r, PINMDL_MAX_RANGES, PINMDL_F_PAGE_LIST);
	EXPECT_EQ(0, pm_free(self->fd, h));
}

/*
 * More bytes than max_descriptor_bytes, in one range or summed over many:
 * E2BIG. Exactly that many are described (never locked).
 */
TEST_F(pages, create_e2big)
{
	unsigned long long max = pm_param("max_descriptor_bytes");
	static struct pinmdl_range r[PINMDL_MAX_RANGES];
	uint64_t max_al = max & ~(PM_PAGE - 1);
	uint32_t h, i;

	ASSERT_LT(PM_PAGE, max);
	r[0] = (struct pinmdl_range){ PM_PAGE, max_al };
	ASSERT_EQ(0, create_pages(self->fd, r, 1, &h));
	expect_list(_metadata, self->fd, h, r, 1, PINMDL_F_PAGE_LIST);
	EXPECT_EQ(0, pm_free(self->fd, h));
	r[0].length = max_al + PM_PAGE;
	EXPECT_EQ(-E2BIG, create_pages(self->fd, r, 1, NULL));
	/* Two ranges, each within the limit, together past it. */
	r[0].length = max_al;
	r[1] = (struct pinmdl_range){ (uintptr_t)self->buf, PM_PAGE };
	EXPECT_EQ(-E2BIG, create_pages(self->fd, r, 2, NULL));
	/* 1024 of 64 TiB each: 2^56 bytes, in user space on either paging. */
	for (i = 0; i < PINMDL_MAX_RANGES; i++)
		r[i] = (struct pinmdl_range){ PM_PAGE, 1ULL << 46 };
	EXPECT_EQ(-E2BIG, create_pages(self->fd, r, PINMDL_MAX_RANGES, NULL));
	EXPECT_EQ(self->live, pm_stat("descriptors_live"));
}

/*
 * Ranges that cannot be read (no pointer, an unmapped page, an array whose
 * last entry runs into a PROT_NONE page) and an argument whose handle
 * cannot be written: EFAULT, and no descriptor left.
 */
TEST_F(pages, create_efault)
{
	char *page = pm_map(2 * PM_PAGE, PROT_READ | PROT_WRITE);
	struct pinmdl_range *r, good = rng(self->buf, 1);
	struct pinmdl_create_pages *c;
	char *gone = pm_map(PM_PAGE, PROT_READ | PROT_WRITE);
	uint32_t h;

	ASSERT_NE(NULL, page);
	ASSERT_NE(NULL, gone);
	ASSERT_EQ(0, munmap(gone, PM_PAGE));
	EXPECT_EQ(-EFAULT, pm_ioctl(self->fd, PINMDL_IOC_CREATE_PAGES, NULL));
	EXPECT_EQ(-EFAULT, create_pages(self->fd, NULL, 1, NULL));
	EXPECT_EQ(-EFAULT, create_pages(self->fd, (void *)gone, 1, NULL));

	/* Three entries, then a fourth across the end of the readable page. */
	r = (struct pinmdl_range *)(page + PM_PAGE - 3 * sizeof(*r) - 8);
	r[0] = good;
	r[1] = good;
	r[2] = good;
	ASSERT_EQ(0, mprotect(page + PM_PAGE, PM_PAGE, PROT_NONE));
	EXPECT_EQ(-EFAULT, create_pages(self->fd, r, 4, NULL));
	EXPECT_EQ(-EFAULT, create_pages(self->fd, r, PINMDL_MAX_RANGES, NULL));
	EXPECT_EQ(self->live, pm_stat("descriptors_live"));
	ASSERT_EQ(0, create_pages(self->fd, r, 3, &h));
	EXPECT_EQ(0, pm_free(self->fd, h));

	/* A read-only argument: the handle cannot be returned, none is made. */
	c = (struct pinmdl_create_pages *)page;
	*c = (struct pinmdl_create_pages){ .ranges = (uintptr_t)r,
					   .nr_ranges = 3 };
	ASSERT_EQ(0, mprotect(page, PM_PAGE, PROT_READ));
	EXPECT_EQ(-EFAULT, create_pages_ex(self->fd, c));
	EXPECT_EQ(self->live, pm_stat("descriptors_live"));
	munmap(page, 2 * PM_PAGE);
}

/*
 * Before the lock: PAGE_LIST, start_va the first range's, byte_offset 0,
 * the sum of the lengths, no PFN. Locked for write, then for read: the
 * PFNs of the ranges in order, each page pinned and charged once. UNLOCK
 * and FREE give everything back.
 */
TEST_F(pages, query_lock_unlock)
{
	const struct pinmdl_range r[] = {
		rng(self->buf + 8 * PM_PAGE, 3), rng(self->buf, 2),
		rng(self->buf + 20 * PM_PAGE, 1),
	};
	long acquired;
	struct pinmdl_query q;
	uint32_t h;

	ASSERT_EQ(0, create_pages(self->fd, r, 3, &h));
	EXPECT_EQ(self->live + 1, pm_stat("descriptors_live"));
	expect_list(_metadata, self->fd, h, r, 3, PINMDL_F_PAGE_LIST);
	EXPECT_EQ(self->pins, pm_pins());

	pm_pins();
	acquired = pm_vmstat("nr_foll_pin_acquired");
	ASSERT_EQ(0, pm_lock(self->fd, h, PINMDL_IO_WRITE_ACCESS));
	EXPECT_EQ(self->pins + 6, pm_pins());
	EXPECT_EQ(acquired + 6, pm_vmstat("nr_foll_pin_acquired"));
	EXPECT_EQ(self->vmpin + 24, pm_vmpin_kb());
	EXPECT_EQ(self->pinned + 6, pm_stat("pages_pinned"));
	expect_list(_metadata, self->fd, h, r, 3, LOCKED_W);
	ASSERT_EQ(0, pm_query(self->fd, h, &q, NULL, 0));
	EXPECT_EQ(PINMDL_IO_WRITE_ACCESS, q.operation);
	EXPECT_EQ(-EBUSY, pm_lock(self->fd, h, PINMDL_IO_READ_ACCESS));
	EXPECT_EQ(-EBUSY, pm_free(self->fd, h));

	ASSERT_EQ(0, pm_unlock(self->fd, h));
	EXPECT_EQ(self->pins, pm_pins());
	EXPECT_EQ(self->vmpin, pm_vmpin_kb());
	expect_list(_metadata, self->fd, h, r, 3, PINMDL_F_PAGE_LIST);
	EXPECT_EQ(-EINVAL, pm_unlock(self->fd, h));

	ASSERT_EQ(0, pm_lock(self->fd, h, PINMDL_IO_READ_ACCESS));
	expect_list(_metadata, self->fd, h, r, 3,
		    PINMDL_F_PAGE_LIST | PINMDL_F_PAGES_LOCKED);
	ASSERT_EQ(0, pm_query(self->fd, h, &q, NULL, 0));
	EXPECT_EQ(PINMDL_IO_READ_ACCESS, q.operation);
	EXPECT_EQ(self->pins + 6, pm_pins());
	ASSERT_EQ(0, pm_unlock(self->fd, h));
	ASSERT_EQ(0, pm_free(self->fd, h));
	EXPECT_EQ(-ENOENT, pm_query(self->fd, h, &q, NULL, 0));
	EXPECT_EQ(self->live, pm_stat("descriptors_live"));
}

/* Overlapping ranges: each page pinned and charged once per occurrence. */
TEST_F(pages, overlapping_ranges)
{
	const struct pinmdl_range r[] = {
		rng(self->buf, 4), rng(self->buf + 2 * PM_PAGE, 4),
		rng(self->buf, 1), rng(self->buf, 4),
	};
	uint32_t h;

	ASSERT_EQ(0, create_pages(self->fd, r, 4, &h));
	ASSERT_EQ(0, pm_lock(self->fd, h, PINMDL_IO_MODIFY_ACCESS));
	EXPECT_EQ(self->pins + 13, pm_pins());
	EXPECT_EQ(self->vmpin + 52, pm_vmpin_kb());
	EXPECT_EQ(self->pinned + 13, pm_stat("pages_pinned"));
	expect_list(_metadata, self->fd, h, r, 4, LOCKED_W);
	ASSERT_EQ(0, pm_unlock(self->fd, h));
	EXPECT_EQ(self->pins, pm_pins());
	EXPECT_EQ(self->vmpin, pm_vmpin_kb());
	EXPECT_EQ(0, pm_free(self->fd, h));
}

/*
 * A hole in any one range (the first, one in the middle, the last), for
 * read or write: EFAULT, with nothing left pinned or charged, the list
 * still unlocked. Without the hole the same ranges lock.
 */
TEST_F(pages, lock_hole_efault)
{
	static struct pinmdl_range r[100];
	const uint32_t at[] = { 0, 57, 99 };
	char *hole = self->buf + 40 * PM_PAGE;
	uint32_t h, i, k;
	int op;

	for (i = 0; i < 100; i++)
		r[i] = rng(self->buf + i % 30 * PM_PAGE, 1 + i % 3);
	ASSERT_EQ(0, munmap(hole + PM_PAGE, PM_PAGE));
	for (k = 0; k < ARRAY_SIZE(at); k++) {
		/* A hole, or kernel memory: described, never locked. */
		r[at[k]] = k == 1 ? (struct pinmdl_range){ KERNEL_ADDR, PM_PAGE } :
				    rng(hole, 4);
		ASSERT_EQ(0, create_pages(self->fd, r, 100, &h));
		for (op = PINMDL_IO_READ_ACCESS; op <= PINMDL_IO_MODIFY_ACCESS;
		     op++) {
			EXPECT_EQ(-EFAULT, pm_lock(self->fd, h, op))
				TH_LOG("range %u, operation %d", at[k], op);
			EXPECT_EQ(self->pins, pm_pins());
			EXPECT_EQ(self->vmpin, pm_vmpin_kb());
			EXPECT_EQ(self->pinned, pm_stat("pages_pinned"));
		}
		expect_list(_metadata, self->fd, h, r, 100,
			    PINMDL_F_PAGE_LIST);
		EXPECT_EQ(0, pm_free(self->fd, h));
		r[at[k]] = rng(self->buf + at[k] % 30 * PM_PAGE,
			       1 + at[k] % 3);
	}
	ASSERT_EQ(0, create_pages(self->fd, r, 100, &h));
	ASSERT_EQ(0, pm_lock(self->fd, h, PINMDL_IO_WRITE_ACCESS));
	EXPECT_EQ(self->pins + (long)(list_bytes(r, 100) / PM_PAGE),
		  pm_pins());
	EXPECT_EQ(0, pm_unlock(self->fd, h));
	EXPECT_EQ(0, pm_free(self->fd, h));
}

/* A read-only page in one range: EFAULT for write and modify, not read. */
TEST_F(pages, lock_read_only_for_write_efault)
{
	const struct pinmdl_range r[] = {
		rng(self->buf, 2), rng(self->buf + 10 * PM_PAGE, 4),
		rng(self->buf + 30 * PM_PAGE, 2),
	};
	uint32_t h;

	ASSERT_EQ(0, mprotect(self->buf + 12 * PM_PAGE, PM_PAGE, PROT_READ));
	ASSERT_EQ(0, create_pages(self->fd, r, 3, &h));
	EXPECT_EQ(-EFAULT, pm_lock(self->fd, h, PINMDL_IO_WRITE_ACCESS));
	EXPECT_EQ(-EFAULT, pm_lock(self->fd, h, PINMDL_IO_MODIFY_ACCESS));
	EXPECT_EQ(self->pins, pm_pins());
	EXPECT_EQ(self->vmpin, pm_vmpin_kb());
	ASSERT_EQ(0, pm_lock(self->fd, h, PINMDL_IO_READ_ACCESS));
	EXPECT_EQ(self->pins + 8, pm_pins());
	expect_list(_metadata, self->fd, h, r, 3,
		    PINMDL_F_PAGE_LIST | PINMDL_F_PAGES_LOCKED);
	EXPECT_EQ(0, pm_unlock(self->fd, h));
	EXPECT_EQ(0, pm_free(self->fd, h));
}

struct child_arg {
	int fd;
	char *buf;
	uint32_t h;
};

/* As nobody with RLIMIT_MEMLOCK of 16 pages: 0, or the step that failed. */
static int memlock_child(void *p)
{
	struct child_arg *a = p;
	struct rlimit rl = { 16 * PM_PAGE, 16 * PM_PAGE };
	const struct pinmdl_range big[] = {
		rng(a->buf, 8), rng(a->buf + 20 * PM_PAGE, 8),
		rng(a->buf + 40 * PM_PAGE, 1),
	};
	const struct pinmdl_range fit[] = {
		rng(a->buf + 8 * PM_PAGE, 8), rng(a->buf, 8),
	};
	const struct pinmdl_range one[] = { rng(a->buf + 50 * PM_PAGE, 1) };
	uint32_t hb, hf, h1;

	if (setrlimit(RLIMIT_MEMLOCK, &rl) || pm_drop_privileges())
		return 1;
	if (create_pages(a->fd, big, 3, &hb) ||
	    create_pages(a->fd, fit, 2, &hf) ||
	    create_pages(a->fd, one, 1, &h1))
		return 2;
	if (pm_lock(a->fd, hb, PINMDL_IO_WRITE_ACCESS) != -ENOMEM ||
	    pm_vmpin_kb() != 0)
		return 3;
	if (pm_lock(a->fd, hf, PINMDL_IO_READ_ACCESS) ||
	    pm_vmpin_kb() != 16 * PM_PAGE / 1024)
		return 4;
	if (pm_lock(a->fd, h1, PINMDL_IO_READ_ACCESS) != -ENOMEM ||
	    pm_vmpin_kb() != 16 * PM_PAGE / 1024)
		return 5;
	if (pm_unlock(a->fd, hf) || pm_vmpin_kb() != 0)
		return 6;
	if (pm_lock(a->fd, h1, PINMDL_IO_WRITE_ACCESS) ||
	    pm_vmpin_kb() != PM_PAGE / 1024)
		return 7;
	if (pm_unlock(a->fd, h1) || pm_free(a->fd, h1) ||
	    pm_free(a->fd, hf) || pm_free(a->fd, hb))
		return 8;
	return 0;
}

/* Past RLIMIT_MEMLOCK, unprivileged: ENOMEM, with nothing left charged. */
TEST_F(pages, rlimit_memlock_enomem)
{
	struct child_arg a = { .fd = self->fd, .buf = self->buf };

	EXPECT_EQ(0, pm_in_child(memlock_child, &a));
	EXPECT_EQ(self->pins, pm_pins());
}

/*
 * Offsets run over the ranges in order: CHECKSUM of the whole list is the
 * crc32c of the ranges one after another, FILL across two ranges writes
 * the end of one and the start of the next and nothing else, and a chain
 * of IO segments of the list reads what its offsets say.
 */
TEST_F(pages, offsets_run_over_the_ranges)
{
	const struct pinmdl_range r[] = {
		rng(self->buf + 5 * PM_PAGE, 2), rng(self->buf + PM_PAGE, 1),
		rng(self->buf + 40 * PM_PAGE, 3),
	};
	const uint64_t total = 6 * PM_PAGE;
	struct pinmdl_segment segs[3];
	struct pinmdl_submit s;
	char *flat, *want;
	struct pinmdl_io io;
	uint64_t i, off;
	uint32_t h;
	int t;

	want = malloc(BUF_PAGES * PM_PAGE);
	ASSERT_NE(NULL, want);
	ASSERT_EQ(0, create_pages(self->fd, r, 3, &h));
	ASSERT_EQ(0, pm_lock(self->fd, h, PINMDL_IO_WRITE_ACCESS));
	flat = gather(r, 3);
	ASSERT_NE(NULL, flat);
	ASSERT_EQ(0, pm_submit(self->fd, h, PINMDL_LOWER_CHECKSUM, 0, total,
			       0, 0, &s));
	EXPECT_EQ(pm_crc32c(flat, total), s.result);
	ASSERT_EQ(0, pm_submit(self->fd, h, PINMDL_LOWER_CHECKSUM,
			       2 * PM_PAGE - 10, 20, 0, 0, &s));
	EXPECT_EQ(pm_crc32c(flat + 2 * PM_PAGE - 10, 20), s.result);
	ASSERT_EQ(0, pm_submit(self->fd, h, PINMDL_LOWER_CHECKSUM,
			       PM_PAGE + 7, total - PM_PAGE - 9, 0, 0, &s));
	EXPECT_EQ(pm_crc32c(flat + PM_PAGE + 7, total - PM_PAGE - 9),
		  s.result);

	/* The last 100 bytes of the second range, 200 of the third. */
	memcpy(want, self->buf, BUF_PAGES * PM_PAGE);
	memset(want + 2 * PM_PAGE - 100, 0xe7, 100);
	memset(want + 40 * PM_PAGE, 0xe7, 200);
	ASSERT_EQ(0, pm_submit(self->fd, h, PINMDL_LOWER_FILL,
			       3 * PM_PAGE - 100, 300, 0x1e7, 0, &s));
	EXPECT_EQ(300, s.result);
	EXPECT_EQ(0, memcmp(want, self->buf, BUF_PAGES * PM_PAGE));

	t = pm_target_open(self->fd, LOWER, -1, NULL);
	ASSERT_LT(0, t);
	free(flat);
	flat = gather(r, 3);
	ASSERT_NE(NULL, flat);
	segs[0] = (struct pinmdl_segment){ .handle = h,
					   .offset = 2 * PM_PAGE - 10,
					   .length = 4000 };
	segs[1] = (struct pinmdl_segment){ .handle = h, .length = 100 };
	segs[2] = (struct pinmdl_segment){ .handle = h,
					   .offset = PM_PAGE - 1,
					   .length = total - PM_PAGE + 1 };
	for (i = 0, off = 0; i < 3; off += segs[i++].length)
		memcpy(want + off, flat + segs[i].offset, segs[i].length);
	ASSERT_EQ(0, pm_io(self->fd, t, PINMDL_LOWER_CHECKSUM, segs, 3, 0, 0,
			   &io));
	EXPECT_EQ(pm_crc32c(want, off), io.result);

	/* FILL through one segment over all three ranges. */
	segs[0] = (struct pinmdl_segment){ .handle = h,
					   .offset = 2 * PM_PAGE - 1,
					   .length = PM_PAGE + 2 };
	ASSERT_EQ(0, pm_io(self->fd, t, PINMDL_LOWER_FILL, segs, 1, 0x5c, 0,
			   &io));
	EXPECT_EQ(PM_PAGE + 2, io.result);
	for (i = 0; i < PM_PAGE + 2; i++)
		if (*list_addr(r, 2 * PM_PAGE - 1 + i) != 0x5c)
			break;
	EXPECT_EQ(PM_PAGE + 2, i);
	EXPECT_EQ(pat(self->buf + 7 * PM_PAGE - 2, 0),
		  *list_addr(r, 2 * PM_PAGE - 2));
	/* Just after: the earlier FILL's. */
	EXPECT_EQ((char)0xe7, *list_addr(r, 3 * PM_PAGE + 1));
	EXPECT_EQ(0, pm_target_close(self->fd, t));
	EXPECT_EQ(0, pm_unlock(self->fd, h));
	EXPECT_EQ(0, pm_free(self->fd, h));
	free(flat);
	free(want);
}

/* A page list is never a parent, nor advanced: EINVAL, nothing changed. */
TEST_F(pages, partial_and_advance_einval)
{
	const struct pinmdl_range r[] = {
		rng(self->buf + 4 * PM_PAGE, 2), rng(self->buf, 2),
	};
	uint32_t h, part;

	ASSERT_EQ(0, create_pages(self->fd, r, 2, &h));
	EXPECT_EQ(-EINVAL, pm_advance(self->fd, h, PM_PAGE));
	ASSERT_EQ(0, pm_lock(self->fd, h, PINMDL_IO_WRITE_ACCESS));
	EXPECT_EQ(-EINVAL, pm_partial(self->fd, h, self->buf + 4 * PM_PAGE,
				      PM_PAGE, &part));
	EXPECT_EQ(-EINVAL, pm_partial(self->fd, h, self->buf + 4 * PM_PAGE,
				      0, &part));
	EXPECT_EQ(-EINVAL, pm_partial(self->fd, h, self->buf, 1, &part));
	EXPECT_EQ(-EINVAL, pm_advance(self->fd, h, PM_PAGE));
	EXPECT_EQ(-EINVAL, pm_advance(self->fd, h, 1));
	EXPECT_EQ(self->live + 1, pm_stat("descriptors_live"));
	EXPECT_EQ(self->pins + 4, pm_pins());
	EXPECT_EQ(self->vmpin + 16, pm_vmpin_kb());
	expect_list(_metadata, self->fd, h, r, 2, LOCKED_W);
	EXPECT_EQ(0, pm_unlock(self->fd, h));
	EXPECT_EQ(0, pm_free(self->fd, h));
}

/*
 * mmap(2) of a locked page list shows the ranges' pages in order; what is
 * written through it is at the ranges' own addresses.
 */
TEST_F(pages, mapping_shows_the_ranges_in_order)
{
	const struct pinmdl_range r[] = {
		rng(self->buf + 10 * PM_PAGE, 2), rng(self->buf + 3 * PM_PAGE, 1),
		rng(self->buf + 30 * PM_PAGE, 3),
	};
	const size_t len = 6 * PM_PAGE;
	char *flat, *m;
	uint64_t off;
	uint32_t h;
	size_t i;

	ASSERT_EQ(0, create_pages(self->fd, r, 3, &h));
	ASSERT_EQ(0, pm_lock(self->fd, h, PINMDL_IO_WRITE_ACCESS));
	ASSERT_EQ(0, pm_map_offset(self->fd, h, &off));
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, off);
	ASSERT_NE(MAP_FAILED, m);
	expect_list(_metadata, self->fd, h, r, 3,
		    LOCKED_W | PINMDL_F_USER_MAPPED);
	flat = gather(r, 3);
	ASSERT_NE(NULL, flat);
	EXPECT_EQ(0, memcmp(flat, m, len));
	fill(m, len, 3);
	for (i = 0; i < len; i++)
		if (*list_addr(r, i) != pat(m + i, 3))
			break;
	EXPECT_EQ(len, i) TH_LOG("byte %zu of the mapping", i);
	EXPECT_EQ(pat(self->buf + 12 * PM_PAGE, 0), self->buf[12 * PM_PAGE]);
	EXPECT_EQ(0, munmap(m, len));
	EXPECT_EQ(0, pm_unlock(self->fd, h));
	EXPECT_EQ(0, pm_free(self->fd, h));
	free(flat);
}

/* In a forked child: 0, or the step that failed. */
static int foreign_child(void *p)
{
	struct child_arg *a = p;
	const struct pinmdl_range r[] = {
		rng(a->buf + 2 * PM_PAGE, 1), rng(a->buf, 2),
	};
	uint32_t own;

	if (pm_lock(a->fd, a->h, PINMDL_IO_READ_ACCESS) != -EPERM ||
	    pm_lock(a->fd, a->h, PINMDL_IO_WRITE_ACCESS) != -EPERM)
		return 1;
	/* A list of the child's own ranges in the shared file is its own. */
	if (create_pages(a->fd, r, 2, &own) ||
	    pm_lock(a->fd, own, PINMDL_IO_WRITE_ACCESS))
		return 2;
	return pm_unlock(a->fd, own) || pm_free(a->fd, own) ? 3 : 0;
}

/* Another address space with the inherited fd: EPERM on LOCK. */
TEST_F(pages, other_address_space_eperm)
{
	const struct pinmdl_range r[] = {
		rng(self->buf, 2), rng(self->buf + 9 * PM_PAGE, 1),
	};
	struct child_arg a = { .fd = self->fd, .buf = self->buf };

	ASSERT_EQ(0, create_pages(self->fd, r, 2, &a.h));
	EXPECT_EQ(0, pm_in_child(foreign_child, &a));
	EXPECT_EQ(self->pins, pm_pins());
	expect_list(_metadata, self->fd, a.h, r, 2, PINMDL_F_PAGE_LIST);
	ASSERT_EQ(0, pm_lock(self->fd, a.h, PINMDL_IO_READ_ACCESS));
	EXPECT_EQ(self->pins + 3, pm_pins());
	EXPECT_EQ(0, pm_unlock(self->fd, a.h));
	EXPECT_EQ(0, pm_free(self->fd, a.h));
}

/*
 * Anonymous pages, a 2 MiB THP-advised range, a shared memfd and, if
 * hugetlb pages are configured, a hugetlb page in one list: it locks, its
 * PFNs are the pages' and its checksum the ranges'.
 */
TEST_F(pages, memory_kinds_in_one_list)
{
	struct pm_mem thp = { 0 }, memfd = { 0 }, huge = { 0 };
	struct pinmdl_range r[5];
	struct pinmdl_submit s;
	uint64_t bytes;
	uint32_t h, n = 0;
	char *flat;
	int ret;

	ASSERT_LE(0, pm_mem_map(&thp, PM_THP, PM_HPAGE,
				PROT_READ | PROT_WRITE, 0));
	ASSERT_EQ(0, pm_mem_map(&memfd, PM_MEMFD, 8 * PM_PAGE,
				PROT_READ | PROT_WRITE, 1));
	fill(thp.buf, PM_HPAGE, 1);
	r[n++] = rng(self->buf + 3 * PM_PAGE, 5);
	r[n++] = rng(thp.buf, PM_HPAGE / PM_PAGE);
	r[n++] = rng(memfd.buf + PM_PAGE, 6);
	ret = pm_mem_map(&huge, PM_HUGETLB, PM_HPAGE, PROT_READ | PROT_WRITE,
			 0);
	ASSERT_LE(0, ret);
	if (ret) {
		TH_LOG("no hugetlb page: the list goes without");
	} else {
		fill(huge.buf, PM_HPAGE, 2);
		r[n++] = rng(huge.buf + 4 * PM_PAGE, 16);
	}
	r[n++] = rng(thp.buf + PM_PAGE, 2);
	bytes = list_bytes(r, n);

	ASSERT_EQ(0, create_pages(self->fd, r, n, &h));
	ASSERT_EQ(0, pm_lock(self->fd, h, PINMDL_IO_WRITE_ACCESS));
	EXPECT_EQ(self->pins + (long)(bytes / PM_PAGE), pm_pins());
	EXPECT_EQ(self->vmpin + (long)(bytes / 1024), pm_vmpin_kb());
	expect_list(_metadata, self->fd, h, r, n, LOCKED_W);
	flat = gather(r, n);
	ASSERT_NE(NULL, flat);
	ASSERT_EQ(0, pm_submit(self->fd, h, PINMDL_LOWER_CHECKSUM, 0, bytes,
			       0, 0, &s));
	EXPECT_EQ(pm_crc32c(flat, bytes), s.result);
	EXPECT_EQ(0, pm_unlock(self->fd, h));
	EXPECT_EQ(self->pins, pm_pins());
	EXPECT_EQ(self->vmpin, pm_vmpin_kb());
	EXPECT_EQ(0, pm_free(self->fd, h));
	free(flat);
	pm_mem_unmap(&huge);
	pm_mem_unmap(&memfd);
	pm_mem_unmap(&thp);
}

/* Page lists count against max_descriptors like any descriptor: EMFILE. */
TEST_F(pages, max_descriptors_emfile)
{
	const struct pinmdl_range r[] = { rng(self->buf, 1) };
	uint32_t h[4], x;
	int i;

	ASSERT_EQ(0, pm_set_param("max_descriptors", 4));
	for (i = 0; i < 4; i += 2) {
		ASSERT_EQ(0, create_pages(self->fd, r, 1, &h[i]));
		ASSERT_EQ(0, pm_create(self->fd, self->buf, PM_PAGE, &h[i + 1]));
	}
	EXPECT_EQ(-EMFILE, create_pages(self->fd, r, 1, &x));
	EXPECT_EQ(-EMFILE, pm_create(self->fd, self->buf, PM_PAGE, &x));
	EXPECT_EQ(0, pm_free(self->fd, h[1]));
	EXPECT_EQ(0, create_pages(self->fd, r, 1, &x));
	EXPECT_EQ(-EMFILE, create_pages(self->fd, r, 1, &x));
	EXPECT_EQ(self->live + 4, pm_stat("descriptors_live"));
}

/* Closing the file unpins, uncharges and frees every list of it. */
TEST_F(pages, close_releases_everything)
{
	const struct pinmdl_range r[] = {
		rng(self->buf, 4), rng(self->buf + 20 * PM_PAGE, 8),
		rng(self->buf + 2 * PM_PAGE, 4),
	};
	int fd = pm_open();
	uint32_t h[3];
	int i;

	ASSERT_LE(0, fd);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, create_pages(fd, r, 3 - i, &h[i]));
	ASSERT_EQ(0, pm_lock(fd, h[0], PINMDL_IO_WRITE_ACCESS));
	ASSERT_EQ(0, pm_lock(fd, h[1], PINMDL_IO_READ_ACCESS));
	EXPECT_EQ(self->pins + 28, pm_pins());
	EXPECT_EQ(self->vmpin + 112, pm_vmpin_kb());
	EXPECT_EQ(self->live + 3, pm_stat("descriptors_live"));
	close(fd);
	EXPECT_EQ(self->pins, pm_pins());
	EXPECT_EQ(self->vmpin, pm_vmpin_kb());
	EXPECT_EQ(self->pinned, pm_stat("pages_pinned"));
	EXPECT_EQ(self->live, pm_stat("descriptors_live"));
}

/*
 * The fuzzer's memory: an arena of FZ_ARENA pages between FZ_GUARD
 * PROT_NONE pages either side, with two holes and two read-only pages.
 */
#define FZ_ARENA	64
#define FZ_GUARD	24
#define FZ_HOLE1	13
#define FZ_HOLE2	41
#define FZ_RO		50	/* and the page after it */
#define FZ_MAX_NR	1100
#define FZ_RB_PAGES	5	/* room for FZ_MAX_NR ranges */
#define FZ_RB_LEN	(FZ_RB_PAGES * PM_PAGE / sizeof(struct pinmdl_range))
/* Above every address the fuzzer means as user space, below the others. */
/* Ranges must end before the last page; LOCK refuses kernel ones. */
#define FZ_USER_END	(-PM_PAGE)

/* The errnos a call may return, as a mask. */
#define FZ_EINVAL	0x1
#define FZ_E2BIG	0x2
#define FZ_EFAULT	0x4

struct fz {
	int fd;
	char *arena;
	struct pinmdl_range *rb;	/* FZ_RB_PAGES pages, PROT_NONE after */
	unsigned long long max;
	uint64_t s;
	long pins;
	long vmpin;
	unsigned long call, bad, created, locked;
};

static uint64_t fz_rnd(struct fz *f)
{
	f->s ^= f->s << 13;
	f->s ^= f->s >> 7;
	f->s ^= f->s << 17;
	return f->s;
}

static void fz_check(struct fz *f, const char *what, long got, long want)
{
	if (got == want)
		return;
	if (f->bad++ < 10)
		fprintf(stderr, "# call %lu: %s: %ld, not %ld\n", f->call,
			what, got, want);
}

/*
 * A range of the arena: inside a stretch between the holes if @clean, else
 * from two guard pages below it on, perhaps into the guard above it.
 */
static struct pinmdl_range fz_good(struct fz *f, bool clean)
{
	static const int stretch[][2] = {
		{ 0, FZ_HOLE1 }, { FZ_HOLE1 + 1, FZ_HOLE2 },
		{ FZ_HOLE2 + 1, FZ_ARENA },
	};
	long first, pages = 1 + fz_rnd(f) % (fz_rnd(f) % 8 ? 4 : 16);
	int k = fz_rnd(f) % 3;

	if (clean) {
		first = stretch[k][0] +
			fz_rnd(f) % (stretch[k][1] - stretch[k][0]);
		if (first + pages > stretch[k][1])
			pages = stretch[k][1] - first;
	} else {
		/* From just below the arena to its last page, guard after. */
		first = (long)(fz_rnd(f) % (FZ_ARENA + 2)) - 2;
	}
	return rng(f->arena + first * PM_PAGE, pages);
}

/* Spoil @r: invalid, or valid but outside the arena. */
static void fz_spoil(struct fz *f, struct pinmdl_range *r)
{
	const uint64_t big[] = {
		(f->max & ~(PM_PAGE - 1)) + PM_PAGE, 1ULL << 40,
		PM_PAGE, 8 * PM_PAGE,
	};

	switch (fz_rnd(f) % 7) {
	case 0:
		r->addr += 1 + fz_rnd(f) % (PM_PAGE - 1);
		break;
	case 1:
		r->length += 1 + fz_rnd(f) % (PM_PAGE - 1);
		break;
	case 2:
		r->length = 0;
		break;
	case 3:
		r->addr = ~0xfffULL;
		break;
	case 4:
		r->addr = KERNEL_ADDR;
		break;
	case 5:
		r->length = -PM_PAGE;
		break;
	default:
		/* Low memory, never mapped: valid, or too big. */
		r->addr = PM_PAGE;
		r->length = big[fz_rnd(f) % ARRAY_SIZE(big)];
		break;
	}
}

/* The errnos CREATE_PAGES of @r[@n] may return; 0: it must succeed. */
static int fz_create_errnos(struct fz *f, const struct pinmdl_range *r,
			    uint32_t n)
{
	uint64_t sum = 0, end;
	int mask = 0;
	uint32_t i;

	for (i = 0; i < n; i++) {
		if (!r[i].length || r[i].addr % PM_PAGE ||
		    r[i].length % PM_PAGE ||
		    __builtin_add_overflow(r[i].addr, r[i].length, &end) ||
		    end > FZ_USER_END)
			mask |= FZ_EINVAL;
		if (__builtin_add_overflow(sum, r[i].length, &sum))
			sum = ~0ULL;
	}
	return sum > f->max ? mask | FZ_E2BIG : mask;
}

/* Whether LOCK of the valid list @r[@n] for @op must succeed. */
static bool fz_lockable(struct fz *f, const struct pinmdl_range *r,
			uint32_t n, int op)
{
	uintptr_t lo = (uintptr_t)f->arena, hi = lo + FZ_ARENA * PM_PAGE;
	uint64_t p, first, last;
	uint32_t i;

	for (i = 0; i < n; i++) {
		if (r[i].addr < lo || r[i].addr + r[i].length > hi)
			return false;
		first = (r[i].addr - lo) / PM_PAGE;
		last = first + r[i].length / PM_PAGE;
		for (p = first; p < last; p++)
			if (p == FZ_HOLE1 || p == FZ_HOLE2 ||
			    (op != PINMDL_IO_READ_ACCESS &&
			     (p == FZ_RO || p == FZ_RO + 1)))
				return false;
	}
	return true;
}

/* LOCK, UNLOCK and FREE of the new list @h of @r[@n], the balance exact. */
static void fz_lock(struct fz *f, uint32_t h, const struct pinmdl_range *r,
		    uint32_t n)
{
	long pages = list_bytes(r, n) / PM_PAGE, held;
	int op = fz_rnd(f) % 3, ret;
	struct pinmdl_query q;

	fz_check(f, "QUERY", pm_query(f->fd, h, &q, NULL, 0), 0);
	fz_check(f, "flags", q.flags, PINMDL_F_PAGE_LIST);
	fz_check(f, "start_va", q.start_va == r[0].addr, 1);
	fz_check(f, "page_count", q.page_count, pages);
	ret = pm_lock(f->fd, h, op);
	fz_check(f, "LOCK", ret, fz_lockable(f, r, n, op) ? 0 : -EFAULT);
	held = ret ? 0 : pages;
	fz_check(f, "pins after LOCK", pm_pins(), f->pins + held);
	fz_check(f, "VmPin after LOCK", pm_vmpin_kb(),
		 f->vmpin + held * (long)(PM_PAGE / 1024));
	if (!ret) {
		f->locked++;
		fz_check(f, "UNLOCK", pm_unlock(f->fd, h), 0);
	}
	fz_check(f, "FREE", pm_free(f->fd, h), 0);
	fz_check(f, "pins after FREE", pm_pins(), f->pins);
	fz_check(f, "VmPin after FREE", pm_vmpin_kb(), f->vmpin);
}

/* One call of CREATE_PAGES with random arguments, and what follows. */
static void fz_one(struct fz *f)
{
	struct pinmdl_create_pages c = { 0 };
	struct pinmdl_range *r = f->rb;
	uint32_t n, filled, i, spoilt;
	bool clean = fz_rnd(f) % 2;
	int mask, ret, err;

	n = fz_rnd(f) % 8 ? 1 + fz_rnd(f) % 8 : fz_rnd(f) % (FZ_MAX_NR + 1);
	if (fz_rnd(f) % 64 == 0)
		n = 0;
	filled = n;
	mask = !n || n > PINMDL_MAX_RANGES ? FZ_EINVAL : 0;
	if (fz_rnd(f) % 32 == 0) {
		c.flags = 1U << (fz_rnd(f) % 32);
		mask |= FZ_EINVAL;
	}
	if (fz_rnd(f) % 32 == 0) {
		c.reserved = 1 + fz_rnd(f) % 0xffff;
		mask |= FZ_EINVAL;
	}
	if (n && fz_rnd(f) % 32 == 0) {
		/* No array, or one whose last entry cannot be read. */
		mask |= FZ_EFAULT;
		filled = 0;
		r = NULL;
		if (fz_rnd(f) % 2) {
			filled = n - 1;
			r = f->rb + FZ_RB_LEN - filled;
		}
	}
	for (i = 0; i < filled; i++)
		r[i] = fz_good(f, clean);
	spoilt = fz_rnd(f) % 2 ? 0 : 1 + fz_rnd(f) % 3;
	for (i = 0; filled && i < spoilt; i++)
		fz_spoil(f, &r[fz_rnd(f) % filled]);
	/* Entries read before an unreadable one may fail first. */
	mask |= fz_create_errnos(f, r, filled);

	c.ranges = (uintptr_t)r;
	c.nr_ranges = n;
	ret = create_pages_ex(f->fd, &c);
	err = ret == -EINVAL ? FZ_EINVAL : ret == -E2BIG ? FZ_E2BIG :
	      ret == -EFAULT ? FZ_EFAULT : 0;
	if ((mask ? !(err & mask) : ret) && f->bad++ < 10)
		fprintf(stderr,
			"# call %lu: CREATE_PAGES of %u: %d, errnos allowed %#x\n",
			f->call, n, ret, mask);
	if (ret)
		return;
	if (mask) {
		/* Made, though it should not have been: only free it. */
		pm_free(f->fd, c.handle);
		return;
	}
	f->created++;
	fz_lock(f, c.handle, r, n);
}

TEST_F_TIMEOUT(pages, fuzz, 120)
{
	const char *env_seed = getenv("PINMDL_PAGES_SEED");
	const char *env_calls = getenv("PINMDL_PAGES_CALLS");
	unsigned long n = env_calls ? strtoul(env_calls, NULL, 0) : 3000;
	const size_t span = (FZ_ARENA + 2 * FZ_GUARD) * PM_PAGE;
	struct fz f = { .fd = self->fd };
	unsigned long long seed;
	char *res;

	seed = env_seed ? strtoull(env_seed, NULL, 0) : (uint64_t)time(NULL);
	printf("# pages fuzz: %lu calls, seed %llu (PINMDL_PAGES_SEED)\n", n,
	       seed);
	fflush(stdout);
	f.s = seed ? seed : 1;
	f.max = pm_param("max_descriptor_bytes");
	ASSERT_LT(PM_PAGE, f.max);
	res = mmap(NULL, span, PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, res);
	f.arena = res + FZ_GUARD * PM_PAGE;
	ASSERT_EQ(0, mprotect(f.arena, FZ_ARENA * PM_PAGE,
			      PROT_READ | PROT_WRITE));
	memset(f.arena, 0x6b, FZ_ARENA * PM_PAGE);
	ASSERT_EQ(0, munmap(f.arena + FZ_HOLE1 * PM_PAGE, PM_PAGE));
	ASSERT_EQ(0, munmap(f.arena + FZ_HOLE2 * PM_PAGE, PM_PAGE));
	ASSERT_EQ(0, mprotect(f.arena + FZ_RO * PM_PAGE, 2 * PM_PAGE,
			      PROT_READ));
	f.rb = mmap(NULL, (FZ_RB_PAGES + 1) * PM_PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, f.rb);
	ASSERT_EQ(0, mprotect((char *)f.rb + FZ_RB_PAGES * PM_PAGE, PM_PAGE,
			      PROT_NONE));
	f.pins = pm_pins();
	f.vmpin = pm_vmpin_kb();

	for (f.call = 0; f.call < n; f.call++)
		fz_one(&f);
	printf("# %lu created, %lu locked\n", f.created, f.locked);
	EXPECT_EQ(0, f.bad) TH_LOG("seed %llu", seed);
	EXPECT_NE(0, f.locked);
	EXPECT_EQ(f.pins, pm_pins());
	EXPECT_EQ(self->live, pm_stat("descriptors_live"));
	munmap(f.rb, (FZ_RB_PAGES + 1) * PM_PAGE);
	munmap(res, span);
}

TEST_HARNESS_MAIN
