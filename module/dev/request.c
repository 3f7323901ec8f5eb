// SPDX-License-Identifier: GPL-2.0
/*
 * Requests of an open /dev/pinmdl: their start, the wait of a synchronous
 * one, the completions of asynchronous ones (read(2) and poll(2)), CANCEL,
 * and cancelling and waiting for them all when the file is closed.
 *
 * A request's completion may come from any context, hard IRQ included:
 * everything here that it touches is under the IRQ-safe @pf->lock, but
 * for the phase a request leaves PINMDL_FR_STARTING by, which it and the
 * submitter take with cmpxchg.
 */
#include <linux/fs.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "dev/file.h"
#include "dev/request.h"
#include "dev/uring_compat.h"
#include "request/request.h"

/* struct pinmdl_file_request.phase */
enum {
	PINMDL_FR_STARTING,	/* being queued: on @pf->requests */
	PINMDL_FR_IN_FLIGHT,	/* queued: on @pf->requests */
	PINMDL_FR_DONE,		/* completed */
};

static void pinmdl_file_request_done(struct pinmdl_request *req);

/* Wake the file's waiters, if there are any. */
static void pinmdl_file_wake(struct pinmdl_file *pf)
{
	lockdep_assert_held(&pf->lock);

	/*
	 * Each waiter is queued before it looks at what it waits for, and
	 * looks under @pf->lock, which the caller holds: one not seen here
	 * sees the change.
	 */
	if (waitqueue_active(&pf->wait))
		wake_up_all(&pf->wait);
}

/**
 * pinmdl_file_request_alloc() - allocate a request of a file
 * @pf: the file
 * @async: its completion is read(2) later, or posted as an io_uring
 *	   command's CQE
 * @nr_segments: segments to allocate
 *
 * Context: process context.
 * Return: the request, or NULL.
 */
struct pinmdl_file_request *
pinmdl_file_request_alloc(struct pinmdl_file *pf, bool async,
			  unsigned int nr_segments)
{
	struct pinmdl_file_request *fr;

	fr = kzalloc(sizeof(*fr), GFP_KERNEL_ACCOUNT);
	if (!fr)
		return NULL;
	fr->req.segments = fr->inline_segs;
	if (nr_segments > ARRAY_SIZE(fr->inline_segs)) {
		fr->req.segments = kvcalloc(nr_segments,
					    sizeof(*fr->req.segments),
					    GFP_KERNEL_ACCOUNT);
		if (!fr->req.segments) {
			kfree(fr);
			return NULL;
		}
	}
	fr->req.nr_segments = nr_segments;
	fr->req.done = pinmdl_file_request_done;
	fr->pf = pf;
	fr->async = async;
	if (async && current->mm) {
		mmgrab(current->mm);
		fr->mm = current->mm;
	}
	INIT_LIST_HEAD(&fr->node);
	init_completion(&fr->completed);
	return fr;
}

/**
 * pinmdl_file_request_free() - free a request that is not in flight
 * @fr: request
 *
 * Drops the descriptor references it holds and closes its own binding
 * (a synchronous request's, or one that never started).
 *
 * Context: process context.
 */
void pinmdl_file_request_free(struct pinmdl_file_request *fr)
{
	while (fr->refs)
		pinmdl_put(fr->req.segments[--fr->refs].mdl);
	if (fr->req.segments != fr->inline_segs)
		kvfree(fr->req.segments);
	if (fr->binding)
		WARN_ON_ONCE(pinmdl_target_close(fr->binding));
	if (fr->mm)
		mmdrop(fr->mm);
	kfree(fr);
}

/*
 * Hand a completed request to its reader or its waiter; true for an IO
 * command, whose CQE the caller posts once it has dropped @pf->lock.
 */
static bool pinmdl_file_request_deliver(struct pinmdl_file_request *fr)
{
	struct pinmdl_file *pf = fr->pf;

	lockdep_assert_held(&pf->lock);

	WRITE_ONCE(fr->phase, PINMDL_FR_DONE);
	if (fr->ucmd)
		return true;
	if (fr->async)
		list_add_tail(&fr->node, &pf->completions);
	else
		complete(&fr->completed);
	pinmdl_file_wake(pf);
	return false;
}

