// SPDX-License-Identifier: GPL-2.0
/*
 * SUBMIT and SUBMIT_BUFFERED, the requests of /dev/pinmdl from before
 * targets: each is a request to target "pinmdl_lower" through a binding of
 * its own, one segment (two for COPY, the source second). SUBMIT_BUFFERED
 * copies the user range through a kernel buffer instead of pinning it
 * (METHOD_BUFFERED).
 */
#include <linux/fs.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "core/desc.h"
#include "dev/file.h"
#include "dev/io.h"
#include "dev/request.h"
#include "request/request.h"

/* The target SUBMIT and SUBMIT_BUFFERED send their requests to. */
#define PINMDL_LOWER_NAME	"pinmdl_lower"

/*
 * Without pinmdl_lower, SUBMIT still checks its descriptors' state against
 * this binding, which takes any alignment, so that the state errnos come
 * before -ENODEV.
 */
static struct pinmdl_binding pinmdl_no_lower = {
	.limits = { .block_size = 1, .max_segments = 2 },
};

/* Direction of the data of segment @i for a pinmdl_lower op. */
static enum dma_data_direction pinmdl_lower_dir(u32 op, unsigned int i)
{
	return op == PINMDL_LOWER_CHECKSUM || i ? DMA_TO_DEVICE :
						  DMA_FROM_DEVICE;
}

/*
 * Find a SUBMIT's descriptors (COPY's source second): unknown handles
 * first, then ownership, as the errno table orders them.
 */
static int pinmdl_submit_lookup(struct pinmdl_file_request *fr,
				const struct pinmdl_submit *arg)
{
	u32 handles[2] = { arg->handle, arg->arg };
	struct pinmdl_request *req = &fr->req;
	struct pinmdl *mdl;
	unsigned int i;
	int ret;

	for (i = 0; i < req->nr_segments; i++) {
		mdl = pinmdl_file_get(fr->pf, handles[i]);
		if (IS_ERR(mdl))
			return PTR_ERR(mdl);
		req->segments[i].mdl = mdl;
		req->segments[i].offset = arg->offset;
		req->segments[i].length = arg->length;
		req->segments[i].dir = pinmdl_lower_dir(arg->op, i);
		fr->refs++;
	}
	for (i = req->nr_segments; i--; ) {
		ret = pinmdl_file_owns(req->segments[i].mdl);
		if (ret)
			return ret;
	}
	return 0;
}

/* Hold every segment of @fr, then check and start it. */
static int pinmdl_submit_start(struct pinmdl_file_request *fr,
			       struct pinmdl_binding *b, u64 __user *uid)
{
	struct pinmdl_request *req = &fr->req;
	unsigned int i;
	int ret = 0;

	req->binding = IS_ERR(b) ? &pinmdl_no_lower : b;
	for (i = 0; i < req->nr_segments; i++) {
		ret = pinmdl_request_hold(req, i);
		if (ret)
			goto out_unhold;
	}
	if (IS_ERR(b)) {
		ret = PTR_ERR(b);
		goto out_unhold;
	}
	ret = pinmdl_request_check(req);
	if (!ret)
		ret = pinmdl_file_request_start(fr, uid);
out_unhold:
	if (ret)
		pinmdl_request_unhold(req, i);
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
	struct pinmdl_binding *b;
	bool async, copy;
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	copy = arg.op == PINMDL_LOWER_COPY;
	if ((arg.flags & ~PINMDL_SUBMIT_ASYNC) || arg.reserved ||
	    arg.op < PINMDL_LOWER_FILL || arg.op > PINMDL_LOWER_COPY ||
	    !arg.length || (copy && arg.arg > U32_MAX))
		return -EINVAL;
	async = arg.flags & PINMDL_SUBMIT_ASYNC;

	fr = pinmdl_file_request_alloc(pf, async, copy ? 2 : 1);
	if (!fr)
		return -ENOMEM;
	fr->req.op = arg.op;
	/* A CHECKSUM of the ioctl always starts afresh. */
	fr->req.arg = arg.op == PINMDL_LOWER_FILL ? arg.arg : 0;
	fr->req.from_user = true;
	ret = pinmdl_submit_lookup(fr, &arg);
	if (ret)
		goto out_free;

