/* `vessel commit`: a new image from a container's read-write layer.
 *
 * The new image is its parent plus one layer: the overlay upper directory is
 * written as a gzip layer tar into a temporary file (whiteouts as Docker's
 * ".wh." entries), stored as a blob, unpacked into the layer store under its
 * chain ID, and the parent's config gets the caller's edits (the container's
 * own Cmd, Env, ...), the --change lines, the new diff id and a history
 * entry. The manifest lists the parent's layer blobs and the new one, so push
 * and save treat a committed image like a pulled one. The image room knows
 * nothing of containers: the engine hands over the directory and the edits. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

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
#include "util/fs.h"
#include "util/strv.h"

/* ---- the layer ---- */

#define COPY_CHUNK (1 << 16)

/* The diff directory as a gzip layer: written to an unnamed temporary file
 * first (layer_write wants an fd, the blob store a stream of buffers), then
 * into the content store. */
static int store_layer(struct images *im, int diff_dirfd, struct layer_write_result *ret,
                       struct vsl_error **err)
{
	_cleanup_close_ int tmp = openat(im->root_dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (tmp < 0)
		return vsl_error_errno(err, errno, "create a temporary file for the layer");
	int r = layer_write(diff_dirfd, tmp, COMPRESSION_GZIP, LAYER_WRITE_OVERLAY_DIFF, ret, err);
	if (r < 0)
		return r;
	if (lseek(tmp, 0, SEEK_SET) < 0)
		return vsl_error_errno(err, errno, "rewind the layer");
	_cleanup_blob_writer_ struct blob_writer *blob = NULL;
	if ((r = blob_writer_new(im->blobs, ret->digest, (int64_t)ret->compressed_size, &blob, err)) < 0)
		return r;
	_cleanup_free_ char *buf = malloc(COPY_CHUNK);
	if (buf == NULL)
		return vsl_error_errno(err, ENOMEM, "store the layer");
	ssize_t n;
	while ((n = read(tmp, buf, COPY_CHUNK)) > 0)
		if ((r = blob_writer_write(blob, buf, (size_t)n, err)) < 0)
			return r;
	if (n < 0)
		return vsl_error_errno(err, errno, "read the layer");
	return blob_writer_commit(blob, NULL, err);
}

/* ---- the image ---- */

/* The parent's layers, base first, as image_db_put() wants them. */
static int parent_layers(struct images *im, const struct image_record *parent, struct layer_record ***ret,
                         size_t *ret_n, struct vsl_error **err)
{
	size_t n = strv_length(parent->chain_ids);
	struct layer_record **l = calloc(n + 1, sizeof(*l));
	if (l == NULL)
		return vsl_error_errno(err, ENOMEM, "commit");
	for (size_t i = 0; i < n; i++) {
		int r = image_db_get_layer(im->db, parent->chain_ids[i], &l[i], err);
		if (r < 0) {
			for (size_t k = 0; k < i; k++)
				layer_record_free(l[k]);
			free(l);
			return r;
		}
	}
	*ret = l;
	*ret_n = n;
	return 0;
}

static void layers_free(struct layer_record **l, size_t n)
{
	for (size_t i = 0; l && i < n; i++)
		layer_record_free(l[i]);
	free(l);
}

static char *now_rfc3339(void)
{
	char now[32];
	struct tm tm;
	time_t t = time(NULL);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
	return strdup(now);
}

static int edit_config(struct image_config *c, const struct images_commit_opts *o, const char *diff_id,
                       struct vsl_error **err)
{
	int r;
	if (o->edit_config && (r = o->edit_config(o->userdata, &c->config, err)) < 0)
		return r;
	for (char **ch = o->changes; ch && *ch; ch++)
		if ((r = images_config_apply_change(&c->config, *ch, err)) < 0)
			return vsl_error_prefix(err, "invalid change '%s'", *ch);
	if (strv_append(&c->diff_ids, diff_id) < 0)
		return vsl_error_errno(err, ENOMEM, "commit");
	struct image_history *h = realloc(c->history, (c->n_history + 1) * sizeof(*h));
	if (h == NULL)
		return vsl_error_errno(err, ENOMEM, "commit");
	c->history = h;
	h = &c->history[c->n_history++];
	*h = (struct image_history){
	    .created = now_rfc3339(),
	    .created_by = o->created_by ? strdup(o->created_by) : NULL,
	    .author = o->author ? strdup(o->author) : NULL,
	    .comment = o->message ? strdup(o->message) : NULL,
	};
	free(c->created);
	free(c->author);
	free(c->comment);
	c->created = strdup(h->created);
	c->author = o->author ? strdup(o->author) : NULL;
	c->comment = o->message ? strdup(o->message) : NULL;
	if (h->created == NULL || c->created == NULL || (o->created_by && h->created_by == NULL) ||
	    (o->author && (h->author == NULL || c->author == NULL)) ||
	    (o->message && (h->comment == NULL || c->comment == NULL)))
		return vsl_error_errno(err, ENOMEM, "commit");
	return 0;
}

/* What a failed commit leaves: nothing of its own (what the parent or other
 * images share stays with them). */
struct commit_undo {
	bool new_layer, new_blob, new_config, new_manifest;
	const char *chain_id, *blob, *config, *manifest;
};

static void commit_undo(struct images *im, const struct commit_undo *u)
{
	if (u->new_layer)
		layer_store_remove(im->layers, u->chain_id, NULL);
	if (u->new_blob)
		blob_store_remove(im->blobs, u->blob, NULL);
	if (u->new_config)
		blob_store_remove(im->blobs, u->config, NULL);
	if (u->new_manifest)
		blob_store_remove(im->blobs, u->manifest, NULL);
}

static int commit_unlocked(struct images *im, const struct images_commit_opts *o, char **ret_id,
                           struct vsl_error **err)
{
	_cleanup_free_ char *full = NULL;
	int r;
	if (o->name) {
		_cleanup_image_ref_ struct image_ref *ref = NULL;
		if ((r = image_ref_parse(o->name, &ref, err)) < 0)
			return r;
		if (ref->digest)
			return vsl_error_set_code(err, EINVAL, "'%s': a digest is not a tag", o->name);
		if ((full = image_ref_string(ref)) == NULL)
			return vsl_error_errno(err, ENOMEM, "commit");
	}
	_cleanup_image_record_ struct image_record *parent = NULL;
	_cleanup_image_config_ struct image_config *config = NULL;
	if ((r = image_db_get(im->db, o->parent_id, &parent, err)) < 0 ||
	    (r = images_get_config(im, o->parent_id, &config, err)) < 0)
		return r;
	_cleanup_free_ char *manifest_text = NULL;
	size_t manifest_text_len = 0;
	_cleanup_manifest_ struct manifest *pm = NULL;
	if ((r = blob_store_read(im->blobs, parent->manifest_digest, MANIFEST_MAX_SIZE, &manifest_text,
	                         &manifest_text_len, err)) < 0 ||
	    (r = manifest_parse(manifest_text, manifest_text_len, &pm, err)) < 0)
		return vsl_error_prefix(err, "manifest of %s", o->parent_id);
	size_t n_parent = 0;
	struct layer_record **players = NULL;
	if ((r = parent_layers(im, parent, &players, &n_parent, err)) < 0)
		return r;
	if (n_parent != pm->n_layers) {
		layers_free(players, n_parent);
		return vsl_error_set_code(err, EBADMSG, "image %s: %zu layers recorded, %zu in its manifest",
		                          o->parent_id, n_parent, pm->n_layers);
	}

