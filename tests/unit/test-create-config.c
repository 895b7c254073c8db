/* The Docker ContainerCreate body: exact values from a full and a minimal
 * body, errors that name the field, the written-back body, Docker's
 * validation messages and the mount specs Binds/Mounts/Tmpfs turn into. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine/create-config.h"
#include "util/cleanup.h"
#include "util/error.h"

/* JSON written with ' for " keeps the bodies below readable. */
static char *q(const char *s)
{
	char *t = strdup(s);
	assert_non_null(t);
	for (char *c = t; *c; c++)
		if (*c == '\'')
			*c = '"';
	return t;
}

static struct container_create *parse_ok(const char *body)
{
	_cleanup_free_ char *j = q(body);
	_cleanup_error_ struct vsl_error *err = NULL;
	struct container_create *c = NULL;
	int r = container_create_parse(j, strlen(j), &c, &err);
	if (r < 0)
		fail_msg("parse failed: %s", err->msg);
	return c;
}

static void parse_fails(const char *body, const char *want)
{
	_cleanup_free_ char *j = q(body);
	_cleanup_error_ struct vsl_error *err = NULL;
	struct container_create *c = NULL;
	assert_true(container_create_parse(j, strlen(j), &c, &err) < 0);
	assert_null(c);
	assert_non_null(err);
	assert_string_equal(err->msg, want);
}

static void assert_strv(char **got, const char *const *want)
{
	size_t i = 0;
	assert_non_null(got);
	for (; want[i]; i++) {
		assert_non_null(got[i]);
		assert_string_equal(got[i], want[i]);
	}
	assert_null(got[i]);
}
#define STRV(...) ((const char *const[]){__VA_ARGS__, NULL})

static const char full_body[] =
    "{'Hostname': 'web', 'Domainname': 'example.org', 'User': 'app:staff',"
    " 'AttachStdin': true, 'AttachStdout': true, 'AttachStderr': false,"
    " 'ExposedPorts': {'80/tcp': {}, '53/udp': {}},"
    " 'Tty': true, 'OpenStdin': true, 'StdinOnce': true,"
    " 'Env': ['A=1', 'B'], 'Cmd': ['nginx', '-g', 'daemon off;'],"
    " 'Healthcheck': {'Test': ['CMD-SHELL', 'curl -f localhost'], 'Interval': 30000000000,"
    "                 'Timeout': 5000000000, 'StartPeriod': 1000000000, 'Retries': 3},"
    " 'Image': 'nginx:1.25', 'Volumes': {'/data': {}}, 'WorkingDir': '/srv',"
    " 'Entrypoint': '/docker-entrypoint.sh', 'NetworkDisabled': false, 'MacAddress': '02:42:ac:11:00:02',"
    " 'Labels': {'com.example.tier': 'front'}, 'StopSignal': 'SIGQUIT', 'StopTimeout': 20,"
    " 'Shell': ['/bin/sh', '-c'], 'UnknownField': {'ignored': true},"
    " 'HostConfig': {"
    "   'Binds': ['/srv/data:/data:ro'], 'NetworkMode': 'bridge',"
    "   'LogConfig': {'Type': 'json-file', 'Config': {'max-size': '10m'}},"
    "   'PortBindings': {'80/tcp': [{'HostIp': '127.0.0.1', 'HostPort': '8080'}, {'HostPort': '8081'}],"
    "                    '53/udp': null},"
    "   'RestartPolicy': {'Name': 'on-failure', 'MaximumRetryCount': 5}, 'AutoRemove': false,"
    "   'VolumesFrom': ['other:ro'],"
    "   'Mounts': [{'Type': 'tmpfs', 'Target': '/cache', 'ReadOnly': true,"
    "               'TmpfsOptions': {'SizeBytes': 1048576, 'Mode': 448, 'Options': [['noexec'], ['uid', "
    "'1000']]}},"
    "              {'Type': 'bind', 'Source': '/srv/conf', 'Target': '/etc/nginx',"
    "               'BindOptions': {'Propagation': 'rslave', 'NonRecursive': true}}],"
    "   'ConsoleSize': [24, 80], 'Annotations': {'a.b': 'c'},"
    "   'CapAdd': ['NET_ADMIN'], 'CapDrop': ['MKNOD'], 'CgroupnsMode': 'private',"
    "   'Dns': ['1.1.1.1'], 'DnsOptions': ['ndots:2'], 'DnsSearch': ['example.org'],"
    "   'ExtraHosts': ['db:10.0.0.2'], 'GroupAdd': ['video'], 'IpcMode': 'shareable',"
    "   'OomScoreAdj': -500, 'PidMode': '', 'Privileged': false, 'PublishAllPorts': true,"
    "   'ReadonlyRootfs': true, 'SecurityOpt': ['no-new-privileges'],"
    "   'Tmpfs': {'/run': 'rw,noexec,size=65536k'}, 'UTSMode': '', 'UsernsMode': '',"
    "   'ShmSize': 134217728, 'Sysctls': {'net.ipv4.ip_forward': '1'}, 'Runtime': 'runc',"
    "   'MaskedPaths': [], 'ReadonlyPaths': ['/proc/sys'],"
    "   'CpuShares': 512, 'Memory': 536870912, 'NanoCpus': 1500000000, 'CgroupParent': 'web.slice',"
    "   'BlkioWeight': 300, 'BlkioWeightDevice': [{'Path': '/dev/sda', 'Weight': 200}],"
    "   'BlkioDeviceReadBps': [{'Path': '/dev/sda', 'Rate': 1048576}],"
    "   'CpuPeriod': 0, 'CpuQuota': 0, 'CpusetCpus': '0-1', 'CpusetMems': '0',"
    "   'Devices': [{'PathOnHost': '/dev/fuse', 'PathInContainer': '/dev/fuse', 'CgroupPermissions': 'rwm'}],"
    "   'DeviceCgroupRules': ['c 10:229 rwm'],"
    "   'MemoryReservation': 268435456, 'MemorySwap': 1073741824, 'MemorySwappiness': 10,"
    "   'OomKillDisable': true, 'PidsLimit': 100,"
    "   'Ulimits': [{'Name': 'nofile', 'Soft': 1024, 'Hard': 4096}], 'Init': true},"
    " 'NetworkingConfig': {'EndpointsConfig': {'front': {'Aliases': ['web'],"
    "     'IPAMConfig': {'IPv4Address': '172.20.0.5'}, 'MacAddress': '02:42:ac:14:00:05'}}}}";

