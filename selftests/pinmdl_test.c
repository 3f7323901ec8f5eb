// SPDX-License-Identifier: GPL-2.0
/*
 * pinmdl ABI and rules: every errno of the contract provoked through
 * /dev/pinmdl, and rules 1 to 10 exercised. Each test checks that the
 * system-wide pin balance is back where it started.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>

#include "kselftest_harness.h"
#include "pinmdl_util.h"

FIXTURE(pm)
{
	int fd;
	long pins;
	char *buf;
	size_t len;
};

FIXTURE_SETUP(pm)
{
	self->pins = pm_pins();
	self->fd = pm_open();
	ASSERT_LE(0, self->fd) TH_LOG("open /dev/pinmdl: %s", strerror(errno));
	self->len = 16 * PM_PAGE;
	self->buf = pm_map(self->len, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, self->buf);
	memset(self->buf, 0x5a, self->len);
}

FIXTURE_TEARDOWN(pm)
{
	close(self->fd);
	munmap(self->buf, self->len);
	EXPECT_EQ(self->pins, pm_pins()) TH_LOG("pages left pinned");
}

TEST_F(pm, create_geometry)
{
	struct pinmdl_query q;
	uint32_t h;

	/* Two bytes across a page boundary span two pages. */
	ASSERT_EQ(0, pm_create(self->fd, self->buf + PM_PAGE - 1, 2, &h));
	ASSERT_NE(0, h);
	ASSERT_EQ(0, pm_query(self->fd, h, &q, NULL, 0));
	EXPECT_EQ((uintptr_t)self->buf, q.start_va);
	EXPECT_EQ(PM_PAGE - 1, q.byte_offset);
	EXPECT_EQ(2, q.byte_count);
	EXPECT_EQ(2, q.page_count);
	EXPECT_EQ(0, q.flags);
	EXPECT_EQ(0, q.parent);
	EXPECT_EQ(0, q.pfn_capacity);

	ASSERT_EQ(0, pm_create(self->fd, self->buf + 100, 3 * PM_PAGE, &h));
	ASSERT_EQ(0, pm_query(self->fd, h, &q, NULL, 0));
	EXPECT_EQ(100, q.byte_offset);
	EXPECT_EQ(4, q.page_count);
}

TEST_F(pm, create_einval)
{
	struct pinmdl_create c = { .addr = (uintptr_t)self->buf,
				   .length = PM_PAGE, .flags = 1 };

	EXPECT_EQ(-EINVAL, pm_create(self->fd, self->buf, 0, NULL));
	EXPECT_EQ(-EINVAL, pm_create(self->fd, (void *)~0xfffUL, 0x2000,
				     NULL));
	EXPECT_EQ(-EINVAL, pm_create(self->fd, (void *)-1UL, 2, NULL));
	EXPECT_EQ(-EINVAL, pm_ioctl(self->fd, PINMDL_IOC_CREATE, &c));
}

TEST_F(pm, create_e2big)
{
	unsigned long long max = pm_param("max_descriptor_bytes");

	ASSERT_NE(0, max);
	EXPECT_EQ(-E2BIG, pm_create(self->fd, (void *)PM_PAGE, max + 1, NULL));
	EXPECT_EQ(0, pm_create(self->fd, (void *)PM_PAGE, max, NULL));
}

TEST_F(pm, unknown_ioctl_enotty)
{
	uint64_t v = 0;

	EXPECT_EQ(-ENOTTY, pm_ioctl(self->fd, _IO(PINMDL_IOC_MAGIC, 99), &v));
	EXPECT_EQ(-ENOTTY, pm_ioctl(self->fd,
				    _IOWR(PINMDL_IOC_MAGIC, 1, uint64_t), &v));
	EXPECT_EQ(-ENOTTY, pm_ioctl(self->fd, _IOW('x', 2, uint64_t), &v));
}

TEST_F(pm, unknown_handle_enoent)
{
	struct pinmdl_query q;
	int other = pm_open();
	uint32_t h;

	ASSERT_LE(0, other);
	EXPECT_EQ(-ENOENT, pm_lock(self->fd, 0, PINMDL_IO_READ_ACCESS));
	EXPECT_EQ(-ENOENT, pm_lock(self->fd, 12345, PINMDL_IO_READ_ACCESS));
	EXPECT_EQ(-ENOENT, pm_unlock(self->fd, 7));
	EXPECT_EQ(-ENOENT, pm_free(self->fd, 7));
	EXPECT_EQ(-ENOENT, pm_query(self->fd, 7, &q, NULL, 0));
	EXPECT_EQ(-ENOENT, pm_partial(self->fd, 7, self->buf, 0, NULL));

	/* A handle of another open file is unknown here. */
	ASSERT_EQ(0, pm_create(other, self->buf, PM_PAGE, &h));
	EXPECT_EQ(-ENOENT, pm_lock(self->fd, h, PINMDL_IO_READ_ACCESS));
	EXPECT_EQ(-ENOENT, pm_query(self->fd, h, &q, NULL, 0));

	/* So is a freed one. */
	EXPECT_EQ(0, pm_free(other, h));
	EXPECT_EQ(-ENOENT, pm_free(other, h));
	EXPECT_EQ(-ENOENT, pm_query(other, h, &q, NULL, 0));
	close(other);
}

