// SPDX-License-Identifier: GPL-2.0
/*
 * pinmdl on every kind of memory: anonymous 4 KiB, never touched,
 * read-only, THP, hugetlb, memfd shared, MAP_PRIVATE file. Read locks must
 * stay coherent with later writes through the VA (rule 2), locked pages
 * stay pinned whatever happens to the VA (rule 6), and fork changes
 * neither (the pinned page stays the parent's). Huge pages locked in part,
 * across their ends, and with their pages rearranged by mremap() give the
 * PFNs of the pages mapped and leave nothing pinned.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/mount.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "pinmdl_util.h"

FIXTURE(mem)
{
	int fd;
	long pins;
	struct pm_mem m;
	char *buf;
	size_t len;
	uint64_t *pfns;
};

FIXTURE_VARIANT(mem)
{
	enum pm_mem_kind kind;
	int prot;
	bool touch;
	bool shared;
};

FIXTURE_VARIANT_ADD(mem, anon)
{
	.kind = PM_ANON, .prot = PROT_READ | PROT_WRITE, .touch = true,
};

FIXTURE_VARIANT_ADD(mem, anon_never_touched)
{
	.kind = PM_ANON, .prot = PROT_READ | PROT_WRITE,
};

FIXTURE_VARIANT_ADD(mem, anon_read_only)
{
	.kind = PM_ANON, .prot = PROT_READ,
};

FIXTURE_VARIANT_ADD(mem, thp)
{
	.kind = PM_THP, .prot = PROT_READ | PROT_WRITE, .touch = true,
};

FIXTURE_VARIANT_ADD(mem, thp_never_touched)
{
	.kind = PM_THP, .prot = PROT_READ | PROT_WRITE,
};

FIXTURE_VARIANT_ADD(mem, hugetlb)
{
	.kind = PM_HUGETLB, .prot = PROT_READ | PROT_WRITE, .touch = true,
};

FIXTURE_VARIANT_ADD(mem, hugetlb_shared)
{
	.kind = PM_HUGETLB, .prot = PROT_READ | PROT_WRITE, .touch = true,
	.shared = true,
};

FIXTURE_VARIANT_ADD(mem, memfd_shared)
{
	.kind = PM_MEMFD, .prot = PROT_READ | PROT_WRITE, .touch = true,
	.shared = true,
};

FIXTURE_VARIANT_ADD(mem, memfd_shared_read_only)
{
	.kind = PM_MEMFD, .prot = PROT_READ, .shared = true,
};

FIXTURE_VARIANT_ADD(mem, file_private)
{
	.kind = PM_FILE, .prot = PROT_READ | PROT_WRITE, .touch = true,
};

FIXTURE_VARIANT_ADD(mem, file_private_never_touched)
{
	.kind = PM_FILE, .prot = PROT_READ | PROT_WRITE,
};

FIXTURE_VARIANT_ADD(mem, file_private_read_only)
{
	.kind = PM_FILE, .prot = PROT_READ,
};

FIXTURE_SETUP(mem)
{
	size_t i, len = 16 * PM_PAGE;
	int ret;

	self->m.backing = -1;
	self->pins = pm_pins();
	self->fd = pm_open();
	ASSERT_LE(0, self->fd);
	if (variant->kind == PM_THP || variant->kind == PM_HUGETLB)
		len = PM_HPAGE;
	ret = pm_mem_map(&self->m, variant->kind, len, variant->prot,
			 variant->shared);
	if (ret > 0)
		SKIP(return, "no such memory: %s", strerror(errno));
	ASSERT_EQ(0, ret);
	self->buf = self->m.buf;
	self->len = self->m.len;
	if (variant->touch)
		for (i = 0; i < self->len; i += PM_PAGE)
			self->buf[i] = 0x11;
	self->pfns = calloc(self->len / PM_PAGE, sizeof(uint64_t));
	ASSERT_NE(NULL, self->pfns);
}

FIXTURE_TEARDOWN(mem)
{
	close(self->fd);
	pm_mem_unmap(&self->m);
	free(self->pfns);
	EXPECT_EQ(self->pins, pm_pins()) TH_LOG("pages left pinned");
}

static size_t mem_pages(FIXTURE_DATA(mem) *self)
{
	return self->len / PM_PAGE;
}

/* Lock the whole buffer and read its PFNs; returns the handle. */
static uint32_t mem_lock(struct __test_metadata *_metadata,
			 FIXTURE_DATA(mem) *self, uint32_t op)
{
	struct pinmdl_query q;
	uint32_t h;

	h = pm_create_locked(self->fd, self->buf, self->len, op);
	if (!h)
		return 0;
	EXPECT_EQ(0, pm_query(self->fd, h, &q, self->pfns, mem_pages(self)));
	EXPECT_EQ(mem_pages(self), q.pfn_capacity);
	EXPECT_EQ(self->pins + (long)mem_pages(self), pm_pins());
	return h;
}

