#include "network/network.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "network/nat.h"
#include "network/netlink.h"
#include "util/cleanup.h"
#include "util/db.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strv.h"

#define HOSTS_MAX   (1u << 20)
#define PORT_MIN    49153
#define PORT_MAX    60999
#define DEFAULT_MTU 1500

static void closep_lock(int *fd)
{
	if (*fd >= 0)
		close(*fd); /* closing drops the flock */
}
#define _cleanup_lock_ __attribute__((cleanup(closep_lock)))

struct ep_list {
	struct endpoint_record **v;
	size_t n;
};

static void ep_list_free(struct ep_list *l)
{
	endpoint_records_free(l->v, l->n);
	l->v = NULL;
	l->n = 0;
}
#define _cleanup_ep_list_ __attribute__((cleanup(ep_list_free)))

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int random_id(char ret[65], struct vsl_error **err)
{
	unsigned char bytes[32];
	if (getrandom(bytes, sizeof(bytes), 0) != (ssize_t)sizeof(bytes))
		return vsl_error_errno(err, errno, "make a network id");
	for (size_t i = 0; i < sizeof(bytes); i++)
		snprintf(ret + 2 * i, 3, "%02x", bytes[i]);
	return 0;
}

int network_init(struct network_env *env, struct vsl_error **err)
{
	return ipam_init(env->db, err);
}

/* Docker's default-address-pools. */
static size_t default_pools(const struct network_env *env, struct ipam_pool *pools, size_t max, unsigned size)
{
	if (env->pools && env->n_pools) {
		size_t n = env->n_pools < max ? env->n_pools : max;
		memcpy(pools, env->pools, n * sizeof(*pools));
		return n;
	}
	size_t n = 0;
	ipam_parse_cidr("172.17.0.0/16", false, &pools[n].base, NULL);
	pools[n++].size = size < 16 ? 16 : size;
	ipam_parse_cidr("172.18.0.0/15", false, &pools[n].base, NULL);
	pools[n++].size = 16;
	ipam_parse_cidr("172.20.0.0/14", false, &pools[n].base, NULL);
	pools[n++].size = 16;
	ipam_parse_cidr("172.24.0.0/13", false, &pools[n].base, NULL);
	pools[n++].size = 16;
	ipam_parse_cidr("192.168.0.0/16", false, &pools[n].base, NULL);
	pools[n++].size = 20;
	return n;
}

static bool valid_name(const char *s)
{
	if (s == NULL || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == '.' || *s == '-'))
			return false;
	return true;
}

/* Inside db_begin(): the subnet check and the insert see one state. */
static int create_locked(struct network_env *env, const struct network_create_opts *o, const char *id,
                         const char *bridge, struct vsl_error **err)
{
	struct ipam_subnet s;
	struct in_addr gw;
	int r;
	if (o->subnet && *o->subnet) {
		if (ipam_parse_cidr(o->subnet, false, &s, NULL) < 0 || s.prefix > 30)
			return vsl_error_set_code(err, EINVAL,
			                          "invalid subnet %s: it must be an IPv4 network in CIDR "
			                          "notation with a prefix of at most /30",
			                          o->subnet);
		_cleanup_free_ char *user = NULL;
		if ((r = ipam_subnet_in_use(env->db, &s, NULL, &user, err)) < 0)
			return r;
		if (r > 0)
			return vsl_error_set_code(
			    err, EEXIST,
			    "invalid pool request: Pool overlaps with other one on this "
			    "address space (%s)",
			    user ? user : "in use");
	} else {
		struct ipam_pool pools[16];
		size_t n = default_pools(env, pools, ARRAY_SIZE(pools), 16);
		if ((r = ipam_pick_subnet(env->db, pools, n, &s, err)) < 0)
			return r;
	}
	if (o->gateway && *o->gateway) {
		if (inet_pton(AF_INET, o->gateway, &gw) != 1)
			return vsl_error_set_code(err, EINVAL, "invalid gateway address %s", o->gateway);
		if (!ipam_contains(&s, gw))
			return vsl_error_set_code(err, EINVAL, "gateway %s is not in subnet %s", o->gateway,
			                          o->subnet ? o->subnet : "");
	} else {
		gw.s_addr = htonl(ntohl(s.addr.s_addr) + 1);
	}
	char subnet[32], gateway[INET_ADDRSTRLEN], subnet6[INET6_ADDRSTRLEN + 8] = "",
	                                                                      gateway6[INET6_ADDRSTRLEN] = "";
	ipam_format(&s, subnet, sizeof(subnet));
	inet_ntop(AF_INET, &gw, gateway, sizeof(gateway));
	if (o->ipv6) {
		struct ipam_subnet6 s6;
		struct in6_addr gw6;
		if (o->subnet6 == NULL || ipam_parse_cidr6(o->subnet6, false, &s6, NULL) < 0 ||
		    s6.prefix > 126)
			return vsl_error_set_code(
			    err, EINVAL,
			    "invalid IPv6 subnet %s: it must be an IPv6 network in CIDR "
			    "notation with a prefix of at most /126",
			    o->subnet6 ? o->subnet6 : "");
		_cleanup_free_ char *user = NULL;
		if ((r = ipam_subnet6_in_use(env->db, &s6, &user, err)) < 0)
			return r;
		if (r > 0)
			return vsl_error_set_code(
			    err, EEXIST,
			    "invalid pool request: Pool overlaps with other one on this address space (%s)",
			    user ? user : "in use");
		if (o->gateway6 && *o->gateway6) {
			if (inet_pton(AF_INET6, o->gateway6, &gw6) != 1 || !ipam_contains6(&s6, &gw6))
				return vsl_error_set_code(err, EINVAL, "gateway %s is not in subnet %s",
				                          o->gateway6, o->subnet6);
		} else {
			gw6 = s6.addr;
			gw6.s6_addr[15] |= 1;
		}
		ipam_format6(&s6, subnet6, sizeof(subnet6));
		inet_ntop(AF_INET6, &gw6, gateway6, sizeof(gateway6));
	}
	struct network_record rec = {
	    .id = (char *)id,
	    .name = (char *)o->name,
	    .driver = "bridge",
	    .subnet = subnet,
	    .gateway = gateway,
	    .bridge = (char *)bridge,
	    .internal = o->internal,
	    .ipv6 = o->ipv6,
	    .created = now_ns(),
	    .labels = (char *)(o->labels ? o->labels : "{}"),
	    .subnet6 = subnet6,
	    .gateway6 = gateway6,
	};
	return ipam_network_insert(env->db, &rec, err);
}

