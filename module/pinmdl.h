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
#include <linux/module.h>
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
int pinmdl_sg_table(struct pinmdl *mdl, u64 offset, u64 length,
		    struct sg_table *sgt, unsigned int max_segment, gfp_t gfp);

const u64 *pinmdl_pfn_array(const struct pinmdl *mdl);
u64 pinmdl_start_va(const struct pinmdl *mdl);
u32 pinmdl_byte_offset(const struct pinmdl *mdl);
u64 pinmdl_byte_count(const struct pinmdl *mdl);
u64 pinmdl_page_count(const struct pinmdl *mdl);
u32 pinmdl_flags(const struct pinmdl *mdl);
u32 pinmdl_operation(const struct pinmdl *mdl);

struct pinmdl_lower_ops;

/**
 * struct pinmdl_request - a request on a locked descriptor (an IRP carrying
 *			   an MDL)
 * @mdl: target descriptor, locked, partial or kernel-source
 * @src: source descriptor of PINMDL_LOWER_COPY, NULL otherwise
 * @op: PINMDL_LOWER_FILL, PINMDL_LOWER_CHECKSUM or PINMDL_LOWER_COPY
 * @offset: start of the range, from the first byte of @mdl (and of @src)
 * @length: length of the range in bytes, > 0
 * @arg: fill byte of PINMDL_LOWER_FILL (its low byte); for
 *	 PINMDL_LOWER_CHECKSUM, the complement of the value the checksum
 *	 starts from: 0 for a new crc32c(~0, ...), or the complement of a
 *	 previous request's @result to go on from where it ended
 * @status: 0 or a negative errno, set by pinmdl_complete()
 * @result: result of PINMDL_LOWER_CHECKSUM, set by pinmdl_complete()
 * @done: called by pinmdl_complete() once the descriptors are released;
 *	  it may free the request
 * @private: the submitter's
 * @lower: the lower driver executing the request (set by the core)
 *
 * From pinmdl_submit() until @done runs, @mdl and @src are held in flight:
 * they cannot be unlocked or freed, and their pages stay pinned.
 */
struct pinmdl_request {
	struct pinmdl *mdl;
	struct pinmdl *src;
	u32 op;
	u64 offset;
	u64 length;
	u64 arg;
	int status;
	u64 result;
	void (*done)(struct pinmdl_request *req);
	void *private;
	const struct pinmdl_lower_ops *lower;
};

/**
 * struct pinmdl_lower_ops - a lower driver (the driver an IRP is sent to)
 * @owner: module of the lower driver; each request in flight holds it
 * @queue: take a request and execute it later, from the driver's own
 *	   context, ending with pinmdl_complete(); return 0 once taken, or a
 *	   negative errno to refuse it (it is then not completed)
 */
struct pinmdl_lower_ops {
	struct module *owner;
	int (*queue)(struct pinmdl_request *req);
};

int pinmdl_lower_register(const struct pinmdl_lower_ops *ops);
void pinmdl_lower_unregister(const struct pinmdl_lower_ops *ops);
int pinmdl_submit(struct pinmdl_request *req);
void pinmdl_complete(struct pinmdl_request *req, int status, u64 result);

#endif /* _PINMDL_H */
