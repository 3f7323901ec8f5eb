// SPDX-License-Identifier: GPL-2.0
/*
 * dma-buf export of a locked descriptor's pages: any user buffer (or
 * allocated pages) handed to every dma-buf importer in the kernel.
 *
 * A dma-buf holds a reference on its descriptor and counts in its
 * exports; while any exists, the pages cannot change or go (UNLOCK, FREE,
 * ADVANCE and a cache mode change are refused with -EBUSY), so the
 * exporter's operations read the PFN array without the descriptor's lock.
 * When the descriptor's file is released first, the descriptor is let go
 * of (pinmdl_orphan()) but keeps its pages, pinned and charged to its
 * locker; the last dma-buf to go gives them up.
 *
 * The exporter is a static one (no pin/unpin: the pages never move). Each
 * mapping for a device is a table of the whole pages, contiguous pages
 * merged up to what the device and its bounce buffer take; CPU access is
 * bracketed by syncs of every mapping. Without PINMDL_EXPORT_WRITE nothing
 * may write the pages (a read lock may hold the shared zero page or a
 * read-only file's page cache): no device mapping that lets the device
 * write, no writable user mapping, and no kernel mapping at all, since
 * importers write through one without saying so.
 */
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/fcntl.h>
#include <linux/highmem.h>
#include <linux/iosys-map.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "core/desc.h"
#include "core/pin_compat.h"
#include "dmabuf_compat.h"

PINMDL_IMPORT_NS_DMA_BUF();

/**
 * struct pinmdl_dmabuf - the exporter's part of a dma-buf
 * @mdl: the descriptor, referenced, whose pages it is
 * @write: importers may write the pages (PINMDL_EXPORT_WRITE)
 * @lock: protects @maps and @vaddr
 * @maps: struct pinmdl_dmabuf_map of each mapping for a device
 * @vaddr: the kernel mapping of the pages, while the dma-buf core holds
 *	   one (a writable export's only)
 */
struct pinmdl_dmabuf {
	struct pinmdl *mdl;
	bool write;
	struct mutex lock; /* protects maps and vaddr */
	struct list_head maps;
	void *vaddr;
};

/**
 * struct pinmdl_dmabuf_map - the pages mapped for an importer's device
 * @sgt: the table handed to the importer
 * @node: entry in the dma-buf's mappings
 * @dev: the device
 * @dir: the direction it was mapped in, which its syncs keep
 */
struct pinmdl_dmabuf_map {
	struct sg_table sgt;
	struct list_head node;
	struct device *dev;
	enum dma_data_direction dir;
};

/* The longest DMA segment @dev takes, through its bounce buffer too. */
static unsigned int pinmdl_dmabuf_max_segment(struct device *dev)
{
	size_t max = min_t(size_t, dma_get_max_seg_size(dev),
			   dma_max_mapping_size(dev));

	return max_t(size_t, max & PAGE_MASK, PAGE_SIZE);
}

static struct sg_table *pinmdl_dmabuf_map(struct dma_buf_attachment *attach,
					  enum dma_data_direction dir)
{
	struct pinmdl_dmabuf *buf = attach->dmabuf->priv;
	struct pinmdl_dmabuf_map *map;
	int ret;

	if (!valid_dma_direction(dir))
		return ERR_PTR(-EINVAL);
	if (dir != DMA_TO_DEVICE && !buf->write)
		return ERR_PTR(-EACCES);
	map = kzalloc(sizeof(*map), GFP_KERNEL_ACCOUNT);
	if (!map)
		return ERR_PTR(-ENOMEM);
	ret = pinmdl_sg_table_pages(buf->mdl, &map->sgt,
				    pinmdl_dmabuf_max_segment(attach->dev),
				    dma_get_seg_boundary(attach->dev),
				    GFP_KERNEL_ACCOUNT);
	if (ret)
		goto err_free;
	ret = dma_map_sgtable(attach->dev, &map->sgt, dir, 0);
	if (ret)
		goto err_free_table;
	map->dev = attach->dev;
	map->dir = dir;
	mutex_lock(&buf->lock);
	list_add(&map->node, &buf->maps);
	mutex_unlock(&buf->lock);
	return &map->sgt;

err_free_table:
	sg_free_table(&map->sgt);
err_free:
	kfree(map);
	return ERR_PTR(ret);
}