	b = pinmdl_target_open(PINMDL_LOWER_NAME, NULL);
	/* The request closes it once done, so that it does not pin the module. */
	if (!IS_ERR(b))
		fr->binding = b;
	ret = pinmdl_submit_start(fr, b, async ? &user->request_id : NULL);
	if (ret || async)
		goto out_done;
	ret = pinmdl_file_request_wait(fr);
	if (!ret && put_user(fr->req.result, &user->result))
		ret = -EFAULT;
out_free:
	pinmdl_file_request_free(fr);
	return ret;

out_done:
	if (ret)
		pinmdl_file_request_free(fr);
	return ret;
}

/*
 * Run one request of SUBMIT_BUFFERED on the first @length bytes of its
 * bounce buffer and wait for it.
 */
static int pinmdl_buffered_chunk(struct pinmdl_file_request *fr,
				 struct pinmdl_binding *b, u64 length, u64 arg)
{
	int ret;

	fr->req.segments[0].length = length;
	fr->req.arg = arg;
	ret = pinmdl_submit_start(fr, b, NULL);
	if (ret)
		return ret;
	return pinmdl_file_request_wait(fr);
}

/* Move SUBMIT_BUFFERED's data through the bounce buffer of @fr. */
static int pinmdl_buffered_run(struct pinmdl_file_request *fr,
			       struct pinmdl_binding *b, void *kbuf, u64 size,
			       struct pinmdl_submit_buffered *arg)
{
	void __user *ubuf = u64_to_user_ptr(arg->addr);
	u64 done, chunk, crc = ~0U;
	int ret;

	for (done = 0; done < arg->length; done += chunk) {
		chunk = min(arg->length - done, size);
		if (fatal_signal_pending(current))
			return -EINTR;
		if (arg->op == PINMDL_LOWER_CHECKSUM &&
		    copy_from_user(kbuf, ubuf + done, chunk))
			return -EFAULT;
		ret = pinmdl_buffered_chunk(fr, b, chunk,
					    arg->op == PINMDL_LOWER_FILL ?
					    arg->arg : (u32)~crc);
		if (ret)
			return ret;
		if (arg->op == PINMDL_LOWER_FILL &&
		    copy_to_user(ubuf + done, kbuf, chunk))
			return -EFAULT;
		crc = fr->req.result;
	}
	arg->result = arg->op == PINMDL_LOWER_CHECKSUM ? crc : 0;
	return 0;
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
	struct pinmdl_binding *b;
	struct pinmdl *mdl;
	void *kbuf;
	u64 size;
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.flags || !arg.length ||
	    (arg.op != PINMDL_LOWER_FILL && arg.op != PINMDL_LOWER_CHECKSUM))
		return -EINVAL;
	if (arg.length > READ_ONCE(pinmdl_max_descriptor_bytes))
		return -E2BIG;
	size = min_t(u64, arg.length, PINMDL_BOUNCE_MAX);

	b = pinmdl_target_open(PINMDL_LOWER_NAME, NULL);
	if (IS_ERR(b))
		return PTR_ERR(b);
	ret = -ENOMEM;
	fr = pinmdl_file_request_alloc(pf, false, 1);
	if (!fr)
		goto out_close;
	kbuf = kvzalloc(size, GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!kbuf)
		goto out_free_request;
	mdl = pinmdl_build_for_kernel_buffer(kbuf, size, GFP_KERNEL_ACCOUNT);
	if (IS_ERR(mdl)) {
		ret = PTR_ERR(mdl);
		goto out_free_buf;
	}
	fr->req.op = arg.op;
	fr->req.segments[0].mdl = mdl;
	fr->req.segments[0].dir = pinmdl_lower_dir(arg.op, 0);

	ret = pinmdl_buffered_run(fr, b, kbuf, size, &arg);
	if (!ret && put_user(arg.result, &user->result))
		ret = -EFAULT;
	WARN_ON_ONCE(pinmdl_free(mdl));
out_free_buf:
	kvfree(kbuf);
out_free_request:
	pinmdl_file_request_free(fr);
out_close:
	WARN_ON_ONCE(pinmdl_target_close(b));
	return ret;
}
