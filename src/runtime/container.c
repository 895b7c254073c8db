/* create, start, run, state, kill, delete, pause, resume, ps, update, list. */
#include "runtime/container.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtime/caps.h"
#include "runtime/cgroup.h"
#include "runtime/config.h"
#include "runtime/console.h"
#include "runtime/container-internal.h"
#include "runtime/hooks.h"
#include "runtime/namespace.h"
#include "runtime/process.h"
#include "runtime/rootfs.h"
#include "runtime/seccomp.h"
#include "runtime/spawn-userns.h"
#include "runtime/sync.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"

#define EXEC_FIFO   "exec.fifo"
#define CONFIG_COPY "config.json"

/* Everything one create holds; released by spawn_clear(). */
struct spawn {
	const struct rt_create_opts *opts;
	bool foreground;
	struct oci_config *config;
	char *config_text;
	size_t config_len;
	char *bundle, *rootfs;
	int rootfd, dirfd, fifo_fd, console_fd;
	int sync_parent, sync_child;
	struct cgroup *cg;
	struct ns_plan ns;
	struct proc_launch launch;
	pid_t pid;
	int pidfd;
	int master; /* foreground terminal: the pty master the child sent */
	bool in_v2; /* clone3 placed the child in the v2 cgroup */
	/* The v1 hierarchies are made after the clone, while the child mounts:
	 * it enters them before the first cgroup mount (SYNC_CGROUPS). Only for
	 * a child that stays in our user namespace: one in another could no
	 * longer write to the host's cgroup files. */
	bool cgroups_late;
	const struct oci_resources *res;
	bool made_dir;
	bool made_subreaper; /* we became a child subreaper for this run */
	struct rt_state state;
};

static void spawn_init(struct spawn *sp, const struct rt_create_opts *o)
{
	*sp = (struct spawn){.opts = o,
	                     .rootfd = -1,
	                     .dirfd = -1,
	                     .fifo_fd = -1,
	                     .console_fd = -1,
	                     .sync_parent = -1,
	                     .sync_child = -1,
	                     .pidfd = -1,
	                     .master = -1};
	ns_plan_init(&sp->ns);
}

static void spawn_clear(struct spawn *sp)
{
	oci_config_free(sp->config);
	free(sp->config_text);
	free(sp->bundle);
	free(sp->rootfs);
	closep(&sp->rootfd);
	closep(&sp->dirfd);
	closep(&sp->fifo_fd);
	closep(&sp->console_fd);
	closep(&sp->sync_parent);
	closep(&sp->sync_child);
	closep(&sp->pidfd);
	closep(&sp->master);
	cgroup_free(sp->cg);
	ns_plan_close(&sp->ns);
	proc_launch_clear(&sp->launch);
	state_clear(&sp->state);
	if (sp->made_subreaper)
		prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
}

char *rt_now_rfc3339(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char buf[64], *out = NULL;
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	if (asprintf(&out, "%s.%09ldZ", buf, ts.tv_nsec) < 0)
		return NULL;
	return out;
}

/* The OCI state document: what hooks read on stdin and what `state` prints
 * (which adds rootfs, created and owner as runc does). */
static json_t *state_document(const struct rt_state *s, enum rt_status status, const struct oci_config *c)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:s}", "ociVersion",
	                      c && c->oci_version ? c->oci_version : "1.2.0", "id", s->id, "status",
	                      rt_status_name(status), "pid", (json_int_t)(status == RT_STOPPED ? 0 : s->pid),
	                      "bundle", s->bundle);
	if (o == NULL || c == NULL || c->n_annotations == 0)
		return o;
	json_t *ann = json_object();
	for (size_t i = 0; i < c->n_annotations; i++)
		json_object_set_new(ann, c->annotations[i].key, json_string(c->annotations[i].value));
	json_object_set_new(o, "annotations", ann);
	return o;
}

char *rt_hook_state(const struct rt_state *s, enum rt_status status, const struct oci_config *c)
{
	json_t *o = state_document(s, status, c);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return text;
}

/* ---- the container's init process ---------------------------------------- */

/* cgroups_late: called by rootfs_prepare() before the container's cgroups are
 * first looked at. */
static int enter_cgroups_late(void *userdata, struct vsl_error **err)
{
	struct spawn *sp = userdata;
	if (sync_expect(sp->sync_child, SYNC_CGROUPS, NULL, err) < 0)
		return -1;
	if (cgroup_enter_self(sp->cg, sp->in_v2, err) < 0)
		return vsl_error_prefix(err, "enter the container's cgroup");
	if (sp->ns.late_cgroup && unshare(CLONE_NEWCGROUP) < 0)
		return vsl_error_errno(err, errno, "create cgroup namespace");
	return 0;
}

