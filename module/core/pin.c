// SPDX-License-Identifier: GPL-2.0
/*
 * Pinning a user range into a PFN array, and unpinning it.
 *
 * The range is pinned with pin_user_pages_fast() a chunk at a time, and
 * each chunk's page pointers become PFNs in place at once, while they are
 * still in cache: with SPARSEMEM_VMEMMAP that is arithmetic, and no
 * struct page is looked at again. Each chunk is cut to what is mapped
 * when it is pinned (one look at the mappings a chunk): GUP is never given
 * a hole to look up, which just below a grows-down mapping makes it warn
 * with a stack dump (from 6.5 on). The look and the pin cannot share one
 * hold of the mmap_lock, as GUP-fast takes none and its slow path takes
 * its own: a hole made in between, by another thread of the locker's
 * process unmapping part of the range, still reaches GUP, as it would in
 * O_DIRECT I/O into that range.
 *
 * Each GUP call reserves what it may add to one folio's reference count
 * first and checks the folios it pinned against max_folio_refs after
 * (refs.c). So that a reservation never waits on user space, the locker
 * pins what is mapped without faults (FOLL_NOFAULT) and faults in the
 * rest with fixup_user_fault(), holding none, before it pins that.
 *
 * A range of parallel_lock_pages pages or more may be pinned by the locker
 * and up to lock_workers - 1 workers at once, each taking the next 8 MiB
 * piece. The workers are threads of the locker's own process, user
 * workers made with vhost_task_create() for the lock and gone with it, so
 * they pin as the locker would, with its own code above: their CPU time
 * is the process's, in its cgroup and affinity; their faults are charged,
 * throttled and OOM-killed as the process's own; its NUMA policy and
 * protection keys (a clone's PKRU is its creator's) hold; and a SIGKILL
 * reaches them with the locker, wherever they wait. What a worker leaves
 * of its piece, on a failure, the locker pins in address order after, so
 * that the first failure in address order is the lock's errno, as for a
 * serial lock. Kernels without vhost tasks (6.1, or no CONFIG_VHOST_TASK)
 * pin on the locker alone; so does a caller that is not a plain user
 * task. The workers are at most as many as the CPUs the locker may run on.
 * The locker waits for them to be done with the range, killably, never
 * for their threads to end: a reaper ends those, once the process's job
 * control (a stop, a debugger, the cgroup freezer) lets them go, and a
 * thread that has not run yet, when it first does.
 *
 * Unpinning goes a chunk at a time as well, with cond_resched() between
 * chunks: runs of consecutive PFNs (a large folio, or small folios that
 * happen to follow each other) go back with
 * unpin_user_page_range_dirty_lock(), a folio at a time, and the others
 * as a page array, built in place over their PFNs.
 */
#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/hugetlb.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/mmu_context.h>
#include <linux/overflow.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/sched/jobctl.h>
#include <linux/sched/signal.h>
#include <linux/shmem_fs.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "core/desc.h"
#include "core/pin.h"
#include "core/pin_compat.h"
#include "core/refs.h"
#include "core/stats.h"

/*
 * Pages a GUP call pins or an unpin releases between two looks at a fatal
 * signal and cond_resched(): GUP-fast walks them with interrupts off.
 */
#define PINMDL_PIN_CHUNK	1024
/* Pages of a piece of a parallel lock: whole 2 MiB THPs on x86-64. */
#define PINMDL_PIECE_PAGES	(SZ_8M >> PAGE_SHIFT)
/*
 * Work left after the first piece, at its pace, that is worth waking
 * workers for: far more than a wake-up costs, so that a range that pins
 * fast (huge pages already faulted in) stays with the locker alone.
 */
#define PINMDL_PARALLEL_MIN_NS	(2 * NSEC_PER_MSEC)
/* CPUs one lock pins on at most, the locker's own included. */
#define PINMDL_MAX_LOCK_WORKERS	16

/* GUP's page pointers are stored in the PFN array and converted in place. */
static_assert(sizeof(struct page *) == sizeof(u64));

