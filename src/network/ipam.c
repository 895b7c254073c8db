#include "network/ipam.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/db.h"
#include "util/error.h"

/* Version i + 1 of the room is reached by steps[i]; append, never edit.
 * Endpoints and ports name containers by id without a foreign key: the
 * network room does not reach into the containers table; the engine
 * removes them when it removes a container, and network_gc catches the rest. */
static const char *const network_steps[] = {
    "CREATE TABLE networks ("
    " id TEXT PRIMARY KEY NOT NULL,"
    " name TEXT UNIQUE NOT NULL,"
    " driver TEXT NOT NULL,"
    " subnet TEXT NOT NULL,"
    " gateway TEXT NOT NULL,"
    " bridge TEXT NOT NULL,"
    " internal INTEGER NOT NULL DEFAULT 0,"
    " ipv6 INTEGER NOT NULL DEFAULT 0,"
    " created INTEGER NOT NULL,"
    " labels TEXT NOT NULL DEFAULT '{}');"
    "CREATE TABLE endpoints ("
    " network_id TEXT NOT NULL REFERENCES networks(id),"
    " container_id TEXT NOT NULL,"
    " name TEXT NOT NULL,"
    " ip TEXT NOT NULL,"
    " mac TEXT NOT NULL,"
    " aliases TEXT NOT NULL DEFAULT '[]',"
    " veth TEXT NOT NULL DEFAULT '',"
    " active INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (network_id, container_id),"
    " UNIQUE (network_id, ip));"
    "CREATE INDEX endpoints_container ON endpoints(container_id);"
    "CREATE TABLE ports ("
    " proto TEXT NOT NULL,"
    " host_ip TEXT NOT NULL,"
    " host_port INTEGER NOT NULL,"
    " container_id TEXT NOT NULL,"
    " network_id TEXT NOT NULL,"
    " container_port INTEGER NOT NULL,"
    " PRIMARY KEY (proto, host_ip, host_port));",
    /* IPv6: a second subnet per network, a second address per endpoint. */
    "ALTER TABLE networks ADD COLUMN subnet6 TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE networks ADD COLUMN gateway6 TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE endpoints ADD COLUMN ip6 TEXT NOT NULL DEFAULT '';"
    "CREATE UNIQUE INDEX endpoints_ip6 ON endpoints(network_id, ip6) WHERE ip6 != '';",
};

int ipam_init(struct db *db, struct vsl_error **err)
{
	return db_migrate(db, "network", network_steps, ARRAY_SIZE(network_steps), err);
}

/* ---- subnets ---- */

static uint32_t mask_of(unsigned prefix)
{
	return prefix == 0 ? 0 : ~0u << (32 - prefix);
}

/* "ADDR[/PREFIX]" into buf (the address) and *ret_prefix (max when absent). */
static int split_cidr(const char *s, unsigned max, char buf[64], unsigned *ret_prefix)
{
	if (s == NULL || strlen(s) >= 64)
		return -EINVAL;
	snprintf(buf, 64, "%s", s);
	*ret_prefix = max;
	char *slash = strchr(buf, '/');
	if (slash) {
		char *end;
		*slash = '\0';
		unsigned long p = strtoul(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end || p > max)
			return -EINVAL;
		*ret_prefix = (unsigned)p;
	}
	return 0;
}

int ipam_parse_cidr(const char *s, bool clear_host, struct ipam_subnet *ret, struct in_addr *ret_addr)
{
	char buf[64];
	unsigned prefix;
	if (split_cidr(s, 32, buf, &prefix) < 0)
		return -EINVAL;
	struct in_addr a;
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -EINVAL;
	uint32_t h = ntohl(a.s_addr);
	if (!clear_host && (h & ~mask_of(prefix)) != 0 && ret_addr == NULL)
		return -EINVAL;
	if (ret_addr)
		*ret_addr = a;
	ret->addr.s_addr = htonl(h & mask_of(prefix));
	ret->prefix = prefix;
	return 0;
}

bool ipam_contains(const struct ipam_subnet *s, struct in_addr a)
{
	return (ntohl(a.s_addr) & mask_of(s->prefix)) == ntohl(s->addr.s_addr);
}

