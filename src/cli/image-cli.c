/* Image commands: pull, push, images, rmi, tag, inspect, history, save, load,
 * import, prune, login, logout. Thin: parse, call the image room, print. */
#include <errno.h>
#include <fnmatch.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/format.h"
#include "cli/progress.h"
#include "engine/engine.h"
#include "image/image-db.h"
#include "image/images.h"
#include "image/reference.h"
#include "util/cleanup.h"
#include "util/digest.h"
#include "util/error.h"
#include "util/strv.h"

struct pull_args {
	bool quiet;
	bool all_tags;
	const char *platform;
};

static int cmd_pull(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	(void)argc;
	struct pull_args *a = opts;
	_cleanup_image_ref_ struct image_ref *ref = NULL;
	int r = image_ref_parse(argv[0], &ref, err);
	if (r < 0)
		return r;
	if (a->all_tags)
		return vsl_error_set(err, "--all-tags is not supported yet");
	struct progress *prog = a->quiet ? NULL : progress_new(isatty(STDOUT_FILENO), stdout);
	const char *last = strrchr(argv[0], '/');
	if (!a->quiet && ref->digest == NULL && strchr(last ? last : argv[0], ':') == NULL)
		printf("Using default tag: latest\n");
	struct pull_opts po = {.platform = a->platform,
			       .on_event = prog ? progress_event : NULL,
			       .userdata = prog};
	_cleanup_free_ char *id = NULL;
	r = images_pull(engine_images(ctx->engine), argv[0], &po, &id, err);
	progress_free(prog);
	if (r < 0)
		return r;
	_cleanup_free_ char *full = image_ref_string(ref);
	printf("%s\n", full ? full : argv[0]);
	return 0;
}

static const struct cli_flag pull_flags[] = {
    CLI_BOOL("all-tags", 'a', struct pull_args, all_tags, "Download all tagged images in the repository"),
    CLI_STRING("platform", 0, struct pull_args, platform, "Set platform if server is multi-platform capable"),
    CLI_BOOL("quiet", 'q', struct pull_args, quiet, "Suppress verbose output"),
    CLI_END,
};

/* ---- images ---- */

struct images_args {
	bool all, quiet, digests, no_trunc;
	char **filters;
	const char *format;
};

struct image_row {
	const struct image_record *rec;
	const char *name; /* a stored name or NULL (dangling) */
	char buf[256];
	char *json;
};

static const char *image_lookup(void *row_, const char *field)
{
	struct image_row *row = row_;
	const struct image_record *rec = row->rec;
	char *b = row->buf;
	size_t n = sizeof(row->buf);
	_cleanup_free_ char *familiar = row->name ? image_ref_familiarize(row->name) : NULL;
	if (strcmp(field, "Repository") == 0 || strcmp(field, "Tag") == 0) {
		if (familiar == NULL) {
			snprintf(b, n, "<none>");
			return b;
		}
		/* The tag follows the last ':' after the last '/'. */
		char *slash = strrchr(familiar, '/');
		char *colon = strrchr(familiar, ':');
		if (colon && (!slash || colon > slash))
			*colon = '\0';
		else
			colon = NULL;
		snprintf(b, n, "%s", strcmp(field, "Tag") == 0 ? (colon ? colon + 1 : "<none>") : familiar);
		return b;
	}
	if (strcmp(field, "ID") == 0) {
		snprintf(b, n, "%.12s", digest_hex(rec->id));
		return b;
	}
	if (strcmp(field, "Digest") == 0) {
		const char *d = rec->digests && rec->digests[0] ? strchr(rec->digests[0], '@') : NULL;
		snprintf(b, n, "%s", d ? d + 1 : "<none>");
		return b;
	}
	if (strcmp(field, "CreatedSince") == 0) {
		format_since(b, n, (time_t)rec->created, time(NULL));
		return b;
	}
	if (strcmp(field, "CreatedAt") == 0) {
		struct tm tm;
		time_t t = (time_t)rec->created;
		strftime(b, n, "%Y-%m-%d %H:%M:%S %z %Z", localtime_r(&t, &tm));
		return b;
	}
	if (strcmp(field, "Size") == 0) {
		format_size(b, n, rec->size);
		return b;
	}
	if (strcmp(field, "Containers") == 0)
		return "N/A";
	if (strcmp(field, ".") == 0) {
		free(row->json);
		row->json = NULL;
		json_t *j = json_object();
		static const char *const keys[] = {"Containers", "CreatedAt", "CreatedSince", "Digest", "ID", "Repository", "Size", "Tag"};
		for (size_t i = 0; j && i < ARRAY_SIZE(keys); i++)
			json_object_set_new(j, keys[i], json_string(image_lookup(row, keys[i])));
		row->json = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
		json_decref(j);
		return row->json;
	}
	return NULL;
}

