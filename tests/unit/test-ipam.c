/* IP address management: CIDR text in and out, containment and overlap,
 * and the records in a real state database (in a mkdtemp root): addresses
 * handed out lowest first, never the network, gateway or broadcast address,
 * never twice, an error when the subnet is full, and a released address
 * handed out again; networks found by name, id and id prefix; published
 * host ports held once. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "network/ipam.h"
#include "util/cleanup.h"
#include "util/db.h"
#include "util/error.h"
#include "util/fs.h"

struct fixture {
	char root[64];
	struct db *db;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -1;
	snprintf(f->root, sizeof(f->root), "/tmp/test-ipam-XXXXXX");
	if (mkdtemp(f->root) == NULL) {
		free(f);
		return -1;
	}
	char path[128];
	snprintf(path, sizeof(path), "%s/vessel.db", f->root);
	*state = f;
	if (db_open(path, &f->db, NULL) < 0 || ipam_init(f->db, NULL) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	if (f == NULL)
		return 0;
	db_close(f->db);
	int r = rm_rf_at(AT_FDCWD, f->root);
	free(f);
	return r;
}

static struct in_addr A(const char *s) {
	struct in_addr a;
	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

static struct ipam_subnet
S(const char *s) {
	struct ipam_subnet n;
	assert_int_equal(ipam_parse_cidr(s, false, &n, NULL), 0);
	return n;
}

/* ---- CIDR text ---- */

