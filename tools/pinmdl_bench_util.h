/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every benchmark of tools/ times with: a monotonic clock in
 * microseconds, the median of a round's figures, and a way out on the
 * first failed call. Header-only.
 */
#ifndef PINMDL_BENCH_UTIL_H
#define PINMDL_BENCH_UTIL_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

/* Say what failed, with errno, under the program's name, and exit. */
static inline void die(const char *what)
{
	extern char *program_invocation_short_name;

	fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what,
		strerror(errno));
	exit(1);
}

static inline double now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of @n figures, which it sorts. */
static inline double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static inline void xioctl(int fd, unsigned long cmd, void *arg,
			  const char *what)
{
	if (ioctl(fd, cmd, arg))
		die(what);
}

#endif /* PINMDL_BENCH_UTIL_H */
