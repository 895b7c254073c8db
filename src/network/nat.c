#include "network/nat.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"

/* The lock is on /run itself: as global as the tables it guards, and no
 * file of ours is left on the host. */
#define NAT_LOCK "/run"
#define TABLE    "ip vessel"
#define TABLE6   "ip6 vessel"

static void nft_ctx_freep(struct nft_ctx **c)
{
	if (*c)
		nft_ctx_free(*c);
}
#define _cleanup_nft_ __attribute__((cleanup(nft_ctx_freep)))

int nat_lock(struct vsl_error **err)
{
	int fd = open(NAT_LOCK, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return vsl_error_errno(err, errno, "open '%s'", NAT_LOCK);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int e = errno;
			close(fd);
			return vsl_error_errno(err, e, "lock '%s'", NAT_LOCK);
		}
	}
	return fd;
}

/* Runs nft commands (one atomic batch); *ret_out gets the output when asked. */
static int nft_run(const char *cmds, bool json, char **ret_out, struct vsl_error **err)
{
	_cleanup_nft_ struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (ctx == NULL)
		return vsl_error_errno(err, ENOMEM, "nftables");
	if (json)
		nft_ctx_output_set_flags(ctx, NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE);
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	if (nft_run_cmd_from_buffer(ctx, cmds) != 0) {
		const char *e = nft_ctx_get_error_buffer(ctx);
		_cleanup_free_ char *msg = strdup(e && *e ? e : "failed");
		if (msg) {
			/* One line is enough: nft echoes the command and marks the column below. */
			char *nl = strchr(msg, '\n');
			if (nl)
				*nl = '\0';
		}
		return vsl_error_set_code(err, EINVAL, "nftables: %s", msg ? msg : "failed");
	}
	if (ret_out) {
		const char *out = nft_ctx_get_output_buffer(ctx);
		if ((*ret_out = strdup(out ? out : "")) == NULL)
			return vsl_error_errno(err, ENOMEM, "nftables");
	}
	return 0;
}

/* The table and its base chains; "add" is a no-op for what exists. The jump
 * rules are added only when the chains are new (flush would drop others' rules). */
static int ensure_table(struct vsl_error **err)
{
	_cleanup_free_ char *out = NULL;
	_cleanup_error_ struct vsl_error *e = NULL;
	if (nft_run("list chain " TABLE " ports", false, &out, &e) >= 0)
		return 0;
	return nft_run(
	    "add table " TABLE "\n"
	    "add chain " TABLE " ports\n"
	    "add chain " TABLE " prerouting { type nat hook prerouting priority dstnat; policy accept; }\n"
	    "add chain " TABLE " output { type nat hook output priority -100; policy accept; }\n"
	    "add chain " TABLE " postrouting { type nat hook postrouting priority srcnat; policy accept; }\n"
	    "add chain " TABLE " forward { type filter hook forward priority filter; policy accept; }\n"
	    "add rule " TABLE " prerouting fib daddr type local jump ports\n"
	    "add rule " TABLE " output fib daddr type local jump ports\n",
	    false, NULL, err);
}

/* The IPv6 table: masquerade and isolation only (ports are published on IPv4). */
static int ensure_table6(struct vsl_error **err)
{
	_cleanup_free_ char *out = NULL;
	_cleanup_error_ struct vsl_error *e = NULL;
	if (nft_run("list chain " TABLE6 " forward", false, &out, &e) >= 0)
		return 0;
	return nft_run(
	    "add table " TABLE6 "\n"
	    "add chain " TABLE6 " postrouting { type nat hook postrouting priority srcnat; policy accept; }\n"
	    "add chain " TABLE6 " forward { type filter hook forward priority filter; policy accept; }\n",
	    false, NULL, err);
}

/* Rules of the table as (chain, handle, comment). */
struct rule_ref {
	char chain[32];
	long long handle;
	char comment[160];
};