bool ipam_overlaps(const struct ipam_subnet *a, const struct ipam_subnet *b)
{
	unsigned p = a->prefix < b->prefix ? a->prefix : b->prefix;
	return (ntohl(a->addr.s_addr) & mask_of(p)) == (ntohl(b->addr.s_addr) & mask_of(p));
}

void ipam_format(const struct ipam_subnet *s, char *buf, size_t size)
{
	char a[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &s->addr, a, sizeof(a));
	snprintf(buf, size, "%s/%u", a, s->prefix);
}

static void mask6(struct in6_addr *a, unsigned prefix)
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned keep = prefix >= 8 * (i + 1) ? 8 : prefix > 8 * i ? prefix - 8 * i : 0;
		a->s6_addr[i] &= (uint8_t)(0xff00u >> keep);
	}
}

int ipam_parse_cidr6(const char *s, bool clear_host, struct ipam_subnet6 *ret, struct in6_addr *ret_addr)
{
	char buf[64];
	unsigned prefix;
	if (split_cidr(s, 128, buf, &prefix) < 0)
		return -EINVAL;
	struct in6_addr a;
	if (inet_pton(AF_INET6, buf, &a) != 1)
		return -EINVAL;
	struct in6_addr net = a;
	mask6(&net, prefix);
	if (!clear_host && ret_addr == NULL && memcmp(&net, &a, sizeof(a)) != 0)
		return -EINVAL;
	if (ret_addr)
		*ret_addr = a;
	ret->addr = net;
	ret->prefix = prefix;
	return 0;
}

bool ipam_contains6(const struct ipam_subnet6 *s, const struct in6_addr *a)
{
	struct in6_addr n = *a;
	mask6(&n, s->prefix);
	return memcmp(&n, &s->addr, sizeof(n)) == 0;
}

bool ipam_overlaps6(const struct ipam_subnet6 *a, const struct ipam_subnet6 *b)
{
	return a->prefix <= b->prefix ? ipam_contains6(a, &b->addr) : ipam_contains6(b, &a->addr);
}

void ipam_format6(const struct ipam_subnet6 *s, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];
	inet_ntop(AF_INET6, &s->addr, a, sizeof(a));
	snprintf(buf, size, "%s/%u", a, s->prefix);
}

/* The host's IPv6 routes (/proc/net/ipv6_route: other than the default and
 * link-local ones) and addresses. */
static int host6_in_use(const struct ipam_subnet6 *s, char **ret_user)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/net/ipv6_route", "re");
	char line[512];
	while (f && fgets(line, sizeof(line), f)) {
		char dest[33], ifname[64];
		unsigned plen;
		if (sscanf(line, "%32s %x %*s %*s %*s %*s %*s %*s %*s %63s", dest, &plen, ifname) != 3 ||
		    plen == 0 || plen > 128)
			continue;
		struct ipam_subnet6 r = {.prefix = plen};
		for (int i = 0; i < 16; i++) {
			unsigned byte;
			if (sscanf(dest + 2 * i, "%2x", &byte) != 1)
				break;
			r.addr.s6_addr[i] = (uint8_t)byte;
		}
		if (IN6_IS_ADDR_LINKLOCAL(&r.addr) || IN6_IS_ADDR_MULTICAST(&r.addr) || plen == 128)
			continue; /* fe80::/64 on every link; local addresses are checked below */
		if (ipam_overlaps6(s, &r)) {
			if (ret_user && asprintf(ret_user, "a route of the host on %s", ifname) < 0)
				*ret_user = NULL;
			return 1;
		}
	}
	struct ifaddrs *ifa = NULL;
	if (getifaddrs(&ifa) < 0)
		return 0;
	int found = 0;
	for (struct ifaddrs *i = ifa; i && !found; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET6)
			continue;
		if (ipam_contains6(s, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr)) {
			found = 1;
			if (ret_user && asprintf(ret_user, "an address of the host on %s", i->ifa_name) < 0)
				*ret_user = NULL;
		}
	}
	freeifaddrs(ifa);
	return found;
}

