// SPDX-License-Identifier: GPL-2.0
/*
 * pinmdl_lower: the companion lower driver. It registers two targets with
 * pinmdl, "pinmdl_lower" and "pinmdl_lower.1" (one driver, two devices),
 * and receives locked descriptor chains as requests (the IRP with an MDL
 * chain), executing them on a workqueue of its own, never in the
 * submitter's context. DELAY completes from a timer, in hard-IRQ context.
 *
 * It drives no hardware: the CPU plays its device. A request is done a
 * chunk at a time, rescheduling and looking for a cancel between chunks,
 * and only its own ranges are ever touched, through sg tables of just
 * their pages. What the device would read of a chunk (CHECKSUM's data,
 * COPY's source) is mapped for DMA on the driver's device as a device
 * driver would (pinmdl_request_dma_map(), DMA_TO_DEVICE) for the chunk's
 * access, and the CPU reads those pages through a kernel mapping of each
 * (sg_miter). What the device would write (FILL, COPY's destination) the
 * CPU writes into the pages themselves.
 *
 * DMABUF_CHECKSUM and DMABUF_FILL import a dma-buf as a GPU or NIC driver
 * does: the fd is resolved when the request is queued, in the submitter's
 * context; the driver's device attaches and has the dma-buf mapped for
 * it, and the CPU, playing the device, reaches the data through the
 * dma-buf's kernel mapping, between begin and end of CPU access. CHECKSUM
 * reads while the device mapping (DMA_TO_DEVICE) is held; FILL maps for
 * DMA_FROM_DEVICE and lets go of the mapping and the attachment before it
 * writes, since a bounce buffer would write its own contents back over the
 * pages at unmap. Only user space names a dma-buf by fd, and FILL needs
 * one open for writing.
 *
 * It uses only module/pinmdl.h, as any other lower driver would.
 * debugfs pinmdl_lower/last_task names the task that executed the last
 * request; pinmdl_lower/<target>/present (0 or 1) unplugs and plugs a
 * target back, as a device that goes away.
 */
#include <linux/crc32c.h>
#include <linux/debugfs.h>
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/hrtimer.h>
#include <linux/iosys-map.h>
#include <linux/kstrtox.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/sched.h>
#include <linux/scatterlist.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#include "module/dmabuf_compat.h"
#include "module/hrtimer_compat.h"
#include "module/pinmdl.h"

PINMDL_IMPORT_NS_DMA_BUF();

/* Segments one request may chain. */
#define PINMDL_LOWER_MAX_SEGMENTS	64

/* Bytes of a request touched at a time. */
#define PINMDL_LOWER_CHUNK	SZ_1M

/**
 * struct pinmdl_lower_dev - one target of the driver
 * @name: the target's name
 * @target: the registered target, NULL while unplugged
 * @lock: serialises plugging and unplugging
 * @dir: its debugfs directory
 */
struct pinmdl_lower_dev {
	const char *name;
	struct pinmdl_target *target;
	struct mutex lock; /* serialises plugging and unplugging */
	struct dentry *dir;
};

/**
 * struct pinmdl_lower - the driver's state
 * @pdev: its device, the one DMA mappings are made for
 * @wq: its workqueue, where requests execute
 * @debugfs: debugfs directory
 * @devs: its targets
 * @task_lock: protects @task_pid and @task_comm
 * @task_pid: pid of the task that executed the last request
 * @task_comm: its command name
 */
struct pinmdl_lower {
	struct platform_device *pdev;
	struct workqueue_struct *wq;
	struct dentry *debugfs;
	struct pinmdl_lower_dev devs[2];
	spinlock_t task_lock; /* protects task_pid and task_comm */
	pid_t task_pid;
	char task_comm[TASK_COMM_LEN];
};

static struct pinmdl_lower lower = {
	.devs = { { .name = "pinmdl_lower" }, { .name = "pinmdl_lower.1" } },
};

/**
 * struct pinmdl_lower_ctx - the driver's part of a request
 * @req: the request
 * @work: executes a data operation
 * @timer: ends a DELAY
 * @dmabuf: the dma-buf of a DMABUF op, referenced
 */
struct pinmdl_lower_ctx {
	struct pinmdl_request *req;
	struct work_struct work;
	struct hrtimer timer;
	struct dma_buf *dmabuf;
};

static u32 pinmdl_lower_crc(struct sg_table *sgt, u32 crc)
{
	struct sg_mapping_iter miter;

	sg_miter_start(&miter, sgt->sgl, sgt->orig_nents, SG_MITER_FROM_SG);
	while (sg_miter_next(&miter))
		crc = crc32c(crc, miter.addr, miter.length);
	sg_miter_stop(&miter);
	return crc;
}

