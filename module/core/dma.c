// SPDX-License-Identifier: GPL-2.0
/*
 * DMA mappings of descriptors' pages for a device, in the direction each
 * access needs, and tables of ranges of them.
 *
 * Where a device's mappings cost nothing to keep (DMA-coherent, no bounce
 * buffer: a direct mapping or an IOMMU that does not bounce), a descriptor
 * is mapped whole once per device and direction and the mapping cached
 * until its pages go (unlock, or the free of a kernel-source descriptor),
 * as ib_umem maps a memory region once; a table sees only its ranges of
 * it, and no sync is ever needed. Where they would hold bounce buffers or
 * need syncs, each table maps just its own ranges, synced for the device
 * when made and back for the CPU when freed, so that nothing bounces for
 * longer than the access.
 *
 * Each cached mapping is on two lists, its descriptor's and its device
 * domain's, both under pinmdl_dma_lock: whichever of the descriptor's
 * unlock and the domain's purge takes it off first unmaps it, within
 * pinmdl_dma_teardown. A table's own mappings are on no list: the table
 * lives within its request, which keeps its descriptors and its target.
 */
#include <linux/dma-mapping.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/swiotlb.h>

#include "core/desc.h"
#include "core/pin_compat.h"
#include "core/stats.h"

/* Protects the lists of mappings and the domains' dead flags. */
static DEFINE_SPINLOCK(pinmdl_dma_lock);

/*
 * Held from taking mappings off their lists until they are unmapped, so
 * that a purge returns only once no mapping of its device is left, even
 * one an unlock took first.
 */
static DEFINE_MUTEX(pinmdl_dma_teardown);

/**
 * struct pinmdl_dma_map - pages of a descriptor mapped for one device
 * @mdl_node: entry in the descriptor's @dma_maps (cached mappings only)
 * @dom_node: entry in the domain's @maps (cached mappings only)
 * @dom: the device's domain
 * @sgt: the pages, from byte @start of the descriptor, DMA-mapped
 * @start: first byte mapped: 0 for a cached mapping, which maps every
 *	   page, else the start of the table's range
 * @dir: the direction of the accesses it serves
 * @cached: kept across requests, made with PINMDL_DMA_ATTRS_KEPT; else a
 *	    table's own, made with DMA_ATTR_SKIP_CPU_SYNC and synced
 */
struct pinmdl_dma_map {
	struct list_head mdl_node;
	struct list_head dom_node;
	struct pinmdl_dma_domain *dom;
	struct sg_table sgt;
	u64 start;
	enum dma_data_direction dir;
	bool cached;
};

/**
 * pinmdl_dma_domain_init() - start a domain of cached mappings for a device
 * @dom: the domain
 * @dev: the device, NULL for none; its DMA mask is set
 *
 * Mappings for @dev are cached unless it bounces every mapping (swiotlb
 * forced, as in a confidential-computing guest), cannot reach all memory
 * (a bounce for the pages it cannot), or its first cached mapping would
 * need syncs (a device that is not DMA-coherent, an IOMMU that bounces).
 */
void pinmdl_dma_domain_init(struct pinmdl_dma_domain *dom, struct device *dev)
{
	dom->dev = dev;
	INIT_LIST_HEAD(&dom->maps);
	dom->dead = false;
	dom->keep = dev && !is_swiotlb_force_bounce(dev) &&
		    !dma_addressing_limited(dev);
}

static void pinmdl_dma_map_free(struct pinmdl_dma_map *map)
{
	struct device *dev = map->dom->dev;

	if (map->cached) {
		atomic_long_dec(&pinmdl_stats.dma_maps);
		dma_unmap_sgtable(dev, &map->sgt, map->dir,
				  PINMDL_DMA_ATTRS_KEPT);
	} else {
		/* What the device wrote comes back to the CPU. */
		if (map->dir != DMA_TO_DEVICE)
			dma_sync_sgtable_for_cpu(dev, &map->sgt, map->dir);
		dma_unmap_sgtable(dev, &map->sgt, map->dir,
				  DMA_ATTR_SKIP_CPU_SYNC);
	}
	sg_free_table(&map->sgt);
	kfree(map);
}

