// SPDX-License-Identifier: GPL-2.0
/*
 * The folio-overflow guard.
 *
 * A pin adds GUP_PIN_COUNTING_BIAS (1024) references to a small folio and
 * one a page to a large one, and GUP takes them without looking at what
 * the count was: one that goes past 2^31 turns negative, and GUP then
 * warns. No pin of pinmdl's may take a folio there, however many locks of
 * one page run or are held, so the guard is per folio:
 *
 * - Before a GUP call pins n pages, it reserves n * 1024 references: the
 *   most the call can add to one folio (its pages could all be one small
 *   folio mapped at every address, as the shared zero page is on 6.1; the
 *   6.1 re-pin of a read lock's stale pins in the same reservation lands
 *   on anonymous pages, each address pinned once more at most). All the
 *   reservations held at once never exceed PINMDL_REFS_IN_FLIGHT: a call
 *   that finds too little left pins fewer pages, down to one; a lock that
 *   finds none waits, killably, for a call to finish. A call holding a
 *   reservation does not wait on user space: the locker and its workers
 *   pin without faults and fault in with none held (pin.c), but for a
 *   page that would not pin once faulted in, pinned alone with faults.
 * - Once the call has pinned, the count of each folio it pinned is
 *   compared with max_folio_refs: past it, the lock fails with ENOMEM and
 *   unpins everything. Only then is the reservation returned.
 *
 * So what pinmdl's pins add to a folio past max_folio_refs is never more
 * than the pins not yet checked, PINMDL_REFS_IN_FLIGHT (2^26) at the most,
 * and max_folio_refs is at most 2^31 - 2^27: a folio's count stays below
 * 2^31 - 2^26 through pinmdl, whatever the calls and their concurrency.
 * max_pinned_pages, a limit on memory, has no part in it.
 */
#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/cache.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/wait_bit.h>

#include "core/refs.h"

/* The highest max_folio_refs: twice PINMDL_REFS_IN_FLIGHT below 2^31. */
#define PINMDL_FOLIO_REFS_MAX	((1U << 31) - (1U << 27))
#define PINMDL_FOLIO_REFS_MIN	2048
/* References all GUP calls in flight may add to one folio, unchecked. */
#define PINMDL_REFS_IN_FLIGHT	((long)BIT(26))

static unsigned int pinmdl_max_folio_refs = 1U << 30;
static atomic_long_t pinmdl_refs_in_flight ____cacheline_aligned_in_smp =
	ATOMIC_LONG_INIT(0);

static int pinmdl_set_max_folio_refs(const char *val,
				     const struct kernel_param *kp)
{
	unsigned int refs;
	int ret = kstrtouint(val, 0, &refs);

	if (ret)
		return ret;
	if (refs < PINMDL_FOLIO_REFS_MIN || refs > PINMDL_FOLIO_REFS_MAX)
		return -EINVAL;
	WRITE_ONCE(pinmdl_max_folio_refs, refs);
	return 0;
}

static const struct kernel_param_ops pinmdl_max_folio_refs_ops = {
	.set = pinmdl_set_max_folio_refs,
	.get = param_get_uint,
};
module_param_cb(max_folio_refs, &pinmdl_max_folio_refs_ops,
		&pinmdl_max_folio_refs, 0644);
MODULE_PARM_DESC(max_folio_refs,
		 "References past which a lock may not take a folio's count, 2048 to 2^31 - 2^27 (default: 2^30)");

/* Reserve for up to @pages pages, as many as are left; return how many. */
static long pinmdl_refs_take(long pages)
{
	long used = atomic_long_read(&pinmdl_refs_in_flight), take;

	do {
		take = min(pages, (PINMDL_REFS_IN_FLIGHT - used) /
				  GUP_PIN_COUNTING_BIAS);
		if (take <= 0)
			return 0;
	} while (!atomic_long_try_cmpxchg(&pinmdl_refs_in_flight, &used,
					  used + take * GUP_PIN_COUNTING_BIAS));
	return take;
}

/**
 * pinmdl_refs_reserve() - reserve what a GUP call may add to one folio
 * @pages: pages the call would pin, > 0
 * @wait: wait for a reservation if none is left (else return 0)
 *
 * Context: process context; sleeps, killably, if @wait.
 * Return: the pages the call may pin, 1 to @pages, to be given back with
 * pinmdl_refs_release() once they are checked; 0 if none is left and
 * !@wait; -EINTR on a fatal signal while waiting.
 */
long pinmdl_refs_reserve(long pages, bool wait)
{
	long got = pinmdl_refs_take(pages);

	while (!got && wait) {
		if (wait_var_event_killable(&pinmdl_refs_in_flight,
					    atomic_long_read(&pinmdl_refs_in_flight) <=
					    PINMDL_REFS_IN_FLIGHT -
					    GUP_PIN_COUNTING_BIAS))
			return -EINTR;
		got = pinmdl_refs_take(pages);
	}
	return got;
}

/**
 * pinmdl_refs_release() - give back a reservation of pinmdl_refs_reserve()
 * @pages: what it returned
 *
 * Context: any.
 */
void pinmdl_refs_release(long pages)
{
	long refs = pages * GUP_PIN_COUNTING_BIAS;

	/* Fully ordered: a waiter that found too little is seen. */
	if (atomic_long_sub_return(refs, &pinmdl_refs_in_flight) + refs >
	    PINMDL_REFS_IN_FLIGHT - GUP_PIN_COUNTING_BIAS)
		wake_up_var(&pinmdl_refs_in_flight);
}

/**
 * pinmdl_refs_fit() - whether pins just taken leave their folios in bounds
 * @pfns: PFNs of the pages a GUP call pinned
 * @count: how many
 *
 * Context: any; the pages are pinned.
 * Return: false if the count of a folio of @pfns is past max_folio_refs.
 */
bool pinmdl_refs_fit(const u64 *pfns, long count)
{
	unsigned int max = READ_ONCE(pinmdl_max_folio_refs);
	struct folio *folio;
	u64 end;
	long i;

	for (i = 0; i < count;) {
		folio = pfn_folio(pfns[i]);
		if ((unsigned int)folio_ref_count(folio) > max)
			return false;
		/*
		 * The pages of the folio that follow, told by their PFNs
		 * alone: a huge folio's tail pages are never looked at.
		 */
		end = folio_pfn(folio) + folio_nr_pages(folio);
		for (i++; i < count && pfns[i] == pfns[i - 1] + 1 &&
		     pfns[i] < end; i++)
			;
	}
	return true;
}
