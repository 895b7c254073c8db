/* Container lifecycle: create, start (foreground or under a monitor), the
 * cleanup after an exit, stop, kill, wait, remove; and the reconciliation of
 * records with the runtime's state.
 *
 * Files of a container:
 *   <root>/containers/<id>/        container.log (made with the first log)
 *   <root>/overlay/<id>/           its rw layer and root mount (storage/overlay)
 *   <runroot>/containers/<id>/     config.json (the OCI bundle), hostname, hosts,
 *                                  resolv.conf, all written anew at each start;
 *                                  exit file and attach socket of its monitor
 *   <runroot>/runtime/<id>/        the OCI runtime's state
 * What is remade at every start lives on the runroot (a tmpfs as a rule):
 * on a disk, each file made and deleted per `run --rm` costs an inode's
 * allocation, and with the discard mount option a synchronous discard.
 */
#include "engine/containers.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/container-store.h"
#include "engine/create-config.h"
#include "engine/engine-internal.h"
#include "engine/engine.h"
#include "engine/etc-files.h"
#include "engine/names.h"
#include "engine/networks.h"
#include "engine/oci-spec.h"
#include "engine/volumes.h"
#include "engine/output-tee.h"
#include "image/images.h"
#include "image/manifest.h"
#include "monitor/protocol.h"
#include "runtime/cloned-binary.h"
#include "runtime/container.h"
#include "storage/init-layer.h"
#include "storage/overlay.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/random.h"
#include "util/signal-name.h"
#include "util/strv.h"
#include "util/thread.h"

#define CONTAINER_LOG        "container.log"
#define DEFAULT_STOP_TIMEOUT 10

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct rt_context runtime_ctx(const struct engine *e)
{
	return (struct rt_context){.root = e->runtime_root};
}

