/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pinmdl_strerror(): what an errno from /dev/pinmdl means in pinmdl's
 * terms, for the ioctl that returned it, as pinmdl(4) ERRORS says, or for
 * the open(2) of the device itself (PINMDL_OPEN_DEVICE); and
 * pinmdl_check(), which exits with it when a call failed.
 * Header-only, for pinmdlctl and the examples.
 */
#ifndef PINMDL_ERRORS_H
#define PINMDL_ERRORS_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/pinmdl.h>

/* Not an ioctl: the open(2) of /dev/pinmdl, for pinmdl_strerror(). */
#define PINMDL_OPEN_DEVICE	1UL

/* One meaning; @cmd 0 matches any pinmdl ioctl. */
struct pinmdl_errno_meaning {
	unsigned long cmd;
	int err;
	const char *why;
};

static const struct pinmdl_errno_meaning pinmdl_errno_meanings[] = {
	{ PINMDL_OPEN_DEVICE, ENOENT, "no such device: load the module (modprobe pinmdl_blk)" },
	{ PINMDL_OPEN_DEVICE, ENXIO, "no driver behind it: load the module (modprobe pinmdl_blk)" },
	{ PINMDL_OPEN_DEVICE, ENODEV, "no driver behind it: load the module (modprobe pinmdl_blk)" },
	{ PINMDL_OPEN_DEVICE, EACCES, "permission denied: join group pinmdl (adduser USER pinmdl) and log in again" },
	{ PINMDL_IOC_CREATE, E2BIG, "longer than the max_descriptor_bytes module parameter" },
	{ PINMDL_IOC_CREATE, EINVAL, "a flags field is not 0, length 0, or the range wraps around or reaches the last page" },
	{ PINMDL_IOC_LOCK, EBUSY, "the descriptor is locked already, or being locked" },
	{ PINMDL_IOC_LOCK, EINVAL, "bad flags, access_mode or operation, or a partial or kernel-source descriptor" },
	{ PINMDL_IOC_LOCK, EPERM, "PINMDL_KERNEL_MODE (user space locks in PINMDL_USER_MODE), or a descriptor of another address space" },
	{ PINMDL_IOC_LOCK, ENOMEM, "over RLIMIT_MEMLOCK (ulimit -l), the max_pinned_pages module parameter or a folio's max_folio_refs; or out of kernel memory" },
	{ PINMDL_IOC_UNLOCK, EINVAL, "the descriptor is not locked, or is a partial or kernel-source one (FREE those)" },
	{ PINMDL_IOC_UNLOCK, EBUSY, "the descriptor is in flight, being locked, has partial descriptors, or a dma-buf of it exists: close every dma-buf fd (importers hold theirs)" },
	{ PINMDL_IOC_FREE, EBUSY, "the descriptor is locked, in flight, being locked, has partial descriptors, or a dma-buf of it exists" },
	{ PINMDL_IOC_PARTIAL, E2BIG, "longer than the max_descriptor_bytes module parameter" },
	{ PINMDL_IOC_PARTIAL, EINVAL, "the parent is unlocked, partial or freed, or the range is not inside it" },
	{ PINMDL_IOC_SUBMIT_BUFFERED, E2BIG, "longer than the max_descriptor_bytes module parameter" },
	{ PINMDL_IOC_TARGET_CLOSE, EBUSY, "requests are in flight on this target" },
	{ PINMDL_IOC_TARGET_OPEN, EINVAL, "bad flags or reserved field, a name of 32 characters or more, an fd of -1 for pinmdl_blk, or an fd for a target that takes none" },
	{ PINMDL_IOC_TARGET_OPEN, ENODEV, "no target of that name is registered (is its module loaded?)" },
	{ PINMDL_IOC_TARGET_OPEN, EBADF, "the fd is not an open file, or a block device open for neither reading nor writing" },
	{ PINMDL_IOC_TARGET_OPEN, ENOTBLK, "pinmdl_blk needs an fd of a block device" },
	{ PINMDL_IOC_TARGET_OPEN, EMFILE, "this open file has 64 targets open" },
	{ PINMDL_IOC_IO, EINVAL, "bad op, segment or alignment, or past the device's capacity; or a segment's descriptor is not locked; or a DMABUF op's fd is not a dma-buf" },
	{ PINMDL_IOC_IO, EBADF, "the target's file is not open for this direction (O_RDONLY for a write?), or a DMABUF op's fd is not open" },
	{ PINMDL_IOC_IO, ENOENT, "no such target id or segment handle in this open file" },
	{ PINMDL_IOC_CANCEL, ENOENT, "no such request in flight (already completed?)" },
	{ PINMDL_IOC_CREATE_PAGES, EINVAL, "flags or reserved not 0, nr_ranges 0 or over 1024, or a range empty, not page aligned or wrapping around" },
	{ PINMDL_IOC_CREATE_PAGES, E2BIG, "the ranges add up to more than the max_descriptor_bytes module parameter" },
	{ PINMDL_IOC_ADVANCE, EINVAL, "flags not 0, bytes 0 or not less than byte_count, or the descriptor is unlocked, partial, allocated or a page list" },
	{ PINMDL_IOC_ADVANCE, EBUSY, "the descriptor is in flight, being locked, has partial descriptors, is mmap'd (munmap it first) or exported as a dma-buf" },
	{ PINMDL_IOC_PARTIAL_REUSE, EINVAL, "handle is not a partial descriptor of parent, or the range is not inside the parent" },
	{ PINMDL_IOC_PARTIAL_REUSE, EBUSY, "the partial descriptor is in flight or mmap'd: munmap it first" },
	{ PINMDL_IOC_ALLOC_PAGES, EINVAL, "length 0, unknown flags, reserved not 0, or a node without memory" },
	{ PINMDL_IOC_ALLOC_PAGES, ENOMEM, "over RLIMIT_MEMLOCK (ulimit -l) or max_pinned_pages, or no such pages free (below highest_phys, on node, contiguous: 4 MiB at most)" },
	{ PINMDL_IOC_ALLOC_PAGES, E2BIG, "longer than the max_descriptor_bytes module parameter" },
	{ PINMDL_IOC_MAP_OFFSET, EINVAL, "unknown flags, the descriptor is neither locked nor partial, or WRITE_COMBINED of pages not allocated" },
	{ PINMDL_IOC_MAP_OFFSET, EBUSY, "the pages have another cache mode, or cannot change it now (a window, a partial, a kernel mapping, a dma-buf or a request exists)" },
	{ PINMDL_IOC_MAP_OFFSET, ENOSPC, "a million descriptors of the open file have an mmap offset: unlock or free some" },
	{ PINMDL_IOC_EXPORT_DMABUF, EINVAL, "unknown flags, reserved not 0, or the descriptor is not locked, or is partial" },
	{ PINMDL_IOC_EXPORT_DMABUF, EACCES, "PINMDL_EXPORT_WRITE of a read lock: lock the buffer for write or modify" },
	{ PINMDL_IOC_EXPORT_DMABUF, EMFILE, "the process has no free file descriptor (ulimit -n)" },
	{ PINMDL_IOC_EXPORT_DMABUF, EBUSY, "the descriptor is being locked, or its allocated pages are mapped write-combined or uncached" },
	{ 0, EBUSY, "the descriptor is in flight or being locked, or has partial descriptors" },
	{ 0, EINVAL, "a flags or reserved field is not 0, or the descriptor's state does not allow this" },
	{ 0, ENOENT, "no such handle in this open file" },
	{ 0, EPERM, "a descriptor of another address space; or a write to a read-only device" },
	{ 0, EFAULT, "the range is not wholly mapped with the access asked for, or a bad pointer" },
	{ 0, ENOMEM, "out of kernel memory" },
	{ 0, EINTR, "interrupted by a fatal signal" },
	{ 0, EACCES, "the request writes into a read lock (BLK_READ, FILL, COPY's destination): lock that buffer for write; or DMABUF_FILL of a dma-buf exported without PINMDL_EXPORT_WRITE" },
	{ 0, ENODEV, "the target (or its device) is gone, or no lower driver is loaded" },
	{ 0, EAGAIN, "256 asynchronous requests of this file are in flight or unread: read(2) completions first" },
	{ 0, EMFILE, "the open file holds max_descriptors descriptors" },
	{ 0, ENOTTY, "not a pinmdl ioctl (an older module?)" },
	{ 0, EIO, "the device failed the I/O, or moved fewer bytes than asked" },
	{ 0, ETXTBSY, "a write to a block device used for swap" },
	{ 0, ECANCELED, "the request was cancelled" },
};

