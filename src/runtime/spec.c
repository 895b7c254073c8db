/* `runc spec` and `runc spec --rootless`: runc's example config, as JSON.
 *
 * Keys come out in the order of runc's output (jansson keeps insertion order),
 * so a diff against a runc-made config.json shows only real differences.
 */
#include "runtime/spec.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/error.h"

#define _cleanup_json_ _cleanup_(json_decrefp)

static const char *const default_caps[] = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL};

static const char *const masked_paths[] = {
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/sys/firmware",
    "/proc/scsi",
    "/sys/devices/virtual/tpm",
    NULL,
};

static const char *const readonly_paths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

struct default_mount {
	const char *destination, *type, *source;
	const char *const options[8];
};

static const struct default_mount default_mounts[] = {
    {"/proc", "proc", "proc", {NULL}},
    {"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}},
    {"/dev/pts",
     "devpts",
     "devpts",
     {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
    {"/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
    {"/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}},
    {"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}},
    {"/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}},
};

/* Without a network namespace of its own, a rootless container cannot mount a
 * sysfs (the kernel ties sysfs to the netns owner): it gets the host's, read-only. */
static const struct default_mount rootless_sys = {
    "/sys",
    "none",
    "/sys",
    {"rbind", "nosuid", "noexec", "nodev", "ro"},
};

static json_t *strv_json(const char *const *l)
{
	json_t *a = json_array();
	for (size_t i = 0; a && l[i]; i++)
		if (json_array_append_new(a, json_string(l[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *mount_json(const struct default_mount *m, bool rootless)
{
	json_t *o =
	    json_pack("{s:s, s:s, s:s}", "destination", m->destination, "type", m->type, "source", m->source);
	if (o == NULL || m->options[0] == NULL)
		return o;
	json_t *opts = json_array();
	/* An unprivileged user namespace maps one uid and gid: uid=/gid= of another id would fail. */
	for (size_t i = 0; opts && i < ARRAY_SIZE(m->options) && m->options[i]; i++) {
		if (rootless &&
		    (strncmp(m->options[i], "uid=", 4) == 0 || strncmp(m->options[i], "gid=", 4) == 0))
			continue;
		if (json_array_append_new(opts, json_string(m->options[i])) < 0) {
			json_decref(opts);
			opts = NULL;
		}
	}
	if (opts == NULL || json_object_set_new(o, "options", opts) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *mounts_json(bool rootless)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < ARRAY_SIZE(default_mounts); i++) {
		const struct default_mount *m = &default_mounts[i];
		if (rootless && strcmp(m->destination, "/sys") == 0)
			m = &rootless_sys;
		if (json_array_append_new(a, mount_json(m, rootless)) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *namespaces_json(bool rootless)
{
	static const char *const rootful[] = {"pid", "network", "ipc", "uts", "mount", "cgroup", NULL};
	/* As runc: no network namespace (it would have no connectivity), and the user namespace last. */
	static const char *const unprivileged[] = {"pid", "ipc", "uts", "mount", "cgroup", "user", NULL};
	const char *const *l = rootless ? unprivileged : rootful;
	json_t *a = json_array();
	for (size_t i = 0; a && l[i]; i++)
		if (json_array_append_new(a, json_pack("{s:s}", "type", l[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *linux_json(bool rootless)
{
	json_t *o = json_object();
	if (o == NULL)
		return NULL;
	int r = 0;
	if (rootless) {
		r |= json_object_set_new(o, "uidMappings",
		                         json_pack("[{s:i, s:I, s:i}]", "containerID", 0, "hostID",
		                                   (json_int_t)geteuid(), "size", 1));
		r |= json_object_set_new(o, "gidMappings",
		                         json_pack("[{s:i, s:I, s:i}]", "containerID", 0, "hostID",
		                                   (json_int_t)getegid(), "size", 1));
	} else {
		/* Rootless has no cgroup of its own to configure: runc drops resources there. */
		r |= json_object_set_new(
		    o, "resources", json_pack("{s:[{s:b, s:s}]}", "devices", "allow", 0, "access", "rwm"));
	}
	r |= json_object_set_new(o, "namespaces", namespaces_json(rootless));
	r |= json_object_set_new(o, "maskedPaths", strv_json(masked_paths));
	r |= json_object_set_new(o, "readonlyPaths", strv_json(readonly_paths));
	if (r != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int spec_generate(bool rootless, char **ret_json, struct vsl_error **err)
{
	/* clang-format off */
	_cleanup_json_ json_t *spec = json_pack(
		"{s:s, s:{s:b, s:{s:i, s:i}, s:[s], s:[s, s], s:s, s:{s:o, s:o, s:o}, s:[{s:s, s:i, s:i}], s:b},"
		" s:{s:s, s:b}, s:s, s:o, s:o}",
		"ociVersion", "1.2.0",
		"process",
			"terminal", 1,
			"user", "uid", 0, "gid", 0,
			"args", "sh",
			"env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm",
			"cwd", "/",
			"capabilities",
				"bounding", strv_json(default_caps),
				"effective", strv_json(default_caps),
				"permitted", strv_json(default_caps),
			"rlimits", "type", "RLIMIT_NOFILE", "hard", 1024, "soft", 1024,
			"noNewPrivileges", 1,
		"root", "path", "rootfs", "readonly", 1,
		"hostname", "vessel",
		"mounts", mounts_json(rootless),
		"linux", linux_json(rootless));
	/* clang-format on */
	if (spec == NULL)
		return vsl_error_errno(err, ENOMEM, "generate spec");

	char *text = json_dumps(spec, JSON_INDENT(2));
	if (text == NULL)
		return vsl_error_errno(err, ENOMEM, "generate spec");
	/* Written as a file by the caller: a text file ends with a newline. */
	char *with_nl = NULL;
	int n = asprintf(&with_nl, "%s\n", text);
	free(text);
	if (n < 0)
		return vsl_error_errno(err, ENOMEM, "generate spec");
	*ret_json = with_nl;
	return 0;
}
