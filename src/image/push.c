/* `vessel push` and the credentials behind it (`login`, `logout`).
 *
 * A pulled image is pushed with the exact bytes it was pulled as: its stored
 * manifest, config and compressed layer blobs, so the registry ends up with
 * the same digests. A layer that only exists uncompressed (loaded from a
 * docker-archive) is compressed here first; that blob is kept and the image
 * re-recorded with the new manifest, so the next push sends the same bytes. */
#include <errno.h>
#include <sys/file.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "image/auth.h"
#include "image/blob-store.h"
#include "image/image-db.h"
#include "image/images-internal.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "image/registry.h"
#include "storage/layer-store.h"
#include "util/cleanup.h"
#include "util/digest.h"
#include "util/error.h"
#include "util/strv.h"

struct push {
	const struct push_opts *opts;
	char short_id[13];
};

static void emit(const struct push_opts *opts, enum image_event_kind kind, const char *id, const char *status,
                 uint64_t current, uint64_t total)
{
	if (opts == NULL || opts->on_event == NULL)
		return;
	struct image_event ev = {
	    .kind = kind, .id = id, .status = status, .current = current, .total = total};
	opts->on_event(opts->userdata, &ev);
}

static void push_progress(void *userdata, uint64_t done, uint64_t total)
{
	struct push *p = userdata;
	emit(p->opts, IMAGE_EVENT_LAYER, p->short_id, "Pushing", done, total);
}

/* Media types of layers stored as plain tars: these get compressed for the registry. */
static bool layer_is_uncompressed(const char *media_type)
{
	return media_type == NULL || strcmp(media_type, MEDIA_TYPE_OCI_LAYER) == 0 ||
	       strcmp(media_type, MEDIA_TYPE_OCI_LAYER_ND) == 0 ||
	       strcmp(media_type, "application/vnd.docker.image.rootfs.diff.tar") == 0;
}

/* Compresses the stored blob `digest` into a new stored blob. */
static int compress_blob(struct images *im, const char *digest, enum compression c,
                         char ret_digest[DIGEST_SIZE], uint64_t *ret_size, struct vsl_error **err)
{
	_cleanup_close_ int fd = -EBADF;
	uint64_t size;
	int r = blob_store_open_blob(im->blobs, digest, &fd, &size, err);
	if (r < 0)
		return r;
	return images_store_compressed(im, fd, c, NULL, ret_digest, ret_size, err);
}

static int replace_string(char **field, const char *value, struct vsl_error **err)
{
	char *copy = strdup(value);
	if (copy == NULL)
		return vsl_error_errno(err, ENOMEM, "push");
	free(*field);
	*field = copy;
	return 0;
}

/* Compresses the uncompressed layers of m in place; *ret_changed says whether any was. */
static int compress_layers(struct images *im, struct manifest *m, enum compression c, bool *ret_changed,
                           struct vsl_error **err)
{
	bool changed = false;
	bool docker = m->media_type && strcmp(m->media_type, MEDIA_TYPE_DOCKER_MANIFEST) == 0;
	for (size_t i = 0; i < m->n_layers; i++) {
		struct descriptor *d = &m->layers[i];
		if (!layer_is_uncompressed(d->media_type))
			continue;
		char digest[DIGEST_SIZE];
		uint64_t size;
		int r = compress_blob(im, d->digest, c, digest, &size, err);
		if (r < 0)
			return vsl_error_prefix(err, "compress layer %s", d->digest);
		const char *type = c == COMPRESSION_ZSTD ? MEDIA_TYPE_OCI_LAYER_ZSTD
		                   : docker              ? MEDIA_TYPE_DOCKER_LAYER
		                                         : MEDIA_TYPE_OCI_LAYER_GZIP;
		if ((r = replace_string(&d->digest, digest, err)) < 0 ||
		    (r = replace_string(&d->media_type, type, err)) < 0)
			return r;
		d->size = (int64_t)size;
		changed = true;
	}
	/* Docker's schema has no zstd layers: such a manifest becomes an OCI one. */
	if (changed && docker && c == COMPRESSION_ZSTD) {
		int r = replace_string(&m->media_type, MEDIA_TYPE_OCI_MANIFEST, err);
		if (r >= 0)
			r = replace_string(&m->config.media_type, MEDIA_TYPE_OCI_CONFIG, err);
		if (r < 0)
			return r;
		for (size_t i = 0; i < m->n_layers; i++)
			if (strcmp(m->layers[i].media_type, MEDIA_TYPE_DOCKER_LAYER) == 0 &&
			    (r = replace_string(&m->layers[i].media_type, MEDIA_TYPE_OCI_LAYER_GZIP, err)) <
			        0)
				return r;
	}
	*ret_changed = changed;
	return 0;
}

