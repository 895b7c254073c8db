/* Seccomp profiles for containers: vessel's default profile, and profiles in
 * Docker's format (`--security-opt seccomp=<file>`) turned into the OCI
 * linux.seccomp object.
 *
 * The default profile matches Docker's in effect: everything not listed fails
 * with EPERM; an allow-list of the syscalls ordinary programs use; syscalls
 * the kernel gates on a capability allowed only when the container's bounding
 * set holds it (mount and unshare with CAP_SYS_ADMIN, ptrace-family with
 * CAP_SYS_PTRACE, ...); clone without namespace flags; clone3 failing with
 * ENOSYS (so libc falls back to the filterable clone); personality only with
 * the harmless domains; socket without AF_VSOCK. Architectures: the host's
 * and its compat ones (x86_64 with x86 and x32, aarch64 with arm).
 *
 *     json_t *seccomp;
 *     if (seccomp_default_build(bounding_caps, &seccomp, err) < 0) ...
 *     json_object_set_new(linux, "seccomp", seccomp);
 *
 * Integers beyond INT64_MAX (64-bit argument masks) cannot be jansson
 * integers: they appear as strings "\x01<decimal>" in args[].value and
 * args[].valueTwo, which oci_spec_build() writes as plain numbers.
 */
#pragma once

#include <stddef.h>

struct vsl_error;
typedef struct json_t json_t;

/* caps: the bounding set ("CAP_SYS_ADMIN", ...), NULL-terminated. */
int seccomp_default_build(char *const *caps, json_t **ret, struct vsl_error **err);

/* A profile in Docker's format: defaultAction, defaultErrnoRet,
 * architectures or archMap (the host's entry and its subArchitectures),
 * flags, listenerPath/listenerMetadata, syscalls with name or names,
 * action, errnoRet, args, and includes/excludes of caps, arches (Go's
 * names: "amd64", "arm64") and minKernel ("4.8"), applied for the
 * container's caps and the running kernel as dockerd does. Errors name the
 * field: "seccomp profile: syscalls[3].action: unknown action 'X' ...". */
int seccomp_profile_convert(const char *text, size_t len, char *const *caps, json_t **ret,
                            struct vsl_error **err);
