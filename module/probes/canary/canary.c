// SPDX-License-Identifier: GPL-2.0
/*
 * Compiles against every kernel: if it does not, the probes' compiler
 * command is wrong for this kernel, and no probe could be believed.
 */
#include <linux/module.h>

int pinmdl_probe(void);
int pinmdl_probe(void)
{
	return 0;
}
