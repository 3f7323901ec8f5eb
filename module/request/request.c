// SPDX-License-Identifier: GPL-2.0
/*
 * The request path (IoCallDriver with an MDL chain): a request carries a
 * chain of descriptor segments to a target, which executes it from its own
 * context and completes it from any context, hard IRQ included. Each
 * segment's descriptor stays in flight until the request is done.
 *
 * Completion and cancellation race safely, as with a cancel-safe queue:
 * a request has one completion whichever wins. The core counts the parties
 * that keep a request from finishing (the target until it completes it,
 * the submitter until queue returned, a canceller while it asks); the last
 * one out finishes it: releases the segments, its views and the target's
 * count, then calls its done. A request can be cancelled from before its
 * queue: one that is not queued after all waits for its cancellers to let
 * it go, and never finishes.
 */
#include <kunit/visibility.h>
#include <linux/export.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/wait_bit.h>

#include "request/request.h"
#include "trace/pinmdl_trace.h"

/*
 * Where what a completion may not do in its context is done later; on no
 * CPU in particular.
 */
struct workqueue_struct *pinmdl_wq;

/**
 * pinmdl_request_init() - set up the request layer
 *
 * Return: 0 or -ENOMEM.
 */
int pinmdl_request_init(void)
{
	pinmdl_wq = alloc_workqueue("pinmdl", WQ_UNBOUND, 0);
	return pinmdl_wq ? 0 : -ENOMEM;
}

/**
 * pinmdl_request_exit() - tear the request layer down
 *
 * Runs what completions left to do (closing bindings) first.
 */
void pinmdl_request_exit(void)
{
	destroy_workqueue(pinmdl_wq);
}

/**
 * pinmdl_request_check() - check a request against its target
 * @req: request with @binding, @op, @dev_offset, @arg and @nr_segments set
 *
 * Return: 0, or -EINVAL for too many segments, a misaligned dev_offset, or
 * what the target's check refuses.
 */
int pinmdl_request_check(struct pinmdl_request *req)
{
	const struct pinmdl_target_limits *limits = &req->binding->limits;

	if (req->nr_segments > limits->max_segments ||
	    !IS_ALIGNED(req->dev_offset, limits->block_size))
		return -EINVAL;
	return req->binding->target->ops->check(req);
}

/**
 * pinmdl_request_hold() - check segment @i and hold its descriptor in flight
 * @req: request past pinmdl_request_check()
 * @i: the segment, whose @mdl is set
 *
 * Return: 0; -ENOENT for a freed descriptor; -EBUSY for one being locked;
 * -EINVAL for one without pages, a range outside it or misaligned;
 * -EACCES if the target writes into a descriptor not locked for write.
 */
int pinmdl_request_hold(struct pinmdl_request *req, unsigned int i)
{
	u32 block = req->binding->limits.block_size;
	struct pinmdl_io_segment *seg = &req->segments[i];
	struct pinmdl *mdl = seg->mdl;
	bool write = seg->dir == DMA_FROM_DEVICE ||
		     seg->dir == DMA_BIDIRECTIONAL;
	int ret = 0;

	mutex_lock(&mdl->lock);
	if (mdl->dead)
		ret = -ENOENT;
	else if (mdl->locking)
		ret = -EBUSY;
	else if (!pinmdl_has_pfns(mdl) ||
		 !pinmdl_range_valid(mdl, seg->offset, seg->length) ||
		 !IS_ALIGNED(mdl->byte_offset + seg->offset, block) ||
		 !IS_ALIGNED(seg->length, block))
		ret = -EINVAL;
	else if (write && !(mdl->flags & PINMDL_F_WRITE_OPERATION))
		ret = -EACCES;
	if (!ret)
		atomic_inc(&mdl->in_flight);
	mutex_unlock(&mdl->lock);
	return ret;
}

/**
 * pinmdl_request_unhold() - release the first @n segments' descriptors
 * @req: request
 * @n: segments held
 *
 * Context: any. Nothing of a descriptor is touched after its release.
 */
void pinmdl_request_unhold(struct pinmdl_request *req, unsigned int n)
{
	while (n--)
		atomic_dec(&req->segments[n].mdl->in_flight);
}