static void check_full(const struct container_create *c)
{
	assert_string_equal(c->hostname, "web");
	assert_string_equal(c->domainname, "example.org");
	assert_string_equal(c->user, "app:staff");
	assert_true(c->attach_stdin && c->attach_stdout && !c->attach_stderr);
	assert_true(c->tty && c->open_stdin && c->stdin_once);
	assert_strv(c->env, STRV("A=1", "B"));
	assert_strv(c->cmd, STRV("nginx", "-g", "daemon off;"));
	/* A string Entrypoint is a list of one, as Docker's strslice. */
	assert_strv(c->entrypoint, STRV("/docker-entrypoint.sh"));
	assert_non_null(c->healthcheck);
	assert_strv(c->healthcheck->test, STRV("CMD-SHELL", "curl -f localhost"));
	assert_int_equal(c->healthcheck->interval, 30000000000LL);
	assert_int_equal(c->healthcheck->retries, 3);
	assert_string_equal(c->image, "nginx:1.25");
	assert_strv(c->volumes, STRV("/data"));
	assert_string_equal(c->working_dir, "/srv");
	assert_int_equal(c->n_labels, 1);
	assert_string_equal(c->labels[0].key, "com.example.tier");
	assert_string_equal(c->labels[0].value, "front");
	assert_string_equal(c->stop_signal, "SIGQUIT");
	assert_true(c->has_stop_timeout);
	assert_int_equal(c->stop_timeout, 20);
	assert_strv(c->shell, STRV("/bin/sh", "-c"));

	const struct create_host_config *h = &c->host;
	assert_true(c->has_host_config);
	assert_strv(h->binds, STRV("/srv/data:/data:ro"));
	assert_string_equal(h->network_mode, "bridge");
	assert_string_equal(h->log_config.type, "json-file");
	assert_int_equal(h->log_config.n_config, 1);
	assert_string_equal(h->log_config.config[0].value, "10m");
	assert_int_equal(h->n_port_bindings, 2);
	const struct create_port_map *pm =
	    strcmp(h->port_bindings[0].port, "80/tcp") == 0 ? &h->port_bindings[0] : &h->port_bindings[1];
	assert_string_equal(pm->port, "80/tcp");
	assert_int_equal(pm->n_bindings, 2);
	assert_string_equal(pm->bindings[0].host_ip, "127.0.0.1");
	assert_string_equal(pm->bindings[0].host_port, "8080");
	assert_null(pm->bindings[1].host_ip);
	assert_string_equal(pm->bindings[1].host_port, "8081");
	assert_string_equal(h->restart_policy.name, "on-failure");
	assert_int_equal(h->restart_policy.maximum_retry_count, 5);
	assert_int_equal(h->n_mounts, 2);
	assert_string_equal(h->mounts[0].type, "tmpfs");
	assert_true(h->mounts[0].read_only);
	assert_int_equal(h->mounts[0].tmpfs_size_bytes, 1048576);
	assert_true(h->mounts[0].has_tmpfs_mode);
	assert_int_equal(h->mounts[0].tmpfs_mode, 0700);
	assert_strv(h->mounts[0].tmpfs_options, STRV("noexec", "uid=1000"));
	assert_string_equal(h->mounts[1].bind_propagation, "rslave");
	assert_true(h->mounts[1].bind_non_recursive);
	assert_true(h->has_console_size);
	assert_int_equal(h->console_size[0], 24);
	assert_int_equal(h->console_size[1], 80);
	assert_strv(h->cap_add, STRV("NET_ADMIN"));
	assert_strv(h->cap_drop, STRV("MKNOD"));
	assert_strv(h->group_add, STRV("video"));
	assert_int_equal(h->oom_score_adj, -500);
	assert_true(h->publish_all_ports && h->readonly_rootfs && !h->privileged);
	assert_int_equal(h->n_tmpfs, 1);
	assert_string_equal(h->tmpfs[0].key, "/run");
	assert_int_equal(h->shm_size, 134217728);
	assert_non_null(h->masked_paths);
	assert_null(h->masked_paths[0]); /* given empty: none, unlike absent */
	assert_strv(h->readonly_paths, STRV("/proc/sys"));
	assert_int_equal(h->cpu_shares, 512);
	assert_int_equal(h->memory, 536870912);
	assert_int_equal(h->nano_cpus, 1500000000);
	assert_string_equal(h->cgroup_parent, "web.slice");
	assert_int_equal(h->blkio_weight, 300);
	assert_int_equal(h->n_blkio_weight_device, 1);
	assert_int_equal(h->blkio_weight_device[0].weight, 200);
	assert_int_equal(h->n_blkio_read_bps, 1);
	assert_int_equal(h->blkio_read_bps[0].rate, 1048576);
	assert_string_equal(h->cpuset_cpus, "0-1");
	assert_int_equal(h->n_devices, 1);
	assert_string_equal(h->devices[0].path_on_host, "/dev/fuse");
	assert_strv(h->device_cgroup_rules, STRV("c 10:229 rwm"));
	assert_int_equal(h->memory_reservation, 268435456);
	assert_int_equal(h->memory_swap, 1073741824);
	assert_true(h->has_memory_swappiness);
	assert_int_equal(h->memory_swappiness, 10);
	assert_true(h->has_oom_kill_disable && h->oom_kill_disable);
	assert_true(h->has_pids_limit);
	assert_int_equal(h->pids_limit, 100);
	assert_int_equal(h->n_ulimits, 1);
	assert_string_equal(h->ulimits[0].name, "nofile");
	assert_int_equal(h->ulimits[0].soft, 1024);
	assert_int_equal(h->ulimits[0].hard, 4096);
	assert_true(h->has_init && h->init);

	assert_int_equal(c->n_endpoints, 1);
	assert_string_equal(c->endpoints[0].network, "front");
	assert_strv(c->endpoints[0].aliases, STRV("web"));
	assert_string_equal(c->endpoints[0].ipv4_address, "172.20.0.5");
	assert_string_equal(c->endpoints[0].mac_address, "02:42:ac:14:00:05");
}

