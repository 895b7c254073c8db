/* The Docker ContainerCreate body and Docker-format seccomp profiles: whatever
 * the bytes, parsing, validating and writing back accept or refuse without a
 * crash, a leak or undefined behaviour; a refusal says why, and a body written
 * back parses again. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "engine/create-config.h"
#include "engine/seccomp-default.h"
#include "util/cleanup.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_refusal(int r, const struct vsl_error *err)
{
	if (r < 0 && (err == NULL || err->msg == NULL))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	{
		_cleanup_container_create_ struct container_create *c = NULL;
		_cleanup_error_ struct vsl_error *err = NULL;
		int r = container_create_parse(text, size, &c, &err);
		check_refusal(r, err);
		if (r == 0) {
			_cleanup_error_ struct vsl_error *verr = NULL;
			check_refusal(container_create_validate(c, &verr), verr);
			/* NULL is allowed: a 64-bit value beyond int64 has no jansson integer. */
			_cleanup_free_ char *again = container_create_to_json(c);
			if (again != NULL) {
				_cleanup_container_create_ struct container_create *c2 = NULL;
				_cleanup_error_ struct vsl_error *err2 = NULL;
				if (container_create_parse(again, strlen(again), &c2, &err2) < 0)
					abort();
			}
		}
	}
	{
		char *caps[] = {"CAP_SYS_ADMIN", "CAP_KILL", NULL};
		json_t *j = NULL;
		_cleanup_error_ struct vsl_error *err = NULL;
		int r = seccomp_profile_convert(text, size, caps, &j, &err);
		check_refusal(r, err);
		if (r == 0 && j == NULL)
			abort();
		json_decref(j);
	}
	return 0;
}