TEST_F(pm, lock_arguments)
{
	struct pinmdl_lock l = { .access_mode = PINMDL_USER_MODE };
	uint32_t h;

	ASSERT_EQ(0, pm_create(self->fd, self->buf, PM_PAGE, &h));
	l.handle = h;
	l.flags = 1;
	EXPECT_EQ(-EINVAL, pm_ioctl(self->fd, PINMDL_IOC_LOCK, &l));
	l.flags = 0;
	l.access_mode = 2;
	EXPECT_EQ(-EINVAL, pm_ioctl(self->fd, PINMDL_IOC_LOCK, &l));
	l.access_mode = PINMDL_USER_MODE;
	l.operation = 3;
	EXPECT_EQ(-EINVAL, pm_ioctl(self->fd, PINMDL_IOC_LOCK, &l));

	/* Rule 9: KernelMode is refused from user space. */
	l.operation = PINMDL_IO_READ_ACCESS;
	l.access_mode = PINMDL_KERNEL_MODE;
	EXPECT_EQ(-EPERM, pm_ioctl(self->fd, PINMDL_IOC_LOCK, &l));

	/* Argument checks come first, then KernelMode, then the handle. */
	l.handle = 999;
	EXPECT_EQ(-EPERM, pm_ioctl(self->fd, PINMDL_IOC_LOCK, &l));
	l.operation = 3;
	EXPECT_EQ(-EINVAL, pm_ioctl(self->fd, PINMDL_IOC_LOCK, &l));

	struct pinmdl_handle_arg ha = { .handle = h, .flags = 1 };

	EXPECT_EQ(-EINVAL, pm_ioctl(self->fd, PINMDL_IOC_UNLOCK, &ha));
	EXPECT_EQ(-EINVAL, pm_ioctl(self->fd, PINMDL_IOC_FREE, &ha));

	struct pinmdl_query q = { .handle = h, .flags = 1 };

	EXPECT_EQ(-EINVAL, pm_ioctl(self->fd, PINMDL_IOC_QUERY, &q));
	q.flags = 0;
	q.reserved = 1;
	EXPECT_EQ(-EINVAL, pm_ioctl(self->fd, PINMDL_IOC_QUERY, &q));
}

TEST_F(pm, lock_state_machine)
{
	struct pinmdl_query q;
	uint32_t h;
	long base = pm_pins();

	ASSERT_EQ(0, pm_create(self->fd, self->buf, 4 * PM_PAGE, &h));
	EXPECT_EQ(-EINVAL, pm_unlock(self->fd, h));
	ASSERT_EQ(0, pm_lock(self->fd, h, PINMDL_IO_WRITE_ACCESS));
	EXPECT_EQ(base + 4, pm_pins());
	ASSERT_EQ(0, pm_query(self->fd, h, &q, NULL, 0));
	EXPECT_EQ(PINMDL_F_PAGES_LOCKED | PINMDL_F_WRITE_OPERATION, q.flags);
	EXPECT_EQ(PINMDL_IO_WRITE_ACCESS, q.operation);

	/* Rule 3: one lock per descriptor. */
	EXPECT_EQ(-EBUSY, pm_lock(self->fd, h, PINMDL_IO_READ_ACCESS));
	EXPECT_EQ(-EBUSY, pm_free(self->fd, h));
	EXPECT_EQ(base + 4, pm_pins());

	ASSERT_EQ(0, pm_unlock(self->fd, h));
	EXPECT_EQ(base, pm_pins());
	EXPECT_EQ(-EINVAL, pm_unlock(self->fd, h));
	ASSERT_EQ(0, pm_query(self->fd, h, &q, NULL, 0));
	EXPECT_EQ(0, q.flags);

	/* Unlocked, it can be locked again, for another operation. */
	ASSERT_EQ(0, pm_lock(self->fd, h, PINMDL_IO_READ_ACCESS));
	ASSERT_EQ(0, pm_query(self->fd, h, &q, NULL, 0));
	EXPECT_EQ(PINMDL_F_PAGES_LOCKED, q.flags);
	EXPECT_EQ(PINMDL_IO_READ_ACCESS, q.operation);
	ASSERT_EQ(0, pm_unlock(self->fd, h));
	ASSERT_EQ(0, pm_free(self->fd, h));
}

TEST_F(pm, same_pages_many_descriptors)
{
	long base = pm_pins();
	uint32_t a, b;

	a = pm_create_locked(self->fd, self->buf, PM_PAGE,
			     PINMDL_IO_READ_ACCESS);
	b = pm_create_locked(self->fd, self->buf, PM_PAGE,
			     PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, a);
	ASSERT_NE(0, b);
	EXPECT_EQ(base + 2, pm_pins());
	ASSERT_EQ(0, pm_unlock(self->fd, a));
	EXPECT_EQ(base + 1, pm_pins());
	ASSERT_EQ(0, pm_unlock(self->fd, b));
	EXPECT_EQ(base, pm_pins());
}

