/* cp, diff, export and commit over a container's root filesystem.
 *
 * A copy is one tar stream between two sides: the source side writes it (a
 * walk through file descriptors, each entry opened O_NOFOLLOW in its parent
 * directory's fd), the destination side extracts it (each entry's parent
 * resolved again with openat2(), its last component created, never
 * followed). For a path on disk both run at once, the writer in a thread
 * feeding a socket pair. The container side resolves with RESOLVE_IN_ROOT
 * from the root's fd; the host side resolves the user's paths as given, and
 * extracts beneath the destination directory (RESOLVE_BENEATH), so nothing
 * from inside a container can lead a write elsewhere on the host. */
#include "engine/container-fs.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "engine/container-store.h"
#include "engine/containers.h"
#include "engine/create-config.h"
#include "engine/engine-internal.h"
#include "image/images.h"
#include "image/layer.h"
#include "image/manifest.h"
#include "runtime/container.h"
#include "storage/overlay.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/strv.h"

#define COPY_CHUNK (1 << 16)
#define IN_ROOT    (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
#define BENEATH    (RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)

static void archive_freep(struct archive **a)
{
	if (*a)
		archive_free(*a);
}
#define _cleanup_archive_ _cleanup_(archive_freep)

static void archive_entry_freep(struct archive_entry **e)
{
	if (*e)
		archive_entry_free(*e);
}
#define _cleanup_archive_entry_ _cleanup_(archive_entry_freep)

static int sys_openat2(int dirfd, const char *path, int flags, uint64_t resolve)
{
	struct open_how how = {.flags = (uint64_t)flags | O_CLOEXEC, .resolve = resolve};
	int fd;
	do
		fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN);
	return fd;
}

/* An O_PATH fd opened again for reading: through /proc/self/fd, which
 * reopens the very inode (no path is looked up again). Only for regular
 * files and directories (a fifo would block, a symlink cannot be opened). */
static int reopen(int fd, int flags)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	return open(p, flags | O_CLOEXEC);
}

/* ---- the container's root ---- */

struct croot {
	struct engine *e;
	char *id;
	int fd;       /* merged, O_RDONLY | O_DIRECTORY */
	bool mounted; /* by us, for this call */
};

static void croot_close(struct croot *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -EBADF;
	if (r->mounted) {
		/* Unless it was started meanwhile: then the mount is its root. */
		_cleanup_container_record_ struct container_record *rec = NULL;
		if (containers_get(r->e, r->id, &rec, NULL) < 0 ||
		    (rec->state != CONTAINER_RUNNING && rec->state != CONTAINER_PAUSED))
			overlay_unmount(r->e->root_dirfd, r->id, NULL);
	}
	free(r->id);
	r->id = NULL;
}
#define _cleanup_croot_ _cleanup_(croot_close)

