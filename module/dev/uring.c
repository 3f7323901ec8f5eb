// SPDX-License-Identifier: GPL-2.0
/*
 * The io_uring commands of /dev/pinmdl: CREATE, LOCK, UNLOCK, FREE, IO and
 * CANCEL as IORING_OP_URING_CMD, on a ring of 128-byte SQEs and 32-byte
 * CQEs. cmd_op is the ioctl's number and the SQE's command area holds the
 * ioctl's struct, copied once at issue; the command runs the ioctl's own
 * handler (module/dev/ioctl.c, io.c, request.c), so that every rule and
 * errno is the ioctl's. res is 0 or the negative errno, big_cqe[0] the
 * ioctl's 64-bit output (CREATE's handle, IO's result).
 *
 * An IO command is asynchronous: its request is started at issue and its
 * CQE posted once the request completed: at issue if it completed by
 * then, else from the submitter's task work, in whatever context the
 * target completed it. It counts among the file's
 * asynchronous requests until then. Where the kernel has cancelable
 * commands (6.7 and later), the ring's teardown and an exec cancel it
 * through its target, as CANCEL does.
 */
#include <linux/fs.h>
#include <linux/string.h>

#include "dev/file.h"
#include "dev/io.h"
#include "dev/ioctl.h"
#include "dev/request.h"
#include "dev/uring.h"
#include "dev/uring_compat.h"
#include "core/stats.h"
#include "request/request.h"

/*
 * What a command keeps in its struct io_uring_cmd: an IO command's request
 * once it is tied to it (and marked cancelable), else NULL.
 */
struct pinmdl_uring_pdu {
	struct pinmdl_file_request *fr;
};

static struct pinmdl_uring_pdu *pinmdl_uring_pdu(struct io_uring_cmd *ucmd)
{
	BUILD_BUG_ON(sizeof(struct pinmdl_uring_pdu) > sizeof(ucmd->pdu));
	return (struct pinmdl_uring_pdu *)ucmd->pdu;
}

/**
 * pinmdl_uring_io_prepare() - tie an IO command to its request
 * @fr: the request, not started yet
 * @ucmd: the command
 * @issue_flags: its issue flags
 *
 * pinmdl_file_request_start() marks the command cancelable once its
 * request has started: before, io_uring may not cancel it.
 *
 * Context: process context, issuing @ucmd.
 */
void pinmdl_uring_io_prepare(struct pinmdl_file_request *fr,
			     struct io_uring_cmd *ucmd,
			     unsigned int issue_flags)
{
	fr->ucmd = ucmd;
	fr->issue_flags = issue_flags;
	fr->user_data = pinmdl_uring_user_data(ucmd);
	pinmdl_uring_pdu(ucmd)->fr = fr;
}

/**
 * pinmdl_uring_io_posted() - post an IO command's CQE
 * @ucmd: the command, whose request completed
 * @issue_flags: the issue flags of its task work, or of its issue
 *
 * Context: the submitter's task work, or issuing @ucmd with the ring's
 * lock held (process context).
 */
void pinmdl_uring_io_posted(struct io_uring_cmd *ucmd,
			    unsigned int issue_flags)
{
	struct pinmdl_file_request *fr = pinmdl_uring_pdu(ucmd)->fr;
	int status = fr->req.status;
	u64 result = status ? 0 : fr->req.result;

	pinmdl_file_request_posted(fr);
	pinmdl_file_request_free(fr);
	/* Last: posting may drop the file, and with it this module. */
	pinmdl_uring_done(ucmd, status, result, issue_flags);
}

/*
 * Run the command @cmd_op on the ioctl's struct @sqe_arg; 0 or an errno,
 * with a 64-bit output in @res2. -EIOCBQUEUED: an IO command started,
 * whose CQE comes when its request completes.
 */