/* A repository of the same registry the image was pulled from, for a
 * cross-repository mount instead of an upload. */
static const char *mount_source(const struct image_record *rec, const struct image_ref *ref, char *buf,
                                size_t size)
{
	size_t dl = strlen(ref->domain);
	for (char **d = rec->digests; d && *d; d++) {
		if (strncmp(*d, ref->domain, dl) != 0 || (*d)[dl] != '/')
			continue;
		const char *repo = *d + dl + 1;
		const char *at = strchr(repo, '@');
		if (at == NULL)
			continue;
		snprintf(buf, size, "%.*s", (int)(at - repo), repo);
		if (strcmp(buf, ref->path) != 0)
			return buf;
	}
	return NULL;
}

static int push_blob(struct images *im, struct registry *reg, const char *repo, const struct descriptor *d,
                     const char *from_repo, bool is_layer, const struct push_opts *opts,
                     struct vsl_error **err)
{
	struct push p = {.opts = opts};
	snprintf(p.short_id, sizeof(p.short_id), "%.12s", digest_hex(d->digest));
	bool exists = false;
	int r = registry_blob_exists(reg, repo, d->digest, &exists, err);
	if (r < 0)
		return r;
	if (exists) {
		if (is_layer)
			emit(opts, IMAGE_EVENT_LAYER, p.short_id, "Layer already exists", 0, 0);
		return 0;
	}
	_cleanup_close_ int fd = -EBADF;
	uint64_t size;
	if ((r = blob_store_open_blob(im->blobs, d->digest, &fd, &size, err)) < 0)
		return r;
	if (is_layer)
		emit(opts, IMAGE_EVENT_LAYER, p.short_id, "Pushing", 0, size);
	r = registry_push_blob(reg, repo, d->digest, fd, size, opts->chunk_size, from_repo,
	                       is_layer ? push_progress : NULL, &p, err);
	if (r < 0)
		return r;
	if (is_layer)
		emit(opts, IMAGE_EVENT_LAYER, p.short_id, "Pushed", 0, 0);
	return 0;
}

/* Records the image again: its (possibly new) manifest and the repo digest. */
static int record_pushed(struct images *im, const struct image_record *rec, const struct image_config *config,
                         const struct manifest *m, const char *manifest_digest, const char *media_type,
                         const char *repo_digest_name, struct vsl_error **err)
{
	size_t n = strv_length(rec->chain_ids);
	if (n != m->n_layers)
		return vsl_error_set(err, "image %s: %zu layers recorded but %zu in its manifest", rec->id, n,
		                     m->n_layers);
	_cleanup_free_ struct layer_record *layers = calloc(n ? n : 1, sizeof(*layers));
	_cleanup_free_ uint64_t *sizes = calloc(n ? n : 1, sizeof(*sizes));
	if (layers == NULL || sizes == NULL)
		return vsl_error_errno(err, ENOMEM, "push");
	for (size_t i = 0; i < n; i++) {
		_cleanup_layer_record_ struct layer_record *old = NULL;
		if (image_db_get_layer(im->db, rec->chain_ids[i], &old, NULL) >= 0)
			sizes[i] = old->size;
		layers[i] = (struct layer_record){
		    .chain_id = rec->chain_ids[i],
		    .diff_id = config->diff_ids[i],
		    .parent = i > 0 ? rec->chain_ids[i - 1] : NULL,
		    .blob_digest = m->layers[i].digest,
		    .blob_media_type = m->layers[i].media_type,
		    .blob_size = (uint64_t)m->layers[i].size,
		    .size = sizes[i],
		};
	}
	char *digests[] = {(char *)repo_digest_name, NULL};
	struct image_record img = *rec;
	img.manifest_digest = (char *)manifest_digest;
	img.manifest_media_type = (char *)media_type;
	img.names = NULL;
	img.digests = digests;
	return image_db_put(im->db, &img, layers, n, err);
}

static int push_unlocked(struct images *im, const char *name, const struct push_opts *opts,
                         struct vsl_error **err)
{
	static const struct push_opts none = {0};
	if (opts == NULL)
		opts = &none;
	_cleanup_image_ref_ struct image_ref *ref = NULL;
	int r = image_ref_parse(name, &ref, err);
	if (r < 0)
		return r;
	if (ref->digest)
		return vsl_error_set_code(err, EINVAL, "push %s: cannot push a digest reference; push a tag",
		                          name);
	_cleanup_free_ char *full = image_ref_string(ref);
	_cleanup_free_ char *repo_name = image_ref_name(ref);
	if (full == NULL || repo_name == NULL)
		return vsl_error_errno(err, ENOMEM, "push");