static unsigned int pinmdl_lock_workers;
module_param_named(lock_workers, pinmdl_lock_workers, uint, 0644);
MODULE_PARM_DESC(lock_workers,
		 "CPUs one lock of parallel_lock_pages or more pins on, the locker's included (default 0: every online CPU, up to 16)");

static unsigned long pinmdl_parallel_lock_pages = SZ_16M >> PAGE_SHIFT;
module_param_named(parallel_lock_pages, pinmdl_parallel_lock_pages, ulong,
		   0644);
MODULE_PARM_DESC(parallel_lock_pages,
		 "Pages from which a lock may pin on several CPUs (default: 16 MiB worth)");

/**
 * struct pinmdl_pin_job - a range being pinned
 * @mm: address space of the range (the locker's)
 * @entries: the PFN array: page pointers from GUP, PFNs once converted
 * @start: page-aligned address of the page of @entries[0]
 * @count: pages of the range
 * @head: pages of the first piece before the range starts
 * @pieces: pieces of the range
 * @done: per piece, the pages pinned from its first one on (parallel)
 * @gup_flags: FOLL_* of the lock
 * @fix_reads: a read lock on a kernel whose read pins may go stale (6.1)
 * @nowait: pin only what is mapped, and fail with -EAGAIN where that would
 *	    wait (a fault, the mmap_lock, a reservation)
 * @next: next piece for the locker or a worker to take
 * @abort: a piece failed, or the process is killed: no more pieces taken
 * @workers: workers that took part and are still pinning
 * @idle: completed when the last of them is done
 */
struct pinmdl_pin_job {
	struct mm_struct *mm;
	u64 *entries;
	unsigned long start;
	u64 count;
	u64 head;
	u64 pieces;
	u64 *done;
	unsigned int gup_flags;
	bool fix_reads;
	bool nowait;
	atomic64_t next;
	bool abort;
	atomic_t workers;
	struct completion idle;
};

/* What a worker is at, for its one run and its one leave. */
enum pinmdl_worker_state {
	PINMDL_WORKER_NEW,	/* not started */
	PINMDL_WORKER_RUN,	/* pinning, or done */
	PINMDL_WORKER_GONE,	/* dropped before it started */
};

/**
 * struct pinmdl_pin_worker - a thread of the locker's process pinning
 * @job: the range it takes pieces of, while it counts in it
 * @task: the thread, a vhost task
 * @tsk: the thread's task_struct, once it has run, for the reaper
 * @state: an enum pinmdl_worker_state, changed by cmpxchg
 * @dead: its thread was killed: it will never be held by job control
 * @reaping: the lock is done with it: the reaper may come
 * @retry: how long the reaper waits before its next look
 * @reap: ends the thread once the lock is done with it
 */
struct pinmdl_pin_worker {
	struct pinmdl_pin_job *job;
	struct vhost_task *task;
	struct task_struct *tsk;
	atomic_t state;
	bool dead;
	bool reaping;
	unsigned long retry;
	struct delayed_work reap;
};

/*
 * How long the reaper lets a worker held by job control be, twice as long
 * each look: from the first to the last.
 */
#define PINMDL_REAP_RETRY_MIN	(HZ / 10)
#define PINMDL_REAP_RETRY_MAX	(8 * HZ)

static struct workqueue_struct *pinmdl_reap_wq;

static int pinmdl_gup_errno(long ret)
{
	if (fatal_signal_pending(current))
		return -EINTR;
	if (ret == -ENOMEM || ret == -EINTR)
		return ret;
	return -EFAULT;
}

/* Turn @count page pointers that GUP stored into PFNs, in place. */
static void pinmdl_pages_to_pfns(u64 *entries, u64 count)
{
	u64 i;

	for (i = 0; i < count; i++)
		entries[i] = page_to_pfn((struct page *)(uintptr_t)entries[i]);
}

/*
 * How many of the @want pages from @va on @mm maps, in mappings that
 * follow each other: 0 if @va is in a hole; -EINTR on a fatal signal;
 * -EAGAIN if @nowait and the mmap_lock is taken.
 */