static int create_record(struct network_env *env, const struct network_create_opts *o, const char *bridge,
                         char **ret_id, struct vsl_error **err)
{
	char id[65];
	int r = random_id(id, err);
	if (r < 0)
		return r;
	char own_bridge[16];
	if (bridge == NULL) {
		snprintf(own_bridge, sizeof(own_bridge), "vessel-%.8s", id);
		bridge = own_bridge;
	}
	if ((r = db_begin(env->db, err)) < 0)
		return r;
	if ((r = create_locked(env, o, id, bridge, err)) < 0) {
		db_rollback(env->db);
		return r;
	}
	if ((r = db_commit(env->db, err)) < 0)
		return r;
	if (ret_id && (*ret_id = strdup(id)) == NULL)
		return vsl_error_errno(err, ENOMEM, "create network");
	return 0;
}

static bool predefined(const char *name)
{
	return strcmp(name, "bridge") == 0 || strcmp(name, "host") == 0 || strcmp(name, "none") == 0 ||
	       strcmp(name, "default") == 0;
}

int network_create(struct network_env *env, const struct network_create_opts *o, char **ret_id,
                   struct vsl_error **err)
{
	if (!valid_name(o->name))
		return vsl_error_set_code(
		    err, EINVAL, "invalid network name \"%s\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
		    o->name ? o->name : "");
	if (predefined(o->name))
		return vsl_error_set_code(err, EPERM, "operation is not permitted on predefined %s network",
		                          o->name);
	if (o->driver && *o->driver && strcmp(o->driver, "bridge") != 0)
		return vsl_error_set_code(
		    err, ENOTSUP, "plugin \"%s\" not found: only the bridge driver is supported", o->driver);
	if (o->ipv6 && (o->subnet6 == NULL || *o->subnet6 == '\0'))
		return vsl_error_set_code(
		    err, EINVAL,
		    "--ipv6 needs an IPv6 subnet (e.g. --subnet fd00:1:2:3::/64): vessel "
		    "has no IPv6 pool to take one from");
	if (!o->ipv6 && o->subnet6 && *o->subnet6)
		return vsl_error_set_code(err, EINVAL, "IPv6 subnet %s given without --ipv6", o->subnet6);
	return create_record(env, o, NULL, ret_id, err);
}

static int ensure_default(struct network_env *env, struct vsl_error **err)
{
	_cleanup_network_record_ struct network_record *n = NULL;
	_cleanup_error_ struct vsl_error *e = NULL;
	if (ipam_network_get(env->db, NETWORK_DEFAULT, &n, &e) >= 0)
		return 0;
	if (vsl_error_code(e) != -ENOENT) {
		*err = TAKE_PTR(e);
		return vsl_error_code(*err);
	}
	struct network_create_opts o = {.name = NETWORK_DEFAULT};
	_cleanup_free_ char *subnet = NULL, *gateway = NULL;
	if (env->bip && *env->bip) {
		struct ipam_subnet s;
		struct in_addr gw;
		if (ipam_parse_cidr(env->bip, true, &s, &gw) < 0)
			return vsl_error_set_code(err, EINVAL, "bip: invalid address %s", env->bip);
		char text[32], gtext[INET_ADDRSTRLEN];
		ipam_format(&s, text, sizeof(text));
		inet_ntop(AF_INET, &gw, gtext, sizeof(gtext));
		subnet = strdup(text);
		gateway = strdup(gtext);
		if (!subnet || !gateway)
			return vsl_error_errno(err, ENOMEM, "create the default network");
		o.subnet = subnet;
		o.gateway = gateway;
	}
	_cleanup_error_ struct vsl_error *ce = NULL;
	int r = create_record(env, &o, env->default_bridge ? env->default_bridge : "vessel0", NULL, &ce);
	if (r == -EEXIST && ce && strstr(vsl_error_message(ce), "already exists"))
		return 0; /* another vessel made it meanwhile */
	if (r < 0) {
		*err = TAKE_PTR(ce);
		return vsl_error_prefix(err, "create the default network");
	}
	return 0;
}

/* Docker's "host" and "none": records that `network ls` and `inspect` show
 * (the engine wires nothing for them). */
static int ensure_predefined(struct network_env *env, struct vsl_error **err)
{
	static const char *const names[][2] = {{"host", "host"}, {"none", "null"}};
	int r = ensure_default(env, err);
	for (size_t i = 0; i < ARRAY_SIZE(names) && r >= 0; i++) {
		_cleanup_network_record_ struct network_record *n = NULL;
		_cleanup_error_ struct vsl_error *e = NULL;
		if (ipam_network_get(env->db, names[i][0], &n, &e) >= 0)
			continue;
		char id[65];
		if ((r = random_id(id, err)) < 0)
			break;
		struct network_record rec = {.id = id,
		                             .name = (char *)names[i][0],
		                             .driver = (char *)names[i][1],
		                             .subnet = "",
		                             .gateway = "",
		                             .bridge = "",
		                             .created = now_ns(),
		                             .labels = "{}"};
		_cleanup_error_ struct vsl_error *ie = NULL;
		r = ipam_network_insert(env->db, &rec, &ie);
		if (r == -EEXIST)
			r = 0; /* another vessel made it meanwhile */
		else if (r < 0)
			*err = TAKE_PTR(ie);
	}
	return r;
}

int network_get(struct network_env *env, const char *name_or_id, struct network_record **ret,
                struct vsl_error **err)
{
	if (strcmp(name_or_id, NETWORK_DEFAULT) == 0 || strcmp(name_or_id, "default") == 0) {
		int r = ensure_default(env, err);
		if (r < 0)
			return r;
		name_or_id = NETWORK_DEFAULT;
	} else if (strcmp(name_or_id, "host") == 0 || strcmp(name_or_id, "none") == 0) {
		int r = ensure_predefined(env, err);
		if (r < 0)
			return r;
	}
	return ipam_network_get(env->db, name_or_id, ret, err);
}

