// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the request path through the kernel API: lower-driver
 * registration, submission checks, the in-flight rules and completion,
 * with a lower driver of the test's own that holds requests until told.
 */
#include <kunit/test.h>
#include <linux/mman.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "dev/file.h"
#include "dev/ioctl.h"
#include "pinmdl.h"

static struct pinmdl_request *held;
static int refusal;
static bool at_once;
static bool saw_data;

/*
 * Hold a request until the test completes it, or with @at_once complete it
 * at once without writing its data, noting in @saw_data whether the range
 * held anything but zeros.
 */
static int fake_queue(struct pinmdl_request *req)
{
	char *va;

	if (refusal)
		return refusal;
	if (at_once) {
		va = pinmdl_system_address(req->mdl);
		saw_data |= IS_ERR(va) ||
			    memchr_inv(va + req->offset, 0, req->length);
		pinmdl_complete(req, 0, 0);
		return 0;
	}
	held = req;
	return 0;
}

static const struct pinmdl_lower_ops fake_lower = {
	.owner = THIS_MODULE,
	.queue = fake_queue,
};

static const struct pinmdl_lower_ops other_lower = {
	.owner = THIS_MODULE,
	.queue = fake_queue,
};

static void fake_done(struct pinmdl_request *req)
{
	int *calls = req->private;

	(*calls)++;
}

static void fake_unregister(void *unused)
{
	pinmdl_lower_unregister(&fake_lower);
}

static int request_test_init(struct kunit *test)
{
	held = NULL;
	refusal = 0;
	at_once = false;
	saw_data = false;
	if (pinmdl_lower_register(&fake_lower))
		kunit_skip(test, "another lower driver is registered");
	return kunit_add_action_or_reset(test, fake_unregister, NULL);
}

static void request_register_test(struct kunit *test)
{
	const struct pinmdl_lower_ops no_queue = { .owner = THIS_MODULE };

	KUNIT_EXPECT_EQ(test, pinmdl_lower_register(&other_lower), -EBUSY);
	KUNIT_EXPECT_EQ(test, pinmdl_lower_register(&no_queue), -EINVAL);
}

static struct pinmdl *kbuf_mdl(struct kunit *test, size_t len)
{
	void *buf = kunit_kzalloc(test, len, GFP_KERNEL);
	struct pinmdl *mdl;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	mdl = pinmdl_build_for_kernel_buffer(buf, len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, mdl);
	return mdl;
}

static void request_lifecycle_test(struct kunit *test)
{
	struct pinmdl *mdl = kbuf_mdl(test, 3 * PAGE_SIZE);
	struct pinmdl_request req = {
		.mdl = mdl, .op = PINMDL_LOWER_CHECKSUM, .offset = 10,
		.length = 100, .done = fake_done,
	};
	int refs = module_refcount(THIS_MODULE), calls = 0;

	req.private = &calls;
	KUNIT_ASSERT_EQ(test, pinmdl_submit(&req), 0);
	KUNIT_EXPECT_PTR_EQ(test, held, &req);
	KUNIT_EXPECT_PTR_EQ(test, req.lower, &fake_lower);
	KUNIT_EXPECT_TRUE(test, pinmdl_flags(mdl) & PINMDL_F_IN_FLIGHT);
	KUNIT_EXPECT_EQ(test, module_refcount(THIS_MODULE), refs + 1);
	KUNIT_EXPECT_EQ(test, pinmdl_free(mdl), -EBUSY);
	KUNIT_EXPECT_EQ(test, calls, 0);

	pinmdl_complete(&req, 0, 42);
	KUNIT_EXPECT_EQ(test, calls, 1);
	KUNIT_EXPECT_EQ(test, req.status, 0);
	KUNIT_EXPECT_EQ(test, req.result, 42);
	KUNIT_EXPECT_FALSE(test, pinmdl_flags(mdl) & PINMDL_F_IN_FLIGHT);
	KUNIT_EXPECT_EQ(test, module_refcount(THIS_MODULE), refs);
	KUNIT_EXPECT_EQ(test, pinmdl_free(mdl), 0);
}