static void
test_parse_and_format(void **state)
{
	(void)state;
	struct ipam_subnet s;
	char buf[32];
	assert_int_equal(ipam_parse_cidr("10.88.0.0/16", false, &s, NULL), 0);
	assert_int_equal(s.prefix, 16);
	assert_int_equal(s.addr.s_addr, A("10.88.0.0").s_addr);
	ipam_format(&s, buf, sizeof(buf));
	assert_string_equal(buf, "10.88.0.0/16");

	/* An address alone is a /32. */
	assert_int_equal(ipam_parse_cidr("192.168.1.7", false, &s, NULL), 0);
	assert_int_equal(s.prefix, 32);
	ipam_format(&s, buf, sizeof(buf));
	assert_string_equal(buf, "192.168.1.7/32");

	/* Host bits: refused unless cleared, or unless the address is asked for (bip's form). */
	assert_int_equal(ipam_parse_cidr("10.88.0.1/16", false, &s, NULL), -EINVAL);
	assert_int_equal(ipam_parse_cidr("10.88.3.1/16", true, &s, NULL), 0);
	ipam_format(&s, buf, sizeof(buf));
	assert_string_equal(buf, "10.88.0.0/16");
	struct in_addr gw;
	assert_int_equal(ipam_parse_cidr("10.200.0.1/24", false, &s, &gw), 0);
	assert_int_equal(gw.s_addr, A("10.200.0.1").s_addr);
	ipam_format(&s, buf, sizeof(buf));
	assert_string_equal(buf, "10.200.0.0/24");

	/* Prefix edges. */
	assert_int_equal(ipam_parse_cidr("0.0.0.0/0", false, &s, NULL), 0);
	assert_int_equal(s.prefix, 0);
	assert_int_equal(ipam_parse_cidr("10.0.0.0/33", false, &s, NULL), -EINVAL);
	assert_int_equal(ipam_parse_cidr("10.0.0.0/", false, &s, NULL), -EINVAL);
	assert_int_equal(ipam_parse_cidr("10.0.0.0/8x", false, &s, NULL), -EINVAL);
	assert_int_equal(ipam_parse_cidr("10.0.0/8", false, &s, NULL), -EINVAL);
	assert_int_equal(ipam_parse_cidr("fd00::/64", false, &s, NULL), -EINVAL);
	assert_int_equal(ipam_parse_cidr("", false, &s, NULL), -EINVAL);
	assert_int_equal(ipam_parse_cidr(NULL, false, &s, NULL), -EINVAL);
	char longer[100];
	memset(longer, '1', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	assert_int_equal(ipam_parse_cidr(longer, false, &s, NULL), -EINVAL);
}

static void test_contains_and_overlaps(void **state)
{
	(void)state;
	struct ipam_subnet n16 = S("10.88.0.0/16"), n24 = S("10.88.7.0/24"), other = S("10.89.0.0/16"),
	                   all = S("0.0.0.0/0"), host = S("10.88.7.9/32");
	assert_true(ipam_contains(&n16, A("10.88.0.0")));
	assert_true(ipam_contains(&n16, A("10.88.255.255")));
	assert_false(ipam_contains(&n16, A("10.89.0.0")));
	assert_false(ipam_contains(&n16, A("10.87.255.255")));
	assert_true(ipam_contains(&all, A("203.0.113.1")));
	assert_true(ipam_contains(&host, A("10.88.7.9")));
	assert_false(ipam_contains(&host, A("10.88.7.8")));

	/* Overlap is symmetric, and containment is overlap. */
	assert_true(ipam_overlaps(&n16, &n24));
	assert_true(ipam_overlaps(&n24, &n16));
	assert_true(ipam_overlaps(&n24, &host));
	assert_true(ipam_overlaps(&all, &other));
	assert_false(ipam_overlaps(&n16, &other));
	assert_false(ipam_overlaps(&other, &n24));
	struct ipam_subnet a = S("192.168.0.0/20"), b = S("192.168.16.0/20"), c = S("192.168.15.0/24");
	assert_false(ipam_overlaps(&a, &b));
	assert_true(ipam_overlaps(&a, &c));
	assert_false(ipam_overlaps(&b, &c));
}

/* ---- records ---- */

static void add_network(struct db *db, const char *id, const char *name, const char *subnet, const char *gw)
{
	struct network_record n = {.id = (char *)id,
	                           .name = (char *)name,
	                           .driver = "bridge",
	                           .subnet = (char *)subnet,
	                           .gateway = (char *)gw,
	                           .bridge = "vessel-test",
	                           .created = 1,
	                           .labels = "{\"a\":\"b\"}"};
	assert_int_equal(ipam_network_insert(db, &n, NULL), 0);
}

static struct network_record *get_network(struct db *db, const char *name)
{
	struct network_record *n = NULL;
	assert_int_equal(ipam_network_get(db, name, &n, NULL), 0);
	return n;
}

/* Adds an endpoint for container_id; returns its address (malloc'd) or NULL with *ret_r the error. */
static char *add_ep(struct db *db, const struct network_record *net, const char *container_id,
                    const char *want, int *ret_r)
{
	struct endpoint_record ep = {.container_id = (char *)container_id,
	                             .name = (char *)container_id,
	                             .ip = want ? strdup(want) : NULL};
	_cleanup_error_ struct vsl_error *err = NULL;
	int r = ipam_endpoint_add(db, net, &ep, &err);
	if (ret_r)
		*ret_r = r;
	free(ep.mac);
	if (r < 0) {
		assert_non_null(err);
		free(ep.ip);
		return NULL;
	}
	return ep.ip;
}

static void expect_ip(struct db *db, const struct network_record *net, const char *container_id,
                      const char *expected)
{
	int r = 0;
	_cleanup_free_ char *ip = add_ep(db, net, container_id, NULL, &r);
	assert_int_equal(r, 0);
	assert_string_equal(ip, expected);
}

static void test_network_records(void **state)
{
	struct fixture *f = *state;
	add_network(f->db, "abc1230000", "front", "10.1.0.0/24", "10.1.0.1");
	add_network(f->db, "abc4560000", "back", "10.2.0.0/24", "10.2.0.1");

	_cleanup_network_record_ struct network_record *n = get_network(f->db, "front");
	assert_string_equal(n->id, "abc1230000");
	assert_string_equal(n->subnet, "10.1.0.0/24");
	assert_string_equal(n->gateway, "10.1.0.1");
	assert_string_equal(n->labels, "{\"a\":\"b\"}");
	_cleanup_network_record_ struct network_record *by_id = get_network(f->db, "abc4560000");
	assert_string_equal(by_id->name, "back");
	_cleanup_network_record_ struct network_record *by_prefix = get_network(f->db, "abc4");
	assert_string_equal(by_prefix->name, "back");

	struct network_record *none = NULL;
	_cleanup_error_ struct vsl_error *e1 = NULL, *e2 = NULL, *e3 = NULL;
	assert_int_equal(ipam_network_get(f->db, "abc", &none, &e1), -EINVAL); /* two ids start so */
	assert_non_null(strstr(vsl_error_message(e1), "ambiguous"));
	assert_int_equal(ipam_network_get(f->db, "nope", &none, &e2), -ENOENT);
	assert_string_equal(vsl_error_message(e2), "network nope not found");
	assert_null(none);

	/* A name is taken once. */
	struct network_record dup = *n;
	dup.id = "fff";
	assert_int_equal(ipam_network_insert(f->db, &dup, &e3), -EEXIST);

	struct network_record **v = NULL;
	size_t count = 0;
	assert_int_equal(ipam_network_list(f->db, &v, &count, NULL), 0);
	assert_int_equal(count, 2);
	network_records_free(v, count);

	assert_int_equal(ipam_network_delete(f->db, "abc1230000", NULL), 0);
	assert_int_equal(ipam_network_list(f->db, &v, &count, NULL), 0);
	assert_int_equal(count, 1);
	assert_string_equal(v[0]->name, "back");
	network_records_free(v, count);
}

static void test_allocation_order_and_exhaustion(void **state)
{
	struct fixture *f = *state;
	/* A /29: .0 the network, .7 the broadcast, .1 the gateway: .2 to .6 are for containers. */
	add_network(f->db, "n29", "small", "10.3.0.0/29", "10.3.0.1");
	_cleanup_network_record_ struct network_record *net = get_network(f->db, "small");
	expect_ip(f->db, net, "c1", "10.3.0.2");
	expect_ip(f->db, net, "c2", "10.3.0.3");
	expect_ip(f->db, net, "c3", "10.3.0.4");
	expect_ip(f->db, net, "c4", "10.3.0.5");
	expect_ip(f->db, net, "c5", "10.3.0.6");
	int r = 0;
	_cleanup_error_ struct vsl_error *err = NULL;
	struct endpoint_record ep = {.container_id = "c6", .name = "c6"};
	assert_int_equal(ipam_endpoint_add(f->db, net, &ep, &err), -ENOSPC);
	assert_string_equal(vsl_error_message(err), "no available IPv4 addresses on network small");
	assert_null(add_ep(f->db, net, "c7", NULL, &r));
	assert_int_equal(r, -ENOSPC);

	/* Release one in the middle: it is the next one handed out. */
	assert_int_equal(ipam_endpoint_remove(f->db, "n29", "c3", NULL), 0);
	expect_ip(f->db, net, "c8", "10.3.0.4");
	assert_null(add_ep(f->db, net, "c9", NULL, &r));
	assert_int_equal(r, -ENOSPC);

	/* Every container holds exactly one, all different. */
	struct endpoint_record **v = NULL;
	size_t n = 0;
	assert_int_equal(ipam_endpoint_list(f->db, "n29", NULL, &v, &n, NULL), 0);
	assert_int_equal(n, 5);
	const char *seen[] = {"10.3.0.2", "10.3.0.3", "10.3.0.5", "10.3.0.6", "10.3.0.4"};
	for (size_t i = 0; i < n; i++)
		assert_string_equal(v[i]->ip, seen[i]);
	endpoint_records_free(v, n);
}

static void test_gateway_elsewhere_is_skipped(void **state)
{
	struct fixture *f = *state;
	/* The gateway in the middle of a /29 and a /30 with its gateway last. */
	add_network(f->db, "mid", "mid", "10.4.0.0/29", "10.4.0.3");
	_cleanup_network_record_ struct network_record *net = get_network(f->db, "mid");
	const char *want[] = {"10.4.0.1", "10.4.0.2", "10.4.0.4", "10.4.0.5", "10.4.0.6"};
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		char id[8];
		snprintf(id, sizeof(id), "m%zu", i);
		expect_ip(f->db, net, id, want[i]);
	}
	int r = 0;
	assert_null(add_ep(f->db, net, "m9", NULL, &r));
	assert_int_equal(r, -ENOSPC);

	add_network(f->db, "n30", "tiny", "10.5.0.0/30", "10.5.0.2");
	_cleanup_network_record_ struct network_record *tiny = get_network(f->db, "tiny");
	expect_ip(f->db, tiny, "t1", "10.5.0.1");
	assert_null(add_ep(f->db, tiny, "t2", NULL, &r));
	assert_int_equal(r, -ENOSPC);
}

