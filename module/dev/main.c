// SPDX-License-Identifier: GPL-2.0
/*
 * pinmdl: the Windows probe-and-lock service (MDLs) on pin_user_pages.
 *
 * /dev/pinmdl gives each open file a table of descriptors:
 *
 *	int fd = open("/dev/pinmdl", O_RDWR);
 *	struct pinmdl_create c = { .addr = (__u64)buf, .length = len };
 *	ioctl(fd, PINMDL_IOC_CREATE, &c);
 *	struct pinmdl_lock l = { .handle = c.handle,
 *				 .access_mode = PINMDL_USER_MODE,
 *				 .operation = PINMDL_IO_WRITE_ACCESS };
 *	ioctl(fd, PINMDL_IOC_LOCK, &l);
 *
 * See uapi/linux/pinmdl.h for the ABI and module/pinmdl.h for the kernel API.
 */
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/kstrtox.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>

#include "core/desc.h"
#include "core/pin.h"
#include "core/stats.h"
#include "dev/file.h"
#include "dev/ioctl.h"
#include "dev/mmap.h"
#include "dev/request.h"
#include "dev/uring.h"
#include "request/request.h"

/*
 * Pages all descriptors may pin together: any number up to the machine's
 * RAM (default: half of it). No folio can overflow whatever it is, as
 * each pin is checked against max_folio_refs (core/refs.c).
 */
unsigned long pinmdl_max_pinned_pages;

static int pinmdl_set_max_pinned_pages(const char *val,
				       const struct kernel_param *kp)
{
	unsigned long pages;
	int ret = kstrtoul(val, 0, &pages);

	if (ret)
		return ret;
	if (pages > totalram_pages())
		return -EINVAL;
	WRITE_ONCE(pinmdl_max_pinned_pages, pages);
	return 0;
}

static const struct kernel_param_ops pinmdl_max_pinned_pages_ops = {
	.set = pinmdl_set_max_pinned_pages,
	.get = param_get_ulong,
};
module_param_cb(max_pinned_pages, &pinmdl_max_pinned_pages_ops,
		&pinmdl_max_pinned_pages, 0644);
MODULE_PARM_DESC(max_pinned_pages,
		 "Pages all descriptors may pin together, at most the machine's RAM (default: half of RAM)");

u64 pinmdl_max_descriptor_bytes = SZ_4G;
module_param_named(max_descriptor_bytes, pinmdl_max_descriptor_bytes, ullong,
		   0644);
MODULE_PARM_DESC(max_descriptor_bytes,
		 "Longest range one descriptor may describe (default: 4 GiB)");

unsigned int pinmdl_max_descriptors = 65536;
module_param_named(max_descriptors, pinmdl_max_descriptors, uint, 0644);
MODULE_PARM_DESC(max_descriptors,
		 "Descriptors one open /dev/pinmdl may hold (default: 65536)");

/*
 * Allocate the descriptor table of a new open file. Whether QUERY shows
 * PFNs is decided now, from the opener's credentials, as for
 * /proc/pid/pagemap.
 */
static int pinmdl_open(struct inode *inode, struct file *file)
{
	struct pinmdl_file *pf = pinmdl_file_open(file_ns_capable(file,
							       &init_user_ns,
							       CAP_SYS_ADMIN));

	if (IS_ERR(pf))
		return PTR_ERR(pf);
	file->private_data = pf;
	/* Its mappings are in its own address space (dev/mmap.c). */
	file->f_mapping = pf->map_inode->i_mapping;
	return 0;
}

/* Release every descriptor of the file (rule 7). */
static int pinmdl_release(struct inode *inode, struct file *file)
{
	pinmdl_file_release(file->private_data);
	return 0;
}

/* Dispatch an ioctl, counting failures by errno. */
static long pinmdl_unlocked_ioctl(struct file *file, unsigned int cmd,
				  unsigned long arg)
{
	long ret = pinmdl_ioctl(file->private_data, cmd,
				(void __user *)arg);

	if (ret < 0)
		pinmdl_stats_failure(ret);
	return ret;
}

/* Read one completion of an asynchronous request. */
static ssize_t pinmdl_read(struct file *file, char __user *buf, size_t count,
			   loff_t *ppos)
{
	return pinmdl_read_completion(file->private_data, buf, count,
				      file->f_flags & O_NONBLOCK);
}

/* Map a descriptor's pages, at an offset from PINMDL_IOC_MAP_OFFSET. */
static int pinmdl_file_mmap(struct file *file, struct vm_area_struct *vma)
{
	return pinmdl_mmap(file->private_data, vma);
}

/* Readable when a completion is ready. */
static __poll_t pinmdl_poll(struct file *file, poll_table *wait)
{
	return pinmdl_poll_completions(file->private_data, file, wait);
}

static const struct file_operations pinmdl_fops = {
	.owner = THIS_MODULE,
	.open = pinmdl_open,
	.release = pinmdl_release,
	.read = pinmdl_read,
	.poll = pinmdl_poll,
	.mmap = pinmdl_file_mmap,
	.unlocked_ioctl = pinmdl_unlocked_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.uring_cmd = pinmdl_uring_cmd,
	.llseek = noop_llseek,
};

static struct miscdevice pinmdl_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "pinmdl",
	.fops = &pinmdl_fops,
	.mode = 0600,
};

static int __init pinmdl_init(void)
{
	int ret;

	/* No parameter write may come between the look and the default. */
	kernel_param_lock(THIS_MODULE);
	if (!pinmdl_max_pinned_pages)
		pinmdl_max_pinned_pages = totalram_pages() / 2;
	kernel_param_unlock(THIS_MODULE);
	ret = pinmdl_pin_init();
	if (ret)
		return ret;
	ret = pinmdl_request_init();
	if (ret)
		goto err_pin;
	pinmdl_stats_init();
	ret = misc_register(&pinmdl_misc);
	if (ret)
		goto err_stats;
	return 0;

err_stats:
	pinmdl_stats_exit();
	pinmdl_request_exit();
err_pin:
	pinmdl_pin_exit();
	return ret;
}
module_init(pinmdl_init);

static void __exit pinmdl_exit(void)
{
	misc_deregister(&pinmdl_misc);
	pinmdl_request_exit();
	pinmdl_stats_exit();
	pinmdl_pin_exit();
}
module_exit(pinmdl_exit);

MODULE_DESCRIPTION("Probe-and-lock memory descriptors for user buffers");
MODULE_LICENSE("GPL");