static int pinmdl_mapped_pages(struct mm_struct *mm, unsigned long va,
			       int want, bool nowait)
{
	unsigned long addr = va, end = va + want * PAGE_SIZE;
	struct vm_area_struct *vma;
	struct vma_iterator vmi;

	if (nowait) {
		if (!mmap_read_trylock(mm))
			return -EAGAIN;
	} else if (mmap_read_lock_killable(mm)) {
		return -EINTR;
	}
	vma_iter_init(&vmi, mm, va);
	for_each_vma_range(vmi, vma, end) {
		if (vma->vm_start > addr)
			break;
		addr = vma->vm_end;
	}
	mmap_read_unlock(mm);
	return (min(addr, end) - va) >> PAGE_SHIFT;
}

/*
 * Check the @n pages just pinned at @i of @job, PFNs already: on 6.1 a
 * read lock's stale pins are replaced first (pin_compat.c). Return 0, or
 * the errno with the @n pages unpinned: ENOMEM if a folio's count went
 * past max_folio_refs (refs.c).
 */
static int pinmdl_pin_check(struct pinmdl_pin_job *job, u64 i, long n)
{
	struct pinmdl_compat_range r = {
		.mm = job->mm,
		.start = job->start,
		.pfns = job->entries,
	};
	int ret = 0;

	if (job->fix_reads)
		ret = pinmdl_compat_fix_read_chunk(&r, i, i + n);
	if (!ret && !pinmdl_refs_fit(job->entries + i, n))
		ret = -ENOMEM;
	if (ret)
		pinmdl_unpin_pfns(job->entries + i, n, false);
	return ret;
}

/*
 * How many of the @n pages from @va of @job are in mappings a long-term
 * pin may take, so that a fault in them changes nothing the pin would
 * refuse: not device memory (a read fault would replace a private
 * mapping's device pages with copies), not DAX, not denied by the
 * locker's protection keys, and for a write lock not a shared file
 * mapping outside shmem and hugetlbfs (whose blocks a write fault would
 * allocate and dirty). The mmap_lock is held.
 */
static long pinmdl_fault_in_pages(struct pinmdl_pin_job *job,
				  unsigned long va, long n)
{
	bool write = job->gup_flags & FOLL_WRITE;
	unsigned long addr = va, end = va + n * PAGE_SIZE;
	struct vm_area_struct *vma;
	struct vma_iterator vmi;

	vma_iter_init(&vmi, job->mm, va);
	for_each_vma_range(vmi, vma, end) {
		if (vma->vm_start > addr || vma->vm_flags & (VM_IO | VM_PFNMAP) ||
		    vma_is_fsdax(vma) ||
		    !arch_vma_access_permitted(vma, write, false, false))
			break;
		if (write && vma->vm_flags & VM_SHARED && vma->vm_file &&
		    !shmem_mapping(vma->vm_file->f_mapping) &&
		    !is_vm_hugetlb_page(vma))
			break;
		addr = vma->vm_end;
	}
	return (min(addr, end) - va) >> PAGE_SHIFT;
}

/*
 * Fault in the @n pages from @va of @job as its lock needs them (written,
 * or for a read lock unshared in a copy-on-write mapping), pinning
 * nothing: this may wait on user space (userfaultfd, a FUSE server), so it
 * runs with no reservation held (refs.c). A write lock's are faulted in as
 * mm_populate() does, a huge page at a time; a read lock's a page at a
 * time, read then unshared, as no GUP call unshares without pinning. Only
 * mappings the pin may take are faulted in (pinmdl_fault_in_pages()); the
 * rest, and what cannot be faulted in, is left to the pin to refuse with
 * its errno, having changed nothing.
 * Return 0, or -EINTR on a fatal signal.
 */
static int pinmdl_fault_in(struct pinmdl_pin_job *job, unsigned long va,
			   long n)
{
	bool unlocked;
	int locked = 1;

	if (mmap_read_lock_killable(job->mm))
		return -EINTR;
	n = pinmdl_fault_in_pages(job, va, n);
	if (n && job->gup_flags & FOLL_WRITE) {
		pinmdl_compat_fault_in_remote(job->mm, va, n, FOLL_WRITE,
					      &locked);
		n = 0;
	}
	for (; n && !fatal_signal_pending(current); n--, va += PAGE_SIZE) {
		unlocked = false;
		if (fixup_user_fault(job->mm, va, 0, &unlocked) ||
		    fixup_user_fault(job->mm, va, FAULT_FLAG_UNSHARE, &unlocked))
			break;
	}
	if (locked)
		mmap_read_unlock(job->mm);
	return fatal_signal_pending(current) ? -EINTR : 0;
}