/* parent/<id>, made if missing; ret_fd may be NULL. */
static int container_subdir(const char *parent, const char *id, int *ret_fd, struct vsl_error **err)
{
	if (mkdir(parent, 0700) < 0 && errno != EEXIST)
		return vsl_error_errno(err, errno, "create '%s'", parent);
	_cleanup_close_ int dir = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return vsl_error_errno(err, errno, "open '%s'", parent);
	if (mkdirat(dir, id, 0700) < 0 && errno != EEXIST)
		return vsl_error_errno(err, errno, "create the directory of container %s", id);
	if (ret_fd == NULL)
		return 0;
	int fd = openat(dir, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return vsl_error_errno(err, errno, "open the directory of container %s", id);
	*ret_fd = fd;
	return 0;
}

/* <root>/containers/<id>: only what outlives a start, the log. */
static int log_dir_make(struct engine *e, const char *id, struct vsl_error **err)
{
	_cleanup_free_ char *parent = NULL;
	if (asprintf(&parent, "%s/containers", e->root) < 0)
		return vsl_error_errno(err, ENOMEM, "create container directory");
	return container_subdir(parent, id, NULL, err);
}

static char *container_path(struct engine *e, const char *id, const char *file)
{
	char *p = NULL;
	if (asprintf(&p, "%s/containers/%s%s%s", e->root, id, file ? "/" : "", file ? file : "") < 0)
		return NULL;
	return p;
}

static char *run_path(struct engine *e, const char *id, const char *file)
{
	char *p = NULL;
	if (asprintf(&p, "%s/%s%s%s", e->containers_run, id, file ? "/" : "", file ? file : "") < 0)
		return NULL;
	return p;
}

/* A container's directories: its layer, logs and run files. */
static void remove_dirs(struct engine *e, const char *id)
{
	overlay_remove(e->root_dirfd, id, NULL);
	_cleanup_close_ int dir = openat(e->root_dirfd, "containers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir >= 0)
		rm_rf_at(dir, id);
	_cleanup_close_ int run = open(e->containers_run, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (run >= 0)
		rm_rf_at(run, id);
}

/* Everything of a container but its record and directories. */
static void remove_state(struct engine *e, const struct container_create *c, const char *id)
{
	struct rt_context ctx = runtime_ctx(e);
	rt_delete(&ctx, id, true, NULL);
	engine_network_release(e, c, id);
}

/* Everything of a container but its record. Best effort: used on failure
 * paths and by rm, where a missing piece is not an error. c: its create
 * config, or NULL when not at hand. */
static void remove_files(struct engine *e, const struct container_create *c, const char *id)
{
	remove_state(e, c, id);
	remove_dirs(e, id);
}

/* The directories of a --rm run go on a thread (file system work alone) as
 * soon as it exited, while the runtime and the database forget the container;
 * joined before its record goes, which is always last. */
struct dirs_removal {
	struct engine *e;
	const char *id;
	pthread_t thread;
	bool started;
};

static void *remove_dirs_thread(void *arg)
{
	struct dirs_removal *d = arg;
	remove_dirs(d->e, d->id);
	return NULL;
}

static void dirs_removal_start(struct dirs_removal *d)
{
	d->started = thread_start(&d->thread, remove_dirs_thread, d) == 0;
}

/* A --rm container goes: its state, anonymous volumes and directories (on
 * d's thread if that started), then its record. */
static int remove_run(struct engine *e, const struct container_create *c, const char *id,
                      struct dirs_removal *d, struct vsl_error **err)
{
	remove_state(e, c, id);
	volumes_remove_anonymous(e, id, NULL);
	if (d->started)
		pthread_join(d->thread, NULL);
	else
		remove_dirs(e, id);
	return container_store_remove(e->db, id, err);
}

static bool name_taken(const char *name, void *userdata)
{
	return container_store_name_taken(userdata, name);
}

/* ---- create ---- */

static int check_bind_sources(const struct container_create *c, struct vsl_error **err)
{
	struct create_mount_spec *m = NULL;
	size_t n = 0;
	int r = create_mounts_list(c, &m, &n, err);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		struct stat st;
		if (m[i].kind == CREATE_MOUNT_BIND && stat(m[i].source, &st) < 0)
			r = vsl_error_set_code(
			    err, ENOENT,
			    "invalid mount config for type \"bind\": bind source path does not exist: %s",
			    m[i].source);
	}
	create_mount_specs_free(m, n);
	return r;
}

static int write_etc_files(int dirfd, const struct container_create *c, const char *id,
                           struct vsl_error **err)
{
	char short_id[13];
	snprintf(short_id, sizeof(short_id), "%.12s", id);
	const char *mode = c->host.network_mode;
	struct etc_files_opts o = {
	    .hostname = c->hostname && *c->hostname ? c->hostname : short_id,
	    .domainname = c->domainname,
	    .extra_hosts = c->host.extra_hosts,
	    .dns = c->host.dns && c->host.dns[0] ? c->host.dns : NULL,
	    .dns_search = c->host.dns_search && c->host.dns_search[0] ? c->host.dns_search : NULL,
	    .dns_options = c->host.dns_options && c->host.dns_options[0] ? c->host.dns_options : NULL,
	    .host_network = mode && strcmp(mode, "host") == 0,
	};
	return etc_files_write(dirfd, &o, err);
}

int containers_create(struct engine *e, const char *body, size_t len, const char *name, char **ret_id,
                      struct vsl_error **err)
{
	_cleanup_container_create_ struct container_create *c = NULL;
	int r = container_create_parse(body, len, &c, err);
	if (r < 0 || (r = container_create_validate(c, err)) < 0)
		return r;
	if (c->image == NULL || *c->image == '\0')
		return vsl_error_set_code(err, EINVAL, "no image given");
	if (name && !names_valid(name))
		return vsl_error_set_code(
		    err, EINVAL, "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
		    name);
	_cleanup_free_ char *image_id = NULL;
	if ((r = images_resolve(e->images, c->image, &image_id, err)) < 0)
		return r;
	if ((r = check_bind_sources(c, err)) < 0)
		return r;

	char id[65];
	if ((r = random_hex(id, 32)) < 0)
		return vsl_error_errno(err, -r, "make a container id");
	_cleanup_free_ char *generated = name ? NULL : names_generate(name_taken, e->db);
	_cleanup_free_ char *config = container_create_to_json(c);
	if ((name == NULL && generated == NULL) || config == NULL)
		return vsl_error_errno(err, ENOMEM, "create container");
	struct container_record rec = {
	    .id = id,
	    .name = (char *)(name ? (name[0] == '/' ? name + 1 : name) : generated),
	    .image_id = image_id,
	    .image_name = c->image,
	    .config = config,
	    .created = now_ns(),
	    .state = CONTAINER_CREATED,
	};
	if ((r = container_store_insert(e->db, &rec, err)) < 0)
		return r;

	/* From here on, a failure takes back everything made so far. */
	r = overlay_create(e->root_dirfd, id, err);
	_cleanup_image_config_ struct image_config *image = NULL;
	if (r >= 0 && (r = images_get_config(e->images, image_id, &image, err)) >= 0)
		r = volumes_attach(e, id, c, image, err);
	if (r < 0) {
		remove_files(e, c, id);
		container_store_remove(e->db, id, NULL);
		return vsl_error_prefix(err, "create container");
	}
	if ((*ret_id = strdup(id)) == NULL)
		return vsl_error_errno(err, ENOMEM, "create container");
	return 0;
}

/* ---- start: the root filesystem and the bundle ---- */

struct started {
	struct engine *e;
	struct container_record *rec;
	const struct container_create *c;
	struct engine_network_wiring *wiring; /* joined once the init is cloned */
	struct dirs_removal *removal;         /* --rm: started once it exited */
	int detached_fd;                      /* tells the waiting parent "detached" (see run_detachable) */
	struct output_tee *tee;
	int r;
	struct vsl_error *err;
};

static char *init_path(void);

/* Mounts the root, writes config.json; returns the bundle path. With
 * ret_wiring, the network is wired on a thread meanwhile, which the caller
 * joins (engine_network_wire_join) before the container runs. */
static int prepare_bundle(struct engine *e, const struct container_record *rec,
                          const struct container_create *c, char **ret_bundle,
                          struct engine_network_wiring **ret_wiring, struct vsl_error **err)
{
	_cleanup_image_config_ struct image_config *image = NULL;
	_cleanup_strv_ char **lowers = NULL;
	int r = images_get_config(e->images, rec->image_id, &image, err);
	if (r < 0 || (r = images_layer_paths(e->images, rec->image_id, &lowers, err)) < 0)
		return r;
	/* The mountpoints the image lacks come from its init layer, on top. */
	_cleanup_free_ char *init_layer = NULL;
	if ((r = init_layer_ensure(lowers, &init_layer, err)) < 0)
		return r;
	if (init_layer && (r = strv_prepend(&lowers, init_layer)) < 0)
		return vsl_error_errno(err, -r, "start");
	_cleanup_free_ char *rootfs = NULL;
	if (overlay_is_mounted(e->root_dirfd, rec->id))
		overlay_unmount(e->root_dirfd, rec->id, NULL);
	/* A container thrown away at its exit needs no syncs of its layer. */
	struct overlay_mount_opts mo = {.volatile_ = c->host.auto_remove};
	if ((r = overlay_mount(e->root_dirfd, rec->id, lowers, &mo, &rootfs, err)) < 0)
		return r;
	_cleanup_close_ int rootfd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return vsl_error_errno(err, errno, "open '%s'", rootfs);
	_cleanup_close_ int dir = -EBADF;
	if ((r = container_subdir(e->containers_run, rec->id, &dir, err)) < 0 ||
	    (r = write_etc_files(dir, c, rec->id, err)) < 0)
		return r;
	_cleanup_free_ char *bundle = run_path(e, rec->id, NULL);
	_cleanup_free_ char *hostname = run_path(e, rec->id, "hostname");
	_cleanup_free_ char *hosts = run_path(e, rec->id, "hosts");
	_cleanup_free_ char *resolv = run_path(e, rec->id, "resolv.conf");
	if (bundle == NULL || hostname == NULL || hosts == NULL || resolv == NULL)
		return vsl_error_errno(err, ENOMEM, "start");
	struct oci_spec_input in = {
	    .create = c,
	    .image = image,
	    .id = rec->id,
	    .name = rec->name,
	    .rootfs = rootfs,
	    .rootfs_dirfd = rootfd,
	    .hostname_path = hostname,
	    .hosts_path = hosts,
	    .resolv_conf_path = resolv,
	};
	_cleanup_free_ char *init = NULL;
	if (c->host.has_init && c->host.init)
		in.init_path = init = init_path();
	struct oci_spec_volume *volumes = NULL;
	if ((r = volumes_prepare(e, rec->id, rootfd, &volumes, &in.n_volumes, err)) < 0)
		return r;
	in.volumes = volumes;
	/* Wired before the container runs: it starts with its network up. From
	 * here until the join, the database is the wiring thread's. */
	_cleanup_free_ char *netns = NULL;
	struct engine_network_wiring *wiring = NULL;
	r = engine_network_setup(e, rec, c, image, ret_wiring ? &wiring : NULL, &netns, err);
	in.ns_paths[NS_NETWORK] = netns;
	_cleanup_free_ char *json = NULL;
	if (r >= 0)
		r = oci_spec_build(&in, &json, err);
	oci_spec_volumes_free(volumes, in.n_volumes);
	if (r >= 0)
		r = write_file_atomic_at(dir, "config.json", json, strlen(json), 0600, err);
	if (r < 0) {
		engine_network_wire_join(wiring, NULL);
		return r;
	}
	*ret_bundle = TAKE_PTR(bundle);
	if (ret_wiring)
		*ret_wiring = wiring;
	return 0;
}

int containers_create_config(const struct container_record *rec, struct container_create **ret,
                             struct vsl_error **err)
{
	int r = container_create_parse(rec->config, strlen(rec->config), ret, err);
	return r < 0 ? vsl_error_prefix(err, "container %.12s", rec->id) : 0;
}

static int record_exit(struct engine *e, struct container_record *rec, int status, struct vsl_error **err)
{
	rec->state = CONTAINER_EXITED;
	rec->pid = 0;
	rec->monitor_pid = 0;
	rec->exit_code = status;
	rec->finished_at = now_ns();
	return container_store_update(e->db, rec, err);
}

/* After a foreground run, or its failure (r < 0) at any step: what the run
 * made goes, and the record tells how it ended, or goes too with --rm. */
static int run_ended(struct engine *e, struct container_record *rec, const struct container_create *c,
                     struct dirs_removal *d, int r, int status, struct vsl_error **err)
{
	if (!d->started)
		overlay_unmount(e->root_dirfd, rec->id, NULL);
	engine_network_teardown(e, c, rec->id);
	volumes_release(e, rec->id);
	if (r < 0) {
		/* Never started: Docker keeps it "created", with the error. */
		free(rec->error);
		rec->error = strdup(vsl_error_message(*err));
		rec->state = rec->started_at ? CONTAINER_EXITED : CONTAINER_CREATED;
		rec->exit_code = containers_start_failure_code(*err);
		if (c->host.auto_remove)
			remove_run(e, c, rec->id, d, NULL);
		else
			container_store_update(e->db, rec, NULL);
		return r;
	}
	if (c->host.auto_remove)
		return remove_run(e, c, rec->id, d, err);
	return record_exit(e, rec, status, err);
}

/* The network was wired while the bundle was written and the runtime began. */
static int before_clone(void *userdata, struct vsl_error **err)
{
	struct started *s = userdata;
	return engine_network_wire_join(TAKE_PTR(s->wiring), err);
}

static void on_exited(void *userdata)
{
	struct started *s = userdata;
	if (s->removal)
		dirs_removal_start(s->removal);
}

static void on_started(void *userdata, pid_t pid)
{
	struct started *s = userdata;
	s->rec->state = CONTAINER_RUNNING;
	s->rec->pid = pid;
	s->rec->started_at = now_ns();
	s->rec->finished_at = 0;
	s->rec->stop_requested = false;
	free(s->rec->error);
	s->rec->error = NULL;
	s->r = container_store_update(s->e->db, s->rec, &s->err);
	output_tee_start(s->tee);
}

static void exec_monitor(struct engine *e, const struct container_record *rec,
                         const struct container_create *c, pid_t pid, int out, int errfd, int in, int master,
                         int ready, struct vsl_error **err);

/* Ctrl-P Ctrl-Q in a foreground `run -it`: this process, the container's
 * parent, becomes its monitor, and the parent that the shell waits for is
 * told to return. */
static void on_detach(void *userdata, int master, pid_t pid)
{
	struct started *s = userdata;
	_cleanup_error_ struct vsl_error *err = NULL;
	s->rec->monitor_pid = getpid();
	container_store_update(s->e->db, s->rec, NULL);
	if (write(s->detached_fd, "D", 1) != 1)
		return;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0)
		dup2(null, STDERR_FILENO);
	exec_monitor(s->e, s->rec, s->c, pid, -1, -1, -1, master, -1, &err);
	/* No monitor: the container must not run unwatched. */
	kill(pid, SIGKILL);
	_exit(125);
}

/* fork() with a pipe from the child to us: the child's pid, 0 in the child;
 * *ret_fd is the pipe's write end in the child, its read end in the parent. */
static pid_t fork_with_pipe(int *ret_fd, struct vsl_error **err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return vsl_error_errno(err, errno, "pipe");
	fflush(stdout);
	fflush(stderr);
	pid_t child = fork();
	if (child < 0) {
		close(p[0]);
		close(p[1]);
		return vsl_error_errno(err, errno, "fork");
	}
	close(p[child == 0 ? 0 : 1]);
	*ret_fd = p[child == 0 ? 1 : 0];
	return child;
}

/* A foreground terminal that can detach: a child does the run, this process
 * waits for it and exits with its status, or with 0 when it detached (the
 * child then is the container's monitor, which only the container's parent
 * can be). Returns in the child only, with *ret_fd to report a detach on. */
static int run_detachable(int *ret_fd, struct vsl_error **err)
{
	int fd;
	pid_t child = fork_with_pipe(&fd, err);
	if (child < 0)
		return (int)child;
	if (child == 0) {
		*ret_fd = fd;
		return 0;
	}
	/* Signals from the terminal go to the child, which forwards them. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	char byte;
	ssize_t n;
	while ((n = read(fd, &byte, 1)) < 0 && errno == EINTR)
		;
	if (n == 1)
		_exit(0);
	int status;
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

static int check_startable(const struct container_record *rec, struct vsl_error **err)
{
	if (rec->state == CONTAINER_RUNNING || rec->state == CONTAINER_PAUSED ||
	    rec->state == CONTAINER_RESTARTING)
		return vsl_error_set_code(err, EBUSY, "container %s is already running", rec->name);
	return 0;
}

int containers_run_attached(struct engine *e, const char *id, const char *detach_keys, int *ret_status,
                            struct vsl_error **err)
{
	_cleanup_container_record_ struct container_record *rec = NULL;
	int r = containers_get(e, id, &rec, err);
	if (r < 0 || (r = check_startable(rec, err)) < 0)
		return r;
	_cleanup_container_create_ struct container_create *c = NULL;
	if ((r = containers_create_config(rec, &c, err)) < 0)
		return r;
	/* A run that can detach forks, which another thread must not see. */
	bool detachable = c->tty && detach_keys && *detach_keys && isatty(STDIN_FILENO);
	_cleanup_free_ char *bundle = NULL;
	struct engine_network_wiring *wiring = NULL;
	struct dirs_removal d = {.e = e, .id = id};
	if ((r = prepare_bundle(e, rec, c, &bundle, detachable ? NULL : &wiring, err)) < 0)
		return run_ended(e, rec, c, &d, r, 0, err);
	/* The runtime keeps no state of a finished run; a leftover of a crash would block the id. */
	struct rt_context ctx = runtime_ctx(e);
	rt_delete(&ctx, id, true, NULL);

	/* Without -i the container reads nothing: /dev/null, as Docker gives it. */
	int saved_stdin = -1;
	if (!c->open_stdin) {
		saved_stdin = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			close(null);
		}
	}
	/* Early only when the init's exit ended every process of the container:
	 * in a pid namespace of its own. */
	bool own_pids = !(c->host.pid_mode && strcmp(c->host.pid_mode, "host") == 0);
	struct started s = {.e = e,
	                    .rec = rec,
	                    .c = c,
	                    .wiring = wiring,
	                    .removal = c->host.auto_remove && own_pids ? &d : NULL,
	                    .detached_fd = -1};
	if (detachable && (r = run_detachable(&s.detached_fd, err)) < 0)
		return r;
	/* Kept containers keep their output for `logs`; a terminal is the user's alone. */
	_cleanup_free_ char *log = container_path(e, id, CONTAINER_LOG);
	if (!c->host.auto_remove && !c->tty && log &&
	    (log_dir_make(e, id, NULL) < 0 || output_tee_prepare(log, &s.tee, NULL) < 0))
		s.tee = NULL;
	struct rt_create_opts o = {.id = id,
	                           .bundle = bundle,
	                           .on_started = on_started,
	                           .before_clone = before_clone,
	                           .on_exited = on_exited,
	                           .userdata = &s,
	                           .detach_keys = detach_keys,
	                           .on_detach = s.detached_fd >= 0 ? on_detach : NULL};
	int status = 0;
	r = rt_run(&ctx, &o, false, &status, err);
	engine_network_wire_join(TAKE_PTR(s.wiring), NULL); /* when the runtime failed before */
	output_tee_finish(s.tee);
	if (saved_stdin >= 0) {
		dup2(saved_stdin, STDIN_FILENO);
		close(saved_stdin);
	}
	vsl_error_free(s.err);
	if ((r = run_ended(e, rec, c, &d, r, status, err)) >= 0)
		*ret_status = status;
	return r;
}

