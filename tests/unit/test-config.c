/* config.json parsing: exact values from a full document, exact messages for
 * each kind of mistake, standalone process/resources documents, and the
 * documents `spec` generates parsing back. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <cmocka.h>

#include "runtime/config.h"
#include "runtime/spec.h"
#include "util/cleanup.h"
#include "util/error.h"

/* JSON written with ' for " keeps the documents below readable. */
static char *q(const char *s)
{
	char *t = strdup(s);
	assert_non_null(t);
	for (char *c = t; *c; c++)
		if (*c == '\'')
			*c = '"';
	return t;
}

static const char full_config[] =
    "{'ociVersion': '1.2.0',"
    " 'root': {'path': 'rootfs', 'readonly': true},"
    " 'hostname': 'web', 'domainname': 'example.org',"
    " 'process': {"
    "   'terminal': true, 'consoleSize': {'height': 25, 'width': 80},"
    "   'user': {'uid': 1000, 'gid': 1001, 'umask': 18, 'additionalGids': [5, 4294967295], 'username': "
    "'app'},"
    "   'args': ['sh', '-c', 'echo hi'], 'commandLine': 'ignored on linux',"
    "   'env': ['PATH=/bin', 'TERM=xterm'], 'cwd': '/srv',"
    "   'capabilities': {'bounding': ['CAP_KILL', 'CAP_CHOWN'], 'effective': ['CAP_KILL'],"
    "                    'permitted': ['CAP_KILL'], 'ambient': []},"
    "   'rlimits': [{'type': 'RLIMIT_NOFILE', 'hard': 4096, 'soft': 1024},"
    "               {'type': 'RLIMIT_MEMLOCK', 'hard': 18446744073709551615, 'soft': 18446744073709551615}],"
    "   'noNewPrivileges': true, 'apparmorProfile': 'vessel-default', 'oomScoreAdj': -500,"
    "   'selinuxLabel': 'system_u:system_r:container_t:s0', 'ioPriority': {'class': 'IOPRIO_CLASS_IDLE'}},"
    " 'mounts': ["
    "   {'destination': '/proc', 'type': 'proc', 'source': 'proc'},"
    "   {'destination': 'data', 'type': 'bind', 'source': '/srv/data', 'options': ['rbind', 'ro'],"
    "    'uidMappings': [{'containerID': 0, 'hostID': 100000, 'size': 65536}],"
    "    'gidMappings': [{'containerID': 0, 'hostID': 200000, 'size': 100}]}],"
    " 'hooks': {"
    "   'prestart': [{'path': '/bin/pre', 'args': ['pre', 'x'], 'env': ['A=1'], 'timeout': 5}],"
    "   'createRuntime': [{'path': '/bin/cr1'}, {'path': '/bin/cr2'}],"
    "   'poststop': [{'path': '/bin/post'}]},"
    " 'annotations': {'org.example.key': 'value', 'other': ''},"
    " 'linux': {"
    "   'namespaces': [{'type': 'pid'}, {'type': 'network', 'path': '/var/run/netns/web'},"
    "                  {'type': 'mount'}, {'type': 'ipc'}, {'type': 'uts'}, {'type': 'user'},"
    "                  {'type': 'cgroup'}, {'type': 'time'}],"
    "   'uidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 1}],"
    "   'gidMappings': [{'containerID': 0, 'hostID': 1001, 'size': 1},"
    "                   {'containerID': 1, 'hostID': 100000, 'size': 65535}],"
    "   'timeOffsets': {'monotonic': {'secs': -3600, 'nanosecs': 500}, 'boottime': {'secs': 86400}},"
    "   'devices': [{'type': 'c', 'path': '/dev/fuse', 'major': 10, 'minor': 229, 'fileMode': 438,"
    "                'uid': 0, 'gid': 0},"
    "               {'type': 'p', 'path': '/dev/fifo'}],"
    "   'cgroupsPath': '/vessel/web',"
    "   'resources': {"
    "     'devices': [{'allow': false, 'access': 'rwm'},"
    "                 {'allow': true, 'type': 'c', 'major': 1, 'minor': 3, 'access': 'rw'}],"
    "     'memory': {'limit': 536870912, 'reservation': 268435456, 'swap': -1, 'kernel': 0,"
    "                'kernelTCP': 1024, 'swappiness': 60, 'disableOOMKiller': true,"
    "                'useHierarchy': true, 'checkBeforeUpdate': true},"
    "     'cpu': {'shares': 512, 'quota': 50000, 'burst': 1000, 'period': 100000,"
    "             'realtimeRuntime': 950000, 'realtimePeriod': 1000000, 'cpus': '0-3', 'mems': '0',"
    "             'idle': 1},"
    "     'pids': {'limit': 100},"
    "     'blockIO': {'weight': 500, 'leafWeight': 300,"
    "                 'weightDevice': [{'major': 8, 'minor': 0, 'weight': 600},"
    "                                  {'major': 8, 'minor': 16, 'leafWeight': 200}],"
    "                 'throttleReadBpsDevice': [{'major': 8, 'minor': 0, 'rate': 1048576}],"
    "                 'throttleWriteBpsDevice': [{'major': 8, 'minor': 0, 'rate': 2097152}],"
    "                 'throttleReadIOPSDevice': [{'major': 8, 'minor': 0, 'rate': 100}],"
    "                 'throttleWriteIOPSDevice': [{'major': 8, 'minor': 0, 'rate': 200},"
    "                                             {'major': 8, 'minor': 16, 'rate': 300}]},"
    "     'hugepageLimits': [{'pageSize': '2MB', 'limit': 209715200}],"
    "     'network': {'classID': 1048577, 'priorities': [{'name': 'eth0', 'priority': 500}]},"
    "     'unified': {'memory.high': '400000000', 'io.weight': 'default 100'}},"
    "   'rootfsPropagation': 'rslave',"
    "   'maskedPaths': ['/proc/kcore', '/sys/firmware'],"
    "   'readonlyPaths': ['/proc/sys'],"
    "   'mountLabel': 'system_u:object_r:container_file_t:s0',"
    "   'sysctl': {'net.ipv4.ip_forward': '1'},"
    "   'seccomp': {'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 1,"
    "               'architectures': ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],"
    "               'flags': ['SECCOMP_FILTER_FLAG_LOG'],"
    "               'listenerPath': '/run/seccomp.sock', 'listenerMetadata': 'meta',"
    "               'syscalls': [{'names': ['read', 'write'], 'action': 'SCMP_ACT_ALLOW'},"
    "                            {'names': ['personality'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 38,"
    "                             'args': [{'index': 0, 'value': 8, 'op': 'SCMP_CMP_EQ'},"
    "                                      {'index': 5, 'value': 18446744073709551615,"
    "                                       'valueTwo': 4, 'op': 'SCMP_CMP_MASKED_EQ'}]}]},"
    "   'personality': {'domain': 'LINUX32'},"
    "   'intelRdt': {'closID': 'unknown fields are ignored'}}}";

