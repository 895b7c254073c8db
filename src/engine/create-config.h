/* A container's configuration, in the shape of the Docker Engine API's
 * `POST /containers/create` body: the Config fields at the top level, plus
 * "HostConfig" and "NetworkingConfig", with Docker's field names and types.
 *
 * The CLI turns `vessel run` flags into this body (as the docker CLI does) and
 * the API server receives it over HTTP; both go through the one parser here,
 * and the engine keeps the parsed struct (written back by
 * container_create_to_json()) as the container's configuration.
 *
 *     _cleanup_container_create_ struct container_create *c = NULL;
 *     if (container_create_parse(body, len, &c, err) < 0 ||
 *         container_create_validate(c, err) < 0)
 *             return ...;                       (HTTP 400 with the message)
 *     ... oci_spec_build(&(struct oci_spec_input){.create = c, ...}, &json, err)
 *
 * Errors name the field: "container config: HostConfig.Memory: expected a
 * 64-bit integer". Unknown fields are ignored and null counts as absent, as
 * for dockerd. Cmd and Entrypoint take a string or an array of strings, as
 * Docker's strslice does.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/json-table.h" /* struct json_kv */

struct vsl_error;

/* Docker's minimum for Memory and MemoryReservation. */
#define CREATE_MIN_MEMORY (6 * 1024 * 1024)

struct create_healthcheck {
	char **test; /* ["CMD", ...], ["CMD-SHELL", "..."], ["NONE"]; empty: inherit */
	int64_t interval, timeout, start_period, start_interval; /* nanoseconds; 0: inherit */
	int32_t retries;
};

struct create_port_binding {
	char *host_ip;   /* "" or NULL: all addresses */
	char *host_port; /* "8080", "8080-8090", "" or NULL: any free port */
};

/* One entry of PortBindings: "80/tcp": [{HostIp, HostPort}, ...]. */
struct create_port_map {
	char *port; /* "80/tcp" */
	struct create_port_binding *bindings;
	size_t n_bindings;
};

struct create_restart_policy {
	char *name; /* "", "no", "always", "on-failure", "unless-stopped" */
	int32_t maximum_retry_count;
};

struct create_log_config {
	char *type;
	struct json_kv *config;
	size_t n_config;
};

struct create_device {
	char *path_on_host;
	char *path_in_container;  /* NULL or "": path_on_host */
	char *cgroup_permissions; /* NULL or "": "rwm" */
};

struct create_ulimit {
	char *name;         /* "nofile" */
	int64_t soft, hard; /* -1: unlimited */
};

struct create_weight_device {
	char *path;
	uint16_t weight;
};

struct create_throttle_device {
	char *path;
	uint64_t rate;
};

struct create_mount {
	char *type; /* "bind", "volume", "tmpfs", "npipe", "cluster" */
	char *source;
	char *target;
	bool read_only;
	char *consistency;
	/* BindOptions */
	char *bind_propagation;
	bool bind_non_recursive, bind_create_mountpoint;
	/* VolumeOptions */
	bool volume_no_copy;
	char *volume_subpath;
	struct json_kv *volume_labels; /* for a volume made by this mount */
	size_t n_volume_labels;
	char *volume_driver; /* DriverConfig.Name */
	struct json_kv *volume_driver_options;
	size_t n_volume_driver_options;
	/* TmpfsOptions */
	int64_t tmpfs_size_bytes;
	bool has_tmpfs_mode;
	uint32_t tmpfs_mode;  /* os.FileMode: the permission bits */
	char **tmpfs_options; /* [["noexec"], ["uid", "1000"]] flattened: "noexec", "uid=1000" */
};

/* NetworkingConfig.EndpointsConfig: one per network to join. */
struct create_endpoint {
	char *network;
	char **aliases;
	char **links;
	char *ipv4_address, *ipv6_address; /* IPAMConfig */
	char *mac_address;
};

struct create_host_config {
	char **binds; /* "src:dst[:opts]" */
	char *container_id_file;
	struct create_log_config log_config;
	char *network_mode;
	struct create_port_map *port_bindings;
	size_t n_port_bindings;
	struct create_restart_policy restart_policy;
	bool auto_remove;
	char *volume_driver;
	char **volumes_from;
	struct create_mount *mounts;
	size_t n_mounts;
	bool has_console_size;
	uint32_t console_size[2]; /* height, width */
	struct json_kv *annotations;
	size_t n_annotations;
	char **cap_add, **cap_drop;
	char *cgroupns_mode; /* "private", "host" */
	char **dns, **dns_options, **dns_search;
	char **extra_hosts; /* "name:ip" */
	char **group_add;
	char *ipc_mode;
	char *cgroup;
	char **links;
	int32_t oom_score_adj;
	char *pid_mode;
	bool privileged;
	bool publish_all_ports;
	bool readonly_rootfs;
	char **security_opt;
	struct json_kv *storage_opt;
	size_t n_storage_opt;
	struct json_kv *tmpfs; /* "/run": "rw,noexec,size=65536k" */
	size_t n_tmpfs;
	char *uts_mode;
	char *userns_mode;
	int64_t shm_size; /* 0: default (64 MiB) */
	struct json_kv *sysctls;
	size_t n_sysctls;
	char *runtime;
	char *isolation;
	char **masked_paths;   /* NULL: the default list; empty: none */
	char **readonly_paths; /* NULL: the default list; empty: none */

