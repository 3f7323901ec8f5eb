// SPDX-License-Identifier: GPL-2.0
/*
 * TARGET_OPEN and TARGET_CLOSE of /dev/pinmdl: each open gives the file a
 * new id for a binding of the named target, at most
 * PINMDL_MAX_FILE_TARGETS at once. An IO finds its target without a lock
 * and counts itself among its users; TARGET_CLOSE closes a target only
 * once it has stopped the count at zero, so that no binding is closed
 * under an IO.
 */
#include <linux/file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "dev/file.h"
#include "dev/target.h"
#include "request/request.h"

/* Read a target name of at most PINMDL_TARGET_NAME_MAX bytes, NUL included. */
static int pinmdl_target_name(u64 uname, char *name)
{
	long len = strncpy_from_user(name, u64_to_user_ptr(uname),
				     PINMDL_TARGET_NAME_MAX);

	if (len < 0)
		return len;
	return len < PINMDL_TARGET_NAME_MAX ? 0 : -EINVAL;
}

/* Open the target @name, bound to the file of @fd if it is not -1. */
static struct pinmdl_binding *pinmdl_target_bind(const char *name, int fd)
{
	struct pinmdl_binding *b;
	struct file *file = NULL;

	if (fd != -1) {
		file = fget(fd);
		if (!file)
			return ERR_PTR(-EBADF);
	}
	b = pinmdl_target_open(name, file);
	if (file)
		fput(file);
	return b;
}

/* Count one more open target, unless the file has its maximum. */
static bool pinmdl_file_target_count(struct pinmdl_file *pf)
{
	int old = atomic_read(&pf->nr_targets);

	do {
		if (old >= PINMDL_MAX_FILE_TARGETS)
			return false;
	} while (!atomic_try_cmpxchg(&pf->nr_targets, &old, old + 1));
	return true;
}

/*
 * Give @b an id in @pf: reserved, copied out to @uid, and only then
 * published, so that no other thread can use or close it before the
 * caller has it, and a failed copy has nothing to undo but the reservation.
 */
static int pinmdl_file_target_add(struct pinmdl_file *pf,
				  struct pinmdl_binding *b, u32 __user *uid)
{
	struct pinmdl_file_target *ft;
	u32 id;
	int ret;

	if (!pinmdl_file_target_count(pf))
		return -EMFILE;
	ret = -ENOMEM;
	ft = kzalloc(sizeof(*ft), GFP_KERNEL_ACCOUNT);
	if (!ft)
		goto err_uncount;
	ft->binding = b;
	ret = xa_alloc(&pf->targets, &id, NULL, xa_limit_32b,
		       GFP_KERNEL_ACCOUNT);
	if (ret) {
		ret = ret == -EBUSY ? -ENOMEM : ret;
		goto err_free;
	}
	if (put_user(id, uid)) {
		ret = -EFAULT;
		goto err_release;
	}
	/* The slot is reserved: storing in it allocates nothing. */
	xa_store(&pf->targets, id, ft, GFP_KERNEL_ACCOUNT);
	return 0;

err_release:
	xa_release(&pf->targets, id);
err_free:
	kfree(ft);
err_uncount:
	atomic_dec(&pf->nr_targets);
	return ret;
}

/* Close target @id of @pf, unless an IO uses it or a request is in flight. */
static int pinmdl_file_target_remove(struct pinmdl_file *pf, u32 id)
{
	struct pinmdl_file_target *ft;
	int ret = 0;

	xa_lock(&pf->targets);
	ft = xa_load(&pf->targets, id);
	if (!ft) {
		ret = -ENOENT;
	} else if (atomic_cmpxchg(&ft->users, 0, -1)) {
		ret = -EBUSY;
	} else if (atomic_read(&ft->binding->in_flight)) {
		/* No IO can start a request on it now: this count is sure. */
		atomic_set(&ft->users, 0);
		ret = -EBUSY;
	} else {
		__xa_erase(&pf->targets, id);
	}
	xa_unlock(&pf->targets);
	if (ret)
		return ret;
	atomic_dec(&pf->nr_targets);
	WARN_ON_ONCE(pinmdl_target_close(ft->binding));
	kfree_rcu(ft, rcu);
	return 0;
}

