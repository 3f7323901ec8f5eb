/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ioctl dispatcher of /dev/pinmdl, and the handlers it shares with the
 * io_uring commands (module/dev/uring.c), which take the ioctl's struct
 * already copied in.
 */
#ifndef _PINMDL_IOCTL_H
#define _PINMDL_IOCTL_H

#include <linux/compiler_types.h>
#include <linux/types.h>

struct pinmdl;
struct pinmdl_create;
struct pinmdl_file;
struct pinmdl_handle_arg;
struct pinmdl_lock;

long pinmdl_ioctl(struct pinmdl_file *pf, unsigned int cmd, void __user *uarg);
int pinmdl_cmd_create(struct pinmdl_file *pf, const struct pinmdl_create *arg,
		      u32 __user *uhandle, u32 *handle);
int pinmdl_cmd_lock(struct pinmdl_file *pf, const struct pinmdl_lock *arg,
		    bool nowait);
int pinmdl_cmd_handle(struct pinmdl_file *pf,
		      const struct pinmdl_handle_arg *arg,
		      int (*op)(struct pinmdl_file *pf, struct pinmdl *mdl));
int pinmdl_handle_unlock(struct pinmdl_file *pf, struct pinmdl *mdl);

#endif /* _PINMDL_IOCTL_H */
