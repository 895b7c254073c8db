#include "runtime/namespace.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "runtime/config.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

void ns_plan_init(struct ns_plan *p)
{
	*p = (struct ns_plan){.saved_cwd = -1};
	for (int i = 0; i < NS_COUNT; i++)
		p->join_fd[i] = p->saved_fd[i] = -1;
}

void ns_plan_close(struct ns_plan *p)
{
	for (int i = 0; i < NS_COUNT; i++) {
		closep(&p->join_fd[i]);
		closep(&p->saved_fd[i]);
		p->join_fd[i] = p->saved_fd[i] = -1;
	}
	closep(&p->saved_cwd);
	p->saved_cwd = -1;
}

int ns_plan_open(struct ns_plan *p, const struct oci_config *c, struct vsl_error **err)
{
	for (int t = 0; t < NS_COUNT; t++) {
		const struct oci_namespace *ns = &c->namespaces[t];
		if (!ns->present)
			continue;
		if (ns->path == NULL) {
			if (t == NS_TIME)
				p->new_time = true;
			else if (t == NS_CGROUP)
				p->late_cgroup = true;
			else
				p->clone_flags |= (uint64_t)ns_type_clone_flag(t);
			continue;
		}
		int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return vsl_error_errno(err, errno, "open %s namespace '%s'", ns_type_name(t),
			                       ns->path);
		p->join_fd[t] = fd;
	}
	p->userns_first = p->join_fd[NS_USER] >= 0 && (p->clone_flags != 0 || p->new_time);
	return 0;
}

static int save_own(struct ns_plan *p, int t, struct vsl_error **err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/ns/%s",
	         t == NS_PID    ? "pid_for_children"
	         : t == NS_TIME ? "time_for_children"
	                        : ns_type_proc_name(t));
	p->saved_fd[t] = open(path, O_RDONLY | O_CLOEXEC);
	if (p->saved_fd[t] < 0)
		return vsl_error_errno(err, errno, "open '%s'", path);
	return 0;
}

static int write_time_offsets(const struct oci_config *c, struct vsl_error **err)
{
	static const char *const clocks[2] = {"monotonic", "boottime"};
	for (int i = 0; i < 2; i++) {
		const struct oci_time_offset *o = &c->time_offsets[i];
		if (!o->present)
			continue;
		char line[96];
		snprintf(line, sizeof(line), "%s %lld %u", clocks[i], (long long)o->secs, o->nanosecs);
		if (write_string_at(AT_FDCWD, "/proc/self/timens_offsets", line, err) < 0)
			return vsl_error_prefix(err, "set time namespace offsets");
	}
	return 0;
}

int ns_plan_enter(struct ns_plan *p, const struct oci_config *c, struct vsl_error **err)
{
	if (p->userns_first)
		return 0;
	bool any = p->new_time;
	for (int t = 0; t < NS_COUNT; t++)
		any |= (t != NS_USER && p->join_fd[t] >= 0);
	if (!any)
		return 0;

	p->saved_cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	for (int t = 0; t < NS_COUNT; t++) {
		if (t == NS_USER || p->join_fd[t] < 0)
			continue;
		if (save_own(p, t, err) < 0)
			return -1;
		if (setns(p->join_fd[t], ns_type_clone_flag(t)) < 0)
			return vsl_error_errno(err, errno, "join %s namespace '%s'", ns_type_name(t),
			                       c->namespaces[t].path);
	}
	if (p->new_time) {
		if (save_own(p, NS_TIME, err) < 0)
			return -1;
		if (unshare(CLONE_NEWTIME) < 0)
			return vsl_error_errno(err, errno, "create time namespace");
		if (write_time_offsets(c, err) < 0)
			return -1;
	}
	return 0;
}

int ns_plan_leave(struct ns_plan *p, struct vsl_error **err)
{
	int r = 0;
	/* Mount last: returning to our mount namespace also resets root and cwd. */
	static const int order[] = {NS_TIME, NS_PID, NS_NETWORK, NS_IPC, NS_UTS, NS_CGROUP, NS_MOUNT};
	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		int t = order[i];
		if (p->saved_fd[t] < 0)
			continue;
		if (setns(p->saved_fd[t], ns_type_clone_flag(t)) < 0 && r == 0)
			r = vsl_error_errno(err, errno, "return to the runtime's %s namespace",
			                    ns_type_name(t));
	}
	if (p->saved_cwd >= 0 && fchdir(p->saved_cwd) < 0 && r == 0)
		r = vsl_error_errno(err, errno, "return to the working directory");
	return r;
}

int ns_plan_child_join_user(struct ns_plan *p, struct vsl_error **err)
{
	if (p->join_fd[NS_USER] < 0 || p->userns_first)
		return 0;
	if (setns(p->join_fd[NS_USER], CLONE_NEWUSER) < 0)
		return vsl_error_errno(err, errno, "join user namespace");
	return 0;
}

/* 0: joined; 1: refused for lack of privilege, when `may_refuse`; or an error. */
static int join_path(struct ns_plan *p, const struct oci_config *c, int t, bool may_refuse,
                     struct vsl_error **err)
{
	if (setns(p->join_fd[t], ns_type_clone_flag(t)) == 0)
		return 0;
	if (errno == EPERM && may_refuse)
		return 1;
	return vsl_error_errno(err, errno, "join %s namespace '%s'", ns_type_name(t), c->namespaces[t].path);
}

int ns_plan_join_userns_first(struct ns_plan *p, const struct oci_config *c, struct vsl_error **err)
{
	bool later[NS_COUNT] = {false};
	for (int t = 0; t < NS_COUNT; t++) {
		if (t == NS_USER || p->join_fd[t] < 0)
			continue;
		int r = join_path(p, c, t, true, err);
		if (r < 0)
			return r;
		later[t] = r > 0;
	}
	if (join_path(p, c, NS_USER, false, err) < 0)
		return -1;
	for (int t = 0; t < NS_COUNT; t++)
		if (later[t] && join_path(p, c, t, false, err) < 0)
			return -1;
	if (p->new_time) {
		if (unshare(CLONE_NEWTIME) < 0)
			return vsl_error_errno(err, errno, "create time namespace");
		if (write_time_offsets(c, err) < 0)
			return -1;
	}
	return 0;
}

static int write_map(int pid, const char *file, const struct oci_id_map *m, size_t n, struct vsl_error **err)
{
	if (n == 0)
		return 0;
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (f == NULL)
		return vsl_error_errno(err, errno, "write %s", file);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%u %u %u\n", m[i].container_id, m[i].host_id, m[i].size);
	fclose(f);

	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return vsl_error_errno(err, errno, "open '%s'", path);
	/* The kernel takes the whole map in one write or not at all. */
	if (write(fd, text, len) != (ssize_t)len)
		return vsl_error_errno(err, errno, "write '%s'", path);
	return 0;
}

int ns_write_id_maps(int pid, const struct oci_config *c, struct vsl_error **err)
{
	if (write_map(pid, "uid_map", c->uid_mappings, c->n_uid_mappings, err) < 0)
		return -1;
	return write_map(pid, "gid_map", c->gid_mappings, c->n_gid_mappings, err);
}