/* Free the views a target asked for. Any context. */
static void pinmdl_request_free_views(struct pinmdl_request *req)
{
	struct pinmdl_dma_table *t, *next;

	list_for_each_entry_safe(t, next, &req->dma, node)
		pinmdl_dma_table_free(t);
	INIT_LIST_HEAD(&req->dma);
}

/* The last party is out: release everything, then call done. */
static void pinmdl_request_finish(struct pinmdl_request *req)
{
	struct pinmdl_binding *b = req->binding;
	struct pinmdl_target *target = b->target;

	if (target->ops->release)
		target->ops->release(req);
	pinmdl_request_free_views(req);
	pinmdl_request_unhold(req, req->nr_segments);
	pinmdl_target_unlist(target, req);
	atomic_dec(&b->in_flight);
	req->done(req);
	/*
	 * Only now may unregistering, and so the exit of the target's
	 * module, end: this context may be in the target's code, under its
	 * pinmdl_complete(). The binding may be closed already; the
	 * registration keeps the target until then.
	 */
	pinmdl_target_leave(target);
}

/**
 * pinmdl_request_tryget() - keep a request from finishing
 * @req: request in flight, whose memory the caller keeps valid
 *
 * Context: any.
 * Return: true, to be undone with pinmdl_request_put(); false if it is
 * finishing already.
 */
bool pinmdl_request_tryget(struct pinmdl_request *req)
{
	unsigned long flags;
	bool ok;

	spin_lock_irqsave(&req->lock, flags);
	ok = req->users;
	if (ok)
		req->users++;
	spin_unlock_irqrestore(&req->lock, flags);
	return ok;
}
EXPORT_SYMBOL_IF_KUNIT(pinmdl_request_tryget);

/**
 * pinmdl_request_put() - undo pinmdl_request_tryget()
 * @req: request
 *
 * Finishes the request if it was the last party: done may run here. The
 * last party out of a discarded request wakes its discarder instead.
 *
 * Context: any.
 */
void pinmdl_request_put(struct pinmdl_request *req)
{
	unsigned long flags;
	bool last, discarded;

	spin_lock_irqsave(&req->lock, flags);
	last = !--req->users;
	discarded = req->state & PINMDL_REQ_DISCARDED;
	spin_unlock_irqrestore(&req->lock, flags);
	if (!last)
		return;
	/* Only the address is used: the request may be gone already. */
	if (discarded)
		wake_up_var(&req->users);
	else
		pinmdl_request_finish(req);
}
EXPORT_SYMBOL_IF_KUNIT(pinmdl_request_put);

/* Whether nobody holds a discarded request any more. */
static bool pinmdl_request_unused(struct pinmdl_request *req)
{
	unsigned long flags;
	bool unused;

	spin_lock_irqsave(&req->lock, flags);
	unused = !req->users;
	spin_unlock_irqrestore(&req->lock, flags);
	return unused;
}

/**
 * pinmdl_request_discard() - give up a request that will not be queued
 * @req: request past pinmdl_request_prepare() whose target's queue
 *	 operation was not called or failed
 *
 * Waits for those that hold the request to cancel it to let it go; then
 * nobody can hold it again, and it never finishes: the caller still holds
 * the segments.
 *
 * Context: process context; sleeps while a canceller holds the request.
 */
void pinmdl_request_discard(struct pinmdl_request *req)
{
	unsigned long flags;

	spin_lock_irqsave(&req->lock, flags);
	req->state |= PINMDL_REQ_DISCARDED;
	req->users -= 2;
	spin_unlock_irqrestore(&req->lock, flags);
	wait_var_event(&req->users, pinmdl_request_unused(req));
}

/*
 * Mark @req to be cancelled and decide under its lock whether the
 * target's cancel is to be called now: queued, not called yet and not
 * completed. Then the caller holds a party until the call returns.
 */
