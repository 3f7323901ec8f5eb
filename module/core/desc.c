// SPDX-License-Identifier: GPL-2.0
/*
 * Descriptor lifetime and geometry: IoAllocateMdl, IoFreeMdl,
 * IoBuildPartialMdl, MmBuildMdlForNonPagedPool and the accessors.
 */
#include <linux/export.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "core/desc.h"
#include "core/stats.h"
#include "trace/pinmdl_trace.h"

/**
 * pinmdl_pages_spanned() - number of pages a byte range touches
 * @addr: start of the range
 * @length: length of the range, > 0, and @addr + @length must not overflow
 *
 * Return: the page count; two bytes across a page boundary span two pages.
 */
u64 pinmdl_pages_spanned(u64 addr, u64 length)
{
	return (PAGE_ALIGN(addr + length) - (addr & PAGE_MASK)) >> PAGE_SHIFT;
}

/* The memory the allocator sets aside for an array of @count PFNs. */
static size_t pinmdl_pfns_footprint(u64 count)
{
	size_t size = array_size(count, sizeof(u64));

	return size <= PAGE_SIZE ? kmalloc_size_roundup(size) :
				   PAGE_ALIGN(size);
}

/**
 * pinmdl_pfn_array_alloc() - allocate an array of PFNs
 * @count: entries, more than 0
 * @gfp: allocation flags
 *
 * Up to a page the array comes from the slab. Above, it is whole pages:
 * kmalloc would round up to a power of two and could nearly double the 8
 * bytes a page costs. Physically contiguous pages (alloc_pages_exact())
 * come first, as every lock allocates its array and they cost one buddy
 * allocation where vmalloc maps each page; vmalloc, where blocking is
 * allowed, is the fallback when memory is too fragmented for them.
 *
 * Return: the array, to be freed with pinmdl_pfn_array_free(), or NULL.
 */
u64 *pinmdl_pfn_array_alloc(u64 count, gfp_t gfp)
{
	size_t size = array_size(count, sizeof(u64));
	u64 *pfns;

	if (size <= PAGE_SIZE) {
		pfns = kmalloc(size, gfp | __GFP_NOWARN);
	} else {
		pfns = alloc_pages_exact(size, gfp | __GFP_NORETRY |
					 __GFP_NOWARN);
		if (!pfns && gfpflags_allow_blocking(gfp))
			pfns = __vmalloc(size, gfp | __GFP_NOWARN);
	}
	if (pfns)
		atomic_long_add(pinmdl_pfns_footprint(count),
				&pinmdl_stats.bytes);
	return pfns;
}

/**
 * pinmdl_pfn_array_free() - free an array of pinmdl_pfn_array_alloc()
 * @pfns: the array
 * @count: the entries it was allocated with
 */
void pinmdl_pfn_array_free(u64 *pfns, u64 count)
{
	size_t size = array_size(count, sizeof(u64));

	atomic_long_sub(pinmdl_pfns_footprint(count), &pinmdl_stats.bytes);
	if (size > PAGE_SIZE && !is_vmalloc_addr(pfns))
		free_pages_exact(pfns, size);
	else
		kvfree(pfns);
}

/**
 * pinmdl_alloc_pfns() - allocate the PFN array of a descriptor
 * @mdl: descriptor without one
 * @gfp: allocation flags
 *
 * Return: 0, or -ENOMEM.
 */
int pinmdl_alloc_pfns(struct pinmdl *mdl, gfp_t gfp)
{
	mdl->pfns = pinmdl_pfn_array_alloc(mdl->page_count, gfp);
	return mdl->pfns ? 0 : -ENOMEM;
}

/**
 * pinmdl_free_pfns() - free the PFN array of a descriptor
 * @mdl: descriptor with an array of its own (not partial), of its page
 *	 count
 */
void pinmdl_free_pfns(struct pinmdl *mdl)
{
	pinmdl_pfn_array_free(mdl->pfns, mdl->page_count);
	mdl->pfns = NULL;
}

/**
 * pinmdl_drop_views() - forget the kernel's views of a descriptor's pages
 * @mdl: descriptor whose pages are about to change
 *
 * The system mapping and the cached DMA mappings are made again on
 * demand, over the pages it then has.
 *
 * Context: process context, @mdl->lock held.
 */