static void test_requested_addresses(void **state)
{
	struct fixture *f = *state;
	add_network(f->db, "req", "req", "10.6.0.0/24", "10.6.0.1");
	_cleanup_network_record_ struct network_record *net = get_network(f->db, "req");
	int r = 0;
	_cleanup_free_ char *pinned = add_ep(f->db, net, "p1", "10.6.0.77", &r);
	assert_int_equal(r, 0);
	assert_string_equal(pinned, "10.6.0.77");

	/* Taken, the gateway, the network, the broadcast: in use. */
	const char *refused[] = {"10.6.0.77", "10.6.0.1", "10.6.0.0", "10.6.0.255"};
	for (size_t i = 0; i < ARRAY_SIZE(refused); i++) {
		assert_null(add_ep(f->db, net, "p2", refused[i], &r));
		assert_int_equal(r, -EADDRINUSE);
	}
	/* Outside the subnet, or not an address. */
	assert_null(add_ep(f->db, net, "p2", "10.7.0.5", &r));
	assert_int_equal(r, -EINVAL);
	assert_null(add_ep(f->db, net, "p2", "10.6.0.300", &r));
	assert_int_equal(r, -EINVAL);

	/* Chosen addresses step over the pinned one. */
	for (int i = 2; i < 77; i++) {
		char id[8];
		snprintf(id, sizeof(id), "a%d", i);
		_cleanup_free_ char *ip = add_ep(f->db, net, id, NULL, &r);
		assert_non_null(ip);
	}
	expect_ip(f->db, net, "next", "10.6.0.78");

	/* One endpoint per container and network. */
	assert_null(add_ep(f->db, net, "p1", NULL, &r));
	assert_int_equal(r, -EEXIST);
}

