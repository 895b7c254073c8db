/* Whole directory trees, walked through fds: a copy that keeps what a file
 * is (owner, mode, times, xattrs, symlinks, hard links, device nodes), the
 * apparent size Docker reports, and a removal that never crosses a mount.
 *
 *     _cleanup_close_ int src = resolve_open(rootfd, "/var/lib/app", O_RDONLY | O_DIRECTORY, 0, err);
 *     tree_copy(src, volume_fd, err);       (copies the contents; src's own owner and mode too)
 *
 * Nothing here follows a symlink: every entry is opened relative to its
 * parent's fd with O_NOFOLLOW, so a tree that changes under the walk cannot
 * lead it outside. */
#pragma once

#include <stdint.h>

struct vsl_error;

/* Copies the contents of src_dirfd into dst_dirfd (an empty directory) and
 * gives dst_dirfd the owner, mode and times of src_dirfd. Extended
 * attributes the destination filesystem refuses are left out. */
int tree_copy(int src_dirfd, int dst_dirfd, struct vsl_error **err);

/* The sum of the sizes of everything under dirfd but directories, each hard
 * linked file counted once (as Docker's directory.Size). */
int tree_size(int dirfd, uint64_t *ret, struct vsl_error **err);

/* Removes parent/name and everything under it. A mount point on the way is
 * -EBUSY and stays, with what is under it: data of another filesystem (a
 * bind-mounted host directory) is never touched. */
int tree_remove(int parent, const char *name, struct vsl_error **err);

/* Whether dirfd/name is empty (a directory with no entries); -errno on failure. */
int tree_is_empty(int dirfd, const char *name);
