#include "image/layer.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <search.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"

#define IO_BUF_SIZE (128 * 1024)

/* Docker's whiteout names (the OCI image spec's layer format). */
#define WHITEOUT_PREFIX      ".wh."
#define WHITEOUT_META_PREFIX ".wh..wh."
#define WHITEOUT_OPAQUE      ".wh..wh..opq"
#define OVERLAY_XATTR_PREFIX "trusted.overlay."
#define OVERLAY_OPAQUE_XATTR "trusted.overlay.opaque"

/* RESOLVE_IN_ROOT would clamp an escaping symlink to the layer root; BENEATH
 * gives the same result for every path that stays inside and refuses (EXDEV)
 * the ones that would leave: a symlink parent pointing outside the layer is an
 * attack or a broken tar, not something to reinterpret. No magic links, no
 * crossing into something mounted inside the layer. */
#define LAYER_RESOLVE (RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV)

static int sys_openat2(int dirfd, const char *path, int flags, uint64_t resolve)
{
	struct open_how how = {
	    .flags = (uint64_t)(flags | O_CLOEXEC),
	    .resolve = resolve,
	};
	int fd;
	do
		fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN);
	return fd < 0 ? -errno : fd;
}

static int open_in_layer(int dest, const char *path, int flags)
{
	return sys_openat2(dest, *path ? path : ".", flags, LAYER_RESOLVE);
}

/* "/proc/self/fd/N": reaches the very inode an O_PATH fd holds (a symlink or a
 * device node included) for the calls that have no fd or *at form. */
#define PROC_FD_PATH_MAX sizeof("/proc/self/fd/-2147483648")
static const char *proc_fd_path(int fd, char buf[PROC_FD_PATH_MAX])
{
	snprintf(buf, PROC_FD_PATH_MAX, "/proc/self/fd/%d", fd);
	return buf;
}

static bool is_overlay_xattr(const char *name)
{
	return strncmp(name, OVERLAY_XATTR_PREFIX, sizeof(OVERLAY_XATTR_PREFIX) - 1) == 0;
}

/* ---- applying ---- */

struct dir_time {
	char *path;
	struct timespec ts[2];
};

struct apply {
	int dest;
	struct zreader *zr;
	struct digester *diff;
	uint64_t size;
	uint64_t unpacked;
	unsigned char *buf;
	/* The read callback's error: libarchive only carries a string. */
	struct vsl_error *read_err;
	struct dir_time *dirs;
	size_t n_dirs, cap_dirs;
};

static la_ssize_t apply_read(struct archive *a, void *userdata, const void **ret_buf)
{
	struct apply *ap = userdata;
	ssize_t n = zreader_read(ap->zr, ap->buf, IO_BUF_SIZE, &ap->read_err);
	if (n < 0) {
		archive_set_error(a, -(int)n, "%s", vsl_error_message(ap->read_err));
		return -1;
	}
	digester_update(ap->diff, ap->buf, (size_t)n);
	ap->size += (uint64_t)n;
	*ret_buf = ap->buf;
	return n;
}

static int archive_fail(struct apply *ap, struct archive *a, struct vsl_error **err)
{
	if (ap->read_err != NULL) {
		*err = TAKE_PTR(ap->read_err);
		return vsl_error_code(*err);
	}
	int e = archive_errno(a);
	const char *msg = archive_error_string(a);
	return vsl_error_set_code(err, e > 0 ? e : EBADMSG, "read layer tar: %s",
	                          msg ? msg : "unknown error");
}

/* A tar name as a clean relative path: "./a//b/" is "a/b", "." or "./" is ""
 * (the layer root). Absolute names and ".." components are refused outright
 * rather than resolved: no honest layer has them. */
static int clean_name(const char *name, char **ret)
{
	if (name[0] == '/')
		return -EXDEV;
	size_t len = strlen(name);
	char *out = malloc(len + 1);
	if (out == NULL)
		return -ENOMEM;
	size_t o = 0;
	for (const char *p = name; *p;) {
		const char *end = strchrnul(p, '/');
		size_t n = (size_t)(end - p);
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			free(out);
			return -EXDEV;
		}
		if (n > 0 && !(n == 1 && p[0] == '.')) {
			if (o > 0)
				out[o++] = '/';
			memcpy(out + o, p, n);
			o += n;
		}
		p = *end ? end + 1 : end;
	}
	out[o] = '\0';
	*ret = out;
	return 0;
}

/* Splits a clean path in place into its directory ("" at the top) and base. */
static const char *split_base(char *path, const char **ret_dir)
{
	char *slash = strrchr(path, '/');
	if (slash == NULL) {
		*ret_dir = "";
		return path;
	}
	*slash = '\0';
	*ret_dir = path;
	return slash + 1;
}

