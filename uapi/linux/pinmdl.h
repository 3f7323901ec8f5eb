/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * pinmdl: probe-and-lock descriptors for user buffers (/dev/pinmdl).
 *
 * A descriptor describes a virtual range of the calling process. LOCK pins
 * every page of it for the lifetime of the lock (MmProbeAndLockPages),
 * UNLOCK releases them (MmUnlockPages). Pinned descriptors can be handed to
 * the lower driver with SUBMIT, or in chains to any target a driver
 * registered with IO (TARGET_OPEN first); the target moves data through
 * them from its own context, and CANCEL asks it to stop a request.
 *
 * Every flags and reserved field must be zero; pointers are passed as __u64.
 * Handle 0 is never valid. Each ioctl returns 0, or -1 with errno set; the
 * errnos and the rules are in pinmdl(4).
 */
#ifndef _UAPI_LINUX_PINMDL_H
#define _UAPI_LINUX_PINMDL_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Access modes (struct pinmdl_lock.access_mode). */
#define PINMDL_KERNEL_MODE		0
#define PINMDL_USER_MODE		1

/*
 * Operations (struct pinmdl_lock.operation): what targets may do with the
 * locked memory. READ: only read it (BLK_WRITE, CHECKSUM, COPY's source).
 * WRITE: write it as well (BLK_READ, FILL and COPY's destination write
 * into memory and need a WRITE or MODIFY lock, else EACCES). MODIFY: for a
 * buffer that requests both read and write; it is handled exactly as WRITE
 * (pinned writable, dirtied at UNLOCK), and only QUERY tells them apart.
 */
#define PINMDL_IO_READ_ACCESS		0
#define PINMDL_IO_WRITE_ACCESS		1
#define PINMDL_IO_MODIFY_ACCESS		2

/* Descriptor flags, reported by PINMDL_IOC_QUERY. */
#define PINMDL_F_PAGES_LOCKED		0x01
#define PINMDL_F_PARTIAL		0x02
#define PINMDL_F_SOURCE_IS_KERNEL	0x04
#define PINMDL_F_WRITE_OPERATION	0x08
#define PINMDL_F_MAPPED_SYSTEM_VA	0x10
#define PINMDL_F_IN_FLIGHT		0x20
#define PINMDL_F_PAGE_LIST		0x80 /* ranges of PINMDL_IOC_CREATE_PAGES */
#define PINMDL_F_ALLOCATED		0x100 /* pages of PINMDL_IOC_ALLOC_PAGES */
#define PINMDL_F_USER_MAPPED		0x200 /* mapped by mmap(2) somewhere */
#define PINMDL_F_EXPORTED		0x400 /* a dma-buf of it exists */

/*
 * Operations of target "pinmdl_lower" (struct pinmdl_io.op and, but for
 * DELAY, struct pinmdl_submit.op). TARGET_OPEN takes fd -1 and returns
 * block_size 1, capacity 0 and max_segments 64; dev_offset is 0. Through
 * SUBMIT, COPY's source is descriptor handle arg; through IO, it is
 * segment 1, copied onto segment 0, of the same length. FILL and COPY's
 * destination need a write or modify lock. Through IO, CHECKSUM's arg is 0.
 * FILL and COPY return in result the request's total length (the sum of
 * its segments' lengths).
 *
 * DMABUF_CHECKSUM and DMABUF_FILL import a dma-buf as a device driver
 * does: they take no segment, and the dma-buf's fd in the low 32 bits of
 * arg, resolved when the request is submitted (EBADF if not open, EINVAL
 * if not a dma-buf; FILL: EACCES if not open for writing). The driver
 * attaches its device, maps the dma-buf for it (DMA_TO_DEVICE to
 * checksum, DMA_FROM_DEVICE to fill), and reaches the data through the
 * dma-buf's kernel mapping between begin and end of CPU access (a
 * dma-buf without one, such as a read-only export: EINVAL).
 * DMABUF_CHECKSUM returns crc32c(~0, all of it); DMABUF_FILL writes byte
 * (arg >> 32) over all of it and returns its size.
 */