static void pinmdl_lower_fill(struct sg_table *sgt, u8 byte)
{
	struct sg_mapping_iter miter;

	sg_miter_start(&miter, sgt->sgl, sgt->orig_nents, SG_MITER_TO_SG);
	while (sg_miter_next(&miter))
		memset(miter.addr, byte, miter.length);
	sg_miter_stop(&miter);
}

/* Copy @src onto @dst, two tables of the same length. */
static void pinmdl_lower_copy(struct sg_table *dst, struct sg_table *src)
{
	struct sg_mapping_iter d, s;
	size_t doff, soff = 0, len;

	sg_miter_start(&d, dst->sgl, dst->orig_nents, SG_MITER_TO_SG);
	sg_miter_start(&s, src->sgl, src->orig_nents, SG_MITER_FROM_SG);
	while (sg_miter_next(&d)) {
		for (doff = 0; doff < d.length; doff += len, soff += len) {
			if (soff == s.length) {
				if (!sg_miter_next(&s))
					goto out;
				soff = 0;
			}
			len = min(d.length - doff, s.length - soff);
			memcpy(d.addr + doff, s.addr + soff, len);
		}
	}
out:
	sg_miter_stop(&s);
	sg_miter_stop(&d);
}

/*
 * One chunk of segment @i, @done bytes into it and @pos bytes into the
 * request. What the device reads of it is handed to the device for the
 * chunk's access.
 */
static int pinmdl_lower_chunk(struct pinmdl_request *req, unsigned int i,
			      u64 pos, u64 done, u64 length, u32 *crc)
{
	struct pinmdl_io_segment *seg = &req->segments[i];
	struct sg_table sgt, src, *dma = NULL;
	int ret;

	if (req->op == PINMDL_LOWER_CHECKSUM)
		dma = pinmdl_request_dma_map(req, pos + done, length);
	else if (req->op == PINMDL_LOWER_COPY)
		dma = pinmdl_request_dma_map(req, seg->length + done, length);
	if (IS_ERR(dma))
		return PTR_ERR(dma);
	ret = pinmdl_sg_table(seg->mdl, seg->offset + done, length, &sgt, 0,
			      GFP_KERNEL);
	if (ret)
		goto out;
	switch (req->op) {
	case PINMDL_LOWER_CHECKSUM:
		*crc = pinmdl_lower_crc(&sgt, *crc);
		break;
	case PINMDL_LOWER_FILL:
		pinmdl_lower_fill(&sgt, req->arg & 0xff);
		break;
	case PINMDL_LOWER_COPY:
		seg = &req->segments[1];
		ret = pinmdl_sg_table(seg->mdl, seg->offset + done, length,
				      &src, 0, GFP_KERNEL);
		if (ret)
			break;
		pinmdl_lower_copy(&sgt, &src);
		sg_free_table(&src);
		break;
	}
	sg_free_table(&sgt);
out:
	if (dma)
		pinmdl_request_dma_unmap(req, dma);
	return ret;
}

/* Run a data operation over the chain, a chunk at a time. */
static int pinmdl_lower_run(struct pinmdl_request *req, u32 *crc)
{
	unsigned int i, n = req->op == PINMDL_LOWER_COPY ? 1 : req->nr_segments;
	struct pinmdl_io_segment *seg;
	u64 pos, done, chunk;
	int ret;

	for (i = 0, pos = 0; i < n; pos += seg->length, i++) {
		seg = &req->segments[i];
		for (done = 0; done < seg->length; done += chunk) {
			if (pinmdl_request_cancelled(req))
				return -ECANCELED;
			chunk = min_t(u64, seg->length - done,
				      PINMDL_LOWER_CHUNK);
			ret = pinmdl_lower_chunk(req, i, pos, done, chunk,
						 crc);
			if (ret)
				return ret;
			cond_resched();
		}
	}
	return 0;
}

/* Whether a dma-buf's table, as the device sees it, covers @size bytes. */
static bool pinmdl_lower_dma_covers(struct sg_table *sgt, size_t size)
{
	struct scatterlist *sg;
	u64 total = 0;
	int i;

	for_each_sgtable_dma_sg(sgt, sg, i)
		total += sg_dma_len(sg);
	return total == size;
}

