/* System commands: `system df`, `system reset` (more to come: prune, info). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/format.h"
#include "engine/container-store.h"
#include "engine/disk-usage.h"
#include "engine/engine.h"
#include "engine/reset.h"
#include "engine/volume-store.h"
#include "image/image-db.h"
#include "util/cleanup.h"
#include "util/digest.h"
#include "util/error.h"

/* Docker's units.HumanSize (4 significant digits, decimal units), as `docker
 * system df` prints sizes; `images` uses 3 (format_size). */
static void human_size(char *buf, size_t n, uint64_t bytes)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
	double s = (double)bytes;
	size_t i = 0;
	while (s >= 1000 && i + 1 < ARRAY_SIZE(units)) {
		s /= 1000;
		i++;
	}
	snprintf(buf, n, "%.4g%s", s, units[i]);
}

struct df_args {
	bool verbose;
	const char *format;
};

struct df_row {
	const char *type;
	char total[16], active[16], size[32], reclaimable[48];
};

static const char *df_lookup(void *row_, const char *field)
{
	struct df_row *r = row_;
	if (strcmp(field, "Type") == 0)
		return r->type;
	if (strcmp(field, "TotalCount") == 0)
		return r->total;
	if (strcmp(field, "Active") == 0)
		return r->active;
	if (strcmp(field, "Size") == 0)
		return r->size;
	if (strcmp(field, "Reclaimable") == 0)
		return r->reclaimable;
	return NULL;
}

static void df_fill(struct df_row *row, const char *type, size_t total, size_t active, uint64_t size,
                    uint64_t reclaimable, bool percent)
{
	row->type = type;
	snprintf(row->total, sizeof(row->total), "%zu", total);
	snprintf(row->active, sizeof(row->active), "%zu", active);
	human_size(row->size, sizeof(row->size), size);
	char rec[32];
	human_size(rec, sizeof(rec), reclaimable);
	if (percent)
		snprintf(row->reclaimable, sizeof(row->reclaimable), "%s (%d%%)", rec,
		         size ? (int)(reclaimable * 100 / size) : 0);
	else
		snprintf(row->reclaimable, sizeof(row->reclaimable), "%s", rec);
}

static bool running(const struct container_record *c)
{
	return c->state == CONTAINER_RUNNING || c->state == CONTAINER_PAUSED ||
	       c->state == CONTAINER_RESTARTING;
}

/* A generic row for the -v tables: a field name -> value list. */
struct kv_row {
	const char *const *keys;
	char vals[10][160];
};

static const char *kv_lookup(void *row_, const char *field)
{
	struct kv_row *r = row_;
	for (size_t i = 0; r->keys[i]; i++)
		if (strcmp(r->keys[i], field) == 0)
			return r->vals[i];
	return NULL;
}

static int print_verbose(const struct disk_usage *du, struct vsl_error **err)
{
	struct table *t = NULL;
	int r;
	time_t now = time(NULL);

	printf("Images space usage:\n\n");
	static const char *const ikeys[] = {"Repository", "Tag",        "ID", "CreatedSince",
	                                    "Size",       "Containers", NULL};
	if ((r = table_new(
	         NULL, "{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.Containers}}",
	         "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\tCONTAINERS", &t, err)) < 0)
		return r;
	for (size_t i = 0; r >= 0 && i < du->n_images; i++) {
		const struct image_record *im = du->images[i];
		struct kv_row row = {.keys = ikeys};
		const char *name = im->names && im->names[0] ? im->names[0] : NULL;
		const char *colon = name ? strrchr(name, ':') : NULL;
		const char *slash = name ? strrchr(name, '/') : NULL;
		if (colon && slash && colon < slash)
			colon = NULL;
		snprintf(row.vals[0], sizeof(row.vals[0]), "%.*s",
		         name ? (int)(colon ? colon - name : (long)strlen(name)) : 6, name ? name : "<none>");
		snprintf(row.vals[1], sizeof(row.vals[1]), "%s", colon ? colon + 1 : "<none>");
		snprintf(row.vals[2], sizeof(row.vals[2]), "%.12s", digest_hex(im->id));
		format_since(row.vals[3], sizeof(row.vals[3]), (time_t)im->created, now);
		human_size(row.vals[4], sizeof(row.vals[4]), im->size);
		snprintf(row.vals[5], sizeof(row.vals[5]), "%u", du->image_containers[i]);
		r = table_row(t, kv_lookup, &row, err);
	}
	table_print_free(t);
	if (r < 0)
		return r;

	printf("\nContainers space usage:\n\n");
	static const char *const ckeys[] = {"ID",         "Image",  "LocalVolumes", "Size",
	                                    "RunningFor", "Status", "Names",        NULL};
	if ((r = table_new(NULL,
	                   "{{.ID}}\t{{.Image}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}"
	                   "\t{{.Names}}",
	                   "CONTAINER ID\tIMAGE\tLOCAL VOLUMES\tSIZE\tCREATED\tSTATUS\tNAMES", &t, err)) < 0)
		return r;
	for (size_t i = 0; r >= 0 && i < du->n_containers; i++) {
		const struct container_record *c = du->containers[i];
		struct kv_row row = {.keys = ckeys};
		snprintf(row.vals[0], sizeof(row.vals[0]), "%.12s", c->id);
		snprintf(row.vals[1], sizeof(row.vals[1]), "%s", c->image_name);
		snprintf(row.vals[2], sizeof(row.vals[2]), "%u", du->container_volumes[i]);
		human_size(row.vals[3], sizeof(row.vals[3]), du->container_sizes[i]);
		format_since(row.vals[4], sizeof(row.vals[4]), (time_t)(c->created / 1000000000), now);
		snprintf(row.vals[5], sizeof(row.vals[5]), "%s", container_state_name(c->state));
		snprintf(row.vals[6], sizeof(row.vals[6]), "%s", c->name);
		r = table_row(t, kv_lookup, &row, err);
	}
	table_print_free(t);
	if (r < 0)
		return r;

	printf("\nLocal Volumes space usage:\n\n");
	static const char *const vkeys[] = {"Name", "Links", "Size", NULL};
	if ((r = table_new(NULL, "{{.Name}}\t{{.Links}}\t{{.Size}}", "VOLUME NAME\tLINKS\tSIZE", &t, err)) <
	    0)
		return r;
	for (size_t i = 0; r >= 0 && i < du->n_volumes; i++) {
		struct kv_row row = {.keys = vkeys};
		snprintf(row.vals[0], sizeof(row.vals[0]), "%s", du->volumes[i]->name);
		snprintf(row.vals[1], sizeof(row.vals[1]), "%u", du->volumes[i]->users);
		human_size(row.vals[2], sizeof(row.vals[2]), du->volume_sizes[i]);
		r = table_row(t, kv_lookup, &row, err);
	}
	table_print_free(t);
	if (r < 0)
		return r;
	printf("\nBuild cache usage: 0B\n\n");
	return 0;
}

