// SPDX-License-Identifier: GPL-2.0
/*
 * PINMDL_IOC_IO: a request with a chain of segments to an open target,
 * checked in the order of the errno table: the struct, the target, the op
 * on that target, each segment first to last, the request as a whole, and
 * last whether the target is still there.
 */
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "dev/file.h"
#include "dev/io.h"
#include "dev/request.h"
#include "dev/target.h"
#include "dev/uring.h"
#include "dev/uring_compat.h"
#include "request/request.h"

/*
 * Find segment @i's descriptor by @handle and hold it: -ENOENT for an
 * unknown handle, -EPERM for a descriptor of another address space, or
 * the errors of pinmdl_request_hold().
 */
static int pinmdl_file_hold_segment(struct pinmdl_file_request *fr,
				    unsigned int i, u32 handle)
{
	struct pinmdl *mdl = pinmdl_file_get(fr->pf, handle);
	int ret;

	if (IS_ERR(mdl))
		return PTR_ERR(mdl);
	fr->req.segments[i].mdl = mdl;
	fr->refs++;
	ret = pinmdl_file_owns(mdl);
	if (ret)
		return ret;
	return pinmdl_request_hold(&fr->req, i);
}

/* Segments copied onto the stack rather than into an allocation */
#define PINMDL_IO_STACK_SEGMENTS	PINMDL_FILE_INLINE_SEGMENTS

/*
 * Copy in the segment array of @arg, if it can be as long as it says: into
 * @stack when it fits, else into memory to kvfree() unless it is @stack.
 */
static struct pinmdl_segment *pinmdl_io_segments(const struct pinmdl_io *arg,
						 struct pinmdl_segment *stack)
{
	void __user *from = u64_to_user_ptr(arg->segments);
	size_t size;

	if (!arg->nr_segments || arg->nr_segments > PINMDL_MAX_SEGMENTS)
		return NULL;
	size = array_size(arg->nr_segments, sizeof(struct pinmdl_segment));
	if (arg->nr_segments > PINMDL_IO_STACK_SEGMENTS)
		return vmemdup_user(from, size);
	return copy_from_user(stack, from, size) ? ERR_PTR(-EFAULT) : stack;
}

static void pinmdl_io_segments_free(struct pinmdl_segment *useg,
				    struct pinmdl_segment *stack)
{
	if (useg != stack)
		kvfree(useg);
}

/* Steps 3 to 6 of the errno table, then start: the segments are held. */
static int pinmdl_io_start(struct pinmdl_file_request *fr,
			   const struct pinmdl_segment *useg,
			   u64 __user *uid)
{
	struct pinmdl_request *req = &fr->req;
	unsigned int i;
	int ret;

	for (i = 0; useg && i < req->nr_segments; i++) {
		req->segments[i].offset = useg[i].offset;
		req->segments[i].length = useg[i].length;
	}
	ret = pinmdl_request_check(req);
	if (ret)
		return ret;
	for (i = 0; i < req->nr_segments; i++) {
		ret = -EINVAL;
		if (useg[i].reserved)
			break;
		ret = pinmdl_file_hold_segment(fr, i, useg[i].handle);
		if (ret)
			break;
	}
	if (!ret)
		ret = pinmdl_file_request_start(fr, uid);
	if (ret)
		pinmdl_request_unhold(req, i);
	return ret;
}

/**
 * pinmdl_cmd_io() - PINMDL_IOC_IO, as an ioctl or a command
 * @pf: open file
 * @arg: the request, copied in
 * @user: the ioctl's struct, for request_id and result, or NULL
 * @ucmd: the io_uring command that carries the request, or NULL: it is
 *	  asynchronous, and its completion is that command's CQE
 * @issue_flags: @ucmd's issue flags
 *
 * Context: process context.
 * Return: 0 or a negative errno; a synchronous request returns its status.
 */
int pinmdl_cmd_io(struct pinmdl_file *pf, const struct pinmdl_io *arg,
		  struct pinmdl_io __user *user, struct io_uring_cmd *ucmd,
		  unsigned int issue_flags)
{
	struct pinmdl_segment stack[PINMDL_IO_STACK_SEGMENTS];
	struct pinmdl_file_request *fr;
	struct pinmdl_file_target *ft;
	struct pinmdl_segment *useg;
	bool async;
	int ret;

	/* A command is asynchronous by nature: it says nothing more. */
	if (arg->flags & ~(ucmd ? 0 : PINMDL_SUBMIT_ASYNC))
		return -EINVAL;
	async = ucmd || arg->flags & PINMDL_SUBMIT_ASYNC;
	useg = pinmdl_io_segments(arg, stack);
	if (IS_ERR(useg))
		return PTR_ERR(useg);

	ret = -ENOENT;
	ft = pinmdl_file_target_get(pf, arg->target);
	if (!ft)
		goto out_free_segments;
	ret = -ENOMEM;
	fr = pinmdl_file_request_alloc(pf, async, useg ? arg->nr_segments : 0);
	if (!fr)
		goto out_put_target;
	fr->req.binding = ft->binding;
	fr->req.op = arg->op;
	fr->req.dev_offset = arg->dev_offset;
	fr->req.arg = arg->arg;
	fr->req.from_user = true;
	fr->req.nowait = ucmd && issue_flags & IO_URING_F_NONBLOCK;
	fr->req.nr_segments = arg->nr_segments;
	if (ucmd)
		pinmdl_uring_io_prepare(fr, ucmd, issue_flags);

	ret = pinmdl_io_start(fr, useg, user ? &user->request_id : NULL);
	pinmdl_file_target_put(ft);
	pinmdl_io_segments_free(useg, stack);
	if (ret)
		goto out_free_request;
	if (async)
		return 0;
	ret = pinmdl_file_request_wait(fr);
	if (!ret && put_user(fr->req.result, &user->result))
		ret = -EFAULT;
out_free_request:
	pinmdl_file_request_free(fr);
	return ret;

out_put_target:
	pinmdl_file_target_put(ft);
out_free_segments:
	pinmdl_io_segments_free(useg, stack);
	return ret;
}

/**
 * pinmdl_ioctl_io() - PINMDL_IOC_IO
 * @pf: open file
 * @uarg: struct pinmdl_io
 *
 * Context: process context.
 * Return: as pinmdl_cmd_io(), or -EFAULT.
 */
int pinmdl_ioctl_io(struct pinmdl_file *pf, void __user *uarg)
{
	struct pinmdl_io arg;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	return pinmdl_cmd_io(pf, &arg, uarg, NULL, 0);
}