int network_list(struct network_env *env, struct network_record ***ret, size_t *ret_n, struct vsl_error **err)
{
	int r = ensure_predefined(env, err);
	return r < 0 ? r : ipam_network_list(env->db, ret, ret_n, err);
}

static bool is_bridge(const struct network_record *net)
{
	return strcmp(net->driver, "bridge") == 0;
}

/* ---- bridges ---- */

static int parse_net(const struct network_record *net, struct ipam_subnet *s, struct in_addr *gw,
                     struct vsl_error **err)
{
	if (ipam_parse_cidr(net->subnet, true, s, NULL) < 0 || inet_pton(AF_INET, net->gateway, gw) != 1)
		return vsl_error_set_code(err, EINVAL, "network %s: bad subnet '%s' or gateway '%s'",
		                          net->name, net->subnet, net->gateway);
	return 0;
}

/* Under nat_lock(): the network's bridge, its addresses and its rules, made
 * on first use and again when the link is found missing (a reboot took it,
 * or someone deleted it); from then on they stay until the network goes, as
 * docker0 does, so a container's start and exit touch no bridge and no
 * nftables rule of the network. */
static int bridge_up(struct network_env *env, const struct network_record *net, struct vsl_error **err)
{
	if (nl_link_exists(net->bridge))
		return 0;
	struct ipam_subnet s;
	struct in_addr gw;
	int r = parse_net(net, &s, &gw, err);
	if (r < 0)
		return r;
	/* Removed (network rm, system reset) since the caller read it. */
	_cleanup_network_record_ struct network_record *still = NULL;
	if ((r = ipam_network_get(env->db, net->id, &still, err)) < 0)
		return r;
	unsigned mtu = env->mtu ? env->mtu : DEFAULT_MTU;
	if ((r = nl_bridge_create(net->bridge, mtu, err)) < 0)
		return r;
	struct nat_network nn = {.id = net->id,
	                         .bridge = net->bridge,
	                         .subnet = net->subnet,
	                         .subnet6 = net->subnet6,
	                         .internal = net->internal};
	struct ipam_subnet6 s6 = {0};
	struct in6_addr gw6;
	bool v6 = net->subnet6 && *net->subnet6;
	if (v6 && (ipam_parse_cidr6(net->subnet6, true, &s6, NULL) < 0 ||
	           inet_pton(AF_INET6, net->gateway6, &gw6) != 1)) {
		nl_link_delete(net->bridge, NULL);
		return vsl_error_set_code(err, EINVAL, "network %s: bad IPv6 subnet '%s' or gateway '%s'",
		                          net->name, net->subnet6, net->gateway6);
	}
	if ((r = nl_addr_add(net->bridge, AF_INET, &gw, s.prefix, err)) < 0 ||
	    (r = nat_enable_forwarding(net->bridge, err)) < 0 ||
	    (v6 && (r = nat_enable_forwarding6(net->bridge, err)) < 0) ||
	    (v6 && (r = nl_addr_add(net->bridge, AF_INET6, &gw6, s6.prefix, err)) < 0) ||
	    (r = nl_link_up(net->bridge, err)) < 0 || (r = nat_network_add(&nn, err)) < 0) {
		nl_link_delete(net->bridge, NULL);
		nat_network_remove(net->id, NULL);
		return vsl_error_prefix(err, "network %s", net->name);
	}
	return 0;
}

/* ---- /etc/hosts ---- */

static bool network_named_default(struct network_env *env, const char *network_id)
{
	_cleanup_network_record_ struct network_record *net = NULL;
	return ipam_network_get(env->db, network_id, &net, NULL) >= 0 &&
	       strcmp(net->name, NETWORK_DEFAULT) == 0;
}

/* Rewrites the part of the container's hosts file below the marker, in place. */
static void hosts_rewrite(struct network_env *env, const char *container_id)
{
	_cleanup_free_ char *path = NULL;
	if (asprintf(&path, "%s/%s/hosts", env->containers_dir, container_id) < 0)
		return;
	_cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	_cleanup_free_ char *old = malloc(HOSTS_MAX + 1);
	if (old == NULL)
		return;
	ssize_t got = pread(fd, old, HOSTS_MAX, 0);
	if (got < 0)
		return;
	old[got] = '\0';
	char *marker = strstr(old, NETWORK_HOSTS_MARKER "\n");
	if (marker)
		*marker = '\0';

	_cleanup_free_ char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	if (f == NULL)
		return;
	fputs(old, f);
	fputs(NETWORK_HOSTS_MARKER "\n", f);
	_cleanup_ep_list_ struct ep_list mine = {0};
	if (ipam_endpoint_list(env->db, NULL, container_id, &mine.v, &mine.n, NULL) >= 0) {
		for (size_t i = 0; i < mine.n; i++) {
			if (!mine.v[i]->active)
				continue;
			fprintf(f, "%s\t%.12s\n", mine.v[i]->ip, container_id);
			if (mine.v[i]->ip6 && *mine.v[i]->ip6)
				fprintf(f, "%s\t%.12s\n", mine.v[i]->ip6, container_id);
			if (network_named_default(env, mine.v[i]->network_id))
				continue; /* Docker's default bridge resolves no names */
			_cleanup_ep_list_ struct ep_list peers = {0};
			if (ipam_endpoint_list(env->db, mine.v[i]->network_id, NULL, &peers.v, &peers.n,
			                       NULL) < 0)
				continue;
			for (size_t j = 0; j < peers.n; j++) {
				const struct endpoint_record *p = peers.v[j];
				if (!p->active || strcmp(p->container_id, container_id) == 0)
					continue;
				for (int v6 = 0; v6 < 2; v6++) {
					const char *ip = v6 ? p->ip6 : p->ip;
					if (ip == NULL || *ip == '\0')
						continue;
					fprintf(f, "%s\t%s", ip, p->name);
					for (char **a = p->aliases; a && *a; a++)
						fprintf(f, " %s", *a);
					fprintf(f, " %.12s\n", p->container_id);
				}
			}
		}
	}
	if (fclose(f) != 0)
		return;
	/* Written over the old bytes, then cut: a reader never sees an empty file. */
	if (pwrite(fd, text, size, 0) == (ssize_t)size)
		(void)!ftruncate(fd, (off_t)size);
}

