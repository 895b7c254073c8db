/* Container commands: run, create, start, stop, kill, rm, ps, wait, logs,
 * inspect. Thin: flags -> engine calls -> Docker's output. */
#include <errno.h>
#include <fnmatch.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/format.h"
#include "cli/progress.h"
#include "cli/run-flags.h"
#include "cli/template.h"
#include "engine/attach.h"
#include "engine/container-store.h"
#include "engine/containers.h"
#include "engine/create-config.h"
#include "engine/engine.h"
#include "engine/logs.h"
#include "engine/volumes.h"
#include "image/images.h"
#include "image/reference.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/signal-name.h"
#include "util/strv.h"

#define _cleanup_json_ _cleanup_(json_decrefp)

/* ---- run, create ---- */

/* The image per --pull: present, or pulled with Docker's lines on stderr. */
static int ensure_image(struct engine *e, const char *image, const char *policy, const char *platform,
                        struct vsl_error **err)
{
	struct images *im = engine_images(e);
	_cleanup_free_ char *id = NULL;
	bool always = policy && strcmp(policy, "always") == 0;
	if (!always) {
		_cleanup_error_ struct vsl_error *lookup = NULL;
		int r = images_resolve(im, image, &id, &lookup);
		if (r >= 0)
			return 0;
		if (r != -ENOENT) {
			*err = TAKE_PTR(lookup);
			return r;
		}
		if (policy && strcmp(policy, "never") == 0)
			return vsl_error_set_code(err, ENOENT, "No such image: %s", image);
		_cleanup_image_ref_ struct image_ref *ref = NULL;
		_cleanup_free_ char *familiar = NULL;
		if (image_ref_parse(image, &ref, NULL) >= 0)
			familiar = image_ref_familiar(ref);
		fprintf(stderr, "Unable to find image '%s' locally\n", familiar ? familiar : image);
	}
	/* Pull output goes to stderr: stdout is the container's. */
	struct progress *prog = progress_new(isatty(STDERR_FILENO), stderr);
	struct pull_opts po = {
	    .platform = platform, .on_event = prog ? progress_event : NULL, .userdata = prog};
	int r = images_pull(im, image, &po, NULL, err);
	progress_free(prog);
	return r;
}