static int escape_error(struct vsl_error **err, int r, const char *what)
{
	if (r == -EXDEV)
		return vsl_error_set_code(err, EXDEV, "%s escapes the layer through a symlink", what);
	if (r == -ELOOP)
		return vsl_error_set_code(err, ELOOP, "%s resolves through too many or magic symlinks", what);
	return vsl_error_errno(err, -r, "open %s", what);
}

/* The directory `dir` of the layer, made (0755, as tar does) where missing. */
static int open_parent(int dest, const char *dir, bool create, struct vsl_error **err)
{
	int fd = open_in_layer(dest, dir, O_PATH | O_DIRECTORY);
	if (fd >= 0)
		return fd;
	if (fd != -ENOENT || !create)
		return escape_error(err, fd, "parent directory");

	_cleanup_free_ char *prefix = strdup(dir);
	if (prefix == NULL)
		return vsl_error_errno(err, ENOMEM, "create parent directory");
	_cleanup_close_ int cur = open_in_layer(dest, "", O_PATH | O_DIRECTORY);
	if (cur < 0)
		return vsl_error_errno(err, -cur, "open the layer directory");
	for (char *p = prefix;;) {
		char *slash = strchr(p, '/');
		if (slash)
			*slash = '\0';
		/* From the layer root each time: a symlink met on the way resolves
		 * as it would for the whole path. */
		int next = open_in_layer(dest, prefix, O_PATH | O_DIRECTORY);
		if (next == -ENOENT) {
			if (mkdirat(cur, p, 0755) < 0 && errno != EEXIST)
				return vsl_error_errno(err, errno, "create directory '%s'", prefix);
			next = open_in_layer(dest, prefix, O_PATH | O_DIRECTORY);
		}
		if (next < 0)
			return escape_error(err, next, "parent directory");
		close(cur);
		cur = next;
		if (slash == NULL)
			break;
		*slash = '/';
		p = slash + 1;
	}
	return TAKE_FD(cur);
}

static int set_xattrs(int fd, struct archive_entry *e, bool is_symlink_or_special, struct vsl_error **err)
{
	char proc[PROC_FD_PATH_MAX];
	const char *name;
	const void *value;
	size_t size;
	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
		/* Overlay's own xattrs (redirects, metacopy) would steer the
		 * overlay mount; only the whiteout entries may make them. */
		if (is_overlay_xattr(name)) {
			log_debug("layer: ignoring xattr '%s'", name);
			continue;
		}
		if (setxattr(proc_fd_path(fd, proc), name, value, size, 0) == 0)
			continue;
		/* The kernel refuses user.* xattrs on symlinks and devices, and some
		 * file systems have none: what Docker also skips. */
		if (errno == EOPNOTSUPP ||
		    (errno == EPERM && is_symlink_or_special && strncmp(name, "user.", 5) == 0)) {
			log_debug("layer: cannot set xattr '%s': %m", name);
			continue;
		}
		return vsl_error_errno(err, errno, "set xattr '%s'", name);
	}
	return 0;
}

