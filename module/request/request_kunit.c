// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the request layer through the kernel API alone: targets
 * registered by name, requests with segment chains, completion from hard
 * and soft IRQ context, cancellation racing completion, a stacking target
 * (a mirror sending each request to two targets through partial
 * descriptors), unregistering with requests in flight, and the views a
 * target gets of its request (iov_iter, DMA table, kernel mapping).
 */
#include <kunit/device.h>
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/dma-direct.h>
#include <linux/dma-mapping.h>
#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/mman.h>
#include <linux/sizes.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "core/pin_compat.h"
#include "core/stats.h"
#include "dev/file.h"
#include "dev/ioctl.h"
#include "hrtimer_compat.h"
#include "pinmdl.h"
#include "request/request.h"

/* Operations of the test targets. */
#define KT_WRITE	1	/* writes its segments */
#define KT_READ		2	/* reads its segments */
#define KT_NODATA	3	/* takes no segment */

/* How a test target ends the requests it takes. */
enum kt_mode {
	KT_HOLD,	/* keeps the last one in @held for the test */
	KT_AT_ONCE,	/* completes it inside its queue operation */
	KT_HARDIRQ,	/* completes it from a hard-IRQ hrtimer */
	KT_SOFTIRQ,	/* completes it from a soft-IRQ hrtimer */
};

/**
 * struct kt_target - a test target
 * @target: the registered target
 * @mode: how it ends requests
 * @status: status it completes them with
 * @refusal: error its queue returns, or 0
 * @delay_ns: how long its timer waits in the IRQ modes
 * @held: last request taken in KT_HOLD mode
 * @queued: requests taken
 * @cancels: calls of its cancel operation
 * @saw_data: in KT_AT_ONCE mode, a request's data held a non-zero byte
 * @early: the thread that cancels requests while kt_early_queue() runs
 */
struct kt_target {
	struct pinmdl_target *target;
	enum kt_mode mode;
	int status;
	int refusal;
	u64 delay_ns;
	struct pinmdl_request *held;
	atomic_t queued;
	atomic_t cancels;
	bool saw_data;
	struct kt_early *early;
};

/**
 * struct kt_ctx - a test target's part of a request
 * @req: the request
 * @kt: the target
 * @timer: completes it in the IRQ modes
 * @owner: 1 until whoever completes it (timer, cancel or test) took it
 */
struct kt_ctx {
	struct pinmdl_request *req;
	struct kt_target *kt;
	struct hrtimer timer;
	atomic_t owner;
};

/* Complete @req unless someone else did: the cancel-safe pattern. */
static void kt_finish(struct pinmdl_request *req, int status)
{
	struct kt_ctx *ctx = req->target_data;

	if (atomic_xchg(&ctx->owner, 0))
		pinmdl_complete(req, status, req->total);
}

static enum hrtimer_restart kt_timer_fn(struct hrtimer *timer)
{
	struct kt_ctx *ctx = container_of(timer, struct kt_ctx, timer);

	kt_finish(ctx->req, ctx->kt->status);
	return HRTIMER_NORESTART;
}

static int kt_check(struct pinmdl_request *req)
{
	unsigned int i;

	if (req->op == KT_NODATA)
		return req->nr_segments ? -EINVAL : 0;
	if ((req->op != KT_WRITE && req->op != KT_READ) || !req->nr_segments)
		return -EINVAL;
	for (i = 0; i < req->nr_segments; i++)
		req->segments[i].dir = req->op == KT_WRITE ? DMA_FROM_DEVICE :
							     DMA_TO_DEVICE;
	return 0;
}

/* Whether a request's data holds anything but zeros. */
static bool kt_nonzero(struct pinmdl_request *req)
{
	struct pinmdl_io_segment *seg;
	unsigned int i;
	bool found = false;
	char *va;

	for (i = 0; i < req->nr_segments && !found; i++) {
		seg = &req->segments[i];
		va = pinmdl_map_range(seg->mdl, seg->offset, seg->length);
		if (IS_ERR(va))
			return true;
		found = memchr_inv(va, 0, seg->length);
		pinmdl_unmap_range(va);
	}
	return found;
}

static int kt_queue(struct pinmdl_request *req)
{
	struct kt_target *kt = pinmdl_target_private(pinmdl_request_target(req));
	struct kt_ctx *ctx;

	if (kt->refusal)
		return kt->refusal;
	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	ctx->req = req;
	ctx->kt = kt;
	atomic_set(&ctx->owner, 1);
	req->target_data = ctx;
	atomic_inc(&kt->queued);
	switch (kt->mode) {
	case KT_HOLD:
		kt->held = req;
		break;
	case KT_AT_ONCE:
		kt->saw_data |= req->nr_segments && kt_nonzero(req);
		kt_finish(req, kt->status);
		break;
	case KT_HARDIRQ:
	case KT_SOFTIRQ:
		/*
		 * A plain hrtimer expires in hard IRQ context, as a device's
		 * interrupt handler runs (in softirq on PREEMPT_RT, where the
		 * handler is threaded);
		 * a HRTIMER_MODE_HARD one would stay in hard IRQ there too,
		 * where no spinlock_t may be taken, nor a request completed.
		 */
		pinmdl_hrtimer_setup(&ctx->timer, kt_timer_fn, CLOCK_MONOTONIC,
				     kt->mode == KT_HARDIRQ ?
				     HRTIMER_MODE_REL : HRTIMER_MODE_REL_SOFT);
		hrtimer_start(&ctx->timer, ns_to_ktime(kt->delay_ns),
			      kt->mode == KT_HARDIRQ ?
			      HRTIMER_MODE_REL : HRTIMER_MODE_REL_SOFT);
		break;
	}
	return 0;
}

/*
 * Cancel: complete with -ECANCELED unless the timer or the test got there
 * first. A timer still pending is stopped first: the request's memory goes
 * once it is complete.
 */
static void kt_cancel(struct pinmdl_request *req)
{
	struct kt_target *kt = pinmdl_target_private(pinmdl_request_target(req));
	struct kt_ctx *ctx = req->target_data;

	atomic_inc(&kt->cancels);
	if ((kt->mode == KT_HARDIRQ || kt->mode == KT_SOFTIRQ) &&
	    hrtimer_try_to_cancel(&ctx->timer) != 1)
		return;
	kt_finish(req, -ECANCELED);
}

static void kt_release(struct pinmdl_request *req)
{
	kfree(req->target_data);
}

static const struct pinmdl_target_ops kt_ops = {
	.owner = THIS_MODULE,
	.check = kt_check,
	.queue = kt_queue,
	.cancel = kt_cancel,
	.release = kt_release,
};

/* The same target without a cancel operation. */
static const struct pinmdl_target_ops kt_ops_nocancel = {
	.owner = THIS_MODULE,
	.check = kt_check,
	.queue = kt_queue,
	.release = kt_release,
};

static const struct pinmdl_target_limits kt_limits = {
	.block_size = 1,
	.max_segments = 4,
};

static void kt_unregister(void *data)
{
	struct kt_target *kt = data;

	if (kt->target)
		pinmdl_target_unregister(kt->target);
}

/* Register a test target, unregistered when the test ends. */
static struct kt_target *kt_register(struct kunit *test, const char *name,
				     const struct pinmdl_target_ops *ops,
				     const struct pinmdl_target_limits *limits)
{
	struct kt_target *kt = kunit_kzalloc(test, sizeof(*kt), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, kt);
	kt->target = pinmdl_target_register(name, ops, limits, kt);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, kt->target);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, kt_unregister,
							kt), 0);
	return kt;
}

