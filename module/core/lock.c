// SPDX-License-Identifier: GPL-2.0
/*
 * Probe and lock (MmProbeAndLockPages) and unlock (MmUnlockPages): pinning
 * user pages with FOLL_LONGTERM, RLIMIT_MEMLOCK accounting on
 * mm->pinned_vm and user->locked_vm, and unpinning with dirtying after a
 * write lock.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/export.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/user.h>
#include <linux/sizes.h>

#include "core/desc.h"
#include "core/pin.h"
#include "core/pin_compat.h"
#include "core/stats.h"
#include "core/timing.h"
#include "trace/pinmdl_trace.h"

/*
 * Add @pages to @counter unless the total would pass @limit. A user's
 * locked_vm is an atomic_long_t, which is an atomic64_t on the 64-bit
 * kernels pinmdl builds for (a PFN array entry holds a page pointer).
 */
static bool pinmdl_charge_capped(atomic64_t *counter, s64 pages,
				 unsigned long limit)
{
	s64 old = atomic64_read(counter);

	do {
		if (old + pages > (s64)min_t(unsigned long, limit, S64_MAX))
			return false;
	} while (!atomic64_try_cmpxchg(counter, &old, old + pages));
	return true;
}

/*
 * Charge a user lock of @mdl, before anything is pinned: the module-wide
 * max_pinned_pages, then RLIMIT_MEMLOCK on the locking mm's pinned_vm and
 * on its user's locked_vm, as io_uring charges its registered buffers, so
 * that neither a new mm (execve, a child given the file) nor a new file
 * starts again from zero. CAP_IPC_LOCK lifts the limit and the user's
 * count; the pages still count in pinned_vm and max_pinned_pages.
 */
int pinmdl_charge(struct pinmdl *mdl)
{
	unsigned long limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	struct user_struct *user = current_user();
	s64 pages = mdl->page_count;

	if (!pinmdl_stats_pin(pages, READ_ONCE(pinmdl_max_pinned_pages)))
		return -ENOMEM;
	if (capable(CAP_IPC_LOCK)) {
		atomic64_add(pages, &mdl->mm->pinned_vm);
		return 0;
	}
	if (!pinmdl_charge_capped(&mdl->mm->pinned_vm, pages, limit))
		goto err_unpin_stats;
	if (!pinmdl_charge_capped(&user->locked_vm, pages, limit))
		goto err_uncharge_mm;
	mdl->user = get_uid(user);
	return 0;

err_uncharge_mm:
	atomic64_sub(pages, &mdl->mm->pinned_vm);
err_unpin_stats:
	pinmdl_stats_unpin(pages);
	return -ENOMEM;
}

/* Return @pages of the charges of pinmdl_charge(), from any context. */
void pinmdl_uncharge_pages(struct pinmdl *mdl, u64 pages)
{
	if (mdl->user)
		atomic_long_sub(pages, &mdl->user->locked_vm);
	atomic64_sub(pages, &mdl->mm->pinned_vm);
	pinmdl_stats_unpin(pages);
}

/* Return the charges of pinmdl_charge(), from any context, exactly once. */
void pinmdl_uncharge(struct pinmdl *mdl)
{
	pinmdl_uncharge_pages(mdl, mdl->page_count);
	if (mdl->user) {
		free_uid(mdl->user);
		mdl->user = NULL;
	}
}

/*
 * Pin the pages of a charged user lock into a new PFN array. Runs without
 * @mdl->lock, which may wait for as long as a fault takes (userfaultfd, a
 * FUSE daemon): @mdl->locking keeps every other state change away.
 */
static int pinmdl_lock_user_pages(struct pinmdl *mdl, u32 operation,
				  bool nowait)
{
	bool write = operation != PINMDL_IO_READ_ACCESS;
	unsigned int gup_flags = FOLL_LONGTERM | (write ? FOLL_WRITE : 0);
	int ret;

	ret = pinmdl_alloc_pfns(mdl, GFP_KERNEL_ACCOUNT);
	if (ret)
		return ret;
	if (mdl->flags & PINMDL_F_PAGE_LIST)
		ret = pinmdl_pin_page_list(mdl, gup_flags, nowait);
	else
		ret = pinmdl_pin_user_range(mdl, mdl->start_va, mdl->pfns,
					    mdl->page_count, gup_flags, nowait);
	if (ret)
		goto err_free_pfns;
	ret = pinmdl_compat_check_pins(mdl, write);
	if (ret)
		goto err_unpin;
	return 0;

err_unpin:
	pinmdl_unpin_pfns(mdl->pfns, mdl->page_count, false);
err_free_pfns:
	pinmdl_free_pfns(mdl);
	return ret;
}

