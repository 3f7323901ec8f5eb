/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The dma-buf interfaces that differ between the supported kernels, for
 * pinmdl.ko (the exporter) and pinmdl_lower (an importer):
 * - symbol namespaces became string literals in 6.13 (probe
 *   module_import_ns_string);
 * - dma_buf_vmap() wants the reservation lock held since 6.2, which
 *   dma_buf_vmap_unlocked() takes; before, it took its own (probe
 *   dma_buf_vmap_unlocked);
 * - dma_buf_fd_install() installs a reserved fd with the dma_buf_fd trace
 *   event; where it is missing, fd_install() does what it does but the
 *   event (probe dma_buf_fd_install).
 */
#ifndef _PINMDL_DMABUF_COMPAT_H
#define _PINMDL_DMABUF_COMPAT_H

#include <linux/dma-buf.h>
#include <linux/file.h>
#include <linux/iosys-map.h>
#include <linux/module.h>

#ifdef PINMDL_HAVE_MODULE_IMPORT_NS_STRING
#define PINMDL_IMPORT_NS_DMA_BUF()	MODULE_IMPORT_NS("DMA_BUF")
#else
#define PINMDL_IMPORT_NS_DMA_BUF()	MODULE_IMPORT_NS(DMA_BUF)
#endif

static inline int pinmdl_dma_buf_vmap(struct dma_buf *dmabuf,
				      struct iosys_map *map)
{
#ifdef PINMDL_HAVE_DMA_BUF_VMAP_UNLOCKED
	return dma_buf_vmap_unlocked(dmabuf, map);
#else
	return dma_buf_vmap(dmabuf, map);
#endif
}

static inline void pinmdl_dma_buf_vunmap(struct dma_buf *dmabuf,
					 struct iosys_map *map)
{
#ifdef PINMDL_HAVE_DMA_BUF_VMAP_UNLOCKED
	dma_buf_vunmap_unlocked(dmabuf, map);
#else
	dma_buf_vunmap(dmabuf, map);
#endif
}

static inline void pinmdl_dma_buf_fd_install(struct dma_buf *dmabuf, int fd)
{
#ifdef PINMDL_HAVE_DMA_BUF_FD_INSTALL
	dma_buf_fd_install(dmabuf, fd);
#else
	fd_install(fd, dmabuf->file);
#endif
}

#endif /* _PINMDL_DMABUF_COMPAT_H */