/* Every container that shares a network with the container (and itself). */
static void hosts_rewrite_around(struct network_env *env, const char *container_id,
                                 const char *const *network_ids, size_t n_networks)
{
	hosts_rewrite(env, container_id);
	for (size_t i = 0; i < n_networks; i++) {
		_cleanup_ep_list_ struct ep_list l = {0};
		if (ipam_endpoint_list(env->db, network_ids[i], NULL, &l.v, &l.n, NULL) < 0)
			continue;
		for (size_t j = 0; j < l.n; j++)
			if (strcmp(l.v[j]->container_id, container_id) != 0)
				hosts_rewrite(env, l.v[j]->container_id);
	}
}

/* ---- wiring one endpoint ---- */

struct inside {
	const char *ifname;
	struct in_addr addr, gw;
	unsigned prefix;
	bool route;
	bool v6;
	struct in6_addr addr6, gw6;
	unsigned prefix6;
};

static int configure_inside(void *userdata, struct vsl_error **err)
{
	struct inside *in = userdata;
	int r = nl_addr_add(in->ifname, AF_INET, &in->addr, in->prefix, err);
	if (r >= 0 && in->v6)
		r = nl_addr_add(in->ifname, AF_INET6, &in->addr6, in->prefix6, err);
	if (r >= 0)
		r = nl_link_up(in->ifname, err);
	if (r >= 0 && in->route)
		r = nl_route_add_default(in->ifname, AF_INET, &in->gw, err);
	if (r >= 0 && in->route && in->v6)
		r = nl_route_add_default(in->ifname, AF_INET6, &in->gw6, err);
	return r;
}

static int free_ifname(void *userdata, struct vsl_error **err)
{
	(void)err;
	char *name = userdata;
	for (int i = 0; i < 100; i++) {
		snprintf(name, 16, "eth%d", i);
		if (!nl_link_exists(name))
			return 0;
	}
	return -ENOSPC;
}

