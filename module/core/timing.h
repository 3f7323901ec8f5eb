/* SPDX-License-Identifier: GPL-2.0 */
/*
 * In-kernel time of probe-and-lock and unlock, for finding where a lock's
 * time goes (debugfs pinmdl/timing). It sits behind a static key that is
 * off by default: a lock or unlock then pays one patched-out jump.
 */
#ifndef _PINMDL_TIMING_H
#define _PINMDL_TIMING_H

#include <linux/jump_label.h>
#include <linux/timekeeping.h>
#include <linux/types.h>

struct dentry;

enum pinmdl_timed {
	PINMDL_TIMED_LOCK,
	PINMDL_TIMED_UNLOCK,
	PINMDL_NR_TIMED,
};

DECLARE_STATIC_KEY_FALSE(pinmdl_timing_on);

/* A timestamp to pass to pinmdl_timing_end(), or 0 while timing is off. */
static inline u64 pinmdl_timing_start(void)
{
	if (static_branch_unlikely(&pinmdl_timing_on))
		return ktime_get_ns();
	return 0;
}

/*
 * A timestamp for pinmdl_timing_end() and a trace event alike: taken when
 * timing is on or the event (@traced) is enabled, else 0.
 */
static inline u64 pinmdl_trace_start(bool traced)
{
	return pinmdl_timing_start() ?: (traced ? ktime_get_ns() : 0);
}

/* Nanoseconds since @start, or 0 if nothing was timed. */
static inline u64 pinmdl_trace_ns(u64 start)
{
	return start ? ktime_get_ns() - start : 0;
}

void pinmdl_timing_add(enum pinmdl_timed what, u64 ns);

/*
 * Count one @what that took @ns from @start, if timing is on: the same
 * nanoseconds as its trace event's, so that the two agree.
 */
static inline void pinmdl_timing_end(enum pinmdl_timed what, u64 start,
				     u64 ns)
{
	if (start && static_branch_unlikely(&pinmdl_timing_on))
		pinmdl_timing_add(what, ns);
}

void pinmdl_timing_init(struct dentry *dir);

#endif /* _PINMDL_TIMING_H */