static void test_full(void **state)
{
	(void)state;
	_cleanup_container_create_ struct container_create *c = parse_ok(full_body);
	check_full(c);
	_cleanup_error_ struct vsl_error *err = NULL;
	if (container_create_validate(c, &err) < 0)
		fail_msg("validate: %s", err->msg);
}

static void test_round_trip(void **state)
{
	(void)state;
	_cleanup_container_create_ struct container_create *c = parse_ok(full_body);
	_cleanup_free_ char *again = container_create_to_json(c);
	assert_non_null(again);
	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_container_create_ struct container_create *c2 = NULL;
	if (container_create_parse(again, strlen(again), &c2, &err) < 0)
		fail_msg("reparse: %s", err->msg);
	check_full(c2);
}

static void test_minimal(void **state)
{
	(void)state;
	_cleanup_container_create_ struct container_create *c =
	    parse_ok("{'Image': 'busybox', 'HostConfig': null}");
	assert_string_equal(c->image, "busybox");
	assert_null(c->cmd);
	assert_null(c->entrypoint);
	assert_null(c->env);
	assert_false(c->tty);
	assert_false(c->has_host_config);
	assert_null(c->host.masked_paths);
	assert_false(c->host.has_pids_limit);
	assert_false(c->host.has_init);
	assert_int_equal(c->host.memory, 0);
	_cleanup_error_ struct vsl_error *err = NULL;
	assert_int_equal(container_create_validate(c, &err), 0);

	/* [] is "none", unlike absent; "" is Docker's [""]. */
	_cleanup_container_create_ struct container_create *e = parse_ok("{'Entrypoint': [], 'Cmd': ''}");
	assert_non_null(e->entrypoint);
	assert_null(e->entrypoint[0]);
	assert_strv(e->cmd, STRV(""));
}

