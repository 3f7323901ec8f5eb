/* SPDX-License-Identifier: GPL-2.0 */
/* Per-open-file descriptor table of /dev/pinmdl. */
#ifndef _PINMDL_FILE_H
#define _PINMDL_FILE_H

#include <linux/atomic.h>
#include <linux/compiler_types.h>
#include <linux/list.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/xarray.h>

#include "core/desc.h"

struct pinmdl;

/**
 * struct pinmdl_file - state of one open /dev/pinmdl
 * @handles: handle -> descriptor; each entry holds the creator's reference
 * @descriptors: live descriptors, at most max_descriptors
 * @show_pfns: the opener had CAP_SYS_ADMIN: QUERY shows PFNs
 * @targets: target id -> struct pinmdl_file_target
 * @nr_targets: entries in @targets, at most PINMDL_MAX_FILE_TARGETS
 * @lock: protects the request fields below
 * @requests: requests being queued or in flight (struct
 *	      pinmdl_file_request)
 * @completions: completed asynchronous requests not read yet
 * @wait: woken when a completion is queued or a request ends
 * @in_flight: requests submitted and not completed
 * @unread: asynchronous requests submitted whose completion is not read
 * @next_id: id of the next request
 * @pid: process that opened the file, for the leak report
 * @comm: its command name
 * @maps: the windows of mmap(2) offsets of its descriptors (core/umap.c)
 * @map_inode: the inode whose address space is the file's, where every
 *	       mapping of it is
 */
struct pinmdl_file {
	struct xarray handles;
	atomic_t descriptors;
	bool show_pfns;
	struct xarray targets;
	atomic_t nr_targets;
	spinlock_t lock; /* protects the request fields below */
	struct list_head requests;
	struct list_head completions;
	wait_queue_head_t wait;
	unsigned int in_flight;
	unsigned int unread;
	u64 next_id;
	pid_t pid;
	char comm[TASK_COMM_LEN];
	struct pinmdl_umap_space maps;
	struct inode *map_inode;
};

struct pinmdl_file *pinmdl_file_open(bool show_pfns);
void pinmdl_file_release(struct pinmdl_file *pf);
bool pinmdl_file_full(struct pinmdl_file *pf);
int pinmdl_file_publish(struct pinmdl_file *pf, struct pinmdl *mdl,
			u32 __user *uhandle, u32 *out);
struct pinmdl *pinmdl_file_get(struct pinmdl_file *pf, u32 handle);
int pinmdl_file_owns(const struct pinmdl *mdl);
struct pinmdl *pinmdl_file_lookup(struct pinmdl_file *pf, u32 handle);
int pinmdl_file_free(struct pinmdl_file *pf, struct pinmdl *mdl);

#endif /* _PINMDL_FILE_H */