static int child_setup(struct spawn *sp, struct vsl_error **err)
{
	const struct oci_config *c = sp->config;
	const struct rt_create_opts *o = sp->opts;
	/* Before any goto: the cleanup must never see them uninitialised. */
	_cleanup_free_ char *hook_state = NULL;
	char *started_state = NULL;

	if (sync_expect(sp->sync_child, SYNC_GO, NULL, err) < 0)
		return -1;
	/* First, so that the limits hold for all the setup below (the
	 * intermediate of userns_first entered them for us). */
	if (!sp->cgroups_late && !sp->ns.userns_first && cgroup_enter_self(sp->cg, sp->in_v2, err) < 0)
		return vsl_error_prefix(err, "enter the container's cgroup");
	if (ns_plan_child_join_user(&sp->ns, err) < 0)
		return -1;
	/* Our host ids may be unmapped in a joined user namespace: files made
	 * during the setup would then fail (EOVERFLOW). runc too becomes 0. */
	if ((sp->ns.clone_flags & CLONE_NEWUSER) || sp->ns.join_fd[NS_USER] >= 0) {
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
			return vsl_error_errno(err, errno,
			                       "become root in the user namespace (is uid/gid 0 mapped?)");
	}
	/* Only now, inside its cgroups, so that they are the namespace's root. */
	if (!sp->cgroups_late && sp->ns.late_cgroup && unshare(CLONE_NEWCGROUP) < 0)
		return vsl_error_errno(err, errno, "create cgroup namespace");
	/* Relative bind sources are relative to the bundle, as in runc. */
	if (chdir(sp->bundle) < 0)
		return vsl_error_errno(err, errno, "chdir to bundle '%s'", sp->bundle);

	if (c->hostname && sethostname(c->hostname, strlen(c->hostname)) < 0)
		return vsl_error_errno(err, errno, "set hostname '%s'", c->hostname);
	if (c->domainname && setdomainname(c->domainname, strlen(c->domainname)) < 0)
		return vsl_error_errno(err, errno, "set domainname '%s'", c->domainname);
	if (process_set_rlimits(c->process.rlimits, c->process.n_rlimits, err) < 0)
		return -1;
	if (!o->no_new_keyring) {
		/* A session keyring of its own, so keys of the host are not reachable. */
		if (syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, o->id) < 0 && errno != ENOSYS &&
		    errno != EDQUOT && errno != EACCES)
			return vsl_error_errno(err, errno, "join session keyring");
	}

	struct rootfs_ctx rc = {
	    .config = c,
	    .rootfs = sp->rootfs,
	    .no_pivot = o->no_pivot,
	    .new_userns = (sp->ns.clone_flags & CLONE_NEWUSER) || sp->ns.join_fd[NS_USER] >= 0,
	    .rootfd = -1,
	    .enter_cgroups = sp->cgroups_late ? enter_cgroups_late : NULL,
	    .userdata = sp,
	};
	int r = rootfs_prepare(&rc, err);
	if (r < 0)
		goto out;

	if ((r = sync_send(sp->sync_child, SYNC_HOOKS, NULL, -1)) < 0) {
		r = vsl_error_errno(err, -r, "sync with the runtime");
		goto out;
	}
	if ((r = sync_expect(sp->sync_child, SYNC_HOOKS_DONE, &hook_state, err)) < 0)
		goto out;
	/* Two states, one a line: "creating" for createContainer, "created" for startContainer. */
	started_state = hook_state ? strchr(hook_state, '\n') : NULL;
	if (started_state)
		*started_state++ = '\0';
	r = hooks_run("createContainer", c->hooks.list[HOOK_CREATE_CONTAINER],
	              c->hooks.count[HOOK_CREATE_CONTAINER], hook_state, err);
	if (r < 0)
		goto out;
	if ((r = rootfs_pivot(&rc, err)) < 0 || (r = rootfs_finalize(&rc, err)) < 0)
		goto out;
out:
	rootfs_ctx_clear(&rc);
	if (r < 0)
		return r;

	if (c->process.terminal) {
		_cleanup_close_ int master = -EBADF, slave = -EBADF;
		if (console_open(c->process.console_height, c->process.console_width, &master, &slave, err) <
		    0)
			return -1;
		if (sp->console_fd >= 0) {
			if (console_send_master(sp->console_fd, master, err) < 0)
				return -1;
		} else if ((r = sync_send(sp->sync_child, SYNC_CONSOLE, NULL, master)) < 0) {
			return vsl_error_errno(err, -r, "send pty to the runtime");
		}
		if (console_bind_dev_console(slave, err) < 0 || console_become_stdio(slave, err) < 0)
			return -1;
	}
	if (c->personality_domain && strcmp(c->personality_domain, "LINUX32") == 0 &&
	    personality(PER_LINUX32) < 0)
		return vsl_error_errno(err, errno, "set personality LINUX32");

	sp->launch.process = &c->process;
	sp->launch.preserve_fds = o->preserve_fds;
	if (process_resolve_exec(&sp->launch, err) < 0 || process_setup_identity(&sp->launch, err) < 0)
		return -1;

	/* From here the runtime may exit (create): we must not die with it. */
	prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
	if ((r = sync_send(sp->sync_child, SYNC_READY, NULL, -1)) < 0)
		return vsl_error_errno(err, -r, "sync with the runtime");

	/* Blocks until `start` writes a byte: we hold the fifo O_RDWR, so this
	 * never sees EOF and never needs the host path again. */
	char byte;
	ssize_t n;
	do
		n = read(sp->fifo_fd, &byte, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		return vsl_error_errno(err, errno, "wait for start");
	closep(&sp->fifo_fd);
	sp->fifo_fd = -1;

	if (hooks_run("startContainer", c->hooks.list[HOOK_START_CONTAINER],
	              c->hooks.count[HOOK_START_CONTAINER], started_state ? started_state : hook_state,
	              err) < 0)
		return -1;
	return process_exec(&sp->launch, err);
}

static _Noreturn void child_run(struct spawn *sp)
{
	_cleanup_error_ struct vsl_error *err = NULL;
	child_setup(sp, &err);
	rt_child_fail(sp->sync_child, err);
}

static _Noreturn void child_main(struct spawn *sp)
{
	rt_child_prologue(TAKE_FD(sp->sync_parent));
	child_run(sp);
}

