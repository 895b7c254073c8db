/* The OCI runtime configuration (config.json), parsed into C structs.
 *
 * One document type, one place: config.c maps every field we use from JSON
 * with a table per struct (util/json-table.h), checks types and required
 * fields, and names the field's path in errors ("config.json: process.args:
 * expected an array of strings"). Everything else in runtime/ reads these structs, never JSON.
 *
 *     struct oci_config *c = NULL;
 *     if (oci_config_load(bundle_fd, "config.json", &c, err) < 0) ...
 *     oci_config_free(c);
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/json-table.h" /* struct json_kv */

struct vsl_error;
typedef struct json_t json_t;

/* Namespace kinds, in the order they are joined (user first: it grants the rest). */
enum ns_type { NS_USER, NS_MOUNT, NS_PID, NS_NETWORK, NS_IPC, NS_UTS, NS_CGROUP, NS_TIME, NS_COUNT };

struct oci_namespace {
	bool present;
	char *path; /* NULL: create a new one; else join this one */
};

struct oci_id_map {
	uint32_t container_id, host_id, size;
};

struct oci_mount {
	char *destination;
	char *type;     /* may be NULL (bind mounts) */
	char *source;   /* may be NULL */
	char **options; /* NULL-terminated, may be NULL */
	struct oci_id_map *uid_mappings, *gid_mappings;
	size_t n_uid_mappings, n_gid_mappings;
};

struct oci_rlimit {
	int resource; /* RLIMIT_* */
	char *type;   /* "RLIMIT_NOFILE", for messages */
	uint64_t hard, soft;
};

struct oci_caps {
	char **bounding, **effective, **inheritable, **permitted, **ambient; /* NULL: absent */
};

struct oci_user {
	uid_t uid;
	gid_t gid;
	bool has_umask;
	mode_t umask;
	gid_t *additional_gids;
	size_t n_additional_gids;
	char *username;
};

struct oci_process {
	bool terminal;
	unsigned console_height, console_width;
	struct oci_user user;
	char **args;
	char *command_line;
	char **env;
	char *cwd;
	struct oci_caps caps;
	bool has_caps;
	struct oci_rlimit *rlimits;
	size_t n_rlimits;
	bool no_new_privileges;
	char *apparmor_profile;
	bool has_oom_score_adj;
	int oom_score_adj;
	char *selinux_label;
};

struct oci_device {
	char *path;
	char type; /* 'c', 'b', 'u', 'p' */
	int64_t major, minor;
	bool has_mode, has_uid, has_gid;
	mode_t file_mode;
	uid_t uid;
	gid_t gid;
};

struct oci_device_rule {
	bool allow;
	char type;            /* 'a', 'c', 'b' */
	int64_t major, minor; /* -1: any */
	char *access;         /* "rwm" subset; NULL: all */
};

struct oci_weight_device {
	int64_t major, minor;
	bool has_weight, has_leaf_weight;
	uint16_t weight, leaf_weight;
};

struct oci_throttle_device {
	int64_t major, minor;
	uint64_t rate;
};

struct oci_hugepage_limit {
	char *page_size; /* "2MB" */
	uint64_t limit;
};

/* Optional integers carry a has_ flag: absent and zero differ in the spec. */
struct oci_resources {
	struct oci_device_rule *devices;
	size_t n_devices;

	struct {
		bool has_limit, has_reservation, has_swap, has_kernel, has_kernel_tcp, has_swappiness;
		bool disable_oom_killer, use_hierarchy, check_before_update;
		int64_t limit, reservation, swap, kernel, kernel_tcp;
		uint64_t swappiness;
	} memory;

	struct {
		bool has_shares, has_quota, has_burst, has_period, has_rt_runtime, has_rt_period, has_idle;
		uint64_t shares, period, rt_period, burst;
		int64_t quota, rt_runtime, idle;
		char *cpus, *mems;
	} cpu;

	struct {
		bool has_limit;
		int64_t limit;
	} pids;

	struct {
		bool has_weight, has_leaf_weight;
		uint16_t weight, leaf_weight;
		struct oci_weight_device *weight_devices;
		size_t n_weight_devices;
		struct oci_throttle_device *read_bps, *write_bps, *read_iops, *write_iops;
		size_t n_read_bps, n_write_bps, n_read_iops, n_write_iops;
	} blkio;