/* Expect LOCK of [addr, addr + len) to fail with EFAULT, pinning nothing. */
static void expect_lock_efault(struct __test_metadata *_metadata, int fd,
			       const void *addr, size_t len, uint32_t op)
{
	struct pinmdl_query q;
	long base = pm_pins();
	uint32_t h;

	ASSERT_EQ(0, pm_create(fd, addr, len, &h));
	EXPECT_EQ(-EFAULT, pm_lock(fd, h, op));
	EXPECT_EQ(base, pm_pins());
	ASSERT_EQ(0, pm_query(fd, h, &q, NULL, 0));
	EXPECT_EQ(0, q.flags);
	EXPECT_EQ(0, pm_free(fd, h));
}

TEST_F(pm, lock_hole_efault)
{
	ASSERT_EQ(0, munmap(self->buf + 8 * PM_PAGE, PM_PAGE));
	expect_lock_efault(_metadata, self->fd, self->buf, self->len,
			   PINMDL_IO_READ_ACCESS);
	expect_lock_efault(_metadata, self->fd, self->buf, self->len,
			   PINMDL_IO_WRITE_ACCESS);
}

TEST_F(pm, lock_prot_none_efault)
{
	ASSERT_EQ(0, mprotect(self->buf + 4 * PM_PAGE, PM_PAGE, PROT_NONE));
	expect_lock_efault(_metadata, self->fd, self->buf, self->len,
			   PINMDL_IO_READ_ACCESS);
	expect_lock_efault(_metadata, self->fd, self->buf, self->len,
			   PINMDL_IO_MODIFY_ACCESS);
}

TEST_F(pm, lock_read_only_for_write_efault)
{
	uint32_t h;

	ASSERT_EQ(0, mprotect(self->buf, self->len, PROT_READ));
	expect_lock_efault(_metadata, self->fd, self->buf, self->len,
			   PINMDL_IO_WRITE_ACCESS);
	expect_lock_efault(_metadata, self->fd, self->buf, self->len,
			   PINMDL_IO_MODIFY_ACCESS);
	h = pm_create_locked(self->fd, self->buf, self->len,
			     PINMDL_IO_READ_ACCESS);
	EXPECT_NE(0, h);
}

TEST_F(pm, lock_outside_user_space_efault)
{
	expect_lock_efault(_metadata, self->fd, (void *)0xffff888000000000UL,
			   PM_PAGE, PINMDL_IO_READ_ACCESS);
	expect_lock_efault(_metadata, self->fd, (void *)0x7ffffffff000UL,
			   2 * PM_PAGE, PINMDL_IO_READ_ACCESS);
}

TEST_F(pm, lock_pfnmap_efault)
{
	unsigned long start = 0, end = 0;
	char line[256];
	FILE *f = fopen("/proc/self/maps", "r");

	ASSERT_NE(NULL, f);
	/*
	 * [vvar_vclock] (7.3) or else [vvar] (6.1, 6.12) is VM_IO |
	 * VM_PFNMAP; 7.3's [vvar] has pages.
	 */
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "[vvar_vclock]")) {
			sscanf(line, "%lx-%lx", &start, &end);
			break;
		}
		if (strstr(line, "[vvar]"))
			sscanf(line, "%lx-%lx", &start, &end);
	}
	fclose(f);
	if (!start)
		SKIP(return, "no [vvar] mapping");
	expect_lock_efault(_metadata, self->fd, (void *)start, PM_PAGE,
			   PINMDL_IO_READ_ACCESS);
}

/* The start of the [stack] mapping, from /proc/self/maps; 0 if none. */
static unsigned long stack_start(void)
{
	unsigned long start = 0, end;
	char line[256];
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "[stack]") &&
		    sscanf(line, "%lx-%lx", &start, &end) == 2)
			break;
	fclose(f);
	return start;
}

/*
 * A range that starts in the hole just below a grows-down mapping (the
 * stack's 4 KiB below it, where GUP would warn with a stack dump that it
 * no longer grows the stack) fails with EFAULT, and nothing is logged.
 */
TEST_F(pm, lock_below_stack_efault_silently)
{
	unsigned long start = stack_start();
	int kmsg = pm_kmsg_open();
	char line[512];

	if (kmsg < 0)
		SKIP(return, "/dev/kmsg: %s", strerror(errno));
	ASSERT_NE(0, start);
	expect_lock_efault(_metadata, self->fd, (void *)(start - PM_PAGE),
			   2 * PM_PAGE, PINMDL_IO_READ_ACCESS);
	expect_lock_efault(_metadata, self->fd, (void *)(start - PM_PAGE),
			   2 * PM_PAGE, PINMDL_IO_WRITE_ACCESS);
	EXPECT_NE(0, pm_kmsg_find(kmsg, "GUP no longer grows the stack", line,
				  sizeof(line)))
		TH_LOG("logged: %s", line);
	close(kmsg);
}