/**
 * pinmdl_ioctl_target_open() - PINMDL_IOC_TARGET_OPEN
 * @pf: open file
 * @uarg: struct pinmdl_target_open
 *
 * Checks flags, reserved and the name (-EINVAL), then the fd (-EBADF),
 * then the name's target (-ENODEV), then the target's own checks, then the
 * file's cap (-EMFILE).
 *
 * Context: process context.
 * Return: 0 or a negative errno.
 */
int pinmdl_ioctl_target_open(struct pinmdl_file *pf, void __user *uarg)
{
	struct pinmdl_target_open arg, __user *user = uarg;
	const struct pinmdl_target_limits *limits;
	char name[PINMDL_TARGET_NAME_MAX];
	struct pinmdl_binding *b;
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.flags || arg.reserved)
		return -EINVAL;
	ret = pinmdl_target_name(arg.name, name);
	if (ret)
		return ret;
	b = pinmdl_target_bind(name, arg.fd);
	if (IS_ERR(b))
		return PTR_ERR(b);
	limits = pinmdl_binding_limits(b);
	arg.block_size = limits->block_size;
	arg.capacity = limits->capacity;
	arg.max_segments = limits->max_segments;
	/* Everything but the id first: nothing to undo if it fails. */
	ret = -EFAULT;
	if (copy_to_user(user, &arg, sizeof(arg)))
		goto err_close;
	ret = pinmdl_file_target_add(pf, b, &user->target);
	if (ret)
		goto err_close;
	return 0;

err_close:
	pinmdl_target_close(b);
	return ret;
}

/**
 * pinmdl_ioctl_target_close() - PINMDL_IOC_TARGET_CLOSE
 * @pf: open file
 * @uarg: struct pinmdl_handle_arg whose handle is the target id
 *
 * Context: process context.
 * Return: 0; -EINVAL for non-zero flags; -ENOENT for an unknown id;
 * -EBUSY with requests in flight on it.
 */
int pinmdl_ioctl_target_close(struct pinmdl_file *pf, void __user *uarg)
{
	struct pinmdl_handle_arg arg;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.flags)
		return -EINVAL;
	return pinmdl_file_target_remove(pf, arg.handle);
}

/**
 * pinmdl_file_target_get() - find an open target of the file for an IO
 * @pf: open file
 * @id: target id
 *
 * Looks without a lock, unless a TARGET_CLOSE is looking at the same
 * target: then under the table's lock, once the close has decided.
 *
 * Context: process context.
 * Return: the target, kept open until pinmdl_file_target_put(), or NULL.
 */
struct pinmdl_file_target *pinmdl_file_target_get(struct pinmdl_file *pf,
						  u32 id)
{
	struct pinmdl_file_target *ft;

	rcu_read_lock();
	ft = xa_load(&pf->targets, id);
	if (ft && atomic_inc_unless_negative(&ft->users)) {
		rcu_read_unlock();
		return ft;
	}
	rcu_read_unlock();
	if (!ft)
		return NULL;
	xa_lock(&pf->targets);
	ft = xa_load(&pf->targets, id);
	if (ft)
		atomic_inc(&ft->users);
	xa_unlock(&pf->targets);
	return ft;
}

/**
 * pinmdl_file_target_put() - undo pinmdl_file_target_get()
 * @ft: the target
 */
void pinmdl_file_target_put(struct pinmdl_file_target *ft)
{
	/*
	 * The requests the IO started count in its binding's in_flight
	 * before TARGET_CLOSE can see it unused.
	 */
	smp_mb__before_atomic();
	atomic_dec(&ft->users);
}

/**
 * pinmdl_file_close_targets() - close every target of a closing file
 * @pf: open file being released, with no request in flight
 *
 * Context: process context.
 */
void pinmdl_file_close_targets(struct pinmdl_file *pf)
{
	struct pinmdl_file_target *ft;
	unsigned long id;

	xa_for_each(&pf->targets, id, ft) {
		xa_erase(&pf->targets, id);
		WARN_ON_ONCE(pinmdl_target_close(ft->binding));
		kfree(ft);
	}
	atomic_set(&pf->nr_targets, 0);
	xa_destroy(&pf->targets);
}
