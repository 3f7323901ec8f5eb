/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the supported kernels in how pins behave and in
 * GUP's interface. Interfaces are told apart by Kbuild probes
 * (module/probes/); behaviour, which no probe can see, by version in
 * pin_compat.c alone.
 */
#ifndef _PINMDL_PIN_COMPAT_H
#define _PINMDL_PIN_COMPAT_H

#include <linux/mm.h>

struct pinmdl;

int pinmdl_compat_check_pins(struct pinmdl *mdl, bool write);
bool pinmdl_compat_reads_go_stale(unsigned int gup_flags);
int pinmdl_compat_fix_read_chunk(struct pinmdl *mdl, u64 first, u64 end);

/*
 * pin_user_pages_remote() with the mmap_lock held by the caller and never
 * dropped: 6.5 took its vmas argument away (probe
 * pin_user_pages_remote_novmas).
 */
static inline long pinmdl_compat_pin_remote(struct mm_struct *mm,
					    unsigned long start,
					    unsigned long nr_pages,
					    unsigned int gup_flags,
					    struct page **pages)
{
#ifdef PINMDL_HAVE_PIN_USER_PAGES_REMOTE_NOVMAS
	return pin_user_pages_remote(mm, start, nr_pages, gup_flags, pages,
				     NULL);
#else
	return pin_user_pages_remote(mm, start, nr_pages, gup_flags, pages,
				     NULL, NULL);
#endif
}

/*
 * Whether @vma is a private writable mapping, one that copies on write:
 * is_cow_mapping(vm_flags) became vma_is_cow_mapping(vma) (probe
 * vma_is_cow_mapping).
 */
static inline bool pinmdl_compat_cow_mapping(const struct vm_area_struct *vma)
{
#ifdef PINMDL_HAVE_VMA_IS_COW_MAPPING
	return vma_is_cow_mapping(vma);
#else
	return is_cow_mapping(vma->vm_flags);
#endif
}

#endif /* _PINMDL_PIN_COMPAT_H */
