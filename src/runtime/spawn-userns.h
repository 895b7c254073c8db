/* The init of a container that joins a user namespace by path and creates
 * other namespaces (ns_plan.userns_first, see namespace.h): it is made by an
 * intermediate process that is already inside the joined user namespace, so
 * that the namespaces made with it are owned by that one.
 *
 * The runtime clone3()s the intermediate straight into the container's cgroup.
 * The intermediate enters the rest of its cgroups while it still has the
 * host's privileges, joins the namespaces (ns_plan_join_userns_first), clone3()s
 * the init with the CLONE_NEW* flags (CLONE_NEWPID makes it PID 1), sends its
 * pid and pidfd to the runtime over the sync socket (SYNC_PID) and exits. The
 * runtime reaps it and from then on holds the init by its pidfd.
 *
 * The init is orphaned when the intermediate exits: a caller that must reap it
 * (a foreground `run`) makes itself a child subreaper (PR_SET_CHILD_SUBREAPER)
 * first, as runc does; otherwise it goes where a daemon's child goes (init, or
 * the subreaper that started us, such as containerd's shim), and `state`,
 * `kill` and `delete` find it by pid and start time as always.
 */
#pragma once

#include <sys/types.h>

struct cgroup;
struct ns_plan;
struct oci_config;
struct vsl_error;

struct userns_spawn {
	struct ns_plan *ns;
	const struct oci_config *config;
	struct cgroup *cg;
	int *sync_parent; /* the runtime's end: the intermediate closes it (and sets -1) */
	int sync_child;
	/* Runs in the init, as its child_main(); must not return. Its parent is
	 * the intermediate, which exits: it must not set PR_SET_PDEATHSIG. */
	void (*init_main)(void *arg);
	void *arg;
};

/* In the runtime: makes the init through the intermediate. On failure nothing
 * of them is left but possibly an init orphaned by an intermediate that was
 * killed, which is in the container's cgroup: the caller kills the cgroup. */
int userns_spawn(const struct userns_spawn *u, pid_t *ret_pid, int *ret_pidfd, struct vsl_error **err);
