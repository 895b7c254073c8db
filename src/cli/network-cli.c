/* `vessel network create|ls|inspect|rm|prune|connect|disconnect` and
 * `vessel port`, in Docker's output formats. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/format.h"
#include "engine/containers.h"
#include "engine/networks.h"
#include "network/network.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/strv.h"

struct net_env_holder {
	struct engine_network_env *n;
};

static void holder_free(struct net_env_holder *h)
{
	engine_network_env_free(h->n);
}
#define _cleanup_holder_ __attribute__((cleanup(holder_free)))

static int open_env(struct cli_ctx *ctx, struct net_env_holder *h, struct vsl_error **err)
{
	return engine_network_env_open(ctx->engine, &h->n, err);
}

/* ---- create ---- */

struct create_args {
	char *driver;
	char **subnets, **gateways;
	bool internal, ipv6, attachable;
	char **labels, **opts;
};

static int cmd_create(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	(void)argc;
	struct create_args *a = opts;
	_cleanup_holder_ struct net_env_holder h = {0};
	int r = open_env(ctx, &h, err);
	if (r < 0)
		return r;
	json_t *labels = json_object();
	for (char **l = a->labels; l && *l; l++) {
		char *eq = strchr(*l, '=');
		_cleanup_free_ char *key = eq ? strndup(*l, (size_t)(eq - *l)) : strdup(*l);
		if (key)
			json_object_set_new(labels, key, json_string(eq ? eq + 1 : ""));
	}
	_cleanup_free_ char *labels_text = json_dumps(labels, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(labels);
	/* Docker takes --subnet and --gateway once per address family. */
	const char *subnet[2] = {0}, *gateway[2] = {0};
	for (char **x = a->subnets; x && *x; x++) {
		int v6 = strchr(*x, ':') != NULL;
		if (subnet[v6])
			return vsl_error_set_code(err, EINVAL, "only one IPv%d subnet is supported: %s",
			                          v6 ? 6 : 4, *x);
		subnet[v6] = *x;
	}
	for (char **x = a->gateways; x && *x; x++) {
		int v6 = strchr(*x, ':') != NULL;
		if (gateway[v6])
			return vsl_error_set_code(err, EINVAL, "only one IPv%d gateway is supported: %s",
			                          v6 ? 6 : 4, *x);
		gateway[v6] = *x;
	}
	struct network_create_opts o = {.name = argv[0],
	                                .driver = a->driver,
	                                .subnet = subnet[0],
	                                .gateway = gateway[0],
	                                .subnet6 = subnet[1],
	                                .gateway6 = gateway[1],
	                                .internal = a->internal,
	                                .ipv6 = a->ipv6,
	                                .labels = labels_text};
	_cleanup_free_ char *id = NULL;
	if ((r = network_create(engine_network_env_get(h.n), &o, &id, err)) < 0)
		return r;
	printf("%s\n", id);
	return 0;
}

/* ---- ls ---- */

struct ls_args {
	bool quiet, no_trunc;
	char *format;
	char **filters;
};

struct net_row {
	const struct network_record *n;
	bool no_trunc;
	char buf[128];
	char *json;
};

static const char *net_lookup(void *p, const char *field)
{
	struct net_row *row = p;
	const struct network_record *n = row->n;
	if (strcmp(field, "ID") == 0) {
		snprintf(row->buf, sizeof(row->buf), "%.*s", row->no_trunc ? 64 : 12, n->id);
		return row->buf;
	}
	if (strcmp(field, "Name") == 0)
		return n->name;
	if (strcmp(field, "Driver") == 0)
		return n->driver;
	if (strcmp(field, "Scope") == 0)
		return "local";
	if (strcmp(field, "IPv6") == 0)
		return n->ipv6 ? "true" : "false";
	if (strcmp(field, "Internal") == 0)
		return n->internal ? "true" : "false";
	if (strcmp(field, ".") == 0) {
		free(row->json);
		row->json = NULL;
		json_t *j = json_pack("{ss ss ss ss ss ss}", "ID", n->id, "Name", n->name, "Driver",
		                      n->driver, "Scope", "local", "IPv6", n->ipv6 ? "true" : "false",
		                      "Internal", n->internal ? "true" : "false");
		row->json = json_dumps(j, JSON_COMPACT);
		json_decref(j);
		return row->json;
	}
	return NULL;
}

static bool filter_match(const struct network_record *n, char **filters)
{
	for (char **f = filters; f && *f; f++) {
		const char *eq = strchr(*f, '=');
		if (eq == NULL)
			continue;
		size_t k = (size_t)(eq - *f);
		const char *v = eq + 1;
		if (strncmp(*f, "name", k) == 0 && k == 4 && strstr(n->name, v) == NULL)
			return false;
		if (strncmp(*f, "id", k) == 0 && k == 2 && strncmp(n->id, v, strlen(v)) != 0)
			return false;
		if (strncmp(*f, "driver", k) == 0 && k == 6 && strcmp(n->driver, v) != 0)
			return false;
	}
	return true;
}

static int cmd_ls(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	(void)argc, (void)argv;
	struct ls_args *a = opts;
	_cleanup_holder_ struct net_env_holder h = {0};
	int r = open_env(ctx, &h, err);
	if (r < 0)
		return r;
	struct network_record **v = NULL;
	size_t n = 0;
	if ((r = network_list(engine_network_env_get(h.n), &v, &n, err)) < 0)
		return r;
	struct table *t = NULL;
	const char *format = a->quiet ? "{{.ID}}" : a->format;
	if ((r = table_new(format, "{{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}",
	                   "NETWORK ID\tNAME\tDRIVER\tSCOPE", &t, err)) >= 0) {
		for (size_t i = 0; i < n && r >= 0; i++) {
			if (!filter_match(v[i], a->filters))
				continue;
			struct net_row row = {.n = v[i], .no_trunc = a->no_trunc};
			r = table_row(t, net_lookup, &row, err);
			free(row.json);
		}
		table_print_free(t);
	}
	network_records_free(v, n);
	return r;
}

/* ---- inspect ---- */

struct inspect_args {
	char *format;
};

static void rfc3339(char *buf, size_t size, int64_t ns)
{
	time_t s = (time_t)(ns / 1000000000);
	struct tm tm;
	gmtime_r(&s, &tm);
	char date[32];
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, size, "%s.%09lldZ", date, (long long)(ns % 1000000000));
}

