/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The descriptor engine's private view of struct pinmdl, shared by the
 * files of pinmdl.ko and never by other modules.
 */
#ifndef _PINMDL_DESC_H
#define _PINMDL_DESC_H

#include <linux/build_bug.h>
#include <linux/kref.h>
#include <linux/mm_types.h>
#include <linux/dma-direction.h>
#include <linux/mutex.h>
#include <linux/xarray.h>

#include "pinmdl.h"

/**
 * struct pinmdl - a memory descriptor
 * @lock: serialises state changes (lock, unlock, partial, mapping, free)
 * @ref: lifetime; the creator holds one, each lookup and child one more
 * @in_flight: requests holding this descriptor; taken under @lock, dropped
 *	       from any context without it
 * @mm: address space of a user descriptor (mmgrab'd), NULL for kernel ones
 * @parent: parent of a partial descriptor (a reference is held)
 * @user: user charged for a lock in @user->locked_vm, NULL if none
 * @children: partial descriptors built on this one
 * @exports: dma-bufs of the pages that exist (export.c); each holds a
 *	     reference, and the pages stay locked while one does
 * @handle: handle in the owning /dev/pinmdl file, 0 for kernel callers
 * @flags: PINMDL_F_*
 * @byte_offset: offset of the range in its first page
 * @operation: PINMDL_IO_* of the lock (or of the parent's lock)
 * @cache: enum pinmdl_cache_type of allocated pages, or PINMDL_CACHE_LOST
 *	   (cache.c)
 * @dead: freed by its creator; no new state change may start. An exported
 *	  descriptor whose file went keeps its pages, dead, until its last
 *	  dma-buf goes
 * @locking: a probe-and-lock is pinning the pages, without @lock held;
 *	     every other state change is refused with -EBUSY meanwhile
 * @kernel_mode: locked with PINMDL_KERNEL_MODE (kernel pages, not pinned)
 * @start_va: page-aligned start of the range
 * @byte_count: length of the range in bytes
 * @page_count: pages spanned by the range
 * @dma_maps: cached DMA mappings of the pages (struct pinmdl_dma_map),
 *	      under pinmdl_dma_lock
 * @system_va: kernel mapping (vmap) of the pages, valid with MAPPED_SYSTEM_VA
 * @pfns: PFN of each page, valid when locked, partial or kernel-source: a
 *	  user or kernel-mode lock allocates it and unlock frees it, a
 *	  kernel-source descriptor has it from birth, and a partial one points
 *	  into its parent's, which cannot go while the child exists
 * @umap: the window through which user space maps the pages (umap.c), or
 *	  NULL
 */
struct pinmdl {
	struct mutex lock; /* protects the state fields below */
	struct kref ref;
	atomic_t in_flight;
	struct mm_struct *mm;
	struct pinmdl *parent;
	struct user_struct *user;
	unsigned int children;
	unsigned int exports;
	u32 handle;
	u32 flags;
	u16 byte_offset;
	u8 operation;
	u8 cache;
	bool dead;
	bool locking;
	bool kernel_mode;
	u64 start_va;
	u64 byte_count;
	u64 page_count;
	struct list_head dma_maps;
	void *system_va;
	u64 *pfns;
	struct pinmdl_umap *umap;
};

/* @byte_offset holds any offset in a page. */
static_assert(PAGE_SHIFT <= 16);

/**
 * struct pinmdl_page_list - a descriptor over a list of ranges (pages.c)
 * @mdl: the descriptor, PINMDL_F_PAGE_LIST, first
 * @nr_ranges: entries of @ranges
 * @ranges: the ranges, page aligned, in the order offsets run over them
 */
struct pinmdl_page_list {
	struct pinmdl mdl;
	u32 nr_ranges;
	struct pinmdl_range ranges[];
};

/* Freed as the descriptor it holds first. */
static_assert(offsetof(struct pinmdl_page_list, mdl) == 0);

static inline struct pinmdl_page_list *pinmdl_page_list(const struct pinmdl *mdl)
{
	return container_of(mdl, struct pinmdl_page_list, mdl);
}

struct pinmdl *pinmdl_new(u64 addr, u64 length, size_t size, gfp_t gfp);
size_t pinmdl_header_size(const struct pinmdl *mdl);
int pinmdl_pin_page_list(struct pinmdl *mdl, unsigned int gup_flags,
			 bool nowait);
int pinmdl_lock_pages(struct pinmdl *mdl, u32 access_mode, u32 operation,
		      bool nowait);
void pinmdl_get(struct pinmdl *mdl);
void pinmdl_put(struct pinmdl *mdl);
struct pinmdl *pinmdl_root(struct pinmdl *mdl, u64 *offset);
u64 pinmdl_pages_spanned(u64 addr, u64 length);
bool pinmdl_has_pfns(const struct pinmdl *mdl);
bool pinmdl_range_valid(const struct pinmdl *mdl, u64 offset, u64 length);
void pinmdl_unmap_system_va(struct pinmdl *mdl);
u64 *pinmdl_pfn_array_alloc(u64 count, gfp_t gfp);
void pinmdl_pfn_array_free(u64 *pfns, u64 count);
int pinmdl_alloc_pfns(struct pinmdl *mdl, gfp_t gfp);
void pinmdl_free_pfns(struct pinmdl *mdl);
int pinmdl_fill_kernel_pfns(struct pinmdl *mdl);
void pinmdl_drop_views(struct pinmdl *mdl);
int pinmdl_charge(struct pinmdl *mdl);
void pinmdl_uncharge_pages(struct pinmdl *mdl, u64 pages);
void pinmdl_uncharge(struct pinmdl *mdl);
void pinmdl_free_allocated_pages(struct pinmdl *mdl);
int pinmdl_locked_state(const struct pinmdl *mdl, u32 refuse);
void pinmdl_release_pages(struct pinmdl *mdl);
bool pinmdl_orphan(struct pinmdl *mdl);

