// SPDX-License-Identifier: GPL-2.0
/* bio_iov_iter_get_pages() gained the two alignment masks of its caller. */
#include <linux/bio.h>

int pinmdl_probe(struct bio *bio, struct iov_iter *iter);
int pinmdl_probe(struct bio *bio, struct iov_iter *iter)
{
	return bio_iov_iter_get_pages(bio, iter, 0, 0);
}
