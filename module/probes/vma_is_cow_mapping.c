// SPDX-License-Identifier: GPL-2.0
/* is_cow_mapping(vm_flags) became vma_is_cow_mapping(vma). */
#include <linux/mm.h>

bool pinmdl_probe(struct vm_area_struct *vma);
bool pinmdl_probe(struct vm_area_struct *vma)
{
	return vma_is_cow_mapping(vma);
}
