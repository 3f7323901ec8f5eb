// SPDX-License-Identifier: GPL-2.0
/*
 * io_uring_cmd_done() with the big CQE's extra value and the issue flags,
 * declared in <linux/io_uring/cmd.h> (6.12); 7.3's takes no extra value.
 */
#include <linux/io_uring/cmd.h>

void pinmdl_probe(struct io_uring_cmd *cmd, unsigned int issue_flags);
void pinmdl_probe(struct io_uring_cmd *cmd, unsigned int issue_flags)
{
	io_uring_cmd_done(cmd, 0, 0, issue_flags);
}
