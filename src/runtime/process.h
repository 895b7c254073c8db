/* The last steps of a container process, shared by the container's init and
 * `exec`: rlimits, identity (groups, uid, gid, capabilities, no_new_privs,
 * LSM labels, seccomp), working directory, and the execve itself.
 *
 * Order matters and follows runc: rlimits while still privileged; without
 * no_new_privs the seccomp filter goes in before the capabilities are dropped
 * (loading one needs CAP_SYS_ADMIN then), with it as the very last step.
 */
#pragma once

#include <stdbool.h>

struct vsl_error;
struct oci_process;
struct oci_rlimit;
struct seccomp_filter;

struct proc_launch {
	const struct oci_process *process;
	struct seccomp_filter *seccomp; /* may be NULL */
	unsigned preserve_fds;          /* fds 3..3+n-1 stay open across exec */
	char *exec_path;                /* set by process_resolve_exec */
	char **envp;                    /* the env, with `home` added if it lacked HOME */
	char *home;
};

/* Fails with a message naming the limit when a hard limit is above what the
 * host can grant (nofile above fs.nr_open, or above our own hard limit when
 * we cannot raise it). Called in the runtime, before anything is made. */
int process_check_rlimits(const struct oci_rlimit *r, size_t n, struct vsl_error **err);
int process_set_rlimits(const struct oci_rlimit *r, size_t n, struct vsl_error **err);
/* Looks args[0] up in the process's own PATH (not ours), in the current root. */
int process_resolve_exec(struct proc_launch *l, struct vsl_error **err);
/* LSM labels, user, groups, capabilities, no_new_privs, seccomp (unless it
 * must wait for process_exec), umask and cwd. */
int process_setup_identity(struct proc_launch *l, struct vsl_error **err);
/* Loads a pending seccomp filter, closes every fd but stdio and the preserved
 * ones, and execve()s. Returns only on failure. */
int process_exec(struct proc_launch *l, struct vsl_error **err);
void proc_launch_clear(struct proc_launch *l);