/*
 * Pin up to @want pages at @va of @job into @pages under a reservation,
 * checked: with FOLL_NOFAULT unless @fault (the pin cannot wait on user
 * space while it holds references unchecked). Return the pages pinned,
 * 0 if none was mapped, or the errno with none pinned: -EAGAIN for a
 * @job that may not wait for a reservation.
 */
static long pinmdl_pin_reserved(struct pinmdl_pin_job *job, unsigned long va,
				u64 i, long want, bool fault)
{
	struct page **pages = (struct page **)job->entries;
	long pinned;
	int ret;

	want = pinmdl_refs_reserve(want, !job->nowait);
	if (want <= 0)
		return want ?: -EAGAIN;
	pinned = pin_user_pages_fast(va, want, job->gup_flags |
				     (fault ? 0 : FOLL_NOFAULT), pages + i);
	ret = pinned < 0 ? (fault ? pinmdl_gup_errno(pinned) : 0) :
	      !pinned && fault ? pinmdl_gup_errno(0) : 0;
	if (pinned > 0) {
		pinmdl_pages_to_pfns(job->entries + i, pinned);
		ret = pinmdl_pin_check(job, i, pinned);
	}
	pinmdl_refs_release(want);
	return ret ?: max(pinned, 0L);
}

/*
 * Pin pages [@first + *@done, @end) of @job from the locker's context, and
 * count them in *@done. Return 0, or the errno of what stopped it: a hole
 * fails with EFAULT here, before GUP sees it (see the top of this file).
 *
 * Pages are pinned without faults; what is not mapped is faulted in with
 * no reservation held, then pinned (a @job that may not wait stops there
 * with -EAGAIN). A page still not pinned then (made
 * absent again meanwhile, migrating, or in a mapping GUP refuses) is
 * pinned alone with faults, for GUP to pin it or to tell why not: only
 * that one page's reservation may then wait on user space.
 */
static int pinmdl_pin_local(struct pinmdl_pin_job *job, u64 first, u64 end,
			    u64 *done)
{
	u64 i, faulted = first;
	bool stuck = false;
	unsigned long va;
	long pinned, want;
	int ret;

	while ((i = first + *done) < end) {
		if (fatal_signal_pending(current))
			return -EINTR;
		va = job->start + i * PAGE_SIZE;
		want = pinmdl_mapped_pages(job->mm, va,
					   min_t(u64, end - i,
						 PINMDL_PIN_CHUNK),
					   job->nowait);
		if (want <= 0)
			return want ?: -EFAULT;
		pinned = pinmdl_pin_reserved(job, va, i, stuck ? 1 : want,
					     stuck);
		if (pinned < 0)
			return pinned;
		*done += pinned;
		stuck = false;
		if (!pinned && job->nowait)
			return -EAGAIN;
		if (!pinned && i < faulted) {
			stuck = true;
		} else if (!pinned) {
			ret = pinmdl_fault_in(job, va, want);
			if (ret)
				return ret;
			faulted = i + want;
		}
		cond_resched();
	}
	return 0;
}

static u64 pinmdl_piece_first(const struct pinmdl_pin_job *job, u64 piece)
{
	return piece ? piece * PINMDL_PIECE_PAGES - job->head : 0;
}

static u64 pinmdl_piece_end(const struct pinmdl_pin_job *job, u64 piece)
{
	return min(job->count, (piece + 1) * PINMDL_PIECE_PAGES - job->head);
}

/*
 * Take pieces of @job until none is left or a piece failed, and pin each
 * wholly. A failure but a fatal signal stops the taking and leaves its
 * piece short, for the pass in address order to tell the errno; pages
 * pinned by a worker (@worker) are counted. Return 0, or -EINTR on a
 * fatal signal.
 */
