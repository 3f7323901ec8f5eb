/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pinning a user range into a PFN array, serially or on several CPUs, and
 * unpinning it a chunk at a time.
 */
#ifndef _PINMDL_PIN_H
#define _PINMDL_PIN_H

#include <linux/types.h>

struct pinmdl;

int pinmdl_pin_user_range(struct pinmdl *mdl, unsigned long start,
			  u64 *entries, u64 count, unsigned int gup_flags,
			  bool nowait);
void pinmdl_unpin_pfns(u64 *pfns, u64 count, bool dirty);
int pinmdl_pin_init(void);
void pinmdl_pin_exit(void);

#endif /* _PINMDL_PIN_H */
