/* Volume commands: volume create, ls, inspect, rm, prune. Thin: flags ->
 * engine/volumes.h -> Docker's output. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/format.h"
#include "engine/volume-store.h"
#include "engine/volumes.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/strv.h"

/* ---- create ---- */

struct create_args {
	const char *driver;
	char **opts;
	char **labels;
	const char *name;
};

static int cmd_create(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	struct create_args *a = opts;
	const char *name = argc > 0 ? argv[0] : a->name;
	if (argc > 0 && a->name && strcmp(a->name, argv[0]) != 0)
		return vsl_error_set(
		    err, "conflicting options: either specify --name or provide positional arg, not both");
	struct volume_create_opts o = {.driver = a->driver, .labels = a->labels, .options = a->opts};
	_cleanup_free_ char *made = NULL;
	int r = volumes_create(ctx->engine, name, &o, &made, err);
	if (r < 0)
		return r;
	printf("%s\n", made);
	return 0;
}

/* ---- ls, inspect ---- */

struct volume_row {
	const struct volume_record *rec;
	struct engine *e;
	char buf[4096];
	char *json;
};

/* "k=v,k2=v2" from a JSON object of strings, into buf. */
static const char *kv_text(const char *json, char *buf, size_t n)
{
	json_t *o = json_loads(json, 0, NULL);
	const char *k;
	json_t *v;
	size_t len = 0;
	buf[0] = '\0';
	json_object_foreach(o, k, v)
	{
		int w = snprintf(buf + len, n - len, "%s%s=%s", len ? "," : "", k, json_string_value(v));
		if (w < 0 || (size_t)w >= n - len)
			break;
		len += (size_t)w;
	}
	json_decref(o);
	return buf;
}

static const char *volume_lookup(void *row_, const char *field)
{
	struct volume_row *row = row_;
	const struct volume_record *v = row->rec;
	if (strcmp(field, "Name") == 0)
		return v->name;
	if (strcmp(field, "Driver") == 0)
		return v->driver;
	if (strcmp(field, "Scope") == 0)
		return "local";
	if (strcmp(field, "Labels") == 0)
		return kv_text(v->labels, row->buf, sizeof(row->buf));
	if (strcmp(field, "Options") == 0)
		return kv_text(v->options, row->buf, sizeof(row->buf));
	if (strcmp(field, "Links") == 0) {
		snprintf(row->buf, sizeof(row->buf), "%u", v->users);
		return row->buf;
	}
	if (strcmp(field, "Size") == 0) {
		uint64_t size = 0;
		if (volumes_size(row->e, v->name, &size, NULL) < 0)
			return "N/A";
		format_size(row->buf, sizeof(row->buf), size);
		return row->buf;
	}
	if (strcmp(field, "Mountpoint") == 0 || strcmp(field, "CreatedAt") == 0 || strcmp(field, ".") == 0) {
		free(row->json);
		row->json = NULL;
		if (volumes_inspect(row->e, v->name, &row->json, NULL) < 0)
			return NULL;
		if (strcmp(field, ".") == 0) {
			json_t *j = json_loads(row->json, 0, NULL);
			free(row->json);
			row->json = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
			json_decref(j);
			return row->json;
		}
		json_t *j = json_loads(row->json, 0, NULL);
		snprintf(row->buf, sizeof(row->buf), "%s", json_string_value(json_object_get(j, field)));
		json_decref(j);
		return row->buf;
	}
	return NULL;
}