static bool pinmdl_request_cancel_due(struct pinmdl_request *req,
				      bool *completed)
{
	unsigned long flags;
	bool due = false;

	spin_lock_irqsave(&req->lock, flags);
	*completed = req->state & PINMDL_REQ_COMPLETED;
	/*
	 * Only a request not completed is sure to have its binding and
	 * target still: a completed one may be finished and its binding
	 * closed already.
	 */
	if (!*completed) {
		req->state |= PINMDL_REQ_CANCEL_WANTED;
		due = req->binding->target->ops->cancel &&
		      (req->state & PINMDL_REQ_QUEUED) &&
		      !(req->state & PINMDL_REQ_CANCEL_CALLED);
	}
	trace_pinmdl_request_cancel(req, *completed ? "" :
				    req->binding->target->name,
				    *completed ? -ENOENT : 0, 0);
	if (due) {
		req->state |= PINMDL_REQ_CANCEL_CALLED;
		req->users++;
	}
	spin_unlock_irqrestore(&req->lock, flags);
	return due;
}

static void pinmdl_request_call_cancel(struct pinmdl_request *req)
{
	req->binding->target->ops->cancel(req);
	pinmdl_request_put(req);
}

/*
 * The target's queue returned: the submission's party ends, in the same
 * lock section, unless a cancel asked for meanwhile is due; then the
 * party is the cancel call's until it returns.
 */
static void pinmdl_request_queued(struct pinmdl_request *req)
{
	unsigned long flags;
	bool due, last = false;

	spin_lock_irqsave(&req->lock, flags);
	req->state |= PINMDL_REQ_QUEUED;
	due = req->binding->target->ops->cancel &&
	      (req->state & PINMDL_REQ_CANCEL_WANTED) &&
	      !(req->state & (PINMDL_REQ_CANCEL_CALLED |
			      PINMDL_REQ_COMPLETED));
	if (due)
		req->state |= PINMDL_REQ_CANCEL_CALLED;
	else
		last = !--req->users;
	spin_unlock_irqrestore(&req->lock, flags);
	if (due)
		pinmdl_request_call_cancel(req);
	else if (last)
		pinmdl_request_finish(req);
}

/**
 * pinmdl_request_admit() - check a request as a whole
 * @req: request whose segments are all held
 *
 * Return: 0; -EINVAL past the target's capacity; the target's refusal
 * (-EBADF); or -ENODEV if the target is gone.
 */
int pinmdl_request_admit(struct pinmdl_request *req)
{
	struct pinmdl_binding *b = req->binding;
	struct pinmdl_target *target = b->target;
	unsigned int i;
	int ret;

	req->total = 0;
	for (i = 0; i < req->nr_segments; i++)
		req->total += req->segments[i].length;
	if (b->limits.capacity &&
	    (req->dev_offset > b->limits.capacity ||
	     req->total > b->limits.capacity - req->dev_offset))
		ret = -EINVAL;
	else if (target->ops->permit)
		ret = target->ops->permit(req);
	else
		ret = 0;
	if (!ret && READ_ONCE(target->gone))
		ret = -ENODEV;
	if (ret)
		trace_pinmdl_request_fail(req, target->name, ret, 0);
	return ret;
}

/**
 * pinmdl_request_prepare() - make an admitted request ready to be queued
 * @req: request past pinmdl_request_admit()
 *
 * From here the request may be held with pinmdl_request_tryget() and
 * cancelled: a cancel asked for before the target's queue operation
 * returned is seen by pinmdl_request_cancelled() at once, and the
 * target's cancel operation is called once queue returned. Then
 * pinmdl_request_start(), or pinmdl_request_discard().
 *
 * Context: any.
 */
void pinmdl_request_prepare(struct pinmdl_request *req)
{
	spin_lock_init(&req->lock);
	INIT_LIST_HEAD(&req->node);
	req->state = 0;
	req->users = 2;	/* the target's completion and this submission */
	req->status = 0;
	req->result = 0;
	INIT_LIST_HEAD(&req->dma);
}

/**
 * pinmdl_request_start() - queue a prepared request to its target
 * @req: request past pinmdl_request_prepare()
 *
 * On success the request finishes exactly once; on failure it is
 * discarded (pinmdl_request_discard()) and the caller still holds the
 * segments.
 *
 * Context: process context.
 * Return: 0, -ENODEV if the target is gone, or the target's queue error.
 */
