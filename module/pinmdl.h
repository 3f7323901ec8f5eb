/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pinmdl kernel API: memory descriptors that lock user or kernel buffers,
 * after the Windows MDL routines (IoAllocateMdl, MmProbeAndLockPages,
 * MmUnlockPages, IoBuildPartialMdl, MmBuildMdlForNonPagedPool,
 * MmGetSystemAddressForMdlSafe, MmGetMdlPfnArray, IoFreeMdl).
 *
 * A descriptor (struct pinmdl) is opaque: use the accessors below. Misuse
 * returns an errno instead of the bug check Windows would raise.
 */
#ifndef _PINMDL_H
#define _PINMDL_H

#include <linux/gfp.h>
#include <linux/scatterlist.h>
#include <linux/types.h>
#include <uapi/linux/pinmdl.h>

struct pinmdl;

struct pinmdl *pinmdl_alloc(u64 addr, u64 length, gfp_t gfp);
int pinmdl_free(struct pinmdl *mdl);
int pinmdl_probe_and_lock(struct pinmdl *mdl, u32 access_mode, u32 operation);
int pinmdl_unlock(struct pinmdl *mdl);
struct pinmdl *pinmdl_build_for_kernel_buffer(void *buf, size_t length,
					      gfp_t gfp);
struct pinmdl *pinmdl_build_partial(struct pinmdl *parent, u64 addr,
				    u64 length, gfp_t gfp);
void *pinmdl_system_address(struct pinmdl *mdl);
int pinmdl_sg_table(struct pinmdl *mdl, struct sg_table *sgt, gfp_t gfp);

const u64 *pinmdl_pfn_array(const struct pinmdl *mdl);
u64 pinmdl_start_va(const struct pinmdl *mdl);
u32 pinmdl_byte_offset(const struct pinmdl *mdl);
u64 pinmdl_byte_count(const struct pinmdl *mdl);
u64 pinmdl_page_count(const struct pinmdl *mdl);
u32 pinmdl_flags(const struct pinmdl *mdl);
u32 pinmdl_operation(const struct pinmdl *mdl);

#endif /* _PINMDL_H */
