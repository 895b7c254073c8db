/* libarchive, loaded on the first call (see util/lazylib.h): only the commands
 * that read or write tar streams (load, save, import, export, cp, commit, and
 * the layers of a pull) use it. */
#include <archive.h>
#include <archive_entry.h>
#include <stdarg.h>
#include <stdio.h>

#include "util/lazylib.h"

/* libarchive's ABI has been .so.13 since 3.0 (2011). */
static struct lazylib archive = LAZYLIB_INIT("libarchive.so.13");

#define A struct archive *a
#define E struct archive_entry *e

LAZYLIB_FORWARD(archive, struct archive *, archive_read_new, (void), ())
LAZYLIB_FORWARD(archive, int, archive_read_support_filter_all, (A), (a))
LAZYLIB_FORWARD(archive, int, archive_read_support_format_tar, (A), (a))
LAZYLIB_FORWARD(archive, int, archive_read_support_format_empty, (A), (a))
LAZYLIB_FORWARD(archive, int, archive_read_open,
                (A, void *data, archive_open_callback *open, archive_read_callback *read,
                 archive_close_callback *close),
                (a, data, open, read, close))
LAZYLIB_FORWARD(archive, int, archive_read_open_fd, (A, int fd, size_t block_size), (a, fd, block_size))
LAZYLIB_FORWARD(archive, int, archive_read_next_header, (A, struct archive_entry **entry), (a, entry))
LAZYLIB_FORWARD(archive, int, archive_read_data_block,
                (A, const void **buff, size_t *size, la_int64_t *offset), (a, buff, size, offset))
LAZYLIB_FORWARD(archive, int, archive_read_free, (A), (a))
LAZYLIB_FORWARD(archive, struct archive *, archive_write_new, (void), ())
LAZYLIB_FORWARD(archive, int, archive_write_add_filter_none, (A), (a))
LAZYLIB_FORWARD(archive, int, archive_write_set_format_pax_restricted, (A), (a))
LAZYLIB_FORWARD(archive, int, archive_write_set_bytes_per_block, (A, int bytes), (a, bytes))
LAZYLIB_FORWARD(archive, int, archive_write_set_bytes_in_last_block, (A, int bytes), (a, bytes))
LAZYLIB_FORWARD(archive, int, archive_write_open,
                (A, void *data, archive_open_callback *open, archive_write_callback *write,
                 archive_close_callback *close),
                (a, data, open, write, close))
LAZYLIB_FORWARD(archive, int, archive_write_open_fd, (A, int fd), (a, fd))
LAZYLIB_FORWARD(archive, int, archive_write_header, (A, E), (a, e))
LAZYLIB_FORWARD(archive, la_ssize_t, archive_write_data, (A, const void *buff, size_t size), (a, buff, size))
LAZYLIB_FORWARD(archive, int, archive_write_close, (A), (a))
LAZYLIB_FORWARD(archive, int, archive_write_fail, (A), (a))
LAZYLIB_FORWARD(archive, int, archive_write_free, (A), (a))
LAZYLIB_FORWARD(archive, int, archive_free, (A), (a))
LAZYLIB_FORWARD(archive, int, archive_errno, (A), (a))
LAZYLIB_FORWARD(archive, const char *, archive_error_string, (A), (a))

