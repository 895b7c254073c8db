#include "runtime/process.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/caps.h"
#include "runtime/config.h"
#include "runtime/seccomp.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"

static int read_nr_open(uint64_t *ret)
{
	_cleanup_free_ char *text = NULL;
	if (read_file_at(AT_FDCWD, "/proc/sys/fs/nr_open", 64, &text, NULL, NULL) < 0)
		return -1;
	*ret = strtoull(text, NULL, 10);
	return 0;
}

int process_check_rlimits(const struct oci_rlimit *r, size_t n, struct vsl_error **err)
{
	for (size_t i = 0; i < n; i++) {
		if (r[i].soft > r[i].hard)
			return vsl_error_set(err, "rlimit %s: soft limit %llu is above the hard limit %llu",
			                     r[i].type, (unsigned long long)r[i].soft,
			                     (unsigned long long)r[i].hard);
		uint64_t nr_open;
		if (r[i].resource == RLIMIT_NOFILE && read_nr_open(&nr_open) == 0 && r[i].hard > nr_open)
			return vsl_error_set(err,
			                     "rlimit %s: hard limit %llu is above the host's limit %llu "
			                     "(fs.nr_open); lower it",
			                     r[i].type, (unsigned long long)r[i].hard,
			                     (unsigned long long)nr_open);
	}
	return 0;
}

int process_set_rlimits(const struct oci_rlimit *r, size_t n, struct vsl_error **err)
{
	for (size_t i = 0; i < n; i++) {
		struct rlimit l = {.rlim_cur = r[i].soft, .rlim_max = r[i].hard};
		if (setrlimit(r[i].resource, &l) < 0) {
			struct rlimit host;
			getrlimit(r[i].resource, &host);
			return vsl_error_errno(err, errno,
			                       "set rlimit %s to %llu/%llu (host hard limit %llu)", r[i].type,
			                       (unsigned long long)r[i].soft, (unsigned long long)r[i].hard,
			                       (unsigned long long)host.rlim_max);
		}
	}
	return 0;
}

static const char *env_get(char **env, const char *name)
{
	size_t len = strlen(name);
	for (char **e = env; e && *e; e++)
		if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
			return *e + len + 1;
	return NULL;
}

static bool is_executable_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
}

/* The home directory of uid in the container's /etc/passwd (as runc: HOME
 * is set when the config leaves it out), "/" when there is none. */
static char *home_of(uid_t uid)
{
	_cleanup_fclose_ FILE *f = fopen("/etc/passwd", "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	while (f && getline(&line, &cap, f) > 0) {
		char *fields[7] = {0}, *p = line;
		int n = 0;
		/* strsep keeps empty fields, which strtok would merge. */
		while (n < 7 && (fields[n] = strsep(&p, ":\n")) != NULL)
			n++;
		if (n >= 6 && fields[2] && strtoul(fields[2], NULL, 10) == uid && fields[5][0] == '/')
			return strdup(fields[5]);
	}
	return strdup("/");
}

static int build_env(struct proc_launch *l, struct vsl_error **err)
{
	char **env = l->process->env;
	size_t n = 0;
	while (env && env[n])
		n++;
	l->envp = calloc(n + 2, sizeof(char *));
	if (l->envp == NULL)
		return vsl_error_errno(err, ENOMEM, "environment");
	for (size_t i = 0; i < n; i++)
		l->envp[i] = env[i];
	if (env_get(env, "HOME") == NULL) {
		_cleanup_free_ char *home = home_of(l->process->user.uid);
		if (home == NULL || asprintf(&l->home, "HOME=%s", home) < 0)
			return vsl_error_errno(err, ENOMEM, "environment");
		l->envp[n] = l->home;
	}
	return 0;
}

int process_resolve_exec(struct proc_launch *l, struct vsl_error **err)
{
	if (build_env(l, err) < 0)
		return -1;
	const char *name = l->process->args[0];
	if (strchr(name, '/') != NULL) {
		if (access(name, F_OK) < 0)
			return vsl_error_errno(err, errno, "exec: \"%s\"", name);
		/* Refused here, before start, so the caller hears it (Docker's 126);
		 * after start only the exit status would tell. */
		if (!is_executable_file(name))
			return vsl_error_errno(err, EACCES, "exec: \"%s\"", name);
		l->exec_path = strdup(name);
		return l->exec_path ? 0 : vsl_error_errno(err, ENOMEM, "exec");
	}
	const char *path = env_get(l->process->env, "PATH");
	if (path == NULL)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	_cleanup_free_ char *dirs = strdup(path);
	if (dirs == NULL)
		return vsl_error_errno(err, ENOMEM, "exec");
	char *save = NULL;
	for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		_cleanup_free_ char *candidate = NULL;
		if (asprintf(&candidate, "%s/%s", *d ? d : ".", name) < 0)
			return vsl_error_errno(err, ENOMEM, "exec");
		if (is_executable_file(candidate)) {
			l->exec_path = TAKE_PTR(candidate);
			return 0;
		}
	}
	return vsl_error_errno(err, ENOENT, "exec: \"%s\": executable file not found in $PATH", name);
}

