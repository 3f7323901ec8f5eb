/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The request layer's private view, shared with /dev/pinmdl: the steps of
 * pinmdl_submit(), taken one at a time so that the char device can look
 * up each segment's handle between them, in the order of the errno table.
 */
#ifndef _PINMDL_REQUEST_H
#define _PINMDL_REQUEST_H

#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "core/desc.h"
#include "pinmdl.h"

/* struct pinmdl_request.state */
#define PINMDL_REQ_QUEUED		0x1 /* the target's queue returned */
#define PINMDL_REQ_CANCEL_WANTED	0x2 /* someone asked to cancel */
#define PINMDL_REQ_CANCEL_CALLED	0x4 /* the target's cancel was called */
#define PINMDL_REQ_COMPLETED		0x8 /* pinmdl_complete() was called */
#define PINMDL_REQ_DISCARDED		0x10 /* never queued: never finishes */

/**
 * struct pinmdl_target - a device a driver registered
 * @node: entry in the list of registered targets
 * @ref: lifetime; the registration and each binding hold one
 * @name: unique name
 * @ops: the driver's operations
 * @limits: limits of a binding without a bind operation
 * @private: the driver's
 * @dma: cached DMA mappings for @limits.dma_dev
 * @lock: protects @gone and @requests, and @in_flight's rise
 * @gone: unregistered: new requests fail with -ENODEV
 * @in_flight: requests entered whose done has not returned; unregistering
 *	       waits for it to reach zero (wait_var_event())
 * @requests: those requests not finishing yet (struct pinmdl_request @node)
 */
struct pinmdl_target {
	struct list_head node;
	struct kref ref;
	char name[PINMDL_TARGET_NAME_MAX];
	const struct pinmdl_target_ops *ops;
	struct pinmdl_target_limits limits;
	void *private;
	struct pinmdl_dma_domain dma;
	spinlock_t lock; /* protects gone and requests */
	bool gone;
	atomic_long_t in_flight;
	struct list_head requests;
};

/**
 * struct pinmdl_binding - an open target
 * @target: the target (a reference is held, and its driver's module)
 * @limits: what it accepts through this binding
 * @private: the driver's, from its bind operation
 * @in_flight: requests through this binding not finished
 */
struct pinmdl_binding {
	struct pinmdl_target *target;
	struct pinmdl_target_limits limits;
	void *private;
	atomic_t in_flight;
};

int pinmdl_request_check(struct pinmdl_request *req);
int pinmdl_request_hold(struct pinmdl_request *req, unsigned int i);
void pinmdl_request_unhold(struct pinmdl_request *req, unsigned int n);
int pinmdl_request_admit(struct pinmdl_request *req);
void pinmdl_request_prepare(struct pinmdl_request *req);
int pinmdl_request_start(struct pinmdl_request *req);
void pinmdl_request_discard(struct pinmdl_request *req);
bool pinmdl_request_tryget(struct pinmdl_request *req);
void pinmdl_request_put(struct pinmdl_request *req);
int pinmdl_target_enter(struct pinmdl_target *target,
			struct pinmdl_request *req);
void pinmdl_target_unlist(struct pinmdl_target *target,
			  struct pinmdl_request *req);
void pinmdl_target_leave(struct pinmdl_target *target);
extern struct workqueue_struct *pinmdl_wq;

int pinmdl_request_init(void);
void pinmdl_request_exit(void);

#endif /* _PINMDL_REQUEST_H */
