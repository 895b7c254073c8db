/* Links, addresses and routes over rtnetlink (libmnl): what vessel needs to
 * wire a container into a bridge, with no `ip` command spawned.
 *
 * Every call works in the network namespace of the calling thread. To work
 * inside a container's namespace, run a function there with nl_in_netns():
 * it runs on a short-lived thread that setns()es into the namespace, so the
 * vessel process itself never leaves the host's namespace.
 *
 *     nl_bridge_create("vessel0", 1500, &err);
 *     nl_addr_add("vessel0", AF_INET, &gw, 16, &err);
 *     nl_veth_create("vsl1a2b3c", "eth0", netns_fd, "vessel0", 1500, mac, &err);
 *     nl_in_netns(netns_fd, configure_inside, &args, &err);
 *
 * Errors name the link: "create bridge 'vessel0': File exists".
 */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

struct vsl_error;

/* A new bridge, down; an existing one of that name is -EEXIST. */
int nl_bridge_create(const char *name, unsigned mtu, struct vsl_error **err);
/* A veth pair: host_name stays here, enslaved to bridge (NULL: none) and up;
 * peer_name is made directly in the namespace of peer_netns_fd (down, with
 * mac when non-NULL: 6 bytes). */
int nl_veth_create(const char *host_name, const char *peer_name, int peer_netns_fd, const char *bridge,
                   unsigned mtu, const uint8_t *mac, struct vsl_error **err);
/* Deletes a link (a veth takes its peer along); -ENODEV when it is absent. */
int nl_link_delete(const char *name, struct vsl_error **err);
int nl_link_up(const char *name, struct vsl_error **err);
int nl_link_down(const char *name, struct vsl_error **err);
int nl_link_set_mtu(const char *name, unsigned mtu, struct vsl_error **err);
bool nl_link_exists(const char *name);
/* Adds addr/prefix to the link (family AF_INET: addr is a struct in_addr;
 * AF_INET6: a struct in6_addr, usable at once: no duplicate address
 * detection). An address already there is not an error. */
int nl_addr_add(const char *name, int family, const void *addr, unsigned prefix, struct vsl_error **err);
/* The default route through gateway out of the link. */
int nl_route_add_default(const char *name, int family, const void *gateway, struct vsl_error **err);

/* Whether the main table has a default route of family (1, 0 or -errno). */
int nl_route_default_exists(int family, struct vsl_error **err);
/* The name of the link whose hardware address is mac (-ENODEV: none). */
int nl_link_name_by_mac(const uint8_t mac[6], char ret_name[16], struct vsl_error **err);

/* Names of the links of the calling thread's namespace whose name starts
 * with prefix (NULL-terminated, malloc'd). */
int nl_link_list(const char *prefix, char ***ret_names, struct vsl_error **err);

/* Runs fn(userdata, err) on a thread inside the network namespace netns_fd
 * and returns what it returned. */
int nl_in_netns(int netns_fd, int (*fn)(void *userdata, struct vsl_error **err), void *userdata,
                struct vsl_error **err);

/* A new network namespace with loopback up, kept alive by a bind mount on
 * path (a file created here): the runtime joins it by path. */
int netns_create(const char *path, struct vsl_error **err);
/* Unmounts and removes it; a missing one is not an error. */
int netns_remove(const char *path);
