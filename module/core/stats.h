/* SPDX-License-Identifier: GPL-2.0 */
/* Module-wide counters of pinmdl.ko, shown in debugfs pinmdl/stats. */
#ifndef _PINMDL_STATS_H
#define _PINMDL_STATS_H

#include <linux/atomic.h>

/**
 * struct pinmdl_stats - module-wide counters
 * @live: descriptors allocated and not yet released
 * @bytes: memory of the live descriptors, as the allocator set it aside
 * @locked: descriptors locked now
 * @pinned: pages pinned now (the total checked against max_pinned_pages)
 * @pinned_peak: highest value @pinned reached
 * @locks: successful probe-and-lock calls
 * @unlocks: successful unlock calls
 * @leaks: locked descriptors released when their file was closed
 * @dma_maps: cached DMA mappings of descriptors now
 * @worker_pages: pages the workers of parallel locks pinned
 * @parallel_locks: locks that started workers
 * @workers_live: workers started and not yet reaped
 */
struct pinmdl_stats {
	atomic_long_t live;
	atomic_long_t bytes;
	atomic_long_t locked;
	atomic_long_t pinned;
	atomic_long_t pinned_peak;
	atomic_long_t locks;
	atomic_long_t unlocks;
	atomic_long_t leaks;
	atomic_long_t dma_maps;
	atomic_long_t worker_pages;
	atomic_long_t parallel_locks;
	atomic_long_t workers_live;
};

extern struct pinmdl_stats pinmdl_stats;

bool pinmdl_stats_pin(unsigned long pages, unsigned long limit);
void pinmdl_stats_unpin(unsigned long pages);
void pinmdl_stats_failure(int err);
long pinmdl_stats_dma_maps(void);
void pinmdl_stats_init(void);
void pinmdl_stats_exit(void);

#endif /* _PINMDL_STATS_H */
