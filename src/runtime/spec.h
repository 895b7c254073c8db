/* `runc spec`: the starter config.json of a new bundle.
 *
 *     _cleanup_free_ char *json = NULL;
 *     if (spec_generate(rootless, &json, err) < 0) ...
 *
 * The document is runc's example (hostname "vessel" instead of "runc"),
 * pretty-printed with two-space indentation; with `rootless`, it is rewritten
 * as `runc spec --rootless` does for the calling user.
 */
#pragma once

#include <stdbool.h>

struct vsl_error;

int spec_generate(bool rootless, char **ret_json, struct vsl_error **err);
