// SPDX-License-Identifier: GPL-2.0
/*
 * Requests from /dev/pinmdl to the lower driver: SUBMIT on a descriptor of
 * the file (synchronous, or asynchronous with its completion read(2) from
 * the file), and SUBMIT_BUFFERED, which copies the user range through a
 * kernel buffer instead of pinning it (METHOD_BUFFERED).
 */
#include <linux/fs.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "core/desc.h"
#include "dev/file.h"
#include "dev/submit.h"

/**
 * struct pinmdl_file_request - a request of an open file
 * @req: the request handed to the core
 * @pf: the file
 * @mm: address space of an asynchronous submitter (mmgrab'd): only it may
 *	read the completion
 * @node: entry in @pf->completions once completed (asynchronous)
 * @completed: completion of a synchronous request
 * @id: request id returned to user space
 * @kbuf: kernel buffer of SUBMIT_BUFFERED, described by @req.mdl
 * @async: completion goes to @pf->completions
 * @abandoned: the synchronous submitter was killed; free on completion
 */
struct pinmdl_file_request {
	struct pinmdl_request req;
	struct pinmdl_file *pf;
	struct mm_struct *mm;
	struct list_head node;
	struct completion completed;
	u64 id;
	void *kbuf;
	bool async;
	bool abandoned;
};

static void pinmdl_file_request_free(struct pinmdl_file_request *fr)
{
	if (fr->kbuf) {
		pinmdl_free(fr->req.mdl);
		kvfree(fr->kbuf);
	}
	if (fr->mm)
		mmdrop(fr->mm);
	kfree(fr);
}

static void pinmdl_file_request_done(struct pinmdl_request *req)
{
	struct pinmdl_file_request *fr =
		container_of(req, struct pinmdl_file_request, req);
	struct pinmdl_file *pf = fr->pf;
	bool free_it = false;

	pinmdl_put(req->mdl);
	if (req->src)
		pinmdl_put(req->src);

	spin_lock(&pf->lock);
	if (fr->async)
		list_add_tail(&fr->node, &pf->completions);
	else if (fr->abandoned)
		free_it = true;
	else
		complete(&fr->completed);
	pf->in_flight--;
	wake_up_all(&pf->wait);
	spin_unlock(&pf->lock);
	if (free_it)
		pinmdl_file_request_free(fr);
}

/* Submit @fr; the file request owns the descriptor references. */
static int pinmdl_file_submit(struct pinmdl_file *pf,
			      struct pinmdl_file_request *fr)
{
	int ret;

	spin_lock(&pf->lock);
	pf->in_flight++;
	spin_unlock(&pf->lock);

	ret = pinmdl_submit(&fr->req);
	if (ret) {
		spin_lock(&pf->lock);
		pf->in_flight--;
		if (fr->async)
			pf->unread--;
		wake_up_all(&pf->wait);
		spin_unlock(&pf->lock);
	}
	return ret;
}

/*
 * Wait for a synchronous request. Killed meanwhile, the submitter leaves
 * the request to its completion, which frees it.
 */
static int pinmdl_file_wait(struct pinmdl_file *pf,
			    struct pinmdl_file_request *fr)
{
	if (!wait_for_completion_killable(&fr->completed))
		return 0;
	spin_lock(&pf->lock);
	if (!completion_done(&fr->completed)) {
		fr->abandoned = true;
		spin_unlock(&pf->lock);
		return -EINTR;
	}
	spin_unlock(&pf->lock);
	return 0;
}

static struct pinmdl_file_request *
pinmdl_file_request_alloc(struct pinmdl_file *pf, bool async)
{
	struct pinmdl_file_request *fr;

	fr = kzalloc(sizeof(*fr), GFP_KERNEL_ACCOUNT);
	if (!fr)
		return NULL;
	fr->pf = pf;
	fr->async = async;
	if (async && current->mm) {
		mmgrab(current->mm);
		fr->mm = current->mm;
	}
	fr->req.done = pinmdl_file_request_done;
	init_completion(&fr->completed);
	return fr;
}

/*
 * Drop the completions whose submitter's address space is gone: nobody can
 * read them any more, and they would count against the file's bound.
 */
static void pinmdl_file_reap_orphans(struct pinmdl_file *pf)
{
	struct pinmdl_file_request *fr, *next;
	LIST_HEAD(orphans);

	spin_lock(&pf->lock);
	list_for_each_entry_safe(fr, next, &pf->completions, node) {
		if (!fr->mm || atomic_read(&fr->mm->mm_users))
			continue;
		list_move(&fr->node, &orphans);
		pf->unread--;
	}
	spin_unlock(&pf->lock);
	list_for_each_entry_safe(fr, next, &orphans, node)
		pinmdl_file_request_free(fr);
}

