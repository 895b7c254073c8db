/* The runtime's public face: runc's operations on containers, as a library.
 *
 * Each call opens the state root, does its work and returns; nothing stays
 * running in the caller except, for `run` in the foreground, the wait for the
 * container's exit. Errors come back in *err, never printed.
 *
 *     struct rt_context ctx = {.root = "/run/vessel-runtime"};
 *     struct rt_create_opts o = {.id = "web", .bundle = "/srv/web"};
 *     if (rt_create(&ctx, &o, &err) < 0 || rt_start(&ctx, "web", &err) < 0) ...
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "runtime/state.h"

struct vsl_error;
struct oci_config;
struct oci_process;
struct oci_resources;

struct rt_context {
	const char *root;    /* state root */
	bool systemd_cgroup; /* cgroupsPath is "slice:prefix:name" */
};

struct rt_create_opts {
	const char *id;
	const char *bundle; /* NULL: the current directory */
	const char *pid_file;
	const char *console_socket;
	bool no_pivot;
	bool no_new_keyring;
	unsigned preserve_fds;
	/* rt_run in the foreground: called once the container's process runs
	 * (vessel records the pid before waiting). */
	void (*on_started)(void *userdata, pid_t pid);
	void *userdata;
	/* Called before the runtime enters namespaces and clones the container's
	 * init, which must happen single-threaded: where work done alongside the
	 * create on a thread (vessel wires the network) is joined. A failure
	 * fails the create. */
	int (*before_clone)(void *userdata, struct vsl_error **err);
	/* rt_run in the foreground: called once the container's init has exited,
	 * before the runtime removes its cgroups and state: the caller's own
	 * cleanup may begin alongside. */
	void (*on_exited)(void *userdata);
	/* rt_run in the foreground with a terminal: the keys that detach
	 * (Ctrl-P Ctrl-Q is "\x10\x11"), and who takes the running container
	 * over then: on_detach gets the pty master and never returns. */
	const char *detach_keys;
	void (*on_detach)(void *userdata, int master, pid_t pid);
};

int rt_create(const struct rt_context *ctx, const struct rt_create_opts *o, struct vsl_error **err);
int rt_start(const struct rt_context *ctx, const char *id, struct vsl_error **err);
/* create + start. In the foreground, waits and returns the exit status in
 * *ret_status (128+N for a signal) and deletes the container. */
int rt_run(const struct rt_context *ctx, const struct rt_create_opts *o, bool detach, int *ret_status,
           struct vsl_error **err);
int rt_state(const struct rt_context *ctx, const char *id, char **ret_json, struct vsl_error **err);
int rt_kill(const struct rt_context *ctx, const char *id, int sig, bool all, struct vsl_error **err);
int rt_delete(const struct rt_context *ctx, const char *id, bool force, struct vsl_error **err);
int rt_pause(const struct rt_context *ctx, const char *id, struct vsl_error **err);
int rt_resume(const struct rt_context *ctx, const char *id, struct vsl_error **err);
int rt_ps(const struct rt_context *ctx, const char *id, pid_t **ret, size_t *ret_n, struct vsl_error **err);
int rt_update(const struct rt_context *ctx, const char *id, const struct oci_resources *res,
              struct vsl_error **err);

struct rt_list_entry {
	struct rt_state state;
	enum rt_status status;
};
int rt_list(const struct rt_context *ctx, struct rt_list_entry **ret, size_t *ret_n, struct vsl_error **err);
void rt_list_free(struct rt_list_entry *l, size_t n);

struct rt_exec_opts {
	const char *id;
	const char *process_file; /* --process: a whole process.json; the fields below are then unused */
	char **args;              /* else: the container's process with these changes */
	char **env;               /* added to (or replacing by name) the container's env */
	const char *cwd;
	const char *user; /* "uid[:gid]" */
	char **additional_gids;
	char **caps; /* added to the bounding, effective and permitted sets */
	bool tty, no_new_privs;
	const char *apparmor, *process_label;
	const char *console_socket;
	const char *pid_file;
	bool detach;
	unsigned preserve_fds;
};
int rt_exec(const struct rt_context *ctx, const struct rt_exec_opts *o, int *ret_status,
            struct vsl_error **err);
