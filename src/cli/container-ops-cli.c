/* Commands on existing containers: exec, top, stats, pause, unpause,
 * restart, rename, container prune. Thin: flags -> engine calls -> Docker's
 * output. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/format.h"
#include "engine/container-ops.h"
#include "engine/container-store.h"
#include "engine/containers.h"
#include "engine/logs.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/strv.h"

/* Docker's exit code for a daemon's refusal (no such container, not running). */
#define EXIT_REFUSED 1

/* ---- exec ---- */

struct exec_args {
	bool interactive, tty, detach, privileged;
	const char *user, *workdir, *detach_keys;
	char **env, **env_files;
};

/* "K=V" as given; a bare "K" takes the value of our own environment, and is left out without one. */
static int add_env(char ***env, const char *entry)
{
	if (strchr(entry, '=') != NULL)
		return strv_append(env, entry);
	const char *v = getenv(entry);
	if (v == NULL)
		return 0;
	_cleanup_free_ char *kv = NULL;
	if (asprintf(&kv, "%s=%s", entry, v) < 0)
		return -ENOMEM;
	return strv_append(env, kv);
}

/* Docker's env file: one K=V (or K) a line; blank lines and # comments skipped. */
static int read_env_file(const char *path, char ***env, struct vsl_error **err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r = read_file_at(AT_FDCWD, path, 1 << 20, &text, &len, err);
	if (r < 0)
		return r;
	for (char *line = text; line && *line;) {
		char *next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		line += strspn(line, " \t");
		size_t n = strlen(line);
		if (n && line[n - 1] == '\r')
			line[--n] = '\0';
		if (n && line[0] != '#') {
			char *eq = strchr(line, '=');
			size_t klen = eq ? (size_t)(eq - line) : n;
			if (eq == NULL)
				while (klen && (line[klen - 1] == ' ' || line[klen - 1] == '\t'))
					line[--klen] = '\0';
			if (klen == 0)
				return vsl_error_set(err, "invalid environment variable: %s", line);
			if (strcspn(line, " \t") < klen)
				return vsl_error_set(err, "variable '%.*s' contains whitespaces", (int)klen,
				                     line);
			if (add_env(env, line) < 0)
				return vsl_error_errno(err, ENOMEM, "read '%s'", path);
		}
		line = next;
	}
	return 0;
}

static int cmd_exec(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	(void)argc;
	struct exec_args *a = opts;
	_cleanup_strv_ char **env = NULL;
	int r;
	for (char **f = a->env_files; f && *f; f++)
		if ((r = read_env_file(*f, &env, err)) < 0)
			return r;
	for (char **e = a->env; e && *e; e++)
		if (add_env(&env, *e) < 0)
			return vsl_error_errno(err, ENOMEM, "exec");
	struct container_exec_opts o = {
	    .args = argv + 1,
	    .env = env,
	    .cwd = a->workdir,
	    .user = a->user,
	    .interactive = a->interactive,
	    .tty = a->tty,
	    .detach = a->detach,
	    .privileged = a->privileged,
	};
	fflush(stdout);
	int status = 0;
	_cleanup_error_ struct vsl_error *e = NULL;
	if ((r = containers_exec(ctx->engine, argv[0], &o, &status, &e)) >= 0)
		return status;
	/* Docker: 127 not found, 126 cannot execute; a refusal of the container's state is 1. */
	int code = containers_start_failure_code(e);
	if (code == 125 && (r == -ENOENT || r == -EINVAL))
		code = EXIT_REFUSED;
	fprintf(stderr, "vessel: %s\n", vsl_error_message(e));
	return code;
}

/* ---- top ---- */

/* As Go's tabwriter with minwidth 20, padding 3 (what docker top prints through). */
static void print_columns(char **cells, size_t n, const size_t *widths)
{
	for (size_t i = 0; i < n; i++) {
		if (i + 1 < n)
			printf("%-*s", (int)widths[i], cells[i]);
		else
			printf("%s\n", cells[i]);
	}
}

