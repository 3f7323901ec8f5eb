/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hrtimer_setup() (6.13) sets a timer's callback with its clock and mode;
 * hrtimer_init() is gone since 6.15. Used by pinmdl_lower and the KUnit
 * targets, so that both build on every supported kernel.
 */
#ifndef _PINMDL_HRTIMER_COMPAT_H
#define _PINMDL_HRTIMER_COMPAT_H

#include <linux/hrtimer.h>

static inline void
pinmdl_hrtimer_setup(struct hrtimer *timer,
		     enum hrtimer_restart (*fn)(struct hrtimer *),
		     clockid_t clock, enum hrtimer_mode mode)
{
#ifdef PINMDL_HAVE_HRTIMER_SETUP
	hrtimer_setup(timer, fn, clock, mode);
#else
	hrtimer_init(timer, clock, mode);
	timer->function = fn;
#endif
}

#endif /* _PINMDL_HRTIMER_COMPAT_H */
