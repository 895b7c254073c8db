/* What Docker users do to containers that exist: run a command in a running
 * one (exec), look at its processes (top) and resource use (stats), freeze it
 * (pause/unpause), restart it, rename it, and remove the stopped ones (prune).
 *
 *     struct container_exec_opts o = {.args = argv, .tty = isatty(0)};
 *     containers_exec(e, "web", &o, &status, err);   (status: the command's exit code)
 *
 *     struct stats_sample s;
 *     containers_stats(e, id, &s, err);               (one reading: see stats.h)
 *
 * Errors that Docker reports with its own exit code carry an errno the
 * command line maps: a container that is not running is -EINVAL ("container
 * X is not running"); exec's command not found or not executable is reported
 * through containers_start_failure_code() (127, 126). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/stats.h"

struct engine;
struct vsl_error;

struct container_exec_opts {
	char **args;      /* the command, required */
	char **env;       /* "K=V", added to (or replacing) the container's env */
	const char *cwd;  /* NULL: the container's */
	const char *user; /* Docker's USER[:GROUP] (names from the image's files); NULL: the container's */
	bool interactive; /* -i: our stdin is the process's; else /dev/null */
	bool tty;         /* -t: a pty, proxied to our terminal */
	bool detach;      /* -d: runs on alone; its output goes nowhere */
	bool privileged;  /* every capability */
};

/* Runs a command in the running container's namespaces and cgroup. In the
 * foreground, waits and sets *ret_status to its exit code (128+N after
 * signal N); detached, returns once it runs (*ret_status 0). */
int containers_exec(struct engine *e, const char *name_or_id, const struct container_exec_opts *o,
                    int *ret_status, struct vsl_error **err);

/* `top`: the host's `ps` (ps_args NULL: "-ef") limited to the container's
 * processes. Titles are ps's header words; each process is one string per
 * title, the last holding the rest of its line (the command). */
struct container_top {
	char **titles;
	char ***processes;
	size_t n_processes;
};
int containers_top(struct engine *e, const char *name_or_id, char *const *ps_args, struct container_top *ret,
                   struct vsl_error **err);
void container_top_release(struct container_top *t);

/* One reading of the container's counters. No memory limit reads as the
 * host's memory, as Docker shows it. A container that does not run reads as
 * zeros (the system fields are still set, for the next CPU %). */
int containers_stats(struct engine *e, const char *id, struct stats_sample *ret, struct vsl_error **err);

int containers_pause(struct engine *e, const char *name_or_id, struct vsl_error **err);
int containers_unpause(struct engine *e, const char *name_or_id, struct vsl_error **err);
/* Stops (timeout and sig as containers_stop) and starts it detached. */
int containers_restart(struct engine *e, const char *name_or_id, int timeout, int sig,
                       struct vsl_error **err);
/* Docker's rules for the new name; a taken name is -EEXIST with Docker's message. */
int containers_rename(struct engine *e, const char *name_or_id, const char *new_name, struct vsl_error **err);

struct container_prune_filter {
	int64_t until_ns;  /* 0: any; else only containers created before */
	char **labels;     /* "key" or "key=value": all must match */
	char **not_labels; /* label!=...: none may match */
};
/* Removes every container that is not running (and matches f); *ret_ids the
 * removed ids (NULL-terminated), *ret_space the bytes their layers held. */
int containers_prune(struct engine *e, const struct container_prune_filter *f, char ***ret_ids,
                     uint64_t *ret_space, struct vsl_error **err);