static int cmd_top(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	(void)opts, (void)argc;
	struct container_top t = {0};
	int r = containers_top(ctx->engine, argv[0], argv + 1, &t, err);
	if (r < 0)
		return r;
	size_t n = strv_length(t.titles);
	_cleanup_free_ size_t *widths = calloc(n ? n : 1, sizeof(size_t));
	if (widths == NULL) {
		container_top_release(&t);
		return vsl_error_errno(err, ENOMEM, "top");
	}
	for (size_t c = 0; c < n; c++) {
		size_t w = strlen(t.titles[c]);
		for (size_t p = 0; p < t.n_processes; p++)
			if (c < strv_length(t.processes[p]) && strlen(t.processes[p][c]) > w)
				w = strlen(t.processes[p][c]);
		widths[c] = w + 3 < 20 ? 20 : w + 3;
	}
	print_columns(t.titles, n, widths);
	for (size_t p = 0; p < t.n_processes; p++)
		print_columns(t.processes[p], strv_length(t.processes[p]), widths);
	container_top_release(&t);
	return 0;
}

/* ---- stats ---- */

struct stats_args {
	bool all, no_stream, no_trunc;
	const char *format;
};

struct stats_entry {
	char *id, *name, *given;
	struct stats_sample prev, cur;
	bool have_prev;
};

struct stats_row {
	const struct stats_entry *s;
	bool no_trunc;
	char buf[128];
	char *json;
};

/* units.BytesSize: binary units, 4 significant digits ("64MiB", "1.953GiB"). */
static void bytes_size(char *b, size_t n, uint64_t v)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	double d = (double)v;
	size_t u = 0;
	while (d >= 1024.0 && u + 1 < ARRAY_SIZE(units)) {
		d /= 1024.0;
		u++;
	}
	snprintf(b, n, "%.4g%s", d, units[u]);
}

static const char *stats_lookup(void *row_, const char *field)
{
	struct stats_row *row = row_;
	const struct stats_entry *e = row->s;
	const struct stats_sample *c = &e->cur;
	char *b = row->buf, x[32], y[32];
	size_t n = sizeof(row->buf);
	if (strcmp(field, "ID") == 0) {
		snprintf(b, n, row->no_trunc ? "%s" : "%.12s", e->id);
	} else if (strcmp(field, "Container") == 0) {
		snprintf(b, n, "%s", e->given);
	} else if (strcmp(field, "Name") == 0) {
		snprintf(b, n, "%s", e->name);
	} else if (strcmp(field, "CPUPerc") == 0) {
		snprintf(b, n, "%.2f%%", e->have_prev ? stats_cpu_percent(&e->prev, c) : 0.0);
	} else if (strcmp(field, "MemUsage") == 0) {
		bytes_size(x, sizeof(x), c->mem_usage);
		bytes_size(y, sizeof(y), c->mem_limit == STATS_NO_LIMIT ? 0 : c->mem_limit);
		snprintf(b, n, "%s / %s", x, y);
	} else if (strcmp(field, "MemPerc") == 0) {
		snprintf(b, n, "%.2f%%", stats_mem_percent(c));
	} else if (strcmp(field, "NetIO") == 0) {
		format_size(x, sizeof(x), c->net_rx);
		format_size(y, sizeof(y), c->net_tx);
		snprintf(b, n, "%s / %s", x, y);
	} else if (strcmp(field, "BlockIO") == 0) {
		format_size(x, sizeof(x), c->blk_read);
		format_size(y, sizeof(y), c->blk_write);
		snprintf(b, n, "%s / %s", x, y);
	} else if (strcmp(field, "PIDs") == 0) {
		snprintf(b, n, "%llu", (unsigned long long)c->pids);
	} else if (strcmp(field, ".") == 0) {
		static const char *const keys[] = {"BlockIO",  "CPUPerc", "Container", "ID",  "MemPerc",
		                                   "MemUsage", "Name",    "NetIO",     "PIDs"};
		json_t *j = json_object();
		for (size_t i = 0; j && i < ARRAY_SIZE(keys); i++)
			json_object_set_new(j, keys[i], json_string(stats_lookup(row, keys[i])));
		free(row->json);
		row->json = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
		json_decref(j);
		return row->json;
	} else {
		return NULL;
	}
	return b;
}

static void stats_entries_free(struct stats_entry *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(l[i].id);
		free(l[i].name);
		free(l[i].given);
	}
	free(l);
}

/* The containers to show: those named, else every running one (every one with -a).
 * Readings of containers already shown carry over, for their CPU %. */
