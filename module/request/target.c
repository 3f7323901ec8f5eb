// SPDX-License-Identifier: GPL-2.0
/*
 * Targets (device objects): drivers register them by name, and files or
 * other drivers open them as bindings to send them requests. Any number
 * are registered at once; unregistering one fails its new requests with
 * -ENODEV, cancels what it took and waits for it, and leaves the others
 * alone.
 */
#include <linux/export.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/wait_bit.h>

#include "core/pin_compat.h"
#include "request/request.h"

static DEFINE_MUTEX(pinmdl_targets_lock);
static LIST_HEAD(pinmdl_targets);

static bool pinmdl_limits_valid(const struct pinmdl_target_limits *limits)
{
	return is_power_of_2(limits->block_size) &&
	       limits->max_segments >= 1 &&
	       limits->max_segments <= PINMDL_MAX_SEGMENTS &&
	       IS_ALIGNED(limits->capacity, limits->block_size);
}

/* Called with pinmdl_targets_lock held. */
static struct pinmdl_target *pinmdl_target_find(const char *name)
{
	struct pinmdl_target *target;

	lockdep_assert_held(&pinmdl_targets_lock);

	list_for_each_entry(target, &pinmdl_targets, node)
		if (!strcmp(target->name, name))
			return target;
	return NULL;
}

/**
 * pinmdl_target_register() - register a target (IoCreateDevice)
 * @name: unique name, shorter than PINMDL_TARGET_NAME_MAX
 * @ops: the driver's operations, valid until the driver's module goes;
 *	 @queue and @check are required
 * @limits: what the target accepts (a binding's bind operation may refine
 *	    them, but not their @dma_dev)
 * @private: the driver's, see pinmdl_target_private()
 *
 * A driver may register its targets in its init: they are found from then
 * on, but cannot be opened before its init has returned, since an init
 * that fails after frees the module whatever holds it.
 *
 * Context: process context.
 * Return: the target, or ERR_PTR(-EINVAL) for a bad name, missing
 * operations or bad limits, ERR_PTR(-EEXIST) if the name is taken, or
 * ERR_PTR(-ENOMEM).
 */
struct pinmdl_target *
pinmdl_target_register(const char *name, const struct pinmdl_target_ops *ops,
		       const struct pinmdl_target_limits *limits, void *private)
{
	struct pinmdl_target *target;
	size_t len = strnlen(name, PINMDL_TARGET_NAME_MAX);

	if (!len || len == PINMDL_TARGET_NAME_MAX || !ops->queue ||
	    !ops->check || !pinmdl_limits_valid(limits))
		return ERR_PTR(-EINVAL);
	target = kzalloc(sizeof(*target), GFP_KERNEL);
	if (!target)
		return ERR_PTR(-ENOMEM);
	kref_init(&target->ref);
	memcpy(target->name, name, len);
	target->ops = ops;
	target->limits = *limits;
	target->private = private;
	pinmdl_dma_domain_init(&target->dma, limits->dma_dev);
	spin_lock_init(&target->lock);
	INIT_LIST_HEAD(&target->requests);

	mutex_lock(&pinmdl_targets_lock);
	if (pinmdl_target_find(name)) {
		mutex_unlock(&pinmdl_targets_lock);
		kfree(target);
		return ERR_PTR(-EEXIST);
	}
	list_add_tail(&target->node, &pinmdl_targets);
	mutex_unlock(&pinmdl_targets_lock);
	return target;
}
EXPORT_SYMBOL_GPL(pinmdl_target_register);

static void pinmdl_target_release(struct kref *ref)
{
	kfree(container_of(ref, struct pinmdl_target, ref));
}

/* Ask the target to stop each request it holds, once. */
static void pinmdl_target_cancel_all(struct pinmdl_target *target)
{
	struct pinmdl_request *req, *found;
	unsigned long flags;

	for (;;) {
		found = NULL;
		spin_lock_irqsave(&target->lock, flags);
		list_for_each_entry(req, &target->requests, node) {
			if (!(READ_ONCE(req->state) & (PINMDL_REQ_CANCEL_WANTED |
						  PINMDL_REQ_COMPLETED)) &&
			    pinmdl_request_tryget(req)) {
				found = req;
				break;
			}
		}
		spin_unlock_irqrestore(&target->lock, flags);
		if (!found)
			return;
		pinmdl_cancel(found);
		pinmdl_request_put(found);
	}
}

/**
 * pinmdl_target_unregister() - unregister a target (IoDeleteDevice)
 * @target: a target of pinmdl_target_register()
 *
 * New requests fail with -ENODEV at once and no new binding is made. The
 * requests the target took are cancelled (through its cancel operation, if
 * it has one) and waited for, until the pinmdl_complete() that finished
 * each has returned (the driver's module may go once this returns); then
 * its cached DMA mappings are unmapped.
 * Open bindings stay valid until closed, and keep the driver's module
 * loaded; the target's private data is not used again.
 *
 * Context: process context; sleeps until the target's requests are done.
 */
void pinmdl_target_unregister(struct pinmdl_target *target)
{
	unsigned long flags;

	mutex_lock(&pinmdl_targets_lock);
	list_del(&target->node);
	mutex_unlock(&pinmdl_targets_lock);
	spin_lock_irqsave(&target->lock, flags);
	target->gone = true;
	spin_unlock_irqrestore(&target->lock, flags);

	pinmdl_target_cancel_all(target);
	wait_var_event(&target->in_flight,
		       !atomic_long_read(&target->in_flight));
	pinmdl_dma_domain_purge(&target->dma);
	kref_put(&target->ref, pinmdl_target_release);
}
EXPORT_SYMBOL_GPL(pinmdl_target_unregister);