static void test_wrong_types(void **state)
{
	(void)state;
	parse_fails("{'HostConfig': {'Memory': '1g'}}",
	            "container config: HostConfig.Memory: expected a 64-bit integer");
	parse_fails("{'Cmd': 5}", "container config: Cmd: expected a string or an array of strings");
	parse_fails("{'Cmd': ['a', 1]}", "container config: Cmd: expected a string or an array of strings");
	parse_fails("{'Env': 'A=1'}", "container config: Env: expected an array of strings");
	parse_fails("{'Tty': 'yes'}", "container config: Tty: expected a boolean");
	parse_fails("{'HostConfig': {'Mounts': [{'Type': 'bind', 'ReadOnly': 1}]}}",
	            "container config: HostConfig.Mounts[0].ReadOnly: expected a boolean");
	parse_fails("{'HostConfig': {'PortBindings': {'80/tcp': 'x'}}}",
	            "container config: HostConfig.PortBindings.80/tcp: expected an array");
	parse_fails("{'HostConfig': {'PortBindings': {'80/tcp': [{'HostPort': 8080}]}}}",
	            "container config: HostConfig.PortBindings.80/tcp[0].HostPort: expected a string");
	parse_fails(
	    "{'HostConfig': {'BlkioWeight': 70000}}",
	    "container config: HostConfig.BlkioWeight: 70000 is out of range (expected an unsigned 16-bit "
	    "integer)");
	parse_fails("{'HostConfig': {'ConsoleSize': [24]}}",
	            "container config: HostConfig.ConsoleSize: expected an array of two unsigned integers");
	parse_fails("{'HostConfig': {'Ulimits': [{'Soft': 1}]}}",
	            "container config: HostConfig.Ulimits[0].Name: required field missing");
	parse_fails(
	    "{'HostConfig': {'Mounts': [{'Type': 'bind', 'BindOptions': {'Propagation': 'sideways'}}]}}",
	    "container config: HostConfig.Mounts[0].BindOptions.Propagation: unknown propagation "
	    "'sideways' (expected one of private, rprivate, shared, rshared, slave, rslave)");
	parse_fails(
	    "{'NetworkingConfig': {'EndpointsConfig': {'front': {'Aliases': 'web'}}}}",
	    "container config: NetworkingConfig.EndpointsConfig.front.Aliases: expected an array of strings");
	parse_fails("[]", "container config: expected an object");
}

static void validate_fails(const char *body, const char *want)
{
	_cleanup_container_create_ struct container_create *c = parse_ok(body);
	_cleanup_error_ struct vsl_error *err = NULL;
	if (container_create_validate(c, &err) >= 0)
		fail_msg("validate accepted %s", body);
	assert_string_equal(err->msg, want);
}

static void validate_ok(const char *body)
{
	_cleanup_container_create_ struct container_create *c = parse_ok(body);
	_cleanup_error_ struct vsl_error *err = NULL;
	if (container_create_validate(c, &err) < 0)
		fail_msg("validate refused %s: %s", body, err->msg);
}