TEST_F(pm, lock_secretmem_efault)
{
	int sfd = syscall(SYS_memfd_secret, 0);
	char *p;

	if (sfd < 0)
		SKIP(return, "memfd_secret: %s", strerror(errno));
	ASSERT_EQ(0, ftruncate(sfd, 4 * PM_PAGE));
	p = mmap(NULL, 4 * PM_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, sfd, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 1, 4 * PM_PAGE);
	expect_lock_efault(_metadata, self->fd, p, 4 * PM_PAGE,
			   PINMDL_IO_READ_ACCESS);
	expect_lock_efault(_metadata, self->fd, p, 4 * PM_PAGE,
			   PINMDL_IO_WRITE_ACCESS);
	munmap(p, 4 * PM_PAGE);
	close(sfd);
}

TEST_F(pm, write_lock_of_dirty_tracked_file_efault)
{
	const size_t len = 4 * PM_PAGE;
	uint32_t h;
	char *p;
	int fd;

	if (pm_mount_ext2())
		SKIP(return, "no ext2 on a loop device in this kernel");
	fd = open("/mnt/pm/data", O_CREAT | O_RDWR, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, len));
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 1, len);

	/* Pages written behind writeback's back: refused on every kernel. */
	expect_lock_efault(_metadata, self->fd, p, len, PINMDL_IO_WRITE_ACCESS);
	expect_lock_efault(_metadata, self->fd, p, len,
			   PINMDL_IO_MODIFY_ACCESS);
	h = pm_create_locked(self->fd, p, len, PINMDL_IO_READ_ACCESS);
	EXPECT_NE(0, h);
	EXPECT_EQ(0, pm_unlock(self->fd, h));
	munmap(p, len);

	/* A private mapping of the same file is anonymous memory once written. */
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	h = pm_create_locked(self->fd, p, len, PINMDL_IO_WRITE_ACCESS);
	EXPECT_NE(0, h);
	EXPECT_EQ(0, pm_unlock(self->fd, h));
	munmap(p, len);
	close(fd);
	EXPECT_EQ(0, pm_umount_ext2());
}

struct memlock_arg {
	int fd;
	char *buf;
	bool unprivileged;
};

/* Rule 8: returns 0 when RLIMIT_MEMLOCK held as expected, else a step. */
static int memlock_child(void *p)
{
	struct memlock_arg *a = p;
	struct rlimit rl = { 16 * PM_PAGE, 16 * PM_PAGE };
	uint32_t h8a, h8b, h1, h17;

	if (setrlimit(RLIMIT_MEMLOCK, &rl))
		return 1;
	if (!a->unprivileged) {
		/* CAP_IPC_LOCK lifts the limit, as for RDMA and io_uring. */
		if (pm_create(a->fd, a->buf, 32 * PM_PAGE, &h17) ||
		    pm_lock(a->fd, h17, PINMDL_IO_READ_ACCESS))
			return 2;
		return pm_vmpin_kb() == 32 * PM_PAGE / 1024 ? 0 : 3;
	}
	if (pm_drop_privileges())
		return 4;
	if (pm_create(a->fd, a->buf, 8 * PM_PAGE, &h8a) ||
	    pm_create(a->fd, a->buf, 8 * PM_PAGE, &h8b) ||
	    pm_create(a->fd, a->buf, PM_PAGE, &h1) ||
	    pm_create(a->fd, a->buf, 17 * PM_PAGE, &h17))
		return 5;
	if (pm_lock(a->fd, h17, PINMDL_IO_WRITE_ACCESS) != -ENOMEM ||
	    pm_vmpin_kb() != 0)
		return 6;
	if (pm_lock(a->fd, h8a, PINMDL_IO_WRITE_ACCESS) ||
	    pm_lock(a->fd, h8b, PINMDL_IO_READ_ACCESS) ||
	    pm_vmpin_kb() != 16 * PM_PAGE / 1024)
		return 7;
	if (pm_lock(a->fd, h1, PINMDL_IO_READ_ACCESS) != -ENOMEM)
		return 8;
	if (pm_unlock(a->fd, h8a) || pm_vmpin_kb() != 8 * PM_PAGE / 1024)
		return 9;
	if (pm_lock(a->fd, h1, PINMDL_IO_READ_ACCESS) ||
	    pm_vmpin_kb() != 9 * PM_PAGE / 1024)
		return 10;
	return 0;
}

TEST(rlimit_memlock_enomem)
{
	long pins = pm_pins();
	struct memlock_arg a = { .unprivileged = true };

	a.fd = pm_open();
	ASSERT_LE(0, a.fd);
	a.buf = pm_map(32 * PM_PAGE, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, a.buf);
	EXPECT_EQ(0, pm_in_child(memlock_child, &a));
	a.unprivileged = false;
	EXPECT_EQ(0, pm_in_child(memlock_child, &a));
	close(a.fd);
	EXPECT_EQ(pins, pm_pins());
}