/* Reserve a place for an unread completion, or -EAGAIN. */
static int pinmdl_file_reserve(struct pinmdl_file *pf, u64 *id)
{
	int ret = 0;

	if (READ_ONCE(pf->unread) >= PINMDL_MAX_UNREAD)
		pinmdl_file_reap_orphans(pf);
	spin_lock(&pf->lock);
	if (pf->unread >= PINMDL_MAX_UNREAD) {
		ret = -EAGAIN;
	} else {
		pf->unread++;
		*id = pf->next_id++;
	}
	spin_unlock(&pf->lock);
	return ret;
}

static void pinmdl_file_unreserve(struct pinmdl_file *pf)
{
	spin_lock(&pf->lock);
	pf->unread--;
	spin_unlock(&pf->lock);
}

/*
 * Find the target (and COPY's source) of a SUBMIT: unknown handles first,
 * then ownership, as the errno table orders them.
 */
static int pinmdl_submit_lookup(struct pinmdl_file *pf,
				struct pinmdl_submit *arg,
				struct pinmdl_request *req)
{
	struct pinmdl *mdl, *src = NULL;
	int ret;

	mdl = pinmdl_file_get(pf, arg->handle);
	if (IS_ERR(mdl))
		return PTR_ERR(mdl);
	if (arg->op == PINMDL_LOWER_COPY) {
		src = pinmdl_file_get(pf, arg->arg);
		if (IS_ERR(src)) {
			ret = PTR_ERR(src);
			goto err_put_mdl;
		}
		ret = pinmdl_file_owns(src);
		if (ret)
			goto err_put_src;
	}
	ret = pinmdl_file_owns(mdl);
	if (ret)
		goto err_put_src;

	req->mdl = mdl;
	req->src = src;
	req->op = arg->op;
	req->offset = arg->offset;
	req->length = arg->length;
	/* A CHECKSUM of the ioctl always starts afresh. */
	req->arg = arg->op == PINMDL_LOWER_CHECKSUM ? 0 : arg->arg;
	return 0;

err_put_src:
	if (src)
		pinmdl_put(src);
err_put_mdl:
	pinmdl_put(mdl);
	return ret;
}

/**
 * pinmdl_ioctl_submit() - PINMDL_IOC_SUBMIT
 * @pf: open file
 * @uarg: struct pinmdl_submit
 *
 * Context: process context.
 * Return: 0 or a negative errno; synchronous requests return their status.
 */
int pinmdl_ioctl_submit(struct pinmdl_file *pf, void __user *uarg)
{
	struct pinmdl_submit arg, __user *user = uarg;
	struct pinmdl_file_request *fr;
	bool async;
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if ((arg.flags & ~PINMDL_SUBMIT_ASYNC) || arg.reserved ||
	    arg.op < PINMDL_LOWER_FILL || arg.op > PINMDL_LOWER_COPY ||
	    !arg.length ||
	    (arg.op == PINMDL_LOWER_COPY && arg.arg > U32_MAX))
		return -EINVAL;
	async = arg.flags & PINMDL_SUBMIT_ASYNC;

	fr = pinmdl_file_request_alloc(pf, async);
	if (!fr)
		return -ENOMEM;
	ret = pinmdl_submit_lookup(pf, &arg, &fr->req);
	if (ret)
		goto err_free;

	if (async) {
		ret = pinmdl_file_reserve(pf, &fr->id);
		if (ret)
			goto err_put;
		/* The id goes out first: a submitted request always counts. */
		if (put_user(fr->id, &user->request_id)) {
			pinmdl_file_unreserve(pf);
			ret = -EFAULT;
			goto err_put;
		}
	}
	ret = pinmdl_file_submit(pf, fr);
	if (ret)
		goto err_put;
	if (async)
		return 0;

	ret = pinmdl_file_wait(pf, fr);
	if (ret)
		return ret;
	ret = fr->req.status;
	if (!ret && put_user(fr->req.result, &user->result))
		ret = -EFAULT;
	pinmdl_file_request_free(fr);
	return ret;

err_put:
	pinmdl_put(fr->req.mdl);
	if (fr->req.src)
		pinmdl_put(fr->req.src);
err_free:
	pinmdl_file_request_free(fr);
	return ret;
}

/*
 * Run one request of SUBMIT_BUFFERED on the first @length bytes of its
 * bounce buffer and wait for it. Killed meanwhile, it sets *@abandoned and
 * leaves @fr to its completion, which frees it: the caller must not touch
 * @fr again.
 */
static int pinmdl_buffered_chunk(struct pinmdl_file *pf,
				 struct pinmdl_file_request *fr, u64 length,
				 u64 arg, bool *abandoned)
{
	int ret;

	fr->req.offset = 0;
	fr->req.length = length;
	fr->req.arg = arg;
	reinit_completion(&fr->completed);
	/* The completion drops this reference, the free the creator's. */
	pinmdl_get(fr->req.mdl);
	ret = pinmdl_file_submit(pf, fr);
	if (ret) {
		pinmdl_put(fr->req.mdl);
		return ret;
	}
	ret = pinmdl_file_wait(pf, fr);
	if (ret) {
		*abandoned = true;
		return ret;
	}
	return fr->req.status;
}

