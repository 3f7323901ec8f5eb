// SPDX-License-Identifier: GPL-2.0
/*
 * pinmdl_blk: target "pinmdl_blk", direct I/O between a block device and
 * locked memory (the highest-level driver that sends a locked buffer down
 * to the disk drivers).
 *
 * Opening the target binds a block device file that the caller opened
 * itself, with that file's rights: pinmdl never opens a device by name.
 * A request is the file's own direct I/O: bio_vecs over the locked pages go
 * as an ITER_BVEC to the file's ->read_iter() or ->write_iter() with
 * IOCB_DIRECT and a completion, as io_uring and the loop driver send
 * theirs. The bios point straight at the locked pages (no
 * page is pinned or referenced per I/O: the request holds its descriptors
 * in flight until it is done), and every rule of read(2) and write(2) with
 * O_DIRECT holds by construction: the device's checks (read-only, swap,
 * size, alignment), write-back and invalidation of its page cache with the
 * buffered fallback, REQ_FUA for a file opened O_DSYNC, the task's I/O
 * accounting. The kernel drops what was cached of a write's range after
 * a direct write only when it finished at once: pinmdl_blk does it after
 * each write that pages came into the cache during (from a worker, before
 * the completion), as O_DIRECT would. The security module's word and fsnotify's events come from
 * the same helpers read(2) and write(2) call. The I/O is submitted from the
 * submitter's context and completes in whatever context the block layer
 * ends it. FLUSH is fsync(2) of the device.
 *
 * Each request is checked again against the device as it is now (block
 * size, DMA alignment, size), since they may change after the target was
 * opened. A request goes as direct I/Os of at most PINMDL_BLK_BVECS bio_vecs
 * and PINMDL_BLK_IO_MAX bytes each, one after the other, at most
 * PINMDL_BLK_WINDOWS of them in flight: what a request allocates is bounded
 * by that, whatever its pages, and the submitter waits for the oldest
 * direct I/O before it starts one more. A fatal signal or a cancel (CANCEL
 * of /dev/pinmdl included) while the request is being queued stops the
 * submission between them, and the request then finishes with -EINTR or
 * -ECANCELED once those sent are done. Any error of the device, or a short
 * transfer, completes a request with -EIO.
 * A request that may not wait (@nowait: an io_uring command issued inline)
 * goes as one direct I/O with IOCB_NOWAIT, as io_uring's own reads and
 * writes do. A FLUSH, a request of more than one direct I/O, one to a
 * device that cannot take IOCB_NOWAIT, or one the block layer refuses as
 * it is submitted (no tag free, a bio to split, cached pages to drop
 * before a write) is refused with -EAGAIN before anything moved, to be
 * sent again where it may wait. A refusal that comes only after the
 * request was queued (a bio held back and submitted later) completes it
 * with -EAGAIN, nothing moved.
 * It uses only module/pinmdl.h, as any other lower driver would.
 */
#include <linux/blkdev.h>
#include <linux/errseq.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fsnotify.h>
#include <linux/module.h>
#include <linux/pagemap.h>
#include <linux/refcount.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/workqueue.h>

#include "module/pinmdl.h"

/*
 * Most bytes one direct I/O moves: the block layer takes a bvec iterator
 * as one bio, whose size is 32 bits. A whole number of blocks.
 */
#define PINMDL_BLK_IO_MAX	SZ_1G

/*
 * Most bio_vecs of one direct I/O (16 KiB): 4 MiB of scattered 4 KiB
 * pages, as much as 1 GiB of contiguous ones; a device block of up to
 * 4 MiB fits.
 */
#define PINMDL_BLK_BVECS	1024

/* Direct I/Os of a request in flight at once, each with its bio_vecs. */
#define PINMDL_BLK_WINDOWS	2

/* bio_vecs a request holds without an allocation of their own */
#define PINMDL_BLK_INLINE_BVECS	4

struct pinmdl_blk_io;

/**
 * struct pinmdl_blk_dio - one direct I/O of a request in flight
 * @iocb: its kiocb, completed by the block layer
 * @io: the request's part
 * @len: bytes it moves
 * @done: completed with it, for the submitter to use @bvec again
 * @bvec: its bio_vecs, which the block layer reads until it is done
 */