/*
 * The core's done: any context. A request still being queued is left to
 * its submitter, which delivers it once pinmdl_request_start() returned:
 * the phase moves from PINMDL_FR_STARTING once, by whichever of the two
 * comes first.
 */
static void pinmdl_file_request_end(struct pinmdl_file_request *fr)
{
	struct pinmdl_file *pf = fr->pf;
	unsigned long flags;
	bool post = false;

	spin_lock_irqsave(&pf->lock, flags);
	pf->in_flight--;
	list_del_init(&fr->node);
	if (cmpxchg(&fr->phase, PINMDL_FR_STARTING, PINMDL_FR_DONE) ==
	    PINMDL_FR_STARTING)
		pinmdl_file_wake(pf);
	else
		post = pinmdl_file_request_deliver(fr);
	spin_unlock_irqrestore(&pf->lock, flags);
	if (post)
		pinmdl_uring_complete_in_task(fr->ucmd);
}

static void pinmdl_file_request_close_fn(struct work_struct *work)
{
	struct pinmdl_file_request *fr =
		container_of(work, struct pinmdl_file_request, close_work);

	WARN_ON_ONCE(pinmdl_target_close(fr->binding));
	fr->binding = NULL;
	pinmdl_file_request_end(fr);
}

/* The core's done: any context. */
static void pinmdl_file_request_done(struct pinmdl_request *req)
{
	struct pinmdl_file_request *fr =
		container_of(req, struct pinmdl_file_request, req);

	/*
	 * An asynchronous SUBMIT's own binding is closed before its
	 * completion can be read, so that nothing holds the target's module
	 * once every completion is read; closing may sleep: from pinmdl_wq.
	 */
	if (fr->binding && fr->async) {
		INIT_WORK(&fr->close_work, pinmdl_file_request_close_fn);
		queue_work(pinmdl_wq, &fr->close_work);
		return;
	}
	pinmdl_file_request_end(fr);
}

/*
 * Drop the completions whose submitter's address space is gone: nobody can
 * read them any more, and they would count against the file's bound.
 */
static void pinmdl_file_reap_orphans(struct pinmdl_file *pf)
{
	struct pinmdl_file_request *fr, *next;
	LIST_HEAD(orphans);

	spin_lock_irq(&pf->lock);
	list_for_each_entry_safe(fr, next, &pf->completions, node) {
		if (!fr->mm || atomic_read(&fr->mm->mm_users))
			continue;
		list_move(&fr->node, &orphans);
		pf->unread--;
	}
	spin_unlock_irq(&pf->lock);
	list_for_each_entry_safe(fr, next, &orphans, node)
		pinmdl_file_request_free(fr);
}

/*
 * List @fr among @pf's requests, being queued, with an id and, if it is
 * asynchronous, a place among the unread completions; or -EAGAIN.
 */
static int pinmdl_file_request_list(struct pinmdl_file_request *fr)
{
	struct pinmdl_file *pf = fr->pf;
	int ret = 0;

	if (fr->async && READ_ONCE(pf->unread) >= PINMDL_MAX_UNREAD)
		pinmdl_file_reap_orphans(pf);
	spin_lock_irq(&pf->lock);
	if (fr->async && pf->unread >= PINMDL_MAX_UNREAD) {
		ret = -EAGAIN;
	} else {
		pf->unread += fr->async;
		fr->id = pf->next_id++;
		fr->phase = PINMDL_FR_STARTING;
		pf->in_flight++;
		list_add_tail(&fr->node, &pf->requests);
	}
	spin_unlock_irq(&pf->lock);
	return ret;
}

/**
 * pinmdl_file_request_start() - start a request whose segments are held
 * @fr: request past pinmdl_request_hold() on every segment
 * @uid: where its id goes out to user space before it is queued, or NULL
 *
 * The request as a whole is checked first (pinmdl_request_admit()); then
 * an asynchronous request takes a place among the file's unread
 * completions (-EAGAIN when they are all taken). It is listed before its
 * id goes out, so that CANCEL finds it while its target's queue runs,
 * which is most of the work of some targets. On failure it is listed no
 * more, nobody cancels it any more, and the caller still holds the
 * segments. The request of an io_uring command is marked cancelable once
 * it has started, if its target can cancel, before its CQE can be
 * posted: its CQE is posted here if it completed already and the ring's
 * lock is held, else from task work.
 *
 * Context: process context.
 * Return: 0, or the errors of pinmdl_request_admit(), -EAGAIN, -EFAULT or
 * the errors of pinmdl_request_start().
 */
