/* config.json -> struct oci_config.
 *
 * Every JSON object of the spec is described once, by a table of fields for
 * the engine of util/json-table.h; what is left here is the tables, the checks
 * the spec asks for and the entry points.
 */
#include "runtime/config.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json-table.h"

/* The integer kinds store through these types. */
static_assert(sizeof(uid_t) == 4 && sizeof(gid_t) == 4 && sizeof(mode_t) == 4, "32-bit ids");
static_assert(sizeof(unsigned) == 4 && sizeof(int) == 4, "32-bit int");

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* config.json documents are small; this only bounds a hostile or broken file. */
#define CONFIG_MAX_SIZE (64u << 20)

/* jansson provides json_decrefp() for this. */
#define _cleanup_json_ _cleanup_(json_decrefp)

/* ---- checks ---- */

static int check_absolute(void *obj, const struct json_field *f, const struct jpath *p,
                          struct vsl_error **err)
{
	const char *s = *JT_AT(obj, f->off, char *);
	if (s[0] != '/')
		return json_table_fail(err, p, "'%s' is not an absolute path", s);
	return 0;
}

static int check_not_empty(void *obj, const struct json_field *f, const struct jpath *p,
                           struct vsl_error **err)
{
	char **l = *JT_AT(obj, f->off, char **);
	if (l == NULL || l[0] == NULL)
		return json_table_fail(err, p, "must not be empty");
	return 0;
}

static bool parse_number(const char **s, unsigned *ret)
{
	const char *c = *s;
	unsigned v = 0;
	if (*c < '0' || *c > '9')
		return false;
	for (; *c >= '0' && *c <= '9'; c++) {
		if (v > 100000)
			return false;
		v = v * 10 + (unsigned)(*c - '0');
	}
	*s = c;
	*ret = v;
	return true;
}

/* SemVer MAJOR.MINOR.PATCH[-pre][+build]: 1.0.0 up to any 1.3.x (and their -rc). */
static int check_oci_version(void *obj, const struct json_field *f, const struct jpath *p,
                             struct vsl_error **err)
{
	const char *v = *JT_AT(obj, f->off, char *);
	const char *s = v;
	unsigned major, minor, patch;
	bool ok = parse_number(&s, &major) && *s++ == '.' && parse_number(&s, &minor) && *s++ == '.' &&
	          parse_number(&s, &patch) && (*s == '\0' || *s == '-' || *s == '+');
	if (!ok || major != 1 || minor > 3)
		return json_table_fail(err, p, "unsupported version '%s' (vessel supports 1.0.0 to 1.3.x)",
		                       v);
	return 0;
}

/* Spec 1.0 allowed relative destinations; runc reads them from "/", so do we. */
static int check_mount_destination(void *obj, const struct json_field *f, const struct jpath *p,
                                   struct vsl_error **err)
{
	char **d = JT_AT(obj, f->off, char *);
	if ((*d)[0] == '/')
		return 0;
	if ((*d)[0] == '\0')
		return json_table_fail(err, p, "must not be empty");
	char *abs = NULL;
	if (asprintf(&abs, "/%s", *d) < 0)
		return json_table_fail_oom(err, p);
	free(*d);
	*d = abs;
	return 0;
}

static int check_access(void *obj, const struct json_field *f, const struct jpath *p, struct vsl_error **err)
{
	const char *s = *JT_AT(obj, f->off, char *);
	if (s[strspn(s, "rwm")] != '\0')
		return json_table_fail(err, p, "invalid access '%s' (expected letters among r, w, m)", s);
	return 0;
}

static int check_oom_score_adj(void *obj, const struct json_field *f, const struct jpath *p,
                               struct vsl_error **err)
{
	int v = *JT_AT(obj, f->off, int);
	if (v < -1000 || v > 1000)
		return json_table_fail(err, p, "%d is out of range (expected -1000 to 1000)", v);
	return 0;
}

static int check_umask(void *obj, const struct json_field *f, const struct jpath *p, struct vsl_error **err)
{
	mode_t m = *JT_AT(obj, f->off, mode_t);
	if (m > 0777)
		return json_table_fail(err, p, "%#o is not a valid umask", (unsigned)m);
	return 0;
}

static int check_positive(void *obj, const struct json_field *f, const struct jpath *p,
                          struct vsl_error **err)
{
	if (*JT_AT(obj, f->off, int) <= 0)
		return json_table_fail(err, p, "must be greater than zero");
	return 0;
}

static int check_nanosecs(void *obj, const struct json_field *f, const struct jpath *p,
                          struct vsl_error **err)
{
	if (*JT_AT(obj, f->off, uint32_t) >= 1000000000u)
		return json_table_fail(err, p, "must be below 1000000000");
	return 0;
}

