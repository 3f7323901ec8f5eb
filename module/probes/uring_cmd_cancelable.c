// SPDX-License-Identifier: GPL-2.0
/*
 * A driver may mark a uring_cmd cancelable: the ring's teardown and an
 * exec then call ->uring_cmd() with IO_URING_F_CANCEL (6.7 and later).
 */
#include <linux/io_uring/cmd.h>

unsigned int pinmdl_probe(struct io_uring_cmd *cmd, unsigned int issue_flags);
unsigned int pinmdl_probe(struct io_uring_cmd *cmd, unsigned int issue_flags)
{
	io_uring_cmd_mark_cancelable(cmd, issue_flags);
	return IO_URING_F_CANCEL;
}