	struct oci_hugepage_limit *hugepage_limits;
	size_t n_hugepage_limits;

	struct {
		bool has_class_id;
		uint32_t class_id;
		struct json_kv *priorities; /* value: decimal priority */
		size_t n_priorities;
	} network;

	struct json_kv *unified;
	size_t n_unified;
};

struct oci_hook {
	char *path;
	char **args;
	char **env;
	bool has_timeout;
	int timeout; /* seconds */
};

enum hook_kind {
	HOOK_PRESTART,
	HOOK_CREATE_RUNTIME,
	HOOK_CREATE_CONTAINER,
	HOOK_START_CONTAINER,
	HOOK_POSTSTART,
	HOOK_POSTSTOP,
	HOOK_KIND_COUNT
};

struct oci_hooks {
	struct oci_hook *list[HOOK_KIND_COUNT];
	size_t count[HOOK_KIND_COUNT];
};

struct oci_syscall_arg {
	unsigned index;
	uint64_t value, value_two;
	char *op; /* "SCMP_CMP_EQ" ... */
};

struct oci_syscall_rule {
	char **names;
	char *action;
	bool has_errno_ret;
	unsigned errno_ret;
	struct oci_syscall_arg *args;
	size_t n_args;
};

struct oci_seccomp {
	char *default_action;
	bool has_default_errno_ret;
	unsigned default_errno_ret;
	char **architectures;
	char **flags;
	char *listener_path;
	char *listener_metadata;
	struct oci_syscall_rule *syscalls;
	size_t n_syscalls;
};

struct oci_time_offset {
	bool present;
	int64_t secs;
	uint32_t nanosecs;
};

struct oci_config {
	char *oci_version;
	char *root_path; /* as written; resolved against the bundle by the caller */
	bool root_readonly;
	char *hostname;
	char *domainname;
	bool has_process;
	struct oci_process process;
	struct oci_mount *mounts;
	size_t n_mounts;
	struct oci_hooks hooks;
	struct json_kv *annotations;
	size_t n_annotations;

	/* linux */
	struct oci_namespace namespaces[NS_COUNT];
	struct oci_id_map *uid_mappings, *gid_mappings;
	size_t n_uid_mappings, n_gid_mappings;
	struct oci_time_offset time_offsets[2]; /* [0] monotonic, [1] boottime */
	struct oci_device *devices;
	size_t n_devices;
	char *cgroups_path;
	bool has_resources;
	struct oci_resources resources;
	char *rootfs_propagation;
	char **masked_paths;
	char **readonly_paths;
	char *mount_label;
	struct json_kv *sysctl;
	size_t n_sysctl;
	struct oci_seccomp *seccomp; /* NULL: none */
	char *personality_domain;
};

/* Parses a config.json document. Unknown fields are ignored (the spec allows
 * extensions); wrong types, missing required fields and unknown enum values are
 * errors naming the field. */
int oci_config_parse(const char *text, size_t len, struct oci_config **ret, struct vsl_error **err);
/* Reads and parses `name` relative to dirfd. */
int oci_config_load(int dirfd, const char *name, struct oci_config **ret, struct vsl_error **err);
void oci_config_free(struct oci_config *c);

/* Parses a process document (runc exec --process) into *ret (zeroed first). */
int oci_process_parse(const char *text, size_t len, struct oci_process *ret, struct vsl_error **err);
void oci_process_clear(struct oci_process *p);

/* Parses a linux.resources document (runc update --resources). */
int oci_resources_parse(const char *text, size_t len, struct oci_resources *ret, struct vsl_error **err);
void oci_resources_clear(struct oci_resources *r);

const char *ns_type_name(enum ns_type t);      /* "pid", "network", ... as in config.json */
int ns_type_clone_flag(enum ns_type t);        /* CLONE_NEWPID, ... */
const char *ns_type_proc_name(enum ns_type t); /* /proc/PID/ns/<name>: "pid", "net", ... */
const char *hook_kind_name(enum hook_kind k);  /* "prestart", "createRuntime", ... */

static inline void oci_config_freep(struct oci_config **c)
{
	oci_config_free(*c);
}
#define _cleanup_config_ __attribute__((cleanup(oci_config_freep)))