struct pinmdl_blk_dio {
	struct kiocb iocb;
	struct pinmdl_blk_io *io;
	size_t len;
	struct completion done;
	struct bio_vec *bvec;
};

/**
 * struct pinmdl_blk_io - the driver's part of a request
 * @req: the request
 * @remaining: direct I/Os in flight, plus one while they are submitted
 * @status: 0, -EIO once one failed or fell short, or why the submission
 *	    stopped
 * @submitter: pid of the task that sent it, for what is logged after
 * @work: invalidates the cache after a write, then completes the request
 * @nowait: PINMDL_BLK_NOWAIT_* of a request that may not wait, else 0
 * @windows: direct I/Os with bio_vecs of their own: 1, or
 *	     PINMDL_BLK_WINDOWS
 * @nr_bvec: bio_vecs of each direct I/O
 * @bvec: theirs, @nr_bvec each, allocated unless @inline_bvec
 * @dio: the direct I/Os in flight, each in the next in turn
 * @inline_bvec: @bvec of a request of few bio_vecs
 */
struct pinmdl_blk_io {
	struct pinmdl_request *req;
	refcount_t remaining;
	int status;
	pid_t submitter;
	struct work_struct work;
	int nowait;
	unsigned int windows;
	unsigned int nr_bvec;
	struct bio_vec *bvec;
	struct pinmdl_blk_dio dio[PINMDL_BLK_WINDOWS];
	struct bio_vec inline_bvec[PINMDL_BLK_INLINE_BVECS];
};

/* struct pinmdl_blk_io.nowait */
enum {
	PINMDL_BLK_NOWAIT_QUEUING = 1,	/* its direct I/O is being started */
	PINMDL_BLK_NOWAIT_AGAIN,	/* which the block layer would wait for */
};

static struct workqueue_struct *pinmdl_blk_wq;
static struct pinmdl_target *pinmdl_blk_target;

static struct file *pinmdl_blk_file(const struct pinmdl_request *req)
{
	return pinmdl_binding_private(req->binding);
}

static struct block_device *pinmdl_blk_bdev(const struct file *file)
{
	return I_BDEV(file->f_mapping->host);
}

/*
 * Whether the device is gone: deleted, or without space now (its medium or
 * backing file gone). A dead disk has no capacity, but keeps its
 * partitions' sizes.
 */
static bool pinmdl_blk_gone(struct block_device *bdev)
{
	return !bdev_nr_bytes(bdev) || !get_capacity(bdev->bd_disk);
}

/* Alignment of I/O: buffers must suit the device's DMA too, if stricter. */
static u32 pinmdl_blk_block_size(struct block_device *bdev)
{
	return max(bdev_logical_block_size(bdev),
		   bdev_dma_alignment(bdev) + 1);
}

/* The device's bytes, in whole blocks of @block. */
static u64 pinmdl_blk_capacity(struct block_device *bdev, u32 block)
{
	return ALIGN_DOWN(bdev_nr_bytes(bdev), block);
}

/* Bind the block device file the caller opened, for its whole life. */
static int pinmdl_blk_bind(struct pinmdl_target *target, struct file *file,
			   struct pinmdl_target_limits *limits, void **private)
{
	if (!file)
		return -EINVAL;
	if (!S_ISBLK(file_inode(file)->i_mode))
		return -ENOTBLK;
	/* A device opened for neither (ioctls only) has no data to move. */
	if (!(file->f_mode & (FMODE_READ | FMODE_WRITE)))
		return -EBADF;
	limits->block_size = pinmdl_blk_block_size(pinmdl_blk_bdev(file));
	limits->capacity = pinmdl_blk_capacity(pinmdl_blk_bdev(file),
					       limits->block_size);
	*private = get_file(file);
	return 0;
}

static void pinmdl_blk_unbind(struct pinmdl_target *target, void *private)
{
	fput(private);
}

