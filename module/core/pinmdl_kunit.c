// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the pinmdl kernel API: descriptor geometry, the state
 * machine and its errnos, kernel-buffer and partial descriptors, partial
 * reuse, advance, allocated pages, page lists, the system mapping, sg
 * tables, and
 * pinning real user memory mapped with kunit_vm_mmap().
 */
#include <kunit/device.h>
#include <kunit/test.h>
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/file.h>
#include <linux/io.h>
#include <linux/iosys-map.h>
#include <linux/ioport.h>
#include <linux/mman.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "pinmdl.h"

KUNIT_DEFINE_ACTION_WRAPPER(pinmdl_kunit_vfree, vfree, const void *);

/* A descriptor freed when the test ends, whatever happened. */
static void pinmdl_kunit_release(void *data)
{
	struct pinmdl *mdl = data;

	if (pinmdl_flags(mdl) & PINMDL_F_PAGES_LOCKED)
		pinmdl_unlock(mdl);
	pinmdl_free(mdl);
}

static struct pinmdl *kunit_mdl(struct kunit *test, struct pinmdl *mdl)
{
	int ret;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, mdl);
	ret = kunit_add_action_or_reset(test, pinmdl_kunit_release, mdl);
	KUNIT_ASSERT_EQ(test, ret, 0);
	return mdl;
}

static unsigned long kunit_user_buf(struct kunit *test, size_t len)
{
	unsigned long addr = kunit_vm_mmap(test, NULL, 0, len,
					   PROT_READ | PROT_WRITE,
					   MAP_ANONYMOUS | MAP_PRIVATE, 0);

	KUNIT_ASSERT_NE_MSG(test, addr, 0, "kunit_vm_mmap failed");
	return addr;
}

