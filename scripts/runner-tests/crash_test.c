// SPDX-License-Identifier: GPL-2.0
/*
 * Test of the test runner: a selftest that crashes. scripts/check expects
 * it to be reported as failed, not lost.
 */
#include "kselftest_harness.h"

TEST(passes)
{
	EXPECT_EQ(1, 1);
}

TEST(crashes)
{
	int *volatile p = NULL;

	*p = 1;
}

TEST_HARNESS_MAIN
