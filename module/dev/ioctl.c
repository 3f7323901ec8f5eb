// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctls of /dev/pinmdl: one small handler each, validating arguments
 * in the order of the errno table (arguments, mode, handle, address space,
 * state), then calling the descriptor engine and copying results out.
 */
#include <kunit/visibility.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "core/desc.h"
#include "dev/file.h"
#include "dev/ioctl.h"
#include "dev/io.h"
#include "dev/mmap.h"
#include "dev/request.h"
#include "dev/target.h"
#include "dmabuf_compat.h"

/**
 * pinmdl_cmd_create() - PINMDL_IOC_CREATE, as an ioctl or a command
 * @pf: open file
 * @arg: the range
 * @uhandle: where the new handle goes out to user space (ioctl), or NULL
 * @handle: where it goes otherwise (command)
 *
 * Context: process context.
 * Return: 0, or a negative errno (pinmdl_alloc(), pinmdl_file_publish()).
 */
int pinmdl_cmd_create(struct pinmdl_file *pf, const struct pinmdl_create *arg,
		      u32 __user *uhandle, u32 *handle)
{
	struct pinmdl *mdl;

	if (arg->flags)
		return -EINVAL;

	mdl = pinmdl_alloc(arg->addr, arg->length, GFP_KERNEL_ACCOUNT);
	if (IS_ERR(mdl))
		return PTR_ERR(mdl);
	return pinmdl_file_publish(pf, mdl, uhandle, handle);
}

static int pinmdl_ioctl_create(struct pinmdl_file *pf, void __user *uarg)
{
	struct pinmdl_create arg, __user *user = uarg;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	return pinmdl_cmd_create(pf, &arg, &user->handle, NULL);
}

static int pinmdl_ioctl_create_pages(struct pinmdl_file *pf,
				     void __user *uarg)
{
	struct pinmdl_create_pages arg, __user *user = uarg;
	struct pinmdl_range *ranges;
	struct pinmdl *mdl;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.flags || arg.reserved || !arg.nr_ranges ||
	    arg.nr_ranges > PINMDL_MAX_RANGES)
		return -EINVAL;

	ranges = memdup_user(u64_to_user_ptr(arg.ranges),
			     arg.nr_ranges * sizeof(*ranges));
	if (IS_ERR(ranges))
		return PTR_ERR(ranges);
	mdl = pinmdl_alloc_page_list(ranges, arg.nr_ranges,
				     GFP_KERNEL_ACCOUNT);
	kfree(ranges);
	if (IS_ERR(mdl))
		return PTR_ERR(mdl);
	return pinmdl_file_publish(pf, mdl, &user->handle, NULL);
}

/**
 * pinmdl_cmd_lock() - PINMDL_IOC_LOCK, as an ioctl or a command
 * @pf: open file
 * @arg: the descriptor, access mode and operation
 * @nowait: pin only what is mapped, with no fault and no wait (a command
 *	    issued where it may not block)
 *
 * Context: process context.
 * Return: 0, or a negative errno (pinmdl_lock_pages()): -EAGAIN if
 * @nowait and the lock would wait.
 */
int pinmdl_cmd_lock(struct pinmdl_file *pf, const struct pinmdl_lock *arg,
		    bool nowait)
{
	struct pinmdl *mdl;
	int ret;

	if (arg->flags || arg->access_mode > PINMDL_USER_MODE ||
	    arg->operation > PINMDL_IO_MODIFY_ACCESS)
		return -EINVAL;
	if (arg->access_mode == PINMDL_KERNEL_MODE)
		return -EPERM;

	mdl = pinmdl_file_lookup(pf, arg->handle);
	if (IS_ERR(mdl))
		return PTR_ERR(mdl);
	ret = pinmdl_lock_pages(mdl, arg->access_mode, arg->operation, nowait);
	pinmdl_put(mdl);
	return ret;
}

