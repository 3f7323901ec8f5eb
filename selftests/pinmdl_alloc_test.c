// SPDX-License-Identifier: GPL-2.0
/*
 * PINMDL_IOC_ALLOC_PAGES (MmAllocatePagesForMdlEx) and FREE of what it
 * made (MmFreePagesFromMdl): its errnos; zeroed pages of the length
 * rounded up, below highest_phys, on a node, physically contiguous (4 MiB
 * at most, halved until they fit) or not, all of them or fewer; the
 * descriptor born locked for write at start_va 0, which UNLOCK, LOCK and
 * ADVANCE refuse, PARTIAL takes offsets into, the lower driver reads and
 * writes, and mmap(2) maps until FREE (SIGBUS after); the charge, exactly
 * that of a LOCK of as many pages (VmPin, RLIMIT_MEMLOCK, max_pinned_pages),
 * and no FOLL_PIN at all; everything back at FREE, close and exit; and a
 * seeded fuzzer of its arguments (PINMDL_ALLOC_SEED, PINMDL_ALLOC_CALLS).
 */
#define _GNU_SOURCE
#include <limits.h>
#include <setjmp.h>
#include <signal.h>

#include "kselftest_harness.h"
#include "pinmdl_util.h"

/* What QUERY shows of an allocated descriptor. */
#define ALLOCATED	(PINMDL_F_PAGES_LOCKED | PINMDL_F_WRITE_OPERATION | \
			 PINMDL_F_ALLOCATED)
#define CONTIG		PINMDL_ALLOC_CONTIGUOUS
#define FULL		PINMDL_ALLOC_FULLY_REQUIRED
/* The largest physically contiguous allocation: a MAX_PAGE_ORDER block. */
#define CONTIG_MAX	(4UL << 20)

static int allocate_ex(int fd, struct pinmdl_alloc_pages *a)
{
	return pm_ioctl(fd, PINMDL_IOC_ALLOC_PAGES, a);
}

/* ALLOC_PAGES of @len bytes with @flags, on any node, at any address. */
static int allocate(int fd, uint64_t len, uint32_t flags,
		    struct pinmdl_alloc_pages *a)
{
	*a = (struct pinmdl_alloc_pages){ .length = len, .node = -1,
					  .flags = flags };
	return allocate_ex(fd, a);
}

static uint64_t round_page(uint64_t len)
{
	return (len + PM_PAGE - 1) & ~(PM_PAGE - 1);
}

/* Whether NUMA node @node is online (node 0 is, even without NUMA). */
static bool node_online(int node)
{
	char path[64];

	if (node < 0)
		return false;
	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d", node);
	return !node || !access(path, F_OK);
}

/* A field of /proc/meminfo in kB, or -1. */
static long meminfo_kb(const char *name)
{
	size_t n = strlen(name);
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, n) && line[n] == ':')
			kb = atol(line + n + 1);
	fclose(f);
	return kb;
}

/* The system-wide FOLL_PIN counts, folded from every CPU first. */
static void foll_pins(long *acquired, long *released)
{
	pm_pins();
	*acquired = pm_vmstat("nr_foll_pin_acquired");
	*released = pm_vmstat("nr_foll_pin_released");
}

