#include "storage/volume-local.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/tree.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/json-table.h"

bool volume_local_name_valid(const char *name)
{
	if (name == NULL || strlen(name) < 2)
		return false;
	for (const char *p = name; *p; p++) {
		char ch = *p;
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
		if (!alnum && (p == name || (ch != '_' && ch != '.' && ch != '-')))
			return false;
	}
	return true;
}

int volume_local_opts_parse(const struct json_kv *opts, size_t n, struct volume_local_opts *ret,
                            struct vsl_error **err)
{
	struct volume_local_opts o = {0};
	for (size_t i = 0; i < n; i++) {
		const char *k = opts[i].key, *v = opts[i].value ? opts[i].value : "";
		if (strcmp(k, "type") == 0)
			o.type = v;
		else if (strcmp(k, "device") == 0)
			o.device = v;
		else if (strcmp(k, "o") == 0)
			o.o = v;
		else if (strcmp(k, "size") == 0)
			return vsl_error_set_code(
			    err, EINVAL,
			    "quota size requested but no quota support (use o=size= with type=tmpfs)");
		else
			return vsl_error_set_code(err, EINVAL, "invalid option: \"%s\"", k);
	}
	if (o.type && *o.type && (o.device == NULL || *o.device == '\0'))
		return vsl_error_set_code(err, EINVAL, "missing required option: \"device\"");
	if (o.device && *o.device && (o.type == NULL || *o.type == '\0'))
		return vsl_error_set_code(err, EINVAL, "missing required option: \"type\"");
	*ret = o;
	return 0;
}

char *volume_local_data_path(const char *root, const char *name)
{
	char *p = NULL;
	return asprintf(&p, "%s/" VOLUME_LOCAL_DIR "/%s/_data", root, name) < 0 ? NULL : p;
}

