/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pinmdl kernel API: memory descriptors that lock user or kernel buffers,
 * after the Windows MDL routines (IoAllocateMdl, MmProbeAndLockPages,
 * MmProbeAndLockSelectedPages, MmUnlockPages, IoBuildPartialMdl,
 * MmPrepareMdlForReuse, MmAdvanceMdl,
 * MmAllocatePagesForMdlEx, MmFreePagesFromMdl, MmBuildMdlForNonPagedPool,
 * MmGetSystemAddressForMdlSafe, MmMapLockedPagesSpecifyCache,
 * MmGetMdlPfnArray, IoFreeMdl).
 *
 * A descriptor (struct pinmdl) is opaque: use the accessors below. Misuse
 * returns an errno instead of the bug check Windows would raise.
 */
#ifndef _PINMDL_H
#define _PINMDL_H

#include <linux/bvec.h>
#include <linux/dma-direction.h>
#include <linux/gfp.h>
#include <linux/spinlock_types.h>
#include <linux/uio.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/types.h>
#include <uapi/linux/pinmdl.h>

struct pinmdl;
struct dma_buf;

struct pinmdl *pinmdl_alloc(u64 addr, u64 length, gfp_t gfp);
int pinmdl_free(struct pinmdl *mdl);
int pinmdl_probe_and_lock(struct pinmdl *mdl, u32 access_mode, u32 operation);
int pinmdl_unlock(struct pinmdl *mdl);
struct pinmdl *pinmdl_build_for_kernel_buffer(void *buf, size_t length,
					      gfp_t gfp);
struct pinmdl *pinmdl_build_partial(struct pinmdl *parent, u64 addr,
				    u64 length, gfp_t gfp);
int pinmdl_reuse_partial(struct pinmdl *child, struct pinmdl *parent,
			 u64 addr, u64 length);
int pinmdl_advance(struct pinmdl *mdl, u64 bytes);
struct pinmdl *pinmdl_alloc_page_list(const struct pinmdl_range *ranges,
				      u32 nr, gfp_t gfp);
struct pinmdl *pinmdl_alloc_pages(u64 length, phys_addr_t highest, int node,
				  u32 flags, gfp_t gfp);

/**
 * enum pinmdl_cache_type - cache mode of a mapping (MEMORY_CACHING_TYPE)
 * @PINMDL_CACHED: cached (MmCached), any descriptor's pages
 * @PINMDL_NON_CACHED: uncached (MmNonCached), allocated pages only
 * @PINMDL_WRITE_COMBINED: write-combined (MmWriteCombined), allocated
 *			   pages only
 */
enum pinmdl_cache_type {
	PINMDL_CACHED,
	PINMDL_NON_CACHED,
	PINMDL_WRITE_COMBINED,
};

struct dma_buf *pinmdl_export_dmabuf(struct pinmdl *mdl, u32 flags);
void *pinmdl_map_locked_pages(struct pinmdl *mdl,
			      enum pinmdl_cache_type cache);
enum pinmdl_cache_type pinmdl_cache_type(const struct pinmdl *mdl);
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

int pinmdl_iter(struct pinmdl *mdl, u64 offset, u64 length,
		unsigned int direction, struct iov_iter *iter,
		struct bio_vec **bvec);
void *pinmdl_map_range(struct pinmdl *mdl, u64 offset, u64 length);
void pinmdl_unmap_range(const void *addr);

struct pinmdl_target;
struct pinmdl_binding;
struct pinmdl_request;

/* Most segments a target may take in one request. */
#define PINMDL_MAX_SEGMENTS	1024

/**
 * struct pinmdl_target_limits - what a target accepts, per binding
 * @block_size: alignment of dev_offset, segment lengths and segment starts
 *		in memory, a power of two (1: none)
 * @capacity: bytes addressable by dev_offset (0: no device space)
 * @max_segments: segments one request may chain, 1 to PINMDL_MAX_SEGMENTS
 * @dma_dev: the device the target DMAs with, for pinmdl_request_dma_map();
 *	     NULL if it does no DMA. It must stay registered until the
 *	     target is unregistered.
 */
struct pinmdl_target_limits {
	u32 block_size;
	u64 capacity;
	u32 max_segments;
	struct device *dma_dev;
};

/**
 * struct pinmdl_target_ops - a target's driver (the driver an IRP is sent
 *			      to)
 * @owner: module of the driver; each binding holds it
 * @bind: optional: called when a target is opened, with the file given to
 *	  it (NULL for none); may refine @limits (a block device's block size
 *	  and capacity) and set *@private for the binding. Without @bind, a
 *	  file is refused (-EINVAL). Process context.
 * @unbind: optional: undo @bind once the binding's requests are all done
 * @check: validate a request's op, dev_offset, arg and segment count
 *	   (-EINVAL), and set each segment's @dir. It sees the request before
 *	   its segments are resolved: @mdl is not set yet. It is called also
 *	   after the target was unregistered, until every binding is closed,
 *	   and must use nothing but the request and the binding.
 * @permit: optional: refuse a valid request that the binding's file may not
 *	    make (-EBADF). Same rule as @check.
 * @queue: take a request and execute it, completing it with
 *	   pinmdl_complete() from any context (one where a spinlock_t may be
 *	   taken, see there); return 0 once taken, or a
 *	   negative errno to refuse it (it is then never completed). Process
 *	   context.
 * @release: optional: the request is finishing (before its done runs), in
 *	     any context: free what @queue set up in @target_data
 * @cancel: optional: ask the target to stop a request it took. Called at
 *	    most once per request, in process context, never before @queue
 *	    returned nor once the request finished; the request stays valid
 *	    during the call, but may complete meanwhile (a completion racing
 *	    the call), so the target completes it here only if it stopped it
 *	    itself (-ECANCELED), as a cancel-safe queue does; it must not
 *	    wait for the request here.
 */