/* Checksum or fill @len bytes at @va, a chunk at a time. */
static int pinmdl_lower_dmabuf_data(struct pinmdl_request *req, u8 *va,
				    size_t len, u32 *crc)
{
	size_t done, chunk;

	for (done = 0; done < len; done += chunk) {
		if (pinmdl_request_cancelled(req))
			return -ECANCELED;
		chunk = min_t(size_t, len - done, PINMDL_LOWER_CHUNK);
		if (req->op == PINMDL_LOWER_DMABUF_FILL)
			memset(va + done, req->arg >> 32, chunk);
		else
			*crc = crc32c(*crc, va + done, chunk);
		cond_resched();
	}
	return 0;
}

/* Reach the data of the dma-buf through its kernel mapping. */
static int pinmdl_lower_dmabuf_cpu(struct pinmdl_request *req,
				   struct dma_buf *dmabuf, u32 *crc)
{
	enum dma_data_direction dir = req->op == PINMDL_LOWER_DMABUF_FILL ?
				      DMA_TO_DEVICE : DMA_FROM_DEVICE;
	struct iosys_map map;
	int ret, end;

	ret = pinmdl_dma_buf_vmap(dmabuf, &map);
	if (ret)
		return ret;
	ret = dma_buf_begin_cpu_access(dmabuf, dir);
	if (ret)
		goto out_vunmap;
	if (map.is_iomem)
		ret = -EOPNOTSUPP;
	else
		ret = pinmdl_lower_dmabuf_data(req, map.vaddr, dmabuf->size,
					       crc);
	end = dma_buf_end_cpu_access(dmabuf, dir);
	ret = ret ?: end;
out_vunmap:
	pinmdl_dma_buf_vunmap(dmabuf, &map);
	return ret;
}

/*
 * Attach the device and map the dma-buf for it, as a device driver imports
 * a buffer; check that the table covers it. CHECKSUM reads while the
 * mapping (DMA_TO_DEVICE) is held. FILL lets go of its mapping, and of the
 * attachment that may cache one, before the CPU writes: a bounce buffer
 * would write its own contents back over the pages at unmap.
 */
static int pinmdl_lower_dmabuf(struct pinmdl_request *req,
			       struct dma_buf *dmabuf, u32 *crc)
{
	bool fill = req->op == PINMDL_LOWER_DMABUF_FILL;
	enum dma_data_direction dir = fill ? DMA_FROM_DEVICE : DMA_TO_DEVICE;
	struct dma_buf_attachment *attach;
	struct sg_table *sgt;
	int ret;

	attach = dma_buf_attach(dmabuf, &lower.pdev->dev);
	if (IS_ERR(attach))
		return PTR_ERR(attach);
	sgt = dma_buf_map_attachment_unlocked(attach, dir);
	if (IS_ERR(sgt)) {
		ret = PTR_ERR(sgt);
		goto out_detach;
	}
	ret = pinmdl_lower_dma_covers(sgt, dmabuf->size) ? 0 : -EIO;
	if (!ret && !fill)
		ret = pinmdl_lower_dmabuf_cpu(req, dmabuf, crc);
	dma_buf_unmap_attachment_unlocked(attach, sgt, dir);
out_detach:
	dma_buf_detach(dmabuf, attach);
	if (!ret && fill)
		ret = pinmdl_lower_dmabuf_cpu(req, dmabuf, crc);
	return ret;
}

static void pinmdl_lower_work_fn(struct work_struct *work)
{
	struct pinmdl_lower_ctx *ctx =
		container_of(work, struct pinmdl_lower_ctx, work);
	struct pinmdl_request *req = ctx->req;
	u32 crc = ~(u32)req->arg;
	u64 result;
	int status;

	spin_lock(&lower.task_lock);
	lower.task_pid = task_pid_nr(current);
	get_task_comm(lower.task_comm, current);
	spin_unlock(&lower.task_lock);

	switch (req->op) {
	case PINMDL_LOWER_DMABUF_CHECKSUM:
		crc = ~0U;
		status = pinmdl_lower_dmabuf(req, ctx->dmabuf, &crc);
		result = crc;
		break;
	case PINMDL_LOWER_DMABUF_FILL:
		status = pinmdl_lower_dmabuf(req, ctx->dmabuf, &crc);
		result = ctx->dmabuf->size;
		break;
	default:
		status = pinmdl_lower_run(req, &crc);
		result = req->op == PINMDL_LOWER_CHECKSUM ? crc : req->total;
		break;
	}
	pinmdl_complete(req, status, status ? 0 : result);
}

/* The end of a DELAY: hard-IRQ context. */
static enum hrtimer_restart pinmdl_lower_timer_fn(struct hrtimer *timer)
{
	struct pinmdl_lower_ctx *ctx =
		container_of(timer, struct pinmdl_lower_ctx, timer);

