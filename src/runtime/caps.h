/* Capabilities of the container process (libcap).
 *
 * The bounding set is dropped while we still hold CAP_SETPCAP; the other four
 * sets are set after the switch to the container user (PR_SET_KEEPCAPS keeps
 * the permitted set across setresuid). Inheritable and ambient stay empty
 * unless the config names them (CVE-2022-27650).
 */
#pragma once

struct vsl_error;
struct oci_caps;

/* Checks every name ("CAP_SYS_ADMIN"); unknown names are an error naming them.
 * Names the running kernel lacks are ignored, as runc does. */
int caps_validate(const struct oci_caps *c, struct vsl_error **err);
int caps_drop_bounding(const struct oci_caps *c, struct vsl_error **err);
int caps_apply(const struct oci_caps *c, struct vsl_error **err);
/* -1 for an unknown name. */
int caps_from_name(const char *name);
/* All capability names this build knows, NULL-terminated (for `features`). */
const char *const *caps_known_names(void);
