// SPDX-License-Identifier: GPL-2.0
/*
 * Module-wide counters and their debugfs file, pinmdl/stats.
 */
#include <kunit/visibility.h>
#include <linux/debugfs.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/seq_file.h>

#include "core/stats.h"
#include "core/timing.h"

struct pinmdl_stats pinmdl_stats;

/* The errnos the ABI promises; anything else is counted as "other". */
static const struct {
	int err;
	const char *name;
} pinmdl_errnos[] = {
	{ EINVAL, "EINVAL" }, { ENOENT, "ENOENT" }, { EPERM, "EPERM" },
	{ EBUSY, "EBUSY" }, { EFAULT, "EFAULT" }, { ENOMEM, "ENOMEM" },
	{ EINTR, "EINTR" }, { E2BIG, "E2BIG" }, { EACCES, "EACCES" },
	{ ENODEV, "ENODEV" }, { EAGAIN, "EAGAIN" }, { ENOTTY, "ENOTTY" },
	{ EMFILE, "EMFILE" }, { EBADF, "EBADF" }, { ENOTBLK, "ENOTBLK" },
	{ EIO, "EIO" },
};

static atomic_long_t pinmdl_failures[ARRAY_SIZE(pinmdl_errnos) + 1];
static struct dentry *pinmdl_debugfs;

/**
 * pinmdl_stats_pin() - account pages about to be pinned
 * @pages: number of pages
 * @limit: module-wide limit on pinned pages
 *
 * Context: any.
 * Return: true if the pages were accounted, false if that would exceed
 * @limit (nothing is accounted then).
 */
bool pinmdl_stats_pin(unsigned long pages, unsigned long limit)
{
	long old = atomic_long_read(&pinmdl_stats.pinned), now, peak;

	/* Never above the limit, not even for a moment. */
	do {
		if (pages > limit || (unsigned long)old > limit - pages)
			return false;
		now = old + pages;
	} while (!atomic_long_try_cmpxchg(&pinmdl_stats.pinned, &old, now));

	peak = atomic_long_read(&pinmdl_stats.pinned_peak);
	while (now > peak &&
	       !atomic_long_try_cmpxchg(&pinmdl_stats.pinned_peak, &peak, now))
		;
	return true;
}

/**
 * pinmdl_stats_unpin() - return pages accounted by pinmdl_stats_pin()
 * @pages: number of pages
 *
 * Context: any.
 */
void pinmdl_stats_unpin(unsigned long pages)
{
	atomic_long_sub(pages, &pinmdl_stats.pinned);
}

/**
 * pinmdl_stats_failure() - count a failed request by its errno
 * @err: negative errno
 *
 * Context: any.
 */
void pinmdl_stats_failure(int err)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(pinmdl_errnos); i++)
		if (pinmdl_errnos[i].err == -err)
			break;
	atomic_long_inc(&pinmdl_failures[i]);
}

/**
 * pinmdl_stats_dma_maps() - cached DMA mappings of descriptors now
 *
 * Return: the number of descriptor-and-device mappings cached.
 */
long pinmdl_stats_dma_maps(void)
{
	return atomic_long_read(&pinmdl_stats.dma_maps);
}
EXPORT_SYMBOL_IF_KUNIT(pinmdl_stats_dma_maps);

static int pinmdl_stats_show(struct seq_file *m, void *unused)
{
	size_t i;

	seq_printf(m, "descriptors_live %ld\n",
		   atomic_long_read(&pinmdl_stats.live));
	seq_printf(m, "descriptor_bytes %ld\n",
		   atomic_long_read(&pinmdl_stats.bytes));
	seq_printf(m, "descriptors_locked %ld\n",
		   atomic_long_read(&pinmdl_stats.locked));
	seq_printf(m, "pages_pinned %ld\n",
		   atomic_long_read(&pinmdl_stats.pinned));
	seq_printf(m, "pages_pinned_peak %ld\n",
		   atomic_long_read(&pinmdl_stats.pinned_peak));
	seq_printf(m, "pages_pinned_by_workers %ld\n",
		   atomic_long_read(&pinmdl_stats.worker_pages));
	seq_printf(m, "parallel_locks %ld\n",
		   atomic_long_read(&pinmdl_stats.parallel_locks));
	seq_printf(m, "lock_workers_live %ld\n",
		   atomic_long_read(&pinmdl_stats.workers_live));
	seq_printf(m, "locks %ld\n", atomic_long_read(&pinmdl_stats.locks));
	seq_printf(m, "unlocks %ld\n", atomic_long_read(&pinmdl_stats.unlocks));
	seq_printf(m, "leaks_released %ld\n",
		   atomic_long_read(&pinmdl_stats.leaks));
	seq_printf(m, "dma_mappings %ld\n",
		   atomic_long_read(&pinmdl_stats.dma_maps));
	for (i = 0; i < ARRAY_SIZE(pinmdl_errnos); i++)
		seq_printf(m, "failures_%s %ld\n", pinmdl_errnos[i].name,
			   atomic_long_read(&pinmdl_failures[i]));
	seq_printf(m, "failures_other %ld\n",
		   atomic_long_read(&pinmdl_failures[i]));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pinmdl_stats);

/**
 * pinmdl_stats_init() - create debugfs pinmdl/stats and pinmdl/timing
 *
 * Context: process context, module init.
 */
void pinmdl_stats_init(void)
{
	pinmdl_debugfs = debugfs_create_dir("pinmdl", NULL);
	debugfs_create_file("stats", 0444, pinmdl_debugfs, NULL,
			    &pinmdl_stats_fops);
	pinmdl_timing_init(pinmdl_debugfs);
}

/**
 * pinmdl_stats_exit() - remove debugfs pinmdl/
 *
 * Context: process context, module exit.
 */
void pinmdl_stats_exit(void)
{
	debugfs_remove(pinmdl_debugfs);
}
