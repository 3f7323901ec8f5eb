// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel views of a descriptor's pages: the cached system mapping
 * (MmGetSystemAddressForMdlSafe) and a scatter-gather table for the DMA API.
 */
#include <linux/err.h>
#include <linux/export.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "core/desc.h"

/**
 * pinmdl_unmap_system_va() - drop the cached system mapping, if any
 * @mdl: descriptor
 *
 * Context: process context, @mdl->lock held.
 */
void pinmdl_unmap_system_va(struct pinmdl *mdl)
{
	lockdep_assert_held(&mdl->lock);

	if (!(mdl->flags & PINMDL_F_MAPPED_SYSTEM_VA))
		return;
	vunmap(mdl->system_va);
	mdl->system_va = NULL;
	mdl->flags &= ~PINMDL_F_MAPPED_SYSTEM_VA;
}

/**
 * pinmdl_vmap() - map all of a descriptor's pages for the kernel
 * @mdl: descriptor with pages, which do not change while the mapping lives
 * @write: writable, else read-only
 *
 * The mapping has the pages' cache mode; vunmap() takes it away.
 *
 * Context: process context; may sleep.
 * Return: the address of the first page, or NULL if out of memory.
 */
void *pinmdl_vmap(const struct pinmdl *mdl, bool write)
{
	pgprot_t prot = pinmdl_cache_prot(mdl, write ? PAGE_KERNEL :
						       PAGE_KERNEL_RO);
	struct page **pages;
	void *va;
	u64 i;

	if (mdl->page_count > UINT_MAX)
		return NULL;
	pages = kvmalloc_array(mdl->page_count, sizeof(*pages),
			       GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!pages)
		return NULL;
	for (i = 0; i < mdl->page_count; i++)
		pages[i] = pfn_to_page(mdl->pfns[i]);
	va = vmap(pages, mdl->page_count, VM_MAP, prot);
	kvfree(pages);
	return va;
}

/*
 * Map the pages once for the kernel: writable only after a write lock. A
 * read lock's pages are never dirtied at unlock, so a kernel writer would
 * lose its data silently; read-only, it faults at once.
 */
static int pinmdl_map_system_va(struct pinmdl *mdl)
{
	lockdep_assert_held(&mdl->lock);

	mdl->system_va = pinmdl_vmap(mdl, mdl->flags & PINMDL_F_WRITE_OPERATION);
	if (!mdl->system_va)
		return -ENOMEM;
	mdl->flags |= PINMDL_F_MAPPED_SYSTEM_VA;
	return 0;
}

/**
 * pinmdl_system_address_locked() - pinmdl_system_address(), with the
 *				    descriptor's lock held
 * @mdl: live descriptor with pages
 *
 * Context: process context, @mdl->lock held; may sleep.
 * Return: as pinmdl_system_address().
 */
void *pinmdl_system_address_locked(struct pinmdl *mdl)
{
	int ret;

	lockdep_assert_held(&mdl->lock);

	if ((mdl->flags & PINMDL_F_SOURCE_IS_KERNEL) || mdl->kernel_mode)
		return (void *)(uintptr_t)(mdl->start_va + mdl->byte_offset);
	if (!(mdl->flags & PINMDL_F_MAPPED_SYSTEM_VA)) {
		ret = pinmdl_map_system_va(mdl);
		if (ret)
			return ERR_PTR(ret);
	}
	return mdl->system_va + mdl->byte_offset;
}

/**
 * pinmdl_system_address() - kernel address of a descriptor's first byte
 *			     (MmGetSystemAddressForMdlSafe)
 * @mdl: locked, partial or kernel-source descriptor
 *
 * A kernel-source descriptor (or one locked in kernel mode) is its own
 * mapping. Otherwise the pages are mapped once with vmap() and the mapping
 * is cached until the descriptor is unlocked or advanced (or, if partial,
 * freed or reused); that
 * mapping is read-only unless the descriptor is locked for write
 * (WRITE_OPERATION), and in the cache mode of allocated pages
 * (pinmdl_map_locked_pages()).
 *
 * Context: process context; may sleep.
 * Return: the address of the first byte of the range, or ERR_PTR(-EINVAL)
 * if the descriptor has no pages, ERR_PTR(-ENOMEM) if mapping failed.
 */
void *pinmdl_system_address(struct pinmdl *mdl)
{
	void *va;

	mutex_lock(&mdl->lock);
	va = mdl->dead || !pinmdl_has_pfns(mdl) ? ERR_PTR(-EINVAL) :
						  pinmdl_system_address_locked(mdl);
	mutex_unlock(&mdl->lock);
	return va;
}
EXPORT_SYMBOL_GPL(pinmdl_system_address);

/*
 * Pages of the contiguous run at @i, at most @max_pages, before @end, and
 * within one window of @bmask + 1 pages (a device's segment boundary).
 */
static unsigned int pinmdl_sg_run(const struct pinmdl *mdl, u64 i, u64 end,
				  unsigned int max_pages, unsigned long bmask)
{
	unsigned int run = 1;

	while (i + run < end && run < max_pages &&
	       mdl->pfns[i + run] == mdl->pfns[i] + run &&
	       (mdl->pfns[i] | bmask) == ((mdl->pfns[i] + run) | bmask))
		run++;
	return run;
}