/* The most a lock that may not wait pins: one piece of a parallel lock. */
#define PINMDL_NOWAIT_PAGES	(SZ_8M >> PAGE_SHIFT)

/*
 * Charge, then pin with @mdl->lock dropped meanwhile; called, and returns,
 * with it held. With @nowait, -EAGAIN where pinning would wait, or for
 * more than PINMDL_NOWAIT_PAGES, before anything is charged.
 */
static int pinmdl_lock_user(struct pinmdl *mdl, u32 operation, bool nowait)
{
	int ret;

	lockdep_assert_held(&mdl->lock);

	if (!mdl->mm || mdl->mm != current->mm)
		return -EPERM;
	if (nowait && mdl->page_count > PINMDL_NOWAIT_PAGES)
		return -EAGAIN;
	ret = pinmdl_charge(mdl);
	if (ret)
		return ret;
	mdl->locking = true;
	mutex_unlock(&mdl->lock);
	ret = pinmdl_lock_user_pages(mdl, operation, nowait);
	mutex_lock(&mdl->lock);
	mdl->locking = false;
	if (ret)
		pinmdl_uncharge(mdl);
	return ret;
}

/* Describe a kernel range locked in kernel mode: nothing is pinned. */
static int pinmdl_lock_kernel(struct pinmdl *mdl)
{
	int ret = pinmdl_alloc_pfns(mdl, GFP_KERNEL);

	if (ret)
		return ret;
	ret = pinmdl_fill_kernel_pfns(mdl);
	if (ret)
		pinmdl_free_pfns(mdl);
	return ret;
}

/**
 * pinmdl_probe_and_lock() - fault in and lock a descriptor's pages
 *			     (MmProbeAndLockPages)
 * @mdl: descriptor from pinmdl_alloc()
 * @access_mode: PINMDL_USER_MODE to pin the user range of the calling
 *		 process (the descriptor's address space); PINMDL_KERNEL_MODE
 *		 to lock a kernel range (kmalloc or vmalloc memory)
 * @operation: PINMDL_IO_READ_ACCESS, PINMDL_IO_WRITE_ACCESS or
 *	       PINMDL_IO_MODIFY_ACCESS
 *
 * In user mode every page (of each range of a page list) is faulted in
 * and pinned with FOLL_LONGTERM (FOLL_WRITE for write and modify) and
 * charged to the process's pinned_vm against RLIMIT_MEMLOCK unless it has
 * CAP_IPC_LOCK. A read lock stays coherent with later writes through the
 * range. The charges are checked before anything is pinned, and the pages
 * are pinned without the descriptor's mutex: meanwhile every other state
 * change of it fails with -EBUSY, and its state reads as unlocked. All or
 * nothing: on failure nothing stays pinned or charged and the descriptor
 * stays unlocked.
 *
 * Context: process context; may sleep.
 * Return: 0; -EINVAL for an unknown mode or operation, a partial or
 * kernel-source descriptor, or a page list in kernel mode; -EPERM from
 * another address space; -ENOENT if freed; -EBUSY if locked or being
 * locked; -EFAULT if the range is not
 * wholly mapped or does not permit the operation; -ENOMEM beyond
 * RLIMIT_MEMLOCK (of the mm or of the user) or max_pinned_pages or on
 * allocation failure; -EINTR on a fatal signal.
 */
int pinmdl_probe_and_lock(struct pinmdl *mdl, u32 access_mode, u32 operation)
{
	return pinmdl_lock_pages(mdl, access_mode, operation, false);
}
EXPORT_SYMBOL_GPL(pinmdl_probe_and_lock);

/**
 * pinmdl_lock_pages() - pinmdl_probe_and_lock(), which may be told not to wait
 * @mdl: descriptor from pinmdl_alloc()
 * @access_mode: PINMDL_USER_MODE or PINMDL_KERNEL_MODE
 * @operation: PINMDL_IO_READ_ACCESS, PINMDL_IO_WRITE_ACCESS or
 *	       PINMDL_IO_MODIFY_ACCESS
 * @nowait: a user lock of at most 8 MiB pins only what is mapped, with no
 *	    fault and no wait for the descriptor or a reservation (an
 *	    io_uring command issued where it may not block); GUP may still
 *	    wait for the mmap_lock, or migrate a page a long-term pin may not
 *	    keep where it is
 *
 * Context: process context; may sleep.
 * Return: as pinmdl_probe_and_lock(); -EAGAIN if @nowait and the lock
 * would wait, having changed nothing.
 */
