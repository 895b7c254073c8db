#include "runtime/hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtime/config.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"

static void hook_exec(const struct oci_hook *h, int stdin_fd)
{
	if (dup2(stdin_fd, STDIN_FILENO) < 0)
		_exit(127);
	signal(SIGPIPE, SIG_DFL);
	/* A foreground run holds the signals it forwards blocked; a hook starts clean. */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	char *const fallback_argv[] = {h->path, NULL};
	char *const empty_env[] = {NULL};
	execve(h->path, h->args && h->args[0] ? h->args : fallback_argv, h->env ? h->env : empty_env);
	_exit(127);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int hook_run_one(const char *kind, size_t index, const struct oci_hook *h, const char *state_json,
                        struct vsl_error **err)
{
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return vsl_error_errno(err, errno, "%s hook #%zu: pipe", kind, index);
	_cleanup_close_ int rd = pipefd[0], wr = pipefd[1];

	pid_t pid = fork();
	if (pid < 0)
		return vsl_error_errno(err, errno, "%s hook #%zu: fork", kind, index);
	if (pid == 0)
		hook_exec(h, rd);

	_cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	close(TAKE_FD(rd));
	/* A hook that ignores stdin may exit before reading: EPIPE is not its failure. */
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	write_all(wr, state_json, strlen(state_json));
	signal(SIGPIPE, old);
	close(TAKE_FD(wr));

	int64_t deadline = h->has_timeout ? now_ms() + (int64_t)h->timeout * 1000 : -1;
	for (;;) {
		int wait_ms = -1;
		if (deadline >= 0) {
			int64_t left = deadline - now_ms();
			wait_ms = left > 0 ? (int)left : 0;
		}
		struct pollfd p = {.fd = pidfd, .events = POLLIN};
		int n = pidfd >= 0 ? poll(&p, 1, wait_ms) : 1;
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return vsl_error_set(err, "%s hook #%zu '%s': timed out after %d s", kind, index,
			                     h->path, h->timeout);
		}
		break;
	}

	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return vsl_error_errno(err, errno, "%s hook #%zu: wait", kind, index);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		return vsl_error_set(err, "%s hook #%zu '%s': exit status %d", kind, index, h->path,
		                     WEXITSTATUS(status));
	return vsl_error_set(err, "%s hook #%zu '%s': killed by signal %d", kind, index, h->path,
	                     WTERMSIG(status));
}

int hooks_run(const char *kind, const struct oci_hook *hooks, size_t n, const char *state_json,
              struct vsl_error **err)
{
	for (size_t i = 0; i < n; i++)
		if (hook_run_one(kind, i, &hooks[i], state_json, err) < 0)
			return -1;
	return 0;
}