static int volumes_dir(int root_dirfd, int *ret_fd, struct vsl_error **err)
{
	/* 0701, as Docker: others may reach a volume they know, not list them. */
	if (mkdirat(root_dirfd, VOLUME_LOCAL_DIR, 0701) < 0 && errno != EEXIST)
		return vsl_error_errno(err, errno, "create the volumes directory");
	int fd = openat(root_dirfd, VOLUME_LOCAL_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return vsl_error_errno(err, errno, "open the volumes directory");
	*ret_fd = fd;
	return 0;
}

static int volume_dir(int root_dirfd, const char *name, int *ret_fd, struct vsl_error **err)
{
	_cleanup_close_ int dir = -EBADF;
	int r = volumes_dir(root_dirfd, &dir, err);
	if (r < 0)
		return r;
	int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return vsl_error_errno(err, errno, "open volume '%s'", name);
	*ret_fd = fd;
	return 0;
}

int volume_local_create(int root_dirfd, const char *name, struct vsl_error **err)
{
	if (!volume_local_name_valid(name))
		return vsl_error_set_code(err, EINVAL, "invalid volume name '%s'", name);
	_cleanup_close_ int dir = -EBADF;
	int r = volumes_dir(root_dirfd, &dir, err);
	if (r < 0)
		return r;
	if (mkdirat(dir, name, 0755) < 0)
		return vsl_error_errno(err, errno, "create volume '%s'", name);
	_cleanup_close_ int vol = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (vol < 0 || mkdirat(vol, "_data", 0755) < 0) {
		r = vsl_error_errno(err, errno, "create volume '%s'", name);
		tree_remove(dir, name, NULL);
		return r;
	}
	return 0;
}

bool volume_local_is_mounted(int root_dirfd, const char *name)
{
	_cleanup_close_ int vol = -EBADF;
	if (volume_dir(root_dirfd, name, &vol, NULL) < 0)
		return false;
	struct statx stx;
	if (statx(vol, "_data", AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_TYPE, &stx) < 0)
		return false;
	if (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)
		return (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
	/* Before Linux 5.8: another device is a mount; a bind of the same one goes unseen. */
	struct stat a, b;
	return fstat(vol, &a) == 0 && fstatat(vol, "_data", &b, AT_SYMLINK_NOFOLLOW) == 0 &&
	       a.st_dev != b.st_dev;
}

int volume_local_open_data(int root_dirfd, const char *name, int *ret_fd, struct vsl_error **err)
{
	_cleanup_close_ int vol = -EBADF;
	int r = volume_dir(root_dirfd, name, &vol, err);
	if (r < 0)
		return r;
	int fd = openat(vol, "_data", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return vsl_error_errno(err, errno, "open the data of volume '%s'", name);
	*ret_fd = fd;
	return 0;
}

/* mount(8)'s option words, as Docker's mount.ParseOptions knows them. */
static const struct {
	const char *name;
	bool clear;
	unsigned long flag;
} mount_flags[] = {
    {"defaults", false, 0},
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"suid", true, MS_NOSUID},
    {"nosuid", false, MS_NOSUID},
    {"dev", true, MS_NODEV},
    {"nodev", false, MS_NODEV},
    {"exec", true, MS_NOEXEC},
    {"noexec", false, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},
    {"async", true, MS_SYNCHRONOUS},
    {"dirsync", false, MS_DIRSYNC},
    {"mand", false, MS_MANDLOCK},
    {"nomand", true, MS_MANDLOCK},
    {"atime", true, MS_NOATIME},
    {"noatime", false, MS_NOATIME},
    {"diratime", true, MS_NODIRATIME},
    {"nodiratime", false, MS_NODIRATIME},
    {"bind", false, MS_BIND},
    {"rbind", false, MS_BIND | MS_REC},
    {"relatime", false, MS_RELATIME},
    {"norelatime", true, MS_RELATIME},
    {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME},
};

static int parse_o(const char *o, unsigned long *ret_flags, char **ret_data, struct vsl_error **err)
{
	unsigned long flags = 0;
	_cleanup_free_ char *dup = strdup(o ? o : "");
	_cleanup_free_ char *data = calloc(1, strlen(o ? o : "") + 1);
	if (dup == NULL || data == NULL)
		return vsl_error_errno(err, ENOMEM, "parse mount options");
	size_t len = 0;
	char *save = NULL;
	for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		bool known = false;
		for (size_t i = 0; i < ARRAY_SIZE(mount_flags) && !known; i++) {
			if (strcmp(t, mount_flags[i].name) != 0)
				continue;
			known = true;
			if (mount_flags[i].clear)
				flags &= ~mount_flags[i].flag;
			else
				flags |= mount_flags[i].flag;
		}
		if (known)
			continue;
		len += (size_t)snprintf(data + len, strlen(o) + 1 - len, "%s%s", len ? "," : "", t);
	}
	*ret_flags = flags;
	*ret_data = TAKE_PTR(data);
	return 0;
}

int volume_local_mount(int root_dirfd, const char *name, const struct volume_local_opts *o,
                       struct vsl_error **err)
{
	if (o == NULL || o->type == NULL || *o->type == '\0')
		return 0;
	if (volume_local_is_mounted(root_dirfd, name))
		return 0;
	unsigned long flags = 0;
	_cleanup_free_ char *data = NULL;
	int r = parse_o(o->o, &flags, &data, err);
	if (r < 0)
		return r;
	_cleanup_close_ int vol = -EBADF;
	if ((r = volume_dir(root_dirfd, name, &vol, err)) < 0)
		return r;
	/* The target by its fd: a path string could be swapped on the way. */
	_cleanup_close_ int target = openat(vol, "_data", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (target < 0)
		return vsl_error_errno(err, errno, "open the data of volume '%s'", name);
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", target);
	if (flags & MS_BIND) {
		/* A bind takes no data, and its other flags only by a remount. */
		if (mount(o->device, path, NULL, flags & (MS_BIND | MS_REC), NULL) < 0)
			return vsl_error_errno(err, errno, "mount local volume '%s': bind '%s'", name,
			                       o->device);
		unsigned long rest = flags & ~(MS_BIND | MS_REC);
		if (rest) {
			_cleanup_close_ int top =
			    openat(vol, "_data", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			char p2[64];
			snprintf(p2, sizeof(p2), "/proc/self/fd/%d", top);
			if (top < 0 || mount(NULL, p2, NULL, MS_BIND | MS_REMOUNT | rest, NULL) < 0) {
				r = vsl_error_errno(err, errno, "mount local volume '%s': remount '%s'", name,
				                    o->o);
				volume_local_unmount(root_dirfd, name, NULL);
				return r;
			}
		}
		return 0;
	}
	if (mount(o->device, path, o->type, flags, *data ? data : NULL) < 0)
		return vsl_error_errno(err, errno,
		                       "mount local volume '%s': mount %s (type %s, options '%s')", name,
		                       o->device, o->type, o->o ? o->o : "");
	return 0;
}

int volume_local_unmount(int root_dirfd, const char *name, struct vsl_error **err)
{
	/* Stacked mounts (two starts that raced before the engine's lock) go one by one. */
	for (int i = 0; i < 16 && volume_local_is_mounted(root_dirfd, name); i++) {
		_cleanup_close_ int vol = -EBADF;
		int r = volume_dir(root_dirfd, name, &vol, err);
		if (r < 0)
			return r;
		_cleanup_close_ int top = openat(vol, "_data", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (top < 0)
			return vsl_error_errno(err, errno, "open the data of volume '%s'", name);
		char path[64];
		snprintf(path, sizeof(path), "/proc/self/fd/%d", top);
		/* Detached: a container that still has it keeps its view; the host's goes. */
		if (umount2(path, MNT_DETACH) < 0)
			return vsl_error_errno(err, errno, "unmount local volume '%s'", name);
	}
	return 0;
}

int volume_local_remove(int root_dirfd, const char *name, struct vsl_error **err)
{
	int r = volume_local_unmount(root_dirfd, name, err);
	if (r < 0)
		return r;
	_cleanup_close_ int dir = -EBADF;
	if ((r = volumes_dir(root_dirfd, &dir, err)) < 0)
		return r;
	if ((r = tree_remove(dir, name, err)) < 0)
		return vsl_error_prefix(err, "remove volume '%s'", name);
	return 0;
}