/* Every page of the buffer is mapped to the page that is locked. */
static void expect_pfns_mapped(struct __test_metadata *_metadata,
			       FIXTURE_DATA(mem) *self)
{
	size_t i;

	for (i = 0; i < mem_pages(self); i++) {
		uint64_t now = pm_pagemap_pfn(self->buf + i * PM_PAGE);

		EXPECT_EQ(self->pfns[i], now) TH_LOG("page %zu", i);
		if (self->pfns[i] != now)
			break;
	}
}

static void write_every_page(FIXTURE_DATA(mem) *self, char val)
{
	size_t i;

	for (i = 0; i < self->len; i += PM_PAGE)
		self->buf[i] = val;
}

TEST_F(mem, read_lock_stays_coherent)
{
	uint32_t h = mem_lock(_metadata, self, PINMDL_IO_READ_ACCESS);
	size_t i;

	ASSERT_NE(0, h);
	/* The lock keeps what was there: file contents, zeros, or writes. */
	for (i = 0; i < self->len; i += PM_PAGE)
		ASSERT_EQ(variant->touch ? 0x11 :
			  variant->kind == PM_MEMFD ||
			  variant->kind == PM_FILE ? 0x33 : 0,
			  self->buf[i]);
	if (!(variant->prot & PROT_WRITE))
		ASSERT_EQ(0, mprotect(self->buf, self->len,
				      PROT_READ | PROT_WRITE));
	/* Later writes through the VA land on the locked pages. */
	write_every_page(self, 0x22);
	expect_pfns_mapped(_metadata, self);
	EXPECT_EQ(0, pm_unlock(self->fd, h));
}

TEST_F(mem, write_lock)
{
	uint32_t h = mem_lock(_metadata, self, PINMDL_IO_WRITE_ACCESS);

	if (!(variant->prot & PROT_WRITE)) {
		EXPECT_EQ(0, h);
		return;
	}
	ASSERT_NE(0, h);
	expect_pfns_mapped(_metadata, self);
	write_every_page(self, 0x44);
	expect_pfns_mapped(_metadata, self);
	EXPECT_EQ(0, pm_unlock(self->fd, h));
}

TEST_F(mem, lock_survives_munmap_and_madvise)
{
	uint32_t op = variant->prot & PROT_WRITE ? PINMDL_IO_MODIFY_ACCESS :
						   PINMDL_IO_READ_ACCESS;
	uint32_t h = mem_lock(_metadata, self, op);
	long locked = self->pins + (long)mem_pages(self);

	ASSERT_NE(0, h);
	madvise(self->buf, self->len, MADV_DONTNEED);
	EXPECT_EQ(locked, pm_pins());
	ASSERT_EQ(0, mprotect(self->buf, self->len, PROT_NONE));
	EXPECT_EQ(locked, pm_pins());
	ASSERT_EQ(0, munmap(self->m.raw, self->m.raw_len));
	self->m.raw = NULL;
	EXPECT_EQ(locked, pm_pins());
	EXPECT_EQ(0, pm_unlock(self->fd, h));
	EXPECT_EQ(self->pins, pm_pins());
}

TEST_F(mem, fork_after_lock)
{
	uint32_t op = variant->prot & PROT_WRITE ? PINMDL_IO_WRITE_ACCESS :
						   PINMDL_IO_READ_ACCESS;
	uint32_t h = mem_lock(_metadata, self, op);
	int status;
	pid_t pid;

	ASSERT_NE(0, h);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* The child writes its copy; the parent keeps its pages. */
		if (!(variant->prot & PROT_WRITE) &&
		    mprotect(self->buf, self->len, PROT_READ | PROT_WRITE))
			_exit(1);
		write_every_page(self, 0x55);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);
	if (!variant->shared)
		EXPECT_NE(0x55, self->buf[0]);
	if (!(variant->prot & PROT_WRITE))
		ASSERT_EQ(0, mprotect(self->buf, self->len,
				      PROT_READ | PROT_WRITE));
	write_every_page(self, 0x66);
	expect_pfns_mapped(_metadata, self);
	EXPECT_EQ(0, pm_unlock(self->fd, h));
}

