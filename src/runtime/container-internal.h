/* Shared between container.c and exec.c; not part of the runtime's API. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "runtime/state.h"

struct cgroup;
struct oci_config;

struct rt_handle {
	int rootfd, dirfd;
	struct rt_state state;
	struct cgroup *cg;
	enum rt_status status;
};

struct rt_context;
int rt_open(const struct rt_context *ctx, const char *id, struct rt_handle *h, struct vsl_error **err);
/* Compiled seccomp programs are kept in the state root, in a directory no
 * container id can name (':' is not allowed in one) and `list` skips (the dot). */
#define RT_SECCOMP_CACHE ".cache:seccomp"
struct oci_seccomp;
struct seccomp_filter;
int rt_seccomp_prepare(const struct rt_context *ctx, const struct oci_seccomp *s, struct seccomp_filter **ret,
                       struct vsl_error **err);
void rt_handle_clear(struct rt_handle *h);
/* Kills what is left, runs poststop hooks, removes cgroup and state. */
int rt_destroy(struct rt_handle *h, struct vsl_error **err);
char *rt_now_rfc3339(void);
char *rt_hook_state(const struct rt_state *s, enum rt_status status, const struct oci_config *c);
int rt_wait_status(int pidfd);
int rt_write_pid_file(const char *path, pid_t pid, struct vsl_error **err);
/* Blocks the signals a foreground run or exec forwards to the container. */
void rt_block_forwarded_signals(sigset_t *ret_mask, sigset_t *ret_old);
int rt_forward_signals_until_exit(int pidfd);
/* clone3() with CLONE_PIDFD, straight into the v2 cgroup where there is one
 * (then *ret_in_v2 is true, in parent and child). The child then finishes with
 * cgroup_enter_self(cg, *ret_in_v2): a parent writing the child's pid to
 * cgroup.procs would wait ~10 ms for an RCU grace period. Returns 0 in the
 * child, like fork(). */
long rt_clone(uint64_t flags, struct cgroup *cg, int *ret_pidfd, bool *ret_in_v2);
/* First and last words of a child of the runtime: default signals, not
 * dumpable, dies with the runtime; and the error sent back before _exit. */
void rt_child_prologue(int sync_parent);
_Noreturn void rt_child_fail(int sync_child, const struct vsl_error *err);