struct pinmdl_target_ops {
	struct module *owner;
	int (*bind)(struct pinmdl_target *target, struct file *file,
		    struct pinmdl_target_limits *limits, void **private);
	void (*unbind)(struct pinmdl_target *target, void *private);
	int (*check)(struct pinmdl_request *req);
	int (*permit)(struct pinmdl_request *req);
	int (*queue)(struct pinmdl_request *req);
	void (*release)(struct pinmdl_request *req);
	void (*cancel)(struct pinmdl_request *req);
};

struct pinmdl_target *
pinmdl_target_register(const char *name, const struct pinmdl_target_ops *ops,
		       const struct pinmdl_target_limits *limits, void *private);
void pinmdl_target_unregister(struct pinmdl_target *target);
void *pinmdl_target_private(const struct pinmdl_target *target);
struct pinmdl_binding *pinmdl_target_open(const char *name,
					  struct file *file);
int pinmdl_target_close(struct pinmdl_binding *binding);
const struct pinmdl_target_limits *
pinmdl_binding_limits(const struct pinmdl_binding *binding);
void *pinmdl_binding_private(const struct pinmdl_binding *binding);

/**
 * struct pinmdl_io_segment - one piece of a request's data (an MDL of a
 *			      chain)
 * @mdl: locked, partial or kernel-source descriptor
 * @offset: start of the piece, from @mdl's first byte
 * @length: length of the piece in bytes, > 0
 * @dir: set by the target's @check: DMA_TO_DEVICE if the target only reads
 *	 the memory, DMA_FROM_DEVICE or DMA_BIDIRECTIONAL if it writes it
 *	 (which needs a write lock), DMA_NONE if it leaves it alone; the
 *	 direction pinmdl_request_dma_map() maps it in
 */
struct pinmdl_io_segment {
	struct pinmdl *mdl;
	u64 offset;
	u64 length;
	enum dma_data_direction dir;
};

/**
 * struct pinmdl_request - an I/O request to a target (an IRP carrying an
 *			   MDL chain)
 * @binding: the open target the request goes to
 * @op: the target's operation
 * @dev_offset: position on the target, in bytes
 * @arg: the operation's argument
 * @from_user: the request comes from user space (Windows' UserMode
 *	       RequestorMode): a target refuses what only a kernel caller may
 *	       ask for
 * @nowait: the submitter may not sleep for the target's device (an
 *	    io_uring command issued inline): a target whose @queue would
 *	    wait for the device refuses the request with -EAGAIN, and the
 *	    submitter sends it again from where it may wait
 * @segments: the data, @nr_segments pieces in order
 * @nr_segments: 0 for an operation that moves no data
 * @done: called once the request is complete and its descriptors are
 *	  released, in the context that completed it (any context, so it
 *	  must not sleep); it may free the request
 * @private: the submitter's
 * @total: (core) sum of the segments' lengths
 * @status: (pinmdl_complete) 0 or a negative errno
 * @result: (pinmdl_complete) bytes moved, or the operation's result
 * @target_data: the target's, from @queue until it completes the request
 * @lock: (core) protects @state and @users
 * @state: (core) PINMDL_REQ_* bits
 * @users: (core) parties that keep the request from finishing
 * @dma: (core) tables of pinmdl_request_dma_map() not unmapped yet, under
 *	  @lock; unmapped when done
 * @node: (core) entry in the target's requests
 *
 * From pinmdl_submit() until @done runs, every segment's descriptor is held
 * in flight: it cannot be unlocked or freed, and its pages stay pinned.
 */
struct pinmdl_request {
	struct pinmdl_binding *binding;
	u32 op;
	u64 dev_offset;
	u64 arg;
	bool from_user;
	bool nowait;
	struct pinmdl_io_segment *segments;
	unsigned int nr_segments;
	void (*done)(struct pinmdl_request *req);
	void *private;
	u64 total;
	int status;
	u64 result;
	void *target_data;
	spinlock_t lock; /* protects state and users */
	unsigned int state;
	unsigned int users;
	struct list_head dma;
	struct list_head node;
};

/**
 * struct pinmdl_request_pos - a place in a request's bytes
 * @seg: its segment
 * @offset: bytes into that segment
 */
struct pinmdl_request_pos {
	unsigned int seg;
	u64 offset;
};

int pinmdl_submit(struct pinmdl_request *req);
void pinmdl_complete(struct pinmdl_request *req, int status, u64 result);
int pinmdl_cancel(struct pinmdl_request *req);
bool pinmdl_request_cancelled(struct pinmdl_request *req);
struct pinmdl_target *pinmdl_request_target(const struct pinmdl_request *req);
u64 pinmdl_request_bvecs(const struct pinmdl_request *req,
			 struct pinmdl_request_pos *pos, u64 max, u32 align,
			 struct bio_vec *bvec, unsigned int *nr);
struct sg_table *pinmdl_request_dma_map(struct pinmdl_request *req,
					u64 offset, u64 length);
void pinmdl_request_dma_unmap(struct pinmdl_request *req,
			      struct sg_table *sgt);

#endif /* _PINMDL_H */