static struct oci_config *parse_ok(const char *single_quoted)
{
	_cleanup_free_ char *text = q(single_quoted);
	_cleanup_error_ struct vsl_error *err = NULL;
	struct oci_config *c = NULL;
	int r = oci_config_parse(text, strlen(text), &c, &err);
	if (r < 0)
		fail_msg("unexpected error: %s", vsl_error_message(err));
	assert_non_null(c);
	return c;
}

static void assert_strv(char **l, ...)
{
	va_list ap;
	va_start(ap, l);
	size_t i = 0;
	for (const char *s; (s = va_arg(ap, const char *)); i++) {
		assert_non_null(l[i]);
		assert_string_equal(l[i], s);
	}
	va_end(ap);
	assert_null(l[i]);
}

static void test_full_config(void **state)
{
	(void)state;
	_cleanup_config_ struct oci_config *c = parse_ok(full_config);

	assert_string_equal(c->oci_version, "1.2.0");
	assert_string_equal(c->root_path, "rootfs");
	assert_true(c->root_readonly);
	assert_string_equal(c->hostname, "web");
	assert_string_equal(c->domainname, "example.org");

	/* process */
	const struct oci_process *p = &c->process;
	assert_true(c->has_process);
	assert_true(p->terminal);
	assert_int_equal(p->console_height, 25);
	assert_int_equal(p->console_width, 80);
	assert_int_equal(p->user.uid, 1000);
	assert_int_equal(p->user.gid, 1001);
	assert_true(p->user.has_umask);
	assert_int_equal(p->user.umask, 022);
	assert_int_equal(p->user.n_additional_gids, 2);
	assert_int_equal(p->user.additional_gids[0], 5);
	assert_int_equal(p->user.additional_gids[1], 4294967295u);
	assert_string_equal(p->user.username, "app");
	assert_strv(p->args, "sh", "-c", "echo hi", NULL);
	assert_string_equal(p->command_line, "ignored on linux");
	assert_strv(p->env, "PATH=/bin", "TERM=xterm", NULL);
	assert_string_equal(p->cwd, "/srv");
	assert_true(p->has_caps);
	assert_strv(p->caps.bounding, "CAP_KILL", "CAP_CHOWN", NULL);
	assert_strv(p->caps.effective, "CAP_KILL", NULL);
	assert_strv(p->caps.permitted, "CAP_KILL", NULL);
	assert_null(p->caps.inheritable);
	assert_non_null(p->caps.ambient);
	assert_null(p->caps.ambient[0]);
	assert_int_equal(p->n_rlimits, 2);
	assert_int_equal(p->rlimits[0].resource, RLIMIT_NOFILE);
	assert_string_equal(p->rlimits[0].type, "RLIMIT_NOFILE");
	assert_int_equal(p->rlimits[0].hard, 4096);
	assert_int_equal(p->rlimits[0].soft, 1024);
	assert_int_equal(p->rlimits[1].resource, RLIMIT_MEMLOCK);
	assert_true(p->rlimits[1].hard == UINT64_MAX);
	assert_true(p->rlimits[1].soft == UINT64_MAX);
	assert_true(p->no_new_privileges);
	assert_string_equal(p->apparmor_profile, "vessel-default");
	assert_true(p->has_oom_score_adj);
	assert_int_equal(p->oom_score_adj, -500);
	assert_string_equal(p->selinux_label, "system_u:system_r:container_t:s0");

	/* mounts */
	assert_int_equal(c->n_mounts, 2);
	assert_string_equal(c->mounts[0].destination, "/proc");
	assert_string_equal(c->mounts[0].type, "proc");
	assert_string_equal(c->mounts[0].source, "proc");
	assert_null(c->mounts[0].options);
	assert_string_equal(c->mounts[1].destination, "/data"); /* made absolute */
	assert_string_equal(c->mounts[1].type, "bind");
	assert_strv(c->mounts[1].options, "rbind", "ro", NULL);
	assert_int_equal(c->mounts[1].n_uid_mappings, 1);
	assert_int_equal(c->mounts[1].uid_mappings[0].host_id, 100000);
	assert_int_equal(c->mounts[1].uid_mappings[0].size, 65536);
	assert_int_equal(c->mounts[1].n_gid_mappings, 1);
	assert_int_equal(c->mounts[1].gid_mappings[0].host_id, 200000);
	assert_int_equal(c->mounts[1].gid_mappings[0].size, 100);

	/* hooks */
	assert_int_equal(c->hooks.count[HOOK_PRESTART], 1);
	const struct oci_hook *h = &c->hooks.list[HOOK_PRESTART][0];
	assert_string_equal(h->path, "/bin/pre");
	assert_strv(h->args, "pre", "x", NULL);
	assert_strv(h->env, "A=1", NULL);
	assert_true(h->has_timeout);
	assert_int_equal(h->timeout, 5);
	assert_int_equal(c->hooks.count[HOOK_CREATE_RUNTIME], 2);
	assert_string_equal(c->hooks.list[HOOK_CREATE_RUNTIME][1].path, "/bin/cr2");
	assert_false(c->hooks.list[HOOK_CREATE_RUNTIME][1].has_timeout);
	assert_int_equal(c->hooks.count[HOOK_CREATE_CONTAINER], 0);
	assert_null(c->hooks.list[HOOK_CREATE_CONTAINER]);
	assert_int_equal(c->hooks.count[HOOK_START_CONTAINER], 0);
	assert_int_equal(c->hooks.count[HOOK_POSTSTART], 0);
	assert_int_equal(c->hooks.count[HOOK_POSTSTOP], 1);
	assert_string_equal(c->hooks.list[HOOK_POSTSTOP][0].path, "/bin/post");

	/* annotations: both present, in any order */
	assert_int_equal(c->n_annotations, 2);
	for (size_t i = 0; i < 2; i++) {
		if (strcmp(c->annotations[i].key, "other") == 0)
			assert_string_equal(c->annotations[i].value, "");
		else {
			assert_string_equal(c->annotations[i].key, "org.example.key");
			assert_string_equal(c->annotations[i].value, "value");
		}
	}

	/* linux */
	for (int t = 0; t < NS_COUNT; t++)
		assert_true(c->namespaces[t].present);
	assert_string_equal(c->namespaces[NS_NETWORK].path, "/var/run/netns/web");
	assert_null(c->namespaces[NS_PID].path);
	assert_int_equal(c->n_uid_mappings, 1);
	assert_int_equal(c->uid_mappings[0].container_id, 0);
	assert_int_equal(c->uid_mappings[0].host_id, 1000);
	assert_int_equal(c->uid_mappings[0].size, 1);
	assert_int_equal(c->n_gid_mappings, 2);
	assert_int_equal(c->gid_mappings[1].container_id, 1);
	assert_int_equal(c->gid_mappings[1].host_id, 100000);
	assert_int_equal(c->gid_mappings[1].size, 65535);
	assert_true(c->time_offsets[0].present);
	assert_int_equal(c->time_offsets[0].secs, -3600);
	assert_int_equal(c->time_offsets[0].nanosecs, 500);
	assert_true(c->time_offsets[1].present);
	assert_int_equal(c->time_offsets[1].secs, 86400);
	assert_int_equal(c->time_offsets[1].nanosecs, 0);

	assert_int_equal(c->n_devices, 2);
	assert_int_equal(c->devices[0].type, 'c');
	assert_string_equal(c->devices[0].path, "/dev/fuse");
	assert_int_equal(c->devices[0].major, 10);
	assert_int_equal(c->devices[0].minor, 229);
	assert_true(c->devices[0].has_mode && c->devices[0].has_uid && c->devices[0].has_gid);
	assert_int_equal(c->devices[0].file_mode, 0666);
	assert_int_equal(c->devices[1].type, 'p');
	assert_int_equal(c->devices[1].major, 0);
	assert_int_equal(c->devices[1].minor, 0);
	assert_false(c->devices[1].has_mode);
	assert_string_equal(c->cgroups_path, "/vessel/web");

	const struct oci_resources *r = &c->resources;
	assert_true(c->has_resources);
	assert_int_equal(r->n_devices, 2);
	assert_false(r->devices[0].allow);
	assert_int_equal(r->devices[0].type, 'a');
	assert_int_equal(r->devices[0].major, -1);
	assert_int_equal(r->devices[0].minor, -1);
	assert_string_equal(r->devices[0].access, "rwm");
	assert_true(r->devices[1].allow);
	assert_int_equal(r->devices[1].type, 'c');
	assert_int_equal(r->devices[1].major, 1);
	assert_int_equal(r->devices[1].minor, 3);
	assert_string_equal(r->devices[1].access, "rw");

	assert_true(r->memory.has_limit && r->memory.has_reservation && r->memory.has_swap);
	assert_true(r->memory.has_kernel && r->memory.has_kernel_tcp && r->memory.has_swappiness);
	assert_int_equal(r->memory.limit, 536870912);
	assert_int_equal(r->memory.reservation, 268435456);
	assert_int_equal(r->memory.swap, -1);
	assert_int_equal(r->memory.kernel, 0);
	assert_int_equal(r->memory.kernel_tcp, 1024);
	assert_int_equal(r->memory.swappiness, 60);
	assert_true(r->memory.disable_oom_killer && r->memory.use_hierarchy && r->memory.check_before_update);

	assert_true(r->cpu.has_shares && r->cpu.has_quota && r->cpu.has_burst && r->cpu.has_period);
	assert_true(r->cpu.has_rt_runtime && r->cpu.has_rt_period && r->cpu.has_idle);
	assert_int_equal(r->cpu.shares, 512);
	assert_int_equal(r->cpu.quota, 50000);
	assert_int_equal(r->cpu.burst, 1000);
	assert_int_equal(r->cpu.period, 100000);
	assert_int_equal(r->cpu.rt_runtime, 950000);
	assert_int_equal(r->cpu.rt_period, 1000000);
	assert_string_equal(r->cpu.cpus, "0-3");
	assert_string_equal(r->cpu.mems, "0");
	assert_int_equal(r->cpu.idle, 1);

	assert_true(r->pids.has_limit);
	assert_int_equal(r->pids.limit, 100);

	assert_true(r->blkio.has_weight && r->blkio.has_leaf_weight);
	assert_int_equal(r->blkio.weight, 500);
	assert_int_equal(r->blkio.leaf_weight, 300);
	assert_int_equal(r->blkio.n_weight_devices, 2);
	assert_true(r->blkio.weight_devices[0].has_weight);
	assert_false(r->blkio.weight_devices[0].has_leaf_weight);
	assert_int_equal(r->blkio.weight_devices[0].weight, 600);
	assert_int_equal(r->blkio.weight_devices[1].minor, 16);
	assert_true(r->blkio.weight_devices[1].has_leaf_weight);
	assert_int_equal(r->blkio.weight_devices[1].leaf_weight, 200);
	assert_int_equal(r->blkio.n_read_bps, 1);
	assert_int_equal(r->blkio.read_bps[0].rate, 1048576);
	assert_int_equal(r->blkio.n_write_bps, 1);
	assert_int_equal(r->blkio.write_bps[0].rate, 2097152);
	assert_int_equal(r->blkio.n_read_iops, 1);
	assert_int_equal(r->blkio.read_iops[0].rate, 100);
	assert_int_equal(r->blkio.n_write_iops, 2);
	assert_int_equal(r->blkio.write_iops[1].major, 8);
	assert_int_equal(r->blkio.write_iops[1].minor, 16);
	assert_int_equal(r->blkio.write_iops[1].rate, 300);

	assert_int_equal(r->n_hugepage_limits, 1);
	assert_string_equal(r->hugepage_limits[0].page_size, "2MB");
	assert_int_equal(r->hugepage_limits[0].limit, 209715200);
	assert_true(r->network.has_class_id);
	assert_int_equal(r->network.class_id, 1048577);
	assert_int_equal(r->network.n_priorities, 1);
	assert_string_equal(r->network.priorities[0].key, "eth0");
	assert_string_equal(r->network.priorities[0].value, "500");
	assert_int_equal(r->n_unified, 2);

	assert_string_equal(c->rootfs_propagation, "rslave");
	assert_strv(c->masked_paths, "/proc/kcore", "/sys/firmware", NULL);
	assert_strv(c->readonly_paths, "/proc/sys", NULL);
	assert_string_equal(c->mount_label, "system_u:object_r:container_file_t:s0");
	assert_int_equal(c->n_sysctl, 1);
	assert_string_equal(c->sysctl[0].key, "net.ipv4.ip_forward");
	assert_string_equal(c->sysctl[0].value, "1");
	assert_string_equal(c->personality_domain, "LINUX32");

	const struct oci_seccomp *s = c->seccomp;
	assert_non_null(s);
	assert_string_equal(s->default_action, "SCMP_ACT_ERRNO");
	assert_true(s->has_default_errno_ret);
	assert_int_equal(s->default_errno_ret, 1);
	assert_strv(s->architectures, "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", NULL);
	assert_strv(s->flags, "SECCOMP_FILTER_FLAG_LOG", NULL);
	assert_string_equal(s->listener_path, "/run/seccomp.sock");
	assert_string_equal(s->listener_metadata, "meta");
	assert_int_equal(s->n_syscalls, 2);
	assert_strv(s->syscalls[0].names, "read", "write", NULL);
	assert_string_equal(s->syscalls[0].action, "SCMP_ACT_ALLOW");
	assert_false(s->syscalls[0].has_errno_ret);
	assert_int_equal(s->syscalls[0].n_args, 0);
	assert_true(s->syscalls[1].has_errno_ret);
	assert_int_equal(s->syscalls[1].errno_ret, 38);
	assert_int_equal(s->syscalls[1].n_args, 2);
	assert_int_equal(s->syscalls[1].args[0].index, 0);
	assert_int_equal(s->syscalls[1].args[0].value, 8);
	assert_int_equal(s->syscalls[1].args[0].value_two, 0);
	assert_string_equal(s->syscalls[1].args[0].op, "SCMP_CMP_EQ");
	assert_int_equal(s->syscalls[1].args[1].index, 5);
	assert_true(s->syscalls[1].args[1].value == UINT64_MAX);
	assert_int_equal(s->syscalls[1].args[1].value_two, 4);
	assert_string_equal(s->syscalls[1].args[1].op, "SCMP_CMP_MASKED_EQ");
}

