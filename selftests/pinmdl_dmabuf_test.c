// SPDX-License-Identifier: GPL-2.0
/*
 * PINMDL_IOC_EXPORT_DMABUF: a locked user descriptor, page list or
 * allocation handed to the kernel's dma-buf importers. Its errnos in
 * their order (EINVAL for the arguments, ENOENT, EPERM from another
 * address space, EINVAL for an unlocked or partial descriptor, EACCES for
 * a writable export of a read lock, EMFILE); QUERY's EXPORTED and UNLOCK,
 * FREE and ADVANCE refused with EBUSY while any dma-buf of the descriptor
 * lives, as an fd or as a mapping, each export its own dma-buf; the fd's
 * flags; the dma-buf's size (the descriptor's whole pages); the pages kept
 * pinned, charged and valid after the exporter closes /dev/pinmdl or
 * exits, the fd received by SCM_RIGHTS, and no leak counted; mmap(2) of
 * the dma-buf (MAP_SHARED only, never executable, read-only without
 * PINMDL_EXPORT_WRITE, the buffer's own pages) and DMA_BUF_IOCTL_SYNC;
 * pinmdl_lower importing it (DMABUF_CHECKSUM, DMABUF_FILL, their errnos, a
 * read-only export with no kernel mapping and refusing FILL, an
 * asynchronous request holding its dma-buf); every kind of memory,
 * allocated pages (EBUSY once write-combined, and no mode change while
 * exported) and page lists; and other drivers:
 * udmabuf's dma-buf of the same memfd pages, udmabuf refusing what pinmdl
 * exports, DRM PRIME import by vgem and V4L2 capture by vivid into a user
 * buffer. Each test checks that the pin balance and VmPin are back where
 * they started.
 */
#define _GNU_SOURCE
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <linux/dma-buf.h>
#include <linux/udmabuf.h>
#include <linux/videodev2.h>

#include "kselftest_harness.h"
#include "pinmdl_util.h"

#define LOWER		"pinmdl_lower"
#define BUF_PAGES	16
#define RW		(PROT_READ | PROT_WRITE)
#define WRITE		PINMDL_EXPORT_WRITE
#define CLOEXEC		PINMDL_EXPORT_CLOEXEC
#define EXPORTED	PINMDL_F_EXPORTED

/*
 * The few ioctls of DRM's uapi (include/uapi/drm/drm.h) the vgem tests
 * use, whose header the installed kernel headers may lack.
 */
struct drm_version {
	int version_major;
	int version_minor;
	int version_patchlevel;
	size_t name_len;
	char *name;
	size_t date_len;
	char *date;
	size_t desc_len;
	char *desc;
};

struct drm_gem_close {
	uint32_t handle;
	uint32_t pad;
};

struct drm_prime_handle {
	uint32_t handle;
	uint32_t flags;
	int32_t fd;
};

#define DRM_IOCTL_VERSION		_IOWR('d', 0x00, struct drm_version)
#define DRM_IOCTL_GEM_CLOSE		_IOW('d', 0x09, struct drm_gem_close)
#define DRM_IOCTL_PRIME_HANDLE_TO_FD	_IOWR('d', 0x2d, struct drm_prime_handle)
#define DRM_IOCTL_PRIME_FD_TO_HANDLE	_IOWR('d', 0x2e, struct drm_prime_handle)

/* EXPORT_DMABUF of @handle with @flags: 0 and the dma-buf in *@dmafd. */
static int pm_export(int fd, uint32_t handle, uint32_t flags, int *dmafd)
{
	struct pinmdl_export e = { .handle = handle, .flags = flags };
	int ret = pm_ioctl(fd, PINMDL_IOC_EXPORT_DMABUF, &e);

	if (!ret) {
		if (dmafd)
			*dmafd = e.fd;
		else
			close(e.fd);
	}
	return ret;
}

static uint32_t query_flags(int fd, uint32_t h)
{
	struct pinmdl_query q;

	return pm_query(fd, h, &q, NULL, 0) ? ~0U : q.flags;
}

static bool exported(int fd, uint32_t h)
{
	uint32_t flags = query_flags(fd, h);

	return flags != ~0U && (flags & EXPORTED);
}

/*
 * Whether @h is no longer exported within @ms: a dma-buf whose last
 * reference a kernel thread dropped goes a little later.
 */
static bool unexported_within(int fd, uint32_t h, int ms)
{
	for (; ms > 0; ms--) {
		if (!exported(fd, h))
			return true;
		usleep(1000);
	}
	return !exported(fd, h);
}

/* What a test buffer holds at offset @i: not the same from page to page. */
static char pat(size_t i, unsigned int seed)
{
	return (char)(i * 7 + (i >> 12) * 13 + seed * 101);
}

static void fill(char *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = pat(i, seed);
}

static bool all_bytes(const char *p, size_t len, char val)
{
	while (len--)
		if (*p++ != val)
			return false;
	return true;
}

/* pinmdl_lower's DMABUF_CHECKSUM of @dmafd: 0 and the crc in *@crc. */
static int dma_checksum(int fd, int target, int dmafd, uint64_t *crc)
{
	struct pinmdl_io io;
	int ret = pm_io(fd, target, PINMDL_LOWER_DMABUF_CHECKSUM, NULL, 0,
			(uint32_t)dmafd, 0, &io);

	if (!ret && crc)
		*crc = io.result;
	return ret;
}

/* pinmdl_lower's DMABUF_FILL of @dmafd with @byte: 0 and *@size. */
static int dma_fill(int fd, int target, int dmafd, unsigned char byte,
		    uint64_t *size)
{
	struct pinmdl_io io;
	int ret = pm_io(fd, target, PINMDL_LOWER_DMABUF_FILL, NULL, 0,
			(uint32_t)dmafd | (uint64_t)byte << 32, 0, &io);

	if (!ret && size)
		*size = io.result;
	return ret;
}

static int dma_sync(int dmafd, uint64_t flags)
{
	struct dma_buf_sync s = { .flags = flags };

	return pm_ioctl(dmafd, DMA_BUF_IOCTL_SYNC, &s);
}

