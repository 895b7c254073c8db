"""Networks, continued: UDP between containers by name and published UDP
ports, fifty containers on one network, IPv6 networks, host port ranges,
Docker's predefined host and none networks, the default route moving
to the remaining network on disconnect, and the network of another
container.

busybox has no UDP server or client applet that can carry a message
(`nc` is TCP only here), so the UDP tests use a tiny static program
compiled from the C below and bind-mounted into the containers. As in
test_300, all traffic stays between the test's own containers, the bridge
addresses the test made and 127.0.0.1."""

import ipaddress
import json
import random
import socket
import subprocess
import threading
import time
import urllib.request

import pytest

from busybox_image import IMAGE, busybox_archive  # noqa: F401
from test_300_network import (free_subnets, ip_of, links, network, note_bridges, our_links,  # noqa: F401
                              our_veths, retry, run_d, v)

UDP_TOOL = r"""
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>

/* udp serve PORT: answers every datagram with "echo:" and its bytes.
 * udp ask HOST PORT MSG: sends MSG, prints the answer (3 tries). */
int main(int argc, char **argv)
{
    char buf[2048];
    if (argc == 3 && strcmp(argv[1], "serve") == 0) {
        int fd = socket(AF_INET6, SOCK_DGRAM, 0);
        int off = 0;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
        struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(atoi(argv[2]))};
        if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) { perror("bind"); return 1; }
        for (;;) {
            struct sockaddr_storage from;
            socklen_t len = sizeof(from);
            ssize_t n = recvfrom(fd, buf + 5, sizeof(buf) - 5, 0, (struct sockaddr *)&from, &len);
            if (n < 0) continue;
            memcpy(buf, "echo:", 5);
            sendto(fd, buf, n + 5, 0, (struct sockaddr *)&from, len);
        }
    }
    if (argc == 5 && strcmp(argv[1], "ask") == 0) {
        struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *ai;
        int r = getaddrinfo(argv[2], argv[3], &hints, &ai);
        if (r) { fprintf(stderr, "%s: %s\n", argv[2], gai_strerror(r)); return 2; }
        int fd = socket(ai->ai_family, SOCK_DGRAM, 0);
        struct timeval tv = {.tv_sec = 1};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        for (int i = 0; i < 3; i++) {
            sendto(fd, argv[4], strlen(argv[4]), 0, ai->ai_addr, ai->ai_addrlen);
            ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
            if (n >= 0) { buf[n] = 0; printf("%s\n", buf); return 0; }
        }
        fprintf(stderr, "no answer\n");
        return 1;
    }
    return 64;
}
"""


@pytest.fixture(scope="session")
def udp_tool(tmp_path_factory):
    d = tmp_path_factory.mktemp("udp")
    (d / "udp.c").write_text(UDP_TOOL)
    subprocess.run(["cc", "-static", "-O2", "-w", "-o", str(d / "udp"), str(d / "udp.c")], check=True,
                   capture_output=True)
    return str(d / "udp")


def tool(path):
    return ["-v", "%s:/udp:ro" % path]


def test_udp_between_containers_by_name_and_alias(v, udp_tool):
    network(v, "unet")
    run_d(v, "dns", "--network", "unet", "--network-alias", "resolver", *tool(udp_tool),
          cmd=["/udp", "serve", "5300"])
    for target in ("dns", "resolver"):
        r = retry(lambda: v("run", "--rm", "--network", "unet", *tool(udp_tool), IMAGE,
                            "/udp", "ask", target, "5300", "hello-" + target))
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == "echo:hello-" + target


def test_udp_to_the_host_on_the_bridge_address(v, udp_tool):
    subnet = network(v, "hnet")
    gateway = str(next(subnet.hosts()))
    run_d(v, "anchor", "--network", "hnet")  # the bridge (and its address) are made on first use
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((gateway, 0))
    s.settimeout(10)
    port = s.getsockname()[1]
    got = []

    def answer():
        try:
            data, peer = s.recvfrom(100)
            got.append((data, peer))
            s.sendto(b"host-says:" + data, peer)
        except OSError:
            pass
    t = threading.Thread(target=answer)
    t.start()
    try:
        r = v("run", "--rm", "--network", "hnet", "--add-host", "hostgw:%s" % gateway, *tool(udp_tool), IMAGE,
              "/udp", "ask", "hostgw", str(port), "ping")
    finally:
        t.join()
        s.close()
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "host-says:ping"
    assert got[0][0] == b"ping" and ipaddress.ip_address(got[0][1][0]) in subnet


def test_published_udp_port(v, udp_tool):
    port = random.randint(20000, 40000)
    run_d(v, "udpd", "-p", "%d:53/udp" % port, *tool(udp_tool), cmd=["/udp", "serve", "53"])
    assert v.ok("port", "udpd").stdout.strip() == "53/udp -> 0.0.0.0:%d" % port
    assert v.ok("port", "udpd", "53/udp").stdout.strip() == "0.0.0.0:%d" % port
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1)
    try:
        deadline = time.monotonic() + 10
        while True:
            s.sendto(b"query", ("127.0.0.1", port))
            try:
                data = s.recv(100)
                break
            except socket.timeout:
                assert time.monotonic() < deadline, "no answer on 127.0.0.1:%d/udp" % port
    finally:
        s.close()
    assert data == b"echo:query"