static void test_endpoint_fields_and_mac(void **state)
{
	struct fixture *f = *state;
	add_network(f->db, "e1", "one", "10.8.0.0/24", "10.8.0.1");
	add_network(f->db, "e2", "two", "10.9.0.0/24", "10.9.0.1");
	_cleanup_network_record_ struct network_record *one = get_network(f->db, "one");
	_cleanup_network_record_ struct network_record *two = get_network(f->db, "two");
	char *aliases[] = {"db", "primary", NULL};
	struct endpoint_record ep = {.container_id = "ctr", .name = "web", .aliases = aliases};
	assert_int_equal(ipam_endpoint_add(f->db, one, &ep, NULL), 0);
	assert_string_equal(ep.ip, "10.8.0.2");
	/* Docker's MAC: 02:42 and the address. */
	assert_string_equal(ep.mac, "02:42:0a:08:00:02");
	free(ep.ip);
	free(ep.mac);
	struct endpoint_record ep2 = {
	    .container_id = "ctr", .name = "web", .mac = strdup("02:aa:bb:cc:dd:ee")};
	assert_int_equal(ipam_endpoint_add(f->db, two, &ep2, NULL), 0);
	assert_string_equal(ep2.mac, "02:aa:bb:cc:dd:ee");
	free(ep2.ip);
	free(ep2.mac);

	assert_int_equal(ipam_endpoint_set_active(f->db, "e1", "ctr", "vslveth", true, NULL), 0);
	struct endpoint_record **v = NULL;
	size_t n = 0;
	assert_int_equal(ipam_endpoint_list(f->db, NULL, "ctr", &v, &n, NULL), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0]->network_id, "e1");
	assert_string_equal(v[0]->name, "web");
	assert_string_equal(v[0]->veth, "vslveth");
	assert_true(v[0]->active);
	assert_string_equal(v[0]->aliases[0], "db");
	assert_string_equal(v[0]->aliases[1], "primary");
	assert_null(v[0]->aliases[2]);
	assert_string_equal(v[1]->network_id, "e2");
	assert_false(v[1]->active);
	assert_null(v[1]->aliases[0]);
	endpoint_records_free(v, n);

	/* The same address may live on two networks. */
	struct endpoint_record other = {.container_id = "ctr2", .name = "x"};
	assert_int_equal(ipam_endpoint_add(f->db, two, &other, NULL), 0);
	assert_string_equal(other.ip, "10.9.0.3");
	free(other.ip);
	free(other.mac);
}

static void test_subnet_in_use_by_networks(void **state)
{
	struct fixture *f = *state;
	/* 198.18.0.0/15 is for benchmarks (RFC 2544): no host routes it. */
	add_network(f->db, "bench", "bench", "198.18.0.0/24", "198.18.0.1");
	struct ipam_subnet inside = S("198.18.0.128/25"), beside = S("198.18.1.0/24");
	_cleanup_free_ char *user = NULL;
	assert_int_equal(ipam_subnet_in_use(f->db, &inside, NULL, &user, NULL), 1);
	assert_string_equal(user, "network bench");
	assert_int_equal(ipam_subnet_in_use(f->db, &inside, "bench", NULL, NULL), 0);
	assert_int_equal(ipam_subnet_in_use(f->db, &beside, NULL, NULL, NULL), 0);

	/* A pool skips what networks hold. */
	struct ipam_pool pool = {.base = S("198.18.0.0/22"), .size = 24};
	struct ipam_subnet got;
	char buf[32];
	assert_int_equal(ipam_pick_subnet(f->db, &pool, 1, &got, NULL), 0);
	ipam_format(&got, buf, sizeof(buf));
	assert_string_equal(buf, "198.18.1.0/24");
	add_network(f->db, "b1", "b1", "198.18.1.0/24", "198.18.1.1");
	add_network(f->db, "b2", "b2", "198.18.2.0/23", "198.18.2.1");
	_cleanup_error_ struct vsl_error *err = NULL;
	assert_int_equal(ipam_pick_subnet(f->db, &pool, 1, &got, &err), -ENOSPC);
	/* The next pool then. */
	struct ipam_pool pools[] = {pool, {.base = S("198.19.0.0/16"), .size = 26}};
	assert_int_equal(ipam_pick_subnet(f->db, pools, 2, &got, NULL), 0);
	ipam_format(&got, buf, sizeof(buf));
	assert_string_equal(buf, "198.19.0.0/26");
}