void pinmdl_drop_views(struct pinmdl *mdl)
{
	pinmdl_unmap_system_va(mdl);
	pinmdl_dma_unmap_all(mdl);
}

/* The memory the allocator sets aside for @mdl's header. */
static size_t pinmdl_header_footprint(const struct pinmdl *mdl)
{
	return kmalloc_size_roundup(pinmdl_header_size(mdl));
}

/**
 * pinmdl_header_size() - bytes of a descriptor's header
 * @mdl: descriptor
 *
 * Return: sizeof(struct pinmdl), or a page list's with its ranges.
 */
size_t pinmdl_header_size(const struct pinmdl *mdl)
{
	if (!(mdl->flags & PINMDL_F_PAGE_LIST))
		return sizeof(*mdl);
	return struct_size(pinmdl_page_list(mdl), ranges,
			   pinmdl_page_list(mdl)->nr_ranges);
}

/**
 * pinmdl_new() - a descriptor without pages: its header is all an
 *		  unlocked one costs
 * @addr: start of its range
 * @length: length of its range
 * @size: bytes of the header, sizeof(struct pinmdl) or a container's
 *	  that holds it first
 * @gfp: allocation flags
 *
 * Return: the descriptor, or ERR_PTR(-EINVAL) for an empty or overflowing
 * range, ERR_PTR(-E2BIG) beyond max_descriptor_bytes, ERR_PTR(-ENOMEM).
 */
struct pinmdl *pinmdl_new(u64 addr, u64 length, size_t size, gfp_t gfp)
{
	struct pinmdl *mdl;
	u64 pages;

	if (!length || addr + length < addr || addr + length > -PAGE_SIZE)
		return ERR_PTR(-EINVAL);
	if (length > READ_ONCE(pinmdl_max_descriptor_bytes))
		return ERR_PTR(-E2BIG);

	pages = pinmdl_pages_spanned(addr, length);
	/* The PFN array is one allocation, which stops at INT_MAX bytes. */
	if (array_size(pages, sizeof(u64)) > INT_MAX)
		return ERR_PTR(-E2BIG);
	mdl = kzalloc(size, gfp);
	if (!mdl)
		return ERR_PTR(-ENOMEM);

	mutex_init(&mdl->lock);
	INIT_LIST_HEAD(&mdl->dma_maps);
	kref_init(&mdl->ref);
	mdl->start_va = addr & PAGE_MASK;
	mdl->byte_offset = offset_in_page(addr);
	mdl->byte_count = length;
	mdl->page_count = pages;
	atomic_long_inc(&pinmdl_stats.live);
	atomic_long_add(kmalloc_size_roundup(size), &pinmdl_stats.bytes);
	return mdl;
}

static void pinmdl_release(struct kref *ref)
{
	struct pinmdl *mdl = container_of(ref, struct pinmdl, ref);

	if (mdl->parent)
		pinmdl_put(mdl->parent);
	else if (mdl->pfns)
		pinmdl_free_pfns(mdl);
	if (mdl->mm)
		mmdrop(mdl->mm);
	mutex_destroy(&mdl->lock);
	atomic_long_sub(pinmdl_header_footprint(mdl), &pinmdl_stats.bytes);
	atomic_long_dec(&pinmdl_stats.live);
	/*
	 * Handle lookups may still look at it (pinmdl_file_get()); no
	 * rcu_head, which would take the header past 256 bytes.
	 */
	kfree_rcu_mightsleep(mdl);
}

/**
 * pinmdl_get() - take a reference on a descriptor
 * @mdl: descriptor
 *
 * Context: any.
 */
void pinmdl_get(struct pinmdl *mdl)
{
	kref_get(&mdl->ref);
}

/**
 * pinmdl_put() - drop a reference taken by pinmdl_get() or at creation
 * @mdl: descriptor
 *
 * Context: process context; the last put may sleep.
 */
void pinmdl_put(struct pinmdl *mdl)
{
	kref_put(&mdl->ref, pinmdl_release);
}

/**
 * pinmdl_root() - the descriptor that owns a descriptor's pages
 * @mdl: locked, partial or kernel-source descriptor
 * @offset: in: an offset from @mdl's first byte; out: the same byte's
 *	    offset from the root's first byte
 *
 * Return: the parent of a partial descriptor, else @mdl itself.
 */