/* Open a target, closed when the test ends (if the test did not). */
static struct pinmdl_binding *kt_open(struct kunit *test, const char *name)
{
	struct pinmdl_binding *b = pinmdl_target_open(name, NULL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, b);
	return b;
}

/**
 * struct kt_wait - what a test learns of its request's done
 * @done: signalled by it
 * @calls: times it ran
 * @hardirq: it ran in hard-IRQ context
 * @softirq: it ran in soft-IRQ context
 */
struct kt_wait {
	struct completion done;
	atomic_t calls;
	bool hardirq;
	bool softirq;
};

static void kt_done(struct pinmdl_request *req)
{
	struct kt_wait *w = req->private;

	w->hardirq = in_hardirq();
	w->softirq = in_serving_softirq();
	atomic_inc(&w->calls);
	complete(&w->done);
}

static void kt_free_mdl(void *data)
{
	pinmdl_free(data);
}

/* A kernel-buffer descriptor of @len zeroed bytes, freed with the test. */
static struct pinmdl *kt_kbuf(struct kunit *test, size_t len, void **buf)
{
	struct pinmdl *mdl;

	*buf = kunit_kzalloc(test, len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, *buf);
	mdl = pinmdl_build_for_kernel_buffer(*buf, len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, mdl);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, kt_free_mdl,
							mdl), 0);
	return mdl;
}

/* A request of one segment, [@offset, @offset + @length) of @mdl. */
static void kt_req_init(struct pinmdl_request *req,
			struct pinmdl_io_segment *seg, struct kt_wait *w,
			struct pinmdl_binding *b, u32 op, struct pinmdl *mdl,
			u64 offset, u64 length)
{
	memset(req, 0, sizeof(*req));
	*seg = (struct pinmdl_io_segment){
		.mdl = mdl, .offset = offset, .length = length,
	};
	init_completion(&w->done);
	atomic_set(&w->calls, 0);
	req->binding = b;
	req->op = op;
	req->segments = seg;
	req->nr_segments = mdl ? 1 : 0;
	req->done = kt_done;
	req->private = w;
}

/* A name of PINMDL_TARGET_NAME_MAX characters: no room for its NUL. */
static const char kt_long_name[] = "kt_45678901234567890123456789012";

static void target_register_test(struct kunit *test)
{
	struct pinmdl_target_limits bad = kt_limits;
	struct pinmdl_target_ops noqueue = { .owner = THIS_MODULE,
					     .check = kt_check };
	int refs = module_refcount(THIS_MODULE);
	struct pinmdl_binding *b;

	kt_register(test, "kt_a", &kt_ops, &kt_limits);
	KUNIT_EXPECT_EQ(test, PTR_ERR(pinmdl_target_register("kt_a", &kt_ops,
							     &kt_limits, NULL)),
			-EEXIST);
	KUNIT_EXPECT_EQ(test, PTR_ERR(pinmdl_target_register("", &kt_ops,
							     &kt_limits, NULL)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(pinmdl_target_register(kt_long_name,
							     &kt_ops,
							     &kt_limits, NULL)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(pinmdl_target_register("kt_b", &noqueue,
							     &kt_limits, NULL)),
			-EINVAL);
	bad.block_size = 3;
	KUNIT_EXPECT_EQ(test, PTR_ERR(pinmdl_target_register("kt_b", &kt_ops,
							     &bad, NULL)),
			-EINVAL);
	bad = kt_limits;
	bad.max_segments = 0;
	KUNIT_EXPECT_EQ(test, PTR_ERR(pinmdl_target_register("kt_b", &kt_ops,
							     &bad, NULL)),
			-EINVAL);

	KUNIT_EXPECT_EQ(test, PTR_ERR(pinmdl_target_open("kt_none", NULL)),
			-ENODEV);
	b = kt_open(test, "kt_a");
	KUNIT_EXPECT_EQ(test, module_refcount(THIS_MODULE), refs + 1);
	KUNIT_EXPECT_EQ(test, pinmdl_binding_limits(b)->max_segments, 4);
	KUNIT_EXPECT_NULL(test, pinmdl_binding_private(b));
	KUNIT_EXPECT_EQ(test, pinmdl_target_close(b), 0);
	KUNIT_EXPECT_EQ(test, module_refcount(THIS_MODULE), refs);
}

static void request_lifecycle_test(struct kunit *test)
{
	struct kt_target *kt = kt_register(test, "kt_a", &kt_ops, &kt_limits);
	struct pinmdl_binding *b = kt_open(test, "kt_a");
	struct pinmdl_io_segment seg;
	struct pinmdl_request req;
	struct kt_wait w;
	void *buf;
	struct pinmdl *mdl = kt_kbuf(test, 3 * PAGE_SIZE, &buf);

	kt_req_init(&req, &seg, &w, b, KT_WRITE, mdl, 10, 2 * PAGE_SIZE);
	KUNIT_ASSERT_EQ(test, pinmdl_submit(&req), 0);
	KUNIT_EXPECT_PTR_EQ(test, kt->held, &req);
	KUNIT_EXPECT_EQ(test, req.total, 2 * PAGE_SIZE);
	KUNIT_EXPECT_TRUE(test, pinmdl_flags(mdl) & PINMDL_F_IN_FLIGHT);
	KUNIT_EXPECT_EQ(test, pinmdl_free(mdl), -EBUSY);
	KUNIT_EXPECT_EQ(test, pinmdl_target_close(b), -EBUSY);
	KUNIT_EXPECT_EQ(test, atomic_read(&w.calls), 0);

	kt_finish(&req, 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&w.calls), 1);
	KUNIT_EXPECT_EQ(test, req.status, 0);
	KUNIT_EXPECT_EQ(test, req.result, 2 * PAGE_SIZE);
	KUNIT_EXPECT_FALSE(test, pinmdl_flags(mdl) & PINMDL_F_IN_FLIGHT);
	KUNIT_EXPECT_EQ(test, pinmdl_cancel(&req), -ENOENT);
	KUNIT_EXPECT_EQ(test, atomic_read(&kt->cancels), 0);
	KUNIT_EXPECT_EQ(test, pinmdl_target_close(b), 0);
}

static void request_checks_test(struct kunit *test)
{
	struct pinmdl_target_limits limits = {
		.block_size = 512, .capacity = 8192, .max_segments = 2,
	};
	struct kt_target *kt = kt_register(test, "kt_a", &kt_ops, &limits);
	struct pinmdl_binding *b = kt_open(test, "kt_a");
	unsigned long addr = kunit_vm_mmap(test, NULL, 0, PAGE_SIZE,
					   PROT_READ | PROT_WRITE,
					   MAP_ANONYMOUS | MAP_PRIVATE, 0);
	struct pinmdl_io_segment segs[3];
	struct pinmdl *mdl, *user;
	struct pinmdl_request req;
	struct kt_wait w;
	void *buf;

	mdl = kt_kbuf(test, 4 * PAGE_SIZE, &buf);
	KUNIT_ASSERT_NE(test, addr, 0);
	kt_req_init(&req, segs, &w, b, 7, mdl, 0, 512);
	KUNIT_EXPECT_EQ(test, pinmdl_submit(&req), -EINVAL);	/* op */
	req.op = KT_READ;
	req.done = NULL;
	KUNIT_EXPECT_EQ(test, pinmdl_submit(&req), -EINVAL);	/* no done */
	req.done = kt_done;
	req.nr_segments = 3;
	KUNIT_EXPECT_EQ(test, pinmdl_submit(&req), -EINVAL);	/* > max */
	req.nr_segments = 1;
	req.dev_offset = 1;
	KUNIT_EXPECT_EQ(test, pinmdl_submit(&req), -EINVAL);	/* dev_offset */
	req.dev_offset = 8192 - 512;
	segs[0].offset = 1;
	KUNIT_EXPECT_EQ(test, pinmdl_submit(&req), -EINVAL);	/* start */
	segs[0].offset = 0;
	segs[0].length = 500;
	KUNIT_EXPECT_EQ(test, pinmdl_submit(&req), -EINVAL);	/* length */
	segs[0].length = 1024;
	KUNIT_EXPECT_EQ(test, pinmdl_submit(&req), -EINVAL);	/* capacity */
	segs[0].length = 512;
	kt->refusal = -EIO;
	KUNIT_EXPECT_EQ(test, pinmdl_submit(&req), -EIO);
	KUNIT_EXPECT_FALSE(test, pinmdl_flags(mdl) & PINMDL_F_IN_FLIGHT);
	kt->refusal = 0;

	/* A write into a read lock; an unlocked descriptor. */
	user = pinmdl_alloc(addr, PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, user);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, kt_free_mdl,
							user), 0);
	kt_req_init(&req, segs, &w, b, KT_WRITE, user, 0, 512);
	KUNIT_EXPECT_EQ(test, pinmdl_submit(&req), -EINVAL);
	KUNIT_ASSERT_EQ(test, pinmdl_probe_and_lock(user, PINMDL_USER_MODE,
						    PINMDL_IO_READ_ACCESS), 0);
	KUNIT_EXPECT_EQ(test, pinmdl_submit(&req), -EACCES);
	req.op = KT_READ;
	KUNIT_ASSERT_EQ(test, pinmdl_submit(&req), 0);
	KUNIT_EXPECT_EQ(test, pinmdl_unlock(user), -EBUSY);
	kt_finish(&req, 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&w.calls), 1);
	KUNIT_EXPECT_EQ(test, pinmdl_unlock(user), 0);
	pinmdl_target_close(b);
}