static int pinmdl_pin_pieces(struct pinmdl_pin_job *job, bool worker)
{
	u64 piece, first, end;
	int ret;

	while (!READ_ONCE(job->abort)) {
		piece = atomic64_inc_return(&job->next) - 1;
		if (piece >= job->pieces)
			break;
		first = pinmdl_piece_first(job, piece);
		end = pinmdl_piece_end(job, piece);
		ret = pinmdl_pin_local(job, first, end, &job->done[piece]);
		if (worker)
			atomic_long_add(job->done[piece],
					&pinmdl_stats.worker_pages);
		if (ret) {
			WRITE_ONCE(job->abort, true);
			return ret == -EINTR ? ret : 0;
		}
	}
	return 0;
}

/* A worker of @job is done with it: the locker goes on after the last. */
static void pinmdl_worker_leave(struct pinmdl_pin_job *job)
{
	if (atomic_dec_and_test(&job->workers))
		complete(&job->idle);
}

/* Drop @w if it has not started: then it never will. */
static void pinmdl_worker_drop(struct pinmdl_pin_worker *w)
{
	if (atomic_cmpxchg(&w->state, PINMDL_WORKER_NEW,
			   PINMDL_WORKER_GONE) == PINMDL_WORKER_NEW)
		pinmdl_worker_leave(w->job);
}

/*
 * Tell the reaper which task @w's thread is, from the thread, and whether
 * it is @dead; bring the reaper back at once if it came before.
 */
static void pinmdl_worker_seen(struct pinmdl_pin_worker *w, bool dead)
{
	if (w->tsk && !dead)
		return;
	if (!w->tsk)
		WRITE_ONCE(w->tsk, current);
	if (dead)
		WRITE_ONCE(w->dead, true);
	/*
	 * Orders the stores above before the load, as the reaper orders its
	 * store before its loads: one of the two sees the other. A kick
	 * missed otherwise would only wait for the reaper's next look.
	 */
	smp_mb();
	if (READ_ONCE(w->reaping))
		mod_delayed_work(pinmdl_reap_wq, &w->reap, 0);
}

/*
 * The function of a worker's vhost task, called until the task is stopped
 * or killed: the first call takes pieces, the others find nothing to do.
 * vhost calls it in TASK_INTERRUPTIBLE, to sleep on after a call that did
 * no work.
 */
static bool pinmdl_worker_run(void *data)
{
	struct pinmdl_pin_worker *w = data;

	pinmdl_worker_seen(w, false);
	if (atomic_cmpxchg(&w->state, PINMDL_WORKER_NEW,
			   PINMDL_WORKER_RUN) != PINMDL_WORKER_NEW)
		return false;
	__set_current_state(TASK_RUNNING);
	pinmdl_pin_pieces(w->job, true);
	pinmdl_worker_leave(w->job);
	return false;
}

/*
 * A worker's vhost task was killed, with its process: if it never ran, it
 * is dropped (vhost tasks must have this handler; the locker, killed as
 * well, drops it too).
 */
static void pinmdl_worker_killed(void *data)
{
	struct pinmdl_pin_worker *w = data;

	pinmdl_worker_seen(w, true);
	pinmdl_worker_drop(w);
}

/*
 * Whether @tsk is held by its process's job control: stopped or traced,
 * about to be (SIGSTOP pending, or a group stop under way), or frozen (by
 * its cgroup, or for suspend: frozen() is not exported, and its one line
 * is read here). Stopping its vhost task would wait, and uninterruptibly,
 * for as long as that lasts: a vhost task takes the signals pending before
 * it looks at the request to stop. (The other stop signals it blocks, and
 * a thread that takes one starts a group stop; one that every thread
 * blocks stops none.)
 */
static bool pinmdl_task_held(struct task_struct *tsk)
{
	sigset_t pending;

	sigemptyset(&pending);
	/*
	 * A SIGSTOP sent and taken by no thread yet. The sets are read
	 * without the siglock, as every look here is racy: a stop that a look
	 * misses is the window the comment of pinmdl_worker_reap() tells of.
	 */
	pending.sig[0] = data_race(tsk->pending.signal.sig[0] |
				   tsk->signal->shared_pending.signal.sig[0]);
	return sigismember(&pending, SIGSTOP) ||
	       task_is_stopped_or_traced(tsk) ||
	       READ_ONCE(tsk->__state) & TASK_FROZEN ||
	       READ_ONCE(tsk->jobctl) & (JOBCTL_STOP_PENDING |
					 JOBCTL_TRAP_MASK |
					 JOBCTL_TRAP_FREEZE);
}

