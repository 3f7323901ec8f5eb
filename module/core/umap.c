// SPDX-License-Identifier: GPL-2.0
/*
 * User mappings of a descriptor's pages (MmMapLockedPagesSpecifyCache in
 * UserMode, and MmUnmapLockedPages done for the user when the pages go).
 *
 * A locked or partial descriptor gets a window: a range of mmap(2)
 * offsets of its open file, 2^31 pages from its number's on, through
 * which any process holding the file maps its pages with MAP_SHARED.
 * Windows are numbered cyclically, so that an offset just retired does
 * not name another descriptor's pages at once; each offset fits an off_t
 * (a 64-bit process's: a 32-bit one's mmap2 reaches the first 2^44 bytes
 * only). The pages
 * are inserted as PFNs (VM_PFNMAP), a run of them at each fault, and never
 * counted as mapped pages: a locked page may be anonymous memory of
 * another process, which no other mapping may share as its own. The
 * window belongs to the file's own address space (the file's f_mapping),
 * so that every mapping of it, in any process, forked or sent the file,
 * is found again by unmap_mapping_range().
 *
 * The window is retired before the pages change or go (UNLOCK, FREE,
 * ADVANCE, PARTIAL_REUSE): a fault after that finds it dead and raises
 * SIGBUS, and the mappings made before are zapped. Faults read the PFN
 * array under the window's semaphore, which retiring takes for write: no
 * fault can insert a page the descriptor no longer holds.
 */
#include <linux/atomic.h>
#include <linux/kref.h>
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/rwsem.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "core/desc.h"
#include "core/pin_compat.h"

/* Pages of one window: no descriptor spans more (8 TiB). */
#define PINMDL_UMAP_SHIFT	31
/* Windows of one file, numbered from 1, so that an offset fits an off_t. */
#define PINMDL_UMAP_MAX_ID	((1U << (63 - PAGE_SHIFT - PINMDL_UMAP_SHIFT)) - 1)
/* Pages a fault maps at once, from the one faulted on: 2 MiB of them. */
#define PINMDL_UMAP_AROUND	(SZ_2M >> PAGE_SHIFT)

/**
 * struct pinmdl_umap - a descriptor's window of mmap(2) offsets
 * @ref: held by the descriptor while the window lives, and by each VMA
 * @sem: faults read @mdl's PFNs under it; retiring takes it for write
 * @live: the window maps @mdl's pages; false once retired, for good
 * @writable: the pages may be mapped writable (a write lock's)
 * @vmas: VMAs of the window in every process
 * @mdl: the descriptor, while @live
 * @space: the file's windows
 * @id: the window's number in @space
 * @start: the window's first offset, in pages
 * @pages: the pages it maps, the descriptor's page count when it was made
 * @rcu: lookups by offset run under RCU
 */
struct pinmdl_umap {
	struct kref ref;
	struct rw_semaphore sem; /* protects live, and mdl's PFNs for faults */
	bool live;
	bool writable;
	atomic_t vmas;
	struct pinmdl *mdl;
	struct pinmdl_umap_space *space;
	u32 id;
	unsigned long start;
	unsigned long pages;
	struct rcu_head rcu;
};

/**
 * pinmdl_umap_space_init() - set up the windows of an open file
 * @space: the file's
 * @mapping: the file's address space, where every mapping of it is
 */
void pinmdl_umap_space_init(struct pinmdl_umap_space *space,
			    struct address_space *mapping)
{
	xa_init_flags(&space->windows, XA_FLAGS_ALLOC);
	space->next = 1;
	space->mapping = mapping;
}

/**
 * pinmdl_umap_space_destroy() - tear down the windows of a file
 * @space: the file's, whose descriptors are all freed
 */
void pinmdl_umap_space_destroy(struct pinmdl_umap_space *space)
{
	WARN_ON_ONCE(!xa_empty(&space->windows));
	xa_destroy(&space->windows);
}