int ipam_subnet6_in_use(struct db *db, const struct ipam_subnet6 *s, char **ret_user, struct vsl_error **err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(db, "SELECT name, subnet6 FROM networks WHERE subnet6 != ''", &st, err);
	if (r < 0)
		return r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct ipam_subnet6 other;
		if (ipam_parse_cidr6((const char *)sqlite3_column_text(st, 1), true, &other, NULL) == 0 &&
		    ipam_overlaps6(s, &other)) {
			if (ret_user && asprintf(ret_user, "network %s", sqlite3_column_text(st, 0)) < 0)
				*ret_user = NULL;
			return 1;
		}
	}
	if (r != SQLITE_DONE)
		return db_error(db, err, "list networks");
	return host6_in_use(s, ret_user);
}

/* Routes of the host other than the default, and its addresses' subnets. */
static int host_in_use(const struct ipam_subnet *s, char **ret_user)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/net/route", "re");
	char line[512];
	while (f && fgets(line, sizeof(line), f)) {
		char ifname[64];
		unsigned dest, gw, flags, refcnt, use, metric, mask;
		if (sscanf(line, "%63s %x %x %x %u %u %u %x", ifname, &dest, &gw, &flags, &refcnt, &use,
		           &metric, &mask) != 8)
			continue; /* the header */
		if (mask == 0)
			continue; /* the default route overlaps everything and takes nothing */
		/* The file is in network order, printed as a host-order number. */
		struct ipam_subnet r = {.addr.s_addr = dest, .prefix = (unsigned)__builtin_popcount(mask)};
		if (ipam_overlaps(s, &r)) {
			if (ret_user && asprintf(ret_user, "a route of the host on %s", ifname) < 0)
				*ret_user = NULL;
			return 1;
		}
	}
	struct ifaddrs *ifa = NULL;
	if (getifaddrs(&ifa) < 0)
		return 0;
	int found = 0;
	for (struct ifaddrs *i = ifa; i && !found; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET)
			continue;
		struct in_addr a = ((struct sockaddr_in *)i->ifa_addr)->sin_addr;
		if (ipam_contains(s, a)) {
			found = 1;
			if (ret_user && asprintf(ret_user, "an address of the host on %s", i->ifa_name) < 0)
				*ret_user = NULL;
		}
	}
	freeifaddrs(ifa);
	return found;
}

int ipam_subnet_in_use(struct db *db, const struct ipam_subnet *s, const char *except_id, char **ret_user,
                       struct vsl_error **err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(db, "SELECT id, name, subnet FROM networks", &st, err);
	if (r < 0)
		return r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);
		struct ipam_subnet other;
		if (except_id && strcmp(id, except_id) == 0)
			continue;
		if (ipam_parse_cidr((const char *)sqlite3_column_text(st, 2), true, &other, NULL) == 0 &&
		    ipam_overlaps(s, &other)) {
			if (ret_user && asprintf(ret_user, "network %s", sqlite3_column_text(st, 1)) < 0)
				*ret_user = NULL;
			return 1;
		}
	}
	if (r != SQLITE_DONE)
		return db_error(db, err, "list networks");
	return host_in_use(s, ret_user);
}

int ipam_pick_subnet(struct db *db, const struct ipam_pool *pools, size_t n_pools, struct ipam_subnet *ret,
                     struct vsl_error **err)
{
	for (size_t p = 0; p < n_pools; p++) {
		const struct ipam_pool *pool = &pools[p];
		if (pool->size < pool->base.prefix || pool->size > 30)
			continue;
		uint64_t count = 1ull << (pool->size - pool->base.prefix);
		for (uint64_t i = 0; i < count; i++) {
			struct ipam_subnet s = {.addr.s_addr = htonl(ntohl(pool->base.addr.s_addr) +
			                                             (uint32_t)(i << (32 - pool->size))),
			                        .prefix = pool->size};
			int r = ipam_subnet_in_use(db, &s, NULL, NULL, err);
			if (r < 0)
				return r;
			if (r == 0) {
				*ret = s;
				return 0;
			}
		}
	}
	return vsl_error_set_code(err, ENOSPC,
	                          "could not find an available, non-overlapping IPv4 address pool among the "
	                          "defaults to assign to the network");
}

/* ---- records ---- */

static char *column_dup(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	return strdup(t ? (const char *)t : "");
}

