/* exec: a new process inside a running container's namespaces and cgroup. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/caps.h"
#include "runtime/cgroup.h"
#include "runtime/config.h"
#include "runtime/console.h"
#include "runtime/container-internal.h"
#include "runtime/container.h"
#include "runtime/process.h"
#include "runtime/seccomp.h"
#include "runtime/sync.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

struct exec_job {
	const struct rt_exec_opts *opts;
	struct oci_config *config;
	struct oci_process process;
	struct proc_launch launch;
	int container_pidfd;
	int join_flags; /* entered by the child with setns(pidfd, ...) */
	int sync_parent, sync_child, console_fd;
	int pidfd, master;
	pid_t pid;
	struct cgroup *cg; /* the container's, borrowed */
	bool in_v2;        /* clone3 placed the child in the v2 cgroup */
};

static void exec_job_clear(struct exec_job *j)
{
	oci_config_free(j->config);
	oci_process_clear(&j->process);
	proc_launch_clear(&j->launch);
	closep(&j->container_pidfd);
	closep(&j->sync_parent);
	closep(&j->sync_child);
	closep(&j->console_fd);
	closep(&j->pidfd);
	closep(&j->master);
}

static int exec_child_setup(struct exec_job *j, struct vsl_error **err)
{
	const struct oci_process *p = &j->process;
	if (sync_expect(j->sync_child, SYNC_GO, NULL, err) < 0)
		return -1;
	/* Before the namespaces: the cgroup paths are the host's. */
	if (cgroup_enter_self(j->cg, j->in_v2, err) < 0)
		return vsl_error_prefix(err, "enter the container's cgroup");
	/* One call, the kernel orders it (user first); root and cwd become the container's. */
	if (j->join_flags && setns(j->container_pidfd, j->join_flags) < 0)
		return vsl_error_errno(err, errno, "join the container's namespaces");
	closep(&j->container_pidfd);
	j->container_pidfd = -1;
	if (process_set_rlimits(p->rlimits, p->n_rlimits, err) < 0)
		return -1;

	if (p->terminal) {
		_cleanup_close_ int master = -EBADF, slave = -EBADF;
		if (console_open(p->console_height, p->console_width, &master, &slave, err) < 0)
			return -1;
		int r = j->console_fd >= 0 ? console_send_master(j->console_fd, master, err)
		                           : sync_send(j->sync_child, SYNC_CONSOLE, NULL, master);
		if (r < 0)
			return r == -1 ? -1 : vsl_error_errno(err, -r, "send pty to the runtime");
		if (console_become_stdio(slave, err) < 0)
			return -1;
	}
	j->launch.process = p;
	j->launch.preserve_fds = j->opts->preserve_fds;
	if (process_resolve_exec(&j->launch, err) < 0 || process_setup_identity(&j->launch, err) < 0)
		return -1;
	prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
	int r = sync_send(j->sync_child, SYNC_READY, NULL, -1);
	if (r < 0)
		return vsl_error_errno(err, -r, "sync with the runtime");
	return process_exec(&j->launch, err);
}

static _Noreturn void exec_child_main(struct exec_job *j)
{
	rt_child_prologue(TAKE_FD(j->sync_parent));
	_cleanup_error_ struct vsl_error *err = NULL;
	exec_child_setup(j, &err);
	rt_child_fail(j->sync_child, err);
}

/* Enters the pid and time namespaces for our children only, clones, and comes back. */
static int exec_clone(struct exec_job *j, struct vsl_error **err)
{
	int for_children = 0;
	if (j->config->namespaces[NS_PID].present)
		for_children |= CLONE_NEWPID;
	if (j->config->namespaces[NS_TIME].present)
		for_children |= CLONE_NEWTIME;

	_cleanup_close_ int own_pid = open("/proc/self/ns/pid_for_children", O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int own_time = open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC);
	if (for_children && setns(j->container_pidfd, for_children) < 0)
		return vsl_error_errno(err, errno, "join the container's pid namespace");

	long pid = rt_clone(0, j->cg, &j->pidfd, &j->in_v2);
	int saved = errno;
	if (pid == 0)
		exec_child_main(j);
	if (for_children & CLONE_NEWPID)
		setns(own_pid, CLONE_NEWPID);
	if (for_children & CLONE_NEWTIME)
		setns(own_time, CLONE_NEWTIME);
	if (pid < 0)
		return vsl_error_errno(err, saved, "create exec process");
	j->pid = (pid_t)pid;
	return 0;
}

