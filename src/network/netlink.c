#include "network/netlink.h"

#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/error.h"

/* Requests here are small; answers are read in pages of this size. */
#define NL_BUF 8192

static void mnl_socket_closep(struct mnl_socket **s)
{
	if (*s)
		mnl_socket_close(*s);
}
#define _cleanup_mnl_ __attribute__((cleanup(mnl_socket_closep)))

static int nl_open(struct mnl_socket **ret)
{
	struct mnl_socket *s = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (s == NULL)
		return -errno;
	if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;
		mnl_socket_close(s);
		return -e;
	}
	*ret = s;
	return 0;
}

struct dump {
	int (*cb)(const struct nlmsghdr *nlh, void *data);
	void *data;
};

/* Sends one request and reads the answer up to its ack (or the dump's end):
 * 0, or -errno as the kernel said it. */
static int nl_talk(struct nlmsghdr *nlh, const struct dump *d)
{
	_cleanup_mnl_ struct mnl_socket *s = NULL;
	int r = nl_open(&s);
	if (r < 0)
		return r;
	uint32_t seq = (uint32_t)time(NULL);
	nlh->nlmsg_seq = seq;
	if (d == NULL)
		nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(s, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	_cleanup_free_ char *buf = malloc(NL_BUF);
	if (buf == NULL)
		return -ENOMEM;
	uint32_t portid = mnl_socket_get_portid(s);
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(s, buf, NL_BUF);
		if (n < 0)
			return -errno;
		r = mnl_cb_run(buf, (size_t)n, seq, portid, d ? d->cb : NULL, d ? d->data : NULL);
		if (r < 0)
			return -errno;
		if (r == MNL_CB_STOP)
			return 0;
	}
}

static struct nlmsghdr *link_msg(char *buf, uint16_t type, uint16_t flags, struct ifinfomsg **ret_ifm)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	if (ret_ifm)
		*ret_ifm = ifm;
	return nlh;
}

static int link_index(const char *name, const char *what, struct vsl_error **err)
{
	unsigned idx = if_nametoindex(name);
	if (idx == 0)
		return vsl_error_errno(err, errno == ENXIO ? ENODEV : errno, "%s '%s'", what, name);
	return (int)idx;
}

int nl_bridge_create(const char *name, unsigned mtu, struct vsl_error **err)
{
	char buf[NL_BUF] = {0};
	struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, NULL);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
	mnl_attr_nest_end(nlh, info);
	int r = nl_talk(nlh, NULL);
	return r < 0 ? vsl_error_errno(err, -r, "create bridge '%s'", name) : 0;
}

int nl_veth_create(const char *host_name, const char *peer_name, int peer_netns_fd, const char *bridge,
                   unsigned mtu, const uint8_t *mac, struct vsl_error **err)
{
	int master = 0;
	if (bridge && (master = link_index(bridge, "bridge", err)) < 0)
		return master;
	char buf[NL_BUF] = {0};
	struct ifinfomsg *ifm;
	struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifm);
	ifm->ifi_flags = IFF_UP;
	ifm->ifi_change = IFF_UP;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, host_name);
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	if (master)
		mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master);
	struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	struct nlattr *peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	struct ifinfomsg *pifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*pifm));
	pifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer_name);
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	if (mac)
		mnl_attr_put(nlh, IFLA_ADDRESS, 6, mac);
	if (peer_netns_fd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peer_netns_fd);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	int r = nl_talk(nlh, NULL);
	return r < 0 ? vsl_error_errno(err, -r, "create veth '%s' (peer '%s')", host_name, peer_name) : 0;
}

int nl_link_delete(const char *name, struct vsl_error **err)
{
	char buf[NL_BUF] = {0};
	struct nlmsghdr *nlh = link_msg(buf, RTM_DELLINK, 0, NULL);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	int r = nl_talk(nlh, NULL);
	return r < 0 ? vsl_error_errno(err, -r, "delete link '%s'", name) : 0;
}

static int link_set(const char *name, unsigned flags, unsigned change, unsigned mtu, const char *what,
                    struct vsl_error **err)
{
	int idx = link_index(name, what, err);
	if (idx < 0)
		return idx;
	char buf[NL_BUF] = {0};
	struct ifinfomsg *ifm;
	struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, 0, &ifm);
	ifm->ifi_index = idx;
	ifm->ifi_flags = flags;
	ifm->ifi_change = change;
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	int r = nl_talk(nlh, NULL);
	return r < 0 ? vsl_error_errno(err, -r, "%s '%s'", what, name) : 0;
}