TEST_F(pm, max_pinned_pages_enomem)
{
	unsigned long long old = pm_param("max_pinned_pages");
	long pinned = pm_stat("pages_pinned");
	uint32_t h, h2;

	ASSERT_NE(0, old);
	ASSERT_EQ(0, pm_set_param("max_pinned_pages", pinned + 8));
	ASSERT_EQ(0, pm_create(self->fd, self->buf, 9 * PM_PAGE, &h));
	EXPECT_EQ(-ENOMEM, pm_lock(self->fd, h, PINMDL_IO_READ_ACCESS));
	ASSERT_EQ(0, pm_create(self->fd, self->buf, 8 * PM_PAGE, &h2));
	EXPECT_EQ(0, pm_lock(self->fd, h2, PINMDL_IO_READ_ACCESS));
	EXPECT_EQ(-ENOMEM, pm_lock(self->fd, h, PINMDL_IO_READ_ACCESS));
	EXPECT_EQ(0, pm_unlock(self->fd, h2));
	EXPECT_EQ(0, pm_set_param("max_pinned_pages", old));
	EXPECT_EQ(0, pm_lock(self->fd, h, PINMDL_IO_READ_ACCESS));
}

struct big_lock {
	int fd;
	size_t len;
};

static int big_lock_child(void *p)
{
	struct big_lock *b = p;
	char *buf = pm_map(b->len, PROT_READ | PROT_WRITE);
	uint32_t h;

	if (!buf || pm_create(b->fd, buf, b->len, &h))
		return 1;
	/* Faulting in every page takes long enough to be killed meanwhile. */
	pm_lock(b->fd, h, PINMDL_IO_WRITE_ACCESS);
	return 2;
}

TEST(lock_fatal_signal_eintr)
{
	struct big_lock b = { .len = 512UL << 20 };
	long pins = pm_pins(), eintr;
	int tries, status = 0;

	b.fd = pm_open();
	ASSERT_LE(0, b.fd);
	for (tries = 0; tries < 5; tries++) {
		struct timespec ts = { 0, (tries + 1) * 100 * 1000 * 1000 };
		pid_t pid;

		eintr = pm_stat("failures_EINTR");
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid)
			_exit(big_lock_child(&b));
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		if (pm_stat("failures_EINTR") > eintr)
			break;
	}
	EXPECT_LT(tries, 5) TH_LOG("LOCK never saw the fatal signal");
	close(b.fd);
	EXPECT_EQ(pins, pm_pins());
}

TEST_F(pm, partial_rules)
{
	uint64_t ppfns[16], cpfns[16];
	struct pinmdl_query q;
	uint32_t parent, child, c2, unlocked;

	parent = pm_create_locked(self->fd, self->buf + 10, self->len - 20,
				  PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, parent);
	ASSERT_EQ(0, pm_create(self->fd, self->buf, PM_PAGE, &unlocked));

	/* PARTIAL of an unlocked parent, or outside the parent: EINVAL. */
	EXPECT_EQ(-EINVAL, pm_partial(self->fd, unlocked, self->buf, 0, NULL));
	EXPECT_EQ(-EINVAL, pm_partial(self->fd, parent, self->buf + 9, 4,
				      NULL));
	EXPECT_EQ(-EINVAL, pm_partial(self->fd, parent,
				      self->buf + self->len - 20, 11, NULL));
	EXPECT_EQ(-EINVAL, pm_partial(self->fd, parent,
				      self->buf + self->len - 10, 0, NULL));

	ASSERT_EQ(0, pm_partial(self->fd, parent, self->buf + 3 * PM_PAGE + 5,
				2 * PM_PAGE, &child));
	ASSERT_EQ(0, pm_query(self->fd, child, &q, cpfns, 16));
	EXPECT_EQ(PINMDL_F_PARTIAL | PINMDL_F_WRITE_OPERATION, q.flags);
	EXPECT_EQ(PINMDL_IO_WRITE_ACCESS, q.operation);
	EXPECT_EQ(parent, q.parent);
	EXPECT_EQ(5, q.byte_offset);
	EXPECT_EQ(3, q.page_count);
	EXPECT_EQ(3, q.pfn_capacity);
	ASSERT_EQ(0, pm_query(self->fd, parent, &q, ppfns, 16));
	EXPECT_EQ(0, memcmp(ppfns + 3, cpfns, 3 * sizeof(uint64_t)));

	/* Length 0 reaches the parent's end. */
	ASSERT_EQ(0, pm_partial(self->fd, parent, self->buf + 15 * PM_PAGE, 0,
				&c2));
	ASSERT_EQ(0, pm_query(self->fd, c2, &q, NULL, 0));
	EXPECT_EQ(PM_PAGE - 10, q.byte_count);

	/* Rule 5: the parent is held; a partial is never a parent. */
	EXPECT_EQ(-EBUSY, pm_unlock(self->fd, parent));
	EXPECT_EQ(-EBUSY, pm_free(self->fd, parent));
	EXPECT_EQ(-EINVAL, pm_partial(self->fd, child,
				      self->buf + 3 * PM_PAGE + 5, 1, NULL));
	EXPECT_EQ(-EINVAL, pm_lock(self->fd, child, PINMDL_IO_READ_ACCESS));
	EXPECT_EQ(-EINVAL, pm_unlock(self->fd, child));

	EXPECT_EQ(0, pm_free(self->fd, child));
	EXPECT_EQ(-EBUSY, pm_unlock(self->fd, parent));
	EXPECT_EQ(0, pm_free(self->fd, c2));
	EXPECT_EQ(0, pm_unlock(self->fd, parent));
	EXPECT_EQ(0, pm_free(self->fd, parent));
}