static int cmd_df(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	(void)argc, (void)argv;
	struct df_args *a = opts;
	_cleanup_disk_usage_ struct disk_usage *du = NULL;
	int r = disk_usage_get(ctx->engine, &du, err);
	if (r < 0)
		return r;
	if (a->verbose && (a->format == NULL || *a->format == '\0'))
		return print_verbose(du, err);

	struct df_row rows[4];
	uint64_t size = 0, reclaim = 0;
	size_t active = 0;
	for (size_t i = 0; i < du->n_images; i++) {
		size += du->images[i]->size;
		if (du->image_containers[i])
			active++;
		else
			reclaim += du->images[i]->size;
	}
	df_fill(&rows[0], "Images", du->n_images, active, size, reclaim, true);
	size = reclaim = 0;
	active = 0;
	for (size_t i = 0; i < du->n_containers; i++) {
		size += du->container_sizes[i];
		if (running(du->containers[i]))
			active++;
		else
			reclaim += du->container_sizes[i];
	}
	df_fill(&rows[1], "Containers", du->n_containers, active, size, reclaim, true);
	size = reclaim = 0;
	active = 0;
	for (size_t i = 0; i < du->n_volumes; i++) {
		size += du->volume_sizes[i];
		if (du->volumes[i]->users)
			active++;
		else
			reclaim += du->volume_sizes[i];
	}
	df_fill(&rows[2], "Local Volumes", du->n_volumes, active, size, reclaim, true);
	df_fill(&rows[3], "Build Cache", 0, 0, 0, 0, false);

	struct table *t = NULL;
	if ((r = table_new(a->format, "{{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}",
	                   "TYPE\tTOTAL\tACTIVE\tSIZE\tRECLAIMABLE", &t, err)) < 0)
		return r;
	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(rows); i++)
		r = table_row(t, df_lookup, &rows[i], err);
	table_print_free(t);
	return r;
}

static const struct cli_flag df_flags[] = {
    CLI_BOOL("verbose", 'v', struct df_args, verbose, "Show detailed information on space usage"),
    CLI_STRING("format", 0, struct df_args, format, "Format output using a custom template"),
    CLI_END,
};

struct reset_args {
	bool force;
};

/* Podman's confirmation. Without a terminal nobody can answer it: a script
 * that did not say -f gets a refusal rather than an empty root. */
static int cmd_reset(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	(void)argc, (void)argv;
	struct reset_args *a = opts;
	if (!a->force) {
		if (!isatty(STDIN_FILENO))
			return vsl_error_set_code(
			    err, EPERM,
			    "system reset removes every container, image, volume and "
			    "network of '%s' and asks first, but there is no terminal "
			    "to ask on: run it with -f (--force) to reset without asking",
			    engine_root(ctx->engine));
		if (!cli_confirm("This will remove everything of the root '%s':\n"
		                 "        - all containers\n"
		                 "        - all images\n"
		                 "        - all networks (the default bridge too)\n"
		                 "        - all volumes",
		                 engine_root(ctx->engine)))
			return 0;
	}
	return engine_system_reset(ctx->engine, err);
}

static const struct cli_flag reset_flags[] = {
    CLI_BOOL("force", 'f', struct reset_args, force, "Do not prompt for confirmation"),
    CLI_END,
};

const struct cli_command system_commands[] = {
    {.name = "df",
     .run = cmd_df,
     .flags = CLI_NEEDS_ENGINE,
     .max_args = 0,
     .options = df_flags,
     .opts_size = sizeof(struct df_args),
     .usage = "[OPTIONS]",
     .help = "Show docker disk usage"},
    {.name = "reset",
     .run = cmd_reset,
     .flags = CLI_NEEDS_ENGINE,
     .max_args = 0,
     .options = reset_flags,
     .opts_size = sizeof(struct reset_args),
     .usage = "[OPTIONS]",
     .help = "Reset vessel storage back to its initial state"},
    {.name = NULL},
};
