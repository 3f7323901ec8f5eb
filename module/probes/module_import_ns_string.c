// SPDX-License-Identifier: GPL-2.0
/*
 * MODULE_IMPORT_NS() takes the namespace as a string literal, as it is
 * (6.13); before, it took a bare name and made it a string. What it hands
 * MODULE_INFO() tells which.
 */
#include <linux/build_bug.h>
#include <linux/module.h>

#undef MODULE_INFO
#define MODULE_INFO(tag, info) static const char pinmdl_probe_##tag[] = info
MODULE_IMPORT_NS("N");
static_assert(sizeof(pinmdl_probe_import_ns) == sizeof("N"));