static void test_validate(void **state)
{
	(void)state;
	validate_fails("{'HostConfig': {'RestartPolicy': {'Name': 'sometimes'}}}",
	               "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', "
	               "'on-failure', or 'unless-stopped'");
	validate_fails("{'HostConfig': {'RestartPolicy': {'Name': 'always', 'MaximumRetryCount': 3}}}",
	               "invalid restart policy: maximum retry count can only be used with 'on-failure'");
	validate_fails("{'HostConfig': {'RestartPolicy': {'Name': 'on-failure', 'MaximumRetryCount': -1}}}",
	               "invalid restart policy: maximum retry count cannot be negative");
	validate_fails("{'HostConfig': {'AutoRemove': true, 'RestartPolicy': {'Name': 'always'}}}",
	               "can't create 'AutoRemove' container with restart policy");
	validate_ok("{'HostConfig': {'AutoRemove': true, 'RestartPolicy': {'Name': 'no'}}}");
	validate_fails("{'HostConfig': {'Memory': 4194304}}", "Minimum memory limit allowed is 6MB");
	validate_fails("{'HostConfig': {'Memory': -1}}", "Minimum memory limit allowed is 6MB");
	validate_ok("{'HostConfig': {'Memory': 6291456}}");
	validate_fails("{'HostConfig': {'Memory': 104857600, 'MemorySwap': 52428800}}",
	               "Minimum memoryswap limit should be larger than memory limit, see usage");
	validate_fails("{'HostConfig': {'MemorySwap': 52428800}}",
	               "You should always set the Memory limit when using Memoryswap limit, see usage");
	validate_ok("{'HostConfig': {'Memory': 104857600, 'MemorySwap': -1}}");
	validate_fails("{'HostConfig': {'MemoryReservation': 1024}}",
	               "Minimum memory reservation allowed is 6MB");
	validate_fails("{'HostConfig': {'Memory': 10485760, 'MemoryReservation': 20971520}}",
	               "Minimum memory limit can not be less than memory reservation limit, see usage");
	validate_fails("{'HostConfig': {'MemorySwappiness': 101}}",
	               "Invalid value: 101, valid memory swappiness range is 0-100");
	validate_ok("{'HostConfig': {'MemorySwappiness': -1}}");
}

/* The CPU message names the host's count: computed from sched_getaffinity
 * here only to build the expected text, not the decision. */
static void test_validate_cpus(void **state)
{
	(void)state;
	cpu_set_t set;
	assert_int_equal(sched_getaffinity(0, sizeof(set), &set), 0);
	int n = CPU_COUNT(&set);
	char want[160], body[160];
	snprintf(want, sizeof(want),
	         "Range of CPUs is from 0.01 to %d.00, as there are only %d CPUs available", n, n);
	snprintf(body, sizeof(body), "{'HostConfig': {'NanoCpus': %lld}}", (long long)(n + 1) * 1000000000LL);
	validate_fails(body, want);
	snprintf(body, sizeof(body), "{'HostConfig': {'NanoCpus': %lld}}", (long long)n * 1000000000LL);
	validate_ok(body);
	validate_fails("{'HostConfig': {'NanoCpus': 500000000, 'CpuQuota': 50000}}",
	               "Conflicting options: Nano CPUs and CPU Quota cannot both be set");
	validate_fails("{'HostConfig': {'NanoCpus': 500000000, 'CpuPeriod': 50000}}",
	               "Conflicting options: Nano CPUs and CPU Period cannot both be set");
	validate_fails(
	    "{'HostConfig': {'CpuPeriod': 500}}",
	    "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)");
	validate_fails("{'HostConfig': {'CpuQuota': 999}}",
	               "CPU cfs quota can not be less than 1ms (i.e. 1000)");
	validate_fails("{'HostConfig': {'CpusetCpus': '0-'}}", "Invalid value 0- for cpuset cpus");
	validate_ok("{'HostConfig': {'CpusetCpus': '0,1-1'}}");
	validate_fails("{'HostConfig': {'BlkioWeight': 5}}", "Range of blkio weight is from 10 to 1000");
	validate_fails("{'HostConfig': {'OomScoreAdj': 1001}}",
	               "Invalid value 1001, range for oom score adj is [-1000, 1000]");
	validate_fails("{'HostConfig': {'ShmSize': -1}}", "SHM size can not be less than 0");
}