static int stats_targets(struct engine *e, const struct stats_args *a, int argc, char **argv,
                         struct stats_entry *old, size_t n_old, struct stats_entry **ret, size_t *ret_n,
                         struct vsl_error **err)
{
	struct container_record **recs = NULL;
	size_t n_recs = 0;
	int r = 0;
	if (argc == 0 && (r = containers_list(e, &recs, &n_recs, err)) < 0)
		return r;
	size_t cap = argc ? (size_t)argc : n_recs;
	struct stats_entry *l = calloc(cap ? cap : 1, sizeof(*l));
	size_t n = 0;
	if (l == NULL)
		r = vsl_error_errno(err, ENOMEM, "stats");
	for (size_t i = 0; r >= 0 && i < cap; i++) {
		_cleanup_container_record_ struct container_record *got = NULL;
		const struct container_record *rec;
		if (argc) {
			if ((r = containers_get(e, argv[i], &got, err)) < 0)
				break;
			rec = got;
		} else {
			rec = recs[i];
			if (!a->all && rec->state != CONTAINER_RUNNING && rec->state != CONTAINER_PAUSED)
				continue;
		}
		struct stats_entry *s = &l[n++];
		s->id = strdup(rec->id);
		s->name = strdup(rec->name);
		s->given = strdup(argc ? argv[i] : rec->id);
		if (!s->id || !s->name || !s->given)
			r = vsl_error_errno(err, ENOMEM, "stats");
		for (size_t k = 0; k < n_old; k++)
			if (strcmp(old[k].id, rec->id) == 0) {
				s->prev = old[k].cur;
				s->have_prev = true;
			}
	}
	container_record_list_free(recs, n_recs);
	if (r < 0) {
		stats_entries_free(l, n);
		return r;
	}
	*ret = l;
	*ret_n = n;
	return 0;
}

