/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The folio-overflow guard: what a GUP call of pinmdl's may add to a
 * folio's reference count, reserved before it pins and checked after.
 */
#ifndef _PINMDL_REFS_H
#define _PINMDL_REFS_H

#include <linux/types.h>

long pinmdl_refs_reserve(long pages, bool wait);
void pinmdl_refs_release(long pages);
bool pinmdl_refs_fit(const u64 *pfns, long count);

#endif /* _PINMDL_REFS_H */
