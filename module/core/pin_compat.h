/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the supported kernels in how pins behave, in GUP's
 * and the DMA layer's interfaces and in the module state targets are
 * opened by. Interfaces are told apart by Kbuild probes (module/probes/);
 * behaviour, which no probe can see, by version in pin_compat.c alone.
 */
#ifndef _PINMDL_PIN_COMPAT_H
#define _PINMDL_PIN_COMPAT_H

#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched.h>
#ifdef PINMDL_HAVE_VHOST_TASK
#include <linux/sched/vhost_task.h>
#endif

struct pinmdl;
struct vhost_task;

int pinmdl_compat_check_pins(struct pinmdl *mdl, bool write);
bool pinmdl_compat_reads_go_stale(unsigned int gup_flags);

/**
 * struct pinmdl_compat_range - a user range being pinned
 * @mm: its address space
 * @start: page-aligned address of its first page
 * @pfns: a PFN a page, filled as it is pinned
 */
struct pinmdl_compat_range {
	struct mm_struct *mm;
	unsigned long start;
	u64 *pfns;
};

int pinmdl_compat_fix_read_chunk(const struct pinmdl_compat_range *r,
				 u64 first, u64 end);

/*
 * pin_user_pages_remote() with the mmap_lock held by the caller and never
 * dropped: 6.5 took its vmas argument away (probe
 * pin_user_pages_remote_novmas).
 */
static inline long pinmdl_compat_pin_remote(struct mm_struct *mm,
					    unsigned long start,
					    unsigned long nr_pages,
					    unsigned int gup_flags,
					    struct page **pages)
{
#ifdef PINMDL_HAVE_PIN_USER_PAGES_REMOTE_NOVMAS
	return pin_user_pages_remote(mm, start, nr_pages, gup_flags, pages,
				     NULL);
#else
	return pin_user_pages_remote(mm, start, nr_pages, gup_flags, pages,
				     NULL, NULL);
#endif
}

/*
 * Fault in @nr_pages from @start of @mm for @gup_flags, pinning nothing
 * (get_user_pages_remote() with no page array), with the mmap_lock held
 * by the caller and dropped meanwhile if *@locked allows: 6.5 took its
 * vmas argument away (probe pin_user_pages_remote_novmas, the same change).
 */
static inline long pinmdl_compat_fault_in_remote(struct mm_struct *mm,
						 unsigned long start,
						 unsigned long nr_pages,
						 unsigned int gup_flags,
						 int *locked)
{
#ifdef PINMDL_HAVE_PIN_USER_PAGES_REMOTE_NOVMAS
	return get_user_pages_remote(mm, start, nr_pages, gup_flags, NULL,
				     locked);
#else
	return get_user_pages_remote(mm, start, nr_pages, gup_flags, NULL,
				     NULL, locked);
#endif
}

/*
 * Threads of the calling process for a parallel lock's workers: user
 * workers made with vhost_task_create() (probe vhost_task), which 6.1
 * lacks, and kernels built without CONFIG_VHOST_TASK: there, locks pin on
 * the locker alone. So does a caller that is not a plain user task (a
 * kernel thread, or a user worker such as io_uring's).
 */
#ifdef PINMDL_HAVE_VHOST_TASK
static inline bool pinmdl_compat_may_start_workers(void)
{
	return !(current->flags & (PF_KTHREAD | PF_USER_WORKER));
}

static inline struct vhost_task *
pinmdl_compat_worker_create(bool (*fn)(void *), void (*killed)(void *),
			    void *arg)
{
	return vhost_task_create(fn, killed, arg, "pinmdl-lock");
}

static inline void pinmdl_compat_worker_start(struct vhost_task *task)
{
	vhost_task_start(task);
}

static inline void pinmdl_compat_worker_stop(struct vhost_task *task)
{
	vhost_task_stop(task);
}
#else
static inline bool pinmdl_compat_may_start_workers(void)
{
	return false;
}

static inline struct vhost_task *
pinmdl_compat_worker_create(bool (*fn)(void *), void (*killed)(void *),
			    void *arg)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline void pinmdl_compat_worker_start(struct vhost_task *task)
{
}