int containers_start_failure_code(const struct vsl_error *err)
{
	const char *msg = err ? vsl_error_message(err) : "";
	int code = err ? -vsl_error_code(err) : 0;
	/* The runtime names a failed exec "exec ..." at the start of its message,
	 * after any context the layers above added. */
	const char *exec = strstr(msg, "exec");
	if (exec == NULL)
		return 125;
	if (code == ENOENT)
		return 127;
	if (code == EACCES || code == ENOEXEC || code == EISDIR || code == EPERM)
		return 126;
	return 125;
}

/* ---- detached: a child that starts the container, then becomes its monitor ---- */

/* The vessel binary as installed: not the read-only copy a command that
 * enters containers re-executes from (runtime/cloned-binary.h). */
static char *self_path(void)
{
	const char *original = cloned_binary_original();
	if (original)
		return strdup(original);
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return NULL;
	self[n] = '\0';
	return strdup(self);
}

/* A helper program (the monitor, the init of --init): $env, else next to
 * vessel when installed side by side, under src/<dir> in a build tree, or
 * in libexec. */
static char *helper_path(const char *env_name, const char *dir, const char *name)
{
	const char *env = getenv(env_name);
	if (env && *env)
		return strdup(env);
	_cleanup_free_ char *self = self_path();
	if (self == NULL)
		return NULL;
	char *slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	for (int i = 0; i < 3; i++) {
		char *p = NULL;
		int k = i == 0   ? asprintf(&p, "%s/%s", self, name)
		        : i == 1 ? asprintf(&p, "%s/src/%s/%s", self, dir, name)
		                 : asprintf(&p, "%s/../libexec/vessel/%s", self, name);
		if (k < 0)
			return NULL;
		if (access(p, X_OK) == 0)
			return p;
		free(p);
	}
	return NULL;
}