void network_record_free(struct network_record *n)
{
	if (n == NULL)
		return;
	free(n->id);
	free(n->name);
	free(n->driver);
	free(n->subnet);
	free(n->gateway);
	free(n->bridge);
	free(n->labels);
	free(n->subnet6);
	free(n->gateway6);
	free(n);
}

void network_records_free(struct network_record **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		network_record_free(v[i]);
	free(v);
}

void endpoint_record_free(struct endpoint_record *ep)
{
	if (ep == NULL)
		return;
	free(ep->network_id);
	free(ep->container_id);
	free(ep->name);
	free(ep->ip);
	free(ep->mac);
	strv_free(ep->aliases);
	free(ep->veth);
	free(ep->ip6);
	free(ep);
}

void endpoint_records_free(struct endpoint_record **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		endpoint_record_free(v[i]);
	free(v);
}

void port_records_free(struct port_record *p, size_t n)
{
	for (size_t i = 0; p && i < n; i++) {
		free(p[i].container_id);
		free(p[i].network_id);
		free(p[i].proto);
		free(p[i].host_ip);
	}
	free(p);
}

#define NET_COLUMNS                                                                                          \
	"id, name, driver, subnet, gateway, bridge, internal, ipv6, created, labels, subnet6, gateway6"

static struct network_record *network_row(sqlite3_stmt *st)
{
	struct network_record *n = calloc(1, sizeof(*n));
	if (n == NULL)
		return NULL;
	n->id = column_dup(st, 0);
	n->name = column_dup(st, 1);
	n->driver = column_dup(st, 2);
	n->subnet = column_dup(st, 3);
	n->gateway = column_dup(st, 4);
	n->bridge = column_dup(st, 5);
	n->internal = sqlite3_column_int(st, 6) != 0;
	n->ipv6 = sqlite3_column_int(st, 7) != 0;
	n->created = sqlite3_column_int64(st, 8);
	n->labels = column_dup(st, 9);
	n->subnet6 = column_dup(st, 10);
	n->gateway6 = column_dup(st, 11);
	if (!n->id || !n->name || !n->driver || !n->subnet || !n->gateway || !n->bridge || !n->labels ||
	    !n->subnet6 || !n->gateway6) {
		network_record_free(n);
		return NULL;
	}
	return n;
}

int ipam_network_insert(struct db *db, const struct network_record *n, struct vsl_error **err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(db, "INSERT INTO networks (" NET_COLUMNS ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", &st,
	                   err);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, n->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, n->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, n->driver, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, n->subnet, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, n->gateway, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, n->bridge, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 7, n->internal);
	sqlite3_bind_int(st, 8, n->ipv6);
	sqlite3_bind_int64(st, 9, n->created);
	sqlite3_bind_text(st, 10, n->labels ? n->labels : "{}", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, n->subnet6 ? n->subnet6 : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 12, n->gateway6 ? n->gateway6 : "", -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		if (sqlite3_extended_errcode(db_handle(db)) == SQLITE_CONSTRAINT_UNIQUE ||
		    sqlite3_extended_errcode(db_handle(db)) == SQLITE_CONSTRAINT_PRIMARYKEY)
			return vsl_error_set_code(err, EEXIST, "network with name %s already exists",
			                          n->name);
		return db_error(db, err, "insert network");
	}
	return 0;
}

int ipam_network_get(struct db *db, const char *name_or_id, struct network_record **ret,
                     struct vsl_error **err)
{
	/* Docker's order: full id, exact name, then an id prefix that names one network. */
	static const char *const queries[] = {
	    "SELECT " NET_COLUMNS " FROM networks WHERE id = ?1",
	    "SELECT " NET_COLUMNS " FROM networks WHERE name = ?1",
	    "SELECT " NET_COLUMNS " FROM networks WHERE substr(id, 1, length(?1)) = ?1",
	};
	for (size_t q = 0; q < ARRAY_SIZE(queries); q++) {
		_cleanup_stmt_ sqlite3_stmt *st = NULL;
		int r = db_prepare(db, queries[q], &st, err);
		if (r < 0)
			return r;
		sqlite3_bind_text(st, 1, name_or_id, -1, SQLITE_STATIC);
		r = sqlite3_step(st);
		if (r == SQLITE_DONE)
			continue;
		if (r != SQLITE_ROW)
			return db_error(db, err, "read network");
		struct network_record *n = network_row(st);
		if (n == NULL)
			return vsl_error_errno(err, ENOMEM, "read network");
		if (sqlite3_step(st) == SQLITE_ROW) {
			network_record_free(n);
			return vsl_error_set_code(err, EINVAL, "network %s is ambiguous", name_or_id);
		}
		*ret = n;
		return 0;
	}
	return vsl_error_set_code(err, ENOENT, "network %s not found", name_or_id);
}