/* Complete requests from an hrtimer in @mode; the done runs there too. */
static void kt_irq_rounds(struct kunit *test, enum kt_mode mode)
{
	struct kt_target *kt = kt_register(test, "kt_a", &kt_ops, &kt_limits);
	struct pinmdl_binding *b = kt_open(test, "kt_a");
	struct pinmdl_io_segment seg;
	struct pinmdl_request req;
	struct pinmdl *mdl;
	struct kt_wait w;
	int i, in_irq = 0;
	void *buf;

	mdl = kt_kbuf(test, PAGE_SIZE, &buf);
	kt->mode = mode;
	kt->status = -EIO;
	kt->delay_ns = 20 * NSEC_PER_USEC;
	for (i = 0; i < 200; i++) {
		kt_req_init(&req, &seg, &w, b, KT_READ, mdl, 0, PAGE_SIZE);
		KUNIT_ASSERT_EQ(test, pinmdl_submit(&req), 0);
		KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&w.done, HZ),
				0);
		KUNIT_EXPECT_EQ(test, atomic_read(&w.calls), 1);
		KUNIT_EXPECT_EQ(test, req.status, -EIO);
		/* The done ran in the timer's context, unless the submitter
		 * was still in pinmdl_submit() and finished it there.
		 */
		if (!w.hardirq && !w.softirq)
			continue;
		in_irq++;
		/*
		 * A hard IRQ that comes in the middle of a softirq sees
		 * in_serving_softirq() too: only the timer's own kind counts.
		 */
		KUNIT_EXPECT_EQ(test, w.hardirq, mode == KT_HARDIRQ);
		if (mode == KT_SOFTIRQ)
			KUNIT_EXPECT_TRUE(test, w.softirq);
	}
	KUNIT_EXPECT_GT(test, in_irq, 0);
	KUNIT_EXPECT_FALSE(test, pinmdl_flags(mdl) & PINMDL_F_IN_FLIGHT);
	pinmdl_target_close(b);
}

static void complete_hardirq_test(struct kunit *test)
{
	kt_irq_rounds(test, KT_HARDIRQ);
}

static void complete_softirq_test(struct kunit *test)
{
	kt_irq_rounds(test, KT_SOFTIRQ);
}

static void cancel_test(struct kunit *test)
{
	struct kt_target *kt = kt_register(test, "kt_a", &kt_ops, &kt_limits);
	struct kt_target *plain = kt_register(test, "kt_b", &kt_ops_nocancel,
					      &kt_limits);
	struct pinmdl_binding *b = kt_open(test, "kt_a");
	struct pinmdl_binding *pb = kt_open(test, "kt_b");
	struct pinmdl_io_segment seg;
	struct pinmdl_request req;
	struct kt_wait w;

	kt_req_init(&req, &seg, &w, b, KT_NODATA, NULL, 0, 0);
	KUNIT_ASSERT_EQ(test, pinmdl_submit(&req), 0);
	KUNIT_EXPECT_FALSE(test, pinmdl_request_cancelled(&req));
	KUNIT_EXPECT_EQ(test, pinmdl_cancel(&req), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&kt->cancels), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&w.calls), 1);
	KUNIT_EXPECT_EQ(test, req.status, -ECANCELED);
	KUNIT_EXPECT_EQ(test, pinmdl_cancel(&req), -ENOENT);
	KUNIT_EXPECT_EQ(test, atomic_read(&kt->cancels), 1);

	/* Without a cancel operation the target just finishes. */
	kt_req_init(&req, &seg, &w, pb, KT_NODATA, NULL, 0, 0);
	KUNIT_ASSERT_EQ(test, pinmdl_submit(&req), 0);
	KUNIT_EXPECT_EQ(test, pinmdl_cancel(&req), 0);
	KUNIT_EXPECT_TRUE(test, pinmdl_request_cancelled(&req));
	KUNIT_EXPECT_EQ(test, atomic_read(&w.calls), 0);
	kt_finish(plain->held, 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&w.calls), 1);
	KUNIT_EXPECT_EQ(test, req.status, 0);
	pinmdl_target_close(b);
	pinmdl_target_close(pb);
}

/* Cancel requests completing from a hard IRQ at once: one done each. */
static void cancel_race_test(struct kunit *test)
{
	struct kt_target *kt = kt_register(test, "kt_a", &kt_ops, &kt_limits);
	struct pinmdl_binding *b = kt_open(test, "kt_a");
	struct pinmdl_io_segment seg;
	struct pinmdl_request req;
	int i, cancelled = 0;
	struct kt_wait w;

	kt->mode = KT_HARDIRQ;
	for (i = 0; i < 2000; i++) {
		kt->delay_ns = (i % 40) * NSEC_PER_USEC;
		kt_req_init(&req, &seg, &w, b, KT_NODATA, NULL, 0, 0);
		KUNIT_ASSERT_EQ(test, pinmdl_submit(&req), 0);
		if (i & 1)
			ndelay((i % 53) * NSEC_PER_USEC);
		pinmdl_cancel(&req);
		KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&w.done, HZ),
				0);
		/* A second done would have come by now, or WARNed. */
		usleep_range(20, 40);
		KUNIT_ASSERT_EQ(test, atomic_read(&w.calls), 1);
		KUNIT_ASSERT_TRUE(test,
				  !req.status || req.status == -ECANCELED);
		cancelled += req.status == -ECANCELED;
	}
	kunit_info(test, "%d of 2000 cancelled before the timer", cancelled);
	KUNIT_EXPECT_LE(test, atomic_read(&kt->cancels), 2000);
	pinmdl_target_close(b);
}