/* The init made by the intermediate of spawn-userns.c, which did the prologue. */
static void child_main_userns(void *arg)
{
	child_run(arg);
}

/* ---- the runtime's side of create ----------------------------------------- */

static int check_config(struct spawn *sp, struct vsl_error **err)
{
	const struct oci_config *c = sp->config;
	if (!c->has_process || c->process.args == NULL || c->process.args[0] == NULL)
		return vsl_error_set(err, "config.json: process.args: a command to run is required");
	if (!c->namespaces[NS_MOUNT].present)
		return vsl_error_set(err, "config.json: linux.namespaces: a mount namespace is required");
	if (c->hostname && *c->hostname && !c->namespaces[NS_UTS].present)
		return vsl_error_set(err, "config.json: hostname: setting it requires a new uts namespace");
	if (c->process.terminal && sp->opts->console_socket == NULL && !sp->foreground)
		return vsl_error_set(
		    err, "cannot allocate tty if runc will detach without setting console socket");
	if (!c->process.terminal && sp->opts->console_socket != NULL)
		return vsl_error_set(err,
		                     "cannot use console socket if runc will not detach or allocate tty");
	if (c->namespaces[NS_USER].present && c->namespaces[NS_USER].path == NULL &&
	    (c->n_uid_mappings == 0 || c->n_gid_mappings == 0))
		return vsl_error_set(
		    err, "config.json: linux.uidMappings: a new user namespace needs uid and gid mappings");
	if (c->process.has_caps && caps_validate(&c->process.caps, err) < 0)
		return -1;
	return process_check_rlimits(c->process.rlimits, c->process.n_rlimits, err);
}

int rt_seccomp_prepare(const struct rt_context *ctx, const struct oci_seccomp *s, struct seccomp_filter **ret,
                       struct vsl_error **err)
{
	_cleanup_free_ char *cache = NULL;
	if (asprintf(&cache, "%s/" RT_SECCOMP_CACHE, ctx->root) < 0)
		return vsl_error_errno(err, ENOMEM, "seccomp cache path");
	return seccomp_filter_prepare_cached(s, cache, ret, err);
}

static int load_bundle(const struct rt_context *ctx, struct spawn *sp, struct vsl_error **err)
{
	const char *bundle = sp->opts->bundle ? sp->opts->bundle : ".";
	sp->bundle = realpath(bundle, NULL);
	if (sp->bundle == NULL)
		return vsl_error_errno(err, errno, "bundle '%s'", bundle);
	_cleanup_close_ int bfd = open(sp->bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (bfd < 0)
		return vsl_error_errno(err, errno, "open bundle '%s'", sp->bundle);
	if (read_file_at(bfd, "config.json", 4 << 20, &sp->config_text, &sp->config_len, err) < 0)
		return vsl_error_prefix(err, "bundle '%s'", sp->bundle);
	if (oci_config_parse(sp->config_text, sp->config_len, &sp->config, err) < 0)
		return -1;
	if (check_config(sp, err) < 0)
		return -1;

	const char *root = sp->config->root_path;
	_cleanup_free_ char *joined = NULL;
	if (root[0] != '/' && asprintf(&joined, "%s/%s", sp->bundle, root) < 0)
		return vsl_error_errno(err, ENOMEM, "rootfs");
	sp->rootfs = realpath(joined ? joined : root, NULL);
	if (sp->rootfs == NULL)
		return vsl_error_errno(err, errno, "rootfs '%s'", joined ? joined : root);
	struct stat st;
	if (stat(sp->rootfs, &st) < 0 || !S_ISDIR(st.st_mode))
		return vsl_error_set(err, "rootfs '%s' is not a directory", sp->rootfs);

	if (sp->config->seccomp && rt_seccomp_prepare(ctx, sp->config->seccomp, &sp->launch.seccomp, err) < 0)
		return -1;
	return 0;
}

static int make_state_dir(struct spawn *sp, const struct rt_context *ctx, struct vsl_error **err)
{
	const char *id = sp->opts->id;
	if (state_root_open(ctx->root, true, &sp->rootfd, err) < 0)
		return -1;
	if (mkdirat(sp->rootfd, id, 0700) < 0) {
		if (errno == EEXIST)
			return vsl_error_set(err, "container with id exists: %s", id);
		return vsl_error_errno(err, errno, "create state of '%s'", id);
	}
	sp->made_dir = true;
	sp->dirfd = openat(sp->rootfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sp->dirfd < 0)
		return vsl_error_errno(err, errno, "open state of '%s'", id);
	if (write_file_atomic_at(sp->dirfd, CONFIG_COPY, sp->config_text, sp->config_len, 0600, err) < 0)
		return -1;
	if (mkfifoat(sp->dirfd, EXEC_FIFO, 0622) < 0)
		return vsl_error_errno(err, errno, "make exec fifo");
	sp->fifo_fd = openat(sp->dirfd, EXEC_FIFO, O_RDWR | O_CLOEXEC);
	if (sp->fifo_fd < 0)
		return vsl_error_errno(err, errno, "open exec fifo");
	return 0;
}

long rt_clone(uint64_t flags, struct cgroup *cg, int *ret_pidfd, bool *ret_in_v2)
{
	struct clone_args args = {
	    .flags = flags | CLONE_PIDFD,
	    .pidfd = (uint64_t)(uintptr_t)ret_pidfd,
	    .exit_signal = SIGCHLD,
	};
	int cgfd = cgroup_clone_fd(cg);
	if (cgfd >= 0) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)cgfd;
	}
	long pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0 && errno == EBUSY && cgfd >= 0) {
		/* A v2 cgroup with processes in inner nodes refuses: enter afterwards. */
		args.flags &= ~(uint64_t)CLONE_INTO_CGROUP;
		pid = syscall(SYS_clone3, &args, sizeof(args));
		cgfd = -1;
	}
	*ret_in_v2 = cgfd >= 0;
	return pid;
}

