/* SPDX-License-Identifier: GPL-2.0 */
/* The io_uring commands of /dev/pinmdl (IORING_OP_URING_CMD). */
#ifndef _PINMDL_DEV_URING_H
#define _PINMDL_DEV_URING_H

struct io_uring_cmd;
struct pinmdl_file_request;

int pinmdl_uring_cmd(struct io_uring_cmd *ucmd, unsigned int issue_flags);
void pinmdl_uring_io_prepare(struct pinmdl_file_request *fr,
			     struct io_uring_cmd *ucmd,
			     unsigned int issue_flags);

#endif /* _PINMDL_DEV_URING_H */