static void test_validate_names(void **state)
{
	(void)state;
	validate_fails("{'HostConfig': {'CapAdd': ['net_admin', 'CAP_FOO']}}",
	               "unknown capability: \"CAP_FOO\"");
	validate_fails("{'HostConfig': {'CapDrop': ['bogus']}}", "unknown capability: \"CAP_BOGUS\"");
	validate_ok("{'HostConfig': {'CapAdd': ['all', 'cap_sys_admin', 'Sys_Ptrace'], 'CapDrop': ['ALL']}}");
	validate_fails("{'HostConfig': {'Ulimits': [{'Name': 'nofiles', 'Soft': 1, 'Hard': 2}]}}",
	               "invalid ulimit type: nofiles");
	validate_fails("{'HostConfig': {'Ulimits': [{'Name': 'nofile', 'Soft': 4096, 'Hard': 1024}]}}",
	               "ulimit soft limit must be less than or equal to hard limit: 4096 > 1024");
	validate_fails("{'HostConfig': {'Ulimits': [{'Name': 'memlock', 'Soft': -1, 'Hard': 1024}]}}",
	               "ulimit soft limit must be less than or equal to hard limit: -1 > 1024");
	validate_ok("{'HostConfig': {'Ulimits': [{'Name': 'memlock', 'Soft': -1, 'Hard': -1}]}}");
	validate_fails("{'HostConfig': {'SecurityOpt': ['seccomp']}}",
	               "invalid --security-opt 1: \"seccomp\"");
	validate_fails("{'HostConfig': {'SecurityOpt': ['no-new-privileges=maybe']}}",
	               "invalid --security-opt 2: \"no-new-privileges=maybe\"");
	validate_fails("{'HostConfig': {'SecurityOpt': ['colour=blue']}}",
	               "invalid --security-opt 2: \"colour\"");
	validate_ok(
	    "{'HostConfig': {'SecurityOpt': ['label=disable', 'apparmor=unconfined', 'seccomp:unconfined',"
	    " 'no-new-privileges:true']}}");
	validate_fails("{'HostConfig': {'UsernsMode': 'private'}}", "userns mode 'private' is not supported");
	validate_fails("{'HostConfig': {'IpcMode': 'weird'}}", "invalid IPC mode: weird");
	validate_fails("{'HostConfig': {'PidMode': 'container:'}}", "invalid PID mode: container:");
	validate_fails("{'Hostname': 'x', 'HostConfig': {'NetworkMode': 'container:db'}}",
	               "conflicting options: hostname and the network mode");
	validate_fails("{'HostConfig': {'CgroupnsMode': 'shared'}}", "invalid cgroup namespace mode: shared");
	validate_fails(
	    "{'HostConfig': {'NetworkMode': 'host', 'Sysctls': {'net.ipv4.ip_forward': '1'}}}",
	    "sysctl 'net.ipv4.ip_forward' is not allowed with the host's or another container's network "
	    "namespace");
	validate_fails("{'HostConfig': {'Sysctls': {'vm.swappiness': '1'}}}",
	               "sysctl 'vm.swappiness' is not allowed in a container");
	validate_ok("{'HostConfig': {'Sysctls': {'kernel.shmmax': '1', 'fs.mqueue.msg_max': '20', "
	            "'net.core.somaxconn': '1'}}}");
	validate_fails(
	    "{'HostConfig': {'Devices': [{'PathOnHost': '/dev/fuse', 'CgroupPermissions': 'rwx'}]}}",
	    "invalid device mode: rwx");
	validate_fails("{'Env': ['=x']}", "invalid environment variable: =x");
	validate_fails("{'Healthcheck': {'Interval': 10}}",
	               "Interval in Healthcheck cannot be less than 1ms");
}

