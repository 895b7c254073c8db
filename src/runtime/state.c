#include "runtime/state.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"

#define STATE_FILE "state.json"

const char *rt_status_name(enum rt_status s)
{
	static const char *const names[] = {
	    [RT_CREATING] = "creating", [RT_CREATED] = "created", [RT_RUNNING] = "running",
	    [RT_PAUSED] = "paused",     [RT_STOPPED] = "stopped",
	};
	return names[s];
}

int state_check_id(const char *id, struct vsl_error **err)
{
	size_t len = strlen(id);
	if (len == 0 || len > 1024 || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
		return vsl_error_set(err, "invalid container id '%s'", id);
	for (const char *p = id; *p; p++) {
		char c = *p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		          c == '_' || c == '+' || c == '-' || c == '.';
		if (!ok)
			return vsl_error_set(err, "invalid container id '%s': only [a-zA-Z0-9_+.-] allowed",
			                     id);
	}
	return 0;
}

int state_root_open(const char *root, bool create, int *ret_fd, struct vsl_error **err)
{
	if (create && mkdir(root, 0700) < 0 && errno != EEXIST) {
		/* Make the parents too: --root may name a fresh nested directory. */
		_cleanup_free_ char *copy = strdup(root);
		if (copy == NULL)
			return vsl_error_errno(err, ENOMEM, "create state root");
		for (char *p = copy + 1; *p; p++) {
			if (*p != '/')
				continue;
			*p = '\0';
			if (mkdir(copy, 0711) < 0 && errno != EEXIST)
				return vsl_error_errno(err, errno, "create '%s'", copy);
			*p = '/';
		}
		if (mkdir(root, 0700) < 0 && errno != EEXIST)
			return vsl_error_errno(err, errno, "create state root '%s'", root);
	}
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return vsl_error_errno(err, errno, "open state root '%s'", root);
	*ret_fd = fd;
	return 0;
}

int state_dir_open(int rootfd, const char *id, int *ret_fd, struct vsl_error **err)
{
	if (state_check_id(id, err) < 0)
		return -EINVAL;
	int fd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return vsl_error_set_code(err, ENOENT, "container does not exist");
		return vsl_error_errno(err, errno, "open state of '%s'", id);
	}
	*ret_fd = fd;
	return 0;
}

int state_save(int dirfd, const struct rt_state *s, struct vsl_error **err)
{
	json_t *o =
	    json_pack("{s:s, s:I, s:I, s:s, s:s, s:s, s:s?, s:b, s:I}", "id", s->id, "pid",
	              (json_int_t)s->pid, "start_time", (json_int_t)s->start_time, "bundle", s->bundle,
	              "rootfs", s->rootfs, "created", s->created, "cgroup_path", s->cgroup_path,
	              "systemd_cgroup", s->systemd_cgroup, "owner", (json_int_t)s->owner);
	if (o == NULL)
		return vsl_error_set(err, "encode state of '%s'", s->id);
	_cleanup_free_ char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (text == NULL)
		return vsl_error_errno(err, ENOMEM, "encode state of '%s'", s->id);
	return write_file_atomic_at(dirfd, STATE_FILE, text, strlen(text), 0600, err);
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

int state_load(int dirfd, struct rt_state *ret, struct vsl_error **err)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	if (read_file_at(dirfd, STATE_FILE, 1 << 20, &text, &len, err) < 0)
		return vsl_error_prefix(err, "load container state");

	json_error_t jerr;
	json_t *o = json_loadb(text, len, 0, &jerr);
	if (o == NULL)
		return vsl_error_set(err, "load container state: %s", jerr.text);

	const char *id = NULL, *bundle = NULL, *rootfs = NULL, *created = NULL, *cg = NULL;
	json_int_t pid = 0, start = 0, owner = 0;
	int systemd = 0;
	int r = json_unpack_ex(o, &jerr, 0, "{s:s, s:I, s:I, s:s, s:s, s:s, s?s, s?b, s?I}", "id", &id, "pid",
	                       &pid, "start_time", &start, "bundle", &bundle, "rootfs", &rootfs, "created",
	                       &created, "cgroup_path", &cg, "systemd_cgroup", &systemd, "owner", &owner);
	if (r < 0) {
		json_decref(o);
		return vsl_error_set(err, "load container state: %s", jerr.text);
	}
	struct rt_state s = {
	    .id = strdup(id),
	    .pid = (pid_t)pid,
	    .start_time = (uint64_t)start,
	    .bundle = strdup(bundle),
	    .rootfs = strdup(rootfs),
	    .created = strdup(created),
	    .cgroup_path = dup_or_null(cg),
	    .systemd_cgroup = systemd,
	    .owner = (uid_t)owner,
	};
	json_decref(o);
	*ret = s;
	return 0;
}

void state_clear(struct rt_state *s)
{
	free(s->id);
	free(s->bundle);
	free(s->rootfs);
	free(s->created);
	free(s->cgroup_path);
	*s = (struct rt_state){0};
}

/* Field 22 of /proc/PID/stat; field 3 is the state letter. The command name
 * (field 2) may hold spaces and parentheses, so parsing starts after the last ')'. */
static int proc_stat_fields(pid_t pid, char *ret_state, uint64_t *ret_start)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	_cleanup_free_ char *text = NULL;
	if (read_file_at(AT_FDCWD, path, 4096, &text, NULL, NULL) < 0)
		return -ESRCH;
	char *p = strrchr(text, ')');
	if (p == NULL || p[1] != ' ')
		return -EINVAL;
	p += 2;
	char state = *p;
	/* after ')': field 3 is state; starttime is field 22, i.e. 19 fields further */
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (p == NULL)
			return -EINVAL;
		p++;
	}
	if (ret_state)
		*ret_state = state;
	if (ret_start)
		*ret_start = strtoull(p, NULL, 10);
	return 0;
}

int proc_start_time(pid_t pid, uint64_t *ret)
{
	return proc_stat_fields(pid, NULL, ret);
}

int state_pidfd(const struct rt_state *s)
{
	if (s->pid <= 0)
		return -ESRCH;
	int fd = (int)syscall(SYS_pidfd_open, s->pid, 0);
	if (fd < 0)
		return -errno;
	char st;
	uint64_t start;
	if (proc_stat_fields(s->pid, &st, &start) < 0 || start != s->start_time || st == 'Z' || st == 'X') {
		close(fd);
		return -ESRCH;
	}
	return fd;
}

enum rt_status state_status(int dirfd, const struct rt_state *s, bool frozen)
{
	_cleanup_close_ int pidfd = state_pidfd(s);
	if (pidfd < 0)
		return RT_STOPPED;
	if (faccessat(dirfd, "exec.fifo", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return RT_CREATED;
	return frozen ? RT_PAUSED : RT_RUNNING;
}