def test_fifty_containers_on_one_network(v):
    subnet = network(v, "crowd")
    names = ["c%02d" % i for i in range(50)]
    errors = []
    lock = threading.Lock()

    def start(batch):
        for name in batch:
            r = v("run", "-d", "--name", name, "--network", "crowd", IMAGE, "sleep", "1000")
            with lock:
                if r.returncode != 0:
                    errors.append(r.stderr)
                else:
                    v.cids.append(r.stdout.strip())

    threads = [threading.Thread(target=start, args=(names[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    info = json.loads(v.ok("network", "inspect", "crowd").stdout)[0]
    ips = {c["Name"]: c["IPv4Address"].split("/")[0] for c in info["Containers"].values()}
    assert sorted(ips) == names
    assert len(set(ips.values())) == 50
    assert all(ipaddress.ip_address(ip) in subnet and ip != str(next(subnet.hosts())) for ip in ips.values())
    # Every name resolves in every container's /etc/hosts: check one end and one middle.
    for who in ("c00", "c27"):
        hosts = v.ok("exec", who, "cat", "/etc/hosts").stdout
        for name in names:
            if name != who:
                assert "%s\t%s " % (ips[name], name) in hosts, (who, name)
    # And they answer by name.
    script = "for n in %s; do ping -c 1 -W 2 $n >/dev/null || echo unreachable $n; done" % " ".join(names[1:])
    out = v.ok("exec", "c00", "sh", "-c", script).stdout
    assert out == ""
    v.ok("rm", "-f", *names)
    info = json.loads(v.ok("network", "inspect", "crowd").stdout)[0]
    assert info["Containers"] == {}
    assert our_veths(v) == []
    bridge = info["Options"]["com.docker.network.bridge.name"]
    assert our_links(v) == [bridge]  # it stays until the network goes
    v.ok("network", "rm", "crowd")
    assert our_links(v) == []


def host_v6_networks():
    out = subprocess.run(["ip", "-o", "-6", "route", "show", "table", "all"], capture_output=True, text=True,
                         check=True).stdout
    nets = []
    for line in out.splitlines():
        word = line.split()[0]
        if word in ("local", "multicast", "anycast", "unreachable", "broadcast"):
            word = line.split()[1]
        try:
            nets.append(ipaddress.ip_network(word, strict=False))
        except ValueError:
            pass
    return [n for n in nets if n.prefixlen > 0]


def free_ula():
    used = host_v6_networks()
    while True:
        net = ipaddress.ip_network("fd%02x:%04x:%04x:%04x::/64" % (
            random.randint(0, 255), random.randint(0, 0xffff), random.randint(0, 0xffff), random.randint(0, 0xffff)))
        if not any(net.overlaps(u) for u in used):
            return net


def test_ipv6_network(v):
    ula = free_ula()
    v4, = free_subnets(1)
    v.ok("network", "create", "--ipv6", "--subnet", str(v4), "--subnet", str(ula), "six")
    note_bridges(v)
    info = json.loads(v.ok("network", "inspect", "six").stdout)[0]
    assert info["EnableIPv6"] is True
    gw6 = str(ula[1])
    assert info["IPAM"]["Config"] == [{"Subnet": str(v4), "Gateway": str(next(v4.hosts()))},
                                      {"Subnet": str(ula), "Gateway": gw6}]
    run_d(v, "v6a", "--network", "six")
    run_d(v, "v6b", "--network", "six", "--network-alias", "bee")
    out = v.ok("exec", "v6a", "ip", "-o", "-6", "addr", "show", "eth0", "scope", "global").stdout
    a6 = ipaddress.ip_interface(out.split()[3])
    assert a6.network == ula and str(a6.ip) != gw6
    assert "default via %s dev eth0" % gw6 in v.ok("exec", "v6a", "ip", "-6", "route").stdout
    info = json.loads(v.ok("network", "inspect", "six").stdout)[0]
    b6 = [c["IPv6Address"] for c in info["Containers"].values() if c["Name"] == "v6b"][0].split("/")[0]
    assert ipaddress.ip_address(b6) in ula and ipaddress.ip_address(b6) != a6.ip
    # Container to container, by address and by name; the host's bridge address to a container.
    v.ok("exec", "v6a", "ping", "-6", "-c", "1", "-W", "2", b6)
    assert "%s\tv6b bee" % b6 in v.ok("exec", "v6a", "cat", "/etc/hosts").stdout
    v.ok("exec", "v6a", "ping6", "-c", "1", "-W", "2", "bee")
    subprocess.run(["busybox", "ping", "-6", "-c", "1", "-W", "2", str(a6.ip)], check=True, capture_output=True)
    rules = subprocess.run(["nft", "list", "table", "ip6", "vessel"], capture_output=True, text=True).stdout
    assert "ip6 saddr %s" % ula in rules and "masquerade" in rules
    # A second network on the same IPv6 subnet is refused; --ipv6 without a subnet too.
    r = v("network", "create", "--ipv6", "--subnet", str(ula), "clash")
    assert r.returncode != 0 and "overlaps" in r.stderr
    r = v("network", "create", "--ipv6", "nosub")
    assert r.returncode != 0 and "IPv6 subnet" in r.stderr
    v.ok("rm", "-f", "v6a", "v6b")
    v.ok("network", "rm", "six")
    rules = subprocess.run(["nft", "list", "table", "ip6", "vessel"], capture_output=True, text=True).stdout
    assert str(ula) not in rules


def fetch(port, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return urllib.request.urlopen("http://127.0.0.1:%d/index.html" % port, timeout=3).read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_host_port_ranges(v):
    port = random.randint(20000, 40000)
    serve = "mkdir /a /b && echo from-80 > /a/index.html && echo from-81 > /b/index.html && " \
            "httpd -p 80 -h /a && httpd -f -p 81 -h /b"
    run_d(v, "pair", "-p", "127.0.0.1:%d-%d:80-81" % (port, port + 1), cmd=["sh", "-c", serve])
    assert v.ok("port", "pair").stdout.splitlines() == [
        "80/tcp -> 127.0.0.1:%d" % port, "81/tcp -> 127.0.0.1:%d" % (port + 1)]
    assert fetch(port) == b"from-80\n"
    assert fetch(port + 1) == b"from-81\n"
    # One container port, a host range whose first port is taken: the next one.
    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    held.listen(1)
    first = held.getsockname()[1]
    try:
        run_d(v, "ranged", "-p", "127.0.0.1:%d-%d:80" % (first, first + 5),
              cmd=["sh", "-c", "mkdir /w && echo ranged > /w/index.html && httpd -f -p 80 -h /w"])
        line = v.ok("port", "ranged").stdout.strip()
        got = int(line.rsplit(":", 1)[1])
        assert line.startswith("80/tcp -> 127.0.0.1:") and first < got <= first + 5
        assert fetch(got) == b"ranged\n"
    finally:
        held.close()


def test_predefined_host_and_none_networks(v):
    rows = v.ok("network", "ls").stdout.splitlines()
    assert rows[0].split() == ["NETWORK", "ID", "NAME", "DRIVER", "SCOPE"]
    table = {line.split()[1]: line.split()[2] for line in rows[1:]}
    assert table == {"bridge": "bridge", "host": "host", "none": "null"}
    info = json.loads(v.ok("network", "inspect", "host", "none").stdout)
    assert [(n["Name"], n["Driver"], n["IPAM"]["Config"]) for n in info] == [("host", "host", []),
                                                                           ("none", "null", [])]
    run_d(v, "lonely")
    r = v("network", "connect", "host", "lonely")
    assert r.returncode != 0 and "host network" in r.stderr
    # --network none still means no interface but lo.
    out = v.ok("run", "--rm", "--network", "none", IMAGE, "ip", "-o", "link").stdout
    assert [line.split(":")[1].strip() for line in out.splitlines()] == ["lo"]


def test_default_route_moves_to_the_remaining_network(v):
    first = network(v, "first")
    second = network(v, "second")
    run_d(v, "nomad", "--network", "first")
    v.ok("network", "connect", "second", "nomad")
    note_bridges(v)
    gw1, gw2 = str(next(first.hosts())), str(next(second.hosts()))
    routes = v.ok("exec", "nomad", "ip", "route").stdout
    assert "default via %s dev eth0" % gw1 in routes
    v.ok("network", "disconnect", "first", "nomad")
    routes = v.ok("exec", "nomad", "ip", "route").stdout
    assert "default via %s dev eth1" % gw2 in routes, routes
    assert gw1 not in routes


def test_network_of_another_container(v):
    host = run_d(v, "host1")
    addr = ip_of(v, "host1")
    run_d(v, "guest", "--network", "container:host1")
    # One network stack: the guest sees the host container's address and reaches
    # a server the host container runs on its loopback.
    assert ip_of(v, "guest") == addr
    v.ok("exec", "-d", "host1", "sh", "-c", "echo from-host1 | busybox nc -l -p 7070 127.0.0.1")
    r = retry(lambda: v("exec", "guest", "sh", "-c", "busybox nc 127.0.0.1 7070 </dev/null"))
    assert r.returncode == 0 and r.stdout == "from-host1\n", r
    assert v.fails("run", "--rm", "--network", "container:nosuch", IMAGE, "true").stderr
    # When the first one stops, its address goes back to IPAM and its veth, which
    # lives on in the guest's namespace, loses its way to the bridge at once.
    v.ok("stop", "-t", "0", "host1")
    veth = [n for n in links() if n.startswith("vsl" + host[:6])]
    assert veth, "the veth lives as long as the guest holds the namespace"
    state = subprocess.run(["ip", "-o", "link", "show", veth[0]], capture_output=True, text=True).stdout
    assert "state DOWN" in state, state
    assert v("exec", "guest", "ping", "-c", "1", "-W", "1", str(next(v.bip_net.hosts()))).returncode != 0
    # The guest goes, and with it the namespace and the veth.
    v.ok("rm", "-f", "guest", "host1")
    assert our_veths(v) == []
