// SPDX-License-Identifier: GPL-2.0
/* DMA_ATTR_REQUIRE_COHERENT: a mapping that fails where it needs syncs. */
#include <linux/dma-mapping.h>

int pinmdl_probe(struct device *dev, struct sg_table *sgt);
int pinmdl_probe(struct device *dev, struct sg_table *sgt)
{
	return dma_map_sgtable(dev, sgt, DMA_TO_DEVICE,
			       DMA_ATTR_REQUIRE_COHERENT);
}
