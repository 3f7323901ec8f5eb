// SPDX-License-Identifier: GPL-2.0
/*
 * pinmdl_lower: the companion lower driver. It registers with pinmdl and
 * receives locked descriptors as requests (the IRP with an MDL), executing
 * them on a workqueue of its own, never in the submitter's context.
 *
 * It drives no hardware: the CPU plays its device. A request is done a
 * chunk at a time, rescheduling between chunks, and only its own range is
 * ever mapped or touched, through an sg table of just its pages. What the
 * device would read (CHECKSUM's data, COPY's source) is mapped for DMA on
 * the driver's own device (DMA_TO_DEVICE) as a device driver would, and
 * the CPU reads those pages through a kernel mapping of each (sg_miter)
 * while they are mapped. What the device would write (FILL, COPY's
 * destination) the CPU writes into the pages of the table itself: a
 * device write would need a DMA_FROM_DEVICE mapping, whose bounce buffer
 * (swiotlb) the CPU cannot write in its place.
 *
 * It uses only module/pinmdl.h, as any other lower driver would.
 * debugfs pinmdl_lower/last_task names the task that executed the last
 * request.
 */
#include <linux/crc32c.h>
#include <linux/debugfs.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/sched.h>
#include <linux/scatterlist.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#include "module/pinmdl.h"

/**
 * struct pinmdl_lower - the driver's state
 * @pdev: its device, the one DMA mappings are made for
 * @wq: its workqueue, where requests execute
 * @debugfs: debugfs directory
 * @task_lock: protects @task_pid and @task_comm
 * @task_pid: pid of the task that executed the last request
 * @task_comm: its command name
 */
struct pinmdl_lower {
	struct platform_device *pdev;
	struct workqueue_struct *wq;
	struct dentry *debugfs;
	spinlock_t task_lock; /* protects task_pid and task_comm */
	pid_t task_pid;
	char task_comm[TASK_COMM_LEN];
};

static struct pinmdl_lower lower;

/**
 * struct pinmdl_lower_work - a request queued to the workqueue
 * @work: the work item
 * @req: the request
 */
struct pinmdl_lower_work {
	struct work_struct work;
	struct pinmdl_request *req;
};

/* Bytes of a request mapped and touched at a time. */
#define PINMDL_LOWER_CHUNK	SZ_1M

/* Map [@offset, @offset + @length) of @mdl for the device to read. */
static int pinmdl_lower_map(struct pinmdl *mdl, u64 offset, u64 length,
			    struct sg_table *sgt)
{
	struct device *dev = &lower.pdev->dev;
	int ret;

	ret = pinmdl_sg_table(mdl, offset, length, sgt,
			      dma_get_max_seg_size(dev), GFP_KERNEL);
	if (ret)
		return ret;
	ret = dma_map_sgtable(dev, sgt, DMA_TO_DEVICE, 0);
	if (ret)
		sg_free_table(sgt);
	return ret;
}

static void pinmdl_lower_unmap(struct sg_table *sgt)
{
	dma_unmap_sgtable(&lower.pdev->dev, sgt, DMA_TO_DEVICE, 0);
	sg_free_table(sgt);
}

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

/* One chunk of a request, @done bytes into it. */
static int pinmdl_lower_chunk(struct pinmdl_request *req, u64 done,
			      u64 length, u32 *crc)
{
	u64 offset = req->offset + done;
	struct sg_table sgt, src;
	int ret;

	if (req->op == PINMDL_LOWER_CHECKSUM) {
		ret = pinmdl_lower_map(req->mdl, offset, length, &sgt);
		if (ret)
			return ret;
		*crc = pinmdl_lower_crc(&sgt, *crc);
		pinmdl_lower_unmap(&sgt);
		return 0;
	}
	ret = pinmdl_sg_table(req->mdl, offset, length, &sgt, 0, GFP_KERNEL);
	if (ret)
		return ret;
	if (req->op == PINMDL_LOWER_FILL) {
		pinmdl_lower_fill(&sgt, req->arg & 0xff);
	} else {
		ret = pinmdl_lower_map(req->src, offset, length, &src);
		if (!ret) {
			pinmdl_lower_copy(&sgt, &src);
			pinmdl_lower_unmap(&src);
		}
	}
	sg_free_table(&sgt);
	return ret;
}

static int pinmdl_lower_execute(struct pinmdl_request *req, u64 *result)
{
	u32 crc = ~(u32)req->arg;
	u64 done, chunk;
	int ret = 0;

	for (done = 0; !ret && done < req->length; done += chunk) {
		chunk = min_t(u64, req->length - done, PINMDL_LOWER_CHUNK);
		ret = pinmdl_lower_chunk(req, done, chunk, &crc);
		cond_resched();
	}
	if (req->op == PINMDL_LOWER_CHECKSUM)
		*result = crc;
	return ret;
}

static void pinmdl_lower_work_fn(struct work_struct *work)
{
	struct pinmdl_lower_work *lw =
		container_of(work, struct pinmdl_lower_work, work);
	struct pinmdl_request *req = lw->req;
	u64 result = 0;
	int status;

	kfree(lw);
	spin_lock(&lower.task_lock);
	lower.task_pid = task_pid_nr(current);
	get_task_comm(lower.task_comm, current);
	spin_unlock(&lower.task_lock);

	status = pinmdl_lower_execute(req, &result);
	pinmdl_complete(req, status, result);
}

/* Take a request: it runs later on the driver's workqueue. */
static int pinmdl_lower_queue(struct pinmdl_request *req)
{
	struct pinmdl_lower_work *lw = kmalloc(sizeof(*lw), GFP_KERNEL);

	if (!lw)
		return -ENOMEM;
	INIT_WORK(&lw->work, pinmdl_lower_work_fn);
	lw->req = req;
	queue_work(lower.wq, &lw->work);
	return 0;
}

static const struct pinmdl_lower_ops pinmdl_lower_ops = {
	.owner = THIS_MODULE,
	.queue = pinmdl_lower_queue,
};

static int pinmdl_lower_task_show(struct seq_file *m, void *unused)
{
	spin_lock(&lower.task_lock);
	seq_printf(m, "%d %s\n", lower.task_pid, lower.task_comm);
	spin_unlock(&lower.task_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pinmdl_lower_task);

static int __init pinmdl_lower_init(void)
{
	int ret;

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

	lower.wq = alloc_workqueue("pinmdl_lower", WQ_UNBOUND, 0);
	if (!lower.wq) {
		ret = -ENOMEM;
		goto err_unregister_device;
	}
	lower.debugfs = debugfs_create_dir("pinmdl_lower", NULL);
	debugfs_create_file("last_task", 0444, lower.debugfs, NULL,
			    &pinmdl_lower_task_fops);

	ret = pinmdl_lower_register(&pinmdl_lower_ops);
	if (ret)
		goto err_remove_debugfs;
	return 0;

err_remove_debugfs:
	debugfs_remove(lower.debugfs);
	destroy_workqueue(lower.wq);
err_unregister_device:
	platform_device_unregister(lower.pdev);
	return ret;
}
module_init(pinmdl_lower_init);

static void __exit pinmdl_lower_exit(void)
{
	pinmdl_lower_unregister(&pinmdl_lower_ops);
	debugfs_remove(lower.debugfs);
	destroy_workqueue(lower.wq);
	platform_device_unregister(lower.pdev);
}
module_exit(pinmdl_lower_exit);

MODULE_DESCRIPTION("pinmdl companion lower driver");
MODULE_LICENSE("GPL");