static int list_rules(const char *table, struct rule_ref **ret, size_t *ret_n, struct vsl_error **err)
{
	_cleanup_free_ char *out = NULL;
	_cleanup_error_ struct vsl_error *e = NULL;
	*ret = NULL;
	*ret_n = 0;
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "list table %s", table);
	if (nft_run(cmd, true, &out, &e) < 0)
		return 0; /* no table: no rules */
	json_t *root = json_loads(out, 0, NULL);
	json_t *items = json_object_get(root, "nftables");
	size_t i, n = 0;
	json_t *item;
	struct rule_ref *v = calloc(json_array_size(items) + 1, sizeof(*v));
	if (v == NULL) {
		json_decref(root);
		return vsl_error_errno(err, ENOMEM, "list rules");
	}
	json_array_foreach(items, i, item)
	{
		json_t *rule = json_object_get(item, "rule");
		if (rule == NULL)
			continue;
		const char *chain = json_string_value(json_object_get(rule, "chain"));
		const char *comment = json_string_value(json_object_get(rule, "comment"));
		snprintf(v[n].chain, sizeof(v[n].chain), "%s", chain ? chain : "");
		snprintf(v[n].comment, sizeof(v[n].comment), "%s", comment ? comment : "");
		v[n].handle = json_integer_value(json_object_get(rule, "handle"));
		n++;
	}
	json_decref(root);
	*ret = v;
	*ret_n = n;
	return 0;
}

static bool owned(const char *const *owners, const char *owner)
{
	for (; owners && owner[0] && *owners; owners++)
		if (strcmp(*owners, owner) == 0)
			return true;
	return false;
}

