/* `vessel import`: a one-layer image from a tarball of a root filesystem.
 *
 * The tarball (plain, gzip or zstd) is read once: its uncompressed bytes are
 * hashed for the diff id and recompressed with gzip into the content store.
 * That stored blob is then unpacked into the layer store, the config is
 * written from the host's platform and the --change lines, and the image is
 * recorded like a pulled one, so push and save treat it the same way. */
#include <ctype.h>
#include <errno.h>
#include <sys/file.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "image/blob-store.h"
#include "image/compress.h"
#include "image/image-db.h"
#include "image/images-internal.h"
#include "image/layer.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "storage/layer-store.h"
#include "util/cleanup.h"
#include "util/digest.h"
#include "util/error.h"
#include "util/strv.h"

/* ---- the layer ---- */

static int build_config(struct image_config *c, char **changes, const char *message, struct vsl_error **err)
{
	for (char **ch = changes; ch && *ch; ch++) {
		int r = images_config_apply_change(&c->config, *ch, err);
		if (r < 0)
			return vsl_error_prefix(err, "invalid change '%s'", *ch);
	}
	char now[32];
	struct tm tm;
	time_t t = time(NULL);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
	struct platform host = {0};
	int r = platform_host(&host, err);
	if (r < 0)
		return r;
	c->architecture = TAKE_PTR(host.architecture);
	c->variant = TAKE_PTR(host.variant);
	platform_release(&host);
	c->os = strdup("linux");
	c->created = strdup(now);
	c->comment = strdup(message ? message : "Imported from -");
	c->history = calloc(1, sizeof(*c->history));
	if (c->os == NULL || c->created == NULL || c->comment == NULL || c->history == NULL)
		return vsl_error_errno(err, ENOMEM, "import");
	c->n_history = 1;
	c->history[0].created = strdup(now);
	c->history[0].comment = strdup(c->comment);
	if (c->history[0].created == NULL || c->history[0].comment == NULL)
		return vsl_error_errno(err, ENOMEM, "import");
	return 0;
}