static char *monitor_path(void)
{
	return helper_path("VESSEL_MONITOR", "monitor", "vessel-monitor");
}

/* NULL when not installed: then --init is refused with oci-spec's message. */
static char *init_path(void)
{
	return helper_path("VESSEL_INIT", "init", "vessel-init");
}

/* The child's report to the parent: "P<pid>\n" then, once the monitor
 * listens, EOF; or "E<errno> <message>" when the start failed. */
static void report_error(int fd, const struct vsl_error *err)
{
	dprintf(fd, "E%d %s", -vsl_error_code(err), vsl_error_message(err));
}

static int listen_socket(const char *path, struct vsl_error **err)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(addr.sun_path))
		return vsl_error_set(err, "socket path '%s' is too long", path);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return vsl_error_errno(err, errno, "socket");
	unlink(path);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 1) < 0) {
		int e = errno;
		close(fd);
		return vsl_error_errno(err, e, "listen on '%s'", path);
	}
	return fd;
}

static int recv_fd(int sock)
{
	char byte;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr msg = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) <= 0)
		return -1;
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (c == NULL || c->cmsg_type != SCM_RIGHTS)
		return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(c), sizeof(fd));
	return fd;
}

static int log_options(const struct container_create *c, char **ret_size, char **ret_files)
{
	const char *size = NULL, *files = NULL;
	for (size_t i = 0; i < c->host.log_config.n_config; i++) {
		if (strcmp(c->host.log_config.config[i].key, "max-size") == 0)
			size = c->host.log_config.config[i].value;
		else if (strcmp(c->host.log_config.config[i].key, "max-file") == 0)
			files = c->host.log_config.config[i].value;
	}
	*ret_size = NULL;
	*ret_files = NULL;
	if (size) {
		/* Docker's units (k, m, g): bytes for the monitor. */
		char *end;
		double v = strtod(size, &end);
		long long mult = 1;
		if (*end == 'k' || *end == 'K')
			mult = 1024;
		else if (*end == 'm' || *end == 'M')
			mult = 1024 * 1024;
		else if (*end == 'g' || *end == 'G')
			mult = 1024 * 1024 * 1024;
		else if (*end != '\0')
			return -EINVAL;
		if (asprintf(ret_size, "%lld", (long long)(v * (double)mult)) < 0)
			return -ENOMEM;
	}
	if (files && (*ret_files = strdup(files)) == NULL)
		return -ENOMEM;
	return 0;
}

