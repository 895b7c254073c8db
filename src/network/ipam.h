/* IP address management: networks, their subnets and the addresses given
 * to containers, kept in the state database (room "network").
 *
 *     networks(id, name, driver, subnet, gateway, bridge, internal, ipv6, created, labels,
 *              subnet6, gateway6)
 *     endpoints(network_id, container_id, name, ip, mac, aliases, veth, active, ip6)
 *     ports(proto, host_ip, host_port, container_id, network_id, container_port)
 *
 * An address is given once per network: allocation runs in a BEGIN
 * IMMEDIATE transaction and (network_id, ip) is UNIQUE, so two vessel
 * processes allocating at once get different addresses. An endpoint (and
 * its address) lives from the container's connect to its removal or
 * disconnect; `active` says whether its veth exists now (the container runs).
 *
 *     ipam_init(db, &err);
 *     ipam_pick_subnet(db, pools, n_pools, &subnet, &err);     a /16 no host route uses
 *     ipam_endpoint_add(db, &ep, &err);                        ep.ip chosen when empty
 */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct db;
struct vsl_error;

struct ipam_subnet {
	struct in_addr addr; /* network address, host order bits cleared */
	unsigned prefix;
};

/* "10.88.0.0/16" (host bits set are cleared when clear_host is true; else
 * refused); "10.88.0.1" alone is a /32. */
int ipam_parse_cidr(const char *s, bool clear_host, struct ipam_subnet *ret, struct in_addr *ret_addr);
bool ipam_contains(const struct ipam_subnet *s, struct in_addr a);
bool ipam_overlaps(const struct ipam_subnet *a, const struct ipam_subnet *b);
/* "10.88.0.0/16" into buf (at least 19 bytes). */
void ipam_format(const struct ipam_subnet *s, char *buf, size_t size);

/* IPv6 ("fd00:1:2:3::/64"): the same, for networks made with --ipv6. */
struct ipam_subnet6 {
	struct in6_addr addr;
	unsigned prefix;
};
int ipam_parse_cidr6(const char *s, bool clear_host, struct ipam_subnet6 *ret, struct in6_addr *ret_addr);
bool ipam_contains6(const struct ipam_subnet6 *s, const struct in6_addr *a);
bool ipam_overlaps6(const struct ipam_subnet6 *a, const struct ipam_subnet6 *b);
/* "fd00:1::/64" into buf (at least INET6_ADDRSTRLEN + 4 bytes). */
void ipam_format6(const struct ipam_subnet6 *s, char *buf, size_t size);

/* A pool of subnets to take networks from: base split into /size pieces. */
struct ipam_pool {
	struct ipam_subnet base;
	unsigned size;
};

struct network_record {
	char *id; /* 64 hex */
	char *name;
	char *driver; /* "bridge" */
	char *subnet; /* "10.88.0.0/16" */
	char *gateway;
	char *bridge; /* the bridge device */
	bool internal, ipv6;
	int64_t created; /* ns since the epoch */
	char *labels;    /* JSON object text */
	char *subnet6;   /* "fd00:1::/64" when ipv6, else "" */
	char *gateway6;
};
void network_record_free(struct network_record *n);
void network_records_free(struct network_record **v, size_t n);

struct endpoint_record {
	char *network_id;
	char *container_id;
	char *name; /* the container's name, resolvable by its peers */
	char *ip;   /* "10.88.0.2"; empty or NULL: choose */
	char *mac;  /* "02:42:0a:58:00:02"; empty or NULL: from the address */
	char **aliases;
	char *veth; /* the host end, while active */
	bool active;
	char *ip6; /* "fd00:1::2" on an IPv6 network (chosen when empty), else "" */
};
void endpoint_record_free(struct endpoint_record *ep);
void endpoint_records_free(struct endpoint_record **v, size_t n);

int ipam_init(struct db *db, struct vsl_error **err);

/* Networks. get: by name, full id or unique id prefix; -ENOENT "network X not found". */
int ipam_network_insert(struct db *db, const struct network_record *n, struct vsl_error **err);
int ipam_network_get(struct db *db, const char *name_or_id, struct network_record **ret,
                     struct vsl_error **err);
int ipam_network_list(struct db *db, struct network_record ***ret, size_t *ret_n, struct vsl_error **err);
int ipam_network_delete(struct db *db, const char *id, struct vsl_error **err);

/* A free subnet from the pools: one that no network in the database, no
 * route of the host (/proc/net/route) and no address of the host uses. */
int ipam_pick_subnet(struct db *db, const struct ipam_pool *pools, size_t n_pools, struct ipam_subnet *ret,
                     struct vsl_error **err);
/* Whether s overlaps a network in the database (other than except_id) or a host route/address. */
int ipam_subnet_in_use(struct db *db, const struct ipam_subnet *s, const char *except_id, char **ret_user,
                       struct vsl_error **err);
int ipam_subnet6_in_use(struct db *db, const struct ipam_subnet6 *s, char **ret_user, struct vsl_error **err);

/* Adds the endpoint, choosing ep->ip (the lowest free address after the
 * gateway), ep->ip6 likewise on an IPv6 network and ep->mac when empty; a requested address outside the
 * subnet or in use is refused. On success the chosen values are in *ep. */
int ipam_endpoint_add(struct db *db, const struct network_record *net, struct endpoint_record *ep,
                      struct vsl_error **err);
int ipam_endpoint_remove(struct db *db, const char *network_id, const char *container_id,
                         struct vsl_error **err);
int ipam_endpoint_set_active(struct db *db, const char *network_id, const char *container_id,
                             const char *veth, bool active, struct vsl_error **err);
/* Endpoints of a network (network_id non-NULL) or of a container (container_id non-NULL). */
int ipam_endpoint_list(struct db *db, const char *network_id, const char *container_id,
                       struct endpoint_record ***ret, size_t *ret_n, struct vsl_error **err);

/* Published ports: host (proto, ip, port) taken once across all containers;
 * "0.0.0.0" conflicts with every address. */
struct port_record {
	char *container_id;
	char *network_id;
	char *proto;   /* "tcp", "udp", "sctp" */
	char *host_ip; /* "0.0.0.0" for all */
	unsigned host_port, container_port;
};
void port_records_free(struct port_record *p, size_t n);
/* -EADDRINUSE when another container holds the host port. */
int ipam_port_add(struct db *db, const struct port_record *p, struct vsl_error **err);
int ipam_port_taken(struct db *db, const char *proto, const char *host_ip, unsigned port, char **ret_holder,
                    struct vsl_error **err);
int ipam_port_list(struct db *db, const char *container_id, struct port_record **ret, size_t *ret_n,
                   struct vsl_error **err);
int ipam_port_remove_container(struct db *db, const char *container_id, struct vsl_error **err);

/* Forgets every network, endpoint and port (`system reset`). */
int ipam_reset(struct db *db, struct vsl_error **err);

static inline void network_record_freep(struct network_record **n)
{
	network_record_free(*n);
}
#define _cleanup_network_record_ __attribute__((cleanup(network_record_freep)))
