/* config.json from a create body and an image config: each case builds a
 * spec against a fake image root (its own /etc/passwd and /etc/group), parses
 * it back with jansson and with the runtime's oci_config_parse(), and checks
 * the values Docker's documentation and defaults give, written out by hand. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <cmocka.h>

#include "engine/create-config.h"
#include "engine/oci-spec.h"
#include "image/manifest.h"
#include "runtime/config.h"
#include "runtime/seccomp.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json-table.h"

#define ID             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define STRV(...)      ((const char *const[]){__VA_ARGS__, NULL})
#define _cleanup_json_ _cleanup_(json_decrefp)

struct fixture {
	char dir[64]; /* holds root/ and outside/ */
	int rootfd;
	char root[128];
};

static char *q(const char *s)
{
	char *t = strdup(s);
	assert_non_null(t);
	for (char *c = t; *c; c++)
		if (*c == '\'')
			*c = '"';
	return t;
}

static void write_at(int dirfd, const char *name, const char *content)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test-oci-spec-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->root, sizeof(f->root), "%s/root", f->dir);
	assert_int_equal(mkdir(f->root, 0755), 0);
	f->rootfd = open(f->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(f->rootfd >= 0);
	assert_int_equal(mkdirat(f->rootfd, "etc", 0755), 0);
	write_at(f->rootfd, "etc/passwd",
	         "root:x:0:0:root:/root:/bin/sh\n"
	         "app:x:1000:1000:App:/home/app:/bin/sh\n"
	         "svc:x:1001:1001::/:/bin/sh\n");
	write_at(f->rootfd, "etc/group",
	         "root:x:0:\n"
	         "wheel:x:10:root,app\n"
	         "staff:x:50:app\n"
	         "app:x:1000:\n"
	         "video:x:44:\n");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	close(f->rootfd);
	rm_rf_at(AT_FDCWD, f->dir);
	free(f);
	return 0;
}

struct opts {
	const char *image; /* the "config" object of an image config; NULL: no image */
	const char *hosts, *hostname, *resolv;
	const char *init_path;
	const char *net_path;
};

/* Builds; on success checks that both jansson and the runtime parse it. */
static int build(struct fixture *f, const char *body, const struct opts *o, json_t **ret,
                 struct vsl_error **err)
{
	static const struct opts none;
	if (o == NULL)
		o = &none;
	_cleanup_free_ char *b = q(body);
	_cleanup_container_create_ struct container_create *c = NULL;
	if (container_create_parse(b, strlen(b), &c, err) < 0)
		fail_msg("parse: %s", (*err)->msg);
	_cleanup_image_config_ struct image_config *img = NULL;
	if (o->image) {
		_cleanup_free_ char *raw = NULL;
		assert_true(asprintf(&raw,
		                     "{'architecture': 'amd64', 'os': 'linux', 'rootfs': {'type': 'layers', "
		                     "'diff_ids': []},"
		                     " 'config': %s}",
		                     o->image) > 0);
		_cleanup_free_ char *ij = q(raw);
		if (image_config_parse(ij, strlen(ij), &img, err) < 0)
			fail_msg("image config: %s", (*err)->msg);
	}
	struct oci_spec_input in = {
	    .create = c,
	    .image = img,
	    .id = ID,
	    .name = "web",
	    .rootfs = f->root,
	    .rootfs_dirfd = f->rootfd,
	    .hosts_path = o->hosts,
	    .hostname_path = o->hostname,
	    .resolv_conf_path = o->resolv,
	    .init_path = o->init_path,
	};
	in.ns_paths[NS_NETWORK] = o->net_path;
	_cleanup_free_ char *text = NULL;
	int r = oci_spec_build(&in, &text, err);
	if (r < 0)
		return r;

	_cleanup_error_ struct vsl_error *perr = NULL;
	_cleanup_config_ struct oci_config *cfg = NULL;
	if (oci_config_parse(text, strlen(text), &cfg, &perr) < 0)
		fail_msg("oci_config_parse refused the spec: %s\n%s", perr->msg, text);
	if (cfg->seccomp) {
		struct seccomp_filter *sf = NULL;
		if (seccomp_filter_prepare(cfg->seccomp, &sf, &perr) < 0)
			fail_msg("the runtime cannot compile the seccomp profile: %s", perr->msg);
		seccomp_filter_free(sf);
	}
	/* json_table_load: it keeps the integers beyond int64 jansson refuses. */
	const struct jpath root = {.key = "spec", .doc = true};
	if (json_table_load(text, strlen(text), &root, ret, &perr) < 0)
		fail_msg("%s", perr->msg);
	return 0;
}

static json_t *build_ok(struct fixture *f, const char *body, const struct opts *o)
{
	_cleanup_error_ struct vsl_error *err = NULL;
	json_t *j = NULL;
	if (build(f, body, o, &j, &err) < 0)
		fail_msg("build: %s", err->msg);
	return j;
}

static void build_fails(struct fixture *f, const char *body, const struct opts *o, const char *want)
{
	_cleanup_error_ struct vsl_error *err = NULL;
	json_t *j = NULL;
	if (build(f, body, o, &j, &err) >= 0) {
		json_decref(j);
		fail_msg("build accepted %s", body);
	}
	assert_string_equal(err->msg, want);
}

/* "process.args", "mounts[2].options", "linux.resources.memory.limit" */
static json_t *at(json_t *j, const char *path)
{
	char key[128];
	const char *p = path;
	while (j && *p) {
		if (*p == '.')
			p++;
		if (*p == '[') {
			size_t i = strtoul(p + 1, (char **)&p, 10);
			p++; /* ] */
			j = json_array_get(j, i);
			continue;
		}
		size_t n = strcspn(p, ".[");
		assert_true(n < sizeof(key));
		memcpy(key, p, n);
		key[n] = '\0';
		p += n;
		j = json_object_get(j, key);
	}
	return j;
}

static void assert_strv_json(json_t *a, const char *const *want)
{
	assert_true(json_is_array(a));
	size_t i = 0;
	for (; want[i]; i++) {
		if (i >= json_array_size(a))
			fail_msg("array too short: missing '%s' at %zu", want[i], i);
		assert_string_equal(json_string_value(json_array_get(a, i)), want[i]);
	}
	if (json_array_size(a) != i)
		fail_msg("array has %zu entries, expected %zu (extra '%s')", json_array_size(a), i,
		         json_string_value(json_array_get(a, i)));
}

static void assert_int_at(json_t *j, const char *path, long long want)
{
	json_t *v = at(j, path);
	if (!json_is_integer(v))
		fail_msg("%s: not an integer", path);
	assert_int_equal(json_integer_value(v), want);
}

static void assert_str_at(json_t *j, const char *path, const char *want)
{
	json_t *v = at(j, path);
	if (!json_is_string(v))
		fail_msg("%s: not a string", path);
	assert_string_equal(json_string_value(v), want);
}

static json_t *mount_at(json_t *j, const char *dst)
{
	size_t i;
	json_t *m;
	json_array_foreach(json_object_get(j, "mounts"), i, m)
	{
		if (strcmp(json_string_value(json_object_get(m, "destination")), dst) == 0)
			return m;
	}
	return NULL;
}