#define PINMDL_LOWER_FILL		1 /* low byte of arg over the data */
#define PINMDL_LOWER_CHECKSUM		2 /* crc32c(~0, data, len) into result */
#define PINMDL_LOWER_COPY		3 /* source onto destination */
#define PINMDL_LOWER_DELAY		4 /* complete after arg ms, result arg */
#define PINMDL_LOWER_DMABUF_CHECKSUM	5 /* arg: dma-buf fd; crc32c into result */
#define PINMDL_LOWER_DMABUF_FILL	6 /* arg: fd | byte << 32 */

/* Longest PINMDL_LOWER_DELAY, in milliseconds. */
#define PINMDL_LOWER_DELAY_MAX		60000

/*
 * Operations of target "pinmdl_blk", bound to a block device file the
 * caller opened itself (struct pinmdl_target_open.fd), with that file's
 * rights: READ needs it open for reading, WRITE and FLUSH for writing
 * (else EBADF). TARGET_OPEN returns block_size (the device's logical block
 * size, or its DMA alignment if larger), capacity (in bytes: the device's
 * size rounded down to a multiple of block_size) and max_segments (1024).
 * dev_offset, every segment's length and its start in memory (the
 * descriptor's byte offset plus the segment's offset) are multiples of
 * block_size, dev_offset plus the total length is at most capacity, and
 * arg is 0. READ writes into memory: its segments need a write or modify
 * lock (else EACCES). READ and WRITE return in result the total length;
 * a device error or a short transfer fails the request with EIO. FLUSH
 * takes no segments and dev_offset 0: it is fsync(2) of the device.
 */
#define PINMDL_BLK_READ			1 /* the device into the segments */
#define PINMDL_BLK_WRITE		2 /* the segments onto the device */
#define PINMDL_BLK_FLUSH		3 /* no segments: the volatile cache */

/* Longest target name, NUL included. */
#define PINMDL_TARGET_NAME_MAX		32

/*
 * struct pinmdl_submit.flags and struct pinmdl_io.flags: return once the
 * request is queued, its completion to be read(2) later. A file takes at
 * most 256 asynchronous requests whose completion has not been read yet,
 * in flight or completed (EAGAIN past that); synchronous ones do not count.
 */
#define PINMDL_SUBMIT_ASYNC		0x1

/**
 * struct pinmdl_create - describe a user range (IoAllocateMdl)
 * @addr: (in) start of the range in the caller's address space
 * @length: (in) length in bytes, > 0
 * @flags: (in) must be zero
 * @handle: (out) handle of the new descriptor
 */
struct pinmdl_create {
	__u64 addr;
	__u64 length;
	__u32 flags;
	__u32 handle;
};

/**
 * struct pinmdl_lock - probe and lock a descriptor (MmProbeAndLockPages)
 * @handle: (in) descriptor
 * @access_mode: (in) PINMDL_USER_MODE; PINMDL_KERNEL_MODE is refused
 * @operation: (in) PINMDL_IO_READ_ACCESS, _WRITE_ACCESS or _MODIFY_ACCESS
 * @flags: (in) must be zero
 */
struct pinmdl_lock {
	__u32 handle;
	__u32 access_mode;
	__u32 operation;
	__u32 flags;
};

/**
 * struct pinmdl_handle_arg - name a descriptor (UNLOCK, FREE) or a target
 *			      (TARGET_CLOSE)
 * @handle: (in) descriptor; for TARGET_CLOSE, the target id that
 *	    PINMDL_IOC_TARGET_OPEN returned in struct pinmdl_target_open.target
 * @flags: (in) must be zero
 */
struct pinmdl_handle_arg {
	__u32 handle;
	__u32 flags;
};

/**
 * struct pinmdl_query - read a descriptor's header and PFN array
 * @handle: (in) descriptor
 * @flags: (in) must be zero; (out) PINMDL_F_* of the descriptor
 * @start_va: (out) page-aligned start of the range
 * @byte_count: (out) length of the range in bytes
 * @byte_offset: (out) offset of the range in its first page
 * @operation: (out) operation of the lock (or of the parent's lock)
 * @page_count: (out) pages spanned by the range
 * @pfns: (in) user array of __u64 to receive PFNs, or 0
 * @pfn_capacity: (in) entries @pfns holds; (out) entries written
 * @parent: (out) handle of the parent of a partial descriptor, else 0
 * @reserved: (in) must be zero
 *
 * PFNs are written only for a locked, partial or kernel-source descriptor,
 * and are zeros unless the file was opened by a CAP_SYS_ADMIN opener.
 */