/**
 * struct kt_early - a thread that cancels a request while its queue runs
 * @req: the request, once its queue runs
 * @in_queue: signalled by the target's queue
 * @asked: signalled by the thread once it asked to cancel
 * @ret: what pinmdl_cancel() returned
 * @seen: the queue saw the cancel asked
 * @putting: the thread is letting the request go
 */
struct kt_early {
	struct pinmdl_request *req;
	struct completion in_queue;
	struct completion asked;
	int ret;
	bool seen;
	atomic_t putting;
};

/* Hold the request, cancel it, and let it go 100 ms later. */
static int kt_early_fn(void *data)
{
	struct kt_early *e = data;
	struct pinmdl_request *req;

	wait_for_completion(&e->in_queue);
	req = e->req;
	if (!pinmdl_request_tryget(req)) {
		e->ret = -ESRCH;
		complete(&e->asked);
		return 0;
	}
	e->ret = pinmdl_cancel(req);
	complete(&e->asked);
	msleep(100);
	atomic_set(&e->putting, 1);
	pinmdl_request_put(req);
	return 0;
}

/* Queue once the thread asked to cancel, as kt_queue() does. */
static int kt_early_queue(struct pinmdl_request *req)
{
	struct kt_target *kt = pinmdl_target_private(pinmdl_request_target(req));
	struct kt_early *e = kt->early;

	e->req = req;
	complete(&e->in_queue);
	wait_for_completion(&e->asked);
	e->seen = pinmdl_request_cancelled(req);
	return kt_queue(req);
}

static const struct pinmdl_target_ops kt_early_ops = {
	.owner = THIS_MODULE,
	.check = kt_check,
	.queue = kt_early_queue,
	.cancel = kt_cancel,
	.release = kt_release,
};

/* Start the thread that cancels @kt's next request during its queue. */
static void kt_early_start(struct kunit *test, struct kt_target *kt,
			   struct kt_early *e)
{
	struct task_struct *thread;

	*e = (struct kt_early){};
	init_completion(&e->in_queue);
	init_completion(&e->asked);
	kt->early = e;
	thread = kthread_run(kt_early_fn, e, "kt_early");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, thread);
}

/*
 * Cancelled while its queue runs: the target sees it at once and its
 * cancel runs once queue returned. A request whose queue then fails waits
 * for its canceller, never finishes and cannot be held again.
 */
static void cancel_while_queued_test(struct kunit *test)
{
	struct kt_target *kt = kt_register(test, "kt_a", &kt_early_ops,
					   &kt_limits);
	struct pinmdl_binding *b = kt_open(test, "kt_a");
	struct pinmdl_io_segment seg;
	struct pinmdl_request req;
	struct kt_early e;
	struct kt_wait w;

	kt_early_start(test, kt, &e);
	kt_req_init(&req, &seg, &w, b, KT_NODATA, NULL, 0, 0);
	KUNIT_ASSERT_EQ(test, pinmdl_submit(&req), 0);
	KUNIT_EXPECT_EQ(test, e.ret, 0);
	KUNIT_EXPECT_TRUE(test, e.seen);
	KUNIT_EXPECT_EQ(test, atomic_read(&kt->cancels), 1);
	KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&w.done, 5 * HZ),
			0);
	KUNIT_EXPECT_EQ(test, req.status, -ECANCELED);
	KUNIT_EXPECT_EQ(test, atomic_read(&w.calls), 1);

	kt->refusal = -EIO;
	kt_early_start(test, kt, &e);
	kt_req_init(&req, &seg, &w, b, KT_NODATA, NULL, 0, 0);
	KUNIT_EXPECT_EQ(test, pinmdl_submit(&req), -EIO);
	KUNIT_EXPECT_EQ(test, e.ret, 0);
	KUNIT_EXPECT_TRUE(test, e.seen);
	KUNIT_EXPECT_EQ(test, atomic_read(&e.putting), 1);
	KUNIT_EXPECT_FALSE(test, pinmdl_request_tryget(&req));
	KUNIT_EXPECT_EQ(test, atomic_read(&kt->cancels), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&w.calls), 0);
	KUNIT_EXPECT_EQ(test, pinmdl_target_close(b), 0);
}

/**
 * struct kt_mirror_ctx - a mirror's part of a request
 * @parent: the request sent to the mirror
 * @child: the request to each target below
 * @segs: each child's segments, partial descriptors of the parent's
 * @sent: each child was submitted
 * @pending: children not done yet
 * @status: the first error of a child, or 0
 * @work: frees the partial descriptors and completes @parent
 */
struct kt_mirror_ctx {
	struct pinmdl_request *parent;
	struct pinmdl_request child[2];
	struct pinmdl_io_segment segs[2][4];
	bool sent[2];
	atomic_t pending;
	atomic_t status;
	struct work_struct work;
};

/* The mirror's private data: the two targets it writes to. */
struct kt_mirror {
	struct pinmdl_binding *down[2];
};

static void kt_mirror_free_segs(struct kt_mirror_ctx *ctx)
{
	unsigned int i, j;

	for (i = 0; i < 2; i++)
		for (j = 0; j < ctx->parent->nr_segments; j++)
			if (!IS_ERR_OR_NULL(ctx->segs[i][j].mdl))
				pinmdl_free(ctx->segs[i][j].mdl);
}

static void kt_mirror_work_fn(struct work_struct *work)
{
	struct kt_mirror_ctx *ctx =
		container_of(work, struct kt_mirror_ctx, work);

	kt_mirror_free_segs(ctx);
	pinmdl_complete(ctx->parent, atomic_read(&ctx->status),
			ctx->parent->total);
}

/* A child ended with @status: the last one completes the parent. */
static void kt_mirror_child_end(struct kt_mirror_ctx *ctx, int status)
{
	if (status)
		atomic_cmpxchg(&ctx->status, 0, status);
	if (!atomic_dec_return(&ctx->pending))
		schedule_work(&ctx->work);
}

/* A child's done, in the child's completion context (IoCompletion). */
static void kt_mirror_child_done(struct pinmdl_request *child)
{
	kt_mirror_child_end(child->private, child->status);
}

/* Build child @i: a partial descriptor of each segment of the parent. */
static int kt_mirror_build(struct kt_mirror_ctx *ctx, struct kt_mirror *m,
			   unsigned int i)
{
	struct pinmdl_request *parent = ctx->parent, *child = &ctx->child[i];
	struct pinmdl_io_segment *seg;
	unsigned int j;

	u64 va;

	for (j = 0; j < parent->nr_segments; j++) {
		seg = &parent->segments[j];
		va = pinmdl_start_va(seg->mdl) + pinmdl_byte_offset(seg->mdl) +
		     seg->offset;
		ctx->segs[i][j].mdl = pinmdl_build_partial(seg->mdl, va,
							   seg->length,
							   GFP_KERNEL);
		if (IS_ERR(ctx->segs[i][j].mdl))
			return PTR_ERR(ctx->segs[i][j].mdl);
		ctx->segs[i][j].length = seg->length;
	}
	child->binding = m->down[i];
	child->op = parent->op;
	child->dev_offset = parent->dev_offset;
	child->segments = ctx->segs[i];
	child->nr_segments = parent->nr_segments;
	child->done = kt_mirror_child_done;
	child->private = ctx;
	return 0;
}