/* QUERY of @h into *@q with all its PFNs, in a new array; NULL if not. */
static uint64_t *query_pfns(int fd, uint32_t h, struct pinmdl_query *q)
{
	uint64_t *pfns;

	if (pm_query(fd, h, q, NULL, 0))
		return NULL;
	pfns = calloc(q->page_count + 1, sizeof(*pfns));
	if (pfns && pm_query(fd, h, q, pfns, q->page_count)) {
		free(pfns);
		pfns = NULL;
	}
	return pfns;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * QUERY of the allocated descriptor @h shows @bytes from start_va 0,
 * locked for write, with distinct PFNs, none 0 or -1 (ReactOS's kmtest),
 * consecutive if @contiguous. Return its PFNs, for the caller to free.
 */
static uint64_t *expect_allocated(struct __test_metadata *_metadata, int fd,
				  uint32_t h, uint64_t bytes, bool contiguous)
{
	struct pinmdl_query q;
	uint64_t *pfns, *sorted, i;

	pfns = query_pfns(fd, h, &q);
	ASSERT_NE(NULL, pfns);
	EXPECT_EQ(ALLOCATED, q.flags);
	EXPECT_EQ(PINMDL_IO_WRITE_ACCESS, q.operation);
	EXPECT_EQ(0, q.start_va);
	EXPECT_EQ(0, q.byte_offset);
	EXPECT_EQ(bytes, q.byte_count);
	EXPECT_EQ(bytes / PM_PAGE, q.page_count);
	EXPECT_EQ(q.page_count, q.pfn_capacity);
	EXPECT_EQ(0, q.parent);
	sorted = malloc((q.page_count + 1) * sizeof(*sorted));
	ASSERT_NE(NULL, sorted);
	memcpy(sorted, pfns, q.page_count * sizeof(*sorted));
	qsort(sorted, q.page_count, sizeof(*sorted), cmp_u64);
	for (i = 0; i < q.page_count; i++)
		if (!sorted[i] || sorted[i] == ~0ULL ||
		    (i && sorted[i] == sorted[i - 1]) ||
		    (contiguous && pfns[i] != pfns[0] + i))
			break;
	EXPECT_EQ(q.page_count, i)
		TH_LOG("PFN %lu: %#lx, %#lx in order", i, pfns[i], sorted[i]);
	free(sorted);
	return pfns;
}

/* mmap(2) @len bytes of @h from its first page, read and write. */
static char *map_desc(int fd, uint32_t h, size_t len)
{
	uint64_t off;
	char *p;

	if (pm_map_offset(fd, h, &off))
		return NULL;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
	return p == MAP_FAILED ? NULL : p;
}

static uint32_t query_flags(int fd, uint32_t h)
{
	struct pinmdl_query q;

	return pm_query(fd, h, &q, NULL, 0) ? ~0U : q.flags;
}

static bool all_zero(const char *p, size_t len)
{
	while (len--)
		if (*p++)
			return false;
	return true;
}

static sigjmp_buf touch_env;
static volatile sig_atomic_t touch_sig;

static void touch_handler(int sig)
{
	touch_sig = sig;
	siglongjmp(touch_env, 1);
}

/* Read, or with @write write, the byte at @p: 0, or the signal raised. */
static int touch(volatile char *p, bool write)
{
	struct sigaction sa = { .sa_handler = touch_handler }, bus, segv;

	sigaction(SIGBUS, &sa, &bus);
	sigaction(SIGSEGV, &sa, &segv);
	touch_sig = 0;
	if (!sigsetjmp(touch_env, 1)) {
		if (write)
			*p = 1;
		else
			(void)*p;
	}
	sigaction(SIGBUS, &bus, NULL);
	sigaction(SIGSEGV, &segv, NULL);
	return touch_sig;
}

FIXTURE(alloc)
{
	int fd;
	long pins;
	long vmpin;
	long pinned;
	long live;
};

FIXTURE_SETUP(alloc)
{
	self->pins = pm_pins();
	self->vmpin = pm_vmpin_kb();
	self->pinned = pm_stat("pages_pinned");
	self->live = pm_stat("descriptors_live");
	ASSERT_LE(0, self->vmpin);
	self->fd = pm_open();
	ASSERT_LE(0, self->fd) TH_LOG("open /dev/pinmdl: %s", strerror(errno));
}

FIXTURE_TEARDOWN(alloc)
{
	close(self->fd);
	EXPECT_EQ(self->pins, pm_pins()) TH_LOG("pages left pinned");
	EXPECT_EQ(self->vmpin, pm_vmpin_kb()) TH_LOG("VmPin left charged");
	EXPECT_EQ(self->pinned, pm_stat("pages_pinned"));
	EXPECT_EQ(self->live, pm_stat("descriptors_live"));
}

/*
 * Length 0, unknown flags, a reserved field, a node that is not online:
 * EINVAL, before E2BIG past max_descriptor_bytes. Nothing is charged.
 */
TEST_F(alloc, arguments_einval_then_e2big)
{
	const uint32_t bad_flags[] = { 0x4, 0x8, 0x80000000, CONTIG | FULL | 4 };
	unsigned long long max = pm_param("max_descriptor_bytes");
	int bad_nodes[] = { -2, -3, INT_MIN, 1 << 20, 1 };
	struct pinmdl_alloc_pages a;
	size_t i;

	ASSERT_NE(0, max);
	/* The last: the first node that is not online. */
	while (node_online(bad_nodes[ARRAY_SIZE(bad_nodes) - 1]))
		bad_nodes[ARRAY_SIZE(bad_nodes) - 1]++;
	EXPECT_EQ(-EINVAL, allocate(self->fd, 0, 0, &a));
	EXPECT_EQ(-EINVAL, allocate(self->fd, 0, FULL, &a));
	for (i = 0; i < ARRAY_SIZE(bad_flags); i++) {
		EXPECT_EQ(-EINVAL, allocate(self->fd, PM_PAGE, bad_flags[i],
					    &a)) TH_LOG("flags %#x", bad_flags[i]);
		EXPECT_EQ(-EINVAL, allocate(self->fd, max + 1, bad_flags[i],
					    &a)) TH_LOG("flags %#x", bad_flags[i]);
	}
	for (i = 0; i < ARRAY_SIZE(bad_nodes); i++) {
		a = (struct pinmdl_alloc_pages){ .length = PM_PAGE,
						 .node = bad_nodes[i] };
		EXPECT_EQ(-EINVAL, allocate_ex(self->fd, &a))
			TH_LOG("node %d", bad_nodes[i]);
		a.length = max + 1;
		EXPECT_EQ(-EINVAL, allocate_ex(self->fd, &a))
			TH_LOG("node %d", bad_nodes[i]);
	}
	a = (struct pinmdl_alloc_pages){ .length = PM_PAGE, .node = -1,
					 .reserved = 1 };
	EXPECT_EQ(-EINVAL, allocate_ex(self->fd, &a));
	a.length = max + 1;
	EXPECT_EQ(-EINVAL, allocate_ex(self->fd, &a));

	EXPECT_EQ(-E2BIG, allocate(self->fd, max + 1, 0, &a));
	EXPECT_EQ(-E2BIG, allocate(self->fd, max + 1, CONTIG | FULL, &a));
	EXPECT_EQ(-E2BIG, allocate(self->fd, 1ULL << 62, FULL, &a));
	EXPECT_EQ(-EFAULT, pm_ioctl(self->fd, PINMDL_IOC_ALLOC_PAGES, NULL));
	EXPECT_EQ(self->vmpin, pm_vmpin_kb());
	EXPECT_EQ(self->pinned, pm_stat("pages_pinned"));
	EXPECT_EQ(self->live, pm_stat("descriptors_live"));
}

/* An argument whose outputs cannot be written: EFAULT, and nothing left. */
TEST_F(alloc, unwritable_argument_leaves_nothing)
{
	struct pinmdl_alloc_pages *a = pm_map(PM_PAGE, PROT_READ | PROT_WRITE);

	ASSERT_NE(NULL, a);
	*a = (struct pinmdl_alloc_pages){ .length = 64 * PM_PAGE, .node = -1,
					  .flags = FULL };
	ASSERT_EQ(0, mprotect(a, PM_PAGE, PROT_READ));
	EXPECT_EQ(-EFAULT, allocate_ex(self->fd, a));
	EXPECT_EQ(self->vmpin, pm_vmpin_kb());
	EXPECT_EQ(self->pinned, pm_stat("pages_pinned"));
	EXPECT_EQ(self->live, pm_stat("descriptors_live"));
	munmap(a, PM_PAGE);
}

/*
 * The length rounded up to whole pages, a descriptor born locked for
 * write, charged in VmPin as a LOCK of as many pages, until FREE.
 */
TEST_F(alloc, born_locked_and_charged)
{
	const uint64_t lens[] = { 1, PM_PAGE - 1, PM_PAGE, PM_PAGE + 1,
				  100000, 1UL << 20 };
	long locked = pm_stat("descriptors_locked");
	struct pinmdl_alloc_pages a;
	struct pinmdl_query q;
	uint64_t *pfns;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		ASSERT_EQ(0, allocate(self->fd, lens[i], 0, &a))
			TH_LOG("length %lu", lens[i]);
		EXPECT_NE(0, a.handle);
		EXPECT_EQ(round_page(lens[i]), a.allocated)
			TH_LOG("length %lu", lens[i]);
		pfns = expect_allocated(_metadata, self->fd, a.handle,
					a.allocated, false);
		free(pfns);
		EXPECT_EQ(self->vmpin + (long)(a.allocated >> 10),
			  pm_vmpin_kb());
		EXPECT_EQ(self->pinned + (long)(a.allocated / PM_PAGE),
			  pm_stat("pages_pinned"));
		EXPECT_EQ(locked + 1, pm_stat("descriptors_locked"));
		ASSERT_EQ(0, pm_free(self->fd, a.handle));
		EXPECT_EQ(self->vmpin, pm_vmpin_kb());
		EXPECT_EQ(self->pinned, pm_stat("pages_pinned"));
		EXPECT_EQ(locked, pm_stat("descriptors_locked"));
		EXPECT_EQ(-ENOENT, pm_query(self->fd, a.handle, &q, NULL, 0));
		EXPECT_EQ(-ENOENT, pm_free(self->fd, a.handle));
	}
	/* Fully required or not, a small request gets all it asked for. */
	ASSERT_EQ(0, allocate(self->fd, 3 * PM_PAGE, FULL, &a));
	EXPECT_EQ(3 * PM_PAGE, a.allocated);
	EXPECT_EQ(self->vmpin + 12, pm_vmpin_kb());
	free(expect_allocated(_metadata, self->fd, a.handle, 3 * PM_PAGE,
			      false));
	EXPECT_EQ(0, pm_free(self->fd, a.handle));
}

/*
 * Never unlocked: UNLOCK and ADVANCE say EINVAL, LOCK EBUSY, and FREE
 * EBUSY while a partial of it lives; nothing changes meanwhile.
 */
TEST_F(alloc, state_errnos)
{
	struct pinmdl_alloc_pages a;
	uint32_t part;
	uint64_t *before, *after;
	int op;

	ASSERT_EQ(0, allocate(self->fd, 8 * PM_PAGE, FULL, &a));
	before = expect_allocated(_metadata, self->fd, a.handle, 8 * PM_PAGE,
				  false);
	EXPECT_EQ(-EINVAL, pm_unlock(self->fd, a.handle));
	for (op = PINMDL_IO_READ_ACCESS; op <= PINMDL_IO_MODIFY_ACCESS; op++)
		EXPECT_EQ(-EBUSY, pm_lock(self->fd, a.handle, op))
			TH_LOG("operation %d", op);
	EXPECT_EQ(-EINVAL, pm_advance(self->fd, a.handle, PM_PAGE));
	EXPECT_EQ(-EINVAL, pm_advance(self->fd, a.handle, 1));
	ASSERT_EQ(0, pm_partial(self->fd, a.handle, (void *)PM_PAGE, PM_PAGE,
				&part));
	EXPECT_EQ(-EBUSY, pm_free(self->fd, a.handle));
	EXPECT_EQ(-EINVAL, pm_unlock(self->fd, a.handle));
	EXPECT_EQ(self->vmpin + 32, pm_vmpin_kb());
	after = expect_allocated(_metadata, self->fd, a.handle, 8 * PM_PAGE,
				 false);
	EXPECT_EQ(0, memcmp(before, after, 8 * sizeof(*before)));
	EXPECT_EQ(0, pm_free(self->fd, part));
	EXPECT_EQ(self->vmpin + 32, pm_vmpin_kb());
	EXPECT_EQ(0, pm_free(self->fd, a.handle));
	EXPECT_EQ(self->vmpin, pm_vmpin_kb());
	free(before);
	free(after);
}

/* PARTIAL's addr is an offset into the allocation, which starts at 0. */
TEST_F(alloc, partial_takes_offsets)
{
	const uint64_t len = 8 * PM_PAGE;
	struct pinmdl_alloc_pages a;
	struct pinmdl_query q;
	uint64_t *pfns, got[8];
	uint32_t p1, p2;

	ASSERT_EQ(0, allocate(self->fd, len, FULL, &a));
	pfns = expect_allocated(_metadata, self->fd, a.handle, len, false);

	ASSERT_EQ(0, pm_partial(self->fd, a.handle, (void *)PM_PAGE, 100,
				&p1));
	ASSERT_EQ(0, pm_query(self->fd, p1, &q, got, 8));
	EXPECT_EQ(PINMDL_F_PARTIAL | PINMDL_F_WRITE_OPERATION, q.flags);
	EXPECT_EQ(PINMDL_IO_WRITE_ACCESS, q.operation);
	EXPECT_EQ(a.handle, q.parent);
	EXPECT_EQ(PM_PAGE, q.start_va);
	EXPECT_EQ(0, q.byte_offset);
	EXPECT_EQ(100, q.byte_count);
	EXPECT_EQ(1, q.page_count);
	EXPECT_EQ(1, q.pfn_capacity);
	EXPECT_EQ(pfns[1], got[0]);

	/* Length 0 reaches the end; a range across pages spans both. */
	ASSERT_EQ(0, pm_partial(self->fd, a.handle, (void *)(2 * PM_PAGE + 5),
				0, &p2));
	ASSERT_EQ(0, pm_query(self->fd, p2, &q, got, 8));
	EXPECT_EQ(2 * PM_PAGE, q.start_va);
	EXPECT_EQ(5, q.byte_offset);
	EXPECT_EQ(len - 2 * PM_PAGE - 5, q.byte_count);
	EXPECT_EQ(6, q.page_count);
	EXPECT_EQ(0, memcmp(pfns + 2, got, 6 * sizeof(*got)));

	/* Outside the allocation: EINVAL. */
	EXPECT_EQ(-EINVAL, pm_partial(self->fd, a.handle, (void *)len, 1,
				      NULL));
	EXPECT_EQ(-EINVAL, pm_partial(self->fd, a.handle, (void *)(len - 10),
				      11, NULL));
	EXPECT_EQ(-EINVAL, pm_partial(self->fd, p1, (void *)PM_PAGE, 1, NULL));
	EXPECT_EQ(0, pm_free(self->fd, p1));
	EXPECT_EQ(-EBUSY, pm_free(self->fd, a.handle));
	EXPECT_EQ(0, pm_free(self->fd, p2));
	EXPECT_EQ(0, pm_free(self->fd, a.handle));
	free(pfns);
}

/*
 * The pages are zeroed, and the lower driver writes and reads them, on
 * the allocation and on a partial of it.
 */
TEST_F(alloc, zeroed_and_used_by_lower_driver)
{
	const uint64_t len = 10 * PM_PAGE;
	struct pinmdl_alloc_pages a;
	struct pinmdl_submit s;
	char *expect;
	uint32_t part;

	expect = calloc(1, len);
	ASSERT_NE(NULL, expect);
	ASSERT_EQ(0, allocate(self->fd, 9 * PM_PAGE + 1, 0, &a));
	ASSERT_EQ(len, a.allocated);
	ASSERT_EQ(0, pm_submit(self->fd, a.handle, PINMDL_LOWER_CHECKSUM, 0,
			       len, 0, 0, &s));
	EXPECT_EQ(pm_crc32c_zeros(~0U, len), s.result);

	ASSERT_EQ(0, pm_submit(self->fd, a.handle, PINMDL_LOWER_FILL, 100,
			       5000, 0x1a5, 0, &s));
	EXPECT_EQ(5000, s.result);
	memset(expect + 100, 0xa5, 5000);
	ASSERT_EQ(0, pm_submit(self->fd, a.handle, PINMDL_LOWER_CHECKSUM, 0,
			       len, 0, 0, &s));
	EXPECT_EQ(pm_crc32c(expect, len), s.result);

	ASSERT_EQ(0, pm_partial(self->fd, a.handle, (void *)(4 * PM_PAGE),
				3 * PM_PAGE, &part));
	ASSERT_EQ(0, pm_submit(self->fd, part, PINMDL_LOWER_FILL, PM_PAGE - 10,
			       20, 0x3c, 0, NULL));
	memset(expect + 5 * PM_PAGE - 10, 0x3c, 20);
	ASSERT_EQ(0, pm_submit(self->fd, part, PINMDL_LOWER_CHECKSUM, 0,
			       3 * PM_PAGE, 0, 0, &s));
	EXPECT_EQ(pm_crc32c(expect + 4 * PM_PAGE, 3 * PM_PAGE), s.result);
	ASSERT_EQ(0, pm_submit(self->fd, a.handle, PINMDL_LOWER_CHECKSUM, 0,
			       len, 0, 0, &s));
	EXPECT_EQ(pm_crc32c(expect, len), s.result);
	EXPECT_EQ(0, pm_free(self->fd, part));
	EXPECT_EQ(0, pm_free(self->fd, a.handle));
	free(expect);
}

/*
 * CONTIGUOUS: consecutive PFNs. All of 4 MiB, not one page more when
 * fully required (ENOMEM); without, the length is halved until it fits,
 * and the descriptor is as big as one of the length it got.
 */
TEST_F(alloc, contiguous)
{
	const struct {
		uint64_t len;
		uint32_t flags;
		uint64_t allocated;
	} cases[] = {
		{ 5 * PM_PAGE + 1, CONTIG | FULL, 6 * PM_PAGE },
		{ 3 * PM_PAGE, CONTIG, 3 * PM_PAGE },
		{ CONTIG_MAX, CONTIG | FULL, CONTIG_MAX },
		{ 64UL << 20, CONTIG, CONTIG_MAX },
		{ 6UL << 20, CONTIG, 3UL << 20 },
	};
	long base = pm_stat("descriptor_bytes"), bytes[ARRAY_SIZE(cases)];
	struct pinmdl_alloc_pages a;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		ASSERT_EQ(0, allocate(self->fd, cases[i].len, cases[i].flags,
				      &a)) TH_LOG("length %lu", cases[i].len);
		EXPECT_EQ(cases[i].allocated, a.allocated)
			TH_LOG("length %lu", cases[i].len);
		free(expect_allocated(_metadata, self->fd, a.handle,
				      a.allocated, true));
		EXPECT_EQ(self->vmpin + (long)(a.allocated >> 10),
			  pm_vmpin_kb());
		bytes[i] = pm_stat("descriptor_bytes") - base;
		EXPECT_EQ(0, pm_free(self->fd, a.handle));
	}
	/* 64 MiB asked for, 4 MiB got: the PFN array of 4 MiB. */
	EXPECT_EQ(bytes[2], bytes[3]);
	EXPECT_EQ(base, pm_stat("descriptor_bytes"));
	EXPECT_EQ(-ENOMEM, allocate(self->fd, CONTIG_MAX + 1, CONTIG | FULL,
				    &a));
	EXPECT_EQ(-ENOMEM, allocate(self->fd, 64UL << 20, CONTIG | FULL, &a));
	EXPECT_EQ(self->vmpin, pm_vmpin_kb());
	EXPECT_EQ(self->pinned, pm_stat("pages_pinned"));
}

