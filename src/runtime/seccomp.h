/* seccomp filters from the spec's linux.seccomp, through libseccomp.
 *
 * (Names carry "_filter_": libseccomp owns seccomp_load() and friends.)
 * Compiled early (seccomp_filter_prepare, where errors still reach the user with the
 * rule that is wrong) and loaded as the last step before execve.
 */
#pragma once

#include <stdbool.h>

struct vsl_error;
struct oci_seccomp;
struct seccomp_filter;

int seccomp_filter_prepare(const struct oci_seccomp *s, struct seccomp_filter **ret, struct vsl_error **err);
/* The same, keeping compiled programs in the directory cache_dir (made if
 * missing, mode 0700), one file per profile, named by a digest of the profile,
 * libseccomp's version and the kernel's release: a profile met before is read
 * back instead of compiled again (Docker's default profile takes libseccomp ~5 ms
 * on every run). A cache that cannot be read or written only costs the compile. */
int seccomp_filter_prepare_cached(const struct oci_seccomp *s, const char *cache_dir,
                                  struct seccomp_filter **ret, struct vsl_error **err);
/* Loads the filter. If the profile asks for a listener (SCMP_ACT_NOTIFY),
 * *ret_notify_fd receives the notification fd (else -1). */
int seccomp_filter_load(struct seccomp_filter *f, int *ret_notify_fd, struct vsl_error **err);
void seccomp_filter_free(struct seccomp_filter *f);

/* For `features`: the actions, operators, archs and flags we understand. */
extern const char *const seccomp_known_actions[];
extern const char *const seccomp_known_operators[];
extern const char *const seccomp_known_archs[];
extern const char *const seccomp_known_flags[];