	_cleanup_free_ char *id = NULL;
	_cleanup_error_ struct vsl_error *lookup_err = NULL;
	if (image_db_resolve(im->db, full, &id, &lookup_err) < 0) {
		_cleanup_free_ char *familiar = image_ref_familiar(ref);
		return vsl_error_set_code(err, ENOENT, "an image does not exist locally with the tag: %s",
		                          familiar ? familiar : name);
	}
	_cleanup_image_record_ struct image_record *rec = NULL;
	if ((r = image_db_get(im->db, id, &rec, err)) < 0)
		return r;
	if (rec->manifest_digest == NULL)
		return vsl_error_set(err, "push %s: image %s has no manifest", name, id);

	_cleanup_free_ char *stored = NULL;
	size_t stored_len = 0;
	if ((r = blob_store_read(im->blobs, rec->manifest_digest, MANIFEST_MAX_SIZE, &stored, &stored_len,
	                         err)) < 0)
		return vsl_error_prefix(err, "push %s", name);
	_cleanup_manifest_ struct manifest *m = NULL;
	if ((r = manifest_parse(stored, stored_len, &m, err)) < 0)
		return vsl_error_prefix(err, "push %s", name);
	_cleanup_free_ char *config_json = NULL;
	size_t config_len = 0;
	_cleanup_image_config_ struct image_config *config = NULL;
	if ((r = blob_store_read(im->blobs, rec->id, IMAGE_CONFIG_MAX_SIZE, &config_json, &config_len, err)) <
	        0 ||
	    (r = image_config_parse(config_json, config_len, &config, err)) < 0)
		return vsl_error_prefix(err, "push %s", name);
	if (strv_length(config->diff_ids) != m->n_layers)
		return vsl_error_set(err, "push %s: the manifest has %zu layers but the config %zu diff ids",
		                     name, m->n_layers, strv_length(config->diff_ids));

	struct registry_config cfg = im->cfg.registry;
	if (opts->insecure)
		cfg.tls_verify = false;
	_cleanup_registry_ struct registry *reg = NULL;
	if ((r = registry_open(ref->domain, &cfg, &reg, err)) < 0)
		return r;
	if (opts->user &&
	    (r = registry_set_credentials(reg, opts->user, opts->secret ? opts->secret : "", err)) < 0)
		return r;

	if ((r = registry_prepare_push(reg, ref->path, err)) < 0)
		return vsl_error_prefix(err, "push %s", name);

	_cleanup_free_ char *status = NULL;
	if (asprintf(&status, "The push refers to repository [%s]", repo_name) < 0)
		return vsl_error_errno(err, ENOMEM, "push");
	emit(opts, IMAGE_EVENT_STATUS, NULL, status, 0, 0);

	bool changed = false;
	enum compression c = opts->compression == COMPRESSION_ZSTD ? COMPRESSION_ZSTD : COMPRESSION_GZIP;
	if ((r = compress_layers(im, m, c, &changed, err)) < 0)
		return vsl_error_prefix(err, "push %s", name);

	/* Docker lists the layers top first. */
	for (size_t i = m->n_layers; i-- > 0;) {
		char short_id[13];
		snprintf(short_id, sizeof(short_id), "%.12s", digest_hex(m->layers[i].digest));
		emit(opts, IMAGE_EVENT_LAYER, short_id, "Preparing", 0, 0);
	}
	char mount_buf[256];
	const char *from_repo = mount_source(rec, ref, mount_buf, sizeof(mount_buf));
	for (size_t i = m->n_layers; i-- > 0;)
		if ((r = push_blob(im, reg, ref->path, &m->layers[i], from_repo, true, opts, err)) < 0)
			return vsl_error_prefix(err, "push %s: layer %s", name, m->layers[i].digest);
	if ((r = push_blob(im, reg, ref->path, &m->config, from_repo, false, opts, err)) < 0)
		return vsl_error_prefix(err, "push %s: config %s", name, m->config.digest);

	/* The stored manifest as it is, unless a layer had to be compressed. */
	_cleanup_free_ char *fresh = NULL;
	const char *body = stored;
	size_t len = stored_len;
	const char *media_type = rec->manifest_media_type && *rec->manifest_media_type
	                             ? rec->manifest_media_type
	                         : m->media_type ? m->media_type
	                                         : MEDIA_TYPE_OCI_MANIFEST;
	if (changed) {
		if ((fresh = manifest_to_json(m, &len)) == NULL)
			return vsl_error_errno(err, ENOMEM, "push %s: write manifest", name);
		body = fresh;
		media_type = m->media_type ? m->media_type : MEDIA_TYPE_OCI_MANIFEST;
	}
	char digest[DIGEST_SIZE];
	digest_buffer(body, len, digest);
	if (changed && (r = blob_store_put(im->blobs, body, len, digest, NULL, err)) < 0)
		return vsl_error_prefix(err, "push %s", name);
	if ((r = registry_put_manifest(reg, ref->path, ref->tag, media_type, body, len, err)) < 0)
		return vsl_error_prefix(err, "push %s: manifest", name);