struct pinmdl_query {
	__u32 handle;
	__u32 flags;
	__u64 start_va;
	__u64 byte_count;
	__u32 byte_offset;
	__u32 operation;
	__u64 page_count;
	__u64 pfns;
	__u64 pfn_capacity;
	__u32 parent;
	__u32 reserved;
};

/**
 * struct pinmdl_partial - describe part of a locked descriptor
 *			   (IoBuildPartialMdl)
 * @parent: (in) locked or kernel-source descriptor
 * @handle: (out) handle of the new partial descriptor
 * @addr: (in) start of the sub-range, inside the parent
 * @length: (in) length of the sub-range; 0 means to the parent's end
 */
struct pinmdl_partial {
	__u32 parent;
	__u32 handle;
	__u64 addr;
	__u64 length;
};

/**
 * struct pinmdl_submit - hand a descriptor to the lower driver
 * @handle: (in) locked or partial descriptor
 * @op: (in) PINMDL_LOWER_FILL, _CHECKSUM or _COPY
 * @offset: (in) start of the range, from the descriptor's first byte
 * @length: (in) length of the range, > 0
 * @arg: (in) fill byte (FILL) or source descriptor handle (COPY)
 * @flags: (in) 0 or PINMDL_SUBMIT_ASYNC
 * @reserved: (in) must be zero
 * @request_id: (out, asynchronous only) id of the request, matched by its
 *		completion
 * @result: (out) result of a synchronous request: CHECKSUM's value, or the
 *	    request's total length
 */
struct pinmdl_submit {
	__u32 handle;
	__u32 op;
	__u64 offset;
	__u64 length;
	__u64 arg;
	__u32 flags;
	__u32 reserved;
	__u64 request_id;
	__u64 result;
};

/**
 * struct pinmdl_completion - completion of an asynchronous request, read(2)
 *			      from /dev/pinmdl
 * @request_id: id returned by PINMDL_IOC_SUBMIT or PINMDL_IOC_IO
 * @status: 0 or a negative errno, such as -EIO (a device error or a short
 *	    transfer) or -ECANCELED (stopped by PINMDL_IOC_CANCEL)
 * @reserved: zero
 * @result: what a synchronous request returns in its result (0 after an
 *	    error)
 *
 * Each asynchronous request yields exactly one, which only its submitter's
 * address space reads; read(2) returns one a call.
 */
struct pinmdl_completion {
	__u64 request_id;
	__s32 status;
	__u32 reserved;
	__u64 result;
};

/**
 * struct pinmdl_submit_buffered - run a lower-driver op through a kernel
 *				   copy of a user range (METHOD_BUFFERED)
 * @addr: (in) start of the user range
 * @length: (in) length of the range, > 0
 * @op: (in) PINMDL_LOWER_FILL or PINMDL_LOWER_CHECKSUM
 * @flags: (in) must be zero
 * @arg: (in) fill byte (FILL)
 * @result: (out) result of the request (CHECKSUM)
 */
struct pinmdl_submit_buffered {
	__u64 addr;
	__u64 length;
	__u32 op;
	__u32 flags;
	__u64 arg;
	__u64 result;
};

/**
 * struct pinmdl_target_open - open a target (a device a driver registered)
 * @name: (in) user pointer to the target's NUL-terminated name
 * @fd: (in) a file the target binds to, or -1 for a target that takes none;
 *	"pinmdl_blk" takes an open block device, held until TARGET_CLOSE
 * @flags: (in) must be zero
 * @target: (out) the target's id in this file, > 0, for PINMDL_IOC_IO and
 *	    PINMDL_IOC_TARGET_CLOSE
 * @block_size: (out) alignment of dev_offset, lengths and buffers, a power
 *		of two (1: none)
 * @capacity: (out) bytes addressable by dev_offset, a multiple of
 *	      block_size: for "pinmdl_blk", the device's size in bytes rounded
 *	      down to whole blocks (0: no device space)
 * @max_segments: (out) segments one request may chain, 1 to 1024
 * @reserved: (in) must be zero
 */
