/* The flags of `vessel run` and `vessel create`, and their conversion into the
 * body of the Docker Engine API's `POST /containers/create`, exactly as the
 * docker CLI builds it: Config fields at the top level, "HostConfig" and
 * "NetworkingConfig" beside them. The engine parses that body (the same one
 * a docker client sends to `vessel serve`), so both front ends share one path.
 *
 *     static const struct cli_command cmds[] = {
 *             {"run", cmd_run, ..., run_flag_table, sizeof(struct run_flags), ...},
 *     };
 *     ...
 *     struct run_flags *f = opts;
 *     json_t *body;
 *     if (run_flags_to_body(f, argv[0], argv + 1, &body, err) < 0)
 *             return r;      (exit code 125; the message is docker's)
 *
 * Fields docker leaves null or at the API's default are left out of the body
 * (absent and null mean the same to the API). Flags that are not part of the
 * body (--name, --pull, --platform, --cidfile's file, --sig-proxy,
 * --detach-keys, -d) stay in struct run_flags for the caller; -d does change
 * the body (no attach, no StdinOnce), as in docker.
 *
 * Numeric flags are strings here, parsed by run_flags_to_body(), because docker
 * tells "not given" from 0 (--stop-timeout, --init), takes 64-bit values and
 * units, and words its errors as `invalid argument "x" for "--cpu-period" flag:
 * ...`, which the caller prints after "vessel: " with exit code 125. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cli/cli.h"

struct vsl_error;
typedef struct json_t json_t;

struct run_flags {
	/* run only (create has no -d, --sig-proxy, --detach-keys) */
	bool detach;
	const char *sig_proxy; /* NULL: true; "true"/"false"/"1"/"0" (--sig-proxy=false) */
	const char *detach_keys;

	/* not in the body */
	const char *name;
	const char *pull; /* always|missing|never, checked by run_flags_to_body() */
	const char *platform;

	bool interactive, tty, rm, read_only, privileged, init, publish_all, oom_kill_disable, no_healthcheck;
	const char *workdir, *user, *entrypoint, *hostname, *domainname;
	const char *memory, *memory_swap, *memory_reservation, *memory_swappiness, *shm_size;
	const char *cpus, *cpu_shares, *cpu_period, *cpu_quota, *cpuset_cpus, *cpuset_mems;
	const char *pids_limit, *blkio_weight, *oom_score_adj;
	const char *stop_signal, *stop_timeout, *restart;
	const char *network, *ip, *ip6, *mac_address;
	const char *userns, *cgroup_parent, *cgroupns, *ipc, *pid, *uts, *runtime;
	const char *log_driver, *cidfile;
	const char *health_cmd, *health_interval, *health_retries, *health_timeout, *health_start_period,
	    *health_start_interval;

	char **env, **env_file, **label, **label_file, **attach;
	char **add_host, **dns, **dns_search, **dns_option, **network_alias, **publish, **expose;
	char **volume, **mount, **tmpfs, **volumes_from, **device, **ulimit, **sysctl, **group_add;
	char **cap_add, **cap_drop, **security_opt, **log_opt, **storage_opt;
};

/* Shared by run and create; ends with CLI_END. */
extern const struct cli_flag run_flag_table[];

/* image + command (argv after the image, NULL-terminated, may be NULL) + flags
 * → the create body. Reads the --env-file and --label-file files, the seccomp
 * profile of --security-opt seccomp=FILE (the body carries its compacted
 * content, as docker sends it) and checks that --mount bind sources exist.
 * Errors carry docker's messages and are not printed. */
int run_flags_to_body(const struct run_flags *f, const char *image, char **cmd, json_t **ret_body,
                      struct vsl_error **err);

/* --sig-proxy, default true. */
int run_flags_sig_proxy(const struct run_flags *f, bool *ret, struct vsl_error **err);