static int pinmdl_ioctl_lock(struct pinmdl_file *pf, void __user *uarg)
{
	struct pinmdl_lock arg;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	return pinmdl_cmd_lock(pf, &arg, false);
}

/**
 * pinmdl_cmd_handle() - UNLOCK or FREE, as an ioctl or a command: find the
 *			 caller's descriptor and apply @op to it
 * @pf: open file
 * @arg: the descriptor
 * @op: pinmdl_handle_unlock() or pinmdl_file_free()
 *
 * Context: process context.
 * Return: 0, or a negative errno (the lookup's, or @op's).
 */
int pinmdl_cmd_handle(struct pinmdl_file *pf,
		      const struct pinmdl_handle_arg *arg,
		      int (*op)(struct pinmdl_file *pf, struct pinmdl *mdl))
{
	struct pinmdl *mdl;
	int ret;

	if (arg->flags)
		return -EINVAL;

	mdl = pinmdl_file_lookup(pf, arg->handle);
	if (IS_ERR(mdl))
		return PTR_ERR(mdl);
	ret = op(pf, mdl);
	pinmdl_put(mdl);
	return ret;
}

static int pinmdl_ioctl_handle(struct pinmdl_file *pf, void __user *uarg,
			       int (*op)(struct pinmdl_file *pf,
					 struct pinmdl *mdl))
{
	struct pinmdl_handle_arg arg;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	return pinmdl_cmd_handle(pf, &arg, op);
}

/**
 * pinmdl_handle_unlock() - UNLOCK's operation for pinmdl_cmd_handle()
 * @pf: open file
 * @mdl: the caller's descriptor
 *
 * Context: process context.
 * Return: as pinmdl_unlock().
 */
int pinmdl_handle_unlock(struct pinmdl_file *pf, struct pinmdl *mdl)
{
	return pinmdl_unlock(mdl);
}

/*
 * Copy @count PFNs out to @upfns, or zeros through a file whose opener
 * lacked CAP_SYS_ADMIN (rule 10). @pfns is a snapshot taken under the
 * lock: no fault on the user's array can hold up the descriptor.
 */
static int pinmdl_query_copy_pfns(u64 __user *upfns, const u64 *pfns,
				  u64 count)
{
	if (!pfns)
		return clear_user(upfns, count * sizeof(u64)) ? -EFAULT : 0;
	return copy_to_user(upfns, pfns, count * sizeof(u64)) ? -EFAULT : 0;
}

static int pinmdl_ioctl_query(struct pinmdl_file *pf, void __user *uarg)
{
	struct pinmdl_query arg;
	struct pinmdl *mdl;
	u64 *pfns = NULL;
	u64 count = 0;
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.flags || arg.reserved)
		return -EINVAL;

	mdl = pinmdl_file_lookup(pf, arg.handle);
	if (IS_ERR(mdl))
		return PTR_ERR(mdl);
	/*
	 * Size the snapshot before locking, and only for a descriptor that
	 * looks as if it has PFNs; ADVANCE and PARTIAL_REUSE may shrink the
	 * page count meanwhile, so it is bounded again under the lock.
	 */
	if (arg.pfns && (pinmdl_flags(mdl) & (PINMDL_F_PAGES_LOCKED |
					       PINMDL_F_PARTIAL |
					       PINMDL_F_SOURCE_IS_KERNEL)))
		count = min(arg.pfn_capacity, READ_ONCE(mdl->page_count));
	if (count && pf->show_pfns) {
		pfns = kvmalloc_array(count, sizeof(*pfns),
				      GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
		if (!pfns) {
			ret = -ENOMEM;
			goto out_put;
		}
	}

	mutex_lock(&mdl->lock);
	if (mdl->dead) {
		mutex_unlock(&mdl->lock);
		ret = -ENOENT;
		goto out_free;
	}
	arg.flags = pinmdl_flags(mdl);
	arg.start_va = mdl->start_va;
	arg.byte_count = mdl->byte_count;
	arg.byte_offset = mdl->byte_offset;
	arg.operation = mdl->operation;
	arg.page_count = mdl->page_count;
	arg.parent = mdl->parent ? mdl->parent->handle : 0;
	if (!pinmdl_has_pfns(mdl))
		count = 0;
	count = min(count, mdl->page_count);
	if (pfns)
		memcpy(pfns, mdl->pfns, count * sizeof(*pfns));
	mutex_unlock(&mdl->lock);

	arg.pfn_capacity = count;
	ret = 0;
	if (count)
		ret = pinmdl_query_copy_pfns(u64_to_user_ptr(arg.pfns), pfns,
					     count);
	if (!ret && copy_to_user(uarg, &arg, sizeof(arg)))
		ret = -EFAULT;
out_free:
	kvfree(pfns);
out_put:
	pinmdl_put(mdl);
	return ret;
}