void rt_child_prologue(int sync_parent)
{
	close(sync_parent);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	/* CVE-2019-5736: until execve, other processes of the container must not
	 * open /proc/<us>/exe or our memory. execve resets it. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	sigset_t all;
	sigfillset(&all);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	sigprocmask(SIG_UNBLOCK, &all, NULL);
}

_Noreturn void rt_child_fail(int sync_child, const struct vsl_error *err)
{
	/* After SYNC_READY the runtime may be gone: say it on stderr then. */
	if (sync_send_error(sync_child, err) < 0)
		dprintf(STDERR_FILENO, "vessel-runtime: %s\n", vsl_error_message(err));
	_exit(vsl_error_code(err) == -ENOENT ? 127 : 1);
}

static int clone_child_userns(struct spawn *sp, struct vsl_error **err)
{
	if (sp->foreground) {
		/* The init is orphaned by the intermediate: `run` must still reap it. */
		int was = 0;
		prctl(PR_GET_CHILD_SUBREAPER, &was, 0, 0, 0);
		if (!was) {
			if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
				return vsl_error_errno(err, errno, "become a child subreaper");
			sp->made_subreaper = true;
		}
	}
	struct userns_spawn u = {
	    .ns = &sp->ns,
	    .config = sp->config,
	    .cg = sp->cg,
	    .sync_parent = &sp->sync_parent,
	    .sync_child = sp->sync_child,
	    .init_main = child_main_userns,
	    .arg = sp,
	};
	return userns_spawn(&u, &sp->pid, &sp->pidfd, err);
}

static int clone_child(struct spawn *sp, struct vsl_error **err)
{
	if (sp->ns.userns_first)
		return clone_child_userns(sp, err);
	long pid = rt_clone(sp->ns.clone_flags, sp->cg, &sp->pidfd, &sp->in_v2);
	if (pid < 0)
		return vsl_error_errno(err, errno, "create container process");
	if (pid == 0)
		child_main(sp);
	sp->pid = (pid_t)pid;
	return 0;
}

static int parent_handshake(struct spawn *sp, struct vsl_error **err)
{
	const struct oci_config *c = sp->config;
	int r;
	if ((sp->ns.clone_flags & CLONE_NEWUSER) && ns_write_id_maps(sp->pid, c, err) < 0)
		return -1;
	if (c->process.has_oom_score_adj) {
		char path[64], value[32];
		snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)sp->pid);
		snprintf(value, sizeof(value), "%d", c->process.oom_score_adj);
		if (write_string_at(AT_FDCWD, path, value, err) < 0)
			return vsl_error_prefix(err, "set oom_score_adj");
	}
	if ((r = sync_send(sp->sync_parent, SYNC_GO, NULL, -1)) < 0)
		return vsl_error_errno(err, -r, "start container process");
	/* Not sent when the child has failed and gone: its error is read below. */
	if (sp->cgroups_late) {
		if (cgroup_create_rest(sp->cg, sp->res, err) < 0)
			return -1;
		sync_send(sp->sync_parent, SYNC_CGROUPS, NULL, -1);
	}

	sp->state.pid = sp->pid;
	for (;;) {
		enum sync_type type;
		_cleanup_free_ char *text = NULL;
		int fd = -1;
		r = sync_recv(sp->sync_parent, &type, &text, &fd);
		if (r == -EPIPE)
			return vsl_error_set(err, "container process exited during setup");
		if (r < 0)
			return vsl_error_errno(err, -r, "receive from container process");
		switch (type) {
		case SYNC_ERROR:
			return sync_error_from(text, err);
		case SYNC_CONSOLE:
			closep(&sp->master);
			sp->master = fd;
			break;
		case SYNC_HOOKS: {
			_cleanup_free_ char *st = rt_hook_state(&sp->state, RT_CREATING, c);
			if (st == NULL)
				return vsl_error_errno(err, ENOMEM, "hook state");
			if (hooks_run("prestart", c->hooks.list[HOOK_PRESTART], c->hooks.count[HOOK_PRESTART],
			              st, err) < 0 ||
			    hooks_run("createRuntime", c->hooks.list[HOOK_CREATE_RUNTIME],
			              c->hooks.count[HOOK_CREATE_RUNTIME], st, err) < 0)
				return -1;
			_cleanup_free_ char *created = rt_hook_state(&sp->state, RT_CREATED, c);
			_cleanup_free_ char *both = NULL;
			if (created == NULL || asprintf(&both, "%s\n%s", st, created) < 0)
				return vsl_error_errno(err, ENOMEM, "hook state");
			if ((r = sync_send(sp->sync_parent, SYNC_HOOKS_DONE, both, -1)) < 0)
				return vsl_error_errno(err, -r, "resume container process");
			break;
		}
		case SYNC_READY:
			return 0;
		default:
			return vsl_error_set(err, "container process: unexpected message %d", type);
		}
	}
}