int nl_link_up(const char *name, struct vsl_error **err)
{
	return link_set(name, IFF_UP, IFF_UP, 0, "bring up link", err);
}

int nl_link_down(const char *name, struct vsl_error **err)
{
	return link_set(name, 0, IFF_UP, 0, "take down link", err);
}

int nl_link_set_mtu(const char *name, unsigned mtu, struct vsl_error **err)
{
	return link_set(name, 0, 0, mtu, "set the MTU of link", err);
}

bool nl_link_exists(const char *name)
{
	return if_nametoindex(name) != 0;
}

int nl_addr_add(const char *name, int family, const void *addr, unsigned prefix, struct vsl_error **err)
{
	int idx = link_index(name, "add an address to link", err);
	if (idx < 0)
		return idx;
	char buf[NL_BUF] = {0};
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE;
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)family;
	ifa->ifa_prefixlen = (uint8_t)prefix;
	ifa->ifa_index = (uint32_t)idx;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	size_t len = family == AF_INET ? sizeof(struct in_addr) : sizeof(struct in6_addr);
	mnl_attr_put(nlh, IFA_LOCAL, len, addr);
	mnl_attr_put(nlh, IFA_ADDRESS, len, addr);
	/* No duplicate address detection: the address is ours by IPAM, and DAD
	 * would keep it "tentative" (unusable) for the container's first second. */
	if (family == AF_INET6)
		mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
	if (family == AF_INET && prefix < 31) {
		struct in_addr brd = *(const struct in_addr *)addr;
		brd.s_addr |= htonl(prefix ? (1u << (32 - prefix)) - 1 : ~0u);
		mnl_attr_put(nlh, IFA_BROADCAST, sizeof(brd), &brd);
	}
	int r = nl_talk(nlh, NULL);
	return r < 0 ? vsl_error_errno(err, -r, "add an address to link '%s'", name) : 0;
}

int nl_route_add_default(const char *name, int family, const void *gateway, struct vsl_error **err)
{
	int idx = link_index(name, "add the default route through link", err);
	if (idx < 0)
		return idx;
	char buf[NL_BUF] = {0};
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE;
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)family;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put(nlh, RTA_GATEWAY, family == AF_INET ? sizeof(struct in_addr) : sizeof(struct in6_addr),
	             gateway);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)idx);
	int r = nl_talk(nlh, NULL);
	return r < 0 ? vsl_error_errno(err, -r, "add the default route through link '%s'", name) : 0;
}

struct link_by_mac {
	const uint8_t *mac;
	char *name;
};

static int link_mac_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(attr);
	if (type == IFLA_IFNAME || type == IFLA_ADDRESS)
		tb[type] = attr;
	return MNL_CB_OK;
}

static int link_by_mac_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link_by_mac *l = data;
	const struct nlattr *tb[IFLA_MAX + 1] = {0};
	mnl_attr_parse(nlh, sizeof(struct ifinfomsg), link_mac_attr_cb, tb);
	if (l->name[0] || tb[IFLA_IFNAME] == NULL || tb[IFLA_ADDRESS] == NULL ||
	    mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) != 6 ||
	    memcmp(mnl_attr_get_payload(tb[IFLA_ADDRESS]), l->mac, 6) != 0)
		return MNL_CB_OK;
	snprintf(l->name, IFNAMSIZ, "%s", mnl_attr_get_str(tb[IFLA_IFNAME]));
	return MNL_CB_OK;
}

int nl_link_name_by_mac(const uint8_t mac[6], char ret_name[IFNAMSIZ], struct vsl_error **err)
{
	char buf[NL_BUF] = {0}, name[IFNAMSIZ] = "";
	struct nlmsghdr *nlh = link_msg(buf, RTM_GETLINK, NLM_F_DUMP, NULL);
	struct link_by_mac l = {.mac = mac, .name = name};
	struct dump d = {.cb = link_by_mac_cb, .data = &l};
	int r = nl_talk(nlh, &d);
	if (r < 0)
		return vsl_error_errno(err, -r, "list links");
	if (name[0] == '\0')
		return vsl_error_set_code(err, ENODEV, "no link with address %02x:%02x:%02x:%02x:%02x:%02x",
		                          mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	memcpy(ret_name, name, IFNAMSIZ);
	return 0;
}

static int route_default_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	if (rtm->rtm_dst_len == 0 && rtm->rtm_table == RT_TABLE_MAIN && rtm->rtm_type == RTN_UNICAST)
		*(bool *)data = true;
	return MNL_CB_OK;
}