int pinmdl_file_request_start(struct pinmdl_file_request *fr,
			      u64 __user *uid)
{
	struct pinmdl_file *pf = fr->pf;
	bool post = false;
	int ret;

	ret = pinmdl_request_admit(&fr->req);
	if (ret)
		return ret;
	pinmdl_request_prepare(&fr->req);
	reinit_completion(&fr->completed);
	ret = pinmdl_file_request_list(fr);
	if (ret)
		return ret;

	if (uid && put_user(fr->id, uid)) {
		pinmdl_request_discard(&fr->req);
		ret = -EFAULT;
	} else {
		ret = pinmdl_request_start(&fr->req);
	}
	/* Still being queued: whatever the target did, nothing is posted. */
	if (!ret && fr->ucmd && fr->req.binding->target->ops->cancel)
		pinmdl_uring_mark_cancelable(fr->ucmd, fr->issue_flags);

	/* In flight: its end delivers it. */
	if (!ret && cmpxchg(&fr->phase, PINMDL_FR_STARTING,
			    PINMDL_FR_IN_FLIGHT) == PINMDL_FR_STARTING)
		return 0;
	spin_lock_irq(&pf->lock);
	if (ret) {
		list_del_init(&fr->node);
		pf->in_flight--;
		pf->unread -= fr->async;
		pinmdl_file_wake(pf);
	} else {
		post = pinmdl_file_request_deliver(fr);
	}
	spin_unlock_irq(&pf->lock);
	if (!post)
		return ret;
	/*
	 * Done already: its CQE is posted here, as the command is issued,
	 * if the ring's lock is held, which keeps io_uring from cancelling
	 * it once freed and before the CQE takes it off the cancelable
	 * list; else from task work, which holds it.
	 */
	if (fr->issue_flags & IO_URING_F_UNLOCKED)
		pinmdl_uring_complete_in_task(fr->ucmd);
	else
		pinmdl_uring_io_posted(fr->ucmd, fr->issue_flags);
	return ret;
}

/**
 * pinmdl_file_request_posted() - an IO command's CQE is being posted
 * @fr: its request, done
 *
 * Gives back its place among the file's asynchronous requests.
 *
 * Context: the submitter's task work, or issuing the command (process
 * context).
 */
void pinmdl_file_request_posted(struct pinmdl_file_request *fr)
{
	struct pinmdl_file *pf = fr->pf;

	spin_lock_irq(&pf->lock);
	pf->unread--;
	spin_unlock_irq(&pf->lock);
}

/**
 * pinmdl_file_request_wait() - wait for a synchronous request
 * @fr: request started
 *
 * Killed meanwhile, the submitter cancels the request and waits for it.
 *
 * Context: process context.
 * Return: the request's status, or -EINTR if killed.
 */
int pinmdl_file_request_wait(struct pinmdl_file_request *fr)
{
	if (!wait_for_completion_killable(&fr->completed))
		return fr->req.status;
	pinmdl_cancel(&fr->req);
	wait_for_completion(&fr->completed);
	return -EINTR;
}

/*
 * Which requests in flight a walk of a file's requests looks for: those
 * @match accepts (@seen once there was one), but for those with a state
 * bit of @skip.
 */
struct pinmdl_file_walk {
	bool (*match)(const struct pinmdl_file_request *fr,
		      const struct pinmdl_file_walk *walk);
	u64 key;
	struct mm_struct *mm;
	unsigned int skip;
	bool seen;
};

/*
 * The first request in flight of @pf that @walk looks for, kept from
 * finishing, or NULL.
 */
static struct pinmdl_file_request *
pinmdl_file_request_first(struct pinmdl_file *pf, struct pinmdl_file_walk *walk)
{
	struct pinmdl_file_request *fr, *found = NULL;

	spin_lock_irq(&pf->lock);
	list_for_each_entry(fr, &pf->requests, node) {
		if (!walk->match(fr, walk))
			continue;
		walk->seen = true;
		if (READ_ONCE(fr->req.state) & walk->skip)
			continue;
		if (pinmdl_request_tryget(&fr->req)) {
			found = fr;
			break;
		}
	}
	spin_unlock_irq(&pf->lock);
	return found;
}

