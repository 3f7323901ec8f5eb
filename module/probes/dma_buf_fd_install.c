// SPDX-License-Identifier: GPL-2.0
/*
 * dma_buf_fd_install() installs an fd reserved before the fallible work
 * (7.3 has it, and Debian backported it to 6.1; Debian's 6.12 lacks it).
 */
#include <linux/dma-buf.h>

void pinmdl_probe(struct dma_buf *dmabuf, int fd);
void pinmdl_probe(struct dma_buf *dmabuf, int fd)
{
	dma_buf_fd_install(dmabuf, fd);
}