	struct commit_undo undo = {0};
	struct layer_write_result lw;
	char chain_id[DIGEST_SIZE], config_digest[DIGEST_SIZE], manifest_digest[DIGEST_SIZE];
	uint64_t size = 0;
	_cleanup_free_ char *config_json = NULL, *manifest_json = NULL;
	_cleanup_free_ struct layer_record *lrs = NULL;
	_cleanup_free_ struct descriptor *descs = NULL;
	size_t config_len = 0, manifest_len = 0;

	/* Whether the blob was there before decides whether a failure removes it. */
	if ((r = store_layer(im, o->diff_dirfd, &lw, err)) < 0)
		goto fail;
	undo.blob = lw.digest;
	image_chain_id(n_parent ? players[n_parent - 1]->chain_id : NULL, lw.diff_id, chain_id);
	undo.chain_id = chain_id;
	if ((r = images_unpack_blob(im, lw.digest, chain_id, lw.diff_id, &size, err)) < 0) {
		vsl_error_prefix(err, "unpack the new layer");
		goto fail;
	}
	undo.new_layer = r > 0;
	if ((r = edit_config(config, o, lw.diff_id, err)) < 0)
		goto fail;

	bool docker = parent->manifest_media_type &&
	              strcmp(parent->manifest_media_type, MEDIA_TYPE_DOCKER_MANIFEST) == 0;
	if ((config_json = image_config_to_json(config, &config_len)) == NULL) {
		r = vsl_error_set_code(err, EINVAL, "write the image config (a --change that is not UTF-8?)");
		goto fail;
	}
	digest_buffer(config_json, config_len, config_digest);
	undo.config = config_digest;
	undo.new_config = !blob_store_has(im->blobs, config_digest);
	if ((r = blob_store_put(im->blobs, config_json, config_len, config_digest, NULL, err)) < 0)
		goto fail;