LAZYLIB_FORWARD(archive, struct archive_entry *, archive_entry_new, (void), ())
LAZYLIB_FORWARD_VOID(archive, archive_entry_free, (E), (e))
LAZYLIB_FORWARD_VOID(archive, archive_entry_copy_stat, (E, const struct stat *st), (e, st))
LAZYLIB_FORWARD(archive, const char *, archive_entry_pathname, (E), (e))
LAZYLIB_FORWARD(archive, const char *, archive_entry_hardlink, (E), (e))
LAZYLIB_FORWARD(archive, const char *, archive_entry_symlink, (E), (e))
LAZYLIB_FORWARD(archive, __LA_MODE_T, archive_entry_filetype, (E), (e))
LAZYLIB_FORWARD(archive, __LA_MODE_T, archive_entry_perm, (E), (e))
LAZYLIB_FORWARD(archive, la_int64_t, archive_entry_uid, (E), (e))
LAZYLIB_FORWARD(archive, la_int64_t, archive_entry_gid, (E), (e))
LAZYLIB_FORWARD(archive, la_int64_t, archive_entry_size, (E), (e))
LAZYLIB_FORWARD(archive, int, archive_entry_size_is_set, (E), (e))
LAZYLIB_FORWARD(archive, time_t, archive_entry_mtime, (E), (e))
LAZYLIB_FORWARD(archive, long, archive_entry_mtime_nsec, (E), (e))
LAZYLIB_FORWARD(archive, time_t, archive_entry_atime, (E), (e))
LAZYLIB_FORWARD(archive, long, archive_entry_atime_nsec, (E), (e))
LAZYLIB_FORWARD(archive, int, archive_entry_atime_is_set, (E), (e))
LAZYLIB_FORWARD(archive, dev_t, archive_entry_rdev, (E), (e))
LAZYLIB_FORWARD(archive, dev_t, archive_entry_rdevmajor, (E), (e))
LAZYLIB_FORWARD(archive, dev_t, archive_entry_rdevminor, (E), (e))
LAZYLIB_FORWARD_VOID(archive, archive_entry_set_pathname, (E, const char *s), (e, s))
LAZYLIB_FORWARD_VOID(archive, archive_entry_set_hardlink, (E, const char *s), (e, s))
LAZYLIB_FORWARD_VOID(archive, archive_entry_set_symlink, (E, const char *s), (e, s))
LAZYLIB_FORWARD_VOID(archive, archive_entry_set_filetype, (E, unsigned int type), (e, type))
LAZYLIB_FORWARD_VOID(archive, archive_entry_set_perm, (E, __LA_MODE_T perm), (e, perm))
LAZYLIB_FORWARD_VOID(archive, archive_entry_set_uid, (E, la_int64_t id), (e, id))
LAZYLIB_FORWARD_VOID(archive, archive_entry_set_gid, (E, la_int64_t id), (e, id))
LAZYLIB_FORWARD_VOID(archive, archive_entry_set_size, (E, la_int64_t size), (e, size))
LAZYLIB_FORWARD_VOID(archive, archive_entry_set_nlink, (E, unsigned int n), (e, n))
LAZYLIB_FORWARD_VOID(archive, archive_entry_set_mtime, (E, time_t sec, long nsec), (e, sec, nsec))
LAZYLIB_FORWARD_VOID(archive, archive_entry_set_rdevmajor, (E, dev_t m), (e, m))
LAZYLIB_FORWARD_VOID(archive, archive_entry_set_rdevminor, (E, dev_t m), (e, m))
LAZYLIB_FORWARD_VOID(archive, archive_entry_xattr_add_entry,
                     (E, const char *name, const void *value, size_t size), (e, name, value, size))
LAZYLIB_FORWARD(archive, int, archive_entry_xattr_reset, (E), (e))
LAZYLIB_FORWARD(archive, int, archive_entry_xattr_next,
                (E, const char **name, const void **value, size_t *size), (e, name, value, size))

/* Variadic (printf-like): formatted here, handed over as one "%s". */
void archive_set_error(struct archive *a, int err, const char *fmt, ...)
{
	static void (*real)(struct archive *, int, const char *, ...);
	void (*f)(struct archive *, int, const char *, ...) = __atomic_load_n(&real, __ATOMIC_ACQUIRE);
	if (f == NULL) {
		f = (void (*)(struct archive *, int, const char *, ...))lazylib_sym(&archive,
		                                                                    "archive_set_error");
		__atomic_store_n(&real, f, __ATOMIC_RELEASE);
	}
	if (fmt == NULL) { /* clears the error */
		f(a, err, NULL);
		return;
	}
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	f(a, err, "%s", msg);
}
