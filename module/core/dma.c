// SPDX-License-Identifier: GPL-2.0
/*
 * DMA mappings of a descriptor's pages, made once per descriptor and device
 * and cached until the pages go (unlock, or the free of a kernel-source
 * descriptor), as ib_umem maps a memory region once. Requests see only
 * their own ranges of a cached mapping.
 *
 * Mappings are made and unmapped without CPU syncs: the memory belongs to
 * the CPU between requests, and a target syncs just its request's range
 * for the device before the access and back after it. Unmapping never
 * copies a stale bounce buffer over what the CPU wrote since.
 *
 * Each mapping is on two lists, its descriptor's and its device domain's,
 * both under pinmdl_dma_lock: whichever of the descriptor's unlock and the
 * domain's purge takes it off first unmaps it, within pinmdl_dma_teardown.
 */
#include <linux/dma-mapping.h>
#include <linux/slab.h>
#include <linux/mutex.h>

#include "core/desc.h"
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
 * struct pinmdl_dma_map - a descriptor's pages mapped for one device
 * @mdl_node: entry in the descriptor's @dma_maps
 * @dom_node: entry in the domain's @maps
 * @dom: the device's domain
 * @sgt: every page of the descriptor, from its first byte, DMA-mapped
 * @dir: DMA_TO_DEVICE for a read lock, DMA_BIDIRECTIONAL for a write lock
 *	 or a kernel buffer
 */
struct pinmdl_dma_map {
	struct list_head mdl_node;
	struct list_head dom_node;
	struct pinmdl_dma_domain *dom;
	struct sg_table sgt;
	enum dma_data_direction dir;
};

/**
 * pinmdl_dma_domain_init() - start a domain of cached mappings for a device
 * @dom: the domain
 * @dev: the device
 */
void pinmdl_dma_domain_init(struct pinmdl_dma_domain *dom, struct device *dev)
{
	dom->dev = dev;
	INIT_LIST_HEAD(&dom->maps);
	dom->dead = false;
}

static void pinmdl_dma_map_free(struct pinmdl_dma_map *map)
{
	atomic_long_dec(&pinmdl_stats.dma_maps);
	dma_unmap_sgtable(map->dom->dev, &map->sgt, map->dir,
			  DMA_ATTR_SKIP_CPU_SYNC);
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
					      struct pinmdl_dma_domain *dom)
{
	struct pinmdl_dma_map *map, *found = NULL;

	spin_lock(&pinmdl_dma_lock);
	list_for_each_entry(map, &root->dma_maps, mdl_node) {
		if (map->dom == dom) {
			found = map;
			break;
		}
	}
	spin_unlock(&pinmdl_dma_lock);
	return found;
}

/* Map every page of @root for @dom's device and cache the mapping. */
static struct pinmdl_dma_map *pinmdl_dma_map_new(struct pinmdl *root,
						 struct pinmdl_dma_domain *dom)
{
	struct pinmdl_dma_map *map;
	int ret;

	lockdep_assert_held(&root->lock);

	map = kzalloc(sizeof(*map), GFP_KERNEL_ACCOUNT);
	if (!map)
		return ERR_PTR(-ENOMEM);
	map->dom = dom;
	map->dir = (root->flags & (PINMDL_F_WRITE_OPERATION |
				   PINMDL_F_SOURCE_IS_KERNEL)) ?
		   DMA_BIDIRECTIONAL : DMA_TO_DEVICE;
	ret = pinmdl_sg_table_locked(root, 0, root->byte_count, &map->sgt,
				     dma_get_max_seg_size(dom->dev),
				     dma_get_seg_boundary(dom->dev),
				     GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (ret)
		goto err_free;
	ret = dma_map_sgtable(dom->dev, &map->sgt, map->dir,
			      DMA_ATTR_SKIP_CPU_SYNC);
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
	dma_unmap_sgtable(dom->dev, &map->sgt, map->dir,
			  DMA_ATTR_SKIP_CPU_SYNC);
err_free_table:
	sg_free_table(&map->sgt);
err_free:
	kfree(map);
	return ERR_PTR(ret);
}

/*
 * The cached mapping of @mdl's pages for @dom, made now if there is none,
 * and the offset of @mdl's first byte in it. The descriptor is held in
 * flight by the caller, so its pages stay until the caller is done.
 */
static struct pinmdl_dma_map *pinmdl_dma_get(struct pinmdl *mdl, u64 *offset,
					     struct pinmdl_dma_domain *dom)
{
	struct pinmdl *root = pinmdl_root(mdl, offset);
	struct pinmdl_dma_map *map = pinmdl_dma_find(root, dom);