/* The smallest config: absent optionals stay absent. */
static void test_minimal_config(void **state)
{
	(void)state;
	_cleanup_config_ struct oci_config *c = parse_ok("{'ociVersion': '1.0.0', 'root': {'path': '/r'}}");
	assert_string_equal(c->root_path, "/r");
	assert_false(c->root_readonly);
	assert_false(c->has_process);
	assert_false(c->has_resources);
	assert_null(c->seccomp);
	assert_null(c->hostname);
	assert_int_equal(c->n_mounts, 0);
	for (int t = 0; t < NS_COUNT; t++)
		assert_false(c->namespaces[t].present);
	assert_false(c->time_offsets[0].present);
}

/* null is absence, as Go writes it for empty optional fields. */
static void test_null_is_absent(void **state)
{
	(void)state;
	_cleanup_config_ struct oci_config *c =
	    parse_ok("{'ociVersion': '1.1.0', 'root': {'path': 'rootfs'}, 'hostname': null, 'mounts': null,"
	             " 'process': {'args': ['true'], 'cwd': '/', 'env': null, 'capabilities': null},"
	             " 'linux': {'resources': null, 'seccomp': null}}");
	assert_null(c->hostname);
	assert_true(c->has_process);
	assert_false(c->process.has_caps);
	assert_null(c->process.env);
	assert_false(c->has_resources);
	assert_null(c->seccomp);
}

