#include "runtime/devices.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "runtime/config.h"
#include "runtime/mounts.h"
#include "runtime/resolve.h"
#include "util/cleanup.h"
#include "util/error.h"

/* The OCI spec's default devices (config-linux.md, "Default Devices"). */
static const struct oci_device default_devices[] = {
    {.path = "/dev/null", .type = 'c', .major = 1, .minor = 3},
    {.path = "/dev/zero", .type = 'c', .major = 1, .minor = 5},
    {.path = "/dev/full", .type = 'c', .major = 1, .minor = 7},
    {.path = "/dev/random", .type = 'c', .major = 1, .minor = 8},
    {.path = "/dev/urandom", .type = 'c', .major = 1, .minor = 9},
    {.path = "/dev/tty", .type = 'c', .major = 5, .minor = 0},
};

/* Removes whatever the image left at dirfd/name. Only that directory entry
 * is touched: unlinkat never follows the final symlink. */
static int clear_entry(int dirfd, const char *name)
{
	if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno == EISDIR && unlinkat(dirfd, name, AT_REMOVEDIR) == 0)
		return 0;
	return -errno;
}

static int device_mode(const struct oci_device *d, mode_t *ret)
{
	switch (d->type) {
	case 'c':
	case 'u':
		*ret = S_IFCHR;
		return 0;
	case 'b':
		*ret = S_IFBLK;
		return 0;
	case 'p':
		*ret = S_IFIFO;
		return 0;
	default:
		return -EINVAL;
	}
}

static int make_node(int dirfd, const char *name, const struct oci_device *d, mode_t type)
{
	mode_t perm = d->has_mode ? (d->file_mode & 07777) : 0666;
	dev_t dev = type == S_IFIFO ? 0 : makedev((unsigned)d->major, (unsigned)d->minor);
	/* umask would narrow fileMode; set it exactly at creation instead of a
	 * later chmod by name. */
	mode_t old = umask(0);
	int r = mknodat(dirfd, name, type | perm, dev);
	umask(old);
	if (r < 0)
		return -errno;
	uid_t uid = d->has_uid ? d->uid : 0;
	gid_t gid = d->has_gid ? d->gid : 0;
	if (fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return 0;
}

/* In a user namespace: an empty file, and the host's node bound onto its fd. */
static int bind_node(int dirfd, const char *name, const struct oci_device *d)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0000);
	if (fd < 0)
		return -errno;
	close(fd);
	_cleanup_close_ int target = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (target < 0)
		return -errno;
	/* The source is the host's device of that name (before pivot_root, the
	 * host's /dev is what "/dev/..." names). */
	_cleanup_close_ int src = open(d->path, O_PATH | O_CLOEXEC);
	if (src < 0)
		return -errno;
	return mounts_bind_fd(src, target, false, 0);
}

static int create_device(int rootfd, const struct oci_device *d, bool new_userns, struct vsl_error **err)
{
	mode_t type;
	if (d->path == NULL || device_mode(d, &type) < 0)
		return vsl_error_errno(err, EINVAL, "device '%s': unknown type '%c'", d->path ? d->path : "",
		                       d->type);
	_cleanup_free_ char *name = NULL;
	_cleanup_close_ int dirfd = resolve_parent(rootfd, d->path, 0755, &name, err);
	if (dirfd < 0)
		return vsl_error_prefix(err, "create device '%s'", d->path);
	int r = clear_entry(dirfd, name);
	if (r < 0)
		return vsl_error_errno(err, -r, "create device '%s': remove what is there", d->path);
	r = new_userns ? -EPERM : make_node(dirfd, name, d, type);
	if (r == -EPERM) {
		/* mknod is refused in a user namespace, and by a device cgroup
		 * without "m" for it: bind the host's node instead, as runc does. */
		(void)unlinkat(dirfd, name, 0);
		r = bind_node(dirfd, name, d);
		if (r == -ENOENT) {
			(void)unlinkat(dirfd, name, 0);
			return vsl_error_errno(
			    err, EPERM,
			    "create device '%s': mknod refused (user namespace or device cgroup) "
			    "and the host has no such device to bind",
			    d->path);
		}
	}
	if (r < 0)
		return vsl_error_errno(err, -r, "create device '%s'", d->path);
	return 0;
}

static bool in_config(const struct oci_config *c, const char *path)
{
	_cleanup_free_ char *want = resolve_clean_path(path);
	for (size_t i = 0; want && i < c->n_devices; i++) {
		_cleanup_free_ char *have =
		    c->devices[i].path ? resolve_clean_path(c->devices[i].path) : NULL;
		if (have && strcmp(have, want) == 0)
			return true;
	}
	return false;
}

static int dev_symlinks(int rootfd, struct vsl_error **err)
{
	static const struct {
		const char *target, *name;
	} links[] = {
	    {"/proc/self/fd", "fd"},       {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
	    {"/proc/self/fd/2", "stderr"}, {"/proc/kcore", "core"},
	};
	_cleanup_close_ int devfd = resolve_mkdir_p(rootfd, "/dev", 0755, err);
	if (devfd < 0)
		return devfd;
	for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
		/* runc links /dev/core only where the host has /proc/kcore. */
		if (strcmp(links[i].name, "core") == 0 && access("/proc/kcore", F_OK) < 0)
			continue;
		if (symlinkat(links[i].target, devfd, links[i].name) < 0 && errno != EEXIST)
			return vsl_error_errno(err, errno, "symlink '/dev/%s'", links[i].name);
	}
	/* /dev/ptmx is the devpts instance's own ptmx, whatever was there. */
	int r = clear_entry(devfd, "ptmx");
	if (r < 0 || symlinkat("pts/ptmx", devfd, "ptmx") < 0)
		return vsl_error_errno(err, r < 0 ? -r : errno, "symlink '/dev/ptmx'");
	return 0;
}

int devices_setup(int rootfd, const struct oci_config *c, bool with_defaults, bool new_userns,
                  struct vsl_error **err)
{
	if (with_defaults) {
		for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++) {
			if (in_config(c, default_devices[i].path))
				continue;
			int r = create_device(rootfd, &default_devices[i], new_userns, err);
			if (r < 0)
				return r;
		}
	}
	for (size_t i = 0; i < c->n_devices; i++) {
		int r = create_device(rootfd, &c->devices[i], new_userns, err);
		if (r < 0)
			return r;
	}
	return with_defaults ? dev_symlinks(rootfd, err) : 0;
}