/**
 * pinmdl_ioctl_submit_buffered() - PINMDL_IOC_SUBMIT_BUFFERED
 * @pf: open file
 * @uarg: struct pinmdl_submit_buffered
 *
 * The user range goes through a kernel bounce buffer of at most
 * PINMDL_BOUNCE_MAX bytes described by a kernel-source descriptor, a chunk
 * at a time: copied in and checksummed (each chunk's CHECKSUM going on
 * from the last one's result), or filled and copied back. The buffer
 * starts zeroed, so that a lower driver that leaves bytes unwritten never
 * shows kernel memory. No user page is pinned.
 *
 * Context: process context.
 * Return: 0, the status of the first failed request, -EINTR if killed, or
 * a negative errno.
 */
int pinmdl_ioctl_submit_buffered(struct pinmdl_file *pf, void __user *uarg)
{
	struct pinmdl_submit_buffered arg, __user *user = uarg;
	struct pinmdl_file_request *fr;
	u64 size, done, chunk, crc = ~0U;
	bool abandoned = false;
	void __user *ubuf;
	void *kbuf;
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.flags || !arg.length ||
	    (arg.op != PINMDL_LOWER_FILL && arg.op != PINMDL_LOWER_CHECKSUM))
		return -EINVAL;
	if (arg.length > READ_ONCE(pinmdl_max_descriptor_bytes))
		return -E2BIG;
	ubuf = u64_to_user_ptr(arg.addr);
	size = min_t(u64, arg.length, PINMDL_BOUNCE_MAX);

	fr = pinmdl_file_request_alloc(pf, false);
	if (!fr)
		return -ENOMEM;
	ret = -ENOMEM;
	kbuf = kvzalloc(size, GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!kbuf)
		goto out_free_request;
	fr->req.mdl = pinmdl_build_for_kernel_buffer(kbuf, size,
						     GFP_KERNEL_ACCOUNT);
	if (IS_ERR(fr->req.mdl)) {
		ret = PTR_ERR(fr->req.mdl);
		goto out_free_buf;
	}
	fr->kbuf = kbuf;
	fr->req.op = arg.op;

	for (done = 0; done < arg.length; done += chunk) {
		chunk = min(arg.length - done, size);
		ret = -EINTR;
		if (fatal_signal_pending(current))
			break;
		ret = -EFAULT;
		if (arg.op == PINMDL_LOWER_CHECKSUM &&
		    copy_from_user(kbuf, ubuf + done, chunk))
			break;
		ret = pinmdl_buffered_chunk(pf, fr, chunk,
					    arg.op == PINMDL_LOWER_FILL ?
					    arg.arg : (u32)~crc, &abandoned);
		if (abandoned)
			return ret; /* the completion frees the request */
		if (ret)
			break;
		ret = -EFAULT;
		if (arg.op == PINMDL_LOWER_FILL &&
		    copy_to_user(ubuf + done, kbuf, chunk))
			break;
		crc = fr->req.result;
		ret = 0;
	}
	if (!ret && put_user(arg.op == PINMDL_LOWER_CHECKSUM ? crc : 0,
			     &user->result))
		ret = -EFAULT;
	pinmdl_file_request_free(fr);
	return ret;

out_free_buf:
	kvfree(kbuf);
out_free_request:
	pinmdl_file_request_free(fr);
	return ret;
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

	spin_lock(&pf->lock);
	found = pinmdl_first_own_completion(pf);
	spin_unlock(&pf->lock);
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
		spin_lock(&pf->lock);
		fr = pinmdl_first_own_completion(pf);
		if (fr)
			list_del(&fr->node);
		spin_unlock(&pf->lock);
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
		spin_lock(&pf->lock);
		list_add(&fr->node, &pf->completions);
		spin_unlock(&pf->lock);
		return -EFAULT;
	}
	spin_lock(&pf->lock);
	pf->unread--;
	spin_unlock(&pf->lock);
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

	spin_lock(&pf->lock);
	idle = !pf->in_flight;
	spin_unlock(&pf->lock);
	return idle;
}

/**
 * pinmdl_file_drain_requests() - wait for a closing file's requests
 * @pf: open file being released
 *
 * Waits until no request of the file is in flight, then drops the unread
 * completions.
 *
 * Context: process context, from the file's release; sleeps.
 */
void pinmdl_file_drain_requests(struct pinmdl_file *pf)
{
	struct pinmdl_file_request *fr, *next;

	wait_event(pf->wait, pinmdl_file_idle(pf));
	list_for_each_entry_safe(fr, next, &pf->completions, node)
		pinmdl_file_request_free(fr);
	INIT_LIST_HEAD(&pf->completions);
}