/**
 * pinmdl_target_private() - the private data given at registration
 * @target: target
 *
 * Return: the pointer given to pinmdl_target_register().
 */
void *pinmdl_target_private(const struct pinmdl_target *target)
{
	return target->private;
}
EXPORT_SYMBOL_GPL(pinmdl_target_private);

/**
 * pinmdl_target_open() - open a target by name (IoGetDeviceObjectPointer)
 * @name: the target's name
 * @file: a file for the target's bind operation, or NULL
 *
 * The binding holds the target's driver module until closed.
 *
 * Context: process context.
 * Return: the binding; ERR_PTR(-ENODEV) if no target has that name, or
 * its driver's module is still in its init or going away;
 * ERR_PTR(-EINVAL) if @file is given to a target without a bind operation;
 * the bind operation's error; or ERR_PTR(-ENOMEM).
 */
struct pinmdl_binding *pinmdl_target_open(const char *name,
					  struct file *file)
{
	struct pinmdl_target *target;
	struct pinmdl_binding *b;
	int ret;

	b = kzalloc(sizeof(*b), GFP_KERNEL_ACCOUNT);
	if (!b)
		return ERR_PTR(-ENOMEM);
	mutex_lock(&pinmdl_targets_lock);
	target = pinmdl_target_find(name);
	if (target && !pinmdl_compat_module_coming(target->ops->owner) &&
	    try_module_get(target->ops->owner))
		kref_get(&target->ref);
	else
		target = NULL;
	mutex_unlock(&pinmdl_targets_lock);
	ret = -ENODEV;
	if (!target)
		goto err_free;

	b->target = target;
	b->limits = target->limits;
	atomic_set(&b->in_flight, 0);
	ret = -EINVAL;
	if (target->ops->bind)
		ret = target->ops->bind(target, file, &b->limits, &b->private);
	else if (!file)
		ret = 0;
	if (ret)
		goto err_put;
	if (WARN_ON_ONCE(!pinmdl_limits_valid(&b->limits) ||
			 b->limits.dma_dev != target->limits.dma_dev)) {
		ret = -EINVAL;
		goto err_unbind;
	}
	return b;

err_unbind:
	if (target->ops->unbind)
		target->ops->unbind(target, b->private);
err_put:
	module_put(target->ops->owner);
	kref_put(&target->ref, pinmdl_target_release);
err_free:
	kfree(b);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(pinmdl_target_open);

/**
 * pinmdl_target_close() - close a binding (ObDereferenceObject)
 * @binding: binding of pinmdl_target_open()
 *
 * Context: process context.
 * Return: 0, or -EBUSY while requests through it are in flight (it is
 * then still open).
 */
int pinmdl_target_close(struct pinmdl_binding *binding)
{
	struct pinmdl_target *target = binding->target;
	struct module *owner = target->ops->owner;

	if (atomic_read(&binding->in_flight))
		return -EBUSY;
	if (target->ops->unbind)
		target->ops->unbind(target, binding->private);
	kref_put(&target->ref, pinmdl_target_release);
	kfree(binding);
	module_put(owner);
	return 0;
}
EXPORT_SYMBOL_GPL(pinmdl_target_close);

/**
 * pinmdl_binding_limits() - what a target accepts through a binding
 * @binding: binding
 *
 * Return: the limits, valid while the binding is open.
 */
const struct pinmdl_target_limits *
pinmdl_binding_limits(const struct pinmdl_binding *binding)
{
	return &binding->limits;
}
EXPORT_SYMBOL_GPL(pinmdl_binding_limits);

/**
 * pinmdl_binding_private() - the private data of a binding's bind operation
 * @binding: binding
 *
 * Return: what the bind operation set, NULL without one.
 */
void *pinmdl_binding_private(const struct pinmdl_binding *binding)
{
	return binding->private;
}
EXPORT_SYMBOL_GPL(pinmdl_binding_private);

/**
 * pinmdl_target_enter() - count and list a request of the target, unless
 *			   it is gone
 * @target: the request's target
 * @req: the request, prepared and not queued yet
 *
 * Listed before its queue operation is called, so that unregistering
 * finds it to cancel: a cancel asked for before queue returned is
 * carried out once it has (pinmdl_request_start()).
 *
 * Context: any.
 * Return: 0, or -ENODEV if the target is unregistered.
 */
int pinmdl_target_enter(struct pinmdl_target *target,
			struct pinmdl_request *req)
{
	unsigned long flags;
	int ret = 0;

	spin_lock_irqsave(&target->lock, flags);
	if (target->gone) {
		ret = -ENODEV;
	} else {
		atomic_long_inc(&target->in_flight);
		list_add_tail(&req->node, &target->requests);
	}
	spin_unlock_irqrestore(&target->lock, flags);
	return ret;
}

/**
 * pinmdl_target_unlist() - take a finishing request off the target's list
 * @target: the request's target
 * @req: the request, listed by pinmdl_target_enter()
 *
 * Context: any.
 */
void pinmdl_target_unlist(struct pinmdl_target *target,
			  struct pinmdl_request *req)
{
	unsigned long flags;

	spin_lock_irqsave(&target->lock, flags);
	list_del_init(&req->node);
	spin_unlock_irqrestore(&target->lock, flags);
}

/**
 * pinmdl_target_leave() - a request of the target is finished
 * @target: the request's target, off its list
 *
 * Unregistering may end once none is left: only the address of the count
 * is used after it drops, as the target may be gone already.
 *
 * Context: any.
 */
void pinmdl_target_leave(struct pinmdl_target *target)
{
	atomic_long_t *in_flight = &target->in_flight;

	if (atomic_long_dec_and_test(in_flight))
		wake_up_var(in_flight);
}