TEST_F(pm, partial_of_read_lock)
{
	struct pinmdl_query q;
	uint32_t parent, child;

	parent = pm_create_locked(self->fd, self->buf, self->len,
				  PINMDL_IO_READ_ACCESS);
	ASSERT_NE(0, parent);
	ASSERT_EQ(0, pm_partial(self->fd, parent, self->buf + PM_PAGE, 1,
				&child));
	ASSERT_EQ(0, pm_query(self->fd, child, &q, NULL, 0));
	EXPECT_EQ(PINMDL_F_PARTIAL, q.flags);
	EXPECT_EQ(PINMDL_IO_READ_ACCESS, q.operation);
	EXPECT_EQ(1, q.page_count);
}

struct foreign_arg {
	int fd;
	uint32_t h;
	char *buf;
};

/* Rule 7: a descriptor answers only its own address space. */
static int foreign_child(void *p)
{
	struct foreign_arg *a = p;
	struct pinmdl_query q;
	uint32_t own;

	if (pm_lock(a->fd, a->h, PINMDL_IO_READ_ACCESS) != -EPERM)
		return 1;
	if (pm_unlock(a->fd, a->h) != -EPERM || pm_free(a->fd, a->h) != -EPERM)
		return 2;
	if (pm_query(a->fd, a->h, &q, NULL, 0) != -EPERM)
		return 3;
	if (pm_partial(a->fd, a->h, a->buf, 0, NULL) != -EPERM)
		return 4;
	/* An unknown handle is ENOENT before any address-space check. */
	if (pm_lock(a->fd, 4242, PINMDL_IO_READ_ACCESS) != -ENOENT)
		return 5;
	/* The child's own descriptors in the shared file are its own. */
	own = pm_create_locked(a->fd, a->buf, PM_PAGE, PINMDL_IO_WRITE_ACCESS);
	if (!own || pm_unlock(a->fd, own) || pm_free(a->fd, own))
		return 6;
	return 0;
}

TEST_F(pm, other_address_space_eperm)
{
	struct foreign_arg a = { .fd = self->fd, .buf = self->buf };
	struct pinmdl_query q;

	a.h = pm_create_locked(self->fd, self->buf, self->len,
			       PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, a.h);
	EXPECT_EQ(0, pm_in_child(foreign_child, &a));
	ASSERT_EQ(0, pm_query(self->fd, a.h, &q, NULL, 0));
	EXPECT_EQ(PINMDL_F_PAGES_LOCKED | PINMDL_F_WRITE_OPERATION, q.flags);
}

TEST_F(pm, bad_user_pointer_efault)
{
	struct pinmdl_query q;
	uint32_t h;
	long live = pm_stat("descriptors_live");

	EXPECT_EQ(-EFAULT, pm_ioctl(self->fd, PINMDL_IOC_CREATE, NULL));
	EXPECT_EQ(-EFAULT, pm_ioctl(self->fd, PINMDL_IOC_LOCK, (void *)8));
	EXPECT_EQ(-EFAULT, pm_ioctl(self->fd, PINMDL_IOC_UNLOCK, NULL));
	EXPECT_EQ(-EFAULT, pm_ioctl(self->fd, PINMDL_IOC_FREE, NULL));
	EXPECT_EQ(-EFAULT, pm_ioctl(self->fd, PINMDL_IOC_QUERY, NULL));
	EXPECT_EQ(-EFAULT, pm_ioctl(self->fd, PINMDL_IOC_PARTIAL, NULL));
	EXPECT_EQ(live, pm_stat("descriptors_live"));

	h = pm_create_locked(self->fd, self->buf, self->len,
			     PINMDL_IO_READ_ACCESS);
	ASSERT_NE(0, h);
	EXPECT_EQ(-EFAULT, pm_query(self->fd, h, &q, (uint64_t *)8, 16));
}

TEST_F(pm, unwritable_argument_leaves_nothing)
{
	struct pinmdl_create *c;
	struct pinmdl_partial *p;
	struct pinmdl_query q;
	long live = pm_stat("descriptors_live");
	char *page = pm_map(PM_PAGE, PROT_READ | PROT_WRITE);
	uint32_t parent;

	ASSERT_NE(NULL, page);
	parent = pm_create_locked(self->fd, self->buf, self->len,
				  PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, parent);
	live++;
	/* Read-only arguments: the handle cannot be returned, so none is made. */
	c = (struct pinmdl_create *)page;
	p = (struct pinmdl_partial *)(page + 64);
	c->addr = (uintptr_t)self->buf;
	c->length = PM_PAGE;
	p->parent = parent;
	p->addr = (uintptr_t)self->buf;
	p->length = PM_PAGE;
	ASSERT_EQ(0, mprotect(page, PM_PAGE, PROT_READ));
	EXPECT_EQ(-EFAULT, pm_ioctl(self->fd, PINMDL_IOC_CREATE, c));
	EXPECT_EQ(-EFAULT, pm_ioctl(self->fd, PINMDL_IOC_PARTIAL, p));
	EXPECT_EQ(live, pm_stat("descriptors_live"));
	/* The handles those calls would have had were never left behind. */
	EXPECT_EQ(-ENOENT, pm_query(self->fd, parent + 1, &q, NULL, 0));
	EXPECT_EQ(-ENOENT, pm_query(self->fd, parent + 2, &q, NULL, 0));
	EXPECT_EQ(0, pm_unlock(self->fd, parent));
	munmap(page, PM_PAGE);
}