static int pinmdl_blk_check(struct pinmdl_request *req)
{
	const struct pinmdl_target_limits *limits =
		pinmdl_binding_limits(req->binding);
	enum dma_data_direction dir;
	unsigned int i;

	if (req->arg)
		return -EINVAL;
	switch (req->op) {
	case PINMDL_BLK_READ:
		dir = DMA_FROM_DEVICE;
		break;
	case PINMDL_BLK_WRITE:
		dir = DMA_TO_DEVICE;
		break;
	case PINMDL_BLK_FLUSH:
		return req->nr_segments || req->dev_offset ? -EINVAL : 0;
	default:
		return -EINVAL;
	}
	/* A device without space has no range to move. */
	if (!req->nr_segments || !limits->capacity)
		return -EINVAL;
	for (i = 0; i < req->nr_segments; i++)
		req->segments[i].dir = dir;
	return 0;
}

/*
 * The bound file's rights, as read(2) and write(2) of it would have: its
 * mode, then the security module's word on this access, as now. The
 * device's own refusals (read-only, swap) come from its write_iter.
 */
static int pinmdl_blk_permit(struct pinmdl_request *req)
{
	struct file *file = pinmdl_blk_file(req);
	bool read = req->op == PINMDL_BLK_READ;
	loff_t pos = req->dev_offset;

	if (!(file->f_mode & (read ? FMODE_READ : FMODE_WRITE)))
		return -EBADF;
	if (req->op == PINMDL_BLK_FLUSH)
		return 0;
	return rw_verify_area(read ? READ : WRITE, file, &pos, req->total);
}

/*
 * Whether @req still suits the device, of blocks of @block now: its block
 * size, DMA alignment and size may have changed since the target was
 * opened.
 */
static bool pinmdl_blk_fits(struct pinmdl_request *req,
			    struct block_device *bdev, u32 block)
{
	u64 capacity = pinmdl_blk_capacity(bdev, block);
	struct pinmdl_io_segment *seg;
	unsigned int i;

	if (!IS_ALIGNED(req->dev_offset, block) || req->dev_offset > capacity ||
	    req->total > capacity - req->dev_offset)
		return false;
	for (i = 0; i < req->nr_segments; i++) {
		seg = &req->segments[i];
		if (!IS_ALIGNED(pinmdl_byte_offset(seg->mdl) + seg->offset,
				block) || !IS_ALIGNED(seg->length, block))
			return false;
	}
	return true;
}

static void pinmdl_blk_complete(struct pinmdl_blk_io *io)
{
	struct pinmdl_request *req = io->req;
	/* The last put reads what the others wrote after its barrier. */
	int status = READ_ONCE(io->status);

	if (status)
		pinmdl_complete(req, status, 0);
	else
		pinmdl_complete(req, 0, req->total);
}

/*
 * After a write: drop what was cached of the range meanwhile. The kernel
 * does so itself only for a direct write that finished at once; each of a
 * request's finishes later.
 */
static void pinmdl_blk_work_fn(struct work_struct *work)
{
	struct pinmdl_blk_io *io = container_of(work, struct pinmdl_blk_io,
						work);
	struct pinmdl_request *req = io->req;
	struct address_space *mapping = pinmdl_blk_file(req)->f_mapping;
	loff_t end = req->dev_offset + req->total - 1;

	/* As O_DIRECT does: stale pages are an error of the mapping. */
	if (invalidate_inode_pages2_range(mapping,
					  req->dev_offset >> PAGE_SHIFT,
					  end >> PAGE_SHIFT)) {
		errseq_set(&mapping->wb_err, -EIO);
		pr_warn_ratelimited("pinmdl_blk: stale page cache after a write of pid %d\n",
				    io->submitter);
	}
	pinmdl_blk_complete(io);
}

/* Drop a direct I/O's or the submitter's count; the last completes. */
static void pinmdl_blk_put(struct pinmdl_blk_io *io)
{
	struct pinmdl_request *req = io->req;

	if (!refcount_dec_and_test(&io->remaining))
		return;
	/*
	 * Pages cached during a write, even a failed one, may be stale. A
	 * racy look is enough: a page read in after it sees the written data.
	 */
	if (req->op == PINMDL_BLK_WRITE &&
	    READ_ONCE(pinmdl_blk_file(req)->f_mapping->nrpages)) {
		INIT_WORK(&io->work, pinmdl_blk_work_fn);
		queue_work(pinmdl_blk_wq, &io->work);
		return;
	}
	pinmdl_blk_complete(io);
}