/* --filter dangling=, name= (substring), label=KEY[=VALUE], driver=. */
static int volume_filter(char **filters, const struct volume_record *v, bool *ret, struct vsl_error **err)
{
	*ret = true;
	for (char **f = filters; f && *f; f++) {
		const char *eq = strchr(*f, '=');
		if (eq == NULL)
			return vsl_error_set(err, "bad format of filter (expected name=value)");
		const char *val = eq + 1;
		size_t klen = (size_t)(eq - *f);
		if (klen == 8 && strncmp(*f, "dangling", 8) == 0) {
			bool want = strcmp(val, "true") == 0 || strcmp(val, "1") == 0;
			if (!want && strcmp(val, "false") != 0 && strcmp(val, "0") != 0)
				return vsl_error_set(err, "invalid filter 'dangling=%s'", val);
			if (want != (v->users == 0))
				*ret = false;
		} else if (klen == 4 && strncmp(*f, "name", 4) == 0) {
			if (strstr(v->name, val) == NULL)
				*ret = false;
		} else if (klen == 6 && strncmp(*f, "driver", 6) == 0) {
			if (strcmp(v->driver, val) != 0)
				*ret = false;
		} else if (klen == 5 && strncmp(*f, "label", 5) == 0) {
			const char *veq = strchr(val, '=');
			_cleanup_free_ char *key = veq ? strndup(val, (size_t)(veq - val)) : strdup(val);
			json_t *o = json_loads(v->labels, 0, NULL);
			json_t *have = key ? json_object_get(o, key) : NULL;
			if (have == NULL || (veq && strcmp(json_string_value(have), veq + 1) != 0))
				*ret = false;
			json_decref(o);
		} else {
			return vsl_error_set(err, "invalid filter '%.*s'", (int)klen, *f);
		}
	}
	return 0;
}

struct ls_args {
	bool quiet;
	char **filters;
	const char *format;
};

static int cmd_ls(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	(void)argc, (void)argv;
	struct ls_args *a = opts;
	struct volume_record **l = NULL;
	size_t n = 0;
	int r = volumes_list(ctx->engine, &l, &n, err);
	if (r < 0)
		return r;
	struct table *t = NULL;
	r = table_new(a->quiet ? "{{.Name}}" : a->format, "{{.Driver}}\t{{.Name}}", "DRIVER\tVOLUME NAME", &t,
	              err);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		bool keep;
		if ((r = volume_filter(a->filters, l[i], &keep, err)) < 0 || !keep)
			continue;
		struct volume_row row = {.rec = l[i], .e = ctx->engine};
		r = table_row(t, volume_lookup, &row, err);
		free(row.json);
	}
	if (t)
		table_print_free(t);
	volume_record_list_free(l, n);
	return r;
}

struct inspect_args {
	const char *format;
};

