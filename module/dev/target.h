/* SPDX-License-Identifier: GPL-2.0 */
/* The targets an open /dev/pinmdl has opened: TARGET_OPEN, TARGET_CLOSE. */
#ifndef _PINMDL_DEV_TARGET_H
#define _PINMDL_DEV_TARGET_H

#include <linux/atomic.h>
#include <linux/compiler_types.h>
#include <linux/rcupdate.h>
#include <linux/types.h>

struct pinmdl_binding;
struct pinmdl_file;

/* Targets one file may have open at once. */
#define PINMDL_MAX_FILE_TARGETS	64

/**
 * struct pinmdl_file_target - a target open in a file
 * @binding: the open target
 * @users: IO calls using it now; -1 while TARGET_CLOSE looks whether it
 *	   may close it, under the file's targets lock
 * @rcu: frees it after a grace period, for lookups under RCU
 */
struct pinmdl_file_target {
	struct pinmdl_binding *binding;
	atomic_t users;
	struct rcu_head rcu;
};

int pinmdl_ioctl_target_open(struct pinmdl_file *pf, void __user *uarg);
int pinmdl_ioctl_target_close(struct pinmdl_file *pf, void __user *uarg);
struct pinmdl_file_target *pinmdl_file_target_get(struct pinmdl_file *pf,
						  u32 id);
void pinmdl_file_target_put(struct pinmdl_file_target *ft);
void pinmdl_file_close_targets(struct pinmdl_file *pf);

#endif /* _PINMDL_DEV_TARGET_H */