static json_t *network_json(struct network_env *env, const struct network_record *n)
{
	char created[64];
	rfc3339(created, sizeof(created), n->created);
	json_t *labels = json_loads(n->labels, 0, NULL);
	const char *slash = strchr(n->subnet, '/');
	json_t *containers = json_object();
	struct endpoint_record **eps = NULL;
	size_t ne = 0;
	if (ipam_endpoint_list(env->db, n->id, NULL, &eps, &ne, NULL) >= 0)
		for (size_t i = 0; i < ne; i++) {
			char addr[64], addr6[96] = "", epid[65];
			snprintf(addr, sizeof(addr), "%s%s", eps[i]->ip, slash ? slash : "");
			const char *slash6 = strchr(n->subnet6, '/');
			if (eps[i]->ip6[0])
				snprintf(addr6, sizeof(addr6), "%s%s", eps[i]->ip6, slash6 ? slash6 : "");
			snprintf(epid, sizeof(epid), "%.32s%.32s", eps[i]->container_id, n->id);
			json_object_set_new(containers, eps[i]->container_id,
			                    json_pack("{ss ss ss ss ss}", "Name", eps[i]->name, "EndpointID",
			                              epid, "MacAddress", eps[i]->mac, "IPv4Address", addr,
			                              "IPv6Address", addr6));
		}
	endpoint_records_free(eps, ne);
	json_t *config = json_array();
	if (n->subnet[0])
		json_array_append_new(config,
		                      json_pack("{ss ss}", "Subnet", n->subnet, "Gateway", n->gateway));
	if (n->subnet6[0])
		json_array_append_new(config,
		                      json_pack("{ss ss}", "Subnet", n->subnet6, "Gateway", n->gateway6));
	return json_pack("{ss ss ss ss ss sb s{ss so so} sb sb sb s{ss} sb so s{ss} so}", "Name", n->name,
	                 "Id", n->id, "Created", created, "Scope", "local", "Driver", n->driver, "EnableIPv6",
	                 n->ipv6, "IPAM", "Driver", "default", "Options", json_object(), "Config", config,
	                 "Internal", n->internal, "Attachable", false, "Ingress", false, "ConfigFrom",
	                 "Network", "", "ConfigOnly", false, "Containers", containers, "Options",
	                 "com.docker.network.bridge.name", n->bridge, "Labels",
	                 labels ? labels : json_object());
}