/* --filter dangling=true|false, reference=PATTERN (fnmatch on the familiar name). */
static int image_filter(char **filters, const struct image_record *rec, const char *name, bool *ret,
			struct vsl_error **err)
{
	*ret = true;
	for (char **f = filters; f && *f; f++) {
		const char *eq = strchr(*f, '=');
		if (eq == NULL)
			return vsl_error_set(err, "bad format of filter (expected name=value)");
		const char *v = eq + 1;
		if (strncmp(*f, "dangling=", 9) == 0) {
			bool want = strcmp(v, "true") == 0 || strcmp(v, "1") == 0;
			if (!want && strcmp(v, "false") != 0 && strcmp(v, "0") != 0)
				return vsl_error_set(err, "invalid filter 'dangling=%s'", v);
			if (want != (rec->names == NULL || rec->names[0] == NULL))
				*ret = false;
		} else if (strncmp(*f, "reference=", 10) == 0) {
			_cleanup_free_ char *familiar = name ? image_ref_familiarize(name) : NULL;
			_cleanup_free_ char *bare = familiar ? strdup(familiar) : NULL;
			if (bare) {
				char *slash = strrchr(bare, '/'), *colon = strrchr(bare, ':');
				if (colon && (!slash || colon > slash))
					*colon = '\0';
			}
			if (familiar == NULL || (fnmatch(v, familiar, 0) != 0 && fnmatch(v, bare, 0) != 0))
				*ret = false;
		} else {
			return vsl_error_set(err, "invalid filter '%.*s'", (int)(eq - *f), *f);
		}
	}
	return 0;
}

static int cmd_images(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	struct images_args *a = opts;
	struct image_record **recs = NULL;
	size_t n = 0;
	int r = images_list(engine_images(ctx->engine), &recs, &n, err);
	if (r < 0)
		return r;
	_cleanup_strv_ char **filters = NULL;
	for (char **f = a->filters; f && *f && r >= 0; f++)
		r = strv_append(&filters, *f) < 0 ? vsl_error_errno(err, ENOMEM, "images") : 0;
	_cleanup_free_ char *ref_filter = NULL;
	if (r >= 0 && argc == 1 && (asprintf(&ref_filter, "reference=%s", argv[0]) < 0 || strv_append(&filters, ref_filter) < 0))
		r = vsl_error_errno(err, ENOMEM, "images");

	struct table *t = NULL;
	const char *cols = a->digests ? "{{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
				      : "{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
	const char *heads = a->digests ? "REPOSITORY\tTAG\tDIGEST\tIMAGE ID\tCREATED\tSIZE"
				       : "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE";
	if (r >= 0)
		r = table_new(a->quiet ? "{{.ID}}" : a->format, cols, heads, &t, err);
	_cleanup_strv_ char **seen = NULL;
	for (size_t i = 0; r >= 0 && i < n; i++) {
		char **names = recs[i]->names;
		size_t k = names && names[0] ? strv_length(names) : 1;
		for (size_t j = 0; r >= 0 && j < k; j++) {
			struct image_row row = {.rec = recs[i], .name = names ? names[j] : NULL};
			bool keep;
			if ((r = image_filter(filters, recs[i], row.name, &keep, err)) < 0 || !keep)
				continue;
			if (a->quiet) {
				/* -q: each id once. */
				if (strv_contains(seen, recs[i]->id))
					continue;
				if (strv_append(&seen, recs[i]->id) < 0)
					r = vsl_error_errno(err, ENOMEM, "images");
			}
			if (r >= 0)
				r = table_row(t, image_lookup, &row, err);
			free(row.json);
		}
	}
	table_print_free(r >= 0 ? t : NULL);
	if (r < 0 && t) {
		/* Nothing printed on error. */
	}
	for (size_t i = 0; i < n; i++)
		image_record_free(recs[i]);
	free(recs);
	return r;
}

