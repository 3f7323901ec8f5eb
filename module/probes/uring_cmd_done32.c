// SPDX-License-Identifier: GPL-2.0
/*
 * io_uring_cmd_done32(), which posts a big CQE's extra value (7.3); before
 * it, io_uring_cmd_done() took that value itself.
 */
#include <linux/io_uring/cmd.h>

void pinmdl_probe(struct io_uring_cmd *cmd, unsigned int issue_flags);
void pinmdl_probe(struct io_uring_cmd *cmd, unsigned int issue_flags)
{
	io_uring_cmd_done32(cmd, 0, 0, issue_flags);
}
