/* SPDX-License-Identifier: GPL-2.0 */
/* The ioctl dispatcher of /dev/pinmdl. */
#ifndef _PINMDL_IOCTL_H
#define _PINMDL_IOCTL_H

#include <linux/compiler_types.h>

struct pinmdl_file;

long pinmdl_ioctl(struct pinmdl_file *pf, unsigned int cmd, void __user *uarg);

#endif /* _PINMDL_IOCTL_H */
