// SPDX-License-Identifier: GPL-2.0
/*
 * Cache modes of allocated pages (the cache type of
 * MmMapLockedPagesSpecifyCache): an allocated descriptor's pages may be
 * made write-combined or uncached, for every mapping of them, kernel and
 * user, until they are freed. No two mappings of a page may disagree on
 * it: on x86 the memory type of the kernel's own mapping of the pages is
 * changed with them (set_pages_array_wc() and its kin, as TTM does for
 * its pools), and every mapping pinmdl makes of them after that takes
 * the same mode. Pages locked from user space keep theirs: other
 * mappings of them, not pinmdl's, use it too.
 */
#include <linux/export.h>
#include <linux/mm.h>
#include <linux/printk.h>
#include <linux/slab.h>
#ifdef CONFIG_X86
#include <asm/set_memory.h>
#endif

#include "core/desc.h"

/**
 * pinmdl_cache_prot() - a mapping's protection in the pages' cache mode
 * @mdl: descriptor with pages
 * @prot: the protection of a cached mapping
 *
 * Return: @prot, write-combined or uncached as the pages are.
 */
pgprot_t pinmdl_cache_prot(const struct pinmdl *mdl, pgprot_t prot)
{
	switch (pinmdl_cache_type(mdl)) {
	case PINMDL_WRITE_COMBINED:
		return pgprot_writecombine(prot);
	case PINMDL_NON_CACHED:
		return pgprot_noncached(prot);
	default:
		return prot;
	}
}

/* Pages whose memory type changes in one call, between two reschedules. */
#define PINMDL_CACHE_BATCH	512

/*
 * Give the @n pages of @pfns the memory type of @cache, a batch at a time.
 * Return 0, or -ENOMEM with *@done pages changed.
 */
static int pinmdl_cache_set_pages(const u64 *pfns, u64 n,
				  enum pinmdl_cache_type cache, u64 *done)
{
#ifdef CONFIG_X86
	struct page **pages;
	int ret = 0, nr, i;

	*done = 0;
	pages = kmalloc_array(PINMDL_CACHE_BATCH, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	while (*done < n) {
		nr = min_t(u64, n - *done, PINMDL_CACHE_BATCH);
		for (i = 0; i < nr; i++)
			pages[i] = pfn_to_page(pfns[*done + i]);
		if (cache == PINMDL_WRITE_COMBINED)
			ret = set_pages_array_wc(pages, nr);
		else if (cache == PINMDL_NON_CACHED)
			ret = set_pages_array_uc(pages, nr);
		else
			ret = set_pages_array_wb(pages, nr);
		if (ret)
			break;
		*done += nr;
		cond_resched();
	}
	kfree(pages);
	return ret ? -ENOMEM : 0;
#else
	*done = 0;
	return cache == PINMDL_CACHED ? 0 : -EOPNOTSUPP;
#endif
}

/**
 * pinmdl_cache_type() - the cache mode of a descriptor's pages
 * @mdl: descriptor with pages
 *
 * Every mapping of the pages must use it: a target that maps them itself
 * (vmap(), a user mapping of its own) asks here first.
 *
 * Context: any; the mode changes only before anything maps the pages.
 * Return: PINMDL_CACHED, or the mode pinmdl_map_locked_pages() gave an
 * allocated descriptor's pages.
 */
enum pinmdl_cache_type pinmdl_cache_type(const struct pinmdl *mdl)
{
	u8 cache = READ_ONCE((mdl->parent ?: mdl)->cache);