static void request_user_lock_test(struct kunit *test)
{
	unsigned long addr = kunit_vm_mmap(test, NULL, 0, 2 * PAGE_SIZE,
					   PROT_READ | PROT_WRITE,
					   MAP_ANONYMOUS | MAP_PRIVATE, 0);
	struct pinmdl_request req = { .op = PINMDL_LOWER_FILL, .length = 1,
				      .done = fake_done };
	struct pinmdl *mdl;
	int calls = 0;

	KUNIT_ASSERT_NE(test, addr, 0);
	req.private = &calls;
	mdl = pinmdl_alloc(addr, 2 * PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, mdl);
	req.mdl = mdl;
	KUNIT_EXPECT_EQ(test, pinmdl_submit(&req), -EINVAL);

	KUNIT_ASSERT_EQ(test, pinmdl_probe_and_lock(mdl, PINMDL_USER_MODE,
						    PINMDL_IO_READ_ACCESS), 0);
	KUNIT_EXPECT_EQ(test, pinmdl_submit(&req), -EACCES);
	req.op = PINMDL_LOWER_CHECKSUM;
	KUNIT_ASSERT_EQ(test, pinmdl_submit(&req), 0);
	KUNIT_EXPECT_EQ(test, pinmdl_unlock(mdl), -EBUSY);
	pinmdl_complete(&req, -EIO, 0);
	KUNIT_EXPECT_EQ(test, req.status, -EIO);
	KUNIT_EXPECT_EQ(test, calls, 1);
	KUNIT_EXPECT_EQ(test, pinmdl_unlock(mdl), 0);
	KUNIT_EXPECT_EQ(test, pinmdl_free(mdl), 0);
}

static void request_checks_test(struct kunit *test)
{
	struct pinmdl *mdl = kbuf_mdl(test, PAGE_SIZE);
	struct pinmdl_request req = { .mdl = mdl, .op = PINMDL_LOWER_FILL,
				      .length = PAGE_SIZE, .done = fake_done };
	int calls = 0;

	req.private = &calls;
	req.op = 0;
	KUNIT_EXPECT_EQ(test, pinmdl_submit(&req), -EINVAL);
	req.op = PINMDL_LOWER_COPY;
	KUNIT_EXPECT_EQ(test, pinmdl_submit(&req), -EINVAL);
	req.op = PINMDL_LOWER_FILL;
	req.length = 0;
	KUNIT_EXPECT_EQ(test, pinmdl_submit(&req), -EINVAL);
	req.length = PAGE_SIZE + 1;
	KUNIT_EXPECT_EQ(test, pinmdl_submit(&req), -EINVAL);
	req.offset = 1;
	req.length = PAGE_SIZE;
	KUNIT_EXPECT_EQ(test, pinmdl_submit(&req), -EINVAL);

	/* A refusal by the lower driver leaves nothing in flight. */
	req.offset = 0;
	refusal = -ENOMEM;
	KUNIT_EXPECT_EQ(test, pinmdl_submit(&req), -ENOMEM);
	KUNIT_EXPECT_FALSE(test, pinmdl_flags(mdl) & PINMDL_F_IN_FLIGHT);
	KUNIT_EXPECT_EQ(test, calls, 0);
	KUNIT_EXPECT_EQ(test, pinmdl_free(mdl), 0);
}

