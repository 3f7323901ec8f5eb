// SPDX-License-Identifier: GPL-2.0
/*
 * pinmdl_blk: target "pinmdl_blk", direct I/O between a block device and
 * locked memory (the highest-level driver that sends a locked buffer down
 * to the disk drivers).
 *
 * Opening the target binds a block device file that the caller opened
 * itself, with that file's rights: pinmdl never opens a device by name.
 * A request becomes bios that point straight at the locked pages, through
 * the request's bio_vec array: no page is pinned or referenced per I/O, as
 * the request holds its descriptors in flight until it is done. The bios
 * are submitted from the submitter's context and complete in whatever
 * context the block layer ends them; the last one completes the request.
 * A bio covers whole bio_vecs, at most PINMDL_BLK_BIO_MAX bytes and
 * PINMDL_BLK_BIO_VECS of them, and the block layer splits it to the
 * queue's limits. Each request is checked again against the device as it
 * is now (block size, DMA alignment, size), as the block layer's own
 * direct I/O does, since they may change after the target was opened.
 *
 * The device's page cache stays coherent as with O_DIRECT: the range is
 * written back before the I/O, and a write's range invalidated before and
 * after it (after it from a worker, if the cache holds pages then; a page
 * that cannot be dropped is reported on the mapping, as O_DIRECT does).
 * FLUSH writes back the cache of the whole device first, as fsync does.
 *
 * Bios cannot be recalled once submitted. A fatal signal, or a cancel from
 * an in-kernel submitter while the request is queued (through /dev/pinmdl a
 * request can be cancelled only once its queue returned), stops the
 * submission of a long request between bios, and the request then
 * finishes with -EINTR or -ECANCELED once the bios sent are done.
 * Any error of the device completes a request with -EIO.
 * It uses only module/pinmdl.h, as any other lower driver would.
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/errseq.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/pagemap.h>
#include <linux/refcount.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/workqueue.h>

#include "module/blk/blk_compat.h"
#include "module/pinmdl.h"

/* Longest bio built (bi_size is 32 bits). */
#define PINMDL_BLK_BIO_MAX	SZ_1G
/* Most bio_vecs a bio points at (bi_vcnt is 16 bits). */
#define PINMDL_BLK_BIO_VECS	U16_MAX

/**
 * struct pinmdl_blk_io - the driver's part of a request
 * @req: the request
 * @remaining: bios in flight, plus one while they are submitted
 * @status: 0, -EIO once a bio failed, or why the submission stopped
 * @work: invalidates the cache after a write, then completes the request
 * @bio: the first bio, which carries this structure as its front pad
 */
struct pinmdl_blk_io {
	struct pinmdl_request *req;
	refcount_t remaining;
	int status;
	struct work_struct work;
	struct bio bio;
};

static struct bio_set pinmdl_blk_bio_set;
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
	/* A file opened for neither (O_PATH) has no device to use. */
	if (!(file->f_mode & (FMODE_READ | FMODE_WRITE)))
		return -EBADF;
	if (!S_ISBLK(file_inode(file)->i_mode))
		return -ENOTBLK;
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
 * The bound file's rights, as read(2) and write(2) of it would have (its
 * mode, then the security checks of each access): a write also needs a
 * device that is not read-only nor used for swap.
 */
static int pinmdl_blk_permit(struct pinmdl_request *req)
{
	struct file *file = pinmdl_blk_file(req);
	bool read = req->op == PINMDL_BLK_READ;
	loff_t pos = req->dev_offset;
	int ret;

	if (!(file->f_mode & (read ? FMODE_READ : FMODE_WRITE)))
		return -EBADF;
	/* The security module's word on this access, as now. */
	ret = rw_verify_area(read ? READ : WRITE, file, &pos, req->total);
	if (ret)
		return ret;
	if (req->op != PINMDL_BLK_WRITE)
		return 0;
	if (bdev_read_only(pinmdl_blk_bdev(file)))
		return -EPERM;
	if (IS_SWAPFILE(file->f_mapping->host))
		return -ETXTBSY;
	return 0;
}

