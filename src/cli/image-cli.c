/* Image commands: pull, push, images, rmi, tag, inspect, history, save, load,
 * import, prune, login, logout. Thin: parse, call the image room, print. */
#include <errno.h>
#include <fnmatch.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/format.h"
#include "cli/progress.h"
#include "cli/template.h"
#include "engine/engine.h"
#include "engine/logs.h"
#include "image/image-db.h"
#include "image/images.h"
#include "image/manifest.h"
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

/* Every tag of the repository, one after the other, as Docker does; the
 * last line names the repository. */
static int pull_all_tags(struct cli_ctx *ctx, const struct pull_args *a, const struct image_ref *ref,
                         struct vsl_error **err)
{
	struct images *im = engine_images(ctx->engine);
	_cleanup_free_ char *name = image_ref_name(ref);
	if (name == NULL)
		return vsl_error_errno(err, ENOMEM, "pull");
	_cleanup_strv_ char **tags = NULL;
	int r = images_remote_tags(im, name, &tags, err);
	if (r < 0)
		return r;
	if (tags == NULL || tags[0] == NULL)
		return vsl_error_set_code(err, ENOENT, "no tags found for %s", name);
	for (char **t = tags; *t; t++) {
		_cleanup_free_ char *one = NULL;
		if (asprintf(&one, "%s:%s", name, *t) < 0)
			return vsl_error_errno(err, ENOMEM, "pull");
		struct progress *prog = a->quiet ? NULL : progress_new(isatty(STDOUT_FILENO), stdout);
		struct pull_opts po = {
		    .platform = a->platform, .on_event = prog ? progress_event : NULL, .userdata = prog};
		r = images_pull(im, one, &po, NULL, err);
		progress_free(prog);
		if (r < 0)
			return r;
	}
	printf("%s\n", name);
	return 0;
}

static int cmd_pull(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	(void)argc;
	struct pull_args *a = opts;
	_cleanup_image_ref_ struct image_ref *ref = NULL;
	int r = image_ref_parse(argv[0], &ref, err);
	if (r < 0)
		return r;
	const char *last = strrchr(argv[0], '/');
	bool tagged = ref->digest != NULL || strchr(last ? last : argv[0], ':') != NULL;
	if (a->all_tags)
		return tagged ? vsl_error_set(err, "tag can't be used with --all-tags/-a")
		              : pull_all_tags(ctx, a, ref, err);
	struct progress *prog = a->quiet ? NULL : progress_new(isatty(STDOUT_FILENO), stdout);
	if (!a->quiet && !tagged)
		printf("Using default tag: latest\n");
	struct pull_opts po = {
	    .platform = a->platform, .on_event = prog ? progress_event : NULL, .userdata = prog};
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
		static const char *const keys[] = {"Containers", "CreatedAt",  "CreatedSince", "Digest",
		                                   "ID",         "Repository", "Size",         "Tag"};
		for (size_t i = 0; j && i < ARRAY_SIZE(keys); i++)
			json_object_set_new(j, keys[i], json_string(image_lookup(row, keys[i])));
		row->json = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
		json_decref(j);
		return row->json;
	}
	return NULL;
}

/* --filter, parsed once: dangling=BOOL, reference=PATTERN (any of them, fnmatch
 * on the familiar name), before=IMAGE, since=IMAGE, until=TIME, label=K[=V]
 * and label!=K[=V] (all of them). */
struct image_filters {
	int dangling; /* -1: either */
	char **refs;
	int64_t before, since, until; /* created times, exclusive; INT64_MIN/MAX: no bound */
	char **labels, **not_labels;
};

static void image_filters_release(struct image_filters *f)
{
	strv_free(f->refs);
	strv_free(f->labels);
	strv_free(f->not_labels);
}