/*
 * End the thread of a worker whose lock is done with it, from the reaper's
 * workqueue, so that the locker returns at once and never waits for job
 * control: a worker that has not run yet, or that its process's job
 * control holds, is looked at again later, less often each time; one that
 * was killed is ended at once (a frozen task keeps its freezer's mark as
 * it dies). A stop signal sent between the look and the thread's exit
 * still holds this reaper, not the process, until SIGCONT or SIGKILL:
 * vhost tasks offer no stop that does not wait. The worker's module
 * reference goes last: the module's exit waits for this function to
 * return (pinmdl_pin_exit()).
 */
static void pinmdl_worker_reap(struct work_struct *work)
{
	struct pinmdl_pin_worker *w = container_of(to_delayed_work(work),
						   struct pinmdl_pin_worker,
						   reap);
	struct task_struct *tsk;

	WRITE_ONCE(w->reaping, true);
	/* Orders the store above before the load, as in the thread. */
	smp_mb();
	/* The vhost task holds its task_struct until it is stopped. */
	tsk = READ_ONCE(w->tsk);
	if (!READ_ONCE(w->dead) && (!tsk || pinmdl_task_held(tsk))) {
		w->retry = clamp(2 * w->retry, PINMDL_REAP_RETRY_MIN,
				 PINMDL_REAP_RETRY_MAX);
		queue_delayed_work(pinmdl_reap_wq, &w->reap, w->retry);
		return;
	}
	pinmdl_compat_worker_stop(w->task);
	/* The thread, gone now, may have brought the reaper back meanwhile. */
	cancel_delayed_work(&w->reap);
	kfree(w);
	atomic_long_dec(&pinmdl_stats.workers_live);
	module_put(THIS_MODULE);
}

/*
 * Start up to @n workers for @job in @workers, threads of the calling
 * process, each holding a reference to the module until it is reaped;
 * return how many started (fewer if the process may have no more threads:
 * with none, the locker pins alone).
 */
static unsigned int pinmdl_workers_start(struct pinmdl_pin_job *job,
					 struct pinmdl_pin_worker **workers,
					 unsigned int n)
{
	struct pinmdl_pin_worker *w;
	unsigned int i;

	for (i = 0; i < n; i++) {
		w = kzalloc(sizeof(*w), GFP_KERNEL_ACCOUNT);
		if (!w)
			break;
		w->job = job;
		atomic_set(&w->state, PINMDL_WORKER_NEW);
		INIT_DELAYED_WORK(&w->reap, pinmdl_worker_reap);
		w->task = pinmdl_compat_worker_create(pinmdl_worker_run,
						      pinmdl_worker_killed, w);
		if (IS_ERR(w->task)) {
			kfree(w);
			break;
		}
		/* An ioctl's open file holds the module: it is live. */
		__module_get(THIS_MODULE);
		atomic_long_inc(&pinmdl_stats.workers_live);
		workers[i] = w;
	}
	if (i)
		atomic_long_inc(&pinmdl_stats.parallel_locks);
	atomic_set(&job->workers, i);
	init_completion(&job->idle);
	n = i;
	for (i = 0; i < n; i++)
		pinmdl_compat_worker_start(workers[i]->task);
	return n;
}

/*
 * Wait until the @n @workers of @job are done, and hand them to the reaper:
 * one that has not started is dropped. The wait is killable and freezable;
 * on a fatal signal the workers, threads of the same process, are killed
 * as well, and the wait goes on for them to stop pinning.
 */
static int pinmdl_workers_finish(struct pinmdl_pin_job *job,
				 struct pinmdl_pin_worker **workers,
				 unsigned int n)
{
	unsigned int i;
	int ret = 0;

	for (i = 0; i < n; i++)
		pinmdl_worker_drop(workers[i]);
	if (wait_for_completion_state(&job->idle,
				      TASK_KILLABLE | TASK_FREEZABLE)) {
		WRITE_ONCE(job->abort, true);
		wait_for_completion(&job->idle);
		ret = -EINTR;
	}
	for (i = 0; i < n; i++)
		queue_delayed_work(pinmdl_reap_wq, &workers[i]->reap, 0);
	return ret;
}

