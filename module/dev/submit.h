/* SPDX-License-Identifier: GPL-2.0 */
/* Requests from /dev/pinmdl: SUBMIT, SUBMIT_BUFFERED and completions. */
#ifndef _PINMDL_SUBMIT_H
#define _PINMDL_SUBMIT_H

#include <linux/compiler_types.h>
#include <linux/poll.h>
#include <linux/sizes.h>
#include <linux/types.h>

struct file;
struct pinmdl_file;

/* Asynchronous requests one file may have whose completion is unread. */
#define PINMDL_MAX_UNREAD	256

/* Kernel memory one SUBMIT_BUFFERED holds for data, whatever its length. */
#define PINMDL_BOUNCE_MAX	SZ_1M

int pinmdl_ioctl_submit(struct pinmdl_file *pf, void __user *uarg);
int pinmdl_ioctl_submit_buffered(struct pinmdl_file *pf, void __user *uarg);
ssize_t pinmdl_read_completion(struct pinmdl_file *pf, char __user *buf,
			       size_t count, bool nonblock);
__poll_t pinmdl_poll_completions(struct pinmdl_file *pf, struct file *file,
				 poll_table *wait);
void pinmdl_file_drain_requests(struct pinmdl_file *pf);

#endif /* _PINMDL_SUBMIT_H */