int ipam_network_list(struct db *db, struct network_record ***ret, size_t *ret_n, struct vsl_error **err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(db, "SELECT " NET_COLUMNS " FROM networks ORDER BY created", &st, err);
	if (r < 0)
		return r;
	struct network_record **v = NULL;
	size_t n = 0;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct network_record **grown = realloc(v, (n + 1) * sizeof(*v));
		if (grown == NULL || (grown[n] = network_row(st)) == NULL) {
			network_records_free(grown ? grown : v, n);
			return vsl_error_errno(err, ENOMEM, "list networks");
		}
		v = grown;
		n++;
	}
	if (r != SQLITE_DONE) {
		network_records_free(v, n);
		return db_error(db, err, "list networks");
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

static int exec_bound(struct db *db, const char *sql, const char *a, const char *b, const char *what,
                      struct vsl_error **err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(db, sql, &st, err);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
	if (b)
		sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_error(db, err, what);
	return 0;
}

int ipam_network_delete(struct db *db, const char *id, struct vsl_error **err)
{
	return exec_bound(db, "DELETE FROM networks WHERE id = ?", id, NULL, "delete network", err);
}

/* ---- endpoints ---- */

static char *aliases_json(char **aliases)
{
	json_t *a = json_array();
	for (char **s = aliases; s && *s; s++)
		json_array_append_new(a, json_string(*s));
	char *text = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return text;
}

static char **aliases_parse(const char *text)
{
	json_t *a = json_loads(text ? text : "[]", 0, NULL);
	size_t n = json_array_size(a);
	char **v = calloc(n + 1, sizeof(char *));
	for (size_t i = 0; v && i < n; i++)
		if ((v[i] = strdup(json_string_value(json_array_get(a, i)) ?: "")) == NULL) {
			strv_free(v);
			v = NULL;
		}
	json_decref(a);
	return v;
}

static bool ip_used(struct db *db, const char *network_id, const char *ip)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (db_prepare(db, "SELECT 1 FROM endpoints WHERE network_id = ? AND ip = ?", &st, NULL) < 0)
		return true;
	sqlite3_bind_text(st, 1, network_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ip, -1, SQLITE_STATIC);
	return sqlite3_step(st) == SQLITE_ROW;
}

static int choose_ip(struct db *db, const struct network_record *net, struct endpoint_record *ep,
                     struct vsl_error **err)
{
	struct ipam_subnet s;
	struct in_addr gw;
	if (ipam_parse_cidr(net->subnet, true, &s, NULL) < 0 || inet_pton(AF_INET, net->gateway, &gw) != 1)
		return vsl_error_set_code(err, EINVAL, "network %s: bad subnet '%s'", net->name, net->subnet);
	if (ep->ip && *ep->ip) {
		struct in_addr want;
		if (inet_pton(AF_INET, ep->ip, &want) != 1)
			return vsl_error_set_code(err, EINVAL, "invalid IPv4 address: %s", ep->ip);
		if (!ipam_contains(&s, want))
			return vsl_error_set_code(
			    err, EINVAL, "no configured subnet or ip-range contain the IP address %s",
			    ep->ip);
		if (want.s_addr == gw.s_addr || want.s_addr == s.addr.s_addr ||
		    (s.prefix < 31 && (ntohl(want.s_addr) | mask_of(s.prefix)) == ~0u) ||
		    ip_used(db, net->id, ep->ip))
			return vsl_error_set_code(err, EADDRINUSE, "Address already in use: %s", ep->ip);
		return 0;
	}
	uint32_t base = ntohl(s.addr.s_addr), size = s.prefix >= 31 ? 0 : (1u << (32 - s.prefix)) - 2;
	for (uint32_t i = 1; i <= size; i++) {
		struct in_addr a = {.s_addr = htonl(base + i)};
		if (a.s_addr == gw.s_addr)
			continue;
		char text[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &a, text, sizeof(text));
		if (!ip_used(db, net->id, text)) {
			free(ep->ip);
			return (ep->ip = strdup(text)) ? 0 : vsl_error_errno(err, ENOMEM, "allocate address");
		}
	}
	return vsl_error_set_code(err, ENOSPC, "no available IPv4 addresses on network %s", net->name);
}