static void pinmdl_umap_release(struct kref *ref)
{
	kfree_rcu(container_of(ref, struct pinmdl_umap, ref), rcu);
}

static void pinmdl_umap_put(struct pinmdl_umap *umap)
{
	kref_put(&umap->ref, pinmdl_umap_release);
}

/*
 * Number @umap's window, after the last one given, cyclically: reserved,
 * so that no mmap(2) finds it before it is published.
 */
static int pinmdl_umap_place(struct pinmdl_umap *umap)
{
	struct pinmdl_umap_space *space = umap->space;
	int ret;

	ret = xa_alloc_cyclic(&space->windows, &umap->id, NULL,
			      XA_LIMIT(1, PINMDL_UMAP_MAX_ID), &space->next,
			      GFP_KERNEL_ACCOUNT);
	if (ret < 0)
		return ret == -EBUSY ? -ENOSPC : ret;
	umap->start = (unsigned long)umap->id << PINMDL_UMAP_SHIFT;
	return 0;
}

/**
 * pinmdl_umap_offset() - the mmap(2) offset of a descriptor's pages
 * @mdl: locked (in user mode), partial or allocated descriptor
 * @space: the windows of the file it belongs to
 * @write_combined: map allocated pages write-combined, which they then
 *		    are for every mapping until freed
 *		    (pinmdl_map_locked_pages())
 * @offset: out: the offset of its first page
 *
 * The window is made on the first call and kept until the descriptor's
 * pages change or go: until then each call gives the same offset.
 *
 * Context: process context; takes @mdl->lock.
 * Return: 0; -ENOENT if freed; -EBUSY while being locked, or for a cache
 * mode other than the one the pages have or can take now; -EINVAL if
 * neither locked nor partial, for kernel memory, or @write_combined of
 * pages not allocated; -E2BIG past a window's pages; -ENOSPC when the
 * file has no window left; -ENOMEM.
 */
int pinmdl_umap_offset(struct pinmdl *mdl, struct pinmdl_umap_space *space,
		       bool write_combined, u64 *offset)
{
	enum pinmdl_cache_type cache = write_combined ? PINMDL_WRITE_COMBINED :
							PINMDL_CACHED;
	struct pinmdl_umap *umap;
	int ret;

	mutex_lock(&mdl->lock);
	if (mdl->dead) {
		ret = -ENOENT;
		goto out_unlock;
	}
	if (mdl->locking) {
		ret = -EBUSY;
		goto out_unlock;
	}
	/* Never kernel memory: a kernel buffer or a kernel-mode lock. */
	if (!(mdl->flags & (PINMDL_F_PAGES_LOCKED | PINMDL_F_PARTIAL)) ||
	    (mdl->flags & PINMDL_F_SOURCE_IS_KERNEL) ||
	    (mdl->parent ?: mdl)->kernel_mode) {
		ret = -EINVAL;
		goto out_unlock;
	}
	if (mdl->page_count > BIT_ULL(PINMDL_UMAP_SHIFT)) {
		ret = -E2BIG;
		goto out_unlock;
	}
	ret = pinmdl_cache_check(mdl, cache);
	if (ret)
		goto out_unlock;
	umap = mdl->umap;
	/* A window keeps the mode its pages had: no mapping may disagree. */
	if (umap && cache != (mdl->parent ?: mdl)->cache) {
		ret = -EBUSY;
		goto out_unlock;
	}
	if (!umap) {
		umap = kzalloc(sizeof(*umap), GFP_KERNEL_ACCOUNT);
		if (!umap) {
			ret = -ENOMEM;
			goto out_unlock;
		}
		kref_init(&umap->ref);
		init_rwsem(&umap->sem);
		umap->live = true;
		umap->writable = mdl->flags & PINMDL_F_WRITE_OPERATION;
		umap->mdl = mdl;
		umap->space = space;
		umap->pages = mdl->page_count;
		ret = pinmdl_umap_place(umap);
		if (ret) {
			kfree(umap);
			goto out_unlock;
		}
		/* The pages take the mode once nothing else can fail. */
		ret = pinmdl_cache_set(mdl, cache);
		if (ret) {
			xa_release(&space->windows, umap->id);
			kfree(umap);
			goto out_unlock;
		}
		/* The slot is reserved: storing in it allocates nothing. */
		xa_store(&space->windows, umap->id, umap, GFP_KERNEL_ACCOUNT);
		WRITE_ONCE(mdl->umap, umap);
	}
	*offset = (u64)umap->start << PAGE_SHIFT;
out_unlock:
	mutex_unlock(&mdl->lock);
	return ret;
}

