#include "engine/networks.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/container-store.h"
#include "engine/containers.h"
#include "engine/create-config.h"
#include "engine/engine-internal.h"
#include "engine/engine.h"
#include "image/images.h"
#include "image/manifest.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/strv.h"
#include "util/thread.h"

#define CONFIG_MAX (1u << 20)

struct engine_network_env {
	struct network_env env;
	char *containers_dir, *netns_dir, *bridge, *bip;
	struct ipam_pool pools[16];
};

void engine_network_env_free(struct engine_network_env *n)
{
	if (n == NULL)
		return;
	free(n->containers_dir);
	free(n->netns_dir);
	free(n->bridge);
	free(n->bip);
	free(n);
}

static void engine_network_env_freep(struct engine_network_env **n)
{
	engine_network_env_free(*n);
}
#define _cleanup_net_env_ __attribute__((cleanup(engine_network_env_freep)))

struct network_env *engine_network_env_get(struct engine_network_env *n)
{
	return &n->env;
}

static int read_config(struct engine_network_env *n, struct vsl_error **err)
{
	const char *file = getenv("VESSEL_CONFIG");
	if (file == NULL || *file == '\0')
		file = ENGINE_DEFAULT_CONFIG;
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	_cleanup_error_ struct vsl_error *e = NULL;
	if (read_file_at(AT_FDCWD, file, CONFIG_MAX, &text, &len, &e) < 0)
		return 0; /* engine_open already reported an unreadable one */
	json_t *root = json_loadb(text, len, 0, NULL);
	int r = 0;
	const char *bip = json_string_value(json_object_get(root, "bip"));
	const char *bridge = json_string_value(json_object_get(root, "bridge"));
	if ((bip && (n->bip = strdup(bip)) == NULL) || (bridge && (n->bridge = strdup(bridge)) == NULL))
		r = vsl_error_errno(err, ENOMEM, "read %s", file);
	if (r >= 0 && bridge && (strlen(bridge) > 15 || strncmp(bridge, "vessel", 6) != 0))
		r = vsl_error_set_code(err, EINVAL,
		                       "%s: bridge: a device name of at most 15 characters that starts "
		                       "with \"vessel\"",
		                       file);
	json_t *mtu = json_object_get(root, "mtu");
	if (r >= 0 && json_is_integer(mtu))
		n->env.mtu = (unsigned)json_integer_value(mtu);
	json_t *pools = json_object_get(root, "default-address-pools");
	size_t i;
	json_t *p;
	json_array_foreach(pools, i, p)
	{
		if (r < 0 || n->env.n_pools >= ARRAY_SIZE(n->pools))
			break;
		struct ipam_pool *pool = &n->pools[n->env.n_pools];
		const char *base = json_string_value(json_object_get(p, "base"));
		json_t *size = json_object_get(p, "size");
		if (base == NULL || ipam_parse_cidr(base, false, &pool->base, NULL) < 0 ||
		    !json_is_integer(size) || json_integer_value(size) < pool->base.prefix ||
		    json_integer_value(size) > 30)
			r = vsl_error_set_code(err, EINVAL,
			                       "%s: default-address-pools[%zu]: expected {\"base\": CIDR, "
			                       "\"size\": prefix length}",
			                       file, i);
		else {
			pool->size = (unsigned)json_integer_value(size);
			n->env.n_pools++;
		}
	}
	if (n->env.n_pools)
		n->env.pools = n->pools;
	json_decref(root);
	return r;
}

/* vessel0 under the default root; under another one a name of its own, so
 * that two roots (tests) never share a bridge. */