int rt_write_pid_file(const char *path, pid_t pid, struct vsl_error **err)
{
	_cleanup_free_ char *abs = NULL;
	char text[32];
	int n = snprintf(text, sizeof(text), "%d", (int)pid);
	_cleanup_free_ char *dir = strdup(path);
	if (dir == NULL)
		return vsl_error_errno(err, ENOMEM, "pid file");
	char *slash = strrchr(dir, '/');
	const char *name = path;
	_cleanup_close_ int dfd = AT_FDCWD;
	if (slash) {
		*slash = '\0';
		name = slash + 1;
		dfd = open(slash == dir ? "/" : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			return vsl_error_errno(err, errno, "open directory of pid file '%s'", path);
	}
	if (write_file_atomic_at(dfd, name, text, (size_t)n, 0644, err) < 0)
		return vsl_error_prefix(err, "write pid file");
	return 0;
}

static void wait_exit(int pidfd, int timeout_ms);

/* Undo a failed create: nothing of it may stay behind. */
static void spawn_abort(struct spawn *sp)
{
	if (sp->pidfd >= 0) {
		syscall(SYS_pidfd_send_signal, sp->pidfd, SIGKILL, NULL, 0);
		siginfo_t si;
		/* Not our child when the intermediate of userns_first made it. */
		if (waitid(P_PIDFD, (id_t)sp->pidfd, &si, WEXITED) < 0 && errno == ECHILD)
			wait_exit(sp->pidfd, 10000);
	}
	/* An init orphaned by an intermediate that was killed. */
	if (sp->cg && sp->ns.userns_first)
		cgroup_kill_all(sp->cg, SIGKILL, NULL);
	if (sp->cg)
		cgroup_destroy(sp->cg, NULL);
	if (sp->made_dir && sp->rootfd >= 0)
		rm_rf_at(sp->rootfd, sp->opts->id);
}

/* runc's default device rules, after the config's own: every container may
 * mknod, and use the devices that make a usable /dev. A config with no rules
 * at all restricts nothing and gets none. */
static const struct oci_device_rule default_device_rules[] = {
    {.allow = true, .type = 'c', .major = -1, .minor = -1, .access = "m"},
    {.allow = true, .type = 'b', .major = -1, .minor = -1, .access = "m"},
    {.allow = true, .type = 'c', .major = 1, .minor = 3, .access = "rwm"},    /* null */
    {.allow = true, .type = 'c', .major = 1, .minor = 5, .access = "rwm"},    /* zero */
    {.allow = true, .type = 'c', .major = 1, .minor = 7, .access = "rwm"},    /* full */
    {.allow = true, .type = 'c', .major = 5, .minor = 0, .access = "rwm"},    /* tty */
    {.allow = true, .type = 'c', .major = 1, .minor = 9, .access = "rwm"},    /* urandom */
    {.allow = true, .type = 'c', .major = 1, .minor = 8, .access = "rwm"},    /* random */
    {.allow = true, .type = 'c', .major = 136, .minor = -1, .access = "rwm"}, /* the ptys */
    {.allow = true, .type = 'c', .major = 5, .minor = 2, .access = "rwm"},    /* ptmx */
};

/* The resources to apply: the config's, with the default rules and one
 * allow rule per spec device added. *ret_rules is owned by the caller. */
static int effective_resources(const struct oci_config *c, struct oci_resources *ret,
                               struct oci_device_rule **ret_rules)
{
	*ret = c->resources;
	*ret_rules = NULL;
	if (c->resources.n_devices == 0)
		return 0;
	size_t n = c->resources.n_devices + c->n_devices + ARRAY_SIZE(default_device_rules);
	struct oci_device_rule *rules = calloc(n, sizeof(*rules));
	if (rules == NULL)
		return -ENOMEM;
	size_t k = 0;
	for (size_t i = 0; i < c->resources.n_devices; i++)
		rules[k++] = c->resources.devices[i];
	for (size_t i = 0; i < c->n_devices; i++) {
		const struct oci_device *d = &c->devices[i];
		if (d->type == 'p')
			continue;
		rules[k++] = (struct oci_device_rule){.allow = true,
		                                      .type = d->type == 'b' ? 'b' : 'c',
		                                      .major = d->major,
		                                      .minor = d->minor,
		                                      .access = "rwm"};
	}
	for (size_t i = 0; i < ARRAY_SIZE(default_device_rules); i++)
		rules[k++] = default_device_rules[i];
	ret->devices = rules;
	ret->n_devices = k;
	*ret_rules = rules;
	return 0;
}

static int spawn_container(const struct rt_context *ctx, struct spawn *sp, struct vsl_error **err)
{
	const struct rt_create_opts *o = sp->opts;
	_cleanup_free_ struct oci_device_rule *rules = NULL;
	if (state_check_id(o->id, err) < 0 || load_bundle(ctx, sp, err) < 0)
		return -1;
	if (make_state_dir(sp, ctx, err) < 0)
		goto fail;
	struct oci_resources res;
	if (effective_resources(sp->config, &res, &rules) < 0) {
		vsl_error_errno(err, ENOMEM, "device rules");
		goto fail;
	}
	sp->res = sp->config->has_resources ? &res : NULL;
	sp->cgroups_late = !sp->config->namespaces[NS_USER].present;
	if (cgroup_open(sp->config->cgroups_path, o->id, ctx->systemd_cgroup, &sp->cg, err) < 0 ||
	    (sp->cgroups_late ? cgroup_create_for_clone(sp->cg, sp->res, err)
	                      : cgroup_create(sp->cg, sp->res, err)) < 0)
		goto fail;
	if (o->console_socket && console_socket_connect(o->console_socket, &sp->console_fd, err) < 0)
		goto fail;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		vsl_error_errno(err, errno, "socketpair");
		goto fail;
	}
	sp->sync_parent = sv[0];
	sp->sync_child = sv[1];

	sp->state = (struct rt_state){
	    .id = strdup(o->id),
	    .bundle = strdup(sp->bundle),
	    .rootfs = strdup(sp->rootfs),
	    .created = rt_now_rfc3339(),
	    .cgroup_path = strdup(cgroup_path(sp->cg)),
	    .owner = getuid(),
	};

	if (ns_plan_open(&sp->ns, sp->config, err) < 0 ||
	    (o->before_clone && o->before_clone(o->userdata, err) < 0))
		goto fail;
	int r = ns_plan_enter(&sp->ns, sp->config, err);
	int cloned = r < 0 ? -1 : clone_child(sp, err);
	if (ns_plan_leave(&sp->ns, r < 0 || cloned < 0 ? NULL : err) < 0 || r < 0 || cloned < 0)
		goto fail;
	closep(&sp->sync_child);
	sp->sync_child = -1;
	/* A foreground run starts as soon as the init is ready: the byte waits
	 * in the fifo, and our bookkeeping below runs alongside its exec. */
	if (sp->foreground && write(sp->fifo_fd, "0", 1) != 1) {
		vsl_error_errno(err, errno, "start container '%s'", o->id);
		goto fail;
	}
	closep(&sp->fifo_fd);
	sp->fifo_fd = -1;
	closep(&sp->console_fd);
	sp->console_fd = -1;

	if (parent_handshake(sp, err) < 0)
		goto fail;
	if (proc_start_time(sp->pid, &sp->state.start_time) < 0) {
		vsl_error_set(err, "container process exited during setup");
		goto fail;
	}
	if (state_save(sp->dirfd, &sp->state, err) < 0)
		goto fail;
	if (o->pid_file && rt_write_pid_file(o->pid_file, sp->pid, err) < 0)
		goto fail;
	return 0;
fail:
	spawn_abort(sp);
	return -1;
}