static int croot_open(struct engine *e, const char *name, struct croot *ret, struct vsl_error **err)
{
	*ret = (struct croot){.e = e, .fd = -EBADF};
	_cleanup_container_record_ struct container_record *rec = NULL;
	int r = containers_resolve(e, name, &ret->id, err);
	if (r < 0 || (r = containers_get(e, ret->id, &rec, err)) < 0)
		return r;
	if (!overlay_is_mounted(e->root_dirfd, ret->id)) {
		_cleanup_strv_ char **lowers = NULL;
		if ((r = images_layer_paths(e->images, rec->image_id, &lowers, err)) < 0 ||
		    (r = overlay_mount(e->root_dirfd, ret->id, lowers, NULL, NULL, err)) < 0)
			return vsl_error_prefix(err, "mount the root of %s", name);
		ret->mounted = true;
	}
	_cleanup_free_ char *merged = NULL;
	if (asprintf(&merged, "overlay/%s/merged", ret->id) < 0)
		return vsl_error_errno(err, ENOMEM, "open the root of %s", name);
	ret->fd = openat(e->root_dirfd, merged, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (ret->fd < 0)
		return vsl_error_errno(err, errno, "open the root of %s", name);
	return 0;
}

/* ---- paths ---- */

/* One side of a copy: the container's root (paths resolved inside it) or
 * the host (paths as the user gave them, relative to the working directory). */
struct side {
	int rootfd; /* AT_FDCWD for the host */
	bool in_root;
	const char *container; /* for messages; NULL: the host */
};

static int side_open(const struct side *s, const char *path, int flags, bool follow)
{
	return sys_openat2(s->rootfd, path, flags | (follow ? 0 : O_NOFOLLOW), s->in_root ? IN_ROOT : 0);
}

static bool ends_with_slash(const char *p)
{
	size_t n = strlen(p);
	return n > 0 && p[n - 1] == '/';
}

/* "dir/." or ".": the content of the directory, not the directory. */
static bool ends_with_dot(const char *p)
{
	size_t n = strlen(p);
	return (n == 1 && p[0] == '.') || (n >= 2 && p[n - 1] == '.' && p[n - 2] == '/');
}

/* "/a/b/" -> "b"; "/" -> "". */
static char *last_component(const char *p)
{
	size_t n = strlen(p);
	while (n > 0 && p[n - 1] == '/')
		n--;
	size_t start = n;
	while (start > 0 && p[start - 1] != '/')
		start--;
	return strndup(p + start, n - start);
}

/* "/a/b" -> "/a"; "b" -> "."; "/b" -> "/". */
static char *parent_of(const char *p)
{
	size_t n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		n--;
	while (n > 0 && p[n - 1] != '/')
		n--;
	while (n > 1 && p[n - 1] == '/')
		n--;
	if (n == 0)
		return strdup(".");
	return strndup(p, n);
}

/* ---- writing a tar ---- */

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_tree(struct archive *a, int fd, const char *name, bool with_self, struct vsl_error **err);

static int add_children(struct archive *a, int dirfd, const char *prefix, struct vsl_error **err)
{
	_cleanup_close_ int rd = reopen(dirfd, O_RDONLY | O_DIRECTORY);
	if (rd < 0)
		return vsl_error_errno(err, errno, "open '%s'", prefix ? prefix : ".");
	DIR *d = fdopendir(rd);
	if (d == NULL)
		return vsl_error_errno(err, errno, "read '%s'", prefix ? prefix : ".");
	int dfd = TAKE_FD(rd);
	_cleanup_closedir_ DIR *dir = d;
	_cleanup_strv_ char **names = NULL;
	struct dirent *de;
	errno = 0;
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (strv_append(&names, de->d_name) < 0)
			return vsl_error_errno(err, ENOMEM, "read '%s'", prefix ? prefix : ".");
	}
	/* A stable order: the same tree gives the same stream. */
	size_t n = strv_length(names);
	qsort(names, n, sizeof(char *), cmp_names);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *child = NULL;
		if (prefix ? asprintf(&child, "%s/%s", prefix, names[i]) < 0
		           : (child = strdup(names[i])) == NULL)
			return vsl_error_errno(err, ENOMEM, "read '%s'", prefix ? prefix : ".");
		_cleanup_close_ int cfd = openat(dfd, names[i], O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (cfd < 0) {
			if (errno == ENOENT) /* gone while we read: a running container */
				continue;
			return vsl_error_errno(err, errno, "open '%s'", child);
		}
		int r = add_tree(a, cfd, child, true, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The entry fd (O_PATH, the entry itself, not what it links to) named name;
 * with_self false: only what a directory holds, named as if it were ".". */
static int add_tree(struct archive *a, int fd, const char *name, bool with_self, struct vsl_error **err)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return vsl_error_errno(err, errno, "stat '%s'", name);
	if (!with_self) {
		if (!S_ISDIR(st.st_mode))
			return vsl_error_set_code(err, ENOTDIR, "'%s' is not a directory", name);
		return add_children(a, fd, NULL, err);
	}
	if (S_ISSOCK(st.st_mode)) /* tar has no sockets */
		return 0;
	_cleanup_archive_entry_ struct archive_entry *ent = archive_entry_new();
	if (ent == NULL)
		return vsl_error_errno(err, ENOMEM, "archive '%s'", name);
	archive_entry_copy_stat(ent, &st);
	archive_entry_set_pathname(ent, name);
	archive_entry_set_nlink(ent, 1);
	char target[PATH_MAX];
	if (S_ISLNK(st.st_mode)) {
		ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
		if (n < 0)
			return vsl_error_errno(err, errno, "read link '%s'", name);
		target[n] = '\0';
		archive_entry_set_symlink(ent, target);
	}
	_cleanup_close_ int data = -EBADF;
	if (S_ISREG(st.st_mode)) {
		if ((data = reopen(fd, O_RDONLY)) < 0)
			return vsl_error_errno(err, errno, "open '%s'", name);
	} else {
		archive_entry_set_size(ent, 0);
	}
	if (archive_write_header(a, ent) != ARCHIVE_OK)
		return vsl_error_set_code(err, archive_errno(a) > 0 ? archive_errno(a) : EIO,
		                          "archive '%s': %s", name, archive_error_string(a));
	if (data >= 0) {
		_cleanup_free_ char *buf = malloc(COPY_CHUNK);
		if (buf == NULL)
			return vsl_error_errno(err, ENOMEM, "archive '%s'", name);
		/* Exactly the size in the header: a file that grows or shrinks
		 * meanwhile (a running container) must not break the stream. */
		uint64_t left = (uint64_t)st.st_size;
		while (left > 0) {
			ssize_t n = read(data, buf, left < COPY_CHUNK ? left : COPY_CHUNK);
			if (n < 0)
				return vsl_error_errno(err, errno, "read '%s'", name);
			if (n == 0) {
				memset(buf, 0, COPY_CHUNK);
				n = (ssize_t)(left < COPY_CHUNK ? left : COPY_CHUNK);
			}
			if (archive_write_data(a, buf, (size_t)n) < 0)
				return vsl_error_set_code(err, archive_errno(a) > 0 ? archive_errno(a) : EIO,
				                          "archive '%s': %s", name, archive_error_string(a));
			left -= (uint64_t)n;
		}
	}
	if (S_ISDIR(st.st_mode))
		return add_children(a, fd, name, err);
	return 0;
}

struct tar_job {
	int src_fd;       /* O_PATH of the source */
	const char *name; /* its name in the stream; NULL: its content only */
	int out_fd;
	bool socket; /* out_fd is our socket pair: MSG_NOSIGNAL */
	int r;
	struct vsl_error *err;
};

static la_ssize_t socket_write(struct archive *a, void *userdata, const void *buf, size_t len)
{
	struct tar_job *j = userdata;
	ssize_t n;
	do
		n = send(j->out_fd, buf, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		archive_set_error(a, errno, "write the stream");
	return n;
}

static int write_tar(struct tar_job *j)
{
	_cleanup_archive_ struct archive *a = archive_write_new();
	if (a == NULL)
		return vsl_error_errno(&j->err, ENOMEM, "archive");
	archive_write_set_format_pax_restricted(a);
	archive_write_set_bytes_in_last_block(a, 1);
	int r = j->socket ? archive_write_open(a, j, NULL, socket_write, NULL)
	                  : archive_write_open_fd(a, j->out_fd);
	if (r != ARCHIVE_OK)
		return vsl_error_set(&j->err, "archive: %s", archive_error_string(a));
	if ((r = add_tree(a, j->src_fd, j->name ? j->name : ".", j->name != NULL, &j->err)) < 0)
		return r;
	if (archive_write_close(a) != ARCHIVE_OK)
		return vsl_error_set_code(&j->err, archive_errno(a) > 0 ? archive_errno(a) : EIO,
		                          "archive: %s", archive_error_string(a));
	return 0;
}

static void *tar_thread(void *userdata)
{
	struct tar_job *j = userdata;
	j->r = write_tar(j);
	/* The reader sees the end of the stream at once, even on an error. */
	shutdown(j->out_fd, SHUT_WR);
	return NULL;
}

/* ---- extracting a tar ---- */

struct extract {
	int dirfd;        /* the container's root, or the host's destination directory */
	const char *base; /* the destination directory, as a path from dirfd */
	uint64_t resolve; /* IN_ROOT or BENEATH */
	bool keep_owner;
	uid_t uid; /* without keep_owner */
	gid_t gid;
};

/* "./a//b/" -> "a/b"; NULL for a name with a ".." component (never in a
 * stream we wrote; refused from one a user gives), "" for the top itself. */
static char *clean_entry(const char *name)
{
	_cleanup_free_ char *out = malloc(strlen(name) + 1);
	if (out == NULL)
		return NULL;
	size_t n = 0;
	const char *p = name;
	while (*p) {
		while (*p == '/')
			p++;
		size_t len = strcspn(p, "/");
		if (len == 0)
			break;
		if (len == 2 && p[0] == '.' && p[1] == '.')
			return NULL;
		if (!(len == 1 && p[0] == '.')) {
			if (n)
				out[n++] = '/';
			memcpy(out + n, p, len);
			n += len;
		}
		p += len;
	}
	out[n] = '\0';
	return TAKE_PTR(out);
}

static int open_under(const struct extract *x, const char *rel, size_t len)
{
	_cleanup_free_ char *p = NULL;
	if (len == 0 ? (p = strdup(x->base)) == NULL : asprintf(&p, "%s/%.*s", x->base, (int)len, rel) < 0) {
		errno = ENOMEM;
		return -1;
	}
	return sys_openat2(x->dirfd, p, O_PATH | O_DIRECTORY, x->resolve);
}

/* Opens the parent directory of the entry path (cleaned) under the
 * destination, making missing directories on the way as tar does (0755,
 * owned by whoever owns what arrives); *ret_last points into path. Each
 * step is resolved from the root again, never from the fd of the step
 * before: RESOLVE_IN_ROOT takes its dirfd as the root. */
static int open_parent(const struct extract *x, char *path, const char **ret_last, struct vsl_error **err)
{
	char *slash = strrchr(path, '/');
	size_t plen = slash ? (size_t)(slash - path) : 0;
	*ret_last = slash ? slash + 1 : path;
	int fd = open_under(x, path, plen);
	if (fd >= 0 || errno != ENOENT)
		return fd >= 0 ? fd : vsl_error_errno(err, errno, "extract '%s': open its directory", path);
	_cleanup_close_ int cur = open_under(x, path, 0);
	if (cur < 0)
		return vsl_error_errno(err, errno, "extract '%s': open the destination", path);
	for (size_t i = 0; i <= plen; i++) {
		if (i < plen && path[i] != '/')
			continue;
		_cleanup_free_ char *comp = NULL;
		size_t start = i;
		while (start > 0 && path[start - 1] != '/')
			start--;
		if ((comp = strndup(path + start, i - start)) == NULL)
			return vsl_error_errno(err, ENOMEM, "extract '%s'", path);
		int next = open_under(x, path, i);
		if (next < 0 && errno == ENOENT) {
			if (mkdirat(cur, comp, 0755) < 0 && errno != EEXIST)
				return vsl_error_errno(err, errno, "extract '%s': make '%.*s'", path, (int)i,
				                       path);
			if (x->keep_owner == false)
				fchownat(cur, comp, x->uid, x->gid, AT_SYMLINK_NOFOLLOW);
			next = open_under(x, path, i);
		}
		if (next < 0)
			return vsl_error_errno(err, errno, "extract '%s': open '%.*s'", path, (int)i, path);
		close(cur);
		cur = next;
	}
	return TAKE_FD(cur);
}

/* Makes room for a new entry: what is there goes, unless a directory would
 * be replaced by a non-directory (Docker refuses that too). */
static int clear_name(int pfd, const char *last, bool is_dir, const char *path, bool *ret_dir_exists,
                      struct vsl_error **err)
{
	*ret_dir_exists = false;
	struct stat st;
	if (fstatat(pfd, last, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : vsl_error_errno(err, errno, "extract '%s'", path);
	if (S_ISDIR(st.st_mode)) {
		if (is_dir) {
			*ret_dir_exists = true;
			return 0;
		}
		return vsl_error_set_code(err, EISDIR, "cannot overwrite directory '%s' with non-directory",
		                          path);
	}
	if (unlinkat(pfd, last, 0) < 0 && errno != ENOENT)
		return vsl_error_errno(err, errno, "extract '%s': remove the old file", path);
	return 0;
}

static int extract_entry(struct archive *a, struct archive_entry *ent, const struct extract *x,
                         struct vsl_error **err)
{
	_cleanup_free_ char *path = clean_entry(archive_entry_pathname(ent));
	if (path == NULL)
		return vsl_error_set_code(err, EINVAL, "tar entry '%s': path escapes the destination",
		                          archive_entry_pathname(ent));
	if (*path == '\0') /* the destination directory itself */
		return 0;
	const char *last = NULL;
	_cleanup_close_ int pfd = open_parent(x, path, &last, err);
	if (pfd < 0)
		return pfd;
	mode_t type = archive_entry_filetype(ent);
	mode_t mode = archive_entry_perm(ent) & 07777;
	uid_t uid = x->keep_owner ? (uid_t)archive_entry_uid(ent) : x->uid;
	gid_t gid = x->keep_owner ? (gid_t)archive_entry_gid(ent) : x->gid;
	struct timespec times[2] = {
	    {.tv_sec = archive_entry_atime(ent), .tv_nsec = archive_entry_atime_nsec(ent)},
	    {.tv_sec = archive_entry_mtime(ent), .tv_nsec = archive_entry_mtime_nsec(ent)},
	};
	if (!archive_entry_atime_is_set(ent))
		times[0] = times[1];
	bool dir_exists;
	int r = clear_name(pfd, last, type == AE_IFDIR, path, &dir_exists, err);
	if (r < 0)
		return r;

	const char *hardlink = archive_entry_hardlink(ent);
	if (hardlink) {
		_cleanup_free_ char *target = clean_entry(hardlink);
		if (target == NULL || *target == '\0')
			return vsl_error_set_code(err, EINVAL, "tar entry '%s': bad link target '%s'", path,
			                          hardlink);
		const char *tlast = NULL;
		_cleanup_close_ int tfd = open_parent(x, target, &tlast, err);
		if (tfd < 0)
			return tfd;
		if (linkat(tfd, tlast, pfd, last, 0) < 0)
			return vsl_error_errno(err, errno, "extract '%s': link to '%s'", path, hardlink);
		return 0;
	}

	switch (type) {
	case AE_IFDIR: {
		if (!dir_exists && mkdirat(pfd, last, 0700) < 0)
			return vsl_error_errno(err, errno, "extract '%s'", path);
		_cleanup_close_ int fd = openat(pfd, last, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fchown(fd, uid, gid) < 0 || fchmod(fd, mode) < 0 || futimens(fd, times) < 0)
			return vsl_error_errno(err, errno, "extract '%s'", path);
		return 0;
	}
	case AE_IFREG: {
		_cleanup_close_ int fd =
		    openat(pfd, last, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return vsl_error_errno(err, errno, "extract '%s'", path);
		const void *buf;
		size_t len;
		la_int64_t off;
		while ((r = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK) {
			if (pwrite(fd, buf, len, off) != (ssize_t)len) /* sparse files keep their holes */
				return vsl_error_errno(err, errno ? errno : EIO, "write '%s'", path);
		}
		if (r != ARCHIVE_EOF)
			return vsl_error_set_code(err, archive_errno(a) > 0 ? archive_errno(a) : EIO,
			                          "read '%s': %s", path, archive_error_string(a));
		if (ftruncate(fd, archive_entry_size(ent)) < 0)
			return vsl_error_errno(err, errno, "write '%s'", path);
		/* chown before chmod: chown clears setuid bits. */
		if (fchown(fd, uid, gid) < 0 || fchmod(fd, mode) < 0 || futimens(fd, times) < 0)
			return vsl_error_errno(err, errno, "extract '%s'", path);
		return 0;
	}
	case AE_IFLNK:
		if (symlinkat(archive_entry_symlink(ent), pfd, last) < 0)
			return vsl_error_errno(err, errno, "extract '%s'", path);
		break;
	case AE_IFCHR:
	case AE_IFBLK:
	case AE_IFIFO:
		if (mknodat(pfd, last, type | mode, archive_entry_rdev(ent)) < 0)
			return vsl_error_errno(err, errno, "extract '%s'", path);
		if (fchmodat(pfd, last, mode, 0) < 0)
			return vsl_error_errno(err, errno, "extract '%s'", path);
		break;
	default:
		return 0;
	}
	if (fchownat(pfd, last, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    utimensat(pfd, last, times, AT_SYMLINK_NOFOLLOW) < 0)
		return vsl_error_errno(err, errno, "extract '%s'", path);
	return 0;
}

static int extract_tar(int in_fd, const struct extract *x, struct vsl_error **err)
{
	_cleanup_archive_ struct archive *a = archive_read_new();
	if (a == NULL)
		return vsl_error_errno(err, ENOMEM, "extract");
	archive_read_support_format_tar(a);
	archive_read_support_filter_all(a);
	if (archive_read_open_fd(a, in_fd, COPY_CHUNK) != ARCHIVE_OK)
		return vsl_error_set_code(err, EINVAL, "read the tar stream: %s", archive_error_string(a));
	struct archive_entry *ent;
	int r;
	while ((r = archive_read_next_header(a, &ent)) == ARCHIVE_OK) {
		int k = extract_entry(a, ent, x, err);
		if (k < 0)
			return k;
	}
	if (r != ARCHIVE_EOF)
		return vsl_error_set_code(err, archive_errno(a) > 0 ? archive_errno(a) : EINVAL,
		                          "read the tar stream: %s", archive_error_string(a));
	return 0;
}

/* Hands an error made elsewhere (another thread) to the caller's err. */
static void pass_error(struct vsl_error **err, struct vsl_error *e)
{
	if (err && *err == NULL)
		*err = e;
	else
		vsl_error_free(e);
}

/* The writer in a thread, the extractor here, a socket pair between them. */
static int copy_tree(int src_fd, const char *name, const struct extract *x, struct vsl_error **err)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return vsl_error_errno(err, errno, "copy");
	_cleanup_close_ int rd = sv[0];
	_cleanup_close_ int wr = sv[1];
	struct tar_job job = {.src_fd = src_fd, .name = name, .out_fd = wr, .socket = true};
	pthread_t t;
	int r = pthread_create(&t, NULL, tar_thread, &job);
	if (r != 0)
		return vsl_error_errno(err, r, "copy");
	_cleanup_error_ struct vsl_error *xerr = NULL;
	int xr = extract_tar(rd, x, &xerr);
	/* A writer still writing (the reader failed) gets EPIPE now. */
	shutdown(rd, SHUT_RDWR);
	pthread_join(t, NULL);
	/* The writer's error is the cause of a truncated stream: it wins. */
	if (job.r < 0) {
		pass_error(err, job.err);
		return job.r;
	}
	vsl_error_free(job.err);
	if (xr < 0) {
		pass_error(err, TAKE_PTR(xerr));
		return xr;
	}
	return 0;
}

/* ---- cp: Docker's rules ---- */

/* Where a copy lands: inside directory dir (a path on the destination side),
 * under the name top (NULL: the source's content goes into dir itself). */
struct landing {
	char *dir;
	char *top;
};

static void landing_release(struct landing *l)
{
	free(l->dir);
	free(l->top);
}

static const char *side_name(const struct side *s, const char *path, char *buf, size_t len)
{
	if (s->container)
		snprintf(buf, len, "%s:%s", s->container, path);
	else
		snprintf(buf, len, "%s", path);
	return buf;
}

/* Resolves the source (its last component followed only with -L, or with
 * a trailing "/" or "/."); *ret_fd is O_PATH. */
static int open_source(const struct side *s, const char *path, bool follow, int *ret_fd, struct stat *ret_st,
                       struct vsl_error **err)
{
	bool trailing = ends_with_slash(path) || ends_with_dot(path);
	_cleanup_close_ int fd = side_open(s, path, O_PATH, follow || trailing);
	if (fd < 0) {
		if (errno == ENOENT && s->container)
			return vsl_error_set_code(err, ENOENT, "could not find the file %s in container %s",
			                          path, s->container);
		return vsl_error_errno(err, errno, "lstat %s", path);
	}
	if (fstat(fd, ret_st) < 0)
		return vsl_error_errno(err, errno, "stat %s", path);
	if (trailing && !S_ISDIR(ret_st->st_mode)) {
		char b[PATH_MAX + 256];
		return vsl_error_set_code(err, ENOTDIR, "%s: not a directory",
		                          side_name(s, path, b, sizeof(b)));
	}
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/* An existing DEST that is a symlink names what it points to (inside the
 * container's root for the container side): its target path, as a path on
 * the same side, so that a file lands where the link points. */
static int follow_dest(const struct side *s, const char *dest, char **ret, struct vsl_error **err)
{
	_cleanup_free_ char *path = strdup(dest);
	if (path == NULL)
		return vsl_error_errno(err, ENOMEM, "copy");
	for (int hops = 0; hops < 40; hops++) {
		if (ends_with_slash(path) || ends_with_dot(path))
			break;
		_cleanup_close_ int fd = side_open(s, path, O_PATH, false);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) < 0 || !S_ISLNK(st.st_mode))
			break;
		char target[PATH_MAX];
		ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
		if (n <= 0)
			break;
		target[n] = '\0';
		char *next = NULL;
		if (target[0] == '/' && !s->container) {
			next = strdup(target);
		} else if (target[0] == '/') {
			next = strdup(target); /* resolved inside the root anyway */
		} else {
			_cleanup_free_ char *parent = parent_of(path);
			if (parent == NULL || asprintf(&next, "%s/%s", parent, target) < 0)
				next = NULL;
		}
		if (next == NULL)
			return vsl_error_errno(err, ENOMEM, "copy");
		free(path);
		path = next;
	}
	*ret = TAKE_PTR(path);
	return 0;
}

/* The docker cp table: SRC a file or a directory, DEST absent (with or
 * without a trailing "/"), a file, or a directory. */
static int plan_landing(const struct side *dst, const char *dest, bool src_is_dir, const char *src,
                        struct landing *ret, struct vsl_error **err)
{
	char b[PATH_MAX + 256];
	struct landing l = {0};
	struct stat st;
	_cleanup_free_ char *followed = NULL;
	int r = follow_dest(dst, dest, &followed, err);
	if (r < 0)
		return r;
	dest = followed;
	_cleanup_close_ int fd = side_open(dst, dest, O_PATH, true);
	bool exists = fd >= 0 && fstat(fd, &st) == 0;
	if (fd < 0 && errno != ENOENT)
		return vsl_error_errno(err, errno, "%s", side_name(dst, dest, b, sizeof(b)));
	if (exists && S_ISDIR(st.st_mode)) {
		l.dir = strdup(dest);
		/* "SRC/." copies the content; otherwise the source itself lands inside. */
		if (!(src_is_dir && ends_with_dot(src))) {
			l.top = last_component(src);
			if (l.top && (*l.top == '\0' || strcmp(l.top, ".") == 0)) {
				free(l.top);
				l.top = NULL; /* "/" as the source: its content */
			} else if (l.top == NULL) {
				free(l.dir);
				return vsl_error_errno(err, ENOMEM, "copy");
			}
		}
	} else if (exists) {
		if (src_is_dir)
			return vsl_error_set_code(err, ENOTDIR, "cannot copy a directory to a file: %s",
			                          side_name(dst, dest, b, sizeof(b)));
		l.dir = parent_of(dest);
		l.top = last_component(dest);
	} else {
		if (ends_with_slash(dest) || ends_with_dot(dest)) {
			if (!src_is_dir)
				return vsl_error_set_code(err, ENOENT, "destination directory %s must exist",
				                          side_name(dst, dest, b, sizeof(b)));
		}
		l.dir = parent_of(dest);
		l.top = last_component(dest);
		/* The parent must be there: only DEST itself is made. */
		_cleanup_close_ int pfd = l.dir ? side_open(dst, l.dir, O_PATH | O_DIRECTORY, true) : -EBADF;
		if (l.dir && pfd < 0) {
			int e = errno;
			landing_release(&l);
			return vsl_error_errno(err, e, "destination directory %s",
			                       side_name(dst, dest, b, sizeof(b)));
		}
	}
	if (l.dir == NULL) {
		landing_release(&l);
		return vsl_error_errno(err, ENOMEM, "copy");
	}
	*ret = l;
	return 0;
}

/* Opens the landing directory for extraction: the container's root with the
 * path resolved inside it, or the host directory itself. */
static int landing_extract(const struct side *dst, const struct landing *l, const struct container_cp_opts *o,
                           struct extract *x, int *ret_hostfd, struct vsl_error **err)
{
	*x = (struct extract){.keep_owner = o->archive};
	if (dst->container) {
		x->dirfd = dst->rootfd;
		x->base = l->dir;
		x->resolve = IN_ROOT;
		/* Without -a: the container's root owns what arrives. */
		x->uid = 0;
		x->gid = 0;
		return 0;
	}
	int fd = open(l->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return vsl_error_errno(err, errno, "open %s", l->dir);
	x->dirfd = fd;
	x->base = ".";
	x->resolve = BENEATH;
	/* Without -a: the user who copies owns what arrives. */
	x->uid = getuid();
	x->gid = getgid();
	*ret_hostfd = fd;
	return 0;
}

static int copy_planned(const struct side *src_side, const char *src, const struct side *dst_side,
                        const char *dest, const struct container_cp_opts *o, struct vsl_error **err)
{
	struct stat st;
	_cleanup_close_ int sfd = -EBADF;
	int r = open_source(src_side, src, o->follow_link, &sfd, &st, err);
	if (r < 0)
		return r;
	_cleanup_(landing_release) struct landing l = {0};
	if ((r = plan_landing(dst_side, dest, S_ISDIR(st.st_mode), src, &l, err)) < 0)
		return r;
	struct extract x;
	_cleanup_close_ int hostfd = -EBADF;
	if ((r = landing_extract(dst_side, &l, o, &x, &hostfd, err)) < 0)
		return r;
	return copy_tree(sfd, l.top, &x, err);
}

int container_fs_copy_from(struct engine *e, const char *container, const char *src, const char *dest,
                           int out_fd, const struct container_cp_opts *o, struct vsl_error **err)
{
	_cleanup_croot_ struct croot root = {.fd = -EBADF};
	int r = croot_open(e, container, &root, err);
	if (r < 0)
		return r;
	struct side cs = {.rootfd = root.fd, .in_root = true, .container = container};
	if (dest) {
		struct side host = {.rootfd = AT_FDCWD};
		return copy_planned(&cs, src, &host, dest, o, err);
	}
	struct stat st;
	_cleanup_close_ int sfd = -EBADF;
	if ((r = open_source(&cs, src, o->follow_link, &sfd, &st, err)) < 0)
		return r;
	_cleanup_free_ char *top = NULL;
	if (!(S_ISDIR(st.st_mode) && ends_with_dot(src))) {
		if ((top = last_component(src)) == NULL)
			return vsl_error_errno(err, ENOMEM, "copy");
		if (*top == '\0') {
			free(top);
			top = NULL;
		}
	}
	struct tar_job job = {.src_fd = sfd, .name = top, .out_fd = out_fd};
	if ((r = write_tar(&job)) < 0)
		pass_error(err, job.err);
	else
		vsl_error_free(job.err);
	return r;
}

int container_fs_copy_to(struct engine *e, const char *container, const char *src, int in_fd,
                         const char *dest, const struct container_cp_opts *o, struct vsl_error **err)
{
	_cleanup_croot_ struct croot root = {.fd = -EBADF};
	int r = croot_open(e, container, &root, err);
	if (r < 0)
		return r;
	struct side cs = {.rootfd = root.fd, .in_root = true, .container = container};
	if (src) {
		struct side host = {.rootfd = AT_FDCWD};
		return copy_planned(&host, src, &cs, dest, o, err);
	}
	/* A tar from stdin: extracted into DEST, which must be a directory. */
	_cleanup_close_ int dfd = side_open(&cs, dest, O_PATH | O_DIRECTORY, true);
	if (dfd < 0)
		return vsl_error_errno(err, errno == ENOTDIR ? ENOTDIR : errno,
		                       "destination %s:%s must be a directory", container, dest);
	struct extract x = {.dirfd = root.fd, .base = dest, .resolve = IN_ROOT, .keep_owner = o->archive};
	return extract_tar(in_fd, &x, err);
}

/* ---- diff, export ---- */

int container_fs_changes(struct engine *e, const char *container, struct overlay_change **ret, size_t *ret_n,
                         struct vsl_error **err)
{
	_cleanup_free_ char *id = NULL;
	_cleanup_container_record_ struct container_record *rec = NULL;
	_cleanup_strv_ char **lowers = NULL;
	int r = containers_resolve(e, container, &id, err);
	if (r < 0 || (r = containers_get(e, id, &rec, err)) < 0 ||
	    (r = images_layer_paths(e->images, rec->image_id, &lowers, err)) < 0)
		return r;
	return overlay_changes(e->root_dirfd, id, lowers, ret, ret_n, err);
}

int container_fs_export(struct engine *e, const char *container, int out_fd, struct vsl_error **err)
{
	_cleanup_croot_ struct croot root = {.fd = -EBADF};
	int r = croot_open(e, container, &root, err);
	if (r < 0)
		return r;
	struct layer_write_result res;
	r = layer_write(root.fd, out_fd, COMPRESSION_NONE, 0, &res, err);
	return r < 0 ? vsl_error_prefix(err, "export %s", container) : 0;
}

/* ---- commit ---- */

static int replace_strv(char ***field, char *const *value)
{
	_cleanup_strv_ char **copy = calloc(1, sizeof(char *));
	if (copy == NULL)
		return -ENOMEM;
	for (char *const *v = value; v && *v; v++)
		if (strv_append(&copy, *v) < 0)
			return -ENOMEM;
	strv_free(*field);
	*field = TAKE_PTR(copy);
	return 0;
}

static int replace_str(char **field, const char *value)
{
	char *copy = strdup(value);
	if (copy == NULL)
		return -ENOMEM;
	free(*field);
	*field = copy;
	return 0;
}

static int env_merge(char ***env, const char *pair)
{
	size_t klen = strcspn(pair, "=");
	char **v = *env;
	for (size_t i = 0; v && v[i]; i++) {
		if (strncmp(v[i], pair, klen) != 0 || (v[i][klen] != '=' && v[i][klen] != '\0'))
			continue;
		if (pair[klen] == '\0') { /* "KEY" alone unsets it, as at create */
			free(v[i]);
			memmove(&v[i], &v[i + 1], (strv_length(v + i + 1) + 1) * sizeof(char *));
			return 0;
		}
		return replace_str(&v[i], pair);
	}
	return pair[klen] == '\0' ? 0 : strv_append(env, pair);
}

static int labels_merge(struct image_container_config *ic, const struct json_kv *kv)
{
	for (size_t i = 0; i < ic->n_labels; i++)
		if (strcmp(ic->labels[i].key, kv->key) == 0)
			return replace_str(&ic->labels[i].value, kv->value);
	struct json_kv *grown = realloc(ic->labels, (ic->n_labels + 1) * sizeof(*grown));
	if (grown == NULL)
		return -ENOMEM;
	ic->labels = grown;
	char *k = strdup(kv->key), *v = strdup(kv->value);
	if (k == NULL || v == NULL) {
		free(k);
		free(v);
		return -ENOMEM;
	}
	ic->labels[ic->n_labels++] = (struct json_kv){.key = k, .value = v};
	return 0;
}

static int union_strv(char ***field, char *const *add)
{
	for (char *const *a = add; a && *a; a++)
		if (!strv_contains(*field, *a) && strv_append(field, *a) < 0)
			return -ENOMEM;
	return 0;
}

/* The container's own settings over the image's, as Docker's commit keeps
 * the container's Config: a given Entrypoint replaces the image's and drops
 * its Cmd, as it did when the container was made. */
static int apply_container(void *userdata, struct image_container_config *ic, struct vsl_error **err)
{
	const struct container_create *c = userdata;
	int r = 0;
	if (c->entrypoint) {
		bool none =
		    c->entrypoint[0] == NULL || (c->entrypoint[0][0] == '\0' && c->entrypoint[1] == NULL);
		if (none) {
			strv_free(ic->entrypoint);
			ic->entrypoint = NULL;
		} else {
			r = replace_strv(&ic->entrypoint, c->entrypoint);
		}
		if (r >= 0 && c->cmd == NULL) {
			strv_free(ic->cmd);
			ic->cmd = NULL;
		}
	}
	if (r >= 0 && c->cmd && c->cmd[0])
		r = replace_strv(&ic->cmd, c->cmd);
	for (char *const *v = c->env; r >= 0 && v && *v; v++)
		r = env_merge(&ic->env, *v);
	if (r >= 0 && c->user && *c->user)
		r = replace_str(&ic->user, c->user);
	if (r >= 0 && c->working_dir && *c->working_dir)
		r = replace_str(&ic->working_dir, c->working_dir);
	if (r >= 0 && c->stop_signal && *c->stop_signal)
		r = replace_str(&ic->stop_signal, c->stop_signal);
	for (size_t i = 0; r >= 0 && i < c->n_labels; i++)
		r = labels_merge(ic, &c->labels[i]);
	if (r >= 0)
		r = union_strv(&ic->exposed_ports, c->exposed_ports);
	if (r >= 0)
		r = union_strv(&ic->volumes, c->volumes);
	return r < 0 ? vsl_error_errno(err, -r, "commit: the container's config") : 0;
}

/* Docker's history line: the container's command, words joined by spaces. */
static char *created_by(const struct container_create *c)
{
	char *out = strdup("");
	for (int k = 0; out && k < 2; k++) {
		char *const *l = k == 0 ? c->entrypoint : c->cmd;
		for (; l && *l; l++) {
			char *next = NULL;
			if (asprintf(&next, "%s%s%s", out, *out ? " " : "", *l) < 0)
				next = NULL;
			free(out);
			out = next;
			if (out == NULL)
				break;
		}
	}
	return out;
}

int container_fs_commit(struct engine *e, const char *container, const struct container_commit_opts *o,
                        char **ret_id, struct vsl_error **err)
{
	_cleanup_free_ char *id = NULL;
	_cleanup_container_record_ struct container_record *rec = NULL;
	int r = containers_resolve(e, container, &id, err);
	if (r < 0 || (r = containers_get(e, id, &rec, err)) < 0)
		return r;
	struct container_create *c = NULL;
	if ((r = containers_create_config(rec, &c, err)) < 0)
		return r;
	_cleanup_free_ char *by = created_by(c);
	_cleanup_close_ int dfd = -EBADF;
	if ((r = overlay_diff_dirfd(e->root_dirfd, id, &dfd, err)) < 0) {
		container_create_free(c);
		return r;
	}
	/* Frozen, the layer is read as one moment of the container. */
	struct rt_context ctx = {.root = e->runtime_root};
	bool paused = false;
	if (o->pause && rec->state == CONTAINER_RUNNING) {
		if ((r = rt_pause(&ctx, id, err)) < 0) {
			container_create_free(c);
			return vsl_error_prefix(err, "pause %s", container);
		}
		paused = true;
	}
	struct images_commit_opts co = {
	    .parent_id = rec->image_id,
	    .diff_dirfd = dfd,
	    .edit_config = apply_container,
	    .userdata = c,
	    .changes = o->changes,
	    .message = o->message,
	    .author = o->author,
	    .created_by = by && *by ? by : NULL,
	    .name = o->name,
	};
	r = images_commit(e->images, &co, ret_id, err);
	if (paused)
		rt_resume(&ctx, id, NULL);
	container_create_free(c);
	return r;
}