static int kt_mirror_queue(struct pinmdl_request *req)
{
	struct kt_mirror *m = pinmdl_target_private(pinmdl_request_target(req));
	struct kt_mirror_ctx *ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	unsigned int i;
	int ret;

	if (!ctx)
		return -ENOMEM;
	ctx->parent = req;
	INIT_WORK(&ctx->work, kt_mirror_work_fn);
	req->target_data = ctx;
	for (i = 0; i < 2; i++) {
		ret = kt_mirror_build(ctx, m, i);
		if (ret)
			goto err_free;
	}
	/* Once the first child is sent, the children complete the parent. */
	atomic_set(&ctx->pending, 2);
	for (i = 0; i < 2; i++) {
		ret = pinmdl_submit(&ctx->child[i]);
		if (ret && !i)
			goto err_free;
		ctx->sent[i] = !ret;
		if (ret)
			kt_mirror_child_end(ctx, ret);
	}
	return 0;

err_free:
	kt_mirror_free_segs(ctx);
	kfree(ctx);
	return ret;
}

/* Cancel each child still in flight: the parent's done waits for us. */
static void kt_mirror_cancel(struct pinmdl_request *req)
{
	struct kt_mirror_ctx *ctx = req->target_data;

	unsigned int i;

	for (i = 0; i < 2; i++)
		if (ctx->sent[i])
			pinmdl_cancel(&ctx->child[i]);
}

static const struct pinmdl_target_ops kt_mirror_ops = {
	.owner = THIS_MODULE,
	.check = kt_check,
	.queue = kt_mirror_queue,
	.cancel = kt_mirror_cancel,
	.release = kt_release,
};

static void kt_mirror_close(void *data)
{
	struct kt_mirror *m = data;

	pinmdl_target_close(m->down[0]);
	pinmdl_target_close(m->down[1]);
}

/* Mirror, writing to kt_m0 and kt_m1, which complete from hard IRQs. */
static void mirror_test(struct kunit *test)
{
	struct kt_target *m0 = kt_register(test, "kt_m0", &kt_ops, &kt_limits);
	struct kt_target *m1 = kt_register(test, "kt_m1", &kt_ops, &kt_limits);
	struct kt_mirror *m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);
	struct pinmdl_io_segment segs[2];
	struct pinmdl_target *mirror;
	struct pinmdl_binding *b;
	struct pinmdl_request req;
	struct pinmdl *mdl;
	struct kt_wait w;
	void *buf;
	int round;

	KUNIT_ASSERT_NOT_NULL(test, m);
	buf = kunit_kzalloc(test, 3 * PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	mdl = pinmdl_build_for_kernel_buffer(buf, 3 * PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, mdl);
	m->down[0] = kt_open(test, "kt_m0");
	m->down[1] = kt_open(test, "kt_m1");
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, kt_mirror_close,
							m), 0);
	mirror = pinmdl_target_register("kt_mirror", &kt_mirror_ops,
					&kt_limits, m);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, mirror);
	b = kt_open(test, "kt_mirror");
	m0->mode = KT_HARDIRQ;
	m1->mode = KT_HARDIRQ;

	/* Both succeed; one fails; both fail: one done, the error once. */
	for (round = 0; round < 3; round++) {
		m0->status = round == 2 ? -EIO : 0;
		m1->status = round ? -EIO : 0;
		kt_req_init(&req, segs, &w, b, KT_WRITE, mdl, 5, PAGE_SIZE);
		segs[1] = (struct pinmdl_io_segment){
			.mdl = mdl, .offset = 2 * PAGE_SIZE, .length = 100,
		};
		req.nr_segments = 2;
		KUNIT_ASSERT_EQ(test, pinmdl_submit(&req), 0);
		KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&w.done, HZ),
				0);
		KUNIT_EXPECT_EQ(test, atomic_read(&w.calls), 1);
		KUNIT_EXPECT_EQ(test, req.status, round ? -EIO : 0);
		KUNIT_EXPECT_EQ(test, req.total, PAGE_SIZE + 100);
	}
	KUNIT_EXPECT_EQ(test, atomic_read(&m0->queued), 3);
	KUNIT_EXPECT_EQ(test, atomic_read(&m1->queued), 3);

	/* Cancelling the parent cancels the children it sent. */
	m0->mode = KT_HOLD;
	m1->mode = KT_HOLD;
	kt_req_init(&req, segs, &w, b, KT_READ, mdl, 0, PAGE_SIZE);
	KUNIT_ASSERT_EQ(test, pinmdl_submit(&req), 0);
	KUNIT_EXPECT_EQ(test, pinmdl_cancel(&req), 0);
	KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&w.done, HZ), 0);
	KUNIT_EXPECT_EQ(test, req.status, -ECANCELED);
	KUNIT_EXPECT_EQ(test, atomic_read(&m0->cancels), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&m1->cancels), 1);

	KUNIT_EXPECT_EQ(test, pinmdl_target_close(b), 0);
	pinmdl_target_unregister(mirror);
	/* Every partial descriptor is gone: the parent can go. */
	KUNIT_EXPECT_EQ(test, pinmdl_free(mdl), 0);
}

/* Complete @kt's held request after 100 ms, from a thread. */
static int kt_late_fn(void *data)
{
	struct kt_target *kt = data;

	msleep(100);
	kt_finish(kt->held, 0);
	return 0;
}

/* Unregistering cancels or waits; the other targets keep serving. */
static void unregister_test(struct kunit *test)
{
	struct kt_target *a = kt_register(test, "kt_a", &kt_ops, &kt_limits);
	struct kt_target *c = kt_register(test, "kt_c", &kt_ops_nocancel,
					  &kt_limits);
	struct kt_target *other = kt_register(test, "kt_b", &kt_ops,
					      &kt_limits);
	struct pinmdl_binding *ba = kt_open(test, "kt_a");
	struct pinmdl_binding *bb = kt_open(test, "kt_b");
	struct pinmdl_binding *bc = kt_open(test, "kt_c");
	struct pinmdl_request *req = kunit_kcalloc(test, 4, sizeof(*req),
						   GFP_KERNEL);
	struct pinmdl_io_segment seg[4];
	struct task_struct *late;
	struct kt_wait w[4];
	int i;

	KUNIT_ASSERT_NOT_NULL(test, req);
	other->mode = KT_AT_ONCE;
	for (i = 0; i < 3; i++) {
		kt_req_init(&req[i], &seg[i], &w[i], ba, KT_NODATA, NULL, 0,
			    0);
		KUNIT_ASSERT_EQ(test, pinmdl_submit(&req[i]), 0);
	}
	pinmdl_target_unregister(a->target);
	a->target = NULL;
	for (i = 0; i < 3; i++) {
		KUNIT_EXPECT_EQ(test, atomic_read(&w[i].calls), 1);
		KUNIT_EXPECT_EQ(test, req[i].status, -ECANCELED);
	}
	kt_req_init(&req[0], &seg[0], &w[0], ba, KT_NODATA, NULL, 0, 0);
	KUNIT_EXPECT_EQ(test, pinmdl_submit(&req[0]), -ENODEV);
	KUNIT_EXPECT_EQ(test, PTR_ERR(pinmdl_target_open("kt_a", NULL)),
			-ENODEV);
	KUNIT_EXPECT_EQ(test, pinmdl_target_close(ba), 0);

	kt_req_init(&req[1], &seg[1], &w[1], bb, KT_NODATA, NULL, 0, 0);
	KUNIT_EXPECT_EQ(test, pinmdl_submit(&req[1]), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&w[1].calls), 1);
	KUNIT_EXPECT_EQ(test, req[1].status, 0);

	/* Without a cancel operation, unregistering waits for the request. */
	kt_req_init(&req[3], &seg[3], &w[3], bc, KT_NODATA, NULL, 0, 0);
	KUNIT_ASSERT_EQ(test, pinmdl_submit(&req[3]), 0);
	late = kthread_run(kt_late_fn, c, "kt_late");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, late);
	pinmdl_target_unregister(c->target);
	c->target = NULL;
	KUNIT_EXPECT_EQ(test, atomic_read(&w[3].calls), 1);
	KUNIT_EXPECT_EQ(test, req[3].status, 0);
	KUNIT_EXPECT_EQ(test, pinmdl_target_close(bc), 0);
	KUNIT_EXPECT_EQ(test, pinmdl_target_close(bb), 0);
}