	pinmdl_complete(ctx->req, 0, ctx->req->arg);
	return HRTIMER_NORESTART;
}

/* Check a request's op and segments, and say how each segment is used. */
static int pinmdl_lower_check(struct pinmdl_request *req)
{
	struct pinmdl_io_segment *segs = req->segments;
	unsigned int i, n = req->nr_segments;
	enum dma_data_direction dir;

	if (req->dev_offset)
		return -EINVAL;
	switch (req->op) {
	case PINMDL_LOWER_FILL:
		dir = DMA_FROM_DEVICE;
		break;
	case PINMDL_LOWER_CHECKSUM:
		/* A starting value, to checksum in pieces, is the kernel's. */
		if (req->arg && req->from_user)
			return -EINVAL;
		dir = DMA_TO_DEVICE;
		break;
	case PINMDL_LOWER_COPY:
		if (n != 2 || segs[0].length != segs[1].length)
			return -EINVAL;
		segs[0].dir = DMA_FROM_DEVICE;
		segs[1].dir = DMA_TO_DEVICE;
		return 0;
	case PINMDL_LOWER_DELAY:
		if (req->arg > PINMDL_LOWER_DELAY_MAX)
			return -EINVAL;
		for (i = 0; i < n; i++)
			segs[i].dir = DMA_NONE;
		return 0;
	case PINMDL_LOWER_DMABUF_CHECKSUM:
		/* arg is a user's fd, and nothing else. */
		return n || req->arg > U32_MAX || !req->from_user ? -EINVAL : 0;
	case PINMDL_LOWER_DMABUF_FILL:
		/* arg is a user's fd and a byte above it. */
		return n || req->arg >> 40 || !req->from_user ? -EINVAL : 0;
	default:
		return -EINVAL;
	}
	if (!n)
		return -EINVAL;
	for (i = 0; i < n; i++)
		segs[i].dir = dir;
	return 0;
}

/*
 * Take a request: a DELAY starts its timer, the others go to the wq. The
 * fd of a DMABUF op is the submitter's: it is resolved here, in its
 * context.
 */
static int pinmdl_lower_queue(struct pinmdl_request *req)
{
	struct pinmdl_lower_ctx *ctx = kzalloc(sizeof(*ctx),
					       GFP_KERNEL_ACCOUNT);

	if (!ctx)
		return -ENOMEM;
	if (req->op == PINMDL_LOWER_DMABUF_CHECKSUM ||
	    req->op == PINMDL_LOWER_DMABUF_FILL) {
		ctx->dmabuf = dma_buf_get((int)lower_32_bits(req->arg));
		if (IS_ERR(ctx->dmabuf)) {
			int ret = PTR_ERR(ctx->dmabuf);

			kfree(ctx);
			return ret;
		}
		/* Writing takes a file open for writing, as write(2) does. */
		if (req->op == PINMDL_LOWER_DMABUF_FILL &&
		    !(ctx->dmabuf->file->f_mode & FMODE_WRITE)) {
			dma_buf_put(ctx->dmabuf);
			kfree(ctx);
			return -EACCES;
		}
	}
	ctx->req = req;
	req->target_data = ctx;
	if (req->op == PINMDL_LOWER_DELAY) {
		pinmdl_hrtimer_setup(&ctx->timer, pinmdl_lower_timer_fn,
				     CLOCK_MONOTONIC, HRTIMER_MODE_REL);
		hrtimer_start(&ctx->timer, ms_to_ktime(req->arg),
			      HRTIMER_MODE_REL);
	} else {
		INIT_WORK(&ctx->work, pinmdl_lower_work_fn);
		queue_work(lower.wq, &ctx->work);
	}
	return 0;
}

/*
 * Stop a request: a DELAY whose timer has not fired completes now; a data
 * operation notices between chunks (pinmdl_request_cancelled()).
 */
static void pinmdl_lower_cancel(struct pinmdl_request *req)
{
	struct pinmdl_lower_ctx *ctx = req->target_data;

	if (req->op == PINMDL_LOWER_DELAY &&
	    hrtimer_try_to_cancel(&ctx->timer) == 1)
		pinmdl_complete(req, -ECANCELED, 0);
}

static void pinmdl_lower_release(struct pinmdl_request *req)
{
	struct pinmdl_lower_ctx *ctx = req->target_data;

	if (ctx->dmabuf)
		dma_buf_put(ctx->dmabuf);
	kfree(ctx);
}

