#include "storage/overlay.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/random.h"

#ifndef STATX_ATTR_MOUNT_ROOT
#define STATX_ATTR_MOUNT_ROOT 0x00002000
#endif

#define ID_LEN 64
/* "overlay/" + id + "/work/work/incompat/volatile" and shorter ones. */
#define REL_MAX 112
/* Younger tmp- directories may belong to a creation still under way. */
#define GC_MIN_AGE_SEC 60

static bool force_legacy;
/* Learnt once per process: the kernel has no "lowerdir+". */
static bool new_api_missing;

void overlay_set_legacy_mount(bool on)
{
	force_legacy = on;
}

bool overlay_id_is_valid(const char *id)
{
	if (id == NULL)
		return false;
	size_t i = 0;
	for (; id[i]; i++)
		if (i == ID_LEN || !((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return false;
	return i == ID_LEN;
}

static int check_id(const char *id, struct vsl_error **err)
{
	if (!overlay_id_is_valid(id))
		return vsl_error_set_code(err, EINVAL, "invalid container id '%s'", id ? id : "(null)");
	return 0;
}

/* "overlay/<id>" or "overlay/<id>/<sub>"; the id is checked, so it fits. */
static void layer_rel(char buf[REL_MAX], const char *id, const char *sub)
{
	snprintf(buf, REL_MAX, "overlay/%s%s%s", id, sub ? "/" : "", sub ? sub : "");
}

/* Overlay takes layers by path, and prints them in mountinfo as given: the
 * real path of the root reads better there than a /proc/self/fd one. */
static int dirfd_path(int dirfd, char **ret, struct vsl_error **err)
{
	char proc[64], path[PATH_MAX];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", dirfd);
	ssize_t n = readlink(proc, path, sizeof(path) - 1);
	if (n < 0)
		return vsl_error_errno(err, errno, "find path of the storage root");
	path[n] = '\0';
	if (path[0] != '/')
		return vsl_error_set_code(err, ENOENT, "storage root '%s' is not reachable", path);
	char *p = strdup(path);
	if (p == NULL)
		return vsl_error_errno(err, ENOMEM, "find path of the storage root");
	*ret = p;
	return 0;
}

int overlay_create(int root_dirfd, const char *id, struct vsl_error **err)
{
	int r = check_id(id, err);
	if (r < 0)
		return r;
	if (mkdirat(root_dirfd, "overlay", 0700) < 0 && errno != EEXIST)
		return vsl_error_errno(err, errno, "create 'overlay'");

	char tmp[48];
	for (int i = 0;; i++) {
		random_tmp_name(tmp, sizeof(tmp), "overlay/tmp-");
		if (mkdirat(root_dirfd, tmp, 0700) == 0)
			break;
		if (errno != EEXIST || i == 100)
			return vsl_error_errno(err, errno, "create layer of container '%s'", id);
	}

	static const struct {
		const char *name;
		mode_t mode;
	} subdirs[] = {{"diff", 0755}, {"work", 0700}, {"merged", 0755}};
	char sub[REL_MAX];
	for (size_t i = 0; i < ARRAY_SIZE(subdirs); i++) {
		snprintf(sub, sizeof(sub), "%s/%s", tmp, subdirs[i].name);
		if (mkdirat(root_dirfd, sub, subdirs[i].mode) < 0) {
			r = vsl_error_errno(err, errno, "create '%s'", sub);
			goto fail;
		}
	}
	/* diff is the container's "/": a umask must not narrow it. */
	snprintf(sub, sizeof(sub), "%s/diff", tmp);
	if (fchmodat(root_dirfd, sub, 0755, 0) < 0) {
		r = vsl_error_errno(err, errno, "set mode of '%s'", sub);
		goto fail;
	}

	char rel[REL_MAX];
	layer_rel(rel, id, NULL);
	/* Ours are never empty, as rename_noreplace_at() wants. */
	if ((r = rename_noreplace_at(root_dirfd, tmp, rel)) < 0) {
		if (r == -EEXIST)
			r = vsl_error_set_code(err, EEXIST, "layer of container '%s' already exists", id);
		else
			r = vsl_error_errno(err, -r, "create layer of container '%s'", id);
		goto fail;
	}
	return 0;

fail:
	(void)rm_rf_at(root_dirfd, tmp);
	return r;
}

/* The fs context's own message (without its "e " level) says which option
 * the kernel disliked; "" when it left none. */
static const char *fs_log(int fs, char *buf, size_t size)
{
	ssize_t n = read(fs, buf, size - 1);
	if (n <= 2)
		return "";
	while (n > 0 && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	return buf + 2;
}

static int fs_fail(struct vsl_error **err, const char *log, int e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fs_fail(struct vsl_error **err, const char *log, int e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *what = NULL;
	if (vasprintf(&what, fmt, ap) < 0)
		what = NULL;
	va_end(ap);
	if (log[0])
		return vsl_error_errno(err, e, "%s (%s)", what ? what : "mount overlay", log);
	return vsl_error_errno(err, e, "%s", what ? what : "mount overlay");
}

/* An EINVAL that means "no lowerdir+ here" rather than a bad layer: 6.5 to
 * 6.7 do not know the key; before 6.5 overlay has no fsconfig support, and
 * the legacy context either refuses (too long, a comma) or takes the keys
 * blindly for overlay to refuse at create, leaving no message. */
static bool lacks_lowerdir_plus(const char *log)
{
	return log[0] == '\0' || strstr(log, "lowerdir+") != NULL || strstr(log, "Legacy") != NULL;
}

/* Returned by mount_new_api() when the kernel lacks it: try mount(2). */
#define FALL_BACK 1

static int mount_new_api(int root_dirfd, const char *rel_merged, char *const *lowers, const char *upper,
                         const char *work, const struct overlay_mount_opts *o, const char *merged,
                         struct vsl_error **err)
{
	_cleanup_close_ int fs = fsopen("overlay", FSOPEN_CLOEXEC);
	if (fs < 0 && errno == ENOSYS)
		return FALL_BACK;
	if (fs < 0 && errno == ENODEV)
		return vsl_error_errno(err, errno, "mount overlay on '%s' (is the overlay module loaded?)",
		                       merged);
	if (fs < 0)
		return vsl_error_errno(err, errno, "mount overlay on '%s'", merged);

	char log[512];
	for (char *const *l = lowers; *l; l++)
		if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", *l, 0) < 0) {
			int e = errno;
			const char *msg = fs_log(fs, log, sizeof(log));
			if (e == EINVAL && lacks_lowerdir_plus(msg))
				return FALL_BACK;
			return fs_fail(err, msg, e, "add lower layer '%s' to overlay on '%s'", *l, merged);
		}
	if (fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0)
		return fs_fail(err, fs_log(fs, log, sizeof(log)), errno, "set upper layer of overlay on '%s'",
		               merged);
	if (fsconfig(fs, FSCONFIG_SET_STRING, "workdir", work, 0) < 0)
		return fs_fail(err, fs_log(fs, log, sizeof(log)), errno,
		               "set work directory of overlay on '%s'", merged);
	/* Not creating redirects also rules out metacopy: a copied-up file is
	 * whole in diff, as `commit` and `diff` need. userxattr implies it and
	 * refuses it spelled out. */
	if (!o->userxattr && fsconfig(fs, FSCONFIG_SET_STRING, "redirect_dir", "nofollow", 0) < 0)
		return fs_fail(err, fs_log(fs, log, sizeof(log)), errno,
		               "set redirect_dir of overlay on '%s'", merged);
	if (o->userxattr && fsconfig(fs, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) < 0)
		return fs_fail(err, fs_log(fs, log, sizeof(log)), errno, "set userxattr on overlay on '%s'",
		               merged);
	if (o->volatile_ && fsconfig(fs, FSCONFIG_SET_FLAG, "volatile", NULL, 0) < 0)
		return fs_fail(err, fs_log(fs, log, sizeof(log)), errno, "set volatile on overlay on '%s'",
		               merged);
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		int e = errno;
		const char *msg = fs_log(fs, log, sizeof(log));
		if (e == EINVAL && lacks_lowerdir_plus(msg))
			return FALL_BACK;
		return fs_fail(err, msg, e, "create overlay on '%s'", merged);
	}
	_cleanup_close_ int mnt = fsmount(fs, FSMOUNT_CLOEXEC, o->read_only ? MOUNT_ATTR_RDONLY : 0);
	if (mnt < 0)
		return fs_fail(err, fs_log(fs, log, sizeof(log)), errno, "mount overlay on '%s'", merged);
	if (move_mount(mnt, "", root_dirfd, rel_merged, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return vsl_error_errno(err, errno, "mount overlay on '%s'", merged);
	return 0;
}

struct strbuf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void sb_add(struct strbuf *b, const char *s)
{
	size_t n = strlen(s);
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *p = realloc(b->s, cap);
		if (p == NULL) {
			b->oom = true;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n + 1);
	b->len += n;
}

/* Characters that mount(2)'s option string gives a meaning. */
static bool needs_escape(const char *path)
{
	return strpbrk(path, ",:\\=") != NULL;
}

struct fd_list {
	int *fds;
	size_t n;
};

static void fd_list_free(struct fd_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		closep(&l->fds[i]);
	free(l->fds);
}

static int mount_legacy(int root_dirfd, const char *id, char *const *lowers, const char *upper,
                        const char *work, const struct overlay_mount_opts *o, const char *merged,
                        struct vsl_error **err)
{
	size_t nl = 0;
	while (lowers[nl])
		nl++;
	long page = sysconf(_SC_PAGESIZE);
	if (page <= 0)
		page = 4096;

	char proc_upper[REL_MAX + 32], proc_work[REL_MAX + 32];
	snprintf(proc_upper, sizeof(proc_upper), "/proc/self/fd/%d/overlay/%s/diff", root_dirfd, id);
	snprintf(proc_work, sizeof(proc_work), "/proc/self/fd/%d/overlay/%s/work", root_dirfd, id);
	if (needs_escape(upper))
		upper = proc_upper;
	if (needs_escape(work))
		work = proc_work;

	/* First with the real paths; if they do not fit in the page that
	 * mount(2) copies, or cannot be written in it, then with
	 * /proc/self/fd/N for each lower: short, and nothing to escape. */
	__attribute__((cleanup(fd_list_free))) struct fd_list fds = {0};
	for (int pass = 0; pass < 2; pass++) {
		bool use_fds = pass == 1;
		if (!use_fds)
			for (size_t i = 0; i < nl; i++)
				if (needs_escape(lowers[i]))
					use_fds = true;
		if (use_fds && fds.fds == NULL) {
			fds.fds = calloc(nl, sizeof(int));
			if (fds.fds == NULL)
				return vsl_error_errno(err, ENOMEM, "mount overlay on '%s'", merged);
			for (; fds.n < nl; fds.n++) {
				fds.fds[fds.n] = open(lowers[fds.n], O_PATH | O_DIRECTORY | O_CLOEXEC);
				if (fds.fds[fds.n] < 0)
					return vsl_error_errno(err, errno, "open lower layer '%s'",
					                       lowers[fds.n]);
			}
		}

		_cleanup_free_ char *opts = NULL;
		struct strbuf b = {0};
		sb_add(&b, "lowerdir=");
		for (size_t i = 0; i < nl; i++) {
			char fdpath[32];
			if (i > 0)
				sb_add(&b, ":");
			if (use_fds) {
				snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fds.fds[i]);
				sb_add(&b, fdpath);
			} else {
				sb_add(&b, lowers[i]);
			}
		}
		sb_add(&b, ",upperdir=");
		sb_add(&b, upper);
		sb_add(&b, ",workdir=");
		sb_add(&b, work);
		sb_add(&b, o->userxattr ? ",userxattr" : ",redirect_dir=nofollow");
		if (o->volatile_)
			sb_add(&b, ",volatile");
		opts = b.s;
		if (b.oom)
			return vsl_error_errno(err, ENOMEM, "mount overlay on '%s'", merged);
		if (b.len + 1 > (size_t)page) {
			if (use_fds)
				return vsl_error_set_code(
				    err, E2BIG,
				    "mount overlay on '%s': %zu layers are too many for "
				    "mount(2); this kernel lacks overlay's \"lowerdir+\"",
				    merged, nl);
			continue;
		}
		if (mount("overlay", merged, "overlay", o->read_only ? MS_RDONLY : 0, opts) < 0)
			return vsl_error_errno(err, errno, "mount overlay on '%s'", merged);
		return 0;
	}
	return vsl_error_set_code(err, E2BIG, "mount overlay on '%s': options too long", merged);
}

int overlay_mount(int root_dirfd, const char *id, char *const *lowers, const struct overlay_mount_opts *opts,
                  char **ret_path, struct vsl_error **err)
{
	int r = check_id(id, err);
	if (r < 0)
		return r;
	static const struct overlay_mount_opts defaults = {0};
	const struct overlay_mount_opts *o = opts ? opts : &defaults;

	_cleanup_free_ char *root = NULL;
	r = dirfd_path(root_dirfd, &root, err);
	if (r < 0)
		return r;
	char rel_merged[REL_MAX], rel[REL_MAX];
	layer_rel(rel_merged, id, "merged");
	_cleanup_free_ char *upper = NULL, *work = NULL, *merged = NULL, *empty = NULL;
	layer_rel(rel, id, NULL);
	/* (Contents are undefined after a failed asprintf.) */
	if (asprintf(&upper, "%s/%s/diff", root, rel) < 0)
		upper = NULL;
	if (asprintf(&work, "%s/%s/work", root, rel) < 0)
		work = NULL;
	if (asprintf(&merged, "%s/%s/merged", root, rel) < 0)
		merged = NULL;
	if (upper == NULL || work == NULL || merged == NULL)
		return vsl_error_errno(err, ENOMEM, "mount layer of container '%s'", id);

	/* Overlay wants at least one lower: an image without layers gets an
	 * empty one, kept with the container's layer. */
	char *empty_lowers[2] = {NULL, NULL};
	if (lowers == NULL || lowers[0] == NULL) {
		layer_rel(rel, id, "empty");
		if (mkdirat(root_dirfd, rel, 0755) < 0 && errno != EEXIST)
			return vsl_error_errno(err, errno, "create '%s'", rel);
		if (asprintf(&empty, "%s/%s", root, rel) < 0) {
			empty = NULL;
			return vsl_error_errno(err, ENOMEM, "mount layer of container '%s'", id);
		}
		empty_lowers[0] = empty;
		lowers = empty_lowers;
	}

	/* A volatile layer mounted before (a --rm container restarted): the
	 * kernel refuses it until its mark is gone, which is safe once the upper
	 * file system is synced (Documentation/filesystems/overlayfs.rst). */
	layer_rel(rel, id, "work/work/incompat/volatile");
	if (o->volatile_ && faccessat(root_dirfd, rel, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		layer_rel(rel, id, "work/work");
		_cleanup_close_ int workfd =
		    openat(root_dirfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int rr = workfd < 0 ? -errno : syncfs(workfd) < 0 ? -errno : rm_rf_at(workfd, "incompat");
		if (rr < 0)
			return vsl_error_errno(err, -rr, "clear the volatile mark of container '%s'", id);
	}

	bool legacy = force_legacy || new_api_missing;
	if (!legacy) {
		r = mount_new_api(root_dirfd, rel_merged, lowers, upper, work, o, merged, err);
		if (r < 0)
			return r;
		legacy = r == FALL_BACK;
	}
	if (legacy) {
		r = mount_legacy(root_dirfd, id, lowers, upper, work, o, merged, err);
		if (r < 0)
			return r;
		if (!force_legacy)
			new_api_missing = true;
	}
	if (ret_path)
		*ret_path = TAKE_PTR(merged);
	return 0;
}

int overlay_unmount(int root_dirfd, const char *id, struct vsl_error **err)
{
	int r = check_id(id, err);
	if (r < 0)
		return r;
	/* umount2() takes a path: the root's fd through /proc stands in for
	 * the root's path, which saves finding it. */
	char path[REL_MAX + 32];
	snprintf(path, sizeof(path), "/proc/self/fd/%d/overlay/%s/merged", root_dirfd, id);
	/* Until nothing is left: a mount made twice stacks. */
	for (int i = 0; i < 64; i++) {
		if (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
			continue;
		if (errno == EINVAL || errno == ENOENT)
			return 0;
		return vsl_error_errno(err, errno, "unmount root filesystem of container '%s'", id);
	}
	return vsl_error_set_code(err, EBUSY, "unmount root filesystem of container '%s': still mounted", id);
}

bool overlay_is_mounted(int root_dirfd, const char *id)
{
	if (!overlay_id_is_valid(id))
		return false;
	char rel[REL_MAX];
	layer_rel(rel, id, "merged");
	struct statx sx;
	if (statx(root_dirfd, rel, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_INO, &sx) < 0)
		return false;
	if (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)
		return (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
	/* Before 5.8: an overlay has a device of its own. */
	struct statx parent;
	layer_rel(rel, id, NULL);
	if (statx(root_dirfd, rel, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_INO, &parent) < 0)
		return false;
	return sx.stx_dev_major != parent.stx_dev_major || sx.stx_dev_minor != parent.stx_dev_minor;
}

int overlay_remove(int root_dirfd, const char *id, struct vsl_error **err)
{
	int r = check_id(id, err);
	if (r < 0)
		return r;
	char rel[REL_MAX];
	layer_rel(rel, id, NULL);
	_cleanup_close_ int fd = openat(root_dirfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return vsl_error_errno(err, errno, "remove layer of container '%s'", id);
	/* Keeps overlay_gc() off the del- directory while we delete it. */
	(void)flock(fd, LOCK_EX | LOCK_NB);

	r = overlay_unmount(root_dirfd, id, err);
	if (r < 0)
		return vsl_error_prefix(err, "remove layer of container '%s'", id);
	/* The tree below must not be reached through a mount any more. */
	if (overlay_is_mounted(root_dirfd, id))
		return vsl_error_set_code(err, EBUSY, "remove layer of container '%s': still mounted", id);

	char del[48];
	r = remove_by_rename_at(root_dirfd, rel, "overlay/del-", del, sizeof(del));
	if (r < 0 && del[0] != '\0')
		/* Out of the way already; overlay_gc() finishes it. */
		return vsl_error_errno(err, -r, "remove layer of container '%s' (left as '%s')", id, del);
	if (r < 0)
		return vsl_error_errno(err, -r, "remove layer of container '%s'", id);
	return 0;
}

int overlay_diff_dirfd(int root_dirfd, const char *id, int *ret_fd, struct vsl_error **err)
{
	int r = check_id(id, err);
	if (r < 0)
		return r;
	char rel[REL_MAX];
	layer_rel(rel, id, "diff");
	int fd = openat(root_dirfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return vsl_error_set_code(err, ENOENT, "no layer for container '%s'", id);
	if (fd < 0)
		return vsl_error_errno(err, errno, "open layer of container '%s'", id);
	*ret_fd = fd;
	return 0;
}

int overlay_gc(int root_dirfd, bool (*alive)(const char *id, void *userdata), void *userdata,
               struct vsl_error **err)
{
	int dfd = openat(root_dirfd, "overlay", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0 && errno == ENOENT)
		return 0;
	if (dfd < 0)
		return vsl_error_errno(err, errno, "open 'overlay'");
	_cleanup_closedir_ DIR *d = fdopendir(dfd);
	if (d == NULL) {
		int e = errno;
		close(dfd);
		return vsl_error_errno(err, e, "open 'overlay'");
	}

	time_t now = time(NULL);
	int r = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		const char *name = de->d_name;
		bool is_del = strncmp(name, "del-", 4) == 0, is_tmp = strncmp(name, "tmp-", 4) == 0;
		if (is_del || is_tmp) {
			struct stat st;
			if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
				continue;
			if (is_tmp && now - st.st_mtime < GC_MIN_AGE_SEC)
				continue;
			_cleanup_close_ int fd =
			    openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			/* Locked: a removal is still at it. */
			if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
				continue;
			int q = rm_rf_at(dfd, name);
			if (q < 0 && q != -ENOENT && r == 0)
				r = vsl_error_errno(err, q, "remove leftover 'overlay/%s'", name);
		} else if (alive != NULL && overlay_id_is_valid(name) &&
		           overlay_is_mounted(root_dirfd, name) && !alive(name, userdata)) {
			int q = overlay_unmount(root_dirfd, name, r == 0 ? err : NULL);
			if (q < 0 && r == 0)
				r = q;
		}
	}
	return r;
}

/* ---- changes ---- */

static bool is_whiteout(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

static bool is_opaque(int dirfd)
{
	char v[2];
	ssize_t n = fgetxattr(dirfd, "trusted.overlay.opaque", v, sizeof(v));
	if (n < 0) /* a rootless (userxattr) layer */
		n = fgetxattr(dirfd, "user.overlay.opaque", v, sizeof(v));
	return n == 1 && v[0] == 'y';
}

static int sys_openat2(int dirfd, const char *path, uint64_t flags, uint64_t resolve)
{
	struct open_how how = {.flags = flags, .resolve = resolve};
	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

/* Opens rel (a directory path inside a lower layer whose every component
 * was seen to be a directory) without following any symlink. */
static int open_lower_dir(int lower_root, const char *rel)
{
	static bool no_openat2;
	if (rel[0] == '\0')
		rel = ".";
	if (!no_openat2) {
		int fd = sys_openat2(lower_root, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
		                     RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
		if (fd >= 0 || errno != ENOSYS)
			return fd;
		no_openat2 = true;
	}
	/* One component at a time, none followed. */
	_cleanup_free_ char *copy = strdup(rel);
	if (copy == NULL)
		return -1;
	int fd = openat(lower_root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char *save = NULL;
	for (char *c = strtok_r(copy, "/", &save); fd >= 0 && c; c = strtok_r(NULL, "/", &save)) {
		int next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;
		close(fd);
		errno = e;
		fd = next;
	}
	return fd;
}

struct change_list {
	struct overlay_change *v;
	size_t n, cap;
};

struct walk {
	const int *roots; /* lower layers' root fds, top first */
	struct change_list out;
	struct vsl_error **err;
};

static int add_change(struct walk *w, const char *dir, const char *name, enum overlay_change_kind kind)
{
	struct change_list *l = &w->out;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct overlay_change *v = realloc(l->v, cap * sizeof(*v));
		if (v == NULL)
			return vsl_error_errno(w->err, ENOMEM, "list changes");
		l->v = v;
		l->cap = cap;
	}
	char *p = NULL;
	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return vsl_error_errno(w->err, ENOMEM, "list changes");
	l->v[l->n++] = (struct overlay_change){.path = p, .kind = kind};
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in a directory, without "." and "..". */
static int read_names(int dirfd, char ***ret, size_t *ret_n)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	_cleanup_closedir_ DIR *d = fdopendir(fd);
	if (d == NULL) {
		int e = errno;
		close(fd);
		return -e;
	}
	_cleanup_strv_ char **v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n + 2 > cap) {
			cap = cap ? cap * 2 : 16;
			char **nv = realloc(v, cap * sizeof(*nv));
			if (nv == NULL)
				return -ENOMEM;
			v = nv;
			v[n] = NULL;
		}
		if ((v[n] = strdup(de->d_name)) == NULL)
			return -ENOMEM;
		v[++n] = NULL;
		errno = 0;
	}
	if (errno != 0)
		return -errno;
	if (n > 0)
		qsort(v, n, sizeof(*v), cmp_str);
	*ret = TAKE_PTR(v);
	*ret_n = n;
	return 0;
}

static bool has_name(char **names, size_t n, const char *name)
{
	return n > 0 && bsearch(&name, names, n, sizeof(*names), cmp_str) != NULL;
}

struct subdir {
	char *name;
	size_t *chain; /* lower layers where the path is a directory, top first */
	size_t nchain;
};

/* The entries that the lower layers show in this directory (the first of
 * each name, top down, unless a whiteout) and that upper no longer has. */
static int report_shadowed(struct walk *w, const int *cfd, size_t nchain, const char *path,
                           char **upper_names, size_t n_upper)
{
	_cleanup_strv_ char **seen = NULL;
	size_t n_seen = 0;
	for (size_t k = 0; k < nchain; k++) {
		_cleanup_strv_ char **names = NULL;
		size_t n = 0;
		int r = read_names(cfd[k], &names, &n);
		if (r < 0)
			return vsl_error_errno(w->err, r, "read lower directory '%s/'", path);
		for (size_t i = 0; i < n; i++) {
			if (has_name(seen, n_seen, names[i]))
				continue;
			struct stat st;
			bool hidden =
			    fstatat(cfd[k], names[i], &st, AT_SYMLINK_NOFOLLOW) == 0 && is_whiteout(&st);
			if (!hidden && !has_name(upper_names, n_upper, names[i])) {
				r = add_change(w, path, names[i], OVERLAY_CHANGE_DELETE);
				if (r < 0)
					return r;
			}
		}
		if (k + 1 < nchain) {
			/* Merge names into seen, kept sorted for the lookups. */
			char **m = realloc(seen, (n_seen + n + 1) * sizeof(*m));
			if (m == NULL)
				return vsl_error_errno(w->err, ENOMEM, "list changes");
			seen = m;
			for (size_t i = 0; i < n; i++)
				seen[n_seen++] = TAKE_PTR(names[i]);
			seen[n_seen] = NULL;
			qsort(seen, n_seen, sizeof(*seen), cmp_str);
		}
	}
	return 0;
}

static void subdirs_free(struct subdir *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(s[i].name);
		free(s[i].chain);
	}
	free(s);
}

static void fds_close(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		closep(&fds[i]);
}

static int walk_entries(struct walk *w, int upper, const char *path, const size_t *chain, size_t nchain,
                        bool shadowed, const int *cfd, struct subdir **ret_subs, size_t *ret_nsubs)
{
	_cleanup_strv_ char **names = NULL;
	size_t n = 0;
	int r = read_names(upper, &names, &n);
	if (r < 0)
		return vsl_error_errno(w->err, r, "read '%s/'", path);

	struct subdir *subs = calloc(n ? n : 1, sizeof(*subs));
	if (subs == NULL)
		return vsl_error_errno(w->err, ENOMEM, "list changes");
	size_t nsubs = 0;

	for (size_t i = 0; i < n && r >= 0; i++) {
		struct stat st;
		if (fstatat(upper, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT) /* the container removed it meanwhile */
				continue;
			r = vsl_error_errno(w->err, errno, "stat '%s/%s'", path, names[i]);
			break;
		}

		/* What the lower layers show at this path: the first entry
		 * top down decides; a directory merges with the directories
		 * below it down to an opaque one or a non-directory. */
		bool exists = false, is_dir = false;
		size_t *sub_chain = calloc(nchain ? nchain : 1, sizeof(*sub_chain));
		size_t n_sub = 0;
		if (sub_chain == NULL) {
			r = vsl_error_errno(w->err, ENOMEM, "list changes");
			break;
		}
		for (size_t k = 0; k < nchain; k++) {
			int fd = openat(cfd[k], names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0 && errno == ENOENT)
				continue;
			if (fd < 0 && errno != ENOTDIR && errno != ELOOP) {
				r = vsl_error_errno(w->err, errno, "open lower '%s/%s'", path, names[i]);
				break;
			}
			if (fd < 0) {
				struct stat lst;
				if (fstatat(cfd[k], names[i], &lst, AT_SYMLINK_NOFOLLOW) == 0 &&
				    !is_whiteout(&lst) && !exists)
					exists = true;
				break;
			}
			if (!exists)
				exists = is_dir = true;
			sub_chain[n_sub++] = chain[k];
			bool opaque = is_opaque(fd);
			close(fd);
			if (opaque)
				break;
		}
		if (r < 0) {
			free(sub_chain);
			break;
		}

		if (is_whiteout(&st)) {
			if (exists)
				r = add_change(w, path, names[i], OVERLAY_CHANGE_DELETE);
			free(sub_chain);
			continue;
		}
		r = add_change(w, path, names[i], exists ? OVERLAY_CHANGE_MODIFY : OVERLAY_CHANGE_ADD);
		if (r < 0 || !S_ISDIR(st.st_mode) || (subs[nsubs].name = strdup(names[i])) == NULL) {
			free(sub_chain);
			if (r >= 0 && S_ISDIR(st.st_mode))
				r = vsl_error_errno(w->err, ENOMEM, "list changes");
			continue;
		}
		subs[nsubs].chain = sub_chain;
		subs[nsubs].nchain = is_dir ? n_sub : 0;
		nsubs++;
	}
	if (r >= 0 && shadowed && nchain > 0)
		r = report_shadowed(w, cfd, nchain, path, names, n);
	if (r < 0) {
		subdirs_free(subs, nsubs);
		return r;
	}
	*ret_subs = subs;
	*ret_nsubs = nsubs;
	return 0;
}

/* path: "" for the root, else "/a/b". Lower directories are opened per
 * directory and closed before descending, so a deep tree over many layers
 * holds few descriptors. */
static int walk_dir(struct walk *w, int upper, const char *path, const size_t *chain, size_t nchain,
                    bool shadowed)
{
	int *cfd = calloc(nchain ? nchain : 1, sizeof(int));
	if (cfd == NULL)
		return vsl_error_errno(w->err, ENOMEM, "list changes");
	size_t opened = 0;
	int r = 0;
	for (; opened < nchain; opened++) {
		cfd[opened] = open_lower_dir(w->roots[chain[opened]], path[0] ? path + 1 : "");
		if (cfd[opened] < 0) {
			r = vsl_error_errno(w->err, errno, "open lower directory '%s/'", path);
			break;
		}
	}
	struct subdir *subs = NULL;
	size_t nsubs = 0;
	if (r >= 0)
		r = walk_entries(w, upper, path, chain, nchain, shadowed, cfd, &subs, &nsubs);
	fds_close(cfd, opened);
	free(cfd);
	if (r < 0)
		return r;

	for (size_t i = 0; i < nsubs && r >= 0; i++) {
		_cleanup_close_ int fd =
		    openat(upper, subs[i].name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && (errno == ENOENT || errno == ENOTDIR || errno == ELOOP))
			continue; /* changed by the container meanwhile */
		if (fd < 0) {
			r = vsl_error_errno(w->err, errno, "open '%s/%s'", path, subs[i].name);
			break;
		}
		_cleanup_free_ char *sub_path = NULL;
		if (asprintf(&sub_path, "%s/%s", path, subs[i].name) < 0) {
			r = vsl_error_errno(w->err, ENOMEM, "list changes");
			break;
		}
		/* Opaque: the lower entries are gone, whatever upper shows. */
		bool sub_shadowed = shadowed || (subs[i].nchain > 0 && is_opaque(fd));
		r = walk_dir(w, fd, sub_path, subs[i].chain, subs[i].nchain, sub_shadowed);
	}
	subdirs_free(subs, nsubs);
	return r;
}

static int cmp_change(const void *a, const void *b)
{
	return strcmp(((const struct overlay_change *)a)->path, ((const struct overlay_change *)b)->path);
}

int overlay_changes(int root_dirfd, const char *id, char *const *lowers, struct overlay_change **ret,
                    size_t *ret_n, struct vsl_error **err)
{
	_cleanup_close_ int upper = -EBADF;
	int r = overlay_diff_dirfd(root_dirfd, id, &upper, err);
	if (r < 0)
		return r;

	size_t nl = 0;
	while (lowers && lowers[nl])
		nl++;
	int *roots = calloc(nl ? nl : 1, sizeof(int));
	size_t *chain = calloc(nl ? nl : 1, sizeof(size_t));
	struct walk w = {.roots = roots, .err = err};
	size_t opened = 0, nchain = 0;
	if (roots == NULL || chain == NULL) {
		r = vsl_error_errno(err, ENOMEM, "list changes of container '%s'", id);
		goto out;
	}
	for (; opened < nl; opened++) {
		roots[opened] = open(lowers[opened], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (roots[opened] < 0) {
			r = vsl_error_errno(err, errno, "open lower layer '%s'", lowers[opened]);
			goto out;
		}
	}
	/* Like any directory, the root merges down to an opaque one. */
	while (nchain < nl) {
		chain[nchain] = nchain;
		nchain++;
		if (is_opaque(roots[nchain - 1]))
			break;
	}
	r = walk_dir(&w, upper, "", chain, nchain, is_opaque(upper));
	if (r < 0) {
		vsl_error_prefix(err, "list changes of container '%s'", id);
		goto out;
	}
	if (w.out.n > 0)
		qsort(w.out.v, w.out.n, sizeof(*w.out.v), cmp_change);
	*ret = TAKE_PTR(w.out.v);
	*ret_n = w.out.n;
	w.out.n = 0;
out:
	overlay_changes_free(w.out.v, w.out.n);
	fds_close(roots, opened);
	free(roots);
	free(chain);
	return r;
}

void overlay_changes_free(struct overlay_change *c, size_t n)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(c[i].path);
	free(c);
}

const char *overlay_change_kind_to_string(enum overlay_change_kind kind)
{
	switch (kind) {
	case OVERLAY_CHANGE_MODIFY:
		return "C";
	case OVERLAY_CHANGE_ADD:
		return "A";
	case OVERLAY_CHANGE_DELETE:
		return "D";
	}
	return "?";
}