int rt_create(const struct rt_context *ctx, const struct rt_create_opts *o, struct vsl_error **err)
{
	struct spawn sp;
	spawn_init(&sp, o);
	int r = spawn_container(ctx, &sp, err);
	spawn_clear(&sp);
	return r;
}

/* ---- operations on an existing container ---------------------------------- */

int rt_open(const struct rt_context *ctx, const char *id, struct rt_handle *h, struct vsl_error **err)
{
	*h = (struct rt_handle){.rootfd = -1, .dirfd = -1};
	struct vsl_error *root_err = NULL;
	int r = state_root_open(ctx->root, false, &h->rootfd, &root_err);
	if (r < 0) {
		bool missing = vsl_error_code(root_err) == -ENOENT;
		if (err && *err == NULL && !missing)
			*err = root_err;
		else
			vsl_error_free(root_err);
		return missing ? vsl_error_set_code(err, ENOENT, "container does not exist") : r;
	}
	if (state_dir_open(h->rootfd, id, &h->dirfd, err) < 0 || state_load(h->dirfd, &h->state, err) < 0) {
		rt_handle_clear(h);
		return -1;
	}
	if (h->state.cgroup_path && cgroup_open(h->state.cgroup_path, id, false, &h->cg, err) < 0) {
		rt_handle_clear(h);
		return -1;
	}
	bool frozen = false;
	if (h->cg)
		cgroup_is_frozen(h->cg, &frozen, NULL);
	h->status = state_status(h->dirfd, &h->state, frozen);
	return 0;
}

void rt_handle_clear(struct rt_handle *h)
{
	closep(&h->rootfd);
	closep(&h->dirfd);
	h->rootfd = h->dirfd = -1;
	cgroup_free(h->cg);
	h->cg = NULL;
	state_clear(&h->state);
}

/* `c`: the container's config when the caller has it, else it is loaded. */
static int run_poststart(const struct rt_handle *h, const struct oci_config *c, struct vsl_error **err)
{
	_cleanup_config_ struct oci_config *loaded = NULL;
	if (c == NULL) {
		if (oci_config_load(h->dirfd, CONFIG_COPY, &loaded, err) < 0)
			return -1;
		c = loaded;
	}
	if (c->hooks.count[HOOK_POSTSTART] == 0)
		return 0;
	_cleanup_free_ char *st = rt_hook_state(&h->state, RT_RUNNING, c);
	_cleanup_error_ struct vsl_error *herr = NULL;
	/* The spec: a failing poststart hook is logged, the container keeps running. */
	if (hooks_run("poststart", c->hooks.list[HOOK_POSTSTART], c->hooks.count[HOOK_POSTSTART], st, &herr) <
	    0)
		log_warn("%s", vsl_error_message(herr));
	return 0;
}

/* Lets a created container's init exec (unless the byte is in the fifo
 * already: written); `c` as in run_poststart(). */