static void request_copy_test(struct kunit *test)
{
	struct pinmdl *dst = kbuf_mdl(test, PAGE_SIZE);
	struct pinmdl *src = kbuf_mdl(test, PAGE_SIZE);
	struct pinmdl_request req = { .mdl = dst, .src = src,
				      .op = PINMDL_LOWER_COPY, .length = 8,
				      .done = fake_done };
	int calls = 0;

	req.private = &calls;
	KUNIT_ASSERT_EQ(test, pinmdl_submit(&req), 0);
	KUNIT_EXPECT_TRUE(test, pinmdl_flags(src) & PINMDL_F_IN_FLIGHT);
	KUNIT_EXPECT_TRUE(test, pinmdl_flags(dst) & PINMDL_F_IN_FLIGHT);
	KUNIT_EXPECT_EQ(test, pinmdl_free(src), -EBUSY);
	pinmdl_complete(&req, 0, 0);
	KUNIT_EXPECT_FALSE(test, pinmdl_flags(src) & PINMDL_F_IN_FLIGHT);
	KUNIT_EXPECT_EQ(test, pinmdl_free(src), 0);
	KUNIT_EXPECT_EQ(test, pinmdl_free(dst), 0);
}

static void request_no_lower_test(struct kunit *test)
{
	struct pinmdl *mdl = kbuf_mdl(test, PAGE_SIZE);
	struct pinmdl_request req = { .mdl = mdl, .op = PINMDL_LOWER_FILL,
				      .length = 1, .done = fake_done };

	pinmdl_lower_unregister(&fake_lower);
	KUNIT_EXPECT_EQ(test, pinmdl_submit(&req), -ENODEV);
	KUNIT_EXPECT_FALSE(test, pinmdl_flags(mdl) & PINMDL_F_IN_FLIGHT);
	KUNIT_EXPECT_EQ(test, pinmdl_lower_register(&fake_lower), 0);
	KUNIT_EXPECT_EQ(test, pinmdl_free(mdl), 0);
}

/*
 * SUBMIT_BUFFERED's bounce buffer starts zeroed: a lower driver that
 * writes none of a FILL's bytes leaves the caller zeros, never kernel heap.
 */
static void request_buffered_fill_zeroed_test(struct kunit *test)
{
	const size_t len = 3000;
	unsigned long addr = kunit_vm_mmap(test, NULL, 0, 2 * PAGE_SIZE,
					   PROT_READ | PROT_WRITE,
					   MAP_ANONYMOUS | MAP_PRIVATE, 0);
	struct pinmdl_submit_buffered arg = {
		.addr = addr + PAGE_SIZE, .length = len,
		.op = PINMDL_LOWER_FILL, .arg = 0x5a,
	};
	void __user *ubuf = (void __user *)(addr + PAGE_SIZE);
	void __user *uarg = (void __user *)addr;
	struct pinmdl_file *pf;
	char *data;

	KUNIT_ASSERT_NE(test, addr, 0);
	data = kunit_kmalloc(test, len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, data);
	memset(data, 0xaa, len);
	KUNIT_ASSERT_EQ(test, copy_to_user(ubuf, data, len), 0);
	KUNIT_ASSERT_EQ(test, copy_to_user(uarg, &arg, sizeof(arg)), 0);
	pf = pinmdl_file_open(false);
	KUNIT_ASSERT_NOT_NULL(test, pf);

	at_once = true;
	KUNIT_EXPECT_EQ(test, pinmdl_ioctl(pf, PINMDL_IOC_SUBMIT_BUFFERED,
					   uarg), 0);
	pinmdl_file_release(pf);
	/* What the lower driver was handed held zeros, no kernel memory. */
	KUNIT_EXPECT_FALSE(test, saw_data);
	KUNIT_ASSERT_EQ(test, copy_from_user(data, ubuf, len), 0);
	KUNIT_EXPECT_NULL(test, memchr_inv(data, 0, len));
}

static struct kunit_case request_test_cases[] = {
	KUNIT_CASE(request_register_test),
	KUNIT_CASE(request_lifecycle_test),
	KUNIT_CASE(request_user_lock_test),
	KUNIT_CASE(request_checks_test),
	KUNIT_CASE(request_copy_test),
	KUNIT_CASE(request_no_lower_test),
	KUNIT_CASE(request_buffered_fill_zeroed_test),
	{}
};

static struct kunit_suite request_test_suite = {
	.name = "pinmdl_request",
	.init = request_test_init,
	.test_cases = request_test_cases,
};

kunit_test_suite(request_test_suite);