struct pinmdl_target_open {
	__u64 name;
	__s32 fd;
	__u32 flags;
	__u32 target;
	__u32 block_size;
	__u64 capacity;
	__u32 max_segments;
	__u32 reserved;
};

/**
 * struct pinmdl_segment - one piece of a request's data (an MDL of a chain)
 * @handle: a locked, partial or kernel-source descriptor of this file
 * @reserved: must be zero
 * @offset: start of the piece, from the descriptor's first byte
 * @length: length of the piece in bytes, > 0
 *
 * A descriptor may be in several segments and in several requests at once,
 * reads and writes alike; each holds it in flight. Nothing orders them:
 * where one writes memory that another reads or writes, the bytes are
 * unspecified.
 */
struct pinmdl_segment {
	__u32 handle;
	__u32 reserved;
	__u64 offset;
	__u64 length;
};

/**
 * struct pinmdl_io - an I/O request to an open target (IoCallDriver with an
 *		      MDL chain)
 * @target: (in) target id from PINMDL_IOC_TARGET_OPEN
 * @op: (in) one of the target's operations
 * @dev_offset: (in) position on the target, in bytes
 * @segments: (in) user pointer to struct pinmdl_segment[@nr_segments]
 * @nr_segments: (in) 1 to max_segments; 0 for an op that moves no data
 * @flags: (in) PINMDL_SUBMIT_ASYNC or 0
 * @arg: (in) the operation's argument
 * @request_id: (out) id of the request, a synchronous one's too; an
 *		asynchronous one's completion carries it
 * @result: (out, synchronous only) bytes moved, all of them (a short
 *	    transfer fails), or the op's result
 */
struct pinmdl_io {
	__u32 target;
	__u32 op;
	__u64 dev_offset;
	__u64 segments;
	__u32 nr_segments;
	__u32 flags;
	__u64 arg;
	__u64 request_id;
	__u64 result;
};

/* struct pinmdl_cancel.flags: @request_id is an IO command's user_data */
#define PINMDL_CANCEL_USER_DATA		0x1

/**
 * struct pinmdl_cancel - ask the target to stop an asynchronous request
 * @request_id: (in) an asynchronous request of this file, in flight; with
 *		PINMDL_CANCEL_USER_DATA, the SQE user_data of IO commands
 *		(io_uring) of this file in flight, each of which is stopped
 * @flags: (in) 0 or PINMDL_CANCEL_USER_DATA
 * @reserved: (in) must be zero
 */
struct pinmdl_cancel {
	__u64 request_id;
	__u32 flags;
	__u32 reserved;
};

/*
 * Map an allocated descriptor's pages write-combined, which they then are
 * for every mapping until freed (struct pinmdl_map).
 */
#define PINMDL_MAP_WRITE_COMBINED	0x1

/**
 * struct pinmdl_map - where mmap(2) of /dev/pinmdl finds a descriptor
 *		       (MmMapLockedPagesSpecifyCache, UserMode)
 * @handle: (in) locked, partial or allocated descriptor
 * @flags: (in) 0, or PINMDL_MAP_WRITE_COMBINED for allocated pages
 * @offset: (out) the offset to give mmap(2), with MAP_SHARED, for the
 *	    descriptor's pages (whole pages, from its first); the same for
 *	    every process that holds the file
 */
struct pinmdl_map {
	__u32 handle;
	__u32 flags;
	__u64 offset;
};

/**
 * struct pinmdl_advance - move a locked descriptor's start forward
 *			   (MmAdvanceMdl)
 * @handle: (in) locked user descriptor, not partial
 * @flags: (in) must be zero
 * @bytes: (in) how far, 0 < bytes < byte_count; pages left behind
 *	   entirely are unpinned and uncharged at once
 */
struct pinmdl_advance {
	__u32 handle;
	__u32 flags;
	__u64 bytes;
};