/**
 * pinmdl_dma_domain_purge() - unmap every mapping of a domain for good
 * @dom: the domain; no request may use it any more
 *
 * Context: process context.
 */
void pinmdl_dma_domain_purge(struct pinmdl_dma_domain *dom)
{
	struct pinmdl_dma_map *map, *next;
	LIST_HEAD(gone);

	mutex_lock(&pinmdl_dma_teardown);
	spin_lock(&pinmdl_dma_lock);
	dom->dead = true;
	list_for_each_entry_safe(map, next, &dom->maps, dom_node) {
		list_del(&map->mdl_node);
		list_move(&map->dom_node, &gone);
	}
	spin_unlock(&pinmdl_dma_lock);
	list_for_each_entry_safe(map, next, &gone, dom_node)
		pinmdl_dma_map_free(map);
	mutex_unlock(&pinmdl_dma_teardown);
}

/**
 * pinmdl_dma_unmap_all() - unmap every cached mapping of a descriptor
 * @mdl: descriptor whose pages are going
 *
 * Context: process context, @mdl->lock held.
 */
void pinmdl_dma_unmap_all(struct pinmdl *mdl)
{
	struct pinmdl_dma_map *map, *next;
	LIST_HEAD(gone);

	lockdep_assert_held(&mdl->lock);

	if (list_empty(&mdl->dma_maps))
		return;
	mutex_lock(&pinmdl_dma_teardown);
	spin_lock(&pinmdl_dma_lock);
	list_for_each_entry_safe(map, next, &mdl->dma_maps, mdl_node) {
		list_del(&map->dom_node);
		list_move(&map->mdl_node, &gone);
	}
	spin_unlock(&pinmdl_dma_lock);
	list_for_each_entry_safe(map, next, &gone, mdl_node)
		pinmdl_dma_map_free(map);
	mutex_unlock(&pinmdl_dma_teardown);
}

static struct pinmdl_dma_map *pinmdl_dma_find(struct pinmdl *root,
					      struct pinmdl_dma_domain *dom,
					      enum dma_data_direction dir)
{
	struct pinmdl_dma_map *map, *found = NULL;

	spin_lock(&pinmdl_dma_lock);
	list_for_each_entry(map, &root->dma_maps, mdl_node) {
		if (map->dom == dom && map->dir == dir) {
			found = map;
			break;
		}
	}
	spin_unlock(&pinmdl_dma_lock);
	return found;
}

/*
 * A new mapping of [@offset, @offset + @length) of @root for @dom's device:
 * cached, of every page, or the caller's own, synced for the device.
 * -EAGAIN if a cached one would need syncs: the domain keeps none from
 * then on.
 */
