/* Namespaces: which to create and which to join, and in what order.
 *
 * Joining by path happens in the runtime process itself, around the clone3()
 * that makes the container's init, so that the joined namespaces are entered
 * while we still hold the host's privileges; the runtime then returns to its
 * own namespaces. A new user namespace is made by the same clone3() as the
 * other new namespaces, so that they are owned by it. Joining a user namespace
 * by path is done by the child (a process cannot return from one).
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
	bool new_time;    /* made by unshare() in the parent: offsets must be set before entry */
	bool late_cgroup; /* made by the child's unshare() once it is in its cgroups */
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
void ns_plan_close(struct ns_plan *p);

/* Writes /proc/PID/uid_map and gid_map from the mappings. */
int ns_write_id_maps(int pid, const struct oci_config *c, struct vsl_error **err);
