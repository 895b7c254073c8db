/* exec, top, stats, pause/unpause, restart, rename, prune: see container-ops.h.
 * The lifecycle itself (start, stop, remove, reconciling records) is
 * containers.c's; this file composes it with the runtime's calls. */
#include "engine/container-ops.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/container-store.h"
#include "engine/containers.h"
#include "engine/engine-internal.h"
#include "engine/names.h"
#include "engine/passwd.h"
#include "runtime/caps.h"
#include "runtime/container.h"
#include "runtime/state.h"
#include "storage/overlay.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/strv.h"

#define CGROUP_ROOT   "/sys/fs/cgroup"
#define PS_OUTPUT_MAX (16 << 20)

static struct rt_context runtime_ctx(const struct engine *e)
{
	return (struct rt_context){.root = e->runtime_root};
}

static bool is_running(const struct container_record *rec)
{
	return rec->state == CONTAINER_RUNNING || rec->state == CONTAINER_PAUSED ||
	       rec->state == CONTAINER_RESTARTING;
}

static int not_running(const struct container_record *rec, struct vsl_error **err)
{
	return vsl_error_set_code(err, EINVAL, "container %s is not running", rec->id);
}

/* ---- exec ---- */

/* Docker's USER[:GROUP] to the runtime's "uid:gid" and supplementary gids,
 * through the image's own /etc/passwd and /etc/group in the container's root. */
static int resolve_user(struct engine *e, const char *id, const char *spec, char **ret_user, char ***ret_gids,
                        struct vsl_error **err)
{
	_cleanup_free_ char *merged = NULL;
	if (asprintf(&merged, "%s/overlay/%s/merged", e->root, id) < 0)
		return vsl_error_errno(err, ENOMEM, "exec");
	_cleanup_close_ int rootfd = open(merged, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return vsl_error_errno(err, errno, "open the root of container %.12s", id);
	struct passwd_user u = {0};
	int r = passwd_resolve(rootfd, spec, NULL, &u, err);
	if (r < 0)
		return r;
	_cleanup_strv_ char **gids = NULL;
	_cleanup_free_ char *user = NULL;
	if (asprintf(&user, "%u:%u", (unsigned)u.uid, (unsigned)u.gid) < 0)
		user = NULL;
	for (size_t i = 0; user && i < u.n_additional_gids; i++) {
		char buf[16];
		snprintf(buf, sizeof(buf), "%u", (unsigned)u.additional_gids[i]);
		if (strv_append(&gids, buf) < 0) {
			user = NULL;
			break;
		}
	}
	passwd_user_release(&u);
	if (user == NULL)
		return vsl_error_errno(err, ENOMEM, "exec");
	*ret_user = TAKE_PTR(user);
	*ret_gids = TAKE_PTR(gids);
	return 0;
}

/* Points fd at /dev/null; the saved copy (or -1) goes to *ret_saved. */
static void to_null(int fd, int *ret_saved)
{
	*ret_saved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, fd);
		close(null);
	}
}

static void restore(int fd, int saved)
{
	if (saved < 0)
		return;
	dup2(saved, fd);
	close(saved);
}