/*
 * A driver still in its init, which may yet fail and free its module
 * whatever holds it: its targets are found, but do not open.
 */
static void open_coming_test(struct kunit *test)
{
	struct pinmdl_binding *b;

	kt_register(test, "kt_a", &kt_ops, &kt_limits);
	WRITE_ONCE(THIS_MODULE->state, MODULE_STATE_COMING);
	b = pinmdl_target_open("kt_a", NULL);
	WRITE_ONCE(THIS_MODULE->state, MODULE_STATE_LIVE);
	if (!IS_ERR(b))
		pinmdl_target_close(b);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(b), -ENODEV);
	KUNIT_EXPECT_EQ(test, pinmdl_target_close(kt_open(test, "kt_a")), 0);
}

/**
 * struct kt_slow - a done that stays until the test lets it return
 * @entered: signalled once it runs
 * @go: it returns once this is signalled (or after ten seconds)
 * @unregistered: signalled once kt_unregister_fn()'s unregistering ended
 * @target: what kt_unregister_fn() unregisters
 */
struct kt_slow {
	struct completion entered;
	struct completion go;
	struct completion unregistered;
	struct pinmdl_target *target;
};

/* Sleeps: only for a request the test completes from a thread. */
static void kt_slow_done(struct pinmdl_request *req)
{
	struct kt_slow *slow = req->private;

	complete(&slow->entered);
	wait_for_completion_timeout(&slow->go, 10 * HZ);
}

static int kt_unregister_fn(void *data)
{
	struct kt_slow *slow = data;

	pinmdl_target_unregister(slow->target);
	complete(&slow->unregistered);
	return 0;
}

/*
 * Unregistering, as the driver's module exit does, waits until the
 * context that completed a request has left pinmdl_complete(): it still
 * runs the request's done there, under the target's code, even once the
 * binding is closed.
 */
static void unregister_waits_completer_test(struct kunit *test)
{
	struct kt_target *kt = kt_register(test, "kt_a", &kt_ops, &kt_limits);
	struct pinmdl_binding *b = kt_open(test, "kt_a");
	struct pinmdl_io_segment seg;
	struct pinmdl_request req;
	struct task_struct *task;
	struct kt_slow slow;
	struct kt_wait w;

	kt->mode = KT_HOLD;
	kt_req_init(&req, &seg, &w, b, KT_NODATA, NULL, 0, 0);
	init_completion(&slow.entered);
	init_completion(&slow.go);
	init_completion(&slow.unregistered);
	slow.target = kt->target;
	req.done = kt_slow_done;
	req.private = &slow;
	KUNIT_ASSERT_EQ(test, pinmdl_submit(&req), 0);
	task = kthread_run(kt_late_fn, kt, "kt_late");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, task);
	KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&slow.entered,
							  10 * HZ), 0);
	/* The request is done: its binding closes. */
	KUNIT_EXPECT_EQ(test, pinmdl_target_close(b), 0);

	task = kthread_run(kt_unregister_fn, &slow, "kt_unregister");
	if (IS_ERR(task)) {
		complete(&slow.go);
		KUNIT_FAIL(test, "kthread_run: %ld", PTR_ERR(task));
		return;
	}
	kt->target = NULL;
	KUNIT_EXPECT_EQ(test, wait_for_completion_timeout(&slow.unregistered,
							  HZ / 5), 0);
	complete(&slow.go);
	KUNIT_EXPECT_NE(test, wait_for_completion_timeout(&slow.unregistered,
							  10 * HZ), 0);
}

/* The expected physical address of byte @p of @buf. */
static phys_addr_t kt_phys(const char *buf, size_t p)
{
	const char *va = buf + p;

	if (is_vmalloc_addr(va))
		return page_to_phys(vmalloc_to_page(va)) + offset_in_page(va);
	return virt_to_phys((void *)va);
}

KUNIT_DEFINE_ACTION_WRAPPER(kt_vfree, vfree, const void *);

/* A device whose DMA segments are at most 2 pages, within 2-page windows. */
static struct device *kt_dma_device(struct kunit *test)
{
	struct device *dev = kunit_device_register(test, "pinmdl-kunit-dma");

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dev);
	dev->dma_parms = kunit_kzalloc(test, sizeof(*dev->dma_parms),
				       GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, dev->dma_parms);
	KUNIT_ASSERT_EQ(test, dma_coerce_mask_and_coherent(dev,
							   DMA_BIT_MASK(64)),
			0);
	dma_set_max_seg_size(dev, 2 * PAGE_SIZE);
	dma_set_seg_boundary(dev, 2 * PAGE_SIZE - 1);
	return dev;
}

static void kt_free_pages(void *data)
{
	free_pages((unsigned long)data, 2);
}

/*
 * Four physically contiguous pages, from their second page on: the
 * mapping and the request's table split them at the device's boundary
 * (DMA debugging would splat at a mapping that crosses it).
 */