/**
 * pinmdl_sg_table() - describe part of a descriptor as a scatter-gather
 *		       table
 * @mdl: locked, partial or kernel-source descriptor
 * @offset: start of the part, from the descriptor's first byte
 * @length: length of the part in bytes, > 0
 * @sgt: table to fill; the caller frees it with sg_free_table()
 * @max_segment: longest entry in bytes, at least PAGE_SIZE, such as
 *		 dma_get_max_seg_size() of the device; 0 for no limit
 * @gfp: allocation flags for the table
 *
 * Only the pages of [@offset, @offset + @length) are described, and
 * physically contiguous ones are merged into one entry of at most
 * @max_segment bytes. The first entry starts at the part's first byte and
 * the entries add up to @length.
 *
 * Context: process context; the descriptor must stay locked (or, if
 * partial or kernel-source, allocated) while the table is in use.
 * Return: 0, -EINVAL if the descriptor has no pages, the part is empty or
 * outside it, or @max_segment is below PAGE_SIZE, or -ENOMEM.
 */
int pinmdl_sg_table(struct pinmdl *mdl, u64 offset, u64 length,
		    struct sg_table *sgt, unsigned int max_segment, gfp_t gfp)
{
	int ret;

	mutex_lock(&mdl->lock);
	ret = pinmdl_sg_table_locked(mdl, offset, length, sgt, max_segment,
				     ULONG_MAX, gfp);
	mutex_unlock(&mdl->lock);
	return ret;
}
EXPORT_SYMBOL_GPL(pinmdl_sg_table);

/*
 * Fill @sgt with [@offset, @offset + @length) of @mdl's pages, @offset
 * counted from the first page's first byte.
 */
static int pinmdl_sg_build(const struct pinmdl *mdl, u64 offset, u64 length,
			   struct sg_table *sgt, unsigned int max_segment,
			   unsigned long boundary, gfp_t gfp)
{
	unsigned int nents = 0, max_pages, in_page;
	unsigned long bmask = boundary >> PAGE_SHIFT;
	u64 left = length, first, end, i;
	struct scatterlist *sg;
	int ret;

	max_pages = (max_segment ?: UINT_MAX) >> PAGE_SHIFT;
	first = offset >> PAGE_SHIFT;
	end = (offset + length - 1) / PAGE_SIZE + 1;
	in_page = offset_in_page(offset);
	for (i = first; i < end;
	     i += pinmdl_sg_run(mdl, i, end, max_pages, bmask))
		nents++;
	ret = sg_alloc_table(sgt, nents, gfp);
	if (ret)
		return ret;

	sg = sgt->sgl;
	for (i = first; i < end; sg = sg_next(sg)) {
		unsigned int run = pinmdl_sg_run(mdl, i, end, max_pages,
						 bmask);
		unsigned int len = min_t(u64, left,
					 (u64)run * PAGE_SIZE - in_page);

		sg_set_page(sg, pfn_to_page(mdl->pfns[i]), len, in_page);
		left -= len;
		in_page = 0;
		i += run;
	}
	return 0;
}

/**
 * pinmdl_sg_table_locked() - pinmdl_sg_table() with @mdl->lock held
 * @mdl: locked, partial or kernel-source descriptor
 * @offset: start of the part, from the descriptor's first byte
 * @length: length of the part in bytes, > 0
 * @sgt: table to fill
 * @max_segment: longest entry in bytes, or 0
 * @boundary: no entry spans two windows of @boundary + 1 bytes (a device's
 *	      segment boundary mask, at least PAGE_SIZE - 1), ULONG_MAX for none
 * @gfp: allocation flags for the table
 *
 * Context: process context, @mdl->lock held.
 * Return: as pinmdl_sg_table().
 */
int pinmdl_sg_table_locked(struct pinmdl *mdl, u64 offset, u64 length,
			   struct sg_table *sgt, unsigned int max_segment,
			   unsigned long boundary, gfp_t gfp)
{
	lockdep_assert_held(&mdl->lock);

	if (max_segment && max_segment < PAGE_SIZE)
		return -EINVAL;
	if (mdl->dead || !pinmdl_has_pfns(mdl) ||
	    !pinmdl_range_valid(mdl, offset, length))
		return -EINVAL;
	return pinmdl_sg_build(mdl, offset + mdl->byte_offset, length, sgt,
			       max_segment, boundary, gfp);
}

/**
 * pinmdl_sg_table_pages() - describe all of a descriptor's pages
 * @mdl: descriptor with pages, which do not change while the table lives
 * @sgt: table to fill; the caller frees it with sg_free_table()
 * @max_segment: longest entry in bytes, at least PAGE_SIZE
 * @boundary: no entry spans two windows of @boundary + 1 bytes, at least
 *	      PAGE_SIZE - 1
 * @gfp: allocation flags for the table
 *
 * The table covers the whole pages, from the first one's first byte;
 * physically contiguous pages are merged as pinmdl_sg_table() merges them.
 *
 * Context: any context that may allocate with @gfp.
 * Return: 0 or -ENOMEM.
 */
int pinmdl_sg_table_pages(const struct pinmdl *mdl, struct sg_table *sgt,
			  unsigned int max_segment, unsigned long boundary,
			  gfp_t gfp)
{
	return pinmdl_sg_build(mdl, 0, mdl->page_count << PAGE_SHIFT, sgt,
			       max_segment, boundary, gfp);
}