static void pinmdl_dmabuf_unmap(struct dma_buf_attachment *attach,
				struct sg_table *sgt,
				enum dma_data_direction dir)
{
	struct pinmdl_dmabuf *buf = attach->dmabuf->priv;
	struct pinmdl_dmabuf_map *map =
		container_of(sgt, struct pinmdl_dmabuf_map, sgt);

	mutex_lock(&buf->lock);
	list_del(&map->node);
	mutex_unlock(&buf->lock);
	dma_unmap_sgtable(map->dev, &map->sgt, map->dir, 0);
	sg_free_table(&map->sgt);
	kfree(map);
}

/*
 * Flush the kernel mapping's cache lines for the devices, or invalidate
 * them for the CPU, a gigabyte at a time: the helpers take an int.
 */
static void pinmdl_dmabuf_vmap_range(void *vaddr, u64 len, bool flush)
{
	u64 done, chunk;

	for (done = 0; done < len; done += chunk) {
		chunk = min_t(u64, len - done, SZ_1G);
		if (flush)
			flush_kernel_vmap_range(vaddr + done, chunk);
		else
			invalidate_kernel_vmap_range(vaddr + done, chunk);
	}
}

/*
 * Hand the pages to the CPU, or back to the devices. Each mapping is
 * synced in the direction it was made in, whatever the CPU is about to do:
 * a device-read-only mapping synced as DMA_FROM_DEVICE would have a bounce
 * buffer copy its stale contents over the pages.
 */
static void pinmdl_dmabuf_sync(struct dma_buf *dmabuf, bool for_cpu)
{
	struct pinmdl_dmabuf *buf = dmabuf->priv;
	struct pinmdl_dmabuf_map *map;

	mutex_lock(&buf->lock);
	if (buf->vaddr)
		pinmdl_dmabuf_vmap_range(buf->vaddr, dmabuf->size, !for_cpu);
	list_for_each_entry(map, &buf->maps, node) {
		if (for_cpu)
			dma_sync_sgtable_for_cpu(map->dev, &map->sgt,
						 map->dir);
		else
			dma_sync_sgtable_for_device(map->dev, &map->sgt,
						    map->dir);
	}
	mutex_unlock(&buf->lock);
}

static int pinmdl_dmabuf_begin_cpu_access(struct dma_buf *dmabuf,
					  enum dma_data_direction dir)
{
	pinmdl_dmabuf_sync(dmabuf, true);
	return 0;
}

static int pinmdl_dmabuf_end_cpu_access(struct dma_buf *dmabuf,
					enum dma_data_direction dir)
{
	pinmdl_dmabuf_sync(dmabuf, false);
	return 0;
}

/* The pages cannot change while the VMA holds the dma-buf's file. */
static vm_fault_t pinmdl_dmabuf_fault(struct vm_fault *vmf)
{
	struct pinmdl_dmabuf *buf = vmf->vma->vm_private_data;

	return pinmdl_fault_pfns(vmf, buf->mdl->pfns, vmf->pgoff,
				 buf->mdl->page_count);
}

static const struct vm_operations_struct pinmdl_dmabuf_vm_ops = {
	.fault = pinmdl_dmabuf_fault,
};

/*
 * Map the pages into a process, as PFNs (the pages may be another
 * process's anonymous memory, which no other VMA may hold as its own),
 * read-only unless exported for writing, and never executable: the pages
 * may be a noexec mount's file's. The dma-buf core has checked the range
 * against the dma-buf's size.
 */
static int pinmdl_dmabuf_mmap(struct dma_buf *dmabuf,
			      struct vm_area_struct *vma)
{
	struct pinmdl_dmabuf *buf = dmabuf->priv;

	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (vma->vm_flags & VM_EXEC)
		return -EPERM;
	pinmdl_compat_vm_flags_clear(vma, VM_MAYEXEC);
	if (!buf->write) {
		if (vma->vm_flags & VM_WRITE)
			return -EACCES;
		pinmdl_compat_vm_flags_clear(vma, VM_MAYWRITE);
	}
	pinmdl_compat_vm_flags_set(vma, VM_PFNMAP | VM_IO | VM_DONTEXPAND |
				   VM_DONTDUMP);
	vma->vm_private_data = buf;
	vma->vm_ops = &pinmdl_dmabuf_vm_ops;
	return 0;
}