static void test_validate_mounts(void **state)
{
	(void)state;
	validate_fails(
	    "{'HostConfig': {'Binds': ['data:rel']}}",
	    "invalid mount config for type \"volume\": invalid mount path: 'rel' mount path must be "
	    "absolute");
	validate_fails(
	    "{'HostConfig': {'Binds': ['data']}}",
	    "invalid mount config for type \"volume\": invalid mount path: 'data' mount path must be "
	    "absolute");
	validate_fails(
	    "{'HostConfig': {'Binds': ['/srv:data']}}",
	    "invalid mount config for type \"bind\": invalid mount path: 'data' mount path must be absolute");
	validate_fails("{'HostConfig': {'Binds': ['/srv:/data:rw,ro']}}", "invalid mode: rw,ro");
	validate_fails("{'HostConfig': {'Binds': ['/srv:/data:fast']}}", "invalid mode: fast");
	validate_fails("{'HostConfig': {'Binds': ['/data:ro']}}", "invalid volume specification: '/data:ro'");
	validate_fails("{'HostConfig': {'Binds': ['/a:/b:ro:x']}}",
	               "invalid volume specification: '/a:/b:ro:x'");
	validate_fails("{'HostConfig': {'Binds': ['/srv:/']}}",
	               "invalid specification: destination can't be '/'");
	validate_fails("{'HostConfig': {'Binds': ['/a:/data', '/b:/data/']}}",
	               "Duplicate mount point: /data");
	validate_fails("{'HostConfig': {'Mounts': [{'Type': 'volume', 'Source': 'v', 'Target': '/v', "
	               "'BindOptions': {'NonRecursive': true}}]}}",
	               "invalid mount config for type \"volume\": field BindOptions must not be specified");
	validate_fails(
	    "{'HostConfig': {'Mounts': [{'Type': 'bind', 'Source': 'rel', 'Target': '/v'}]}}",
	    "invalid mount config for type \"bind\": invalid mount path: 'rel' mount path must be absolute");
	validate_fails("{'HostConfig': {'Mounts': [{'Type': 'bind', 'Target': '/v'}]}}",
	               "invalid mount config for type \"bind\": field Source must not be empty");
	validate_fails("{'HostConfig': {'Mounts': [{'Type': 'tmpfs', 'Source': '/x', 'Target': '/v'}]}}",
	               "invalid mount config for type \"tmpfs\": field Source must not be specified");
	validate_fails(
	    "{'HostConfig': {'Mounts': [{'Type': 'tmpfs', 'Target': 'v'}]}}",
	    "invalid mount config for type \"tmpfs\": invalid mount path: 'v' mount path must be absolute");
	validate_fails("{'HostConfig': {'Mounts': [{'Type': 'npipe', 'Target': '/v'}]}}",
	               "invalid mount config for type \"npipe\": mount type unknown");
	validate_fails(
	    "{'HostConfig': {'Tmpfs': {'run': ''}}}",
	    "invalid mount config for type \"tmpfs\": invalid mount path: 'run' mount path must be absolute");
	/* The bind source need not exist yet: the engine checks that. */
	validate_ok("{'HostConfig': {'Binds': ['/nonexistent/src:/data:ro,rshared,z,nocopy']}}");
}

static void test_mounts_list(void **state)
{
	(void)state;
	_cleanup_container_create_ struct container_create *c =
	    parse_ok("{'HostConfig': {'Binds': ['/srv//data/:/data/./x/:ro,rslave'],"
	             " 'Mounts': [{'Type': 'bind', 'Source': '/etc/app', 'Target': '/cfg', 'BindOptions': "
	             "{'NonRecursive': true}},"
	             "            {'Type': 'tmpfs', 'Target': '/cache', 'TmpfsOptions': {'SizeBytes': "
	             "1048576, 'Mode': 1023,"
	             "             'Options': [['exec']]}}],"
	             " 'Tmpfs': {'/run': 'ro,size=65536k'}}}");
	struct create_mount_spec *m = NULL;
	size_t n = 0;
	_cleanup_error_ struct vsl_error *err = NULL;
	if (create_mounts_list(c, &m, &n, &err) < 0)
		fail_msg("%s", err->msg);
	assert_int_equal(n, 4);
	assert_int_equal(m[0].kind, CREATE_MOUNT_BIND);
	assert_string_equal(m[0].source, "/srv/data");
	assert_string_equal(m[0].destination, "/data/x");
	assert_true(m[0].read_only);
	assert_string_equal(m[0].propagation, "rslave");
	assert_string_equal(m[1].destination, "/cfg");
	assert_true(m[1].non_recursive);
	assert_false(m[1].read_only);
	assert_null(m[1].propagation);
	assert_int_equal(m[2].kind, CREATE_MOUNT_TMPFS);
	assert_null(m[2].source);
	assert_strv(m[2].options, STRV("size=1048576", "mode=1777", "exec"));
	assert_string_equal(m[3].destination, "/run");
	assert_true(m[3].read_only);
	assert_strv(m[3].options, STRV("size=65536k"));
	create_mount_specs_free(m, n);
}