TEST_F(mem, read_lock_of_pages_shared_by_fork)
{
	int pipefd[2];
	uint32_t h;
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* Keep the pages shared copy-on-write until told to go. */
		close(pipefd[1]);
		if (read(pipefd[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(pipefd[0]);
	h = mem_lock(_metadata, self, PINMDL_IO_READ_ACCESS);
	EXPECT_NE(0, h);
	if (h) {
		if (!(variant->prot & PROT_WRITE))
			ASSERT_EQ(0, mprotect(self->buf, self->len,
					      PROT_READ | PROT_WRITE));
		write_every_page(self, 0x77);
		expect_pfns_mapped(_metadata, self);
		EXPECT_EQ(0, pm_unlock(self->fd, h));
	}
	close(pipefd[1]);
	waitpid(pid, NULL, 0);
}

/* Two transparent huge pages, 2 MiB aligned. */
FIXTURE(huge)
{
	int fd;
	long pins;
	struct pm_mem m;
	char *buf;
	uint64_t *pfns;
};

#define HUGE_LEN	(2 * PM_HPAGE)

FIXTURE_SETUP(huge)
{
	size_t i;
	int ret;

	self->m.backing = -1;
	self->pins = pm_pins();
	self->fd = pm_open();
	ASSERT_LE(0, self->fd);
	ret = pm_mem_map(&self->m, PM_THP, HUGE_LEN, PROT_READ | PROT_WRITE, 0);
	if (ret > 0)
		SKIP(return, "MADV_HUGEPAGE: %s", strerror(errno));
	ASSERT_EQ(0, ret);
	self->buf = self->m.buf;
	for (i = 0; i < HUGE_LEN; i += PM_PAGE)
		self->buf[i] = (char)i;
	if (pm_pagemap_pfn(self->buf + PM_HPAGE - PM_PAGE) !=
	    pm_pagemap_pfn(self->buf) + 511)
		SKIP(return, "no transparent huge page");
	self->pfns = calloc(HUGE_LEN / PM_PAGE, sizeof(uint64_t));
	ASSERT_NE(NULL, self->pfns);
}

FIXTURE_TEARDOWN(huge)
{
	close(self->fd);
	pm_mem_unmap(&self->m);
	free(self->pfns);
	EXPECT_EQ(self->pins, pm_pins()) TH_LOG("pages left pinned");
}

/*
 * Lock [@off, @off + @len) of the huge pages for write and check that its
 * PFNs are those of the pages mapped there, then unlock it.
 */
static void huge_lock_check(struct __test_metadata *_metadata,
			    FIXTURE_DATA(huge) *self, size_t off, size_t len)
{
	char *va = self->buf + off;
	size_t i, pages = len / PM_PAGE;
	struct pinmdl_query q;
	uint32_t h;

	h = pm_create_locked(self->fd, va, len, PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	EXPECT_EQ(self->pins + (long)pages, pm_pins());
	ASSERT_EQ(0, pm_query(self->fd, h, &q, self->pfns, pages));
	for (i = 0; i < pages; i++) {
		EXPECT_EQ(pm_pagemap_pfn(va + i * PM_PAGE), self->pfns[i])
			TH_LOG("page %zu of %zu at offset %zu", i, pages, off);
		if (pm_pagemap_pfn(va + i * PM_PAGE) != self->pfns[i])
			break;
	}
	EXPECT_EQ(0, pm_unlock(self->fd, h));
	EXPECT_EQ(0, pm_free(self->fd, h));
	EXPECT_EQ(self->pins, pm_pins());
}

TEST_F(huge, parts_and_across_the_boundary)
{
	huge_lock_check(_metadata, self, 0, HUGE_LEN);
	huge_lock_check(_metadata, self, 100 * PM_PAGE, 3 * PM_PAGE);
	huge_lock_check(_metadata, self, 100 * PM_PAGE, PM_HPAGE);
	huge_lock_check(_metadata, self, PM_HPAGE - PM_PAGE, 2 * PM_PAGE);
	huge_lock_check(_metadata, self, 511 * PM_PAGE, 514 * PM_PAGE);
}

/* Move the page at @from to @to (both page aligned, @to unmapped). */
static int move_page(char *from, char *to)
{
	return mremap(from, PM_PAGE, PM_PAGE, MREMAP_MAYMOVE | MREMAP_FIXED,
		      to) == to ? 0 : -1;
}

/*
 * Swap the second pages of the two huge pages, so that each folio's pages
 * no longer follow each other in the range: one of the other folio sits
 * among them. Unpinning a folio at a time would then take a pin too many
 * from one folio and leave one on the other, a bad page when freed.
 */
TEST_F(huge, pages_of_two_folios_interleaved)
{
	char *spare = mmap(NULL, PM_PAGE, PROT_NONE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *a = self->buf + PM_PAGE, *b = self->buf + PM_HPAGE + PM_PAGE;
	uint64_t pa = pm_pagemap_pfn(a), pb = pm_pagemap_pfn(b);

	ASSERT_NE(MAP_FAILED, spare);
	ASSERT_EQ(0, move_page(a, spare));
	ASSERT_EQ(0, move_page(b, a));
	ASSERT_EQ(0, move_page(spare, b));
	ASSERT_EQ(pb, pm_pagemap_pfn(a));
	ASSERT_EQ(pa, pm_pagemap_pfn(b));
	huge_lock_check(_metadata, self, 0, HUGE_LEN);
	huge_lock_check(_metadata, self, 0, 3 * PM_PAGE);
	huge_lock_check(_metadata, self, PM_PAGE, PM_HPAGE);
}

/* MemAvailable in kB, after the page cache is dropped. */
static long mem_available_kb(void)
{
	FILE *f;
	char line[128];
	long kb = -1;

	if (pm_run("echo 3 > /proc/sys/vm/drop_caches"))
		return -1;
	f = fopen("/proc/meminfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/*
 * Read-lock one huge tmpfs folio mapped shared for its first half and
 * private for its second. Where a read-only pin of a private file mapping
 * pins the page cache (6.1), the private half is pinned anew as copies;
 * unlocking must then release the folio once for each page still pinned
 * from it, and the copies as well. Released once for all 512 pages, the
 * folio is never freed and the copies stay pinned, which the pin counters
 * cannot see (they balance) but the memory left behind shows.
 */
static int huge_folio_half_private(const char *path, long *pins)
{
	size_t half = PM_HPAGE / 2, i;
	char *raw, *buf;
	int file, fd, ret = -1;
	uint32_t h;

	file = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (file < 0 || ftruncate(file, PM_HPAGE))
		return -1;
	raw = mmap(NULL, 2 * PM_HPAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		   -1, 0);
	buf = (char *)(((uintptr_t)raw + PM_HPAGE - 1) & ~(PM_HPAGE - 1));
	if (raw == MAP_FAILED ||
	    mmap(buf, PM_HPAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 file, 0) != buf)
		goto out_close;
	memset(buf, 0x5a, PM_HPAGE);
	ret = 1; /* no huge folio */
	if (pm_pagemap_pfn(buf) + PM_HPAGE / PM_PAGE - 1 !=
	    pm_pagemap_pfn(buf + PM_HPAGE - PM_PAGE))
		goto out_unmap;
	ret = -1;
	if (mmap(buf + half, half, PROT_READ, MAP_PRIVATE | MAP_FIXED, file,
		 half) != buf + half)
		goto out_unmap;
	for (i = half; i < PM_HPAGE; i += PM_PAGE)
		if (buf[i] != 0x5a)
			goto out_unmap;
	fd = pm_open();
	h = pm_create_locked(fd, buf, PM_HPAGE, PINMDL_IO_READ_ACCESS);
	if (h && !pm_unlock(fd, h) && !pm_free(fd, h))
		ret = 0;
	close(fd);
	if (pm_pins() != *pins)
		ret = -1;
out_unmap:
	munmap(raw, 2 * PM_HPAGE);
out_close:
	close(file);
	unlink(path);
	return ret;
}

TEST(read_lock_of_huge_folio_half_private)
{
	char dir[] = "/tmp/pinmdl-huge-XXXXXX", path[64];
	long pins = pm_pins(), before, after;
	int i, ret = 0;

	ASSERT_NE(NULL, mkdtemp(dir));
	if (mount("tmpfs", dir, "tmpfs", 0, "huge=always")) {
		rmdir(dir);
		SKIP(return, "tmpfs huge=always: %s", strerror(errno));
	}
	snprintf(path, sizeof(path), "%s/folio", dir);
	before = mem_available_kb();
	for (i = 0; i < 16 && !ret; i++)
		ret = huge_folio_half_private(path, &pins);
	after = mem_available_kb();
	umount(dir);
	rmdir(dir);
	if (ret > 0)
		SKIP(return, "no huge tmpfs folio");
	ASSERT_EQ(0, ret);
	ASSERT_LE(0, before);
	/* 16 rounds that left 3 MiB each behind would leave 48 MiB. */
	EXPECT_GT(16 << 10, before - after)
		TH_LOG("%ld kB left behind", before - after);
}

/*
 * A read lock of a read-only private mapping of a hugetlbfs file works on
 * every kernel. Before 6.2 the pin cannot be made to break copy-on-write
 * there, and the lock keeps the read pin (rule 2's one exception: a later
 * private write would not be seen), instead of failing.
 */
TEST(read_lock_of_read_only_private_hugetlb_file)
{
	int fd = memfd_create("pinmdl-huge", MFD_HUGETLB);
	long pins = pm_pins();
	struct pinmdl_submit s;
	char *rw, *ro;
	int pm = pm_open();
	uint32_t h;

	if (fd < 0 || ftruncate(fd, PM_HPAGE))
		SKIP(return, "no hugetlbfs memfd: %s", strerror(errno));
	rw = mmap(NULL, PM_HPAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (rw == MAP_FAILED)
		SKIP(return, "no free huge page: %s", strerror(errno));
	memset(rw, 0x42, PM_HPAGE);
	ro = mmap(NULL, PM_HPAGE, PROT_READ, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, ro);
	ASSERT_LE(0, pm);

	h = pm_create_locked(pm, ro + 1, PM_HPAGE - 2, PINMDL_IO_READ_ACCESS);
	ASSERT_NE(0, h);
	ASSERT_EQ(0, pm_submit(pm, h, PINMDL_LOWER_CHECKSUM, 0, PM_HPAGE - 2,
			       0, 0, &s));
	EXPECT_EQ(pm_crc32c(ro + 1, PM_HPAGE - 2), s.result);
	EXPECT_EQ(0, pm_unlock(pm, h));
	close(pm);
	munmap(ro, PM_HPAGE);
	munmap(rw, PM_HPAGE);
	close(fd);
	EXPECT_EQ(pins, pm_pins());
}

/* Write @val over tracefs file @file: 0, or -1. */
static int trace_set(const char *file, const char *val)
{
	const char *dir = access("/sys/kernel/tracing/trace", F_OK) ?
			  "/sys/kernel/debug/tracing" : "/sys/kernel/tracing";
	size_t len = strlen(val);
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* set_ftrace_filter takes a name a write. */
	while (len) {
		n = write(fd, val, len);
		if (n <= 0)
			break;
		val += n;
		len -= n;
	}
	return close(fd) || len ? -1 : 0;
}

/* Lines of the trace buffer that record a call of a GUP function. */
static long gup_calls_traced(void)
{
	const char *dir = access("/sys/kernel/tracing/trace", F_OK) ?
			  "/sys/kernel/debug/tracing" : "/sys/kernel/tracing";
	char path[128], line[512];
	long calls = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/trace", dir);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (line[0] != '#' && strstr(line, ": pin_user_pages"))
			calls++;
	fclose(f);
	return calls;
}

/*
 * A read lock that pinned pages a write would copy away from (the zero
 * page of never-touched memory, before 6.2) pins them again writable a
 * run of pages at a time: a read lock of 1024 such pages calls GUP a few
 * times, not once a page. The calls are counted with the function tracer.
 */
TEST(read_lock_pins_again_by_runs)
{
	const size_t len = 1024 * PM_PAGE;
	char *buf = pm_map(len, PROT_READ | PROT_WRITE), pid[16];
	long pins = pm_pins(), calls;
	int fd = pm_open();
	uint32_t h;

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, madvise(buf, len, MADV_NOHUGEPAGE));
	snprintf(pid, sizeof(pid), "%d", getpid());
	if (trace_set("current_tracer", "nop") ||
	    trace_set("set_ftrace_filter",
		      "pin_user_pages_fast pin_user_pages_remote") ||
	    trace_set("set_ftrace_pid", pid) || trace_set("tracing_on", "1")) {
		trace_set("set_ftrace_filter", "");
		SKIP(return, "no function tracer for GUP: %s", strerror(errno));
	}
	ASSERT_EQ(0, trace_set("trace", ""));
	ASSERT_EQ(0, trace_set("current_tracer", "function"));
	h = pm_create_locked(fd, buf, len, PINMDL_IO_READ_ACCESS);
	/* Read before the tracer changes: that empties the buffer. */
	trace_set("tracing_on", "0");
	calls = gup_calls_traced();
	trace_set("current_tracer", "nop");
	trace_set("tracing_on", "1");
	trace_set("set_ftrace_pid", "");
	trace_set("set_ftrace_filter", "");
	ASSERT_NE(0, h);
	EXPECT_LT(0, calls);
	EXPECT_GE(8, calls) TH_LOG("%ld calls of GUP for 1024 pages", calls);
	EXPECT_EQ(0, pm_unlock(fd, h));
	close(fd);
	munmap(buf, len);
	EXPECT_EQ(pins, pm_pins());
}

TEST_HARNESS_MAIN