static bool ip6_used(struct db *db, const char *network_id, const char *ip6)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (db_prepare(db, "SELECT 1 FROM endpoints WHERE network_id = ? AND ip6 = ?", &st, NULL) < 0)
		return true;
	sqlite3_bind_text(st, 1, network_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ip6, -1, SQLITE_STATIC);
	return sqlite3_step(st) == SQLITE_ROW;
}

/* The lowest free address of the IPv6 subnet after its first, other than the
 * gateway; the search stops after 2^16 addresses (a bridge holds fewer). */
static int choose_ip6(struct db *db, const struct network_record *net, struct endpoint_record *ep,
                      struct vsl_error **err)
{
	if (net->subnet6 == NULL || *net->subnet6 == '\0')
		return 0;
	struct ipam_subnet6 s;
	struct in6_addr gw;
	if (ipam_parse_cidr6(net->subnet6, true, &s, NULL) < 0 ||
	    inet_pton(AF_INET6, net->gateway6, &gw) != 1)
		return vsl_error_set_code(err, EINVAL, "network %s: bad IPv6 subnet '%s'", net->name,
		                          net->subnet6);
	if (ep->ip6 && *ep->ip6) {
		struct in6_addr want;
		if (inet_pton(AF_INET6, ep->ip6, &want) != 1)
			return vsl_error_set_code(err, EINVAL, "invalid IPv6 address: %s", ep->ip6);
		if (!ipam_contains6(&s, &want))
			return vsl_error_set_code(
			    err, EINVAL, "no configured subnet or ip-range contain the IP address %s",
			    ep->ip6);
		if (memcmp(&want, &gw, sizeof(gw)) == 0 || memcmp(&want, &s.addr, sizeof(gw)) == 0 ||
		    ip6_used(db, net->id, ep->ip6))
			return vsl_error_set_code(err, EADDRINUSE, "Address already in use: %s", ep->ip6);
		return 0;
	}
	uint32_t limit = s.prefix >= 112 ? (s.prefix >= 127 ? 0 : (1u << (128 - s.prefix)) - 1) : 1u << 16;
	for (uint32_t i = 1; i <= limit; i++) {
		struct in6_addr a = s.addr;
		/* The host part is below 2^16 here: add i to the last 32 bits. */
		uint32_t low;
		memcpy(&low, &a.s6_addr[12], 4);
		low = htonl(ntohl(low) + i);
		memcpy(&a.s6_addr[12], &low, 4);
		if (memcmp(&a, &gw, sizeof(a)) == 0)
			continue;
		char text[INET6_ADDRSTRLEN];
		inet_ntop(AF_INET6, &a, text, sizeof(text));
		if (!ip6_used(db, net->id, text)) {
			free(ep->ip6);
			return (ep->ip6 = strdup(text)) ? 0
			                                : vsl_error_errno(err, ENOMEM, "allocate address");
		}
	}
	return vsl_error_set_code(err, ENOSPC, "no available IPv6 addresses on network %s", net->name);
}