static char *map_dmabuf(int dmafd, size_t len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_SHARED, dmafd, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* What mmap(2) of @dmafd says: 0 (unmapped again) or -errno. */
static int map_errno(int dmafd, size_t len, int prot, int flags)
{
	void *p = mmap(NULL, len, prot, flags, dmafd, 0);

	if (p == MAP_FAILED)
		return -errno;
	munmap(p, len);
	return 0;
}

static off_t dmabuf_size(int dmafd)
{
	return lseek(dmafd, 0, SEEK_END);
}

/* Whether /proc/self/fdinfo of @fd has the line @line. */
static bool fdinfo_has(int fd, const char *line)
{
	char path[64], text[256];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (fgets(text, sizeof(text), f))
		if (!strcmp(text, line))
			found = true;
	fclose(f);
	return found;
}

/* The file behind @a and @b is the same one. */
static bool same_file(int a, int b)
{
	struct stat sa, sb;

	return !fstat(a, &sa) && !fstat(b, &sb) && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

static int send_fd(int sock, int fd)
{
	char ctl[CMSG_SPACE(sizeof(int))] = {};
	char byte = 0;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctl,
			     .msg_controllen = sizeof(ctl) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &mh, 0) == 1 ? 0 : -1;
}

/* The fd that came with the next message on @sock, or -1. */
static int recv_fd(int sock)
{
	char ctl[CMSG_SPACE(sizeof(int))];
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctl,
			     .msg_controllen = sizeof(ctl) };
	struct cmsghdr *cm;
	int fd = -1;

	if (recvmsg(sock, &mh, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&mh);
	if (cm && cm->cmsg_level == SOL_SOCKET &&
	    cm->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

FIXTURE(dmabuf)
{
	int fd;
	int target;
	long pins;
	long vmpin;
	char *buf;
	size_t len;
};

FIXTURE_SETUP(dmabuf)
{
	self->pins = pm_pins();
	self->vmpin = pm_vmpin_kb();
	ASSERT_LE(0, self->vmpin);
	self->fd = pm_open();
	ASSERT_LE(0, self->fd) TH_LOG("open /dev/pinmdl: %s", strerror(errno));
	self->target = pm_target_open(self->fd, LOWER, -1, NULL);
	ASSERT_LT(0, self->target) TH_LOG("TARGET_OPEN %s: %s", LOWER,
					  strerror(-self->target));
	self->len = BUF_PAGES * PM_PAGE;
	self->buf = pm_map(self->len, RW);
	ASSERT_NE(NULL, self->buf);
	fill(self->buf, self->len, 1);
}

FIXTURE_TEARDOWN(dmabuf)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->buf)
		munmap(self->buf, self->len);
	EXPECT_EQ(self->pins, pm_pins()) TH_LOG("pages left pinned");
	EXPECT_EQ(self->vmpin, pm_vmpin_kb()) TH_LOG("VmPin left charged");
}

/*
 * Unknown flags and a reserved field: EINVAL, before the handle is looked
 * up; an unknown handle: ENOENT; a bad pointer: EFAULT. Nothing exported.
 */
TEST_F(dmabuf, export_argument_errnos_come_first)
{
	const uint32_t bad_flags[] = { 0x4, 0x8, 0x80000000,
				       WRITE | CLOEXEC | 0x4 };
	struct pinmdl_export e = { .reserved = 1 };
	const uint32_t unknown[] = { 0, 4242 };
	uint32_t h;
	size_t i;

	h = pm_create_locked(self->fd, self->buf, 2 * PM_PAGE,
			     PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	for (i = 0; i < ARRAY_SIZE(bad_flags); i++) {
		EXPECT_EQ(-EINVAL, pm_export(self->fd, h, bad_flags[i], NULL))
			TH_LOG("flags %#x", bad_flags[i]);
		EXPECT_EQ(-EINVAL, pm_export(self->fd, 4242, bad_flags[i],
					     NULL))
			TH_LOG("flags %#x", bad_flags[i]);
	}
	e.handle = h;
	EXPECT_EQ(-EINVAL, pm_ioctl(self->fd, PINMDL_IOC_EXPORT_DMABUF, &e));
	e.handle = 4242;
	EXPECT_EQ(-EINVAL, pm_ioctl(self->fd, PINMDL_IOC_EXPORT_DMABUF, &e));
	for (i = 0; i < ARRAY_SIZE(unknown); i++) {
		EXPECT_EQ(-ENOENT, pm_export(self->fd, unknown[i], 0, NULL));
		EXPECT_EQ(-ENOENT, pm_export(self->fd, unknown[i],
					     WRITE | CLOEXEC, NULL));
	}
	EXPECT_EQ(-EFAULT, pm_ioctl(self->fd, PINMDL_IOC_EXPORT_DMABUF,
				    NULL));
	EXPECT_EQ(PINMDL_F_PAGES_LOCKED | PINMDL_F_WRITE_OPERATION,
		  query_flags(self->fd, h));
	EXPECT_EQ(0, pm_unlock(self->fd, h));
	EXPECT_EQ(0, pm_free(self->fd, h));
}

struct foreign {
	int fd;
	uint32_t locked;
	uint32_t unlocked;
	char *buf;
};

/*
 * A forked child on the parent's file: the arguments first, then the
 * handle, then EPERM for the parent's descriptors, whatever their state.
 */
static int foreign_child(void *p)
{
	const struct foreign *f = p;
	struct pinmdl_export e = { .handle = f->locked, .reserved = 1 };
	uint32_t own;
	int dmafd;

	if (pm_export(f->fd, f->locked, 0x4, NULL) != -EINVAL ||
	    pm_ioctl(f->fd, PINMDL_IOC_EXPORT_DMABUF, &e) != -EINVAL)
		return 1;
	if (pm_export(f->fd, 4242, 0, NULL) != -ENOENT)
		return 2;
	if (pm_export(f->fd, f->locked, 0, NULL) != -EPERM ||
	    pm_export(f->fd, f->locked, WRITE, NULL) != -EPERM)
		return 3;
	if (pm_export(f->fd, f->unlocked, 0, NULL) != -EPERM ||
	    pm_export(f->fd, f->unlocked, WRITE, NULL) != -EPERM)
		return 4;
	/* Its own descriptors in the shared file are its own. */
	own = pm_create_locked(f->fd, f->buf, PM_PAGE, PINMDL_IO_WRITE_ACCESS);
	if (!own || pm_export(f->fd, own, WRITE, &dmafd))
		return 5;
	close(dmafd);
	return pm_unlock(f->fd, own) || pm_free(f->fd, own) ? 6 : 0;
}

TEST_F(dmabuf, other_address_space_eperm)
{
	struct foreign f = { .fd = self->fd, .buf = self->buf };
	long pins;

	f.locked = pm_create_locked(self->fd, self->buf, 4 * PM_PAGE,
				    PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, f.locked);
	ASSERT_EQ(0, pm_create(self->fd, self->buf + 4 * PM_PAGE, PM_PAGE,
			       &f.unlocked));
	pins = pm_pins();
	EXPECT_EQ(0, pm_in_child(foreign_child, &f));
	EXPECT_FALSE(exported(self->fd, f.locked));
	EXPECT_EQ(pins, pm_pins());
	EXPECT_EQ(0, pm_unlock(self->fd, f.locked));
	EXPECT_EQ(0, pm_free(self->fd, f.locked));
	EXPECT_EQ(0, pm_free(self->fd, f.unlocked));
}

/*
 * Not locked (never, or no longer) and partial: EINVAL, with or without
 * WRITE; freed: ENOENT.
 */
TEST_F(dmabuf, unlocked_or_partial_descriptor_einval)
{
	uint32_t h, part;
	int dmafd;

	ASSERT_EQ(0, pm_create(self->fd, self->buf, 2 * PM_PAGE, &h));
	EXPECT_EQ(-EINVAL, pm_export(self->fd, h, 0, NULL));
	EXPECT_EQ(-EINVAL, pm_export(self->fd, h, WRITE, NULL));
	ASSERT_EQ(0, pm_lock(self->fd, h, PINMDL_IO_WRITE_ACCESS));
	ASSERT_EQ(0, pm_partial(self->fd, h, self->buf + 100, 200, &part));
	EXPECT_EQ(-EINVAL, pm_export(self->fd, part, 0, NULL));
	EXPECT_EQ(-EINVAL, pm_export(self->fd, part, WRITE | CLOEXEC, NULL));
	EXPECT_FALSE(exported(self->fd, part));
	/* Its parent, locked, is exported. */
	ASSERT_EQ(0, pm_export(self->fd, h, WRITE, &dmafd));
	EXPECT_TRUE(exported(self->fd, h));
	EXPECT_FALSE(exported(self->fd, part));
	close(dmafd);
	EXPECT_EQ(0, pm_free(self->fd, part));
	EXPECT_EQ(0, pm_unlock(self->fd, h));
	EXPECT_EQ(-EINVAL, pm_export(self->fd, h, 0, NULL));
	EXPECT_EQ(0, pm_free(self->fd, h));
	EXPECT_EQ(-ENOENT, pm_export(self->fd, h, 0, NULL));
}

/*
 * WRITE needs a write or modify lock: EACCES of a read lock, which is
 * exported read-only all the same.
 */
TEST_F(dmabuf, write_export_of_read_lock_eacces)
{
	uint32_t r, w, m;
	int dmafd;

	r = pm_create_locked(self->fd, self->buf, 2 * PM_PAGE,
			     PINMDL_IO_READ_ACCESS);
	w = pm_create_locked(self->fd, self->buf + 2 * PM_PAGE, 2 * PM_PAGE,
			     PINMDL_IO_WRITE_ACCESS);
	m = pm_create_locked(self->fd, self->buf + 4 * PM_PAGE, 2 * PM_PAGE,
			     PINMDL_IO_MODIFY_ACCESS);
	ASSERT_NE(0, r);
	ASSERT_NE(0, w);
	ASSERT_NE(0, m);
	EXPECT_EQ(-EACCES, pm_export(self->fd, r, WRITE, NULL));
	EXPECT_EQ(-EACCES, pm_export(self->fd, r, WRITE | CLOEXEC, NULL));
	EXPECT_FALSE(exported(self->fd, r));
	ASSERT_EQ(0, pm_export(self->fd, r, 0, &dmafd));
	EXPECT_TRUE(exported(self->fd, r));
	close(dmafd);
	EXPECT_EQ(0, pm_export(self->fd, w, WRITE, NULL));
	EXPECT_EQ(0, pm_export(self->fd, m, WRITE, NULL));
	EXPECT_EQ(0, pm_export(self->fd, m, 0, NULL));
	EXPECT_EQ(0, pm_unlock(self->fd, r));
	EXPECT_EQ(0, pm_unlock(self->fd, w));
	EXPECT_EQ(0, pm_unlock(self->fd, m));
}

/*
 * No fd free under RLIMIT_NOFILE: EMFILE, after the other errnos (a
 * WRITE export of a read lock is still EACCES); nothing stays exported.
 */
TEST_F(dmabuf, no_free_fd_emfile)
{
	struct rlimit old, none;
	int ret[3], dmafd[3], lowest, i;
	uint32_t w, r;

	w = pm_create_locked(self->fd, self->buf, 2 * PM_PAGE,
			     PINMDL_IO_WRITE_ACCESS);
	r = pm_create_locked(self->fd, self->buf + 2 * PM_PAGE, PM_PAGE,
			     PINMDL_IO_READ_ACCESS);
	ASSERT_NE(0, w);
	ASSERT_NE(0, r);
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &old));
	/* Every fd below the lowest free one is taken. */
	lowest = fcntl(self->fd, F_DUPFD_CLOEXEC, 0);
	ASSERT_LE(0, lowest);
	close(lowest);
	none = old;
	none.rlim_cur = lowest;
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &none));
	ret[0] = pm_export(self->fd, w, WRITE, &dmafd[0]);
	ret[1] = pm_export(self->fd, w, CLOEXEC, &dmafd[1]);
	ret[2] = pm_export(self->fd, r, WRITE, &dmafd[2]);
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &old));
	for (i = 0; i < 3; i++)
		if (!ret[i])
			close(dmafd[i]);
	EXPECT_EQ(-EMFILE, ret[0]);
	EXPECT_EQ(-EMFILE, ret[1]);
	EXPECT_EQ(-EACCES, ret[2]);
	EXPECT_FALSE(exported(self->fd, w));
	EXPECT_FALSE(exported(self->fd, r));
	/* With an fd free again, it works. */
	EXPECT_EQ(0, pm_export(self->fd, w, WRITE, NULL));
	EXPECT_EQ(0, pm_unlock(self->fd, w));
	EXPECT_EQ(0, pm_unlock(self->fd, r));
}