TEST_F(pm, query_pfns)
{
	uint64_t pfns[16];
	struct pinmdl_query q;
	uint32_t h;
	int i;

	ASSERT_EQ(0, pm_create(self->fd, self->buf, self->len, &h));
	/* Unlocked: no PFNs. */
	ASSERT_EQ(0, pm_query(self->fd, h, &q, pfns, 16));
	EXPECT_EQ(0, q.pfn_capacity);

	ASSERT_EQ(0, pm_lock(self->fd, h, PINMDL_IO_WRITE_ACCESS));
	memset(pfns, 0, sizeof(pfns));
	ASSERT_EQ(0, pm_query(self->fd, h, &q, pfns, 16));
	EXPECT_EQ(16, q.pfn_capacity);
	for (i = 0; i < 16; i++) {
		EXPECT_NE(0, pfns[i]);
		EXPECT_EQ(pm_pagemap_pfn(self->buf + i * PM_PAGE), pfns[i]);
	}

	/* A short capacity is not an error; no array, nothing written. */
	memset(pfns, 0xff, sizeof(pfns));
	ASSERT_EQ(0, pm_query(self->fd, h, &q, pfns, 3));
	EXPECT_EQ(3, q.pfn_capacity);
	EXPECT_EQ(~0ULL, pfns[3]);
	ASSERT_EQ(0, pm_query(self->fd, h, &q, NULL, 16));
	EXPECT_EQ(0, q.pfn_capacity);
}

TEST(close_releases_and_reports)
{
	long pins = pm_pins(), leaks = pm_stat("leaks_released");
	char *buf = pm_map(8 * PM_PAGE, PROT_READ | PROT_WRITE);
	int fd = pm_open();
	uint32_t parent, child;

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, buf);
	parent = pm_create_locked(fd, buf, 8 * PM_PAGE, PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, parent);
	ASSERT_EQ(0, pm_partial(fd, parent, buf, PM_PAGE, &child));
	ASSERT_NE(0, pm_create_locked(fd, buf, PM_PAGE, PINMDL_IO_READ_ACCESS));
	ASSERT_EQ(0, pm_create(fd, buf, PM_PAGE, NULL));
	EXPECT_EQ(pins + 9, pm_pins());
	close(fd);
	EXPECT_EQ(pins, pm_pins());
	EXPECT_EQ(leaks + 2, pm_stat("leaks_released"));
}

static int lock_and_die(void *unused)
{
	char *buf = pm_map(64 * PM_PAGE, PROT_READ | PROT_WRITE);
	int fd = pm_open();

	if (fd < 0 || !buf)
		return 1;
	if (!pm_create_locked(fd, buf, 64 * PM_PAGE, PINMDL_IO_WRITE_ACCESS))
		return 2;
	raise(SIGKILL);
	return 3;
}

TEST(sigkill_releases)
{
	long pins = pm_pins(), leaks = pm_stat("leaks_released");

	EXPECT_EQ(128 + SIGKILL, pm_in_child(lock_and_die, NULL));
	EXPECT_EQ(pins, pm_pins());
	EXPECT_EQ(leaks + 1, pm_stat("leaks_released"));
}

TEST_F(pm, locked_pages_survive_munmap)
{
	long base = pm_pins();
	uint64_t pfn;
	uint32_t h;

	h = pm_create_locked(self->fd, self->buf, self->len,
			     PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	pfn = pm_pagemap_pfn(self->buf);
	ASSERT_EQ(0, munmap(self->buf, self->len));
	EXPECT_EQ(base + 16, pm_pins());
	EXPECT_NE(0, pfn);
	ASSERT_EQ(0, pm_unlock(self->fd, h));
	EXPECT_EQ(base, pm_pins());
	self->buf = pm_map(self->len, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, self->buf);
}

TEST(stats_counters)
{
	const char *keys[] = { "descriptors_live", "descriptors_locked",
			       "pages_pinned", "pages_pinned_peak", "locks",
			       "unlocks", "leaks_released", "failures_EFAULT",
			       "failures_ENOENT", "failures_other" };
	long locks = pm_stat("locks"), unlocks = pm_stat("unlocks");
	long enoent = pm_stat("failures_ENOENT");
	char *buf = pm_map(PM_PAGE, PROT_READ | PROT_WRITE);
	int fd = pm_open();
	uint32_t h;
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *key = keys[i];

		EXPECT_LE(0, pm_stat(key)) TH_LOG("%s", key);
	}
	h = pm_create_locked(fd, buf, PM_PAGE, PINMDL_IO_READ_ACCESS);
	ASSERT_NE(0, h);
	EXPECT_LE(1, pm_stat("descriptors_locked"));
	EXPECT_LE(1, pm_stat("pages_pinned_peak"));
	EXPECT_EQ(0, pm_unlock(fd, h));
	EXPECT_EQ(-ENOENT, pm_free(fd, 777));
	EXPECT_EQ(locks + 1, pm_stat("locks"));
	EXPECT_EQ(unlocks + 1, pm_stat("unlocks"));
	EXPECT_EQ(enoent + 1, pm_stat("failures_ENOENT"));
	close(fd);
}

