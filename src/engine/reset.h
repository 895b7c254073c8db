/* `system reset`: everything of one --root/--runroot goes, as podman's
 * `system reset` does: containers (killed first), networks (the default
 * bridge's link and this root's nftables rules too), volumes, images and
 * what the stores hold besides. Another root's networks and containers are
 * not touched.
 *
 *     engine_system_reset(e, &err);
 *
 * It goes on past a part that fails and returns the first error; safe on a
 * root that is empty or was never used. */
#pragma once

struct engine;
struct vsl_error;

int engine_system_reset(struct engine *e, struct vsl_error **err);