static int import_unlocked(struct images *im, int in_fd, const char *name, char **changes,
                           const char *message, char **ret_id, struct vsl_error **err)
{
	/* Everything that can be refused without reading the tarball is, first. */
	_cleanup_image_config_ struct image_config *config = calloc(1, sizeof(*config));
	if (config == NULL)
		return vsl_error_errno(err, ENOMEM, "import");
	int r = build_config(config, changes, message, err);
	if (r < 0)
		return vsl_error_prefix(err, "import");
	_cleanup_free_ char *full = NULL;
	if (name) {
		_cleanup_image_ref_ struct image_ref *ref = NULL;
		if ((r = image_ref_parse(name, &ref, err)) < 0)
			return vsl_error_prefix(err, "import");
		if (ref->digest)
			return vsl_error_set_code(err, EINVAL, "import: '%s': a digest is not a tag", name);
		if ((full = image_ref_string(ref)) == NULL)
			return vsl_error_errno(err, ENOMEM, "import");
	}

	char diff_id[DIGEST_SIZE], blob[DIGEST_SIZE];
	uint64_t blob_size = 0, size = 0;
	bool new_blob = false, new_layer = false;
	char config_digest[DIGEST_SIZE], manifest_digest[DIGEST_SIZE];
	bool had_config = false, had_manifest = false;
	_cleanup_free_ char *config_json = NULL, *manifest_json = NULL;
	size_t config_len = 0, manifest_len = 0;

	r = images_store_compressed(im, in_fd, COMPRESSION_GZIP, diff_id, blob, &blob_size, err);
	/* Whether it was there before decides whether a failure later removes it:
	 * that is only known from its digest, which the commit computes. */
	new_blob = r >= 0;
	if (r >= 0 && (r = images_unpack_blob(im, blob, diff_id, diff_id, &size, err)) < 0)
		vsl_error_prefix(err, "unpack the layer");
	if (r < 0)
		goto fail;
	new_layer = r > 0;

	if ((config->diff_ids = calloc(2, sizeof(char *))) == NULL ||
	    (config->diff_ids[0] = strdup(diff_id)) == NULL) {
		r = vsl_error_errno(err, ENOMEM, "import");
		goto fail;
	}
	if ((config_json = image_config_to_json(config, &config_len)) == NULL) {
		r = vsl_error_set_code(err, EINVAL, "write the image config (a --change that is not UTF-8?)");
		goto fail;
	}
	digest_buffer(config_json, config_len, config_digest);
	had_config = blob_store_has(im->blobs, config_digest);
	if ((r = blob_store_put(im->blobs, config_json, config_len, config_digest, NULL, err)) < 0)
		goto fail;

	struct descriptor layer = {
	    .media_type = (char *)MEDIA_TYPE_OCI_LAYER_GZIP, .digest = blob, .size = (int64_t)blob_size};
	struct manifest m = {
	    .media_type = (char *)MEDIA_TYPE_OCI_MANIFEST,
	    .config = {.media_type = (char *)MEDIA_TYPE_OCI_CONFIG,
	               .digest = config_digest,
	               .size = (int64_t)config_len},
	    .layers = &layer,
	    .n_layers = 1,
	};
	if ((manifest_json = manifest_to_json(&m, &manifest_len)) == NULL) {
		r = vsl_error_errno(err, ENOMEM, "import");
		goto fail;
	}
	digest_buffer(manifest_json, manifest_len, manifest_digest);
	had_manifest = blob_store_has(im->blobs, manifest_digest);
	if ((r = blob_store_put(im->blobs, manifest_json, manifest_len, manifest_digest, NULL, err)) < 0)
		goto fail;

	struct layer_record lr = {
	    .chain_id = diff_id,
	    .diff_id = diff_id,
	    .blob_digest = blob,
	    .blob_media_type = (char *)MEDIA_TYPE_OCI_LAYER_GZIP,
	    .blob_size = blob_size,
	    .size = size,
	};
	char *names[] = {full, NULL};
	char *none[] = {NULL};
	struct image_record rec = {
	    .id = config_digest,
	    .manifest_digest = manifest_digest,
	    .manifest_media_type = (char *)MEDIA_TYPE_OCI_MANIFEST,
	    .created = (int64_t)time(NULL),
	    .size = size,
	    .architecture = config->architecture,
	    .os = config->os,
	    .variant = config->variant,
	    .names = names,
	    .digests = none,
	};
	if ((r = image_db_put(im->db, &rec, &lr, 1, err)) < 0)
		goto fail;
	if (ret_id && (*ret_id = strdup(config_digest)) == NULL)
		return vsl_error_errno(err, ENOMEM, "import");
	return 0;

fail:
	/* Nothing of a failed import stays; what other images had stays with them. */
	if (new_layer)
		layer_store_remove(im->layers, diff_id, NULL);
	if (new_blob) {
		_cleanup_error_ struct vsl_error *e = NULL;
		_cleanup_layer_record_ struct layer_record *known = NULL;
		if (image_db_get_layer(im->db, diff_id, &known, &e) < 0 || known->blob_digest == NULL ||
		    strcmp(known->blob_digest, blob) != 0)
			blob_store_remove(im->blobs, blob, NULL);
	}
	if (config_len && !had_config)
		blob_store_remove(im->blobs, config_digest, NULL);
	if (manifest_len && !had_manifest)
		blob_store_remove(im->blobs, manifest_digest, NULL);
	return vsl_error_prefix(err, "import");
}

/* Adding an image: the images lock shared, so no rmi deletes a layer this
 * relies on between finding it present and recording the image. */
int images_import(struct images *im, int in_fd, const char *name, char **changes, const char *message,
                  char **ret_id, struct vsl_error **err)
{
	int r = images_lock(im, LOCK_SH, err);
	if (r < 0)
		return r;
	r = import_unlocked(im, in_fd, name, changes, message, ret_id, err);
	images_unlock(im);
	return r;
}