static void dma_boundary_test(struct kunit *test)
{
	struct pinmdl_target_limits limits = kt_limits;
	unsigned long buf = __get_free_pages(GFP_KERNEL | __GFP_ZERO, 2);
	struct pinmdl_io_segment seg;
	struct pinmdl_request req;
	struct pinmdl_binding *b;
	struct scatterlist *sg;
	struct kt_target *kt;
	struct sg_table *sgt;
	struct pinmdl *mdl;
	struct kt_wait w;
	unsigned int i;
	u64 total = 0;

	KUNIT_ASSERT_NE(test, buf, 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, kt_free_pages,
							(void *)buf), 0);
	limits.dma_dev = kt_dma_device(test);
	kt = kt_register(test, "kt_dma", &kt_ops, &limits);
	b = kt_open(test, "kt_dma");
	mdl = pinmdl_build_for_kernel_buffer((void *)(buf + PAGE_SIZE + 8),
					     3 * PAGE_SIZE - 8, GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, mdl);
	kt_req_init(&req, &seg, &w, b, KT_READ, mdl, 0, 3 * PAGE_SIZE - 8);
	KUNIT_ASSERT_EQ(test, pinmdl_submit(&req), 0);
	sgt = pinmdl_request_dma_map(&req, 0, 3 * PAGE_SIZE - 8);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	/* [8, 4096) of page 1, then pages 2-3: two entries. */
	KUNIT_EXPECT_EQ(test, sgt->nents, 2);
	for_each_sgtable_dma_sg(sgt, sg, i) {
		KUNIT_EXPECT_EQ(test, sg_dma_address(sg) | (2 * PAGE_SIZE - 1),
				(sg_dma_address(sg) + sg_dma_len(sg) - 1) |
				(2 * PAGE_SIZE - 1));
		total += sg_dma_len(sg);
	}
	KUNIT_EXPECT_EQ(test, total, 3 * PAGE_SIZE - 8);
	pinmdl_request_dma_unmap(&req, sgt);
	kt_finish(kt->held, 0);
	KUNIT_EXPECT_EQ(test, pinmdl_free(mdl), 0);
	KUNIT_EXPECT_EQ(test, pinmdl_target_close(b), 0);
}

/*
 * The bio_vecs, DMA table and kernel mapping of a two-segment request. Its
 * bytes go through an array of two bio_vecs, at most 6 KiB and whole
 * 8-byte units at a time: the first bio_vec of each segment is short of a
 * page, so that a part ends inside one.
 */
static void views_test(struct kunit *test)
{
	struct pinmdl_target_limits limits = kt_limits;
	struct pinmdl_request_pos at, start = {};
	struct pinmdl_io_segment segs[2];
	size_t lens[2] = { 3 * PAGE_SIZE, PAGE_SIZE + 16 };
	size_t offs[2] = { 100, 5 };
	char *bufs[2], *flat, *va;
	long maps = pinmdl_stats_dma_maps();
	struct pinmdl_request req;
	struct pinmdl_binding *b;
	struct scatterlist *sg;
	struct pinmdl *mdl[2];
	struct sg_table *sgt;
	struct iov_iter iter;
	struct bio_vec *bvec, two[2];
	struct device *dev;
	size_t pos, k, total = lens[0] + lens[1];
	struct kt_target *kt;
	unsigned int i, j, nr;
	u64 got;
	struct kt_wait w;
	phys_addr_t phys;
	dma_addr_t dma;
	int round;

	dev = kt_dma_device(test);
	limits.dma_dev = dev;
	kt = kt_register(test, "kt_dma", &kt_ops, &limits);
	b = kt_open(test, "kt_dma");

	bufs[0] = vmalloc(5 * PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, bufs[0]);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, kt_vfree,
							bufs[0]), 0);
	bufs[1] = kunit_kmalloc(test, 2 * PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, bufs[1]);
	flat = kunit_kmalloc(test, total, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, flat);
	for (i = 0; i < 2; i++) {
		for (k = 0; k < (i ? 2 : 5) * PAGE_SIZE; k++)
			bufs[i][k] = (char)(k * 7 + i);
		mdl[i] = pinmdl_build_for_kernel_buffer(bufs[i],
							(i ? 2 : 5) * PAGE_SIZE,
							GFP_KERNEL);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, mdl[i]);
	}

	for (round = 0; round < 2; round++) {
		kt_req_init(&req, segs, &w, b, KT_READ, mdl[0], offs[0],
			    lens[0]);
		segs[1] = (struct pinmdl_io_segment){
			.mdl = mdl[1], .offset = offs[1], .length = lens[1],
		};
		req.nr_segments = 2;
		KUNIT_ASSERT_EQ(test, pinmdl_submit(&req), 0);

		nr = UINT_MAX;
		KUNIT_EXPECT_EQ(test, pinmdl_request_bvecs(&req, &start, SZ_1G,
							   1, NULL, &nr),
				total);
		KUNIT_EXPECT_LE(test, nr, 6);
		at = start;
		for (pos = 0; pos < total; pos += got) {
			nr = ARRAY_SIZE(two);
			got = pinmdl_request_bvecs(&req, &at, 6 * SZ_1K, 8, two,
						   &nr);
			KUNIT_ASSERT_NE(test, got, 0);
			KUNIT_EXPECT_EQ(test, got % 8, 0);
			KUNIT_EXPECT_LE(test, got, 6 * SZ_1K);
			KUNIT_EXPECT_EQ(test, two[0].bv_len +
					(nr > 1 ? two[1].bv_len : 0), got);
			iov_iter_bvec(&iter, ITER_SOURCE, two, nr, got);
			KUNIT_EXPECT_EQ(test, copy_from_iter(flat + pos, got,
							     &iter), got);
		}
		KUNIT_EXPECT_EQ(test, pos, total);
		nr = ARRAY_SIZE(two);
		KUNIT_EXPECT_EQ(test, pinmdl_request_bvecs(&req, &at, SZ_1G, 8,
							   two, &nr), 0);
		KUNIT_EXPECT_EQ(test, memcmp(flat, bufs[0] + offs[0], lens[0]),
				0);
		KUNIT_EXPECT_EQ(test, memcmp(flat + lens[0], bufs[1] + offs[1],
					     lens[1]), 0);

		/* Past the end, or empty: nothing. */
		KUNIT_EXPECT_EQ(test, PTR_ERR(pinmdl_request_dma_map(&req, 1,
								     total)),
				-EINVAL);
		KUNIT_EXPECT_EQ(test, PTR_ERR(pinmdl_request_dma_map(&req, 0,
								     0)),
				-EINVAL);
		sgt = pinmdl_request_dma_map(&req, 0, total);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
		/* Mapped once per descriptor and device, then cached. */
		KUNIT_EXPECT_EQ(test, pinmdl_stats_dma_maps(),
				maps + 2);
		pos = 0;
		for_each_sgtable_dma_sg(sgt, sg, j) {
			KUNIT_EXPECT_LE(test, sg_dma_len(sg), 2 * PAGE_SIZE);
			/* No entry crosses the device's segment boundary. */
			KUNIT_EXPECT_EQ(test, sg_dma_address(sg) |
					(2 * PAGE_SIZE - 1),
					(sg_dma_address(sg) + sg_dma_len(sg) - 1) |
					(2 * PAGE_SIZE - 1));
			for (k = 0; k < sg_dma_len(sg); k++, pos++) {
				i = pos >= lens[0];
				phys = kt_phys(bufs[i], offs[i] + pos - i * lens[0]);
				/* Each entry's start and each page in it. */
				if (k && offset_in_page(phys))
					continue;
				dma = sg_dma_address(sg) + k;
				KUNIT_EXPECT_EQ(test, dma_to_phys(dev, dma), phys);
			}
		}
		KUNIT_EXPECT_EQ(test, pos, total);
		pinmdl_request_dma_unmap(&req, sgt);
		/* Across the segments' seam: a piece of each. */
		sgt = pinmdl_request_dma_map(&req, lens[0] - 10, 20);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
		KUNIT_EXPECT_EQ(test, sg_dma_len(sgt->sgl), 10);
		KUNIT_EXPECT_EQ(test, dma_to_phys(dev, sg_dma_address(sgt->sgl)),
				kt_phys(bufs[0], offs[0] + lens[0] - 10));
		KUNIT_EXPECT_EQ(test, pinmdl_stats_dma_maps(), maps + 2);
		/* Left mapped: unmapped when the request finishes. */
		kt_finish(kt->held, 0);
		KUNIT_EXPECT_EQ(test, atomic_read(&w.calls), 1);
	}

	/* A part's own iterator and kernel mapping. */
	KUNIT_ASSERT_EQ(test, pinmdl_iter(mdl[0], 4096 + 1, 8000, ITER_DEST,
					  &iter, &bvec), 0);
	KUNIT_EXPECT_EQ(test, iov_iter_count(&iter), 8000);
	memset(flat, 0x5a, 8000);
	KUNIT_EXPECT_EQ(test, copy_to_iter(flat, 8000, &iter), 8000);
	kvfree(bvec);
	va = pinmdl_map_range(mdl[0], 4096 - 3, 8010);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, va);
	KUNIT_EXPECT_EQ(test, va[0], bufs[0][4096 - 3]);
	KUNIT_EXPECT_NULL(test, memchr_inv(va + 4, 0x5a, 8000));
	pinmdl_unmap_range(va);
	KUNIT_EXPECT_EQ(test, PTR_ERR(pinmdl_map_range(mdl[0], 0,
						       6 * PAGE_SIZE)),
			-EINVAL);

	KUNIT_EXPECT_EQ(test, pinmdl_free(mdl[0]), 0);
	KUNIT_EXPECT_EQ(test, pinmdl_free(mdl[1]), 0);
	KUNIT_EXPECT_EQ(test, pinmdl_stats_dma_maps(), maps);
	KUNIT_EXPECT_EQ(test, pinmdl_target_close(b), 0);
}