static int pinmdl_ioctl_partial(struct pinmdl_file *pf, void __user *uarg)
{
	struct pinmdl_partial arg, __user *user = uarg;
	struct pinmdl *parent, *child;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;

	parent = pinmdl_file_lookup(pf, arg.parent);
	if (IS_ERR(parent))
		return PTR_ERR(parent);
	child = pinmdl_build_partial(parent, arg.addr, arg.length,
				     GFP_KERNEL_ACCOUNT);
	pinmdl_put(parent);
	if (IS_ERR(child))
		return PTR_ERR(child);

	return pinmdl_file_publish(pf, child, &user->handle, NULL);
}

static int pinmdl_ioctl_partial_reuse(struct pinmdl_file *pf,
				      void __user *uarg)
{
	struct pinmdl *parent, *child;
	struct pinmdl_partial arg;
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;

	/* Both handles are known before either's address space is checked. */
	child = pinmdl_file_get(pf, arg.handle);
	if (IS_ERR(child))
		return PTR_ERR(child);
	parent = pinmdl_file_get(pf, arg.parent);
	if (IS_ERR(parent)) {
		ret = PTR_ERR(parent);
		goto out_put_child;
	}
	ret = pinmdl_file_owns(child) ?: pinmdl_file_owns(parent);
	if (!ret)
		ret = pinmdl_reuse_partial(child, parent, arg.addr,
					   arg.length);
	pinmdl_put(parent);
out_put_child:
	pinmdl_put(child);
	return ret;
}

static int pinmdl_ioctl_advance(struct pinmdl_file *pf, void __user *uarg)
{
	struct pinmdl_advance arg;
	struct pinmdl *mdl;
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.flags || !arg.bytes)
		return -EINVAL;

	mdl = pinmdl_file_lookup(pf, arg.handle);
	if (IS_ERR(mdl))
		return PTR_ERR(mdl);
	ret = pinmdl_advance(mdl, arg.bytes);
	pinmdl_put(mdl);
	return ret;
}

static int pinmdl_ioctl_alloc_pages(struct pinmdl_file *pf,
				    void __user *uarg)
{
	struct pinmdl_alloc_pages arg, __user *user = uarg;
	struct pinmdl *mdl;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.reserved)
		return -EINVAL;
	/* Not the pages of a file that could not take them. */
	if (pinmdl_file_full(pf))
		return -EMFILE;

	mdl = pinmdl_alloc_pages(arg.length, arg.highest_phys, arg.node,
				 arg.flags, GFP_KERNEL_ACCOUNT);
	if (IS_ERR(mdl))
		return PTR_ERR(mdl);
	if (put_user(pinmdl_byte_count(mdl), &user->allocated)) {
		pinmdl_free(mdl);
		return -EFAULT;
	}
	return pinmdl_file_publish(pf, mdl, &user->handle, NULL);
}