/* Replaces this process, the container's parent, with its monitor. Returns
 * only on failure. */
static void exec_monitor(struct engine *e, const struct container_record *rec,
                         const struct container_create *c, pid_t pid, int out, int errfd, int in, int master,
                         int ready, struct vsl_error **err)
{
	_cleanup_free_ char *attach = run_path(e, rec->id, "attach.sock");
	_cleanup_free_ char *exit_file = run_path(e, rec->id, "exit");
	_cleanup_free_ char *log = container_path(e, rec->id, CONTAINER_LOG);
	_cleanup_free_ char *monitor = monitor_path();
	_cleanup_free_ char *self = self_path();
	_cleanup_free_ char *max_size = NULL, *max_file = NULL;
	char pid_text[16], fd_text[5][16];
	if (!attach || !exit_file || !log || !self || log_options(c, &max_size, &max_file) < 0) {
		vsl_error_errno(err, ENOMEM, "start the monitor");
		return;
	}
	if (monitor == NULL) {
		vsl_error_set(err, "vessel-monitor not found next to vessel (set VESSEL_MONITOR)");
		return;
	}
	if (container_subdir(e->containers_run, rec->id, NULL, err) < 0 || log_dir_make(e, rec->id, err) < 0)
		return;
	unlink(exit_file);
	snprintf(pid_text, sizeof(pid_text), "%d", (int)pid);
	/* The fds the monitor keeps lose O_CLOEXEC; everything else closes at exec. */
	int keep[] = {out, errfd, in, master, ready};
	for (size_t i = 0; i < ARRAY_SIZE(keep); i++) {
		snprintf(fd_text[i], sizeof(fd_text[i]), "%d", keep[i]);
		if (keep[i] >= 0)
			fcntl(keep[i], F_SETFD, 0);
	}
	char *args[48];
	size_t n = 0;
	args[n++] = monitor;
	args[n++] = "--id";
	args[n++] = rec->id;
	args[n++] = "--pid";
	args[n++] = pid_text;
	if (master >= 0) {
		args[n++] = "--pty-fd";
		args[n++] = fd_text[3];
	} else {
		args[n++] = "--stdout-fd";
		args[n++] = fd_text[0];
		args[n++] = "--stderr-fd";
		args[n++] = fd_text[1];
		if (in >= 0) {
			args[n++] = "--stdin-fd";
			args[n++] = fd_text[2];
		}
	}
	args[n++] = "--log";
	args[n++] = log;
	if (max_size) {
		args[n++] = "--log-max-size";
		args[n++] = max_size;
	}
	if (max_file) {
		args[n++] = "--log-max-file";
		args[n++] = max_file;
	}
	args[n++] = "--exit-file";
	args[n++] = exit_file;
	args[n++] = "--attach-socket";
	args[n++] = attach;
	if (ready >= 0) {
		args[n++] = "--ready-fd";
		args[n++] = fd_text[4];
	}
	args[n++] = "--then";
	args[n++] = self;
	args[n++] = "--root";
	args[n++] = e->root;
	args[n++] = "--runroot";
	args[n++] = e->runroot;
	args[n++] = "container";
	args[n++] = "cleanup";
	args[n++] = rec->id;
	args[n] = NULL;
	execv(monitor, args);
	vsl_error_errno(err, errno, "exec '%s'", monitor);
}

/* In the forked child: start the container with the given stdio, then exec
 * the monitor. Never returns. */