/* The kernel's seccomp_data carries six syscall arguments. */
static int check_arg_index(void *obj, const struct json_field *f, const struct jpath *p,
                           struct vsl_error **err)
{
	unsigned i = *JT_AT(obj, f->off, unsigned);
	if (i >= 6)
		return json_table_fail(err, p, "%u is out of range (a syscall has arguments 0 to 5)", i);
	return 0;
}

static const struct {
	const char *name;
	int resource;
} rlimit_names[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

static int check_rlimit_type(void *obj, const struct json_field *f, const struct jpath *p,
                             struct vsl_error **err)
{
	struct oci_rlimit *rl = obj;
	(void)f;
	for (size_t i = 0; i < ARRAY_SIZE(rlimit_names); i++)
		if (strcmp(rl->type, rlimit_names[i].name) == 0) {
			rl->resource = rlimit_names[i].resource;
			return 0;
		}
	return json_table_fail(err, p, "unknown rlimit '%s'", rl->type);
}

static int check_rlimit(void *obj, const struct jpath *p, struct vsl_error **err)
{
	const struct oci_rlimit *rl = obj;
	if (rl->soft > rl->hard)
		return json_table_fail(err, p, "soft limit %llu is above hard limit %llu",
		                       (unsigned long long)rl->soft, (unsigned long long)rl->hard);
	return 0;
}

/* ---- process ---- */

static const struct json_field id_map_fields[] = {
    JT_FIELD(struct oci_id_map, "containerID", K_U32, container_id, JT_REQ),
    JT_FIELD(struct oci_id_map, "hostID", K_U32, host_id, JT_REQ),
    JT_FIELD(struct oci_id_map, "size", K_U32, size, JT_REQ),
    {0},
};
static const struct json_table id_map_table = {id_map_fields, sizeof(struct oci_id_map), NULL, NULL};

static const struct json_field rlimit_fields[] = {
    JT_FIELD(struct oci_rlimit, "type", K_STR, type, JT_REQ JT_CHECK(check_rlimit_type)),
    JT_FIELD(struct oci_rlimit, "hard", K_U64, hard, JT_REQ),
    JT_FIELD(struct oci_rlimit, "soft", K_U64, soft, JT_REQ),
    {0},
};
static const struct json_table rlimit_table = {rlimit_fields, sizeof(struct oci_rlimit), NULL, check_rlimit};

static const struct json_field caps_fields[] = {
    JT_FIELD(struct oci_caps, "bounding", K_STRV, bounding),
    JT_FIELD(struct oci_caps, "effective", K_STRV, effective),
    JT_FIELD(struct oci_caps, "inheritable", K_STRV, inheritable),
    JT_FIELD(struct oci_caps, "permitted", K_STRV, permitted),
    JT_FIELD(struct oci_caps, "ambient", K_STRV, ambient),
    {0},
};
static const struct json_table caps_table = {caps_fields, sizeof(struct oci_caps), NULL, NULL};

static const struct json_field user_fields[] = {
    JT_FIELD(struct oci_user, "uid", K_U32, uid, JT_REQ),
    JT_FIELD(struct oci_user, "gid", K_U32, gid, JT_REQ),
    JT_FIELD(struct oci_user, "umask", K_U32, umask,
             JT_HAS(struct oci_user, has_umask) JT_CHECK(check_umask)),
    JT_FIELD(struct oci_user, "additionalGids", K_U32V, additional_gids,
             JT_COUNT(struct oci_user, n_additional_gids)),
    JT_FIELD(struct oci_user, "username", K_STR, username),
    {0},
};
static const struct json_table user_table = {user_fields, sizeof(struct oci_user), NULL, NULL};

/* consoleSize is flattened into struct oci_process. */
static const struct json_field console_fields[] = {
    JT_FIELD(struct oci_process, "height", K_U32, console_height, JT_REQ),
    JT_FIELD(struct oci_process, "width", K_U32, console_width, JT_REQ),
    {0},
};
static const struct json_table console_table = {console_fields, 0, NULL, NULL};

/* Two entries of one type: which one would win is anybody's guess, so refuse. */
static int check_process(void *obj, const struct jpath *p, struct vsl_error **err)
{
	const struct oci_process *proc = obj;
	for (size_t i = 0; i < proc->n_rlimits; i++)
		for (size_t j = 0; j < i; j++)
			if (proc->rlimits[i].resource == proc->rlimits[j].resource) {
				struct jpath lp = {.up = p, .key = "rlimits"};
				struct jpath ep = {.up = &lp, .index = i};
				struct jpath tp = {.up = &ep, .key = "type"};
				return json_table_fail(err, &tp, "duplicate rlimit '%s'",
				                       proc->rlimits[i].type);
			}
	return 0;
}

#define P struct oci_process
static const struct json_field process_fields[] = {
    JT_FIELD(P, "terminal", K_BOOL, terminal),
    JT_INLINE("consoleSize", console_table),
    JT_FIELD(P, "user", K_OBJ, user, JT_SUB(user_table)),
    JT_FIELD(P, "args", K_STRV, args, JT_REQ JT_CHECK(check_not_empty)),
    JT_FIELD(P, "commandLine", K_STR, command_line),
    JT_FIELD(P, "env", K_STRV, env),
    JT_FIELD(P, "cwd", K_STR, cwd, JT_REQ JT_CHECK(check_absolute)),
    JT_FIELD(P, "capabilities", K_OBJ, caps, JT_HAS(P, has_caps) JT_SUB(caps_table)),
    JT_FIELD(P, "rlimits", K_ARR, rlimits, JT_COUNT(P, n_rlimits) JT_SUB(rlimit_table)),
    JT_FIELD(P, "noNewPrivileges", K_BOOL, no_new_privileges),
    JT_FIELD(P, "apparmorProfile", K_STR, apparmor_profile),
    JT_FIELD(P, "oomScoreAdj", K_I32, oom_score_adj,
             JT_HAS(P, has_oom_score_adj) JT_CHECK(check_oom_score_adj)),
    JT_FIELD(P, "selinuxLabel", K_STR, selinux_label),
    {0},
};
#undef P
static const struct json_table process_table = {process_fields, sizeof(struct oci_process), NULL,
                                                check_process};

/* ---- mounts, hooks ---- */

#define M struct oci_mount
static const struct json_field mount_fields[] = {
    JT_FIELD(M, "destination", K_STR, destination, JT_REQ JT_CHECK(check_mount_destination)),
    JT_FIELD(M, "type", K_STR, type),
    JT_FIELD(M, "source", K_STR, source),
    JT_FIELD(M, "options", K_STRV, options),
    JT_FIELD(M, "uidMappings", K_ARR, uid_mappings, JT_COUNT(M, n_uid_mappings) JT_SUB(id_map_table)),
    JT_FIELD(M, "gidMappings", K_ARR, gid_mappings, JT_COUNT(M, n_gid_mappings) JT_SUB(id_map_table)),
    {0},
};
#undef M
static const struct json_table mount_table = {mount_fields, sizeof(struct oci_mount), NULL, NULL};

static const struct json_field hook_fields[] = {
    JT_FIELD(struct oci_hook, "path", K_STR, path, JT_REQ JT_CHECK(check_absolute)),
    JT_FIELD(struct oci_hook, "args", K_STRV, args),
    JT_FIELD(struct oci_hook, "env", K_STRV, env),
    JT_FIELD(struct oci_hook, "timeout", K_I32, timeout,
             JT_HAS(struct oci_hook, has_timeout) JT_CHECK(check_positive)),
    {0},
};
static const struct json_table hook_table = {hook_fields, sizeof(struct oci_hook), NULL, NULL};

#define HOOK(json, k)                                                                                        \
	JT_FIELD(struct oci_hooks, json, K_ARR, list[k],                                                     \
	         JT_COUNT(struct oci_hooks, count[k]) JT_SUB(hook_table))
static const struct json_field hooks_fields[] = {
    HOOK("prestart", HOOK_PRESTART),
    HOOK("createRuntime", HOOK_CREATE_RUNTIME),
    HOOK("createContainer", HOOK_CREATE_CONTAINER),
    HOOK("startContainer", HOOK_START_CONTAINER),
    HOOK("poststart", HOOK_POSTSTART),
    HOOK("poststop", HOOK_POSTSTOP),
    {0},
};
#undef HOOK
static const struct json_table hooks_table = {hooks_fields, sizeof(struct oci_hooks), NULL, NULL};

/* ---- linux.resources ---- */

static void device_rule_init(void *obj)
{
	struct oci_device_rule *d = obj;
	d->type = 'a';
	d->major = d->minor = -1;
}

#define R struct oci_device_rule
static const struct json_field device_rule_fields[] = {
    JT_FIELD(R, "allow", K_BOOL, allow, JT_REQ),
    JT_FIELD(R, "type", K_CHAR, type, .chars = "acb", .noun = "device type", ),
    JT_FIELD(R, "major", K_I64, major),
    JT_FIELD(R, "minor", K_I64, minor),
    JT_FIELD(R, "access", K_STR, access, JT_CHECK(check_access)),
    {0},
};
#undef R
static const struct json_table device_rule_table = {device_rule_fields, sizeof(struct oci_device_rule),
                                                    device_rule_init, NULL};

#define R struct oci_resources
static const struct json_field memory_fields[] = {
    JT_FIELD(R, "limit", K_I64, memory.limit, JT_HAS(R, memory.has_limit)),
    JT_FIELD(R, "reservation", K_I64, memory.reservation, JT_HAS(R, memory.has_reservation)),
    JT_FIELD(R, "swap", K_I64, memory.swap, JT_HAS(R, memory.has_swap)),
    JT_FIELD(R, "kernel", K_I64, memory.kernel, JT_HAS(R, memory.has_kernel)),
    JT_FIELD(R, "kernelTCP", K_I64, memory.kernel_tcp, JT_HAS(R, memory.has_kernel_tcp)),
    JT_FIELD(R, "swappiness", K_U64, memory.swappiness, JT_HAS(R, memory.has_swappiness)),
    JT_FIELD(R, "disableOOMKiller", K_BOOL, memory.disable_oom_killer),
    JT_FIELD(R, "useHierarchy", K_BOOL, memory.use_hierarchy),
    JT_FIELD(R, "checkBeforeUpdate", K_BOOL, memory.check_before_update),
    {0},
};
static const struct json_table memory_table = {memory_fields, 0, NULL, NULL};

static const struct json_field cpu_fields[] = {
    JT_FIELD(R, "shares", K_U64, cpu.shares, JT_HAS(R, cpu.has_shares)),
    JT_FIELD(R, "quota", K_I64, cpu.quota, JT_HAS(R, cpu.has_quota)),
    JT_FIELD(R, "burst", K_U64, cpu.burst, JT_HAS(R, cpu.has_burst)),
    JT_FIELD(R, "period", K_U64, cpu.period, JT_HAS(R, cpu.has_period)),
    JT_FIELD(R, "realtimeRuntime", K_I64, cpu.rt_runtime, JT_HAS(R, cpu.has_rt_runtime)),
    JT_FIELD(R, "realtimePeriod", K_U64, cpu.rt_period, JT_HAS(R, cpu.has_rt_period)),
    JT_FIELD(R, "cpus", K_STR, cpu.cpus),
    JT_FIELD(R, "mems", K_STR, cpu.mems),
    JT_FIELD(R, "idle", K_I64, cpu.idle, JT_HAS(R, cpu.has_idle)),
    {0},
};
static const struct json_table cpu_table = {cpu_fields, 0, NULL, NULL};

static const struct json_field pids_fields[] = {
    JT_FIELD(R, "limit", K_I64, pids.limit, JT_HAS(R, pids.has_limit)),
    {0},
};
static const struct json_table pids_table = {pids_fields, 0, NULL, NULL};

static const struct json_field weight_device_fields[] = {
    JT_FIELD(struct oci_weight_device, "major", K_I64, major, JT_REQ),
    JT_FIELD(struct oci_weight_device, "minor", K_I64, minor, JT_REQ),
    JT_FIELD(struct oci_weight_device, "weight", K_U16, weight, JT_HAS(struct oci_weight_device, has_weight)),
    JT_FIELD(struct oci_weight_device, "leafWeight", K_U16, leaf_weight,
             JT_HAS(struct oci_weight_device, has_leaf_weight)),
    {0},
};
static const struct json_table weight_device_table = {weight_device_fields, sizeof(struct oci_weight_device),
                                                      NULL, NULL};

static const struct json_field throttle_device_fields[] = {
    JT_FIELD(struct oci_throttle_device, "major", K_I64, major, JT_REQ),
    JT_FIELD(struct oci_throttle_device, "minor", K_I64, minor, JT_REQ),
    JT_FIELD(struct oci_throttle_device, "rate", K_U64, rate, JT_REQ),
    {0},
};
static const struct json_table throttle_device_table = {throttle_device_fields,
                                                        sizeof(struct oci_throttle_device), NULL, NULL};

#define THROTTLE(json, m)                                                                                    \
	JT_FIELD(R, json, K_ARR, blkio.m, JT_COUNT(R, blkio.n_##m) JT_SUB(throttle_device_table))
static const struct json_field blkio_fields[] = {
    JT_FIELD(R, "weight", K_U16, blkio.weight, JT_HAS(R, blkio.has_weight)),
    JT_FIELD(R, "leafWeight", K_U16, blkio.leaf_weight, JT_HAS(R, blkio.has_leaf_weight)),
    JT_FIELD(R, "weightDevice", K_ARR, blkio.weight_devices,
             JT_COUNT(R, blkio.n_weight_devices) JT_SUB(weight_device_table)),
    THROTTLE("throttleReadBpsDevice", read_bps),
    THROTTLE("throttleWriteBpsDevice", write_bps),
    THROTTLE("throttleReadIOPSDevice", read_iops),
    THROTTLE("throttleWriteIOPSDevice", write_iops),
    {0},
};
#undef THROTTLE
static const struct json_table blkio_table = {blkio_fields, 0, NULL, NULL};

static const struct json_field hugepage_fields[] = {
    JT_FIELD(struct oci_hugepage_limit, "pageSize", K_STR, page_size, JT_REQ),
    JT_FIELD(struct oci_hugepage_limit, "limit", K_U64, limit, JT_REQ),
    {0},
};
static const struct json_table hugepage_table = {hugepage_fields, sizeof(struct oci_hugepage_limit), NULL,
                                                 NULL};

/* network.priorities[].priority is a number; it is kept as its decimal text. */
static int parse_priority(json_t *v, void *obj, const struct json_field *f, const struct jpath *p,
                          struct vsl_error **err)
{
	uint64_t u;
	int r = json_table_take_int(v, K_U32, p, &u, err);
	if (r < 0)
		return r;
	if (asprintf(JT_AT(obj, f->off, char *), "%u", (unsigned)u) < 0) {
		*JT_AT(obj, f->off, char *) = NULL;
		return json_table_fail_oom(err, p);
	}
	return 0;
}

static void release_string(void *obj, const struct json_field *f)
{
	free(*JT_AT(obj, f->off, char *));
}

static const struct json_field priority_fields[] = {
    JT_FIELD(struct json_kv, "name", K_STR, key, JT_REQ),
    JT_FIELD(struct json_kv, "priority", K_FN, value, JT_REQ.parse = parse_priority,
             .release = release_string, ),
    {0},
};
static const struct json_table priority_table = {priority_fields, sizeof(struct json_kv), NULL, NULL};

static const struct json_field network_fields[] = {
    JT_FIELD(R, "classID", K_U32, network.class_id, JT_HAS(R, network.has_class_id)),
    JT_FIELD(R, "priorities", K_ARR, network.priorities,
             JT_COUNT(R, network.n_priorities) JT_SUB(priority_table)),
    {0},
};
static const struct json_table network_table = {network_fields, 0, NULL, NULL};

/* The nested objects of resources are all flattened into struct oci_resources. */
static const struct json_field resources_fields[] = {
    JT_FIELD(R, "devices", K_ARR, devices, JT_COUNT(R, n_devices) JT_SUB(device_rule_table)),
    JT_INLINE("memory", memory_table),
    JT_INLINE("cpu", cpu_table),
    JT_INLINE("pids", pids_table),
    JT_INLINE("blockIO", blkio_table),
    JT_FIELD(R, "hugepageLimits", K_ARR, hugepage_limits,
             JT_COUNT(R, n_hugepage_limits) JT_SUB(hugepage_table)),
    JT_INLINE("network", network_table),
    JT_FIELD(R, "unified", K_MAP, unified, JT_COUNT(R, n_unified)),
    {0},
};
#undef R
static const struct json_table resources_table = {resources_fields, sizeof(struct oci_resources), NULL, NULL};

/* ---- linux.seccomp ---- */

#define SECCOMP_ACTIONS                                                                                      \
	"SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO", \
	    "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY"

static const struct json_field syscall_arg_fields[] = {
    JT_FIELD(struct oci_syscall_arg, "index", K_U32, index, JT_REQ JT_CHECK(check_arg_index)),
    JT_FIELD(struct oci_syscall_arg, "value", K_U64, value, JT_REQ),
    JT_FIELD(struct oci_syscall_arg, "valueTwo", K_U64, value_two),
    JT_FIELD(struct oci_syscall_arg, "op", K_STR, op,
             JT_REQ JT_ONEOF("operator", "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ",
                             "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ")),
    {0},
};
static const struct json_table syscall_arg_table = {syscall_arg_fields, sizeof(struct oci_syscall_arg), NULL,
                                                    NULL};

#define S struct oci_syscall_rule
static const struct json_field syscall_fields[] = {
    JT_FIELD(S, "names", K_STRV, names, JT_REQ JT_CHECK(check_not_empty)),
    JT_FIELD(S, "action", K_STR, action, JT_REQ JT_ONEOF("action", SECCOMP_ACTIONS)),
    JT_FIELD(S, "errnoRet", K_U32, errno_ret, JT_HAS(S, has_errno_ret)),
    JT_FIELD(S, "args", K_ARR, args, JT_COUNT(S, n_args) JT_SUB(syscall_arg_table)),
    {0},
};
#undef S
static const struct json_table syscall_table = {syscall_fields, sizeof(struct oci_syscall_rule), NULL, NULL};

static int check_seccomp_flags(void *obj, const struct json_field *f, const struct jpath *p,
                               struct vsl_error **err)
{
	static const char *const known[] = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
	                                    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
	                                    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", NULL};
	char **flags = *JT_AT(obj, f->off, char **);
	for (size_t i = 0; flags[i]; i++) {
		size_t k = 0;
		while (known[k] && strcmp(known[k], flags[i]) != 0)
			k++;
		if (known[k] == NULL) {
			struct jpath ep = {.up = p, .index = i};
			return json_table_fail(err, &ep, "unknown seccomp flag '%s'", flags[i]);
		}
	}
	return 0;
}

#define S struct oci_seccomp
static const struct json_field seccomp_fields[] = {
    JT_FIELD(S, "defaultAction", K_STR, default_action, JT_REQ JT_ONEOF("action", SECCOMP_ACTIONS)),
    JT_FIELD(S, "defaultErrnoRet", K_U32, default_errno_ret, JT_HAS(S, has_default_errno_ret)),
    JT_FIELD(S, "architectures", K_STRV, architectures),
    JT_FIELD(S, "flags", K_STRV, flags, JT_CHECK(check_seccomp_flags)),
    JT_FIELD(S, "listenerPath", K_STR, listener_path),
    JT_FIELD(S, "listenerMetadata", K_STR, listener_metadata),
    JT_FIELD(S, "syscalls", K_ARR, syscalls, JT_COUNT(S, n_syscalls) JT_SUB(syscall_table)),
    {0},
};
#undef S
static const struct json_table seccomp_table = {seccomp_fields, sizeof(struct oci_seccomp), NULL, NULL};

/* ---- linux ---- */

static const char *const ns_names[NS_COUNT] = {
    [NS_USER] = "user", [NS_MOUNT] = "mount", [NS_PID] = "pid",       [NS_NETWORK] = "network",
    [NS_IPC] = "ipc",   [NS_UTS] = "uts",     [NS_CGROUP] = "cgroup", [NS_TIME] = "time",
};

struct ns_entry {
	char *type, *path;
};

static const struct json_field ns_entry_fields[] = {
    JT_FIELD(struct ns_entry, "type", K_STR, type, JT_REQ),
    JT_FIELD(struct ns_entry, "path", K_STR, path, JT_CHECK(check_absolute)),
    {0},
};
static const struct json_table ns_entry_table = {ns_entry_fields, sizeof(struct ns_entry), NULL, NULL};

/* An array of {type, path} lands in slots indexed by type. */
static int parse_namespaces(json_t *v, void *obj, const struct json_field *f, const struct jpath *p,
                            struct vsl_error **err)
{
	struct oci_namespace *ns = JT_AT(obj, f->off, struct oci_namespace);
	if (!json_is_array(v))
		return json_table_fail(err, p, "expected an array");
	for (size_t i = 0; i < json_array_size(v); i++) {
		struct jpath ep = {.up = p, .index = i};
		struct jpath tp = {.up = &ep, .key = "type"};
		json_t *e = json_array_get(v, i);
		if (!json_is_object(e))
			return json_table_fail(err, &ep, "expected an object");

		struct ns_entry entry = {0};
		int r = json_table_parse(&ns_entry_table, e, &entry, &ep, err);
		if (r < 0) {
			json_table_free(&ns_entry_table, &entry);
			return r;
		}
		size_t t = 0;
		while (t < NS_COUNT && strcmp(ns_names[t], entry.type) != 0)
			t++;
		if (t == NS_COUNT || ns[t].present) {
			r = json_table_fail(err, &tp, "%s namespace '%s'",
			                    t == NS_COUNT ? "unknown" : "duplicate", entry.type);
			json_table_free(&ns_entry_table, &entry);
			return r;
		}
		free(entry.type);
		ns[t].present = true;
		ns[t].path = entry.path;
	}
	return 0;
}

static void release_namespaces(void *obj, const struct json_field *f)
{
	struct oci_namespace *ns = JT_AT(obj, f->off, struct oci_namespace);
	for (size_t i = 0; i < NS_COUNT; i++)
		free(ns[i].path);
}

static void device_init(void *obj)
{
	struct oci_device *d = obj;
	d->major = d->minor = INT64_MIN; /* absent */
}

static int check_device(void *obj, const struct jpath *p, struct vsl_error **err)
{
	struct oci_device *d = obj;
	int64_t *num[] = {&d->major, &d->minor};
	static const char *const names[] = {"major", "minor"};
	for (size_t i = 0; i < 2; i++) {
		struct jpath np = {.up = p, .key = names[i]};
		if (*num[i] == INT64_MIN) {
			/* A fifo has no device number. */
			if (d->type == 'p') {
				*num[i] = 0;
				continue;
			}
			return json_table_fail(err, &np, "required for device type '%c'", d->type);
		}
		if (*num[i] < 0 || *num[i] > UINT32_MAX)
			return json_table_fail(err, &np, "%lld is not a valid device number",
			                       (long long)*num[i]);
	}
	return 0;
}

#define D struct oci_device
static const struct json_field device_fields[] = {
    JT_FIELD(D, "type", K_CHAR, type, JT_REQ.chars = "cbup", .noun = "device type", ),
    JT_FIELD(D, "path", K_STR, path, JT_REQ JT_CHECK(check_absolute)),
    JT_FIELD(D, "major", K_I64, major),
    JT_FIELD(D, "minor", K_I64, minor),
    JT_FIELD(D, "fileMode", K_U32, file_mode, JT_HAS(D, has_mode)),
    JT_FIELD(D, "uid", K_U32, uid, JT_HAS(D, has_uid)),
    JT_FIELD(D, "gid", K_U32, gid, JT_HAS(D, has_gid)),
    {0},
};
#undef D
static const struct json_table device_table = {device_fields, sizeof(struct oci_device), device_init,
                                               check_device};

static const struct json_field time_offset_fields[] = {
    JT_FIELD(struct oci_time_offset, "secs", K_I64, secs),
    JT_FIELD(struct oci_time_offset, "nanosecs", K_U32, nanosecs, JT_CHECK(check_nanosecs)),
    {0},
};
static const struct json_table time_offset_table = {time_offset_fields, sizeof(struct oci_time_offset), NULL,
                                                    NULL};

#define C struct oci_config
static const struct json_field time_offsets_fields[] = {
    JT_FIELD(C, "monotonic", K_OBJ, time_offsets[0],
             JT_HAS(C, time_offsets[0].present) JT_SUB(time_offset_table)),
    JT_FIELD(C, "boottime", K_OBJ, time_offsets[1],
             JT_HAS(C, time_offsets[1].present) JT_SUB(time_offset_table)),
    {0},
};
static const struct json_table time_offsets_table = {time_offsets_fields, 0, NULL, NULL};

static const struct json_field personality_fields[] = {
    JT_FIELD(C, "domain", K_STR, personality_domain,
             JT_REQ JT_ONEOF("personality domain", "LINUX", "LINUX32")),
    {0},
};
static const struct json_table personality_table = {personality_fields, 0, NULL, NULL};

static const struct json_field linux_fields[] = {
    JT_FIELD(C, "namespaces", K_FN, namespaces, .parse = parse_namespaces, .release = release_namespaces, ),
    JT_FIELD(C, "uidMappings", K_ARR, uid_mappings, JT_COUNT(C, n_uid_mappings) JT_SUB(id_map_table)),
    JT_FIELD(C, "gidMappings", K_ARR, gid_mappings, JT_COUNT(C, n_gid_mappings) JT_SUB(id_map_table)),
    JT_INLINE("timeOffsets", time_offsets_table),
    JT_FIELD(C, "devices", K_ARR, devices, JT_COUNT(C, n_devices) JT_SUB(device_table)),
    JT_FIELD(C, "cgroupsPath", K_STR, cgroups_path),
    JT_FIELD(C, "resources", K_OBJ, resources, JT_HAS(C, has_resources) JT_SUB(resources_table)),
    JT_FIELD(C, "rootfsPropagation", K_STR, rootfs_propagation,
             JT_ONEOF("propagation", "shared", "slave", "private", "rshared", "rslave", "rprivate",
                      "unbindable", "runbindable")),
    JT_FIELD(C, "maskedPaths", K_STRV, masked_paths),
    JT_FIELD(C, "readonlyPaths", K_STRV, readonly_paths),
    JT_FIELD(C, "mountLabel", K_STR, mount_label),
    JT_FIELD(C, "sysctl", K_MAP, sysctl, JT_COUNT(C, n_sysctl)),
    JT_FIELD(C, "seccomp", K_PTR, seccomp, JT_SUB(seccomp_table)),
    JT_INLINE("personality", personality_table),
    {0},
};
static const struct json_table linux_table = {linux_fields, 0, NULL, NULL};

static const struct json_field root_fields[] = {
    JT_FIELD(C, "path", K_STR, root_path, JT_REQ),
    JT_FIELD(C, "readonly", K_BOOL, root_readonly),
    {0},
};
static const struct json_table root_table = {root_fields, 0, NULL, NULL};

static const struct json_field config_fields[] = {
    /* First: a document of another version is better refused than misread. */
    JT_FIELD(C, "ociVersion", K_STR, oci_version, JT_REQ JT_CHECK(check_oci_version)),
    JT_INLINE("root", root_table, JT_REQ),
    JT_FIELD(C, "hostname", K_STR, hostname),
    JT_FIELD(C, "domainname", K_STR, domainname),
    JT_FIELD(C, "process", K_OBJ, process, JT_HAS(C, has_process) JT_SUB(process_table)),
    JT_FIELD(C, "mounts", K_ARR, mounts, JT_COUNT(C, n_mounts) JT_SUB(mount_table)),
    JT_FIELD(C, "hooks", K_OBJ, hooks, JT_SUB(hooks_table)),
    JT_FIELD(C, "annotations", K_MAP, annotations, JT_COUNT(C, n_annotations)),
    JT_INLINE("linux", linux_table),
    {0},
};
#undef C
static const struct json_table config_table = {config_fields, sizeof(struct oci_config), NULL, NULL};

/* ---- public ---- */

int oci_config_parse(const char *text, size_t len, struct oci_config **ret, struct vsl_error **err)
{
	const struct jpath root = {.key = "config.json", .doc = true};
	_cleanup_json_ json_t *j = NULL;
	int r = json_table_load(text, len, &root, &j, err);
	if (r < 0)
		return r;

	_cleanup_config_ struct oci_config *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return json_table_fail_oom(err, &root);
	r = json_table_parse(&config_table, j, c, &root, err);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(c);
	return 0;
}

int oci_config_load(int dirfd, const char *name, struct oci_config **ret, struct vsl_error **err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = read_file_at(dirfd, name, CONFIG_MAX_SIZE, &buf, &len, err);
	if (r < 0)
		return r;
	return oci_config_parse(buf, len, ret, err);
}

void oci_config_free(struct oci_config *c)
{
	if (c == NULL)
		return;
	json_table_free(&config_table, c);
	free(c);
}

int oci_process_parse(const char *text, size_t len, struct oci_process *ret, struct vsl_error **err)
{
	const struct jpath root = {.key = "process"};
	memset(ret, 0, sizeof(*ret));
	_cleanup_json_ json_t *j = NULL;
	int r = json_table_load(text, len, &root, &j, err);
	if (r < 0)
		return r;
	r = json_table_parse(&process_table, j, ret, &root, err);
	if (r < 0)
		oci_process_clear(ret);
	return r;
}

void oci_process_clear(struct oci_process *p)
{
	if (p == NULL)
		return;
	json_table_free(&process_table, p);
	memset(p, 0, sizeof(*p));
}

int oci_resources_parse(const char *text, size_t len, struct oci_resources *ret, struct vsl_error **err)
{
	const struct jpath root = {.key = "resources"};
	memset(ret, 0, sizeof(*ret));
	_cleanup_json_ json_t *j = NULL;
	int r = json_table_load(text, len, &root, &j, err);
	if (r < 0)
		return r;
	r = json_table_parse(&resources_table, j, ret, &root, err);
	if (r < 0)
		oci_resources_clear(ret);
	return r;
}

void oci_resources_clear(struct oci_resources *r)
{
	if (r == NULL)
		return;
	json_table_free(&resources_table, r);
	memset(r, 0, sizeof(*r));
}

const char *ns_type_name(enum ns_type t)
{
	return (unsigned)t < NS_COUNT ? ns_names[t] : NULL;
}

int ns_type_clone_flag(enum ns_type t)
{
	static const int flags[NS_COUNT] = {
	    [NS_USER] = CLONE_NEWUSER,     [NS_MOUNT] = CLONE_NEWNS,  [NS_PID] = CLONE_NEWPID,
	    [NS_NETWORK] = CLONE_NEWNET,   [NS_IPC] = CLONE_NEWIPC,   [NS_UTS] = CLONE_NEWUTS,
	    [NS_CGROUP] = CLONE_NEWCGROUP, [NS_TIME] = CLONE_NEWTIME,
	};
	return (unsigned)t < NS_COUNT ? flags[t] : 0;
}

const char *ns_type_proc_name(enum ns_type t)
{
	static const char *const names[NS_COUNT] = {
	    [NS_USER] = "user", [NS_MOUNT] = "mnt", [NS_PID] = "pid",       [NS_NETWORK] = "net",
	    [NS_IPC] = "ipc",   [NS_UTS] = "uts",   [NS_CGROUP] = "cgroup", [NS_TIME] = "time",
	};
	return (unsigned)t < NS_COUNT ? names[t] : NULL;
}

const char *hook_kind_name(enum hook_kind k)
{
	static const char *const names[HOOK_KIND_COUNT] = {
	    [HOOK_PRESTART] = "prestart",
	    [HOOK_CREATE_RUNTIME] = "createRuntime",
	    [HOOK_CREATE_CONTAINER] = "createContainer",
	    [HOOK_START_CONTAINER] = "startContainer",
	    [HOOK_POSTSTART] = "poststart",
	    [HOOK_POSTSTOP] = "poststop",
	};
	return (unsigned)k < HOOK_KIND_COUNT ? names[k] : NULL;
}