/**
 * struct pinmdl_range - one range of a page list
 * @addr: page-aligned start
 * @length: page-aligned length, > 0
 */
struct pinmdl_range {
	__u64 addr;
	__u64 length;
};

/* Ranges one page list holds at most (struct pinmdl_create_pages). */
#define PINMDL_MAX_RANGES	1024

/**
 * struct pinmdl_create_pages - describe a list of ranges of the caller
 *				(MmProbeAndLockSelectedPages: this, then
 *				PINMDL_IOC_LOCK)
 * @ranges: (in) user pointer to @nr_ranges struct pinmdl_range; every
 *	    offset into the descriptor runs over them in order
 * @nr_ranges: (in) 1 to PINMDL_MAX_RANGES
 * @flags: (in) must be zero
 * @handle: (out) handle of the new descriptor
 * @reserved: (in) must be zero
 */
struct pinmdl_create_pages {
	__u64 ranges;
	__u32 nr_ranges;
	__u32 flags;
	__u32 handle;
	__u32 reserved;
};

/* Physically contiguous pages (struct pinmdl_alloc_pages). */
#define PINMDL_ALLOC_CONTIGUOUS		0x1
/* All of them, or none (struct pinmdl_alloc_pages). */
#define PINMDL_ALLOC_FULLY_REQUIRED	0x2

/**
 * struct pinmdl_alloc_pages - allocate zeroed pages as a locked descriptor
 *			       (MmAllocatePagesForMdlEx)
 * @length: (in) bytes, > 0, rounded up to whole pages
 * @highest_phys: (in) the highest physical address a page may reach (a
 *		  32-bit DMA device's 0xffffffff), 0 for any
 * @node: (in) NUMA node of the pages, -1 for any
 * @flags: (in) PINMDL_ALLOC_*
 * @handle: (out) handle of the new descriptor: locked for write, with
 *	    start_va 0, so that PARTIAL's addr is an offset into it
 * @reserved: (in) must be zero
 * @allocated: (out) bytes allocated: all of them with
 *	       PINMDL_ALLOC_FULLY_REQUIRED, else at least one page
 */
struct pinmdl_alloc_pages {
	__u64 length;
	__u64 highest_phys;
	__s32 node;
	__u32 flags;
	__u32 handle;
	__u32 reserved;
	__u64 allocated;
};

/* The dma-buf's fd is close-on-exec (struct pinmdl_export). */
#define PINMDL_EXPORT_CLOEXEC		0x1
/* Importers may write the pages: needs a write lock (struct pinmdl_export). */
#define PINMDL_EXPORT_WRITE		0x2

/**
 * struct pinmdl_export - export a locked descriptor's pages as a dma-buf
 * @handle: (in) locked user, page-list or allocated descriptor, not
 *	    partial
 * @flags: (in) PINMDL_EXPORT_*
 * @fd: (out) the dma-buf: page_count pages, from the descriptor's first;
 *	they stay locked, and charged to the locker, until its last
 *	reference goes
 * @reserved: (in) must be zero
 */
struct pinmdl_export {
	__u32 handle;
	__u32 flags;
	__s32 fd;
	__u32 reserved;
};

#define PINMDL_IOC_MAGIC	0xBD

/* Describe a range (struct pinmdl_create); returns the new handle. */
#define PINMDL_IOC_CREATE	_IOWR(PINMDL_IOC_MAGIC, 1, struct pinmdl_create)
/* Probe and lock a descriptor's pages (struct pinmdl_lock). */
#define PINMDL_IOC_LOCK		_IOW(PINMDL_IOC_MAGIC, 2, struct pinmdl_lock)
/* Unpin the pages and return the charges (struct pinmdl_handle_arg). */
#define PINMDL_IOC_UNLOCK	_IOW(PINMDL_IOC_MAGIC, 3, struct pinmdl_handle_arg)
/* Free an unlocked or partial descriptor (struct pinmdl_handle_arg). */
#define PINMDL_IOC_FREE		_IOW(PINMDL_IOC_MAGIC, 4, struct pinmdl_handle_arg)
/* Read a descriptor's header and PFNs (struct pinmdl_query). */
#define PINMDL_IOC_QUERY	_IOWR(PINMDL_IOC_MAGIC, 5, struct pinmdl_query)
/* Describe part of a locked descriptor (struct pinmdl_partial). */
#define PINMDL_IOC_PARTIAL	_IOWR(PINMDL_IOC_MAGIC, 6, struct pinmdl_partial)
/*
 * A one-segment request (two for COPY) to "pinmdl_lower" (struct
 * pinmdl_submit): synchronous, it returns result; asynchronous, request_id.
 */