static void test_versions(void **state)
{
	(void)state;
	static const char *const accepted[] = {"1.0.0", "1.0.2", "1.0.2-dev", "1.0.0-rc5",    "1.1.0",
	                                       "1.2.0", "1.2.1", "1.3.0",     "1.3.7+build.1"};
	for (size_t i = 0; i < ARRAY_SIZE(accepted); i++) {
		_cleanup_free_ char *doc = NULL;
		assert_true(asprintf(&doc, "{'ociVersion': '%s', 'root': {'path': 'rootfs'}}", accepted[i]) >
		            0);
		_cleanup_config_ struct oci_config *c = parse_ok(doc);
		assert_string_equal(c->oci_version, accepted[i]);
	}
}

/* Parses a document that must fail with exactly `message`. */
static void expect_error(const char *single_quoted, const char *message)
{
	_cleanup_free_ char *text = q(single_quoted);
	_cleanup_error_ struct vsl_error *err = NULL;
	struct oci_config *c = (struct oci_config *)0x1;
	int r = oci_config_parse(text, strlen(text), &c, &err);
	if (r >= 0)
		fail_msg("parsed, expected: %s", message);
	assert_ptr_equal(c, (struct oci_config *)0x1); /* untouched on failure */
	assert_non_null(err);
	assert_string_equal(vsl_error_message(err), message);
}

/* A valid base to break one field at a time. */
#define HEAD        "{'ociVersion': '1.2.0', 'root': {'path': 'rootfs'}, "
#define PROC(extra) "'process': {'args': ['sh'], 'cwd': '/' " extra "}"