	descs = calloc(n_parent + 1, sizeof(*descs));
	lrs = calloc(n_parent + 1, sizeof(*lrs));
	if (descs == NULL || lrs == NULL) {
		r = vsl_error_errno(err, ENOMEM, "commit");
		goto fail;
	}
	uint64_t total = size;
	for (size_t i = 0; i < n_parent; i++) {
		descs[i] = pm->layers[i];
		lrs[i] = *players[i];
		total += players[i]->size;
	}
	const char *layer_type = docker ? MEDIA_TYPE_DOCKER_LAYER : MEDIA_TYPE_OCI_LAYER_GZIP;
	descs[n_parent] = (struct descriptor){
	    .media_type = (char *)layer_type, .digest = lw.digest, .size = (int64_t)lw.compressed_size};
	lrs[n_parent] = (struct layer_record){
	    .chain_id = chain_id,
	    .diff_id = lw.diff_id,
	    .parent = n_parent ? players[n_parent - 1]->chain_id : NULL,
	    .blob_digest = lw.digest,
	    .blob_media_type = (char *)layer_type,
	    .blob_size = lw.compressed_size,
	    .size = size,
	};
	const char *manifest_type = docker ? MEDIA_TYPE_DOCKER_MANIFEST : MEDIA_TYPE_OCI_MANIFEST;
	struct manifest m = {
	    .media_type = (char *)manifest_type,
	    .config = {.media_type = (char *)(docker ? MEDIA_TYPE_DOCKER_CONFIG : MEDIA_TYPE_OCI_CONFIG),
	               .digest = config_digest,
	               .size = (int64_t)config_len},
	    .layers = descs,
	    .n_layers = n_parent + 1,
	};
	if ((manifest_json = manifest_to_json(&m, &manifest_len)) == NULL) {
		r = vsl_error_errno(err, ENOMEM, "commit");
		goto fail;
	}
	digest_buffer(manifest_json, manifest_len, manifest_digest);
	undo.manifest = manifest_digest;
	undo.new_manifest = !blob_store_has(im->blobs, manifest_digest);
	if ((r = blob_store_put(im->blobs, manifest_json, manifest_len, manifest_digest, NULL, err)) < 0)
		goto fail;

	char *names[] = {full, NULL};
	char *none[] = {NULL};
	struct image_record rec = {
	    .id = config_digest,
	    .manifest_digest = manifest_digest,
	    .manifest_media_type = (char *)manifest_type,
	    .created = (int64_t)time(NULL),
	    .size = total,
	    .architecture = config->architecture,
	    .os = config->os,
	    .variant = config->variant,
	    .names = names,
	    .digests = none,
	};
	if ((r = image_db_put(im->db, &rec, lrs, n_parent + 1, err)) < 0)
		goto fail;
	layers_free(players, n_parent);
	if (ret_id && (*ret_id = strdup(config_digest)) == NULL)
		return vsl_error_errno(err, ENOMEM, "commit");
	return 0;

fail:
	/* A layer blob another image records stays: only ours (unknown to the db) goes. */
	if (undo.blob) {
		_cleanup_layer_record_ struct layer_record *known = NULL;
		undo.new_blob = image_db_get_layer(im->db, chain_id, &known, NULL) < 0;
	}
	commit_undo(im, &undo);
	layers_free(players, n_parent);
	return r;
}

int images_commit(struct images *im, const struct images_commit_opts *o, char **ret_id,
                  struct vsl_error **err)
{
	int r = images_lock(im, LOCK_SH, err);
	if (r < 0)
		return vsl_error_prefix(err, "commit");
	r = commit_unlocked(im, o, ret_id, err);
	images_unlock(im);
	return r < 0 ? vsl_error_prefix(err, "commit") : r;
}