/* The pages' memory type is unknown: no more mappings, never freed. */
#define PINMDL_CACHE_LOST	0xff

pgprot_t pinmdl_cache_prot(const struct pinmdl *mdl, pgprot_t prot);
int pinmdl_cache_check(const struct pinmdl *mdl, enum pinmdl_cache_type cache);
int pinmdl_cache_set(struct pinmdl *mdl, enum pinmdl_cache_type cache);
bool pinmdl_cache_reset(struct pinmdl *mdl);
void *pinmdl_system_address_locked(struct pinmdl *mdl);

struct address_space;
struct vm_area_struct;
struct vm_fault;

/**
 * struct pinmdl_umap_space - the mmap(2) offsets of an open file (umap.c)
 * @windows: window number -> struct pinmdl_umap
 * @next: the number the next window is looked for from
 * @mapping: the file's address space, where every mapping of it is
 */
struct pinmdl_umap_space {
	struct xarray windows;
	u32 next;
	struct address_space *mapping;
};

void pinmdl_umap_space_init(struct pinmdl_umap_space *space,
			    struct address_space *mapping);
void pinmdl_umap_space_destroy(struct pinmdl_umap_space *space);
int pinmdl_umap_offset(struct pinmdl *mdl, struct pinmdl_umap_space *space,
		       bool write_combined, u64 *offset);
int pinmdl_umap_mmap(struct pinmdl_umap_space *space,
		     struct vm_area_struct *vma);
bool pinmdl_umap_mapped(const struct pinmdl *mdl);
vm_fault_t pinmdl_fault_pfns(struct vm_fault *vmf, const u64 *pfns,
			     unsigned long index, unsigned long pages);
void pinmdl_umap_revoke(struct pinmdl *mdl);
int pinmdl_umap_retire_unmapped(struct pinmdl *mdl);

/**
 * struct pinmdl_dma_domain - cached DMA mappings for one device
 * @dev: the device
 * @maps: its mappings (struct pinmdl_dma_map), under pinmdl_dma_lock
 * @dead: purged: no new mapping may be cached
 * @keep: the device's mappings cost nothing to keep (no bounce buffer, no
 *	  sync): a descriptor is mapped whole once and the mapping cached;
 *	  else each table maps just its ranges, for its own lifetime
 */
struct pinmdl_dma_domain {
	struct device *dev;
	struct list_head maps;
	bool dead;
	bool keep;
};

void pinmdl_dma_domain_init(struct pinmdl_dma_domain *dom,
			    struct device *dev);
void pinmdl_dma_domain_purge(struct pinmdl_dma_domain *dom);
void pinmdl_dma_unmap_all(struct pinmdl *mdl);

struct pinmdl_dma_map;

/**
 * struct pinmdl_dma_piece - a descriptor range in a DMA table
 * @map: the mapping it lies in: cached, or the table's own
 * @offset: start of the range, from the first byte of @map's descriptor
 * @length: its length
 */
struct pinmdl_dma_piece {
	struct pinmdl_dma_map *map;
	u64 offset;
	u64 length;
};

/**
 * struct pinmdl_dma_table - ranges of descriptors mapped for a device, in
 *			     order
 * @sgt: their DMA segments, contiguous ones merged up to the device's max
 *	 segment size and within its segment boundary
 * @node: entry in the request's tables
 * @dom: the device's domain
 * @nr: pieces added
 * @pieces: the ranges
 */
struct pinmdl_dma_table {
	struct sg_table sgt;
	struct list_head node;
	struct pinmdl_dma_domain *dom;
	unsigned int nr;
	struct pinmdl_dma_piece pieces[];
};

struct pinmdl_dma_table *pinmdl_dma_table_alloc(struct pinmdl_dma_domain *dom,
						unsigned int nr);
int pinmdl_dma_table_add(struct pinmdl_dma_table *t, struct pinmdl *mdl,
			 u64 offset, u64 length, enum dma_data_direction dir);
int pinmdl_dma_table_build(struct pinmdl_dma_table *t);
void pinmdl_dma_table_free(struct pinmdl_dma_table *t);
int pinmdl_sg_table_locked(struct pinmdl *mdl, u64 offset, u64 length,
			   struct sg_table *sgt, unsigned int max_segment,
			   unsigned long boundary, gfp_t gfp);
int pinmdl_sg_table_pages(const struct pinmdl *mdl, struct sg_table *sgt,
			  unsigned int max_segment, unsigned long boundary,
			  gfp_t gfp);
void *pinmdl_vmap(const struct pinmdl *mdl, bool write);
u64 pinmdl_bvec_fill(const struct pinmdl *mdl, u64 offset, u64 length,
		     struct bio_vec *bvec, unsigned int *nr);

extern unsigned long pinmdl_max_pinned_pages;
extern u64 pinmdl_max_descriptor_bytes;
extern unsigned int pinmdl_max_descriptors;

#endif /* _PINMDL_DESC_H */
