// SPDX-License-Identifier: GPL-2.0
/*
 * Per-open-file descriptor table of /dev/pinmdl: handles, ownership by
 * address space, and release of everything at close (rule 7).
 */
#include <kunit/visibility.h>
#include <linux/printk.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "core/desc.h"
#include "core/stats.h"
#include "dev/file.h"
#include "dev/mmap.h"
#include "dev/request.h"
#include "dev/target.h"

/**
 * pinmdl_file_open() - allocate the state of a new open file
 * @show_pfns: whether QUERY shows PFNs through this file (the opener had
 *	       CAP_SYS_ADMIN)
 *
 * Context: process context.
 * Return: the state, or an ERR_PTR() (-ENOMEM, or the errno of the file's
 * address space, dev/mmap.c).
 */
struct pinmdl_file *pinmdl_file_open(bool show_pfns)
{
	struct pinmdl_file *pf = kzalloc(sizeof(*pf), GFP_KERNEL_ACCOUNT);
	struct inode *inode;

	if (!pf)
		return ERR_PTR(-ENOMEM);
	inode = pinmdl_mmap_inode();
	if (IS_ERR(inode)) {
		kfree(pf);
		return ERR_CAST(inode);
	}
	pf->map_inode = inode;
	pinmdl_umap_space_init(&pf->maps, pf->map_inode->i_mapping);
	xa_init_flags(&pf->handles, XA_FLAGS_ALLOC1);
	xa_init_flags(&pf->targets, XA_FLAGS_ALLOC1);
	spin_lock_init(&pf->lock);
	INIT_LIST_HEAD(&pf->requests);
	INIT_LIST_HEAD(&pf->completions);
	init_waitqueue_head(&pf->wait);
	pf->show_pfns = show_pfns;
	pf->next_id = 1;
	pf->pid = task_tgid_nr(current);
	get_task_comm(pf->comm, current);
	return pf;
}
EXPORT_SYMBOL_IF_KUNIT(pinmdl_file_open);

/* Count one more live descriptor, unless max_descriptors are. */
static bool pinmdl_file_count(struct pinmdl_file *pf)
{
	unsigned int max = READ_ONCE(pinmdl_max_descriptors);
	int old = atomic_read(&pf->descriptors);

	do {
		if ((unsigned int)old >= max)
			return false;
	} while (!atomic_try_cmpxchg(&pf->descriptors, &old, old + 1));
	return true;
}

/**
 * pinmdl_file_full() - whether a file holds max_descriptors descriptors
 * @pf: open file
 *
 * Context: any; the answer is a snapshot, pinmdl_file_publish() decides.
 * Return: true if a new descriptor would be refused.
 */
bool pinmdl_file_full(struct pinmdl_file *pf)
{
	return (unsigned int)atomic_read(&pf->descriptors) >=
	       READ_ONCE(pinmdl_max_descriptors);
}

/**
 * pinmdl_file_publish() - give a new descriptor a handle in a file
 * @pf: open file
 * @mdl: new descriptor; the table takes over the creator's reference
 * @uhandle: where the handle is returned to user space (an ioctl), or NULL
 * @out: where it is returned otherwise (a command), or NULL
 *
 * The handle is reserved, copied out, and only then published: no other
 * thread can find (and free) the descriptor before the caller has its
 * handle, and a failed copy leaves nothing to undo but the reservation.
 * Once this returns 0, another thread may already have freed it.
 *
 * Context: process context.
 * Return: 0; -EMFILE with max_descriptors live in the file, -ENOMEM or
 * -EFAULT; on failure the descriptor is freed.
 */
int pinmdl_file_publish(struct pinmdl_file *pf, struct pinmdl *mdl,
			u32 __user *uhandle, u32 *out)
{
	u32 handle;
	int ret;

	if (!pinmdl_file_count(pf)) {
		ret = -EMFILE;
		goto err_free;
	}
	ret = xa_alloc(&pf->handles, &handle, NULL, xa_limit_32b,
		       GFP_KERNEL_ACCOUNT);
	if (ret) {
		ret = ret == -EBUSY ? -ENOMEM : ret;
		goto err_uncount;
	}
	if (uhandle && put_user(handle, uhandle)) {
		ret = -EFAULT;
		goto err_release;
	}
	if (out)
		*out = handle;
	mdl->handle = handle;
	/* The slot is reserved: storing in it allocates nothing. */
	xa_store(&pf->handles, handle, mdl, GFP_KERNEL_ACCOUNT);
	return 0;

err_release:
	xa_release(&pf->handles, handle);
err_uncount:
	atomic_dec(&pf->descriptors);
err_free:
	pinmdl_free(mdl);
	return ret;
}

/**
 * pinmdl_file_get() - find a descriptor of the file by handle
 * @pf: open file
 * @handle: handle from CREATE or PARTIAL
 *
 * Looks without a lock: a descriptor is freed after an RCU grace period,
 * and one whose last reference is gone is not found.
 *
 * Context: process context.
 * Return: the descriptor with a reference the caller drops with
 * pinmdl_put(), or ERR_PTR(-ENOENT) for an unknown handle.
 */