static int cmd_inspect(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	struct inspect_args *a = opts;
	int failed = 0;
	struct table *t = NULL;
	if (a->format && table_new(a->format, "", "", &t, err) < 0)
		return -EINVAL;
	json_t *all = json_array();
	for (int i = 0; i < argc; i++) {
		_cleanup_error_ struct vsl_error *e = NULL;
		_cleanup_volume_record_ struct volume_record *v = NULL;
		_cleanup_free_ char *text = NULL;
		if (volumes_get(ctx->engine, argv[i], &v, &e) < 0 ||
		    volumes_inspect(ctx->engine, argv[i], &text, &e) < 0) {
			fprintf(stderr, "vessel: %s\n", vsl_error_message(e));
			failed = 1;
			continue;
		}
		if (t) {
			struct volume_row row = {.rec = v, .e = ctx->engine};
			if (table_row(t, volume_lookup, &row, &e) < 0) {
				fprintf(stderr, "vessel: %s\n", vsl_error_message(e));
				failed = 1;
			}
			free(row.json);
			continue;
		}
		json_array_append_new(all, json_loads(text, JSON_DECODE_ANY, NULL));
	}
	if (t) {
		table_print_free(t);
	} else {
		char *out = json_dumps(all, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
		if (out)
			printf("%s\n", out);
		free(out);
	}
	json_decref(all);
	return failed;
}

/* ---- rm, prune ---- */

struct rm_args {
	bool force;
};

static int do_rm(struct engine *e, const char *name, const void *arg, struct vsl_error **err)
{
	const struct rm_args *a = arg;
	return volumes_remove(e, name, a->force, err);
}

static int cmd_rm(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	(void)err;
	return cli_each(ctx, argc, argv, do_rm, opts);
}

struct prune_args {
	bool all, force;
	char **filters;
};

static int cmd_prune(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	(void)argc, (void)argv;
	struct prune_args *a = opts;
	if (a->filters && a->filters[0])
		return vsl_error_set(err, "volume prune: --filter is not supported yet");
	if (!a->force && !cli_confirm("This will remove %s local volumes not used by at least one container.",
	                              a->all ? "all" : "anonymous"))
		return 0;
	_cleanup_strv_ char **gone = NULL;
	uint64_t reclaimed = 0;
	int r = volumes_prune(ctx->engine, a->all, &gone, &reclaimed, err);
	if (r < 0)
		return r;
	if (gone && gone[0]) {
		printf("Deleted Volumes:\n");
		for (char **g = gone; *g; g++)
			printf("%s\n", *g);
		printf("\n");
	}
	char size[32];
	format_size(size, sizeof(size), reclaimed);
	printf("Total reclaimed space: %s\n", size);
	return 0;
}

static const struct cli_flag create_flags[] = {
    CLI_STRING("driver", 'd', struct create_args, driver, "Specify volume driver name"),
    CLI_LIST("opt", 'o', struct create_args, opts, "Set driver specific options"),
    CLI_LIST("label", 0, struct create_args, labels, "Set metadata for a volume"),
    CLI_STRING("name", 0, struct create_args, name, "Specify volume name"),
    CLI_END,
};
static const struct cli_flag ls_flags[] = {
    CLI_BOOL("quiet", 'q', struct ls_args, quiet, "Only display volume names"),
    CLI_LIST("filter", 'f', struct ls_args, filters, "Provide filter values (e.g. \"dangling=true\")"),
    CLI_STRING("format", 0, struct ls_args, format, "Format output using a custom template"),
    CLI_END,
};
static const struct cli_flag inspect_flags[] = {
    CLI_STRING("format", 'f', struct inspect_args, format, "Format output using a custom template"),
    CLI_END,
};
static const struct cli_flag rm_flags[] = {
    CLI_BOOL("force", 'f', struct rm_args, force, "Force the removal of one or more volumes"),
    CLI_END,
};
static const struct cli_flag prune_flags[] = {
    CLI_BOOL("all", 'a', struct prune_args, all, "Remove all unused volumes, not just anonymous ones"),
    CLI_BOOL("force", 'f', struct prune_args, force, "Do not prompt for confirmation"),
    CLI_LIST("filter", 0, struct prune_args, filters, "Provide filter values (e.g. \"label=<label>\")"),
    CLI_END,
};

#define VOLUME_COMMAND(name_, fn, fl, T, min, max, usage_, help_)                                            \
	{                                                                                                    \
		.name = (name_), .run = (fn), .flags = CLI_NEEDS_ENGINE, .min_args = (min),                  \
		.max_args = (max), .options = (fl), .opts_size = sizeof(T), .usage = (usage_),               \
		.help = (help_)                                                                              \
	}

const struct cli_command volume_commands[] = {
    VOLUME_COMMAND("create", cmd_create, create_flags, struct create_args, 0, 1, "[OPTIONS] [VOLUME]",
                   "Create a volume"),
    VOLUME_COMMAND("ls", cmd_ls, ls_flags, struct ls_args, 0, 0, "[OPTIONS]", "List volumes"),
    VOLUME_COMMAND("list", cmd_ls, ls_flags, struct ls_args, 0, 0, "[OPTIONS]", "List volumes"),
    VOLUME_COMMAND("inspect", cmd_inspect, inspect_flags, struct inspect_args, 1, CLI_ARGS_ANY,
                   "[OPTIONS] VOLUME [VOLUME...]", "Display detailed information on one or more volumes"),
    VOLUME_COMMAND("rm", cmd_rm, rm_flags, struct rm_args, 1, CLI_ARGS_ANY, "[OPTIONS] VOLUME [VOLUME...]",
                   "Remove one or more volumes"),
    VOLUME_COMMAND("remove", cmd_rm, rm_flags, struct rm_args, 1, CLI_ARGS_ANY,
                   "[OPTIONS] VOLUME [VOLUME...]", "Remove one or more volumes"),
    VOLUME_COMMAND("prune", cmd_prune, prune_flags, struct prune_args, 0, 0, "[OPTIONS]",
                   "Remove unused local volumes"),
    {.name = NULL},
};