static void entry_times(struct archive_entry *e, struct timespec ts[2])
{
	ts[1] = (struct timespec){archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
	if (archive_entry_atime_is_set(e))
		ts[0] = (struct timespec){archive_entry_atime(e), archive_entry_atime_nsec(e)};
	else
		ts[0] = ts[1];
}

/* Owner, then xattrs (a chown drops security.capability), then mode (a chown
 * drops setuid/setgid), then times. */
static int set_metadata(struct apply *ap, int pfd, const char *base, const char *path,
                        struct archive_entry *e, struct vsl_error **err)
{
	mode_t type = archive_entry_filetype(e);
	_cleanup_close_ int fd = -EBADF;
	if (*base == '\0')
		fd = open_in_layer(ap->dest, "", O_PATH | O_DIRECTORY);
	else if ((fd = openat(pfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC)) < 0)
		fd = -errno;
	if (fd < 0)
		return vsl_error_errno(err, -fd, "open to set metadata");

	if (fchownat(fd, "", archive_entry_uid(e), archive_entry_gid(e),
	             AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		return vsl_error_errno(err, errno, "change owner to %jd:%jd", (intmax_t)archive_entry_uid(e),
		                       (intmax_t)archive_entry_gid(e));
	int r = set_xattrs(fd, e, type != AE_IFREG && type != AE_IFDIR, err);
	if (r < 0)
		return r;
	char proc[PROC_FD_PATH_MAX];
	if (type != AE_IFLNK && chmod(proc_fd_path(fd, proc), archive_entry_perm(e)) < 0)
		return vsl_error_errno(err, errno, "change mode to %04o", (unsigned)archive_entry_perm(e));

	struct timespec ts[2];
	entry_times(e, ts);
	if (type == AE_IFDIR) {
		/* Later entries inside would change its mtime: set at the end. */
		if (ap->n_dirs == ap->cap_dirs) {
			size_t cap = ap->cap_dirs ? ap->cap_dirs * 2 : 64;
			struct dir_time *d = reallocarray(ap->dirs, cap, sizeof(*d));
			if (d == NULL)
				return vsl_error_errno(err, ENOMEM, "remember directory times");
			ap->dirs = d;
			ap->cap_dirs = cap;
		}
		char *p = strdup(path);
		if (p == NULL)
			return vsl_error_errno(err, ENOMEM, "remember directory times");
		ap->dirs[ap->n_dirs++] = (struct dir_time){p, {ts[0], ts[1]}};
		return 0;
	}
	if (utimensat(AT_FDCWD, proc_fd_path(fd, proc), ts, 0) < 0)
		return vsl_error_errno(err, errno, "set times");
	return 0;
}

static int write_file_data(struct archive *a, struct apply *ap, int fd, struct archive_entry *e,
                           struct vsl_error **err)
{
	for (;;) {
		const void *buf;
		size_t len;
		la_int64_t off;
		int r = archive_read_data_block(a, &buf, &len, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			return archive_fail(ap, a, err);
		/* Offsets: sparse files come as data blocks with holes between. */
		const char *p = buf;
		while (len > 0) {
			ssize_t n = pwrite(fd, p, len, off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return vsl_error_errno(err, errno, "write file data");
			p += n;
			len -= (size_t)n;
			off += n;
		}
	}
	if (archive_entry_size_is_set(e) && ftruncate(fd, archive_entry_size(e)) < 0)
		return vsl_error_errno(err, errno, "set file size");
	return 0;
}

static int apply_hardlink(struct apply *ap, int pfd, const char *base, const char *path, const char *target,
                          struct vsl_error **err)
{
	_cleanup_free_ char *tpath = NULL;
	int r = clean_name(target, &tpath);
	if (r == -EXDEV || (r == 0 && *tpath == '\0'))
		return vsl_error_set_code(err, EXDEV, "hardlink target '%s' escapes the layer", target);
	if (r < 0)
		return vsl_error_errno(err, -r, "hardlink target '%s'", target);
	if (strcmp(tpath, path) == 0)
		return 0; /* a link to itself: already there */

	const char *tdir;
	const char *tbase = split_base(tpath, &tdir);
	_cleanup_close_ int tpfd = open_in_layer(ap->dest, tdir, O_PATH | O_DIRECTORY);
	if (tpfd < 0) {
		if (tpfd == -EXDEV)
			return vsl_error_set_code(err, EXDEV, "hardlink target '%s' escapes the layer",
			                          target);
		return vsl_error_errno(err, -tpfd, "hardlink target '%s'", target);
	}
	if (rm_rf_at(pfd, base) < 0)
		return vsl_error_errno(err, errno, "replace existing entry");
	/* No AT_SYMLINK_FOLLOW: a link to a symlink is a link to the symlink. */
	if (linkat(tpfd, tbase, pfd, base, 0) < 0)
		return vsl_error_errno(err, errno, "hardlink to '%s'", target);
	return 0;
}

static int apply_whiteout(int pfd, const char *name, struct archive_entry *e, struct vsl_error **err)
{
	if (*name == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strchr(name, '/'))
		return vsl_error_set_code(err, EINVAL, "invalid whiteout");
	int r = rm_rf_at(pfd, name);
	if (r < 0)
		return vsl_error_errno(err, -r, "remove '%s' for its whiteout", name);
	/* overlayfs reads a 0/0 character device as "deleted in this layer". */
	if (mknodat(pfd, name, S_IFCHR | 0, makedev(0, 0)) < 0)
		return vsl_error_errno(err, errno, "create whiteout");
	if (fchownat(pfd, name, archive_entry_uid(e), archive_entry_gid(e), AT_SYMLINK_NOFOLLOW) < 0)
		return vsl_error_errno(err, errno, "change owner of whiteout");
	return 0;
}

static int set_opaque(int pfd, struct vsl_error **err)
{
	char proc[PROC_FD_PATH_MAX];
	if (setxattr(proc_fd_path(pfd, proc), OVERLAY_OPAQUE_XATTR, "y", 1, 0) < 0)
		return vsl_error_errno(err, errno, "make directory opaque");
	return 0;
}

/* Docker's aufs bookkeeping (".wh..wh.plnk/", ".wh..wh.aufs") carries no content. */
static bool has_meta_component(const char *path)
{
	for (const char *p = path; *p;) {
		if (strncmp(p, WHITEOUT_META_PREFIX, sizeof(WHITEOUT_META_PREFIX) - 1) == 0)
			return true;
		const char *slash = strchr(p, '/');
		if (slash == NULL)
			break;
		p = slash + 1;
	}
	return false;
}

static int apply_entry_inner(struct apply *ap, struct archive *a, struct archive_entry *e, const char *name,
                             struct vsl_error **err)
{
	_cleanup_free_ char *path = NULL;
	int r = clean_name(name, &path);
	if (r == -EXDEV)
		return vsl_error_set_code(err, EXDEV, "path escapes the layer");
	if (r < 0)
		return vsl_error_errno(err, -r, "clean path");
	_cleanup_free_ char *buf = strdup(path);
	if (buf == NULL)
		return vsl_error_errno(err, ENOMEM, "clean path");
	const char *dir;
	const char *base = split_base(buf, &dir);

	if (has_meta_component(dir)) {
		log_debug("layer: skipping '%s'", name);
		return 0;
	}
	mode_t type = archive_entry_filetype(e);
	const char *hardlink = archive_entry_hardlink(e);

	if (*base == '\0') {
		if (type != AE_IFDIR || hardlink)
			return vsl_error_set_code(err, EINVAL, "only a directory can be the layer root");
		return set_metadata(ap, -EBADF, "", "", e, err);
	}

	_cleanup_close_ int pfd = open_parent(ap->dest, dir, true, err);
	if (pfd < 0)
		return pfd;

	if (strcmp(base, WHITEOUT_OPAQUE) == 0)
		return set_opaque(pfd, err);
	if (strncmp(base, WHITEOUT_META_PREFIX, sizeof(WHITEOUT_META_PREFIX) - 1) == 0) {
		log_debug("layer: skipping '%s'", name);
		return 0;
	}
	if (strncmp(base, WHITEOUT_PREFIX, sizeof(WHITEOUT_PREFIX) - 1) == 0)
		return apply_whiteout(pfd, base + sizeof(WHITEOUT_PREFIX) - 1, e, err);

	if (hardlink)
		return apply_hardlink(ap, pfd, base, path, hardlink, err);

	/* Tar semantics: a later entry replaces an earlier one, except that a
	 * directory over a directory merges (only its metadata changes). */
	struct stat st;
	bool merge = false;
	if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISDIR(st.st_mode) && type == AE_IFDIR)
			merge = true;
		else if ((r = rm_rf_at(pfd, base)) < 0)
			return vsl_error_errno(err, -r, "replace existing entry");
	} else if (errno != ENOENT) {
		return vsl_error_errno(err, errno, "stat existing entry");
	}

	switch (type) {
	case AE_IFREG: {
		_cleanup_close_ int fd =
		    openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
		if (fd < 0)
			return vsl_error_errno(err, errno, "create file");
		r = write_file_data(a, ap, fd, e, err);
		if (r < 0)
			return r;
		ap->unpacked += (uint64_t)archive_entry_size(e);
		break;
	}
	case AE_IFDIR:
		if (!merge && mkdirat(pfd, base, 0700) < 0)
			return vsl_error_errno(err, errno, "create directory");
		break;
	case AE_IFLNK: {
		const char *target = archive_entry_symlink(e);
		if (target == NULL)
			return vsl_error_set_code(err, EINVAL, "symlink without a target");
		/* The target is data, never followed here. */
		if (symlinkat(target, pfd, base) < 0)
			return vsl_error_errno(err, errno, "create symlink");
		break;
	}
	case AE_IFCHR:
	case AE_IFBLK:
		if (mknodat(pfd, base, (type == AE_IFCHR ? S_IFCHR : S_IFBLK) | 0600,
		            makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e))) < 0)
			return vsl_error_errno(err, errno, "create device node");
		break;
	case AE_IFIFO:
		if (mknodat(pfd, base, S_IFIFO | 0600, 0) < 0)
			return vsl_error_errno(err, errno, "create fifo");
		break;
	default:
		return vsl_error_set_code(err, EINVAL, "unsupported entry type 0%o", (unsigned)type);
	}
	return set_metadata(ap, pfd, base, path, e, err);
}

static int apply_entry(struct apply *ap, struct archive *a, struct archive_entry *e, struct vsl_error **err)
{
	const char *name = archive_entry_pathname(e);
	if (name == NULL || *name == '\0')
		return vsl_error_set_code(err, EINVAL, "layer entry without a name");
	int r = apply_entry_inner(ap, a, e, name, err);
	if (r < 0)
		return vsl_error_prefix(err, "layer entry '%s'", name);
	return 0;
}

static int apply_dir_times(struct apply *ap, struct vsl_error **err)
{
	for (size_t i = 0; i < ap->n_dirs; i++) {
		/* Gone or no longer a directory (a later entry replaced it): skip. */
		_cleanup_close_ int fd =
		    open_in_layer(ap->dest, ap->dirs[i].path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
		if (fd < 0)
			continue;
		if (futimens(fd, ap->dirs[i].ts) < 0)
			return vsl_error_errno(err, errno, "layer entry '%s': set times", ap->dirs[i].path);
	}
	return 0;
}

static void apply_done(struct apply *ap)
{
	zreader_free(ap->zr);
	digester_free(ap->diff);
	free(ap->buf);
	vsl_error_free(ap->read_err);
	for (size_t i = 0; i < ap->n_dirs; i++)
		free(ap->dirs[i].path);
	free(ap->dirs);
}

static void archive_read_freep(struct archive **a)
{
	if (*a)
		archive_read_free(*a);
}

int layer_apply(int in_fd, int dest_dirfd, struct layer_apply_result *ret, struct vsl_error **err)
{
	_cleanup_(apply_done) struct apply ap = {.dest = dest_dirfd};
	int r = zreader_open(in_fd, &ap.zr, err);
	if (r < 0)
		return vsl_error_prefix(err, "read layer");
	ap.diff = digester_new();
	ap.buf = malloc(IO_BUF_SIZE);
	_cleanup_(archive_read_freep) struct archive *a = archive_read_new();
	if (ap.diff == NULL || ap.buf == NULL || a == NULL)
		return vsl_error_errno(err, ENOMEM, "read layer");

	/* Formats only: decompression is ours, so the digests see every byte. An
	 * empty stream is an empty layer. */
	if (archive_read_support_format_tar(a) != ARCHIVE_OK ||
	    archive_read_support_format_empty(a) != ARCHIVE_OK)
		return vsl_error_set(err, "read layer: %s", archive_error_string(a));
	if (archive_read_open(a, &ap, NULL, apply_read, NULL) != ARCHIVE_OK)
		return archive_fail(&ap, a, err);

	for (;;) {
		struct archive_entry *e;
		r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		/* WARN: a name that is not valid in the current locale; its bytes
		 * are kept as they are, which is what the file system wants. */
		if (r < ARCHIVE_WARN)
			return archive_fail(&ap, a, err);
		r = apply_entry(&ap, a, e, err);
		if (r < 0)
			return r;
	}

	/* Past the end-of-archive blocks: the digests cover the whole blob. */
	for (;;) {
		ssize_t n = zreader_read(ap.zr, ap.buf, IO_BUF_SIZE, err);
		if (n < 0)
			return vsl_error_prefix(err, "read layer");
		if (n == 0)
			break;
		digester_update(ap.diff, ap.buf, (size_t)n);
		ap.size += (uint64_t)n;
	}

	r = apply_dir_times(&ap, err);
	if (r < 0)
		return r;

	struct layer_apply_result res = {
	    .size = ap.size,
	    .unpacked_size = ap.unpacked,
	    .compression = zreader_compression(ap.zr),
	};
	digester_final(ap.diff, res.diff_id);
	zreader_input_digest(ap.zr, res.digest, &res.compressed_size);
	*ret = res;
	return 0;
}

/* ---- writing ---- */

struct link_seen {
	dev_t dev;
	ino_t ino;
	char *path;
};

struct writer {
	int out_fd;
	unsigned flags;
	struct archive *a;
	struct zwriter *zw;
	struct digester *diff, *blob;
	uint64_t size, compressed_size;
	struct vsl_error *write_err;
	void *links; /* tsearch tree of struct link_seen */
	unsigned char *buf;
};

static int link_cmp(const void *x, const void *y)
{
	const struct link_seen *a = x, *b = y;
	if (a->dev != b->dev)
		return a->dev < b->dev ? -1 : 1;
	if (a->ino != b->ino)
		return a->ino < b->ino ? -1 : 1;
	return 0;
}

static void link_free(void *p)
{
	struct link_seen *l = p;
	free(l->path);
	free(l);
}

static int blob_sink(void *userdata, const void *buf, size_t len, struct vsl_error **err)
{
	struct writer *w = userdata;
	digester_update(w->blob, buf, len);
	w->compressed_size += len;
	if (write_all(w->out_fd, buf, len) < 0)
		return vsl_error_errno(err, errno, "write layer");
	return 0;
}

static la_ssize_t tar_sink(struct archive *a, void *userdata, const void *buf, size_t len)
{
	struct writer *w = userdata;
	digester_update(w->diff, buf, len);
	w->size += len;
	int r = zwriter_write(w->zw, buf, len, &w->write_err);
	if (r < 0) {
		archive_set_error(a, -r, "%s", vsl_error_message(w->write_err));
		return -1;
	}
	return (la_ssize_t)len;
}

static int writer_fail(struct writer *w, struct vsl_error **err)
{
	if (w->write_err != NULL) {
		*err = TAKE_PTR(w->write_err);
		return vsl_error_code(*err);
	}
	int e = archive_errno(w->a);
	const char *msg = archive_error_string(w->a);
	return vsl_error_set_code(err, e > 0 ? e : EIO, "write layer tar: %s", msg ? msg : "unknown error");
}

static int cmp_names(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The names in a directory, sorted bytewise: the tar's order must not depend
 * on the file system's. */
static int list_dir(int dirfd, char ***ret, size_t *ret_n, struct vsl_error **err)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return vsl_error_errno(err, errno, "open directory");
	_cleanup_closedir_ DIR *d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return vsl_error_errno(err, errno, "open directory");
	}
	_cleanup_strv_ char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n + 1 >= cap) {
			cap = cap ? cap * 2 : 16;
			char **nn = reallocarray(names, cap, sizeof(*nn));
			if (nn == NULL)
				return vsl_error_errno(err, ENOMEM, "list directory");
			names = nn;
		}
		names[n] = strdup(de->d_name);
		if (names[n] == NULL)
			return vsl_error_errno(err, ENOMEM, "list directory");
		names[++n] = NULL;
		errno = 0;
	}
	if (errno != 0)
		return vsl_error_errno(err, errno, "read directory");
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_names);
	*ret = TAKE_PTR(names);
	*ret_n = n;
	return 0;
}