static int start_created(const struct rt_handle *h, const struct oci_config *c, bool written,
                         struct vsl_error **err)
{
	_cleanup_close_ int fd =
	    written ? -EBADF : openat(h->dirfd, EXEC_FIFO, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (!written && fd < 0)
		return vsl_error_errno(err, errno, "start container '%s'", h->state.id);
	if (!written && write(fd, "0", 1) != 1)
		return vsl_error_errno(err, errno, "start container '%s'", h->state.id);
	if (unlinkat(h->dirfd, EXEC_FIFO, 0) < 0 && errno != ENOENT)
		return vsl_error_errno(err, errno, "remove exec fifo");
	return run_poststart(h, c, err);
}

int rt_start(const struct rt_context *ctx, const char *id, struct vsl_error **err)
{
	_cleanup_(rt_handle_clear) struct rt_handle h;
	if (rt_open(ctx, id, &h, err) < 0)
		return -1;
	if (h.status == RT_STOPPED)
		return vsl_error_set(err, "cannot start a container that has stopped");
	if (h.status != RT_CREATED)
		return vsl_error_set(err, "cannot start an already running container");
	return start_created(&h, NULL, false, err);
}

int rt_state(const struct rt_context *ctx, const char *id, char **ret_json, struct vsl_error **err)
{
	_cleanup_(rt_handle_clear) struct rt_handle h;
	if (rt_open(ctx, id, &h, err) < 0)
		return -1;
	_cleanup_config_ struct oci_config *c = NULL;
	oci_config_load(h.dirfd, CONFIG_COPY, &c, NULL);

	json_t *o = state_document(&h.state, h.status, c);
	if (o == NULL)
		return vsl_error_errno(err, ENOMEM, "state");
	json_object_set_new(o, "rootfs", json_string(h.state.rootfs));
	json_object_set_new(o, "created", json_string(h.state.created));
	json_object_set_new(o, "owner", json_string(""));
	*ret_json = json_dumps(o, JSON_INDENT(2));
	json_decref(o);
	return *ret_json ? 0 : vsl_error_errno(err, ENOMEM, "state");
}

int rt_kill(const struct rt_context *ctx, const char *id, int sig, bool all, struct vsl_error **err)
{
	_cleanup_(rt_handle_clear) struct rt_handle h;
	if (rt_open(ctx, id, &h, err) < 0)
		return -1;
	if (all && h.cg) {
		if (cgroup_kill_all(h.cg, sig, err) < 0)
			return -1;
		return 0;
	}
	if (h.status == RT_STOPPED)
		return vsl_error_set(err, "container not running");
	_cleanup_close_ int pidfd = state_pidfd(&h.state);
	if (pidfd < 0)
		return vsl_error_set(err, "container not running");
	if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
		return vsl_error_errno(err, errno, "kill container '%s'", id);
	return 0;
}

/* Waits (bounded) until the process behind pidfd has exited. */
static void wait_exit(int pidfd, int timeout_ms)
{
	struct pollfd p = {.fd = pidfd, .events = POLLIN};
	while (poll(&p, 1, timeout_ms) < 0 && errno == EINTR)
		;
}

/* rt_destroy() with the config at hand (NULL: no poststop hooks to run). */
static int destroy_opened(struct rt_handle *h, const struct oci_config *c, struct vsl_error **err)
{
	if (h->cg) {
		_cleanup_error_ struct vsl_error *kerr = NULL;
		cgroup_kill_all(h->cg, SIGKILL, &kerr);
		bool frozen = false;
		if (cgroup_is_frozen(h->cg, &frozen, NULL) == 0 && frozen)
			cgroup_freeze(h->cg, false, NULL);
	}
	_cleanup_close_ int pidfd = state_pidfd(&h->state);
	if (pidfd >= 0) {
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		wait_exit(pidfd, 10000);
	}
	if (h->cg && cgroup_destroy(h->cg, err) < 0)
		return vsl_error_prefix(err, "delete container '%s'", h->state.id);
	if (c && c->hooks.count[HOOK_POSTSTOP]) {
		_cleanup_free_ char *st = rt_hook_state(&h->state, RT_STOPPED, c);
		_cleanup_error_ struct vsl_error *herr = NULL;
		if (hooks_run("poststop", c->hooks.list[HOOK_POSTSTOP], c->hooks.count[HOOK_POSTSTOP], st,
		              &herr) < 0)
			log_warn("%s", vsl_error_message(herr));
	}
	int r = rm_rf_at(h->rootfd, h->state.id);
	if (r < 0)
		return vsl_error_errno(err, -r, "remove state of '%s'", h->state.id);
	return 0;
}

int rt_destroy(struct rt_handle *h, struct vsl_error **err)
{
	_cleanup_config_ struct oci_config *c = NULL;
	oci_config_load(h->dirfd, CONFIG_COPY, &c, NULL);
	return destroy_opened(h, c, err);
}

int rt_delete(const struct rt_context *ctx, const char *id, bool force, struct vsl_error **err)
{
	_cleanup_(rt_handle_clear) struct rt_handle h;
	if (rt_open(ctx, id, &h, err) < 0)
		return -1;
	if (!force && (h.status == RT_RUNNING || h.status == RT_PAUSED))
		return vsl_error_set(err, "cannot delete container %s that is not stopped: %s", id,
		                     rt_status_name(h.status));
	return rt_destroy(&h, err);
}

int rt_pause(const struct rt_context *ctx, const char *id, struct vsl_error **err)
{
	_cleanup_(rt_handle_clear) struct rt_handle h;
	if (rt_open(ctx, id, &h, err) < 0)
		return -1;
	if (h.status != RT_RUNNING && h.status != RT_CREATED)
		return vsl_error_set(err, "container not running");
	return cgroup_freeze(h.cg, true, err);
}

int rt_resume(const struct rt_context *ctx, const char *id, struct vsl_error **err)
{
	_cleanup_(rt_handle_clear) struct rt_handle h;
	if (rt_open(ctx, id, &h, err) < 0)
		return -1;
	if (h.status != RT_PAUSED)
		return vsl_error_set(err, "container not paused");
	return cgroup_freeze(h.cg, false, err);
}

int rt_ps(const struct rt_context *ctx, const char *id, pid_t **ret, size_t *ret_n, struct vsl_error **err)
{
	_cleanup_(rt_handle_clear) struct rt_handle h;
	if (rt_open(ctx, id, &h, err) < 0)
		return -1;
	if (h.status == RT_STOPPED) {
		*ret = NULL;
		*ret_n = 0;
		return 0;
	}
	return cgroup_pids(h.cg, ret, ret_n, err);
}

int rt_update(const struct rt_context *ctx, const char *id, const struct oci_resources *res,
              struct vsl_error **err)
{
	_cleanup_(rt_handle_clear) struct rt_handle h;
	if (rt_open(ctx, id, &h, err) < 0)
		return -1;
	if (h.status == RT_STOPPED)
		return vsl_error_set(err, "container not running");
	return cgroup_update(h.cg, res, err);
}

int rt_list(const struct rt_context *ctx, struct rt_list_entry **ret, size_t *ret_n, struct vsl_error **err)
{
	*ret = NULL;
	*ret_n = 0;
	_cleanup_closedir_ DIR *d = opendir(ctx->root);
	if (d == NULL)
		return errno == ENOENT ? 0 : vsl_error_errno(err, errno, "open state root '%s'", ctx->root);
	struct rt_list_entry *list = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		struct rt_handle h;
		if (rt_open(ctx, de->d_name, &h, NULL) < 0)
			continue; /* being created or deleted right now */
		struct rt_list_entry *grown = realloc(list, (n + 1) * sizeof(*list));
		if (grown == NULL) {
			rt_handle_clear(&h);
			rt_list_free(list, n);
			return vsl_error_errno(err, ENOMEM, "list");
		}
		list = grown;
		list[n].state = h.state;
		list[n].status = h.status;
		h.state = (struct rt_state){0};
		rt_handle_clear(&h);
		n++;
	}
	*ret = list;
	*ret_n = n;
	return 0;
}