static inline void pinmdl_compat_worker_stop(struct vhost_task *task)
{
}
#endif

/*
 * Whether @vma is a private writable mapping, one that copies on write:
 * is_cow_mapping(vm_flags) became vma_is_cow_mapping(vma) (probe
 * vma_is_cow_mapping).
 */
static inline bool pinmdl_compat_cow_mapping(const struct vm_area_struct *vma)
{
#ifdef PINMDL_HAVE_VMA_IS_COW_MAPPING
	return vma_is_cow_mapping(vma);
#else
	return is_cow_mapping(vma->vm_flags);
#endif
}

/*
 * Set or clear flags of a VMA being mapped: vma->vm_flags became
 * read-only behind vm_flags_set() and vm_flags_clear() in 6.3 (probe
 * vm_flags_set).
 */
static inline void pinmdl_compat_vm_flags_set(struct vm_area_struct *vma,
					      vm_flags_t flags)
{
#ifdef PINMDL_HAVE_VM_FLAGS_SET
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

static inline void pinmdl_compat_vm_flags_clear(struct vm_area_struct *vma,
						vm_flags_t flags)
{
#ifdef PINMDL_HAVE_VM_FLAGS_SET
	vm_flags_clear(vma, flags);
#else
	vma->vm_flags &= ~flags;
#endif
}

/*
 * A DMA mapping kept across requests is made without syncs and must never
 * need any: the device is DMA-coherent and nothing of it is bounced.
 * DMA_ATTR_REQUIRE_COHERENT (probe dma_attr_require_coherent; 7.3 has it,
 * 6.12 not) has the DMA layer refuse such a mapping where it would need
 * syncs, for any direction, and has DMA-API debugging take the overlaps
 * of such mappings for the harmless ones they are. Without it, only
 * DMA_TO_DEVICE mappings are kept, whose overlaps debugging does not
 * count, and dma_need_sync() is asked of each entry once mapped.
 */
#ifdef PINMDL_HAVE_DMA_ATTR_REQUIRE_COHERENT
#define PINMDL_DMA_ATTRS_KEPT	(DMA_ATTR_SKIP_CPU_SYNC | \
				 DMA_ATTR_REQUIRE_COHERENT)
#else
#define PINMDL_DMA_ATTRS_KEPT	DMA_ATTR_SKIP_CPU_SYNC
#endif

/* Whether a mapping in direction @dir may be kept across requests. */
static inline bool pinmdl_compat_dma_keeps(enum dma_data_direction dir)
{
#ifdef PINMDL_HAVE_DMA_ATTR_REQUIRE_COHERENT
	return true;
#else
	return dir == DMA_TO_DEVICE;
#endif
}

/*
 * Map @sgt for @dev to be kept: 0; -ENOMEM; another error, with nothing
 * mapped, where the mapping would need syncs.
 */
static inline int pinmdl_compat_dma_map_kept(struct device *dev,
					     struct sg_table *sgt,
					     enum dma_data_direction dir)
{
	int ret = dma_map_sgtable(dev, sgt, dir, PINMDL_DMA_ATTRS_KEPT);
#ifndef PINMDL_HAVE_DMA_ATTR_REQUIRE_COHERENT
	struct scatterlist *sg;
	unsigned int i;

	if (ret)
		return ret;
	for_each_sgtable_dma_sg(sgt, sg, i) {
		if (dma_need_sync(dev, sg_dma_address(sg))) {
			dma_unmap_sgtable(dev, sgt, dir, PINMDL_DMA_ATTRS_KEPT);
			return -EOPNOTSUPP;
		}
	}
#endif
	return ret;
}

/*
 * Whether @mod (NULL: built in) is still in its init, which may fail and
 * free it whatever holds it: module_is_coming() is newer than 6.1 (probe
 * module_is_coming).
 */
static inline bool pinmdl_compat_module_coming(struct module *mod)
{
	if (!mod)
		return false;
#ifdef PINMDL_HAVE_MODULE_IS_COMING
	return module_is_coming(mod);
#else
	return mod->state == MODULE_STATE_COMING;
#endif
}

#endif /* _PINMDL_PIN_COMPAT_H */