/* Host-only xattrs stay behind: overlay's own (whiteouts are entries instead)
 * and the SELinux label, which the runtime sets from the container's policy. */
static bool xattr_travels(const char *name)
{
	return !is_overlay_xattr(name) && strcmp(name, "security.selinux") != 0;
}

static int add_xattrs(struct archive_entry *entry, int fd, bool *ret_opaque, struct vsl_error **err)
{
	char proc[PROC_FD_PATH_MAX];
	proc_fd_path(fd, proc);
	_cleanup_free_ char *list = NULL;
	ssize_t n;
	for (;;) {
		n = listxattr(proc, NULL, 0);
		if (n < 0 && (errno == EOPNOTSUPP || errno == ENOTSUP))
			return 0;
		if (n < 0)
			return vsl_error_errno(err, errno, "list xattrs");
		if (n == 0)
			return 0;
		free(list);
		list = malloc((size_t)n);
		if (list == NULL)
			return vsl_error_errno(err, ENOMEM, "list xattrs");
		n = listxattr(proc, list, (size_t)n);
		if (n >= 0)
			break;
		if (errno != ERANGE)
			return vsl_error_errno(err, errno, "list xattrs");
	}

	/* Sorted: the pax records' order must not depend on the file system's. */
	size_t count = 0;
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(list + i) + 1)
		count++;
	_cleanup_free_ const char **names = calloc(count + 1, sizeof(*names));
	if (names == NULL)
		return vsl_error_errno(err, ENOMEM, "list xattrs");
	count = 0;
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(list + i) + 1)
		names[count++] = list + i;
	qsort(names, count, sizeof(*names), cmp_names);

	for (size_t i = 0; i < count; i++) {
		const char *name = names[i];
		if (ret_opaque && strcmp(name, OVERLAY_OPAQUE_XATTR) == 0) {
			char v[2];
			ssize_t vn = getxattr(proc, name, v, sizeof(v));
			*ret_opaque = vn == 1 && v[0] == 'y';
		}
		if (!xattr_travels(name))
			continue;
		ssize_t vn = getxattr(proc, name, NULL, 0);
		if (vn < 0)
			return vsl_error_errno(err, errno, "read xattr '%s'", name);
		_cleanup_free_ char *value = malloc((size_t)vn + 1);
		if (value == NULL)
			return vsl_error_errno(err, ENOMEM, "read xattr '%s'", name);
		vn = getxattr(proc, name, value, (size_t)vn);
		if (vn < 0)
			return vsl_error_errno(err, errno, "read xattr '%s'", name);
		archive_entry_xattr_add_entry(entry, name, value, (size_t)vn);
	}
	return 0;
}