int pinmdl_lock_pages(struct pinmdl *mdl, u32 access_mode, u32 operation,
		      bool nowait)
{
	u64 start = pinmdl_trace_start(trace_pinmdl_lock_enabled()), ns;
	int ret;

	if (access_mode > PINMDL_USER_MODE ||
	    operation > PINMDL_IO_MODIFY_ACCESS) {
		ret = -EINVAL;
		goto out;
	}

	if (!nowait) {
		mutex_lock(&mdl->lock);
	} else if (!mutex_trylock(&mdl->lock)) {
		ret = -EAGAIN;
		goto out;
	}
	if (mdl->dead) {
		ret = -ENOENT;
		goto out_unlock;
	}
	if ((mdl->flags & (PINMDL_F_PARTIAL | PINMDL_F_SOURCE_IS_KERNEL)) ||
	    (access_mode == PINMDL_KERNEL_MODE &&
	     (mdl->flags & PINMDL_F_PAGE_LIST))) {
		ret = -EINVAL;
		goto out_unlock;
	}
	if ((mdl->flags & PINMDL_F_PAGES_LOCKED) || mdl->locking) {
		ret = -EBUSY;
		goto out_unlock;
	}
	if (access_mode == PINMDL_KERNEL_MODE)
		ret = pinmdl_lock_kernel(mdl);
	else
		ret = pinmdl_lock_user(mdl, operation, nowait);
	if (ret)
		goto out_unlock;

	mdl->kernel_mode = access_mode == PINMDL_KERNEL_MODE;
	mdl->operation = operation;
	mdl->flags |= PINMDL_F_PAGES_LOCKED;
	if (operation != PINMDL_IO_READ_ACCESS)
		mdl->flags |= PINMDL_F_WRITE_OPERATION;
	atomic_long_inc(&pinmdl_stats.locked);
	atomic_long_inc(&pinmdl_stats.locks);
out_unlock:
	mutex_unlock(&mdl->lock);
out:
	ns = pinmdl_trace_ns(start);
	if (!ret)
		pinmdl_timing_end(PINMDL_TIMED_LOCK, start, ns);
	/* A lock that would have waited is not over: it is tried again. */
	if (!nowait || ret != -EAGAIN)
		trace_pinmdl_lock(mdl->handle, mdl->start_va, mdl->page_count,
				  access_mode, operation, ret, ns);
	return ret;
}

/**
 * pinmdl_locked_state() - whether a state change of a locked descriptor
 *			   may start
 * @mdl: descriptor
 * @refuse: PINMDL_F_* of the descriptors the change is not for
 *
 * Context: @mdl->lock held.
 * Return: 0 for a live, locked descriptor with none of @refuse; -ENOENT
 * if freed; -EBUSY while being locked; -EINVAL otherwise.
 */
int pinmdl_locked_state(const struct pinmdl *mdl, u32 refuse)
{
	lockdep_assert_held(&mdl->lock);

	if (mdl->dead)
		return -ENOENT;
	if (mdl->locking)
		return -EBUSY;
	if (!(mdl->flags & PINMDL_F_PAGES_LOCKED) || (mdl->flags & refuse))
		return -EINVAL;
	return 0;
}

/**
 * pinmdl_release_pages() - give up a locked descriptor's pages
 * @mdl: locked user or allocated descriptor, with no request in flight, no
 *	 child and no dma-buf
 *
 * Every user mapping is taken away and the kernel's views dropped first.
 * Pinned pages are unpinned (dirtied after a write lock) and allocated
 * ones returned, and their charges with them; the descriptor is then
 * unlocked.
 *
 * Context: process context, @mdl->lock held.
 */
void pinmdl_release_pages(struct pinmdl *mdl)
{
	lockdep_assert_held(&mdl->lock);

	if (mdl->flags & PINMDL_F_ALLOCATED) {
		pinmdl_free_allocated_pages(mdl);
		return;
	}
	pinmdl_umap_revoke(mdl);
	pinmdl_drop_views(mdl);
	if (!mdl->kernel_mode) {
		pinmdl_unpin_pfns(mdl->pfns, mdl->page_count,
				  mdl->flags & PINMDL_F_WRITE_OPERATION);
		pinmdl_uncharge(mdl);
	}
	pinmdl_free_pfns(mdl);
	mdl->flags &= ~(PINMDL_F_PAGES_LOCKED | PINMDL_F_WRITE_OPERATION);
	mdl->kernel_mode = false;
	atomic_long_dec(&pinmdl_stats.locked);
}

