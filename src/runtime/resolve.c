#include "runtime/resolve.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/error.h"

/* The kernel's own limit on symlinks followed in one lookup. */
#define MAX_SYMLINKS 40

static int sys_openat2(int dirfd, const char *path, int flags, mode_t mode, uint64_t resolve)
{
	struct open_how how = {
	    .flags = (uint64_t)(flags | O_CLOEXEC),
	    .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
	    .resolve = resolve,
	};
	int fd;
	do
		fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN);
	return fd < 0 ? -errno : fd;
}

static const char *relative(const char *path)
{
	while (*path == '/')
		path++;
	return *path ? path : ".";
}

int resolve_open_quiet(int rootfd, const char *path, int flags, mode_t mode)
{
	return sys_openat2(rootfd, relative(path), flags, mode, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

int resolve_open(int rootfd, const char *path, int flags, mode_t mode, struct vsl_error **err)
{
	int fd = resolve_open_quiet(rootfd, path, flags, mode);
	if (fd < 0)
		return vsl_error_errno(err, -fd, "open '%s' in the container root", path);
	return fd;
}

/* Opens the entry `name` just created in dirfd: no symlink may stand there now
 * (a racing rename would be refused, not followed). */
static int open_created(int dirfd, const char *name, bool dir)
{
	return sys_openat2(dirfd, name, O_PATH | O_NOFOLLOW | (dir ? O_DIRECTORY : 0), 0,
	                   RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
}

static int fd_type(int fd, mode_t *ret)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	*ret = st.st_mode & S_IFMT;
	return 0;
}

/* Appends `comp` to the path prefix `*prefix`. */
static int prefix_push(char **prefix, const char *comp, size_t len)
{
	char *n = NULL;
	if (asprintf(&n, "%s/%.*s", *prefix ? *prefix : "", (int)len, comp) < 0)
		return -ENOMEM;
	free(*prefix);
	*prefix = n;
	return 0;
}

/* The path to continue with after `prefix/name` turned out to be a dangling
 * symlink to `target`, with `rest` still to walk. */
static char *follow_dangling(const char *prefix, const char *target, const char *rest)
{
	char *n = NULL;
	int r;
	if (target[0] == '/')
		r = asprintf(&n, "%s/%s", target, rest);
	else
		r = asprintf(&n, "%s/%s/%s", prefix ? prefix : "", target, rest);
	return r < 0 ? NULL : n;
}

/* One pass of walk_create(); returns -EAGAIN with *ret_restart set when a
 * dangling symlink rewrote the path and the walk must start over. */
static int walk_once(int rootfd, const char *path, const char *work, mode_t mode, bool last_file, int *links,
                     char **ret_restart, struct vsl_error **err)
{
	_cleanup_close_ int cur = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
	if (cur < 0)
		return vsl_error_errno(err, errno, "resolve '%s'", path);
	_cleanup_free_ char *prefix = NULL;
	const char *p = work;

	for (;;) {
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		size_t len = strcspn(p, "/");
		const char *next = p + len;
		while (*next == '/')
			next++;
		bool last = *next == '\0';
		bool want_dir = !(last && last_file);

		if (len == 1 && p[0] == '.') {
			p = next;
			if (last && !want_dir)
				return vsl_error_errno(err, EISDIR, "create file '%s' in the container root",
				                       path);
			continue;
		}
		_cleanup_free_ char *name = strndup(p, len);
		if (name == NULL || prefix_push(&prefix, p, len) < 0)
			return vsl_error_errno(err, ENOMEM, "resolve '%s'", path);

		int fd = resolve_open_quiet(rootfd, prefix, O_PATH, 0);
		if (fd == -ENOENT && !(len == 2 && p[0] == '.' && p[1] == '.')) {
			int r;
			if (want_dir) {
				r = mkdirat(cur, name, mode);
			} else {
				r = openat(cur, name,
				           O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
				           mode);
				if (r >= 0)
					close(r);
			}
			if (r < 0 && errno == EEXIST) {
				/* Something is there that the in-root lookup could not open:
				 * a dangling symlink. Follow it by hand; the kernel keeps the
				 * result inside the root on the next round. */
				char target[PATH_MAX];
				ssize_t n = readlinkat(cur, name, target, sizeof(target) - 1);
				if (n < 0 && errno == EINVAL) {
					/* Not a symlink: lost a race with a creator; look again. */
					fd = resolve_open_quiet(rootfd, prefix, O_PATH, 0);
				} else {
					if (n < 0)
						return vsl_error_errno(err, errno, "read symlink '%s'",
						                       prefix);
					target[n] = '\0';
					if (++*links > MAX_SYMLINKS)
						return vsl_error_errno(err, ELOOP, "resolve '%s'", path);
					/* The prefix without its last component. */
					*strrchr(prefix, '/') = '\0';
					*ret_restart = follow_dangling(prefix, target, next);
					if (*ret_restart == NULL)
						return vsl_error_errno(err, ENOMEM, "resolve '%s'", path);
					return -EAGAIN;
				}
			} else if (r < 0) {
				return vsl_error_errno(err, errno, "create '%s' in the container root",
				                       prefix);
			} else {
				fd = open_created(cur, name, want_dir);
			}
		}
		if (fd < 0)
			return vsl_error_errno(err, -fd, "open '%s' in the container root", prefix);

		mode_t type = 0;
		int r = fd_type(fd, &type);
		if (r < 0) {
			close(fd);
			return vsl_error_errno(err, -r, "stat '%s' in the container root", prefix);
		}
		if (want_dir && type != S_IFDIR) {
			close(fd);
			return vsl_error_errno(err, ENOTDIR, "'%s' in the container root", prefix);
		}
		if (!want_dir && type == S_IFDIR) {
			close(fd);
			return vsl_error_errno(err, EISDIR, "'%s' in the container root", prefix);
		}
		closep(&cur);
		cur = fd;
		p = next;
	}

	if (last_file && prefix == NULL)
		return vsl_error_errno(err, EISDIR, "create file '%s' in the container root", path);
	return TAKE_FD(cur);
}

/* The one walker behind mkdir_p and mkfile_p. Each prefix of the path is
 * opened by the kernel under RESOLVE_IN_ROOT; what is missing is created with
 * mkdirat (or O_CREAT|O_EXCL) relative to the fd of its parent, and opened
 * again relative to that same fd without following symlinks. The fd returned
 * is therefore always inside the root, whatever the image placed on the way. */
static int walk_create(int rootfd, const char *path, mode_t mode, bool last_file, struct vsl_error **err)
{
	_cleanup_free_ char *work = strdup(path);
	if (work == NULL)
		return vsl_error_errno(err, ENOMEM, "resolve '%s'", path);
	int links = 0;
	for (;;) {
		char *restart = NULL;
		int r = walk_once(rootfd, path, work, mode, last_file, &links, &restart, err);
		if (restart == NULL)
			return r;
		free(work);
		work = restart;
	}
}

int resolve_mkdir_p(int rootfd, const char *path, mode_t mode, struct vsl_error **err)
{
	return walk_create(rootfd, path, mode, false, err);
}

int resolve_mkfile_p(int rootfd, const char *path, mode_t mode, struct vsl_error **err)
{
	return walk_create(rootfd, path, mode, true, err);
}

char *resolve_clean_path(const char *path)
{
	size_t n = strlen(path);
	char *out = malloc(n + 2);
	if (out == NULL)
		return NULL;
	size_t o = 0;
	const char *p = path;
	for (;;) {
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		size_t len = strcspn(p, "/");
		if (len == 1 && p[0] == '.') {
			/* skip */
		} else if (len == 2 && p[0] == '.' && p[1] == '.') {
			/* Like filepath.Clean on an absolute path: ".." at "/" stays "/". */
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
		} else {
			out[o++] = '/';
			memcpy(out + o, p, len);
			o += len;
		}
		p += len;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return out;
}

int resolve_parent(int rootfd, const char *path, mode_t mode, char **ret_name, struct vsl_error **err)
{
	_cleanup_free_ char *clean = resolve_clean_path(path);
	if (clean == NULL)
		return vsl_error_errno(err, ENOMEM, "resolve '%s'", path);
	char *slash = strrchr(clean, '/');
	if (slash[1] == '\0')
		return vsl_error_errno(err, EINVAL, "'%s' has no parent in the container root", path);
	_cleanup_free_ char *name = strdup(slash + 1);
	if (name == NULL)
		return vsl_error_errno(err, ENOMEM, "resolve '%s'", path);
	*slash = '\0';
	int fd = resolve_mkdir_p(rootfd, clean[0] ? clean : "/", mode, err);
	if (fd < 0)
		return fd;
	*ret_name = TAKE_PTR(name);
	return fd;
}

bool resolve_fd_is_procfs(int fd)
{
	struct statfs sfs;
	return fstatfs(fd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC;
}
