// SPDX-License-Identifier: GPL-2.0
/*
 * io_uring_cmd_done() with the issue flags, declared in <linux/io_uring.h>
 * (6.1 from its stable updates on); the first 6.1 releases took none.
 */
#include <linux/io_uring.h>

void pinmdl_probe(struct io_uring_cmd *cmd, unsigned int issue_flags);
void pinmdl_probe(struct io_uring_cmd *cmd, unsigned int issue_flags)
{
	io_uring_cmd_done(cmd, 0, 0, issue_flags);
}
