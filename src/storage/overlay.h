/* Containers' read-write layers and their overlay root filesystems, at
 * `<root>/overlay/<id>/{diff,work,merged}`: diff is the container's own layer
 * (overlay's upperdir), merged is where its root filesystem is mounted, with
 * the image's unpacked layers (layer_store_diff_path()) as lowerdirs.
 *
 *     overlay_create(root_fd, id, err);                       (at `create`)
 *     overlay_mount(root_fd, id, lowers, &opts, &rootfs, err); (at `start`)
 *     ... run the container with rootfs as its root ...
 *     overlay_unmount(root_fd, id, err);                      (when it stops)
 *     overlay_remove(root_fd, id, err);                       (at `rm`)
 *
 * Ids are container ids, 64 lowercase hex digits; anything else is refused
 * before it names a path. A layer appears under its id only once complete
 * (made under a tmp- name, then renamed), and removal renames it to a del-
 * name before deleting it, so a crash never leaves a half-made or half-removed
 * layer under an id; overlay_gc() clears the leftovers.
 *
 * Mounting is on the path of every `vessel run`: N + 10 system calls for N
 * layers (readlink of the root, fsopen, one fsconfig "lowerdir+" per layer,
 * upperdir, workdir, redirect_dir, create, fsmount, move_mount, two closes):
 * the new mount API of Linux 6.8+, whose "lowerdir+" has no length limit and
 * needs no escaping. Older kernels get mount(2) with an option string, short
 * /proc/self/fd paths standing in for the lowers when it would exceed a page
 * (no chdir: the process may have threads).
 * Mounts are made with redirect_dir=nofollow (hence also no metacopy): a
 * renamed directory is copied up whole, so diff is always a complete layer
 * for `commit` and `diff`. All of it needs CAP_SYS_ADMIN (or "userxattr" in a
 * user namespace). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct vsl_error;

/* True for exactly 64 lowercase hex digits. */
bool overlay_id_is_valid(const char *id);

/* Makes `overlay/<id>` (0700) with diff (0755: it is the container's "/"),
 * work and merged. An existing layer of that id is an error (EEXIST). */
int overlay_create(int root_dirfd, const char *id, struct vsl_error **err);

struct overlay_mount_opts {
	bool read_only; /* `--read-only`: writes fail with EROFS */
	/* No syncs to the upper filesystem (`--rm` containers): after a crash
	 * the layer is unusable. Mounting it again (a restart) first syncs the
	 * file system and clears the kernel's mark of the last volatile mount. */
	bool volatile_;
	bool userxattr; /* rootless: overlay's xattrs in user.overlay.* */
};

/* Mounts the container's root filesystem on `overlay/<id>/merged`. lowers:
 * absolute paths of the image's layer diff directories, top layer first,
 * NULL-terminated; none (an image without layers) gives an empty root over
 * an empty lower. opts may be NULL. ret_path (may be NULL): the absolute
 * path of merged. Mounting an already mounted layer stacks a second mount. */
int overlay_mount(int root_dirfd, const char *id, char *const *lowers, const struct overlay_mount_opts *opts,
                  char **ret_path, struct vsl_error **err);
/* Detaches every mount on merged (umount2 MNT_DETACH); not mounted is not an
 * error, nor is an absent layer. */
int overlay_unmount(int root_dirfd, const char *id, struct vsl_error **err);
bool overlay_is_mounted(int root_dirfd, const char *id);

/* Unmounts and removes the layer; an absent layer is not an error. */
int overlay_remove(int root_dirfd, const char *id, struct vsl_error **err);

/* fd (O_RDONLY | O_DIRECTORY | O_CLOEXEC) of the layer's diff directory: for
 * `commit`, image/layer.h's layer_write(..., LAYER_WRITE_OVERLAY_DIFF). */
int overlay_diff_dirfd(int root_dirfd, const char *id, int *ret_fd, struct vsl_error **err);

/* `vessel diff`: what the container changed, as `docker diff` prints it. */
enum overlay_change_kind {
	OVERLAY_CHANGE_MODIFY, /* "C" */
	OVERLAY_CHANGE_ADD,    /* "A" */
	OVERLAY_CHANGE_DELETE, /* "D" */
};

struct overlay_change {
	char *path; /* absolute in the container: "/etc/passwd" */
	enum overlay_change_kind kind;
};

/* Compares the container's root filesystem with the image's (lowers as for
 * overlay_mount()), the way Docker compares two trees: a path that did not
 * exist before is A (and so is everything below a new directory), one that
 * existed and was replaced, written or had its metadata changed is C, and so
 * is every directory that holds a change; a path that is gone is D, without
 * the paths below it. A directory deleted and made again (an opaque
 * directory) is C, each of its old entries that is not there any more is D,
 * and its entries are A or C by whether their path existed before. Sorted
 * bytewise by path. Read from the layer directories, so the layer need not be
 * mounted; no symlink inside a layer is ever followed. */
int overlay_changes(int root_dirfd, const char *id, char *const *lowers, struct overlay_change **ret,
                    size_t *ret_n, struct vsl_error **err);
void overlay_changes_free(struct overlay_change *c, size_t n);
/* "C", "A" or "D". */
const char *overlay_change_kind_to_string(enum overlay_change_kind kind);

/* Removes leftovers of crashed creations and removals, and unmounts the root
 * filesystems of containers that alive() says are not running (alive may be
 * NULL: then no unmounts). */
int overlay_gc(int root_dirfd, bool (*alive)(const char *id, void *userdata), void *userdata,
               struct vsl_error **err);

/* For tests, and for kernels whose new mount API misbehaves: use mount(2)
 * with an option string even where "lowerdir+" is available. */
void overlay_set_legacy_mount(bool on);
