#include "runtime/rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "runtime/config.h"
#include "runtime/devices.h"
#include "runtime/mount-opts.h"
#include "runtime/mounts.h"
#include "runtime/resolve.h"
#include "util/cleanup.h"
#include "util/error.h"

static int root_propagation(const struct oci_config *c, unsigned long *ret_flag, bool *ret_rec,
                            struct vsl_error **err)
{
	/* runc's default: slave, so host mounts still reach the container but
	 * nothing the container mounts reaches the host. */
	*ret_flag = MS_SLAVE;
	*ret_rec = true;
	if (c->rootfs_propagation && *c->rootfs_propagation &&
	    mount_propagation_parse(c->rootfs_propagation, ret_flag, ret_rec) < 0)
		return vsl_error_errno(err, EINVAL, "linux.rootfsPropagation: unknown value '%s'",
		                       c->rootfs_propagation);
	return 0;
}

/* pivot_root refuses a new root whose parent mount is shared, and that
 * parent is the mount the rootfs sits on now, once we bind over it. Making it
 * private first also keeps the bind itself from propagating. mount_setattr
 * wants the mount's root, so find its mount point by mount id (host paths
 * here: we are before pivot_root and nothing of the image is involved). */
static int make_parent_private(const char *rootfs, struct vsl_error **err)
{
	struct statx stx;
	if (statx(AT_FDCWD, rootfs, AT_NO_AUTOMOUNT, STATX_MNT_ID, &stx) < 0)
		return vsl_error_errno(err, errno, "stat rootfs '%s'", rootfs);
	if (!(stx.stx_mask & STATX_MNT_ID))
		return vsl_error_errno(err, ENOTSUP, "stat rootfs '%s': no mount id", rootfs);
	/* The mount point is the highest directory of the (canonical) path still on
	 * the same mount. Walking up with statx is a few lookups; mountinfo would
	 * have the kernel print every mount of the host (1.5 ms with 180 of them). */
	_cleanup_free_ char *mp = strdup(rootfs);
	if (mp == NULL)
		return vsl_error_errno(err, ENOMEM, "find the mount of rootfs '%s'", rootfs);
	for (;;) {
		char *slash = strrchr(mp, '/');
		if (slash == NULL || mp[1] == '\0')
			break; /* at "/" */
		char saved = slash[slash == mp ? 1 : 0];
		slash[slash == mp ? 1 : 0] = '\0'; /* the parent; "/" keeps its slash */
		struct statx up;
		if (statx(AT_FDCWD, mp, AT_NO_AUTOMOUNT, STATX_MNT_ID, &up) < 0)
			return vsl_error_errno(err, errno, "stat '%s'", mp);
		if (up.stx_mnt_id != stx.stx_mnt_id) {
			slash[slash == mp ? 1 : 0] = saved; /* back to the child: the mount's root */
			break;
		}
	}
	if (mount(NULL, mp, NULL, MS_PRIVATE, NULL) < 0)
		return vsl_error_errno(err, errno, "make mount '%s' private", mp);
	return 0;
}

static int enter_cgroups(struct rootfs_ctx *ctx, struct vsl_error **err)
{
	int (*enter)(void *, struct vsl_error **) = ctx->enter_cgroups;
	ctx->enter_cgroups = NULL;
	return enter ? enter(ctx->userdata, err) : 0;
}