/* Whether every page of @pfns[@n] ends at or below @highest. */
static bool below(const uint64_t *pfns, uint64_t n, uint64_t highest)
{
	uint64_t i;

	for (i = 0; i < n; i++)
		if ((pfns[i] + 1) * PM_PAGE - 1 > highest)
			return false;
	return true;
}

/*
 * highest_phys: a 32-bit device's 0xffffffff gives pages below 4 GiB;
 * just under 16 MiB, pages of ZONE_DMA (or ENOMEM, without it); and no
 * page of the first 64 KiB (reserved at boot) is ever free: ENOMEM,
 * whatever the flags.
 */
TEST_F(alloc, highest_phys)
{
	const uint64_t tiny[] = { 1, 4095, 4096, 8191, 0xffff };
	const uint32_t flags[] = { 0, FULL, CONTIG, CONTIG | FULL };
	const uint64_t dma = (16UL << 20) - 2;
	struct pinmdl_alloc_pages a;
	int ret, dma_ok = 0;
	uint64_t *pfns;
	size_t i, k;

	for (k = 0; k < ARRAY_SIZE(flags); k++) {
		a = (struct pinmdl_alloc_pages){ .length = 1UL << 20,
						 .node = -1, .flags = flags[k],
						 .highest_phys = 0xffffffff };
		ASSERT_EQ(0, allocate_ex(self->fd, &a))
			TH_LOG("flags %#x", flags[k]);
		pfns = expect_allocated(_metadata, self->fd, a.handle,
					a.allocated, flags[k] & CONTIG);
		EXPECT_TRUE(below(pfns, a.allocated / PM_PAGE, 0xffffffff));
		free(pfns);
		EXPECT_EQ(0, pm_free(self->fd, a.handle));

		a.highest_phys = dma;
		a.length = 64 * PM_PAGE;
		ret = allocate_ex(self->fd, &a);
		if (!ret) {
			dma_ok++;
			pfns = expect_allocated(_metadata, self->fd, a.handle,
						a.allocated, flags[k] & CONTIG);
			EXPECT_TRUE(below(pfns, a.allocated / PM_PAGE, dma));
			free(pfns);
			EXPECT_EQ(0, pm_free(self->fd, a.handle));
		} else {
			EXPECT_EQ(-ENOMEM, ret);
		}

		for (i = 0; i < ARRAY_SIZE(tiny); i++) {
			a.highest_phys = tiny[i];
			a.length = 16 * PM_PAGE;
			EXPECT_EQ(-ENOMEM, allocate_ex(self->fd, &a))
				TH_LOG("flags %#x, highest %#lx", flags[k],
				       tiny[i]);
		}
	}
	if (!dma_ok)
		TH_LOG("nothing below 16 MiB (no ZONE_DMA?)");
	EXPECT_EQ(self->vmpin, pm_vmpin_kb());
	EXPECT_EQ(self->pinned, pm_stat("pages_pinned"));
}