/* Labels are written through /proc/thread-self/attr, only where the host has
 * the LSM: a profile asked for on a host without AppArmor is ignored, as runc does. */
static int apply_lsm(const struct oci_process *p, struct vsl_error **err)
{
	if (p->apparmor_profile && *p->apparmor_profile &&
	    access("/sys/kernel/security/apparmor", F_OK) == 0) {
		_cleanup_free_ char *value = NULL;
		if (asprintf(&value, "exec %s", p->apparmor_profile) < 0)
			return vsl_error_errno(err, ENOMEM, "apparmor");
		if (write_string_at(AT_FDCWD, "/proc/thread-self/attr/apparmor/exec", value, err) < 0 &&
		    write_string_at(AT_FDCWD, "/proc/thread-self/attr/exec", value, NULL) < 0)
			return vsl_error_prefix(err, "apply apparmor profile '%s'", p->apparmor_profile);
	}
	if (p->selinux_label && *p->selinux_label && access("/sys/fs/selinux/enforce", F_OK) == 0) {
		if (write_string_at(AT_FDCWD, "/proc/thread-self/attr/exec", p->selinux_label, err) < 0)
			return vsl_error_prefix(err, "apply selinux label '%s'", p->selinux_label);
	}
	return 0;
}

static int switch_user(const struct oci_process *p, struct vsl_error **err)
{
	const struct oci_user *u = &p->user;
	if (setgroups(u->n_additional_gids, u->additional_gids) < 0 && errno != EPERM)
		return vsl_error_errno(err, errno, "setgroups");
	if (setresgid(u->gid, u->gid, u->gid) < 0)
		return vsl_error_errno(err, errno, "setresgid %u", (unsigned)u->gid);
	if (setresuid(u->uid, u->uid, u->uid) < 0)
		return vsl_error_errno(err, errno, "setresuid %u", (unsigned)u->uid);
	return 0;
}

int process_setup_identity(struct proc_launch *l, struct vsl_error **err)
{
	const struct oci_process *p = l->process;

	if (apply_lsm(p, err) < 0)
		return -1;
	if (l->seccomp && !p->no_new_privileges) {
		if (seccomp_filter_load(l->seccomp, NULL, err) < 0)
			return -1;
		seccomp_filter_free(l->seccomp);
		l->seccomp = NULL;
	}
	/* No capabilities object means none at all, bounding set included. */
	static char *no_caps[] = {NULL};
	const struct oci_caps none = {.bounding = no_caps};
	const struct oci_caps *caps = p->has_caps ? &p->caps : &none;
	if (caps_drop_bounding(caps, err) < 0)
		return -1;
	/* Keep the permitted set across the uid change; caps_apply then sets it exactly. */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return vsl_error_errno(err, errno, "keep capabilities");
	if (switch_user(p, err) < 0)
		return -1;
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return vsl_error_errno(err, errno, "keep capabilities");
	if (caps_apply(caps, err) < 0)
		return -1;
	if (p->user.has_umask)
		umask(p->user.umask);
	else
		umask(0022);

	const char *cwd = p->cwd ? p->cwd : "/";
	if (chdir(cwd) < 0)
		return vsl_error_errno(err, errno, "chdir to cwd (\"%s\") set in config.json", cwd);
	/* CVE-2024-21626: a cwd reached through a leaked host fd lies outside our
	 * root, and getcwd() says so with ENOENT or an "(unreachable)" prefix. */
	char buf[4096];
	if (getcwd(buf, sizeof(buf)) == NULL || buf[0] != '/')
		return vsl_error_set(err, "cwd \"%s\" is outside the container's root", cwd);

	if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return vsl_error_errno(err, errno, "set no_new_privs");
	return 0;
}

int process_exec(struct proc_launch *l, struct vsl_error **err)
{
	if (l->seccomp) {
		if (seccomp_filter_load(l->seccomp, NULL, err) < 0)
			return -1;
	}
	/* No host fd may reach the container's process: everything past stdio
	 * and the preserved fds closes at exec. */
	unsigned first = 3 + l->preserve_fds;
	if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
		for (int fd = (int)first; fd < 65536; fd++)
			fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	for (unsigned fd = 3; fd < first; fd++) {
		int flags = fcntl((int)fd, F_GETFD);
		if (flags >= 0)
			fcntl((int)fd, F_SETFD, flags & ~FD_CLOEXEC);
	}
	char *const empty[] = {NULL};
	execve(l->exec_path, l->process->args, l->envp ? l->envp : empty);
	return vsl_error_errno(err, errno, "exec \"%s\"", l->process->args[0]);
}

void proc_launch_clear(struct proc_launch *l)
{
	free(l->exec_path);
	l->exec_path = NULL;
	free(l->envp);
	l->envp = NULL;
	free(l->home);
	l->home = NULL;
	seccomp_filter_free(l->seccomp);
	l->seccomp = NULL;
}
