/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the supported kernels in how pins behave and in
 * GUP's interface.
 */
#ifndef _PINMDL_PIN_COMPAT_H
#define _PINMDL_PIN_COMPAT_H

#include <linux/mm.h>
#include <linux/version.h>

struct pinmdl;

int pinmdl_compat_check_pins(struct pinmdl *mdl, bool write);

/*
 * pin_user_pages_remote() with the mmap_lock held by the caller and never
 * dropped: 6.5 took its vmas argument away.
 */
static inline long pinmdl_compat_pin_remote(struct mm_struct *mm,
					    unsigned long start,
					    unsigned long nr_pages,
					    unsigned int gup_flags,
					    struct page **pages)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0)
	return pin_user_pages_remote(mm, start, nr_pages, gup_flags, pages,
				     NULL, NULL);
#else
	return pin_user_pages_remote(mm, start, nr_pages, gup_flags, pages,
				     NULL);
#endif
}

#endif /* _PINMDL_PIN_COMPAT_H */
