#include "runtime/spawn-userns.h"

#include <errno.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/cgroup.h"
#include "runtime/config.h"
#include "runtime/container-internal.h"
#include "runtime/namespace.h"
#include "runtime/sync.h"
#include "util/cleanup.h"
#include "util/error.h"

static _Noreturn void intermediate_main(const struct userns_spawn *u, bool in_v2)
{
	rt_child_prologue(TAKE_FD(*u->sync_parent));
	_cleanup_error_ struct vsl_error *err = NULL;

	/* Before the user namespace: the v1 hierarchies are the host's files. */
	if (cgroup_enter_self(u->cg, in_v2, &err) < 0) {
		vsl_error_prefix(&err, "enter the container's cgroup");
		rt_child_fail(u->sync_child, err);
	}
	if (ns_plan_join_userns_first(u->ns, u->config, &err) < 0)
		rt_child_fail(u->sync_child, err);

	int pidfd = -1;
	struct clone_args args = {
	    .flags = u->ns->clone_flags | CLONE_PIDFD,
	    .pidfd = (uint64_t)(uintptr_t)&pidfd,
	    .exit_signal = SIGCHLD,
	};
	long pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0) {
		vsl_error_errno(&err, errno, "create container process in user namespace '%s'",
		                u->config->namespaces[NS_USER].path);
		rt_child_fail(u->sync_child, err);
	}
	if (pid == 0) {
		u->init_main(u->arg);
		_exit(1);
	}
	char text[32];
	snprintf(text, sizeof(text), "%ld", pid);
	if (sync_send(u->sync_child, SYNC_PID, text, pidfd) < 0) {
		/* The runtime is gone: so must the init be. */
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		_exit(1);
	}
	_exit(0);
}

/* The intermediate has exited: what it said before it did. */
static int receive_init(int sync, int status, pid_t *ret_pid, int *ret_pidfd, struct vsl_error **err)
{
	/* We still hold the child's end too: no message is no end of stream. */
	struct pollfd p = {.fd = sync, .events = POLLIN};
	if (poll(&p, 1, 0) <= 0)
		return vsl_error_set(err, "container process exited during setup (status %d)", status);

	enum sync_type type;
	_cleanup_free_ char *text = NULL;
	_cleanup_close_ int pidfd = -EBADF;
	int fd = -1;
	int r = sync_recv(sync, &type, &text, &fd);
	pidfd = fd;
	if (r == -EPIPE)
		return vsl_error_set(err, "container process exited during setup (status %d)", status);
	if (r < 0)
		return vsl_error_errno(err, -r, "receive from container process");
	if (type == SYNC_ERROR)
		return sync_error_from(text, err);
	char *end;
	long pid = type == SYNC_PID ? strtol(text, &end, 10) : 0;
	if (pid <= 0 || *end != '\0' || pidfd < 0)
		return vsl_error_set(err, "container process: unexpected message %d", type);
	if (status != 0) {
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		return vsl_error_set(err, "container process exited during setup (status %d)", status);
	}
	*ret_pid = (pid_t)pid;
	*ret_pidfd = TAKE_FD(pidfd);
	return 0;
}

int userns_spawn(const struct userns_spawn *u, pid_t *ret_pid, int *ret_pidfd, struct vsl_error **err)
{
	int fd = -1;
	bool in_v2;
	long pid = rt_clone(0, u->cg, &fd, &in_v2);
	if (pid < 0)
		return vsl_error_errno(err, errno, "create container process");
	if (pid == 0)
		intermediate_main(u, in_v2);
	_cleanup_close_ int mid = fd;
	/* Short-lived (it never waits for us): wait, then read what it left. */
	int status = rt_wait_status(mid);
	return receive_init(*u->sync_parent, status, ret_pid, ret_pidfd, err);
}