static int pinmdl_uring_run(struct pinmdl_file *pf, struct io_uring_cmd *ucmd,
			    const void *sqe_arg, unsigned int issue_flags,
			    u64 *res2)
{
	union {
		struct pinmdl_create create;
		struct pinmdl_lock lock;
		struct pinmdl_handle_arg handle;
		struct pinmdl_io io;
		struct pinmdl_cancel cancel;
	} arg;
	u32 handle;
	int ret;

	/* The SQE is shared with user space: one copy, then only that. */
	static_assert(sizeof(arg) <= PINMDL_URING_PAYLOAD);
	memcpy(&arg, sqe_arg, sizeof(arg));
	switch (ucmd->cmd_op) {
	case PINMDL_IOC_CREATE:
		ret = pinmdl_cmd_create(pf, &arg.create, NULL, &handle);
		if (!ret)
			*res2 = handle;
		return ret;
	case PINMDL_IOC_LOCK:
		return pinmdl_cmd_lock(pf, &arg.lock,
				       issue_flags & IO_URING_F_NONBLOCK);
	case PINMDL_IOC_UNLOCK:
		return pinmdl_cmd_handle(pf, &arg.handle, pinmdl_handle_unlock);
	case PINMDL_IOC_FREE:
		return pinmdl_cmd_handle(pf, &arg.handle, pinmdl_file_free);
	case PINMDL_IOC_IO:
		ret = pinmdl_cmd_io(pf, &arg.io, NULL, ucmd, issue_flags);
		return ret ?: -EIOCBQUEUED;
	case PINMDL_IOC_CANCEL:
		return pinmdl_cmd_cancel(pf, &arg.cancel);
	default:
		return -ENOTTY;
	}
}

/**
 * pinmdl_uring_cmd() - file_operations.uring_cmd of /dev/pinmdl
 * @ucmd: the command
 * @issue_flags: IO_URING_F_*
 *
 * A LOCK issued where it may not block (IO_URING_F_NONBLOCK) pins what is
 * mapped with no fault and no wait; if that is not the whole range, it is
 * handed back to io_uring (-EAGAIN, nothing changed), which issues it
 * again from a worker of the submitter's, where a fault may wait. An IO
 * issued so is a request that may not wait for the device (@nowait): one
 * its target refuses for that, or one the file has no room for, is
 * handed back the same way.
 * Failures are counted by errno as the ioctls' are.
 *
 * Context: process context: the submitter, an io_uring worker or SQPOLL
 * thread of its process; with IO_URING_F_CANCEL, io_uring cancelling an
 * IO command in flight.
 * Return: -EIOCBQUEUED, the CQE posted with pinmdl_uring_done() (res
 * -EINVAL on a ring without 128-byte SQEs and 32-byte CQEs, or for a
 * command with uring_cmd_flags), or -EAGAIN for a LOCK or an IO to be
 * issued again where it may wait; 0 for IO_URING_F_CANCEL.
 */
int pinmdl_uring_cmd(struct io_uring_cmd *ucmd, unsigned int issue_flags)
{
	struct pinmdl_file *pf = ucmd->file->private_data;
	u64 res2 = 0;
	int ret;

	if (issue_flags & PINMDL_URING_F_CANCEL) {
		pinmdl_file_request_cancel_one(pinmdl_uring_pdu(ucmd)->fr);
		return 0;
	}
	pinmdl_uring_pdu(ucmd)->fr = NULL;
	if (!pinmdl_uring_big_ring(ucmd) ||
	    ucmd->flags & PINMDL_URING_CMD_USER_FLAGS)
		ret = -EINVAL;
	else
		ret = pinmdl_uring_run(pf, ucmd, pinmdl_uring_payload(ucmd),
				       issue_flags, &res2);
	/* A LOCK or an IO that would wait: issued again where it may. */
	if (ret == -EIOCBQUEUED ||
	    (ret == -EAGAIN && issue_flags & IO_URING_F_NONBLOCK &&
	     (ucmd->cmd_op == PINMDL_IOC_LOCK ||
	      ucmd->cmd_op == PINMDL_IOC_IO)))
		return ret;
	if (ret < 0)
		pinmdl_stats_failure(ret);
	/* Every CQE has the big CQE's 64-bit output: 0 but for CREATE. */
	pinmdl_uring_done(ucmd, ret, res2, issue_flags);
	return -EIOCBQUEUED;
}