/*
 * A direct I/O's end: the block layer's completion context. Its slot may
 * be used again once @dio->done is completed.
 */
static void pinmdl_blk_dio_done(struct kiocb *iocb, long res)
{
	struct pinmdl_blk_dio *dio = container_of(iocb, struct pinmdl_blk_dio,
						  iocb);
	struct pinmdl_blk_io *io = dio->io;
	bool again = false;

	/* Refused for want of waiting (as io_uring reads the two errnos). */
	if ((res == -EAGAIN || res == -EOPNOTSUPP) &&
	    dio->iocb.ki_flags & IOCB_NOWAIT) {
		/*
		 * As it was started: the submitter sends the request again;
		 * nothing here touches @io any more.
		 */
		if (cmpxchg(&io->nowait, PINMDL_BLK_NOWAIT_QUEUING,
			    PINMDL_BLK_NOWAIT_AGAIN) == PINMDL_BLK_NOWAIT_QUEUING)
			return;
		again = true;
	}
	/* The first reason a request fails is the one it gives. */
	if (res < 0 || res != dio->len)
		cmpxchg(&io->status, 0, again ? -EAGAIN : -EIO);
	complete(&dio->done);
	pinmdl_blk_put(io);
}

/*
 * Start direct I/O @i of @io over @iter at @pos, in @dio. Return 0 once it
 * is queued or done, or the error of a first one that never started.
 */
static int pinmdl_blk_dio_start(struct pinmdl_blk_io *io,
				struct pinmdl_blk_dio *dio, unsigned int i,
				struct iov_iter *iter, loff_t pos)
{
	struct file *file = pinmdl_blk_file(io->req);
	ssize_t ret;

	dio->len = iov_iter_count(iter);
	reinit_completion(&dio->done);
	init_sync_kiocb(&dio->iocb, file);
	dio->iocb.ki_pos = pos;
	dio->iocb.ki_flags |= IOCB_DIRECT;
	dio->iocb.ki_complete = pinmdl_blk_dio_done;
	if (io->nowait)
		dio->iocb.ki_flags |= IOCB_NOWAIT;
	refcount_inc(&io->remaining);
	if (iov_iter_rw(iter) == READ) {
		ret = file->f_op->read_iter(&dio->iocb, iter);
	} else {
		dio->iocb.ki_flags |= IOCB_WRITE;
		ret = file->f_op->write_iter(&dio->iocb, iter);
	}
	if (ret == -EIOCBQUEUED)
		return 0;
	/* Done at once (a buffered fallback, say), or never started. */
	if (ret >= 0 || i) {
		pinmdl_blk_dio_done(&dio->iocb, ret);
		return 0;
	}
	refcount_dec(&io->remaining);
	return ret;
}

/* Why the submission of a request stops early, or 0. */
static int pinmdl_blk_stop(struct pinmdl_request *req)
{
	if (fatal_signal_pending(current))
		return -EINTR;
	if (pinmdl_request_cancelled(req))
		return -ECANCELED;
	return 0;
}

/*
 * Whether direct I/O @i of @io may start in @dio: once the one @dio had is
 * done, if none failed and no cancel or fatal signal came. If not, why
 * the request stops is in @io->status.
 */
static bool pinmdl_blk_may_go_on(struct pinmdl_blk_io *io,
				 struct pinmdl_blk_dio *dio, unsigned int i)
{
	int ret;

	if (i >= PINMDL_BLK_WINDOWS && wait_for_completion_killable(&dio->done))
		ret = -EINTR;
	else
		ret = pinmdl_blk_stop(io->req);
	/* Nothing more once one failed. */
	if (READ_ONCE(io->status))
		return false;
	if (ret)
		cmpxchg(&io->status, 0, ret);
	return !ret;
}

/*
 * Start @io's direct I/Os, stopping early for a cancel or a fatal signal.
 * Return the error of a first one that never started.
 */
