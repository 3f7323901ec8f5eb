// SPDX-License-Identifier: GPL-2.0
/*
 * Views of just a part of a descriptor: a bvec iov_iter over its bytes,
 * and a kernel mapping of its pages alone.
 */
#include <linux/bvec.h>
#include <linux/export.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/vmalloc.h>

#include "core/desc.h"

/* Longest bvec: contiguous pages merge up to this many bytes. */
#define PINMDL_BVEC_MAX		SZ_1G

/* Pages of the contiguous run at page @i, at most @max, before @end. */
static u64 pinmdl_run(const struct pinmdl *mdl, u64 i, u64 end, u64 max)
{
	u64 run = 1;

	while (i + run < end && run < max &&
	       mdl->pfns[i + run] == mdl->pfns[i] + run)
		run++;
	return run;
}

/**
 * pinmdl_bvec_fill() - describe part of a descriptor as bio_vecs
 * @mdl: locked, partial or kernel-source descriptor whose pages stay
 * @offset: start of the part, from @mdl's first byte
 * @length: length of the part, > 0, inside @mdl
 * @bvec: array of *@nr entries, or NULL to count only
 * @nr: room in @bvec; on return, the bio_vecs used
 *
 * Contiguous pages merge into one bio_vec of at most 1 GiB.
 *
 * Return: the bytes described: @length, or less once *@nr bio_vecs are
 * used.
 */
u64 pinmdl_bvec_fill(const struct pinmdl *mdl, u64 offset, u64 length,
		     struct bio_vec *bvec, unsigned int *nr)
{
	u64 first, end, i, run, done = 0;
	unsigned int n = 0, in_page, len;

	offset += mdl->byte_offset;
	first = offset >> PAGE_SHIFT;
	end = (offset + length - 1) / PAGE_SIZE + 1;
	in_page = offset_in_page(offset);
	for (i = first; i < end && n < *nr; i += run, n++) {
		run = pinmdl_run(mdl, i, end, PINMDL_BVEC_MAX >> PAGE_SHIFT);
		len = min_t(u64, length - done, run * PAGE_SIZE - in_page);
		if (bvec)
			bvec_set_page(&bvec[n], pfn_to_page(mdl->pfns[i]), len,
				      in_page);
		done += len;
		in_page = 0;
	}
	*nr = n;
	return done;
}

/* Check that [@offset, @offset + @length) of @mdl has pages to show. */
static int pinmdl_part_valid(struct pinmdl *mdl, u64 offset, u64 length)
{
	int ret = 0;

	mutex_lock(&mdl->lock);
	if (mdl->dead || !pinmdl_has_pfns(mdl) ||
	    !pinmdl_range_valid(mdl, offset, length))
		ret = -EINVAL;
	mutex_unlock(&mdl->lock);
	return ret;
}

/**
 * pinmdl_iter() - an iov_iter over part of a descriptor
 * @mdl: locked, partial or kernel-source descriptor
 * @offset: start of the part, from the descriptor's first byte
 * @length: length of the part in bytes, > 0
 * @direction: ITER_SOURCE to read the memory, ITER_DEST to write it
 * @iter: the iterator, over exactly the part's bytes
 * @bvec: its bio_vec array; the caller frees it with kvfree()
 *
 * Contiguous pages share one bio_vec. The iterator is valid while the
 * descriptor stays locked (or, if partial or kernel-source, allocated).
 *
 * Context: process context.
 * Return: 0, -EINVAL if the descriptor has no pages or the part is empty
 * or outside it, or -ENOMEM.
 */
int pinmdl_iter(struct pinmdl *mdl, u64 offset, u64 length,
		unsigned int direction, struct iov_iter *iter,
		struct bio_vec **bvec)
{
	unsigned int n = UINT_MAX;
	int ret;

	ret = pinmdl_part_valid(mdl, offset, length);
	if (ret)
		return ret;
	pinmdl_bvec_fill(mdl, offset, length, NULL, &n);
	*bvec = kvmalloc_array(n, sizeof(**bvec), GFP_KERNEL);
	if (!*bvec)
		return -ENOMEM;
	pinmdl_bvec_fill(mdl, offset, length, *bvec, &n);
	iov_iter_bvec(iter, direction, *bvec, n, length);
	return 0;
}
EXPORT_SYMBOL_GPL(pinmdl_iter);

/**
 * pinmdl_map_range() - map part of a descriptor into the kernel
 * @mdl: locked, partial or kernel-source descriptor
 * @offset: start of the part, from the descriptor's first byte
 * @length: length of the part in bytes, > 0
 *
 * Only the pages of the part are mapped (vmap), writable only if the
 * descriptor is locked for write or is a kernel buffer, in the cache mode
 * of allocated pages.
 *
 * Context: process context; may sleep. The mapping must be undone with
 * pinmdl_unmap_range() before the descriptor is unlocked.
 * Return: the kernel address of the part's first byte, ERR_PTR(-EINVAL)
 * if the descriptor has no pages or the part is empty or outside it, or
 * ERR_PTR(-ENOMEM).
 */
void *pinmdl_map_range(struct pinmdl *mdl, u64 offset, u64 length)
{
	struct page **pages;
	u64 first, count, i;
	pgprot_t prot;
	void *va;

	/* The pages' cache mode cannot change under the lock. */
	mutex_lock(&mdl->lock);
	if (mdl->dead || !pinmdl_has_pfns(mdl) ||
	    !pinmdl_range_valid(mdl, offset, length)) {
		va = ERR_PTR(-EINVAL);
		goto out_unlock;
	}
	prot = pinmdl_cache_prot(mdl, (mdl->flags &
				       (PINMDL_F_WRITE_OPERATION |
					PINMDL_F_SOURCE_IS_KERNEL)) ?
				      PAGE_KERNEL : PAGE_KERNEL_RO);
	offset += mdl->byte_offset;
	first = offset >> PAGE_SHIFT;
	count = (offset + length - 1) / PAGE_SIZE + 1 - first;
	va = ERR_PTR(-ENOMEM);
	if (count > UINT_MAX)
		goto out_unlock;
	pages = kvmalloc_array(count, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		goto out_unlock;
	for (i = 0; i < count; i++)
		pages[i] = pfn_to_page(mdl->pfns[first + i]);
	va = vmap(pages, count, VM_MAP, prot);
	kvfree(pages);
	va = va ? va + offset_in_page(offset) : ERR_PTR(-ENOMEM);
out_unlock:
	mutex_unlock(&mdl->lock);
	return va;
}
EXPORT_SYMBOL_GPL(pinmdl_map_range);

/**
 * pinmdl_unmap_range() - undo pinmdl_map_range()
 * @addr: the address it returned
 *
 * Context: process context; may sleep.
 */
void pinmdl_unmap_range(const void *addr)
{
	vunmap((const void *)((unsigned long)addr & PAGE_MASK));
}
EXPORT_SYMBOL_GPL(pinmdl_unmap_range);
