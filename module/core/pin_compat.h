/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the supported kernels in how pins behave, found by
 * looking at what a pin returned rather than at version numbers. Called
 * only for locks that pinned pages that are not anonymous.
 */
#ifndef _PINMDL_PIN_COMPAT_H
#define _PINMDL_PIN_COMPAT_H

struct pinmdl;

int pinmdl_compat_fix_read_pins(struct pinmdl *mdl);
int pinmdl_compat_check_write_lock(struct pinmdl *mdl);

#endif /* _PINMDL_PIN_COMPAT_H */