/*
 * The kernel mapping, of a writable export only: importers write through
 * it with no word of their direction (a V4L2 capture buffer of
 * vb2-vmalloc's is never mapped for a device). The dma-buf core counts its
 * users and asks for one mapping at a time.
 */
static int pinmdl_dmabuf_vmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct pinmdl_dmabuf *buf = dmabuf->priv;
	void *vaddr = pinmdl_vmap(buf->mdl, true);

	if (!vaddr)
		return -ENOMEM;
	mutex_lock(&buf->lock);
	buf->vaddr = vaddr;
	mutex_unlock(&buf->lock);
	iosys_map_set_vaddr(map, vaddr);
	return 0;
}

static void pinmdl_dmabuf_vunmap(struct dma_buf *dmabuf,
				 struct iosys_map *map)
{
	struct pinmdl_dmabuf *buf = dmabuf->priv;

	mutex_lock(&buf->lock);
	buf->vaddr = NULL;
	mutex_unlock(&buf->lock);
	vunmap(map->vaddr);
}

/*
 * One dma-buf of @mdl less. The last of a descriptor that its file let go
 * of (pinmdl_orphan()) gives up the pages.
 */
static void pinmdl_dmabuf_unexport(struct pinmdl *mdl)
{
	mutex_lock(&mdl->lock);
	WRITE_ONCE(mdl->exports, mdl->exports - 1);
	if (!mdl->exports && mdl->dead)
		pinmdl_release_pages(mdl);
	mutex_unlock(&mdl->lock);
	pinmdl_put(mdl);
}

/* The last reference to the dma-buf is gone: process context. */
static void pinmdl_dmabuf_release(struct dma_buf *dmabuf)
{
	struct pinmdl_dmabuf *buf = dmabuf->priv;

	/*
	 * The core detached every importer, each unmapped first; one that
	 * did not may still have a device at the pages: keep them.
	 */
	if (WARN_ON_ONCE(!list_empty(&buf->maps)))
		return;
	pinmdl_dmabuf_unexport(buf->mdl);
	mutex_destroy(&buf->lock);
	kfree(buf);
}

/* A writable export's operations: every importer's. */
static const struct dma_buf_ops pinmdl_dmabuf_ops = {
	.map_dma_buf = pinmdl_dmabuf_map,
	.unmap_dma_buf = pinmdl_dmabuf_unmap,
	.release = pinmdl_dmabuf_release,
	.begin_cpu_access = pinmdl_dmabuf_begin_cpu_access,
	.end_cpu_access = pinmdl_dmabuf_end_cpu_access,
	.mmap = pinmdl_dmabuf_mmap,
	.vmap = pinmdl_dmabuf_vmap,
	.vunmap = pinmdl_dmabuf_vunmap,
};

/*
 * A read-only export's: no kernel mapping, which importers would write
 * through (dma_buf_vmap() fails with -EINVAL). Device mappings and user
 * mappings are checked for write.
 */
static const struct dma_buf_ops pinmdl_dmabuf_ro_ops = {
	.map_dma_buf = pinmdl_dmabuf_map,
	.unmap_dma_buf = pinmdl_dmabuf_unmap,
	.release = pinmdl_dmabuf_release,
	.begin_cpu_access = pinmdl_dmabuf_begin_cpu_access,
	.end_cpu_access = pinmdl_dmabuf_end_cpu_access,
	.mmap = pinmdl_dmabuf_mmap,
};

