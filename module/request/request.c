// SPDX-License-Identifier: GPL-2.0
/*
 * The request path (IoCallDriver with an MDL): one lower driver registers
 * with the core; requests on locked descriptors are handed to it and
 * completed by it, and the descriptors they use stay in flight meanwhile.
 */
#include <linux/export.h>
#include <linux/module.h>
#include <linux/spinlock.h>
#include <linux/wait.h>

#include "core/desc.h"

static DEFINE_SPINLOCK(pinmdl_lower_lock);
static const struct pinmdl_lower_ops *pinmdl_lower;
static unsigned long pinmdl_lower_in_flight;
static DECLARE_WAIT_QUEUE_HEAD(pinmdl_lower_idle);

/**
 * pinmdl_lower_register() - register the lower driver
 * @ops: the driver's operations; must stay valid until unregistered
 *
 * Context: process context.
 * Return: 0, -EINVAL without a queue operation, or -EBUSY if a lower
 * driver is registered already.
 */
int pinmdl_lower_register(const struct pinmdl_lower_ops *ops)
{
	int ret = 0;

	if (!ops->queue)
		return -EINVAL;
	spin_lock(&pinmdl_lower_lock);
	if (pinmdl_lower)
		ret = -EBUSY;
	else
		pinmdl_lower = ops;
	spin_unlock(&pinmdl_lower_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(pinmdl_lower_register);

static bool pinmdl_lower_drained(void)
{
	bool idle;

	spin_lock(&pinmdl_lower_lock);
	idle = !pinmdl_lower_in_flight;
	spin_unlock(&pinmdl_lower_lock);
	return idle;
}

/**
 * pinmdl_lower_unregister() - unregister the lower driver
 * @ops: the operations given to pinmdl_lower_register()
 *
 * New requests fail with -ENODEV at once; this waits until every request
 * the driver took has been completed.
 *
 * Context: process context; sleeps.
 */
void pinmdl_lower_unregister(const struct pinmdl_lower_ops *ops)
{
	spin_lock(&pinmdl_lower_lock);
	if (WARN_ON_ONCE(pinmdl_lower != ops)) {
		spin_unlock(&pinmdl_lower_lock);
		return;
	}
	pinmdl_lower = NULL;
	spin_unlock(&pinmdl_lower_lock);
	wait_event(pinmdl_lower_idle, pinmdl_lower_drained());
}
EXPORT_SYMBOL_GPL(pinmdl_lower_unregister);

/* Take a reference on the lower driver for one request. */
static const struct pinmdl_lower_ops *pinmdl_lower_get(void)
{
	const struct pinmdl_lower_ops *ops;

	spin_lock(&pinmdl_lower_lock);
	ops = pinmdl_lower;
	if (ops && try_module_get(ops->owner))
		pinmdl_lower_in_flight++;
	else
		ops = NULL;
	spin_unlock(&pinmdl_lower_lock);
	return ops;
}

static void pinmdl_lower_put(const struct pinmdl_lower_ops *ops)
{
	struct module *owner = ops->owner;

	spin_lock(&pinmdl_lower_lock);
	if (!--pinmdl_lower_in_flight)
		wake_up(&pinmdl_lower_idle);
	spin_unlock(&pinmdl_lower_lock);
	module_put(owner);
}

static bool pinmdl_op_writes(u32 op)
{
	return op == PINMDL_LOWER_FILL || op == PINMDL_LOWER_COPY;
}

/* Mark @mdl in flight for a request on [offset, offset + length). */
static int pinmdl_hold(struct pinmdl *mdl, u64 offset, u64 length,
		       bool write)
{
	int ret = 0;

	mutex_lock(&mdl->lock);
	if (mdl->dead)
		ret = -ENOENT;
	else if (mdl->locking)
		ret = -EBUSY;
	else if (!pinmdl_has_pfns(mdl) ||
		 !pinmdl_range_valid(mdl, offset, length))
		ret = -EINVAL;
	else if (write && !(mdl->flags & PINMDL_F_WRITE_OPERATION))
		ret = -EACCES;
	if (!ret) {
		mdl->in_flight++;
		mdl->flags |= PINMDL_F_IN_FLIGHT;
		pinmdl_get(mdl);
	}
	mutex_unlock(&mdl->lock);
	return ret;
}

static void pinmdl_release_hold(struct pinmdl *mdl)
{
	mutex_lock(&mdl->lock);
	if (!--mdl->in_flight)
		mdl->flags &= ~PINMDL_F_IN_FLIGHT;
	mutex_unlock(&mdl->lock);
	pinmdl_put(mdl);
}

static void pinmdl_release_holds(struct pinmdl_request *req)
{
	if (req->src)
		pinmdl_release_hold(req->src);
	pinmdl_release_hold(req->mdl);
}

/**
 * pinmdl_submit() - hand a request to the lower driver (IoCallDriver)
 * @req: request; @mdl, @op, @offset, @length, @arg (and @src for COPY) and
 *	 @done filled in by the caller
 *
 * The descriptors are checked and held in flight, and the request is
 * queued to the lower driver, which completes it from its own context.
 * @req->done runs exactly once if this returns 0, never otherwise.
 *
 * Context: process context.
 * Return: 0 once queued; -EINVAL for an unknown op, an empty range, a
 * COPY without source, a descriptor without pages or a range outside it;
 * -ENOENT for a freed descriptor; -EBUSY for one being locked; -EACCES for
 * a writing op on a descriptor not locked for write; -ENODEV without a
 * lower driver; or the lower driver's refusal.
 */
int pinmdl_submit(struct pinmdl_request *req)
{
	bool copy = req->op == PINMDL_LOWER_COPY;
	const struct pinmdl_lower_ops *ops;
	int ret;

	if (req->op < PINMDL_LOWER_FILL || req->op > PINMDL_LOWER_COPY ||
	    !req->length || !req->done || copy != !!req->src)
		return -EINVAL;

	ret = pinmdl_hold(req->mdl, req->offset, req->length,
			  pinmdl_op_writes(req->op));
	if (ret)
		return ret;
	if (req->src) {
		ret = pinmdl_hold(req->src, req->offset, req->length, false);
		if (ret)
			goto err_release_mdl;
	}
	ops = pinmdl_lower_get();
	if (!ops) {
		ret = -ENODEV;
		goto err_release_src;
	}
	req->lower = ops;
	req->status = 0;
	req->result = 0;
	ret = ops->queue(req);
	if (ret)
		goto err_put_lower;
	return 0;

err_put_lower:
	pinmdl_lower_put(ops);
err_release_src:
	if (req->src)
		pinmdl_release_hold(req->src);
err_release_mdl:
	pinmdl_release_hold(req->mdl);
	return ret;
}
EXPORT_SYMBOL_GPL(pinmdl_submit);

/**
 * pinmdl_complete() - complete a request taken by the lower driver
 *		       (IoCompleteRequest)
 * @req: request given to the lower driver's queue operation
 * @status: 0 or a negative errno
 * @result: result of the operation (CHECKSUM), 0 otherwise
 *
 * Releases the descriptors, then calls @req->done, then drops the lower
 * driver's module reference.
 *
 * Context: process context (the lower driver's worker).
 */
void pinmdl_complete(struct pinmdl_request *req, int status, u64 result)
{
	const struct pinmdl_lower_ops *ops = req->lower;

	req->status = status;
	req->result = result;
	pinmdl_release_holds(req);
	req->done(req);
	pinmdl_lower_put(ops);
}
EXPORT_SYMBOL_GPL(pinmdl_complete);