static bool has_namespace(json_t *j, const char *type, const char **ret_path)
{
	size_t i;
	json_t *ns;
	json_array_foreach(at(j, "linux.namespaces"), i, ns)
	{
		if (strcmp(json_string_value(json_object_get(ns, "type")), type) == 0) {
			if (ret_path)
				*ret_path = json_string_value(json_object_get(ns, "path"));
			return true;
		}
	}
	return false;
}

static const char *const empty[] = {NULL};

static const char *const docker_caps[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
    NULL,
};

/* ---- the defaults ---- */

static void test_defaults(void **state)
{
	struct fixture *f = *state;
	struct opts o = {.image = "{'Cmd': ['sh'], 'Env': ['PATH=/usr/bin:/bin', 'A=1']}",
	                 .resolv = "/run/v/resolv.conf",
	                 .hostname = "/run/v/hostname",
	                 .hosts = "/run/v/hosts"};
	_cleanup_json_ json_t *j = build_ok(f, "{'Image': 'busybox'}", &o);

	assert_str_at(j, "root.path", f->root);
	assert_true(json_is_false(at(j, "root.readonly")));
	assert_str_at(j, "hostname", "0123456789ab");
	assert_strv_json(at(j, "process.args"), STRV("sh"));
	assert_strv_json(at(j, "process.env"), STRV("PATH=/usr/bin:/bin", "HOSTNAME=0123456789ab", "A=1"));
	assert_str_at(j, "process.cwd", "/");
	assert_true(json_is_false(at(j, "process.terminal")));
	assert_int_at(j, "process.user.uid", 0);
	assert_int_at(j, "process.user.gid", 0);
	/* root is listed in wheel: its supplementary group, as runc finds it. */
	assert_int_at(j, "process.user.additionalGids[0]", 10);
	assert_int_equal(json_array_size(at(j, "process.user.additionalGids")), 1);
	assert_strv_json(at(j, "process.capabilities.bounding"), docker_caps);
	assert_strv_json(at(j, "process.capabilities.effective"), docker_caps);
	assert_strv_json(at(j, "process.capabilities.permitted"), docker_caps);
	assert_strv_json(at(j, "process.capabilities.inheritable"), empty);
	assert_strv_json(at(j, "process.capabilities.ambient"), empty);
	assert_null(at(j, "process.rlimits"));
	assert_true(json_is_false(at(j, "process.noNewPrivileges")));
	assert_int_at(j, "process.oomScoreAdj", 0);

	/* Docker's mounts in Docker's order, then the engine's files. */
	const struct {
		const char *dst, *type, *src;
		const char *const *opts;
	} want[] = {
	    {"/proc", "proc", "proc", STRV("nosuid", "noexec", "nodev")},
	    {"/dev", "tmpfs", "tmpfs", STRV("nosuid", "strictatime", "mode=755", "size=65536k")},
	    {"/dev/pts", "devpts", "devpts",
	     STRV("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5")},
	    {"/sys", "sysfs", "sysfs", STRV("nosuid", "noexec", "nodev", "ro")},
	    {"/sys/fs/cgroup", "cgroup", "cgroup", STRV("nosuid", "noexec", "nodev", "ro")},
	    {"/dev/mqueue", "mqueue", "mqueue", STRV("nosuid", "noexec", "nodev")},
	    {"/dev/shm", "tmpfs", "shm", STRV("nosuid", "noexec", "nodev", "mode=1777", "size=65536k")},
	    {"/etc/resolv.conf", "bind", "/run/v/resolv.conf", STRV("rbind", "rprivate")},
	    {"/etc/hostname", "bind", "/run/v/hostname", STRV("rbind", "rprivate")},
	    {"/etc/hosts", "bind", "/run/v/hosts", STRV("rbind", "rprivate")},
	};
	assert_int_equal(json_array_size(at(j, "mounts")), sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		json_t *m = json_array_get(at(j, "mounts"), i);
		assert_string_equal(json_string_value(json_object_get(m, "destination")), want[i].dst);
		assert_string_equal(json_string_value(json_object_get(m, "type")), want[i].type);
		assert_string_equal(json_string_value(json_object_get(m, "source")), want[i].src);
		assert_strv_json(json_object_get(m, "options"), want[i].opts);
	}

	assert_strv_json(at(j, "linux.maskedPaths"),
	                 STRV("/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys",
	                      "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
	                      "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
	                      "/sys/devices/virtual/powercap"));
	assert_strv_json(at(j, "linux.readonlyPaths"),
	                 STRV("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"));
	const char *const ns[] = {"pid", "network", "ipc", "uts", "mount", "cgroup"};
	for (size_t i = 0; i < 6; i++) {
		const char *path = "x";
		assert_true(has_namespace(j, ns[i], &path));
		assert_null(path);
	}
	assert_false(has_namespace(j, "user", NULL));
	assert_int_equal(json_array_size(at(j, "linux.namespaces")), 6);
	assert_str_at(j, "linux.cgroupsPath", "/vessel/" ID);
	json_t *ann = at(j, "annotations");
	assert_string_equal(json_string_value(json_object_get(ann, "io.vessel.id")), ID);
	assert_string_equal(json_string_value(json_object_get(ann, "io.vessel.name")), "web");
	assert_null(json_object_get(ann, "org.opencontainers.image.stopSignal"));
	assert_null(at(j, "linux.rootfsPropagation"));
	assert_null(at(j, "linux.sysctl"));
	assert_null(at(j, "domainname"));

	/* Deny all, then Docker's (runc's) standard devices. */
	const struct {
		bool allow;
		const char *type;
		long long major, minor;
		const char *access;
	} rules[] = {
	    {false, NULL, -2, -2, "rwm"}, {true, "c", -1, -1, "m"},    {true, "b", -1, -1, "m"},
	    {true, "c", 1, 3, "rwm"},     {true, "c", 1, 8, "rwm"},    {true, "c", 1, 7, "rwm"},
	    {true, "c", 5, 0, "rwm"},     {true, "c", 1, 5, "rwm"},    {true, "c", 1, 9, "rwm"},
	    {true, "c", 5, 1, "rwm"},     {true, "c", 136, -1, "rwm"}, {true, "c", 5, 2, "rwm"},
	};
	json_t *dr = at(j, "linux.resources.devices");
	assert_int_equal(json_array_size(dr), sizeof(rules) / sizeof(rules[0]));
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		json_t *r = json_array_get(dr, i);
		assert_int_equal(json_is_true(json_object_get(r, "allow")), rules[i].allow);
		assert_string_equal(json_string_value(json_object_get(r, "access")), rules[i].access);
		if (rules[i].type == NULL) {
			assert_null(json_object_get(r, "type"));
			continue;
		}
		assert_string_equal(json_string_value(json_object_get(r, "type")), rules[i].type);
		assert_int_equal(json_integer_value(json_object_get(r, "major")), rules[i].major);
		assert_int_equal(json_integer_value(json_object_get(r, "minor")), rules[i].minor);
	}
	assert_int_equal(json_array_size(at(j, "linux.devices")), 0);
	assert_null(at(j, "linux.resources.memory"));
	assert_null(at(j, "linux.resources.cpu"));
	assert_null(at(j, "linux.resources.pids"));
}