static void test_mounts_list_volumes(void **state)
{
	(void)state;
	_cleanup_container_create_ struct container_create *c =
	    parse_ok("{'HostConfig': {'Binds': ['data:/data:ro,nocopy', '/anon'],"
	             " 'Mounts': [{'Type': 'volume', 'Source': 'tm', 'Target': '/tm', 'ReadOnly': true,"
	             "  'VolumeOptions': {'NoCopy': true, 'Labels': {'a': 'b'},"
	             "   'DriverConfig': {'Name': 'local', 'Options': {'type': 'tmpfs'}}}},"
	             " {'Type': 'volume', 'Target': '/m'}]}}");
	struct create_mount_spec *m = NULL;
	size_t n = 0;
	_cleanup_error_ struct vsl_error *err = NULL;
	if (create_mounts_list(c, &m, &n, &err) < 0)
		fail_msg("%s", err->msg);
	assert_int_equal(n, 4);
	assert_int_equal(m[0].kind, CREATE_MOUNT_VOLUME);
	assert_string_equal(m[0].source, "data");
	assert_string_equal(m[0].destination, "/data");
	assert_true(m[0].read_only);
	assert_true(m[0].no_copy);
	assert_int_equal(m[1].kind, CREATE_MOUNT_VOLUME);
	assert_null(m[1].source);
	assert_string_equal(m[1].destination, "/anon");
	assert_false(m[1].no_copy);
	assert_string_equal(m[2].source, "tm");
	assert_true(m[2].read_only);
	assert_true(m[2].no_copy);
	assert_string_equal(m[2].volume_driver, "local");
	assert_strv(m[2].volume_options, STRV("type=tmpfs"));
	assert_strv(m[2].volume_labels, STRV("a=b"));
	assert_null(m[3].source);
	assert_string_equal(m[3].destination, "/m");
	create_mount_specs_free(m, n);
}

static void test_security(void **state)
{
	(void)state;
	_cleanup_container_create_ struct container_create *c =
	    parse_ok("{'HostConfig': {'SecurityOpt': ['no-new-privileges:true', "
	             "'seccomp={\\'defaultAction\\': \\'SCMP_ACT_ALLOW\\'}']}}");
	struct create_security s;
	_cleanup_error_ struct vsl_error *err = NULL;
	assert_int_equal(create_security_parse(c, &s, &err), 0);
	assert_true(s.no_new_privileges);
	assert_false(s.seccomp_unconfined);
	assert_string_equal(s.seccomp_profile, "{\"defaultAction\": \"SCMP_ACT_ALLOW\"}");

	_cleanup_container_create_ struct container_create *u =
	    parse_ok("{'HostConfig': {'SecurityOpt': ['seccomp=unconfined', 'no-new-privileges=false']}}");
	assert_int_equal(create_security_parse(u, &s, &err), 0);
	assert_false(s.no_new_privileges);
	assert_true(s.seccomp_unconfined);
	assert_null(s.seccomp_profile);
}

static void test_helpers(void **state)
{
	(void)state;
	const char *cases[][2] = {
	    {"/a//b/./c/", "/a/b/c"}, {"/../a", "/a"}, {"/a/b/../../..", "/"}, {"/", "/"},
	    {"a/../../b", "../b"},    {"", "."},       {"/a/./", "/a"},        {"//x", "/x"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		_cleanup_free_ char *c = create_path_clean(cases[i][0]);
		assert_string_equal(c, cases[i][1]);
	}
	_cleanup_free_ char *a = create_cap_normalize("net_admin");
	_cleanup_free_ char *b = create_cap_normalize("Cap_Kill");
	_cleanup_free_ char *all = create_cap_normalize("all");
	assert_string_equal(a, "CAP_NET_ADMIN");
	assert_string_equal(b, "CAP_KILL");
	assert_string_equal(all, "ALL");
	assert_string_equal(create_ulimit_type("nofile"), "RLIMIT_NOFILE");
	assert_string_equal(create_ulimit_type("rttime"), "RLIMIT_RTTIME");
	assert_null(create_ulimit_type("NOFILE"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full),           cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_minimal),        cmocka_unit_test(test_wrong_types),
	    cmocka_unit_test(test_validate),       cmocka_unit_test(test_validate_cpus),
	    cmocka_unit_test(test_validate_names), cmocka_unit_test(test_validate_mounts),
	    cmocka_unit_test(test_mounts_list),    cmocka_unit_test(test_mounts_list_volumes),
	    cmocka_unit_test(test_security),       cmocka_unit_test(test_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
