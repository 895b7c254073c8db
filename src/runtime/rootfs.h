/* The container's root filesystem: the spec's mounts, /dev, pivot_root, masked
 * and read-only paths, sysctls.
 *
 * Runs in the container's init process, inside its new mount namespace.
 * Every target is resolved inside the rootfs by resolve.c (openat2
 * RESOLVE_IN_ROOT), the fd that was checked is the one mounted on, and a path
 * string is never looked up again after that (CVE-2021-30465 and kin).
 *
 *     rootfs_prepare(&ctx, err);   // propagation, mounts, /dev
 *     ... createContainer hooks run here, on the host's paths ...
 *     rootfs_pivot(&ctx, err);     // pivot_root (or MS_MOVE + chroot)
 *     rootfs_finalize(&ctx, err);  // masked, readonly paths, sysctls, ro root
 */
#pragma once

#include <stdbool.h>

struct vsl_error;
struct oci_config;

struct rootfs_ctx {
	const struct oci_config *config;
	const char *rootfs; /* absolute host path of the root filesystem */
	bool no_pivot;
	bool new_userns; /* devices are bind-mounted from the host, not mknod'ed */
	int rootfd;      /* set by rootfs_prepare; closed by rootfs_ctx_clear */
	/* When not NULL: called once, before the first cgroup mount or else at
	 * the end of rootfs_prepare, to enter the container's cgroups. */
	int (*enter_cgroups)(void *userdata, struct vsl_error **err);
	void *userdata;
};

int rootfs_prepare(struct rootfs_ctx *ctx, struct vsl_error **err);
int rootfs_pivot(struct rootfs_ctx *ctx, struct vsl_error **err);
int rootfs_finalize(struct rootfs_ctx *ctx, struct vsl_error **err);
void rootfs_ctx_clear(struct rootfs_ctx *ctx);
