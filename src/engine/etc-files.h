/* The three files every container gets in /etc, as Docker makes them:
 * hostname, hosts (localhost lines, --add-host entries) and resolv.conf (the
 * host's, with loopback resolvers removed since they cannot answer from
 * inside the container's network namespace; Docker's public fallback when
 * nothing is left; --dns/--dns-search/--dns-option replace parts). */
#pragma once

#include <stdbool.h>

struct vsl_error;

struct etc_files_opts {
	const char *hostname;
	const char *domainname;
	char **extra_hosts; /* "name:ip" (Docker's --add-host; "host-gateway" is refused for now) */
	char **dns;         /* nameservers */
	char **dns_search;
	char **dns_options;
	bool host_network;            /* copy the host's /etc/hosts instead */
	const char *host_resolv_conf; /* NULL: /etc/resolv.conf (tests point elsewhere) */
};

/* Writes hostname, hosts and resolv.conf into dirfd. */
int etc_files_write(int dirfd, const struct etc_files_opts *o, struct vsl_error **err);
