/* Small file helpers: whole-file reads and atomic writes relative to a dirfd,
 * loops that finish short reads and writes. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct vsl_error;

/* Reads at most max bytes of dirfd/name into a NUL-terminated malloc'd buffer. */
int read_file_at(int dirfd, const char *name, size_t max, char **ret, size_t *ret_len,
                 struct vsl_error **err);
/* Writes data to dirfd/name through a temporary file and rename(): readers see
 * the old or the new content, never a torn one. No fsync: this is runtime
 * state on /run, which does not outlive a reboot, and it is on the start path. */
int write_file_atomic_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                         struct vsl_error **err);
/* Writes the string to an existing file (a /proc or cgroup knob): one write. */
int write_string_at(int dirfd, const char *name, const char *value, struct vsl_error **err);
ssize_t write_all(int fd, const void *buf, size_t len);
ssize_t read_all(int fd, void *buf, size_t len);
/* Removes a directory tree under dirfd (not crossing mounts is not needed here:
 * used on runtime state only). */
int rm_rf_at(int parent, const char *name);
/* renameat2(RENAME_NOREPLACE) within dirfd, or renameat() on a filesystem
 * without it, which still refuses a non-empty directory as the target (so
 * only for directories that are never empty). An existing target is -EEXIST
 * either way. Returns 0 or -errno. */
int rename_noreplace_at(int dirfd, const char *from, const char *to);
/* Removes the tree dirfd/name by renaming it first to prefix and random
 * digits (e.g. "del-"), so that no one sees half a tree under its name, then
 * removing that. 0 also when name is gone already. On -errno, del is empty
 * when the rename failed, or names the leftover when removing it failed,
 * for a collector to finish. */
int remove_by_rename_at(int dirfd, const char *name, const char *prefix, char *del, size_t del_size);