/*
 * Retire @mdl's window, if any, and zap every mapping of it, unless @busy
 * and a VMA maps it (-EBUSY). @mdl->lock is held: no new window is made.
 */
static int pinmdl_umap_retire(struct pinmdl *mdl, bool busy)
{
	struct pinmdl_umap *umap = mdl->umap;

	lockdep_assert_held(&mdl->lock);

	if (!umap)
		return 0;
	down_write(&umap->sem);
	if (busy && atomic_read(&umap->vmas)) {
		up_write(&umap->sem);
		return -EBUSY;
	}
	umap->live = false;
	umap->mdl = NULL;
	up_write(&umap->sem);

	/* No fault maps a page now: take away those mapped before. */
	unmap_mapping_pages(umap->space->mapping, umap->start, umap->pages,
			    true);
	xa_erase(&umap->space->windows, umap->id);
	WRITE_ONCE(mdl->umap, NULL);
	pinmdl_umap_put(umap);
	return 0;
}

/**
 * pinmdl_umap_revoke() - take every user mapping of a descriptor away
 * @mdl: descriptor whose pages are about to change or go
 *
 * A later access through them raises SIGBUS.
 *
 * Context: process context, @mdl->lock held; may sleep.
 */
void pinmdl_umap_revoke(struct pinmdl *mdl)
{
	pinmdl_umap_retire(mdl, false);
}

/**
 * pinmdl_umap_retire_unmapped() - retire a descriptor's window unless
 *				   mapped
 * @mdl: descriptor whose pages are about to change
 *
 * Context: process context, @mdl->lock held; may sleep.
 * Return: 0, or -EBUSY if a process maps the window.
 */
int pinmdl_umap_retire_unmapped(struct pinmdl *mdl)
{
	return pinmdl_umap_retire(mdl, true);
}

/**
 * pinmdl_umap_mapped() - whether a process maps a descriptor's pages
 * @mdl: descriptor
 *
 * Context: any; the answer is a snapshot unless @mdl->lock is held.
 * Return: true while a VMA maps its window.
 */
bool pinmdl_umap_mapped(const struct pinmdl *mdl)
{
	struct pinmdl_umap *umap;
	bool mapped;

	rcu_read_lock();
	umap = READ_ONCE(mdl->umap);
	mapped = umap && atomic_read(&umap->vmas);
	rcu_read_unlock();
	return mapped;
}

static void pinmdl_umap_vm_open(struct vm_area_struct *vma)
{
	struct pinmdl_umap *umap = vma->vm_private_data;

	kref_get(&umap->ref);
	atomic_inc(&umap->vmas);
}

static void pinmdl_umap_vm_close(struct vm_area_struct *vma)
{
	struct pinmdl_umap *umap = vma->vm_private_data;

	atomic_dec(&umap->vmas);
	pinmdl_umap_put(umap);
}

/**
 * pinmdl_fault_pfns() - map a run of pages at a fault on a VM_PFNMAP VMA
 * @vmf: the fault
 * @pfns: PFNs of the pages the VMA maps, from offset 0
 * @index: the page faulted on, @vmf->pgoff less the VMA's first offset's
 *	   distance from @pfns[0]
 * @pages: pages in @pfns
 *
 * The page faulted on is mapped, and up to PINMDL_UMAP_AROUND - 1 after it
 * in the VMA; one left out faults on its own.
 *
 * Context: the fault's; @pfns must not change meanwhile.
 * Return: VM_FAULT_NOPAGE, or VM_FAULT_SIGBUS past @pages, or the error
 * of the page faulted on.
 */