/* Deletes the table when no owner has rules in it any more. */
static int drop_table_if_empty(const char *table, struct vsl_error **err)
{
	_cleanup_free_ struct rule_ref *rules = NULL;
	size_t n = 0;
	int r = list_rules(table, &rules, &n, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (rules[i].comment[0])
			return 0; /* another network (or its containers' ports) still here */
	char cmd[64];
	_cleanup_free_ char *out = NULL;
	_cleanup_error_ struct vsl_error *e = NULL;
	snprintf(cmd, sizeof(cmd), "list table %s", table);
	if (n == 0 && nft_run(cmd, false, &out, &e) < 0)
		return 0;
	snprintf(cmd, sizeof(cmd), "delete table %s", table);
	return nft_run(cmd, false, NULL, err);
}

/* Deletes the rules whose comment is one of owners, in one batch; then, when
 * asked, the table if no rule is left in it. */
static int delete_owned(const char *table, const char *const *owners, bool drop_empty, struct vsl_error **err)
{
	_cleanup_free_ struct rule_ref *rules = NULL;
	size_t n = 0;
	int r = list_rules(table, &rules, &n, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *cmds = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&cmds, &size);
	if (f == NULL)
		return vsl_error_errno(err, ENOMEM, "delete rules");
	size_t count = 0;
	for (size_t i = 0; i < n; i++)
		if (owned(owners, rules[i].comment)) {
			fprintf(f, "delete rule %s %s handle %lld\n", table, rules[i].chain, rules[i].handle);
			count++;
		}
	if (fclose(f) != 0)
		return vsl_error_errno(err, ENOMEM, "delete rules");
	if (count && (r = nft_run(cmds, false, NULL, err)) < 0)
		return r;
	return drop_empty ? drop_table_if_empty(table, err) : 0;
}

static int delete_rules(const char *table, const char *owner, struct vsl_error **err)
{
	return delete_owned(table, (const char *const[]){owner, NULL}, false, err);
}

static int delete_rules_owner_net(const char *id, struct vsl_error **err)
{
	char owner[128];
	snprintf(owner, sizeof(owner), "net:%s", id);
	int r = delete_rules(TABLE, owner, err);
	return r < 0 ? r : delete_rules(TABLE6, owner, err);
}

static int network_add6(const struct nat_network *n, struct vsl_error **err)
{
	int r = ensure_table6(err);
	if (r < 0)
		return r;
	_cleanup_free_ char *cmds = NULL;
	const char *br = n->bridge;
	int k;
	if (n->internal)
		k = asprintf(
		    &cmds,
		    "add rule " TABLE6 " forward iifname \"%s\" oifname != \"%s\" drop comment \"net:%s\"\n"
		    "add rule " TABLE6 " forward oifname \"%s\" iifname != \"%s\" drop comment \"net:%s\"\n",
		    br, br, n->id, br, br, n->id);
	else
		k = asprintf(&cmds,
		             "add rule " TABLE6
		             " postrouting ip6 saddr %s oifname != \"%s\" masquerade comment \"net:%s\"\n"
		             "add rule " TABLE6
		             " forward iifname \"%s\" oifname != \"%s\" oifname \"vessel*\" drop comment "
		             "\"net:%s\"\n",
		             n->subnet6, br, n->id, br, br, n->id);
	if (k < 0)
		return vsl_error_errno(err, ENOMEM, "add rules of network");
	return nft_run(cmds, false, NULL, err);
}

int nat_network_add(const struct nat_network *n, struct vsl_error **err)
{
	int r = ensure_table(err);
	if (r < 0 || (r = delete_rules_owner_net(n->id, err)) < 0)
		return r;
	_cleanup_free_ char *cmds = NULL;
	const char *br = n->bridge;
	int k;
	if (n->internal)
		/* Nothing crosses the bridge's edge: containers talk to each other only. */
		k = asprintf(
		    &cmds,
		    "add rule " TABLE " forward iifname \"%s\" oifname != \"%s\" drop comment \"net:%s\"\n"
		    "add rule " TABLE " forward oifname \"%s\" iifname != \"%s\" drop comment \"net:%s\"\n",
		    br, br, n->id, br, br, n->id);
	else
		k = asprintf(
		    &cmds,
		    /* Out to the world through anything but the bridge itself. */
		    "add rule " TABLE
		    " postrouting ip saddr %s oifname != \"%s\" masquerade comment \"net:%s\"\n"
		    /* The host's own 127.0.0.1 DNATed to a container: answer to the bridge. */
		    "add rule " TABLE
		    " postrouting ip saddr 127.0.0.0/8 oifname \"%s\" masquerade comment \"net:%s\"\n"
		    /* A container reaching a peer (or itself) through a published port. */
		    "add rule " TABLE
		    " postrouting ip saddr %s oifname \"%s\" ct status dnat masquerade comment "
		    "\"net:%s\"\n"
		    /* Isolation: never from this bridge into another vessel bridge. */
		    "add rule " TABLE
		    " forward iifname \"%s\" oifname != \"%s\" oifname \"vessel*\" drop comment "
		    "\"net:%s\"\n",
		    n->subnet, br, n->id, br, n->id, n->subnet, br, n->id, br, br, n->id);
	if (k < 0)
		return vsl_error_errno(err, ENOMEM, "add rules of network");
	if ((r = nft_run(cmds, false, NULL, err)) < 0)
		return r;
	return n->subnet6 && *n->subnet6 ? network_add6(n, err) : 0;
}

int nat_remove_owners(const char *const *owners, struct vsl_error **err)
{
	int r = delete_owned(TABLE, owners, true, err);
	return r < 0 ? r : delete_owned(TABLE6, owners, true, err);
}

int nat_network_remove(const char *network_id, struct vsl_error **err)
{
	char owner[128];
	snprintf(owner, sizeof(owner), "net:%s", network_id);
	return nat_remove_owners((const char *const[]){owner, NULL}, err);
}

int nat_ports_add(const char *container_id, const struct nat_port *ports, size_t n, struct vsl_error **err)
{
	if (n == 0)
		return 0;
	int r = ensure_table(err);
	if (r < 0)
		return r;
	_cleanup_free_ char *cmds = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&cmds, &size);
	if (f == NULL)
		return vsl_error_errno(err, ENOMEM, "add port rules");
	for (size_t i = 0; i < n; i++) {
		const struct nat_port *p = &ports[i];
		fprintf(f, "add rule " TABLE " ports ");
		if (p->host_ip && strcmp(p->host_ip, "0.0.0.0") != 0)
			fprintf(f, "ip daddr %s ", p->host_ip);
		fprintf(f, "%s dport %u dnat to %s:%u comment \"ctr:%s\"\n", p->proto, p->host_port,
		        p->container_ip, p->container_port, container_id);
	}
	if (fclose(f) != 0)
		return vsl_error_errno(err, ENOMEM, "add port rules");
	return nft_run(cmds, false, NULL, err);
}