int pinmdl_request_start(struct pinmdl_request *req)
{
	struct pinmdl_binding *b = req->binding;
	struct pinmdl_target *target = b->target;
	int ret;

	/* Listed from here, so that unregistering can cancel it. */
	ret = pinmdl_target_enter(target, req);
	if (ret)
		goto err_trace;
	atomic_inc(&b->in_flight);
	trace_pinmdl_request_submit(req, target->name, 0, 0);
	ret = target->ops->queue(req);
	if (ret) {
		pinmdl_request_free_views(req);
		pinmdl_target_unlist(target, req);
		atomic_dec(&b->in_flight);
		pinmdl_target_leave(target);
		goto err_trace;
	}
	pinmdl_request_queued(req);
	return 0;

err_trace:
	trace_pinmdl_request_fail(req, target->name, ret, 0);
	pinmdl_request_discard(req);
	return ret;
}

/**
 * pinmdl_submit() - send a request to a target (IoCallDriver)
 * @req: request; @binding, @op, @dev_offset, @arg, @segments,
 *	 @nr_segments and @done filled in by the caller
 *
 * The request is checked by the target, its segments held in flight, and
 * it is queued to the target, which completes it from its own context.
 * @req->done runs exactly once if this returns 0, never otherwise, and it
 * may run before this returns.
 * The caller sets @req->from_user: true for a request made on behalf of
 * user space, false (as a zeroed request has it) for the kernel's own;
 * and @req->nowait: true if it may not sleep for the device (and sends
 * the request again from where it may if the target refuses it with
 * -EAGAIN), false as a zeroed request has it.
 *
 * Context: process context.
 * Return: 0 once queued; -EINVAL for what the target's limits or check
 * refuse, a segment without pages, outside its descriptor or misaligned;
 * -ENOENT for a freed descriptor; -EBUSY for one being locked; -EACCES for
 * a write into a descriptor not locked for write; the target's refusal;
 * -ENODEV if the target is gone.
 */
int pinmdl_submit(struct pinmdl_request *req)
{
	unsigned int i;
	int ret;

	if (!req->done)
		return -EINVAL;
	ret = pinmdl_request_check(req);
	if (ret)
		return ret;
	for (i = 0; i < req->nr_segments; i++) {
		ret = pinmdl_request_hold(req, i);
		if (ret)
			goto err_unhold;
	}
	ret = pinmdl_request_admit(req);
	if (ret)
		goto err_unhold;
	pinmdl_request_prepare(req);
	ret = pinmdl_request_start(req);
	if (ret)
		goto err_unhold;
	return 0;

err_unhold:
	pinmdl_request_unhold(req, i);
	return ret;
}
EXPORT_SYMBOL_GPL(pinmdl_submit);

/**
 * pinmdl_complete() - complete a request taken by a target
 *		       (IoCompleteRequest)
 * @req: request given to the target's queue operation
 * @status: 0 or a negative errno (-ECANCELED if cancelled)
 * @result: bytes moved, or the operation's result
 *
 * The request finishes (its descriptors released, then its done called)
 * here or, if a cancel or the submission is still running, when that ends.
 * A target completes each request exactly once. Unregistering the target
 * waits until the call that finished it returned; the target's own code
 * after the call is left to what its module's exit waits for (its
 * workqueue, its timers, an RCU grace period for interrupt context).
 *
 * Context: any context in which a spinlock_t may be taken: process,
 * softirq, or hard IRQ as an interrupt handler or a plain hrtimer runs
 * (threaded or in softirq on PREEMPT_RT); not one that stays in hard IRQ
 * on PREEMPT_RT (HRTIMER_MODE_HARD timers, IRQF_NO_THREAD handlers, hard
 * irq_work), nor under a raw spinlock.
 */
void pinmdl_complete(struct pinmdl_request *req, int status, u64 result)
{
	unsigned long flags;
	bool last;

	trace_pinmdl_request_complete(req, req->binding->target->name, status,
				      result);
	spin_lock_irqsave(&req->lock, flags);
	if (WARN_ONCE(req->state & PINMDL_REQ_COMPLETED,
		      "pinmdl: request completed twice\n")) {
		spin_unlock_irqrestore(&req->lock, flags);
		return;
	}
	req->state |= PINMDL_REQ_COMPLETED;
	req->status = status;
	req->result = result;
	last = !--req->users;
	spin_unlock_irqrestore(&req->lock, flags);
	if (last)
		pinmdl_request_finish(req);
}
EXPORT_SYMBOL_GPL(pinmdl_complete);

