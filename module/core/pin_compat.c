// SPDX-License-Identifier: GPL-2.0
/*
 * Read-lock coherency on kernels without reliable R/O long-term pins.
 *
 * Since Linux 6.2 a FOLL_LONGTERM pin without FOLL_WRITE in a private
 * (copy-on-write) mapping unshares the page first, so the pinned page is
 * the one later CPU writes land on. Older kernels (6.1) may instead pin the
 * shared zero page or a page-cache page of a MAP_PRIVATE file mapping; the
 * next write then copies the page and the pin goes stale.
 *
 * Such a pin is recognisable: the page is not anonymous, yet its mapping is
 * copy-on-write. Those pages are pinned again with FOLL_WRITE | FOLL_FORCE,
 * which breaks copy-on-write now, as RDMA did for read-only registrations
 * on those kernels: each run of them in one mapping with one GUP call, in
 * the same hold of the mmap_lock as the look at the mapping, a chunk at a
 * time as soon as GUP has pinned it, so that a pin of the zero page lasts
 * no longer than the chunk's reservation (refs.c). Such a lock pins on the
 * locker's CPU alone. Kernels that unshare (6.2 on) skip all this.
 *
 * Write locks of file mappings that need dirty tracking.
 *
 * Since Linux 6.5 a FOLL_LONGTERM | FOLL_WRITE pin of a shared file mapping
 * whose filesystem tracks dirty pages fails: the pages would be written
 * behind the filesystem's back, long after writeback cleaned them. Older
 * kernels pin them anyway, and the filesystem later warns or crashes. Such
 * pins are refused on every kernel: older ones have the pinned folios
 * themselves looked at, as gup_fast_folio_allowed() does since 6.5, and
 * unpinned clean, with the same EFAULT. The mappings cannot be looked at
 * instead: they may have been replaced since the pin dropped mmap_lock.
 *
 * Both only matter when a pinned page is not anonymous, and only on
 * kernels before 6.5: on newer ones GUP does both itself, and a lock
 * looks at none of its pages again.
 */
#include <linux/backing-dev.h>
#include <linux/hugetlb.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/pagemap.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/version.h>

#include "core/desc.h"
#include "core/pin_compat.h"

/*
 * Pages looked at between two cond_resched(), and pinned again under one
 * hold of the mmap_lock at the most.
 */
#define PINMDL_COMPAT_CHUNK	1024

/* Whether the read pin of @pfn is of a page a write would copy away. */
static bool pinmdl_read_pin_stale(u64 pfn)
{
	return !folio_test_anon(pfn_folio(pfn));
}

/*
 * Pin the @n pages from @index again, writable, in place of their stale
 * pins, with one GUP call (more if GUP stops short), under the mmap_lock:
 * they are all in one copy-on-write mapping found under this same hold,
 * so GUP never looks up a hole. @pages has room for @n pointers. Return
 * 0, -EFAULT if a page cannot be pinned writable, or -EINTR on a fatal
 * signal (the pages pinned again stay so; the caller unpins all).
 */
static int pinmdl_repin_run(const struct pinmdl_compat_range *r, u64 index,
			    u64 n, struct page **pages)
{
	long pinned, k;

	while (n) {
		pinned = pinmdl_compat_pin_remote(r->mm,
						  r->start + index * PAGE_SIZE,
						  n, FOLL_LONGTERM | FOLL_WRITE |
						  FOLL_FORCE, pages);
		if (pinned <= 0)
			return fatal_signal_pending(current) ? -EINTR :
							       -EFAULT;
		for (k = 0; k < pinned; k++) {
			unpin_user_page(pfn_to_page(r->pfns[index + k]));
			r->pfns[index + k] = page_to_pfn(pages[k]);
		}
		index += pinned;
		n -= pinned;
	}
	return 0;
}

/*
 * Under the mmap_lock, pin again the stale read pins among pages [@first,
 * @end) of @r, a run of them at a time, in the copy-on-write mappings
 * there now: parts of the range unmapped since the pin have nothing to
 * write through and are passed over. A read-only private hugetlb mapping,
 * the one place kernels before 6.2 refuse to break copy-on-write for a
 * pin (FOLL_FORCE), keeps its read pins, as rule 2 of the contract
 * accepts. @pages has room for @end - @first pointers. Return 0 or the
 * errno of pinmdl_repin_run().
 */
static int pinmdl_fix_read_pins_chunk(const struct pinmdl_compat_range *r,
				      u64 first, u64 end, struct page **pages)
{
	unsigned long lo = r->start + first * PAGE_SIZE;
	unsigned long hi = r->start + end * PAGE_SIZE;
	struct vm_area_struct *vma;
	struct vma_iterator vmi;
	u64 i, last, run;
	int ret;

	vma_iter_init(&vmi, r->mm, lo);
	for_each_vma_range(vmi, vma, hi) {
		if (!pinmdl_compat_cow_mapping(vma) ||
		    (is_vm_hugetlb_page(vma) && !(vma->vm_flags & VM_WRITE)))
			continue;
		i = (max(vma->vm_start, lo) - r->start) >> PAGE_SHIFT;
		last = (min(vma->vm_end, hi) - r->start) >> PAGE_SHIFT;
		while (i < last) {
			for (run = 0; i + run < last &&
			     pinmdl_read_pin_stale(r->pfns[i + run]); run++)
				;
			if (!run) {
				i++;
				continue;
			}
			ret = pinmdl_repin_run(r, i, run, pages);
			if (ret)
				return ret;
			i += run;
		}
	}
	return 0;
}