struct pinmdl *pinmdl_file_get(struct pinmdl_file *pf, u32 handle)
{
	struct pinmdl *mdl;

	rcu_read_lock();
	mdl = xa_load(&pf->handles, handle);
	if (mdl && !kref_get_unless_zero(&mdl->ref))
		mdl = NULL;
	rcu_read_unlock();
	return mdl ?: ERR_PTR(-ENOENT);
}

/**
 * pinmdl_file_owns() - whether the caller's address space owns a descriptor
 * @mdl: descriptor of the file
 *
 * Return: 0, or -EPERM from another address space (rule 7).
 */
int pinmdl_file_owns(const struct pinmdl *mdl)
{
	return mdl->mm == current->mm ? 0 : -EPERM;
}

/**
 * pinmdl_file_lookup() - find a descriptor of the caller by handle
 * @pf: open file
 * @handle: handle from CREATE or PARTIAL
 *
 * Context: process context.
 * Return: the descriptor with a reference the caller drops with
 * pinmdl_put(); ERR_PTR(-ENOENT) for an unknown handle; ERR_PTR(-EPERM) if
 * the caller is not in the descriptor's address space.
 */
struct pinmdl *pinmdl_file_lookup(struct pinmdl_file *pf, u32 handle)
{
	struct pinmdl *mdl = pinmdl_file_get(pf, handle);
	int ret;

	if (IS_ERR(mdl))
		return mdl;
	ret = pinmdl_file_owns(mdl);
	if (ret) {
		pinmdl_put(mdl);
		return ERR_PTR(ret);
	}
	return mdl;
}

/**
 * pinmdl_file_free() - free a descriptor of the file and drop its handle
 * @pf: open file
 * @mdl: descriptor of the file
 *
 * Context: process context.
 * Return: 0, or the errno of pinmdl_free().
 */
int pinmdl_file_free(struct pinmdl_file *pf, struct pinmdl *mdl)
{
	u32 handle = mdl->handle;
	int ret;

	/* Lookups may find the handle until it is erased: keep @mdl alive. */
	pinmdl_get(mdl);
	ret = pinmdl_free(mdl);
	if (!ret) {
		xa_erase(&pf->handles, handle);
		atomic_dec(&pf->descriptors);
	}
	pinmdl_put(mdl);
	return ret;
}

/*
 * Free every descriptor with (partial) or without a parent; one that a
 * dma-buf holds is let go of, its pages left to the dma-buf.
 */
static unsigned long pinmdl_file_release_pass(struct pinmdl_file *pf,
					      bool partial, u64 *pages)
{
	unsigned long handle, leaks = 0;
	struct pinmdl *mdl;

	xa_for_each(&pf->handles, handle, mdl) {
		if (!!mdl->parent != partial)
			continue;
		/*
		 * Nothing exports it again now: once it is not exported, it
		 * stays so, whatever dma-buf goes meanwhile.
		 */
		if (pinmdl_orphan(mdl)) {
			xa_erase(&pf->handles, handle);
			continue;
		}
		if (!pinmdl_unlock(mdl)) {
			leaks++;
			*pages += mdl->page_count;
		}
		if (!pinmdl_free(mdl))
			xa_erase(&pf->handles, handle);
	}
	return leaks;
}

/**
 * pinmdl_file_release() - release everything an open file holds
 * @pf: open file, with no ioctl running on it
 *
 * Requests in flight are cancelled and waited for, unread completions
 * dropped and targets closed first.
 * Partial descriptors go next, then their parents. Each descriptor still
 * locked is unlocked and counted as a leak (PROCESS_HAS_LOCKED_PAGES), and
 * the leak is reported once for the file, rate-limited; but one that a
 * dma-buf holds keeps its pages for it, and is no leak.
 *
 * Context: process context, from the file's release.
 */
void pinmdl_file_release(struct pinmdl_file *pf)
{
	unsigned long leaks;
	u64 pages = 0;

	pinmdl_file_drain_requests(pf);
	pinmdl_file_close_targets(pf);
	pinmdl_file_release_pass(pf, true, &pages);
	leaks = pinmdl_file_release_pass(pf, false, &pages);
	WARN_ON_ONCE(!xa_empty(&pf->handles));
	if (leaks) {
		atomic_long_add(leaks, &pinmdl_stats.leaks);
		pr_warn_ratelimited("pinmdl: %s[%d] closed /dev/pinmdl with %lu locked descriptors (%llu pages); released\n",
				    pf->comm, pf->pid, leaks, pages);
	}
	xa_destroy(&pf->handles);
	pinmdl_umap_space_destroy(&pf->maps);
	pinmdl_mmap_inode_put(pf->map_inode);
	kfree(pf);
}
EXPORT_SYMBOL_IF_KUNIT(pinmdl_file_release);
