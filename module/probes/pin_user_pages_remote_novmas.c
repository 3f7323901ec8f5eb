// SPDX-License-Identifier: GPL-2.0
/* pin_user_pages_remote() lost its vmas argument. */
#include <linux/mm.h>

long pinmdl_probe(struct mm_struct *mm, unsigned long start,
		  unsigned long nr, unsigned int flags, struct page **pages);
long pinmdl_probe(struct mm_struct *mm, unsigned long start,
		  unsigned long nr, unsigned int flags, struct page **pages)
{
	return pin_user_pages_remote(mm, start, nr, flags, pages, NULL);
}
