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
 * mappings are refused on every kernel: older ones have them looked for
 * once the pages are pinned, and unpinned clean, with the same EFAULT.
 *
 * Both only matter when a pinned page is not anonymous: the lock calls
 * them then, and anonymous memory (4 KiB, THP, hugetlb) pays nothing.
 */
#include <linux/backing-dev.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/slab.h>

#include "desc.h"
#include "pin_compat.h"

/*
 * Mark in @stale the pages that are not anonymous in a copy-on-write
 * mapping, a mapping at a time; parts of the range unmapped since the pin
 * have nothing to write through and are passed over. Return how many
 * there are.
 */
static u64 pinmdl_find_stale_pins(struct pinmdl *mdl, unsigned long *stale)
{
	unsigned long start = mdl->start_va;
	unsigned long end = start + mdl->page_count * PAGE_SIZE;
	struct vm_area_struct *vma;
	struct vma_iterator vmi;
	u64 i, last, found = 0;

	mmap_read_lock(mdl->mm);
	vma_iter_init(&vmi, mdl->mm, start);
	for_each_vma_range(vmi, vma, end) {
		if (!is_cow_mapping(vma->vm_flags))
			continue;
		i = (max(vma->vm_start, start) - start) >> PAGE_SHIFT;
		last = (min(vma->vm_end, end) - start) >> PAGE_SHIFT;
		for (; i < last; i++) {
			if (!PageAnon(pfn_to_page(mdl->pfns[i]))) {
				__set_bit(i, stale);
				found++;
			}
		}
	}
	mmap_read_unlock(mdl->mm);
	return found;
}

static int pinmdl_repin_writable(struct pinmdl *mdl, u64 index)
{
	unsigned long va = mdl->start_va + index * PAGE_SIZE;
	struct page *page;
	int ret;

	ret = pin_user_pages_fast(va, 1, FOLL_LONGTERM | FOLL_WRITE |
				  FOLL_FORCE, &page);
	if (ret != 1)
		return ret < 0 ? ret : -EFAULT;
	unpin_user_page(pfn_to_page(mdl->pfns[index]));
	mdl->pfns[index] = page_to_pfn(page);
	return 0;
}

/* The test of vma_needs_dirty_tracking() (Linux 6.5 and later). */
static bool pinmdl_vma_needs_dirty_tracking(struct vm_area_struct *vma)
{
	const struct vm_operations_struct *ops = vma->vm_ops;

	if (!vma->vm_file || (vma->vm_flags & (VM_SHARED | VM_WRITE)) !=
			     (VM_SHARED | VM_WRITE))
		return false;
	if (ops && (ops->page_mkwrite || ops->pfn_mkwrite))
		return true;
	return mapping_can_writeback(vma->vm_file->f_mapping);
}

/**
 * pinmdl_compat_check_write_lock() - refuse a write lock of file pages
 *				      that need dirty tracking
 * @mdl: descriptor just pinned for write, with pages that are not anonymous
 *
 * Context: process context, @mdl->lock held, in @mdl's address space.
 * Return: 0, or -EFAULT if a mapping of the range needs dirty tracking.
 */
int pinmdl_compat_check_write_lock(struct pinmdl *mdl)
{
	unsigned long end = mdl->start_va + mdl->page_count * PAGE_SIZE;
	struct vm_area_struct *vma;
	struct vma_iterator vmi;
	int ret = 0;

	lockdep_assert_held(&mdl->lock);

	/* Parts unmapped since the pin are passed over: nothing writes them. */
	mmap_read_lock(mdl->mm);
	vma_iter_init(&vmi, mdl->mm, mdl->start_va);
	for_each_vma_range(vmi, vma, end) {
		if (pinmdl_vma_needs_dirty_tracking(vma)) {
			ret = -EFAULT;
			break;
		}
	}
	mmap_read_unlock(mdl->mm);
	return ret;
}

/**
 * pinmdl_compat_fix_read_pins() - make a fresh read lock coherent
 * @mdl: descriptor just pinned without FOLL_WRITE, with pages that are not
 *	 anonymous
 *
 * Context: process context, @mdl->lock held, in @mdl's address space.
 * Return: 0, or the negative errno of the failed allocation or pin (the
 * pages stay pinned either way; the caller unpins them on failure).
 */
int pinmdl_compat_fix_read_pins(struct pinmdl *mdl)
{
	unsigned long *stale, i;
	int ret = 0;

	lockdep_assert_held(&mdl->lock);

	stale = kvcalloc(BITS_TO_LONGS(mdl->page_count), sizeof(*stale),
			 GFP_KERNEL | __GFP_NOWARN);
	if (!stale)
		return -ENOMEM;
	if (pinmdl_find_stale_pins(mdl, stale)) {
		/*
		 * A new page need not be of the folio of the entries around
		 * it: unpin as GUP's page array, which counts any mix.
		 */
		mdl->folio_runs = false;
		for_each_set_bit(i, stale, mdl->page_count) {
			ret = pinmdl_repin_writable(mdl, i);
			if (ret)
				break;
		}
	}
	kvfree(stale);
	return ret;
}