int containers_exec(struct engine *e, const char *name_or_id, const struct container_exec_opts *o,
                    int *ret_status, struct vsl_error **err)
{
	if (o->args == NULL || o->args[0] == NULL)
		return vsl_error_set_code(err, EINVAL, "no command specified");
	_cleanup_container_record_ struct container_record *rec = NULL;
	int r = containers_get(e, name_or_id, &rec, err);
	if (r < 0)
		return r;
	if (rec->state == CONTAINER_PAUSED)
		return vsl_error_set_code(
		    err, EINVAL, "container %s is paused, unpause the container before exec", rec->id);
	if (rec->state != CONTAINER_RUNNING)
		return not_running(rec, err);

	_cleanup_free_ char *user = NULL;
	_cleanup_strv_ char **gids = NULL;
	if (o->user && *o->user && (r = resolve_user(e, rec->id, o->user, &user, &gids, err)) < 0)
		return r;
	struct rt_exec_opts x = {
	    .id = rec->id,
	    .args = o->args,
	    .env = o->env,
	    .cwd = o->cwd && *o->cwd ? o->cwd : NULL,
	    .user = user,
	    .additional_gids = gids,
	    .caps = o->privileged ? (char **)caps_known_names() : NULL,
	    /* Detached, nobody reads a terminal: the runtime would need a console socket for one. */
	    .tty = o->tty && !o->detach,
	    .detach = o->detach,
	};
	/* What the process gets that is not ours to give: /dev/null, as Docker's daemon gives it. */
	int saved[3] = {-1, -1, -1};
	if (o->detach) {
		for (int fd = 0; fd < 3; fd++)
			to_null(fd, &saved[fd]);
	} else if (!o->interactive) {
		to_null(STDIN_FILENO, &saved[0]);
	}
	struct rt_context ctx = runtime_ctx(e);
	int status = 0;
	r = rt_exec(&ctx, &x, &status, err);
	for (int fd = 0; fd < 3; fd++)
		restore(fd, saved[fd]);
	if (r < 0)
		return r;
	*ret_status = status;
	return 0;
}

/* ---- top ---- */

void container_top_release(struct container_top *t)
{
	strv_free(t->titles);
	for (size_t i = 0; i < t->n_processes; i++)
		strv_free(t->processes[i]);
	free(t->processes);
	*t = (struct container_top){0};
}

/* All of fd (at most max bytes), NUL-terminated. */
static int read_to_end(int fd, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			char *grown = realloc(buf, cap);
			if (grown == NULL)
				return -ENOMEM;
			buf = grown;
		}
		ssize_t k = read(fd, buf + len, cap - len - 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0 || (len += (size_t)k) >= max)
			break;
	}
	if (buf == NULL && (buf = malloc(1)) == NULL)
		return -ENOMEM;
	buf[len] = '\0';
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

/* Runs ps with args; its stdout in *ret_out. A failure carries ps's stderr. */
static int run_ps(char *const *ps_args, char **ret_out, struct vsl_error **err)
{
	_cleanup_strv_ char **argv = NULL;
	if (strv_append(&argv, "ps") < 0)
		return vsl_error_errno(err, ENOMEM, "ps");
	for (char *const *a = ps_args; a && *a; a++)
		if (strv_append(&argv, *a) < 0)
			return vsl_error_errno(err, ENOMEM, "ps");
	int out[2], errp[2];
	if (pipe2(out, O_CLOEXEC) < 0)
		return vsl_error_errno(err, errno, "pipe");
	if (pipe2(errp, O_CLOEXEC) < 0) {
		close(out[0]);
		close(out[1]);
		return vsl_error_errno(err, errno, "pipe");
	}
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(out[1], STDOUT_FILENO);
		dup2(errp[1], STDERR_FILENO);
		execvp("ps", argv);
		dprintf(STDERR_FILENO, "exec ps: %s", strerror(errno));
		_exit(127);
	}
	_cleanup_close_ int ofd = out[0], efd = errp[0];
	close(out[1]);
	close(errp[1]);
	if (pid < 0)
		return vsl_error_errno(err, errno, "fork");
	/* stderr after stdout: ps writes a line there at most, well under a pipe's buffer. */
	_cleanup_free_ char *text = NULL, *etext = NULL;
	size_t len = 0, elen = 0;
	int r = read_to_end(ofd, PS_OUTPUT_MAX, &text, &len);
	if (r >= 0)
		r = read_to_end(efd, 4096, &etext, &elen);
	if (r < 0)
		kill(pid, SIGKILL);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r < 0)
		return vsl_error_errno(err, -r, "read the output of ps");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		while (elen > 0 && (etext[elen - 1] == '\n' || etext[elen - 1] == ' '))
			etext[--elen] = '\0';
		return vsl_error_set(err, "ps: %s", elen ? etext : "failed");
	}
	*ret_out = TAKE_PTR(text);
	return 0;
}