static void __attribute__((noreturn))
child_start(struct engine *e, const struct container_record *rec, const struct container_create *c,
            const char *bundle, int report)
{
	struct vsl_error *err = NULL;
	setsid();
	int out[2] = {-1, -1}, errp[2] = {-1, -1}, in[2] = {-1, -1};
	int console_listen = -1, master = -1;
	_cleanup_free_ char *rundir = run_path(e, rec->id, NULL);
	_cleanup_free_ char *console = run_path(e, rec->id, "console.sock");
	_cleanup_free_ char *monitor = monitor_path();
	if (!rundir || !console) {
		vsl_error_errno(&err, ENOMEM, "start");
		goto fail;
	}
	/* Found before the container starts, not after. */
	if (monitor == NULL) {
		vsl_error_set(&err, "vessel-monitor not found next to vessel (set VESSEL_MONITOR)");
		goto fail;
	}
	if (mkdir(rundir, 0700) < 0 && errno != EEXIST) {
		vsl_error_errno(&err, errno, "create '%s'", rundir);
		goto fail;
	}

	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (c->tty) {
		/* A unix socket path holds 108 bytes; deep roots need more. The
		 * runtime runs in this process, so a /proc/self/fd path of the
		 * directory reaches the same socket, short. */
		int rundir_fd = open(rundir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		free(console);
		console = NULL;
		if (rundir_fd < 0 || asprintf(&console, "/proc/self/fd/%d/console.sock", rundir_fd) < 0) {
			vsl_error_errno(&err, rundir_fd < 0 ? errno : ENOMEM, "open '%s'", rundir);
			goto fail;
		}
		if ((console_listen = listen_socket(console, &err)) < 0)
			goto fail;
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
	} else {
		if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 ||
		    (c->open_stdin && pipe2(in, O_CLOEXEC) < 0)) {
			vsl_error_errno(&err, errno, "pipe");
			goto fail;
		}
		dup2(c->open_stdin ? in[0] : null, STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		dup2(errp[1], STDERR_FILENO);
	}
	struct rt_context ctx = runtime_ctx(e);
	rt_delete(&ctx, rec->id, true, NULL);
	struct rt_create_opts o = {
	    .id = rec->id, .bundle = bundle, .console_socket = c->tty ? console : NULL};
	_cleanup_free_ char *pid_file = run_path(e, rec->id, "pid");
	o.pid_file = pid_file;
	int status;
	if (rt_run(&ctx, &o, true, &status, &err) < 0)
		goto fail;
	/* Our stdio was the container's: the monitor holds the other ends now. */
	dup2(null, STDIN_FILENO);
	dup2(null, STDOUT_FILENO);
	dup2(null, STDERR_FILENO);
	if (c->tty) {
		int conn = accept4(console_listen, NULL, NULL, SOCK_CLOEXEC);
		master = conn >= 0 ? recv_fd(conn) : -1;
		if (conn >= 0)
			close(conn);
		close(console_listen);
		unlink(console);
		if (master < 0) {
			vsl_error_set(&err, "receive the container's terminal");
			goto fail;
		}
	}
	_cleanup_free_ char *pid_text = NULL;
	size_t pid_len = 0;
	if (read_file_at(AT_FDCWD, pid_file, 64, &pid_text, &pid_len, &err) < 0)
		goto fail;
	pid_t pid = (pid_t)atoi(pid_text);
	unlink(pid_file);
	dprintf(report, "P%d\n", (int)pid);

	exec_monitor(e, rec, c, pid, out[0], errp[0], in[1], master, report, &err);
	/* The container runs without a monitor: stop it rather than leave it unwatched. */
	rt_kill(&ctx, rec->id, SIGKILL, true, NULL);
fail:
	report_error(report, err);
	_exit(1);
}

/* Starts the container under a monitor; rec is updated and recorded. */
static int start_detached(struct engine *e, struct container_record *rec, const struct container_create *c,
                          struct vsl_error **err)
{
	const char *id = rec->id;
	int r;
	_cleanup_free_ char *bundle = NULL;
	if ((r = prepare_bundle(e, rec, c, &bundle, NULL, err)) < 0)
		return r;
	int report;
	pid_t child = fork_with_pipe(&report, err);
	if (child < 0)
		return (int)child;
	if (child == 0) /* it exits through exec or _exit: the database is the parent's */
		child_start(e, rec, c, bundle, report);
	char buf[4096];
	size_t len = 0;
	for (;;) {
		ssize_t k = read(report, buf + len, sizeof(buf) - 1 - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0 || (len += (size_t)k) >= sizeof(buf) - 1)
			break;
	}
	close(report);
	buf[len] = '\0';
	/* The child is the monitor now, or gone: reap it only in the latter case. */
	waitpid(child, NULL, WNOHANG);
	if (buf[0] != 'P') {
		int code = EIO;
		const char *msg = "the container's monitor did not start";
		if (buf[0] == 'E') {
			code = atoi(buf + 1);
			const char *space = strchr(buf, ' ');
			msg = space ? space + 1 : buf;
		}
		overlay_unmount(e->root_dirfd, id, NULL);
		volumes_release(e, id);
		engine_network_teardown(e, c, id);
		free(rec->error);
		rec->error = strdup(msg);
		container_store_update(e->db, rec, NULL);
		return vsl_error_set_code(err, code > 0 ? code : EIO, "%s", msg);
	}
	rec->state = CONTAINER_RUNNING;
	rec->pid = atoi(buf + 1);
	rec->monitor_pid = child;
	rec->started_at = now_ns();
	rec->finished_at = 0;
	rec->stop_requested = false;
	free(rec->error);
	rec->error = NULL;
	return container_store_update(e->db, rec, err);
}

int containers_start(struct engine *e, const char *id, struct vsl_error **err)
{
	_cleanup_container_record_ struct container_record *rec = NULL;
	int r = containers_get(e, id, &rec, err);
	if (r < 0 || (r = check_startable(rec, err)) < 0)
		return r;
	_cleanup_container_create_ struct container_create *c = NULL;
	if ((r = containers_create_config(rec, &c, err)) < 0)
		return r;
	return start_detached(e, rec, c, err);
}

/* ---- after an exit ---- */

/* The monitor's exit file: {"exit_code": N, ...}; -ENOENT when absent. */
static int read_exit_file(struct engine *e, const char *id, int *ret_code, struct vsl_error **err)
{
	_cleanup_free_ char *path = run_path(e, id, "exit");
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	if (path == NULL)
		return vsl_error_errno(err, ENOMEM, "read exit file");
	int r = read_file_at(AT_FDCWD, path, 4096, &text, &len, NULL);
	if (r < 0)
		return r;
	json_t *j = json_loadb(text, len, 0, NULL);
	json_t *code = json_object_get(j, "exit_code");
	if (!json_is_integer(code)) {
		json_decref(j);
		return vsl_error_set(err, "exit file of %s: no exit_code", id);
	}
	*ret_code = (int)json_integer_value(code);
	json_decref(j);
	return 0;
}

static bool restart_wanted(const struct container_create *c, const struct container_record *rec)
{
	const char *p = c->host.restart_policy.name;
	if (p == NULL || *p == '\0' || strcmp(p, "no") == 0)
		return false;
	if (strcmp(p, "always") == 0 || strcmp(p, "unless-stopped") == 0)
		return true;
	if (strcmp(p, "on-failure") == 0)
		return rec->exit_code != 0 &&
		       (c->host.restart_policy.maximum_retry_count <= 0 ||
		        rec->restart_count < c->host.restart_policy.maximum_retry_count);
	return false;
}

#define RESTART_MARK "restarting"

void containers_mark_restarting(struct engine *e, const char *id, bool on)
{
	_cleanup_free_ char *mark = run_path(e, id, RESTART_MARK);
	if (mark == NULL)
		return;
	if (!on) {
		unlink(mark);
		return;
	}
	/* Not running (no run directory): its stop removes nothing anyway. */
	int fd = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0)
		close(fd);
}

