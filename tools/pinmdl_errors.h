/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pinmdl_strerror(): what an errno from /dev/pinmdl means in pinmdl's
 * terms, for the ioctl that returned it, as pinmdl(4) ERRORS says.
 * Header-only, for pinmdlctl and the examples.
 */
#ifndef PINMDL_ERRORS_H
#define PINMDL_ERRORS_H

#include <errno.h>
#include <string.h>

#include <linux/pinmdl.h>

/* One meaning; @cmd 0 matches any pinmdl ioctl. */
struct pinmdl_errno_meaning {
	unsigned long cmd;
	int err;
	const char *why;
};

static const struct pinmdl_errno_meaning pinmdl_errno_meanings[] = {
	{ PINMDL_IOC_LOCK, EBUSY, "the descriptor is locked already, or being locked" },
	{ PINMDL_IOC_UNLOCK, EINVAL, "the descriptor is not locked" },
	{ PINMDL_IOC_FREE, EBUSY, "the descriptor is locked, in flight, being locked, or has partial descriptors" },
	{ PINMDL_IOC_TARGET_CLOSE, EBUSY, "requests are in flight on this target" },
	{ PINMDL_IOC_TARGET_OPEN, ENODEV, "no target of that name is registered (is its module loaded?)" },
	{ PINMDL_IOC_TARGET_OPEN, EBADF, "the fd is not an open file" },
	{ PINMDL_IOC_TARGET_OPEN, ENOTBLK, "pinmdl_blk needs an fd of a block device" },
	{ PINMDL_IOC_TARGET_OPEN, EMFILE, "this open file has 64 targets open" },
	{ PINMDL_IOC_IO, EBADF, "the target's file is not open for this direction (O_RDONLY for a write?)" },
	{ PINMDL_IOC_IO, EINVAL, "bad op, segment or alignment, or past the device's capacity; or a segment's descriptor is not locked" },
	{ PINMDL_IOC_IO, EACCES, "a read of the device into a read lock: lock the buffer for write" },
	{ PINMDL_IOC_IO, ENOENT, "no such target id or segment handle in this open file" },
	{ PINMDL_IOC_CANCEL, ENOENT, "no such request in flight (already completed?)" },
	{ PINMDL_IOC_CREATE, E2BIG, "longer than the max_descriptor_bytes module parameter" },
	{ PINMDL_IOC_CREATE, EINVAL, "length 0, or the range wraps around" },
	{ 0, EBUSY, "the descriptor is in flight or being locked, or has partial descriptors" },
	{ 0, EINVAL, "a flags or reserved field is not 0, or the descriptor's state does not allow this" },
	{ 0, ENOENT, "no such handle in this open file" },
	{ 0, EPERM, "a descriptor of another address space; or a write to a read-only device" },
	{ 0, EFAULT, "the range is not wholly mapped with the access asked for, or a bad pointer" },
	{ 0, ENOMEM, "over RLIMIT_MEMLOCK (ulimit -l) or the max_pinned_pages module parameter" },
	{ 0, EINTR, "interrupted by a fatal signal" },
	{ 0, EACCES, "a writing operation on a read lock" },
	{ 0, ENODEV, "the target (or its device) is gone, or no lower driver is loaded" },
	{ 0, EAGAIN, "256 asynchronous requests of this file are in flight or unread: read(2) completions first" },
	{ 0, EMFILE, "the open file holds max_descriptors descriptors" },
	{ 0, ENOTTY, "not a pinmdl ioctl (an older module?)" },
	{ 0, EIO, "the device failed the I/O, or moved fewer bytes than asked" },
	{ 0, ETXTBSY, "a write to a block device used for swap" },
	{ 0, ECANCELED, "the request was cancelled" },
};

/*
 * The meaning of @err returned by ioctl @cmd of /dev/pinmdl; strerror()'s
 * for @cmd 0 (not a pinmdl ioctl) and for an errno pinmdl never returns.
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
	for (i = 0; i < n; i++)
		if (!m[i].cmd && m[i].err == err)
			return m[i].why;
	return strerror(err);
}

#endif /* PINMDL_ERRORS_H */
