// SPDX-License-Identifier: GPL-2.0
/*
 * Test of the test runner: a selftest that crashes. scripts/check expects
 * it to be reported as failed, not lost.
 */
#include <sys/mman.h>

#include "kselftest_harness.h"

TEST(passes)
{
	EXPECT_EQ(1, 1);
}

TEST(crashes)
{
	volatile char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, p);
	munmap((void *)p, 4096);
	*p = 1;
}

TEST_HARNESS_MAIN