static const struct cli_flag images_flags[] = {
    CLI_BOOL("all", 'a', struct images_args, all, "Show all images (default hides intermediate images)"),
    CLI_BOOL("digests", 0, struct images_args, digests, "Show digests"),
    CLI_LIST("filter", 'f', struct images_args, filters, "Filter output based on conditions provided"),
    CLI_STRING("format", 0, struct images_args, format, "Format output using a custom template"),
    CLI_BOOL("no-trunc", 0, struct images_args, no_trunc, "Don't truncate output"),
    CLI_BOOL("quiet", 'q', struct images_args, quiet, "Only show image IDs"),
    CLI_END,
};

/* ---- rmi ---- */

struct rmi_args {
	bool force, no_prune;
};

static int cmd_rmi(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	struct rmi_args *a = opts;
	struct remove_opts ro = {.force = a->force, .in_use = engine_image_in_use, .userdata = ctx->engine};
	int failed = 0;
	for (int i = 0; i < argc; i++) {
		_cleanup_strv_ char **lines = NULL;
		_cleanup_error_ struct vsl_error *e = NULL;
		if (images_remove(engine_images(ctx->engine), argv[i], &ro, &lines, &e) < 0) {
			/* Docker goes on with the others and fails at the end. */
			fprintf(stderr, "vessel: %s\n", vsl_error_message(e));
			failed++;
			continue;
		}
		for (char **l = lines; l && *l; l++)
			printf("%s\n", *l);
	}
	(void)err;
	return failed ? 1 : 0;
}

static const struct cli_flag rmi_flags[] = {
    CLI_BOOL("force", 'f', struct rmi_args, force, "Force removal of the image"),
    CLI_BOOL("no-prune", 0, struct rmi_args, no_prune, "Do not delete untagged parents"),
    CLI_END,
};

/* ---- tag ---- */

static int cmd_tag(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	(void)opts, (void)argc;
	return images_tag(engine_images(ctx->engine), argv[0], argv[1], err);
}

/* ---- inspect ---- */

struct inspect_args {
	const char *format;
};