/**
 * pinmdl_cancel() - ask the target to stop a request (IoCancelIrp)
 * @req: request submitted and not finished, or finishing: its memory must
 *	 stay valid during the call (the done of a child request of one's
 *	 own, say, has not freed it)
 *
 * The target's cancel operation runs at most once per request, never
 * before its queue operation returned nor after the request finished; the
 * request may complete while it runs, so it completes only what it
 * stopped itself.
 * The request still completes exactly once: -ECANCELED if the target
 * stopped it, else with its real status.
 *
 * Context: process context.
 * Return: 0 once asked, or -ENOENT if the request had completed.
 */
int pinmdl_cancel(struct pinmdl_request *req)
{
	bool completed;

	if (pinmdl_request_cancel_due(req, &completed))
		pinmdl_request_call_cancel(req);
	return completed ? -ENOENT : 0;
}
EXPORT_SYMBOL_GPL(pinmdl_cancel);

/**
 * pinmdl_request_cancelled() - whether cancelling a request was asked for
 * @req: request the caller's target holds
 *
 * A target without a cancel operation, or working in steps, polls this
 * between steps and completes the request with -ECANCELED.
 *
 * Context: any.
 * Return: true once pinmdl_cancel() was called on the request.
 */
bool pinmdl_request_cancelled(struct pinmdl_request *req)
{
	return READ_ONCE(req->state) & PINMDL_REQ_CANCEL_WANTED;
}
EXPORT_SYMBOL_GPL(pinmdl_request_cancelled);

/**
 * pinmdl_request_target() - the target a request was sent to
 * @req: request submitted
 *
 * Return: the target, whose pinmdl_target_private() is its driver's.
 */
struct pinmdl_target *pinmdl_request_target(const struct pinmdl_request *req)
{
	return req->binding->target;
}
EXPORT_SYMBOL_GPL(pinmdl_request_target);

/* Move @pos @bytes further into @req. */
static void pinmdl_request_advance(const struct pinmdl_request *req,
				   struct pinmdl_request_pos *pos, u64 bytes)
{
	u64 step;

	while (bytes) {
		step = min(req->segments[pos->seg].length - pos->offset, bytes);
		pos->offset += step;
		bytes -= step;
		if (pos->offset == req->segments[pos->seg].length) {
			pos->seg++;
			pos->offset = 0;
		}
	}
}

/**
 * pinmdl_request_bvecs() - describe a request's next bytes as bio_vecs
 * @req: request the caller's target holds
 * @pos: where to start; moved past the bytes described
 * @max: most bytes to describe
 * @align: the bytes described are a multiple of @align, a power of two
 *	   that divides every segment's length
 * @bvec: array of *@nr entries, or NULL to count only
 * @nr: room in @bvec; on return, the bio_vecs used (counting only, an
 *	upper bound)
 *
 * The bytes are those of the segments in order, contiguous pages merged
 * into one bio_vec, so that a target moves a request of any length
 * through a bio_vec array of a size of its choosing, a part at a time
 * (iov_iter_bvec() of the array and the bytes). Counting only, @pos does
 * not move.
 *
 * Context: any.
 * Return: the bytes described; 0 at the end of the request, or if not
 * one @align fits in *@nr bio_vecs.
 */
u64 pinmdl_request_bvecs(const struct pinmdl_request *req,
			 struct pinmdl_request_pos *pos, u64 max, u32 align,
			 struct bio_vec *bvec, unsigned int *nr)
{
	struct pinmdl_request_pos at = *pos;
	const struct pinmdl_io_segment *seg;
	unsigned int n = 0, used;
	u64 bytes = 0, got, cut;

	while (at.seg < req->nr_segments && n < *nr && bytes < max) {
		seg = &req->segments[at.seg];
		used = *nr - n;
		got = pinmdl_bvec_fill(seg->mdl, seg->offset + at.offset,
				       min(seg->length - at.offset,
					   max - bytes),
				       bvec ? bvec + n : NULL, &used);
		n += used;
		bytes += got;
		pinmdl_request_advance(req, &at, got);
	}
	*nr = n;
	if (!bvec)
		return bytes;
	/* Whole @align only: drop what is past the last one. */
	for (cut = bytes & (align - 1), bytes -= cut; cut; n--) {
		if (cut < bvec[n - 1].bv_len) {
			bvec[n - 1].bv_len -= cut;
			break;
		}
		cut -= bvec[n - 1].bv_len;
	}
	*nr = n;
	pinmdl_request_advance(req, pos, bytes);
	return bytes;
}
EXPORT_SYMBOL_GPL(pinmdl_request_bvecs);

