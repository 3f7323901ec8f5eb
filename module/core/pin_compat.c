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
 * on those kernels. On a kernel that unshares, no page is ever found.
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

/* Pages looked at between two cond_resched(). */
#define PINMDL_COMPAT_CHUNK	1024

/*
 * Mark in @stale the pages that are not anonymous in a copy-on-write
 * mapping, a mapping at a time; parts of the range unmapped since the pin
 * have nothing to write through and are passed over. Set *@found to how
 * many there are; return 0, or -EINTR on a fatal signal.
 */
static int pinmdl_find_stale_pins(struct pinmdl *mdl, unsigned long *stale,
				  u64 *found)
{
	unsigned long start = mdl->start_va;
	unsigned long end = start + mdl->page_count * PAGE_SIZE;
	struct vm_area_struct *vma;
	struct vma_iterator vmi;
	u64 i, last;

	*found = 0;
	if (mmap_read_lock_killable(mdl->mm))
		return -EINTR;
	vma_iter_init(&vmi, mdl->mm, start);
	for_each_vma_range(vmi, vma, end) {
		if (!pinmdl_compat_cow_mapping(vma))
			continue;
		i = (max(vma->vm_start, start) - start) >> PAGE_SHIFT;
		last = (min(vma->vm_end, end) - start) >> PAGE_SHIFT;
		for (; i < last; i++) {
			if (!(i % PINMDL_COMPAT_CHUNK))
				cond_resched();
			if (!PageAnon(pfn_to_page(mdl->pfns[i]))) {
				__set_bit(i, stale);
				(*found)++;
			}
		}
	}
	mmap_read_unlock(mdl->mm);
	return 0;
}

/*
 * Whether the read pin at @index may stay: a hugetlb page, still in a
 * read-only private hugetlb mapping, the one place kernels before 6.2
 * refuse to break copy-on-write for a pin, which rule 2 of the contract
 * accepts. Return 1 if so, 0 if not, -EINTR on a fatal signal.
 */
static int pinmdl_read_pin_may_stay(struct pinmdl *mdl, u64 index)
{
	unsigned long va = mdl->start_va + index * PAGE_SIZE;
	struct vm_area_struct *vma;
	int ret;

	if (!folio_test_hugetlb(pfn_folio(mdl->pfns[index])))
		return 0;
	if (mmap_read_lock_killable(mdl->mm))
		return -EINTR;
	vma = vma_lookup(mdl->mm, va);
	ret = vma && is_vm_hugetlb_page(vma) && !(vma->vm_flags & VM_WRITE);
	mmap_read_unlock(mdl->mm);
	return ret;
}

/*
 * Pin the page at @index again, writable, in place of its stale pin; keep
 * the read pin where a read-only private hugetlb mapping refuses that.
 */
static int pinmdl_repin_writable(struct pinmdl *mdl, u64 index)
{
	unsigned long va = mdl->start_va + index * PAGE_SIZE;
	struct page *page;
	int ret;

	ret = pin_user_pages_fast(va, 1, FOLL_LONGTERM | FOLL_WRITE |
				  FOLL_FORCE, &page);
	if (ret != 1) {
		if (fatal_signal_pending(current))
			return -EINTR;
		ret = pinmdl_read_pin_may_stay(mdl, index);
		if (ret)
			return ret < 0 ? ret : 0;
		return -EFAULT;
	}
	unpin_user_page(pfn_to_page(mdl->pfns[index]));
	mdl->pfns[index] = page_to_pfn(page);
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

/*
 * Make a fresh read lock of @mdl coherent. Where a read-only private
 * hugetlb mapping refuses the writable pin, the read pin stays (and the
 * lock succeeds, not coherent with a later private write there, as the
 * contract allows). Return 0, or the negative errno of the failed
 * allocation or pin, or -EINTR on a fatal signal (the pages stay pinned
 * either way; the caller unpins them on failure).
 */
static int pinmdl_compat_fix_read_pins(struct pinmdl *mdl)
{
	unsigned long *stale, i;
	u64 found;
	int ret;

	stale = kvcalloc(BITS_TO_LONGS(mdl->page_count), sizeof(*stale),
			 GFP_KERNEL | __GFP_NOWARN);
	if (!stale)
		return -ENOMEM;
	ret = pinmdl_find_stale_pins(mdl, stale, &found);
	if (!ret && found) {
		for_each_set_bit(i, stale, mdl->page_count) {
			ret = pinmdl_repin_writable(mdl, i);
			if (ret)
				break;
		}
	}
	kvfree(stale);
	return ret;
}

/* Whether every page pinned for @mdl is anonymous. */
static bool pinmdl_compat_all_anon(const struct pinmdl *mdl)
{
	u64 i;

	for (i = 0; i < mdl->page_count; i++) {
		if (!folio_test_anon(pfn_folio(mdl->pfns[i])))
			return false;
		if (!(i % PINMDL_COMPAT_CHUNK))
			cond_resched();
	}
	return true;
}

/**
 * pinmdl_compat_check_pins() - make a fresh lock's pins what 6.5's are
 * @mdl: descriptor just pinned, its PFN array filled
 * @write: pinned with FOLL_WRITE
 *
 * Before 6.5 a write lock of file pages that need dirty tracking is
 * refused here, and before 6.2 a read lock that pinned pages a write would
 * copy away from is pinned again, writable (see the top of this file).
 * From 6.5 on GUP does both, and this looks at nothing.
 *
 * Context: process context, during @mdl's probe-and-lock (@mdl->locking),
 * in @mdl's address space.
 * Return: 0; -EFAULT if the lock must be refused; -ENOMEM; -EINTR on a
 * fatal signal. The pages stay pinned either way; the caller unpins them
 * on failure.
 */
int pinmdl_compat_check_pins(struct pinmdl *mdl, bool write)
{
	if (LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0) ||
	    (!write && LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)) ||
	    pinmdl_compat_all_anon(mdl))
		return 0;
	return write ? pinmdl_compat_check_write_lock(mdl) :
		       pinmdl_compat_fix_read_pins(mdl);
}
