// SPDX-License-Identifier: GPL-2.0
/* vma->vm_flags became read-only behind vm_flags_set() (6.3). */
#include <linux/mm.h>

void pinmdl_probe(struct vm_area_struct *vma);
void pinmdl_probe(struct vm_area_struct *vma)
{
	vm_flags_set(vma, VM_IO);
}
