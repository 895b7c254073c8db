/* The spec's mounts, one entry at a time, onto fds from resolve.c.
 *
 * Everything goes through the new mount API: a filesystem is built with
 * fsopen/fsconfig/fsmount, a bind is cloned with open_tree, attributes are set
 * with mount_setattr on the detached mount, and the result is attached with
 * move_mount(MOVE_MOUNT_T_EMPTY_PATH) onto the very fd that resolve.c
 * checked. No path string inside the root is looked up twice and /proc is not
 * needed for any of it.
 *
 * Internal to runtime/ (rootfs.c and devices.c use it).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct vsl_error;
struct oci_config;
struct oci_mount;
struct mount_opts;

/* Mounts spec entry `m` inside the root. Errors read
 * "mount 'proc' on '/proc': <reason>". */
int mounts_apply(int rootfd, const struct oci_config *c, const struct oci_mount *m, bool new_userns,
                 struct vsl_error **err);

/* A new detached filesystem mount: fsopen(type) + fsconfig(source, sb flags,
 * data) + fsmount with the attributes of `o`. Returns the mount fd. */
int mounts_new_fs(const char *type, const char *source, const struct mount_opts *o, struct vsl_error **err);

/* move_mount(mntfd -> targetfd) with both paths empty. */
int mounts_attach(int mntfd, int targetfd);

/* mount_setattr(fd, "", AT_EMPTY_PATH [| AT_RECURSIVE], ...). Returns 0 or -errno. */
int mounts_setattr(int fd, bool recursive, uint64_t set, uint64_t clr, uint64_t propagation);

/* Clones the file or directory behind `srcfd` (an O_PATH fd) and mounts it on
 * `targetfd` with `attr_set`; for masking and read-only paths. Returns 0 or
 * -errno. */
int mounts_bind_fd(int srcfd, int targetfd, bool recursive, uint64_t attr_set);
