// SPDX-License-Identifier: GPL-2.0
/*
 * Allocated pages (MmAllocatePagesForMdlEx, MmFreePagesFromMdl): zeroed
 * pages of the page allocator, below a highest physical address, on a
 * node, contiguous or not, described by a descriptor born locked for
 * write and charged as a lock of as many pages.
 *
 * Pages that need not be contiguous come a 2 MiB block at a time while
 * the allocator has such blocks at hand, then a 64 KiB one, then single
 * pages, as the kernel's system dma-buf heap allocates; each block is
 * split into pages, so that each page is freed on its own. They are
 * never movable: a long-term user of the pages (a device, a mapping)
 * would keep them from being migrated.
 */
#include <linux/export.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/nodemask.h>
#include <linux/pagemap.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>

#include "core/desc.h"
#include "core/stats.h"

/* Orders of the blocks pages that need not be contiguous come in. */
static const unsigned int pinmdl_alloc_orders[] = { 9, 4, 0 };
/*
 * Pages above the highest address asked for that an allocation holds on
 * to, so that the allocator hands out others, before it gives up a size.
 */
#define PINMDL_ALLOC_REJECTS_MAX	(SZ_16M >> PAGE_SHIFT)

/**
 * struct pinmdl_alloc_job - pages being allocated
 * @gfp: flags for the page allocator
 * @node: NUMA node, or NUMA_NO_NODE
 * @highest: the highest physical address a page may reach, 0 for any
 * @rejects: blocks beyond @highest, held until the allocation ends (their
 *	     order in page_private)
 * @nr_rejects: pages of @rejects
 */
struct pinmdl_alloc_job {
	gfp_t gfp;
	int node;
	phys_addr_t highest;
	struct list_head rejects;
	unsigned long nr_rejects;
};

/*
 * The allocation flags for pages at or below @highest: the zone below it,
 * if any. Above 4 GiB no zone ends where a device's reach does: the pages
 * are checked, and those beyond it are asked for again below 4 GiB. The
 * allocator may fail rather than invoke the OOM killer: the caller is
 * told, and fewer pages may do.
 */
static gfp_t pinmdl_alloc_gfp(phys_addr_t highest)
{
	gfp_t gfp = GFP_USER | __GFP_ZERO | __GFP_ACCOUNT | __GFP_NOWARN |
		    __GFP_RETRY_MAYFAIL;

	if (!highest || highest >= SZ_4G)
		return gfp;
	if (IS_ENABLED(CONFIG_ZONE_DMA) && highest < SZ_16M)
		return gfp | GFP_DMA;
	return gfp | GFP_DMA32;
}

/*
 * A block of 2^@order pages whose first @kept are at or below the highest
 * address, or NULL; with @at_hand, only if the allocator has one without
 * reclaiming. A block beyond it is held (up to PINMDL_ALLOC_REJECTS_MAX pages), so that
 * the allocator, which would give it back at once, gives another; the
 * allocation turns to ZONE_DMA32 at the first one.
 */
static struct page *pinmdl_alloc_block(struct pinmdl_alloc_job *job,
				       unsigned int order, unsigned long kept,
				       bool at_hand)
{
	gfp_t gfp;
	struct page *page;

	while (!fatal_signal_pending(current)) {
		/* A block larger than a page only if at hand: no reclaim. */
		gfp = at_hand ? (job->gfp | __GFP_NORETRY) &
				~(__GFP_DIRECT_RECLAIM | __GFP_RETRY_MAYFAIL) :
				job->gfp;
		page = alloc_pages_node(job->node, gfp, order);
		if (!page)
			return NULL;
		if (!job->highest ||
		    PFN_PHYS(page_to_pfn(page) + kept) - 1 <= job->highest)
			return page;
		set_page_private(page, order);
		list_add(&page->lru, &job->rejects);
		job->nr_rejects += 1UL << order;
		if (!(job->gfp & (GFP_DMA | GFP_DMA32)))
			job->gfp |= GFP_DMA32;
		else if (job->nr_rejects >= PINMDL_ALLOC_REJECTS_MAX)
			return NULL;
		cond_resched();
	}
	return NULL;
}