static void veth_name(char buf[16], const char *container_id, const char *network_id)
{
	snprintf(buf, 16, "vsl%.6s%.5s", container_id, network_id);
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned b[6];
	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

/* Under nat_lock(): a veth from the network's bridge into netns_fd. */
/* index: the interface's number when the namespace is fresh (its first is
 * eth0), or -1 to find the first free name in it. */
static int plumb(struct network_env *env, const struct network_record *net, const struct endpoint_record *ep,
                 int netns_fd, int index, bool default_route, struct vsl_error **err)
{
	struct inside in = {.route = default_route && !net->internal};
	struct ipam_subnet s;
	int r = parse_net(net, &s, &in.gw, err);
	if (r < 0)
		return r;
	in.prefix = s.prefix;
	if (inet_pton(AF_INET, ep->ip, &in.addr) != 1)
		return vsl_error_set_code(err, EINVAL, "bad address %s", ep->ip);
	if (net->subnet6 && *net->subnet6 && ep->ip6 && *ep->ip6) {
		struct ipam_subnet6 s6;
		if (ipam_parse_cidr6(net->subnet6, true, &s6, NULL) < 0 ||
		    inet_pton(AF_INET6, net->gateway6, &in.gw6) != 1 ||
		    inet_pton(AF_INET6, ep->ip6, &in.addr6) != 1)
			return vsl_error_set_code(err, EINVAL, "bad IPv6 address %s", ep->ip6);
		in.prefix6 = s6.prefix;
		in.v6 = true;
	}
	uint8_t mac[6];
	if (parse_mac(ep->mac, mac) < 0)
		return vsl_error_set_code(err, EINVAL, "invalid MAC address %s", ep->mac);
	char ifname[16], veth[16];
	if (index >= 0)
		snprintf(ifname, sizeof(ifname), "eth%d", index);
	else if ((r = nl_in_netns(netns_fd, free_ifname, ifname, err)) < 0)
		return vsl_error_errno(err, -r, "name an interface");
	in.ifname = ifname;
	veth_name(veth, ep->container_id, net->id);
	nl_link_delete(veth, NULL); /* a leftover of a crash */
	if ((r = bridge_up(env, net, err)) < 0)
		return r;
	unsigned mtu = env->mtu ? env->mtu : DEFAULT_MTU;
	if ((r = nl_veth_create(veth, ifname, netns_fd, net->bridge, mtu, mac, err)) < 0)
		return r;
	if ((r = nl_in_netns(netns_fd, configure_inside, &in, err)) < 0 ||
	    (r = ipam_endpoint_set_active(env->db, net->id, ep->container_id, veth, true, err)) < 0) {
		nl_link_delete(veth, NULL);
		return vsl_error_prefix(err, "connect to network %s", net->name);
	}
	return 0;
}

static int find_endpoint(struct network_env *env, const char *network_id, const char *container_id,
                         struct endpoint_record **ret)
{
	_cleanup_ep_list_ struct ep_list l = {0};
	if (ipam_endpoint_list(env->db, network_id, container_id, &l.v, &l.n, NULL) < 0 || l.n == 0)
		return -ENOENT;
	*ret = TAKE_PTR(l.v[0]);
	return 0;
}

/* The container's endpoint on net, made (with its address) when missing. */
static int endpoint_get_or_add(struct network_env *env, const struct network_record *net,
                               const char *container_id, const char *name, const struct network_attach *a,
                               struct endpoint_record **ret, struct vsl_error **err)
{
	if (find_endpoint(env, net->id, container_id, ret) == 0)
		return 0;
	struct endpoint_record *ep = calloc(1, sizeof(*ep));
	if (ep == NULL)
		return vsl_error_errno(err, ENOMEM, "add endpoint");
	ep->network_id = strdup(net->id);
	ep->container_id = strdup(container_id);
	ep->name = strdup(name ? name : "");
	ep->ip = a->ip ? strdup(a->ip) : NULL;
	ep->mac = a->mac ? strdup(a->mac) : NULL;
	for (char **s = a->aliases; s && *s; s++)
		if (strv_append(&ep->aliases, *s) < 0)
			break;
	if (!ep->network_id || !ep->container_id || !ep->name || (a->ip && !ep->ip) || (a->mac && !ep->mac)) {
		endpoint_record_free(ep);
		return vsl_error_errno(err, ENOMEM, "add endpoint");
	}
	int r = ipam_endpoint_add(env->db, net, ep, err);
	if (r < 0) {
		endpoint_record_free(ep);
		return r;
	}
	*ret = ep;
	return 0;
}

/* ---- published ports ---- */

static int publish(struct network_env *env, const char *container_id, const char *container_name,
                   const struct endpoint_record *ep, const struct network_port *ports, size_t n,
                   struct vsl_error **err)
{
	struct nat_port *rules = calloc(n + 1, sizeof(*rules));
	unsigned *chosen = calloc(n + 1, sizeof(*chosen));
	int r = 0;
	if (rules == NULL || chosen == NULL) {
		free(rules);
		free(chosen);
		return vsl_error_errno(err, ENOMEM, "publish ports");
	}
	for (size_t i = 0; i < n && r >= 0; i++) {
		const struct network_port *p = &ports[i];
		const char *ip = p->host_ip && *p->host_ip ? p->host_ip : "0.0.0.0";
		struct port_record rec = {.container_id = (char *)container_id,
		                          .network_id = ep->network_id,
		                          .proto = (char *)p->proto,
		                          .host_ip = (char *)ip,
		                          .host_port = p->host_port,
		                          .container_port = p->container_port};
		if (p->host_port && p->host_port_end > p->host_port) {
			/* A host range for one container port: its first free port. */
			r = -EADDRINUSE;
			for (unsigned hp = p->host_port; hp <= p->host_port_end && r == -EADDRINUSE; hp++) {
				rec.host_port = hp;
				if (nat_port_bindable(p->proto, ip, hp) < 0)
					continue;
				_cleanup_error_ struct vsl_error *e = NULL;
				r = ipam_port_add(env->db, &rec, &e);
				if (r < 0 && r != -EADDRINUSE)
					*err = TAKE_PTR(e);
			}
			if (r == -EADDRINUSE)
				r = vsl_error_set_code(
				    err, EADDRINUSE,
				    "driver failed programming external connectivity on endpoint %s: "
				    "Bind for %s:%u-%u failed: all ports are already allocated",
				    container_name, ip, p->host_port, p->host_port_end);
		} else if (p->host_port) {
			if (nat_port_bindable(p->proto, ip, p->host_port) < 0)
				r = vsl_error_set_code(
				    err, EADDRINUSE,
				    "driver failed programming external connectivity on endpoint %s: "
				    "Bind for %s:%u failed: port is already allocated",
				    container_name, ip, p->host_port);
			else
				r = ipam_port_add(env->db, &rec, err);
		} else {
			unsigned start = PORT_MIN;
			if (getrandom(&start, sizeof(start), 0) == (ssize_t)sizeof(start))
				start = PORT_MIN + start % (PORT_MAX - PORT_MIN + 1);
			r = -EADDRINUSE;
			for (unsigned k = 0; k <= PORT_MAX - PORT_MIN && r == -EADDRINUSE; k++) {
				rec.host_port = PORT_MIN + (start - PORT_MIN + k) % (PORT_MAX - PORT_MIN + 1);
				if (nat_port_bindable(p->proto, ip, rec.host_port) < 0)
					continue;
				_cleanup_error_ struct vsl_error *e = NULL;
				r = ipam_port_add(env->db, &rec, &e);
				if (r < 0 && r != -EADDRINUSE)
					*err = TAKE_PTR(e);
			}
			if (r == -EADDRINUSE)
				r = vsl_error_set_code(err, EADDRINUSE, "no free host port to publish %u/%s",
				                       p->container_port, p->proto);
		}
		rules[i] = (struct nat_port){.proto = p->proto,
		                             .host_ip = ip,
		                             .host_port = rec.host_port,
		                             .container_ip = ep->ip,
		                             .container_port = p->container_port};
	}
	if (r >= 0)
		r = nat_ports_add(container_id, rules, n, err);
	free(rules);
	free(chosen);
	return r;
}

/* ---- sandboxes ---- */

static char *netns_path(struct network_env *env, const char *container_id)
{
	char *p = NULL;
	return asprintf(&p, "%s/%s", env->netns_dir, container_id) < 0 ? NULL : p;
}

/* Under nat_lock(): the container's published ports, rules first. Rules
 * are added only after their ports are recorded, so a container with no
 * port recorded has no rule either and costs no nftables round trip. */
static void unpublish(struct network_env *env, const char *container_id)
{
	_cleanup_free_ struct port_record *p = NULL;
	size_t n = 0;
	if (ipam_port_list(env->db, container_id, &p, &n, NULL) >= 0 && n == 0)
		return;
	port_records_free(TAKE_PTR(p), n);
	nat_ports_remove(container_id, NULL);
	ipam_port_remove_container(env->db, container_id, NULL);
}

/* Under nat_lock(). */
static void unplumb_all(struct network_env *env, const char *container_id, char ***ret_networks)
{
	unpublish(env, container_id);
	_cleanup_ep_list_ struct ep_list l = {0};
	if (ipam_endpoint_list(env->db, NULL, container_id, &l.v, &l.n, NULL) < 0)
		return;
	bool shared = l.n > 0 && env->netns_may_be_shared && env->netns_may_be_shared(env->db);
	for (size_t i = 0; i < l.n; i++) {
		char veth[16];
		veth_name(veth, container_id, l.v[i]->network_id);
		/* Not deleted: that waits out RCU callbacks, ~20 ms. The kernel
		 * deletes the pair with the namespace, in the background, once
		 * the caller removed it. A namespace that a container joined
		 * (--network container:) outlives that: there the veth keeps an
		 * address IPAM may give out again, so it loses its way to the
		 * bridge now (down: ~1 ms of RCU too, so only then). */
		if (shared)
			nl_link_down(veth, NULL);
		ipam_endpoint_set_active(env->db, l.v[i]->network_id, container_id, NULL, false, NULL);
		if (ret_networks)
			strv_append(ret_networks, l.v[i]->network_id);
	}
}

static bool has_sandbox(struct network_env *env, const char *container_id)
{
	_cleanup_free_ char *path = netns_path(env, container_id);
	if (path == NULL || access(path, F_OK) == 0)
		return true;
	_cleanup_ep_list_ struct ep_list l = {0};
	if (ipam_endpoint_list(env->db, NULL, container_id, &l.v, &l.n, NULL) < 0)
		return true;
	for (size_t i = 0; i < l.n; i++)
		if (l.v[i]->active)
			return true;
	_cleanup_free_ struct port_record *p = NULL;
	size_t n = 0;
	if (ipam_port_list(env->db, container_id, &p, &n, NULL) < 0)
		return true;
	port_records_free(TAKE_PTR(p), n);
	return n > 0;
}

void network_sandbox_down(struct network_env *env, const char *container_id)
{
	/* The common case (stopped twice, never networked) costs no nftables round trip. */
	if (!has_sandbox(env, container_id))
		return;
	_cleanup_strv_ char **networks = NULL;
	{
		_cleanup_error_ struct vsl_error *e = NULL;
		_cleanup_lock_ int lock = nat_lock(&e);
		unplumb_all(env, container_id, &networks);
	}
	_cleanup_free_ char *path = netns_path(env, container_id);
	if (path)
		netns_remove(path);
	hosts_rewrite_around(env, container_id, (const char *const *)networks, strv_length(networks));
}

void network_release(struct network_env *env, const char *container_id)
{
	network_sandbox_down(env, container_id);
	_cleanup_ep_list_ struct ep_list l = {0};
	if (ipam_endpoint_list(env->db, NULL, container_id, &l.v, &l.n, NULL) < 0)
		return;
	for (size_t i = 0; i < l.n; i++)
		ipam_endpoint_remove(env->db, l.v[i]->network_id, container_id, NULL);
}

int network_sandbox_netns(struct network_env *env, const char *container_id, char **ret_netns_path,
                          struct vsl_error **err)
{
	if (mkdir(env->netns_dir, 0700) < 0 && errno != EEXIST)
		return vsl_error_errno(err, errno, "create '%s'", env->netns_dir);
	_cleanup_free_ char *path = netns_path(env, container_id);
	if (path == NULL)
		return vsl_error_errno(err, ENOMEM, "network");
	/* A sandbox left by a crash of the container's last run. */
	network_sandbox_down(env, container_id);
	int r = netns_create(path, err);
	if (r < 0)
		return r;
	*ret_netns_path = TAKE_PTR(path);
	return 0;
}

int network_sandbox_up(struct network_env *env, const struct network_sandbox *sb, char **ret_netns_path,
                       struct vsl_error **err)
{
	_cleanup_free_ char *path = NULL;
	int r = network_sandbox_netns(env, sb->container_id, &path, err);
	if (r < 0)
		return r;
	if ((r = network_sandbox_wire(env, sb, path, err)) < 0) {
		netns_remove(path);
		return r;
	}
	*ret_netns_path = TAKE_PTR(path);
	return 0;
}

int network_sandbox_wire(struct network_env *env, const struct network_sandbox *sb, const char *path,
                         struct vsl_error **err)
{
	int r = 0;
	_cleanup_close_ int nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return vsl_error_errno(err, errno, "open '%s'", path);
	_cleanup_strv_ char **networks = NULL;
	{
		_cleanup_lock_ int lock = nat_lock(err);
		if (lock < 0)
			return lock;
		bool route = true;
		for (size_t i = 0; i < sb->n_attach && r >= 0; i++) {
			_cleanup_network_record_ struct network_record *net = NULL;
			struct endpoint_record *ep = NULL;
			r = network_get(env, sb->attach[i].network, &net, err);
			if (r >= 0 && !is_bridge(net))
				r = vsl_error_set_code(
				    err, EINVAL,
				    "container cannot be connected to network %s (driver %s) "
				    "along with other networks",
				    net->name, net->driver);
			if (r >= 0)
				r = endpoint_get_or_add(env, net, sb->container_id, sb->name, &sb->attach[i],
				                        &ep, err);
			if (r >= 0)
				r = plumb(env, net, ep, nsfd, (int)strv_length(networks), route, err);
			if (r >= 0 && route && !net->internal)
				route = false;
			if (r >= 0 && i == 0 && sb->n_ports)
				r = publish(env, sb->container_id, sb->name, ep, sb->ports, sb->n_ports, err);
			if (r >= 0)
				strv_append(&networks, net->id);
			endpoint_record_free(ep);
		}
		/* Endpoints recorded by `network connect` while the container was stopped. */
		_cleanup_ep_list_ struct ep_list l = {0};
		if (r >= 0 && ipam_endpoint_list(env->db, NULL, sb->container_id, &l.v, &l.n, NULL) >= 0)
			for (size_t i = 0; i < l.n && r >= 0; i++) {
				if (l.v[i]->active)
					continue;
				_cleanup_network_record_ struct network_record *net = NULL;
				r = ipam_network_get(env->db, l.v[i]->network_id, &net, err);
				if (r >= 0)
					r = plumb(env, net, l.v[i], nsfd, (int)strv_length(networks), route,
					          err);
				if (r >= 0 && route && !net->internal)
					route = false;
				if (r >= 0)
					strv_append(&networks, net->id);
			}
		if (r < 0)
			unplumb_all(env, sb->container_id, NULL);
	}
	if (r < 0)
		return r;
	hosts_rewrite_around(env, sb->container_id, (const char *const *)networks, strv_length(networks));
	return 0;
}

/* ---- connect, disconnect ---- */

int network_connect(struct network_env *env, const char *container_id, const char *name,
                    const struct network_attach *a, const char *netns, struct vsl_error **err)
{
	_cleanup_network_record_ struct network_record *net = NULL;
	int r = network_get(env, a->network, &net, err);
	if (r < 0)
		return r;
	if (!is_bridge(net))
		return vsl_error_set_code(
		    err, EINVAL,
		    "container cannot be disconnected from host network or connected to "
		    "host network");
	struct endpoint_record *existing = NULL;
	if (find_endpoint(env, net->id, container_id, &existing) == 0) {
		endpoint_record_free(existing);
		return vsl_error_set_code(err, EEXIST, "endpoint with name %s already exists in network %s",
		                          name, net->name);
	}
	struct endpoint_record *ep = NULL;
	if ((r = endpoint_get_or_add(env, net, container_id, name, a, &ep, err)) < 0)
		return r;
	if (netns) {
		_cleanup_close_ int nsfd = open(netns, O_RDONLY | O_CLOEXEC);
		if (nsfd < 0)
			r = vsl_error_errno(err, errno, "open '%s'", netns);
		_cleanup_lock_ int lock = r >= 0 ? nat_lock(err) : -1;
		if (r >= 0 && lock < 0)
			r = lock;
		if (r >= 0) {
			/* The default route stays where it is unless there is none. */
			_cleanup_ep_list_ struct ep_list l = {0};
			bool route = true;
			if (ipam_endpoint_list(env->db, NULL, container_id, &l.v, &l.n, NULL) >= 0)
				for (size_t i = 0; i < l.n; i++)
					if (l.v[i]->active) {
						_cleanup_network_record_ struct network_record *other = NULL;
						if (ipam_network_get(env->db, l.v[i]->network_id, &other,
						                     NULL) >= 0 &&
						    !other->internal)
							route = false;
					}
			r = plumb(env, net, ep, nsfd, -1, route, err);
		}
		if (r < 0)
			ipam_endpoint_remove(env->db, net->id, container_id, NULL);
	}
	endpoint_record_free(ep);
	if (r < 0)
		return r;
	const char *ids[] = {net->id};
	hosts_rewrite_around(env, container_id, ids, 1);
	return 0;
}

struct route_fix {
	uint8_t mac[6];
	int family;
	const void *gw;
};

static int route_fix_inside(void *userdata, struct vsl_error **err)
{
	struct route_fix *f = userdata;
	int r = nl_route_default_exists(f->family, err);
	if (r != 0)
		return r < 0 ? r : 0;
	char ifname[16];
	if ((r = nl_link_name_by_mac(f->mac, ifname, err)) < 0)
		return r;
	return nl_route_add_default(ifname, f->family, f->gw, err);
}

/* The veth that held the container's default route went with its network:
 * the first other network that leads out gets it (Docker's behaviour). */
static void restore_default_route(struct network_env *env, const char *container_id)
{
	_cleanup_free_ char *path = netns_path(env, container_id);
	_cleanup_close_ int nsfd = path ? open(path, O_RDONLY | O_CLOEXEC) : -EBADF;
	if (nsfd < 0)
		return; /* not running */
	_cleanup_ep_list_ struct ep_list l = {0};
	if (ipam_endpoint_list(env->db, NULL, container_id, &l.v, &l.n, NULL) < 0)
		return;
	bool done4 = false, done6 = false;
	for (size_t i = 0; i < l.n && !(done4 && done6); i++) {
		_cleanup_network_record_ struct network_record *net = NULL;
		if (!l.v[i]->active || ipam_network_get(env->db, l.v[i]->network_id, &net, NULL) < 0 ||
		    net->internal)
			continue;
		struct route_fix f = {.family = AF_INET};
		struct in_addr gw;
		struct in6_addr gw6;
		if (parse_mac(l.v[i]->mac, f.mac) < 0)
			continue;
		_cleanup_error_ struct vsl_error *e = NULL;
		if (!done4 && inet_pton(AF_INET, net->gateway, &gw) == 1) {
			f.gw = &gw;
			if (nl_in_netns(nsfd, route_fix_inside, &f, &e) < 0)
				log_debug("network: default route of %.12s: %s", container_id,
				          vsl_error_message(e));
			done4 = true;
		}
		_cleanup_error_ struct vsl_error *e6 = NULL;
		if (!done6 && net->gateway6 && inet_pton(AF_INET6, net->gateway6, &gw6) == 1) {
			f.family = AF_INET6;
			f.gw = &gw6;
			if (nl_in_netns(nsfd, route_fix_inside, &f, &e6) < 0)
				log_debug("network: IPv6 default route of %.12s: %s", container_id,
				          vsl_error_message(e6));
			done6 = true;
		}
	}
}

int network_disconnect(struct network_env *env, const char *container_id, const char *network,
                       struct vsl_error **err)
{
	_cleanup_network_record_ struct network_record *net = NULL;
	int r = network_get(env, network, &net, err);
	if (r < 0)
		return r;
	struct endpoint_record *ep = NULL;
	if (find_endpoint(env, net->id, container_id, &ep) < 0)
		return vsl_error_set_code(err, ENOENT, "container %.12s is not connected to network %s",
		                          container_id, net->name);
	bool active = ep->active;
	endpoint_record_free(ep);
	{
		_cleanup_lock_ int lock = nat_lock(err);
		if (lock < 0)
			return lock;
		if (active) {
			char veth[16];
			veth_name(veth, container_id, net->id);
			nl_link_delete(veth, NULL);
		}
		/* Ports published through this network lose their target. */
		_cleanup_free_ struct port_record *ports = NULL;
		size_t n = 0;
		if (ipam_port_list(env->db, container_id, &ports, &n, NULL) >= 0) {
			bool here = false;
			for (size_t i = 0; i < n; i++)
				here = here || strcmp(ports[i].network_id, net->id) == 0;
			port_records_free(TAKE_PTR(ports), n);
			if (here) {
				nat_ports_remove(container_id, NULL);
				ipam_port_remove_container(env->db, container_id, NULL);
			}
		}
		if ((r = ipam_endpoint_remove(env->db, net->id, container_id, err)) < 0)
			return r;
		if (active)
			restore_default_route(env, container_id);
	}
	const char *ids[] = {net->id};
	hosts_rewrite_around(env, container_id, ids, 1);
	return 0;
}

int network_ports(struct network_env *env, const char *container_id, struct port_record **ret, size_t *ret_n,
                  struct vsl_error **err)
{
	return ipam_port_list(env->db, container_id, ret, ret_n, err);
}

/* ---- networks going ---- */

static int remove_locked(struct network_env *env, const struct network_record *net, struct vsl_error **err)
{
	/* Under the lock a start either joined before (an endpoint: refused) or finds
	 * the network gone: no bridge is made again for a removed network. */
	_cleanup_lock_ int lock = nat_lock(err);
	if (lock < 0)
		return lock;
	_cleanup_ep_list_ struct ep_list l = {0};
	int r = ipam_endpoint_list(env->db, net->id, NULL, &l.v, &l.n, err);
	if (r < 0)
		return r;
	if (l.n)
		return vsl_error_set_code(err, EBUSY,
		                          "error while removing network: network %s id %s has active "
		                          "endpoints",
		                          net->name, net->id);
	nl_link_delete(net->bridge, NULL);
	nat_network_remove(net->id, NULL);
	return ipam_network_delete(env->db, net->id, err);
}

int network_remove(struct network_env *env, const char *name_or_id, struct vsl_error **err)
{
	_cleanup_network_record_ struct network_record *net = NULL;
	int r = ipam_network_get(env->db, name_or_id, &net, err);
	if (r < 0)
		return r;
	if (predefined(net->name))
		return vsl_error_set_code(err, EPERM, "%s is a pre-defined network and cannot be removed",
		                          net->name);
	return remove_locked(env, net, err);
}

int network_prune(struct network_env *env, char ***ret, struct vsl_error **err)
{
	struct network_record **v = NULL;
	size_t n = 0;
	int r = ipam_network_list(env->db, &v, &n, err);
	if (r < 0)
		return r;
	char **removed = calloc(1, sizeof(char *));
	for (size_t i = 0; i < n && removed; i++) {
		if (predefined(v[i]->name))
			continue;
		_cleanup_error_ struct vsl_error *e = NULL;
		if (remove_locked(env, v[i], &e) >= 0)
			strv_append(&removed, v[i]->name);
	}
	network_records_free(v, n);
	if (removed == NULL)
		return vsl_error_errno(err, ENOMEM, "prune networks");
	*ret = removed;
	return 0;
}

/* The namespaces of containers that keep(userdata, id) does not keep (NULL: all). */
static void remove_namespaces(struct network_env *env, bool (*keep)(void *userdata, const char *container_id),
                              void *userdata)
{
	_cleanup_closedir_ DIR *d = opendir(env->netns_dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || (keep && keep(userdata, de->d_name)))
			continue;
		_cleanup_free_ char *path = netns_path(env, de->d_name);
		log_debug("network: removing the namespace of %.12s", de->d_name);
		if (path)
			netns_remove(path);
	}
}