/*
 * How many CPUs may pin a range of @count pages, the locker's included: at
 * most as many as the locker may run on, so that a task held to one CPU
 * does not get the time of several.
 */
static unsigned int pinmdl_pin_cpus(u64 count)
{
	unsigned int allowed, cpus;

	/* Every lock asks: the small ones look at no CPU mask. */
	if (count < READ_ONCE(pinmdl_parallel_lock_pages) ||
	    !pinmdl_compat_may_start_workers())
		return 1;
	allowed = cpumask_weight_and(current->cpus_ptr, cpu_online_mask);
	cpus = READ_ONCE(pinmdl_lock_workers) ?: allowed;
	cpus = min3(cpus, allowed, PINMDL_MAX_LOCK_WORKERS);
	return min_t(u64, cpus, DIV_ROUND_UP(count, PINMDL_PIECE_PAGES));
}

/*
 * Pin @job on up to @cpus CPUs with @workers. The locker pins the first
 * piece alone; if the rest would take it PINMDL_PARALLEL_MIN_NS or more at
 * that pace, the workers join in, else it goes on alone. Then the locker
 * finishes each piece a worker left short. Return 0, or the errno, with
 * every piece unpinned.
 */
static int pinmdl_pin_parallel(struct pinmdl_pin_job *job, unsigned int cpus,
			       struct pinmdl_pin_worker **workers)
{
	u64 piece, rest, start = ktime_get_ns();
	unsigned int n = 0;
	int ret, err = 0;

	atomic64_set(&job->next, 1);
	ret = pinmdl_pin_local(job, 0, pinmdl_piece_end(job, 0), &job->done[0]);
	if (ret)
		goto out_unpin;
	/* At the first piece's pace per page; it may be a page or 2048. */
	if (!check_mul_overflow(ktime_get_ns() - start,
				job->count - job->done[0], &rest) &&
	    rest < PINMDL_PARALLEL_MIN_NS * job->done[0])
		cpus = 1;
	if (cpus > 1)
		n = pinmdl_workers_start(job, workers, cpus - 1);
	ret = pinmdl_pin_pieces(job, false);
	if (n)
		err = pinmdl_workers_finish(job, workers, n);
	ret = ret ?: err;
	for (piece = 0; piece < job->pieces && !ret; piece++)
		ret = pinmdl_pin_local(job, pinmdl_piece_first(job, piece),
				       pinmdl_piece_end(job, piece),
				       &job->done[piece]);
out_unpin:
	if (ret) {
		for (piece = 0; piece < job->pieces; piece++)
			pinmdl_unpin_pfns(job->entries +
					  pinmdl_piece_first(job, piece),
					  job->done[piece], false);
	}
	return ret;
}

/**
 * pinmdl_pin_user_range() - pin a range of a descriptor into its PFN array
 * @mdl: descriptor being locked, with its PFN array allocated, in the
 *	 calling process's address space
 * @start: page-aligned address of the range
 * @entries: where its PFNs go in @mdl's array
 * @count: its pages
 * @gup_flags: FOLL_LONGTERM and FOLL_WRITE as the operation wants
 * @nowait: pin only what is mapped, with no fault and no wait, or fail
 *	    with -EAGAIN (an io_uring command issued where it may not block)
 *
 * Below parallel_lock_pages, or on one CPU, the locker pins the range on
 * its own; above, with workers on the other CPUs (see the top of this
 * file). All or nothing either way.
 *
 * Context: process context, the locker's; may sleep unless @nowait.
 * Return: 0, with every page pinned and its PFN stored; -EFAULT if part of
 * the range cannot be pinned; -ENOMEM; -EINTR on a fatal signal; -EAGAIN
 * if @nowait and pinning it would fault, wait, take workers, or replace
 * stale read pins. On failure nothing stays pinned.
 */
