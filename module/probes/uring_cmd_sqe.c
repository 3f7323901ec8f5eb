// SPDX-License-Identifier: GPL-2.0
/*
 * struct io_uring_cmd points at its SQE (6.12 and later); on 6.1 it points
 * at the SQE's command area alone.
 */
#include <linux/io_uring/cmd.h>

const void *pinmdl_probe(struct io_uring_cmd *cmd);
const void *pinmdl_probe(struct io_uring_cmd *cmd)
{
	return cmd->sqe->cmd;
}