	/* Resources */
	int64_t cpu_shares;
	int64_t memory;
	int64_t nano_cpus;
	char *cgroup_parent;
	uint16_t blkio_weight;
	struct create_weight_device *blkio_weight_device;
	size_t n_blkio_weight_device;
	struct create_throttle_device *blkio_read_bps, *blkio_write_bps, *blkio_read_iops, *blkio_write_iops;
	size_t n_blkio_read_bps, n_blkio_write_bps, n_blkio_read_iops, n_blkio_write_iops;
	int64_t cpu_period, cpu_quota, cpu_realtime_period, cpu_realtime_runtime;
	char *cpuset_cpus, *cpuset_mems;
	struct create_device *devices;
	size_t n_devices;
	char **device_cgroup_rules; /* "c 1:3 rwm" */
	int64_t memory_reservation;
	int64_t memory_swap; /* memory + swap; -1: unlimited; 0: twice Memory */
	bool has_memory_swappiness;
	int64_t memory_swappiness; /* -1: the host's */
	bool has_oom_kill_disable, oom_kill_disable;
	bool has_pids_limit;
	int64_t pids_limit; /* 0 or -1: unlimited */
	struct create_ulimit *ulimits;
	size_t n_ulimits;
	bool has_init, init;
};

struct container_create {
	/* Config */
	char *hostname;
	char *domainname;
	char *user;
	bool attach_stdin, attach_stdout, attach_stderr;
	char **exposed_ports; /* "80/tcp" */
	bool tty, open_stdin, stdin_once;
	char **env;        /* "KEY=value"; "KEY" unsets KEY */
	char **cmd;        /* NULL: absent (the image's) */
	char **entrypoint; /* NULL: absent (the image's); empty or [""]: none */
	struct create_healthcheck *healthcheck;
	bool args_escaped;
	char *image;
	char **volumes; /* "/data" */
	char *working_dir;
	bool network_disabled;
	char *mac_address;
	char **on_build;
	struct json_kv *labels;
	size_t n_labels;
	char *stop_signal;
	bool has_stop_timeout;
	int32_t stop_timeout; /* seconds */
	char **shell;

	bool has_host_config;
	struct create_host_config host;

	struct create_endpoint *endpoints;
	size_t n_endpoints;
};

int container_create_parse(const char *json, size_t len, struct container_create **ret,
                           struct vsl_error **err);
/* The body again, in Docker's spelling (for the engine's store and inspect);
 * malloc'd, NULL when out of memory. */
char *container_create_to_json(const struct container_create *c);
void container_create_free(struct container_create *c);

/* Checks that need no host access beyond the CPU count, with Docker's
 * messages where it has them: the restart policy, memory limits ("Minimum
 * memory limit allowed is 6MB"), CPU counts and CFS values, capability names
 * (`unknown capability: "CAP_FOO"`), ulimits, security options, mount specs
 * (absolute targets, a bind source given and absolute; whether it exists is
 * the engine's to check), namespace modes and sysctls. */
int container_create_validate(const struct container_create *c, struct vsl_error **err);

/* Capability names as Docker normalises them: upper case, "CAP_" prefixed;
 * "ALL" stays "ALL". NULL when out of memory. */
char *create_cap_normalize(const char *name);

/* HostConfig.SecurityOpt as Docker reads it: "no-new-privileges[=bool]",
 * "seccomp=unconfined|builtin|<profile JSON>", "apparmor=...", "label=..."
 * (both accepted and without effect here); the legacy ':' separator too.
 * Anything else is Docker's "invalid --security-opt 2: \"x\"". */
struct create_security {
	bool no_new_privileges;
	bool seccomp_unconfined;
	const char *seccomp_profile; /* into c: the JSON text; NULL: the default */
};
int create_security_parse(const struct container_create *c, struct create_security *ret,
                          struct vsl_error **err);

/* One mount of Binds, Mounts or Tmpfs, after Docker's parsing and checks. */
enum create_mount_kind { CREATE_MOUNT_BIND, CREATE_MOUNT_TMPFS, CREATE_MOUNT_VOLUME };

struct create_mount_spec {
	enum create_mount_kind kind;
	char *source;      /* bind: the absolute host path; volume: its name, NULL: anonymous; tmpfs: NULL */
	char *destination; /* absolute and clean */
	bool read_only;
	bool non_recursive; /* bind: "bind" rather than "rbind" */
	char *propagation;  /* "rshared", ...; NULL: rprivate */
	char **options;     /* tmpfs: "size=65536k", "mode=1777", "noexec", ... as given */
	/* volume: the "nocopy" mode or VolumeOptions.NoCopy; and for a volume
	 * this mount makes, its driver, driver options and labels ("k=v"). */
	bool no_copy;
	char *volume_driver;
	char **volume_options, **volume_labels;
};

/* Binds, then Mounts, then Tmpfs, in the order given. Errors as Docker's:
 * "invalid volume specification: 'x'", "invalid mode: x", "invalid mount
 * config for type \"bind\": ...", "Duplicate mount point: /data". A Binds
 * source without '/', an anonymous "/data" and Mounts of type volume are
 * CREATE_MOUNT_VOLUME specs: the engine resolves them (engine/volumes.h). */
int create_mounts_list(const struct container_create *c, struct create_mount_spec **ret, size_t *ret_n,
                       struct vsl_error **err);
void create_mount_specs_free(struct create_mount_spec *m, size_t n);

/* "/a//b/./c/" -> "/a/b/c", ".." resolved lexically (Go's path.Clean). */
char *create_path_clean(const char *path);

/* A Ulimits name ("nofile") as the OCI rlimit type ("RLIMIT_NOFILE");
 * NULL when Docker does not know it. */
const char *create_ulimit_type(const char *name);

static inline void container_create_freep(struct container_create **c)
{
	container_create_free(*c);
}
#define _cleanup_container_create_ __attribute__((cleanup(container_create_freep)))