/* "A B  C" -> {"A", "B", "C"}; at most n_max words, the last holding the rest of the line. */
static char **split_fields(const char *line, size_t n_max)
{
	char **v = NULL;
	const char *p = line;
	size_t n = 0;
	for (;;) {
		p += strspn(p, " \t");
		if (*p == '\0')
			break;
		size_t len = n_max && n + 1 == n_max ? strlen(p) : strcspn(p, " \t");
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		_cleanup_free_ char *word = strndup(p, len);
		if (word == NULL || strv_append(&v, word) < 0) {
			strv_free(v);
			return NULL;
		}
		n++;
		p += len;
	}
	if (v == NULL)
		v = calloc(1, sizeof(char *));
	return v;
}

static bool has_pid(const pid_t *pids, size_t n, pid_t pid)
{
	for (size_t i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

int containers_top(struct engine *e, const char *name_or_id, char *const *ps_args, struct container_top *ret,
                   struct vsl_error **err)
{
	_cleanup_container_record_ struct container_record *rec = NULL;
	int r = containers_get(e, name_or_id, &rec, err);
	if (r < 0)
		return r;
	if (rec->state != CONTAINER_RUNNING && rec->state != CONTAINER_PAUSED)
		return not_running(rec, err);
	struct rt_context ctx = runtime_ctx(e);
	_cleanup_free_ pid_t *pids = NULL;
	size_t n_pids = 0;
	if ((r = rt_ps(&ctx, rec->id, &pids, &n_pids, err)) < 0)
		return r;
	static char *const default_args[] = {"-ef", NULL};
	_cleanup_free_ char *out = NULL;
	if ((r = run_ps(ps_args && ps_args[0] ? ps_args : default_args, &out, err)) < 0)
		return r;

	struct container_top t = {0};
	char *save = NULL;
	char *line = strtok_r(out, "\n", &save);
	t.titles = line ? split_fields(line, 0) : calloc(1, sizeof(char *));
	if (t.titles == NULL)
		return vsl_error_errno(err, ENOMEM, "top");
	size_t n_titles = strv_length(t.titles);
	size_t pid_col = n_titles;
	for (size_t i = 0; i < n_titles; i++)
		if (strcmp(t.titles[i], "PID") == 0)
			pid_col = i;
	if (pid_col == n_titles) {
		container_top_release(&t);
		return vsl_error_set(err, "Couldn't find PID field in ps output");
	}
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		char **fields = split_fields(line, n_titles);
		if (fields == NULL) {
			container_top_release(&t);
			return vsl_error_errno(err, ENOMEM, "top");
		}
		char *end;
		long pid = strv_length(fields) > pid_col ? strtol(fields[pid_col], &end, 10) : -1;
		if (pid <= 0 || *end != '\0' || !has_pid(pids, n_pids, (pid_t)pid)) {
			strv_free(fields);
			continue;
		}
		char ***grown = realloc(t.processes, (t.n_processes + 1) * sizeof(*grown));
		if (grown == NULL) {
			strv_free(fields);
			container_top_release(&t);
			return vsl_error_errno(err, ENOMEM, "top");
		}
		t.processes = grown;
		t.processes[t.n_processes++] = fields;
	}
	*ret = t;
	return 0;
}

/* ---- stats ---- */

/* The cgroup the runtime put the container in, relative to the hierarchies' roots. */
static int runtime_cgroup_path(struct engine *e, const char *id, char **ret, struct vsl_error **err)
{
	_cleanup_close_ int root = -EBADF, dir = -EBADF;
	int r = state_root_open(e->runtime_root, false, &root, err);
	if (r < 0 || (r = state_dir_open(root, id, &dir, err)) < 0)
		return r;
	struct rt_state st = {0};
	if ((r = state_load(dir, &st, err)) < 0)
		return r;
	char *path = strdup(st.cgroup_path ? st.cgroup_path : "");
	state_clear(&st);
	if (path == NULL)
		return vsl_error_errno(err, ENOMEM, "stats");
	*ret = path;
	return 0;
}

int containers_stats(struct engine *e, const char *id, struct stats_sample *ret, struct vsl_error **err)
{
	struct stats_sample s = {.mem_limit = 0};
	int r = stats_read_system("/proc", &s, err);
	if (r < 0)
		return r;
	_cleanup_container_record_ struct container_record *rec = NULL;
	if ((r = containers_get(e, id, &rec, err)) < 0)
		return r;
	if (rec->state != CONTAINER_RUNNING && rec->state != CONTAINER_PAUSED) {
		*ret = s;
		return 0;
	}
	_cleanup_free_ char *path = NULL;
	/* Gone between the record and the runtime's state: it just stopped, and reads as stopped. */
	if (runtime_cgroup_path(e, rec->id, &path, NULL) < 0 ||
	    stats_read_cgroup(CGROUP_ROOT, path, &s, NULL) < 0) {
		*ret = (struct stats_sample){.system_ns = s.system_ns, .online_cpus = s.online_cpus};
		return 0;
	}
	stats_read_net("/proc", rec->pid, &s, NULL);
	struct sysinfo si;
	if (sysinfo(&si) == 0) {
		uint64_t host = (uint64_t)si.totalram * si.mem_unit;
		if (s.mem_limit > host)
			s.mem_limit = host;
	}
	*ret = s;
	return 0;
}

/* ---- pause, unpause, restart, rename ---- */

int containers_pause(struct engine *e, const char *name_or_id, struct vsl_error **err)
{
	_cleanup_container_record_ struct container_record *rec = NULL;
	int r = containers_get(e, name_or_id, &rec, err);
	if (r < 0)
		return r;
	if (rec->state == CONTAINER_PAUSED)
		return vsl_error_set_code(err, EINVAL, "container %s is already paused", rec->id);
	if (rec->state == CONTAINER_RESTARTING)
		return vsl_error_set_code(
		    err, EINVAL, "container %s is restarting, wait until the container is running", rec->id);
	if (rec->state != CONTAINER_RUNNING)
		return not_running(rec, err);
	struct rt_context ctx = runtime_ctx(e);
	if ((r = rt_pause(&ctx, rec->id, err)) < 0)
		return vsl_error_prefix(err, "pause container %.12s", rec->id);
	rec->state = CONTAINER_PAUSED;
	return container_store_update(e->db, rec, err);
}

int containers_unpause(struct engine *e, const char *name_or_id, struct vsl_error **err)
{
	_cleanup_container_record_ struct container_record *rec = NULL;
	int r = containers_get(e, name_or_id, &rec, err);
	if (r < 0)
		return r;
	if (rec->state != CONTAINER_PAUSED)
		return vsl_error_set_code(err, EINVAL, "container %s is not paused", rec->id);
	struct rt_context ctx = runtime_ctx(e);
	if ((r = rt_resume(&ctx, rec->id, err)) < 0)
		return vsl_error_prefix(err, "unpause container %.12s", rec->id);
	rec->state = CONTAINER_RUNNING;
	return container_store_update(e->db, rec, err);
}

int containers_restart(struct engine *e, const char *name_or_id, int timeout, int sig, struct vsl_error **err)
{
	_cleanup_free_ char *id = NULL;
	int r = containers_resolve(e, name_or_id, &id, err);
	if (r < 0)
		return r;
	/* The stop's cleanup took the mark before the stop returns; cleared before
	 * the start, the new run's own exit is not mistaken for a restart. */
	containers_mark_restarting(e, id, true);
	r = containers_stop(e, id, timeout, sig, err);
	containers_mark_restarting(e, id, false);
	_cleanup_error_ struct vsl_error *start_err = NULL;
	if (r >= 0)
		r = containers_start(e, id, &start_err);
	/* Its restart policy brought it back first: running again is what was asked. */
	if (r >= 0 || r == -EBUSY)
		return 0;
	if (start_err)
		*err = TAKE_PTR(start_err);
	return r;
}

int containers_rename(struct engine *e, const char *name_or_id, const char *new_name, struct vsl_error **err)
{
	const char *name = new_name[0] == '/' ? new_name + 1 : new_name;
	if (*name == '\0' || *name_or_id == '\0')
		return vsl_error_set_code(err, EINVAL, "Neither old nor new names may be empty");
	if (!names_valid(name))
		return vsl_error_set_code(
		    err, EINVAL, "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
		    name);
	_cleanup_container_record_ struct container_record *rec = NULL;
	int r = containers_get(e, name_or_id, &rec, err);
	if (r < 0)
		return r;
	if (strcmp(rec->name, name) == 0)
		return vsl_error_set_code(err, EINVAL,
		                          "Renaming a container with the same name as its current name");
	return container_store_rename(e->db, rec->id, name, err);
}

/* ---- prune ---- */

/* Bytes in the files under dirfd (directories themselves not counted), as Docker sizes a layer. */
static uint64_t tree_size(int dirfd, unsigned depth)
{
	if (depth > 256)
		return 0;
	int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return 0;
	_cleanup_closedir_ DIR *d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return 0;
	}
	uint64_t total = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		struct stat st;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			_cleanup_close_ int sub =
			    openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				total += tree_size(sub, depth + 1);
		} else {
			total += (uint64_t)st.st_size;
		}
	}
	return total;
}