static int exec_handshake(struct exec_job *j, struct vsl_error **err)
{
	int r;
	if ((r = sync_send(j->sync_parent, SYNC_GO, NULL, -1)) < 0)
		return vsl_error_errno(err, -r, "start exec process");
	for (;;) {
		enum sync_type type;
		_cleanup_free_ char *text = NULL;
		int fd = -1;
		r = sync_recv(j->sync_parent, &type, &text, &fd);
		if (r == -EPIPE)
			return vsl_error_set(err, "exec process exited during setup");
		if (r < 0)
			return vsl_error_errno(err, -r, "receive from exec process");
		if (type == SYNC_ERROR)
			return sync_error_from(text, err);
		if (type == SYNC_CONSOLE) {
			closep(&j->master);
			j->master = fd;
			continue;
		}
		if (type != SYNC_READY)
			return vsl_error_set(err, "exec process: unexpected message %d", type);
		break;
	}
	/* After READY: end of stream means execve() succeeded (the socket is
	 * close-on-exec); an error message means it did not. */
	enum sync_type type;
	_cleanup_free_ char *text = NULL;
	r = sync_recv(j->sync_parent, &type, &text, NULL);
	if (r == 0 && type == SYNC_ERROR)
		return sync_error_from(text, err);
	return 0;
}

static int json_append_unique(json_t *arr, const char *value)
{
	size_t i;
	json_t *v;
	json_array_foreach(arr, i,
	                   v) if (json_is_string(v) && strcmp(json_string_value(v), value) == 0) return 0;
	return json_array_append_new(arr, json_string(value));
}

static int parse_id(const char *s, unsigned *ret)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > UINT32_MAX)
		return -1;
	*ret = (unsigned)v;
	return 0;
}

/* The exec'd process is the container's own process object with the
 * command line's changes, or the --process file; both end up as JSON and go
 * through the one process parser. */
static int exec_build_process(int dirfd, const struct rt_exec_opts *o, struct oci_process *ret,
                              struct vsl_error **err)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	if (o->process_file) {
		if (read_file_at(AT_FDCWD, o->process_file, 4 << 20, &text, &len, err) < 0)
			return vsl_error_prefix(err, "--process");
		return oci_process_parse(text, len, ret, err);
	}
	if (o->args == NULL || o->args[0] == NULL)
		return vsl_error_set(err, "exec: a command to run is required");
	if (read_file_at(dirfd, "config.json", 4 << 20, &text, &len, err) < 0)
		return -1;
	json_error_t jerr;
	json_t *root = json_loadb(text, len, 0, &jerr);
	if (root == NULL)
		return vsl_error_set(err, "config.json: %s", jerr.text);
	json_t *p = json_object_get(root, "process");
	if (!json_is_object(p)) {
		p = json_object();
		json_object_set_new(root, "process", p);
	}

	json_t *args = json_array();
	for (char **a = o->args; *a; a++)
		json_array_append_new(args, json_string(*a));
	json_object_set_new(p, "args", args);
	json_object_del(p, "commandLine");
	json_object_set_new(p, "terminal", json_boolean(o->tty));
	json_object_del(p, "consoleSize");
	if (o->cwd)
		json_object_set_new(p, "cwd", json_string(o->cwd));
	if (o->no_new_privs)
		json_object_set_new(p, "noNewPrivileges", json_true());
	if (o->apparmor)
		json_object_set_new(p, "apparmorProfile", json_string(o->apparmor));
	if (o->process_label)
		json_object_set_new(p, "selinuxLabel", json_string(o->process_label));

	json_t *env = json_object_get(p, "env");
	if (!json_is_array(env)) {
		env = json_array();
		json_object_set_new(p, "env", env);
	}
	for (char **e = o->env; e && *e; e++) {
		const char *eq = strchr(*e, '=');
		size_t klen = eq ? (size_t)(eq - *e) : strlen(*e);
		size_t i;
		json_t *v;
		bool replaced = false;
		json_array_foreach(env, i, v)
		{
			const char *s = json_string_value(v);
			if (s && strncmp(s, *e, klen) == 0 && s[klen] == '=') {
				json_array_set_new(env, i, json_string(*e));
				replaced = true;
				break;
			}
		}
		if (!replaced)
			json_array_append_new(env, json_string(*e));
	}

	int r = 0;
	json_t *user = json_object_get(p, "user");
	if (!json_is_object(user)) {
		user = json_pack("{s:i, s:i}", "uid", 0, "gid", 0);
		json_object_set_new(p, "user", user);
	}
	if (o->user) {
		_cleanup_free_ char *copy = strdup(o->user);
		char *colon = copy ? strchr(copy, ':') : NULL;
		if (colon)
			*colon++ = '\0';
		unsigned uid, gid = 0;
		if (copy == NULL || parse_id(copy, &uid) < 0 || (colon && parse_id(colon, &gid) < 0))
			r = vsl_error_set(err, "--user '%s': expected uid[:gid] as numbers", o->user);
		else {
			json_object_set_new(user, "uid", json_integer(uid));
			json_object_set_new(user, "gid", json_integer(gid));
		}
	}
	if (r == 0 && o->additional_gids && o->additional_gids[0]) {
		json_t *gids = json_array();
		for (char **g = o->additional_gids; *g; g++) {
			unsigned gid;
			if (parse_id(*g, &gid) < 0) {
				r = vsl_error_set(err, "--additional-gids '%s': not a number", *g);
				break;
			}
			json_array_append_new(gids, json_integer(gid));
		}
		json_object_set_new(user, "additionalGids", gids);
	}
	if (r == 0 && o->caps && o->caps[0]) {
		json_t *caps = json_object_get(p, "capabilities");
		if (!json_is_object(caps)) {
			caps = json_object();
			json_object_set_new(p, "capabilities", caps);
		}
		static const char *const sets[] = {"bounding", "effective", "permitted"};
		for (size_t s = 0; s < ARRAY_SIZE(sets); s++) {
			json_t *set = json_object_get(caps, sets[s]);
			if (!json_is_array(set)) {
				set = json_array();
				json_object_set_new(caps, sets[s], set);
			}
			for (char **c = o->caps; *c; c++)
				json_append_unique(set, *c);
		}
	}
	_cleanup_free_ char *out = r == 0 ? json_dumps(p, JSON_COMPACT) : NULL;
	json_decref(root);
	if (r < 0)
		return r;
	if (out == NULL)
		return vsl_error_errno(err, ENOMEM, "exec process");
	return oci_process_parse(out, strlen(out), ret, err);
}