	return cache == PINMDL_CACHE_LOST ? PINMDL_NON_CACHED : cache;
}
EXPORT_SYMBOL_GPL(pinmdl_cache_type);

/**
 * pinmdl_cache_check() - whether a descriptor's pages may be mapped in a
 *			  cache mode
 * @mdl: locked, partial or allocated descriptor
 * @cache: the mode asked for
 *
 * Context: @mdl->lock held.
 * Return: 0; -EINVAL for an unknown mode, or a mode other than cached for
 * pages not allocated; -EBUSY if the pages have another mode already.
 */
int pinmdl_cache_check(const struct pinmdl *mdl, enum pinmdl_cache_type cache)
{
	const struct pinmdl *root = mdl->parent ?: mdl;

	lockdep_assert_held(&mdl->lock);

	if (cache > PINMDL_WRITE_COMBINED ||
	    (cache != PINMDL_CACHED && (!(root->flags & PINMDL_F_ALLOCATED) ||
					!IS_ENABLED(CONFIG_X86))))
		return -EINVAL;
	if (root->cache != PINMDL_CACHED && root->cache != cache)
		return -EBUSY;
	return 0;
}

/**
 * pinmdl_cache_set() - give an allocated descriptor's pages a cache mode
 * @mdl: descriptor that passed pinmdl_cache_check() for @cache
 * @cache: the mode
 *
 * The pages change mode only while nothing maps them but the kernel's own
 * linear mapping, which changes with them: a descriptor with partial
 * children, a user mapping window, a system mapping, a dma-buf or requests
 * in flight keeps its mode. If the change fails half way, the pages changed are set
 * back; if that fails too, no mapping of the pages is made any more and
 * they are never returned to the allocator (PINMDL_CACHE_LOST).
 *
 * Context: process context, @mdl->lock held; may sleep.
 * Return: 0; -EBUSY if the pages cannot change mode now; -ENOMEM.
 */
int pinmdl_cache_set(struct pinmdl *mdl, enum pinmdl_cache_type cache)
{
	const struct pinmdl *root = mdl->parent ?: mdl;
	u64 done, undone;
	int ret;

	lockdep_assert_held(&mdl->lock);

	if (root->cache == cache)
		return 0;
	if (mdl->parent || mdl->children || mdl->umap || mdl->exports ||
	    (mdl->flags & PINMDL_F_MAPPED_SYSTEM_VA) ||
	    atomic_read(&mdl->in_flight))
		return -EBUSY;
	pinmdl_dma_unmap_all(mdl);
	ret = pinmdl_cache_set_pages(mdl->pfns, mdl->page_count, cache, &done);
	if (!ret) {
		WRITE_ONCE(mdl->cache, cache);
		return 0;
	}
	if (pinmdl_cache_set_pages(mdl->pfns, done, PINMDL_CACHED, &undone))
		WRITE_ONCE(mdl->cache, PINMDL_CACHE_LOST);
	return ret;
}

/**
 * pinmdl_cache_reset() - make allocated pages cached again
 * @mdl: allocated descriptor whose pages are about to be freed
 *
 * Context: process context, @mdl->lock held; may sleep.
 * Return: true if the pages may go back to the allocator; false if their
 * memory type could not be set back, and they must be kept from it.
 */
bool pinmdl_cache_reset(struct pinmdl *mdl)
{
	u64 done;

	lockdep_assert_held(&mdl->lock);

	if (mdl->cache == PINMDL_CACHED)
		return true;
	if (mdl->cache != PINMDL_CACHE_LOST &&
	    !pinmdl_cache_set_pages(mdl->pfns, mdl->page_count, PINMDL_CACHED,
				    &done)) {
		WRITE_ONCE(mdl->cache, PINMDL_CACHED);
		return true;
	}
	pr_err_ratelimited("pinmdl: %llu pages of a changed memory type kept from the allocator\n",
			   mdl->page_count);
	return false;
}

/**
 * pinmdl_map_locked_pages() - map a descriptor's pages into the kernel in
 *			       a cache mode (MmMapLockedPagesSpecifyCache,
 *			       KernelMode)
 * @mdl: locked, partial or allocated descriptor
 * @cache: PINMDL_CACHED; or, for an allocated descriptor's pages,
 *	   PINMDL_NON_CACHED or PINMDL_WRITE_COMBINED, which they keep, for
 *	   every mapping of them, until they are freed
 *
 * The mapping is the descriptor's system mapping (pinmdl_system_address()),
 * made in the pages' mode, and lasts as long. A mode other than cached is
 * taken before any other mapping of the pages is made: a descriptor with
 * partial children, a user mapping window, a system mapping or requests
 * in flight keeps its mode (-EBUSY), and mappings of pinmdl_map_range()
 * must not exist.
 *
 * Context: process context; may sleep.
 * Return: the kernel address of the first byte; ERR_PTR(-EINVAL) for a
 * descriptor without pages, an unknown mode or a mode other than cached
 * for pages not allocated; ERR_PTR(-EBUSY) if the pages have another mode
 * or cannot change it now; ERR_PTR(-ENOMEM).
 */
void *pinmdl_map_locked_pages(struct pinmdl *mdl,
			      enum pinmdl_cache_type cache)
{
	void *va;
	int ret;

	mutex_lock(&mdl->lock);
	if (mdl->dead || !pinmdl_has_pfns(mdl)) {
		va = ERR_PTR(-EINVAL);
		goto out_unlock;
	}
	ret = pinmdl_cache_check(mdl, cache);
	if (!ret && cache != PINMDL_CACHED)
		ret = pinmdl_cache_set(mdl, cache);
	va = ret ? ERR_PTR(ret) : pinmdl_system_address_locked(mdl);
out_unlock:
	mutex_unlock(&mdl->lock);
	return va;
}
EXPORT_SYMBOL_GPL(pinmdl_map_locked_pages);