/*
 * Nine descriptors of one page, each sent a request the device writes:
 * each keeps its mapping for the device's writes, where the kernel can be
 * told it is coherent (DMA-API debugging warns past seven overlapping
 * mappings the device writes, unless they are), and its own mapping for
 * the device's reads beside it.
 */
static void dma_overlap_test(struct kunit *test)
{
	struct pinmdl_target_limits limits = kt_limits;
	long maps = pinmdl_stats_dma_maps(), kept;
	char *buf = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	struct pinmdl_io_segment seg;
	struct pinmdl_request req;
	struct pinmdl_binding *b;
	struct pinmdl *mdl[9];
	struct sg_table *sgt;
	struct kt_target *kt;
	struct kt_wait w;
	unsigned int i;
	int op;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	limits.dma_dev = kt_dma_device(test);
	kt = kt_register(test, "kt_dma", &kt_ops, &limits);
	b = kt_open(test, "kt_dma");
	for (i = 0; i < ARRAY_SIZE(mdl); i++) {
		mdl[i] = pinmdl_build_for_kernel_buffer(buf, PAGE_SIZE,
							GFP_KERNEL);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, mdl[i]);
	}
	for (op = KT_WRITE; op <= KT_READ; op++) {
		for (i = 0; i < ARRAY_SIZE(mdl); i++) {
			kt_req_init(&req, &seg, &w, b, op, mdl[i], 0,
				    PAGE_SIZE);
			KUNIT_ASSERT_EQ(test, pinmdl_submit(&req), 0);
			sgt = pinmdl_request_dma_map(&req, 0, PAGE_SIZE);
			KUNIT_EXPECT_NOT_ERR_OR_NULL(test, sgt);
			if (!IS_ERR(sgt))
				pinmdl_request_dma_unmap(&req, sgt);
			kt_finish(kt->held, 0);
		}
	}
	kept = pinmdl_compat_dma_keeps(DMA_FROM_DEVICE) ? 18 : 9;
	KUNIT_EXPECT_EQ(test, pinmdl_stats_dma_maps(), maps + kept);
	for (i = 0; i < ARRAY_SIZE(mdl); i++)
		KUNIT_EXPECT_EQ(test, pinmdl_free(mdl[i]), 0);
	KUNIT_EXPECT_EQ(test, pinmdl_stats_dma_maps(), maps);
	KUNIT_EXPECT_EQ(test, pinmdl_target_close(b), 0);
}

/*
 * SUBMIT_BUFFERED to a "pinmdl_lower" of the test's own that writes
 * nothing: the bounce buffer it sees holds zeros, never kernel memory.
 */
static void buffered_fill_zeroed_test(struct kunit *test)
{
	unsigned long addr = kunit_vm_mmap(test, NULL, 0, 4 * PAGE_SIZE,
					   PROT_READ | PROT_WRITE,
					   MAP_ANONYMOUS | MAP_PRIVATE, 0);
	size_t len = 2 * PAGE_SIZE + 3;
	struct pinmdl_submit_buffered arg = {
		.addr = addr + PAGE_SIZE, .length = len,
		.op = PINMDL_LOWER_FILL, .arg = 0x5a,
	};
	void __user *ubuf = (void __user *)(addr + PAGE_SIZE);
	void __user *uarg = (void __user *)addr;
	struct pinmdl_target *target;
	struct pinmdl_file *pf;
	struct kt_target *kt;
	char *data;

	KUNIT_ASSERT_NE(test, addr, 0);
	target = pinmdl_target_register("pinmdl_lower", &kt_ops, &kt_limits,
					NULL);
	if (IS_ERR(target))
		kunit_skip(test, "pinmdl_lower is registered");
	pinmdl_target_unregister(target);
	kt = kt_register(test, "pinmdl_lower", &kt_ops, &kt_limits);
	kt->mode = KT_AT_ONCE;
	data = kunit_kmalloc(test, len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, data);
	memset(data, 0xaa, len);
	KUNIT_ASSERT_EQ(test, copy_to_user(ubuf, data, len), 0);
	KUNIT_ASSERT_EQ(test, copy_to_user(uarg, &arg, sizeof(arg)), 0);
	pf = pinmdl_file_open(false);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pf);

	KUNIT_EXPECT_EQ(test, pinmdl_ioctl(pf, PINMDL_IOC_SUBMIT_BUFFERED,
					   uarg), 0);
	pinmdl_file_release(pf);
	KUNIT_EXPECT_EQ(test, atomic_read(&kt->queued), 1);
	KUNIT_EXPECT_FALSE(test, kt->saw_data);
	KUNIT_ASSERT_EQ(test, copy_from_user(data, ubuf, len), 0);
	KUNIT_EXPECT_NULL(test, memchr_inv(data, 0, len));
}

static struct kunit_case request_test_cases[] = {
	KUNIT_CASE(target_register_test),
	KUNIT_CASE(request_lifecycle_test),
	KUNIT_CASE(request_checks_test),
	KUNIT_CASE(complete_hardirq_test),
	KUNIT_CASE(complete_softirq_test),
	KUNIT_CASE(cancel_test),
	KUNIT_CASE(cancel_race_test),
	KUNIT_CASE(cancel_while_queued_test),
	KUNIT_CASE(mirror_test),
	KUNIT_CASE(unregister_test),
	KUNIT_CASE(open_coming_test),
	KUNIT_CASE(unregister_waits_completer_test),
	KUNIT_CASE(views_test),
	KUNIT_CASE(dma_boundary_test),
	KUNIT_CASE(dma_overlap_test),
	KUNIT_CASE(buffered_fill_zeroed_test),
	{}
};

static struct kunit_suite request_test_suite = {
	.name = "pinmdl_request",
	.test_cases = request_test_cases,
};

kunit_test_suite(request_test_suite);
