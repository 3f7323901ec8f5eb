// SPDX-License-Identifier: GPL-2.0
/* hrtimer_setup() sets the callback with the clock; hrtimer_init() is gone. */
#include <linux/hrtimer.h>

void pinmdl_probe(struct hrtimer *timer,
		  enum hrtimer_restart (*fn)(struct hrtimer *));
void pinmdl_probe(struct hrtimer *timer,
		  enum hrtimer_restart (*fn)(struct hrtimer *))
{
	hrtimer_setup(timer, fn, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
}
