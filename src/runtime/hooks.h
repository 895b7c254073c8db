/* OCI hooks: run each program of one kind in order, with the container's
 * state JSON on its stdin, failing on a non-zero exit or after its timeout. */
#pragma once

#include <stddef.h>

struct vsl_error;
struct oci_hook;

int hooks_run(const char *kind, const struct oci_hook *hooks, size_t n, const char *state_json,
              struct vsl_error **err);
