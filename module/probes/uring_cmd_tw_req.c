// SPDX-License-Identifier: GPL-2.0
/*
 * A uring_cmd's task work is called with a struct io_tw_req (7.3); before,
 * with the command and its issue flags.
 */
#include <linux/io_uring/cmd.h>

static void pinmdl_probe_tw(struct io_tw_req tw_req, io_tw_token_t tw)
{
	(void)io_uring_cmd_from_tw(tw_req);
}

void pinmdl_probe(struct io_uring_cmd *cmd);
void pinmdl_probe(struct io_uring_cmd *cmd)
{
	io_uring_cmd_complete_in_task(cmd, pinmdl_probe_tw);
}