static const struct pinmdl_target_ops pinmdl_lower_ops = {
	.owner = THIS_MODULE,
	.check = pinmdl_lower_check,
	.queue = pinmdl_lower_queue,
	.cancel = pinmdl_lower_cancel,
	.release = pinmdl_lower_release,
};

/* Register @dev's target (plug it), or unregister it (unplug it). */
static int pinmdl_lower_plug(struct pinmdl_lower_dev *dev, bool present)
{
	struct pinmdl_target_limits limits = {
		.block_size = 1,
		.max_segments = PINMDL_LOWER_MAX_SEGMENTS,
		.dma_dev = &lower.pdev->dev,
	};
	struct pinmdl_target *target;
	int ret = 0;

	mutex_lock(&dev->lock);
	if (present && !dev->target) {
		target = pinmdl_target_register(dev->name, &pinmdl_lower_ops,
						&limits, dev);
		if (IS_ERR(target))
			ret = PTR_ERR(target);
		else
			dev->target = target;
	} else if (!present && dev->target) {
		pinmdl_target_unregister(dev->target);
		dev->target = NULL;
	}
	mutex_unlock(&dev->lock);
	return ret;
}

static int pinmdl_lower_present_get(void *data, u64 *val)
{
	struct pinmdl_lower_dev *dev = data;

	mutex_lock(&dev->lock);
	*val = !!dev->target;
	mutex_unlock(&dev->lock);
	return 0;
}

static int pinmdl_lower_present_set(void *data, u64 val)
{
	if (val > 1)
		return -EINVAL;
	return pinmdl_lower_plug(data, val);
}
DEFINE_DEBUGFS_ATTRIBUTE(pinmdl_lower_present_fops, pinmdl_lower_present_get,
			 pinmdl_lower_present_set, "%llu\n");

static int pinmdl_lower_task_show(struct seq_file *m, void *unused)
{
	spin_lock(&lower.task_lock);
	seq_printf(m, "%d %s\n", lower.task_pid, lower.task_comm);
	spin_unlock(&lower.task_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pinmdl_lower_task);

static void pinmdl_lower_unplug_all(void)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(lower.devs); i++)
		pinmdl_lower_plug(&lower.devs[i], false);
}

static int __init pinmdl_lower_init(void)
{
	struct pinmdl_lower_dev *dev;
	int ret, i;

	spin_lock_init(&lower.task_lock);
	lower.pdev = platform_device_register_simple("pinmdl_lower",
						     PLATFORM_DEVID_NONE,
						     NULL, 0);
	if (IS_ERR(lower.pdev))
		return PTR_ERR(lower.pdev);
	ret = dma_coerce_mask_and_coherent(&lower.pdev->dev,
					   DMA_BIT_MASK(64));
	if (ret)
		goto err_unregister_device;
	/*
	 * Its DMA engine takes segments of any length, as a GPU's does; so
	 * an exporter that merges pages past 64 KiB whatever the device
	 * (udmabuf does) hands it nothing it cannot take.
	 */
	dma_set_max_seg_size(&lower.pdev->dev, UINT_MAX);

	lower.wq = alloc_workqueue("pinmdl_lower", WQ_UNBOUND, 0);
	if (!lower.wq) {
		ret = -ENOMEM;
		goto err_unregister_device;
	}
	lower.debugfs = debugfs_create_dir("pinmdl_lower", NULL);
	debugfs_create_file("last_task", 0444, lower.debugfs, NULL,
			    &pinmdl_lower_task_fops);
	for (i = 0; i < ARRAY_SIZE(lower.devs); i++)
		mutex_init(&lower.devs[i].lock);
	for (i = 0; i < ARRAY_SIZE(lower.devs); i++) {
		dev = &lower.devs[i];
		ret = pinmdl_lower_plug(dev, true);
		if (ret)
			goto err_unplug;
		dev->dir = debugfs_create_dir(dev->name, lower.debugfs);
		debugfs_create_file_unsafe("present", 0644, dev->dir, dev,
					   &pinmdl_lower_present_fops);
	}
	return 0;

err_unplug:
	debugfs_remove(lower.debugfs);
	pinmdl_lower_unplug_all();
	destroy_workqueue(lower.wq);
err_unregister_device:
	platform_device_unregister(lower.pdev);
	return ret;
}
module_init(pinmdl_lower_init);

static void __exit pinmdl_lower_exit(void)
{
	debugfs_remove(lower.debugfs);
	pinmdl_lower_unplug_all();
	destroy_workqueue(lower.wq);
	platform_device_unregister(lower.pdev);
}
module_exit(pinmdl_lower_exit);

MODULE_DESCRIPTION("pinmdl companion lower driver");
MODULE_LICENSE("GPL");