static struct pinmdl_dma_map *pinmdl_dma_map_new(struct pinmdl *root,
						 u64 offset, u64 length,
						 struct pinmdl_dma_domain *dom,
						 enum dma_data_direction dir,
						 bool cached)
{
	struct device *dev = dom->dev;
	struct pinmdl_dma_map *map;
	int ret;

	lockdep_assert_held(&root->lock);

	map = kzalloc(sizeof(*map), GFP_KERNEL_ACCOUNT);
	if (!map)
		return ERR_PTR(-ENOMEM);
	map->dom = dom;
	map->start = offset;
	map->dir = dir;
	map->cached = cached;
	/* No entry larger than the DMA layer maps at once (swiotlb's slots). */
	ret = pinmdl_sg_table_locked(root, offset, length, &map->sgt,
				     min_t(size_t, dma_get_max_seg_size(dev),
					   dma_max_mapping_size(dev)),
				     dma_get_seg_boundary(dev),
				     GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (ret)
		goto err_free;
	if (!cached) {
		ret = dma_map_sgtable(dev, &map->sgt, dir,
				      DMA_ATTR_SKIP_CPU_SYNC);
		if (ret)
			goto err_free_table;
		/* What the CPU wrote goes to the device (or its bounce). */
		dma_sync_sgtable_for_device(dev, &map->sgt, dir);
		return map;
	}

	ret = pinmdl_compat_dma_map_kept(dev, &map->sgt, dir);
	if (ret && ret != -ENOMEM) {
		/* It would need syncs: this device's mappings are not kept. */
		WRITE_ONCE(dom->keep, false);
		ret = -EAGAIN;
	}
	if (ret)
		goto err_free_table;
	spin_lock(&pinmdl_dma_lock);
	if (dom->dead) {
		spin_unlock(&pinmdl_dma_lock);
		ret = -ENODEV;
		goto err_unmap;
	}
	list_add(&map->mdl_node, &root->dma_maps);
	list_add(&map->dom_node, &dom->maps);
	atomic_long_inc(&pinmdl_stats.dma_maps);
	spin_unlock(&pinmdl_dma_lock);
	return map;

err_unmap:
	dma_unmap_sgtable(dev, &map->sgt, dir, PINMDL_DMA_ATTRS_KEPT);
err_free_table:
	sg_free_table(&map->sgt);
err_free:
	kfree(map);
	return ERR_PTR(ret);
}

/*
 * The mapping that serves [@offset, @offset + @length) of @root in
 * direction @dir: the cached one, made now if there is none, where the
 * device's mappings may be kept; else one of the range alone, for the
 * caller to free. The descriptor is held in flight by the caller, so its
 * pages stay until the caller is done.
 */
static struct pinmdl_dma_map *pinmdl_dma_get(struct pinmdl *root,
					     u64 offset, u64 length,
					     struct pinmdl_dma_domain *dom,
					     enum dma_data_direction dir)
{
	struct pinmdl_dma_map *map = NULL;

	if (READ_ONCE(dom->keep) && pinmdl_compat_dma_keeps(dir)) {
		map = pinmdl_dma_find(root, dom, dir);
		if (map)
			return map;
		mutex_lock(&root->lock);
		map = pinmdl_dma_find(root, dom, dir) ?:
		      pinmdl_dma_map_new(root, 0, root->byte_count, dom, dir,
					 true);
		mutex_unlock(&root->lock);
		if (PTR_ERR(map) != -EAGAIN)
			return map;
	}
	mutex_lock(&root->lock);
	map = pinmdl_dma_map_new(root, offset, length, dom, dir, false);
	mutex_unlock(&root->lock);
	return map;
}

/*
 * Call @fn on each piece of the DMA segments of @map that lies in
 * [@offset, @offset + @length) of the descriptor, in order.
 */
static void pinmdl_dma_walk(const struct pinmdl_dma_map *map, u64 offset,
			    u64 length,
			    void (*fn)(dma_addr_t addr, u32 len, void *ctx),
			    void *ctx)
{
	u64 pos = map->start, end = offset + length;
	struct scatterlist *sg;
	unsigned int i;

	for_each_sgtable_dma_sg(&map->sgt, sg, i) {
		u64 len = sg_dma_len(sg), from, to;

		if (pos + len > offset) {
			from = max(pos, offset);
			to = min(pos + len, end);
			fn(sg_dma_address(sg) + (from - pos), to - from, ctx);
		}
		pos += len;
		if (pos >= end)
			break;
	}
}

/**
 * pinmdl_dma_table_alloc() - start a DMA table for a device
 * @dom: the device's domain
 * @nr: ranges it will hold
 *
 * Context: process context.
 * Return: the table, or NULL without memory.
 */
struct pinmdl_dma_table *pinmdl_dma_table_alloc(struct pinmdl_dma_domain *dom,
						unsigned int nr)
{
	struct pinmdl_dma_table *t;

	t = kzalloc(struct_size(t, pieces, nr), GFP_KERNEL_ACCOUNT);
	if (t)
		t->dom = dom;
	return t;
}

/**
 * pinmdl_dma_table_add() - map the next range of a table
 * @t: table with room for it
 * @mdl: locked, partial or kernel-source descriptor, held in flight
 * @offset: start of the range, from @mdl's first byte
 * @length: length of the range, > 0, inside @mdl
 * @dir: how the device accesses it, not DMA_NONE
 *
 * Context: process context.
 * Return: 0, -ENOMEM, -ENODEV if the domain is purged, or a DMA mapping
 * error.
 */
int pinmdl_dma_table_add(struct pinmdl_dma_table *t, struct pinmdl *mdl,
			 u64 offset, u64 length, enum dma_data_direction dir)
{
	struct pinmdl *root = pinmdl_root(mdl, &offset);
	struct pinmdl_dma_map *map;

	map = pinmdl_dma_get(root, offset, length, t->dom, dir);
	if (IS_ERR(map))
		return PTR_ERR(map);
	t->pieces[t->nr++] = (struct pinmdl_dma_piece){
		.map = map, .offset = offset, .length = length,
	};
	return 0;
}

/**
 * struct pinmdl_dma_builder - a DMA table's entries being laid out
 * @sg: entry being filled; NULL while counting
 * @nents: entries so far
 * @addr: DMA address of the last entry
 * @len: its length
 * @max: longest entry (the device's max segment size)
 * @boundary: no entry crosses a multiple of @boundary + 1 (the device's
 *	      segment boundary mask)
 */
struct pinmdl_dma_builder {
	struct scatterlist *sg;
	unsigned int nents;
	dma_addr_t addr;
	u32 len;
	u32 max;
	unsigned long boundary;
};

/* Add [@addr, @addr + @len) to the table, merged into its last entry if it can. */
static void pinmdl_dma_emit_one(struct pinmdl_dma_builder *b, dma_addr_t addr,
				u32 len)
{
	if (b->nents && b->addr + b->len == addr && len <= b->max - b->len &&
	    (b->addr | b->boundary) == ((addr + len - 1) | b->boundary)) {
		b->len += len;
	} else {
		if (b->nents && b->sg)
			b->sg = sg_next(b->sg);
		b->nents++;
		b->addr = addr;
		b->len = len;
	}
	if (b->sg) {
		sg_dma_address(b->sg) = b->addr;
		sg_dma_len(b->sg) = b->len;
	}
}

/* Add a mapped piece, split at the device's segment boundaries and size. */
static void pinmdl_dma_emit(dma_addr_t addr, u32 len, void *ctx)
{
	struct pinmdl_dma_builder *b = ctx;
	u32 piece;

	while (len) {
		piece = min_t(u64, len - 1, (addr | b->boundary) - addr) + 1;
		piece = min(piece, b->max);
		pinmdl_dma_emit_one(b, addr, piece);
		addr += piece;
		len -= piece;
	}
}

static void pinmdl_dma_table_walk(struct pinmdl_dma_table *t,
				  struct pinmdl_dma_builder *b)
{
	struct pinmdl_dma_piece *p;
	unsigned int i;

	for (i = 0; i < t->nr; i++) {
		p = &t->pieces[i];
		pinmdl_dma_walk(p->map, p->offset, p->length, pinmdl_dma_emit,
				b);
	}
}

/**
 * pinmdl_dma_table_build() - lay out a table's DMA segments
 * @t: table whose ranges are all added
 *
 * Fills @t->sgt with the DMA addresses and lengths of the ranges, in
 * order, contiguous ones merged up to the device's max segment size and
 * within its segment boundary (for_each_sgtable_dma_sg()).
 *
 * Context: process context.
 * Return: 0 or -ENOMEM.
 */
int pinmdl_dma_table_build(struct pinmdl_dma_table *t)
{
	struct device *dev = t->dom->dev;
	struct pinmdl_dma_builder b = {
		.max = dma_get_max_seg_size(dev),
		.boundary = dma_get_seg_boundary(dev),
	};
	int ret;

	pinmdl_dma_table_walk(t, &b);
	ret = sg_alloc_table(&t->sgt, b.nents,
			     GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (ret)
		return ret;
	b = (struct pinmdl_dma_builder){
		.sg = t->sgt.sgl, .max = b.max, .boundary = b.boundary,
	};
	pinmdl_dma_table_walk(t, &b);
	return 0;
}

/**
 * pinmdl_dma_table_free() - hand a table's ranges back to the CPU
 * @t: table, built or not
 *
 * The table's own mappings are synced back for the CPU where the device
 * wrote and unmapped; cached ones stay.
 *
 * Context: any where a spinlock_t may be taken.
 */
void pinmdl_dma_table_free(struct pinmdl_dma_table *t)
{
	unsigned int i;

	for (i = 0; i < t->nr; i++)
		if (!t->pieces[i].map->cached)
			pinmdl_dma_map_free(t->pieces[i].map);
	sg_free_table(&t->sgt);
	kfree(t);
}