/*
 * While a dma-buf exists: EXPORTED, and UNLOCK, FREE and ADVANCE refused
 * with EBUSY, the pages still pinned; after its fd is closed, UNLOCK puts
 * the pin balance back exactly.
 */
TEST_F(dmabuf, exported_descriptor_refuses_unlock_and_free)
{
	const uint32_t locked = PINMDL_F_PAGES_LOCKED |
				PINMDL_F_WRITE_OPERATION;
	uint32_t h;
	int dmafd;

	h = pm_create_locked(self->fd, self->buf, self->len,
			     PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	EXPECT_EQ(self->pins + BUF_PAGES, pm_pins());
	ASSERT_EQ(0, pm_export(self->fd, h, WRITE, &dmafd));
	EXPECT_EQ(locked | EXPORTED, query_flags(self->fd, h));
	EXPECT_EQ(-EBUSY, pm_unlock(self->fd, h));
	EXPECT_EQ(-EBUSY, pm_free(self->fd, h));
	EXPECT_EQ(-EBUSY, pm_advance(self->fd, h, PM_PAGE));
	EXPECT_EQ(locked | EXPORTED, query_flags(self->fd, h));
	EXPECT_EQ(self->pins + BUF_PAGES, pm_pins());
	close(dmafd);
	EXPECT_EQ(locked, query_flags(self->fd, h));
	EXPECT_EQ(0, pm_unlock(self->fd, h));
	EXPECT_EQ(self->pins, pm_pins());
	EXPECT_EQ(0, pm_free(self->fd, h));
}

/*
 * CLOEXEC makes the fd close-on-exec; WRITE opens the dma-buf's file
 * for reading and writing, else for reading only.
 */
TEST_F(dmabuf, export_fd_flags_follow_export_flags)
{
	const uint32_t flags[] = { 0, CLOEXEC, WRITE, WRITE | CLOEXEC };
	uint32_t h;
	int dmafd;
	size_t i;

	h = pm_create_locked(self->fd, self->buf, PM_PAGE,
			     PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		ASSERT_EQ(0, pm_export(self->fd, h, flags[i], &dmafd));
		EXPECT_EQ(!!(flags[i] & CLOEXEC),
			  !!(fcntl(dmafd, F_GETFD) & FD_CLOEXEC))
			TH_LOG("flags %#x", flags[i]);
		EXPECT_EQ(flags[i] & WRITE ? O_RDWR : O_RDONLY,
			  fcntl(dmafd, F_GETFL) & O_ACCMODE)
			TH_LOG("flags %#x", flags[i]);
		close(dmafd);
	}
	EXPECT_EQ(0, pm_unlock(self->fd, h));
}

/*
 * Each export is a dma-buf of its own, of the same pages: EXPORTED until
 * the last of them is closed, in any order.
 */
TEST_F(dmabuf, several_exports_each_their_own_dmabuf)
{
	const uint32_t flags[] = { 0, WRITE, CLOEXEC };
	uint64_t want = pm_crc32c(self->buf, 4 * PM_PAGE), crc;
	const int order[] = { 2, 0, 1 };
	int dmafd[3], i;
	uint32_t h;

	h = pm_create_locked(self->fd, self->buf, 4 * PM_PAGE,
			     PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, pm_export(self->fd, h, flags[i], &dmafd[i]));
	EXPECT_FALSE(same_file(dmafd[0], dmafd[1]));
	EXPECT_FALSE(same_file(dmafd[1], dmafd[2]));
	EXPECT_FALSE(same_file(dmafd[0], dmafd[2]));
	/* A read-only export has no kernel mapping to checksum through. */
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(4 * PM_PAGE, dmabuf_size(dmafd[i]));
		if (!(flags[i] & WRITE)) {
			EXPECT_EQ(-EINVAL, dma_checksum(self->fd, self->target,
							dmafd[i], &crc));
			continue;
		}
		ASSERT_EQ(0, dma_checksum(self->fd, self->target, dmafd[i],
					  &crc));
		EXPECT_EQ(want, crc);
	}
	for (i = 0; i < 3; i++) {
		EXPECT_TRUE(exported(self->fd, h));
		EXPECT_EQ(-EBUSY, pm_unlock(self->fd, h));
		close(dmafd[order[i]]);
	}
	EXPECT_FALSE(exported(self->fd, h));
	EXPECT_EQ(0, pm_unlock(self->fd, h));
}

/* A mapping of the dma-buf holds it after its fd is closed, until munmap. */
TEST_F(dmabuf, mapping_keeps_the_export_alive)
{
	uint32_t h;
	int dmafd;
	char *map;

	h = pm_create_locked(self->fd, self->buf, self->len,
			     PINMDL_IO_READ_ACCESS);
	ASSERT_NE(0, h);
	ASSERT_EQ(0, pm_export(self->fd, h, 0, &dmafd));
	map = map_dmabuf(dmafd, self->len, PROT_READ);
	ASSERT_NE(NULL, map);
	close(dmafd);
	EXPECT_TRUE(exported(self->fd, h));
	EXPECT_EQ(-EBUSY, pm_unlock(self->fd, h));
	EXPECT_EQ(self->pins + BUF_PAGES, pm_pins());
	EXPECT_EQ(0, memcmp(map, self->buf, self->len));
	EXPECT_EQ(0, munmap(map, self->len));
	EXPECT_FALSE(exported(self->fd, h));
	EXPECT_EQ(0, pm_unlock(self->fd, h));
}

/*
 * The dma-buf is the descriptor's whole pages, from its first: its size,
 * what an importer reads and writes, and what mmap(2) may reach.
 */