static void pinmdl_geometry_test(struct kunit *test)
{
	struct pinmdl *mdl;

	/* Two bytes across a page boundary span two pages. */
	mdl = kunit_mdl(test, pinmdl_alloc(PAGE_SIZE - 1, 2, GFP_KERNEL));
	KUNIT_EXPECT_EQ(test, pinmdl_start_va(mdl), 0);
	KUNIT_EXPECT_EQ(test, pinmdl_byte_offset(mdl), PAGE_SIZE - 1);
	KUNIT_EXPECT_EQ(test, pinmdl_byte_count(mdl), 2);
	KUNIT_EXPECT_EQ(test, pinmdl_page_count(mdl), 2);
	KUNIT_EXPECT_EQ(test, pinmdl_flags(mdl), 0);

	mdl = kunit_mdl(test, pinmdl_alloc(5 * PAGE_SIZE, PAGE_SIZE,
					   GFP_KERNEL));
	KUNIT_EXPECT_EQ(test, pinmdl_start_va(mdl), 5 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, pinmdl_byte_offset(mdl), 0);
	KUNIT_EXPECT_EQ(test, pinmdl_page_count(mdl), 1);

	mdl = kunit_mdl(test, pinmdl_alloc(PAGE_SIZE + 1, 3 * PAGE_SIZE,
					   GFP_KERNEL));
	KUNIT_EXPECT_EQ(test, pinmdl_page_count(mdl), 4);

	KUNIT_EXPECT_EQ(test, PTR_ERR(pinmdl_alloc(PAGE_SIZE, 0, GFP_KERNEL)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(pinmdl_alloc(U64_MAX - 10, 100,
						   GFP_KERNEL)), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(pinmdl_alloc(0, U64_MAX / 2,
						   GFP_KERNEL)), -E2BIG);
}

static void pinmdl_user_lock_test(struct kunit *test)
{
	unsigned long addr = kunit_user_buf(test, 4 * PAGE_SIZE);
	struct pinmdl *mdl;
	const u64 *pfns;
	u64 i;

	mdl = kunit_mdl(test, pinmdl_alloc(addr + 100, 3 * PAGE_SIZE,
					   GFP_KERNEL));
	KUNIT_EXPECT_EQ(test, pinmdl_probe_and_lock(mdl, 2, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, pinmdl_probe_and_lock(mdl, PINMDL_USER_MODE, 3),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, pinmdl_unlock(mdl), -EINVAL);

	KUNIT_ASSERT_EQ(test, pinmdl_probe_and_lock(mdl, PINMDL_USER_MODE,
						    PINMDL_IO_WRITE_ACCESS), 0);
	KUNIT_EXPECT_EQ(test, pinmdl_flags(mdl),
			PINMDL_F_PAGES_LOCKED | PINMDL_F_WRITE_OPERATION);
	KUNIT_EXPECT_EQ(test, pinmdl_operation(mdl), PINMDL_IO_WRITE_ACCESS);
	pfns = pinmdl_pfn_array(mdl);
	for (i = 0; i < pinmdl_page_count(mdl); i++)
		KUNIT_EXPECT_TRUE(test, pfn_valid(pfns[i]));

	KUNIT_EXPECT_EQ(test, pinmdl_probe_and_lock(mdl, PINMDL_USER_MODE,
						    PINMDL_IO_READ_ACCESS),
			-EBUSY);
	KUNIT_EXPECT_EQ(test, pinmdl_free(mdl), -EBUSY);
	KUNIT_EXPECT_EQ(test, pinmdl_unlock(mdl), 0);
	KUNIT_EXPECT_EQ(test, pinmdl_flags(mdl), 0);
	KUNIT_EXPECT_EQ(test, pinmdl_unlock(mdl), -EINVAL);
}

static void pinmdl_user_fault_test(struct kunit *test)
{
	unsigned long addr = kunit_user_buf(test, 4 * PAGE_SIZE);
	unsigned long ro = kunit_vm_mmap(test, NULL, 0, PAGE_SIZE, PROT_READ,
					 MAP_ANONYMOUS | MAP_PRIVATE, 0);
	struct pinmdl *hole, *readonly, *kaddr;

	KUNIT_ASSERT_NE(test, ro, 0);
	KUNIT_ASSERT_EQ(test, vm_munmap(addr + PAGE_SIZE, PAGE_SIZE), 0);
	hole = kunit_mdl(test, pinmdl_alloc(addr, 4 * PAGE_SIZE, GFP_KERNEL));
	KUNIT_EXPECT_EQ(test, pinmdl_probe_and_lock(hole, PINMDL_USER_MODE,
						    PINMDL_IO_READ_ACCESS),
			-EFAULT);
	KUNIT_EXPECT_EQ(test, pinmdl_flags(hole), 0);

	readonly = kunit_mdl(test, pinmdl_alloc(ro, PAGE_SIZE, GFP_KERNEL));
	KUNIT_EXPECT_EQ(test, pinmdl_probe_and_lock(readonly, PINMDL_USER_MODE,
						    PINMDL_IO_WRITE_ACCESS),
			-EFAULT);
	KUNIT_EXPECT_EQ(test, pinmdl_probe_and_lock(readonly, PINMDL_USER_MODE,
						    PINMDL_IO_READ_ACCESS), 0);

	/* A kernel address is not user memory. */
	kaddr = kunit_mdl(test, pinmdl_alloc((uintptr_t)test, 8, GFP_KERNEL));
	KUNIT_EXPECT_EQ(test, pinmdl_probe_and_lock(kaddr, PINMDL_USER_MODE,
						    PINMDL_IO_READ_ACCESS),
			-EFAULT);
}

static void pinmdl_no_address_space_test(struct kunit *test)
{
	struct pinmdl *mdl;

	/* Allocated before this kthread has an mm: not a user descriptor. */
	KUNIT_ASSERT_NULL(test, current->mm);
	mdl = kunit_mdl(test, pinmdl_alloc(PAGE_SIZE, PAGE_SIZE, GFP_KERNEL));
	kunit_user_buf(test, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, pinmdl_probe_and_lock(mdl, PINMDL_USER_MODE,
						    PINMDL_IO_READ_ACCESS),
			-EPERM);
}

static void pinmdl_system_address_test(struct kunit *test)
{
	unsigned long addr = kunit_user_buf(test, 3 * PAGE_SIZE);
	char *va, *again, check[16];
	void __user *uaddr;
	struct pinmdl *mdl;

	mdl = kunit_mdl(test, pinmdl_alloc(addr + 10, 2 * PAGE_SIZE,
					   GFP_KERNEL));
	KUNIT_EXPECT_EQ(test, PTR_ERR(pinmdl_system_address(mdl)), -EINVAL);
	KUNIT_ASSERT_EQ(test, pinmdl_probe_and_lock(mdl, PINMDL_USER_MODE,
						    PINMDL_IO_MODIFY_ACCESS),
			0);
	va = pinmdl_system_address(mdl);
	KUNIT_ASSERT_FALSE(test, IS_ERR(va));
	KUNIT_EXPECT_TRUE(test, pinmdl_flags(mdl) & PINMDL_F_MAPPED_SYSTEM_VA);
	again = pinmdl_system_address(mdl);
	KUNIT_EXPECT_PTR_EQ(test, va, again);

	/* The mapping and the user VA are the same bytes. */
	memset(va, 0xa5, 2 * PAGE_SIZE);
	uaddr = (void __user *)(addr + 10);
	KUNIT_ASSERT_EQ(test, copy_from_user(check, uaddr + PAGE_SIZE, 16), 0);
	KUNIT_EXPECT_EQ(test, check[0], (char)0xa5);
	KUNIT_EXPECT_EQ(test, check[15], (char)0xa5);
	KUNIT_ASSERT_EQ(test, copy_to_user(uaddr, "hi", 2), 0);
	KUNIT_EXPECT_EQ(test, memcmp(va, "hi", 2), 0);

	KUNIT_EXPECT_EQ(test, pinmdl_unlock(mdl), 0);
	KUNIT_EXPECT_FALSE(test,
			   pinmdl_flags(mdl) & PINMDL_F_MAPPED_SYSTEM_VA);
}

/*
 * Write @val at @dst as a careless lower driver would, with the fault of
 * a read-only mapping caught: 0, or -EFAULT if the write faulted.
 */
static int pinmdl_kunit_poke(void *dst, u8 val)
{
	pagefault_disable();
	__put_kernel_nofault(dst, &val, u8, efault);
	pagefault_enable();
	return 0;
efault:
	pagefault_enable();
	return -EFAULT;
}

/* A read lock's mapping is read-only; a write lock's is writable. */
static void pinmdl_system_address_read_only_test(struct kunit *test)
{
	unsigned long addr = kunit_user_buf(test, 2 * PAGE_SIZE);
	struct pinmdl *mdl, *child;
	char *va;

	mdl = kunit_mdl(test, pinmdl_alloc(addr, 2 * PAGE_SIZE, GFP_KERNEL));
	KUNIT_ASSERT_EQ(test, pinmdl_probe_and_lock(mdl, PINMDL_USER_MODE,
						    PINMDL_IO_READ_ACCESS), 0);
	va = pinmdl_system_address(mdl);
	KUNIT_ASSERT_FALSE(test, IS_ERR(va));
	KUNIT_EXPECT_EQ(test, pinmdl_kunit_poke(va + PAGE_SIZE, 1), -EFAULT);
	KUNIT_EXPECT_EQ(test, va[PAGE_SIZE], 0);

	/* A partial descriptor of a read lock maps read-only too. */
	child = pinmdl_build_partial(mdl, addr + PAGE_SIZE, 0, GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, child);
	va = pinmdl_system_address(child);
	KUNIT_EXPECT_FALSE(test, IS_ERR(va));
	if (!IS_ERR(va))
		KUNIT_EXPECT_EQ(test, pinmdl_kunit_poke(va, 1), -EFAULT);
	KUNIT_EXPECT_EQ(test, pinmdl_free(child), 0);
	KUNIT_EXPECT_EQ(test, pinmdl_unlock(mdl), 0);

	KUNIT_ASSERT_EQ(test, pinmdl_probe_and_lock(mdl, PINMDL_USER_MODE,
						    PINMDL_IO_WRITE_ACCESS), 0);
	va = pinmdl_system_address(mdl);
	KUNIT_ASSERT_FALSE(test, IS_ERR(va));
	KUNIT_EXPECT_EQ(test, pinmdl_kunit_poke(va + PAGE_SIZE, 7), 0);
	KUNIT_EXPECT_EQ(test, va[PAGE_SIZE], 7);
	KUNIT_EXPECT_EQ(test, pinmdl_unlock(mdl), 0);
}

static void pinmdl_kernel_buffer_test(struct kunit *test)
{
	size_t len = 3 * PAGE_SIZE;
	char *kbuf = kunit_kmalloc(test, len + 64, GFP_KERNEL);
	char *vbuf = vmalloc(len);
	struct pinmdl *mdl, *vmdl;
	const u64 *pfns;
	char *first;
	u64 i;

	KUNIT_ASSERT_NOT_NULL(test, kbuf);
	KUNIT_ASSERT_NOT_NULL(test, vbuf);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, pinmdl_kunit_vfree,
							vbuf), 0);

	mdl = kunit_mdl(test, pinmdl_build_for_kernel_buffer(kbuf + 32, len,
							     GFP_KERNEL));
	KUNIT_EXPECT_EQ(test, pinmdl_flags(mdl), PINMDL_F_SOURCE_IS_KERNEL |
			PINMDL_F_WRITE_OPERATION);
	KUNIT_EXPECT_EQ(test, pinmdl_byte_offset(mdl),
			offset_in_page(kbuf + 32));
	pfns = pinmdl_pfn_array(mdl);
	first = PTR_ALIGN_DOWN(kbuf + 32, PAGE_SIZE);
	for (i = 0; i < pinmdl_page_count(mdl); i++)
		KUNIT_EXPECT_EQ(test, pfns[i],
				PHYS_PFN(__pa(first + i * PAGE_SIZE)));
	KUNIT_EXPECT_PTR_EQ(test, pinmdl_system_address(mdl),
			    (void *)(kbuf + 32));
	/* Kernel-source descriptors are never locked or unlocked. */
	KUNIT_EXPECT_EQ(test, pinmdl_probe_and_lock(mdl, PINMDL_USER_MODE,
						    PINMDL_IO_READ_ACCESS),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, pinmdl_unlock(mdl), -EINVAL);

	vmdl = kunit_mdl(test, pinmdl_build_for_kernel_buffer(vbuf, len,
							      GFP_KERNEL));
	pfns = pinmdl_pfn_array(vmdl);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ(test, pfns[i],
				vmalloc_to_pfn(vbuf + i * PAGE_SIZE));

	mdl = pinmdl_build_for_kernel_buffer((void *)PAGE_SIZE, 8, GFP_KERNEL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(mdl), -EFAULT);
}

