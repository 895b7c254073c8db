/* `image inspect` and `history`: an image record and its config, shaped as
 * Docker prints them. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "image/blob-store.h"
#include "image/image-db.h"
#include "image/images-internal.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "storage/layer-store.h"
#include "util/cleanup.h"
#include "util/error.h"

#define _cleanup_json_ _cleanup_(json_decrefp)

static json_t *familiar_array(char **names)
{
	json_t *a = json_array();
	for (char **n = names; a && n && *n; n++) {
		_cleanup_free_ char *f = image_ref_familiarize(*n);
		if (f == NULL || json_array_append_new(a, json_string(f)) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static int load_config(struct images *im, const char *id, json_t **ret, struct vsl_error **err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r = blob_store_read(im->blobs, id, IMAGE_CONFIG_MAX_SIZE, &text, &len, err);
	if (r < 0)
		return r;
	json_error_t jerr;
	json_t *j = json_loadb(text, len, 0, &jerr);
	if (j == NULL || !json_is_object(j)) {
		json_decref(j);
		return vsl_error_set(err, "image config %s: %s", id, j ? "expected an object" : jerr.text);
	}
	*ret = j;
	return 0;
}

/* overlay2's view: the layer directories, lowest last as overlay lists them. */
static json_t *graph_driver(struct images *im, const struct image_record *rec)
{
	size_t n = 0;
	while (rec->chain_ids && rec->chain_ids[n])
		n++;
	_cleanup_free_ char *lower = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&lower, &size);
	if (f == NULL)
		return NULL;
	for (size_t i = n; i-- > 0;) {
		_cleanup_free_ char *path = layer_store_diff_path(im->layers, rec->chain_ids[i]);
		fprintf(f, "%s%s", i + 1 == n ? "" : ":", path ? path : "");
	}
	fclose(f);
	return json_pack("{s:s, s:{s:s}}", "Name", "overlay2", "Data", "LowerDir", lower ? lower : "");
}

int images_inspect(struct images *im, const char *id, char **ret_json, struct vsl_error **err)
{
	_cleanup_image_record_ struct image_record *rec = NULL;
	int r = image_db_get(im->db, id, &rec, err);
	if (r < 0)
		return r;
	_cleanup_json_ json_t *config = NULL;
	if ((r = load_config(im, id, &config, err)) < 0)
		return r;
	json_t *rootfs = json_object_get(config, "rootfs");
	json_t *layers = json_object_get(rootfs, "diff_ids");
	json_t *cfg = json_object_get(config, "config");
	const char *comment = json_string_value(json_object_get(config, "comment"));
	const char *created = json_string_value(json_object_get(config, "created"));
	const char *author = json_string_value(json_object_get(config, "author"));
	const char *docker_version = json_string_value(json_object_get(config, "docker_version"));

	_cleanup_json_ json_t *out = json_pack(
	    "{s:s, s:o*, s:o*, s:s, s:s, s:s, s:s, s:s, s:O, s:s, s:s, s:I, s:o*, s:{s:s, s:O}, s:{s:s}}",
	    "Id", rec->id, "RepoTags", familiar_array(rec->names), "RepoDigests",
	    familiar_array(rec->digests), "Parent", "", "Comment", comment ? comment : "", "Created",
	    created ? created : "", "DockerVersion", docker_version ? docker_version : "", "Author",
	    author ? author : "", "Config", cfg ? cfg : json_null(), "Architecture",
	    rec->architecture ? rec->architecture : "", "Os", rec->os ? rec->os : "", "Size",
	    (json_int_t)rec->size, "GraphDriver", graph_driver(im, rec), "RootFS", "Type", "layers", "Layers",
	    layers ? layers : json_array(), "Metadata", "LastTagTime", "0001-01-01T00:00:00Z");
	if (out == NULL)
		return vsl_error_errno(err, ENOMEM, "inspect %s", id);
	if (rec->variant && *rec->variant)
		json_object_set_new(out, "Variant", json_string(rec->variant));
	char *text = json_dumps(out, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
	if (text == NULL)
		return vsl_error_errno(err, ENOMEM, "inspect %s", id);
	*ret_json = text;
	return 0;
}

void image_history_free(struct image_history_entry *h, size_t n)
{
	for (size_t i = 0; h && i < n; i++) {
		free(h[i].id);
		free(h[i].created);
		free(h[i].created_by);
		free(h[i].comment);
	}
	free(h);
}

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

int images_history(struct images *im, const char *id, struct image_history_entry **ret, size_t *ret_n,
                   struct vsl_error **err)
{
	_cleanup_image_record_ struct image_record *rec = NULL;
	int r = image_db_get(im->db, id, &rec, err);
	if (r < 0)
		return r;
	_cleanup_json_ json_t *config = NULL;
	if ((r = load_config(im, id, &config, err)) < 0)
		return r;
	json_t *hist = json_object_get(config, "history");
	size_t n = json_is_array(hist) ? json_array_size(hist) : 0;
	struct image_history_entry *h = calloc(n ? n : 1, sizeof(*h));
	if (h == NULL)
		return vsl_error_errno(err, ENOMEM, "history");
	/* Non-empty entries take the image's layers in order. */
	size_t layer = 0;
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(hist, i);
		struct image_history_entry *out = &h[n - 1 - i];
		out->created = dup_or_empty(json_string_value(json_object_get(e, "created")));
		out->created_by = dup_or_empty(json_string_value(json_object_get(e, "created_by")));
		out->comment = dup_or_empty(json_string_value(json_object_get(e, "comment")));
		if (!json_is_true(json_object_get(e, "empty_layer")) && rec->chain_ids &&
		    rec->chain_ids[layer]) {
			_cleanup_layer_record_ struct layer_record *lr = NULL;
			if (image_db_get_layer(im->db, rec->chain_ids[layer], &lr, NULL) >= 0)
				out->size = lr->size;
			layer++;
		}
		if (!out->created || !out->created_by || !out->comment) {
			image_history_free(h, n);
			return vsl_error_errno(err, ENOMEM, "history");
		}
	}
	if (n > 0 && (h[0].id = strdup(rec->id)) == NULL) {
		image_history_free(h, n);
		return vsl_error_errno(err, ENOMEM, "history");
	}
	*ret = h;
	*ret_n = n;
	return 0;
}