TEST_F(dmabuf, dmabuf_is_the_descriptors_whole_pages)
{
	const size_t size = 3 * PM_PAGE;
	char *copy = malloc(self->len), *map, line[64];
	uint64_t crc, got;
	uint32_t h;
	int dmafd;

	ASSERT_NE(NULL, copy);
	memcpy(copy, self->buf, self->len);
	/* 2 pages from byte 100 span 3 pages. */
	h = pm_create_locked(self->fd, self->buf + 100, 2 * PM_PAGE,
			     PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	ASSERT_EQ(0, pm_export(self->fd, h, WRITE, &dmafd));
	EXPECT_EQ(size, dmabuf_size(dmafd));
	snprintf(line, sizeof(line), "size:\t%zu\n", size);
	EXPECT_TRUE(fdinfo_has(dmafd, line));
	EXPECT_TRUE(fdinfo_has(dmafd, "exp_name:\tpinmdl\n"));
	ASSERT_EQ(0, dma_checksum(self->fd, self->target, dmafd, &crc));
	EXPECT_EQ(pm_crc32c(self->buf, size), crc);
	EXPECT_EQ(-EINVAL, map_errno(dmafd, size + PM_PAGE, PROT_READ,
				     MAP_SHARED));
	ASSERT_EQ(0, dma_fill(self->fd, self->target, dmafd, 0x11, &got));
	EXPECT_EQ(size, got);
	EXPECT_TRUE(all_bytes(self->buf, size, 0x11));
	EXPECT_EQ(0, memcmp(self->buf + size, copy + size,
			    self->len - size));
	map = map_dmabuf(dmafd, size, PROT_READ);
	ASSERT_NE(NULL, map);
	EXPECT_TRUE(all_bytes(map, size, 0x11));
	munmap(map, size);
	close(dmafd);
	EXPECT_EQ(0, pm_unlock(self->fd, h));
	free(copy);
}

/* mmap(2) of the dma-buf is MAP_SHARED only: MAP_PRIVATE is EINVAL. */
TEST_F(dmabuf, mmap_private_einval_exec_eperm)
{
	int wfd, rfd;
	uint32_t h;

	h = pm_create_locked(self->fd, self->buf, self->len,
			     PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	ASSERT_EQ(0, pm_export(self->fd, h, WRITE, &wfd));
	ASSERT_EQ(0, pm_export(self->fd, h, 0, &rfd));
	EXPECT_EQ(-EINVAL, map_errno(wfd, self->len, PROT_READ, MAP_PRIVATE));
	EXPECT_EQ(-EINVAL, map_errno(wfd, self->len, RW, MAP_PRIVATE));
	EXPECT_EQ(-EINVAL, map_errno(rfd, self->len, PROT_READ, MAP_PRIVATE));
	EXPECT_EQ(-EINVAL, map_errno(rfd, self->len, RW, MAP_PRIVATE));
	EXPECT_EQ(0, map_errno(wfd, self->len, RW, MAP_SHARED));
	EXPECT_EQ(0, map_errno(rfd, self->len, PROT_READ, MAP_SHARED));
	/* Never executable: the pages may be a noexec mount's file's. */
	EXPECT_EQ(-EPERM, map_errno(wfd, self->len, PROT_READ | PROT_EXEC,
				    MAP_SHARED));
	EXPECT_EQ(-EPERM, map_errno(rfd, self->len, PROT_READ | PROT_EXEC,
				    MAP_SHARED));
	close(wfd);
	close(rfd);
	EXPECT_EQ(0, pm_unlock(self->fd, h));
}

/*
 * Without WRITE, of a read lock or of a write lock alike: PROT_WRITE is
 * EACCES, now or later by mprotect(2); PROT_READ shows the buffer.
 */
TEST_F(dmabuf, read_only_export_maps_read_only)
{
	const uint32_t ops[] = { PINMDL_IO_READ_ACCESS,
				 PINMDL_IO_WRITE_ACCESS };
	uint32_t h;
	size_t i;
	int dmafd;
	char *map;

	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		h = pm_create_locked(self->fd, self->buf, self->len, ops[i]);
		ASSERT_NE(0, h);
		ASSERT_EQ(0, pm_export(self->fd, h, 0, &dmafd));
		EXPECT_EQ(-EACCES, map_errno(dmafd, self->len, RW,
					     MAP_SHARED));
		EXPECT_EQ(-EACCES, map_errno(dmafd, self->len, PROT_WRITE,
					     MAP_SHARED));
		map = map_dmabuf(dmafd, self->len, PROT_READ);
		ASSERT_NE(NULL, map);
		EXPECT_EQ(0, memcmp(map, self->buf, self->len));
		EXPECT_EQ(-1, mprotect(map, self->len, RW));
		EXPECT_EQ(EACCES, errno);
		munmap(map, self->len);
		close(dmafd);
		EXPECT_EQ(0, pm_unlock(self->fd, h));
	}
}

/*
 * A WRITE export mapped for reading and writing is the buffer's own
 * pages: each sees what the other writes.
 */
TEST_F(dmabuf, write_export_mapping_shares_the_buffer)
{
	uint64_t crc;
	uint32_t h;
	int dmafd;
	char *map;

	h = pm_create_locked(self->fd, self->buf, self->len,
			     PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	ASSERT_EQ(0, pm_export(self->fd, h, WRITE, &dmafd));
	map = map_dmabuf(dmafd, self->len, RW);
	ASSERT_NE(NULL, map);
	EXPECT_EQ(0, memcmp(map, self->buf, self->len));
	memset(map + PM_PAGE, 0x24, PM_PAGE);
	EXPECT_TRUE(all_bytes(self->buf + PM_PAGE, PM_PAGE, 0x24));
	memset(self->buf + 3 * PM_PAGE + 10, 0x42, 100);
	EXPECT_TRUE(all_bytes(map + 3 * PM_PAGE + 10, 100, 0x42));
	EXPECT_EQ(pat(3 * PM_PAGE + 9, 1), map[3 * PM_PAGE + 9]);
	ASSERT_EQ(0, dma_checksum(self->fd, self->target, dmafd, &crc));
	EXPECT_EQ(pm_crc32c(self->buf, self->len), crc);
	munmap(map, self->len);
	close(dmafd);
	EXPECT_EQ(0, pm_unlock(self->fd, h));
}

/* DMA_BUF_IOCTL_SYNC around CPU access, of either kind of export. */
TEST_F(dmabuf, cpu_access_sync_on_both_kinds)
{
	const uint64_t dirs[] = { DMA_BUF_SYNC_READ, DMA_BUF_SYNC_WRITE,
				  DMA_BUF_SYNC_RW };
	int dmafd[2], i;
	uint32_t h;
	size_t k;
	char *map;

	h = pm_create_locked(self->fd, self->buf, self->len,
			     PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	ASSERT_EQ(0, pm_export(self->fd, h, WRITE, &dmafd[0]));
	ASSERT_EQ(0, pm_export(self->fd, h, 0, &dmafd[1]));
	for (i = 0; i < 2; i++)
		for (k = 0; k < ARRAY_SIZE(dirs); k++) {
			EXPECT_EQ(0, dma_sync(dmafd[i], DMA_BUF_SYNC_START |
							dirs[k]))
				TH_LOG("export %d, flags %#llx", i,
				       (unsigned long long)dirs[k]);
			EXPECT_EQ(0, dma_sync(dmafd[i], DMA_BUF_SYNC_END |
							dirs[k]))
				TH_LOG("export %d, flags %#llx", i,
				       (unsigned long long)dirs[k]);
		}
	map = map_dmabuf(dmafd[0], self->len, RW);
	ASSERT_NE(NULL, map);
	EXPECT_EQ(0, dma_sync(dmafd[0], DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW));
	memset(map, 0x6d, PM_PAGE);
	EXPECT_EQ(0, dma_sync(dmafd[0], DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW));
	EXPECT_TRUE(all_bytes(self->buf, PM_PAGE, 0x6d));
	munmap(map, self->len);
	close(dmafd[0]);
	close(dmafd[1]);
	EXPECT_EQ(0, pm_unlock(self->fd, h));
}

/*
 * pinmdl_lower's DMABUF_CHECKSUM of a WRITE export is the crc of the
 * buffer as it is now, after writes through its VA too. A read-only export
 * has no kernel mapping, which importers would write through: its
 * checksum fails (EINVAL) and leaves nothing held.
 */
TEST_F(dmabuf, lower_checksum_reads_the_live_buffer)
{
	const uint32_t flags[] = { 0, WRITE };
	uint64_t crc;
	uint32_t h;
	size_t i;
	int dmafd;

	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		h = pm_create_locked(self->fd, self->buf, self->len,
				     flags[i] ? PINMDL_IO_WRITE_ACCESS :
						PINMDL_IO_READ_ACCESS);
		ASSERT_NE(0, h);
		ASSERT_EQ(0, pm_export(self->fd, h, flags[i], &dmafd));
		if (!flags[i]) {
			EXPECT_EQ(-EINVAL, dma_checksum(self->fd, self->target,
							dmafd, &crc));
			close(dmafd);
			EXPECT_EQ(0, pm_unlock(self->fd, h));
			continue;
		}
		ASSERT_EQ(0, dma_checksum(self->fd, self->target, dmafd,
					  &crc));
		EXPECT_EQ(pm_crc32c(self->buf, self->len), crc);
		fill(self->buf, self->len, 2 + i);
		ASSERT_EQ(0, dma_checksum(self->fd, self->target, dmafd,
					  &crc));
		EXPECT_EQ(pm_crc32c(self->buf, self->len), crc);
		close(dmafd);
		EXPECT_EQ(0, pm_unlock(self->fd, h));
	}
}

/* DMABUF_FILL of a WRITE export writes the user buffer's pages, no more. */
TEST_F(dmabuf, lower_fill_writes_the_user_buffer)
{
	char *copy = malloc(self->len);
	uint64_t size;
	uint32_t h;
	int dmafd;

	ASSERT_NE(NULL, copy);
	memcpy(copy, self->buf, self->len);
	h = pm_create_locked(self->fd, self->buf + PM_PAGE, 4 * PM_PAGE,
			     PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	ASSERT_EQ(0, pm_export(self->fd, h, WRITE, &dmafd));
	ASSERT_EQ(0, dma_fill(self->fd, self->target, dmafd, 0xa5, &size));
	EXPECT_EQ(4 * PM_PAGE, size);
	EXPECT_TRUE(all_bytes(self->buf + PM_PAGE, 4 * PM_PAGE, (char)0xa5));
	EXPECT_EQ(0, memcmp(self->buf, copy, PM_PAGE));
	EXPECT_EQ(0, memcmp(self->buf + 5 * PM_PAGE, copy + 5 * PM_PAGE,
			    self->len - 5 * PM_PAGE));
	close(dmafd);
	EXPECT_EQ(0, pm_unlock(self->fd, h));
	free(copy);
}

/*
 * Without WRITE, DMABUF_FILL is refused (EACCES: the dma-buf's file is
 * read-only, and the exporter refuses the DMA_FROM_DEVICE mapping) and
 * writes nothing; DMABUF_CHECKSUM finds no kernel mapping (EINVAL).
 */
TEST_F(dmabuf, lower_fill_of_read_only_export_eacces)
{
	const uint32_t ops[] = { PINMDL_IO_READ_ACCESS,
				 PINMDL_IO_WRITE_ACCESS };
	uint64_t want = pm_crc32c(self->buf, self->len), crc;
	uint32_t h;
	size_t i;
	int dmafd;

	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		h = pm_create_locked(self->fd, self->buf, self->len, ops[i]);
		ASSERT_NE(0, h);
		ASSERT_EQ(0, pm_export(self->fd, h, 0, &dmafd));
		EXPECT_EQ(-EACCES, dma_fill(self->fd, self->target, dmafd,
					    0x77, NULL))
			TH_LOG("operation %u", ops[i]);
		EXPECT_EQ(-EINVAL, dma_checksum(self->fd, self->target, dmafd,
						&crc));
		EXPECT_EQ(want, pm_crc32c(self->buf, self->len));
		close(dmafd);
		EXPECT_EQ(0, pm_unlock(self->fd, h));
	}
}

/*
 * The DMABUF ops' errnos: an fd not open, EBADF; an open fd that is not a
 * dma-buf, EINVAL; a segment, an fd above 32 bits (CHECKSUM) or bits from
 * 40 up (FILL), EINVAL. FILL's byte is bits 32 to 39.
 */
TEST_F(dmabuf, lower_dmabuf_op_errnos)
{
	struct pinmdl_segment seg = { .length = PM_PAGE };
	const uint32_t ops[] = { PINMDL_LOWER_DMABUF_CHECKSUM,
				 PINMDL_LOWER_DMABUF_FILL };
	char *copy = malloc(PM_PAGE);
	int closed, dmafd, t = self->target, fd = self->fd;
	struct pinmdl_io io;
	uint32_t h;
	size_t i;

	ASSERT_NE(NULL, copy);
	memcpy(copy, self->buf, PM_PAGE);
	h = pm_create_locked(fd, self->buf, PM_PAGE, PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	ASSERT_EQ(0, pm_export(fd, h, WRITE, &dmafd));
	seg.handle = h;
	closed = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	ASSERT_LE(0, closed);
	close(closed);
	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		EXPECT_EQ(-EBADF, pm_io(fd, t, ops[i], NULL, 0, closed, 0,
					NULL)) TH_LOG("op %u", ops[i]);
		EXPECT_EQ(-EBADF, pm_io(fd, t, ops[i], NULL, 0, 0xffffffff, 0,
					NULL)) TH_LOG("op %u", ops[i]);
		EXPECT_EQ(-EINVAL, pm_io(fd, t, ops[i], NULL, 0, fd, 0, NULL))
			TH_LOG("op %u", ops[i]);
		EXPECT_EQ(-EINVAL, pm_io(fd, t, ops[i], &seg, 1, dmafd, 0,
					 NULL)) TH_LOG("op %u", ops[i]);
		EXPECT_EQ(-EINVAL, pm_io(fd, t, ops[i], NULL, 0,
					 dmafd | 1ULL << 40, 0, NULL))
			TH_LOG("op %u", ops[i]);
		EXPECT_EQ(-EINVAL, pm_io(fd, t, ops[i], NULL, 0,
					 dmafd | 1ULL << 63, 0, NULL))
			TH_LOG("op %u", ops[i]);
	}
	EXPECT_EQ(-EINVAL, pm_io(fd, t, PINMDL_LOWER_DMABUF_CHECKSUM, NULL, 0,
				 dmafd | 1ULL << 32, 0, NULL));
	EXPECT_EQ(0, memcmp(self->buf, copy, PM_PAGE));
	ASSERT_EQ(0, pm_io(fd, t, PINMDL_LOWER_DMABUF_FILL, NULL, 0,
			   dmafd | 0xffULL << 32, 0, &io));
	EXPECT_EQ(PM_PAGE, io.result);
	EXPECT_TRUE(all_bytes(self->buf, PM_PAGE, (char)0xff));
	close(dmafd);
	EXPECT_EQ(0, pm_unlock(fd, h));
	free(copy);
}

/*
 * The fd of an asynchronous DMABUF op is resolved when it is submitted:
 * the request holds the dma-buf after the fd is closed, and lets go of it.
 */
TEST_F(dmabuf, lower_async_request_holds_its_dmabuf)
{
	struct pinmdl_completion c;
	struct pinmdl_io io;
	uint32_t h;
	int dmafd;

	h = pm_create_locked(self->fd, self->buf, self->len,
			     PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	ASSERT_EQ(0, pm_export(self->fd, h, WRITE, &dmafd));
	ASSERT_EQ(0, pm_io(self->fd, self->target,
			   PINMDL_LOWER_DMABUF_CHECKSUM, NULL, 0, dmafd,
			   PINMDL_SUBMIT_ASYNC, &io));
	close(dmafd);
	ASSERT_EQ(0, pm_completion(self->fd, &c, 5000));
	EXPECT_EQ(io.request_id, c.request_id);
	EXPECT_EQ(0, c.status);
	EXPECT_EQ(pm_crc32c(self->buf, self->len), c.result);
	EXPECT_TRUE(unexported_within(self->fd, h, 2000));
	EXPECT_EQ(0, pm_unlock(self->fd, h));
}

/*
 * Closing /dev/pinmdl with an exported descriptor leaves its pages to the
 * dma-buf, pinned, charged and still the buffer's, and is no leak; the
 * dma-buf's end gives them up.
 */
TEST_F(dmabuf, close_of_pinmdl_leaves_pages_to_the_dmabuf)
{
	long leaks = pm_stat("leaks_released");
	long pinned = pm_stat("pages_pinned");
	int dmafd, fd, target;
	uint64_t crc;
	uint32_t h;

	h = pm_create_locked(self->fd, self->buf, self->len,
			     PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	ASSERT_EQ(0, pm_export(self->fd, h, WRITE, &dmafd));
	close(self->fd);
	self->fd = -1;
	EXPECT_EQ(self->pins + BUF_PAGES, pm_pins());
	EXPECT_EQ(self->vmpin + (long)(self->len >> 10), pm_vmpin_kb());
	EXPECT_EQ(pinned + BUF_PAGES, pm_stat("pages_pinned"));
	EXPECT_EQ(leaks, pm_stat("leaks_released"));

	/* Another file's importer reaches the buffer through it. */
	fd = pm_open();
	ASSERT_LE(0, fd);
	target = pm_target_open(fd, LOWER, -1, NULL);
	ASSERT_LT(0, target);
	ASSERT_EQ(0, dma_checksum(fd, target, dmafd, &crc));
	EXPECT_EQ(pm_crc32c(self->buf, self->len), crc);
	ASSERT_EQ(0, dma_fill(fd, target, dmafd, 0x6b, NULL));
	EXPECT_TRUE(all_bytes(self->buf, self->len, 0x6b));
	close(dmafd);
	EXPECT_EQ(self->pins, pm_pins());
	EXPECT_EQ(self->vmpin, pm_vmpin_kb());
	EXPECT_EQ(pinned, pm_stat("pages_pinned"));
	EXPECT_EQ(leaks, pm_stat("leaks_released"));
	close(fd);
}

#define EXIT_PAGES	8

/*
 * Fill a buffer, lock it, export it, send the dma-buf over @p's socket,
 * and let go of everything before exiting: 0, or the step that failed.
 */
static int export_and_exit(void *p)
{
	const size_t len = EXIT_PAGES * PM_PAGE;
	char *buf = pm_map(len, RW);
	int sock = *(int *)p, fd = pm_open(), dmafd;
	uint32_t h;

	if (fd < 0 || !buf)
		return 1;
	fill(buf, len, 7);
	h = pm_create_locked(fd, buf, len, PINMDL_IO_WRITE_ACCESS);
	if (!h)
		return 2;
	if (pm_export(fd, h, WRITE, &dmafd))
		return 3;
	if (send_fd(sock, dmafd))
		return 4;
	close(dmafd);
	close(fd);
	munmap(buf, len);
	return 0;
}

/*
 * A process that exported a buffer and exited, its fd of the dma-buf sent
 * by SCM_RIGHTS: the receiver's importer and mapping find the buffer's
 * contents, the pages stay pinned until the receiver lets go, and no leak
 * is counted.
 */
TEST_F(dmabuf, exporter_exit_leaves_pages_to_the_receiver)
{
	const size_t len = EXIT_PAGES * PM_PAGE;
	long leaks = pm_stat("leaks_released");
	char *want = malloc(len), *map;
	int sv[2], dmafd;
	uint64_t crc;

	ASSERT_NE(NULL, want);
	fill(want, len, 7);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_EQ(0, pm_in_child(export_and_exit, &sv[1]));
	close(sv[1]);
	dmafd = recv_fd(sv[0]);
	close(sv[0]);
	ASSERT_LE(0, dmafd);
	EXPECT_EQ(self->pins + EXIT_PAGES, pm_pins());
	EXPECT_EQ(len, dmabuf_size(dmafd));
	ASSERT_EQ(0, dma_checksum(self->fd, self->target, dmafd, &crc));
	EXPECT_EQ(pm_crc32c(want, len), crc);
	map = map_dmabuf(dmafd, len, RW);
	ASSERT_NE(NULL, map);
	EXPECT_EQ(0, memcmp(map, want, len));
	ASSERT_EQ(0, dma_fill(self->fd, self->target, dmafd, 0x42, NULL));
	EXPECT_TRUE(all_bytes(map, len, 0x42));
	close(dmafd);
	/* The mapping alone holds the dma-buf now. */
	EXPECT_EQ(self->pins + EXIT_PAGES, pm_pins());
	EXPECT_EQ(0, munmap(map, len));
	EXPECT_EQ(self->pins, pm_pins());
	EXPECT_EQ(leaks, pm_stat("leaks_released"));
	free(want);
}

/*
 * Allocated pages: exported for writing, zeros to an importer, filled by
 * it, seen by a mapping of the dma-buf; FREE is EBUSY until it goes.
 */
TEST_F(dmabuf, allocated_pages_export)
{
	const size_t len = 16 * PM_PAGE;
	struct pinmdl_alloc_pages a = {
		.length = len, .node = -1,
		.flags = PINMDL_ALLOC_FULLY_REQUIRED,
	};
	uint64_t crc, size;
	int dmafd;
	char *map;

	ASSERT_EQ(0, pm_ioctl(self->fd, PINMDL_IOC_ALLOC_PAGES, &a));
	ASSERT_EQ(len, a.allocated);
	ASSERT_EQ(0, pm_export(self->fd, a.handle, WRITE, &dmafd));
	EXPECT_EQ(PINMDL_F_PAGES_LOCKED | PINMDL_F_WRITE_OPERATION |
		  PINMDL_F_ALLOCATED | EXPORTED,
		  query_flags(self->fd, a.handle));
	EXPECT_EQ(len, dmabuf_size(dmafd));
	ASSERT_EQ(0, dma_checksum(self->fd, self->target, dmafd, &crc));
	EXPECT_EQ(pm_crc32c_zeros(~0U, len), crc);
	ASSERT_EQ(0, dma_fill(self->fd, self->target, dmafd, 0x3c, &size));
	EXPECT_EQ(len, size);
	map = map_dmabuf(dmafd, len, RW);
	ASSERT_NE(NULL, map);
	EXPECT_TRUE(all_bytes(map, len, 0x3c));
	EXPECT_EQ(-EBUSY, pm_free(self->fd, a.handle));
	close(dmafd);
	EXPECT_EQ(-EBUSY, pm_free(self->fd, a.handle));
	EXPECT_EQ(0, munmap(map, len));
	EXPECT_FALSE(exported(self->fd, a.handle));
	EXPECT_EQ(0, pm_free(self->fd, a.handle));
}

/*
 * Allocated pages mapped write-combined are not exported (EBUSY):
 * importers know no memory type but the kernel's; nor does a dma-buf of
 * them let their mode change. Both on x86, where modes exist.
 */
TEST_F(dmabuf, allocated_pages_in_another_mode_ebusy)
{
	struct pinmdl_alloc_pages a = { .length = 4 * PM_PAGE, .node = -1 };
	struct pinmdl_map m = { .flags = PINMDL_MAP_WRITE_COMBINED };
	int dmafd;

#ifndef __x86_64__
	SKIP(return, "cache modes are x86's");
#endif
	ASSERT_EQ(0, pm_ioctl(self->fd, PINMDL_IOC_ALLOC_PAGES, &a));
	ASSERT_EQ(0, pm_export(self->fd, a.handle, WRITE, &dmafd));
	m.handle = a.handle;
	EXPECT_EQ(-EBUSY, pm_ioctl(self->fd, PINMDL_IOC_MAP_OFFSET, &m));
	close(dmafd);
	EXPECT_EQ(0, pm_ioctl(self->fd, PINMDL_IOC_MAP_OFFSET, &m));
	EXPECT_EQ(-EBUSY, pm_export(self->fd, a.handle, WRITE, NULL));
	EXPECT_EQ(-EBUSY, pm_export(self->fd, a.handle, 0, NULL));
	EXPECT_FALSE(exported(self->fd, a.handle));
	EXPECT_EQ(0, pm_free(self->fd, a.handle));
}

/*
 * A page list of three ranges apart: the dma-buf is their pages one range
 * after another, and a FILL writes the ranges and nothing between them.
 */
TEST_F(dmabuf, page_list_export_runs_over_the_ranges)
{
	const struct { size_t first, pages; } at[3] = {
		{ 1, 2 }, { 5, 1 }, { 9, 3 },
	};
	const size_t len = 6 * PM_PAGE;
	struct pinmdl_range r[3];
	struct pinmdl_create_pages c = { .ranges = (uintptr_t)r,
					 .nr_ranges = 3 };
	char *copy = malloc(self->len), *flat = malloc(len), *p, *map;
	uint64_t crc;
	size_t i, k;
	int dmafd;

	ASSERT_NE(NULL, copy);
	ASSERT_NE(NULL, flat);
	memcpy(copy, self->buf, self->len);
	for (i = 0, p = flat; i < 3; i++) {
		r[i].addr = (uintptr_t)self->buf + at[i].first * PM_PAGE;
		r[i].length = at[i].pages * PM_PAGE;
		memcpy(p, (char *)(uintptr_t)r[i].addr, r[i].length);
		p += r[i].length;
	}
	ASSERT_EQ(0, pm_ioctl(self->fd, PINMDL_IOC_CREATE_PAGES, &c));
	ASSERT_EQ(0, pm_lock(self->fd, c.handle, PINMDL_IO_WRITE_ACCESS));
	ASSERT_EQ(0, pm_export(self->fd, c.handle, WRITE, &dmafd));
	EXPECT_EQ(len, dmabuf_size(dmafd));
	ASSERT_EQ(0, dma_checksum(self->fd, self->target, dmafd, &crc));
	EXPECT_EQ(pm_crc32c(flat, len), crc);
	map = map_dmabuf(dmafd, len, PROT_READ);
	ASSERT_NE(NULL, map);
	EXPECT_EQ(0, memcmp(map, flat, len));
	ASSERT_EQ(0, dma_fill(self->fd, self->target, dmafd, 0x99, NULL));
	EXPECT_TRUE(all_bytes(map, len, (char)0x99));
	for (i = 0, k = 0; k < BUF_PAGES; k++) {
		bool in = i < 3 && k >= at[i].first &&
			  k < at[i].first + at[i].pages;

		if (in) {
			EXPECT_TRUE(all_bytes(self->buf + k * PM_PAGE,
					      PM_PAGE, (char)0x99))
				TH_LOG("page %zu", k);
		} else {
			EXPECT_EQ(0, memcmp(self->buf + k * PM_PAGE,
					    copy + k * PM_PAGE, PM_PAGE))
				TH_LOG("page %zu", k);
		}
		if (i < 3 && k + 1 == at[i].first + at[i].pages)
			i++;
	}
	munmap(map, len);
	close(dmafd);
	EXPECT_EQ(0, pm_unlock(self->fd, c.handle));
	EXPECT_EQ(0, pm_free(self->fd, c.handle));
	free(flat);
	free(copy);
}

#define UDMABUF_LEN	(1UL << 20)

/*
 * The same memfd pages exported by udmabuf (UDMABUF_CREATE_LIST) and by
 * pinmdl (a page list of its mapping), in the same order: each pair of
 * pages swapped, so that neither table holds a run longer than a page
 * (7.3's udmabuf maps its own table for CPU access on a device of 64 KiB
 * segments, past which DMA-API debugging warns). Both importers agree,
 * with each other and with the buffer, and a fill through one is read
 * through the other.
 */
TEST_F(dmabuf, udmabuf_and_pinmdl_export_the_same_pages)
{
	const size_t pages = UDMABUF_LEN / PM_PAGE;
	struct udmabuf_create_list *ul;
	struct pinmdl_create_pages cp = { .nr_ranges = pages };
	struct pinmdl_range *r;
	struct pinmdl_lock l = { .access_mode = PINMDL_USER_MODE,
				 .operation = PINMDL_IO_WRITE_ACCESS };
	int dev, mfd, ufd, pfd;
	uint64_t ucrc, pcrc;
	char *map, *flat;
	size_t i, page;

	dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		SKIP(return, "no /dev/udmabuf: %s", strerror(errno));
	mfd = memfd_create("pinmdl-udmabuf", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ftruncate(mfd, UDMABUF_LEN));
	ASSERT_EQ(0, fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK));
	map = mmap(NULL, UDMABUF_LEN, RW, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, map);
	fill(map, UDMABUF_LEN, 3);

	ul = calloc(1, sizeof(*ul) + pages * sizeof(ul->list[0]));
	r = calloc(pages, sizeof(*r));
	flat = malloc(UDMABUF_LEN);
	ASSERT_NE(NULL, ul);
	ASSERT_NE(NULL, r);
	ASSERT_NE(NULL, flat);
	ul->flags = UDMABUF_FLAGS_CLOEXEC;
	ul->count = pages;
	for (i = 0; i < pages; i++) {
		page = i ^ 1;
		ul->list[i].memfd = mfd;
		ul->list[i].offset = page * PM_PAGE;
		ul->list[i].size = PM_PAGE;
		r[i].addr = (uintptr_t)map + page * PM_PAGE;
		r[i].length = PM_PAGE;
		memcpy(flat + i * PM_PAGE, map + page * PM_PAGE, PM_PAGE);
	}
	ufd = ioctl(dev, UDMABUF_CREATE_LIST, ul);
	ASSERT_LE(0, ufd) TH_LOG("UDMABUF_CREATE_LIST: %s", strerror(errno));
	cp.ranges = (uintptr_t)r;
	ASSERT_EQ(0, pm_ioctl(self->fd, PINMDL_IOC_CREATE_PAGES, &cp));
	l.handle = cp.handle;
	ASSERT_EQ(0, pm_ioctl(self->fd, PINMDL_IOC_LOCK, &l));
	ASSERT_EQ(0, pm_export(self->fd, cp.handle, WRITE, &pfd));
	EXPECT_EQ(UDMABUF_LEN, dmabuf_size(pfd));
	ASSERT_EQ(0, dma_checksum(self->fd, self->target, ufd, &ucrc));
	ASSERT_EQ(0, dma_checksum(self->fd, self->target, pfd, &pcrc));
	EXPECT_EQ(ucrc, pcrc);
	EXPECT_EQ(pm_crc32c(flat, UDMABUF_LEN), pcrc);

	ASSERT_EQ(0, dma_fill(self->fd, self->target, pfd, 0x77, NULL));
	ASSERT_EQ(0, dma_checksum(self->fd, self->target, ufd, &ucrc));
	EXPECT_TRUE(all_bytes(map, UDMABUF_LEN, 0x77));
	EXPECT_EQ(pm_crc32c(map, UDMABUF_LEN), ucrc);
	close(ufd);
	close(pfd);
	EXPECT_EQ(0, pm_unlock(self->fd, cp.handle));
	EXPECT_EQ(0, pm_free(self->fd, cp.handle));
	free(ul);
	free(r);
	free(flat);
	munmap(map, UDMABUF_LEN);
	close(mfd);
	close(dev);
}

/*
 * udmabuf takes only a memfd's pages: an fd of anything else, such as
 * /dev/zero, the nearest anonymous memory has to an fd, is refused; pinmdl
 * exports a private anonymous buffer as it is.
 */
TEST_F(dmabuf, udmabuf_refuses_what_pinmdl_exports)
{
	struct udmabuf_create uc = { .flags = UDMABUF_FLAGS_CLOEXEC,
				     .size = BUF_PAGES * PM_PAGE };
	int dev, zero, ufd, dmafd;
	uint64_t crc;
	uint32_t h;

	dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		SKIP(return, "no /dev/udmabuf: %s", strerror(errno));
	zero = open("/dev/zero", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, zero);
	uc.memfd = zero;
	ufd = ioctl(dev, UDMABUF_CREATE, &uc);
	EXPECT_EQ(-1, ufd) TH_LOG("udmabuf took /dev/zero");
	if (ufd >= 0)
		close(ufd);
	close(zero);
	close(dev);

	h = pm_create_locked(self->fd, self->buf, self->len,
			     PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	ASSERT_EQ(0, pm_export(self->fd, h, WRITE, &dmafd));
	ASSERT_EQ(0, dma_checksum(self->fd, self->target, dmafd, &crc));
	EXPECT_EQ(pm_crc32c(self->buf, self->len), crc);
	close(dmafd);
	EXPECT_EQ(0, pm_unlock(self->fd, h));
}

/* A DRM card node of vgem, or -1. */
static int vgem_open(void)
{
	int fd = -1;
	glob_t g;
	size_t i;

	if (glob("/dev/dri/card*", 0, NULL, &g))
		return -1;
	for (i = 0; i < g.gl_pathc && fd < 0; i++) {
		char name[16] = {};
		struct drm_version v = { .name_len = sizeof(name) - 1,
					 .name = name };

		fd = open(g.gl_pathv[i], O_RDWR | O_CLOEXEC);
		if (fd >= 0 && (ioctl(fd, DRM_IOCTL_VERSION, &v) ||
				strcmp(name, "vgem"))) {
			close(fd);
			fd = -1;
		}
	}
	globfree(&g);
	return fd;
}

/* PRIME import of @dmafd on @card: 0 and its GEM handle, or -errno. */
static int prime_import(int card, int dmafd, uint32_t *handle)
{
	struct drm_prime_handle p = { .fd = dmafd };
	int ret = pm_ioctl(card, DRM_IOCTL_PRIME_FD_TO_HANDLE, &p);

	if (!ret)
		*handle = p.handle;
	return ret;
}

/* PRIME export of the GEM @handle: 0 and the dma-buf's fd, or -errno. */
static int prime_export(int card, uint32_t handle, int *dmafd)
{
	struct drm_prime_handle p = { .handle = handle, .flags = O_CLOEXEC };
	int ret = pm_ioctl(card, DRM_IOCTL_PRIME_HANDLE_TO_FD, &p);

	if (!ret)
		*dmafd = p.fd;
	return ret;
}

static int gem_close(int card, uint32_t handle)
{
	struct drm_gem_close c = { .handle = handle };

	return pm_ioctl(card, DRM_IOCTL_GEM_CLOSE, &c);
}

/*
 * vgem imports a WRITE export as a GEM object, which holds the dma-buf
 * after its fd is closed (EXPORTED, UNLOCK EBUSY) and gives the very same
 * dma-buf back, its mapping showing the buffer; its end lets go of it.
 */
TEST_F(dmabuf, vgem_imports_write_export)
{
	uint32_t h, gem;
	int card, dmafd, again;
	char *map;

	card = vgem_open();
	if (card < 0)
		SKIP(return, "no vgem card in /dev/dri");
	h = pm_create_locked(self->fd, self->buf, self->len,
			     PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	ASSERT_EQ(0, pm_export(self->fd, h, WRITE, &dmafd));
	ASSERT_EQ(0, prime_import(card, dmafd, &gem));
	ASSERT_EQ(0, prime_export(card, gem, &again));
	EXPECT_TRUE(same_file(dmafd, again));
	close(dmafd);
	EXPECT_TRUE(exported(self->fd, h));
	EXPECT_EQ(-EBUSY, pm_unlock(self->fd, h));
	map = map_dmabuf(again, self->len, PROT_READ);
	ASSERT_NE(NULL, map);
	EXPECT_EQ(0, memcmp(map, self->buf, self->len));
	munmap(map, self->len);
	close(again);
	/* The GEM object alone holds it now. */
	EXPECT_TRUE(exported(self->fd, h));
	EXPECT_EQ(0, gem_close(card, gem));
	close(card);
	EXPECT_FALSE(exported(self->fd, h));
	EXPECT_EQ(0, pm_unlock(self->fd, h));
}

/*
 * A read-only export imported by vgem: an importer that maps it at import
 * (DMA_BIDIRECTIONAL) is refused with EACCES; one that maps only on use
 * gets the object. Either way nothing is written and nothing stays held.
 */
TEST_F(dmabuf, vgem_import_of_read_only_export)
{
	uint64_t want = pm_crc32c(self->buf, self->len);
	int card, dmafd, ret;
	uint32_t h, gem;

	card = vgem_open();
	if (card < 0)
		SKIP(return, "no vgem card in /dev/dri");
	h = pm_create_locked(self->fd, self->buf, self->len,
			     PINMDL_IO_WRITE_ACCESS);
	ASSERT_NE(0, h);
	ASSERT_EQ(0, pm_export(self->fd, h, 0, &dmafd));
	ret = prime_import(card, dmafd, &gem);
	EXPECT_TRUE(!ret || ret == -EACCES)
		TH_LOG("PRIME import: %s", strerror(-ret));
	if (!ret)
		EXPECT_EQ(0, gem_close(card, gem));
	close(dmafd);
	close(card);
	EXPECT_FALSE(exported(self->fd, h));
	EXPECT_EQ(want, pm_crc32c(self->buf, self->len));
	EXPECT_EQ(0, pm_unlock(self->fd, h));
}

/* vivid's single-planar video capture node, or -1. */
static int vivid_open(void)
{
	int fd = -1;
	glob_t g;
	size_t i;

	if (glob("/dev/video*", 0, NULL, &g))
		return -1;
	for (i = 0; i < g.gl_pathc && fd < 0; i++) {
		struct v4l2_capability cap = {};
		uint32_t caps;

		fd = open(g.gl_pathv[i], O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			continue;
		caps = 0;
		if (!ioctl(fd, VIDIOC_QUERYCAP, &cap) &&
		    !strcmp((char *)cap.driver, "vivid"))
			caps = cap.capabilities & V4L2_CAP_DEVICE_CAPS ?
			       cap.device_caps : cap.capabilities;
		if (!(caps & V4L2_CAP_VIDEO_CAPTURE) ||
		    !(caps & V4L2_CAP_STREAMING) || (caps & V4L2_CAP_TOUCH)) {
			close(fd);
			fd = -1;
		}
	}
	globfree(&g);
	return fd;
}

#define VIVID_BUFS	2

/*
 * vivid captures a frame into user buffers that pinmdl exported: each
 * QBUF with its dma-buf, and the one dequeued no longer holds what the
 * buffer was filled with. Two buffers are queued, as a queue may need
 * them before it starts; they go at REQBUFS 0, and UNLOCK works again.
 */
TEST_F(dmabuf, vivid_captures_into_exported_buffers)
{
	enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	struct v4l2_format fmt = { .type = type };
	struct v4l2_requestbuffers rb = { .count = VIVID_BUFS, .type = type,
					  .memory = V4L2_MEMORY_DMABUF };
	int vfd, dmafd[VIVID_BUFS], i, ret;
	uint32_t h[VIVID_BUFS];
	char *bufs[VIVID_BUFS];
	struct v4l2_buffer b;
	struct pollfd p;
	size_t size;

	vfd = vivid_open();
	if (vfd < 0)
		SKIP(return, "no vivid single-planar video capture node");
	ASSERT_EQ(0, pm_ioctl(vfd, VIDIOC_G_FMT, &fmt));
	ASSERT_LT(0, fmt.fmt.pix.sizeimage);
	size = (fmt.fmt.pix.sizeimage + PM_PAGE - 1) & ~(PM_PAGE - 1);
	ASSERT_EQ(0, pm_ioctl(vfd, VIDIOC_REQBUFS, &rb));
	ASSERT_LE(VIVID_BUFS, rb.count);
	for (i = 0; i < VIVID_BUFS; i++) {
		bufs[i] = pm_map(size, RW);
		ASSERT_NE(NULL, bufs[i]);
		memset(bufs[i], 0x5a, size);
		h[i] = pm_create_locked(self->fd, bufs[i], size,
					PINMDL_IO_WRITE_ACCESS);
		ASSERT_NE(0, h[i]);
		ASSERT_EQ(0, pm_export(self->fd, h[i], WRITE, &dmafd[i]));
		b = (struct v4l2_buffer){ .index = i, .type = type,
					  .memory = V4L2_MEMORY_DMABUF,
					  .length = size };
		b.m.fd = dmafd[i];
		ASSERT_EQ(0, pm_ioctl(vfd, VIDIOC_QBUF, &b));
	}
	ASSERT_EQ(0, pm_ioctl(vfd, VIDIOC_STREAMON, &type));
	p = (struct pollfd){ .fd = vfd, .events = POLLIN };
	EXPECT_EQ(1, poll(&p, 1, 5000)) TH_LOG("no frame in 5 s");
	b = (struct v4l2_buffer){ .type = type,
				  .memory = V4L2_MEMORY_DMABUF };
	ret = pm_ioctl(vfd, VIDIOC_DQBUF, &b);
	EXPECT_EQ(0, ret) TH_LOG("DQBUF: %s", strerror(-ret));
	if (!ret && b.index < VIVID_BUFS) {
		EXPECT_LT(0, b.bytesused);
		EXPECT_FALSE(all_bytes(bufs[b.index], fmt.fmt.pix.sizeimage,
				       0x5a)) TH_LOG("buffer %u", b.index);
	}
	EXPECT_EQ(0, pm_ioctl(vfd, VIDIOC_STREAMOFF, &type));
	rb.count = 0;
	EXPECT_EQ(0, pm_ioctl(vfd, VIDIOC_REQBUFS, &rb));
	close(vfd);
	for (i = 0; i < VIVID_BUFS; i++) {
		close(dmafd[i]);
		EXPECT_FALSE(exported(self->fd, h[i]));
		EXPECT_EQ(0, pm_unlock(self->fd, h[i]));
		munmap(bufs[i], size);
	}
}

/* 2 MiB of each kind of memory, locked for modify and exported WRITE. */
FIXTURE(kind)
{
	int fd;
	int target;
	long pins;
	long vmpin;
	struct pm_mem m;
};

FIXTURE_VARIANT(kind)
{
	enum pm_mem_kind kind;
};

FIXTURE_VARIANT_ADD(kind, anon)
{
	.kind = PM_ANON,
};

FIXTURE_VARIANT_ADD(kind, thp)
{
	.kind = PM_THP,
};

FIXTURE_VARIANT_ADD(kind, hugetlb)
{
	.kind = PM_HUGETLB,
};

FIXTURE_VARIANT_ADD(kind, memfd_shared)
{
	.kind = PM_MEMFD,
};

FIXTURE_VARIANT_ADD(kind, file_private)
{
	.kind = PM_FILE,
};

FIXTURE_SETUP(kind)
{
	int ret;

	self->m.raw = NULL;
	self->m.backing = -1;
	self->pins = pm_pins();
	self->vmpin = pm_vmpin_kb();
	ASSERT_LE(0, self->vmpin);
	self->fd = pm_open();
	ASSERT_LE(0, self->fd) TH_LOG("open /dev/pinmdl: %s", strerror(errno));
	self->target = pm_target_open(self->fd, LOWER, -1, NULL);
	ASSERT_LT(0, self->target);
	ret = pm_mem_map(&self->m, variant->kind, PM_HPAGE, RW,
			 variant->kind == PM_MEMFD);
	if (ret > 0)
		SKIP(return, "no such memory: %s", strerror(errno));
	ASSERT_EQ(0, ret);
	fill(self->m.buf, self->m.len, 5);
}

FIXTURE_TEARDOWN(kind)
{
	close(self->fd);
	pm_mem_unmap(&self->m);
	EXPECT_EQ(self->pins, pm_pins()) TH_LOG("pages left pinned");
	EXPECT_EQ(self->vmpin, pm_vmpin_kb()) TH_LOG("VmPin left charged");
}

/*
 * The importer's crc is the buffer's, its FILL lands in the buffer, and a
 * mapping of the dma-buf shows it.
 */
TEST_F(kind, checksum_fill_and_map)
{
	const size_t len = self->m.len;
	char *buf = self->m.buf, *map;
	uint64_t crc, size;
	uint32_t h;
	int dmafd;

	h = pm_create_locked(self->fd, buf, len, PINMDL_IO_MODIFY_ACCESS);
	ASSERT_NE(0, h);
	ASSERT_EQ(0, pm_export(self->fd, h, WRITE, &dmafd));
	EXPECT_EQ(len, dmabuf_size(dmafd));
	ASSERT_EQ(0, dma_checksum(self->fd, self->target, dmafd, &crc));
	EXPECT_EQ(pm_crc32c(buf, len), crc);
	ASSERT_EQ(0, dma_fill(self->fd, self->target, dmafd, 0xc3, &size));
	EXPECT_EQ(len, size);
	EXPECT_TRUE(all_bytes(buf, len, (char)0xc3));
	map = map_dmabuf(dmafd, len, PROT_READ);
	ASSERT_NE(NULL, map);
	EXPECT_TRUE(all_bytes(map, len, (char)0xc3));
	munmap(map, len);
	close(dmafd);
	EXPECT_EQ(0, pm_unlock(self->fd, h));
}

TEST_HARNESS_MAIN
