/* SPDX-License-Identifier: GPL-2.0 */
/* Requests of an open /dev/pinmdl and their completions. */
#ifndef _PINMDL_DEV_REQUEST_H
#define _PINMDL_DEV_REQUEST_H

#include <linux/completion.h>
#include <linux/compiler_types.h>
#include <linux/poll.h>
#include <linux/sizes.h>
#include <linux/types.h>
#include <linux/workqueue.h>

#include "pinmdl.h"

struct file;
struct io_uring_cmd;
struct mm_struct;
struct pinmdl_cancel;
struct pinmdl_file;

/*
 * Asynchronous requests (and IO commands) one file may have whose
 * completion is not read (or posted) yet.
 */
#define PINMDL_MAX_UNREAD	256

/* Segments of a request that are part of it, not an allocation */
#define PINMDL_FILE_INLINE_SEGMENTS	4

/**
 * struct pinmdl_file_request - a request of an open file
 * @req: the request handed to the core
 * @pf: the file
 * @mm: address space of an asynchronous submitter (mmgrab'd): only it may
 *	read the completion or cancel the request
 * @node: entry in @pf->requests from before it is queued until it is
 *	  done, then in @pf->completions (asynchronous)
 * @completed: completion of a synchronous request
 * @id: request id returned to user space
 * @binding: binding of its own (SUBMIT's), closed before an asynchronous
 *	     request's completion can be read, or when a synchronous one is
 *	     freed; or NULL
 * @close_work: closes an asynchronous request's @binding, then delivers
 *		its completion
 * @refs: segments, from the first, whose descriptor reference the
 *	  request holds
 * @phase: being queued, in flight or done, under @pf->lock; it leaves
 *	   PINMDL_FR_STARTING by cmpxchg, of the submitter or the completion
 * @async: completion goes to @pf->completions, or to @ucmd's CQE
 * @ucmd: the io_uring command that carries the request (IO only), whose
 *	  CQE is its completion, or NULL
 * @issue_flags: @ucmd's issue flags, while it is being issued
 * @user_data: @ucmd's SQE user_data, which CANCEL may name it by
 * @inline_segs: the segments of a short chain
 */
struct pinmdl_file_request {
	struct pinmdl_request req;
	struct pinmdl_file *pf;
	struct mm_struct *mm;
	struct list_head node;
	struct completion completed;
	u64 id;
	struct pinmdl_binding *binding;
	struct work_struct close_work;
	unsigned int refs;
	unsigned int phase;
	bool async;
	struct io_uring_cmd *ucmd;
	unsigned int issue_flags;
	u64 user_data;
	struct pinmdl_io_segment inline_segs[PINMDL_FILE_INLINE_SEGMENTS];
};

struct pinmdl_file_request *
pinmdl_file_request_alloc(struct pinmdl_file *pf, bool async,
			  unsigned int nr_segments);
void pinmdl_file_request_free(struct pinmdl_file_request *fr);
int pinmdl_file_request_start(struct pinmdl_file_request *fr,
			      u64 __user *uid);
int pinmdl_file_request_wait(struct pinmdl_file_request *fr);
int pinmdl_cmd_cancel(struct pinmdl_file *pf, const struct pinmdl_cancel *arg);
int pinmdl_ioctl_cancel(struct pinmdl_file *pf, void __user *uarg);
void pinmdl_file_request_cancel_one(struct pinmdl_file_request *fr);
void pinmdl_file_request_posted(struct pinmdl_file_request *fr);
ssize_t pinmdl_read_completion(struct pinmdl_file *pf, char __user *buf,
			       size_t count, bool nonblock);
__poll_t pinmdl_poll_completions(struct pinmdl_file *pf, struct file *file,
				 poll_table *wait);
void pinmdl_file_drain_requests(struct pinmdl_file *pf);

#endif /* _PINMDL_DEV_REQUEST_H */
