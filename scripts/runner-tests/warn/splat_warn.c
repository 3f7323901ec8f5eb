// SPDX-License-Identifier: GPL-2.0
/*
 * Test of the test runner: WARN on load. scripts/check expects the guest
 * run that loads this module to fail, whatever the command's status.
 */
#include <linux/bug.h>
#include <linux/module.h>

static int __init splat_warn_init(void)
{
	WARN(1, "splat_warn: deliberate warning to test the guest runner\n");
	return 0;
}
module_init(splat_warn_init);

static void __exit splat_warn_exit(void)
{
}
module_exit(splat_warn_exit);

MODULE_DESCRIPTION("Deliberate WARN to test the pinmdl guest runner");
MODULE_LICENSE("GPL");