static int pinmdl_blk_submit(struct pinmdl_blk_io *io, u32 block)
{
	struct pinmdl_request *req = io->req;
	unsigned int dir = req->op == PINMDL_BLK_READ ? ITER_DEST : ITER_SOURCE;
	struct pinmdl_request_pos at = {};
	loff_t pos = req->dev_offset;
	struct pinmdl_blk_dio *dio;
	struct iov_iter iter;
	unsigned int i, nr;
	u64 len;
	int ret;

	for (i = 0; pos - req->dev_offset < req->total; i++) {
		dio = &io->dio[i % PINMDL_BLK_WINDOWS];
		if (i && !pinmdl_blk_may_go_on(io, dio, i))
			break;
		nr = io->nr_bvec;
		len = pinmdl_request_bvecs(req, &at, PINMDL_BLK_IO_MAX, block,
					   dio->bvec, &nr);
		/* Only a block over PINMDL_BLK_BVECS pages could not go. */
		if (!len) {
			if (!i)
				return -EINVAL;
			cmpxchg(&io->status, 0, -EIO);
			break;
		}
		iov_iter_bvec(&iter, dir, dio->bvec, nr, len);
		ret = pinmdl_blk_dio_start(io, dio, i, &iter, pos);
		if (ret)
			return ret;
		pos += len;
	}
	return 0;
}

/*
 * The most bio_vecs @req can need, its pages not merged, if that fits
 * in a request's own bio_vecs; else 0.
 */
static unsigned int pinmdl_blk_inline_bound(const struct pinmdl_request *req)
{
	unsigned int i, nr = 0;

	for (i = 0; i < req->nr_segments; i++) {
		if (req->segments[i].length > PINMDL_BLK_INLINE_BVECS * PAGE_SIZE)
			return 0;
		nr += DIV_ROUND_UP(req->segments[i].length, PAGE_SIZE) + 1;
		if (nr > PINMDL_BLK_INLINE_BVECS)
			return 0;
	}
	return nr;
}

/*
 * Allocate the driver's part of @req, with the bio_vecs of its direct
 * I/Os: those of the whole request if one direct I/O takes it (counted
 * only if they might not fit in its own), else PINMDL_BLK_BVECS for each
 * of PINMDL_BLK_WINDOWS.
 */
static struct pinmdl_blk_io *pinmdl_blk_io_alloc(struct pinmdl_request *req)
{
	struct pinmdl_request_pos start = {};
	unsigned int nr = pinmdl_blk_inline_bound(req), windows = 1, i;
	struct pinmdl_blk_io *io;

