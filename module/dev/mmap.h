/* SPDX-License-Identifier: GPL-2.0 */
/* mmap(2) of /dev/pinmdl: each open file's address space, MAP_OFFSET. */
#ifndef _PINMDL_MMAP_H
#define _PINMDL_MMAP_H

#include <linux/compiler_types.h>

struct inode;
struct pinmdl_file;
struct vm_area_struct;

struct inode *pinmdl_mmap_inode(void);
void pinmdl_mmap_inode_put(struct inode *inode);
int pinmdl_ioctl_map_offset(struct pinmdl_file *pf, void __user *uarg);
int pinmdl_mmap(struct pinmdl_file *pf, struct vm_area_struct *vma);

#endif /* _PINMDL_MMAP_H */