void network_gc(struct network_env *env, bool (*exists)(void *userdata, const char *container_id),
                void *userdata)
{
	_cleanup_ep_list_ struct ep_list l = {0};
	if (ipam_endpoint_list(env->db, NULL, NULL, &l.v, &l.n, NULL) < 0)
		return;
	for (size_t i = 0; i < l.n; i++) {
		if (exists(userdata, l.v[i]->container_id))
			continue;
		log_debug("network: releasing the endpoints of %.12s left behind", l.v[i]->container_id);
		network_release(env, l.v[i]->container_id);
	}
	/* A namespace made just before a crash, before any endpoint was recorded. */
	remove_namespaces(env, exists, userdata);
}

/* Every rule owner of this root that the database still knows of: its
 * networks, and the containers with endpoints (eps) or ports. */
static int reset_owners(struct network_env *env, const struct network_record *const *nets, size_t n_nets,
                        const struct ep_list *eps, char ***ret, struct vsl_error **err)
{
	_cleanup_strv_ char **owners = NULL;
	_cleanup_free_ struct port_record *p = NULL;
	size_t np = 0;
	int r = ipam_port_list(env->db, NULL, &p, &np, err);
	if (r < 0)
		return r;
	char owner[128];
	for (size_t i = 0; i < n_nets && r >= 0; i++) {
		snprintf(owner, sizeof(owner), "net:%s", nets[i]->id);
		r = strv_append(&owners, owner);
	}
	for (size_t i = 0; i < eps->n + np && r >= 0; i++) {
		snprintf(owner, sizeof(owner), "ctr:%s",
		         i < eps->n ? eps->v[i]->container_id : p[i - eps->n].container_id);
		if (!strv_contains(owners, owner))
			r = strv_append(&owners, owner);
	}
	port_records_free(TAKE_PTR(p), np);
	if (r < 0)
		return vsl_error_errno(err, ENOMEM, "reset networks");
	*ret = TAKE_PTR(owners);
	return 0;
}