/* The rule of the default profile naming syscall, or NULL; several may name it. */
static json_t *seccomp_rule(json_t *j, const char *syscall, size_t nth)
{
	size_t i, k;
	json_t *rule, *n;
	json_array_foreach(at(j, "linux.seccomp.syscalls"), i, rule)
	{
		json_array_foreach(json_object_get(rule, "names"), k, n)
		{
			if (strcmp(json_string_value(n), syscall) == 0 && nth-- == 0)
				return rule;
		}
	}
	return NULL;
}

static void test_seccomp_default(void **state)
{
	struct fixture *f = *state;
	_cleanup_json_ json_t *j = build_ok(f, "{'Cmd': ['true']}", NULL);
	assert_str_at(j, "linux.seccomp.defaultAction", "SCMP_ACT_ERRNO");
	assert_int_at(j, "linux.seccomp.defaultErrnoRet", EPERM);
#if defined(__x86_64__)
	assert_strv_json(at(j, "linux.seccomp.architectures"),
	                 STRV("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"));
	assert_non_null(seccomp_rule(j, "arch_prctl", 0));
	assert_null(seccomp_rule(j, "set_tls", 0));
#elif defined(__aarch64__)
	assert_strv_json(at(j, "linux.seccomp.architectures"), STRV("SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"));
	assert_non_null(seccomp_rule(j, "set_tls", 0));
	assert_null(seccomp_rule(j, "arch_prctl", 0));
#endif
	/* Plain allows. */
	const char *const allowed[] = {"read",          "openat", "execve", "futex",
	                               "clock_gettime", "ptrace", "chmod",  NULL};
	for (size_t i = 0; allowed[i]; i++) {
		json_t *r = seccomp_rule(j, allowed[i], 0);
		if (r == NULL)
			fail_msg("'%s' is not allowed", allowed[i]);
		assert_string_equal(json_string_value(json_object_get(r, "action")), "SCMP_ACT_ALLOW");
		assert_null(json_object_get(r, "args"));
	}
	/* Not in Docker's default set of capabilities: blocked (absent: the default action). */
	const char *const blocked[] = {"mount",       "umount2",
	                               "unshare",     "setns",
	                               "pivot_root",  "keyctl",
	                               "add_key",     "bpf",
	                               "reboot",      "init_module",
	                               "kexec_load",  "settimeofday",
	                               "swapon",      "open_by_handle_at",
	                               "userfaultfd", "io_uring_setup",
	                               "kcmp",        NULL};
	for (size_t i = 0; blocked[i]; i++)
		if (seccomp_rule(j, blocked[i], 0) != NULL)
			fail_msg("'%s' is allowed", blocked[i]);
	/* chroot: CAP_SYS_CHROOT is a default capability. */
	assert_non_null(seccomp_rule(j, "chroot", 0));

	json_t *clone = seccomp_rule(j, "clone", 0);
	assert_non_null(clone);
	assert_null(seccomp_rule(j, "clone", 1));
	assert_string_equal(json_string_value(json_object_get(clone, "action")), "SCMP_ACT_ALLOW");
	json_t *arg = json_array_get(json_object_get(clone, "args"), 0);
	assert_int_equal(json_integer_value(json_object_get(arg, "index")), 0);
	assert_int_equal(json_integer_value(json_object_get(arg, "value")), 2114060288);
	assert_string_equal(json_string_value(json_object_get(arg, "op")), "SCMP_CMP_MASKED_EQ");
	json_t *clone3 = seccomp_rule(j, "clone3", 0);
	assert_string_equal(json_string_value(json_object_get(clone3, "action")), "SCMP_ACT_ERRNO");
	assert_int_equal(json_integer_value(json_object_get(clone3, "errnoRet")), ENOSYS);

	json_t *sock = seccomp_rule(j, "socket", 0);
	arg = json_array_get(json_object_get(sock, "args"), 0);
	assert_int_equal(json_integer_value(json_object_get(arg, "value")), 40);
	assert_string_equal(json_string_value(json_object_get(arg, "op")), "SCMP_CMP_NE");
	const long long pers[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffff};
	for (size_t i = 0; i < 5; i++) {
		json_t *r = seccomp_rule(j, "personality", i);
		assert_non_null(r);
		arg = json_array_get(json_object_get(r, "args"), 0);
		assert_int_equal(json_integer_value(json_object_get(arg, "value")), pers[i]);
		assert_string_equal(json_string_value(json_object_get(arg, "op")), "SCMP_CMP_EQ");
	}
	assert_null(seccomp_rule(j, "personality", 5));

	/* CAP_SYS_ADMIN opens the mount family and frees clone; CAP_SYS_PTRACE kcmp. */
	_cleanup_json_ json_t *a =
	    build_ok(f, "{'Cmd': ['true'], 'HostConfig': {'CapAdd': ['SYS_ADMIN', 'sys_ptrace']}}", NULL);
	assert_non_null(seccomp_rule(a, "mount", 0));
	assert_non_null(seccomp_rule(a, "setns", 0));
	assert_non_null(seccomp_rule(a, "kcmp", 0));
	assert_null(seccomp_rule(a, "clone3", 0) == NULL
	                ? NULL
	                : json_object_get(seccomp_rule(a, "clone3", 0), "errnoRet"));
	clone = seccomp_rule(a, "clone", 0);
	assert_null(json_object_get(clone, "args"));
	/* Dropping CHROOT takes chroot away. */
	_cleanup_json_ json_t *d =
	    build_ok(f, "{'Cmd': ['true'], 'HostConfig': {'CapDrop': ['SYS_CHROOT']}}", NULL);
	assert_null(seccomp_rule(d, "chroot", 0));
}

static void test_args(void **state)
{
	struct fixture *f = *state;
	const char *image = "{'Entrypoint': ['/entry.sh'], 'Cmd': ['serve', '--port', '80']}";
	const struct {
		const char *body;
		const char *const *want;
	} cases[] = {
	    {"{}", STRV("/entry.sh", "serve", "--port", "80")},
	    {"{'Cmd': ['debug']}", STRV("/entry.sh", "debug")},
	    {"{'Cmd': 'debug'}", STRV("/entry.sh", "debug")},
	    /* A given Entrypoint replaces the image's and drops its Cmd. */
	    {"{'Entrypoint': ['/bin/sh', '-c']}", STRV("/bin/sh", "-c")},
	    {"{'Entrypoint': '/bin/sh', 'Cmd': ['-c', 'ls']}", STRV("/bin/sh", "-c", "ls")},
	    /* [] keeps no entrypoint yet the image's Cmd; [\"\"] is none with the given Cmd. */
	    {"{'Entrypoint': []}", STRV("serve", "--port", "80")},
	    {"{'Entrypoint': [''], 'Cmd': ['ls']}", STRV("ls")},
	    {"{'Entrypoint': '', 'Cmd': ['ls', '-l']}", STRV("ls", "-l")},
	};
	struct opts o = {.image = image};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		_cleanup_json_ json_t *j = build_ok(f, cases[i].body, &o);
		assert_strv_json(at(j, "process.args"), cases[i].want);
	}
	/* [""] without a Cmd: the image's Cmd is not taken (Docker's merge), so nothing runs. */
	build_fails(f, "{'Entrypoint': ['']}", &o, "no command specified");
	build_fails(f, "{}", NULL, "no command specified");
	struct opts none = {.image = "{'Env': ['A=1']}"};
	build_fails(f, "{'Cmd': []}", &none, "no command specified");

	/* --init runs the command under the init, mounted read-only on /dev. */
	struct opts init = {.image = image, .init_path = "/usr/libexec/vessel-init"};
	_cleanup_json_ json_t *j = build_ok(f, "{'HostConfig': {'Init': true}}", &init);
	assert_strv_json(at(j, "process.args"),
	                 STRV("/dev/init", "--", "/entry.sh", "serve", "--port", "80"));
	json_t *m = mount_at(j, "/dev/init");
	assert_non_null(m);
	assert_string_equal(json_string_value(json_object_get(m, "source")), "/usr/libexec/vessel-init");
	assert_string_equal(json_string_value(json_object_get(m, "type")), "bind");
	assert_strv_json(json_object_get(m, "options"), STRV("bind", "ro", "nosuid", "nodev"));
	/* after /dev, whose tmpfs would hide it */
	size_t dev = 0, ini = 0, i;
	json_t *x;
	json_array_foreach(at(j, "mounts"), i, x)
	{
		const char *d = json_string_value(json_object_get(x, "destination"));
		if (strcmp(d, "/dev") == 0)
			dev = i;
		if (strcmp(d, "/dev/init") == 0)
			ini = i;
	}
	assert_true(ini > dev);
	build_fails(f, "{'HostConfig': {'Init': true}}", &o,
	            "--init is not supported: no init binary is installed");
	_cleanup_json_ json_t *off = build_ok(f, "{'HostConfig': {'Init': false}}", &init);
	assert_null(mount_at(off, "/dev/init"));
}