/* Node -1 or an online node (0 always is) allocates; -2 does not. */
TEST_F(alloc, node)
{
	struct pinmdl_alloc_pages a = { .length = 32 * PM_PAGE,
					.flags = FULL };
	int node;

	for (node = -1; node <= 0; node++) {
		a.node = node;
		ASSERT_EQ(0, allocate_ex(self->fd, &a)) TH_LOG("node %d", node);
		free(expect_allocated(_metadata, self->fd, a.handle,
				      32 * PM_PAGE, a.flags & CONTIG));
		EXPECT_EQ(0, pm_free(self->fd, a.handle));
		a.flags |= CONTIG;
	}
	a.node = -2;
	EXPECT_EQ(-EINVAL, allocate_ex(self->fd, &a));
}

/*
 * ReactOS's kmtest MmMdl.c (MmAllocatePagesForMdl), translated: 2 MiB
 * allocated, byte count 2 MiB, every PFN non-zero; mapped (into user
 * space here: mmap(2) of MAP_OFFSET), and unmapped, then mapped again
 * and freed without unmapping. The mapping shows zeroes first, then what
 * either side writes; once the pages are freed, it raises SIGBUS.
 */
TEST_F(alloc, reactos_2mib_mapped)
{
	const size_t len = 2UL << 20;
	struct pinmdl_alloc_pages a;
	struct pinmdl_submit s;
	uint64_t off, off2;
	size_t i;
	char *m;

	ASSERT_EQ(0, allocate(self->fd, len, 0, &a));
	EXPECT_EQ(len, a.allocated);
	free(expect_allocated(_metadata, self->fd, a.handle, len, false));

	/* Now map and unmap it. */
	ASSERT_EQ(0, pm_map_offset(self->fd, a.handle, &off));
	m = map_desc(self->fd, a.handle, len);
	ASSERT_NE(NULL, m) TH_LOG("mmap: %s", strerror(errno));
	EXPECT_EQ(ALLOCATED | PINMDL_F_USER_MAPPED,
		  query_flags(self->fd, a.handle));
	EXPECT_TRUE(all_zero(m, len));
	for (i = 0; i < len; i++)
		m[i] = (char)(i * 7 + i / PM_PAGE);
	ASSERT_EQ(0, pm_submit(self->fd, a.handle, PINMDL_LOWER_CHECKSUM, 0,
			       len, 0, 0, &s));
	EXPECT_EQ(pm_crc32c(m, len), s.result);
	ASSERT_EQ(0, pm_submit(self->fd, a.handle, PINMDL_LOWER_FILL,
			       PM_PAGE + 1, 3 * PM_PAGE, 0x5c, 0, NULL));
	EXPECT_EQ((char)(PM_PAGE * 7 + 1), m[PM_PAGE]);
	for (i = PM_PAGE + 1; i < 4 * PM_PAGE + 1; i++)
		if (m[i] != 0x5c)
			break;
	EXPECT_EQ(4 * PM_PAGE + 1, i);
	EXPECT_EQ((char)(i * 7 + 4), m[i]);
	EXPECT_EQ(0, munmap(m, len));
	free(expect_allocated(_metadata, self->fd, a.handle, len, false));

	/* Now map it again, and free it without unmapping. */
	ASSERT_EQ(0, pm_map_offset(self->fd, a.handle, &off2));
	EXPECT_EQ(off, off2);
	m = map_desc(self->fd, a.handle, len);
	ASSERT_NE(NULL, m) TH_LOG("mmap: %s", strerror(errno));
	EXPECT_EQ(0x5c, m[2 * PM_PAGE]);
	EXPECT_EQ(ALLOCATED | PINMDL_F_USER_MAPPED,
		  query_flags(self->fd, a.handle));
	ASSERT_EQ(0, pm_free(self->fd, a.handle));
	EXPECT_EQ(self->vmpin, pm_vmpin_kb());
	EXPECT_EQ(SIGBUS, touch(m, false));
	EXPECT_EQ(SIGBUS, touch(m + 2 * PM_PAGE, true));
	EXPECT_EQ(SIGBUS, touch(m + len - 1, false));
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PM_PAGE, PROT_READ, MAP_SHARED,
				   self->fd, off));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, munmap(m, len));
}