int rootfs_prepare(struct rootfs_ctx *ctx, struct vsl_error **err)
{
	const struct oci_config *c = ctx->config;
	ctx->rootfd = -EBADF;

	unsigned long prop;
	bool rec;
	int r = root_propagation(c, &prop, &rec, err);
	if (r < 0)
		return r;
	if (mount(NULL, "/", NULL, prop | (rec ? MS_REC : 0), NULL) < 0)
		return vsl_error_errno(err, errno, "set propagation of '/'");

	r = make_parent_private(ctx->rootfs, err);
	if (r < 0)
		return r;
	/* The rootfs must be a mount point of its own for pivot_root. */
	if (mount(ctx->rootfs, ctx->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		return vsl_error_errno(err, errno, "bind mount rootfs '%s'", ctx->rootfs);
	ctx->rootfd = open(ctx->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ctx->rootfd < 0)
		return vsl_error_errno(err, errno, "open rootfs '%s'", ctx->rootfs);

	bool dev_bound = false;
	for (size_t i = 0; i < c->n_mounts; i++) {
		const struct oci_mount *m = &c->mounts[i];
		if (m->type && strncmp(m->type, "cgroup", 6) == 0 && (r = enter_cgroups(ctx, err)) < 0)
			return r;
		r = mounts_apply(ctx->rootfd, c, m, ctx->new_userns, err);
		if (r < 0)
			return r;
		_cleanup_free_ char *dest = resolve_clean_path(m->destination);
		if (dest && strcmp(dest, "/dev") == 0) {
			struct mount_opts o;
			bool bind = m->type && strcmp(m->type, "bind") == 0;
			if (mount_opts_parse(m->options, &o, NULL) == 0) {
				bind = bind || o.bind || o.rbind;
				mount_opts_clear(&o);
			}
			dev_bound = bind;
		}
	}

	/* The spec's default devices are made whether /dev is a fresh mount or the
	 * image's own directory. A /dev bound from the host is used as it is (runc: privileged
	 * containers with -v /dev:/dev). */
	if (!dev_bound) {
		r = devices_setup(ctx->rootfd, c, true, ctx->new_userns, err);
		if (r < 0)
			return r;
	}
	return enter_cgroups(ctx, err);
}

int rootfs_pivot(struct rootfs_ctx *ctx, struct vsl_error **err)
{
	if (fchdir(ctx->rootfd) < 0)
		return vsl_error_errno(err, errno, "chdir to rootfs '%s'", ctx->rootfs);

	if (ctx->no_pivot) {
		/* runc --no-pivot: for roots pivot_root cannot leave (initramfs). */
		if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
			return vsl_error_errno(err, errno, "move rootfs '%s' to '/'", ctx->rootfs);
		if (chroot(".") < 0)
			return vsl_error_errno(err, errno, "chroot to rootfs '%s'", ctx->rootfs);
	} else {
		_cleanup_close_ int oldroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (oldroot < 0)
			return vsl_error_errno(err, errno, "open '/'");
		/* pivot_root(".", "."): the old root ends up stacked on top of the
		 * new one, so no put_old directory is needed inside the rootfs. */
		if (syscall(SYS_pivot_root, ".", ".") < 0)
			return vsl_error_errno(err, errno, "pivot_root to '%s'", ctx->rootfs);
		if (fchdir(oldroot) < 0)
			return vsl_error_errno(err, errno, "chdir to the old root");
		/* Slave first: the detach must not propagate to the host's mounts. */
		if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
			return vsl_error_errno(err, errno, "make the old root a slave");
		if (umount2(".", MNT_DETACH) < 0)
			return vsl_error_errno(err, errno, "detach the old root");
	}
	if (chdir("/") < 0)
		return vsl_error_errno(err, errno, "chdir to '/'");

	int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return vsl_error_errno(err, errno, "open the new '/'");
	closep(&ctx->rootfd);
	ctx->rootfd = fd;
	return 0;
}

/* Writes a linux.sysctl entry. Only namespaced keys are accepted (as runc's
 * validator): the rest would change the host. The file is opened inside the
 * root and must be on procfs (CVE-2019-16884: a bind over /proc/sys would
 * redirect the write). */
static bool sysctl_allowed(const struct oci_config *c, const char *key)
{
	static const char *const ipc[] = {"kernel.msgmax", "kernel.msgmnb",         "kernel.msgmni",
	                                  "kernel.sem",    "kernel.shmall",         "kernel.shmmax",
	                                  "kernel.shmmni", "kernel.shm_rmid_forced"};
	for (size_t i = 0; i < ARRAY_SIZE(ipc); i++)
		if (strcmp(key, ipc[i]) == 0)
			return c->namespaces[NS_IPC].present;
	if (strncmp(key, "fs.mqueue.", 10) == 0 || strncmp(key, "fs/mqueue/", 10) == 0)
		return c->namespaces[NS_IPC].present;
	if (strncmp(key, "net.", 4) == 0 || strncmp(key, "net/", 4) == 0)
		return c->namespaces[NS_NETWORK].present;
	if (strcmp(key, "kernel.hostname") == 0 || strcmp(key, "kernel.domainname") == 0)
		return c->namespaces[NS_UTS].present;
	return false;
}

static int write_sysctl(int rootfd, const struct oci_config *c, const struct json_kv *kv,
                        struct vsl_error **err)
{
	const char *key = kv->key;
	if (key == NULL || *key == '\0' || key[0] == '/' || key[0] == '.' || strstr(key, "..") ||
	    strstr(key, "/.") || strstr(key, "./"))
		return vsl_error_errno(err, EINVAL, "sysctl '%s': invalid name", key ? key : "");
	if (!sysctl_allowed(c, key))
		return vsl_error_errno(err, EPERM, "sysctl '%s' is not in a separate kernel namespace", key);

	_cleanup_free_ char *path = NULL;
	if (asprintf(&path, "/proc/sys/%s", key) < 0)
		return vsl_error_errno(err, ENOMEM, "sysctl '%s'", key);
	/* "net.ipv4.ip_forward" -> net/ipv4/ip_forward; a key with slashes
	 * ("net/ipv4/conf/eth0.100/forwarding") is already a path. */
	if (strchr(key, '/') == NULL)
		for (char *p = path + strlen("/proc/sys/"); *p; p++)
			if (*p == '.')
				*p = '/';
	_cleanup_close_ int fd = resolve_open(rootfd, path, O_WRONLY | O_NOFOLLOW, 0, err);
	if (fd < 0)
		return vsl_error_prefix(err, "sysctl '%s'", key);
	if (!resolve_fd_is_procfs(fd))
		return vsl_error_errno(err, EPERM, "sysctl '%s': '%s' is not on procfs", key, path);
	const char *v = kv->value ? kv->value : "";
	size_t len = strlen(v);
	if (write(fd, v, len) != (ssize_t)len)
		return vsl_error_errno(err, errno, "sysctl '%s': write '%s'", key, v);
	return 0;
}

static int readonly_path(int rootfd, const char *path, struct vsl_error **err)
{
	_cleanup_close_ int fd = resolve_open_quiet(rootfd, path, O_PATH, 0);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return vsl_error_errno(err, -fd, "readonly path '%s'", path);
	int r = mounts_bind_fd(fd, fd, true, MOUNT_ATTR_RDONLY);
	if (r < 0)
		return vsl_error_errno(err, -r, "make '%s' read-only", path);
	return 0;
}

/* The /dev/null that masks files must be the real one: a container's
 * /dev/null replaced by a symlink or a bind of a procfs file would turn the
 * masking bind into a write path to that file (CVE-2025-31133). The fd that
 * was checked is the one cloned for every mask. */
static int open_dev_null(int rootfd, struct vsl_error **err)
{
	_cleanup_close_ int fd = resolve_open(rootfd, "/dev/null", O_PATH | O_NOFOLLOW, 0, err);
	if (fd < 0)
		return vsl_error_prefix(err, "mask paths");
	struct stat st;
	if (fstat(fd, &st) < 0)
		return vsl_error_errno(err, errno, "mask paths: stat '/dev/null'");
	if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
		return vsl_error_errno(err, EPERM,
		                       "mask paths: '/dev/null' in the container is not the null device");
	return TAKE_FD(fd);
}

static int mask_path(int rootfd, const char *path, int *nullfd, struct vsl_error **err)
{
	_cleanup_close_ int fd = resolve_open_quiet(rootfd, path, O_PATH, 0);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return vsl_error_errno(err, -fd, "mask '%s'", path);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return vsl_error_errno(err, errno, "mask '%s'", path);

	int r;
	if (S_ISDIR(st.st_mode)) {
		struct mount_opts o = {.attr_set = MOUNT_ATTR_RDONLY};
		_cleanup_close_ int mnt = mounts_new_fs("tmpfs", "tmpfs", &o, err);
		if (mnt < 0)
			return vsl_error_prefix(err, "mask '%s'", path);
		r = mounts_attach(mnt, fd);
	} else {
		if (*nullfd < 0) {
			*nullfd = open_dev_null(rootfd, err);
			if (*nullfd < 0)
				return *nullfd;
		}
		r = mounts_bind_fd(*nullfd, fd, false, 0);
	}
	if (r < 0)
		return vsl_error_errno(err, -r, "mask '%s'", path);
	return 0;
}

int rootfs_finalize(struct rootfs_ctx *ctx, struct vsl_error **err)
{
	const struct oci_config *c = ctx->config;
	int r;

	/* runc's order: sysctls while /proc/sys is still writable, then
	 * read-only and masked paths, then the read-only root. */
	for (size_t i = 0; i < c->n_sysctl; i++) {
		r = write_sysctl(ctx->rootfd, c, &c->sysctl[i], err);
		if (r < 0)
			return r;
	}
	for (char **p = c->readonly_paths; p && *p; p++) {
		r = readonly_path(ctx->rootfd, *p, err);
		if (r < 0)
			return r;
	}
	_cleanup_close_ int nullfd = -EBADF;
	for (char **p = c->masked_paths; p && *p; p++) {
		r = mask_path(ctx->rootfd, *p, &nullfd, err);
		if (r < 0)
			return r;
	}
	if (c->root_readonly) {
		/* Only the root mount, like MS_REMOUNT|MS_BIND|MS_RDONLY: the
		 * spec's own mounts keep their options, and the flags the root
		 * already has (nosuid, nodev, ...) stay since none is cleared. */
		r = mounts_setattr(ctx->rootfd, false, MOUNT_ATTR_RDONLY, 0, 0);
		if (r < 0)
			return vsl_error_errno(err, -r, "make '/' read-only");
	}
	if (c->rootfs_propagation && *c->rootfs_propagation) {
		unsigned long prop;
		bool rec;
		r = root_propagation(c, &prop, &rec, err);
		if (r < 0)
			return r;
		r = mounts_setattr(ctx->rootfd, rec, 0, 0, prop);
		if (r < 0)
			return vsl_error_errno(err, -r, "set propagation of '/' to %s",
			                       c->rootfs_propagation);
	}
	return 0;
}

void rootfs_ctx_clear(struct rootfs_ctx *ctx)
{
	if (ctx->rootfd >= 0)
		close(ctx->rootfd);
	ctx->rootfd = -EBADF;
}
