/* vessel's nftables rules (libnftables): masquerade for networks going out,
 * published ports, isolation between networks. No `nft` command is spawned,
 * and only vessel's own table is touched:
 *
 *     table ip vessel {
 *         chain prerouting  { type nat hook prerouting priority dstnat; fib daddr type local jump ports }
 *         chain output      { type nat hook output priority -100; fib daddr type local jump ports }
 *         chain ports       { tcp dport 8080 dnat to 10.88.0.2:80 comment "ctr:<id>" ... }
 *         chain postrouting { type nat hook postrouting priority srcnat; ...masquerade comment "net:<id>" }
 *         chain forward     { type filter hook forward priority filter; ...drop comment "net:<id>" }
 *     }
 *
 * Every rule carries a comment naming its owner ("net:<network id>" or
 * "ctr:<container id>"), which is how it is found again to be deleted (by
 * handle) and how network_gc finds rules whose owner is gone. The table is
 * deleted with the last network's rules (a network's rules live as long as
 * the network; a container's port rules as long as it runs).
 *
 * Published ports are reachable from the host through 127.0.0.1 too: the
 * output chain DNATs locally sent packets, the bridge gets route_localnet=1
 * (else the kernel drops a packet with a loopback source leaving on it), and
 * postrouting masquerades 127.0.0.0/8 leaving on the bridge, so the
 * container answers the bridge's address. This is Docker's
 * "userland-proxy": false setup; it needs no proxy process per port.
 *
 * A network with an IPv6 subnet has its masquerade and isolation rules in
 * "table ip6 vessel" too (chains postrouting and forward, same comments).
 *
 * Callers serialise changes with nat_lock(): the table is shared by every
 * vessel root on the host.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct vsl_error;

struct nat_network {
	const char *id;
	const char *bridge;
	const char *subnet;  /* "10.88.0.0/16" */
	const char *subnet6; /* "fd00:1::/64": rules in "table ip6 vessel" too; NULL: none */
	bool internal;       /* no masquerade; nothing forwarded in or out of the bridge */
};

struct nat_port {
	const char *proto;   /* "tcp", "udp", "sctp" */
	const char *host_ip; /* "0.0.0.0": every local address */
	unsigned host_port;
	const char *container_ip;
	unsigned container_port;
};

/* An exclusive host-wide lock (flock) on vessel's rules and bridges: a fd. */
int nat_lock(struct vsl_error **err);

/* Adds the network's rules (none are added twice: existing ones are replaced). */
int nat_network_add(const struct nat_network *n, struct vsl_error **err);
/* Removes the network's rules; the table goes when no network has rules left. */
int nat_network_remove(const char *network_id, struct vsl_error **err);
int nat_ports_add(const char *container_id, const struct nat_port *ports, size_t n, struct vsl_error **err);
int nat_ports_remove(const char *container_id, struct vsl_error **err);
/* Removes every rule whose owner is in owners ("net:<id>", "ctr:<id>";
 * NULL-terminated; NULL: none) from both tables, then each table that no owner has
 * rules in any more: what `system reset` does for one root. */
int nat_remove_owners(const char *const *owners, struct vsl_error **err);
/* Owners of the rules in the table: "net:<id>" and "ctr:<id>" strings. */
int nat_list_owners(char ***ret, struct vsl_error **err);

/* Whether another process holds the port: a bind() of it (0: free, -errno). */
int nat_port_bindable(const char *proto, const char *host_ip, unsigned port);

/* Turns IPv6 on for the bridge and IPv6 forwarding on for the host. */
int nat_enable_forwarding6(const char *bridge, struct vsl_error **err);
/* Writes 1 to /proc/sys/net/ipv4/ip_forward (when not already) and to the
 * bridge's route_localnet. */
int nat_enable_forwarding(const char *bridge, struct vsl_error **err);