static void pinmdl_kunit_iounmap(void *io)
{
	iounmap((__force void __iomem *)io);
}

/* A page of a memory resource that is not RAM and has no struct page. */
static int pinmdl_kunit_mmio_page(struct resource *res, void *arg)
{
	phys_addr_t start = PAGE_ALIGN(res->start), *phys = arg;

	if ((res->flags & IORESOURCE_SYSRAM) || start > res->end ||
	    res->end - start < PAGE_SIZE - 1 || pfn_valid(PHYS_PFN(start)))
		return 0;
	*phys = start;
	return 1;
}

/*
 * Device memory mapped by ioremap() sits in the vmalloc range but is no
 * memory: its PFN has no struct page, and it is refused.
 */
static void pinmdl_kernel_buffer_mmio_test(struct kunit *test)
{
	struct pinmdl *mdl;
	phys_addr_t phys;
	void *io;

	if (walk_iomem_res_desc(IORES_DESC_NONE, IORESOURCE_MEM, 0, -1, &phys,
				pinmdl_kunit_mmio_page) <= 0)
		kunit_skip(test, "no device memory without struct pages");
	/* Never accessed: only its page tables are looked at. */
	io = (__force void *)ioremap(phys, PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, io);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							pinmdl_kunit_iounmap,
							io), 0);
	KUNIT_ASSERT_TRUE(test, is_vmalloc_addr(io));

	mdl = pinmdl_build_for_kernel_buffer(io, PAGE_SIZE, GFP_KERNEL);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(mdl), -EFAULT);
	if (!IS_ERR(mdl))
		pinmdl_free(mdl);
}

static void pinmdl_kernel_mode_lock_test(struct kunit *test)
{
	char *buf = kunit_kzalloc(test, 2 * PAGE_SIZE, GFP_KERNEL);
	unsigned long user = kunit_user_buf(test, PAGE_SIZE);
	struct pinmdl *mdl, *umdl;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	mdl = kunit_mdl(test, pinmdl_alloc((uintptr_t)buf, 2 * PAGE_SIZE,
					   GFP_KERNEL));
	KUNIT_ASSERT_EQ(test, pinmdl_probe_and_lock(mdl, PINMDL_KERNEL_MODE,
						    PINMDL_IO_READ_ACCESS), 0);
	KUNIT_EXPECT_EQ(test, pinmdl_flags(mdl), PINMDL_F_PAGES_LOCKED);
	KUNIT_EXPECT_EQ(test, pinmdl_pfn_array(mdl)[0],
			PHYS_PFN(__pa(PTR_ALIGN_DOWN(buf, PAGE_SIZE))));
	KUNIT_EXPECT_PTR_EQ(test, pinmdl_system_address(mdl), (void *)buf);
	/* Kernel memory is no dma-buf: its pages are not pinned. */
	KUNIT_EXPECT_EQ(test, PTR_ERR(pinmdl_export_dmabuf(mdl, 0)), -EINVAL);
	KUNIT_EXPECT_EQ(test, pinmdl_unlock(mdl), 0);

	/* Kernel mode locks kernel memory only. */
	umdl = kunit_mdl(test, pinmdl_alloc(user, PAGE_SIZE, GFP_KERNEL));
	KUNIT_EXPECT_EQ(test, pinmdl_probe_and_lock(umdl, PINMDL_KERNEL_MODE,
						    PINMDL_IO_READ_ACCESS),
			-EFAULT);
}

