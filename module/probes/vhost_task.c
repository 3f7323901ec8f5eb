// SPDX-License-Identifier: GPL-2.0
/*
 * vhost_task_create() with its SIGKILL handler (6.12 has it; 6.1 has no
 * vhost task), in a kernel built with CONFIG_VHOST_TASK.
 */
#include <linux/types.h>
#include <linux/sched/vhost_task.h>

#if !IS_ENABLED(CONFIG_VHOST_TASK)
#error "no vhost_task_create() in this kernel"
#endif

struct vhost_task *pinmdl_probe(bool (*fn)(void *), void (*killed)(void *),
				void *arg);
struct vhost_task *pinmdl_probe(bool (*fn)(void *), void (*killed)(void *),
				void *arg)
{
	return vhost_task_create(fn, killed, arg, "probe");
}
