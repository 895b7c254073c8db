#include "util/error.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"

static int code_of(int errno_value)
{
	return errno_value > 0 ? -errno_value : -1;
}

static int error_vset(struct vsl_error **err, int errno_value, bool with_strerror, const char *fmt,
                      va_list ap) __attribute__((format(printf, 4, 0)));
static int error_vset(struct vsl_error **err, int errno_value, bool with_strerror, const char *fmt,
                      va_list ap)
{
	if (err == NULL || *err != NULL)
		return code_of(errno_value);

	struct vsl_error *e = calloc(1, sizeof(*e));
	if (e == NULL)
		return code_of(errno_value);
	e->errno_value = errno_value;

	_cleanup_free_ char *text = NULL;
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	if (text != NULL && errno_value > 0 && with_strerror) {
		if (asprintf(&e->msg, "%s: %s", text, strerror(errno_value)) < 0)
			e->msg = NULL;
	} else {
		e->msg = TAKE_PTR(text);
	}
	*err = e;
	return code_of(errno_value);
}

int vsl_error_errno(struct vsl_error **err, int errno_value, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = error_vset(err, errno_value < 0 ? -errno_value : errno_value, true, fmt, ap);
	va_end(ap);
	return r;
}

int vsl_error_set(struct vsl_error **err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = error_vset(err, 0, false, fmt, ap);
	va_end(ap);
	return r;
}

int vsl_error_set_code(struct vsl_error **err, int errno_value, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = error_vset(err, errno_value < 0 ? -errno_value : errno_value, false, fmt, ap);
	va_end(ap);
	return r;
}

int vsl_error_prefix(struct vsl_error **err, const char *fmt, ...)
{
	if (err == NULL || *err == NULL)
		return -1;
	struct vsl_error *e = *err;

	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *ctx = NULL;
	if (vasprintf(&ctx, fmt, ap) < 0)
		ctx = NULL;
	va_end(ap);

	char *joined = NULL;
	if (ctx != NULL && asprintf(&joined, "%s: %s", ctx, e->msg ? e->msg : "unknown error") >= 0) {
		free(e->msg);
		e->msg = joined;
	}
	return vsl_error_code(e);
}

int vsl_error_code(const struct vsl_error *err)
{
	return err ? code_of(err->errno_value) : -1;
}

const char *vsl_error_message(const struct vsl_error *err)
{
	if (err == NULL)
		return "unknown error";
	return err->msg ? err->msg : "out of memory while reporting an error";
}

void vsl_error_free(struct vsl_error *err)
{
	if (err == NULL)
		return;
	free(err->msg);
	free(err);
}
