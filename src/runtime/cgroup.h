/* Control groups of a container, on any host layout.
 *
 * The layout is detected once from /proc/self/mountinfo: pure cgroup v2
 * (unified), pure v1 (one hierarchy per controller) or hybrid (v1 controllers
 * plus a cgroup2 mount, usually /sys/fs/cgroup/unified, that only tracks
 * processes). A small ops table per layout sits behind the calls below, so the
 * rest of the runtime never asks which layout it is on.
 *
 *     struct cgroup *cg = NULL;
 *     cgroup_open(config->cgroups_path, id, systemd, &cg, err);
 *     cgroup_create(cg, &config->resources, err);  // mkdir + limits
 *     cgroup_enter(cg, pid, err);
 *     ...
 *     cgroup_destroy(cg, err); cgroup_free(cg);
 *
 * Tests point the layout at a fake tree with cgroup_open_at().
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct vsl_error;
struct oci_resources;

enum cgroup_layout { CGROUP_UNIFIED, CGROUP_LEGACY, CGROUP_HYBRID };

struct cgroup;

/* Resolves cgroupsPath (absolute, relative, or systemd's "slice:prefix:name"
 * when systemd is true) for container `id`, on the host's layout. Creates nothing. */
int cgroup_open(const char *cgroups_path, const char *id, bool systemd, struct cgroup **ret,
                struct vsl_error **err);
/* Same, with the mount table read from `mountinfo` (a file path) and every
 * mount point prefixed by `root` (a fake tree in tests). */
int cgroup_open_at(const char *mountinfo, const char *root, const char *cgroups_path, const char *id,
                   bool systemd, struct cgroup **ret, struct vsl_error **err);
void cgroup_free(struct cgroup *cg);

enum cgroup_layout cgroup_layout(const struct cgroup *cg);
/* The path relative to the hierarchy roots, e.g. "/vessel/abc"; stored in state. */
const char *cgroup_path(const struct cgroup *cg);

/* Makes the cgroup directories (enabling v2 controllers in the parents) and
 * applies the resources (may be NULL). */
int cgroup_create(struct cgroup *cg, const struct oci_resources *res, struct vsl_error **err);
/* The same in two steps, so that the v1 hierarchies (a dozen mkdirs) are made
 * while a child that clone3 placed in the rest already sets itself up:
 * cgroup_create_for_clone() makes what cgroup_clone_fd() needs (all of it on
 * unified hosts) and checks the rest; cgroup_create_rest() makes the rest
 * (taking back only what it made when it fails); the child then enters with
 * cgroup_enter_self(). */
int cgroup_create_for_clone(struct cgroup *cg, const struct oci_resources *res, struct vsl_error **err);
int cgroup_create_rest(struct cgroup *cg, const struct oci_resources *res, struct vsl_error **err);
/* Applies resources to an existing cgroup (runc update). */
int cgroup_update(struct cgroup *cg, const struct oci_resources *res, struct vsl_error **err);
/* An O_DIRECTORY fd of the v2 cgroup for clone3(CLONE_INTO_CGROUP), or -1 when
 * the layout cannot place a process with it alone (v1 controllers). */
int cgroup_unified_fd(struct cgroup *cg);
/* The v2 cgroup's fd for clone3(CLONE_INTO_CGROUP) on unified and hybrid
 * layouts (-1 on v1): it places the child in the v2 half only; the child then
 * calls cgroup_enter_self() for the rest. */
int cgroup_clone_fd(struct cgroup *cg);
/* Moves `pid` (its whole thread group) into the cgroup. */
int cgroup_enter(struct cgroup *cg, pid_t pid, struct vsl_error **err);
/* Moves the calling process, which must have a single thread (a child fresh
 * from clone), into the cgroup; `in_v2`: CLONE_INTO_CGROUP placed it in the v2
 * cgroup already. Cheaper than cgroup_enter(): see cgroup.c. */
int cgroup_enter_self(struct cgroup *cg, bool in_v2, struct vsl_error **err);
int cgroup_freeze(struct cgroup *cg, bool frozen, struct vsl_error **err);
int cgroup_is_frozen(struct cgroup *cg, bool *ret, struct vsl_error **err);
/* All pids in the cgroup (and its children). *ret is malloc'd. */
int cgroup_pids(struct cgroup *cg, pid_t **ret, size_t *ret_n, struct vsl_error **err);
/* Signals every process in the cgroup (cgroup.kill for SIGKILL on v2/hybrid). */
int cgroup_kill_all(struct cgroup *cg, int sig, struct vsl_error **err);
/* Removes the directories; processes must be gone (waits briefly for them). */
int cgroup_destroy(struct cgroup *cg, struct vsl_error **err);

struct cgroup_stats {
	uint64_t cpu_usage_ns;
	uint64_t memory_usage, memory_limit;
	uint64_t pids_current, pids_limit;
	uint64_t io_read_bytes, io_write_bytes;
	uint64_t oom_kills;
};
int cgroup_stats(struct cgroup *cg, struct cgroup_stats *ret, struct vsl_error **err);