static void pinmdl_partial_test(struct kunit *test)
{
	unsigned long addr = kunit_user_buf(test, 8 * PAGE_SIZE);
	struct pinmdl *parent, *child, *unlocked;
	char *pva, *cva;

	parent = kunit_mdl(test, pinmdl_alloc(addr, 8 * PAGE_SIZE,
					      GFP_KERNEL));
	KUNIT_EXPECT_EQ(test, PTR_ERR(pinmdl_build_partial(parent, addr, 0,
							   GFP_KERNEL)),
			-EINVAL);
	KUNIT_ASSERT_EQ(test, pinmdl_probe_and_lock(parent, PINMDL_USER_MODE,
						    PINMDL_IO_READ_ACCESS), 0);
	KUNIT_EXPECT_EQ(test, PTR_ERR(pinmdl_build_partial(parent, addr - 1, 2,
							   GFP_KERNEL)),
			-EINVAL);
	child = pinmdl_build_partial(parent, addr + 8 * PAGE_SIZE - 1, 2,
				     GFP_KERNEL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(child), -EINVAL);

	child = pinmdl_build_partial(parent, addr + 2 * PAGE_SIZE + 7, 0,
				     GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, child);
	KUNIT_EXPECT_EQ(test, pinmdl_flags(child), PINMDL_F_PARTIAL);
	KUNIT_EXPECT_EQ(test, pinmdl_operation(child), PINMDL_IO_READ_ACCESS);
	KUNIT_EXPECT_EQ(test, pinmdl_byte_count(child), 6 * PAGE_SIZE - 7);
	KUNIT_EXPECT_EQ(test, pinmdl_page_count(child), 6);
	KUNIT_EXPECT_EQ(test, pinmdl_pfn_array(child)[0],
			pinmdl_pfn_array(parent)[2]);
	KUNIT_EXPECT_EQ(test, pinmdl_pfn_array(child)[5],
			pinmdl_pfn_array(parent)[7]);

	/* The child maps the same bytes as the parent (read-only). */
	pva = pinmdl_system_address(parent);
	cva = pinmdl_system_address(child);
	KUNIT_ASSERT_FALSE(test, IS_ERR(pva) || IS_ERR(cva));
	KUNIT_ASSERT_EQ(test, copy_to_user((void __user *)(addr + 2 * PAGE_SIZE
							   + 7), "x", 1), 0);
	KUNIT_EXPECT_EQ(test, pva[2 * PAGE_SIZE + 7], 'x');
	KUNIT_EXPECT_EQ(test, cva[0], 'x');

	KUNIT_EXPECT_EQ(test, PTR_ERR(pinmdl_build_partial(child, addr, 1,
							   GFP_KERNEL)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, pinmdl_unlock(parent), -EBUSY);
	KUNIT_EXPECT_EQ(test, pinmdl_free(parent), -EBUSY);
	KUNIT_EXPECT_EQ(test, pinmdl_unlock(child), -EINVAL);
	KUNIT_EXPECT_EQ(test, pinmdl_free(child), 0);
	KUNIT_EXPECT_EQ(test, pinmdl_unlock(parent), 0);

	unlocked = kunit_mdl(test, pinmdl_alloc(addr, PAGE_SIZE, GFP_KERNEL));
	KUNIT_EXPECT_EQ(test, PTR_ERR(pinmdl_build_partial(unlocked, addr, 1,
							   GFP_KERNEL)),
			-EINVAL);
}

static void pinmdl_advance_test(struct kunit *test)
{
	unsigned long addr = kunit_user_buf(test, 8 * PAGE_SIZE);
	struct pinmdl *mdl, *child;
	u64 pfns[8];
	char *va;

	mdl = kunit_mdl(test, pinmdl_alloc(addr + 100, 8 * PAGE_SIZE - 100,
					   GFP_KERNEL));
	KUNIT_EXPECT_EQ(test, pinmdl_advance(mdl, 1), -EINVAL);
	KUNIT_ASSERT_EQ(test, pinmdl_probe_and_lock(mdl, PINMDL_USER_MODE,
						    PINMDL_IO_WRITE_ACCESS), 0);
	memcpy(pfns, pinmdl_pfn_array(mdl), sizeof(pfns));
	KUNIT_EXPECT_EQ(test, pinmdl_advance(mdl, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, pinmdl_advance(mdl, 8 * PAGE_SIZE - 100),
			-EINVAL);

	/* Within the first page: nothing is unpinned. */
	KUNIT_ASSERT_EQ(test, pinmdl_advance(mdl, PAGE_SIZE - 101), 0);
	KUNIT_EXPECT_EQ(test, pinmdl_start_va(mdl), addr);
	KUNIT_EXPECT_EQ(test, pinmdl_byte_offset(mdl), PAGE_SIZE - 1);
	KUNIT_EXPECT_EQ(test, pinmdl_page_count(mdl), 8);

	/* One byte on, the first page is left behind. */
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pinmdl_system_address(mdl));
	KUNIT_ASSERT_EQ(test, pinmdl_advance(mdl, 1), 0);
	KUNIT_EXPECT_EQ(test, pinmdl_start_va(mdl), addr + PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, pinmdl_byte_offset(mdl), 0);
	KUNIT_EXPECT_EQ(test, pinmdl_byte_count(mdl), 7 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, pinmdl_page_count(mdl), 7);
	KUNIT_EXPECT_FALSE(test, pinmdl_flags(mdl) & PINMDL_F_MAPPED_SYSTEM_VA);
	KUNIT_EXPECT_EQ(test, pinmdl_pfn_array(mdl)[0], pfns[1]);
	KUNIT_EXPECT_EQ(test, pinmdl_pfn_array(mdl)[6], pfns[7]);

	/* The system mapping is made again, over the pages left. */
	KUNIT_ASSERT_EQ(test, copy_to_user((void __user *)(addr + PAGE_SIZE),
					   "y", 1), 0);
	va = pinmdl_system_address(mdl);
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(va));
	KUNIT_EXPECT_EQ(test, va[0], 'y');

	KUNIT_ASSERT_EQ(test, pinmdl_advance(mdl, 2 * PAGE_SIZE + 5), 0);
	KUNIT_EXPECT_EQ(test, pinmdl_start_va(mdl), addr + 3 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, pinmdl_byte_offset(mdl), 5);
	KUNIT_EXPECT_EQ(test, pinmdl_page_count(mdl), 5);
	KUNIT_EXPECT_EQ(test, pinmdl_pfn_array(mdl)[4], pfns[7]);

	child = pinmdl_build_partial(mdl, addr + 4 * PAGE_SIZE, 1, GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, child);
	KUNIT_EXPECT_EQ(test, pinmdl_advance(mdl, 1), -EBUSY);
	KUNIT_EXPECT_EQ(test, pinmdl_advance(child, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, pinmdl_free(child), 0);
	KUNIT_EXPECT_EQ(test, pinmdl_unlock(mdl), 0);
}

static void pinmdl_reuse_partial_test(struct kunit *test)
{
	unsigned long addr = kunit_user_buf(test, 8 * PAGE_SIZE);
	struct pinmdl *parent, *other, *child;

	parent = kunit_mdl(test, pinmdl_alloc(addr, 8 * PAGE_SIZE,
					      GFP_KERNEL));
	other = kunit_mdl(test, pinmdl_alloc(addr, PAGE_SIZE, GFP_KERNEL));
	KUNIT_ASSERT_EQ(test, pinmdl_probe_and_lock(parent, PINMDL_USER_MODE,
						    PINMDL_IO_READ_ACCESS), 0);
	KUNIT_ASSERT_EQ(test, pinmdl_probe_and_lock(other, PINMDL_USER_MODE,
						    PINMDL_IO_READ_ACCESS), 0);
	child = pinmdl_build_partial(parent, addr, PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, child);

	KUNIT_EXPECT_EQ(test, pinmdl_reuse_partial(child, other, addr, 1),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, pinmdl_reuse_partial(parent, parent, addr, 1),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, pinmdl_reuse_partial(child, parent, addr - 1, 2),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, pinmdl_reuse_partial(child, parent,
						   addr + 8 * PAGE_SIZE - 1, 2),
			-EINVAL);

	KUNIT_ASSERT_EQ(test, pinmdl_reuse_partial(child, parent,
						   addr + 5 * PAGE_SIZE + 9, 0),
			0);
	KUNIT_EXPECT_EQ(test, pinmdl_flags(child), PINMDL_F_PARTIAL);
	KUNIT_EXPECT_EQ(test, pinmdl_start_va(child), addr + 5 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, pinmdl_byte_offset(child), 9);
	KUNIT_EXPECT_EQ(test, pinmdl_byte_count(child), 3 * PAGE_SIZE - 9);
	KUNIT_EXPECT_EQ(test, pinmdl_page_count(child), 3);
	KUNIT_EXPECT_EQ(test, pinmdl_pfn_array(child)[0],
			pinmdl_pfn_array(parent)[5]);
	KUNIT_EXPECT_EQ(test, pinmdl_pfn_array(child)[2],
			pinmdl_pfn_array(parent)[7]);
	KUNIT_EXPECT_EQ(test, pinmdl_unlock(parent), -EBUSY);
	KUNIT_EXPECT_EQ(test, pinmdl_free(child), 0);
	KUNIT_EXPECT_EQ(test, pinmdl_unlock(parent), 0);
}

static void pinmdl_alloc_pages_test(struct kunit *test)
{
	unsigned long user = kunit_user_buf(test, PAGE_SIZE);
	struct pinmdl *mdl, *child, *umdl;
	const u64 *pfns;
	char *va;
	u64 i;

	/* Pages locked from user space are mapped cached only. */
	umdl = kunit_mdl(test, pinmdl_alloc(user, PAGE_SIZE, GFP_KERNEL));
	KUNIT_ASSERT_EQ(test, pinmdl_probe_and_lock(umdl, PINMDL_USER_MODE,
						    PINMDL_IO_WRITE_ACCESS), 0);
	KUNIT_EXPECT_EQ(test,
			PTR_ERR(pinmdl_map_locked_pages(umdl,
							PINMDL_WRITE_COMBINED)),
			-EINVAL);
	va = pinmdl_map_locked_pages(umdl, PINMDL_CACHED);
	KUNIT_EXPECT_FALSE(test, IS_ERR_OR_NULL(va));

	/* The test's own address space is charged. */
	KUNIT_EXPECT_EQ(test, PTR_ERR(pinmdl_alloc_pages(0, 0, NUMA_NO_NODE,
							 0, GFP_KERNEL)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(pinmdl_alloc_pages(PAGE_SIZE, 0,
							 NUMA_NO_NODE, 4,
							 GFP_KERNEL)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(pinmdl_alloc_pages(PAGE_SIZE, PAGE_SIZE,
							 NUMA_NO_NODE, 0,
							 GFP_KERNEL)),
			-ENOMEM);

	mdl = kunit_mdl(test, pinmdl_alloc_pages(8 * PAGE_SIZE - 1, U32_MAX,
						 NUMA_NO_NODE,
						 PINMDL_ALLOC_CONTIGUOUS |
						 PINMDL_ALLOC_FULLY_REQUIRED,
						 GFP_KERNEL));
	KUNIT_EXPECT_EQ(test, pinmdl_flags(mdl), PINMDL_F_PAGES_LOCKED |
			PINMDL_F_WRITE_OPERATION | PINMDL_F_ALLOCATED);
	KUNIT_EXPECT_EQ(test, pinmdl_start_va(mdl), 0);
	KUNIT_EXPECT_EQ(test, pinmdl_byte_count(mdl), 8 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, pinmdl_page_count(mdl), 8);
	pfns = pinmdl_pfn_array(mdl);
	for (i = 0; i < 8; i++) {
		KUNIT_EXPECT_EQ(test, pfns[i], pfns[0] + i);
		KUNIT_EXPECT_LE(test, PFN_PHYS(pfns[i] + 1) - 1, U32_MAX);
	}

	/* Write-combined, for every mapping, from then on. */
	KUNIT_EXPECT_EQ(test, pinmdl_cache_type(mdl), PINMDL_CACHED);
	va = pinmdl_map_locked_pages(mdl, PINMDL_WRITE_COMBINED);
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(va));
	KUNIT_EXPECT_EQ(test, pinmdl_cache_type(mdl), PINMDL_WRITE_COMBINED);
	KUNIT_EXPECT_NULL(test, memchr_inv(va, 0, 8 * PAGE_SIZE));
	memset(va, 0x5a, 8 * PAGE_SIZE);
	KUNIT_EXPECT_PTR_EQ(test, pinmdl_system_address(mdl), va);
	KUNIT_EXPECT_PTR_EQ(test, pinmdl_map_locked_pages(mdl,
							  PINMDL_WRITE_COMBINED),
			    va);
	KUNIT_EXPECT_EQ(test, PTR_ERR(pinmdl_map_locked_pages(mdl,
							      PINMDL_CACHED)),
			-EBUSY);
	KUNIT_EXPECT_EQ(test,
			PTR_ERR(pinmdl_map_locked_pages(mdl,
							PINMDL_NON_CACHED)),
			-EBUSY);
	KUNIT_EXPECT_EQ(test, PTR_ERR(pinmdl_map_locked_pages(mdl, 3)),
			-EINVAL);
	KUNIT_EXPECT_NULL(test, memchr_inv(va, 0x5a, 8 * PAGE_SIZE));

	/* A system mapping made first keeps the pages cached. */
	umdl = kunit_mdl(test, pinmdl_alloc_pages(PAGE_SIZE, 0, NUMA_NO_NODE, 0,
						  GFP_KERNEL));
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(pinmdl_system_address(umdl)));
	KUNIT_EXPECT_EQ(test,
			PTR_ERR(pinmdl_map_locked_pages(umdl,
							PINMDL_NON_CACHED)),
			-EBUSY);
	KUNIT_EXPECT_EQ(test, pinmdl_unlock(mdl), -EINVAL);
	KUNIT_EXPECT_EQ(test, pinmdl_advance(mdl, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, pinmdl_probe_and_lock(mdl, PINMDL_USER_MODE,
						    PINMDL_IO_READ_ACCESS),
			-EBUSY);

	/* A partial's address is an offset into the pages. */
	child = pinmdl_build_partial(mdl, PAGE_SIZE, 10, GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, child);
	KUNIT_EXPECT_EQ(test, pinmdl_pfn_array(child)[0], pfns[1]);
	KUNIT_EXPECT_EQ(test, pinmdl_free(mdl), -EBUSY);
	KUNIT_EXPECT_EQ(test, pinmdl_free(child), 0);
}

static void pinmdl_page_list_test(struct kunit *test)
{
	unsigned long addr = kunit_user_buf(test, 8 * PAGE_SIZE);
	struct pinmdl_range ranges[] = {
		{ addr + 5 * PAGE_SIZE, 2 * PAGE_SIZE },
		{ addr, PAGE_SIZE },
		{ addr + 5 * PAGE_SIZE, PAGE_SIZE },
	};
	struct pinmdl *mdl, *whole;
	const u64 *pfns;

	KUNIT_EXPECT_EQ(test, PTR_ERR(pinmdl_alloc_page_list(ranges, 0,
							     GFP_KERNEL)),
			-EINVAL);
	ranges[1].length = 1;
	KUNIT_EXPECT_EQ(test, PTR_ERR(pinmdl_alloc_page_list(ranges, 3,
							     GFP_KERNEL)),
			-EINVAL);
	ranges[1].length = PAGE_SIZE;

	whole = kunit_mdl(test, pinmdl_alloc(addr, 8 * PAGE_SIZE, GFP_KERNEL));
	KUNIT_ASSERT_EQ(test, pinmdl_probe_and_lock(whole, PINMDL_USER_MODE,
						    PINMDL_IO_READ_ACCESS), 0);
	pfns = pinmdl_pfn_array(whole);
	mdl = kunit_mdl(test, pinmdl_alloc_page_list(ranges, 3, GFP_KERNEL));
	KUNIT_EXPECT_EQ(test, pinmdl_flags(mdl), PINMDL_F_PAGE_LIST);
	KUNIT_EXPECT_EQ(test, pinmdl_start_va(mdl), addr + 5 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, pinmdl_byte_count(mdl), 4 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, pinmdl_page_count(mdl), 4);
	KUNIT_EXPECT_EQ(test, pinmdl_probe_and_lock(mdl, PINMDL_KERNEL_MODE,
						    PINMDL_IO_READ_ACCESS),
			-EINVAL);
	KUNIT_ASSERT_EQ(test, pinmdl_probe_and_lock(mdl, PINMDL_USER_MODE,
						    PINMDL_IO_READ_ACCESS), 0);
	/* The PFNs run over the ranges in order, overlaps included. */
	KUNIT_EXPECT_EQ(test, pinmdl_pfn_array(mdl)[0], pfns[5]);
	KUNIT_EXPECT_EQ(test, pinmdl_pfn_array(mdl)[1], pfns[6]);
	KUNIT_EXPECT_EQ(test, pinmdl_pfn_array(mdl)[2], pfns[0]);
	KUNIT_EXPECT_EQ(test, pinmdl_pfn_array(mdl)[3], pfns[5]);
	KUNIT_EXPECT_EQ(test, PTR_ERR(pinmdl_build_partial(mdl, addr, 1,
							   GFP_KERNEL)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, pinmdl_advance(mdl, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, pinmdl_unlock(mdl), 0);
}

static u64 sg_total(struct sg_table *sgt)
{
	struct scatterlist *sg;
	u64 total = 0;
	int i;

	for_each_sgtable_sg(sgt, sg, i)
		total += sg->length;
	return total;
}

static void pinmdl_sg_table_test(struct kunit *test)
{
	struct page *pages = alloc_pages(GFP_KERNEL, 2);
	struct sg_table sgt;
	struct pinmdl *mdl;
	char *buf;

	KUNIT_ASSERT_NOT_NULL(test, pages);
	buf = page_address(pages);
	mdl = pinmdl_build_for_kernel_buffer(buf + 100, 4 * PAGE_SIZE - 200,
					     GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, mdl);

	/* Four physically contiguous pages: one entry. */
	KUNIT_ASSERT_EQ(test, pinmdl_sg_table(mdl, 0, 4 * PAGE_SIZE - 200, &sgt,
					      0, GFP_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, sgt.orig_nents, 1);
	KUNIT_EXPECT_EQ(test, sgt.sgl->offset, 100);
	KUNIT_EXPECT_EQ(test, sgt.sgl->length, 4 * PAGE_SIZE - 200);
	KUNIT_EXPECT_PTR_EQ(test, sg_page(sgt.sgl), pages);
	sg_free_table(&sgt);

	/* A device's segment limit splits the run. */
	KUNIT_ASSERT_EQ(test, pinmdl_sg_table(mdl, 0, 4 * PAGE_SIZE - 200, &sgt,
					      2 * PAGE_SIZE + 1, GFP_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, sgt.orig_nents, 2);
	KUNIT_EXPECT_EQ(test, sgt.sgl->length, 2 * PAGE_SIZE - 100);
	KUNIT_EXPECT_EQ(test, sg_total(&sgt), 4 * PAGE_SIZE - 200);
	sg_free_table(&sgt);

	/* A part: only its pages, from its first byte. */
	KUNIT_ASSERT_EQ(test, pinmdl_sg_table(mdl, 2 * PAGE_SIZE, 10, &sgt, 0,
					      GFP_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, sgt.orig_nents, 1);
	KUNIT_EXPECT_PTR_EQ(test, sg_page(sgt.sgl), pages + 2);
	KUNIT_EXPECT_EQ(test, sgt.sgl->offset, 100);
	KUNIT_EXPECT_EQ(test, sgt.sgl->length, 10);
	sg_free_table(&sgt);
	KUNIT_ASSERT_EQ(test, pinmdl_sg_table(mdl, PAGE_SIZE - 100, PAGE_SIZE + 1,
					      &sgt, 0, GFP_KERNEL), 0);
	KUNIT_EXPECT_PTR_EQ(test, sg_page(sgt.sgl), pages + 1);
	KUNIT_EXPECT_EQ(test, sgt.sgl->offset, 0);
	KUNIT_EXPECT_EQ(test, sg_total(&sgt), PAGE_SIZE + 1);
	sg_free_table(&sgt);

	KUNIT_EXPECT_EQ(test, pinmdl_sg_table(mdl, 0, 1, &sgt, PAGE_SIZE - 1,
					      GFP_KERNEL), -EINVAL);
	KUNIT_EXPECT_EQ(test, pinmdl_sg_table(mdl, 0, 0, &sgt, 0, GFP_KERNEL),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, pinmdl_sg_table(mdl, 4 * PAGE_SIZE - 200, 1, &sgt,
					      0, GFP_KERNEL), -EINVAL);
	KUNIT_EXPECT_EQ(test, pinmdl_free(mdl), 0);
	__free_pages(pages, 2);
}

static void pinmdl_sg_table_user_test(struct kunit *test)
{
	unsigned long addr = kunit_user_buf(test, 16 * PAGE_SIZE);
	struct scatterlist *sg;
	struct sg_table sgt;
	struct pinmdl *mdl;
	u64 runs = 1, i;
	const u64 *pfns;

	mdl = kunit_mdl(test, pinmdl_alloc(addr + 1, 16 * PAGE_SIZE - 2,
					   GFP_KERNEL));
	KUNIT_EXPECT_EQ(test, pinmdl_sg_table(mdl, 0, 1, &sgt, 0, GFP_KERNEL),
			-EINVAL);
	KUNIT_ASSERT_EQ(test, pinmdl_probe_and_lock(mdl, PINMDL_USER_MODE,
						    PINMDL_IO_WRITE_ACCESS), 0);
	pfns = pinmdl_pfn_array(mdl);
	for (i = 1; i < 16; i++)
		if (pfns[i] != pfns[i - 1] + 1)
			runs++;
	KUNIT_ASSERT_EQ(test, pinmdl_sg_table(mdl, 0, 16 * PAGE_SIZE - 2, &sgt,
					      0, GFP_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, sgt.orig_nents, runs);
	KUNIT_EXPECT_EQ(test, sgt.sgl->offset, 1);
	KUNIT_EXPECT_EQ(test, sg_total(&sgt), 16 * PAGE_SIZE - 2);
	for_each_sgtable_sg(&sgt, sg, i)
		KUNIT_EXPECT_TRUE(test, i == 0 || sg->offset == 0);
	sg_free_table(&sgt);
}

/*
 * A locked descriptor exported as a dma-buf: a read lock only read-only,
 * mapped for a device as its whole pages, with no kernel mapping; a write
 * lock's export readable through one; unlock and free refused while the
 * dma-buf exists.
 */
static void pinmdl_export_dmabuf_test(struct kunit *test)
{
	unsigned long user = kunit_user_buf(test, 4 * PAGE_SIZE);
	struct dma_buf_attachment *attach;
	struct pinmdl *mdl, *part, *idle;
	struct scatterlist *sg;
	struct dma_buf *dmabuf;
	struct sg_table *sgt;
	struct iosys_map map;
	struct device *dev;
	u64 total = 0;
	int i;

	KUNIT_ASSERT_EQ(test, clear_user((void __user *)user, 4 * PAGE_SIZE),
			0);
	KUNIT_ASSERT_EQ(test, put_user(0x5a, (u8 __user *)user + PAGE_SIZE),
			0);
	dev = kunit_device_register(test, "pinmdl-export");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dev);
	KUNIT_ASSERT_EQ(test, dma_coerce_mask_and_coherent(dev,
							   DMA_BIT_MASK(64)),
			0);

	idle = kunit_mdl(test, pinmdl_alloc(user, 4 * PAGE_SIZE, GFP_KERNEL));
	KUNIT_EXPECT_EQ(test, PTR_ERR(pinmdl_export_dmabuf(idle, 0)), -EINVAL);
	mdl = kunit_mdl(test, pinmdl_alloc(user + 1, 4 * PAGE_SIZE - 1,
					   GFP_KERNEL));
	KUNIT_ASSERT_EQ(test, pinmdl_probe_and_lock(mdl, PINMDL_USER_MODE,
						    PINMDL_IO_READ_ACCESS), 0);
	KUNIT_EXPECT_EQ(test, PTR_ERR(pinmdl_export_dmabuf(mdl,
							   PINMDL_EXPORT_CLOEXEC)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(pinmdl_export_dmabuf(mdl,
							   PINMDL_EXPORT_WRITE)),
			-EACCES);
	part = kunit_mdl(test, pinmdl_build_partial(mdl, user + PAGE_SIZE,
						    PAGE_SIZE, GFP_KERNEL));
	KUNIT_EXPECT_EQ(test, PTR_ERR(pinmdl_export_dmabuf(part, 0)), -EINVAL);
	kunit_release_action(test, pinmdl_kunit_release, part);

	dmabuf = pinmdl_export_dmabuf(mdl, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dmabuf);
	KUNIT_EXPECT_EQ(test, dmabuf->size, 4 * PAGE_SIZE);
	KUNIT_EXPECT_TRUE(test, pinmdl_flags(mdl) & PINMDL_F_EXPORTED);
	KUNIT_EXPECT_EQ(test, pinmdl_unlock(mdl), -EBUSY);
	KUNIT_EXPECT_EQ(test, pinmdl_free(mdl), -EBUSY);
	KUNIT_EXPECT_EQ(test, pinmdl_advance(mdl, PAGE_SIZE), -EBUSY);

	attach = dma_buf_attach(dmabuf, dev);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, attach);
	KUNIT_EXPECT_EQ(test,
			PTR_ERR(dma_buf_map_attachment_unlocked(attach,
								DMA_BIDIRECTIONAL)),
			-EACCES);
	sgt = dma_buf_map_attachment_unlocked(attach, DMA_TO_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	for_each_sgtable_dma_sg(sgt, sg, i)
		total += sg_dma_len(sg);
	KUNIT_EXPECT_EQ(test, total, 4 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, dma_buf_begin_cpu_access(dmabuf, DMA_FROM_DEVICE),
			0);
	KUNIT_EXPECT_EQ(test, dma_buf_vmap_unlocked(dmabuf, &map), -EINVAL);
	KUNIT_EXPECT_EQ(test, dma_buf_end_cpu_access(dmabuf, DMA_FROM_DEVICE),
			0);
	dma_buf_unmap_attachment_unlocked(attach, sgt, DMA_TO_DEVICE);
	dma_buf_detach(dmabuf, attach);

	/* A kthread's last fput() is deferred: wait for the release. */
	dma_buf_put(dmabuf);
	flush_delayed_fput();
	KUNIT_EXPECT_FALSE(test, pinmdl_flags(mdl) & PINMDL_F_EXPORTED);
	KUNIT_ASSERT_EQ(test, pinmdl_unlock(mdl), 0);

	/* A write lock's export has a kernel mapping. */
	KUNIT_ASSERT_EQ(test, pinmdl_probe_and_lock(mdl, PINMDL_USER_MODE,
						    PINMDL_IO_MODIFY_ACCESS), 0);
	dmabuf = pinmdl_export_dmabuf(mdl, PINMDL_EXPORT_WRITE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dmabuf);
	KUNIT_ASSERT_EQ(test, dma_buf_vmap_unlocked(dmabuf, &map), 0);
	KUNIT_EXPECT_EQ(test, ((u8 *)map.vaddr)[PAGE_SIZE], 0x5a);
	KUNIT_EXPECT_EQ(test, ((u8 *)map.vaddr)[PAGE_SIZE + 1], 0);
	((u8 *)map.vaddr)[PAGE_SIZE + 1] = 0xa5;
	dma_buf_vunmap_unlocked(dmabuf, &map);
	dma_buf_put(dmabuf);
	flush_delayed_fput();
	KUNIT_EXPECT_EQ(test, pinmdl_unlock(mdl), 0);
	KUNIT_EXPECT_EQ(test, get_user(i, (u8 __user *)user + PAGE_SIZE + 1),
			0);
	KUNIT_EXPECT_EQ(test, i, 0xa5);
}

static struct kunit_case pinmdl_test_cases[] = {
	KUNIT_CASE(pinmdl_geometry_test),
	KUNIT_CASE(pinmdl_no_address_space_test),
	KUNIT_CASE(pinmdl_user_lock_test),
	KUNIT_CASE(pinmdl_user_fault_test),
	KUNIT_CASE(pinmdl_system_address_test),
	KUNIT_CASE(pinmdl_system_address_read_only_test),
	KUNIT_CASE(pinmdl_kernel_buffer_test),
	KUNIT_CASE(pinmdl_kernel_buffer_mmio_test),
	KUNIT_CASE(pinmdl_kernel_mode_lock_test),
	KUNIT_CASE(pinmdl_partial_test),
	KUNIT_CASE(pinmdl_advance_test),
	KUNIT_CASE(pinmdl_reuse_partial_test),
	KUNIT_CASE(pinmdl_alloc_pages_test),
	KUNIT_CASE(pinmdl_page_list_test),
	KUNIT_CASE(pinmdl_sg_table_test),
	KUNIT_CASE(pinmdl_sg_table_user_test),
	KUNIT_CASE(pinmdl_export_dmabuf_test),
	{}
};

static struct kunit_suite pinmdl_test_suite = {
	.name = "pinmdl",
	.test_cases = pinmdl_test_cases,
};

kunit_test_suite(pinmdl_test_suite);

MODULE_DESCRIPTION("KUnit tests of the pinmdl kernel API");
MODULE_IMPORT_NS("EXPORTED_FOR_KUNIT_TESTING");
MODULE_IMPORT_NS("DMA_BUF");
MODULE_LICENSE("GPL");
