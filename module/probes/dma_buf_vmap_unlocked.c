// SPDX-License-Identifier: GPL-2.0
/*
 * dma_buf_vmap() wants the reservation lock held; dma_buf_vmap_unlocked()
 * takes it (6.2).
 */
#include <linux/dma-buf.h>
#include <linux/iosys-map.h>

int pinmdl_probe(struct dma_buf *dmabuf, struct iosys_map *map);
int pinmdl_probe(struct dma_buf *dmabuf, struct iosys_map *map)
{
	return dma_buf_vmap_unlocked(dmabuf, map);
}