static void pinmdl_alloc_free_rejects(struct pinmdl_alloc_job *job)
{
	struct page *page, *next;
	unsigned int order;

	list_for_each_entry_safe(page, next, &job->rejects, lru) {
		list_del(&page->lru);
		order = page_private(page);
		set_page_private(page, 0);
		__free_pages(page, order);
	}
}

/* Pages freed together: release_pages() returns them in one batch. */
#define PINMDL_ALLOC_FREE_BATCH	64

static void pinmdl_alloc_free_pfns(const u64 *pfns, u64 count)
{
	struct page *pages[PINMDL_ALLOC_FREE_BATCH];
	u64 i = 0;
	int n;

	while (i < count) {
		for (n = 0; n < PINMDL_ALLOC_FREE_BATCH && i < count; n++, i++)
			pages[n] = pfn_to_page(pfns[i]);
		release_pages(pages, n);
		cond_resched();
	}
}

/*
 * Fill @mdl's PFN array with contiguous pages: all of them, or without
 * @full the most a halving of the length finds. A block of the next power
 * of two is split, and its tail freed (alloc_pages_exact_nid() is not
 * exported). Return the pages got, or 0 for none.
 */
static u64 pinmdl_alloc_contiguous(struct pinmdl *mdl,
				   struct pinmdl_alloc_job *job, bool full)
{
	u64 pages = mdl->page_count, i;
	struct page *page = NULL;
	unsigned int order;

	for (;;) {
		order = get_order(pages << PAGE_SHIFT);
		if ((1UL << order) <= MAX_ORDER_NR_PAGES)
			page = pinmdl_alloc_block(job, order, pages, false);
		if (page || full || pages == 1 || fatal_signal_pending(current))
			break;
		pages /= 2;
	}
	if (!page)
		return 0;
	split_page(page, order);
	for (i = pages; i < (1UL << order); i++)
		__free_page(page + i);
	for (i = 0; i < pages; i++)
		mdl->pfns[i] = page_to_pfn(page) + i;
	return pages;
}

/*
 * Fill @mdl's PFN array with pages in blocks of pinmdl_alloc_orders, as
 * many as the allocator gives: the caller decides whether that is enough.
 * Blocks larger than a page are taken only while the allocator has them
 * at hand. Return the pages got.
 */
static u64 pinmdl_alloc_scattered(struct pinmdl *mdl,
				  struct pinmdl_alloc_job *job)
{
	unsigned int k = 0, order, j;
	struct page *page;
	u64 got = 0;

	while (got < mdl->page_count && k < ARRAY_SIZE(pinmdl_alloc_orders) &&
	       !fatal_signal_pending(current)) {
		order = pinmdl_alloc_orders[k];
		if (mdl->page_count - got < (1UL << order)) {
			k++;
			continue;
		}
		page = pinmdl_alloc_block(job, order, 1UL << order, order > 0);
		if (!page) {
			k++;
			continue;
		}
		if (order)
			split_page(page, order);
		for (j = 0; j < (1U << order); j++)
			mdl->pfns[got++] = page_to_pfn(page) + j;
		cond_resched();
	}
	return got;
}

/**
 * pinmdl_alloc_pages() - allocate zeroed pages as a locked descriptor
 *			  (MmAllocatePagesForMdlEx)
 * @length: bytes, more than 0, rounded up to whole pages
 * @highest: the highest physical address a page may reach, 0 for any
 * @node: NUMA node of the pages, or NUMA_NO_NODE
 * @flags: PINMDL_ALLOC_CONTIGUOUS for physically contiguous pages;
 *	   PINMDL_ALLOC_FULLY_REQUIRED for all of them or none
 * @gfp: allocation flags for the descriptor and its PFN array
 *
 * The descriptor (ALLOCATED) is born locked for write, with start_va 0 and
 * byte_offset 0: its byte count is the bytes allocated, which without
 * PINMDL_ALLOC_FULLY_REQUIRED may be fewer than asked for, down to one
 * page. The pages are charged to the caller as a lock of as many pages
 * would be (RLIMIT_MEMLOCK, max_pinned_pages) and to its memory cgroup.
 * It is never unlocked: pinmdl_free() returns the pages
 * (MmFreePagesFromMdl) and the descriptor.
 *
 * Context: process context of a user process; may sleep.
 * Return: the descriptor; ERR_PTR(-EINVAL) for a length of 0, unknown
 * @flags or a @node without memory; ERR_PTR(-E2BIG) beyond
 * max_descriptor_bytes; ERR_PTR(-EPERM) without an address space to
 * charge; ERR_PTR(-ENOMEM) beyond the limits or without the pages;
 * ERR_PTR(-EINTR) on a fatal signal.
 */