/*
 * Whether @req still suits the device: its block size, DMA alignment and
 * size may have changed since the target was opened.
 */
static bool pinmdl_blk_fits(struct pinmdl_request *req,
			    struct block_device *bdev)
{
	u32 block = pinmdl_blk_block_size(bdev);
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

/*
 * Write back (and for a write, drop) the cached pages of the range; for a
 * FLUSH, write back the whole device's.
 */
static int pinmdl_blk_cache_before(struct pinmdl_request *req,
				   struct file *file)
{
	struct address_space *mapping = file->f_mapping;
	loff_t pos = req->dev_offset, end = pos + req->total - 1;
	int ret;

	/* As fsync(2): the errors this file has not seen yet too. */
	if (req->op == PINMDL_BLK_FLUSH)
		return file_write_and_wait_range(file, 0, LLONG_MAX);
	ret = filemap_write_and_wait_range(mapping, pos, end);
	if (ret || req->op != PINMDL_BLK_WRITE)
		return ret;
	/*
	 * A page that cannot be dropped now (mapped and busy) is dropped
	 * after the write, which tries again whenever pages are cached.
	 */
	invalidate_inode_pages2_range(mapping, pos >> PAGE_SHIFT,
				      end >> PAGE_SHIFT);
	return 0;
}

static void pinmdl_blk_complete(struct pinmdl_blk_io *io)
{
	struct pinmdl_request *req = io->req;

	if (io->status)
		pinmdl_complete(req, io->status, 0);
	else
		pinmdl_complete(req, 0, req->total);
}

/* After a write: drop what was cached of the range meanwhile. */
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
		pr_warn_ratelimited("pinmdl_blk: stale page cache after a write, pid %d\n",
				    task_pid_nr(current));
	}
	pinmdl_blk_complete(io);
}

/* Drop a bio's or the submitter's count; the last completes. Any context. */
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

static void pinmdl_blk_end_io(struct bio *bio)
{
	struct pinmdl_blk_io *io = bio->bi_private;

	/* Any device error is EIO; the last put reads it after its barrier. */
	if (bio->bi_status)
		WRITE_ONCE(io->status, -EIO);
	/* The first bio holds @io: it goes when the request is released. */
	if (bio != &io->bio)
		bio_put(bio);
	pinmdl_blk_put(io);
}

static blk_opf_t pinmdl_blk_opf(u32 op)
{
	switch (op) {
	case PINMDL_BLK_READ:
		return REQ_OP_READ;
	case PINMDL_BLK_WRITE:
		/* As a direct write(2) does. */
		return REQ_OP_WRITE | REQ_SYNC | REQ_IDLE;
	case PINMDL_BLK_FLUSH:
	default:
		return REQ_OP_WRITE | REQ_PREFLUSH;
	}
}

/*
 * The next bio's part of @iter into @part: whole bio_vecs, at most
 * PINMDL_BLK_BIO_MAX bytes and PINMDL_BLK_BIO_VECS of them, so that the
 * bio's count of them is exact. Each bio_vec of a request starts and ends
 * on a block, and none is over PINMDL_BLK_BIO_MAX.
 */
static void pinmdl_blk_next_part(const struct iov_iter *iter,
				 struct iov_iter *part)
{
	unsigned long n, max = min_t(unsigned long, iter->nr_segs,
				     PINMDL_BLK_BIO_VECS);
	const struct bio_vec *bv = iter->bvec;
	size_t bytes = 0;