static bool take_restart_mark(struct engine *e, const char *id)
{
	_cleanup_free_ char *mark = run_path(e, id, RESTART_MARK);
	return mark && unlink(mark) == 0;
}

int containers_cleanup(struct engine *e, const char *id, struct vsl_error **err)
{
	/* Taken before the exit is recorded, which `restart` waits for. */
	bool restarting = take_restart_mark(e, id);
	_cleanup_container_record_ struct container_record *rec = NULL;
	int r = container_store_get(e->db, id, &rec, err);
	if (r < 0)
		return r;
	/* A config that cannot be read does not stop the cleanup. */
	_cleanup_container_create_ struct container_create *c = NULL;
	int config_r = containers_create_config(rec, &c, err);
	int code = 137;
	read_exit_file(e, id, &code, NULL);
	struct rt_context ctx = runtime_ctx(e);
	rt_delete(&ctx, id, true, NULL);
	overlay_unmount(e->root_dirfd, id, NULL);
	engine_network_teardown(e, c, id);
	volumes_release(e, id);
	bool stopped_by_user = rec->stop_requested;
	if ((r = record_exit(e, rec, code, config_r < 0 ? NULL : err)) < 0 || (r = config_r) < 0)
		return r;
	if (c->host.auto_remove && !restarting)
		return remove_run(e, c, id, &(struct dirs_removal){.e = e, .id = id}, err);
	if (!stopped_by_user && restart_wanted(c, rec)) {
		/* "restarting" until it runs again: never seen as exited in between. */
		rec->restart_count++;
		rec->state = CONTAINER_RESTARTING;
		container_store_update(e->db, rec, NULL);
		if ((r = start_detached(e, rec, c, err)) < 0) {
			record_exit(e, rec, rec->exit_code, NULL);
			return r;
		}
		return 0;
	}
	return 0;
}

/* ---- reading and reconciling ---- */

void containers_gc_runtime(struct engine *e)
{
	struct rt_context ctx = runtime_ctx(e);
	struct rt_list_entry *l = NULL;
	size_t n = 0;
	if (rt_list(&ctx, &l, &n, NULL) < 0)
		return;
	/* The record is written before the runtime sees a container, and removed
	 * after the runtime let it go: runtime state without a record is what a
	 * killed vessel left (its cgroups, its processes). */
	for (size_t i = 0; i < n; i++) {
		_cleanup_container_record_ struct container_record *rec = NULL;
		_cleanup_error_ struct vsl_error *err = NULL;
		if (container_store_get(e->db, l[i].state.id, &rec, &err) == -ENOENT)
			rt_delete(&ctx, l[i].state.id, true, NULL);
	}
	rt_list_free(l, n);
}

int containers_resolve(struct engine *e, const char *name_or_id, char **ret_id, struct vsl_error **err)
{
	return container_store_resolve(e->db, name_or_id, ret_id, err);
}

/* Whether the container's monitor still runs. A zombie does not: where the
 * host's init does not reap, a killed monitor stays one for good. The pid
 * may have been reused: then it is not a vessel-monitor, judging by its name. */
static bool monitor_alive(const struct container_record *rec)
{
	if (rec->monitor_pid <= 0)
		return false;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", rec->monitor_pid);
	_cleanup_free_ char *stat = NULL;
	size_t len = 0;
	if (read_file_at(AT_FDCWD, path, 4096, &stat, &len, NULL) < 0)
		return false;
	const char *open = strchr(stat, '(');
	const char *close_ = strrchr(stat, ')');
	if (open == NULL || close_ == NULL || close_[1] != ' ')
		return false;
	if (strncmp(open + 1, "vessel-monitor", (size_t)(close_ - open - 1)) != 0)
		return false;
	return close_[2] != 'Z' && close_[2] != 'X';
}

/* A record says running: does the runtime agree? If the container is gone
 * (its monitor was killed, or the host rebooted), record the truth. */
static int refresh(struct engine *e, struct container_record *rec)
{
	if (rec->state != CONTAINER_RUNNING && rec->state != CONTAINER_PAUSED)
		return 0;
	struct rt_context ctx = runtime_ctx(e);
	_cleanup_free_ char *json = NULL;
	const char *status = "stopped";
	json_t *j = NULL;
	if (rt_state(&ctx, rec->id, &json, NULL) >= 0 && (j = json_loads(json, 0, NULL)) != NULL)
		status = json_string_value(json_object_get(j, "status"));
	enum container_state now = rec->state;
	if (status && strcmp(status, "running") == 0)
		now = CONTAINER_RUNNING;
	else if (status && strcmp(status, "paused") == 0)
		now = CONTAINER_PAUSED;
	else
		now = CONTAINER_EXITED;
	json_decref(j);
	if (now == rec->state)
		return 0;
	if (now != CONTAINER_EXITED) {
		rec->state = now;
		return container_store_update(e->db, rec, NULL);
	}
	/* Stopped: its monitor records the exit unless it is gone too. */
	if (monitor_alive(rec))
		return 0;
	int code = 137;
	read_exit_file(e, rec->id, &code, NULL);
	rt_delete(&ctx, rec->id, true, NULL);
	overlay_unmount(e->root_dirfd, rec->id, NULL);
	engine_network_teardown(e, NULL, rec->id);
	volumes_release(e, rec->id);
	return record_exit(e, rec, code, NULL);
}