	if (!nr) {
		nr = PINMDL_BLK_BVECS + 1;
		if (pinmdl_request_bvecs(req, &start, PINMDL_BLK_IO_MAX, 1,
					 NULL, &nr) < req->total ||
		    nr > PINMDL_BLK_BVECS) {
			nr = PINMDL_BLK_BVECS;
			windows = PINMDL_BLK_WINDOWS;
		}
	}
	io = kmalloc(sizeof(*io), GFP_KERNEL_ACCOUNT);
	if (!io)
		return NULL;
	io->bvec = io->inline_bvec;
	if (windows * nr > ARRAY_SIZE(io->inline_bvec)) {
		io->bvec = kmalloc_array(windows * nr, sizeof(*io->bvec),
					 GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
		if (!io->bvec) {
			kfree(io);
			return NULL;
		}
	}
	io->req = req;
	io->status = 0;
	io->submitter = task_pid_nr(current);
	io->nowait = req->nowait ? PINMDL_BLK_NOWAIT_QUEUING : 0;
	io->windows = windows;
	io->nr_bvec = nr;
	refcount_set(&io->remaining, 1);
	for (i = 0; i < windows; i++) {
		io->dio[i].io = io;
		io->dio[i].bvec = io->bvec + i * nr;
		init_completion(&io->dio[i].done);
	}
	return io;
}

/* Free @io, if any: a FLUSH has none. */
static void pinmdl_blk_io_free(struct pinmdl_blk_io *io)
{
	if (!io)
		return;
	if (io->bvec != io->inline_bvec)
		kfree(io->bvec);
	kfree(io);
}

/*
 * FLUSH: fsync(2) of the device, its cache written back and flushed; as
 * fsync(2), it reports the write-back errors this file had not seen yet.
 * Any error is the device's: EIO.
 */
static int pinmdl_blk_flush(struct pinmdl_request *req)
{
	if (vfs_fsync(pinmdl_blk_file(req), 0))
		pinmdl_complete(req, -EIO, 0);
	else
		pinmdl_complete(req, 0, 0);
	return 0;
}

static int pinmdl_blk_queue(struct pinmdl_request *req)
{
	struct file *file = pinmdl_blk_file(req);
	struct block_device *bdev = pinmdl_blk_bdev(file);
	struct pinmdl_blk_io *io;
	u32 block;
	int ret;

	if (pinmdl_blk_gone(bdev))
		return -ENODEV;
	/* io_uring's own I/O also waits where the device cannot say no. */
	if (req->nowait && (req->op == PINMDL_BLK_FLUSH || !bdev_nowait(bdev)))
		return -EAGAIN;
	if (req->op == PINMDL_BLK_FLUSH)
		return pinmdl_blk_flush(req);
	/* A device going away shrinks first: that is why it no longer fits. */
	block = pinmdl_blk_block_size(bdev);
	if (!pinmdl_blk_fits(req, bdev, block))
		return pinmdl_blk_gone(bdev) ? -ENODEV : -EINVAL;
	io = pinmdl_blk_io_alloc(req);
	if (!io)
		return -ENOMEM;
	/* One direct I/O only: the submitter would wait for the first. */
	if (req->nowait && io->windows > 1)
		ret = -EAGAIN;
	else
		ret = pinmdl_blk_submit(io, block);
	/* Its direct I/O ended at once, refused for want of waiting. */
	if (!ret && req->nowait &&
	    xchg(&io->nowait, 0) == PINMDL_BLK_NOWAIT_AGAIN)
		ret = -EAGAIN;
	if (ret) {
		pinmdl_blk_io_free(io);
		/* Gone meanwhile: whatever the device said, that is why. */
		return pinmdl_blk_gone(bdev) ? -ENODEV : ret;
	}
	req->target_data = io;
	if (req->op == PINMDL_BLK_READ)
		fsnotify_access(file);
	else
		fsnotify_modify(file);
	pinmdl_blk_put(io);
	return 0;
}

static void pinmdl_blk_release(struct pinmdl_request *req)
{
	pinmdl_blk_io_free(req->target_data);
}

static const struct pinmdl_target_ops pinmdl_blk_ops = {
	.owner = THIS_MODULE,
	.bind = pinmdl_blk_bind,
	.unbind = pinmdl_blk_unbind,
	.check = pinmdl_blk_check,
	.permit = pinmdl_blk_permit,
	.queue = pinmdl_blk_queue,
	.release = pinmdl_blk_release,
};

static int __init pinmdl_blk_init(void)
{
	/* Each binding gets the block size and capacity of its device. */
	struct pinmdl_target_limits limits = {
		.block_size = SECTOR_SIZE,
		.max_segments = PINMDL_MAX_SEGMENTS,
	};

	int ret;

	/* A write's completion may wait for it under memory pressure. */
	pinmdl_blk_wq = alloc_workqueue("pinmdl_blk",
					WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!pinmdl_blk_wq)
		return -ENOMEM;
	pinmdl_blk_target = pinmdl_target_register("pinmdl_blk",
						   &pinmdl_blk_ops, &limits,
						   NULL);
	if (IS_ERR(pinmdl_blk_target)) {
		ret = PTR_ERR(pinmdl_blk_target);
		goto err_wq;
	}
	return 0;

err_wq:
	destroy_workqueue(pinmdl_blk_wq);
	return ret;
}
module_init(pinmdl_blk_init);

static void __exit pinmdl_blk_exit(void)
{
	pinmdl_target_unregister(pinmdl_blk_target);
	destroy_workqueue(pinmdl_blk_wq);
}
module_exit(pinmdl_blk_exit);

MODULE_DESCRIPTION("pinmdl block device target: direct I/O to locked memory");
MODULE_LICENSE("GPL");