static void entry_freep(struct archive_entry **e)
{
	if (*e)
		archive_entry_free(*e);
}

static int write_header(struct writer *w, struct archive_entry *entry, struct vsl_error **err)
{
	/* WARN: a name that is not UTF-8; libarchive keeps its bytes (hdrcharset=BINARY). */
	if (archive_write_header(w->a, entry) < ARCHIVE_WARN)
		return writer_fail(w, err);
	return 0;
}

static int write_file_content(struct writer *w, int fd, const struct stat *st, struct vsl_error **err)
{
	char proc[PROC_FD_PATH_MAX];
	/* Reopened from the O_PATH fd: the inode stat()ed, even if the name moved. */
	_cleanup_close_ int rfd = open(proc_fd_path(fd, proc), O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (rfd < 0)
		return vsl_error_errno(err, errno, "open for reading");
	uint64_t left = (uint64_t)st->st_size;
	while (left > 0) {
		size_t want = left < IO_BUF_SIZE ? (size_t)left : IO_BUF_SIZE;
		ssize_t n = read(rfd, w->buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return vsl_error_errno(err, errno, "read");
		if (n == 0)
			return vsl_error_set_code(err, EAGAIN, "file shrank while being written");
		if (archive_write_data(w->a, w->buf, (size_t)n) < 0)
			return writer_fail(w, err);
		left -= (uint64_t)n;
	}
	return 0;
}

/* Writes one entry; for a directory, also hands back an fd to walk next. */
static int write_one(struct writer *w, int dirfd, const char *name, const char *path, int *ret_dirfd,
                     struct vsl_error **err)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return vsl_error_errno(err, errno, "open");
	struct stat st;
	if (fstat(fd, &st) < 0)
		return vsl_error_errno(err, errno, "stat");

	_cleanup_(entry_freep) struct archive_entry *entry = archive_entry_new();
	if (entry == NULL)
		return vsl_error_errno(err, ENOMEM, "allocate tar entry");
	archive_entry_set_pathname(entry, path);
	archive_entry_set_uid(entry, st.st_uid);
	archive_entry_set_gid(entry, st.st_gid);
	archive_entry_set_perm(entry, st.st_mode & 07777);
	/* Whole seconds, no atime/ctime: the same tree gives the same diff_id. */
	archive_entry_set_mtime(entry, st.st_mtim.tv_sec, 0);

	bool overlay = w->flags & LAYER_WRITE_OVERLAY_DIFF;
	bool opaque = false;
	bool content = false;
	int r;

	switch (st.st_mode & S_IFMT) {
	case S_IFREG:
		archive_entry_set_filetype(entry, AE_IFREG);
		if (st.st_nlink > 1) {
			struct link_seen key = {st.st_dev, st.st_ino, NULL};
			struct link_seen **found = tfind(&key, &w->links, link_cmp);
			if (found) {
				archive_entry_set_hardlink(entry, (*found)->path);
				archive_entry_set_size(entry, 0);
				return write_header(w, entry, err);
			}
			struct link_seen *l = calloc(1, sizeof(*l));
			if (l == NULL || (l->path = strdup(path)) == NULL) {
				free(l);
				return vsl_error_errno(err, ENOMEM, "remember hardlink");
			}
			l->dev = st.st_dev;
			l->ino = st.st_ino;
			if (tsearch(l, &w->links, link_cmp) == NULL) {
				link_free(l);
				return vsl_error_errno(err, ENOMEM, "remember hardlink");
			}
		}
		archive_entry_set_size(entry, st.st_size);
		content = true;
		break;
	case S_IFDIR:
		archive_entry_set_filetype(entry, AE_IFDIR);
		break;
	case S_IFLNK: {
		char target[PATH_MAX + 1];
		ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
		if (n < 0)
			return vsl_error_errno(err, errno, "read symlink");
		target[n] = '\0';
		archive_entry_set_filetype(entry, AE_IFLNK);
		archive_entry_set_symlink(entry, target);
		break;
	}
	case S_IFCHR:
		if (overlay && st.st_rdev == makedev(0, 0)) {
			/* An overlay whiteout: Docker's form, an empty file named ".wh.<name>". */
			_cleanup_free_ char *wh = NULL;
			size_t plen = strlen(path) - strlen(name);
			if (asprintf(&wh, "%.*s" WHITEOUT_PREFIX "%s", (int)plen, path, name) < 0)
				return vsl_error_errno(err, ENOMEM, "name whiteout");
			archive_entry_set_pathname(entry, wh);
			archive_entry_set_filetype(entry, AE_IFREG);
			archive_entry_set_perm(entry, 0600);
			archive_entry_set_size(entry, 0);
			return write_header(w, entry, err);
		}
		/* fall through */
	case S_IFBLK:
		archive_entry_set_filetype(entry, S_ISCHR(st.st_mode) ? AE_IFCHR : AE_IFBLK);
		archive_entry_set_rdevmajor(entry, major(st.st_rdev));
		archive_entry_set_rdevminor(entry, minor(st.st_rdev));
		break;
	case S_IFIFO:
		archive_entry_set_filetype(entry, AE_IFIFO);
		break;
	default:
		/* Sockets have no tar form; they belong to a running process anyway. */
		log_debug("layer: skipping socket '%s'", path);
		return 0;
	}

	r = add_xattrs(entry, fd, overlay && S_ISDIR(st.st_mode) ? &opaque : NULL, err);
	if (r < 0)
		return r;
	r = write_header(w, entry, err);
	if (r < 0)
		return r;
	if (content) {
		r = write_file_content(w, fd, &st, err);
		if (r < 0)
			return r;
	}
	if (!S_ISDIR(st.st_mode))
		return 0;

	if (opaque) {
		/* Right after its directory, as Docker writes it. */
		_cleanup_(entry_freep) struct archive_entry *wo = archive_entry_new();
		_cleanup_free_ char *wopath = NULL;
		if (wo == NULL || asprintf(&wopath, "%s/" WHITEOUT_OPAQUE, path) < 0)
			return vsl_error_errno(err, ENOMEM, "allocate tar entry");
		archive_entry_set_pathname(wo, wopath);
		archive_entry_set_filetype(wo, AE_IFREG);
		archive_entry_set_perm(wo, st.st_mode & 0777);
		archive_entry_set_uid(wo, st.st_uid);
		archive_entry_set_gid(wo, st.st_gid);
		archive_entry_set_mtime(wo, st.st_mtim.tv_sec, 0);
		archive_entry_set_size(wo, 0);
		r = write_header(w, wo, err);
		if (r < 0)
			return r;
	}
	char proc[PROC_FD_PATH_MAX];
	int dfd = open(proc_fd_path(fd, proc), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return vsl_error_errno(err, errno, "open directory");
	*ret_dirfd = dfd;
	return 0;
}

static int write_tree(struct writer *w, int dirfd, const char *prefix, struct vsl_error **err)
{
	_cleanup_strv_ char **names = NULL;
	size_t n = 0;
	int r = list_dir(dirfd, &names, &n, err);
	if (r < 0)
		return *prefix ? vsl_error_prefix(err, "layer entry '%.*s'", (int)strlen(prefix) - 1, prefix)
		               : r;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *path = NULL;
		if (asprintf(&path, "%s%s", prefix, names[i]) < 0)
			return vsl_error_errno(err, ENOMEM, "allocate path");
		_cleanup_close_ int sub = -EBADF;
		r = write_one(w, dirfd, names[i], path, &sub, err);
		if (r < 0)
			return vsl_error_prefix(err, "layer entry '%s'", path);
		if (sub < 0)
			continue;
		_cleanup_free_ char *child_prefix = NULL;
		if (asprintf(&child_prefix, "%s/", path) < 0)
			return vsl_error_errno(err, ENOMEM, "allocate path");
		r = write_tree(w, sub, child_prefix, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static void writer_done(struct writer *w)
{
	if (w->a) {
		/* Failed: free must not write the end-of-archive blocks after all. */
		archive_write_fail(w->a);
		archive_write_free(w->a);
	}
	zwriter_free(w->zw);
	digester_free(w->diff);
	digester_free(w->blob);
	vsl_error_free(w->write_err);
	tdestroy(w->links, link_free);
	free(w->buf);
}

int layer_write(int src_dirfd, int out_fd, enum compression c, unsigned flags, struct layer_write_result *ret,
                struct vsl_error **err)
{
	_cleanup_(writer_done) struct writer w = {.out_fd = out_fd, .flags = flags};
	w.diff = digester_new();
	w.blob = digester_new();
	w.buf = malloc(IO_BUF_SIZE);
	w.a = archive_write_new();
	if (w.diff == NULL || w.blob == NULL || w.buf == NULL || w.a == NULL)
		return vsl_error_errno(err, ENOMEM, "write layer");
	int r = zwriter_new(c, 0, blob_sink, &w, &w.zw, err);
	if (r < 0)
		return vsl_error_prefix(err, "write layer");

	/* pax only where ustar cannot say it (long names, xattrs, big ids);
	 * no padding of the last block to 10 KiB, as Docker writes them. */
	if (archive_write_set_format_pax_restricted(w.a) != ARCHIVE_OK ||
	    archive_write_add_filter_none(w.a) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(w.a, 10240) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(w.a, 1) != ARCHIVE_OK ||
	    archive_write_open(w.a, &w, NULL, tar_sink, NULL) != ARCHIVE_OK)
		return writer_fail(&w, err);

	_cleanup_close_ int root = openat(src_dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return vsl_error_errno(err, errno, "write layer: open source directory");
	r = write_tree(&w, root, "", err);
	if (r < 0)
		return vsl_error_prefix(err, "write layer");
	if (archive_write_close(w.a) != ARCHIVE_OK)
		return writer_fail(&w, err);
	archive_write_free(w.a);
	w.a = NULL;
	r = zwriter_finish(w.zw, err);
	if (r < 0)
		return vsl_error_prefix(err, "write layer");

	struct layer_write_result res = {.size = w.size, .compressed_size = w.compressed_size};
	digester_final(w.diff, res.diff_id);
	digester_final(w.blob, res.digest);
	*ret = res;
	return 0;
}
