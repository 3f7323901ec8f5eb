/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the supported kernels in the block layer's
 * interface, for pinmdl_blk; told apart by Kbuild probes (module/probes/).
 */
#ifndef _PINMDL_BLK_COMPAT_H
#define _PINMDL_BLK_COMPAT_H

#include <linux/bio.h>

/*
 * Point @bio at the bio_vecs of the bvec iterator @iter, taken whole.
 * bio_iov_iter_get_pages() gained a memory and a length alignment mask
 * (probe bio_iov_iter_get_pages_aligned); pinmdl_blk checked each request
 * against the device already, so neither is asked for here and, as before,
 * a bvec iterator cannot fail.
 */
static inline int pinmdl_blk_bio_set_iter(struct bio *bio,
					  struct iov_iter *iter)
{
#ifdef PINMDL_HAVE_BIO_IOV_ITER_GET_PAGES_ALIGNED
	return bio_iov_iter_get_pages(bio, iter, 0, 0);
#else
	return bio_iov_iter_get_pages(bio, iter);
#endif
}

#endif /* _PINMDL_BLK_COMPAT_H */