static char *default_bridge_name(const char *root)
{
	if (strcmp(root, ENGINE_DEFAULT_ROOT) == 0)
		return strdup("vessel0");
	uint32_t h = 2166136261u; /* FNV-1a */
	for (const char *c = root; *c; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	char *s = NULL;
	return asprintf(&s, "vessel%08x", h) < 0 ? NULL : s;
}

int engine_network_env_open(struct engine *e, struct engine_network_env **ret, struct vsl_error **err)
{
	_cleanup_net_env_ struct engine_network_env *n = calloc(1, sizeof(*n));
	if (n == NULL)
		return vsl_error_errno(err, ENOMEM, "network");
	int r = read_config(n, err);
	if (r < 0)
		return r;
	if ((n->containers_dir = strdup(e->containers_run)) == NULL ||
	    asprintf(&n->netns_dir, "%s/netns", e->runroot) < 0 ||
	    (n->bridge == NULL && (n->bridge = default_bridge_name(e->root)) == NULL))
		return vsl_error_errno(err, ENOMEM, "network");
	n->env.db = e->db;
	n->env.containers_dir = n->containers_dir;
	n->env.netns_dir = n->netns_dir;
	n->env.netns_may_be_shared = container_store_any_joins_netns;
	n->env.default_bridge = n->bridge;
	n->env.bip = n->bip;
	if ((r = network_init(&n->env, err)) < 0)
		return r;
	*ret = TAKE_PTR(n);
	return 0;
}

/* ---- hooks for the lifecycle ---- */

/* For network_gc: a sandbox or endpoint whose container has no record any
 * more (vessel died between removing the record and the network). A
 * container that merely is not running keeps its sandbox here: another
 * vessel may be starting it right now; refresh() and the next start of
 * that container take a stale one down. */
static bool container_exists(void *userdata, const char *id)
{
	struct engine *e = userdata;
	_cleanup_container_record_ struct container_record *rec = NULL;
	return container_store_get(e->db, id, &rec, NULL) >= 0 || errno == ENOMEM;
}

static bool mode_is(const char *mode, const char *want)
{
	return mode && strcmp(mode, want) == 0;
}

/* Endpoints, addresses and ports: only in a network namespace of its own. */
static bool has_own_network(const struct container_create *c)
{
	const char *mode = c->host.network_mode;
	return !mode_is(mode, "host") && !mode_is(mode, "none") && !c->network_disabled &&
	       !(mode && strncmp(mode, "container:", 10) == 0);
}

static const char *endpoint_network_name(const char *name)
{
	return strcmp(name, "default") == 0 ? NETWORK_DEFAULT : name;
}

static int parse_port_key(const char *key, unsigned *ret_port, char *proto, size_t size)
{
	char *end;
	unsigned long p = strtoul(key, &end, 10);
	if (p == 0 || p > 65535 || (*end != '\0' && *end != '/'))
		return -EINVAL;
	snprintf(proto, size, "%s", *end == '/' ? end + 1 : "tcp");
	*ret_port = (unsigned)p;
	return 0;
}

/* HostConfig.PortBindings (and -P's exposed ports) as the room wants them. */
static int collect_ports(const struct container_create *c, const struct image_config *image,
                         struct network_port **ret, size_t *ret_n, char ***ret_protos, struct vsl_error **err)
{
	struct network_port *v = NULL;
	size_t n = 0;
	char **protos = NULL; /* owns the proto strings */
	const struct create_host_config *h = &c->host;
	char *const *exposed[2] = {c->exposed_ports, image ? image->config.exposed_ports : NULL};
	size_t cap = 0;
	for (size_t i = 0; i < h->n_port_bindings; i++)
		cap += h->port_bindings[i].n_bindings ? h->port_bindings[i].n_bindings : 1;
	for (size_t k = 0; k < 2; k++)
		cap += strv_length((char **)exposed[k]);
	if ((v = calloc(cap + 1, sizeof(*v))) == NULL)
		return vsl_error_errno(err, ENOMEM, "ports");
	int r = 0;
	for (size_t i = 0; i < h->n_port_bindings && r >= 0; i++) {
		const struct create_port_map *m = &h->port_bindings[i];
		char proto[16];
		unsigned port;
		if (parse_port_key(m->port, &port, proto, sizeof(proto)) < 0 ||
		    strv_append(&protos, proto) < 0) {
			r = vsl_error_set_code(err, EINVAL, "invalid port %s", m->port);
			break;
		}
		const char *pr = protos[strv_length(protos) - 1];
		for (size_t b = 0; b < m->n_bindings; b++) {
			const char *hp = m->bindings[b].host_port;
			/* "8080", or a range "8080-8090" (the network room takes its first free port). */
			char *end = NULL;
			unsigned host_port = hp && *hp ? (unsigned)strtoul(hp, &end, 10) : 0;
			unsigned host_end = end && *end == '-' ? (unsigned)strtoul(end + 1, NULL, 10) : 0;
			if (host_port > 65535 || host_end > 65535 || (host_end && host_end < host_port)) {
				r = vsl_error_set_code(err, EINVAL, "invalid host port %s", hp);
				break;
			}
			v[n++] = (struct network_port){.proto = pr,
			                               .container_port = port,
			                               .host_ip = m->bindings[b].host_ip,
			                               .host_port = host_port,
			                               .host_port_end = host_end};
		}
	}
	for (size_t k = 0; k < 2 && r >= 0 && h->publish_all_ports; k++)
		for (char *const *x = exposed[k]; x && *x && r >= 0; x++) {
			char proto[16];
			unsigned port;
			if (parse_port_key(*x, &port, proto, sizeof(proto)) < 0)
				continue;
			bool bound = false;
			for (size_t j = 0; j < n && !bound; j++)
				bound = v[j].container_port == port && strcmp(v[j].proto, proto) == 0;
			if (bound)
				continue;
			if (strv_append(&protos, proto) < 0) {
				r = vsl_error_errno(err, ENOMEM, "ports");
				break;
			}
			v[n++] = (struct network_port){.proto = protos[strv_length(protos) - 1],
			                               .container_port = port};
		}
	if (r < 0) {
		free(v);
		strv_free(protos);
		return r;
	}
	*ret = v;
	*ret_n = n;
	*ret_protos = protos;
	return 0;
}

static char *netns_file(struct engine *e, const char *id)
{
	char *p = NULL;
	return asprintf(&p, "%s/netns/%s", e->runroot, id) < 0 ? NULL : p;
}

/* NetworkMode "container:X": X's namespace, X running. */
static int joined_netns(struct engine *e, const char *mode, char **ret, struct vsl_error **err)
{
	const char *other = mode + strlen("container:");
	_cleanup_container_record_ struct container_record *rec = NULL;
	_cleanup_free_ char *id = NULL;
	int r = containers_resolve(e, other, &id, err);
	if (r < 0 || (r = containers_get(e, id, &rec, err)) < 0)
		return r;
	if (rec->state != CONTAINER_RUNNING || rec->pid <= 0)
		return vsl_error_set_code(
		    err, EINVAL, "cannot join network namespace of a non running container: %s", other);
	_cleanup_free_ char *file = netns_file(e, rec->id);
	struct stat st;
	if (file && stat(file, &st) == 0) {
		*ret = TAKE_PTR(file);
		return 0;
	}
	return asprintf(ret, "/proc/%d/ns/net", rec->pid) < 0 ? vsl_error_errno(err, ENOMEM, "network") : 0;
}

static int wire(struct engine *e, struct engine_network_env *n, const struct container_record *rec,
                const struct container_create *c, const struct image_config *image, const char *netns_path,
                struct vsl_error **err)
{
	const char *mode = c->host.network_mode;
	const char *first =
	    mode == NULL || *mode == '\0' || mode_is(mode, "default") ? NETWORK_DEFAULT : mode;
	network_gc(&n->env, container_exists, e);
	containers_gc_runtime(e);
	int r;

	/* The mode's network first (it gets the default route and the ports), then the other endpoints. */
	struct network_attach *attach = calloc(c->n_endpoints + 1, sizeof(*attach));
	if (attach == NULL)
		return vsl_error_errno(err, ENOMEM, "network");
	size_t na = 1;
	attach[0] = (struct network_attach){.network = first,
	                                    .mac = c->mac_address && *c->mac_address ? c->mac_address : NULL};
	for (size_t i = 0; i < c->n_endpoints; i++) {
		const struct create_endpoint *ep = &c->endpoints[i];
		const char *name = endpoint_network_name(ep->network);
		struct network_attach *a =
		    strcmp(name, endpoint_network_name(first)) == 0 ? &attach[0] : &attach[na++];
		a->network = name;
		if (ep->ipv4_address && *ep->ipv4_address)
			a->ip = ep->ipv4_address;
		if (ep->mac_address && *ep->mac_address)
			a->mac = ep->mac_address;
		a->aliases = ep->aliases;
	}
	struct network_port *ports = NULL;
	size_t np = 0;
	_cleanup_strv_ char **protos = NULL;
	if ((r = collect_ports(c, image, &ports, &np, &protos, err)) >= 0) {
		struct network_sandbox sb = {.container_id = rec->id,
		                             .name = rec->name,
		                             .attach = attach,
		                             .n_attach = na,
		                             .ports = ports,
		                             .n_ports = np};
		r = network_sandbox_wire(&n->env, &sb, netns_path, err);
	}
	free(attach);
	free(ports);
	return r;
}

struct engine_network_wiring {
	pthread_t thread;
	struct engine *e;
	const struct container_record *rec;
	const struct container_create *c;
	char *netns_path;
	int r;
	struct vsl_error *err;
};

static void *wire_thread(void *arg)
{
	struct engine_network_wiring *w = arg;
	_cleanup_net_env_ struct engine_network_env *n = NULL;
	_cleanup_image_config_ struct image_config *image = NULL; /* its exposed ports */
	w->r = engine_network_env_open(w->e, &n, &w->err);
	if (w->r >= 0)
		w->r = images_get_config(w->e->images, w->rec->image_id, &image, &w->err);
	if (w->r >= 0)
		w->r = wire(w->e, n, w->rec, w->c, image, w->netns_path, &w->err);
	return NULL;
}

static int wire_start(struct engine *e, const struct container_record *rec, const struct container_create *c,
                      const char *netns_path, struct engine_network_wiring **ret, struct vsl_error **err)
{
	struct engine_network_wiring *w = calloc(1, sizeof(*w));
	if (w == NULL || (w->netns_path = strdup(netns_path)) == NULL) {
		free(w);
		return vsl_error_errno(err, ENOMEM, "network");
	}
	w->e = e;
	w->rec = rec;
	w->c = c;
	int r = thread_start(&w->thread, wire_thread, w);
	if (r != 0) {
		free(w->netns_path);
		free(w);
		return vsl_error_errno(err, r, "start a thread");
	}
	*ret = w;
	return 0;
}

int engine_network_setup(struct engine *e, const struct container_record *rec,
                         const struct container_create *c, const struct image_config *image,
                         struct engine_network_wiring **ret_wiring, char **ret_netns_path,
                         struct vsl_error **err)
{
	if (ret_wiring)
		*ret_wiring = NULL;
	const char *mode = c->host.network_mode;
	if (mode && strncmp(mode, "container:", 10) == 0)
		return joined_netns(e, mode, ret_netns_path, err);
	*ret_netns_path = NULL;
	if (!has_own_network(c))
		return 0;
	_cleanup_net_env_ struct engine_network_env *n = NULL;
	_cleanup_free_ char *path = NULL;
	int r = engine_network_env_open(e, &n, err);
	if (r < 0 || (r = network_sandbox_netns(&n->env, rec->id, &path, err)) < 0)
		return r;
	r = ret_wiring ? wire_start(e, rec, c, path, ret_wiring, err) : wire(e, n, rec, c, image, path, err);
	if (r < 0) {
		network_sandbox_down(&n->env, rec->id);
		return r;
	}
	*ret_netns_path = TAKE_PTR(path);
	return 0;
}

int engine_network_wire_join(struct engine_network_wiring *w, struct vsl_error **err)
{
	if (w == NULL)
		return 0;
	pthread_join(w->thread, NULL);
	int r = w->r;
	if (r < 0 && err && *err == NULL)
		*err = TAKE_PTR(w->err);
	vsl_error_free(w->err);
	free(w->netns_path);
	free(w);
	return r;
}

void engine_network_teardown(struct engine *e, const struct container_create *c, const char *container_id)
{
	_cleanup_net_env_ struct engine_network_env *n = NULL;
	_cleanup_error_ struct vsl_error *err = NULL;
	if ((c == NULL || has_own_network(c)) && engine_network_env_open(e, &n, &err) >= 0)
		network_sandbox_down(&n->env, container_id);
}

void engine_network_release(struct engine *e, const struct container_create *c, const char *container_id)
{
	_cleanup_net_env_ struct engine_network_env *n = NULL;
	_cleanup_error_ struct vsl_error *err = NULL;
	if ((c == NULL || has_own_network(c)) && engine_network_env_open(e, &n, &err) >= 0)
		network_release(&n->env, container_id);
}

/* ---- connect, disconnect ---- */

static int container_mode(struct engine *e, const struct container_record *rec, char **ret_mode,
                          struct vsl_error **err)
{
	_cleanup_container_create_ struct container_create *c = NULL;
	int r = containers_create_config(rec, &c, err);
	if (r < 0)
		return r;
	(void)e;
	*ret_mode = c->host.network_mode ? strdup(c->host.network_mode) : NULL;
	return 0;
}

int engine_network_connect(struct engine *e, const char *network, const char *container,
                           const struct network_attach *a, struct vsl_error **err)
{
	_cleanup_free_ char *id = NULL;
	_cleanup_container_record_ struct container_record *rec = NULL;
	int r = containers_resolve(e, container, &id, err);
	if (r < 0 || (r = containers_get(e, id, &rec, err)) < 0)
		return r;
	_cleanup_free_ char *mode = NULL;
	if ((r = container_mode(e, rec, &mode, err)) < 0)
		return r;
	if (mode_is(mode, "host") || mode_is(mode, "none") || (mode && strncmp(mode, "container:", 10) == 0))
		return vsl_error_set_code(
		    err, EINVAL,
		    "container sharing network namespace with another container or host cannot "
		    "be connected to any other network");
	_cleanup_net_env_ struct engine_network_env *n = NULL;
	if ((r = engine_network_env_open(e, &n, err)) < 0)
		return r;
	_cleanup_free_ char *ns = NULL;
	if (rec->state == CONTAINER_RUNNING || rec->state == CONTAINER_PAUSED) {
		struct stat st;
		if ((ns = netns_file(e, rec->id)) == NULL)
			return vsl_error_errno(err, ENOMEM, "network");
		if (stat(ns, &st) < 0) {
			free(ns);
			ns = NULL;
		}
	}
	struct network_attach attach = *a;
	attach.network = network;
	return network_connect(&n->env, rec->id, rec->name, &attach, ns, err);
}

int engine_network_disconnect(struct engine *e, const char *network, const char *container, bool force,
                              struct vsl_error **err)
{
	_cleanup_free_ char *id = NULL;
	int r = containers_resolve(e, container, &id, err);
	if (r < 0 && !force)
		return r;
	_cleanup_net_env_ struct engine_network_env *n = NULL;
	if ((r = engine_network_env_open(e, &n, err)) < 0)
		return r;
	/* --force on a container that is gone: its endpoint by id. */
	return network_disconnect(&n->env, id ? id : container, network, err);
}
