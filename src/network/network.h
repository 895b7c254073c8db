/* The network room's face for the engine: networks (create, ls, inspect, rm,
 * prune), and containers' network stacks (a sandbox: a network namespace
 * wired to one bridge per network it joins).
 *
 * A container's sandbox is made before its runtime starts, podman-style: a
 * network namespace bind-mounted on <netns_dir>/<container id>, with a veth
 * per network (eth0, eth1, ...), its address, MTU and default route, and
 * the published ports' DNAT rules; the runtime joins it by path. So the
 * container's first instruction already has its network, and a foreground
 * run and a detached one are set up the same way.
 *
 *     struct network_env env = {.db = db, .containers_dir = ..., .netns_dir = ...};
 *     network_init(&env, &err);
 *     struct network_attach a = {.network = "bridge"};
 *     network_sandbox_up(&env, &(struct network_sandbox){.container_id = id, .name = "web",
 *                        .attach = &a, .n_attach = 1, .ports = p, .n_ports = np}, &path, &err);
 *     ... the container runs in netns `path` ...
 *     network_sandbox_down(&env, id);           at its exit: links, rules, ports go; addresses stay
 *     network_release(&env, id);                at its removal: the addresses go too
 *
 * Bridges: the default network "bridge" (made on first use) is vessel0 under
 * the default root and "vessel<8 hex of the root path>" under any other root
 * (so that test roots never share a bridge), unless the config names one;
 * a user network's is "vessel-<8 hex of its id>". As with Docker's docker0,
 * a bridge, its addresses and its nftables rules are made once, when the
 * first container joins (again when the link is found missing: after a
 * reboot, or deleted by hand), and stay while the network exists: a
 * container's start and exit only make and remove its veth, its addresses
 * and its published ports. A user network's bridge goes with `network rm`
 * and `prune`; the default one with network_reset() (`system reset`).
 * Host veth ends are "vsl<6 hex of the container id><5 hex of the network id>".
 *
 * Names: every container's /etc/hosts (<containers_dir>/<id>/hosts, which the
 * engine bind-mounts) carries, below a "# vessel network" line, its own
 * address and the names and aliases of the running containers on its user
 * networks; it is rewritten in place (the bind mount pins the inode)
 * whenever a container joins or leaves one of them.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "network/ipam.h"

struct db;
struct vsl_error;

#define NETWORK_DEFAULT      "bridge"
#define NETWORK_HOSTS_MARKER "# vessel network"

struct network_env {
	struct db *db;
	const char *containers_dir;    /* <runroot>/containers: each container's hosts file */
	const char *netns_dir;         /* <runroot>/netns */
	const char *default_bridge;    /* the device of "bridge" (see above) */
	const char *bip;               /* "10.200.0.1/24": gateway and prefix of "bridge"; NULL: a free /16 */
	const struct ipam_pool *pools; /* for new networks; NULL: Docker's defaults */
	size_t n_pools;
	unsigned mtu; /* 0: 1500 */
	/* Whether some container may run in another's namespace (--network
	 * container:): a stopped container's veth is then taken down at once.
	 * Asked only when a veth goes; NULL: never. */
	bool (*netns_may_be_shared)(struct db *db);
};

int network_init(struct network_env *env, struct vsl_error **err);

struct network_create_opts {
	const char *name;
	const char *driver;  /* NULL or "bridge" */
	const char *subnet;  /* NULL: from the pools */
	const char *gateway; /* NULL: the first address */
	bool internal, ipv6;
	const char *subnet6;  /* with ipv6: "fd00:1::/64" (required) */
	const char *gateway6; /* NULL: the first address */
	const char *labels;   /* JSON object text; NULL: {} */
};
int network_create(struct network_env *env, const struct network_create_opts *o, char **ret_id,
                   struct vsl_error **err);
/* "bridge" is made here on first use, with Docker's "host" and "none"
 * (drivers "host" and "null": records only, nothing is wired for them). */
int network_get(struct network_env *env, const char *name_or_id, struct network_record **ret,
                struct vsl_error **err);
int network_list(struct network_env *env, struct network_record ***ret, size_t *ret_n,
                 struct vsl_error **err);
/* Refused while containers are connected, and for "bridge". */
int network_remove(struct network_env *env, const char *name_or_id, struct vsl_error **err);
/* Removes user networks no container uses; *ret the names removed. */
int network_prune(struct network_env *env, char ***ret, struct vsl_error **err);

/* What a container asks of one network (NetworkingConfig.EndpointsConfig). */
struct network_attach {
	const char *network; /* name or id */
	const char *ip;      /* NULL: chosen */
	const char *mac;     /* NULL: from the address */
	char **aliases;
};

/* A published port as asked (HostConfig.PortBindings). */
struct network_port {
	const char *proto; /* "tcp" */
	unsigned container_port;
	const char *host_ip;    /* NULL or "": 0.0.0.0 */
	unsigned host_port;     /* 0: a free one */
	unsigned host_port_end; /* a range host_port..host_port_end: its first free one; 0: none */
};

struct network_sandbox {
	const char *container_id;
	const char *name;
	const struct network_attach *attach;
	size_t n_attach;
	const struct network_port *ports; /* published on the first network */
	size_t n_ports;
};

/* Makes the namespace and wires it; *ret_netns_path: where it is mounted.
 * On failure nothing of it is left. */
int network_sandbox_up(struct network_env *env, const struct network_sandbox *sb, char **ret_netns_path,
                       struct vsl_error **err);
/* The same in two steps, so that the wiring may overlap the container's own
 * setup: the namespace alone (a leftover sandbox of the container is taken
 * down first), then its links, addresses, routes and ports. A failed wiring
 * takes back its links; network_sandbox_down() removes the rest. */
int network_sandbox_netns(struct network_env *env, const char *container_id, char **ret_netns_path,
                          struct vsl_error **err);
int network_sandbox_wire(struct network_env *env, const struct network_sandbox *sb, const char *netns_path,
                         struct vsl_error **err);
/* Undoes network_sandbox_up (best effort, idempotent). */
void network_sandbox_down(struct network_env *env, const char *container_id);
/* network_sandbox_down, then the container's addresses are released. */
void network_release(struct network_env *env, const char *container_id);

/* `network connect` and `disconnect`: netns_path NULL when the container
 * is not running (only its endpoint is recorded, wired at its next start). */
int network_connect(struct network_env *env, const char *container_id, const char *name,
                    const struct network_attach *a, const char *netns_path, struct vsl_error **err);
int network_disconnect(struct network_env *env, const char *container_id, const char *network,
                       struct vsl_error **err);

/* The container's published ports (port_records_free()). */
int network_ports(struct network_env *env, const char *container_id, struct port_record **ret, size_t *ret_n,
                  struct vsl_error **err);

/* Repairs what a crash left: endpoints, sandboxes (veths, namespaces) and
 * ports (records and rules) of containers that no longer exist
 * (exists(container_id) false). Bridges and their rules stay. Sandboxes of
 * containers that exist but stopped are not its business: another vessel
 * may be starting them; the engine takes those down when it finds the
 * container stopped (and network_sandbox_up() replaces a stale one). */
void network_gc(struct network_env *env, bool (*exists)(void *userdata, const char *container_id),
                void *userdata);

/* Removes every network of this root, the predefined ones too: bridges (the
 * default one's link even if never recorded), this root's nftables rules
 * (vessel's tables too when no other root has rules in them), what
 * containers left (veths, namespaces) and the records. The engine removes
 * the containers first. Safe on a root that never had a network. */
int network_reset(struct network_env *env, struct vsl_error **err);
