/* Paths inside a container root, resolved by the kernel and handed out as fds.
 *
 * Every lookup under a root goes through openat2(RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS): "..", absolute symlinks and "/.." all stay inside the
 * root, and /proc magic links are refused. Callers get an fd and act on that fd
 * (mount onto it with move_mount(MOVE_MOUNT_T_EMPTY_PATH), mknodat relative to
 * it, fstat it), never on the path string again: a string re-resolved after the
 * check is the CVE-2021-30465 race.
 *
 *     _cleanup_close_ int fd = resolve_mkdir_p(rootfd, "/var/lib/data", 0755, err);
 *     if (fd < 0) return fd;
 *     move_mount(mntfd, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
 *
 * All fds returned are O_CLOEXEC. Functions return an fd (>= 0) or -errno with
 * *err naming the path.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

struct vsl_error;

/* openat2(rootfd, path, flags | O_CLOEXEC, mode, RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS).
 * Leading slashes in path are fine ("/etc" and "etc" name the same thing). */
int resolve_open(int rootfd, const char *path, int flags, mode_t mode, struct vsl_error **err);

/* As resolve_open, without filling an error: returns fd or -errno. For callers
 * that treat ENOENT as "skip". */
int resolve_open_quiet(int rootfd, const char *path, int flags, mode_t mode);

/* mkdir -p inside the root: each missing component is made with mkdirat()
 * relative to its parent's fd, a dangling symlink is followed (inside the root)
 * and its target created. Returns an O_PATH|O_DIRECTORY fd of the last
 * component; ENOTDIR when something on the way is not a directory. */
int resolve_mkdir_p(int rootfd, const char *path, mode_t mode, struct vsl_error **err);

/* As resolve_mkdir_p for the parent, then creates `path` as an empty regular
 * file when nothing is there (for a file bind-mount target). An existing
 * non-directory is accepted as it is; a directory is EISDIR. Returns an O_PATH
 * fd of the file. */
int resolve_mkfile_p(int rootfd, const char *path, mode_t mode, struct vsl_error **err);

/* mkdir -p of the parent of `path`; returns its O_PATH|O_DIRECTORY fd and the
 * last component in *ret_name (malloc'ed; never "", "." or ".."), for callers
 * that create the entry themselves with mknodat/symlinkat/unlinkat. */
int resolve_parent(int rootfd, const char *path, mode_t mode, char **ret_name, struct vsl_error **err);

/* The kernel's lexical cleanup of a path for messages and comparisons:
 * "//dev/./pts/" -> "/dev/pts". Always absolute. ".." is kept as is. */
char *resolve_clean_path(const char *path);

/* True when fd is on a procfs (fstatfs == PROC_SUPER_MAGIC). */
bool resolve_fd_is_procfs(int fd);