vm_fault_t pinmdl_fault_pfns(struct vm_fault *vmf, const u64 *pfns,
			     unsigned long index, unsigned long pages)
{
	struct vm_area_struct *vma = vmf->vma;
	unsigned long addr = vmf->address & PAGE_MASK, end;
	vm_fault_t ret;

	if (index >= pages)
		return VM_FAULT_SIGBUS;
	end = min3(vma->vm_end, addr + PINMDL_UMAP_AROUND * PAGE_SIZE,
		   addr + (pages - index) * PAGE_SIZE);
	ret = vmf_insert_pfn(vma, addr, pfns[index]);
	for (addr += PAGE_SIZE, index++; addr < end && ret == VM_FAULT_NOPAGE;
	     addr += PAGE_SIZE, index++)
		if (vmf_insert_pfn(vma, addr, pfns[index]) != VM_FAULT_NOPAGE)
			break;
	return ret;
}

/* Map a run of the window's pages while it lives; else SIGBUS. */
static vm_fault_t pinmdl_umap_fault(struct vm_fault *vmf)
{
	struct pinmdl_umap *umap = vmf->vma->vm_private_data;
	vm_fault_t ret = VM_FAULT_SIGBUS;

	down_read(&umap->sem);
	if (umap->live)
		ret = pinmdl_fault_pfns(vmf, umap->mdl->pfns,
					vmf->pgoff - umap->start, umap->pages);
	up_read(&umap->sem);
	return ret;
}

static const struct vm_operations_struct pinmdl_umap_vm_ops = {
	.open = pinmdl_umap_vm_open,
	.close = pinmdl_umap_vm_close,
	.fault = pinmdl_umap_fault,
};

/**
 * pinmdl_umap_mmap() - set up a VMA over a window of a file
 * @space: the file's windows
 * @vma: the new VMA; its offset names the window and the first page
 *
 * Context: the mmap_lock held for write.
 * Return: 0; -EINVAL for a private mapping, an offset in no live window,
 * or a length past the window's pages; -EACCES for a writable mapping of
 * a read lock.
 */
int pinmdl_umap_mmap(struct pinmdl_umap_space *space,
		     struct vm_area_struct *vma)
{
	unsigned long pages = vma_pages(vma), first;
	struct pinmdl_umap *umap;
	int ret = -EINVAL;

	/* A read-only file's shared mapping has VM_MAYSHARE alone. */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	rcu_read_lock();
	umap = xa_load(&space->windows, vma->vm_pgoff >> PINMDL_UMAP_SHIFT);
	if (umap && !kref_get_unless_zero(&umap->ref))
		umap = NULL;
	rcu_read_unlock();
	if (!umap)
		return -EINVAL;

	down_read(&umap->sem);
	first = vma->vm_pgoff - umap->start;
	if (!umap->live || first >= umap->pages ||
	    pages > umap->pages - first)
		goto err_unlock;
	if (!umap->writable) {
		ret = -EACCES;
		if (vma->vm_flags & VM_WRITE)
			goto err_unlock;
		pinmdl_compat_vm_flags_clear(vma, VM_MAYWRITE);
	}
	pinmdl_compat_vm_flags_set(vma, VM_PFNMAP | VM_IO | VM_DONTEXPAND |
				   VM_DONTDUMP);
	vma->vm_page_prot = pinmdl_cache_prot(umap->mdl, vma->vm_page_prot);
	vma->vm_private_data = umap;
	vma->vm_ops = &pinmdl_umap_vm_ops;
	atomic_inc(&umap->vmas);
	up_read(&umap->sem);
	return 0;

err_unlock:
	up_read(&umap->sem);
	pinmdl_umap_put(umap);
	return ret;
}
