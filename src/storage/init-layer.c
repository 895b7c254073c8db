#include "storage/init-layer.h"

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

static const char *const mountpoints[] = {"hosts", "hostname", "resolv.conf"};
#define N_MOUNTPOINTS (sizeof(mountpoints) / sizeof(mountpoints[0]))

/* What the merged layers show at /etc. */
struct etc_view {
	bool dir;     /* /etc is a directory (else: absent, or not one) */
	bool foreign; /* /etc is there but not a directory: nothing to add */
	struct stat st;
	bool missing[N_MOUNTPOINTS];
};

static bool is_whiteout(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

static bool is_opaque(int dirfd)
{
	char v[2];
	ssize_t n = fgetxattr(dirfd, "trusted.overlay.opaque", v, sizeof(v));
	if (n < 0)
		n = fgetxattr(dirfd, "user.overlay.opaque", v, sizeof(v));
	return n == 1 && v[0] == 'y';
}

/* Walks the layers top down, the way overlay merges them. */
static int etc_scan(char *const *lowers, struct etc_view *v, struct vsl_error **err)
{
	bool settled[N_MOUNTPOINTS] = {false};
	*v = (struct etc_view){0};
	for (size_t k = 0; k < N_MOUNTPOINTS; k++)
		v->missing[k] = true;
	for (size_t i = 0; lowers[i]; i++) {
		_cleanup_close_ int layer = open(lowers[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (layer < 0)
			return vsl_error_errno(err, errno, "open layer '%s'", lowers[i]);
		struct stat st;
		if (fstatat(layer, "etc", &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue;
			return vsl_error_errno(err, errno, "stat '%s/etc'", lowers[i]);
		}
		if (is_whiteout(&st))
			break; /* deleted here: the layers below do not show */
		if (!S_ISDIR(st.st_mode)) {
			v->foreign = !v->dir;
			break; /* a directory above hides it and all below */
		}
		if (!v->dir) {
			v->dir = true;
			v->st = st;
		}
		_cleanup_close_ int etc =
		    openat(layer, "etc", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (etc < 0)
			return vsl_error_errno(err, errno, "open '%s/etc'", lowers[i]);
		for (size_t k = 0; k < N_MOUNTPOINTS; k++) {
			if (settled[k])
				continue;
			struct stat f;
			if (fstatat(etc, mountpoints[k], &f, AT_SYMLINK_NOFOLLOW) == 0) {
				settled[k] = true;
				v->missing[k] = is_whiteout(&f);
			} else if (errno != ENOENT) {
				return vsl_error_errno(err, errno, "stat '%s/etc/%s'", lowers[i],
				                       mountpoints[k]);
			}
		}
		if (is_opaque(etc))
			break;
	}
	return 0;
}

static int fill(int dirfd, const struct etc_view *v, struct vsl_error **err)
{
	bool any = false;
	for (size_t k = 0; k < N_MOUNTPOINTS; k++)
		any |= !v->foreign && v->missing[k];
	if (!any)
		return 0;
	if (mkdirat(dirfd, "etc", 0755) < 0)
		return vsl_error_errno(err, errno, "create init layer's etc");
	_cleanup_close_ int etc = openat(dirfd, "etc", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (etc < 0)
		return vsl_error_errno(err, errno, "open init layer's etc");
	for (size_t k = 0; k < N_MOUNTPOINTS; k++) {
		if (!v->missing[k])
			continue;
		int fd =
		    openat(etc, mountpoints[k], O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0)
			return vsl_error_errno(err, errno, "create init layer's etc/%s", mountpoints[k]);
		close(fd);
	}
	if (!v->dir)
		return 0;
	/* Last: making the files above touched its times. */
	struct timespec times[2] = {v->st.st_atim, v->st.st_mtim};
	if (fchown(etc, v->st.st_uid, v->st.st_gid) < 0 || fchmod(etc, v->st.st_mode & 07777) < 0 ||
	    futimens(etc, times) < 0)
		return vsl_error_errno(err, errno, "copy the attributes of the image's /etc");
	return 0;
}

int init_layer_ensure(char *const *lowers, char **ret_path, struct vsl_error **err)
{
	*ret_path = NULL;
	if (lowers == NULL || lowers[0] == NULL)
		return 0;
	/* The top layer's directory, parent of its diff. */
	_cleanup_free_ char *layer = strdup(lowers[0]);
	char *slash = layer ? strrchr(layer, '/') : NULL;
	if (slash == NULL || slash == layer)
		return layer ? vsl_error_set(err, "layer path '%s' is not absolute", lowers[0])
		             : vsl_error_errno(err, ENOMEM, "init layer");
	*slash = '\0';
	_cleanup_close_ int dirfd = open(layer, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return vsl_error_errno(err, errno, "open layer '%s'", layer);
	_cleanup_free_ char *path = NULL;
	if (asprintf(&path, "%s/init", layer) < 0)
		return vsl_error_errno(err, ENOMEM, "init layer");
	struct stat st;
	if (fstatat(dirfd, "init", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
		*ret_path = TAKE_PTR(path);
		return 0;
	}

	struct etc_view v;
	int r = etc_scan(lowers, &v, err);
	if (r < 0)
		return r;
	char tmp[] = "init-tmp-XXXXXX";
	_cleanup_free_ char *tmp_path = NULL;
	if (asprintf(&tmp_path, "%s/%s", layer, tmp) < 0)
		return vsl_error_errno(err, ENOMEM, "init layer");
	if (mkdtemp(tmp_path) == NULL)
		return vsl_error_errno(err, errno, "create init layer in '%s'", layer);
	const char *name = strrchr(tmp_path, '/') + 1;
	_cleanup_close_ int tmpfd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	/* mkdtemp's 0700 would not matter (the container's layer supplies "/"),
	 * but a lower's root is the image's own: world-readable as unpacked. */
	if (tmpfd < 0 || fchmod(tmpfd, 0755) < 0)
		r = vsl_error_errno(err, errno, "create init layer in '%s'", layer);
	if (r >= 0)
		r = fill(tmpfd, &v, err);
	if (r >= 0 && (r = rename_noreplace_at(dirfd, name, "init")) < 0 && r != -EEXIST)
		r = vsl_error_errno(err, -r, "create init layer in '%s'", layer);
	if (r < 0) {
		rm_rf_at(dirfd, name);
		if (r != -EEXIST)
			return r;
	}
	*ret_path = TAKE_PTR(path);
	return 0;
}