static int create_from_flags(struct cli_ctx *ctx, struct run_flags *f, int argc, char **argv, char **ret_id,
                             struct vsl_error **err)
{
	_cleanup_strv_ char **cmd = NULL;
	for (int i = 1; i < argc; i++)
		if (strv_append(&cmd, argv[i]) < 0)
			return vsl_error_errno(err, ENOMEM, "run");
	json_t *body = NULL;
	int r = run_flags_to_body(f, argv[0], cmd, &body, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (text == NULL)
		return vsl_error_errno(err, ENOMEM, "run");
	if ((r = ensure_image(ctx->engine, argv[0], f->pull, f->platform, err)) < 0)
		return r;
	return containers_create(ctx->engine, text, strlen(text), f->name, ret_id, err);
}

static int cmd_run(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	struct run_flags *f = opts;
	_cleanup_free_ char *id = NULL;
	int r = create_from_flags(ctx, f, argc, argv, &id, err);
	if (r < 0)
		return r;
	if (f->detach) {
		if ((r = containers_start(ctx->engine, id, err)) < 0)
			return r;
		printf("%s\n", id);
		return 0;
	}
	int status = 0;
	_cleanup_free_ char *keys = NULL;
	if (f->tty && (r = attach_parse_detach_keys(
	                   f->detach_keys ? f->detach_keys : ATTACH_DEFAULT_DETACH_KEYS, &keys, err)) < 0)
		return r;
	if ((r = containers_run_attached(ctx->engine, id, keys, &status, err)) < 0) {
		/* Docker's codes: 127 command not found, 126 cannot execute. */
		int code = containers_start_failure_code(*err);
		if (code != 125) {
			fprintf(stderr, "vessel: %s\n", vsl_error_message(*err));
			return code;
		}
		return r;
	}
	return status;
}

static int cmd_create(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	_cleanup_free_ char *id = NULL;
	int r = create_from_flags(ctx, opts, argc, argv, &id, err);
	if (r < 0)
		return r;
	printf("%s\n", id);
	return 0;
}

/* ---- commands over a list of containers ---- */

static int do_start(struct engine *e, const char *name, const void *arg, struct vsl_error **err)
{
	(void)arg;
	_cleanup_free_ char *id = NULL;
	int r = containers_resolve(e, name, &id, err);
	return r < 0 ? r : containers_start(e, id, err);
}

struct start_args {
	bool attach, interactive;
};

static int cmd_start(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	struct start_args *a = opts;
	if (a->attach || a->interactive) {
		if (argc != 1)
			return vsl_error_set(err, "you cannot start and attach multiple containers at once");
		_cleanup_free_ char *id = NULL;
		int status = 0;
		int r = containers_resolve(ctx->engine, argv[0], &id, err);
		if (r < 0 || (r = containers_run_attached(ctx->engine, id, NULL, &status, err)) < 0)
			return r;
		return status;
	}
	return cli_each(ctx, argc, argv, do_start, NULL);
}

static int do_stop(struct engine *e, const char *name, const void *arg, struct vsl_error **err)
{
	const struct cli_stop_request *q = arg;
	return containers_stop(e, name, q->timeout, q->sig, err);
}

static int cmd_stop(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	struct cli_stop_request q;
	if (cli_stop_parse(opts, &q, err) < 0)
		return -EINVAL;
	return cli_each(ctx, argc, argv, do_stop, &q);
}

static int do_kill(struct engine *e, const char *name, const void *arg, struct vsl_error **err)
{
	return containers_kill(e, name, *(const int *)arg, err);
}

struct kill_args {
	const char *signal;
};

static int cmd_kill(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	struct kill_args *a = opts;
	int sig = a->signal ? signal_parse(a->signal) : SIGKILL;
	if (sig < 0)
		return vsl_error_set(err, "invalid signal: %s", a->signal);
	return cli_each(ctx, argc, argv, do_kill, &sig);
}

struct rm_args {
	bool force, volumes, link;
};

static int do_rm(struct engine *e, const char *name, const void *arg, struct vsl_error **err)
{
	const struct rm_args *a = arg;
	_cleanup_free_ char *id = NULL;
	int r = containers_resolve(e, name, &id, err);
	if (r < 0 || (r = containers_remove(e, id, a->force, err)) < 0)
		return r;
	/* -v: its anonymous volumes go too, unless another container uses them. */
	return a->volumes ? volumes_remove_anonymous(e, id, err) : 0;
}

static int cmd_rm(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	(void)err;
	return cli_each(ctx, argc, argv, do_rm, opts);
}

static int cmd_wait(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	(void)opts, (void)err;
	int failed = 0;
	for (int i = 0; i < argc; i++) {
		_cleanup_error_ struct vsl_error *e = NULL;
		int status;
		if (containers_wait(ctx->engine, argv[i], &status, &e) < 0) {
			fprintf(stderr, "vessel: %s\n", vsl_error_message(e));
			failed = 1;
			continue;
		}
		printf("%d\n", status);
	}
	return failed;
}

static int cmd_cleanup(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	(void)opts, (void)argc;
	return containers_cleanup(ctx->engine, argv[0], err);
}

/* ---- ps ---- */

struct ps_args {
	bool all, quiet, no_trunc, latest, size;
	int last;
	char **filters;
	const char *format;
};

struct ps_row {
	const struct container_record *rec;
	json_t *body;
	char buf[512];
	char *json;
	bool no_trunc;
};

static void ts_since(char *b, size_t n, int64_t ns, const char *suffix)
{
	char d[64];
	format_duration(d, sizeof(d), (time_t)(time(NULL) - ns / 1000000000));
	snprintf(b, n, "%s%s", d, suffix);
}

static void status_text(const struct container_record *rec, char *b, size_t n)
{
	char since[96];
	switch (rec->state) {
	case CONTAINER_RUNNING:
	case CONTAINER_PAUSED:
		ts_since(since, sizeof(since), rec->started_at, "");
		snprintf(b, n, "Up %s%s", since, rec->state == CONTAINER_PAUSED ? " (Paused)" : "");
		break;
	case CONTAINER_EXITED:
		ts_since(since, sizeof(since), rec->finished_at, " ago");
		snprintf(b, n, "Exited (%d) %s", rec->exit_code, since);
		break;
	case CONTAINER_RESTARTING:
		snprintf(b, n, "Restarting (%d)", rec->exit_code);
		break;
	case CONTAINER_DEAD:
		snprintf(b, n, "Dead");
		break;
	case CONTAINER_REMOVING:
		snprintf(b, n, "Removal In Progress");
		break;
	default:
		snprintf(b, n, "Created");
	}
}

static void command_text(json_t *body, char *b, size_t n, bool no_trunc)
{
	size_t len = 0;
	b[0] = '\0';
	const char *keys[] = {"Entrypoint", "Cmd"};
	len += (size_t)snprintf(b + len, n - len, "\"");
	bool first = true;
	for (size_t k = 0; k < 2; k++) {
		json_t *a = json_object_get(body, keys[k]);
		size_t i;
		json_t *v;
		json_array_foreach(a, i, v)
		{
			if (len < n)
				len += (size_t)snprintf(b + len, n - len, "%s%s", first ? "" : " ",
				                        json_string_value(v) ? json_string_value(v) : "");
			first = false;
		}
	}
	if (!no_trunc && len > 21) {
		/* Docker truncates to 20 characters with an ellipsis. */
		snprintf(b + 20, n - 20, "…");
		len = strlen(b);
	}
	if (len + 1 < n)
		snprintf(b + len, n - len, "\"");
}

static const char *ps_lookup(void *row_, const char *field)
{
	struct ps_row *row = row_;
	const struct container_record *rec = row->rec;
	char *b = row->buf;
	size_t n = sizeof(row->buf);
	if (strcmp(field, "ID") == 0) {
		snprintf(b, n, row->no_trunc ? "%s" : "%.12s", rec->id);
	} else if (strcmp(field, "Image") == 0) {
		snprintf(b, n, "%s", rec->image_name);
	} else if (strcmp(field, "Command") == 0) {
		command_text(row->body, b, n, row->no_trunc);
	} else if (strcmp(field, "CreatedAt") == 0) {
		time_t t = (time_t)(rec->created / 1000000000);
		struct tm tm;
		strftime(b, n, "%Y-%m-%d %H:%M:%S %z %Z", localtime_r(&t, &tm));
	} else if (strcmp(field, "RunningFor") == 0) {
		ts_since(b, n, rec->created, " ago");
	} else if (strcmp(field, "Status") == 0) {
		status_text(rec, b, n);
	} else if (strcmp(field, "State") == 0) {
		snprintf(b, n, "%s", container_state_name(rec->state));
	} else if (strcmp(field, "Ports") == 0) {
		b[0] = '\0';
	} else if (strcmp(field, "Names") == 0) {
		snprintf(b, n, "%s", rec->name);
	} else if (strcmp(field, "Labels") == 0) {
		b[0] = '\0';
		const char *key;
		json_t *v;
		size_t len = 0;
		json_object_foreach(json_object_get(row->body, "Labels"), key, v)
		{
			if (len < n)
				len += (size_t)snprintf(b + len, n - len, "%s%s=%s", len ? "," : "", key,
				                        json_string_value(v));
		}
	} else if (strcmp(field, ".") == 0) {
		static const char *const keys[] = {"Command", "CreatedAt", "ID",         "Image", "Labels",
		                                   "Names",   "Ports",     "RunningFor", "State", "Status"};
		json_t *j = json_object();
		for (size_t i = 0; j && i < ARRAY_SIZE(keys); i++)
			json_object_set_new(j, keys[i], json_string(ps_lookup(row, keys[i])));
		free(row->json);
		row->json = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
		json_decref(j);
		return row->json;
	} else {
		return NULL;
	}
	return b;
}

static int ps_filter(char **filters, const struct container_record *rec, json_t *body, bool *ret,
                     struct vsl_error **err)
{
	*ret = true;
	for (char **f = filters; f && *f; f++) {
		const char *eq = strchr(*f, '=');
		if (eq == NULL)
			return vsl_error_set(err, "bad format of filter (expected name=value)");
		size_t klen = (size_t)(eq - *f);
		const char *v = eq + 1;
		if (strncmp(*f, "status", klen) == 0 && klen == 6) {
			if (strcmp(container_state_name(rec->state), v) != 0)
				*ret = false;
		} else if (strncmp(*f, "name", klen) == 0 && klen == 4) {
			if (strstr(rec->name, v) == NULL)
				*ret = false;
		} else if (strncmp(*f, "id", klen) == 0 && klen == 2) {
			if (strncmp(rec->id, v, strlen(v)) != 0)
				*ret = false;
		} else if (strncmp(*f, "ancestor", klen) == 0 && klen == 8) {
			if (strcmp(rec->image_name, v) != 0 && strncmp(rec->image_id + 7, v, strlen(v)) != 0)
				*ret = false;
		} else if (strncmp(*f, "label", klen) == 0 && klen == 5) {
			const char *veq = strchr(v, '=');
			_cleanup_free_ char *key = veq ? strndup(v, (size_t)(veq - v)) : strdup(v);
			json_t *val = key ? json_object_get(json_object_get(body, "Labels"), key) : NULL;
			if (val == NULL || (veq && strcmp(json_string_value(val), veq + 1) != 0))
				*ret = false;
		} else {
			return vsl_error_set(err, "invalid filter '%.*s'", (int)klen, *f);
		}
	}
	return 0;
}

static int cmd_ps(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	(void)argc, (void)argv;
	struct ps_args *a = opts;
	struct container_record **recs = NULL;
	size_t n = 0;
	int r = containers_list(ctx->engine, &recs, &n, err);
	if (r < 0)
		return r;
	struct table *t = NULL;
	r = table_new(
	    a->quiet ? "{{.ID}}" : a->format,
	    "{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}",
	    "CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tPORTS\tNAMES", &t, err);
	int limit = a->latest ? 1 : a->last > 0 ? a->last : -1;
	bool all = a->all || limit > 0 || a->filters;
	for (size_t i = 0; r >= 0 && i < n && limit != 0; i++) {
		bool running = recs[i]->state == CONTAINER_RUNNING || recs[i]->state == CONTAINER_PAUSED ||
		               recs[i]->state == CONTAINER_RESTARTING;
		if (!all && !running)
			continue;
		struct ps_row row = {.rec = recs[i], .no_trunc = a->no_trunc};
		row.body = json_loads(recs[i]->config, 0, NULL);
		bool keep = true;
		r = ps_filter(a->filters, recs[i], row.body, &keep, err);
		if (r >= 0 && keep) {
			r = table_row(t, ps_lookup, &row, err);
			if (limit > 0)
				limit--;
		}
		json_decref(row.body);
		free(row.json);
	}
	table_print_free(r >= 0 ? t : NULL);
	container_record_list_free(recs, n);
	return r;
}

/* ---- logs ---- */

struct logs_args {
	bool follow, timestamps, details;
	const char *tail, *since, *until;
};

struct follow_ctx {
	struct engine *e;
	const char *id;
};

static bool container_done(void *userdata)
{
	struct follow_ctx *f = userdata;
	_cleanup_container_record_ struct container_record *rec = NULL;
	if (containers_get(f->e, f->id, &rec, NULL) < 0)
		return true;
	return rec->state != CONTAINER_RUNNING && rec->state != CONTAINER_PAUSED &&
	       rec->state != CONTAINER_RESTARTING;
}

static int cmd_logs(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	(void)argc;
	struct logs_args *a = opts;
	_cleanup_free_ char *id = NULL;
	int r = containers_resolve(ctx->engine, argv[0], &id, err);
	if (r < 0)
		return r;
	struct log_read_opts lo = {
	    .follow = a->follow, .timestamps = a->timestamps, .tail = -1, .stdout_ = true, .stderr_ = true};
	if (a->tail && strcmp(a->tail, "all") != 0) {
		char *end;
		lo.tail = strtoll(a->tail, &end, 10);
		if (*end || end == a->tail || lo.tail < 0)
			return vsl_error_set(err, "invalid value for \"tail\": %s", a->tail);
	}
	if (a->since && (r = logs_parse_time(a->since, time(NULL), &lo.since_ns, err)) < 0)
		return r;
	if (a->until && (r = logs_parse_time(a->until, time(NULL), &lo.until_ns, err)) < 0)
		return r;
	_cleanup_free_ char *path = NULL;
	if (asprintf(&path, "%s/containers/%s/container.log", engine_root(ctx->engine), id) < 0)
		return vsl_error_errno(err, ENOMEM, "logs");
	struct follow_ctx f = {.e = ctx->engine, .id = id};
	fflush(stdout);
	return logs_read(path, &lo, STDOUT_FILENO, STDERR_FILENO, container_done, &f, err);
}

/* ---- inspect ---- */

static char *rfc3339(int64_t ns)
{
	if (ns == 0)
		return strdup("0001-01-01T00:00:00Z");
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;
	char base[32];
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", gmtime_r(&t, &tm));
	char *s = NULL;
	return asprintf(&s, "%s.%09lldZ", base, (long long)(ns % 1000000000)) < 0 ? NULL : s;
}

static json_t *container_json(struct engine *e, const struct container_record *rec)
{
	json_t *body = json_loads(rec->config, 0, NULL);
	if (body == NULL)
		return NULL;
	json_t *host = json_incref(json_object_get(body, "HostConfig"));
	json_object_del(body, "HostConfig");
	json_object_del(body, "NetworkingConfig");
	_cleanup_free_ char *created = rfc3339(rec->created), *started = rfc3339(rec->started_at),
	                    *finished = rfc3339(rec->finished_at);
	char *dir = NULL, *log = NULL;
	/* The files made at each start live on the runroot; the log on the root. */
	if (asprintf(&dir, "%s/containers/%s", engine_runroot(e), rec->id) < 0 ||
	    asprintf(&log, "%s/containers/%s/container.log", engine_root(e), rec->id) < 0) {
		json_decref(body);
		json_decref(host);
		return NULL;
	}
	json_t *args = json_array();
	const char *path = "";
	json_t *ep = json_object_get(body, "Entrypoint"), *cmd = json_object_get(body, "Cmd");
	size_t i;
	json_t *v;
	json_array_foreach(ep, i, v)
	{
		if (*path == '\0' && i == 0)
			path = json_string_value(v);
		else
			json_array_append(args, v);
	}
	json_array_foreach(cmd, i, v)
	{
		if (*path == '\0' && json_array_size(ep) == 0 && i == 0)
			path = json_string_value(v);
		else
			json_array_append(args, v);
	}
	char *name = NULL;
	if (asprintf(&name, "/%s", rec->name) < 0)
		name = NULL;
	json_t *mounts = NULL;
	_cleanup_container_create_ struct container_create *c = NULL;
	if (containers_create_config(rec, &c, NULL) >= 0)
		volumes_mount_points(e, rec->id, c, &mounts, NULL);
	bool running = rec->state == CONTAINER_RUNNING || rec->state == CONTAINER_PAUSED;
	json_t *j = json_pack(
	    "{s:s, s:s, s:s, s:o, s:{s:s, s:b, s:b, s:b, s:b, s:b, s:i, s:i, s:s, s:s, s:s}, s:s, s:s+, "
	    "s:s+, s:s+, s:s, "
	    "s:s, s:i, s:s, s:s, s:o*, s:o, s:o}",
	    "Id", rec->id, "Created", created ? created : "", "Path", path ? path : "", "Args", args, "State",
	    "Status", container_state_name(rec->state), "Running", running, "Paused",
	    rec->state == CONTAINER_PAUSED, "Restarting", rec->state == CONTAINER_RESTARTING, "OOMKilled",
	    rec->oom_killed, "Dead", rec->state == CONTAINER_DEAD, "Pid", running ? rec->pid : 0, "ExitCode",
	    rec->exit_code, "Error", rec->error ? rec->error : "", "StartedAt", started ? started : "",
	    "FinishedAt", finished ? finished : "", "Image", rec->image_id, "ResolvConfPath", dir,
	    "/resolv.conf", "HostnamePath", dir, "/hostname", "HostsPath", dir, "/hosts", "LogPath", log,
	    "Name", name ? name : "", "RestartCount", rec->restart_count, "Driver", "overlay2", "Platform",
	    "linux", "HostConfig", host, "Config", body, "Mounts", mounts ? mounts : json_array());
	free(dir);
	free(log);
	free(name);
	if (j) {
		json_t *config = json_object_get(j, "Config");
		json_object_set_new(config, "Image", json_string(rec->image_name));
	}
	return j;
}

struct inspect_args {
	const char *format;
	const char *type;
	bool size;
};

static int cmd_inspect(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	struct inspect_args *a = opts;
	_cleanup_json_ json_t *all = json_array();
	int r = 0;
	bool containers = a->type == NULL || strcmp(a->type, "container") == 0;
	bool images = a->type == NULL || strcmp(a->type, "image") == 0;
	for (int i = 0; r >= 0 && i < argc; i++) {
		_cleanup_container_record_ struct container_record *rec = NULL;
		_cleanup_error_ struct vsl_error *e = NULL;
		if (containers && containers_get(ctx->engine, argv[i], &rec, &e) >= 0) {
			json_t *j = container_json(ctx->engine, rec);
			if (j == NULL || json_array_append_new(all, j) < 0)
				r = vsl_error_errno(err, ENOMEM, "inspect");
			continue;
		}
		_cleanup_free_ char *id = NULL, *text = NULL;
		if (images && images_resolve(engine_images(ctx->engine), argv[i], &id, NULL) >= 0 &&
		    images_inspect(engine_images(ctx->engine), id, &text, NULL) >= 0) {
			json_array_append_new(all, json_loads(text, 0, NULL));
			continue;
		}
		r = vsl_error_set_code(err, ENOENT, "No such object: %s", argv[i]);
	}
	_cleanup_error_ struct vsl_error *print_err = NULL;
	int q = template_print_inspect(all, a->format, stdout, &print_err);
	if (q < 0 && r >= 0) {
		*err = TAKE_PTR(print_err);
		return q;
	}
	return r;
}

/* ---- tables ---- */

static const struct cli_flag start_flags[] = {
    CLI_BOOL("attach", 'a', struct start_args, attach, "Attach STDOUT/STDERR and forward signals"),
    CLI_BOOL("interactive", 'i', struct start_args, interactive, "Attach container's STDIN"),
    CLI_END,
};
static const struct cli_flag kill_flags[] = {
    CLI_STRING("signal", 's', struct kill_args, signal, "Signal to send to the container"),
    CLI_END,
};
static const struct cli_flag rm_flags[] = {
    CLI_BOOL("force", 'f', struct rm_args, force, "Force the removal of a running container (uses SIGKILL)"),
    CLI_BOOL("volumes", 'v', struct rm_args, volumes,
             "Remove anonymous volumes associated with the container"),
    CLI_BOOL("link", 'l', struct rm_args, link, "Remove the specified link"),
    CLI_END,
};
static const struct cli_flag ps_flags[] = {
    CLI_BOOL("all", 'a', struct ps_args, all, "Show all containers (default shows just running)"),
    CLI_LIST("filter", 'f', struct ps_args, filters, "Filter output based on conditions provided"),
    CLI_STRING("format", 0, struct ps_args, format, "Format output using a custom template"),
    CLI_INT("last", 'n', struct ps_args, last, "Show n last created containers (includes all states)"),
    CLI_BOOL("latest", 'l', struct ps_args, latest,
             "Show the latest created container (includes all states)"),
    CLI_BOOL("no-trunc", 0, struct ps_args, no_trunc, "Don't truncate output"),
    CLI_BOOL("quiet", 'q', struct ps_args, quiet, "Only display container IDs"),
    CLI_BOOL("size", 's', struct ps_args, size, "Display total file sizes"),
    CLI_END,
};
static const struct cli_flag logs_flags[] = {
    CLI_BOOL("details", 0, struct logs_args, details, "Show extra details provided to logs"),
    CLI_BOOL("follow", 'f', struct logs_args, follow, "Follow log output"),
    CLI_STRING("since", 0, struct logs_args, since, "Show logs since timestamp or relative (e.g. 42m)"),
    CLI_STRING("tail", 'n', struct logs_args, tail, "Number of lines to show from the end of the logs"),
    CLI_BOOL("timestamps", 't', struct logs_args, timestamps, "Show timestamps"),
    CLI_STRING("until", 0, struct logs_args, until, "Show logs before a timestamp or relative"),
    CLI_END,
};
static const struct cli_flag inspect_flags[] = {
    CLI_STRING("format", 'f', struct inspect_args, format, "Format output using a custom template"),
    CLI_BOOL("size", 's', struct inspect_args, size, "Display total file sizes if the type is container"),
    CLI_STRING("type", 0, struct inspect_args, type, "Return JSON for specified type"),
    CLI_END,
};

#define LIST_COMMAND(name_, fn, fl, T, min, usage_, help_)                                                   \
	LIST_COMMAND_F(name_, fn, 0, fl, T, min, usage_, help_)
#define LIST_COMMAND_F(name_, fn, extra, fl, T, min, usage_, help_)                                          \
	{                                                                                                    \
		.name = (name_), .run = (fn), .flags = CLI_NEEDS_ENGINE | (extra), .min_args = (min),        \
		.max_args = CLI_ARGS_ANY, .options = (fl), .opts_size = sizeof(T), .usage = (usage_),        \
		.help = (help_)                                                                              \
	}

#define CONTAINER_COMMANDS(ps_name, rm_name)                                                                 \
	{.name = "run",                                                                                      \
	 .run = cmd_run,                                                                                     \
	 .flags = CLI_NEEDS_ENGINE | CLI_STOP_AT_ARG | CLI_ENTERS_CONTAINER,                                 \
	 .min_args = 1,                                                                                      \
	 .max_args = CLI_ARGS_ANY,                                                                           \
	 .options = run_flag_table,                                                                          \
	 .opts_size = sizeof(struct run_flags),                                                              \
	 .usage = "[OPTIONS] IMAGE [COMMAND] [ARG...]",                                                      \
	 .help = "Create and run a new container from an image"},                                            \
	    {.name = "create",                                                                               \
	     .run = cmd_create,                                                                              \
	     .flags = CLI_NEEDS_ENGINE | CLI_STOP_AT_ARG,                                                    \
	     .min_args = 1,                                                                                  \
	     .max_args = CLI_ARGS_ANY,                                                                       \
	     .options = run_flag_table,                                                                      \
	     .opts_size = sizeof(struct run_flags),                                                          \
	     .usage = "[OPTIONS] IMAGE [COMMAND] [ARG...]",                                                  \
	     .help = "Create a new container"},                                                              \
	    LIST_COMMAND_F("start", cmd_start, CLI_ENTERS_CONTAINER, start_flags, struct start_args, 1,      \
	                   "[OPTIONS] CONTAINER [CONTAINER...]", "Start one or more stopped containers"),    \
	    LIST_COMMAND("stop", cmd_stop, cli_stop_flags, struct cli_stop_args, 1,                          \
	                 "[OPTIONS] CONTAINER [CONTAINER...]", "Stop one or more running containers"),       \
	    LIST_COMMAND("kill", cmd_kill, kill_flags, struct kill_args, 1,                                  \
	                 "[OPTIONS] CONTAINER [CONTAINER...]", "Kill one or more running containers"),       \
	    LIST_COMMAND(rm_name, cmd_rm, rm_flags, struct rm_args, 1, "[OPTIONS] CONTAINER [CONTAINER...]", \
	                 "Remove one or more containers"),                                                   \
	    LIST_COMMAND("wait", cmd_wait, NULL, struct rm_args, 1, "CONTAINER [CONTAINER...]",              \
	                 "Block until one or more containers stop, then print their exit codes"),            \
	    {.name = (ps_name),                                                                              \
	     .run = cmd_ps,                                                                                  \
	     .flags = CLI_NEEDS_ENGINE,                                                                      \
	     .max_args = 0,                                                                                  \
	     .options = ps_flags,                                                                            \
	     .opts_size = sizeof(struct ps_args),                                                            \
	     .usage = "[OPTIONS]",                                                                           \
	     .help = "List containers"},                                                                     \
	{                                                                                                    \
		.name = "logs", .run = cmd_logs, .flags = CLI_NEEDS_ENGINE, .min_args = 1, .max_args = 1,    \
		.options = logs_flags, .opts_size = sizeof(struct logs_args),                                \
		.usage = "[OPTIONS] CONTAINER", .help = "Fetch the logs of a container"                      \
	}

const struct cli_command container_toplevel_commands[] = {
    CONTAINER_COMMANDS("ps", "rm"),
    LIST_COMMAND("inspect", cmd_inspect, inspect_flags, struct inspect_args, 1,
                 "[OPTIONS] NAME|ID [NAME|ID...]", "Return low-level information on Docker objects"),
    {.name = NULL},
};

const struct cli_command container_commands[] = {
    CONTAINER_COMMANDS("ls", "rm"),
    LIST_COMMAND("inspect", cmd_inspect, inspect_flags, struct inspect_args, 1,
                 "[OPTIONS] CONTAINER [CONTAINER...]",
                 "Display detailed information on one or more containers"),
    /* What a monitor runs when its container exited (not for people). */
    {.name = "cleanup",
     .run = cmd_cleanup,
     .flags = CLI_NEEDS_ENGINE | CLI_ENTERS_CONTAINER,
     .min_args = 1,
     .max_args = 1,
     .usage = "CONTAINER",
     .help = "Record a detached container's exit (run by its monitor)"},
    {.name = NULL},
};