static int stats_sample_all(struct engine *e, struct stats_entry *l, size_t n, struct vsl_error **err)
{
	for (size_t i = 0; i < n; i++) {
		int r = containers_stats(e, l[i].id, &l[i].cur, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int stats_print(const struct stats_args *a, const struct stats_entry *l, size_t n,
                       struct vsl_error **err)
{
	struct table *t = NULL;
	int r = table_new(
	    a->format,
	    "{{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{."
	    "PIDs}}",
	    "CONTAINER ID\tNAME\tCPU %\tMEM USAGE / LIMIT\tMEM %\tNET I/O\tBLOCK I/O\tPIDS", &t, err);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		struct stats_row row = {.s = &l[i], .no_trunc = a->no_trunc};
		r = table_row(t, stats_lookup, &row, err);
		free(row.json);
	}
	table_print_free(r >= 0 ? t : NULL);
	return r;
}

static int cmd_stats(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	struct stats_args *a = opts;
	struct stats_entry *l = NULL;
	size_t n = 0;
	bool tty = isatty(STDOUT_FILENO);
	int r = stats_targets(ctx->engine, a, argc, argv, NULL, 0, &l, &n, err);
	/* CPU % is a rate: a first reading, then one a second later for each line printed. */
	if (r >= 0)
		r = stats_sample_all(ctx->engine, l, n, err);
	while (r >= 0) {
		sleep(1);
		struct stats_entry *next = NULL;
		size_t n_next = 0;
		if ((r = stats_targets(ctx->engine, a, argc, argv, l, n, &next, &n_next, err)) < 0)
			break;
		stats_entries_free(l, n);
		l = next;
		n = n_next;
		if ((r = stats_sample_all(ctx->engine, l, n, err)) < 0)
			break;
		if (!a->no_stream && tty)
			fputs("\033[2J\033[H", stdout);
		if ((r = stats_print(a, l, n, err)) < 0 || a->no_stream)
			break;
		/* A reader that went away ends the stream. */
		if (fflush(stdout) != 0) {
			r = errno == EPIPE ? 0 : vsl_error_errno(err, errno, "write output");
			break;
		}
	}
	stats_entries_free(l, n);
	return r;
}

/* ---- pause, unpause, restart, rename ---- */

static int do_pause(struct engine *e, const char *name, const void *arg, struct vsl_error **err)
{
	(void)arg;
	return containers_pause(e, name, err);
}

static int do_unpause(struct engine *e, const char *name, const void *arg, struct vsl_error **err)
{
	(void)arg;
	return containers_unpause(e, name, err);
}

static int cmd_pause(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	(void)opts, (void)err;
	return cli_each(ctx, argc, argv, do_pause, NULL);
}

static int cmd_unpause(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	(void)opts, (void)err;
	return cli_each(ctx, argc, argv, do_unpause, NULL);
}

static int do_restart(struct engine *e, const char *name, const void *arg, struct vsl_error **err)
{
	const struct cli_stop_request *q = arg;
	return containers_restart(e, name, q->timeout, q->sig, err);
}

static int cmd_restart(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	struct cli_stop_request q;
	if (cli_stop_parse(opts, &q, err) < 0)
		return -EINVAL;
	return cli_each(ctx, argc, argv, do_restart, &q);
}

static int cmd_rename(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	(void)opts, (void)argc;
	return containers_rename(ctx->engine, argv[0], argv[1], err);
}

/* ---- container prune ---- */

struct prune_args {
	bool force;
	char **filters;
};

static int prune_filter(char **filters, struct container_prune_filter *f, struct vsl_error **err)
{
	for (char **s = filters; s && *s; s++) {
		const char *eq = strchr(*s, '=');
		if (eq == NULL)
			return vsl_error_set(err, "bad format of filter (expected name=value)");
		size_t klen = (size_t)(eq - *s);
		int r = 0;
		if (klen == 5 && strncmp(*s, "until", 5) == 0) {
			if ((r = logs_parse_time(eq + 1, time(NULL), &f->until_ns, err)) < 0)
				return r;
		} else if (klen == 5 && strncmp(*s, "label", 5) == 0) {
			r = strv_append(&f->labels, eq + 1);
		} else if (klen == 6 && strncmp(*s, "label!", 6) == 0) {
			r = strv_append(&f->not_labels, eq + 1);
		} else {
			return vsl_error_set(err, "invalid filter '%.*s'", (int)klen, *s);
		}
		if (r < 0)
			return vsl_error_errno(err, ENOMEM, "prune");
	}
	return 0;
}

/* units.HumanSize: decimal units, 4 significant digits. */
static void human_size(char *b, size_t n, uint64_t v)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
	double d = (double)v;
	size_t u = 0;
	while (d >= 1000.0 && u + 1 < ARRAY_SIZE(units)) {
		d /= 1000.0;
		u++;
	}
	snprintf(b, n, "%.4g%s", d, units[u]);
}

static int cmd_prune(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	(void)argc, (void)argv;
	struct prune_args *a = opts;
	struct container_prune_filter f = {0};
	int r = prune_filter(a->filters, &f, err);
	if (r >= 0 && !a->force && !cli_confirm("This will remove all stopped containers.")) {
		strv_free(f.labels);
		strv_free(f.not_labels);
		return 0;
	}
	_cleanup_strv_ char **ids = NULL;
	uint64_t space = 0;
	if (r >= 0)
		r = containers_prune(ctx->engine, &f, &ids, &space, err);
	strv_free(f.labels);
	strv_free(f.not_labels);
	if (r < 0)
		return r;
	if (ids[0]) {
		printf("Deleted Containers:\n");
		for (char **id = ids; *id; id++)
			printf("%s\n", *id);
		printf("\n");
	}
	char size[32];
	human_size(size, sizeof(size), space);
	printf("Total reclaimed space: %s\n", size);
	return 0;
}

/* ---- tables ---- */

static const struct cli_flag exec_flags[] = {
    CLI_BOOL("detach", 'd', struct exec_args, detach, "Detached mode: run command in the background"),
    CLI_STRING("detach-keys", 0, struct exec_args, detach_keys,
               "Override the key sequence for detaching a container"),
    CLI_LIST("env", 'e', struct exec_args, env, "Set environment variables"),
    CLI_LIST("env-file", 0, struct exec_args, env_files, "Read in a file of environment variables"),
    CLI_BOOL("interactive", 'i', struct exec_args, interactive, "Keep STDIN open even if not attached"),
    CLI_BOOL("privileged", 0, struct exec_args, privileged, "Give extended privileges to the command"),
    CLI_BOOL("tty", 't', struct exec_args, tty, "Allocate a pseudo-TTY"),
    CLI_STRING("user", 'u', struct exec_args, user, "Username or UID (format: \"<name|uid>[:<group|gid>]\")"),
    CLI_STRING("workdir", 'w', struct exec_args, workdir, "Working directory inside the container"),
    CLI_END,
};
static const struct cli_flag stats_flags[] = {
    CLI_BOOL("all", 'a', struct stats_args, all, "Show all containers (default shows just running)"),
    CLI_STRING("format", 0, struct stats_args, format, "Format output using a custom template"),
    CLI_BOOL("no-stream", 0, struct stats_args, no_stream,
             "Disable streaming stats and only pull the first result"),
    CLI_BOOL("no-trunc", 0, struct stats_args, no_trunc, "Do not truncate output"),
    CLI_END,
};
static const struct cli_flag prune_flags[] = {
    CLI_LIST("filter", 0, struct prune_args, filters, "Provide filter values (e.g. \"until=<timestamp>\")"),
    CLI_BOOL("force", 'f', struct prune_args, force, "Do not prompt for confirmation"),
    CLI_END,
};

struct no_opts {
	char unused;
};

#define OPS_COMMANDS                                                                                         \
	{.name = "exec",                                                                                     \
	 .run = cmd_exec,                                                                                    \
	 .flags = CLI_NEEDS_ENGINE | CLI_STOP_AT_ARG | CLI_ENTERS_CONTAINER,                                 \
	 .min_args = 2,                                                                                      \
	 .max_args = CLI_ARGS_ANY,                                                                           \
	 .options = exec_flags,                                                                              \
	 .opts_size = sizeof(struct exec_args),                                                              \
	 .usage = "[OPTIONS] CONTAINER COMMAND [ARG...]",                                                    \
	 .help = "Execute a command in a running container"},                                                \
	    {.name = "top",                                                                                  \
	     .run = cmd_top,                                                                                 \
	     .flags = CLI_NEEDS_ENGINE | CLI_STOP_AT_ARG,                                                    \
	     .min_args = 1,                                                                                  \
	     .max_args = CLI_ARGS_ANY,                                                                       \
	     .opts_size = sizeof(struct no_opts),                                                            \
	     .usage = "CONTAINER [ps OPTIONS]",                                                              \
	     .help = "Display the running processes of a container"},                                        \
	    {.name = "stats",                                                                                \
	     .run = cmd_stats,                                                                               \
	     .flags = CLI_NEEDS_ENGINE,                                                                      \
	     .max_args = CLI_ARGS_ANY,                                                                       \
	     .options = stats_flags,                                                                         \
	     .opts_size = sizeof(struct stats_args),                                                         \
	     .usage = "[OPTIONS] [CONTAINER...]",                                                            \
	     .help = "Display a live stream of container(s) resource usage statistics"},                     \
	    {.name = "pause",                                                                                \
	     .run = cmd_pause,                                                                               \
	     .flags = CLI_NEEDS_ENGINE,                                                                      \
	     .min_args = 1,                                                                                  \
	     .max_args = CLI_ARGS_ANY,                                                                       \
	     .opts_size = sizeof(struct no_opts),                                                            \
	     .usage = "CONTAINER [CONTAINER...]",                                                            \
	     .help = "Pause all processes within one or more containers"},                                   \
	    {.name = "unpause",                                                                              \
	     .run = cmd_unpause,                                                                             \
	     .flags = CLI_NEEDS_ENGINE,                                                                      \
	     .min_args = 1,                                                                                  \
	     .max_args = CLI_ARGS_ANY,                                                                       \
	     .opts_size = sizeof(struct no_opts),                                                            \
	     .usage = "CONTAINER [CONTAINER...]",                                                            \
	     .help = "Unpause all processes within one or more containers"},                                 \
	    {.name = "restart",                                                                              \
	     .run = cmd_restart,                                                                             \
	     .flags = CLI_NEEDS_ENGINE | CLI_ENTERS_CONTAINER,                                               \
	     .min_args = 1,                                                                                  \
	     .max_args = CLI_ARGS_ANY,                                                                       \
	     .options = cli_stop_flags,                                                                      \
	     .opts_size = sizeof(struct cli_stop_args),                                                      \
	     .usage = "[OPTIONS] CONTAINER [CONTAINER...]",                                                  \
	     .help = "Restart one or more containers"},                                                      \
	{                                                                                                    \
		.name = "rename", .run = cmd_rename, .flags = CLI_NEEDS_ENGINE, .min_args = 2,               \
		.max_args = 2, .opts_size = sizeof(struct no_opts), .usage = "CONTAINER NEW_NAME",           \
		.help = "Rename a container"                                                                 \
	}

const struct cli_command container_ops_toplevel_commands[] = {
    OPS_COMMANDS,
    {.name = NULL},
};

const struct cli_command container_ops_commands[] = {
    OPS_COMMANDS,
    {.name = "prune",
     .run = cmd_prune,
     .flags = CLI_NEEDS_ENGINE,
     .max_args = 0,
     .options = prune_flags,
     .opts_size = sizeof(struct prune_args),
     .usage = "[OPTIONS]",
     .help = "Remove all stopped containers"},
    {.name = NULL},
};
