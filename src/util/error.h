/* Errors that travel up with context.
 *
 * A function that can fail returns a negative value (or NULL) and fills
 * `struct vsl_error **err`; callers add context with vsl_error_prefix() on the
 * way up. Only the edges (main, the API server) decide how to report it.
 *
 *     if (mount(...) < 0)
 *             return vsl_error_errno(err, errno, "mount proc on '%s'", dst);
 *     ...
 *     if (r < 0)
 *             return vsl_error_prefix(err, "prepare rootfs of %s", id);
 */
#pragma once

#include <stdarg.h>

struct vsl_error {
	int errno_value; /* 0 when the failure has no errno behind it */
	char *msg;
};

/* Sets *err (if err is non-NULL and *err is still NULL) and returns -errno_value,
 * or -1 when errno_value is 0, so that `return vsl_error_errno(...)` reads well. */
int vsl_error_errno(struct vsl_error **err, int errno_value, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int vsl_error_set(struct vsl_error **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Like vsl_error_errno() but the message is used as is, without strerror():
 * for conditions whose errno callers test but whose text says it better. */
int vsl_error_set_code(struct vsl_error **err, int errno_value, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prepends "<context>: " to the message of *err; returns the same code as vsl_error_code(). */
int vsl_error_prefix(struct vsl_error **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int vsl_error_code(const struct vsl_error *err);
void vsl_error_free(struct vsl_error *err);
/* Moves an error out (for crossing a process boundary): returns "msg" fully formatted. */
const char *vsl_error_message(const struct vsl_error *err);

static inline void vsl_error_freep(struct vsl_error **e)
{
	vsl_error_free(*e);
	*e = (void *)0;
}
#define _cleanup_error_ __attribute__((cleanup(vsl_error_freep)))