	for (n = 0; n < max && bytes + bv[n].bv_len <= PINMDL_BLK_BIO_MAX; n++)
		bytes += bv[n].bv_len;
	iov_iter_bvec(part, iov_iter_rw(iter), bv, n, bytes);
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
 * Submit @req's bios, stopping early for a cancel or a fatal signal. The
 * first bio, which holds @io, is submitted in any case.
 */
static void pinmdl_blk_submit(struct pinmdl_blk_io *io, struct iov_iter *iter)
{
	struct bio *bio = &io->bio;
	struct block_device *bdev = bio->bi_bdev;
	blk_opf_t opf = bio->bi_opf;
	loff_t pos = io->req->dev_offset;
	struct iov_iter part;
	struct blk_plug plug;
	int stop;

	blk_start_plug(&plug);
	for (;;) {
		if (iov_iter_count(iter)) {
			pinmdl_blk_next_part(iter, &part);
			/* A bvec iterator is taken whole: this cannot fail. */
			WARN_ON_ONCE(pinmdl_blk_bio_set_iter(bio, &part));
			iov_iter_advance(iter, bio->bi_iter.bi_size);
		}
		bio->bi_iter.bi_sector = pos >> SECTOR_SHIFT;
		bio->bi_end_io = pinmdl_blk_end_io;
		bio->bi_private = io;
		pos += bio->bi_iter.bi_size;
		refcount_inc(&io->remaining);
		submit_bio(bio);
		if (!iov_iter_count(iter))
			break;
		stop = pinmdl_blk_stop(io->req);
		if (stop) {
			WRITE_ONCE(io->status, stop);
			break;
		}
		/*
		 * From fs_bio_set: the reserve of pinmdl_blk_bio_set is for
		 * first bios, which stay until their request finishes.
		 */
		bio = bio_alloc(bdev, 0, opf, GFP_KERNEL);
	}
	blk_finish_plug(&plug);
}

static int pinmdl_blk_queue(struct pinmdl_request *req)
{
	struct file *file = pinmdl_blk_file(req);
	struct block_device *bdev = pinmdl_blk_bdev(file);
	struct iov_iter iter = {};
	struct pinmdl_blk_io *io;
	struct bio *bio;
	int ret;

	/* Deleted, or without space now (its medium or backing file gone). */
	if (test_bit(GD_DEAD, &bdev->bd_disk->state) || !bdev_nr_bytes(bdev))
		return -ENODEV;
	if (req->op != PINMDL_BLK_FLUSH && !pinmdl_blk_fits(req, bdev))
		return -EINVAL;
	ret = pinmdl_blk_cache_before(req, file);
	if (ret)
		return ret;
	if (req->op != PINMDL_BLK_FLUSH) {
		ret = pinmdl_request_iter(req, req->op == PINMDL_BLK_READ ?
					  ITER_DEST : ITER_SOURCE, &iter);
		if (ret)
			return ret;
	}
	bio = bio_alloc_bioset(bdev, 0, pinmdl_blk_opf(req->op), GFP_KERNEL,
			       &pinmdl_blk_bio_set);
	io = container_of(bio, struct pinmdl_blk_io, bio);
	io->req = req;
	io->status = 0;
	refcount_set(&io->remaining, 1);
	req->target_data = io;
	pinmdl_blk_submit(io, &iter);
	pinmdl_blk_put(io);
	return 0;
}

static void pinmdl_blk_release(struct pinmdl_request *req)
{
	struct pinmdl_blk_io *io = req->target_data;

	bio_put(&io->bio);
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

	ret = bioset_init(&pinmdl_blk_bio_set, 4,
			  offsetof(struct pinmdl_blk_io, bio), 0);
	if (ret)
		return ret;
	/* A write's completion may wait for it under memory pressure. */
	pinmdl_blk_wq = alloc_workqueue("pinmdl_blk",
					WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!pinmdl_blk_wq) {
		ret = -ENOMEM;
		goto err_bioset;
	}
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
err_bioset:
	bioset_exit(&pinmdl_blk_bio_set);
	return ret;
}
module_init(pinmdl_blk_init);

static void __exit pinmdl_blk_exit(void)
{
	pinmdl_target_unregister(pinmdl_blk_target);
	destroy_workqueue(pinmdl_blk_wq);
	bioset_exit(&pinmdl_blk_bio_set);
}
module_exit(pinmdl_blk_exit);

MODULE_DESCRIPTION("pinmdl block device target: direct I/O to locked memory");
MODULE_LICENSE("GPL");