/*
 * MAP_OFFSET with PINMDL_MAP_WRITE_COMBINED: allocated pages only, before
 * any other mapping window or partial; from then on the pages are
 * write-combined and a cached window is refused (EBUSY). Data written
 * through the write-combined mapping reaches the lower driver.
 */
TEST_F(alloc, write_combined_mapping)
{
	const size_t len = 16 * PM_PAGE;
	struct pinmdl_map wc = { .flags = PINMDL_MAP_WRITE_COMBINED };
	struct pinmdl_alloc_pages a, b;
	struct pinmdl_partial p = { .addr = 0, .length = PM_PAGE };
	struct pinmdl_submit s;
	char *buf = pm_map(PM_PAGE, PROT_READ | PROT_WRITE), *m;
	uint32_t h;
	size_t i;

	ASSERT_NE(NULL, buf);
	/* Locked user pages: cached only. */
	h = pm_create_locked(self->fd, buf, PM_PAGE, PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	wc.handle = h;
	EXPECT_EQ(-EINVAL, pm_ioctl(self->fd, PINMDL_IOC_MAP_OFFSET, &wc));
	wc.flags = 2;
	EXPECT_EQ(-EINVAL, pm_ioctl(self->fd, PINMDL_IOC_MAP_OFFSET, &wc));
	EXPECT_EQ(0, pm_unlock(self->fd, h));
	EXPECT_EQ(0, pm_free(self->fd, h));

	/* A window, or a partial, keeps the pages cached. */
	ASSERT_EQ(0, allocate(self->fd, len, 0, &b));
	ASSERT_EQ(0, pm_map_offset(self->fd, b.handle, NULL));
	wc = (struct pinmdl_map){ .handle = b.handle,
				  .flags = PINMDL_MAP_WRITE_COMBINED };
	EXPECT_EQ(-EBUSY, pm_ioctl(self->fd, PINMDL_IOC_MAP_OFFSET, &wc));
	EXPECT_EQ(0, pm_free(self->fd, b.handle));
	ASSERT_EQ(0, allocate(self->fd, len, 0, &b));
	p.parent = b.handle;
	ASSERT_EQ(0, pm_ioctl(self->fd, PINMDL_IOC_PARTIAL, &p));
	wc.handle = b.handle;
	EXPECT_EQ(-EBUSY, pm_ioctl(self->fd, PINMDL_IOC_MAP_OFFSET, &wc));
	/* A partial cannot change its parent's pages. */
	wc.handle = p.handle;
	EXPECT_EQ(-EBUSY, pm_ioctl(self->fd, PINMDL_IOC_MAP_OFFSET, &wc));
	EXPECT_EQ(0, pm_free(self->fd, p.handle));
	EXPECT_EQ(0, pm_free(self->fd, b.handle));

	ASSERT_EQ(0, allocate(self->fd, len, 0, &a));
	wc.handle = a.handle;
	ASSERT_EQ(0, pm_ioctl(self->fd, PINMDL_IOC_MAP_OFFSET, &wc));
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd,
		 wc.offset);
	ASSERT_NE(MAP_FAILED, m);
	EXPECT_TRUE(all_zero(m, len));
	for (i = 0; i < len; i++)
		m[i] = (char)(i * 13);
	ASSERT_EQ(0, pm_submit(self->fd, a.handle, PINMDL_LOWER_CHECKSUM, 0,
			       len, 0, 0, &s));
	EXPECT_EQ(pm_crc32c(m, len), s.result);
	/* Write-combined now: the same window again, never a cached one. */
	EXPECT_EQ(-EBUSY, pm_map_offset(self->fd, a.handle, NULL));
	wc.offset = 0;
	ASSERT_EQ(0, pm_ioctl(self->fd, PINMDL_IOC_MAP_OFFSET, &wc));
	EXPECT_NE(0, wc.offset);
	ASSERT_EQ(0, pm_free(self->fd, a.handle));
	EXPECT_EQ(SIGBUS, touch(m, false));
	EXPECT_EQ(0, munmap(m, len));
	munmap(buf, PM_PAGE);
}

