/* Small file helpers: whole-file reads and atomic writes relative to a dirfd,
 * loops that finish short reads and writes. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct vsl_error;

/* Reads at most max bytes of dirfd/name into a NUL-terminated malloc'd buffer. */
int read_file_at(int dirfd, const char *name, size_t max, char **ret, size_t *ret_len, struct vsl_error **err);
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