/* Any request. */
static bool pinmdl_file_match_any(const struct pinmdl_file_request *fr,
				  const struct pinmdl_file_walk *walk)
{
	return true;
}

/* The asynchronous request (not an IO command) of id @key and @mm. */
static bool pinmdl_file_match_id(const struct pinmdl_file_request *fr,
				 const struct pinmdl_file_walk *walk)
{
	return fr->id == walk->key && fr->async && !fr->ucmd &&
	       fr->mm == walk->mm;
}

/* An IO command of SQE user_data @key and @mm, not completed. */
static bool pinmdl_file_match_user_data(const struct pinmdl_file_request *fr,
					const struct pinmdl_file_walk *walk)
{
	return fr->ucmd && fr->user_data == walk->key && fr->mm == walk->mm &&
	       !(READ_ONCE(fr->req.state) & PINMDL_REQ_COMPLETED);
}

/*
 * Ask the target of each request of @pf that @walk looks for to stop it;
 * whether there was any.
 */
static bool pinmdl_file_cancel_each(struct pinmdl_file *pf,
				    struct pinmdl_file_walk *walk)
{
	struct pinmdl_file_request *fr;

	while ((fr = pinmdl_file_request_first(pf, walk))) {
		pinmdl_cancel(&fr->req);
		pinmdl_request_put(&fr->req);
	}
	return walk->seen;
}

/**
 * pinmdl_cmd_cancel() - PINMDL_IOC_CANCEL, as an ioctl or a command
 * @pf: open file
 * @arg: the request's id, or with PINMDL_CANCEL_USER_DATA the SQE
 *	 user_data of IO commands
 *
 * Context: process context.
 * Return: 0 once the target was asked to stop the request (each command of
 * that user_data); -EINVAL for unknown flags or non-zero reserved; -ENOENT
 * if no asynchronous request (IO command) of the caller's address space
 * with that id (user_data) is in flight in the file.
 */
int pinmdl_cmd_cancel(struct pinmdl_file *pf, const struct pinmdl_cancel *arg)
{
	struct pinmdl_file_walk walk = {
		.match = pinmdl_file_match_id,
		.key = arg->request_id,
		.mm = current->mm,
	};
	struct pinmdl_file_request *fr;
	int ret;

	if (arg->flags & ~PINMDL_CANCEL_USER_DATA || arg->reserved)
		return -EINVAL;
	/* Every IO command of that name that nobody asked to stop yet. */
	if (arg->flags & PINMDL_CANCEL_USER_DATA) {
		walk.match = pinmdl_file_match_user_data;
		walk.skip = PINMDL_REQ_CANCEL_WANTED;
		return pinmdl_file_cancel_each(pf, &walk) ? 0 : -ENOENT;
	}
	if (!arg->request_id)
		return -ENOENT;
	fr = pinmdl_file_request_first(pf, &walk);
	if (!fr)
		return -ENOENT;
	ret = pinmdl_cancel(&fr->req);
	pinmdl_request_put(&fr->req);
	return ret;
}

/**
 * pinmdl_ioctl_cancel() - PINMDL_IOC_CANCEL
 * @pf: open file
 * @uarg: struct pinmdl_cancel
 *
 * Context: process context.
 * Return: as pinmdl_cmd_cancel(), or -EFAULT.
 */
int pinmdl_ioctl_cancel(struct pinmdl_file *pf, void __user *uarg)
{
	struct pinmdl_cancel arg;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	return pinmdl_cmd_cancel(pf, &arg);
}

/**
 * pinmdl_file_request_cancel_one() - ask the target to stop one request
 * @fr: request of an IO command that io_uring cancels (its ring's
 *	teardown, an exec), started; its CQE's task work may be pending
 *
 * io_uring asks again until the command is done: once asked, the target
 * is not asked again.
 *
 * Context: process context.
 */
void pinmdl_file_request_cancel_one(struct pinmdl_file_request *fr)
{
	struct pinmdl_file *pf = fr->pf;
	bool held;

	spin_lock_irq(&pf->lock);
	held = READ_ONCE(fr->phase) != PINMDL_FR_DONE &&
	       !(READ_ONCE(fr->req.state) & PINMDL_REQ_CANCEL_WANTED) &&
	       pinmdl_request_tryget(&fr->req);
	spin_unlock_irq(&pf->lock);
	if (!held)
		return;
	pinmdl_cancel(&fr->req);
	pinmdl_request_put(&fr->req);
}

