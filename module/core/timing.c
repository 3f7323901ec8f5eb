// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs pinmdl/timing: the time probe-and-lock and unlock spend in the
 * kernel, as gup_test reports its get and put times, so that what a lock
 * costs over pinning alone can be told apart from what the system calls
 * around it cost. Writing 1 resets the counters and starts timing (or
 * goes on timing), writing 0 stops it; reading shows whether it is on,
 * and for the locks and unlocks that succeeded while it was, their number
 * and nanoseconds.
 */
#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kstrtox.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>

#include "core/timing.h"

DEFINE_STATIC_KEY_FALSE(pinmdl_timing_on);

static DEFINE_MUTEX(pinmdl_timing_mutex); /* serialises on and off */
static atomic64_t pinmdl_timing_ns[PINMDL_NR_TIMED];
static atomic64_t pinmdl_timing_calls[PINMDL_NR_TIMED];

/**
 * pinmdl_timing_add() - count one timed lock or unlock
 * @what: PINMDL_TIMED_LOCK or PINMDL_TIMED_UNLOCK
 * @ns: the nanoseconds it took
 *
 * Context: any.
 */
void pinmdl_timing_add(enum pinmdl_timed what, u64 ns)
{
	atomic64_add(ns, &pinmdl_timing_ns[what]);
	atomic64_inc(&pinmdl_timing_calls[what]);
}

static int pinmdl_timing_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "enabled %d\n",
		   static_key_enabled(&pinmdl_timing_on) ? 1 : 0);
	seq_printf(m, "locks %lld\nlock_ns %lld\n",
		   atomic64_read(&pinmdl_timing_calls[PINMDL_TIMED_LOCK]),
		   atomic64_read(&pinmdl_timing_ns[PINMDL_TIMED_LOCK]));
	seq_printf(m, "unlocks %lld\nunlock_ns %lld\n",
		   atomic64_read(&pinmdl_timing_calls[PINMDL_TIMED_UNLOCK]),
		   atomic64_read(&pinmdl_timing_ns[PINMDL_TIMED_UNLOCK]));
	return 0;
}

static int pinmdl_timing_open(struct inode *inode, struct file *file)
{
	return single_open(file, pinmdl_timing_show, NULL);
}

static ssize_t pinmdl_timing_write(struct file *file, const char __user *buf,
				   size_t count, loff_t *ppos)
{
	bool on;
	int ret, i;

	ret = kstrtobool_from_user(buf, count, &on);
	if (ret)
		return ret;

	/*
	 * Switching patches the code of every lock and unlock: resetting a
	 * timing that is on leaves the code as it is.
	 */
	mutex_lock(&pinmdl_timing_mutex);
	if (on) {
		for (i = 0; i < PINMDL_NR_TIMED; i++) {
			atomic64_set(&pinmdl_timing_ns[i], 0);
			atomic64_set(&pinmdl_timing_calls[i], 0);
		}
		static_branch_enable(&pinmdl_timing_on);
	} else {
		static_branch_disable(&pinmdl_timing_on);
	}
	mutex_unlock(&pinmdl_timing_mutex);
	return count;
}

static const struct file_operations pinmdl_timing_fops = {
	.owner = THIS_MODULE,
	.open = pinmdl_timing_open,
	.read = seq_read,
	.write = pinmdl_timing_write,
	.llseek = seq_lseek,
	.release = single_release,
};

/**
 * pinmdl_timing_init() - create the timing file
 * @dir: debugfs directory pinmdl/
 *
 * Context: process context, module init.
 */
void pinmdl_timing_init(struct dentry *dir)
{
	debugfs_create_file("timing", 0600, dir, NULL, &pinmdl_timing_fops);
}
