/* A create body plus an image config -> config.json, with Docker's defaults. */
#include "engine/oci-spec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "engine/create-config.h"
#include "engine/passwd.h"
#include "engine/seccomp-default.h"
#include "image/manifest.h"
#include "runtime/caps.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/random.h"
#include "util/strv.h"

#define _cleanup_json_ _cleanup_(json_decrefp)

#define DEFAULT_PATH     "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define DEFAULT_SHM_SIZE (64 * 1024 * 1024)
#define OOM              "build config.json"

/* Docker's default capability set, in Docker's order. */
static const char *const default_caps[] = {
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

/* Kernel interfaces that leak or change the host, hidden from unprivileged containers. */
static const char *const default_masked[] = {
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
    NULL,
};
static const char *const default_readonly[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

/* ---- small JSON helpers: each consumes v, also on failure ---- */

static int jset(json_t *o, const char *key, json_t *v)
{
	if (v == NULL)
		return -ENOMEM;
	return json_object_set_new(o, key, v) < 0 ? -ENOMEM : 0;
}

static int jappend(json_t *a, json_t *v)
{
	if (v == NULL)
		return -ENOMEM;
	return json_array_append_new(a, v) < 0 ? -ENOMEM : 0;
}

static json_t *jstrv(const char *const *l)
{
	json_t *a = json_array();
	for (size_t i = 0; a && l && l[i]; i++)
		if (json_array_append_new(a, json_string(l[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* Values above INT64_MAX, as seccomp-default.h describes: "\x01<decimal>". */
static json_t *ju64(uint64_t v)
{
	if (v <= INT64_MAX)
		return json_integer((json_int_t)v);
	char buf[32];
	snprintf(buf, sizeof(buf), "\x01%" PRIu64, v);
	return json_string(buf);
}

/* ---- process.args ---- */

static bool strv_is_empty(char *const *l)
{
	return l == NULL || l[0] == NULL;
}

/* Docker's merge: a given Entrypoint replaces the image's and leaves its Cmd
 * out; a given Cmd replaces the image's; Entrypoint [""] means none. */
static int build_args(const struct oci_spec_input *in, char ***ret, struct vsl_error **err)
{
	const struct container_create *c = in->create;
	const struct image_container_config *img = in->image ? &in->image->config : NULL;
	char *const *entrypoint = c->entrypoint;
	char *const *cmd = c->cmd;
	if (strv_is_empty(c->entrypoint)) {
		if (strv_is_empty(cmd) && img)
			cmd = img->cmd;
		if (c->entrypoint == NULL && img)
			entrypoint = img->entrypoint;
	}
	if (entrypoint && entrypoint[0] && entrypoint[0][0] == '\0' && entrypoint[1] == NULL)
		entrypoint = NULL;
	if (strv_is_empty(entrypoint) && strv_is_empty(cmd))
		return vsl_error_set_code(err, EINVAL, "no command specified");

	_cleanup_strv_ char **args = NULL;
	bool init = c->host.has_init && c->host.init;
	if (init) {
		if (in->init_path == NULL)
			return vsl_error_set_code(err, ENOTSUP,
			                          "--init is not supported: no init binary is installed");
		if (strv_append(&args, OCI_SPEC_INIT_PATH) < 0 || strv_append(&args, "--") < 0)
			return vsl_error_errno(err, ENOMEM, OOM);
	}
	for (char *const *a = entrypoint; a && *a; a++)
		if (strv_append(&args, *a) < 0)
			return vsl_error_errno(err, ENOMEM, OOM);
	for (char *const *a = cmd; a && *a; a++)
		if (strv_append(&args, *a) < 0)
			return vsl_error_errno(err, ENOMEM, OOM);
	*ret = TAKE_PTR(args);
	return 0;
}

/* ---- process.env ---- */

static size_t env_key_len(const char *e)
{
	const char *eq = strchr(e, '=');
	return eq ? (size_t)(eq - e) : strlen(e);
}

static ssize_t env_find(char *const *env, const char *e)
{
	size_t k = env_key_len(e);
	for (size_t i = 0; env && env[i]; i++)
		if (env_key_len(env[i]) == k && strncmp(env[i], e, k) == 0)
			return (ssize_t)i;
	return -1;
}

/* Docker's ReplaceOrAppendEnvValues: "K=v" replaces K in place or appends;
 * "K" alone removes K. */
static int env_apply(char ***env, char *const *overrides)
{
	for (char *const *o = overrides; o && *o; o++) {
		ssize_t i = env_find(*env, *o);
		if (strchr(*o, '=') == NULL) {
			if (i >= 0) {
				free((*env)[i]);
				size_t n = strv_length(*env);
				memmove(&(*env)[i], &(*env)[i + 1], (n - (size_t)i) * sizeof(char *));
			}
			continue;
		}
		if (i >= 0) {
			char *dup = strdup(*o);
			if (dup == NULL)
				return -ENOMEM;
			free((*env)[i]);
			(*env)[i] = dup;
		} else if (strv_append(env, *o) < 0) {
			return -ENOMEM;
		}
	}
	return 0;
}

static int build_env(const struct oci_spec_input *in, const char *hostname, char ***ret,
                     struct vsl_error **err)
{
	const struct container_create *c = in->create;
	/* The create-time merge: the user's, then the image's the user did not name. */
	_cleanup_strv_ char **merged = NULL;
	for (char *const *e = c->env; e && *e; e++)
		if (strv_append(&merged, *e) < 0)
			return vsl_error_errno(err, ENOMEM, OOM);
	for (char *const *e = in->image ? in->image->config.env : NULL; e && *e; e++)
		if (env_find(c->env, *e) < 0 && strv_append(&merged, *e) < 0)
			return vsl_error_errno(err, ENOMEM, OOM);

	_cleanup_strv_ char **env = NULL;
	_cleanup_free_ char *host = NULL;
	if (asprintf(&host, "HOSTNAME=%s", hostname) < 0)
		return vsl_error_errno(err, ENOMEM, OOM);
	if (strv_append(&env, "PATH=" DEFAULT_PATH) < 0 || strv_append(&env, host) < 0 ||
	    (c->tty && strv_append(&env, "TERM=xterm") < 0) || env_apply(&env, merged) < 0)
		return vsl_error_errno(err, ENOMEM, OOM);
	*ret = TAKE_PTR(env);
	return 0;
}

/* ---- capabilities ---- */

static int kernel_last_cap(void)
{
	int last = -1;
	_cleanup_fclose_ FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	if (f == NULL || fscanf(f, "%d", &last) != 1)
		return 63; /* unknown: the runtime skips what the kernel lacks */
	return last;
}

static int caps_add_unique(char ***caps, const char *c)
{
	return strv_contains(*caps, c) ? 0 : strv_append(caps, c);
}

static int normalize_list(char *const *in, char ***ret, struct vsl_error **err)
{
	_cleanup_strv_ char **out = NULL;
	for (char *const *c = in; c && *c; c++) {
		_cleanup_free_ char *n = create_cap_normalize(*c);
		if (n == NULL)
			return vsl_error_errno(err, ENOMEM, OOM);
		if (strcmp(n, "ALL") != 0 && caps_from_name(n) < 0)
			return vsl_error_set_code(err, EINVAL, "unknown capability: \"%s\"", n);
		if (caps_add_unique(&out, n) < 0)
			return vsl_error_errno(err, ENOMEM, OOM);
	}
	*ret = TAKE_PTR(out);
	return 0;
}

/* Docker's TweakCapabilities. */
static int build_caps(const struct create_host_config *h, char ***ret, struct vsl_error **err)
{
	_cleanup_strv_ char **all = NULL;
	int last = kernel_last_cap();
	for (const char *const *n = caps_known_names(); *n; n++) {
		int v = caps_from_name(*n);
		if (v >= 0 && v <= last && caps_add_unique(&all, *n) < 0)
			return vsl_error_errno(err, ENOMEM, OOM);
	}
	if (h->privileged) {
		*ret = TAKE_PTR(all);
		return 0;
	}
	_cleanup_strv_ char **add = NULL, **drop = NULL, **caps = NULL;
	int r = normalize_list(h->cap_add, &add, err);
	if (r < 0 || (r = normalize_list(h->cap_drop, &drop, err)) < 0)
		return r;

	char *const *base = (char *const *)default_caps;
	if (strv_contains(add, "ALL"))
		base = all;
	else if (strv_contains(drop, "ALL"))
		base = NULL;
	for (char *const *c = base; c && *c; c++)
		if (!strv_contains(drop, *c) && caps_add_unique(&caps, *c) < 0)
			return vsl_error_errno(err, ENOMEM, OOM);
	if (!strv_contains(add, "ALL"))
		for (char *const *c = add; c && *c; c++)
			if (caps_add_unique(&caps, *c) < 0)
				return vsl_error_errno(err, ENOMEM, OOM);
	if (caps == NULL && (caps = calloc(1, sizeof(char *))) == NULL)
		return vsl_error_errno(err, ENOMEM, OOM);
	*ret = TAKE_PTR(caps);
	return 0;
}

/* ---- process ---- */

static int build_user(const struct oci_spec_input *in, json_t **ret, struct vsl_error **err)
{
	const struct container_create *c = in->create;
	const char *spec = c->user && c->user[0] ? c->user : in->image ? in->image->config.user : NULL;
	struct passwd_user u = {0};
	int r = passwd_resolve(in->rootfs_dirfd, spec, c->host.group_add, &u, err);
	if (r < 0)
		return r;
	_cleanup_json_ json_t *j = json_pack("{sIsI}", "uid", (json_int_t)u.uid, "gid", (json_int_t)u.gid);
	_cleanup_json_ json_t *gids = json_array();
	for (size_t i = 0; gids && i < u.n_additional_gids; i++)
		r |= jappend(gids, json_integer(u.additional_gids[i]));
	passwd_user_release(&u);
	if (j == NULL || gids == NULL || r < 0 ||
	    (json_array_size(gids) > 0 && jset(j, "additionalGids", json_incref(gids)) < 0))
		return vsl_error_errno(err, ENOMEM, OOM);
	*ret = TAKE_PTR(j);
	return 0;
}

static int build_cwd(const struct oci_spec_input *in, char **ret, struct vsl_error **err)
{
	const char *wd = in->create->working_dir;
	if (wd && wd[0]) {
		if (wd[0] != '/')
			return vsl_error_set_code(
			    err, EINVAL,
			    "the working directory '%s' is invalid, it needs to be an absolute path", wd);
	} else {
		wd = in->image && in->image->config.working_dir && in->image->config.working_dir[0]
		         ? in->image->config.working_dir
		         : "/";
	}
	/* An image's relative WorkingDir is taken from /, as Docker does. */
	_cleanup_free_ char *abs = NULL;
	if (asprintf(&abs, "/%s", wd) < 0 || (*ret = create_path_clean(abs)) == NULL)
		return vsl_error_errno(err, ENOMEM, OOM);
	return 0;
}

static int build_rlimits(const struct create_host_config *h, json_t **ret, struct vsl_error **err)
{
	_cleanup_json_ json_t *a = json_array();
	if (a == NULL)
		return vsl_error_errno(err, ENOMEM, OOM);
	for (size_t i = 0; i < h->n_ulimits; i++) {
		const struct create_ulimit *u = &h->ulimits[i];
		const char *type = create_ulimit_type(u->name);
		if (type == NULL)
			return vsl_error_set_code(err, EINVAL, "invalid ulimit type: %s", u->name);
		/* -1 is RLIM_INFINITY. Values above the host's hard limit are kept:
		 * the runtime names the limit when it cannot raise it. */
		json_t *rl = json_object();
		if (jappend(a, rl) < 0 || jset(rl, "type", json_string(type)) < 0 ||
		    jset(rl, "hard", ju64((uint64_t)u->hard)) < 0 ||
		    jset(rl, "soft", ju64((uint64_t)u->soft)) < 0)
			return vsl_error_errno(err, ENOMEM, OOM);
	}
	*ret = TAKE_PTR(a);
	return 0;
}

/* ---- mounts ---- */

static json_t *mount_new(const char *dst, const char *type, const char *src, const char *const *opts)
{
	json_t *m = json_object();
	if (m == NULL || jset(m, "destination", json_string(dst)) < 0 ||
	    jset(m, "type", json_string(type)) < 0 || jset(m, "source", json_string(src)) < 0 ||
	    jset(m, "options", jstrv(opts)) < 0) {
		json_decref(m);
		return NULL;
	}
	return m;
}

/* Docker's MergeTmpfsOptions: later options win over earlier ones of the same
 * kind (noexec/exec, size=, ...). */
static const char *tmpfs_option_kind(const char *o, char buf[static 64])
{
	static const char *const flags[] = {"exec",     "suid",     "dev",         "atime",
	                                    "diratime", "relatime", "strictatime", "iversion",
	                                    "mand",     "sync",     "dirsync"};
	static const char *const props[] = {"shared",  "rshared",  "slave",      "rslave",
	                                    "private", "rprivate", "unbindable", "runbindable"};
	if (strcmp(o, "ro") == 0 || strcmp(o, "rw") == 0)
		return "rw";
	for (size_t i = 0; i < ARRAY_SIZE(props); i++)
		if (strcmp(o, props[i]) == 0)
			return "propagation";
	const char *base = strncmp(o, "no", 2) == 0 ? o + 2 : o;
	for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
		if (strcmp(base, flags[i]) == 0)
			return flags[i];
	size_t k = strcspn(o, "=");
	if (k >= 64)
		k = 63;
	memcpy(buf, o, k);
	buf[k] = '\0';
	return buf;
}

static int tmpfs_options(const struct create_mount_spec *m, char ***ret)
{
	_cleanup_strv_ char **all = NULL, **out = NULL, **kinds = NULL;
	const char *const defaults[] = {"noexec", "nosuid", "nodev", "rprivate"};
	for (size_t i = 0; i < ARRAY_SIZE(defaults); i++)
		if (strv_append(&all, defaults[i]) < 0)
			return -ENOMEM;
	for (char **o = m->options; o && *o; o++)
		if (strcmp(*o, "defaults") != 0 && strv_append(&all, *o) < 0)
			return -ENOMEM;
	if (m->read_only && strv_append(&all, "ro") < 0)
		return -ENOMEM;
	/* Walk backwards keeping the last of each kind, then restore the order. */
	size_t n = strv_length(all);
	char **keep = calloc(n + 1, sizeof(char *));
	if (keep == NULL)
		return -ENOMEM;
	size_t k = 0;
	for (size_t i = n; i-- > 0;) {
		char buf[64];
		const char *kind = tmpfs_option_kind(all[i], buf);
		if (strv_contains(kinds, kind))
			continue;
		if (strv_append(&kinds, kind) < 0) {
			free(keep);
			return -ENOMEM;
		}
		keep[k++] = all[i];
	}
	for (size_t i = k; i-- > 0;)
		if (strv_append(&out, keep[i]) < 0) {
			free(keep);
			return -ENOMEM;
		}
	free(keep);
	if (out == NULL && (out = calloc(1, sizeof(char *))) == NULL)
		return -ENOMEM;
	*ret = TAKE_PTR(out);
	return 0;
}

static size_t path_depth(const char *p)
{
	size_t n = 0;
	for (; *p; p++)
		if (*p == '/' && p[1] != '\0')
			n++;
	return n;
}

struct user_mount {
	const char *destination;
	json_t *mount;
	size_t order;
};

static int cmp_depth(const void *a, const void *b)
{
	const struct user_mount *x = a, *y = b;
	size_t dx = path_depth(x->destination), dy = path_depth(y->destination);
	if (dx != dy)
		return dx < dy ? -1 : 1;
	/* qsort is not stable: keep the given order among equals. */
	return x->order < y->order ? -1 : x->order > y->order;
}

static bool ipc_is(const struct create_host_config *h, const char *mode)
{
	return h->ipc_mode && strcmp(h->ipc_mode, mode) == 0;
}

static int build_mounts(const struct oci_spec_input *in, json_t *spec, json_t *linux_, struct vsl_error **err)
{
	const struct container_create *c = in->create;
	const struct create_host_config *h = &c->host;
	struct create_mount_spec *specs = NULL;
	size_t n_specs = 0;
	int r = create_mounts_list(c, &specs, &n_specs, err);
	if (r < 0)
		return r;

	_cleanup_json_ json_t *mounts = json_array();
	_cleanup_free_ struct user_mount *um = calloc(n_specs + in->n_volumes + 4, sizeof(*um));
	_cleanup_json_ json_t *held = json_array(); /* owns the user mounts until they are placed */
	if (mounts == NULL || um == NULL || held == NULL) {
		create_mount_specs_free(specs, n_specs);
		return vsl_error_errno(err, ENOMEM, OOM);
	}
	size_t n_um = 0;
	const char *propagation = NULL;

	for (size_t i = 0; i < n_specs; i++) {
		const struct create_mount_spec *m = &specs[i];
		json_t *j;
		if (m->kind == CREATE_MOUNT_VOLUME) {
			bool resolved = false;
			for (size_t v = 0; v < in->n_volumes; v++)
				resolved =
				    resolved || strcmp(in->volumes[v].destination, m->destination) == 0;
			if (!resolved) {
				r = vsl_error_set_code(err, EINVAL, "the volume at '%s' was not resolved",
				                       m->destination);
				create_mount_specs_free(specs, n_specs);
				return r;
			}
			continue; /* mounted from in->volumes below */
		}
		if (m->kind == CREATE_MOUNT_BIND) {
			const char *opts[4] = {m->non_recursive ? "bind" : "rbind"};
			size_t k = 1;
			if (m->read_only)
				opts[k++] = "ro";
			opts[k++] = m->propagation ? m->propagation : "rprivate";
			j = mount_new(m->destination, "bind", m->source, opts);
			if (m->propagation &&
			    (strcmp(m->propagation, "shared") == 0 || strcmp(m->propagation, "rshared") == 0))
				propagation = "rshared";
			else if (m->propagation && !propagation &&
			         (strcmp(m->propagation, "slave") == 0 ||
			          strcmp(m->propagation, "rslave") == 0))
				propagation = "rslave";
		} else {
			_cleanup_strv_ char **opts = NULL;
			j = tmpfs_options(m, &opts) < 0
			        ? NULL
			        : mount_new(m->destination, "tmpfs", "tmpfs", (const char *const *)opts);
		}
		if (jappend(held, j) < 0) {
			create_mount_specs_free(specs, n_specs);
			return vsl_error_errno(err, ENOMEM, OOM);
		}
		um[n_um] = (struct user_mount){json_string_value(json_object_get(j, "destination")), j, n_um};
		n_um++;
	}
	create_mount_specs_free(specs, n_specs);
	for (size_t v = 0; v < in->n_volumes; v++) {
		const struct oci_spec_volume *vol = &in->volumes[v];
		const char *opts[] = {"rbind", vol->read_only ? "ro" : "rprivate",
		                      vol->read_only ? "rprivate" : NULL, NULL};
		json_t *j = mount_new(vol->destination, "bind", vol->source, opts);
		if (jappend(held, j) < 0)
			return vsl_error_errno(err, ENOMEM, OOM);
		um[n_um] = (struct user_mount){json_string_value(json_object_get(j, "destination")), j, n_um};
		n_um++;
	}

	/* The engine's files, unless the user mounts their own there. */
	const struct {
		const char *dst, *src;
	} files[] = {
	    {"/etc/resolv.conf", in->resolv_conf_path},
	    {"/etc/hostname", in->hostname_path},
	    {"/etc/hosts", in->hosts_path},
	};
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		bool taken = false;
		for (size_t k = 0; k < n_um; k++)
			taken = taken || strcmp(um[k].destination, files[i].dst) == 0;
		if (files[i].src == NULL || taken)
			continue;
		const char *opts[] = {"rbind", "rprivate", h->readonly_rootfs ? "ro" : NULL, NULL};
		json_t *j = mount_new(files[i].dst, "bind", files[i].src, opts);
		if (jappend(held, j) < 0)
			return vsl_error_errno(err, ENOMEM, OOM);
		um[n_um] = (struct user_mount){files[i].dst, j, n_um};
		n_um++;
	}

	/* Docker's defaults, less those the user replaces. */
	bool user_dev = false;
	for (size_t k = 0; k < n_um; k++)
		user_dev = user_dev || strcmp(um[k].destination, "/dev") == 0;
	char shm_size[32];
	int64_t shm = h->shm_size > 0 ? h->shm_size : DEFAULT_SHM_SIZE;
	if (shm % 1024 == 0)
		snprintf(shm_size, sizeof(shm_size), "size=%lldk", (long long)(shm / 1024));
	else
		snprintf(shm_size, sizeof(shm_size), "size=%lld", (long long)shm);
	const char *ro = h->privileged ? "rw" : "ro";
	bool ipc_host = ipc_is(h, "host");
	struct {
		const char *dst, *type, *src;
		const char *opts[8];
		bool skip;
	} defaults[] = {
	    {"/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}},
	    {"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}},
	    {"/dev/pts",
	     "devpts",
	     "devpts",
	     {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
	    {"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", ro}},
	    {"/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", ro}},
	    /* The host's IPC namespace brings the host's POSIX queues and shared memory. */
	    {"/dev/mqueue",
	     ipc_host ? "bind" : "mqueue",
	     ipc_host ? "/dev/mqueue" : "mqueue",
	     {ipc_host ? "rbind" : "nosuid", ipc_host ? "nosuid" : "noexec", "nodev",
	      ipc_host ? "noexec" : NULL}},
	    {"/dev/shm",
	     ipc_host ? "bind" : "tmpfs",
	     ipc_host ? "/dev/shm" : "shm",
	     {ipc_host ? "rbind" : "nosuid", ipc_host ? "nosuid" : "noexec", "nodev",
	      ipc_host ? "noexec" : "mode=1777", ipc_host ? NULL : shm_size},
	     ipc_is(h, "none")},
	};
	for (size_t i = 0; i < ARRAY_SIZE(defaults); i++) {
		bool skip = defaults[i].skip || (user_dev && strncmp(defaults[i].dst, "/dev/", 5) == 0);
		for (size_t k = 0; k < n_um; k++)
			skip = skip || strcmp(um[k].destination, defaults[i].dst) == 0;
		if (skip)
			continue;
		if (jappend(mounts, mount_new(defaults[i].dst, defaults[i].type, defaults[i].src,
		                              defaults[i].opts)) < 0)
			return vsl_error_errno(err, ENOMEM, OOM);
	}
	if (h->has_init && h->init && in->init_path) {
		const char *opts[] = {"bind", "ro", "nosuid", "nodev", NULL};
		if (jappend(mounts, mount_new(OCI_SPEC_INIT_PATH, "bind", in->init_path, opts)) < 0)
			return vsl_error_errno(err, ENOMEM, OOM);
	}

	/* Parents before children, as Docker sorts them. */
	qsort(um, n_um, sizeof(*um), cmp_depth);
	for (size_t k = 0; k < n_um; k++)
		if (jappend(mounts, json_incref(um[k].mount)) < 0)
			return vsl_error_errno(err, ENOMEM, OOM);

	for (char **e = in->extra_mounts_json; e && *e; e++) {
		json_error_t je;
		json_t *j = json_loads(*e, 0, &je);
		if (j == NULL || !json_is_object(j)) {
			json_decref(j);
			return vsl_error_set_code(err, EINVAL, "extra mount '%s': not a JSON object", *e);
		}
		if (jappend(mounts, j) < 0)
			return vsl_error_errno(err, ENOMEM, OOM);
	}

	if (propagation && jset(linux_, "rootfsPropagation", json_string(propagation)) < 0)
		return vsl_error_errno(err, ENOMEM, OOM);
	return jset(spec, "mounts", TAKE_PTR(mounts)) < 0 ? vsl_error_errno(err, ENOMEM, OOM) : 0;
}

/* ---- devices ---- */

static json_t *device_rule(bool allow, const char *type, int64_t major, int64_t minor, const char *access)
{
	json_t *r = json_pack("{sbss}", "allow", allow, "access", access);
	if (r == NULL)
		return NULL;
	if ((type && jset(r, "type", json_string(type)) < 0) ||
	    (major != -2 && jset(r, "major", json_integer(major)) < 0) ||
	    (minor != -2 && jset(r, "minor", json_integer(minor)) < 0)) {
		json_decref(r);
		return NULL;
	}
	return r;
}

static int add_device(json_t *devices, json_t *rules, const char *path_in_container, const struct stat *st,
                      const char *access)
{
	const char *type = S_ISBLK(st->st_mode) ? "b" : "c";
	json_t *d = json_pack("{sssssIsIsIsIsI}", "path", path_in_container, "type", type, "major",
	                      (json_int_t)major(st->st_rdev), "minor", (json_int_t)minor(st->st_rdev),
	                      "fileMode", (json_int_t)(st->st_mode & 07777), "uid", (json_int_t)st->st_uid,
	                      "gid", (json_int_t)st->st_gid);
	if (jappend(devices, d) < 0)
		return -ENOMEM;
	if (rules && jappend(rules, device_rule(true, type, (int64_t)major(st->st_rdev),
	                                        (int64_t)minor(st->st_rdev), access)) < 0)
		return -ENOMEM;
	return 0;
}

/* Every device under host_dir, at the same place under container_dir; the
 * directories the kernel or the runtime mount themselves are left out, as runc does. */
static int add_device_tree(json_t *devices, json_t *rules, const char *host_dir, const char *container_dir,
                           const char *access, unsigned depth, struct vsl_error **err)
{
	if (depth > 8)
		return 0;
	_cleanup_closedir_ DIR *d = opendir(host_dir);
	if (d == NULL)
		return vsl_error_errno(err, errno, "read devices of '%s'", host_dir);
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		const char *n = de->d_name;
		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
			continue;
		_cleanup_free_ char *hp = NULL, *cp = NULL;
		if (asprintf(&hp, "%s/%s", host_dir, n) < 0 || asprintf(&cp, "%s/%s", container_dir, n) < 0)
			return vsl_error_errno(err, ENOMEM, OOM);
		struct stat st;
		if (lstat(hp, &st) < 0)
			continue; /* gone meanwhile */
		if (S_ISDIR(st.st_mode)) {
			static const char *const skip[] = {"pts",  "shm",         "fd",   "mqueue",
			                                   ".lxc", ".lxd-mounts", ".udev"};
			bool skipped = false;
			for (size_t i = 0; i < ARRAY_SIZE(skip); i++)
				skipped = skipped || (depth == 0 && strcmp(n, skip[i]) == 0);
			if (skipped)
				continue;
			int r = add_device_tree(devices, rules, hp, cp, access, depth + 1, err);
			if (r < 0)
				return r;
			continue;
		}
		if ((!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) || strcmp(n, "console") == 0)
			continue;
		if (add_device(devices, rules, cp, &st, access) < 0)
			return vsl_error_errno(err, ENOMEM, OOM);
	}
	return 0;
}

/* "c 1:3 rwm", "a *:* m", "b 8:* r" */
static int parse_cgroup_rule(const char *s, json_t **ret, struct vsl_error **err)
{
	char type, access[4] = "";
	char maj[16], min[16];
	int used = 0;
	if (sscanf(s, "%c %15[0-9*]:%15[0-9*] %3[rwm]%n", &type, maj, min, access, &used) != 4 ||
	    s[used] != '\0' || strchr("abc", type) == NULL)
		return vsl_error_set_code(err, EINVAL, "invalid device cgroup rule format: '%s'", s);
	int64_t ma = strcmp(maj, "*") == 0 ? -1 : strtoll(maj, NULL, 10);
	int64_t mi = strcmp(min, "*") == 0 ? -1 : strtoll(min, NULL, 10);
	char t[2] = {type, '\0'};
	*ret = device_rule(true, t, ma, mi, access);
	return *ret ? 0 : vsl_error_errno(err, ENOMEM, OOM);
}

static int build_devices(const struct oci_spec_input *in, json_t *linux_, json_t *resources,
                         struct vsl_error **err)
{
	const struct create_host_config *h = &in->create->host;
	json_t *devices = json_array(), *rules = json_array();
	if (jset(linux_, "devices", devices) < 0 || jset(resources, "devices", rules) < 0)
		return vsl_error_errno(err, ENOMEM, OOM);

	if (h->privileged) {
		if (jappend(rules, device_rule(true, NULL, -2, -2, "rwm")) < 0)
			return vsl_error_errno(err, ENOMEM, OOM);
		return add_device_tree(devices, NULL, "/dev", "/dev", "rwm", 0, err);
	}

	/* Deny all, then what every container may use: mknod of anything (the
	 * node is useless without the rule), and the standard character devices. */
	const struct {
		const char *type;
		int64_t major, minor;
		const char *access;
	} allowed[] = {
	    {"c", -1, -1, "m"},    {"b", -1, -1, "m"}, {"c", 1, 3, "rwm"}, /* null */
	    {"c", 1, 8, "rwm"},                                            /* random */
	    {"c", 1, 7, "rwm"},                                            /* full */
	    {"c", 5, 0, "rwm"},                                            /* tty */
	    {"c", 1, 5, "rwm"},                                            /* zero */
	    {"c", 1, 9, "rwm"},                                            /* urandom */
	    {"c", 5, 1, "rwm"},                                            /* console */
	    {"c", 136, -1, "rwm"},                                         /* pts */
	    {"c", 5, 2, "rwm"},                                            /* ptmx */
	};
	if (jappend(rules, device_rule(false, NULL, -2, -2, "rwm")) < 0)
		return vsl_error_errno(err, ENOMEM, OOM);
	for (size_t i = 0; i < ARRAY_SIZE(allowed); i++)
		if (jappend(rules, device_rule(true, allowed[i].type, allowed[i].major, allowed[i].minor,
		                               allowed[i].access)) < 0)
			return vsl_error_errno(err, ENOMEM, OOM);

	for (size_t i = 0; i < h->n_devices; i++) {
		const struct create_device *d = &h->devices[i];
		const char *dst =
		    d->path_in_container && d->path_in_container[0] ? d->path_in_container : d->path_on_host;
		const char *access =
		    d->cgroup_permissions && d->cgroup_permissions[0] ? d->cgroup_permissions : "rwm";
		struct stat st;
		if (d->path_on_host == NULL || stat(d->path_on_host, &st) < 0)
			return vsl_error_errno(
			    err, d->path_on_host ? errno : EINVAL,
			    "error gathering device information while adding custom device \"%s\"",
			    d->path_on_host ? d->path_on_host : "");
		int r;
		if (S_ISDIR(st.st_mode))
			r = add_device_tree(devices, rules, d->path_on_host, dst, access, 1, err);
		else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
			r = add_device(devices, rules, dst, &st, access) < 0
			        ? vsl_error_errno(err, ENOMEM, OOM)
			        : 0;
		else
			r = vsl_error_set_code(
			    err, EINVAL,
			    "error gathering device information while adding custom device \"%s\": "
			    "not a device node",
			    d->path_on_host);
		if (r < 0)
			return r;
	}
	for (char **s = h->device_cgroup_rules; s && *s; s++) {
		json_t *rule = NULL;
		int r = parse_cgroup_rule(*s, &rule, err);
		if (r < 0)
			return r;
		if (jappend(rules, rule) < 0)
			return vsl_error_errno(err, ENOMEM, OOM);
	}
	return 0;
}

/* ---- resources ---- */

static int device_numbers(const char *path, json_t *o, struct vsl_error **err)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return vsl_error_errno(err, errno, "stat device '%s'", path);
	if (!S_ISBLK(st.st_mode))
		return vsl_error_set_code(err, EINVAL, "'%s' is not a block device", path);
	if (jset(o, "major", json_integer(major(st.st_rdev))) < 0 ||
	    jset(o, "minor", json_integer(minor(st.st_rdev))) < 0)
		return vsl_error_errno(err, ENOMEM, OOM);
	return 0;
}

static int add_throttle(json_t *blkio, const char *key, const struct create_throttle_device *t, size_t n,
                        struct vsl_error **err)
{
	if (n == 0)
		return 0;
	json_t *a = json_array();
	if (jset(blkio, key, a) < 0)
		return vsl_error_errno(err, ENOMEM, OOM);
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();
		if (jappend(a, o) < 0 || jset(o, "rate", ju64(t[i].rate)) < 0)
			return vsl_error_errno(err, ENOMEM, OOM);
		int r = device_numbers(t[i].path, o, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int build_resources(const struct create_host_config *h, json_t *res, struct vsl_error **err)
{
	json_t *mem = json_object(), *cpu = json_object(), *blkio = json_object();
	if (jset(res, "memory", mem) < 0 || jset(res, "cpu", cpu) < 0 || jset(res, "blockIO", blkio) < 0)
		return vsl_error_errno(err, ENOMEM, OOM);
	int r = 0;

	if (h->memory > 0)
		r |= jset(mem, "limit", json_integer(h->memory));
	if (h->memory_reservation > 0)
		r |= jset(mem, "reservation", json_integer(h->memory_reservation));
	/* MemorySwap is memory plus swap; unset with a limit, Docker allows as much swap as memory. */
	if (h->memory_swap != 0)
		r |= jset(mem, "swap", json_integer(h->memory_swap));
	else if (h->memory > 0)
		r |= jset(mem, "swap", json_integer(h->memory * 2));
	if (h->has_memory_swappiness && h->memory_swappiness >= 0 && h->memory_swappiness <= 100)
		r |= jset(mem, "swappiness", json_integer(h->memory_swappiness));
	if (h->has_oom_kill_disable && h->oom_kill_disable)
		r |= jset(mem, "disableOOMKiller", json_true());

	if (h->cpu_shares != 0) {
		/* The kernel's range, as Docker clamps it. */
		int64_t shares = h->cpu_shares < 2 ? 2 : h->cpu_shares > 262144 ? 262144 : h->cpu_shares;
		r |= jset(cpu, "shares", json_integer(shares));
	}
	if (h->nano_cpus > 0) {
		const int64_t period = 100000;
		r |= jset(cpu, "period", json_integer(period));
		r |= jset(cpu, "quota", json_integer(h->nano_cpus * period / 1000000000));
	}
	if (h->cpu_period > 0)
		r |= jset(cpu, "period", json_integer(h->cpu_period));
	if (h->cpu_quota != 0)
		r |= jset(cpu, "quota", json_integer(h->cpu_quota));
	if (h->cpu_realtime_period > 0)
		r |= jset(cpu, "realtimePeriod", json_integer(h->cpu_realtime_period));
	if (h->cpu_realtime_runtime != 0)
		r |= jset(cpu, "realtimeRuntime", json_integer(h->cpu_realtime_runtime));
	if (h->cpuset_cpus && h->cpuset_cpus[0])
		r |= jset(cpu, "cpus", json_string(h->cpuset_cpus));
	if (h->cpuset_mems && h->cpuset_mems[0])
		r |= jset(cpu, "mems", json_string(h->cpuset_mems));

	/* 0 and -1 both mean unlimited to Docker; the runtime knows -1. */
	if (h->has_pids_limit)
		r |= jset(res, "pids",
		          json_pack("{sI}", "limit", (json_int_t)(h->pids_limit > 0 ? h->pids_limit : -1)));

	if (h->blkio_weight > 0)
		r |= jset(blkio, "weight", json_integer(h->blkio_weight));
	if (r < 0)
		return vsl_error_errno(err, ENOMEM, OOM);
	if (h->n_blkio_weight_device > 0) {
		json_t *a = json_array();
		if (jset(blkio, "weightDevice", a) < 0)
			return vsl_error_errno(err, ENOMEM, OOM);
		for (size_t i = 0; i < h->n_blkio_weight_device; i++) {
			json_t *o = json_object();
			if (jappend(a, o) < 0 ||
			    jset(o, "weight", json_integer(h->blkio_weight_device[i].weight)) < 0)
				return vsl_error_errno(err, ENOMEM, OOM);
			if ((r = device_numbers(h->blkio_weight_device[i].path, o, err)) < 0)
				return r;
		}
	}
	if ((r = add_throttle(blkio, "throttleReadBpsDevice", h->blkio_read_bps, h->n_blkio_read_bps, err)) <
	        0 ||
	    (r = add_throttle(blkio, "throttleWriteBpsDevice", h->blkio_write_bps, h->n_blkio_write_bps,
	                      err)) < 0 ||
	    (r = add_throttle(blkio, "throttleReadIOPSDevice", h->blkio_read_iops, h->n_blkio_read_iops,
	                      err)) < 0 ||
	    (r = add_throttle(blkio, "throttleWriteIOPSDevice", h->blkio_write_iops, h->n_blkio_write_iops,
	                      err)) < 0)
		return r;

	/* Empty groups are left out. */
	const char *groups[] = {"memory", "cpu", "blockIO"};
	for (size_t i = 0; i < ARRAY_SIZE(groups); i++)
		if (json_object_size(json_object_get(res, groups[i])) == 0)
			json_object_del(res, groups[i]);
	return 0;
}

/* ---- namespaces ---- */

static bool mode_container(const char *mode)
{
	return mode && strncmp(mode, "container:", 10) == 0;
}

static int add_namespace(json_t *list, const struct oci_spec_input *in, enum ns_type t, const char *mode,
                         const char *what, struct vsl_error **err)
{
	json_t *ns = json_pack("{ss}", "type", ns_type_name(t));
	if (jappend(list, ns) < 0)
		return vsl_error_errno(err, ENOMEM, OOM);
	/* A path given is joined whatever the mode: the engine wires a bridge
	 * network's namespace before the runtime starts (engine/networks.h). */
	if (mode_container(mode) && in->ns_paths[t] == NULL)
		return vsl_error_set_code(err, ENOTSUP,
		                          "%s mode '%s': the container's namespace is not known", what, mode);
	if (in->ns_paths[t] && jset(ns, "path", json_string(in->ns_paths[t])) < 0)
		return vsl_error_errno(err, ENOMEM, OOM);
	return 0;
}

static bool mode_is(const char *mode, const char *want)
{
	return mode && strcmp(mode, want) == 0;
}

static int build_namespaces(const struct oci_spec_input *in, json_t *linux_, struct vsl_error **err)
{
	const struct create_host_config *h = &in->create->host;
	json_t *list = json_array();
	if (jset(linux_, "namespaces", list) < 0)
		return vsl_error_errno(err, ENOMEM, OOM);
	int r = 0;
	if (!mode_is(h->pid_mode, "host"))
		r = add_namespace(list, in, NS_PID, h->pid_mode, "PID", err);
	/* none: a namespace of its own with loopback only; bridge, default and user
	 * networks: the one the engine made (ns_paths); container:X: X's. */
	if (r >= 0 && !mode_is(h->network_mode, "host"))
		r = add_namespace(list, in, NS_NETWORK, h->network_mode, "network", err);
	if (r >= 0 && !mode_is(h->ipc_mode, "host"))
		r = add_namespace(list, in, NS_IPC, h->ipc_mode, "IPC", err);
	if (r >= 0 && !mode_is(h->uts_mode, "host"))
		r = add_namespace(list, in, NS_UTS, NULL, "UTS", err);
	if (r >= 0)
		r = add_namespace(list, in, NS_MOUNT, NULL, "mount", err);
	/* Private everywhere (Docker's default on cgroup v2): on v1 and hybrid
	 * hosts too, where it hides the host's hierarchy. */
	if (r >= 0 && !mode_is(h->cgroupns_mode, "host"))
		r = add_namespace(list, in, NS_CGROUP, NULL, "cgroup", err);
	if (r >= 0 && h->userns_mode && h->userns_mode[0] && !mode_is(h->userns_mode, "host"))
		r = vsl_error_set_code(err, ENOTSUP, "userns mode '%s' is not supported", h->userns_mode);
	return r;
}

/* ---- seccomp ---- */

static int build_seccomp(const struct oci_spec_input *in, const struct create_security *sec,
                         char *const *caps, json_t *linux_, struct vsl_error **err)
{
	if (in->create->host.privileged || sec->seccomp_unconfined)
		return 0;
	json_t *s = NULL;
	int r = sec->seccomp_profile ? seccomp_profile_convert(sec->seccomp_profile,
	                                                       strlen(sec->seccomp_profile), caps, &s, err)
	                             : seccomp_default_build(caps, &s, err);
	if (r < 0)
		return r;
	return jset(linux_, "seccomp", s) < 0 ? vsl_error_errno(err, ENOMEM, OOM) : 0;
}

/* ---- writing ---- */

/* The 64-bit values jansson cannot hold were left as "\x01<decimal>"
 * strings in process.rlimits and linux.seccomp args; they are tagged with a
 * random nonce (no user string can forge it) and written as numbers. */
static int tag_big(json_t *o, const char *key, const char *nonce)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_string(v) || json_string_value(v)[0] != '\x01')
		return 0;
	char buf[96];
	snprintf(buf, sizeof(buf), "\x02%s:%s", nonce, json_string_value(v) + 1);
	return jset(o, key, json_string(buf));
}

static char *dump_spec(json_t *spec)
{
	char nonce[17];
	if (random_hex(nonce, 8) < 0)
		return NULL;

	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(json_object_get(spec, "process"), "rlimits"), i, v)
	{
		if (tag_big(v, "hard", nonce) < 0 || tag_big(v, "soft", nonce) < 0)
			return NULL;
	}
	json_t *rule;
	json_array_foreach(
	    json_object_get(json_object_get(json_object_get(spec, "linux"), "seccomp"), "syscalls"), i, rule)
	{
		size_t k;
		json_array_foreach(json_object_get(rule, "args"), k, v)
		{
			if (tag_big(v, "value", nonce) < 0 || tag_big(v, "valueTwo", nonce) < 0)
				return NULL;
		}
	}

	_cleanup_free_ char *text = json_dumps(spec, JSON_INDENT(2));
	if (text == NULL)
		return NULL;
	char marker[40];
	int mlen = snprintf(marker, sizeof(marker), "\"\\u0002%s:", nonce);
	if (strstr(text, marker) == NULL)
		return TAKE_PTR(text);
	/* Rewrite in place: each "\u0002<nonce>:<digits>" becomes <digits>, shorter. */
	char *w = text, *r = text;
	while (*r) {
		if (strncmp(r, marker, (size_t)mlen) == 0) {
			r += mlen;
			while (*r >= '0' && *r <= '9')
				*w++ = *r++;
			if (*r == '"')
				r++;
			continue;
		}
		*w++ = *r++;
	}
	*w = '\0';
	return TAKE_PTR(text);
}

/* ---- the spec ---- */

static int build_hostname(const struct oci_spec_input *in, char **ret, struct vsl_error **err)
{
	const struct container_create *c = in->create;
	if (c->hostname && c->hostname[0])
		*ret = strdup(c->hostname);
	else if (mode_is(c->host.network_mode, "host") || mode_is(c->host.uts_mode, "host")) {
		char buf[256] = "";
		if (gethostname(buf, sizeof(buf) - 1) < 0)
			return vsl_error_errno(err, errno, "read the host's name");
		*ret = strdup(buf);
	} else
		*ret = strndup(in->id, 12);
	return *ret ? 0 : vsl_error_errno(err, ENOMEM, OOM);
}

static int build_process(const struct oci_spec_input *in, const char *hostname, char *const *caps,
                         const struct create_security *sec, json_t *spec, struct vsl_error **err)
{
	const struct container_create *c = in->create;
	const struct create_host_config *h = &c->host;
	_cleanup_strv_ char **args = NULL, **env = NULL;
	_cleanup_free_ char *cwd = NULL;
	int r;
	if ((r = build_args(in, &args, err)) < 0 || (r = build_env(in, hostname, &env, err)) < 0 ||
	    (r = build_cwd(in, &cwd, err)) < 0)
		return r;
	json_t *user = NULL;
	_cleanup_json_ json_t *rlimits = NULL;
	if ((r = build_user(in, &user, err)) < 0)
		return r;
	json_t *proc = json_object();
	/* jset consumes its value even when it fails: user first. */
	if (jset(proc, "user", user) < 0 || jset(spec, "process", proc) < 0)
		return vsl_error_errno(err, ENOMEM, OOM);
	if ((r = build_rlimits(h, &rlimits, err)) < 0)
		return r;

	/* Inheritable and ambient stay empty: CVE-2022-27650 (and -24769). */
	const char *const none[] = {NULL};
	json_t *capsj = json_object();
	if (jset(proc, "terminal", json_boolean(c->tty)) < 0 ||
	    jset(proc, "args", jstrv((const char *const *)args)) < 0 ||
	    jset(proc, "env", jstrv((const char *const *)env)) < 0 ||
	    jset(proc, "cwd", json_string(cwd)) < 0 || jset(proc, "capabilities", capsj) < 0 ||
	    jset(capsj, "bounding", jstrv((const char *const *)caps)) < 0 ||
	    jset(capsj, "effective", jstrv((const char *const *)caps)) < 0 ||
	    jset(capsj, "permitted", jstrv((const char *const *)caps)) < 0 ||
	    jset(capsj, "inheritable", jstrv(none)) < 0 || jset(capsj, "ambient", jstrv(none)) < 0 ||
	    (json_array_size(rlimits) > 0 && jset(proc, "rlimits", json_incref(rlimits)) < 0) ||
	    jset(proc, "noNewPrivileges", json_boolean(sec->no_new_privileges)) < 0 ||
	    jset(proc, "oomScoreAdj", json_integer(h->oom_score_adj)) < 0)
		return vsl_error_errno(err, ENOMEM, OOM);
	if (c->tty && h->has_console_size && h->console_size[0] > 0 && h->console_size[1] > 0 &&
	    jset(proc, "consoleSize",
	         json_pack("{sIsI}", "height", (json_int_t)h->console_size[0], "width",
	                   (json_int_t)h->console_size[1])) < 0)
		return vsl_error_errno(err, ENOMEM, OOM);
	return 0;
}

static int build_annotations(const struct oci_spec_input *in, json_t *spec, struct vsl_error **err)
{
	const struct container_create *c = in->create;
	json_t *a = json_object();
	if (jset(spec, "annotations", a) < 0)
		return vsl_error_errno(err, ENOMEM, OOM);
	for (size_t i = 0; i < c->host.n_annotations; i++)
		if (jset(a, c->host.annotations[i].key, json_string(c->host.annotations[i].value)) < 0)
			return vsl_error_errno(err, ENOMEM, OOM);
	const char *stop = oci_spec_stop_signal(c, in->image);
	if ((stop && jset(a, "org.opencontainers.image.stopSignal", json_string(stop)) < 0) ||
	    (in->id && jset(a, "io.vessel.id", json_string(in->id)) < 0) ||
	    (in->name && jset(a, "io.vessel.name", json_string(in->name)) < 0))
		return vsl_error_errno(err, ENOMEM, OOM);
	return 0;
}

static int build_linux_rest(const struct oci_spec_input *in, json_t *linux_, struct vsl_error **err)
{
	const struct create_host_config *h = &in->create->host;
	const char *parent = h->cgroup_parent && h->cgroup_parent[0] ? h->cgroup_parent
	                     : in->cgroup_parent                     ? in->cgroup_parent
	                                                             : OCI_SPEC_CGROUP_PARENT;
	_cleanup_free_ char *raw = NULL, *path = NULL;
	if (asprintf(&raw, "/%s/%s", parent, in->id) < 0 || (path = create_path_clean(raw)) == NULL ||
	    jset(linux_, "cgroupsPath", json_string(path)) < 0)
		return vsl_error_errno(err, ENOMEM, OOM);

	if (h->n_sysctls > 0) {
		json_t *s = json_object();
		if (jset(linux_, "sysctl", s) < 0)
			return vsl_error_errno(err, ENOMEM, OOM);
		for (size_t i = 0; i < h->n_sysctls; i++)
			if (jset(s, h->sysctls[i].key, json_string(h->sysctls[i].value)) < 0)
				return vsl_error_errno(err, ENOMEM, OOM);
	}
	if (!h->privileged) {
		const char *const *masked =
		    h->masked_paths ? (const char *const *)h->masked_paths : default_masked;
		const char *const *ro =
		    h->readonly_paths ? (const char *const *)h->readonly_paths : default_readonly;
		if ((masked[0] && jset(linux_, "maskedPaths", jstrv(masked)) < 0) ||
		    (ro[0] && jset(linux_, "readonlyPaths", jstrv(ro)) < 0))
			return vsl_error_errno(err, ENOMEM, OOM);
	}
	return 0;
}

int oci_spec_build(const struct oci_spec_input *in, char **ret_json, struct vsl_error **err)
{
	const struct container_create *c = in->create;
	const struct create_host_config *h = &c->host;
	if (in->id == NULL || strlen(in->id) < 12 || in->rootfs == NULL || in->rootfs[0] != '/')
		return vsl_error_set_code(err, EINVAL,
		                          "build config.json: needs the container's id and absolute rootfs");

	struct create_security sec;
	int r = create_security_parse(c, &sec, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *hostname = NULL;
	_cleanup_strv_ char **caps = NULL;
	if ((r = build_hostname(in, &hostname, err)) < 0 || (r = build_caps(h, &caps, err)) < 0)
		return r;

	_cleanup_json_ json_t *spec = json_object();
	json_t *root = json_object(), *linux_ = json_object(), *resources = json_object();
	if (jset(spec, "ociVersion", json_string("1.0.2")) < 0 || jset(spec, "root", root) < 0 ||
	    jset(root, "path", json_string(in->rootfs)) < 0 ||
	    jset(root, "readonly", json_boolean(h->readonly_rootfs)) < 0 || jset(spec, "linux", linux_) < 0 ||
	    jset(linux_, "resources", resources) < 0)
		return vsl_error_errno(err, ENOMEM, OOM);
	if (!mode_is(h->uts_mode, "host") &&
	    (jset(spec, "hostname", json_string(hostname)) < 0 ||
	     (c->domainname && c->domainname[0] && jset(spec, "domainname", json_string(c->domainname)) < 0)))
		return vsl_error_errno(err, ENOMEM, OOM);

	if ((r = build_process(in, hostname, caps, &sec, spec, err)) < 0 ||
	    (r = build_mounts(in, spec, linux_, err)) < 0 || (r = build_annotations(in, spec, err)) < 0 ||
	    (r = build_namespaces(in, linux_, err)) < 0 ||
	    (r = build_devices(in, linux_, resources, err)) < 0 ||
	    (r = build_resources(h, resources, err)) < 0 ||
	    (r = build_seccomp(in, &sec, caps, linux_, err)) < 0 ||
	    (r = build_linux_rest(in, linux_, err)) < 0)
		return r;

	char *text = dump_spec(spec);
	if (text == NULL)
		return vsl_error_errno(err, ENOMEM, OOM);
	*ret_json = text;
	return 0;
}

const char *oci_spec_stop_signal(const struct container_create *c, const struct image_config *image)
{
	if (c->stop_signal && *c->stop_signal)
		return c->stop_signal;
	if (image && image->config.stop_signal && *image->config.stop_signal)
		return image->config.stop_signal;
	return NULL;
}