int nat_ports_remove(const char *container_id, struct vsl_error **err)
{
	char owner[128];
	snprintf(owner, sizeof(owner), "ctr:%s", container_id);
	return delete_rules(TABLE, owner, err);
}

int nat_list_owners(char ***ret, struct vsl_error **err)
{
	_cleanup_free_ struct rule_ref *rules = NULL;
	size_t n = 0;
	int r = list_rules(TABLE, &rules, &n, err);
	if (r < 0)
		return r;
	char **v = calloc(n + 1, sizeof(char *));
	if (v == NULL)
		return vsl_error_errno(err, ENOMEM, "list rules");
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (rules[i].comment[0] == '\0')
			continue;
		bool seen = false;
		for (size_t j = 0; j < k && !seen; j++)
			seen = strcmp(v[j], rules[i].comment) == 0;
		if (!seen && (v[k++] = strdup(rules[i].comment)) == NULL) {
			strv_free(v);
			return vsl_error_errno(err, ENOMEM, "list rules");
		}
	}
	*ret = v;
	return 0;
}

int nat_port_bindable(const char *proto, const char *host_ip, unsigned port)
{
	int type = strcmp(proto, "udp") == 0 ? SOCK_DGRAM : SOCK_STREAM;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (host_ip && *host_ip && inet_pton(AF_INET, host_ip, &a.sin_addr) != 1)
		return -EINVAL;
	_cleanup_close_ int fd =
	    socket(AF_INET, type | SOCK_CLOEXEC, strcmp(proto, "sctp") == 0 ? IPPROTO_SCTP : 0);
	if (fd < 0)
		return strcmp(proto, "sctp") == 0 ? 0 : -errno;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -errno;
	return 0;
}

int nat_enable_forwarding(const char *bridge, struct vsl_error **err)
{
	_cleanup_free_ char *cur = NULL;
	size_t len = 0;
	_cleanup_error_ struct vsl_error *e = NULL;
	if (read_file_at(AT_FDCWD, "/proc/sys/net/ipv4/ip_forward", 16, &cur, &len, &e) < 0 ||
	    cur[0] != '1') {
		int r = write_string_at(AT_FDCWD, "/proc/sys/net/ipv4/ip_forward", "1", err);
		if (r < 0)
			return r;
	}
	char path[128];
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/route_localnet", bridge);
	return write_string_at(AT_FDCWD, path, "1", err);
}

/* IPv6 forwarding is one switch for the host, and turning it on makes the
 * kernel ignore router advertisements on links with accept_ra=1: those get
 * accept_ra=2 first (take them while forwarding), so the host keeps its
 * SLAAC addresses and routes. */
int nat_enable_forwarding6(const char *bridge, struct vsl_error **err)
{
	char path[128];
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", bridge);
	int r = write_string_at(AT_FDCWD, path, "0", err);
	if (r < 0)
		return r;
	_cleanup_free_ char *cur = NULL;
	size_t len = 0;
	_cleanup_error_ struct vsl_error *e = NULL;
	if (read_file_at(AT_FDCWD, "/proc/sys/net/ipv6/conf/all/forwarding", 16, &cur, &len, &e) >= 0 &&
	    cur[0] == '1')
		return 0;
	_cleanup_closedir_ DIR *d = opendir("/proc/sys/net/ipv6/conf");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || strcmp(de->d_name, "all") == 0)
			continue;
		_cleanup_free_ char *ra = NULL;
		_cleanup_error_ struct vsl_error *re = NULL;
		_cleanup_free_ char *ra_path = NULL;
		if (asprintf(&ra_path, "/proc/sys/net/ipv6/conf/%s/accept_ra", de->d_name) < 0)
			return vsl_error_errno(err, ENOMEM, "enable IPv6 forwarding");
		if (read_file_at(AT_FDCWD, ra_path, 16, &ra, &len, &re) >= 0 && ra[0] == '1')
			(void)write_string_at(AT_FDCWD, ra_path, "2", NULL);
	}
	return write_string_at(AT_FDCWD, "/proc/sys/net/ipv6/conf/all/forwarding", "1", err);
}