struct pinmdl *pinmdl_root(struct pinmdl *mdl, u64 *offset)
{
	struct pinmdl *root = mdl->parent ?: mdl;

	*offset += mdl->start_va + mdl->byte_offset -
		   (root->start_va + root->byte_offset);
	return root;
}

/**
 * pinmdl_has_pfns() - whether the PFN array of a descriptor is valid
 * @mdl: descriptor
 *
 * Return: true for a locked, partial or kernel-source descriptor.
 */
bool pinmdl_has_pfns(const struct pinmdl *mdl)
{
	return mdl->flags & (PINMDL_F_PAGES_LOCKED | PINMDL_F_PARTIAL |
			     PINMDL_F_SOURCE_IS_KERNEL);
}

/**
 * pinmdl_range_valid() - whether a sub-range lies inside a descriptor
 * @mdl: descriptor
 * @offset: start of the sub-range, from the descriptor's first byte
 * @length: length of the sub-range, > 0
 *
 * Return: true if [@offset, @offset + @length) is inside the descriptor.
 */
bool pinmdl_range_valid(const struct pinmdl *mdl, u64 offset, u64 length)
{
	return length && offset < mdl->byte_count &&
	       length <= mdl->byte_count - offset;
}

/**
 * pinmdl_alloc() - allocate a descriptor for a range (IoAllocateMdl)
 * @addr: start of the range; a user address of the calling process, or a
 *	  kernel address for a descriptor to be locked in PINMDL_KERNEL_MODE
 * @length: length of the range in bytes
 * @gfp: allocation flags for the descriptor
 *
 * The descriptor belongs to the calling process's address space (none for
 * a kernel thread). Nothing is probed or pinned until
 * pinmdl_probe_and_lock().
 *
 * Context: process context.
 * Return: the descriptor, or ERR_PTR(-EINVAL) for an empty or overflowing
 * range, ERR_PTR(-E2BIG) beyond max_descriptor_bytes, ERR_PTR(-ENOMEM).
 */
struct pinmdl *pinmdl_alloc(u64 addr, u64 length, gfp_t gfp)
{
	struct pinmdl *mdl = pinmdl_new(addr, length, sizeof(*mdl), gfp);

	if (IS_ERR(mdl))
		return mdl;
	if (current->mm) {
		mmgrab(current->mm);
		mdl->mm = current->mm;
	}
	return mdl;
}
EXPORT_SYMBOL_GPL(pinmdl_alloc);

/**
 * pinmdl_free() - free a descriptor (IoFreeMdl)
 * @mdl: descriptor from pinmdl_alloc(), pinmdl_build_partial(),
 *	 pinmdl_build_for_kernel_buffer() or pinmdl_alloc_pages()
 *
 * The descriptor must be unlocked (or allocated), not being locked,
 * without partial children and without lower-driver requests in flight.
 * A partial descriptor releases its parent; an allocated one returns its
 * pages (MmFreePagesFromMdl) and their charges. Every user mapping of the
 * descriptor is taken away first.
 *
 * Context: process context.
 * Return: 0; -EBUSY if locked, being locked, in flight, a parent or
 * exported; -ENOENT if already freed (the descriptor is then unchanged).
 */
int pinmdl_free(struct pinmdl *mdl)
{
	struct pinmdl *parent = mdl->parent;

	mutex_lock(&mdl->lock);
	if (mdl->dead) {
		mutex_unlock(&mdl->lock);
		return -ENOENT;
	}
	if ((mdl->flags & (PINMDL_F_PAGES_LOCKED | PINMDL_F_ALLOCATED)) ==
	    PINMDL_F_PAGES_LOCKED || mdl->children || mdl->exports ||
	    atomic_read(&mdl->in_flight) || mdl->locking) {
		mutex_unlock(&mdl->lock);
		return -EBUSY;
	}
	mdl->dead = true;
	if (mdl->flags & PINMDL_F_ALLOCATED) {
		pinmdl_free_allocated_pages(mdl);
	} else {
		pinmdl_umap_revoke(mdl);
		pinmdl_drop_views(mdl);
	}
	mutex_unlock(&mdl->lock);

	if (parent) {
		mutex_lock(&parent->lock);
		parent->children--;
		mutex_unlock(&parent->lock);
	}
	pinmdl_put(mdl);
	return 0;
}
EXPORT_SYMBOL_GPL(pinmdl_free);