/**
 * pinmdl_unlock() - unlock a descriptor's pages (MmUnlockPages)
 * @mdl: descriptor locked by pinmdl_probe_and_lock()
 *
 * Unmaps the system mapping if any, unpins the pages (dirtying them after a
 * write lock), returns the pinned_vm and locked_vm charges and frees the
 * PFN array.
 *
 * Context: process context; may sleep.
 * Return: 0; -EINVAL for a partial, kernel-source, allocated or unlocked
 * descriptor;
 * -ENOENT if freed; -EBUSY while being locked, with requests in flight,
 * with partial children or while a dma-buf of it exists.
 */
int pinmdl_unlock(struct pinmdl *mdl)
{
	u64 start = pinmdl_trace_start(trace_pinmdl_unlock_enabled()), ns;
	int ret;

	mutex_lock(&mdl->lock);
	ret = pinmdl_locked_state(mdl, PINMDL_F_PARTIAL |
				  PINMDL_F_SOURCE_IS_KERNEL |
				  PINMDL_F_ALLOCATED);
	if (!ret && (atomic_read(&mdl->in_flight) || mdl->children ||
		     mdl->exports))
		ret = -EBUSY;
	if (ret)
		goto out_unlock;

	pinmdl_release_pages(mdl);
	atomic_long_inc(&pinmdl_stats.unlocks);
out_unlock:
	mutex_unlock(&mdl->lock);
	ns = pinmdl_trace_ns(start);
	if (!ret)
		pinmdl_timing_end(PINMDL_TIMED_UNLOCK, start, ns);
	trace_pinmdl_unlock(mdl->handle, mdl->page_count, ret, ns);
	return ret;
}
EXPORT_SYMBOL_GPL(pinmdl_unlock);

/**
 * pinmdl_advance() - move a locked descriptor's start forward (MmAdvanceMdl)
 * @mdl: descriptor locked by pinmdl_probe_and_lock(), not partial
 * @bytes: how far, more than 0 and less than its byte count
 *
 * The range then starts @bytes further on and is @bytes shorter. The pages
 * it no longer touches are unpinned at once (dirtied after a write lock)
 * and their charges returned; the PFNs of those that remain move to an
 * array of their own size.
 * The system and DMA mappings are dropped, and made again on demand.
 *
 * Context: process context; may sleep.
 * Return: 0; -ENOENT if freed; -EBUSY while being locked, with requests in
 * flight, with partial children, while a process maps it or while a
 * dma-buf of it exists; -EINVAL if
 * not locked, partial, kernel-source, allocated or a page list, or @bytes
 * is 0 or not less than the byte count; -ENOMEM for the new PFN array.
 */
int pinmdl_advance(struct pinmdl *mdl, u64 bytes)
{
	u64 gone, *pfns = NULL;
	int ret;

	mutex_lock(&mdl->lock);
	ret = pinmdl_locked_state(mdl, PINMDL_F_PARTIAL |
				  PINMDL_F_SOURCE_IS_KERNEL |
				  PINMDL_F_ALLOCATED | PINMDL_F_PAGE_LIST);
	if (!ret && (!bytes || bytes >= mdl->byte_count))
		ret = -EINVAL;
	else if (!ret && (atomic_read(&mdl->in_flight) || mdl->children ||
			  mdl->exports))
		ret = -EBUSY;
	if (ret)
		goto out_unlock;

	/* The pages that remain get an array of their own size. */
	gone = (mdl->byte_offset + bytes) >> PAGE_SHIFT;
	if (gone) {
		pfns = pinmdl_pfn_array_alloc(mdl->page_count - gone,
					      GFP_KERNEL_ACCOUNT);
		if (!pfns) {
			ret = -ENOMEM;
			goto out_unlock;
		}
	}
	ret = pinmdl_umap_retire_unmapped(mdl);
	if (ret)
		goto out_free;

	pinmdl_drop_views(mdl);
	if (gone) {
		memcpy(pfns, mdl->pfns + gone,
		       (mdl->page_count - gone) * sizeof(*pfns));
		if (!mdl->kernel_mode) {
			pinmdl_unpin_pfns(mdl->pfns, gone,
					  mdl->flags & PINMDL_F_WRITE_OPERATION);
			pinmdl_uncharge_pages(mdl, gone);
		}
		pinmdl_free_pfns(mdl);
		mdl->pfns = pfns;
		pfns = NULL;
	}
	mdl->start_va += gone << PAGE_SHIFT;
	mdl->byte_offset = offset_in_page(mdl->byte_offset + bytes);
	mdl->byte_count -= bytes;
	mdl->page_count -= gone;
out_free:
	if (pfns)
		pinmdl_pfn_array_free(pfns, mdl->page_count - gone);
out_unlock:
	mutex_unlock(&mdl->lock);
	return ret;
}
EXPORT_SYMBOL_GPL(pinmdl_advance);