	_cleanup_free_ char *repo_digest_name = NULL;
	if (asprintf(&repo_digest_name, "%s@%s", repo_name, digest) < 0)
		return vsl_error_errno(err, ENOMEM, "push");
	if ((r = record_pushed(im, rec, config, m, digest, media_type, repo_digest_name, err)) < 0)
		return vsl_error_prefix(err, "push %s: record", name);
	/* The old manifest named uncompressed layers that no registry has: only this image had it. */
	if (changed && strcmp(rec->manifest_digest, digest) != 0)
		blob_store_remove(im->blobs, rec->manifest_digest, NULL);

	_cleanup_free_ char *done = NULL;
	if (asprintf(&done, "%s: digest: %s size: %zu", ref->tag, digest, len) < 0)
		return vsl_error_errno(err, ENOMEM, "push");
	emit(opts, IMAGE_EVENT_STATUS, NULL, done, 0, 0);
	return 0;
}

/* ---- login, logout ---- */

/* "https://index.docker.io/v1/", "registry-1.docker.io", "host:5000/" -> the
 * domain the registry client and the auth file use. */
static int server_domain(const char *server, char **ret, struct vsl_error **err)
{
	if (server == NULL || *server == '\0')
		server = "docker.io";
	const char *s = server;
	const char *scheme = strstr(s, "://");
	if (scheme)
		s = scheme + 3;
	size_t n = strcspn(s, "/");
	if (n == 0)
		return vsl_error_set_code(err, EINVAL, "invalid registry '%s'", server);
	char *d = strndup(s, n);
	if (d == NULL)
		return vsl_error_errno(err, ENOMEM, "login");
	if (strcmp(d, "index.docker.io") == 0 || strcmp(d, "registry-1.docker.io") == 0) {
		free(d);
		d = strdup("docker.io");
		if (d == NULL)
			return vsl_error_errno(err, ENOMEM, "login");
	}
	*ret = d;
	return 0;
}

int images_login(struct images *im, const char *server, const char *user, const char *secret, bool insecure,
                 struct vsl_error **err)
{
	_cleanup_free_ char *domain = NULL;
	int r = server_domain(server, &domain, err);
	if (r < 0)
		return r;
	if (user == NULL || *user == '\0' || secret == NULL || *secret == '\0')
		return vsl_error_set_code(err, EINVAL, "login %s: a username and a password are required",
		                          domain);
	struct registry_config cfg = im->cfg.registry;
	if (insecure)
		cfg.tls_verify = false;
	/* Only what is typed counts: stale stored credentials must not make a ping pass. */
	_cleanup_registry_ struct registry *reg = NULL;
	if ((r = registry_open(domain, &cfg, &reg, err)) < 0 ||
	    (r = registry_set_credentials(reg, user, secret, err)) < 0 || (r = registry_ping(reg, err)) < 0)
		return vsl_error_prefix(err, "login %s", domain);
	if ((r = auth_store(cfg.auth_file, domain, user, secret, err)) < 0)
		return vsl_error_prefix(err, "login %s", domain);
	return 0;
}

int images_logout(struct images *im, const char *server, char **ret_key, struct vsl_error **err)
{
	_cleanup_free_ char *domain = NULL;
	int r = server_domain(server, &domain, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *key = strdup(strcmp(domain, "docker.io") == 0 ? AUTH_DOCKER_HUB_KEY : domain);
	if (key == NULL)
		return vsl_error_errno(err, ENOMEM, "logout");
	_cleanup_error_ struct vsl_error *remove_err = NULL;
	r = auth_remove(im->cfg.registry.auth_file, domain, &remove_err);
	if (r == -ENOENT)
		return vsl_error_set_code(err, ENOENT, "not logged in to %s", key);
	if (r < 0) {
		*err = TAKE_PTR(remove_err);
		return r;
	}
	if (ret_key)
		*ret_key = TAKE_PTR(key);
	return 0;
}

/* Adding an image: the images lock shared, so no rmi deletes a layer this
 * relies on between finding it present and recording the image. */
int images_push(struct images *im, const char *name, const struct push_opts *opts, struct vsl_error **err)
{
	int r = images_lock(im, LOCK_SH, err);
	if (r < 0)
		return r;
	r = push_unlocked(im, name, opts, err);
	images_unlock(im);
	return r;
}