static int cmd_inspect(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	(void)opts;
	_cleanup_holder_ struct net_env_holder h = {0};
	int r = open_env(ctx, &h, err);
	if (r < 0)
		return r;
	json_t *all = json_array();
	int failed = 0;
	for (int i = 0; i < argc; i++) {
		_cleanup_network_record_ struct network_record *n = NULL;
		_cleanup_error_ struct vsl_error *e = NULL;
		if (network_get(engine_network_env_get(h.n), argv[i], &n, &e) < 0) {
			fprintf(stderr, "vessel: Error response from daemon: %s\n", vsl_error_message(e));
			failed = 1;
			continue;
		}
		json_array_append_new(all, network_json(engine_network_env_get(h.n), n));
	}
	_cleanup_free_ char *text = json_dumps(all, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
	json_decref(all);
	printf("%s\n", text ? text : "[]");
	return failed;
}

/* ---- rm, prune ---- */

static int cmd_rm(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	(void)opts;
	_cleanup_holder_ struct net_env_holder h = {0};
	int r = open_env(ctx, &h, err);
	if (r < 0)
		return r;
	int failed = 0;
	for (int i = 0; i < argc; i++) {
		_cleanup_error_ struct vsl_error *e = NULL;
		if (network_remove(engine_network_env_get(h.n), argv[i], &e) < 0) {
			fprintf(stderr, "vessel: Error response from daemon: %s\n", vsl_error_message(e));
			failed = 1;
			continue;
		}
		printf("%s\n", argv[i]);
	}
	return failed;
}

struct prune_args {
	bool force;
	char **filters;
};

static int cmd_prune(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	(void)opts, (void)argc, (void)argv;
	_cleanup_holder_ struct net_env_holder h = {0};
	int r = open_env(ctx, &h, err);
	if (r < 0)
		return r;
	_cleanup_strv_ char **removed = NULL;
	if ((r = network_prune(engine_network_env_get(h.n), &removed, err)) < 0)
		return r;
	if (removed && removed[0]) {
		printf("Deleted Networks:\n");
		for (char **s = removed; *s; s++)
			printf("%s\n", *s);
	}
	return 0;
}

/* ---- connect, disconnect ---- */

struct connect_args {
	char *ip, *ip6;
	char **aliases, **links, **driver_opts;
};

static int cmd_connect(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	(void)argc;
	struct connect_args *a = opts;
	struct network_attach at = {.ip = a->ip, .aliases = a->aliases};
	return engine_network_connect(ctx->engine, argv[0], argv[1], &at, err);
}

struct disconnect_args {
	bool force;
};

static int cmd_disconnect(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	(void)argc;
	struct disconnect_args *a = opts;
	return engine_network_disconnect(ctx->engine, argv[0], argv[1], a->force, err);
}

/* ---- port ---- */

static int cmd_port(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	(void)opts;
	_cleanup_free_ char *id = NULL;
	int r = containers_resolve(ctx->engine, argv[0], &id, err);
	if (r < 0)
		return r;
	_cleanup_holder_ struct net_env_holder h = {0};
	if ((r = open_env(ctx, &h, err)) < 0)
		return r;
	struct port_record *p = NULL;
	size_t n = 0;
	if ((r = network_ports(engine_network_env_get(h.n), id, &p, &n, err)) < 0)
		return r;
	unsigned want = 0;
	char want_proto[16] = "tcp";
	if (argc > 1) {
		char *end;
		want = (unsigned)strtoul(argv[1], &end, 10);
		if (*end == '/')
			snprintf(want_proto, sizeof(want_proto), "%s", end + 1);
	}
	size_t shown = 0;
	for (size_t i = 0; i < n; i++) {
		if (want && (p[i].container_port != want || strcmp(p[i].proto, want_proto) != 0))
			continue;
		if (want)
			printf("%s:%u\n", p[i].host_ip, p[i].host_port);
		else
			printf("%u/%s -> %s:%u\n", p[i].container_port, p[i].proto, p[i].host_ip,
			       p[i].host_port);
		shown++;
	}
	port_records_free(p, n);
	if (want && shown == 0)
		return vsl_error_set_code(err, ENOENT, "No public port '%s' published for %s", argv[1],
		                          argv[0]);
	return 0;
}

/* ---- tables ---- */

static const struct cli_flag create_flags[] = {
    CLI_STRING("driver", 'd', struct create_args, driver, "Driver to manage the Network"),
    CLI_LIST("subnet", 0, struct create_args, subnets,
             "Subnet in CIDR format that represents a network segment"),
    CLI_LIST("gateway", 0, struct create_args, gateways, "IPv4 or IPv6 Gateway for the master subnet"),
    CLI_BOOL("internal", 0, struct create_args, internal, "Restrict external access to the network"),
    CLI_BOOL("ipv6", 0, struct create_args, ipv6, "Enable IPv6 networking"),
    CLI_BOOL("attachable", 0, struct create_args, attachable, "Enable manual container attachment"),
    CLI_LIST("label", 0, struct create_args, labels, "Set metadata on a network"),
    CLI_LIST("opt", 'o', struct create_args, opts, "Set driver specific options"),
    CLI_END,
};
static const struct cli_flag ls_flags[] = {
    CLI_LIST("filter", 'f', struct ls_args, filters, "Provide filter values (e.g. \"driver=bridge\")"),
    CLI_STRING("format", 0, struct ls_args, format, "Format output using a custom template"),
    CLI_BOOL("no-trunc", 0, struct ls_args, no_trunc, "Do not truncate the output"),
    CLI_BOOL("quiet", 'q', struct ls_args, quiet, "Only display network IDs"),
    CLI_END,
};
static const struct cli_flag inspect_flags[] = {
    CLI_STRING("format", 'f', struct inspect_args, format, "Format output using a custom template"),
    CLI_END,
};
static const struct cli_flag prune_flags[] = {
    CLI_BOOL("force", 'f', struct prune_args, force, "Do not prompt for confirmation"),
    CLI_LIST("filter", 0, struct prune_args, filters, "Provide filter values (e.g. \"until=<timestamp>\")"),
    CLI_END,
};
static const struct cli_flag connect_flags[] = {
    CLI_STRING("ip", 0, struct connect_args, ip, "IPv4 address (e.g., \"172.30.100.104\")"),
    CLI_STRING("ip6", 0, struct connect_args, ip6, "IPv6 address (e.g., \"2001:db8::33\")"),
    CLI_LIST("alias", 0, struct connect_args, aliases, "Add network-scoped alias for the container"),
    CLI_LIST("link", 0, struct connect_args, links, "Add link to another container"),
    CLI_LIST("driver-opt", 0, struct connect_args, driver_opts, "driver options for the network"),
    CLI_END,
};
static const struct cli_flag disconnect_flags[] = {
    CLI_BOOL("force", 'f', struct disconnect_args, force, "Force the container to disconnect from a network"),
    CLI_END,
};
static const struct cli_flag no_flags[] = {CLI_END};

/* Docker has both names of ls and rm. */
#define LS_COMMAND(name_)                                                                                    \
	{                                                                                                    \
		.name = (name_), .run = cmd_ls, .flags = CLI_NEEDS_ENGINE, .max_args = 0,                    \
		.options = ls_flags, .opts_size = sizeof(struct ls_args), .usage = "[OPTIONS]",              \
		.help = "List networks"                                                                      \
	}
#define RM_COMMAND(name_)                                                                                    \
	{                                                                                                    \
		.name = (name_), .run = cmd_rm, .flags = CLI_NEEDS_ENGINE, .min_args = 1,                    \
		.max_args = CLI_ARGS_ANY, .options = no_flags, .usage = "NETWORK [NETWORK...]",              \
		.help = "Remove one or more networks"                                                        \
	}

const struct cli_command network_commands[] = {
    {.name = "create",
     .run = cmd_create,
     .flags = CLI_NEEDS_ENGINE,
     .min_args = 1,
     .max_args = 1,
     .options = create_flags,
     .opts_size = sizeof(struct create_args),
     .usage = "[OPTIONS] NETWORK",
     .help = "Create a network"},
    LS_COMMAND("ls"),
    LS_COMMAND("list"),
    {.name = "inspect",
     .run = cmd_inspect,
     .flags = CLI_NEEDS_ENGINE,
     .min_args = 1,
     .max_args = CLI_ARGS_ANY,
     .options = inspect_flags,
     .opts_size = sizeof(struct inspect_args),
     .usage = "[OPTIONS] NETWORK [NETWORK...]",
     .help = "Display detailed information on one or more networks"},
    RM_COMMAND("rm"),
    RM_COMMAND("remove"),
    {.name = "prune",
     .run = cmd_prune,
     .flags = CLI_NEEDS_ENGINE,
     .max_args = 0,
     .options = prune_flags,
     .opts_size = sizeof(struct prune_args),
     .usage = "[OPTIONS]",
     .help = "Remove all unused networks"},
    {.name = "connect",
     .run = cmd_connect,
     .flags = CLI_NEEDS_ENGINE,
     .min_args = 2,
     .max_args = 2,
     .options = connect_flags,
     .opts_size = sizeof(struct connect_args),
     .usage = "[OPTIONS] NETWORK CONTAINER",
     .help = "Connect a container to a network"},
    {.name = "disconnect",
     .run = cmd_disconnect,
     .flags = CLI_NEEDS_ENGINE,
     .min_args = 2,
     .max_args = 2,
     .options = disconnect_flags,
     .opts_size = sizeof(struct disconnect_args),
     .usage = "[OPTIONS] NETWORK CONTAINER",
     .help = "Disconnect a container from a network"},
    {.name = NULL},
};

const struct cli_command network_toplevel_commands[] = {
    {.name = "port",
     .run = cmd_port,
     .flags = CLI_NEEDS_ENGINE,
     .min_args = 1,
     .max_args = 2,
     .options = no_flags,
     .usage = "CONTAINER [PRIVATE_PORT[/PROTO]]",
     .help = "List port mappings or a specific mapping for the container"},
    {.name = NULL},
};
