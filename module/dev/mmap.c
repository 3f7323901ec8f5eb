// SPDX-License-Identifier: GPL-2.0
/*
 * mmap(2) of /dev/pinmdl (MmMapLockedPagesSpecifyCache in UserMode): each
 * open file has an address space of its own, on an inode of a pseudo file
 * system, as DRM gives each device, so that the mappings of its
 * descriptors are found and zapped in every process that maps them
 * (core/umap.c); PINMDL_IOC_MAP_OFFSET tells where a descriptor is.
 */
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/mount.h>
#include <linux/pseudo_fs.h>
#include <linux/uaccess.h>

#include "core/desc.h"
#include "dev/file.h"
#include "dev/mmap.h"

#define PINMDL_FS_MAGIC	0x706d646c	/* "pmdl" */

static struct vfsmount *pinmdl_fs_mnt;
static int pinmdl_fs_count;

static int pinmdl_fs_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, PINMDL_FS_MAGIC) ? 0 : -ENOMEM;
}

static struct file_system_type pinmdl_fs_type = {
	.owner = THIS_MODULE,
	.name = "pinmdl",
	.init_fs_context = pinmdl_fs_init_fs_context,
	.kill_sb = kill_anon_super,
};

/**
 * pinmdl_mmap_inode() - an inode whose address space holds one open
 *			 file's mappings
 *
 * Context: process context.
 * Return: the inode, to be dropped with pinmdl_mmap_inode_put(), or an
 * ERR_PTR().
 */
struct inode *pinmdl_mmap_inode(void)
{
	struct inode *inode;
	int ret;

	ret = simple_pin_fs(&pinmdl_fs_type, &pinmdl_fs_mnt, &pinmdl_fs_count);
	if (ret)
		return ERR_PTR(ret);
	inode = alloc_anon_inode(pinmdl_fs_mnt->mnt_sb);
	if (IS_ERR(inode))
		simple_release_fs(&pinmdl_fs_mnt, &pinmdl_fs_count);
	return inode;
}

/**
 * pinmdl_mmap_inode_put() - drop an inode of pinmdl_mmap_inode()
 * @inode: the inode; no VMA maps its address space any more
 *
 * Context: process context.
 */
void pinmdl_mmap_inode_put(struct inode *inode)
{
	iput(inode);
	simple_release_fs(&pinmdl_fs_mnt, &pinmdl_fs_count);
}

/**
 * pinmdl_ioctl_map_offset() - PINMDL_IOC_MAP_OFFSET
 * @pf: open file
 * @uarg: struct pinmdl_map
 *
 * Context: process context.
 * Return: 0, or a negative errno (the lookup's, pinmdl_umap_offset()'s).
 */
int pinmdl_ioctl_map_offset(struct pinmdl_file *pf, void __user *uarg)
{
	struct pinmdl_map arg, __user *user = uarg;
	struct pinmdl *mdl;
	u64 offset;
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.flags & ~PINMDL_MAP_WRITE_COMBINED)
		return -EINVAL;

	mdl = pinmdl_file_lookup(pf, arg.handle);
	if (IS_ERR(mdl))
		return PTR_ERR(mdl);
	ret = pinmdl_umap_offset(mdl, &pf->maps,
				 arg.flags & PINMDL_MAP_WRITE_COMBINED, &offset);
	pinmdl_put(mdl);
	if (!ret && put_user(offset, &user->offset))
		ret = -EFAULT;
	return ret;
}

/**
 * pinmdl_mmap() - map a descriptor's pages (mmap(2) of /dev/pinmdl)
 * @pf: open file
 * @vma: the new VMA, at an offset from PINMDL_IOC_MAP_OFFSET
 *
 * Any process holding the file may map it.
 *
 * Context: the mmap_lock held for write.
 * Return: 0, or a negative errno (pinmdl_umap_mmap()).
 */
int pinmdl_mmap(struct pinmdl_file *pf, struct vm_area_struct *vma)
{
	return pinmdl_umap_mmap(&pf->maps, vma);
}
