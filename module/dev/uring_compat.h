/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The uring_cmd interface as each supported kernel has it, told apart by
 * the Kbuild probes of module/probes/uring_cmd_*.c:
 *
 *  - the command's payload: 6.12 and later point at the SQE, 6.1 at its
 *    command area (uring_cmd_sqe);
 *  - posting a big CQE: io_uring_cmd_done32() on 7.3 (uring_cmd_done32),
 *    io_uring_cmd_done() with the issue flags on 6.12
 *    (uring_cmd_done_flags) and 6.1's stable updates
 *    (io_uring_h_cmd_done_flags); the first 6.1s, whose task work took
 *    the command alone, are not supported;
 *  - task work: called with a struct io_tw_req on 7.3 (uring_cmd_tw_req),
 *    with the command and its issue flags before;
 *  - cancelable commands, called again with IO_URING_F_CANCEL at the
 *    ring's teardown and at exec: 6.7 and later (uring_cmd_cancelable).
 */
#ifndef _PINMDL_DEV_URING_COMPAT_H
#define _PINMDL_DEV_URING_COMPAT_H

#ifdef PINMDL_HAVE_URING_CMD_SQE
#include <linux/io_uring/cmd.h>
#else
#include <linux/io_uring.h>
#endif
#include <linux/io_uring_types.h>

/* The uring_cmd_flags user space may set (none for pinmdl's commands). */
#ifdef IORING_URING_CMD_MASK
#define PINMDL_URING_CMD_USER_FLAGS	IORING_URING_CMD_MASK
#else
#define PINMDL_URING_CMD_USER_FLAGS	IORING_URING_CMD_FIXED
#endif

/* Bytes of the SQE's command area on a ring of 128-byte SQEs. */
#define PINMDL_URING_PAYLOAD	80

/*
 * Whether @cmd's ring has 128-byte SQEs and 32-byte CQEs throughout, not
 * 7.3's rings of mixed sizes.
 */
static inline bool pinmdl_uring_big_ring(struct io_uring_cmd *cmd)
{
	unsigned int big = IORING_SETUP_SQE128 | IORING_SETUP_CQE32;

	return (cmd_to_io_kiocb(cmd)->ctx->flags & big) == big;
}

/* The SQE's command area: PINMDL_URING_PAYLOAD bytes. */
static inline const void *pinmdl_uring_payload(const struct io_uring_cmd *cmd)
{
#ifdef PINMDL_HAVE_URING_CMD_SQE
	return cmd->sqe->cmd;
#else
	return cmd->cmd;
#endif
}

/* The user_data of the SQE that carried @cmd. */
static inline u64 pinmdl_uring_user_data(struct io_uring_cmd *cmd)
{
	return cmd_to_io_kiocb(cmd)->cqe.user_data;
}

/* Post @cmd's CQE: @ret in res, @res2 in big_cqe[0]. */
static inline void pinmdl_uring_done(struct io_uring_cmd *cmd, int ret,
				     u64 res2, unsigned int issue_flags)
{
#if defined(PINMDL_HAVE_URING_CMD_DONE32)
	io_uring_cmd_done32(cmd, ret, res2, issue_flags);
#elif defined(PINMDL_HAVE_URING_CMD_DONE_FLAGS) || \
	defined(PINMDL_HAVE_IO_URING_H_CMD_DONE_FLAGS)
	io_uring_cmd_done(cmd, ret, res2, issue_flags);
#else
#error "pinmdl: no io_uring_cmd_done() the probes know (module/probes/)"
#endif
}

void pinmdl_uring_io_posted(struct io_uring_cmd *cmd,
			    unsigned int issue_flags);

#ifdef PINMDL_HAVE_URING_CMD_TW_REQ
static inline void pinmdl_uring_tw(struct io_tw_req tw_req, io_tw_token_t tw)
{
	pinmdl_uring_io_posted(io_uring_cmd_from_tw(tw_req),
			       IO_URING_CMD_TASK_WORK_ISSUE_FLAGS);
}
#else
static inline void pinmdl_uring_tw(struct io_uring_cmd *cmd,
				   unsigned int issue_flags)
{
	pinmdl_uring_io_posted(cmd, issue_flags);
}
#endif

/*
 * Post an IO command's CQE from the task that submitted it: its request
 * completed, in whatever context; pinmdl_uring_io_posted() runs there.
 */
static inline void pinmdl_uring_complete_in_task(struct io_uring_cmd *cmd)
{
	io_uring_cmd_complete_in_task(cmd, pinmdl_uring_tw);
}

#ifdef PINMDL_HAVE_URING_CMD_CANCELABLE
#define PINMDL_URING_F_CANCEL	IO_URING_F_CANCEL

static inline void pinmdl_uring_mark_cancelable(struct io_uring_cmd *cmd,
						unsigned int issue_flags)
{
	io_uring_cmd_mark_cancelable(cmd, issue_flags);
}
#else
/* 6.1: the ring's teardown waits for the commands in flight. */
#define PINMDL_URING_F_CANCEL	0

static inline void pinmdl_uring_mark_cancelable(struct io_uring_cmd *cmd,
						unsigned int issue_flags)
{
}
#endif

#endif /* _PINMDL_DEV_URING_COMPAT_H */