static void test_errors(void **state)
{
	(void)state;
	static const struct {
		const char *doc, *message;
	} cases[] = {
	    {HEAD "'process': {'args': 'sh', 'cwd': '/'}}",
	     "config.json: process.args: expected an array of strings"},
	    {HEAD "'process': {'args': ['sh', 1], 'cwd': '/'}}",
	     "config.json: process.args: expected an array of strings"},
	    {"{'root': {'path': 'rootfs'}}", "config.json: ociVersion: required field missing"},
	    {"{'ociVersion': '1.2.0'}", "config.json: root: required field missing"},
	    {"{'ociVersion': '1.2.0', 'root': {'readonly': true}}",
	     "config.json: root.path: required field missing"},
	    {HEAD "'linux': {'namespaces': [{'type': 'pid'}, {'type': 'mount'}, {'type': 'foo'}]}}",
	     "config.json: linux.namespaces[2].type: unknown namespace 'foo'"},
	    {HEAD "'linux': {'namespaces': [{'type': 'pid'}, {'type': 'pid'}]}}",
	     "config.json: linux.namespaces[1].type: duplicate namespace 'pid'"},
	    {HEAD "'linux': {'namespaces': [{'path': '/proc/1/ns/pid'}]}}",
	     "config.json: linux.namespaces[0].type: required field missing"},
	    {HEAD "'linux': {'namespaces': [{'type': 'net'}]}}",
	     "config.json: linux.namespaces[0].type: unknown namespace 'net'"},
	    {HEAD "'linux': {'namespaces': [{'type': 'network', 'path': 'netns'}]}}",
	     "config.json: linux.namespaces[0].path: 'netns' is not an absolute path"},
	    {"{'ociVersion': '2.0.0', 'root': {'path': 'rootfs'}}",
	     "config.json: ociVersion: unsupported version '2.0.0' (vessel supports 1.0.0 to 1.3.x)"},
	    {"{'ociVersion': '0.9', 'root': {'path': 'rootfs'}}",
	     "config.json: ociVersion: unsupported version '0.9' (vessel supports 1.0.0 to 1.3.x)"},
	    {"{'ociVersion': '1.4.0', 'root': {'path': 'rootfs'}}",
	     "config.json: ociVersion: unsupported version '1.4.0' (vessel supports 1.0.0 to 1.3.x)"},
	    {"{'ociVersion': '1.2', 'root': {'path': 'rootfs'}}",
	     "config.json: ociVersion: unsupported version '1.2' (vessel supports 1.0.0 to 1.3.x)"},
	    {"{'ociVersion': 1, 'root': {'path': 'rootfs'}}", "config.json: ociVersion: expected a string"},
	    {HEAD "'process': {'args': ['sh'], 'cwd': 'tmp'}}",
	     "config.json: process.cwd: 'tmp' is not an absolute path"},
	    {HEAD "'process': {'args': ['sh']}}", "config.json: process.cwd: required field missing"},
	    {HEAD "'process': {'args': [], 'cwd': '/'}}", "config.json: process.args: must not be empty"},
	    {HEAD PROC(", 'rlimits': [{'type': 'RLIMIT_FOO', 'hard': 1, 'soft': 1}]") "}",
	     "config.json: process.rlimits[0].type: unknown rlimit 'RLIMIT_FOO'"},
	    {HEAD PROC(", 'rlimits': [{'type': 'RLIMIT_NOFILE', 'soft': 1}]") "}",
	     "config.json: process.rlimits[0].hard: required field missing"},
	    {HEAD PROC(", 'rlimits': [{'type': 'RLIMIT_NOFILE', 'hard': 1, 'soft': 2}]") "}",
	     "config.json: process.rlimits[0]: soft limit 2 is above hard limit 1"},
	    {HEAD PROC(", 'rlimits': [{'type': 'RLIMIT_NOFILE', 'hard': 1, 'soft': 1},"
	               " {'type': 'RLIMIT_CORE', 'hard': 0, 'soft': 0},"
	               " {'type': 'RLIMIT_NOFILE', 'hard': 2, 'soft': 2}]") "}",
	     "config.json: process.rlimits[2].type: duplicate rlimit 'RLIMIT_NOFILE'"},
	    {HEAD PROC(", 'rlimits': [{'type': 'RLIMIT_NOFILE', 'hard': -1, 'soft': 1}]") "}",
	     "config.json: process.rlimits[0].hard: -1 is out of range (expected an unsigned 64-bit "
	     "integer)"},
	    {HEAD PROC(", 'user': {'uid': 4294967296, 'gid': 0}") "}",
	     "config.json: process.user.uid: 4294967296 is out of range (expected an unsigned 32-bit "
	     "integer)"},
	    {HEAD PROC(", 'user': {'uid': -1, 'gid': 0}") "}",
	     "config.json: process.user.uid: -1 is out of range (expected an unsigned 32-bit integer)"},
	    {HEAD PROC(", 'user': {'uid': 0, 'gid': '0'}") "}",
	     "config.json: process.user.gid: expected an unsigned 32-bit integer"},
	    {HEAD PROC(", 'user': {'uid': 0, 'gid': 0, 'additionalGids': [1, 1.5]}") "}",
	     "config.json: process.user.additionalGids[1]: expected an unsigned 32-bit integer"},
	    {HEAD PROC(", 'user': {'uid': 0, 'gid': 0, 'umask': 4096}") "}",
	     "config.json: process.user.umask: 010000 is not a valid umask"},
	    {HEAD PROC(", 'oomScoreAdj': 1001") "}",
	     "config.json: process.oomScoreAdj: 1001 is out of range (expected -1000 to 1000)"},
	    {HEAD PROC(", 'terminal': 'yes'") "}", "config.json: process.terminal: expected a boolean"},
	    {HEAD PROC(", 'capabilities': {'bounding': 'CAP_KILL'}") "}",
	     "config.json: process.capabilities.bounding: expected an array of strings"},
	    {HEAD PROC(", 'consoleSize': {'height': 10}") "}",
	     "config.json: process.consoleSize.width: required field missing"},
	    {HEAD "'linux': {'devices': [{'type': 'x', 'path': '/dev/x', 'major': 1, 'minor': 1}]}}",
	     "config.json: linux.devices[0].type: unknown device type 'x' (expected one of 'cbup')"},
	    {HEAD "'linux': {'devices': [{'type': 'cb', 'path': '/dev/x', 'major': 1, 'minor': 1}]}}",
	     "config.json: linux.devices[0].type: unknown device type 'cb' (expected one of 'cbup')"},
	    {HEAD "'linux': {'devices': [{'type': 'c', 'path': '/dev/null', 'major': 1, 'minor': 3},"
	          " {'type': 'b', 'path': '/dev/sda', 'minor': 0}]}}",
	     "config.json: linux.devices[1].major: required for device type 'b'"},
	    {HEAD "'linux': {'devices': [{'type': 'c', 'path': 'dev/null', 'major': 1, 'minor': 3}]}}",
	     "config.json: linux.devices[0].path: 'dev/null' is not an absolute path"},
	    {HEAD "'linux': {'devices': [{'type': 'c', 'path': '/dev/null', 'major': -1, 'minor': 3}]}}",
	     "config.json: linux.devices[0].major: -1 is not a valid device number"},
	    {HEAD
	     "'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['kill'],"
	     " 'action': 'SCMP_ACT_ERRNO', 'args': [{'index': 0, 'value': 1, 'op': 'SCMP_CMP_FOO'}]}]}}}",
	     "config.json: linux.seccomp.syscalls[0].args[0].op: unknown operator 'SCMP_CMP_FOO' (expected "
	     "one of"
	     " SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT, "
	     "SCMP_CMP_MASKED_EQ)"},
	    {HEAD "'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['kill'],"
	          " 'action': 'SCMP_ACT_ERRNO', 'args': [{'index': 6, 'value': 1, 'op': 'SCMP_CMP_EQ'}]}]}}}",
	     "config.json: linux.seccomp.syscalls[0].args[0].index: 6 is out of range (a syscall has "
	     "arguments 0 to 5)"},
	    {HEAD "'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['kill'],"
	          " 'action': 'SCMP_ACT_ERRNO', 'args': [{'index': 0, 'op': 'SCMP_CMP_EQ'}]}]}}}",
	     "config.json: linux.seccomp.syscalls[0].args[0].value: required field missing"},
	    {HEAD "'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['kill'],"
	          " 'action': 'SCMP_ACT_ERRNO', 'args': [{'index': 0, 'value': 18446744073709551616,"
	          " 'op': 'SCMP_CMP_EQ'}]}]}}}",
	     "config.json: linux.seccomp.syscalls[0].args[0].value: 18446744073709551616 is out of range "
	     "(expected"
	     " an unsigned 64-bit integer)"},
	    {HEAD "'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['kill'],"
	          " 'action': 'SCMP_ACT_ERRNO', 'args': {'index': 0}}]}}}",
	     "config.json: linux.seccomp.syscalls[0].args: expected an array"},
	    {HEAD "'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_MAYBE'}}}",
	     "config.json: linux.seccomp.defaultAction: unknown action 'SCMP_ACT_MAYBE' (expected one of"
	     " SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_ERRNO,"
	     " SCMP_ACT_TRACE, SCMP_ACT_ALLOW, SCMP_ACT_LOG, SCMP_ACT_NOTIFY)"},
	    {HEAD
	     "'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', 'flags': ['SECCOMP_FILTER_FLAG_LOG',"
	     " 'SECCOMP_FILTER_FLAG_X']}}}",
	     "config.json: linux.seccomp.flags[1]: unknown seccomp flag 'SECCOMP_FILTER_FLAG_X'"},
	    {HEAD "'linux': {'rootfsPropagation': 'recursive'}}",
	     "config.json: linux.rootfsPropagation: unknown propagation 'recursive' (expected one of shared, "
	     "slave,"
	     " private, rshared, rslave, rprivate, unbindable, runbindable)"},
	    {HEAD "'linux': {'personality': {'domain': 'BSD'}}}",
	     "config.json: linux.personality.domain: unknown personality domain 'BSD' (expected one of LINUX,"
	     " LINUX32)"},
	    {HEAD "'linux': {'sysctl': {'net.ipv4.ip_forward': 1}}}",
	     "config.json: linux.sysctl.net.ipv4.ip_forward: expected a string"},
	    {HEAD "'linux': {'resources': {'memory': {'limit': 9223372036854775808}}}}",
	     "config.json: linux.resources.memory.limit: 9223372036854775808 is out of range (expected a "
	     "64-bit"
	     " integer)"},
	    {HEAD "'linux': {'resources': {'blockIO': {'weight': 65536}}}}",
	     "config.json: linux.resources.blockIO.weight: 65536 is out of range (expected an unsigned 16-bit"
	     " integer)"},
	    {HEAD "'linux': {'resources': {'devices': [{'allow': true, 'type': 'p'}]}}}",
	     "config.json: linux.resources.devices[0].type: unknown device type 'p' (expected one of 'acb')"},
	    {HEAD "'linux': {'resources': {'devices': [{'allow': true, 'access': 'rwx'}]}}}",
	     "config.json: linux.resources.devices[0].access: invalid access 'rwx' (expected letters among "
	     "r, w, m)"},
	    {HEAD "'linux': {'resources': {'devices': [{'access': 'r'}]}}}",
	     "config.json: linux.resources.devices[0].allow: required field missing"},
	    {HEAD "'linux': {'uidMappings': [{'containerID': 0, 'hostID': 1000}]}}",
	     "config.json: linux.uidMappings[0].size: required field missing"},
	    {HEAD "'linux': {'timeOffsets': {'boottime': {'secs': 1, 'nanosecs': 1000000000}}}}",
	     "config.json: linux.timeOffsets.boottime.nanosecs: must be below 1000000000"},
	    {HEAD "'mounts': [{'destination': '/a'}, {'type': 'tmpfs'}]}",
	     "config.json: mounts[1].destination: required field missing"},
	    {HEAD "'mounts': [{'destination': '/a', 'options': 'ro'}]}",
	     "config.json: mounts[0].options: expected an array of strings"},
	    {HEAD "'mounts': {'destination': '/a'}}", "config.json: mounts: expected an array"},
	    {HEAD "'mounts': ['/a']}", "config.json: mounts[0]: expected an object"},
	    {HEAD "'hooks': {'prestart': [{'path': 'hook'}]}}",
	     "config.json: hooks.prestart[0].path: 'hook' is not an absolute path"},
	    {HEAD "'hooks': {'poststop': [{'args': ['x']}]}}",
	     "config.json: hooks.poststop[0].path: required field missing"},
	    {HEAD "'hooks': {'createRuntime': [{'path': '/h', 'timeout': 0}]}}",
	     "config.json: hooks.createRuntime[0].timeout: must be greater than zero"},
	    {HEAD "'annotations': ['a']}", "config.json: annotations: expected an object of strings"},
	    {HEAD "'process': 'sh'}", "config.json: process: expected an object"},
	    {"[1, 2]", "config.json: expected an object"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		expect_error(cases[i].doc, cases[i].message);
}

/* The text after the position is jansson's own. */
static void test_invalid_json(void **state)
{
	(void)state;
	static const struct {
		const char *doc, *prefix;
	} cases[] = {
	    {"{'ociVersion': '1.2.0',", "config.json: invalid JSON at line 1, column 23: "},
	    {"{'ociVersion': '1.2.0'} x", "config.json: invalid JSON at line 1, column 25: "},
	    /* NUL is refused even where we rewrite big integers. */
	    {"{'ociVersion': '1.2.0\\u0000', 'n': 18446744073709551615}",
	     "config.json: invalid JSON at line 1, column 28: "},
	    {"", "config.json: invalid JSON at line 1, column 0: "},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_free_ char *text = q(cases[i].doc);
		_cleanup_error_ struct vsl_error *err = NULL;
		struct oci_config *c = NULL;
		assert_true(oci_config_parse(text, strlen(text), &c, &err) < 0);
		assert_null(c);
		if (strncmp(vsl_error_message(err), cases[i].prefix, strlen(cases[i].prefix)) != 0)
			fail_msg("'%s' does not start with '%s'", vsl_error_message(err), cases[i].prefix);
	}
}

/* A marker-looking string can only come from our own rewrite, never from the input. */
static void test_big_integer_only_where_unsigned(void **state)
{
	(void)state;
	expect_error(HEAD "'hostname': 18446744073709551615}", "config.json: hostname: expected a string");
	expect_error(HEAD PROC(", 'args': [18446744073709551615]") "}",
	             "config.json: process.args: expected an array of strings");
	/* Strings that look like numbers are not numbers. */
	expect_error(
	    HEAD PROC(
	        ", 'rlimits': [{'type': 'RLIMIT_NOFILE', 'hard': '18446744073709551615', 'soft': 1}]") "}",
	    "config.json: process.rlimits[0].hard: expected an unsigned 64-bit integer");
}

static void test_load(void **state)
{
	(void)state;
	char dir[] = "/tmp/test-config-XXXXXX";
	assert_non_null(mkdtemp(dir));
	_cleanup_free_ char *path = NULL;
	assert_true(asprintf(&path, "%s/config.json", dir) > 0);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"}, \"hostname\": \"h\"}", f);
	assert_int_equal(fclose(f), 0);

	_cleanup_close_ int dirfd = open(dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	assert_true(dirfd >= 0);
	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_config_ struct oci_config *c = NULL;
	assert_int_equal(oci_config_load(dirfd, "config.json", &c, &err), 0);
	assert_string_equal(c->hostname, "h");

	struct oci_config *none = NULL;
	assert_int_equal(oci_config_load(dirfd, "missing.json", &none, &err), -ENOENT);
	assert_string_equal(vsl_error_message(err), "open 'missing.json': No such file or directory");
	assert_null(none);

	unlink(path);
	rmdir(dir);
}

static void test_process_parse(void **state)
{
	(void)state;
	_cleanup_free_ char *text =
	    q("{'terminal': false, 'user': {'uid': 33, 'gid': 33, 'additionalGids': [4]},"
	      " 'args': ['/bin/ps', 'aux'], 'env': ['A=b'], 'cwd': '/tmp',"
	      " 'capabilities': {'bounding': ['CAP_SYS_PTRACE']},"
	      " 'rlimits': [{'type': 'RLIMIT_CORE', 'hard': 0, 'soft': 0}],"
	      " 'noNewPrivileges': true, 'oomScoreAdj': 100}");
	_cleanup_error_ struct vsl_error *err = NULL;
	struct oci_process p;
	assert_int_equal(oci_process_parse(text, strlen(text), &p, &err), 0);
	assert_false(p.terminal);
	assert_int_equal(p.user.uid, 33);
	assert_int_equal(p.user.n_additional_gids, 1);
	assert_int_equal(p.user.additional_gids[0], 4);
	assert_strv(p.args, "/bin/ps", "aux", NULL);
	assert_string_equal(p.cwd, "/tmp");
	assert_true(p.has_caps);
	assert_strv(p.caps.bounding, "CAP_SYS_PTRACE", NULL);
	assert_int_equal(p.n_rlimits, 1);
	assert_int_equal(p.rlimits[0].resource, RLIMIT_CORE);
	assert_true(p.no_new_privileges);
	assert_int_equal(p.oom_score_adj, 100);
	oci_process_clear(&p);
	assert_null(p.args);
	oci_process_clear(&p); /* twice is harmless */

	/* Same rules as in config.json, the path rooted at "process". */
	static const struct {
		const char *doc, *message;
	} cases[] = {
	    {"{'args': 'ps', 'cwd': '/'}", "process.args: expected an array of strings"},
	    {"{'args': ['ps'], 'cwd': 'tmp'}", "process.cwd: 'tmp' is not an absolute path"},
	    {"{'cwd': '/'}", "process.args: required field missing"},
	    {"{'args': ['ps'], 'cwd': '/', 'rlimits': [{'type': 'RLIMIT_X', 'hard': 1, 'soft': 1}]}",
	     "process.rlimits[0].type: unknown rlimit 'RLIMIT_X'"},
	    {"['ps']", "process: expected an object"},
	    {"{", "process: invalid JSON at line 1, column 1: string or '}' expected near end of file"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_free_ char *doc = q(cases[i].doc);
		_cleanup_error_ struct vsl_error *e = NULL;
		struct oci_process bad;
		assert_true(oci_process_parse(doc, strlen(doc), &bad, &e) < 0);
		assert_string_equal(vsl_error_message(e), cases[i].message);
		assert_null(bad.args); /* cleared */
		assert_null(bad.rlimits);
	}
}

static void test_resources_parse(void **state)
{
	(void)state;
	_cleanup_free_ char *text = q("{'memory': {'limit': 1073741824, 'swap': 2147483648},"
	                              " 'cpu': {'quota': 20000, 'period': 100000, 'cpus': '1'},"
	                              " 'pids': {'limit': -1},"
	                              " 'blockIO': {'weight': 100},"
	                              " 'unified': {'pids.max': 'max'}}");
	_cleanup_error_ struct vsl_error *err = NULL;
	struct oci_resources r;
	assert_int_equal(oci_resources_parse(text, strlen(text), &r, &err), 0);
	assert_true(r.memory.has_limit);
	assert_int_equal(r.memory.limit, 1073741824);
	assert_true(r.memory.has_swap);
	assert_int_equal(r.memory.swap, 2147483648);
	assert_false(r.memory.has_reservation);
	assert_true(r.cpu.has_quota && r.cpu.has_period);
	assert_false(r.cpu.has_shares);
	assert_int_equal(r.cpu.quota, 20000);
	assert_string_equal(r.cpu.cpus, "1");
	assert_null(r.cpu.mems);
	assert_true(r.pids.has_limit);
	assert_int_equal(r.pids.limit, -1);
	assert_true(r.blkio.has_weight);
	assert_int_equal(r.blkio.weight, 100);
	assert_int_equal(r.n_unified, 1);
	assert_string_equal(r.unified[0].key, "pids.max");
	assert_string_equal(r.unified[0].value, "max");
	oci_resources_clear(&r);
	assert_null(r.cpu.cpus);

	_cleanup_free_ char *bad = q("{'cpu': {'cpus': '0-1', 'shares': -2}}");
	struct oci_resources b;
	assert_true(oci_resources_parse(bad, strlen(bad), &b, &err) < 0);
	assert_string_equal(vsl_error_message(err),
	                    "resources.cpu.shares: -2 is out of range (expected an unsigned 64-bit integer)");
	assert_null(b.cpu.cpus);
}

/* Errors late in a document, after much was allocated: ASan checks nothing leaks. */
static void test_late_error_frees(void **state)
{
	(void)state;
	_cleanup_free_ char *doc = NULL;
	size_t n = strlen(full_config);
	/* Break the very last field of the full config. */
	assert_true(asprintf(&doc, "%.*s, 'personality': {'domain': 'X'}}}", (int)(n - 2), full_config) > 0);
	expect_error(doc,
	             "config.json: linux.personality.domain: unknown personality domain 'X' (expected one of"
	             " LINUX, LINUX32)");
}

static void test_spec_roundtrip(void **state)
{
	(void)state;
	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_free_ char *json = NULL;
	assert_int_equal(spec_generate(false, &json, &err), 0);
	assert_non_null(strstr(json, "\n  \"process\": {\n")); /* two-space indentation */

	_cleanup_config_ struct oci_config *c = NULL;
	assert_int_equal(oci_config_parse(json, strlen(json), &c, &err), 0);
	assert_string_equal(c->oci_version, "1.2.0");
	assert_string_equal(c->root_path, "rootfs");
	assert_true(c->root_readonly);
	assert_string_equal(c->hostname, "vessel");
	assert_true(c->has_process);
	assert_true(c->process.terminal);
	assert_strv(c->process.args, "sh", NULL);
	assert_strv(c->process.env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	            "TERM=xterm", NULL);
	assert_string_equal(c->process.cwd, "/");
	assert_strv(c->process.caps.bounding, "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL);
	assert_strv(c->process.caps.effective, "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL);
	assert_strv(c->process.caps.permitted, "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL);
	assert_null(c->process.caps.inheritable);
	assert_int_equal(c->process.n_rlimits, 1);
	assert_int_equal(c->process.rlimits[0].resource, RLIMIT_NOFILE);
	assert_int_equal(c->process.rlimits[0].hard, 1024);
	assert_int_equal(c->process.rlimits[0].soft, 1024);
	assert_true(c->process.no_new_privileges);

	static const char *const dests[] = {"/proc",       "/dev", "/dev/pts",      "/dev/shm",
	                                    "/dev/mqueue", "/sys", "/sys/fs/cgroup"};
	assert_int_equal(c->n_mounts, ARRAY_SIZE(dests));
	for (size_t i = 0; i < ARRAY_SIZE(dests); i++)
		assert_string_equal(c->mounts[i].destination, dests[i]);
	assert_string_equal(c->mounts[5].type, "sysfs");
	assert_strv(c->mounts[2].options, "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620",
	            "gid=5", NULL);

	assert_true(c->namespaces[NS_PID].present && c->namespaces[NS_NETWORK].present);
	assert_true(c->namespaces[NS_IPC].present && c->namespaces[NS_UTS].present);
	assert_true(c->namespaces[NS_MOUNT].present && c->namespaces[NS_CGROUP].present);
	assert_false(c->namespaces[NS_USER].present);
	assert_false(c->namespaces[NS_TIME].present);
	assert_int_equal(c->n_uid_mappings, 0);
	assert_true(c->has_resources);
	assert_int_equal(c->resources.n_devices, 1);
	assert_false(c->resources.devices[0].allow);
	assert_string_equal(c->resources.devices[0].access, "rwm");
	assert_string_equal(c->masked_paths[0], "/proc/acpi");
	assert_strv(c->readonly_paths, "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
	            "/proc/sysrq-trigger", NULL);
}

static void test_spec_rootless(void **state)
{
	(void)state;
	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_free_ char *json = NULL;
	assert_int_equal(spec_generate(true, &json, &err), 0);
	_cleanup_config_ struct oci_config *c = NULL;
	assert_int_equal(oci_config_parse(json, strlen(json), &c, &err), 0);

	assert_true(c->namespaces[NS_USER].present);
	assert_false(c->namespaces[NS_NETWORK].present);
	assert_true(c->namespaces[NS_PID].present && c->namespaces[NS_MOUNT].present);
	assert_int_equal(c->n_uid_mappings, 1);
	assert_int_equal(c->uid_mappings[0].container_id, 0);
	assert_int_equal(c->uid_mappings[0].host_id, geteuid());
	assert_int_equal(c->uid_mappings[0].size, 1);
	assert_int_equal(c->n_gid_mappings, 1);
	assert_int_equal(c->gid_mappings[0].container_id, 0);
	assert_int_equal(c->gid_mappings[0].host_id, getegid());
	assert_int_equal(c->gid_mappings[0].size, 1);
	assert_false(c->has_resources);

	/* /sys is the host's, bound read-only; no uid=/gid= options survive. */
	assert_int_equal(c->n_mounts, 7);
	assert_string_equal(c->mounts[5].destination, "/sys");
	assert_string_equal(c->mounts[5].type, "none");
	assert_string_equal(c->mounts[5].source, "/sys");
	assert_strv(c->mounts[5].options, "rbind", "nosuid", "noexec", "nodev", "ro", NULL);
	assert_strv(c->mounts[2].options, "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620",
	            NULL);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(ns_type_name(NS_NETWORK), "network");
	assert_string_equal(ns_type_name(NS_MOUNT), "mount");
	assert_string_equal(ns_type_name(NS_TIME), "time");
	assert_string_equal(ns_type_proc_name(NS_NETWORK), "net");
	assert_string_equal(ns_type_proc_name(NS_MOUNT), "mnt");
	assert_string_equal(ns_type_proc_name(NS_USER), "user");
	assert_string_equal(ns_type_proc_name(NS_TIME), "time");
	assert_int_equal(ns_type_clone_flag(NS_USER), CLONE_NEWUSER);
	assert_int_equal(ns_type_clone_flag(NS_MOUNT), CLONE_NEWNS);
	assert_int_equal(ns_type_clone_flag(NS_NETWORK), CLONE_NEWNET);
	assert_int_equal(ns_type_clone_flag(NS_CGROUP), CLONE_NEWCGROUP);
	assert_int_equal(ns_type_clone_flag(NS_TIME), 0x80);
	assert_null(ns_type_name(NS_COUNT));
	assert_string_equal(hook_kind_name(HOOK_PRESTART), "prestart");
	assert_string_equal(hook_kind_name(HOOK_CREATE_RUNTIME), "createRuntime");
	assert_string_equal(hook_kind_name(HOOK_CREATE_CONTAINER), "createContainer");
	assert_string_equal(hook_kind_name(HOOK_START_CONTAINER), "startContainer");
	assert_string_equal(hook_kind_name(HOOK_POSTSTART), "poststart");
	assert_string_equal(hook_kind_name(HOOK_POSTSTOP), "poststop");
	oci_config_free(NULL);
	oci_process_clear(NULL);
	oci_resources_clear(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full_config),
	    cmocka_unit_test(test_minimal_config),
	    cmocka_unit_test(test_null_is_absent),
	    cmocka_unit_test(test_versions),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_invalid_json),
	    cmocka_unit_test(test_big_integer_only_where_unsigned),
	    cmocka_unit_test(test_load),
	    cmocka_unit_test(test_process_parse),
	    cmocka_unit_test(test_resources_parse),
	    cmocka_unit_test(test_late_error_frees),
	    cmocka_unit_test(test_spec_roundtrip),
	    cmocka_unit_test(test_spec_rootless),
	    cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