/* The created time of an image named by the user, from the listed records. */
static int created_of(struct images *im, struct image_record **recs, size_t n, const char *what, int64_t *ret,
                      struct vsl_error **err)
{
	_cleanup_free_ char *id = NULL;
	int r = images_resolve(im, what, &id, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (strcmp(recs[i]->id, id) == 0) {
			*ret = recs[i]->created;
			return 0;
		}
	return vsl_error_set_code(err, ENOENT, "no such image '%s'", what);
}

static int image_filters_parse(struct images *im, char **filters, struct image_record **recs, size_t n,
                               struct image_filters *f, struct vsl_error **err)
{
	*f = (struct image_filters){
	    .dangling = -1, .before = INT64_MAX, .since = INT64_MIN, .until = INT64_MAX};
	for (char **fl = filters; fl && *fl; fl++) {
		const char *eq = strchr(*fl, '=');
		if (eq == NULL)
			return vsl_error_set(err, "bad format of filter (expected name=value)");
		const char *v = eq + 1;
		int r = 0;
		if (strncmp(*fl, "dangling=", 9) == 0) {
			bool want = strcmp(v, "true") == 0 || strcmp(v, "1") == 0;
			if (!want && strcmp(v, "false") != 0 && strcmp(v, "0") != 0)
				return vsl_error_set(err, "invalid filter 'dangling=%s'", v);
			f->dangling = want;
		} else if (strncmp(*fl, "reference=", 10) == 0) {
			r = strv_append(&f->refs, v) < 0 ? -ENOMEM : 0;
		} else if (strncmp(*fl, "label=", 6) == 0) {
			r = strv_append(&f->labels, v) < 0 ? -ENOMEM : 0;
		} else if (strncmp(*fl, "label!=", 7) == 0) {
			r = strv_append(&f->not_labels, v) < 0 ? -ENOMEM : 0;
		} else if (strncmp(*fl, "before=", 7) == 0) {
			if ((r = created_of(im, recs, n, v, &f->before, err)) < 0)
				return r;
		} else if (strncmp(*fl, "since=", 6) == 0) {
			if ((r = created_of(im, recs, n, v, &f->since, err)) < 0)
				return r;
		} else if (strncmp(*fl, "until=", 6) == 0) {
			int64_t ns = 0;
			if ((r = logs_parse_time(v, time(NULL), &ns, err)) < 0)
				return r;
			f->until = ns / 1000000000;
		} else {
			return vsl_error_set(err, "invalid filter '%.*s'", (int)(eq - *fl), *fl);
		}
		if (r < 0)
			return vsl_error_errno(err, ENOMEM, "images");
	}
	return 0;
}

/* "key" matches any value; "key=value" that value. */
static bool config_has_label(const struct image_config *c, const char *want)
{
	const char *eq = strchr(want, '=');
	size_t klen = eq ? (size_t)(eq - want) : strlen(want);
	for (size_t i = 0; c && i < c->config.n_labels; i++) {
		const struct json_kv *kv = &c->config.labels[i];
		if (strlen(kv->key) == klen && strncmp(kv->key, want, klen) == 0 &&
		    (eq == NULL || strcmp(kv->value ? kv->value : "", eq + 1) == 0))
			return true;
	}
	return false;
}

/* What does not depend on the name: one answer per image. */
static int image_matches(struct images *im, const struct image_filters *f, const struct image_record *rec,
                         bool *ret, struct vsl_error **err)
{
	bool dangling = rec->names == NULL || rec->names[0] == NULL;
	*ret = false;
	if ((f->dangling >= 0 && f->dangling != dangling) || rec->created >= f->before ||
	    rec->created <= f->since || rec->created >= f->until)
		return 0;
	if (f->labels || f->not_labels) {
		_cleanup_image_config_ struct image_config *c = NULL;
		int r = images_get_config(im, rec->id, &c, err);
		if (r < 0)
			return r;
		for (char **l = f->labels; l && *l; l++)
			if (!config_has_label(c, *l))
				return 0;
		for (char **l = f->not_labels; l && *l; l++)
			if (config_has_label(c, *l))
				return 0;
	}
	*ret = true;
	return 0;
}

static bool name_matches(const struct image_filters *f, const char *name)
{
	if (f->refs == NULL)
		return true;
	_cleanup_free_ char *familiar = name ? image_ref_familiarize(name) : NULL;
	_cleanup_free_ char *bare = familiar ? strdup(familiar) : NULL;
	if (bare == NULL)
		return false;
	char *slash = strrchr(bare, '/'), *colon = strrchr(bare, ':');
	if (colon && (!slash || colon > slash))
		*colon = '\0';
	for (char **p = f->refs; *p; p++)
		if (fnmatch(*p, familiar, 0) == 0 || fnmatch(*p, bare, 0) == 0)
			return true;
	return false;
}

static int cmd_images(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	struct images_args *a = opts;
	struct images *im = engine_images(ctx->engine);
	struct image_record **recs = NULL;
	size_t n = 0;
	int r = images_list(im, &recs, &n, err);
	if (r < 0)
		return r;
	struct image_filters f;
	r = image_filters_parse(im, a->filters, recs, n, &f, err);
	/* `images REPOSITORY[:TAG]` is one more reference pattern, which must match too. */
	struct image_filters arg = {.refs = NULL};
	if (r >= 0 && argc == 1 && strv_append(&arg.refs, argv[0]) < 0)
		r = vsl_error_errno(err, ENOMEM, "images");

	struct table *t = NULL;
	const char *cols =
	    a->digests ? "{{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
	               : "{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
	const char *heads = a->digests ? "REPOSITORY\tTAG\tDIGEST\tIMAGE ID\tCREATED\tSIZE"
	                               : "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE";
	if (r >= 0)
		r = table_new(a->quiet ? "{{.ID}}" : a->format, cols, heads, &t, err);
	_cleanup_strv_ char **seen = NULL;
	for (size_t i = 0; r >= 0 && i < n; i++) {
		bool keep = false;
		if ((r = image_matches(im, &f, recs[i], &keep, err)) < 0 || !keep)
			continue;
		char **names = recs[i]->names;
		size_t k = names && names[0] ? strv_length(names) : 1;
		for (size_t j = 0; r >= 0 && j < k; j++) {
			struct image_row row = {.rec = recs[i], .name = names ? names[j] : NULL};
			if (!name_matches(&f, row.name) || !name_matches(&arg, row.name))
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
	/* Nothing printed on error. */
	table_print_free(r >= 0 ? t : NULL);
	image_filters_release(&f);
	image_filters_release(&arg);
	image_record_list_free(recs, n);
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
	json_t *all = json_array();
	int r = all ? 0 : vsl_error_errno(err, ENOMEM, "inspect");
	for (int i = 0; r >= 0 && i < argc; i++) {
		_cleanup_free_ char *id = NULL, *text = NULL;
		if ((r = images_resolve(im, argv[i], &id, err)) < 0 ||
		    (r = images_inspect(im, id, &text, err)) < 0)
			break;
		json_t *one = json_loads(text, 0, NULL);
		if (one == NULL || json_array_append_new(all, one) < 0)
			r = vsl_error_errno(err, ENOMEM, "inspect");
	}
	/* Docker prints what it found, then fails for the rest. */
	_cleanup_error_ struct vsl_error *print_err = NULL;
	int q = all ? template_print_inspect(all, a->format, stdout, &print_err) : 0;
	json_decref(all);
	if (q < 0 && r >= 0) {
		*err = TAKE_PTR(print_err);
		return q;
	}
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

/* ---- prune ---- */

struct prune_args {
	bool all, force;
	char **filters;
};

static int prune_filters(char **filters, struct prune_opts *po, struct vsl_error **err)
{
	for (char **f = filters; f && *f; f++) {
		const char *eq = strchr(*f, '=');
		if (eq == NULL)
			return vsl_error_set(err, "bad format of filter (expected name=value)");
		const char *v = eq + 1;
		if (strncmp(*f, "until=", 6) == 0) {
			int64_t ns = 0;
			if (logs_parse_time(v, time(NULL), &ns, err) < 0)
				return -EINVAL;
			po->until = ns / 1000000000;
		} else if (strncmp(*f, "label=", 6) == 0) {
			if (strv_append(&po->labels, v) < 0)
				return vsl_error_errno(err, ENOMEM, "prune");
		} else if (strncmp(*f, "label!=", 7) == 0) {
			if (strv_append(&po->not_labels, v) < 0)
				return vsl_error_errno(err, ENOMEM, "prune");
		} else {
			return vsl_error_set(err, "invalid filter '%.*s'", (int)(eq - *f), *f);
		}
	}
	return 0;
}

static int cmd_image_prune(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	(void)argc, (void)argv;
	struct prune_args *a = opts;
	struct prune_opts po = {.all = a->all, .in_use = engine_image_in_use, .userdata = ctx->engine};
	_cleanup_strv_ char **lines = NULL; /* before the goto: its cleanup runs at out */
	int r = prune_filters(a->filters, &po, err);
	if (r >= 0 && !a->force &&
	    !cli_confirm("%s", a->all
	                           ? "This will remove all images without at least one container associated "
	                             "to them."
	                           : "This will remove all dangling images."))
		goto out;
	uint64_t reclaimed = 0;
	if (r >= 0)
		r = images_prune(engine_images(ctx->engine), &po, &lines, &reclaimed, err);
	if (r >= 0) {
		if (lines && lines[0]) {
			printf("Deleted Images:\n");
			for (char **l = lines; *l; l++)
				printf("%s\n", *l);
			printf("\n");
		}
		char size[32];
		format_size(size, sizeof(size), reclaimed);
		printf("Total reclaimed space: %s\n", size);
	}
out:
	strv_free(po.labels);
	strv_free(po.not_labels);
	return r;
}

static const struct cli_flag prune_flags[] = {
    CLI_BOOL("all", 'a', struct prune_args, all, "Remove all unused images, not just dangling ones"),
    CLI_LIST("filter", 0, struct prune_args, filters, "Provide filter values (e.g. \"until=<timestamp>\")"),
    CLI_BOOL("force", 'f', struct prune_args, force, "Do not prompt for confirmation"),
    CLI_END,
};

#define PULL_COMMAND(name_)                                                                                  \
	{                                                                                                    \
		.name = (name_), .run = cmd_pull, .flags = CLI_NEEDS_ENGINE, .min_args = 1, .max_args = 1,   \
		.options = pull_flags, .opts_size = sizeof(struct pull_args),                                \
		.usage = "[OPTIONS] NAME[:TAG|@DIGEST]", .help = "Download an image from a registry"         \
	}

#define IMAGES_COMMAND(name_)                                                                                \
	{                                                                                                    \
		.name = (name_), .run = cmd_images, .flags = CLI_NEEDS_ENGINE, .min_args = 0, .max_args = 1, \
		.options = images_flags, .opts_size = sizeof(struct images_args),                            \
		.usage = "[OPTIONS] [REPOSITORY[:TAG]]", .help = "List images"                               \
	}
#define RMI_COMMAND(name_)                                                                                   \
	{                                                                                                    \
		.name = (name_), .run = cmd_rmi, .flags = CLI_NEEDS_ENGINE, .min_args = 1,                   \
		.max_args = CLI_ARGS_ANY, .options = rmi_flags, .opts_size = sizeof(struct rmi_args),        \
		.usage = "[OPTIONS] IMAGE [IMAGE...]", .help = "Remove one or more images"                   \
	}
#define TAG_COMMAND(name_)                                                                                   \
	{                                                                                                    \
		.name = (name_), .run = cmd_tag, .flags = CLI_NEEDS_ENGINE, .min_args = 2, .max_args = 2,    \
		.usage = "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",                                            \
		.help = "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE"                              \
	}
#define HISTORY_COMMAND(name_)                                                                               \
	{                                                                                                    \
		.name = (name_), .run = cmd_history, .flags = CLI_NEEDS_ENGINE, .min_args = 1,               \
		.max_args = 1, .options = history_flags, .opts_size = sizeof(struct history_args),           \
		.usage = "[OPTIONS] IMAGE", .help = "Show the history of an image"                           \
	}

/* `vessel image ...` */
const struct cli_command image_commands[] = {
    PULL_COMMAND("pull"),
    IMAGES_COMMAND("ls"),
    RMI_COMMAND("rm"),
    TAG_COMMAND("tag"),
    HISTORY_COMMAND("history"),
    {.name = "inspect",
     .run = cmd_image_inspect,
     .flags = CLI_NEEDS_ENGINE,
     .min_args = 1,
     .max_args = CLI_ARGS_ANY,
     .options = inspect_flags,
     .opts_size = sizeof(struct inspect_args),
     .usage = "[OPTIONS] IMAGE [IMAGE...]",
     .help = "Display detailed information on one or more images"},
    {.name = "prune",
     .run = cmd_image_prune,
     .flags = CLI_NEEDS_ENGINE,
     .min_args = 0,
     .max_args = 0,
     .options = prune_flags,
     .opts_size = sizeof(struct prune_args),
     .usage = "[OPTIONS]",
     .help = "Remove unused images"},
    {.name = NULL},
};

/* The same commands under Docker's top-level names. */
const struct cli_command image_toplevel_commands[] = {
    PULL_COMMAND("pull"), IMAGES_COMMAND("images"),   RMI_COMMAND("rmi"),
    TAG_COMMAND("tag"),   HISTORY_COMMAND("history"), {.name = NULL},
};
