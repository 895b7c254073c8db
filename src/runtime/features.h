/* `features`: what this runtime supports, as the runtime-spec's features.md
 * document (containerd reads it to decide what it may ask for). */
#pragma once

struct vsl_error;

int features_json(char **ret, struct vsl_error **err);
