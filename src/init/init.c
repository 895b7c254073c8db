/* vessel-init: the PID 1 of `vessel run --init` containers, bind-mounted at
 * /dev/init and run as `/dev/init -- CMD ARGS...`.
 *
 * A process that is PID 1 of a namespace gets no default signal actions, so
 * a plain `sleep` as PID 1 ignores the SIGTERM of `vessel stop` and dies only
 * to the SIGKILL ten seconds later; and nobody reaps the orphans a shell or a
 * daemon leaves behind. This program runs the command as its child, forwards
 * every signal it can catch to it, reaps every process that is reparented to
 * it, and exits with the child's status (128+N after signal N), as Docker's
 * tini does.
 *
 * libc only and tiny: it is bind-mounted into every --init container. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Faults are the init's own: left at their default so that a bug here ends
 * it rather than being "forwarded". */
static const int synchronous[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGSYS};

static void usage(void)
{
	fputs("usage: vessel-init [--] COMMAND [ARG...]\n", stderr);
	exit(1);
}

static int status_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

static void __attribute__((noreturn)) exec_child(char **argv, const sigset_t *old)
{
	/* Its own process group, in the terminal's foreground (if any), so that
	 * the ^C of a terminal reaches the command once, not via us too. SIGTTOU
	 * is still blocked here, so tcsetpgrp() from the background works. */
	setpgid(0, 0);
	if (isatty(STDIN_FILENO))
		tcsetpgrp(STDIN_FILENO, getpgrp());
	sigprocmask(SIG_SETMASK, old, NULL);
	execvp(argv[0], argv);
	int e = errno;
	fprintf(stderr, "vessel-init: exec '%s': %s\n", argv[0], strerror(e));
	_exit(e == ENOENT ? 127 : 126);
}

int main(int argc, char **argv)
{
	int first = 1;
	if (first < argc && strcmp(argv[first], "--") == 0)
		first++;
	if (first >= argc)
		usage();

	/* Every signal blocked and taken with sigwaitinfo(): a blocked signal is
	 * never "ignored" by the kernel's PID 1 rule, so even signals from
	 * outside the namespace reach us without handlers. */
	sigset_t all, old;
	sigfillset(&all);
	for (size_t i = 0; i < sizeof(synchronous) / sizeof(synchronous[0]); i++)
		sigdelset(&all, synchronous[i]);
	if (sigprocmask(SIG_SETMASK, &all, &old) < 0) {
		perror("vessel-init: sigprocmask");
		return 1;
	}

	pid_t child = fork();
	if (child < 0) {
		perror("vessel-init: fork");
		return 1;
	}
	if (child == 0)
		exec_child(argv + first, &old);

	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&all, &si);
		if (sig < 0) {
			if (errno == EINTR)
				continue;
			perror("vessel-init: sigwaitinfo");
			return 1;
		}
		if (sig != SIGCHLD) {
			if (kill(child, sig) < 0 && errno != ESRCH)
				perror("vessel-init: kill");
			continue;
		}
		/* One SIGCHLD may stand for many exits: reap until none is left. */
		for (;;) {
			int status;
			pid_t pid = waitpid(-1, &status, WNOHANG);
			if (pid <= 0)
				break;
			if (pid == child) {
				int code = status_code(status);
				/* The rest of the orphans that are already dead, then go:
				 * the namespace's end kills the others. */
				while (waitpid(-1, NULL, WNOHANG) > 0)
					;
				return code;
			}
		}
	}
}