static int cmd_image_inspect(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	struct inspect_args *a = opts;
	struct images *im = engine_images(ctx->engine);
	if (a->format)
		return vsl_error_set(err, "--format is not supported by image inspect yet");
	json_t *all = json_array();
	int r = all ? 0 : vsl_error_errno(err, ENOMEM, "inspect");
	for (int i = 0; r >= 0 && i < argc; i++) {
		_cleanup_free_ char *id = NULL, *text = NULL;
		if ((r = images_resolve(im, argv[i], &id, err)) < 0 || (r = images_inspect(im, id, &text, err)) < 0)
			break;
		json_t *one = json_loads(text, 0, NULL);
		if (one == NULL || json_array_append_new(all, one) < 0)
			r = vsl_error_errno(err, ENOMEM, "inspect");
	}
	/* Docker prints what it found, then fails for the rest. */
	char *out = json_dumps(all, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
	if (out)
		printf("%s\n", out);
	free(out);
	json_decref(all);
	return r;
}

static const struct cli_flag inspect_flags[] = {
    CLI_STRING("format", 'f', struct inspect_args, format, "Format output using a custom template"),
    CLI_END,
};

/* ---- history ---- */

struct history_args {
	bool human_off, quiet, no_trunc;
	const char *format;
};

static int cmd_history(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	(void)argc;
	struct history_args *a = opts;
	struct images *im = engine_images(ctx->engine);
	_cleanup_free_ char *id = NULL;
	int r = images_resolve(im, argv[0], &id, err);
	if (r < 0)
		return r;
	struct image_history_entry *h = NULL;
	size_t n = 0;
	if ((r = images_history(im, id, &h, &n, err)) < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (a->quiet) {
			printf("%s\n", h[i].id ? (a->no_trunc ? h[i].id : digest_hex(h[i].id)) : "<missing>");
			continue;
		}
	}
	if (!a->quiet) {
		printf("%-15s%-15s%-45s%-10s%s\n", "IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT");
		for (size_t i = 0; i < n; i++) {
			char idb[16], when[64], size[32], by[48];
			snprintf(idb, sizeof(idb), "%.12s", h[i].id ? digest_hex(h[i].id) : "<missing>");
			struct tm tm = {0};
			const char *rest = strptime(h[i].created, "%Y-%m-%dT%H:%M:%S", &tm);
			if (rest)
				format_since(when, sizeof(when), timegm(&tm), time(NULL));
			else
				snprintf(when, sizeof(when), "N/A");
			format_size(size, sizeof(size), h[i].size);
			if (!a->no_trunc && strlen(h[i].created_by) > 44)
				snprintf(by, sizeof(by), "%.41s...", h[i].created_by);
			else
				snprintf(by, sizeof(by), "%.44s", h[i].created_by);
			printf("%-15s%-15s%-45s%-10s%s\n", idb, when, by, size, h[i].comment);
		}
	}
	image_history_free(h, n);
	return 0;
}

static const struct cli_flag history_flags[] = {
    CLI_STRING("format", 0, struct history_args, format, "Format output using a custom template"),
    CLI_BOOL("no-trunc", 0, struct history_args, no_trunc, "Don't truncate output"),
    CLI_BOOL("quiet", 'q', struct history_args, quiet, "Only show image IDs"),
    CLI_END,
};

#define PULL_COMMAND(name_)                                                                                      \
	{.name = (name_),                                                                                        \
	 .run = cmd_pull,                                                                                        \
	 .flags = CLI_NEEDS_ENGINE,                                                                              \
	 .min_args = 1,                                                                                          \
	 .max_args = 1,                                                                                          \
	 .options = pull_flags,                                                                                  \
	 .opts_size = sizeof(struct pull_args),                                                                  \
	 .usage = "[OPTIONS] NAME[:TAG|@DIGEST]",                                                                \
	 .help = "Download an image from a registry"}

#define IMAGES_COMMAND(name_)                                                                                    \
	{.name = (name_), .run = cmd_images, .flags = CLI_NEEDS_ENGINE, .min_args = 0, .max_args = 1,            \
	 .options = images_flags, .opts_size = sizeof(struct images_args), .usage = "[OPTIONS] [REPOSITORY[:TAG]]", \
	 .help = "List images"}
#define RMI_COMMAND(name_)                                                                                       \
	{.name = (name_), .run = cmd_rmi, .flags = CLI_NEEDS_ENGINE, .min_args = 1, .max_args = CLI_ARGS_ANY,    \
	 .options = rmi_flags, .opts_size = sizeof(struct rmi_args), .usage = "[OPTIONS] IMAGE [IMAGE...]",        \
	 .help = "Remove one or more images"}
#define TAG_COMMAND(name_)                                                                                       \
	{.name = (name_), .run = cmd_tag, .flags = CLI_NEEDS_ENGINE, .min_args = 2, .max_args = 2,               \
	 .usage = "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",                                                       \
	 .help = "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE"}
#define HISTORY_COMMAND(name_)                                                                                   \
	{.name = (name_), .run = cmd_history, .flags = CLI_NEEDS_ENGINE, .min_args = 1, .max_args = 1,           \
	 .options = history_flags, .opts_size = sizeof(struct history_args), .usage = "[OPTIONS] IMAGE",          \
	 .help = "Show the history of an image"}

/* `vessel image ...` */
const struct cli_command image_commands[] = {
    PULL_COMMAND("pull"),
    IMAGES_COMMAND("ls"),
    RMI_COMMAND("rm"),
    TAG_COMMAND("tag"),
    HISTORY_COMMAND("history"),
    {.name = "inspect", .run = cmd_image_inspect, .flags = CLI_NEEDS_ENGINE, .min_args = 1,
     .max_args = CLI_ARGS_ANY, .options = inspect_flags, .opts_size = sizeof(struct inspect_args),
     .usage = "[OPTIONS] IMAGE [IMAGE...]", .help = "Display detailed information on one or more images"},
    {.name = NULL},
};

/* The same commands under Docker's top-level names. */
const struct cli_command image_toplevel_commands[] = {
    PULL_COMMAND("pull"),
    IMAGES_COMMAND("images"),
    RMI_COMMAND("rmi"),
    TAG_COMMAND("tag"),
    HISTORY_COMMAND("history"),
    {.name = NULL},
};