/**
 * pinmdl_orphan() - let go of an exported descriptor as its file goes
 * @mdl: descriptor of a file being released, with no request in flight
 *	 and no child
 *
 * A descriptor that a dma-buf holds keeps its pages, pinned and charged,
 * for the dma-buf: it becomes dead to its owner, its user mappings and the
 * kernel's views of it go, and the creator's reference is dropped. Its
 * last dma-buf gives up the pages (export.c).
 *
 * Context: process context.
 * Return: true if @mdl was exported and is let go of; false, with nothing
 * changed, otherwise.
 */
bool pinmdl_orphan(struct pinmdl *mdl)
{
	mutex_lock(&mdl->lock);
	if (mdl->dead || !mdl->exports ||
	    WARN_ON_ONCE(mdl->children || atomic_read(&mdl->in_flight))) {
		mutex_unlock(&mdl->lock);
		return false;
	}
	mdl->dead = true;
	pinmdl_umap_revoke(mdl);
	pinmdl_drop_views(mdl);
	mutex_unlock(&mdl->lock);
	pinmdl_put(mdl);
	return true;
}

/**
 * pinmdl_fill_kernel_pfns() - fill the PFN array from a kernel range
 * @mdl: descriptor whose range is kmalloc, page allocator or vmalloc memory
 *
 * The vmalloc range also holds ioremap() mappings of device memory, whose
 * PFNs have no struct page: those are refused.
 *
 * Return: 0, or -EFAULT if a page of the range is not such memory.
 */
int pinmdl_fill_kernel_pfns(struct pinmdl *mdl)
{
	u64 i;

	for (i = 0; i < mdl->page_count; i++) {
		void *va = (void *)(uintptr_t)(mdl->start_va + i * PAGE_SIZE);
		unsigned long pfn;

		if (is_vmalloc_addr(va))
			pfn = vmalloc_to_pfn(va);
		else if (virt_addr_valid(va))
			pfn = PHYS_PFN(__pa(va));
		else
			return -EFAULT;
		if (!pfn || !pfn_valid(pfn))
			return -EFAULT;
		mdl->pfns[i] = pfn;
	}
	return 0;
}

/**
 * pinmdl_build_for_kernel_buffer() - describe a resident kernel buffer
 *				      (MmBuildMdlForNonPagedPool)
 * @buf: kmalloc, page allocator or vmalloc memory
 * @length: length of the buffer in bytes
 * @gfp: allocation flags for the descriptor
 *
 * The descriptor has SOURCE_IS_KERNEL and WRITE_OPERATION set, its PFN
 * array filled, and is never locked or unlocked. The buffer must outlive
 * the descriptor and its partial children.
 *
 * Context: process context.
 * Return: the descriptor, or ERR_PTR(-EINVAL) for an empty range,
 * ERR_PTR(-EFAULT) if @buf is not such memory (device memory mapped by
 * ioremap() included), ERR_PTR(-E2BIG), ERR_PTR(-ENOMEM).
 */
struct pinmdl *pinmdl_build_for_kernel_buffer(void *buf, size_t length,
					      gfp_t gfp)
{
	struct pinmdl *mdl = pinmdl_new((uintptr_t)buf, length, sizeof(*mdl),
					gfp);
	int ret;

	if (IS_ERR(mdl))
		return mdl;
	ret = pinmdl_alloc_pfns(mdl, gfp);
	if (!ret)
		ret = pinmdl_fill_kernel_pfns(mdl);
	if (ret) {
		pinmdl_put(mdl);
		return ERR_PTR(ret);
	}
	mdl->flags = PINMDL_F_SOURCE_IS_KERNEL | PINMDL_F_WRITE_OPERATION;
	mdl->operation = PINMDL_IO_MODIFY_ACCESS;
	return mdl;
}
EXPORT_SYMBOL_GPL(pinmdl_build_for_kernel_buffer);

