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
	switch (READ_ONCE((mdl->parent ?: mdl)->cache)) {
	case PINMDL_WRITE_COMBINED:
		return pgprot_writecombine(prot);
	case PINMDL_NON_CACHED:
		return pgprot_noncached(prot);
	default:
		return prot;
	}
}

/* Give the @n pages of @pfns the memory type of @cache. */
static int pinmdl_cache_set_pages(const u64 *pfns, u64 n,
				  enum pinmdl_cache_type cache)
{
#ifdef CONFIG_X86
	struct page **pages;
	u64 i;
	int ret;

	if (n > INT_MAX)
		return -ENOMEM;
	pages = kvmalloc_array(n, sizeof(*pages), GFP_KERNEL | __GFP_NOWARN);
	if (!pages)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		pages[i] = pfn_to_page(pfns[i]);
	if (cache == PINMDL_WRITE_COMBINED)
		ret = set_pages_array_wc(pages, n);
	else if (cache == PINMDL_NON_CACHED)
		ret = set_pages_array_uc(pages, n);
	else
		ret = set_pages_array_wb(pages, n);
	kvfree(pages);
	return ret;
#else
	return cache == PINMDL_CACHED ? 0 : -EOPNOTSUPP;
#endif
}

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
	    (cache != PINMDL_CACHED && !(root->flags & PINMDL_F_ALLOCATED)))
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
 * mapping: the cached system mapping is dropped first, and a descriptor
 * with partial children, a user mapping window or requests in flight
 * keeps its mode.
 *
 * Context: process context, @mdl->lock held; may sleep.
 * Return: 0; -EBUSY if the pages cannot change mode now; -ENOMEM.
 */
int pinmdl_cache_set(struct pinmdl *mdl, enum pinmdl_cache_type cache)
{
	const struct pinmdl *root = mdl->parent ?: mdl;
	int ret;

	lockdep_assert_held(&mdl->lock);

	if (root->cache == cache)
		return 0;
	if (mdl->parent || mdl->children || mdl->umap ||
	    atomic_read(&mdl->in_flight))
		return -EBUSY;
	pinmdl_drop_views(mdl);
	ret = pinmdl_cache_set_pages(mdl->pfns, mdl->page_count, cache);
	if (ret)
		return ret;
	WRITE_ONCE(mdl->cache, cache);
	return 0;
}

/**
 * pinmdl_cache_reset() - make allocated pages cached again
 * @mdl: allocated descriptor whose pages are about to be freed
 *
 * Context: process context, @mdl->lock held; may sleep.
 */
void pinmdl_cache_reset(struct pinmdl *mdl)
{
	lockdep_assert_held(&mdl->lock);

	if (mdl->cache == PINMDL_CACHED)
		return;
	/* The pages go back to the allocator cached, whatever happens. */
	WARN_ON_ONCE(pinmdl_cache_set_pages(mdl->pfns, mdl->page_count,
					    PINMDL_CACHED));
	WRITE_ONCE(mdl->cache, PINMDL_CACHED);
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
 * partial children, a user mapping window or requests in flight keeps its
 * mode (-EBUSY), and mappings of pinmdl_map_range() must not exist.
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