int nl_route_default_exists(int family, struct vsl_error **err)
{
	char buf[NL_BUF] = {0};
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)family;
	bool found = false;
	struct dump d = {.cb = route_default_cb, .data = &found};
	int r = nl_talk(nlh, &d);
	if (r < 0)
		return vsl_error_errno(err, -r, "list routes");
	return found;
}

struct link_list {
	const char *prefix;
	char **names;
	size_t n;
	int r;
};

static int link_attr_cb(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == IFLA_IFNAME && mnl_attr_validate(attr, MNL_TYPE_STRING) >= 0)
		*(const char **)data = mnl_attr_get_str(attr);
	return MNL_CB_OK;
}

static int link_list_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link_list *l = data;
	const char *name = NULL;
	mnl_attr_parse(nlh, sizeof(struct ifinfomsg), link_attr_cb, &name);
	if (name == NULL || strncmp(name, l->prefix, strlen(l->prefix)) != 0)
		return MNL_CB_OK;
	char **grown = realloc(l->names, (l->n + 2) * sizeof(*grown));
	if (grown == NULL || (grown[l->n] = strdup(name)) == NULL) {
		if (grown)
			l->names = grown;
		l->r = -ENOMEM;
		return MNL_CB_ERROR;
	}
	l->names = grown;
	l->names[++l->n] = NULL;
	return MNL_CB_OK;
}

int nl_link_list(const char *prefix, char ***ret_names, struct vsl_error **err)
{
	char buf[NL_BUF] = {0};
	struct nlmsghdr *nlh = link_msg(buf, RTM_GETLINK, NLM_F_DUMP, NULL);
	struct link_list l = {.prefix = prefix};
	struct dump d = {.cb = link_list_cb, .data = &l};
	int r = nl_talk(nlh, &d);
	if (r < 0 || l.r < 0) {
		strv_free(l.names);
		return vsl_error_errno(err, l.r < 0 ? -l.r : -r, "list links");
	}
	if (l.names == NULL && (l.names = calloc(1, sizeof(char *))) == NULL)
		return vsl_error_errno(err, ENOMEM, "list links");
	*ret_names = l.names;
	return 0;
}

/* ---- inside another namespace ---- */

struct in_netns {
	int netns_fd;
	int (*fn)(void *userdata, struct vsl_error **err);
	void *userdata;
	int r;
	struct vsl_error *err;
};

static void *in_netns_thread(void *arg)
{
	struct in_netns *t = arg;
	/* Only this thread moves: setns(CLONE_NEWNET) is per thread. */
	if (setns(t->netns_fd, CLONE_NEWNET) < 0) {
		t->r = vsl_error_errno(&t->err, errno, "enter the network namespace");
		return NULL;
	}
	t->r = t->fn(t->userdata, &t->err);
	return NULL;
}

int nl_in_netns(int netns_fd, int (*fn)(void *userdata, struct vsl_error **err), void *userdata,
                struct vsl_error **err)
{
	struct in_netns t = {.netns_fd = netns_fd, .fn = fn, .userdata = userdata};
	pthread_t th;
	int r = pthread_create(&th, NULL, in_netns_thread, &t);
	if (r != 0)
		return vsl_error_errno(err, r, "start a thread");
	pthread_join(th, NULL);
	if (t.r < 0) {
		if (err && *err == NULL)
			*err = t.err;
		else
			vsl_error_free(t.err);
	}
	return t.r;
}

struct netns_new {
	const char *path;
	int r;
	struct vsl_error *err;
};

static void *netns_thread(void *arg)
{
	struct netns_new *t = arg;
	if (unshare(CLONE_NEWNET) < 0) {
		t->r = vsl_error_errno(&t->err, errno, "create a network namespace");
		return NULL;
	}
	if (mount("/proc/thread-self/ns/net", t->path, NULL, MS_BIND, NULL) < 0) {
		t->r = vsl_error_errno(&t->err, errno, "bind the network namespace on '%s'", t->path);
		return NULL;
	}
	t->r = nl_link_up("lo", &t->err);
	return NULL;
}

int netns_create(const char *path, struct vsl_error **err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (fd < 0)
		return vsl_error_errno(err, errno, "create '%s'", path);
	close(fd);
	struct netns_new t = {.path = path};
	pthread_t th;
	int r = pthread_create(&th, NULL, netns_thread, &t);
	if (r != 0) {
		unlink(path);
		return vsl_error_errno(err, r, "start a thread");
	}
	pthread_join(th, NULL);
	if (t.r < 0) {
		netns_remove(path);
		if (err && *err == NULL)
			*err = t.err;
		else
			vsl_error_free(t.err);
	}
	return t.r;
}

int netns_remove(const char *path)
{
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		return -errno;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}
