// SPDX-License-Identifier: GPL-2.0
/*
 * Page lists (MmProbeAndLockSelectedPages): one descriptor over up to
 * PINMDL_MAX_RANGES page-aligned ranges of the caller, locked all or
 * none. Every offset into it runs over the ranges in order, so its PFN
 * array is all that requests, mappings and QUERY need: only the lock
 * itself walks the ranges, pinning each into its part of the array.
 */
#include <linux/export.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/sched/mm.h>

#include "core/desc.h"
#include "core/pin.h"

/**
 * pinmdl_alloc_page_list() - describe a list of ranges of the caller as one
 *			      descriptor (MmProbeAndLockSelectedPages, before
 *			      its lock)
 * @ranges: @nr page-aligned ranges of the calling process, copied
 * @nr: 1 to PINMDL_MAX_RANGES
 * @gfp: allocation flags for the descriptor
 *
 * The descriptor (PINMDL_F_PAGE_LIST) starts at the first range's address
 * with a byte offset of 0 and counts the bytes of all the ranges; a user
 * lock (pinmdl_probe_and_lock() in PINMDL_USER_MODE) pins them all or
 * none. It is never a parent nor advanced.
 *
 * Context: process context.
 * Return: the descriptor; ERR_PTR(-EINVAL) for no range, more than
 * PINMDL_MAX_RANGES, or a range that is empty, not page aligned or that
 * wraps around; ERR_PTR(-E2BIG) beyond max_descriptor_bytes;
 * ERR_PTR(-ENOMEM).
 */
struct pinmdl *pinmdl_alloc_page_list(const struct pinmdl_range *ranges,
				      u32 nr, gfp_t gfp)
{
	struct pinmdl_page_list *pl;
	struct pinmdl *mdl;
	u64 total = 0, end;
	u32 i;

	if (!nr || nr > PINMDL_MAX_RANGES)
		return ERR_PTR(-EINVAL);
	for (i = 0; i < nr; i++) {
		if (!ranges[i].length || !PAGE_ALIGNED(ranges[i].addr) ||
		    !PAGE_ALIGNED(ranges[i].length) ||
		    check_add_overflow(ranges[i].addr, ranges[i].length, &end) ||
		    end > -PAGE_SIZE ||
		    check_add_overflow(total, ranges[i].length, &total))
			return ERR_PTR(-EINVAL);
	}

	/* The ranges' addresses need not follow each other: count from 0. */
	mdl = pinmdl_new(0, total, struct_size(pl, ranges, nr), gfp);
	if (IS_ERR(mdl))
		return mdl;
	pl = pinmdl_page_list(mdl);
	pl->nr_ranges = nr;
	memcpy(pl->ranges, ranges, flex_array_size(pl, ranges, nr));
	mdl->flags = PINMDL_F_PAGE_LIST;
	mdl->start_va = ranges[0].addr;
	if (current->mm) {
		mmgrab(current->mm);
		mdl->mm = current->mm;
	}
	return mdl;
}
EXPORT_SYMBOL_GPL(pinmdl_alloc_page_list);

/**
 * pinmdl_pin_page_list() - pin a page list's ranges into its PFN array
 * @mdl: page list being locked, its PFN array allocated
 * @gup_flags: FOLL_* of the lock
 * @nowait: as for pinmdl_pin_user_range()
 *
 * Context: process context, the locker's; may sleep unless @nowait.
 * Return: 0, or the errno of the first range that failed, with nothing
 * left pinned.
 */
int pinmdl_pin_page_list(struct pinmdl *mdl, unsigned int gup_flags,
			 bool nowait)
{
	const struct pinmdl_page_list *pl = pinmdl_page_list(mdl);
	u64 done = 0, pages;
	int ret = 0;
	u32 i;

	for (i = 0; i < pl->nr_ranges && !ret; i++) {
		pages = pl->ranges[i].length >> PAGE_SHIFT;
		ret = pinmdl_pin_user_range(mdl, pl->ranges[i].addr,
					    mdl->pfns + done, pages, gup_flags,
					    nowait);
		if (!ret)
			done += pages;
	}
	if (ret)
		pinmdl_unpin_pfns(mdl->pfns, done, false);
	return ret;
}
