#include "storage/tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"

/* Directories deeper than this are refused rather than run out of fds. */
#define TREE_MAX_DEPTH 256

struct inode_key {
	dev_t dev;
	ino_t ino;
	char *path; /* tree_copy: where the first copy went, relative to the destination root */
};

struct inode_set {
	struct inode_key *v;
	size_t n, cap;
};

static void inode_set_clear(struct inode_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].path);
	free(s->v);
}

static struct inode_key *inode_find(struct inode_set *s, dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].dev == dev && s->v[i].ino == ino)
			return &s->v[i];
	return NULL;
}

static int inode_add(struct inode_set *s, dev_t dev, ino_t ino, const char *path)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct inode_key *v = realloc(s->v, cap * sizeof(*v));
		if (v == NULL)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	char *p = NULL;
	if (path && (p = strdup(path)) == NULL)
		return -ENOMEM;
	s->v[s->n++] = (struct inode_key){dev, ino, p};
	return 0;
}

/* A readdir over a dup of dirfd, so the caller keeps its fd. */
static DIR *open_dir(int dirfd)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	DIR *d = fdopendir(fd);
	if (d == NULL)
		close(fd);
	return d;
}

static bool dot(const char *name)
{
	return strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

/* ---- copy ---- */

struct copy {
	struct inode_set links;
	int dst_root;
	char path[4096]; /* of the current directory, relative to dst_root ("" at the top) */
};

static int copy_xattrs(int src, int dst, const char *name, struct vsl_error **err)
{
	ssize_t n = flistxattr(src, NULL, 0);
	if (n < 0)
		return errno == ENOTSUP ? 0 : vsl_error_errno(err, errno, "list xattrs of '%s'", name);
	if (n == 0)
		return 0;
	_cleanup_free_ char *names = malloc((size_t)n);
	if (names == NULL)
		return vsl_error_errno(err, ENOMEM, "copy xattrs of '%s'", name);
	n = flistxattr(src, names, (size_t)n);
	if (n < 0)
		return vsl_error_errno(err, errno, "list xattrs of '%s'", name);
	for (char *k = names; k < names + n; k += strlen(k) + 1) {
		ssize_t len = fgetxattr(src, k, NULL, 0);
		if (len < 0)
			continue;
		_cleanup_free_ char *value = malloc(len ? (size_t)len : 1);
		if (value == NULL)
			return vsl_error_errno(err, ENOMEM, "copy xattrs of '%s'", name);
		if ((len = fgetxattr(src, k, value, (size_t)len)) < 0)
			continue;
		/* Namespaces the destination does not support (security.selinux on
		 * a host without it, trusted.* on some filesystems) stay behind. */
		if (fsetxattr(dst, k, value, (size_t)len, 0) < 0 && errno != ENOTSUP && errno != EPERM &&
		    errno != EOPNOTSUPP)
			return vsl_error_errno(err, errno, "set xattr '%s' of '%s'", k, name);
	}
	return 0;
}

/* Owner, then mode (chown clears set-id bits), xattrs, times. */
static int copy_attrs(int src, int dst, const struct stat *st, const char *name, struct vsl_error **err)
{
	if (fchown(dst, st->st_uid, st->st_gid) < 0)
		return vsl_error_errno(err, errno, "chown '%s'", name);
	if (fchmod(dst, st->st_mode & 07777) < 0)
		return vsl_error_errno(err, errno, "chmod '%s'", name);
	int r = copy_xattrs(src, dst, name, err);
	if (r < 0)
		return r;
	const struct timespec times[2] = {st->st_atim, st->st_mtim};
	if (futimens(dst, times) < 0)
		return vsl_error_errno(err, errno, "set times of '%s'", name);
	return 0;
}

static int copy_data(int src, int dst, const char *name, struct vsl_error **err)
{
	for (;;) {
		ssize_t n = copy_file_range(src, NULL, dst, NULL, 1 << 30, 0);
		if (n == 0)
			return 0;
		if (n > 0)
			continue;
		if (errno == EINTR)
			continue;
		if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
			return vsl_error_errno(err, errno, "copy '%s'", name);
		break;
	}
	char buf[65536];
	for (;;) {
		ssize_t n = read(src, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return vsl_error_errno(err, errno, "read '%s'", name);
		if (n == 0)
			return 0;
		if (write_all(dst, buf, (size_t)n) < 0)
			return vsl_error_errno(err, errno, "write '%s'", name);
	}
}

static int copy_dir(struct copy *c, int src, int dst, unsigned depth, struct vsl_error **err);

static int copy_entry(struct copy *c, int src_dir, int dst_dir, const char *name, unsigned depth,
                      struct vsl_error **err)
{
	struct stat st;
	if (fstatat(src_dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : vsl_error_errno(err, errno, "stat '%s'", name);

	size_t base = strlen(c->path);
	int k = snprintf(c->path + base, sizeof(c->path) - base, "%s%s", base ? "/" : "", name);
	if (k < 0 || (size_t)k >= sizeof(c->path) - base)
		return vsl_error_set_code(err, ENAMETOOLONG, "copy '%s': path too long", name);
	int r = 0;

	if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
		struct inode_key *first = inode_find(&c->links, st.st_dev, st.st_ino);
		if (first) {
			if (linkat(c->dst_root, first->path, dst_dir, name, 0) < 0)
				r = vsl_error_errno(err, errno, "link '%s'", c->path);
			goto out;
		}
		if (inode_add(&c->links, st.st_dev, st.st_ino, c->path) < 0) {
			r = vsl_error_errno(err, ENOMEM, "copy '%s'", c->path);
			goto out;
		}
	}

	if (S_ISDIR(st.st_mode)) {
		if (depth >= TREE_MAX_DEPTH) {
			r = vsl_error_set_code(err, ELOOP, "copy '%s': tree too deep", c->path);
			goto out;
		}
		_cleanup_close_ int s =
		    openat(src_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (s < 0) {
			r = vsl_error_errno(err, errno, "open '%s'", c->path);
			goto out;
		}
		if (mkdirat(dst_dir, name, 0700) < 0) {
			r = vsl_error_errno(err, errno, "create '%s'", c->path);
			goto out;
		}
		_cleanup_close_ int d =
		    openat(dst_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (d < 0) {
			r = vsl_error_errno(err, errno, "open '%s'", c->path);
			goto out;
		}
		r = copy_dir(c, s, d, depth + 1, err);
		if (r >= 0)
			r = copy_attrs(s, d, &st, c->path, err);
	} else if (S_ISREG(st.st_mode)) {
		_cleanup_close_ int s = openat(src_dir, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
		if (s < 0) {
			r = vsl_error_errno(err, errno, "open '%s'", c->path);
			goto out;
		}
		_cleanup_close_ int d =
		    openat(dst_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (d < 0) {
			r = vsl_error_errno(err, errno, "create '%s'", c->path);
			goto out;
		}
		r = copy_data(s, d, c->path, err);
		if (r >= 0)
			r = copy_attrs(s, d, &st, c->path, err);
	} else if (S_ISLNK(st.st_mode)) {
		char target[4096];
		ssize_t n = readlinkat(src_dir, name, target, sizeof(target) - 1);
		if (n < 0) {
			r = vsl_error_errno(err, errno, "read link '%s'", c->path);
			goto out;
		}
		target[n] = '\0';
		const struct timespec times[2] = {st.st_atim, st.st_mtim};
		if (symlinkat(target, dst_dir, name) < 0 ||
		    fchownat(dst_dir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
		    utimensat(dst_dir, name, times, AT_SYMLINK_NOFOLLOW) < 0)
			r = vsl_error_errno(err, errno, "copy link '%s'", c->path);
	} else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode)) {
		const struct timespec times[2] = {st.st_atim, st.st_mtim};
		if (mknodat(dst_dir, name, st.st_mode, st.st_rdev) < 0 ||
		    fchownat(dst_dir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
		    fchmodat(dst_dir, name, st.st_mode & 07777, 0) < 0 ||
		    utimensat(dst_dir, name, times, AT_SYMLINK_NOFOLLOW) < 0)
			r = vsl_error_errno(err, errno, "copy node '%s'", c->path);
	}
	/* Sockets belong to a process that is not there: Docker skips them too. */
out:
	c->path[base] = '\0';
	return r;
}

static int copy_dir(struct copy *c, int src, int dst, unsigned depth, struct vsl_error **err)
{
	_cleanup_closedir_ DIR *d = open_dir(src);
	if (d == NULL)
		return vsl_error_errno(err, errno, "read directory '%s'", c->path[0] ? c->path : ".");
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (dot(de->d_name))
			continue;
		int r = copy_entry(c, src, dst, de->d_name, depth, err);
		if (r < 0)
			return r;
		errno = 0;
	}
	if (errno != 0)
		return vsl_error_errno(err, errno, "read directory '%s'", c->path[0] ? c->path : ".");
	return 0;
}

int tree_copy(int src_dirfd, int dst_dirfd, struct vsl_error **err)
{
	struct stat st;
	if (fstat(src_dirfd, &st) < 0)
		return vsl_error_errno(err, errno, "stat the source of a copy");
	struct copy c = {.dst_root = dst_dirfd};
	int r = copy_dir(&c, src_dirfd, dst_dirfd, 0, err);
	inode_set_clear(&c.links);
	if (r < 0)
		return r;
	return copy_attrs(src_dirfd, dst_dirfd, &st, ".", err);
}

/* ---- size ---- */

static int size_dir(int fd, struct inode_set *seen, uint64_t *total, unsigned depth, struct vsl_error **err)
{
	if (depth >= TREE_MAX_DEPTH)
		return vsl_error_set_code(err, ELOOP, "measure a tree: too deep");
	_cleanup_closedir_ DIR *d = open_dir(fd);
	if (d == NULL)
		return vsl_error_errno(err, errno, "read a directory");
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (dot(de->d_name))
			continue;
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* gone meanwhile */
		if (S_ISDIR(st.st_mode)) {
			_cleanup_close_ int sub =
			    openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				continue;
			int r = size_dir(sub, seen, total, depth + 1, err);
			if (r < 0)
				return r;
			continue;
		}
		if (st.st_nlink > 1) {
			if (inode_find(seen, st.st_dev, st.st_ino))
				continue;
			if (inode_add(seen, st.st_dev, st.st_ino, NULL) < 0)
				return vsl_error_errno(err, ENOMEM, "measure a tree");
		}
		*total += (uint64_t)st.st_size;
	}
	return 0;
}

int tree_size(int dirfd, uint64_t *ret, struct vsl_error **err)
{
	struct inode_set seen = {0};
	uint64_t total = 0;
	int r = size_dir(dirfd, &seen, &total, 0, err);
	inode_set_clear(&seen);
	if (r < 0)
		return r;
	*ret = total;
	return 0;
}

/* ---- remove ---- */

/* The mount a directory belongs to: STATX_MNT_ID tells bind mounts of one
 * filesystem apart, where st_dev does not. */
static int mount_of(int dirfd, const char *name, uint64_t *ret)
{
	struct statx stx;
	if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_TYPE | STATX_MNT_ID, &stx) < 0)
		return -errno;
	if (stx.stx_mask & STATX_MNT_ID)
		*ret = stx.stx_mnt_id;
	else
		*ret = ((uint64_t)stx.stx_dev_major << 32) | stx.stx_dev_minor;
	return 0;
}

static int remove_dir(int parent, const char *name, uint64_t mnt, unsigned depth, struct vsl_error **err)
{
	uint64_t here;
	int r = mount_of(parent, name, &here);
	if (r < 0)
		return r == -ENOENT ? 0 : vsl_error_errno(err, -r, "stat '%s'", name);
	if (here != mnt)
		return vsl_error_set_code(err, EBUSY, "remove '%s': a filesystem is mounted there", name);
	if (depth >= TREE_MAX_DEPTH)
		return vsl_error_set_code(err, ELOOP, "remove '%s': tree too deep", name);
	_cleanup_close_ int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : vsl_error_errno(err, errno, "open '%s'", name);
	_cleanup_closedir_ DIR *d = open_dir(fd);
	if (d == NULL)
		return vsl_error_errno(err, errno, "read '%s'", name);
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (dot(de->d_name))
			continue;
		if (unlinkat(fd, de->d_name, 0) == 0 || errno == ENOENT)
			continue;
		if (errno != EISDIR && errno != EPERM)
			return vsl_error_errno(err, errno, "remove '%s'", de->d_name);
		if ((r = remove_dir(fd, de->d_name, mnt, depth + 1, err)) < 0)
			return r;
	}
	if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return vsl_error_errno(err, errno, "remove '%s'", name);
	return 0;
}

int tree_remove(int parent, const char *name, struct vsl_error **err)
{
	if (unlinkat(parent, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return vsl_error_errno(err, errno, "remove '%s'", name);
	uint64_t mnt;
	int r = mount_of(parent, ".", &mnt);
	if (r < 0)
		return vsl_error_errno(err, -r, "stat the parent of '%s'", name);
	return remove_dir(parent, name, mnt, 0, err);
}

int tree_is_empty(int dirfd, const char *name)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	_cleanup_closedir_ DIR *d = fdopendir(fd);
	if (d == NULL)
		return -errno;
	TAKE_FD(fd);
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (!dot(de->d_name))
			return 0;
	return 1;
}