int containers_get(struct engine *e, const char *id, struct container_record **ret, struct vsl_error **err)
{
	_cleanup_free_ char *full = NULL;
	int r = container_store_resolve(e->db, id, &full, err);
	if (r < 0)
		return r;
	struct container_record *rec = NULL;
	if ((r = container_store_get(e->db, full, &rec, err)) < 0)
		return r;
	refresh(e, rec);
	*ret = rec;
	return 0;
}

int containers_list(struct engine *e, struct container_record ***ret, size_t *ret_n, struct vsl_error **err)
{
	int r = container_store_list(e->db, ret, ret_n, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < *ret_n; i++)
		refresh(e, (*ret)[i]);
	return 0;
}

/* ---- signals, stop, wait, remove ---- */

int containers_kill(struct engine *e, const char *id, int sig, struct vsl_error **err)
{
	_cleanup_container_record_ struct container_record *rec = NULL;
	int r = containers_get(e, id, &rec, err);
	if (r < 0)
		return r;
	if (rec->state != CONTAINER_RUNNING && rec->state != CONTAINER_PAUSED)
		return vsl_error_set_code(
		    err, EINVAL, "cannot kill container: %s: container %s is not running", id, rec->id);
	if (sig == SIGKILL || sig == SIGTERM || sig == SIGINT) {
		rec->stop_requested = true;
		if ((r = container_store_update(e->db, rec, err)) < 0)
			return r;
	}
	struct rt_context ctx = runtime_ctx(e);
	return rt_kill(&ctx, rec->id, sig, false, err);
}

static bool stopped(struct engine *e, const char *id)
{
	_cleanup_container_record_ struct container_record *rec = NULL;
	if (containers_get(e, id, &rec, NULL) < 0)
		return true;
	return rec->state != CONTAINER_RUNNING && rec->state != CONTAINER_PAUSED &&
	       rec->state != CONTAINER_RESTARTING;
}

/* Polls until the container stopped or the deadline (ns, 0: none) passed. */
static bool wait_stopped(struct engine *e, const char *id, int64_t deadline)
{
	for (unsigned delay = 1000;; delay = delay < 50000 ? delay * 2 : delay) {
		if (stopped(e, id))
			return true;
		if (deadline && now_ns() >= deadline)
			return false;
		usleep(delay);
	}
}

int containers_stop(struct engine *e, const char *id, int timeout, int sig, struct vsl_error **err)
{
	_cleanup_container_record_ struct container_record *rec = NULL;
	int r = containers_get(e, id, &rec, err);
	if (r < 0)
		return r;
	if (rec->state != CONTAINER_RUNNING && rec->state != CONTAINER_PAUSED)
		return 0; /* Docker: stopping a stopped container succeeds */
	_cleanup_container_create_ struct container_create *c = NULL;
	if ((r = containers_create_config(rec, &c, err)) < 0)
		return r;
	if (sig == 0) {
		_cleanup_image_config_ struct image_config *image = NULL;
		const char *name = oci_spec_stop_signal(
		    c, images_get_config(e->images, rec->image_id, &image, NULL) >= 0 ? image : NULL);
		sig = name ? signal_parse(name) : SIGTERM;
		if (sig < 0)
			return vsl_error_set_code(err, EINVAL, "container %.12s: invalid stop signal: %s",
			                          rec->id, name);
	}
	if (timeout < 0)
		timeout = c->has_stop_timeout ? c->stop_timeout : DEFAULT_STOP_TIMEOUT;
	/* Marked stopped by the user first: the restart policy must not bring it back. */
	rec->stop_requested = true;
	if ((r = container_store_update(e->db, rec, err)) < 0)
		return r;
	struct rt_context ctx = runtime_ctx(e);
	if (rec->state == CONTAINER_PAUSED)
		rt_resume(&ctx, rec->id, NULL);
	rt_kill(&ctx, rec->id, sig, false, NULL);
	if (!wait_stopped(e, rec->id, now_ns() + (int64_t)timeout * 1000000000)) {
		if ((r = rt_kill(&ctx, rec->id, SIGKILL, true, err)) < 0 && !stopped(e, rec->id))
			return r;
		wait_stopped(e, rec->id, 0);
	}
	return 0;
}

int containers_wait(struct engine *e, const char *id, int *ret_status, struct vsl_error **err)
{
	_cleanup_free_ char *full = NULL;
	int r = container_store_resolve(e->db, id, &full, err);
	if (r < 0)
		return r;
	wait_stopped(e, full, 0);
	/* The monitor records the exit code a moment after the process ends. */
	_cleanup_container_record_ struct container_record *rec = NULL;
	for (int i = 0; i < 200; i++) {
		container_record_free(rec);
		rec = NULL;
		if ((r = container_store_get(e->db, full, &rec, err)) < 0)
			return r;
		if (!monitor_alive(rec))
			break;
		usleep(10000);
	}
	*ret_status = rec->exit_code;
	return 0;
}

int containers_remove(struct engine *e, const char *id, bool force, struct vsl_error **err)
{
	_cleanup_container_record_ struct container_record *rec = NULL;
	int r = containers_get(e, id, &rec, err);
	if (r < 0)
		return r;
	if (rec->state == CONTAINER_RUNNING || rec->state == CONTAINER_PAUSED ||
	    rec->state == CONTAINER_RESTARTING) {
		if (!force)
			return vsl_error_set_code(
			    err, EBUSY,
			    "cannot remove container \"/%s\": container is %s: stop the container "
			    "before removing or force remove",
			    rec->name, container_state_name(rec->state));
		struct rt_context ctx = runtime_ctx(e);
		rt_kill(&ctx, rec->id, SIGKILL, true, NULL);
		if (rec->monitor_pid > 0)
			/* Its monitor must not run cleanup (or a restart) on a removed container. */
			kill(rec->monitor_pid, SIGKILL);
		wait_stopped(e, rec->id, now_ns() + 10 * (int64_t)1000000000);
	}
	remove_files(e, NULL, rec->id);
	return container_store_remove(e->db, rec->id, err);
}