static int pinmdl_ioctl_export_dmabuf(struct pinmdl_file *pf,
				      void __user *uarg)
{
	struct pinmdl_export arg, __user *user = uarg;
	struct dma_buf *dmabuf;
	struct pinmdl *mdl;
	int fd;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if ((arg.flags & ~(PINMDL_EXPORT_CLOEXEC | PINMDL_EXPORT_WRITE)) ||
	    arg.reserved)
		return -EINVAL;

	mdl = pinmdl_file_lookup(pf, arg.handle);
	if (IS_ERR(mdl))
		return PTR_ERR(mdl);
	dmabuf = pinmdl_export_dmabuf(mdl, arg.flags & PINMDL_EXPORT_WRITE);
	pinmdl_put(mdl);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	/* The fd is installed only once it reached user space. */
	fd = get_unused_fd_flags(arg.flags & PINMDL_EXPORT_CLOEXEC ?
				 O_CLOEXEC : 0);
	if (fd < 0) {
		dma_buf_put(dmabuf);
		return fd;
	}
	if (put_user(fd, &user->fd)) {
		put_unused_fd(fd);
		dma_buf_put(dmabuf);
		return -EFAULT;
	}
	pinmdl_dma_buf_fd_install(dmabuf, fd);
	return 0;
}

/**
 * pinmdl_ioctl() - dispatch an ioctl of /dev/pinmdl
 * @pf: state of the open file
 * @cmd: PINMDL_IOC_*
 * @uarg: user argument
 *
 * Context: process context.
 * Return: 0 or a negative errno; -ENOTTY for an unknown command.
 */
long pinmdl_ioctl(struct pinmdl_file *pf, unsigned int cmd, void __user *uarg)
{
	switch (cmd) {
	case PINMDL_IOC_CREATE:
		return pinmdl_ioctl_create(pf, uarg);
	case PINMDL_IOC_LOCK:
		return pinmdl_ioctl_lock(pf, uarg);
	case PINMDL_IOC_UNLOCK:
		return pinmdl_ioctl_handle(pf, uarg, pinmdl_handle_unlock);
	case PINMDL_IOC_FREE:
		return pinmdl_ioctl_handle(pf, uarg, pinmdl_file_free);
	case PINMDL_IOC_QUERY:
		return pinmdl_ioctl_query(pf, uarg);
	case PINMDL_IOC_PARTIAL:
		return pinmdl_ioctl_partial(pf, uarg);
	case PINMDL_IOC_SUBMIT:
		return pinmdl_ioctl_submit(pf, uarg);
	case PINMDL_IOC_SUBMIT_BUFFERED:
		return pinmdl_ioctl_submit_buffered(pf, uarg);
	case PINMDL_IOC_TARGET_OPEN:
		return pinmdl_ioctl_target_open(pf, uarg);
	case PINMDL_IOC_TARGET_CLOSE:
		return pinmdl_ioctl_target_close(pf, uarg);
	case PINMDL_IOC_IO:
		return pinmdl_ioctl_io(pf, uarg);
	case PINMDL_IOC_CANCEL:
		return pinmdl_ioctl_cancel(pf, uarg);
	case PINMDL_IOC_EXPORT_DMABUF:
		return pinmdl_ioctl_export_dmabuf(pf, uarg);
	case PINMDL_IOC_CREATE_PAGES:
		return pinmdl_ioctl_create_pages(pf, uarg);
	case PINMDL_IOC_MAP_OFFSET:
		return pinmdl_ioctl_map_offset(pf, uarg);
	case PINMDL_IOC_ALLOC_PAGES:
		return pinmdl_ioctl_alloc_pages(pf, uarg);
	case PINMDL_IOC_ADVANCE:
		return pinmdl_ioctl_advance(pf, uarg);
	case PINMDL_IOC_PARTIAL_REUSE:
		return pinmdl_ioctl_partial_reuse(pf, uarg);
	default:
		return -ENOTTY;
	}
}
EXPORT_SYMBOL_IF_KUNIT(pinmdl_ioctl);