/*
 * Whether a write pin of @folio would be written behind its file system's
 * back: a page-cache folio, not of shmem (swap-backed) or hugetlbfs, whose
 * mapping does writeback. The folio lock keeps the mapping (and so its
 * inode) from going away meanwhile; a folio truncated since the pin has no
 * file system left to surprise.
 *
 * Return: 1 if it would, 0 if not, -EINTR on a fatal signal.
 */
static int pinmdl_folio_needs_dirty_tracking(struct folio *folio)
{
	struct address_space *mapping;
	int ret;

	if (folio_test_anon(folio) || folio_test_swapbacked(folio) ||
	    folio_test_hugetlb(folio))
		return 0;
	ret = folio_lock_killable(folio);
	if (ret)
		return ret;
	mapping = folio_mapping(folio);
	ret = mapping && mapping_can_writeback(mapping);
	folio_unlock(folio);
	return ret;
}

/*
 * Refuse a write lock of file pages that need dirty tracking
 * (@mdl, just pinned for write), decided from the pinned folios, whatever
 * has become of the mappings since they were pinned. Return 0; -EFAULT if
 * a pinned folio needs dirty tracking; -EINTR on a fatal signal.
 */
static int pinmdl_compat_check_write_lock(struct pinmdl *mdl)
{
	struct folio *folio, *last = NULL;
	int ret;
	u64 i;

	for (i = 0; i < mdl->page_count; i++) {
		if (!(i % PINMDL_COMPAT_CHUNK))
			cond_resched();
		folio = pfn_folio(mdl->pfns[i]);
		if (folio == last)
			continue;
		ret = pinmdl_folio_needs_dirty_tracking(folio);
		if (ret)
			return ret < 0 ? ret : -EFAULT;
		last = folio;
	}
	return 0;
}

/* Whether the pinned pages [@first, @end) of @pfns are all anonymous. */
static bool pinmdl_compat_all_anon(const u64 *pfns, u64 first, u64 end)
{
	u64 i;

	for (i = first; i < end; i++) {
		if (!folio_test_anon(pfn_folio(pfns[i])))
			return false;
		if (!(i % PINMDL_COMPAT_CHUNK))
			cond_resched();
	}
	return true;
}

/**
 * pinmdl_compat_reads_go_stale() - whether a lock's pins may go stale
 * @gup_flags: FOLL_* of the lock
 *
 * Context: any.
 * Return: true for a read lock on a kernel before 6.2, whose pins
 * pinmdl_compat_fix_read_chunk() must then make coherent.
 */
bool pinmdl_compat_reads_go_stale(unsigned int gup_flags)
{
	return !(gup_flags & FOLL_WRITE) &&
	       LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0);
}

/**
 * pinmdl_compat_fix_read_chunk() - make a chunk of a read lock coherent
 * @r: range being read-locked, its PFNs filled up to @end
 * @first: first page of the chunk
 * @end: page past the chunk
 *
 * Pins the chunk's stale pages again, writable, in place of their pins
 * (see the top of this file), as soon as the chunk is pinned: the shared
 * zero page a read pin may take on 6.1 is held for no longer than a
 * chunk, within its reservation (refs.c).
 *
 * Context: process context, during the probe-and-lock of the range's
 * descriptor, in its address space, without its mmap_lock.
 * Return: 0; -EFAULT if a page cannot be pinned again; -ENOMEM; -EINTR
 * on a fatal signal. The pages stay pinned either way.
 */
int pinmdl_compat_fix_read_chunk(const struct pinmdl_compat_range *r,
				 u64 first, u64 end)
{
	struct page **pages;
	int ret;

	if (pinmdl_compat_all_anon(r->pfns, first, end))
		return 0;
	pages = kmalloc_array(end - first, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	ret = mmap_read_lock_killable(r->mm);
	if (!ret) {
		ret = pinmdl_fix_read_pins_chunk(r, first, end, pages);
		mmap_read_unlock(r->mm);
	}
	kfree(pages);
	return ret;
}

/**
 * pinmdl_compat_check_pins() - refuse a write lock 6.5 would refuse
 * @mdl: descriptor just pinned, its PFN array filled
 * @write: pinned with FOLL_WRITE
 *
 * Before 6.5 a write lock of file pages that need dirty tracking is
 * refused here (see the top of this file). From 6.5 on GUP does it
 * itself, and this looks at nothing.
 *
 * Context: process context, during @mdl's probe-and-lock (@mdl->locking),
 * in @mdl's address space.
 * Return: 0; -EFAULT if the lock must be refused; -EINTR on a fatal
 * signal. The pages stay pinned either way; the caller unpins them on
 * failure.
 */
int pinmdl_compat_check_pins(struct pinmdl *mdl, bool write)
{
	if (!write || LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0) ||
	    pinmdl_compat_all_anon(mdl->pfns, 0, mdl->page_count))
		return 0;
	return pinmdl_compat_check_write_lock(mdl);
}
