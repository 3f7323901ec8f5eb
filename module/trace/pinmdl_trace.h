/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Trace events of pinmdl.ko: locks, unlocks and partial descriptors, and
 * the requests sent to targets, with what a driver author debugging them
 * wants to see. Descriptors are named by their handle in /dev/pinmdl (0
 * for kernel callers), requests by their address, which the trace file
 * prints hashed.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM pinmdl

#if !defined(_PINMDL_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _PINMDL_TRACE_H

#include <linux/string.h>
#include <linux/tracepoint.h>
#include <uapi/linux/pinmdl.h>

#include "pinmdl.h"

TRACE_EVENT(pinmdl_lock,
	TP_PROTO(u32 handle, u64 start_va, u64 pages, u32 mode, u32 operation,
		 int ret, u64 ns),
	TP_ARGS(handle, start_va, pages, mode, operation, ret, ns),
	TP_STRUCT__entry(
		__field(u32, handle)
		__field(u64, start_va)
		__field(u64, pages)
		__field(u32, mode)
		__field(u32, operation)
		__field(int, ret)
		__field(u64, ns)
	),
	TP_fast_assign(
		__entry->handle = handle;
		__entry->start_va = start_va;
		__entry->pages = pages;
		__entry->mode = mode;
		__entry->operation = operation;
		__entry->ret = ret;
		__entry->ns = ns;
	),
	TP_printk("handle=%u va=0x%llx pages=%llu mode=%s op=%s ret=%d ns=%llu",
		  __entry->handle, __entry->start_va, __entry->pages,
		  __entry->mode ? "user" : "kernel",
		  __print_symbolic(__entry->operation, { 0, "read" },
				   { 1, "write" }, { 2, "modify" }),
		  __entry->ret, __entry->ns)
);

TRACE_EVENT(pinmdl_unlock,
	TP_PROTO(u32 handle, u64 pages, int ret, u64 ns),
	TP_ARGS(handle, pages, ret, ns),
	TP_STRUCT__entry(
		__field(u32, handle)
		__field(u64, pages)
		__field(int, ret)
		__field(u64, ns)
	),
	TP_fast_assign(
		__entry->handle = handle;
		__entry->pages = pages;
		__entry->ret = ret;
		__entry->ns = ns;
	),
	TP_printk("handle=%u pages=%llu ret=%d ns=%llu", __entry->handle,
		  __entry->pages, __entry->ret, __entry->ns)
);

TRACE_EVENT(pinmdl_partial,
	TP_PROTO(u32 parent, u64 addr, u64 length, int ret),
	TP_ARGS(parent, addr, length, ret),
	TP_STRUCT__entry(
		__field(u32, parent)
		__field(u64, addr)
		__field(u64, length)
		__field(int, ret)
	),
	TP_fast_assign(
		__entry->parent = parent;
		__entry->addr = addr;
		__entry->length = length;
		__entry->ret = ret;
	),
	TP_printk("parent=%u addr=0x%llx length=%llu ret=%d", __entry->parent,
		  __entry->addr, __entry->length, __entry->ret)
);

/*
 * A request, known by its address (hashed in the trace file; raw to perf
 * and trace-cmd, which need root or CAP_PERFMON) while in flight, and by
 * its target's name.
 */
DECLARE_EVENT_CLASS(pinmdl_request_class,
	TP_PROTO(const struct pinmdl_request *req, const char *target,
		 int status, u64 result),
	TP_ARGS(req, target, status, result),
	TP_STRUCT__entry(
		__field(const void *, req)
		__array(char, target, PINMDL_TARGET_NAME_MAX)
		__field(u32, op)
		__field(unsigned int, segments)
		__field(u64, total)
		__field(int, status)
		__field(u64, result)
	),
	TP_fast_assign(
		__entry->req = req;
		strscpy_pad(__entry->target, target, sizeof(__entry->target));
		__entry->op = req->op;
		__entry->segments = req->nr_segments;
		__entry->total = req->total;
		__entry->status = status;
		__entry->result = result;
	),
	TP_printk("req=%p target=%s op=%u segments=%u bytes=%llu status=%d result=%llu",
		  __entry->req, __entry->target, __entry->op,
		  __entry->segments, __entry->total, __entry->status,
		  __entry->result)
);

/* A request handed to its target's queue operation. */
DEFINE_EVENT(pinmdl_request_class, pinmdl_request_submit,
	TP_PROTO(const struct pinmdl_request *req, const char *target,
		 int status, u64 result),
	TP_ARGS(req, target, status, result)
);

/* A target completed a request (any context). */
DEFINE_EVENT(pinmdl_request_class, pinmdl_request_complete,
	TP_PROTO(const struct pinmdl_request *req, const char *target,
		 int status, u64 result),
	TP_ARGS(req, target, status, result)
);

/*
 * A request whole and held that its target refused (capacity, permit,
 * queue) or found gone; status is the errno. A segment's own errors are
 * the caller's errno alone.
 */
DEFINE_EVENT(pinmdl_request_class, pinmdl_request_fail,
	TP_PROTO(const struct pinmdl_request *req, const char *target,
		 int status, u64 result),
	TP_ARGS(req, target, status, result)
);

/*
 * A cancel was asked; status is pinmdl_cancel()'s return, and a request
 * that had completed has no target name.
 */
DEFINE_EVENT(pinmdl_request_class, pinmdl_request_cancel,
	TP_PROTO(const struct pinmdl_request *req, const char *target,
		 int status, u64 result),
	TP_ARGS(req, target, status, result)
);

#endif /* _PINMDL_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH module/trace
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE pinmdl_trace
#include <trace/define_trace.h>