/*
 * The meaning of @err returned by ioctl @cmd of /dev/pinmdl, or by its
 * open(2) for PINMDL_OPEN_DEVICE; strerror()'s for @cmd 0 (not a pinmdl
 * call) and for an errno with no meaning of pinmdl's there.
 */
static inline const char *pinmdl_strerror(unsigned long cmd, int err)
{
	const struct pinmdl_errno_meaning *m = pinmdl_errno_meanings;
	size_t i, n = sizeof(pinmdl_errno_meanings) / sizeof(*m);

	if (!cmd)
		return strerror(err);
	for (i = 0; i < n; i++)
		if (m[i].cmd == cmd && m[i].err == err)
			return m[i].why;
	for (i = 0; i < n && cmd != PINMDL_OPEN_DEVICE; i++)
		if (!m[i].cmd && m[i].err == err)
			return m[i].why;
	return strerror(err);
}

/*
 * For short programs: if @failed, print "@what: " and what errno means for
 * @cmd (pinmdl_strerror()) to stderr, and exit with status 1.
 */
static inline void pinmdl_check(int failed, const char *what,
				unsigned long cmd)
{
	if (!failed)
		return;
	fprintf(stderr, "%s: %s\n", what, pinmdl_strerror(cmd, errno));
	exit(1);
}

#endif /* PINMDL_ERRORS_H */