int network_reset(struct network_env *env, struct vsl_error **err)
{
	struct network_record **nets = NULL;
	size_t n = 0;
	int r = ipam_network_list(env->db, &nets, &n, err);
	if (r < 0)
		return r;
	_cleanup_strv_ char **owners = NULL;
	_cleanup_ep_list_ struct ep_list l = {0};
	if ((r = ipam_endpoint_list(env->db, NULL, NULL, &l.v, &l.n, err)) < 0 ||
	    (r = reset_owners(env, (const struct network_record *const *)nets, n, &l, &owners, err)) < 0) {
		network_records_free(nets, n);
		return r;
	}
	{
		_cleanup_lock_ int lock = nat_lock(err);
		if (lock < 0) {
			network_records_free(nets, n);
			return lock;
		}
		/* What containers left (the engine removed them before): veths, namespaces. */
		for (size_t i = 0; i < l.n; i++) {
			char veth[16];
			veth_name(veth, l.v[i]->container_id, l.v[i]->network_id);
			nl_link_delete(veth, NULL);
		}
		for (size_t i = 0; i < n; i++)
			if (is_bridge(nets[i]) && *nets[i]->bridge)
				nl_link_delete(nets[i]->bridge, NULL);
		/* The default bridge's name is this root's even when no record names it. */
		if (env->default_bridge)
			nl_link_delete(env->default_bridge, NULL);
		r = nat_remove_owners((const char *const *)owners, err);
	}
	remove_namespaces(env, NULL, NULL);
	if (r >= 0)
		r = ipam_reset(env->db, err);
	network_records_free(nets, n);
	return r < 0 ? vsl_error_prefix(err, "reset networks") : 0;
}