	if (map)
		return map;
	mutex_lock(&root->lock);
	map = pinmdl_dma_find(root, dom);
	if (!map)
		map = pinmdl_dma_map_new(root, dom);
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
	u64 pos = 0, end = offset + length;
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

/**
 * pinmdl_dma_range() - DMA addresses of part of a descriptor
 * @mdl: locked, partial or kernel-source descriptor, held in flight
 * @offset: start of the part, from @mdl's first byte
 * @length: length of the part, > 0, inside @mdl
 * @dom: the device's domain
 * @b: the table being built: counting while @b->sg is NULL, else filling
 *	from @b->sg; a part merges into the previous part's last entry where
 *	the two are contiguous, up to @b->max bytes
 *
 * Maps the descriptor once for the device, or uses the cached mapping.
 * Counting and then filling with the same parts gives the same entries.
 *
 * Context: process context.
 * Return: 0, -ENOMEM, -ENODEV if the domain is purged, or a DMA mapping
 * error.
 */
int pinmdl_dma_range(struct pinmdl *mdl, u64 offset, u64 length,
		     struct pinmdl_dma_domain *dom,
		     struct pinmdl_dma_builder *b)
{
	struct pinmdl_dma_map *map = pinmdl_dma_get(mdl, &offset, dom);

	if (IS_ERR(map))
		return PTR_ERR(map);
	pinmdl_dma_walk(map, offset, length, pinmdl_dma_emit, b);
	return 0;
}

/**
 * struct pinmdl_dma_syncer - state of pinmdl_dma_sync_range()
 * @dev: the device
 * @dir: direction of the mapping
 * @for_device: sync for the device, else for the CPU
 */
struct pinmdl_dma_syncer {
	struct device *dev;
	enum dma_data_direction dir;
	bool for_device;
};

static void pinmdl_dma_sync_one(dma_addr_t addr, u32 len, void *ctx)
{
	struct pinmdl_dma_syncer *s = ctx;

	/* Coherent and not bounced: nothing to do (nor to check). */
	if (!dma_need_sync(s->dev, addr))
		return;
	if (s->for_device)
		dma_sync_single_for_device(s->dev, addr, len, s->dir);
	else
		dma_sync_single_for_cpu(s->dev, addr, len, s->dir);
}

/**
 * pinmdl_dma_sync_range() - hand part of a mapped descriptor to the device
 *			     or back to the CPU
 * @mdl: descriptor, held in flight
 * @offset: start of the part, from @mdl's first byte
 * @length: length of the part, > 0, inside @mdl
 * @dom: the device's domain
 * @dir: how the device accesses the part; the mapping allows it
 * @for_device: before the device accesses the memory; false after
 *
 * Before the access the whole mapping's direction is synced, so that a
 * bounce buffer holds what the CPU wrote since; after it, @dir only, so
 * that only what the device may have written comes back.
 *
 * Context: process context.
 * Return: 0, or the errors of pinmdl_dma_range().
 */
int pinmdl_dma_sync_range(struct pinmdl *mdl, u64 offset, u64 length,
			  struct pinmdl_dma_domain *dom,
			  enum dma_data_direction dir, bool for_device)
{
	struct pinmdl_dma_map *map = pinmdl_dma_get(mdl, &offset, dom);
	struct pinmdl_dma_syncer s = {
		.dev = dom->dev,
		.for_device = for_device,
	};

	if (IS_ERR(map))
		return PTR_ERR(map);
	s.dir = for_device || map->dir != DMA_BIDIRECTIONAL ? map->dir : dir;
	pinmdl_dma_walk(map, offset, length, pinmdl_dma_sync_one, &s);
	return 0;
}