static bool label_matches(json_t *labels, const char *filter)
{
	const char *eq = strchr(filter, '=');
	_cleanup_free_ char *key = eq ? strndup(filter, (size_t)(eq - filter)) : strdup(filter);
	json_t *v = key ? json_object_get(labels, key) : NULL;
	if (v == NULL)
		return false;
	return eq == NULL || (json_string_value(v) && strcmp(json_string_value(v), eq + 1) == 0);
}

static bool prune_wanted(const struct container_prune_filter *f, const struct container_record *rec)
{
	if (is_running(rec))
		return false;
	if (f == NULL)
		return true;
	if (f->until_ns && rec->created >= f->until_ns)
		return false;
	if (f->labels == NULL && f->not_labels == NULL)
		return true;
	json_t *body = json_loads(rec->config, 0, NULL);
	json_t *labels = json_object_get(body, "Labels");
	bool keep = true;
	for (char **l = f->labels; keep && l && *l; l++)
		keep = label_matches(labels, *l);
	for (char **l = f->not_labels; keep && l && *l; l++)
		keep = !label_matches(labels, *l);
	json_decref(body);
	return keep;
}

int containers_prune(struct engine *e, const struct container_prune_filter *f, char ***ret_ids,
                     uint64_t *ret_space, struct vsl_error **err)
{
	struct container_record **recs = NULL;
	size_t n = 0;
	int r = containers_list(e, &recs, &n, err);
	if (r < 0)
		return r;
	_cleanup_strv_ char **ids = NULL;
	uint64_t space = 0;
	for (size_t i = 0; r >= 0 && i < n; i++) {
		if (!prune_wanted(f, recs[i]))
			continue;
		uint64_t size = 0;
		_cleanup_close_ int diff = -EBADF;
		if (overlay_diff_dirfd(e->root_dirfd, recs[i]->id, &diff, NULL) >= 0)
			size = tree_size(diff, 0);
		/* One that started meanwhile is refused by remove: it stays, as in Docker. */
		if (containers_remove(e, recs[i]->id, false, NULL) < 0)
			continue;
		space += size;
		if (strv_append(&ids, recs[i]->id) < 0)
			r = vsl_error_errno(err, ENOMEM, "prune");
	}
	container_record_list_free(recs, n);
	if (r < 0)
		return r;
	if (ids == NULL && (ids = calloc(1, sizeof(char *))) == NULL)
		return vsl_error_errno(err, ENOMEM, "prune");
	*ret_ids = TAKE_PTR(ids);
	*ret_space = space;
	return 0;
}