/**
 * pinmdl_request_dma_map() - part of a request mapped for the target's
 *			      device
 * @req: request the caller's target holds; the target has a dma_dev
 * @offset: start of the part, in the request's bytes (its segments one
 *	    after the other)
 * @length: length of the part, > 0
 *
 * Maps each segment's range in the part in the segment's @dir and hands
 * it to the device: the table lists its DMA addresses and lengths only
 * (for_each_sgtable_dma_sg()), in order, contiguous ranges merged up to
 * the device's max segment size and within its segment boundary. Where
 * the device's mappings cost nothing to keep (DMA-coherent, no bounce
 * buffer), a descriptor is mapped whole once per device and direction and
 * the mapping cached until its pages go (as ib_umem maps a region once);
 * else just the part is mapped, synced for the device now and back for
 * the CPU at pinmdl_request_dma_unmap(), so that a bounce buffer is held
 * no longer than the access. A target maps what its device accesses, a
 * part at a time if the request is larger than it takes at once, and
 * unmaps it once the device is done; a table still mapped is unmapped
 * when the request finishes.
 *
 * Context: process context.
 * Return: the table; ERR_PTR(-EINVAL) for a target without device, a part
 * outside the request or one that holds a DMA_NONE segment;
 * ERR_PTR(-ENOMEM), or a DMA mapping error.
 */
struct sg_table *pinmdl_request_dma_map(struct pinmdl_request *req,
					u64 offset, u64 length)
{
	struct pinmdl_dma_domain *dom = &req->binding->target->dma;
	u64 end = offset + length, pos, from, to;
	struct pinmdl_io_segment *seg;
	struct pinmdl_dma_table *t;
	unsigned int i, n = 0;
	unsigned long flags;
	int ret;

	if (!dom->dev || !length || offset >= req->total ||
	    length > req->total - offset)
		return ERR_PTR(-EINVAL);
	for (i = 0, pos = 0; pos < end; pos += seg->length, i++) {
		seg = &req->segments[i];
		if (pos + seg->length <= offset)
			continue;
		if (seg->dir == DMA_NONE)
			return ERR_PTR(-EINVAL);
		n++;
	}
	t = pinmdl_dma_table_alloc(dom, n);
	if (!t)
		return ERR_PTR(-ENOMEM);
	for (i = 0, pos = 0; pos < end; pos += seg->length, i++) {
		seg = &req->segments[i];
		if (pos + seg->length <= offset)
			continue;
		from = max(pos, offset) - pos;
		to = min(pos + seg->length, end) - pos;
		ret = pinmdl_dma_table_add(t, seg->mdl, seg->offset + from,
					   to - from, seg->dir);
		if (ret)
			goto err_free;
	}
	ret = pinmdl_dma_table_build(t);
	if (ret)
		goto err_free;
	spin_lock_irqsave(&req->lock, flags);
	list_add(&t->node, &req->dma);
	spin_unlock_irqrestore(&req->lock, flags);
	return &t->sgt;

err_free:
	pinmdl_dma_table_free(t);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(pinmdl_request_dma_map);

/**
 * pinmdl_request_dma_unmap() - hand a mapped part of a request back to the
 *				CPU
 * @req: the request
 * @sgt: a table of pinmdl_request_dma_map() on @req, not unmapped yet
 *
 * What the device wrote (segments of DMA_FROM_DEVICE or DMA_BIDIRECTIONAL)
 * is synced back for the CPU, and the part's own mappings unmapped.
 *
 * Context: process context.
 */
void pinmdl_request_dma_unmap(struct pinmdl_request *req,
			      struct sg_table *sgt)
{
	struct pinmdl_dma_table *t = container_of(sgt, struct pinmdl_dma_table,
						  sgt);
	unsigned long flags;

	spin_lock_irqsave(&req->lock, flags);
	list_del(&t->node);
	spin_unlock_irqrestore(&req->lock, flags);
	pinmdl_dma_table_free(t);
}
EXPORT_SYMBOL_GPL(pinmdl_request_dma_unmap);
