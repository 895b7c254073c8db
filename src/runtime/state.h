/* What the runtime remembers of a container between commands: one directory
 * per container under the state root (default /run/vessel-runtime), holding
 * state.json, a copy of config.json, and exec.fifo while it is "created".
 *
 * The status is never stored: it is read from the world each time (is the
 * process still the one we started, is the fifo there, is the cgroup frozen),
 * so it stays true after the runtime process that made the container exits.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct vsl_error;

enum rt_status { RT_CREATING, RT_CREATED, RT_RUNNING, RT_PAUSED, RT_STOPPED };

struct rt_state {
	char *id;
	pid_t pid;
	uint64_t start_time; /* /proc/PID/stat starttime: tells our process from a recycled pid */
	char *bundle;
	char *rootfs;
	char *created; /* RFC 3339 with nanoseconds, UTC */
	char *cgroup_path;
	bool systemd_cgroup;
	uid_t owner;
};

const char *rt_status_name(enum rt_status s);

/* Valid ids: letters, digits and "_+-." , not "." or "..", at most 1024 bytes. */
int state_check_id(const char *id, struct vsl_error **err);

/* Opens (creating with 0700 if asked) the state root directory. */
int state_root_open(const char *root, bool create, int *ret_fd, struct vsl_error **err);
/* Opens <root>/<id>; ENOENT becomes "container does not exist". */
int state_dir_open(int rootfd, const char *id, int *ret_fd, struct vsl_error **err);

int state_save(int dirfd, const struct rt_state *s, struct vsl_error **err);
int state_load(int dirfd, struct rt_state *ret, struct vsl_error **err);
void state_clear(struct rt_state *s);

/* Opens a pidfd for s->pid only if that pid is still the process we started
 * (start time matches and it is not a zombie); -ESRCH otherwise. The check is
 * made after the pidfd is open, so a pid recycled later cannot be signalled. */
int state_pidfd(const struct rt_state *s);
int proc_start_time(pid_t pid, uint64_t *ret);
enum rt_status state_status(int dirfd, const struct rt_state *s, bool frozen);