/* Count a dma-buf of @mdl, if it may have one. */
static int pinmdl_dmabuf_hold(struct pinmdl *mdl, bool write)
{
	int ret;

	mutex_lock(&mdl->lock);
	ret = pinmdl_locked_state(mdl, PINMDL_F_PARTIAL |
				  PINMDL_F_SOURCE_IS_KERNEL);
	if (ret)
		goto out_unlock;
	if (mdl->kernel_mode) {
		ret = -EINVAL;
	} else if (write && !(mdl->flags & PINMDL_F_WRITE_OPERATION)) {
		ret = -EACCES;
	} else if (mdl->cache != PINMDL_CACHED) {
		/* Importers know of no memory type but the kernel's own. */
		ret = -EBUSY;
	} else {
		WRITE_ONCE(mdl->exports, mdl->exports + 1);
		pinmdl_get(mdl);
	}
out_unlock:
	mutex_unlock(&mdl->lock);
	return ret;
}

/**
 * pinmdl_export_dmabuf() - export a locked descriptor's pages as a dma-buf
 * @mdl: locked user, page-list or allocated descriptor, not partial, not
 *	 locked in kernel mode, its pages cached
 * @flags: 0, or PINMDL_EXPORT_WRITE to let importers write the pages
 *
 * The dma-buf is the descriptor's whole pages, page_count of them from the
 * first. It keeps them locked, and charged to their locker, until its
 * last reference goes: meanwhile the descriptor cannot be unlocked, freed
 * or advanced (-EBUSY), and its file may be closed. Importers get the
 * pages mapped for their device, contiguous ones merged up to its segment
 * limits. Without PINMDL_EXPORT_WRITE, a mapping for DMA_FROM_DEVICE or
 * DMA_BIDIRECTIONAL and a writable mmap(2) fail with -EACCES, and there is
 * no kernel mapping (dma_buf_vmap() fails). A descriptor may be exported
 * any number of times. A kernel caller puts its dma-bufs, and waits for
 * their release (a kernel thread's last fput() is deferred), before it
 * unlocks or frees the descriptor.
 *
 * Context: process context; may sleep.
 * Return: the dma-buf, with one reference for the caller (dma_buf_put(), or
 * an fd to give it to user space); ERR_PTR(-EINVAL) for unknown @flags or
 * a descriptor that is not locked, is partial, kernel-source or locked in
 * kernel mode; ERR_PTR(-ENOENT) if freed; ERR_PTR(-EACCES) for
 * PINMDL_EXPORT_WRITE of a read lock; ERR_PTR(-EBUSY) while being locked
 * or for allocated pages mapped in another cache mode
 * (pinmdl_map_locked_pages()); ERR_PTR(-ENOMEM), or another errno of
 * dma_buf_export().
 */
struct dma_buf *pinmdl_export_dmabuf(struct pinmdl *mdl, u32 flags)
{
	DEFINE_DMA_BUF_EXPORT_INFO(info);
	bool write = flags & PINMDL_EXPORT_WRITE;
	struct pinmdl_dmabuf *buf;
	struct dma_buf *dmabuf;
	int ret;

	if (flags & ~PINMDL_EXPORT_WRITE)
		return ERR_PTR(-EINVAL);
	ret = pinmdl_dmabuf_hold(mdl, write);
	if (ret)
		return ERR_PTR(ret);
	buf = kzalloc(sizeof(*buf), GFP_KERNEL_ACCOUNT);
	if (!buf) {
		ret = -ENOMEM;
		goto err_unexport;
	}
	buf->mdl = mdl;
	buf->write = write;
	mutex_init(&buf->lock);
	INIT_LIST_HEAD(&buf->maps);

	info.exp_name = KBUILD_MODNAME;
	info.owner = THIS_MODULE;
	info.ops = write ? &pinmdl_dmabuf_ops : &pinmdl_dmabuf_ro_ops;
	info.size = mdl->page_count << PAGE_SHIFT;
	info.flags = write ? O_RDWR : O_RDONLY;
	info.priv = buf;
	dmabuf = dma_buf_export(&info);
	if (IS_ERR(dmabuf)) {
		ret = PTR_ERR(dmabuf);
		goto err_free;
	}
	return dmabuf;

err_free:
	mutex_destroy(&buf->lock);
	kfree(buf);
err_unexport:
	pinmdl_dmabuf_unexport(mdl);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(pinmdl_export_dmabuf);
