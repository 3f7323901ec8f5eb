// SPDX-License-Identifier: GPL-2.0
/* module_is_coming(): is a module still in its init? */
#include <linux/module.h>

bool pinmdl_probe(struct module *mod);
bool pinmdl_probe(struct module *mod)
{
	return module_is_coming(mod);
}