#define PINMDL_IOC_SUBMIT	_IOWR(PINMDL_IOC_MAGIC, 7, struct pinmdl_submit)
/*
 * FILL or CHECKSUM through a kernel copy of a user range, no page pinned
 * (struct pinmdl_submit_buffered); synchronous, it returns result.
 */
#define PINMDL_IOC_SUBMIT_BUFFERED \
	_IOWR(PINMDL_IOC_MAGIC, 8, struct pinmdl_submit_buffered)
/*
 * Open a target by name (struct pinmdl_target_open): returns its id in
 * target, and its block_size, capacity and max_segments.
 */
#define PINMDL_IOC_TARGET_OPEN \
	_IOWR(PINMDL_IOC_MAGIC, 9, struct pinmdl_target_open)
/*
 * Close an open target (struct pinmdl_handle_arg: handle is the target id,
 * flags 0); EBUSY while requests through it are in flight.
 */
#define PINMDL_IOC_TARGET_CLOSE \
	_IOW(PINMDL_IOC_MAGIC, 10, struct pinmdl_handle_arg)
/*
 * Send a request to an open target (struct pinmdl_io); returns request_id.
 * Synchronous, it returns once the request completed, with its result, or
 * fails with the request's error (EIO, say). With PINMDL_SUBMIT_ASYNC it
 * returns once the request is queued; its completion is read(2) later.
 */
#define PINMDL_IOC_IO		_IOWR(PINMDL_IOC_MAGIC, 11, struct pinmdl_io)
/*
 * Ask the target to stop an asynchronous request in flight (struct
 * pinmdl_cancel); the request still yields one completion, -ECANCELED if
 * it was stopped.
 */
#define PINMDL_IOC_CANCEL	_IOW(PINMDL_IOC_MAGIC, 12, struct pinmdl_cancel)
/*
 * Export a locked descriptor's pages as a dma-buf (struct pinmdl_export);
 * UNLOCK and FREE of it fail with EBUSY while one exists.
 */
#define PINMDL_IOC_EXPORT_DMABUF \
	_IOWR(PINMDL_IOC_MAGIC, 13, struct pinmdl_export)
/*
 * Describe a list of page-aligned ranges as one descriptor (struct
 * pinmdl_create_pages); PINMDL_IOC_LOCK locks them all or none.
 */
#define PINMDL_IOC_CREATE_PAGES \
	_IOWR(PINMDL_IOC_MAGIC, 15, struct pinmdl_create_pages)
/* The mmap(2) offset of a descriptor's pages (struct pinmdl_map). */
#define PINMDL_IOC_MAP_OFFSET	_IOWR(PINMDL_IOC_MAGIC, 16, struct pinmdl_map)
/*
 * Allocate zeroed pages, charged as a lock, as a locked descriptor (struct
 * pinmdl_alloc_pages); FREE returns them (MmFreePagesFromMdl).
 */
#define PINMDL_IOC_ALLOC_PAGES \
	_IOWR(PINMDL_IOC_MAGIC, 17, struct pinmdl_alloc_pages)
/* Move a locked descriptor's start forward (struct pinmdl_advance). */
#define PINMDL_IOC_ADVANCE	_IOW(PINMDL_IOC_MAGIC, 18, struct pinmdl_advance)
/*
 * Rebuild a partial descriptor (struct pinmdl_partial: handle is the
 * partial, in) over another range of its parent (MmPrepareMdlForReuse,
 * then IoBuildPartialMdl).
 */
#define PINMDL_IOC_PARTIAL_REUSE \
	_IOW(PINMDL_IOC_MAGIC, 19, struct pinmdl_partial)

#endif /* _UAPI_LINUX_PINMDL_H */