/**
 * pinmdl_build_partial() - describe part of a descriptor (IoBuildPartialMdl)
 * @parent: locked or kernel-source descriptor, itself not partial
 * @addr: start of the sub-range, inside the parent's range
 * @length: length of the sub-range; 0 means up to the parent's end
 *
 * @gfp: allocation flags for the descriptor
 *
 * The child shares the parent's PFN array for the sub-range and holds the
 * parent: the parent cannot be unlocked or freed until the child is freed.
 * The child reports PARTIAL plus the parent's WRITE_OPERATION and
 * SOURCE_IS_KERNEL flags and operation, and is never locked or unlocked.
 *
 * Context: process context.
 * Return: the child, or ERR_PTR(-EBUSY) while the parent is being locked;
 * ERR_PTR(-EINVAL) if the parent is partial, a page list, freed, not
 * locked nor kernel-source, or the sub-range is outside it;
 * ERR_PTR(-ENOMEM).
 */
struct pinmdl *pinmdl_build_partial(struct pinmdl *parent, u64 addr,
				    u64 length, gfp_t gfp)
{
	u64 parent_va = parent->start_va + parent->byte_offset;
	struct pinmdl *child;
	u64 first;
	int ret = -EINVAL;

	mutex_lock(&parent->lock);
	if (parent->locking) {
		ret = -EBUSY;
		goto err_unlock;
	}
	if (parent->dead || parent->parent ||
	    (parent->flags & PINMDL_F_PAGE_LIST) ||
	    !(parent->flags & (PINMDL_F_PAGES_LOCKED |
			       PINMDL_F_SOURCE_IS_KERNEL)))
		goto err_unlock;
	if (addr < parent_va)
		goto err_unlock;
	if (!length && addr < parent_va + parent->byte_count)
		length = parent_va + parent->byte_count - addr;
	if (!pinmdl_range_valid(parent, addr - parent_va, length))
		goto err_unlock;

	child = pinmdl_new(addr, length, sizeof(*child), gfp);
	if (IS_ERR(child)) {
		ret = PTR_ERR(child);
		goto err_unlock;
	}
	first = (child->start_va - parent->start_va) >> PAGE_SHIFT;
	child->pfns = parent->pfns + first;
	child->flags = PINMDL_F_PARTIAL |
		       (parent->flags & (PINMDL_F_WRITE_OPERATION |
					 PINMDL_F_SOURCE_IS_KERNEL));
	child->operation = parent->operation;
	if (parent->mm) {
		mmgrab(parent->mm);
		child->mm = parent->mm;
	}
	pinmdl_get(parent);
	child->parent = parent;
	parent->children++;
	mutex_unlock(&parent->lock);
	trace_pinmdl_partial(parent->handle, addr, length, 0);
	return child;

err_unlock:
	mutex_unlock(&parent->lock);
	trace_pinmdl_partial(parent->handle, addr, length, ret);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(pinmdl_build_partial);

/**
 * pinmdl_reuse_partial() - describe another part of the same parent with a
 *			    partial descriptor (MmPrepareMdlForReuse, then
 *			    IoBuildPartialMdl)
 * @child: partial descriptor of @parent
 * @parent: its parent
 * @addr: start of the new sub-range, inside the parent's range
 * @length: its length; 0 means up to the parent's end
 *
 * The child keeps its parent, handle and flags and is not freed: it
 * describes the new sub-range, whose PFNs are the parent's. Its system
 * and DMA mappings are dropped, and made again on demand.
 *
 * Context: process context.
 * Return: 0; -ENOENT if @child was freed; -EINVAL if @child is not a
 * partial descriptor of @parent or the sub-range is outside the parent;
 * -EBUSY while @child has requests in flight or a process maps it.
 */
int pinmdl_reuse_partial(struct pinmdl *child, struct pinmdl *parent,
			 u64 addr, u64 length)
{
	u64 parent_va;
	int ret = -EINVAL;

	mutex_lock(&child->lock);
	if (child->dead) {
		ret = -ENOENT;
		goto out_unlock;
	}
	/* A parent with a child is never unlocked, advanced or freed. */
	if (!child->parent || child->parent != parent)
		goto out_unlock;
	parent_va = parent->start_va + parent->byte_offset;
	if (addr < parent_va)
		goto out_unlock;
	if (!length && addr < parent_va + parent->byte_count)
		length = parent_va + parent->byte_count - addr;
	if (!pinmdl_range_valid(parent, addr - parent_va, length))
		goto out_unlock;
	if (atomic_read(&child->in_flight)) {
		ret = -EBUSY;
		goto out_unlock;
	}
	ret = pinmdl_umap_retire_unmapped(child);
	if (ret)
		goto out_unlock;

	pinmdl_drop_views(child);
	child->start_va = addr & PAGE_MASK;
	child->byte_offset = offset_in_page(addr);
	child->byte_count = length;
	child->page_count = pinmdl_pages_spanned(addr, length);
	child->pfns = parent->pfns +
		      ((child->start_va - parent->start_va) >> PAGE_SHIFT);
out_unlock:
	mutex_unlock(&child->lock);
	trace_pinmdl_partial(parent->handle, addr, length, ret);
	return ret;
}
EXPORT_SYMBOL_GPL(pinmdl_reuse_partial);

/**
 * pinmdl_pfn_array() - the PFN array of a descriptor (MmGetMdlPfnArray)
 * @mdl: locked, partial or kernel-source descriptor
 *
 * Return: pinmdl_page_count() PFNs, one per page spanned, valid while the
 * descriptor stays locked and is not advanced (for a partial descriptor,
 * until it is freed or reused; for a kernel-source one, until it is
 * freed).
 */
const u64 *pinmdl_pfn_array(const struct pinmdl *mdl)
{
	return mdl->pfns;
}
EXPORT_SYMBOL_GPL(pinmdl_pfn_array);

/**
 * pinmdl_start_va() - page-aligned start of a descriptor's range
 * @mdl: descriptor
 *
 * Return: the start address rounded down to a page (MmGetMdlVirtualAddress
 * minus the byte offset).
 */
u64 pinmdl_start_va(const struct pinmdl *mdl)
{
	return mdl->start_va;
}
EXPORT_SYMBOL_GPL(pinmdl_start_va);

/**
 * pinmdl_byte_offset() - offset of a descriptor's range in its first page
 * @mdl: descriptor
 *
 * Return: the offset, less than PAGE_SIZE (MmGetMdlByteOffset).
 */
u32 pinmdl_byte_offset(const struct pinmdl *mdl)
{
	return mdl->byte_offset;
}
EXPORT_SYMBOL_GPL(pinmdl_byte_offset);

/**
 * pinmdl_byte_count() - length of a descriptor's range
 * @mdl: descriptor
 *
 * Return: the length in bytes (MmGetMdlByteCount).
 */
u64 pinmdl_byte_count(const struct pinmdl *mdl)
{
	return mdl->byte_count;
}
EXPORT_SYMBOL_GPL(pinmdl_byte_count);

/**
 * pinmdl_page_count() - pages spanned by a descriptor's range
 * @mdl: descriptor
 *
 * Return: the number of entries of the PFN array
 * (ADDRESS_AND_SIZE_TO_SPAN_PAGES).
 */
u64 pinmdl_page_count(const struct pinmdl *mdl)
{
	return mdl->page_count;
}
EXPORT_SYMBOL_GPL(pinmdl_page_count);

/**
 * pinmdl_flags() - state flags of a descriptor
 * @mdl: descriptor
 *
 * Context: the value is a snapshot unless the caller excludes state changes.
 * Return: PINMDL_F_* flags; PINMDL_F_IN_FLIGHT while requests hold it,
 * PINMDL_F_USER_MAPPED while a process maps its pages, PINMDL_F_EXPORTED
 * while a dma-buf of it exists.
 */
u32 pinmdl_flags(const struct pinmdl *mdl)
{
	return READ_ONCE(mdl->flags) |
	       (atomic_read(&mdl->in_flight) ? PINMDL_F_IN_FLIGHT : 0) |
	       (READ_ONCE(mdl->exports) ? PINMDL_F_EXPORTED : 0) |
	       (pinmdl_umap_mapped(mdl) ? PINMDL_F_USER_MAPPED : 0);
}
EXPORT_SYMBOL_GPL(pinmdl_flags);

/**
 * pinmdl_operation() - operation a descriptor is locked for
 * @mdl: locked or partial descriptor
 *
 * Return: PINMDL_IO_READ_ACCESS, _WRITE_ACCESS or _MODIFY_ACCESS.
 */
u32 pinmdl_operation(const struct pinmdl *mdl)
{
	return READ_ONCE(mdl->operation);
}
EXPORT_SYMBOL_GPL(pinmdl_operation);
