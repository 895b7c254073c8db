/* Namespaces: which to create and which to join, and in what order.
 *
 * Usually one clone3() makes the container's init with every new namespace,
 * a new user namespace included, so that the others are owned by it. Joining
 * by path then happens in the runtime process itself, around that clone3(),
 * so that the joined namespaces are entered while we still hold the host's
 * privileges; the runtime then returns to its own namespaces. A user namespace
 * joined by path is entered by the child (a process cannot return from one).
 *
 * A user namespace joined by path while other namespaces are created is the
 * exception (p->userns_first): namespaces are owned by the user namespace of
 * the process that makes them, so they must be made from inside the joined
 * one, or root in the container would have no power over them. Then an
 * intermediate process joins every namespace by path, the user namespace
 * among them, makes the time namespace, and clone3()s the init with the other
 * new namespaces (spawn-userns.c); ns_plan_enter() and ns_plan_child_join_user()
 * do nothing.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "runtime/config.h"

struct vsl_error;

struct ns_plan {
	uint64_t clone_flags;   /* CLONE_NEW* to create with clone3() */
	int join_fd[NS_COUNT];  /* by enum ns_type; -1: not joined */
	int saved_fd[NS_COUNT]; /* our own namespaces, to return to */
	int saved_cwd;
	bool new_time;     /* made by unshare() in the parent: offsets must be set before entry */
	bool late_cgroup;  /* made by the child's unshare() once it is in its cgroups */
	bool userns_first; /* user joined by path and others made: see above */
};

void ns_plan_init(struct ns_plan *p);
/* Opens every namespace path of the config (errors name the path). */
int ns_plan_open(struct ns_plan *p, const struct oci_config *c, struct vsl_error **err);
/* In the parent, before clone3(): enter the joined namespaces except user. */
int ns_plan_enter(struct ns_plan *p, const struct oci_config *c, struct vsl_error **err);
/* In the parent, after clone3(): back to our own namespaces. */
int ns_plan_leave(struct ns_plan *p, struct vsl_error **err);
/* In the child: join the user namespace by path, if asked. */
int ns_plan_child_join_user(struct ns_plan *p, struct vsl_error **err);
/* In the intermediate process of p->userns_first: joins every namespace by
 * path, the user namespace as early as it can: each other one is tried first
 * with the host's privileges and, if refused (EPERM: owned by the joined user
 * namespace, and we are not root on the host), again from inside. Then makes
 * the new time namespace (for its children) and sets its offsets. */
int ns_plan_join_userns_first(struct ns_plan *p, const struct oci_config *c, struct vsl_error **err);
void ns_plan_close(struct ns_plan *p);

/* Writes /proc/PID/uid_map and gid_map from the mappings. */
int ns_write_id_maps(int pid, const struct oci_config *c, struct vsl_error **err);