/*
 * debugfs pinmdl/timing counts the locks and unlocks that succeed while it
 * is on, with their time in the kernel; switching it on resets it.
 */
TEST(timing_counts_while_on)
{
	char *buf = pm_map(16 * PM_PAGE, PROT_READ | PROT_WRITE);
	int fd = pm_open(), i;
	uint32_t h;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, pm_create(fd, buf, 16 * PM_PAGE, &h));
	ASSERT_EQ(0, pm_timing(1));
	EXPECT_EQ(1, pm_debugfs("timing", "enabled"));
	EXPECT_EQ(0, pm_debugfs("timing", "locks"));
	EXPECT_EQ(0, pm_debugfs("timing", "lock_ns"));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, pm_lock(fd, h, PINMDL_IO_WRITE_ACCESS));
		/* Failures are not timed. */
		EXPECT_EQ(-EBUSY, pm_lock(fd, h, PINMDL_IO_WRITE_ACCESS));
		ASSERT_EQ(0, pm_unlock(fd, h));
		EXPECT_EQ(-EINVAL, pm_unlock(fd, h));
	}
	EXPECT_EQ(3, pm_debugfs("timing", "locks"));
	EXPECT_EQ(3, pm_debugfs("timing", "unlocks"));
	EXPECT_LT(0, pm_debugfs("timing", "lock_ns"));
	EXPECT_LT(0, pm_debugfs("timing", "unlock_ns"));
	ASSERT_EQ(0, pm_timing(0));
	EXPECT_EQ(0, pm_debugfs("timing", "enabled"));
	ASSERT_EQ(0, pm_lock(fd, h, PINMDL_IO_READ_ACCESS));
	ASSERT_EQ(0, pm_unlock(fd, h));
	EXPECT_EQ(3, pm_debugfs("timing", "locks"));
	EXPECT_EQ(3, pm_debugfs("timing", "unlocks"));
	ASSERT_EQ(0, pm_timing(1));
	EXPECT_EQ(0, pm_debugfs("timing", "unlocks"));
	EXPECT_EQ(0, pm_debugfs("timing", "unlock_ns"));
	ASSERT_EQ(0, pm_timing(0));
	EXPECT_EQ(0, pm_free(fd, h));
	close(fd);
	munmap(buf, 16 * PM_PAGE);
}

#define RACE_THREADS	4
#define RACE_ROUNDS	200

struct race {
	int fd;
	char *buf;
	uint32_t shared;
	int bad;
};

static bool race_errno_ok(int ret, int a, int b)
{
	return !ret || ret == a || ret == b;
}

static void *race_thread(void *p)
{
	struct race *r = p;
	struct pinmdl_query q;
	int i;

	for (i = 0; i < RACE_ROUNDS; i++) {
		uint32_t h = pm_create_locked(r->fd, r->buf, 8 * PM_PAGE,
					      PINMDL_IO_WRITE_ACCESS);

		if (!h || pm_query(r->fd, h, &q, NULL, 0) ||
		    pm_unlock(r->fd, h) || pm_free(r->fd, h))
			__atomic_add_fetch(&r->bad, 1, __ATOMIC_RELAXED);
		/* Everyone fights over one handle: only state errnos. */
		if (!race_errno_ok(pm_lock(r->fd, r->shared,
					   PINMDL_IO_READ_ACCESS), -EBUSY, 0) ||
		    !race_errno_ok(pm_query(r->fd, r->shared, &q, NULL, 0),
				   0, 0) ||
		    !race_errno_ok(pm_unlock(r->fd, r->shared), -EINVAL,
				   -EBUSY))
			__atomic_add_fetch(&r->bad, 1, __ATOMIC_RELAXED);
		/* EBUSY while another thread's LOCK of it runs. */
		h = 0;
		if (!race_errno_ok(pm_partial(r->fd, r->shared, r->buf, 1, &h),
				   -EINVAL, -EBUSY) ||
		    (h && pm_free(r->fd, h)))
			__atomic_add_fetch(&r->bad, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

TEST_F(pm, threads_share_one_file)
{
	pthread_t t[RACE_THREADS];
	struct race r = { .fd = self->fd, .buf = self->buf };
	int i;

	ASSERT_EQ(0, pm_create(self->fd, self->buf, PM_PAGE, &r.shared));
	for (i = 0; i < RACE_THREADS; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, race_thread, &r));
	for (i = 0; i < RACE_THREADS; i++)
		pthread_join(t[i], NULL);
	EXPECT_EQ(0, r.bad);
	pm_unlock(self->fd, r.shared);
	EXPECT_EQ(0, pm_free(self->fd, r.shared));
}

TEST_HARNESS_MAIN