static void test_ports(void **state)
{
	struct fixture *f = *state;
	struct port_record p = {.container_id = "c1",
	                        .network_id = "n",
	                        .proto = "tcp",
	                        .host_ip = "127.0.0.1",
	                        .host_port = 8080,
	                        .container_port = 80};
	assert_int_equal(ipam_port_add(f->db, &p, NULL), 0);

	/* The same port on the same address, or on every address: taken. */
	_cleanup_error_ struct vsl_error *e1 = NULL, *e2 = NULL;
	struct port_record q = p;
	q.container_id = "c2";
	assert_int_equal(ipam_port_add(f->db, &q, &e1), -EADDRINUSE);
	assert_non_null(strstr(vsl_error_message(e1), "port is already allocated"));
	q.host_ip = "0.0.0.0";
	assert_int_equal(ipam_port_add(f->db, &q, &e2), -EADDRINUSE);
	/* Another address, another protocol, another port: free. */
	q.host_ip = "127.0.0.2";
	assert_int_equal(ipam_port_add(f->db, &q, NULL), 0);
	q.host_ip = "127.0.0.1";
	q.proto = "udp";
	assert_int_equal(ipam_port_add(f->db, &q, NULL), 0);
	q.proto = "tcp";
	q.host_port = 8081;
	q.container_port = 81;
	assert_int_equal(ipam_port_add(f->db, &q, NULL), 0);

	_cleanup_free_ char *holder = NULL;
	assert_int_equal(ipam_port_taken(f->db, "tcp", "0.0.0.0", 8080, &holder, NULL), 1);
	assert_string_equal(holder, "c1");
	assert_int_equal(ipam_port_taken(f->db, "tcp", "127.0.0.1", 9090, NULL, NULL), 0);

	struct port_record *v = NULL;
	size_t n = 0;
	assert_int_equal(ipam_port_list(f->db, "c2", &v, &n, NULL), 0);
	assert_int_equal(n, 3);
	assert_int_equal(v[0].container_port, 80);
	assert_string_equal(v[0].proto, "tcp");
	assert_string_equal(v[0].host_ip, "127.0.0.2");
	assert_string_equal(v[1].proto, "udp");
	assert_int_equal(v[2].host_port, 8081);
	port_records_free(v, n);

	/* The container's ports go with it, and its host ports are free again. */
	assert_int_equal(ipam_port_remove_container(f->db, "c1", NULL), 0);
	assert_int_equal(ipam_port_taken(f->db, "tcp", "127.0.0.1", 8080, NULL, NULL), 0);
	assert_int_equal(ipam_port_list(f->db, NULL, &v, &n, NULL), 0);
	assert_int_equal(n, 3);
	port_records_free(v, n);
}

static void test_records_survive_reopen(void **state)
{
	struct fixture *f = *state;
	add_network(f->db, "keep", "keep", "10.10.0.0/24", "10.10.0.1");
	_cleanup_network_record_ struct network_record *net = get_network(f->db, "keep");
	expect_ip(f->db, net, "c", "10.10.0.2");
	db_close(f->db);
	char path[128];
	snprintf(path, sizeof(path), "%s/vessel.db", f->root);
	f->db = NULL;
	assert_int_equal(db_open(path, &f->db, NULL), 0);
	assert_int_equal(ipam_init(f->db, NULL), 0); /* a second init is a no-op */
	expect_ip(f->db, net, "d", "10.10.0.3");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_and_format),
	    cmocka_unit_test(test_contains_and_overlaps),
	    cmocka_unit_test_setup_teardown(test_network_records, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_allocation_order_and_exhaustion, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_gateway_elsewhere_is_skipped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_requested_addresses, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_endpoint_fields_and_mac, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_subnet_in_use_by_networks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ports, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_records_survive_reopen, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