void rt_list_free(struct rt_list_entry *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		state_clear(&l[i].state);
	free(l);
}

/* ---- run: create + start, and in the foreground wait --------------------- */

int rt_wait_status(int pidfd)
{
	siginfo_t si = {0};
	while (waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED) < 0) {
		if (errno != EINTR)
			return 255;
	}
	if (si.si_code == CLD_EXITED)
		return si.si_status;
	return 128 + si.si_status;
}

/* Forwards the signals a user sends to `run` on to the container, until it exits. */
void rt_block_forwarded_signals(sigset_t *ret_mask, sigset_t *ret_old)
{
	static const int forwarded[] = {SIGHUP,  SIGINT,  SIGQUIT,  SIGTERM,
	                                SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT};
	sigemptyset(ret_mask);
	for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++)
		sigaddset(ret_mask, forwarded[i]);
	sigprocmask(SIG_BLOCK, ret_mask, ret_old);
}

int rt_forward_signals_until_exit(int pidfd)
{
	sigset_t mask, old;
	rt_block_forwarded_signals(&mask, &old);
	_cleanup_close_ int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	for (;;) {
		struct pollfd p[2] = {{.fd = pidfd, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == sizeof(si))
				syscall(SYS_pidfd_send_signal, pidfd, (int)si.ssi_signo, NULL, 0);
		}
		if (p[0].revents & POLLIN)
			break;
	}
	int status = rt_wait_status(pidfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return status;
}

int rt_run(const struct rt_context *ctx, const struct rt_create_opts *o, bool detach, int *ret_status,
           struct vsl_error **err)
{
	struct spawn sp;
	spawn_init(&sp, o);
	sp.foreground = !detach;
	/* Held from before the start (which, in the foreground, comes as soon
	 * as the init is ready): a signal that comes as soon as the container
	 * runs is forwarded to it, not taken by us. */
	sigset_t forwarded, saved;
	if (!detach)
		rt_block_forwarded_signals(&forwarded, &saved);
	int r = spawn_container(ctx, &sp, err);
	if (r < 0) {
		if (!detach)
			sigprocmask(SIG_SETMASK, &saved, NULL);
		spawn_clear(&sp);
		return r;
	}
	/* What start and delete would read back from the state dir, we hold:
	 * a view of it, owned by sp (never rt_handle_clear'd). */
	struct rt_handle h = {
	    .rootfd = sp.rootfd, .dirfd = sp.dirfd, .state = sp.state, .cg = sp.cg, .status = RT_CREATED};
	r = start_created(&h, sp.config, sp.foreground, err);
	if (r < 0 || detach) {
		if (r < 0) {
			spawn_abort(&sp);
		}
		if (!detach)
			sigprocmask(SIG_SETMASK, &saved, NULL);
		spawn_clear(&sp);
		*ret_status = 0;
		return r;
	}
	if (o->on_started)
		o->on_started(o->userdata, sp.pid);
	if (sp.master >= 0 && console_proxy(sp.master, sp.pidfd, o->on_detach ? o->detach_keys : NULL))
		o->on_detach(o->userdata, sp.master, sp.pid);
	*ret_status = rt_forward_signals_until_exit(sp.pidfd);
	sigprocmask(SIG_SETMASK, &saved, NULL);
	if (o->on_exited)
		o->on_exited(o->userdata);

	/* Unless `delete --force` took it meanwhile (and the id was reused). */
	struct stat ours, now;
	if (fstat(sp.dirfd, &ours) < 0 || fstatat(sp.rootfd, o->id, &now, AT_SYMLINK_NOFOLLOW) < 0 ||
	    ours.st_ino != now.st_ino || ours.st_dev != now.st_dev)
		r = vsl_error_set_code(err, ENOENT, "container does not exist");
	else
		r = destroy_opened(&h, sp.config, err);
	spawn_clear(&sp);
	return r;
}
