// SPDX-License-Identifier: GPL-2.0
/*
 * pinmdl_lower: the companion lower driver. It registers with pinmdl and
 * receives locked descriptors as requests (the IRP with an MDL), executing
 * them on a workqueue of its own, never in the submitter's context. Data
 * moves through the descriptor's system mapping, and CHECKSUM and COPY read
 * their source through the descriptor's sg table after mapping it for DMA
 * on the driver's own device.
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

typedef void (*pinmdl_lower_consume_t)(void *ctx, const void *data,
				       size_t len);

/*
 * Feed [offset, offset + length) of @mdl to @consume, walking its sg table
 * mapped for DMA to the device: what a device reading the buffer sees.
 */
static int pinmdl_lower_walk(struct pinmdl *mdl, u64 offset, u64 length,
			     pinmdl_lower_consume_t consume, void *ctx)
{
	struct device *dev = &lower.pdev->dev;
	struct sg_mapping_iter miter;
	struct sg_table sgt;
	int ret;

	ret = pinmdl_sg_table(mdl, &sgt, dma_get_max_seg_size(dev),
			      GFP_KERNEL);
	if (ret)
		return ret;
	ret = dma_map_sgtable(dev, &sgt, DMA_TO_DEVICE, 0);
	if (ret)
		goto out_free;

	sg_miter_start(&miter, sgt.sgl, sgt.orig_nents,
		       SG_MITER_FROM_SG);
	if (!sg_miter_skip(&miter, offset))
		ret = -EINVAL;
	while (!ret && length && sg_miter_next(&miter)) {
		size_t len = min_t(u64, length, miter.length);

		consume(ctx, miter.addr, len);
		length -= len;
	}
	sg_miter_stop(&miter);
	if (!ret && length)
		ret = -EINVAL;

	dma_unmap_sgtable(dev, &sgt, DMA_TO_DEVICE, 0);
out_free:
	sg_free_table(&sgt);
	return ret;
}

static void pinmdl_lower_crc(void *ctx, const void *data, size_t len)
{
	u32 *crc = ctx;

	*crc = crc32c(*crc, data, len);
}

static void pinmdl_lower_copy(void *ctx, const void *data, size_t len)
{
	char **dst = ctx;

	memcpy(*dst, data, len);
	*dst += len;
}

static int pinmdl_lower_execute(struct pinmdl_request *req, u64 *result)
{
	char *va = NULL;
	u32 crc = ~0U;
	int ret;

	if (req->op != PINMDL_LOWER_CHECKSUM) {
		va = pinmdl_system_address(req->mdl);
		if (IS_ERR(va))
			return PTR_ERR(va);
		va += req->offset;
	}

	switch (req->op) {
	case PINMDL_LOWER_FILL:
		memset(va, req->arg & 0xff, req->length);
		return 0;
	case PINMDL_LOWER_CHECKSUM:
		ret = pinmdl_lower_walk(req->mdl, req->offset, req->length,
					pinmdl_lower_crc, &crc);
		*result = crc;
		return ret;
	case PINMDL_LOWER_COPY:
		return pinmdl_lower_walk(req->src, req->offset, req->length,
					 pinmdl_lower_copy, &va);
	default:
		return -EINVAL;
	}
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