static void test_env_cwd(void **state)
{
	struct fixture *f = *state;
	struct opts o = {.image =
	                     "{'Cmd': ['sh'], 'Env': ['PATH=/opt/bin:/bin', 'LANG=C', 'KEEP=1', 'DROP=1'],"
	                     " 'WorkingDir': '/app'}"};
	_cleanup_json_ json_t *j = build_ok(
	    f, "{'Hostname': 'web', 'Tty': true, 'Env': ['LANG=C.UTF-8', 'NEW=x', 'DROP', 'TERM=vt100']}",
	    &o);
	/* Docker's order: PATH, HOSTNAME, TERM, then the user's, then the image's the user did not name. */
	assert_strv_json(at(j, "process.env"), STRV("PATH=/opt/bin:/bin", "HOSTNAME=web", "TERM=vt100",
	                                            "LANG=C.UTF-8", "NEW=x", "KEEP=1"));
	assert_str_at(j, "hostname", "web");
	assert_str_at(j, "process.cwd", "/app");
	assert_true(json_is_true(at(j, "process.terminal")));

	_cleanup_json_ json_t *t =
	    build_ok(f, "{'Tty': true, 'Cmd': ['sh'], 'WorkingDir': '/srv/./x/'}", NULL);
	assert_strv_json(at(t, "process.env"),
	                 STRV("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	                      "HOSTNAME=0123456789ab", "TERM=xterm"));
	assert_str_at(t, "process.cwd", "/srv/x");
	assert_null(at(t, "process.consoleSize"));

	_cleanup_json_ json_t *cs =
	    build_ok(f, "{'Tty': true, 'Cmd': ['sh'], 'HostConfig': {'ConsoleSize': [40, 120]}}", NULL);
	assert_int_at(cs, "process.consoleSize.height", 40);
	assert_int_at(cs, "process.consoleSize.width", 120);
	build_fails(f, "{'Cmd': ['sh'], 'WorkingDir': 'rel'}", NULL,
	            "the working directory 'rel' is invalid, it needs to be an absolute path");
}

static void check_user(struct fixture *f, const char *body, const struct opts *o, long long uid,
                       long long gid, const long long *gids, size_t n)
{
	_cleanup_json_ json_t *j = build_ok(f, body, o);
	assert_int_at(j, "process.user.uid", uid);
	assert_int_at(j, "process.user.gid", gid);
	json_t *a = at(j, "process.user.additionalGids");
	assert_int_equal(json_array_size(a), n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(json_integer_value(json_array_get(a, i)), gids[i]);
}

static void test_user(void **state)
{
	struct fixture *f = *state;
	check_user(f, "{'Cmd': ['id'], 'User': 'app'}", NULL, 1000, 1000, (long long[]){10, 50}, 2);
	check_user(f, "{'Cmd': ['id'], 'User': '1000'}", NULL, 1000, 1000, (long long[]){10, 50}, 2);
	/* An explicit group: no supplementary groups, as runc. */
	check_user(f, "{'Cmd': ['id'], 'User': 'app:staff'}", NULL, 1000, 50, NULL, 0);
	check_user(f, "{'Cmd': ['id'], 'User': 'app:44'}", NULL, 1000, 44, NULL, 0);
	check_user(f, "{'Cmd': ['id'], 'User': 'svc'}", NULL, 1001, 1001, NULL, 0);
	/* Numbers need no entry. */
	check_user(f, "{'Cmd': ['id'], 'User': '4242'}", NULL, 4242, 0, NULL, 0);
	check_user(f, "{'Cmd': ['id'], 'User': '4242:4343'}", NULL, 4242, 4343, NULL, 0);
	check_user(f, "{'Cmd': ['id'], 'User': 'svc', 'HostConfig': {'GroupAdd': ['video', '777', 'staff']}}",
	           NULL, 1001, 1001, (long long[]){44, 777, 50}, 3);
	struct opts img = {.image = "{'User': 'app:app'}"};
	check_user(f, "{'Cmd': ['id']}", &img, 1000, 1000, NULL, 0);
	check_user(f, "{'Cmd': ['id'], 'User': 'svc'}", &img, 1001, 1001, NULL, 0);

	build_fails(f, "{'Cmd': ['id'], 'User': 'nobody'}", NULL,
	            "unable to find user nobody: no matching entries in passwd file");
	build_fails(f, "{'Cmd': ['id'], 'User': 'app:nogroup'}", NULL,
	            "unable to find group nogroup: no matching entries in group file");
	build_fails(f, "{'Cmd': ['id'], 'HostConfig': {'GroupAdd': ['audio']}}", NULL,
	            "Unable to find group audio: no matching entries in group file");
}

/* /etc/passwd a symlink out of the root: the lookup stays inside. */
static void test_user_symlink(void **state)
{
	struct fixture *f = *state;
	char outside[128], target[160];
	snprintf(outside, sizeof(outside), "%s/outside", f->dir);
	assert_int_equal(mkdir(outside, 0755), 0);
	int ofd = open(outside, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(ofd >= 0);
	write_at(ofd, "passwd", "intruder:x:4711:4711::/:/bin/sh\n");
	close(ofd);

	assert_int_equal(unlinkat(f->rootfd, "etc/passwd", 0), 0);
	snprintf(target, sizeof(target), "%s/passwd", outside);
	assert_int_equal(symlinkat(target, f->rootfd, "etc/passwd"), 0);
	build_fails(f, "{'Cmd': ['id'], 'User': 'intruder'}", NULL,
	            "unable to find user intruder: no matching entries in passwd file");

	/* A relative escape too: ".." stops at the root. */
	assert_int_equal(unlinkat(f->rootfd, "etc/passwd", 0), 0);
	assert_int_equal(symlinkat("../../../../../../outside/passwd", f->rootfd, "etc/passwd"), 0);
	build_fails(f, "{'Cmd': ['id'], 'User': 'intruder'}", NULL,
	            "unable to find user intruder: no matching entries in passwd file");

	/* The same link resolved inside the root works: it is the root's file. */
	assert_int_equal(mkdirat(f->rootfd, "outside", 0755), 0);
	write_at(f->rootfd, "outside/passwd", "inside:x:5000:5000::/:/bin/sh\n");
	check_user(f, "{'Cmd': ['id'], 'User': 'inside'}", NULL, 5000, 5000, NULL, 0);

	/* A fifo as /etc/passwd is refused, not waited on. */
	assert_int_equal(unlinkat(f->rootfd, "etc/passwd", 0), 0);
	assert_int_equal(mkfifoat(f->rootfd, "etc/passwd", 0644), 0);
	build_fails(f, "{'Cmd': ['id'], 'User': 'app'}", NULL,
	            "'/etc/passwd' in the container is not a regular file");
}

static void test_caps(void **state)
{
	struct fixture *f = *state;
	_cleanup_json_ json_t *j =
	    build_ok(f,
	             "{'Cmd': ['sh'], 'HostConfig': {'CapAdd': ['net_admin', 'CAP_SYS_TIME', 'kill'], "
	             "'CapDrop': ['Cap_Chown', 'MKNOD', 'NET_RAW']}}",
	             NULL);
	const char *const *want =
	    STRV("CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP",
	         "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
	         "CAP_NET_ADMIN", "CAP_SYS_TIME");
	assert_strv_json(at(j, "process.capabilities.bounding"), want);
	assert_strv_json(at(j, "process.capabilities.effective"), want);
	assert_strv_json(at(j, "process.capabilities.permitted"), want);
	assert_strv_json(at(j, "process.capabilities.inheritable"), empty);
	assert_strv_json(at(j, "process.capabilities.ambient"), empty);

	_cleanup_json_ json_t *d = build_ok(
	    f, "{'Cmd': ['sh'], 'HostConfig': {'CapDrop': ['all'], 'CapAdd': ['NET_BIND_SERVICE']}}", NULL);
	assert_strv_json(at(d, "process.capabilities.bounding"), STRV("CAP_NET_BIND_SERVICE"));
	_cleanup_json_ json_t *n = build_ok(f, "{'Cmd': ['sh'], 'HostConfig': {'CapDrop': ['ALL']}}", NULL);
	assert_strv_json(at(n, "process.capabilities.bounding"), empty);

	_cleanup_json_ json_t *a =
	    build_ok(f, "{'Cmd': ['sh'], 'HostConfig': {'CapAdd': ['ALL'], 'CapDrop': ['SYS_ADMIN']}}", NULL);
	json_t *b = at(a, "process.capabilities.bounding");
	int last = -1;
	FILE *fp = fopen("/proc/sys/kernel/cap_last_cap", "re");
	assert_non_null(fp);
	assert_int_equal(fscanf(fp, "%d", &last), 1);
	fclose(fp);
	/* Every capability of the host but one. */
	assert_int_equal(json_array_size(b), (size_t)last);
	size_t i;
	json_t *v;
	bool ptrace = false;
	json_array_foreach(b, i, v)
	{
		assert_string_not_equal(json_string_value(v), "CAP_SYS_ADMIN");
		ptrace = ptrace || strcmp(json_string_value(v), "CAP_SYS_PTRACE") == 0;
	}
	assert_true(ptrace);
	build_fails(f, "{'Cmd': ['sh'], 'HostConfig': {'CapAdd': ['SUPERPOWER']}}", NULL,
	            "unknown capability: \"CAP_SUPERPOWER\"");
}

static void test_privileged(void **state)
{
	struct fixture *f = *state;
	_cleanup_json_ json_t *j =
	    build_ok(f, "{'Cmd': ['sh'], 'HostConfig': {'Privileged': true, 'CapDrop': ['ALL']}}", NULL);
	int last = -1;
	FILE *fp = fopen("/proc/sys/kernel/cap_last_cap", "re");
	assert_non_null(fp);
	assert_int_equal(fscanf(fp, "%d", &last), 1);
	fclose(fp);
	assert_int_equal(json_array_size(at(j, "process.capabilities.bounding")), (size_t)last + 1);
	assert_null(at(j, "linux.seccomp"));
	assert_null(at(j, "linux.maskedPaths"));
	assert_null(at(j, "linux.readonlyPaths"));
	assert_strv_json(json_object_get(mount_at(j, "/sys"), "options"),
	                 STRV("nosuid", "noexec", "nodev", "rw"));
	assert_strv_json(json_object_get(mount_at(j, "/sys/fs/cgroup"), "options"),
	                 STRV("nosuid", "noexec", "nodev", "rw"));
	json_t *rules = at(j, "linux.resources.devices");
	assert_int_equal(json_array_size(rules), 1);
	assert_true(json_is_true(at(j, "linux.resources.devices[0].allow")));
	assert_str_at(j, "linux.resources.devices[0].access", "rwm");
	assert_null(at(j, "linux.resources.devices[0].type"));
	/* The host's devices: /dev/null among them, with its numbers. */
	bool null_found = false;
	size_t i;
	json_t *d;
	json_array_foreach(at(j, "linux.devices"), i, d)
	{
		const char *p = json_string_value(json_object_get(d, "path"));
		assert_true(strncmp(p, "/dev/pts/", 9) != 0);
		if (strcmp(p, "/dev/null") == 0) {
			null_found = true;
			assert_string_equal(json_string_value(json_object_get(d, "type")), "c");
			assert_int_equal(json_integer_value(json_object_get(d, "major")), 1);
			assert_int_equal(json_integer_value(json_object_get(d, "minor")), 3);
		}
	}
	assert_true(null_found);
}

static void test_resources(void **state)
{
	struct fixture *f = *state;
	_cleanup_json_ json_t *j =
	    build_ok(f,
	             "{'Cmd': ['sh'], 'HostConfig': {'Memory': 536870912, 'MemoryReservation': 268435456,"
	             " 'NanoCpus': 1500000000, 'CpuShares': 512, 'CpusetCpus': '0-1', 'CpusetMems': '0',"
	             " 'PidsLimit': 100, 'BlkioWeight': 300, 'OomKillDisable': true, 'MemorySwappiness': 10,"
	             " 'OomScoreAdj': 250}}",
	             NULL);
	assert_int_at(j, "linux.resources.memory.limit", 536870912);
	assert_int_at(j, "linux.resources.memory.reservation", 268435456);
	/* No MemorySwap with a limit: as much swap as memory, i.e. twice in total. */
	assert_int_at(j, "linux.resources.memory.swap", 1073741824);
	assert_int_at(j, "linux.resources.memory.swappiness", 10);
	assert_true(json_is_true(at(j, "linux.resources.memory.disableOOMKiller")));
	assert_int_at(j, "linux.resources.cpu.quota", 150000);
	assert_int_at(j, "linux.resources.cpu.period", 100000);
	assert_int_at(j, "linux.resources.cpu.shares", 512);
	assert_str_at(j, "linux.resources.cpu.cpus", "0-1");
	assert_str_at(j, "linux.resources.cpu.mems", "0");
	assert_int_at(j, "linux.resources.pids.limit", 100);
	assert_int_at(j, "linux.resources.blockIO.weight", 300);
	assert_int_at(j, "process.oomScoreAdj", 250);

	_cleanup_json_ json_t *u =
	    build_ok(f,
	             "{'Cmd': ['sh'], 'HostConfig': {'Memory': 104857600, 'MemorySwap': -1, 'PidsLimit': 0,"
	             " 'CpuQuota': 25000, 'CpuPeriod': 50000, 'CpuShares': 1, 'MemorySwappiness': -1}}",
	             NULL);
	assert_int_at(u, "linux.resources.memory.limit", 104857600);
	assert_int_at(u, "linux.resources.memory.swap", -1);
	assert_null(at(u, "linux.resources.memory.swappiness"));
	assert_int_at(u, "linux.resources.pids.limit", -1);
	assert_int_at(u, "linux.resources.cpu.quota", 25000);
	assert_int_at(u, "linux.resources.cpu.period", 50000);
	assert_int_at(u, "linux.resources.cpu.shares", 2);
	_cleanup_json_ json_t *s = build_ok(
	    f, "{'Cmd': ['sh'], 'HostConfig': {'Memory': 104857600, 'MemorySwap': 209715200}}", NULL);
	assert_int_at(s, "linux.resources.memory.swap", 209715200);
}

static void test_mounts(void **state)
{
	struct fixture *f = *state;
	struct opts o = {.hosts = "/run/v/hosts", .resolv = "/run/v/resolv.conf"};
	_cleanup_json_ json_t *j = build_ok(
	    f,
	    "{'Cmd': ['sh'], 'HostConfig': {'ReadonlyRootfs': true, 'ShmSize': 134217728,"
	    " 'Binds': ['/srv/data:/data/sub:ro', '/srv/top:/data:rshared', '/srv/hosts:/etc/hosts'],"
	    " 'Mounts': [{'Type': 'tmpfs', 'Target': '/cache', 'TmpfsOptions': {'SizeBytes': 1048576, "
	    "'Mode': 448}},"
	    "            {'Type': 'bind', 'Source': '/srv/cfg', 'Target': '/cfg', 'ReadOnly': true,"
	    "             'BindOptions': {'NonRecursive': true}}],"
	    " 'Tmpfs': {'/run': 'rw,exec,size=65536k'}}}",
	    &o);
	assert_true(json_is_true(at(j, "root.readonly")));
	assert_strv_json(json_object_get(mount_at(j, "/dev/shm"), "options"),
	                 STRV("nosuid", "noexec", "nodev", "mode=1777", "size=131072k"));
	json_t *m = mount_at(j, "/data/sub");
	assert_string_equal(json_string_value(json_object_get(m, "source")), "/srv/data");
	assert_strv_json(json_object_get(m, "options"), STRV("rbind", "ro", "rprivate"));
	assert_strv_json(json_object_get(mount_at(j, "/data"), "options"), STRV("rbind", "rshared"));
	assert_str_at(j, "linux.rootfsPropagation", "rshared");
	/* The user's /etc/hosts wins over the engine's. */
	assert_string_equal(json_string_value(json_object_get(mount_at(j, "/etc/hosts"), "source")),
	                    "/srv/hosts");
	assert_strv_json(json_object_get(mount_at(j, "/etc/resolv.conf"), "options"),
	                 STRV("rbind", "rprivate", "ro"));
	assert_strv_json(json_object_get(mount_at(j, "/cache"), "options"),
	                 STRV("noexec", "nosuid", "nodev", "rprivate", "size=1048576", "mode=700"));
	assert_string_equal(json_string_value(json_object_get(mount_at(j, "/cache"), "type")), "tmpfs");
	assert_strv_json(json_object_get(mount_at(j, "/cfg"), "options"), STRV("bind", "ro", "rprivate"));
	/* "exec" overrides the default noexec. */
	assert_strv_json(json_object_get(mount_at(j, "/run"), "options"),
	                 STRV("nosuid", "nodev", "rprivate", "exec", "size=65536k"));

	/* Defaults first, then the others parents before children. */
	const char *const order[] = {
	    "/proc", "/dev",   "/dev/pts", "/sys", "/sys/fs/cgroup", "/dev/mqueue", "/dev/shm",
	    "/data", "/cache", "/cfg",     "/run", "/data/sub",      "/etc/hosts",  "/etc/resolv.conf",
	    NULL};
	json_t *mounts = at(j, "mounts");
	assert_int_equal(json_array_size(mounts), 14);
	for (size_t i = 0; order[i]; i++)
		assert_string_equal(
		    json_string_value(json_object_get(json_array_get(mounts, i), "destination")), order[i]);

	_cleanup_json_ json_t *s = build_ok(
	    f, "{'Cmd': ['sh'], 'HostConfig': {'Binds': ['/srv:/srv:rslave'], 'IpcMode': 'none'}}", NULL);
	assert_str_at(s, "linux.rootfsPropagation", "rslave");
	assert_null(mount_at(s, "/dev/shm"));
	_cleanup_json_ json_t *shm = build_ok(f,
	                                      "{'Cmd': ['sh'], 'HostConfig': {'Mounts': [{'Type': 'bind', "
	                                      "'Source': '/srv/shm', 'Target': '/dev/shm'}]}}",
	                                      NULL);
	assert_string_equal(json_string_value(json_object_get(mount_at(shm, "/dev/shm"), "source")),
	                    "/srv/shm");
	assert_int_equal(json_array_size(at(shm, "mounts")), 7);

	build_fails(f, "{'Cmd': ['sh'], 'HostConfig': {'Binds': ['vol:/data']}}", NULL,
	            "the volume at '/data' was not resolved");
	build_fails(
	    f, "{'Cmd': ['sh'], 'HostConfig': {'Mounts': [{'Type': 'bind', 'Source': '/a', 'Target': 'b'}]}}",
	    NULL,
	    "invalid mount config for type \"bind\": invalid mount path: 'b' mount path must be absolute");
}

static void test_ulimits(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_json_ json_t *j = NULL;
	_cleanup_free_ char *body =
	    q("{'Cmd': ['sh'], 'HostConfig': {'Ulimits': [{'Name': 'nofile', 'Soft': 1024, 'Hard': 4096},"
	      " {'Name': 'memlock', 'Soft': -1, 'Hard': -1}]}}");
	_cleanup_container_create_ struct container_create *c = NULL;
	assert_int_equal(container_create_parse(body, strlen(body), &c, &err), 0);
	struct oci_spec_input in = {.create = c, .id = ID, .rootfs = f->root, .rootfs_dirfd = f->rootfd};
	_cleanup_free_ char *text = NULL;
	assert_int_equal(oci_spec_build(&in, &text, &err), 0);
	/* Unlimited is RLIM_INFINITY, a number beyond int64. */
	assert_non_null(strstr(text, "18446744073709551615"));
	_cleanup_config_ struct oci_config *cfg = NULL;
	if (oci_config_parse(text, strlen(text), &cfg, &err) < 0)
		fail_msg("%s", err->msg);
	assert_int_equal(cfg->process.n_rlimits, 2);
	assert_string_equal(cfg->process.rlimits[0].type, "RLIMIT_NOFILE");
	assert_int_equal(cfg->process.rlimits[0].soft, 1024);
	assert_int_equal(cfg->process.rlimits[0].hard, 4096);
	assert_string_equal(cfg->process.rlimits[1].type, "RLIMIT_MEMLOCK");
	assert_true(cfg->process.rlimits[1].soft == UINT64_MAX);
	assert_true(cfg->process.rlimits[1].hard == UINT64_MAX);
}

static void test_namespaces(void **state)
{
	struct fixture *f = *state;
	_cleanup_json_ json_t *h = build_ok(f,
	                                    "{'Cmd': ['sh'], 'HostConfig': {'NetworkMode': 'host', "
	                                    "'PidMode': 'host', 'IpcMode': 'host', 'CgroupnsMode': 'host'}}",
	                                    NULL);
	assert_false(has_namespace(h, "network", NULL));
	assert_false(has_namespace(h, "pid", NULL));
	assert_false(has_namespace(h, "ipc", NULL));
	assert_false(has_namespace(h, "cgroup", NULL));
	assert_true(has_namespace(h, "uts", NULL));
	assert_true(has_namespace(h, "mount", NULL));
	/* The host's network: the host's name. */
	char host[256] = "";
	assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
	assert_str_at(h, "hostname", host);
	/* The host's IPC namespace: the host's /dev/shm and queues. */
	json_t *shm = mount_at(h, "/dev/shm");
	assert_string_equal(json_string_value(json_object_get(shm, "source")), "/dev/shm");
	assert_string_equal(json_string_value(json_object_get(shm, "type")), "bind");

	for (const char *const *mode = STRV("none", "bridge", "default", ""); *mode; mode++) {
		char body[256];
		snprintf(body, sizeof(body), "{'Cmd': ['sh'], 'HostConfig': {'NetworkMode': '%s'}}", *mode);
		_cleanup_json_ json_t *n = build_ok(f, body, NULL);
		const char *path = "x";
		assert_true(has_namespace(n, "network", &path));
		assert_null(path);
	}

	struct opts o = {.net_path = "/proc/4242/ns/net"};
	_cleanup_json_ json_t *c =
	    build_ok(f, "{'Cmd': ['sh'], 'HostConfig': {'NetworkMode': 'container:db'}}", &o);
	const char *path = NULL;
	assert_true(has_namespace(c, "network", &path));
	assert_string_equal(path, "/proc/4242/ns/net");
	build_fails(f, "{'Cmd': ['sh'], 'HostConfig': {'NetworkMode': 'container:db'}}", NULL,
	            "network mode 'container:db': the container's namespace is not known");
	build_fails(f, "{'Cmd': ['sh'], 'HostConfig': {'UsernsMode': 'private'}}", NULL,
	            "userns mode 'private' is not supported");
	_cleanup_json_ json_t *uts = build_ok(f, "{'Cmd': ['sh'], 'HostConfig': {'UTSMode': 'host'}}", NULL);
	assert_false(has_namespace(uts, "uts", NULL));
	assert_null(at(uts, "hostname"));
}

static void test_devices(void **state)
{
	struct fixture *f = *state;
	_cleanup_json_ json_t *j = build_ok(f,
	                                    "{'Cmd': ['sh'], 'HostConfig': {'Devices': [{'PathOnHost': "
	                                    "'/dev/null', 'PathInContainer': '/dev/mynull',"
	                                    " 'CgroupPermissions': 'rw'}, {'PathOnHost': '/dev/zero'}], "
	                                    "'DeviceCgroupRules': ['c 10:* rwm', 'b 8:0 r']}}",
	                                    NULL);
	assert_int_equal(json_array_size(at(j, "linux.devices")), 2);
	assert_str_at(j, "linux.devices[0].path", "/dev/mynull");
	assert_str_at(j, "linux.devices[0].type", "c");
	assert_int_at(j, "linux.devices[0].major", 1);
	assert_int_at(j, "linux.devices[0].minor", 3);
	assert_str_at(j, "linux.devices[1].path", "/dev/zero");
	assert_int_at(j, "linux.devices[1].minor", 5);
	json_t *rules = at(j, "linux.resources.devices");
	size_t n = json_array_size(rules);
	assert_int_equal(n, 12 + 4);
	assert_str_at(j, "linux.resources.devices[12].access", "rw");
	assert_int_at(j, "linux.resources.devices[12].major", 1);
	assert_int_at(j, "linux.resources.devices[12].minor", 3);
	assert_str_at(j, "linux.resources.devices[13].access", "rwm");
	assert_int_at(j, "linux.resources.devices[14].major", 10);
	assert_int_at(j, "linux.resources.devices[14].minor", -1);
	assert_str_at(j, "linux.resources.devices[15].type", "b");
	assert_str_at(j, "linux.resources.devices[15].access", "r");

	char notdev[256];
	snprintf(notdev, sizeof(notdev), "{'Cmd': ['sh'], 'HostConfig': {'Devices': [{'PathOnHost': '%s'}]}}",
	         f->root);
	/* A directory holds no devices here: nothing added, nothing refused. */
	_cleanup_json_ json_t *d = build_ok(f, notdev, NULL);
	assert_int_equal(json_array_size(at(d, "linux.devices")), 0);
	build_fails(
	    f, "{'Cmd': ['sh'], 'HostConfig': {'Devices': [{'PathOnHost': '/proc/self/status'}]}}", NULL,
	    "error gathering device information while adding custom device \"/proc/self/status\": not a "
	    "device node");
	build_fails(f, "{'Cmd': ['sh'], 'HostConfig': {'DeviceCgroupRules': ['c 1:3']}}", NULL,
	            "invalid device cgroup rule format: 'c 1:3'");
}

static void test_seccomp_options(void **state)
{
	struct fixture *f = *state;
	_cleanup_json_ json_t *u = build_ok(
	    f, "{'Cmd': ['sh'], 'HostConfig': {'SecurityOpt': ['seccomp=unconfined', 'no-new-privileges']}}",
	    NULL);
	assert_null(at(u, "linux.seccomp"));
	assert_true(json_is_true(at(u, "process.noNewPrivileges")));

	/* A profile in Docker's format, with filters on caps, arches and kernel versions. */
	const char *profile = "{\\'defaultAction\\': \\'SCMP_ACT_ALLOW\\', \\'defaultErrnoRet\\': 1,"
	                      " \\'archMap\\': [{\\'architecture\\': \\'SCMP_ARCH_X86_64\\', "
	                      "\\'subArchitectures\\': [\\'SCMP_ARCH_X86\\']},"
	                      "                {\\'architecture\\': \\'SCMP_ARCH_AARCH64\\', "
	                      "\\'subArchitectures\\': [\\'SCMP_ARCH_ARM\\']}],"
	                      " \\'syscalls\\': ["
	                      "  {\\'names\\': [\\'mkdir\\', \\'mkdirat\\'], \\'action\\': "
	                      "\\'SCMP_ACT_ERRNO\\', \\'errnoRet\\': 13},"
	                      "  {\\'name\\': \\'chmod\\', \\'action\\': \\'SCMP_ACT_ERRNO\\'},"
	                      "  {\\'names\\': [\\'mount\\'], \\'action\\': \\'SCMP_ACT_ERRNO\\', "
	                      "\\'excludes\\': {\\'caps\\': [\\'CAP_SYS_ADMIN\\']}},"
	                      "  {\\'names\\': [\\'reboot\\'], \\'action\\': \\'SCMP_ACT_ERRNO\\', "
	                      "\\'includes\\': {\\'caps\\': [\\'CAP_SYS_BOOT\\']}},"
	                      "  {\\'names\\': [\\'old\\'], \\'action\\': \\'SCMP_ACT_ERRNO\\', "
	                      "\\'includes\\': {\\'minKernel\\': \\'99.0\\'}},"
	                      "  {\\'names\\': [\\'uname\\'], \\'action\\': \\'SCMP_ACT_ERRNO\\', "
	                      "\\'includes\\': {\\'arches\\': [\\'s390x\\']}},"
	                      "  {\\'names\\': [\\'ioctl\\'], \\'action\\': \\'SCMP_ACT_ERRNO\\',"
	                      "   \\'args\\': [{\\'index\\': 1, \\'value\\': 18446744073709551615, \\'op\\': "
	                      "\\'SCMP_CMP_MASKED_EQ\\', \\'valueTwo\\': 21519}]}"
	                      " ]}";
	char body[4096];
	snprintf(body, sizeof(body), "{'Cmd': ['sh'], 'HostConfig': {'SecurityOpt': ['seccomp=%s']}}",
	         profile);
	_cleanup_json_ json_t *j = build_ok(f, body, NULL);
	assert_str_at(j, "linux.seccomp.defaultAction", "SCMP_ACT_ALLOW");
	assert_int_at(j, "linux.seccomp.defaultErrnoRet", 1);
#if defined(__x86_64__)
	assert_strv_json(at(j, "linux.seccomp.architectures"), STRV("SCMP_ARCH_X86_64", "SCMP_ARCH_X86"));
#elif defined(__aarch64__)
	assert_strv_json(at(j, "linux.seccomp.architectures"), STRV("SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"));
#endif
	json_t *calls = at(j, "linux.seccomp.syscalls");
	assert_int_equal(json_array_size(calls), 4);
	assert_strv_json(at(j, "linux.seccomp.syscalls[0].names"), STRV("mkdir", "mkdirat"));
	assert_int_at(j, "linux.seccomp.syscalls[0].errnoRet", 13);
	assert_strv_json(at(j, "linux.seccomp.syscalls[1].names"), STRV("chmod"));
	assert_null(at(j, "linux.seccomp.syscalls[1].errnoRet"));
	assert_strv_json(at(j, "linux.seccomp.syscalls[2].names"), STRV("mount"));
	assert_strv_json(at(j, "linux.seccomp.syscalls[3].names"), STRV("ioctl"));
	assert_int_at(j, "linux.seccomp.syscalls[3].args[0].valueTwo", 21519);
	assert_int_at(j, "linux.seccomp.syscalls[3].args[0].index", 1);
	/* Kept as a 64-bit number beyond int64 (json_table_load's marker). */
	json_t *big = at(j, "linux.seccomp.syscalls[3].args[0].value");
	assert_true(json_is_string(big) && json_string_length(big) > 1);
	assert_string_equal(json_string_value(big) + 1, "18446744073709551615");

	/* With CAP_SYS_ADMIN and CAP_SYS_BOOT: mount's rule goes, reboot's comes. */
	snprintf(body, sizeof(body),
	         "{'Cmd': ['sh'], 'HostConfig': {'CapAdd': ['SYS_ADMIN', 'SYS_BOOT'], 'SecurityOpt': "
	         "['seccomp=%s']}}",
	         profile);
	_cleanup_json_ json_t *a = build_ok(f, body, NULL);
	assert_strv_json(at(a, "linux.seccomp.syscalls[2].names"), STRV("reboot"));

	build_fails(f, "{'Cmd': ['sh'], 'HostConfig': {'SecurityOpt': ['seccomp={\\'syscalls\\': []}']}}",
	            NULL, "seccomp profile: defaultAction: required field missing");
	build_fails(f,
	            "{'Cmd': ['sh'], 'HostConfig': {'SecurityOpt': ['seccomp={\\'defaultAction\\': "
	            "\\'SCMP_ACT_ALLOW\\',"
	            " \\'syscalls\\': [{\\'name\\': \\'a\\', \\'names\\': [\\'b\\'], \\'action\\': "
	            "\\'SCMP_ACT_ERRNO\\'}]}']}}",
	            NULL,
	            "seccomp profile: syscalls[0]: 'name' and 'names' were specified in the seccomp profile, "
	            "use either "
	            "'name' or 'names'");
	build_fails(
	    f,
	    "{'Cmd': ['sh'], 'HostConfig': {'SecurityOpt': ['seccomp={\\'defaultAction\\': "
	    "\\'SCMP_ACT_MAYBE\\'}']}}",
	    NULL,
	    "seccomp profile: defaultAction: unknown action 'SCMP_ACT_MAYBE' (expected one of SCMP_ACT_KILL, "
	    "SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_ERRNO, SCMP_ACT_TRACE, "
	    "SCMP_ACT_ALLOW, SCMP_ACT_LOG, SCMP_ACT_NOTIFY)");
}

static void test_misc(void **state)
{
	struct fixture *f = *state;
	struct opts o = {.image = "{'Cmd': ['sh'], 'StopSignal': 'SIGQUIT'}"};
	_cleanup_json_ json_t *j =
	    build_ok(f,
	             "{'Hostname': 'api', 'Domainname': 'example.org', 'HostConfig': {'CgroupParent': "
	             "'/custom/parent',"
	             " 'Sysctls': {'net.ipv4.ip_forward': '1'}, 'Annotations': {'org.example': 'yes'},"
	             " 'MaskedPaths': ['/proc/kcore'], 'ReadonlyPaths': [], 'SecurityOpt': "
	             "['no-new-privileges=true']}}",
	             &o);
	assert_str_at(j, "hostname", "api");
	assert_str_at(j, "domainname", "example.org");
	assert_str_at(j, "linux.cgroupsPath", "/custom/parent/" ID);
	assert_string_equal(json_string_value(json_object_get(at(j, "linux.sysctl"), "net.ipv4.ip_forward")),
	                    "1");
	json_t *ann = at(j, "annotations");
	assert_string_equal(json_string_value(json_object_get(ann, "org.example")), "yes");
	assert_string_equal(json_string_value(json_object_get(ann, "org.opencontainers.image.stopSignal")),
	                    "SIGQUIT");
	assert_strv_json(at(j, "linux.maskedPaths"), STRV("/proc/kcore"));
	assert_null(at(j, "linux.readonlyPaths"));
	assert_true(json_is_true(at(j, "process.noNewPrivileges")));
	/* The user's stop signal wins. */
	_cleanup_json_ json_t *s = build_ok(f, "{'StopSignal': 'SIGTERM'}", &o);
	assert_string_equal(
	    json_string_value(json_object_get(at(s, "annotations"), "org.opencontainers.image.stopSignal")),
	    "SIGTERM");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_seccomp_default, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_args, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_env_cwd, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_user, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_user_symlink, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_caps, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_privileged, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_resources, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mounts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ulimits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_namespaces, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_devices, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_seccomp_options, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_misc, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