/*
 * The oldest completion of the caller's address space: completions belong
 * to the address space that submitted, and another one sharing the file
 * never sees or takes them.
 */
static struct pinmdl_file_request *
pinmdl_first_own_completion(struct pinmdl_file *pf)
{
	struct pinmdl_file_request *fr;

	lockdep_assert_held(&pf->lock);

	list_for_each_entry(fr, &pf->completions, node)
		if (fr->mm == current->mm)
			return fr;
	return NULL;
}

static bool pinmdl_has_own_completion(struct pinmdl_file *pf)
{
	bool found;

	spin_lock_irq(&pf->lock);
	found = pinmdl_first_own_completion(pf);
	spin_unlock_irq(&pf->lock);
	return found;
}

/**
 * pinmdl_read_completion() - read(2): one completion of an async request
 *			      of the caller's address space
 * @pf: open file
 * @buf: user buffer
 * @count: its size, at least one struct pinmdl_completion
 * @nonblock: O_NONBLOCK
 *
 * Context: process context.
 * Return: the size of one completion, -EINVAL for a short buffer, -EAGAIN
 * (nonblocking, none ready), -ERESTARTSYS, or -EFAULT.
 */
ssize_t pinmdl_read_completion(struct pinmdl_file *pf, char __user *buf,
			       size_t count, bool nonblock)
{
	struct pinmdl_completion c = {};
	struct pinmdl_file_request *fr;
	int ret;

	if (count < sizeof(c))
		return -EINVAL;
	for (;;) {
		spin_lock_irq(&pf->lock);
		fr = pinmdl_first_own_completion(pf);
		if (fr)
			list_del(&fr->node);
		spin_unlock_irq(&pf->lock);
		if (fr)
			break;
		pinmdl_file_reap_orphans(pf);
		if (nonblock)
			return -EAGAIN;
		ret = wait_event_interruptible(pf->wait,
					       pinmdl_has_own_completion(pf));
		if (ret)
			return ret;
	}

	c.request_id = fr->id;
	c.status = fr->req.status;
	c.result = fr->req.result;
	if (copy_to_user(buf, &c, sizeof(c))) {
		spin_lock_irq(&pf->lock);
		list_add(&fr->node, &pf->completions);
		spin_unlock_irq(&pf->lock);
		return -EFAULT;
	}
	spin_lock_irq(&pf->lock);
	pf->unread--;
	spin_unlock_irq(&pf->lock);
	pinmdl_file_request_free(fr);
	return sizeof(c);
}

/**
 * pinmdl_poll_completions() - poll(2): readable when a completion is ready
 * @pf: open file
 * @file: the file
 * @wait: poll table
 *
 * Return: EPOLLIN | EPOLLRDNORM when a completion of the caller's address
 * space can be read.
 */
__poll_t pinmdl_poll_completions(struct pinmdl_file *pf, struct file *file,
				 poll_table *wait)
{
	poll_wait(file, &pf->wait, wait);
	return pinmdl_has_own_completion(pf) ? EPOLLIN | EPOLLRDNORM : 0;
}

static bool pinmdl_file_idle(struct pinmdl_file *pf)
{
	bool idle;

	spin_lock_irq(&pf->lock);
	idle = !pf->in_flight;
	spin_unlock_irq(&pf->lock);
	return idle;
}

/**
 * pinmdl_file_drain_requests() - cancel and wait for a closing file's
 *				  requests
 * @pf: open file being released
 *
 * Asks the target of every request in flight to stop it, waits until none
 * is in flight, then drops the unread completions.
 *
 * Context: process context, from the file's release; sleeps.
 */
void pinmdl_file_drain_requests(struct pinmdl_file *pf)
{
	struct pinmdl_file_walk walk = {
		.match = pinmdl_file_match_any,
		.skip = PINMDL_REQ_CANCEL_WANTED | PINMDL_REQ_COMPLETED,
	};
	struct pinmdl_file_request *fr, *next;

	pinmdl_file_cancel_each(pf, &walk);
	wait_event(pf->wait, pinmdl_file_idle(pf));
	list_for_each_entry_safe(fr, next, &pf->completions, node)
		pinmdl_file_request_free(fr);
	INIT_LIST_HEAD(&pf->completions);
}