int rt_exec(const struct rt_context *ctx, const struct rt_exec_opts *o, int *ret_status,
            struct vsl_error **err)
{
	_cleanup_(rt_handle_clear) struct rt_handle h;
	if (rt_open(ctx, o->id, &h, err) < 0)
		return -1;
	if (h.status == RT_STOPPED)
		return vsl_error_set(err, "cannot exec in a stopped container");
	if (h.status == RT_PAUSED)
		return vsl_error_set(err, "cannot exec in a paused container");
	if (o->tty && o->console_socket == NULL && o->detach)
		return vsl_error_set(
		    err, "cannot allocate tty if runc will detach without setting console socket");

	struct exec_job j = {.opts = o,
	                     .container_pidfd = -1,
	                     .sync_parent = -1,
	                     .sync_child = -1,
	                     .console_fd = -1,
	                     .pidfd = -1,
	                     .master = -1};
	int r = -1;
	if (oci_config_load(h.dirfd, "config.json", &j.config, err) < 0)
		goto out;
	j.container_pidfd = state_pidfd(&h.state);
	if (j.container_pidfd < 0) {
		vsl_error_set(err, "cannot exec in a stopped container");
		goto out;
	}
	static const int joined[] = {NS_USER, NS_MOUNT, NS_NETWORK, NS_IPC, NS_UTS, NS_CGROUP};
	for (size_t i = 0; i < ARRAY_SIZE(joined); i++)
		if (j.config->namespaces[joined[i]].present)
			j.join_flags |= ns_type_clone_flag(joined[i]);
	if (exec_build_process(h.dirfd, o, &j.process, err) < 0)
		goto out;
	if (j.process.terminal && o->console_socket == NULL && o->detach) {
		vsl_error_set(err, "cannot allocate tty if runc will detach without setting console socket");
		goto out;
	}
	if (j.process.has_caps && caps_validate(&j.process.caps, err) < 0)
		goto out;
	if (process_check_rlimits(j.process.rlimits, j.process.n_rlimits, err) < 0)
		goto out;
	if (j.config->seccomp && rt_seccomp_prepare(ctx, j.config->seccomp, &j.launch.seccomp, err) < 0)
		goto out;
	if (o->console_socket && console_socket_connect(o->console_socket, &j.console_fd, err) < 0)
		goto out;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		vsl_error_errno(err, errno, "socketpair");
		goto out;
	}
	j.sync_parent = sv[0];
	j.sync_child = sv[1];

	j.cg = h.cg;
	if (exec_clone(&j, err) < 0)
		goto out;
	closep(&j.sync_child);
	j.sync_child = -1;
	closep(&j.console_fd);
	j.console_fd = -1;
	if (exec_handshake(&j, err) < 0) {
		syscall(SYS_pidfd_send_signal, j.pidfd, SIGKILL, NULL, 0);
		rt_wait_status(j.pidfd);
		goto out;
	}
	if (o->pid_file) {
		if (rt_write_pid_file(o->pid_file, j.pid, err) < 0)
			goto out;
	}
	*ret_status = 0;
	if (!o->detach) {
		if (j.master >= 0)
			console_proxy(j.master, j.pidfd, NULL);
		*ret_status = rt_forward_signals_until_exit(j.pidfd);
	}
	r = 0;
out:
	exec_job_clear(&j);
	return r;
}
