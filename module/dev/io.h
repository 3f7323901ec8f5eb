/* SPDX-License-Identifier: GPL-2.0 */
/* I/O requests from /dev/pinmdl: IO, SUBMIT and SUBMIT_BUFFERED. */
#ifndef _PINMDL_DEV_IO_H
#define _PINMDL_DEV_IO_H

#include <linux/compiler_types.h>
#include <linux/sizes.h>

struct io_uring_cmd;
struct pinmdl_file;
struct pinmdl_io;

/* Kernel memory one SUBMIT_BUFFERED holds for data, whatever its length. */
#define PINMDL_BOUNCE_MAX	SZ_1M

int pinmdl_cmd_io(struct pinmdl_file *pf, const struct pinmdl_io *arg,
		  struct pinmdl_io __user *user, struct io_uring_cmd *ucmd,
		  unsigned int issue_flags);
int pinmdl_ioctl_io(struct pinmdl_file *pf, void __user *uarg);
int pinmdl_ioctl_submit(struct pinmdl_file *pf, void __user *uarg);
int pinmdl_ioctl_submit_buffered(struct pinmdl_file *pf, void __user *uarg);

#endif /* _PINMDL_DEV_IO_H */