struct pinmdl *pinmdl_alloc_pages(u64 length, phys_addr_t highest, int node,
				  u32 flags, gfp_t gfp)
{
	bool full = flags & PINMDL_ALLOC_FULLY_REQUIRED;
	struct pinmdl_alloc_job job = {
		.gfp = pinmdl_alloc_gfp(highest),
		.node = node,
		.highest = highest,
		.rejects = LIST_HEAD_INIT(job.rejects),
	};
	struct pinmdl *mdl;
	u64 got, *pfns;
	int ret;

	if (flags & ~(PINMDL_ALLOC_CONTIGUOUS | PINMDL_ALLOC_FULLY_REQUIRED) ||
	    !length || length > U64_MAX - PAGE_SIZE)
		return ERR_PTR(-EINVAL);
	if (node != NUMA_NO_NODE &&
	    (node < 0 || node >= MAX_NUMNODES || !node_state(node, N_MEMORY)))
		return ERR_PTR(-EINVAL);
	if (!current->mm)
		return ERR_PTR(-EPERM);

	mdl = pinmdl_alloc(0, PAGE_ALIGN(length), gfp);
	if (IS_ERR(mdl))
		return mdl;
	ret = pinmdl_charge(mdl);
	if (ret)
		goto err_put;
	ret = pinmdl_alloc_pfns(mdl, gfp);
	if (ret)
		goto err_uncharge;
	if (node != NUMA_NO_NODE)
		job.gfp |= __GFP_THISNODE;
	if (flags & PINMDL_ALLOC_CONTIGUOUS)
		got = pinmdl_alloc_contiguous(mdl, &job, full);
	else
		got = pinmdl_alloc_scattered(mdl, &job);
	pinmdl_alloc_free_rejects(&job);
	if (!got || (full && got < mdl->page_count) ||
	    fatal_signal_pending(current)) {
		ret = fatal_signal_pending(current) ? -EINTR : -ENOMEM;
		goto err_free_pages;
	}

	/* Fewer pages: an array of their size, and their charges only. */
	if (got < mdl->page_count) {
		pfns = pinmdl_pfn_array_alloc(got, gfp);
		if (!pfns) {
			ret = -ENOMEM;
			goto err_free_pages;
		}
		memcpy(pfns, mdl->pfns, got * sizeof(*pfns));
		pinmdl_free_pfns(mdl);
		mdl->pfns = pfns;
		pinmdl_uncharge_pages(mdl, mdl->page_count - got);
	}
	mdl->page_count = got;
	mdl->byte_count = got << PAGE_SHIFT;
	mdl->flags = PINMDL_F_PAGES_LOCKED | PINMDL_F_WRITE_OPERATION |
		     PINMDL_F_ALLOCATED;
	mdl->operation = PINMDL_IO_WRITE_ACCESS;
	atomic_long_inc(&pinmdl_stats.locked);
	return mdl;

err_free_pages:
	pinmdl_alloc_free_pfns(mdl->pfns, got);
	pinmdl_free_pfns(mdl);
err_uncharge:
	pinmdl_uncharge(mdl);
err_put:
	pinmdl_put(mdl);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(pinmdl_alloc_pages);

/**
 * pinmdl_free_allocated_pages() - return an allocated descriptor's pages
 *				   (MmFreePagesFromMdl)
 * @mdl: ALLOCATED descriptor, with no request in flight and no child
 *
 * Context: process context, @mdl->lock held.
 */
void pinmdl_free_allocated_pages(struct pinmdl *mdl)
{
	lockdep_assert_held(&mdl->lock);

	pinmdl_umap_revoke(mdl);
	pinmdl_drop_views(mdl);
	if (pinmdl_cache_reset(mdl))
		pinmdl_alloc_free_pfns(mdl->pfns, mdl->page_count);
	pinmdl_uncharge(mdl);
	pinmdl_free_pfns(mdl);
	mdl->flags &= ~(PINMDL_F_PAGES_LOCKED | PINMDL_F_WRITE_OPERATION);
	atomic_long_dec(&pinmdl_stats.locked);
}