int pinmdl_pin_user_range(struct pinmdl *mdl, unsigned long start,
			  u64 *entries, u64 count, unsigned int gup_flags,
			  bool nowait)
{
	struct pinmdl_pin_job job = {
		.mm = mdl->mm,
		.entries = entries,
		.start = start,
		.count = count,
		.gup_flags = gup_flags,
		.fix_reads = pinmdl_compat_reads_go_stale(gup_flags),
		.nowait = nowait,
	};
	unsigned int cpus = pinmdl_pin_cpus(job.count);
	struct pinmdl_pin_worker **workers = NULL;
	u64 done = 0;
	int ret;

	/* Workers and the replacing of stale read pins may wait. */
	if (nowait && (cpus > 1 || job.fix_reads))
		return -EAGAIN;
	/* Stale read pins are replaced by the locker alone. */
	if (job.fix_reads)
		cpus = 1;
	/* Without the memory to share the work, the locker does it all. */
	if (cpus > 1) {
		job.head = (job.start >> PAGE_SHIFT) % PINMDL_PIECE_PAGES;
		job.pieces = DIV_ROUND_UP(job.count + job.head,
					  PINMDL_PIECE_PAGES);
		job.done = kvcalloc(job.pieces, sizeof(*job.done),
				    GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
		workers = kcalloc(cpus - 1, sizeof(*workers),
				  GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
		if (job.done && workers) {
			ret = pinmdl_pin_parallel(&job, cpus, workers);
			goto out_free;
		}
	}
	ret = pinmdl_pin_local(&job, 0, job.count, &done);
	if (ret)
		pinmdl_unpin_pfns(job.entries, done, false);
out_free:
	kfree(workers);
	kvfree(job.done);
	return ret;
}

/*
 * How many of the @max PFNs from @pfns on follow each other: four compared
 * at a time, as a huge folio's 512 make the run that counts.
 */
static u64 pinmdl_pfn_run(const u64 *pfns, u64 max)
{
	u64 first = pfns[0], k = 1;

	for (; k + 4 <= max; k += 4)
		if ((pfns[k] ^ (first + k)) | (pfns[k + 1] ^ (first + k + 1)) |
		    (pfns[k + 2] ^ (first + k + 2)) |
		    (pfns[k + 3] ^ (first + k + 3)))
			break;
	while (k < max && pfns[k] == first + k)
		k++;
	return k;
}

/**
 * pinmdl_unpin_pfns() - unpin pinned pages by their PFNs
 * @pfns: PFNs of pages pinned once each; left meaningless
 * @count: how many
 * @dirty: mark the pages dirty first (after a write lock)
 *
 * Context: process context; may sleep, and reschedules every
 * PINMDL_PIN_CHUNK pages.
 */
void pinmdl_unpin_pfns(u64 *pfns, u64 count, bool dirty)
{
	struct page **pages = (struct page **)pfns;
	u64 first, end, i, run, singles;

	for (first = 0; first < count; first = end) {
		end = min(count, first + PINMDL_PIN_CHUNK);
		singles = 0;
		for (i = first; i < end; i += run) {
			run = pinmdl_pfn_run(pfns + i, end - i);
			if (run > 1)
				unpin_user_page_range_dirty_lock(pfn_to_page(pfns[i]),
								 run, dirty);
			else
				pages[first + singles++] = pfn_to_page(pfns[i]);
		}
		if (singles)
			unpin_user_pages_dirty_lock(pages + first, singles,
						    dirty);
		cond_resched();
	}
}

/**
 * pinmdl_pin_init() - create the workqueue that reaps parallel locks' workers
 *
 * Return: 0, or -ENOMEM.
 */
int pinmdl_pin_init(void)
{
	pinmdl_reap_wq = alloc_workqueue("pinmdl_reap", WQ_UNBOUND, 0);
	return pinmdl_reap_wq ? 0 : -ENOMEM;
}

/**
 * pinmdl_pin_exit() - destroy the workqueue that reaps workers
 *
 * Every worker holds a reference to the module until it is reaped, so
 * none is left; the last reaping may still be returning, and the
 * workqueue's destruction waits for it.
 */
void pinmdl_pin_exit(void)
{
	destroy_workqueue(pinmdl_reap_wq);
}