int ipam_endpoint_add(struct db *db, const struct network_record *net, struct endpoint_record *ep,
                      struct vsl_error **err)
{
	_cleanup_free_ char *aliases = NULL;
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_begin(db, err);
	if (r < 0)
		return r;
	if ((r = choose_ip(db, net, ep, err)) < 0 || (r = choose_ip6(db, net, ep, err)) < 0)
		goto fail;
	if (ep->mac == NULL || *ep->mac == '\0') {
		/* Docker's scheme: 02:42 and the four bytes of the address. */
		struct in_addr a;
		inet_pton(AF_INET, ep->ip, &a);
		const uint8_t *b = (const uint8_t *)&a.s_addr;
		free(ep->mac);
		if (asprintf(&ep->mac, "02:42:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3]) < 0) {
			ep->mac = NULL;
			r = vsl_error_errno(err, ENOMEM, "allocate address");
			goto fail;
		}
	}
	aliases = aliases_json(ep->aliases);
	if ((r = db_prepare(
	         db,
	         "INSERT INTO endpoints (network_id, container_id, name, ip, mac, aliases, veth, active,"
	         " ip6) VALUES (?,?,?,?,?,?,?,?,?)",
	         &st, err)) < 0)
		goto fail;
	sqlite3_bind_text(st, 1, net->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ep->container_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ep->name ? ep->name : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, ep->ip, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, ep->mac, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, aliases ? aliases : "[]", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, ep->veth ? ep->veth : "", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 8, ep->active);
	sqlite3_bind_text(st, 9, ep->ip6 ? ep->ip6 : "", -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		if (sqlite3_extended_errcode(db_handle(db)) == SQLITE_CONSTRAINT_PRIMARYKEY)
			r = vsl_error_set_code(err, EEXIST,
			                       "endpoint with name %s already exists in network %s", ep->name,
			                       net->name);
		else
			r = db_error(db, err, "add endpoint");
		goto fail;
	}
	return db_commit(db, err);
fail:
	db_rollback(db);
	return r;
}

int ipam_endpoint_remove(struct db *db, const char *network_id, const char *container_id,
                         struct vsl_error **err)
{
	return exec_bound(db, "DELETE FROM endpoints WHERE network_id = ? AND container_id = ?", network_id,
	                  container_id, "remove endpoint", err);
}

int ipam_endpoint_set_active(struct db *db, const char *network_id, const char *container_id,
                             const char *veth, bool active, struct vsl_error **err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(
	    db, "UPDATE endpoints SET veth = ?, active = ? WHERE network_id = ? AND container_id = ?", &st,
	    err);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, veth ? veth : "", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, active);
	sqlite3_bind_text(st, 3, network_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, container_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_error(db, err, "update endpoint");
	return 0;
}

int ipam_endpoint_list(struct db *db, const char *network_id, const char *container_id,
                       struct endpoint_record ***ret, size_t *ret_n, struct vsl_error **err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(
	    db,
	    "SELECT e.network_id, e.container_id, e.name, e.ip, e.mac, e.aliases, e.veth, e.active,"
	    " e.ip6 FROM endpoints e JOIN networks n ON n.id = e.network_id"
	    " WHERE (?1 IS NULL OR e.network_id = ?1) AND (?2 IS NULL OR e.container_id = ?2)"
	    " ORDER BY n.created, e.rowid",
	    &st, err);
	if (r < 0)
		return r;
	if (network_id)
		sqlite3_bind_text(st, 1, network_id, -1, SQLITE_STATIC);
	if (container_id)
		sqlite3_bind_text(st, 2, container_id, -1, SQLITE_STATIC);
	struct endpoint_record **v = NULL;
	size_t n = 0;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct endpoint_record **grown = realloc(v, (n + 1) * sizeof(*v));
		struct endpoint_record *ep = grown ? calloc(1, sizeof(*ep)) : NULL;
		if (ep) {
			ep->network_id = column_dup(st, 0);
			ep->container_id = column_dup(st, 1);
			ep->name = column_dup(st, 2);
			ep->ip = column_dup(st, 3);
			ep->mac = column_dup(st, 4);
			ep->aliases = aliases_parse((const char *)sqlite3_column_text(st, 5));
			ep->veth = column_dup(st, 6);
			ep->active = sqlite3_column_int(st, 7) != 0;
			ep->ip6 = column_dup(st, 8);
		}
		if (ep == NULL || !ep->network_id || !ep->container_id || !ep->name || !ep->ip || !ep->mac ||
		    !ep->aliases || !ep->veth || !ep->ip6) {
			endpoint_record_free(ep);
			endpoint_records_free(grown ? grown : v, n);
			return vsl_error_errno(err, ENOMEM, "list endpoints");
		}
		v = grown;
		v[n++] = ep;
	}
	if (r != SQLITE_DONE) {
		endpoint_records_free(v, n);
		return db_error(db, err, "list endpoints");
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/* ---- ports ---- */

int ipam_port_taken(struct db *db, const char *proto, const char *host_ip, unsigned port, char **ret_holder,
                    struct vsl_error **err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = db_prepare(db,
	                   "SELECT container_id FROM ports WHERE proto = ?1 AND host_port = ?3 AND"
	                   " (host_ip = ?2 OR host_ip = '0.0.0.0' OR ?2 = '0.0.0.0')",
	                   &st, err);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, proto, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, host_ip, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, (int)port);
	r = sqlite3_step(st);
	if (r == SQLITE_DONE)
		return 0;
	if (r != SQLITE_ROW)
		return db_error(db, err, "read ports");
	if (ret_holder)
		*ret_holder = column_dup(st, 0);
	return 1;
}

int ipam_port_add(struct db *db, const struct port_record *p, struct vsl_error **err)
{
	int r = db_begin(db, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *holder = NULL;
	r = ipam_port_taken(db, p->proto, p->host_ip, p->host_port, &holder, err);
	if (r > 0)
		r = vsl_error_set_code(
		    err, EADDRINUSE, "Bind for %s:%u failed: port is already allocated (by container %.12s)",
		    p->host_ip, p->host_port, holder ? holder : "?");
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (r >= 0 &&
	    (r = db_prepare(db,
	                    "INSERT INTO ports (proto, host_ip, host_port, container_id, network_id,"
	                    " container_port) VALUES (?,?,?,?,?,?)",
	                    &st, err)) >= 0) {
		sqlite3_bind_text(st, 1, p->proto, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, p->host_ip, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, (int)p->host_port);
		sqlite3_bind_text(st, 4, p->container_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, p->network_id, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 6, (int)p->container_port);
		if (sqlite3_step(st) != SQLITE_DONE)
			r = db_error(db, err, "add port");
	}
	if (r < 0) {
		db_rollback(db);
		return r;
	}
	return db_commit(db, err);
}

int ipam_port_list(struct db *db, const char *container_id, struct port_record **ret, size_t *ret_n,
                   struct vsl_error **err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r =
	    db_prepare(db,
	               "SELECT container_id, network_id, proto, host_ip, host_port, container_port FROM ports"
	               " WHERE ?1 IS NULL OR container_id = ?1 ORDER BY container_port, proto, host_ip",
	               &st, err);
	if (r < 0)
		return r;
	if (container_id)
		sqlite3_bind_text(st, 1, container_id, -1, SQLITE_STATIC);
	struct port_record *v = NULL;
	size_t n = 0;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct port_record *grown = realloc(v, (n + 1) * sizeof(*v));
		if (grown == NULL) {
			port_records_free(v, n);
			return vsl_error_errno(err, ENOMEM, "list ports");
		}
		v = grown;
		v[n] = (struct port_record){
		    .container_id = column_dup(st, 0),
		    .network_id = column_dup(st, 1),
		    .proto = column_dup(st, 2),
		    .host_ip = column_dup(st, 3),
		    .host_port = (unsigned)sqlite3_column_int(st, 4),
		    .container_port = (unsigned)sqlite3_column_int(st, 5),
		};
		n++;
		if (!v[n - 1].container_id || !v[n - 1].network_id || !v[n - 1].proto || !v[n - 1].host_ip) {
			port_records_free(v, n);
			return vsl_error_errno(err, ENOMEM, "list ports");
		}
	}
	if (r != SQLITE_DONE) {
		port_records_free(v, n);
		return db_error(db, err, "list ports");
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

int ipam_port_remove_container(struct db *db, const char *container_id, struct vsl_error **err)
{
	return exec_bound(db, "DELETE FROM ports WHERE container_id = ?", container_id, NULL, "remove ports",
	                  err);
}

int ipam_reset(struct db *db, struct vsl_error **err)
{
	int r = db_begin(db, err);
	if (r < 0)
		return r;
	if ((r = db_exec(db, "DELETE FROM ports; DELETE FROM endpoints; DELETE FROM networks;", err)) < 0) {
		db_rollback(db);
		return r;
	}
	return db_commit(db, err);
}