/*
 * Allocated pages are not pinned: through ALLOC_PAGES, PARTIAL, SUBMIT,
 * mmap(2) and FREE, FOLL_PIN counts nothing, though the module counts
 * them as pinned pages; a LOCK of one page, for comparison, counts one.
 */
TEST_F(alloc, no_foll_pin)
{
	long acquired, released, now_acquired, now_released;
	long locked = pm_stat("descriptors_locked");
	char *buf = pm_map(PM_PAGE, PROT_READ | PROT_WRITE);
	struct pinmdl_alloc_pages a;
	uint32_t part, h;
	char *m;

	ASSERT_NE(NULL, buf);
	foll_pins(&acquired, &released);
	ASSERT_LE(0, acquired);
	ASSERT_EQ(0, allocate(self->fd, 1UL << 20, FULL, &a));
	ASSERT_EQ(0, pm_partial(self->fd, a.handle, (void *)PM_PAGE, PM_PAGE,
				&part));
	EXPECT_EQ(self->pinned + 256, pm_stat("pages_pinned"));
	EXPECT_EQ(locked + 1, pm_stat("descriptors_locked"));
	EXPECT_EQ(self->live + 2, pm_stat("descriptors_live"));
	EXPECT_EQ(0, pm_submit(self->fd, part, PINMDL_LOWER_FILL, 0, PM_PAGE,
			       0x11, 0, NULL));
	EXPECT_EQ(0, pm_submit(self->fd, a.handle, PINMDL_LOWER_CHECKSUM, 0,
			       1UL << 20, 0, 0, NULL));
	m = map_desc(self->fd, a.handle, 1UL << 20);
	ASSERT_NE(NULL, m);
	EXPECT_EQ(0x11, m[PM_PAGE]);
	memset(m, 0x22, 1UL << 20);
	EXPECT_EQ(0, munmap(m, 1UL << 20));
	EXPECT_EQ(0, pm_free(self->fd, part));
	EXPECT_EQ(0, pm_free(self->fd, a.handle));
	foll_pins(&now_acquired, &now_released);
	EXPECT_EQ(acquired, now_acquired);
	EXPECT_EQ(released, now_released);
	EXPECT_EQ(self->pinned, pm_stat("pages_pinned"));
	EXPECT_EQ(locked, pm_stat("descriptors_locked"));

	h = pm_create_locked(self->fd, buf, PM_PAGE, PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	EXPECT_EQ(0, pm_unlock(self->fd, h));
	foll_pins(&now_acquired, &now_released);
	EXPECT_EQ(acquired + 1, now_acquired);
	EXPECT_EQ(released + 1, now_released);
	munmap(buf, PM_PAGE);
}

/* Arguments below it ask for pages no allocator ever has. */
#define FZ_TINY		0x10000

struct fz {
	uint64_t s;
	uint64_t max;
	long vmpin;
	unsigned long calls;
	unsigned long ok, einval, enomem, e2big;
	unsigned long bad;
};

static uint64_t fz_rnd(struct fz *f)
{
	f->s ^= f->s << 13;
	f->s ^= f->s >> 7;
	f->s ^= f->s << 17;
	return f->s;
}

static void fz_args(struct fz *f, struct pinmdl_alloc_pages *a)
{
	*a = (struct pinmdl_alloc_pages){ .node = -1 };
	switch (fz_rnd(f) % 32) {
	case 0:
		break;
	case 1:
		a->length = f->max + 1 + fz_rnd(f) % (1ULL << 32);
		break;
	case 2: case 3: case 4: case 5: case 6: case 7:
		a->length = 1 + fz_rnd(f) % (1UL << 20);
		break;
	default:
		a->length = 1 + fz_rnd(f) % (64UL << 10);
		break;
	}
	a->flags = fz_rnd(f) % 8;
	if (fz_rnd(f) % 2)
		a->node = (int)(fz_rnd(f) % 7) - 3;
	switch (fz_rnd(f) % 8) {
	case 0:
		a->highest_phys = 0xffffffff;
		break;
	case 1:
		a->highest_phys = fz_rnd(f) % 2 ? PM_PAGE :
				  1 + fz_rnd(f) % (FZ_TINY - 1);
		break;
	case 2:
		a->highest_phys = fz_rnd(f) % (1ULL << 32);
		break;
	case 3:
		a->highest_phys = fz_rnd(f);
		break;
	}
	if (!(fz_rnd(f) % 32))
		a->reserved = fz_rnd(f) | 1;
}

/* What ALLOC_PAGES of @a must answer, 0 where it may be 0 or ENOMEM. */
static int fz_want(const struct fz *f, const struct pinmdl_alloc_pages *a)
{
	if (a->reserved || !a->length || (a->flags & ~(CONTIG | FULL)) ||
	    (a->node != -1 && !node_online(a->node)))
		return -EINVAL;
	if (round_page(a->length) > f->max)
		return -E2BIG;
	if (a->highest_phys && a->highest_phys < FZ_TINY)
		return -ENOMEM;
	return 0;
}

/*
 * Whether an allocation may find no pages: those of one node, below
 * 4 GiB but not all of it, or CONTIGUOUS and FULLY_REQUIRED together.
 */
static bool fz_may_fail(const struct pinmdl_alloc_pages *a)
{
	return a->node != -1 ||
	       (a->highest_phys && a->highest_phys < 0xffffffff) ||
	       (a->flags & (CONTIG | FULL)) == (CONTIG | FULL);
}

static void fz_fail(struct fz *f, const struct pinmdl_alloc_pages *a,
		    int ret, const char *what)
{
	if (f->bad++ < 10)
		fprintf(stderr,
			"# call %lu: length %#llx highest %#llx node %d flags %#x reserved %#x: %d, %s\n",
			f->calls, a->length, a->highest_phys, a->node,
			a->flags, a->reserved, ret, what);
}

/* Whether @got pages are @want pages halved, integer-wise, 0 or more times. */
static bool halved(uint64_t want, uint64_t got)
{
	while (want > got)
		want /= 2;
	return want == got;
}

/* What a successful ALLOC_PAGES of @a made: check it, and free it. */
static void fz_check(struct fz *f, int fd, struct pinmdl_alloc_pages *a)
{
	uint64_t want = round_page(a->length), pages = a->allocated / PM_PAGE;
	struct pinmdl_query q;
	uint64_t *pfns, i;

	if (a->allocated % PM_PAGE || !pages || a->allocated > want ||
	    ((a->flags & FULL) && a->allocated != want) ||
	    ((a->flags & CONTIG) && !halved(want / PM_PAGE, pages)))
		fz_fail(f, a, 0, "allocated the wrong length");
	if (pm_vmpin_kb() != f->vmpin + (long)(a->allocated >> 10))
		fz_fail(f, a, 0, "VmPin is not the allocation");
	pfns = query_pfns(fd, a->handle, &q);
	if (!pfns || q.flags != ALLOCATED || q.start_va ||
	    q.byte_count != a->allocated || q.page_count != pages) {
		fz_fail(f, a, 0, "QUERY");
	} else {
		for (i = 0; i < pages; i++)
			if (!pfns[i] || ((a->flags & CONTIG) &&
					 pfns[i] != pfns[0] + i))
				break;
		if (i < pages)
			fz_fail(f, a, 0, "PFNs not contiguous or 0");
		if (a->highest_phys && !below(pfns, pages, a->highest_phys))
			fz_fail(f, a, 0, "a page above highest_phys");
	}
	free(pfns);
	if (pm_free(fd, a->handle))
		fz_fail(f, a, 0, "FREE");
}

/*
 * A few thousand ALLOC_PAGES of random lengths up to 1 MiB (now and then
 * 0 or past max_descriptor_bytes), flags, nodes from -3 to 3, and
 * highest_phys (tiny ones among them), with a random reserved field now
 * and then: each answers exactly as its arguments say, or ENOMEM where
 * pages may run short; what it allocates is right and goes at FREE.
 */
TEST_F_TIMEOUT(alloc, fuzz, 120)
{
	const char *env_seed = getenv("PINMDL_ALLOC_SEED");
	const char *env_calls = getenv("PINMDL_ALLOC_CALLS");
	unsigned long n = env_calls ? strtoul(env_calls, NULL, 0) : 3000;
	struct fz f = { .vmpin = self->vmpin };
	struct pinmdl_alloc_pages a;
	unsigned long long seed;
	int ret, want;

	f.max = pm_param("max_descriptor_bytes");
	ASSERT_NE(0, f.max);
	seed = env_seed ? strtoull(env_seed, NULL, 0) : (uint64_t)time(NULL);
	printf("# alloc fuzz: %lu calls, seed %llu (PINMDL_ALLOC_SEED)\n", n,
	       seed);
	fflush(stdout);
	f.s = seed ? seed : 1;
	for (f.calls = 0; f.calls < n; f.calls++) {
		fz_args(&f, &a);
		want = fz_want(&f, &a);
		ret = allocate_ex(self->fd, &a);
		switch (ret) {
		case 0:
			f.ok++;
			fz_check(&f, self->fd, &a);
			break;
		case -EINVAL:
			f.einval++;
			break;
		case -ENOMEM:
			f.enomem++;
			if (pm_vmpin_kb() != f.vmpin)
				fz_fail(&f, &a, ret, "VmPin charged");
			break;
		case -E2BIG:
			f.e2big++;
			break;
		}
		if (ret != want && !(!want && ret == -ENOMEM &&
				     fz_may_fail(&a)))
			fz_fail(&f, &a, ret, "unexpected");
	}
	printf("# alloc fuzz: %lu allocated, %lu EINVAL, %lu ENOMEM, %lu E2BIG\n",
	       f.ok, f.einval, f.enomem, f.e2big);
	EXPECT_EQ(0, f.bad) TH_LOG("seed %llu", seed);
	if (n >= 1000) {
		EXPECT_LT(0, f.ok);
		EXPECT_LT(0, f.einval);
		EXPECT_LT(0, f.enomem);
		EXPECT_LT(0, f.e2big);
	}
	EXPECT_EQ(self->vmpin, pm_vmpin_kb());
	EXPECT_EQ(self->pinned, pm_stat("pages_pinned"));
	EXPECT_EQ(self->live, pm_stat("descriptors_live"));
}

/* Closing the file frees every allocation, with a partial or not. */
TEST(close_frees_every_allocation)
{
	long vmpin = pm_vmpin_kb(), pinned = pm_stat("pages_pinned");
	long live = pm_stat("descriptors_live");
	long locked = pm_stat("descriptors_locked");
	struct pinmdl_alloc_pages a;
	int fd = pm_open();
	uint64_t total = 0;
	uint32_t flags;

	ASSERT_LE(0, fd);
	for (flags = 0; flags <= (CONTIG | FULL); flags++) {
		ASSERT_EQ(0, allocate(fd, 256 * PM_PAGE + 1, flags, &a));
		total += a.allocated;
	}
	ASSERT_EQ(0, pm_partial(fd, a.handle, (void *)PM_PAGE, 1, NULL));
	EXPECT_EQ(vmpin + (long)(total >> 10), pm_vmpin_kb());
	EXPECT_EQ(pinned + (long)(total / PM_PAGE), pm_stat("pages_pinned"));
	EXPECT_EQ(locked + 4, pm_stat("descriptors_locked"));
	close(fd);
	EXPECT_EQ(vmpin, pm_vmpin_kb());
	EXPECT_EQ(pinned, pm_stat("pages_pinned"));
	EXPECT_EQ(live, pm_stat("descriptors_live"));
	EXPECT_EQ(locked, pm_stat("descriptors_locked"));
}

#define EXIT_LEN	(128UL << 20)

/* Allocate, map, and exit with it all; *@p: MemFree meanwhile. */
static int allocate_and_exit(void *p)
{
	struct pinmdl_alloc_pages a, b;
	int fd = pm_open();
	size_t i;
	char *m;

	if (fd < 0)
		return 1;
	if (allocate(fd, EXIT_LEN, FULL, &a) ||
	    allocate(fd, 1UL << 20, CONTIG, &b))
		return 2;
	if (pm_partial(fd, b.handle, (void *)PM_PAGE, PM_PAGE, NULL))
		return 3;
	m = map_desc(fd, a.handle, EXIT_LEN);
	if (!m)
		return 4;
	for (i = 0; i < EXIT_LEN; i += PM_PAGE)
		m[i] = 1;
	*(long *)p = meminfo_kb("MemFree");
	return 0;
}

/*
 * A process that exits holding allocations, one of them mapped, gives
 * every page back: MemFree is what it was before, give or take the pages
 * the per-CPU lists keep.
 */
TEST(exit_frees_every_allocation)
{
	long pinned = pm_stat("pages_pinned");
	long live = pm_stat("descriptors_live");
	long *during = mmap(NULL, sizeof(*during), PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	long before = meminfo_kb("MemFree"), after;

	ASSERT_NE(MAP_FAILED, during);
	ASSERT_LT(0, before);
	ASSERT_EQ(0, pm_in_child(allocate_and_exit, during));
	after = meminfo_kb("MemFree");
	/* The pages were taken from MemFree, and came back. */
	EXPECT_LT(*during, before - (long)(EXIT_LEN / 2 >> 10))
		TH_LOG("MemFree %ld kB, %ld kB allocated", before, *during);
	EXPECT_GT(after, before - (long)(EXIT_LEN / 2 >> 10))
		TH_LOG("MemFree %ld kB before, %ld kB after", before, after);
	EXPECT_EQ(pinned, pm_stat("pages_pinned"));
	EXPECT_EQ(live, pm_stat("descriptors_live"));
	munmap(during, sizeof(*during));
}

/*
 * RLIMIT_MEMLOCK of 16 pages: an unprivileged user allocates 16 pages, in
 * any mix of ALLOC_PAGES and LOCK, and no page more, however asked. 0 if
 * it held, else the step that failed.
 */
static int memlock_child(void *p)
{
	struct rlimit rl = { 16 * PM_PAGE, 16 * PM_PAGE };
	char *buf = pm_map(PM_PAGE, PROT_READ | PROT_WRITE);
	struct pinmdl_alloc_pages a8, b8, x, y;
	long vmpin = pm_vmpin_kb();
	int fd = pm_open();
	uint32_t h;

	if (fd < 0 || !buf || setrlimit(RLIMIT_MEMLOCK, &rl))
		return 1;
	if (!*(bool *)p) {
		/* CAP_IPC_LOCK lifts the limit, as for a LOCK. */
		if (allocate(fd, 32 * PM_PAGE, FULL, &x) ||
		    pm_vmpin_kb() != vmpin + 128)
			return 2;
		return pm_free(fd, x.handle) || pm_vmpin_kb() != vmpin ? 3 : 0;
	}
	if (pm_drop_privileges())
		return 4;
	if (allocate(fd, 16 * PM_PAGE + 1, 0, &x) != -ENOMEM ||
	    allocate(fd, 17 * PM_PAGE, FULL, &x) != -ENOMEM ||
	    allocate(fd, 17 * PM_PAGE, CONTIG, &x) != -ENOMEM ||
	    pm_vmpin_kb() != vmpin)
		return 5;
	if (allocate(fd, 8 * PM_PAGE, 0, &a8) ||
	    allocate(fd, 8 * PM_PAGE, CONTIG | FULL, &b8) ||
	    pm_vmpin_kb() != vmpin + 64)
		return 6;
	if (allocate(fd, 1, 0, &x) != -ENOMEM || pm_create(fd, buf, 1, &h) ||
	    pm_lock(fd, h, PINMDL_IO_READ_ACCESS) != -ENOMEM)
		return 7;
	if (pm_free(fd, a8.handle) || pm_vmpin_kb() != vmpin + 32)
		return 8;
	if (pm_lock(fd, h, PINMDL_IO_READ_ACCESS) ||
	    allocate(fd, 7 * PM_PAGE, 0, &x) || pm_vmpin_kb() != vmpin + 64)
		return 9;
	if (allocate(fd, 1, FULL, &y) != -ENOMEM)
		return 10;
	if (pm_free(fd, x.handle) || pm_free(fd, b8.handle) ||
	    pm_unlock(fd, h) || pm_vmpin_kb() != vmpin)
		return 11;
	return 0;
}

TEST(rlimit_memlock_enomem)
{
	long pins = pm_pins(), pinned = pm_stat("pages_pinned");
	bool unprivileged = true;

	EXPECT_EQ(0, pm_in_child(memlock_child, &unprivileged));
	unprivileged = false;
	EXPECT_EQ(0, pm_in_child(memlock_child, &unprivileged));
	EXPECT_EQ(pins, pm_pins());
	EXPECT_EQ(pinned, pm_stat("pages_pinned"));
}

/* The module parameters a test changes, put back whatever happens. */
FIXTURE(params)
{
	int fd;
	unsigned long long max_pinned_pages;
	unsigned long long max_descriptor_bytes;
};

FIXTURE_SETUP(params)
{
	self->max_pinned_pages = pm_param("max_pinned_pages");
	self->max_descriptor_bytes = pm_param("max_descriptor_bytes");
	ASSERT_NE(0, self->max_pinned_pages);
	ASSERT_NE(0, self->max_descriptor_bytes);
	self->fd = pm_open();
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(params)
{
	close(self->fd);
	EXPECT_EQ(0, pm_set_param("max_pinned_pages",
				  self->max_pinned_pages));
	EXPECT_EQ(0, pm_set_param("max_descriptor_bytes",
				  self->max_descriptor_bytes));
}

/* max_pinned_pages counts allocated pages with locked ones. */
TEST_F(params, max_pinned_pages_enomem)
{
	char *buf = pm_map(PM_PAGE, PROT_READ | PROT_WRITE);
	long pinned = pm_stat("pages_pinned");
	struct pinmdl_alloc_pages a, x;
	uint32_t h;

	ASSERT_NE(NULL, buf);
	ASSERT_LE(0, pinned);
	ASSERT_EQ(0, pm_set_param("max_pinned_pages", pinned + 8));
	EXPECT_EQ(-ENOMEM, allocate(self->fd, 9 * PM_PAGE, 0, &x));
	EXPECT_EQ(-ENOMEM, allocate(self->fd, 8 * PM_PAGE + 1, FULL, &x));
	EXPECT_EQ(-ENOMEM, allocate(self->fd, 16 * PM_PAGE, CONTIG, &x));
	EXPECT_EQ(pinned, pm_stat("pages_pinned"));
	ASSERT_EQ(0, allocate(self->fd, 8 * PM_PAGE, 0, &a));
	EXPECT_EQ(pinned + 8, pm_stat("pages_pinned"));
	EXPECT_EQ(-ENOMEM, allocate(self->fd, 1, 0, &x));
	ASSERT_EQ(0, pm_create(self->fd, buf, PM_PAGE, &h));
	EXPECT_EQ(-ENOMEM, pm_lock(self->fd, h, PINMDL_IO_READ_ACCESS));
	EXPECT_EQ(0, pm_free(self->fd, a.handle));
	EXPECT_EQ(pinned, pm_stat("pages_pinned"));
	EXPECT_EQ(0, pm_lock(self->fd, h, PINMDL_IO_READ_ACCESS));
	ASSERT_EQ(0, allocate(self->fd, 7 * PM_PAGE, CONTIG | FULL, &a));
	EXPECT_EQ(pinned + 8, pm_stat("pages_pinned"));
	EXPECT_EQ(0, pm_free(self->fd, a.handle));
	EXPECT_EQ(0, pm_unlock(self->fd, h));
	munmap(buf, PM_PAGE);
}

/* max_descriptor_bytes bounds the length rounded up to pages: E2BIG. */
TEST_F(params, max_descriptor_bytes_e2big)
{
	const uint64_t max = 16 * PM_PAGE;
	struct pinmdl_alloc_pages a;

	ASSERT_EQ(0, pm_set_param("max_descriptor_bytes", max));
	EXPECT_EQ(-E2BIG, allocate(self->fd, max + 1, 0, &a));
	EXPECT_EQ(-E2BIG, allocate(self->fd, max + PM_PAGE, FULL, &a));
	EXPECT_EQ(-E2BIG, allocate(self->fd, 64UL << 20, CONTIG, &a));
	ASSERT_EQ(0, allocate(self->fd, max, CONTIG | FULL, &a));
	EXPECT_EQ(max, a.allocated);
	EXPECT_EQ(0, pm_free(self->fd, a.handle));
	ASSERT_EQ(0, allocate(self->fd, max - PM_PAGE + 1, 0, &a));
	EXPECT_EQ(max, a.allocated);
	EXPECT_EQ(0, pm_free(self->fd, a.handle));
}

TEST_HARNESS_MAIN
