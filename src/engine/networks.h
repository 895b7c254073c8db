/* The engine's side of networks: the network room (network/network.h) with
 * the engine's paths, config and containers.
 *
 * containers.c calls three hooks:
 *     engine_network_setup()     before the runtime creates the container:
 *                                the netns path the runtime joins (or NULL),
 *                                wired then or on a thread (joined by
 *                                engine_network_wire_join())
 *     engine_network_teardown()  when it stopped: links, rules, ports go
 *     engine_network_release()   when it is removed: its addresses go too
 * and the CLI calls the rest.
 *
 * The config file (VESSEL_CONFIG, else /etc/vessel/config.json) is read for
 * Docker's daemon.json keys "bip" ("10.200.0.1/24": the default bridge's
 * gateway and subnet), "default-address-pools" ([{"base": "10.99.0.0/16",
 * "size": 24}]), "bridge" (the default bridge's device) and "mtu".
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "network/network.h"

struct engine;
struct container_record;
struct container_create;
struct image_config;
struct vsl_error;

/* The network env of the engine; free with engine_network_env_free(). */
struct engine_network_env;
int engine_network_env_open(struct engine *e, struct engine_network_env **ret, struct vsl_error **err);
void engine_network_env_free(struct engine_network_env *n);
struct network_env *engine_network_env_get(struct engine_network_env *n);

/* For NetworkMode bridge/default/a user network: the sandbox, made now
 * (*ret_netns_path its path); "container:X": X's namespace; host and none:
 * NULL. image may be NULL (its ExposedPorts serve -P).
 *
 * With ret_wiring, only the namespace is made now and it is wired on a
 * thread (*ret_wiring NULL when there is nothing to wire), alongside the
 * bundle's writing and the runtime's first steps. Until
 * engine_network_wire_join() (rt_create_opts.before_clone: the clone must see
 * one thread), that thread alone uses the engine's database, and the process
 * does not fork. The join frees w; joining NULL returns 0. */
struct engine_network_wiring;
int engine_network_setup(struct engine *e, const struct container_record *rec,
                         const struct container_create *c, const struct image_config *image,
                         struct engine_network_wiring **ret_wiring, char **ret_netns_path,
                         struct vsl_error **err);
int engine_network_wire_join(struct engine_network_wiring *w, struct vsl_error **err);
/* c: the container's create config; one whose network is the host's, none
 * or another container's has nothing to take down, and no database is read.
 * NULL when not at hand. */
void engine_network_teardown(struct engine *e, const struct container_create *c, const char *container_id);
void engine_network_release(struct engine *e, const struct container_create *c, const char *container_id);

/* `network connect` / `disconnect` on a container (running or not). */
int engine_network_connect(struct engine *e, const char *network, const char *container,
                           const struct network_attach *a, struct vsl_error **err);
int engine_network_disconnect(struct engine *e, const char *network, const char *container, bool force,
                              struct vsl_error **err);
