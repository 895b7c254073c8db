/* Opening the image room and naming images: what a user typed -> an image id. */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "image/blob-store.h"
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

#define COPY_CHUNK (1 << 16)

int images_open(int root_dirfd, struct db *db, const struct images_config *cfg, struct images **ret,
                struct vsl_error **err)
{
	_cleanup_images_ struct images *im = calloc(1, sizeof(*im));
	if (im == NULL)
		return vsl_error_errno(err, ENOMEM, "open images");
	im->root_dirfd = root_dirfd;
	im->db = db;
	im->lock_fd = openat(root_dirfd, "images.lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (im->lock_fd < 0)
		return vsl_error_errno(err, errno, "open images.lock");
	if (cfg)
		im->cfg = *cfg;
	int r = image_db_init(db, err);
	if (r >= 0)
		r = blob_store_open(root_dirfd, &im->blobs, err);
	if (r >= 0)
		r = layer_store_open(root_dirfd, &im->layers, err);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(im);
	return 0;
}

void images_free(struct images *im)
{
	if (im == NULL)
		return;
	blob_store_free(im->blobs);
	layer_store_free(im->layers);
	if (im->lock_fd >= 0)
		close(im->lock_fd);
	free(im);
}

int images_lock(struct images *im, int how, struct vsl_error **err)
{
	while (flock(im->lock_fd, how) < 0)
		if (errno != EINTR)
			return vsl_error_errno(err, errno, "lock images");
	return 0;
}

void images_unlock(struct images *im)
{
	flock(im->lock_fd, LOCK_UN);
}

/* An id or id prefix as Docker accepts them: hex, with or without "sha256:". */
static bool looks_like_id(const char *s)
{
	if (strncmp(s, DIGEST_PREFIX, strlen(DIGEST_PREFIX)) == 0)
		s += strlen(DIGEST_PREFIX);
	size_t n = strspn(s, "0123456789abcdef");
	return n > 0 && n <= DIGEST_HEX_LEN && s[n] == '\0';
}

int images_resolve(struct images *im, const char *input, char **ret_id, struct vsl_error **err)
{
	/* Docker's order: a name first ("abc" may be an image called abc), then an id. */
	_cleanup_image_ref_ struct image_ref *ref = NULL;
	_cleanup_error_ struct vsl_error *parse_err = NULL;
	if (image_ref_parse(input, &ref, &parse_err) >= 0) {
		_cleanup_free_ char *key = NULL;
		if (ref->digest) {
			_cleanup_free_ char *name = image_ref_name(ref);
			if (name == NULL || asprintf(&key, "%s@%s", name, ref->digest) < 0)
				return vsl_error_errno(err, ENOMEM, "resolve image");
		} else if ((key = image_ref_string(ref)) == NULL) {
			return vsl_error_errno(err, ENOMEM, "resolve image");
		}
		_cleanup_error_ struct vsl_error *lookup_err = NULL;
		int r = image_db_resolve(im->db, key, ret_id, &lookup_err);
		if (r != -ENOENT || !looks_like_id(input)) {
			if (r < 0 && r != -ENOENT) {
				*err = TAKE_PTR(lookup_err);
				return r;
			}
			if (r < 0)
				return vsl_error_set_code(err, ENOENT, "no such image '%s'", input);
			return 0;
		}
	} else if (!looks_like_id(input)) {
		*err = TAKE_PTR(parse_err);
		return -EINVAL;
	}
	return image_db_resolve(im->db, input, ret_id, err);
}

static int by_created_desc(const void *a, const void *b)
{
	const struct image_record *x = *(struct image_record *const *)a,
	                          *y = *(struct image_record *const *)b;
	if (x->created != y->created)
		return x->created < y->created ? 1 : -1;
	return strcmp(x->id, y->id);
}

int images_list(struct images *im, struct image_record ***ret, size_t *ret_n, struct vsl_error **err)
{
	int r = image_db_list(im->db, ret, ret_n, err);
	if (r < 0)
		return r;
	qsort(*ret, *ret_n, sizeof(**ret), by_created_desc);
	return 0;
}

int images_tag(struct images *im, const char *source, const char *target, struct vsl_error **err)
{
	_cleanup_free_ char *id = NULL;
	int r = images_resolve(im, source, &id, err);
	if (r < 0)
		return r;
	_cleanup_image_ref_ struct image_ref *ref = NULL;
	if ((r = image_ref_parse(target, &ref, err)) < 0)
		return r;
	if (ref->digest)
		return vsl_error_set_code(err, EINVAL, "refusing to create a tag with a digest reference");
	_cleanup_free_ char *full = image_ref_string(ref);
	if (full == NULL)
		return vsl_error_errno(err, ENOMEM, "tag");
	return image_db_tag(im->db, id, full, err);
}

static int add_line(char ***lines, const char *verb, const char *what, struct vsl_error **err)
{
	_cleanup_free_ char *familiar = image_ref_familiarize(what);
	_cleanup_free_ char *line = NULL;
	if (familiar == NULL || asprintf(&line, "%s: %s", verb, familiar) < 0 || strv_append(lines, line) < 0)
		return vsl_error_errno(err, ENOMEM, "remove image");
	return 0;
}

/* The repository part of a stored name: "docker.io/library/ubuntu:latest" and
 * "docker.io/library/ubuntu@sha256:..." are both in "docker.io/library/ubuntu". */
static size_t repo_len(const char *name)
{
	const char *at = strchr(name, '@');
	if (at)
		return (size_t)(at - name);
	const char *slash = strrchr(name, '/');
	const char *colon = strrchr(name, ':');
	return colon && (!slash || colon > slash) ? (size_t)(colon - name) : strlen(name);
}

static bool one_repository(const struct image_record *rec)
{
	const char *first = rec->names && rec->names[0] ? rec->names[0] : NULL;
	for (char **n = rec->names; n && *n; n++)
		if (repo_len(*n) != repo_len(first) || strncmp(*n, first, repo_len(first)) != 0)
			return false;
	return true;
}

/* Deletes an image that has no names left, and what only it used. */
static int delete_image(struct images *im, const struct image_record *rec, char ***lines,
                        struct vsl_error **err)
{
	_cleanup_strv_ char **chains = NULL, **blobs = NULL;
	int r = image_db_remove(im->db, rec->id, &chains, &blobs, err);
	if (r < 0)
		return r;
	if ((r = add_line(lines, "Deleted", rec->id, err)) < 0)
		return r;
	/* The records are gone: from here on, failures only leave garbage that
	 * the stores' gc removes, never a record without its files. */
	blob_store_remove(im->blobs, rec->id, NULL);
	if (rec->manifest_digest)
		blob_store_remove(im->blobs, rec->manifest_digest, NULL);
	for (char **b = blobs; b && *b; b++)
		blob_store_remove(im->blobs, *b, NULL);
	for (char **c = chains; c && *c; c++) {
		layer_store_remove(im->layers, *c, NULL);
		if ((r = add_line(lines, "Deleted", *c, err)) < 0)
			return r;
	}
	return 0;
}

int images_remove(struct images *im, const char *input, const struct remove_opts *opts, char ***ret_lines,
                  struct vsl_error **err)
{
	static const struct remove_opts none = {0};
	if (opts == NULL)
		opts = &none;
	_cleanup_free_ char *id = NULL;
	int r = images_resolve(im, input, &id, err);
	if (r < 0)
		return r;
	_cleanup_image_record_ struct image_record *rec = NULL;
	if ((r = image_db_get(im->db, id, &rec, err)) < 0)
		return r;

	/* Was a name given, and which of the image's names is it? */
	_cleanup_free_ char *full = NULL;
	_cleanup_image_ref_ struct image_ref *ref = NULL;
	if (image_ref_parse(input, &ref, NULL) >= 0) {
		_cleanup_free_ char *name = image_ref_name(ref);
		if (name == NULL)
			return vsl_error_errno(err, ENOMEM, "remove image");
		if (ref->digest)
			r = asprintf(&full, "%s@%s", name, ref->digest);
		else
			full = image_ref_string(ref), r = full ? 0 : -1;
		if (r < 0)
			return vsl_error_errno(err, ENOMEM, "remove image");
		if (!strv_contains(rec->names, full) && !strv_contains(rec->digests, full))
			full = (free(full), NULL); /* it matched as an id prefix */
	}

	_cleanup_strv_ char **lines = NULL;
	_cleanup_free_ char *user = NULL;
	bool used = opts->in_use && opts->in_use(opts->userdata, id, &user);

	if (full && strv_length(rec->names) + strv_length(rec->digests) > 1 &&
	    strv_contains(rec->names, full) && strv_length(rec->names) > 1) {
		/* One tag of several: only the tag goes. */
		if ((r = image_db_untag(im->db, full, err)) < 0 ||
		    (r = add_line(&lines, "Untagged", full, err)) < 0)
			return r;
		*ret_lines = TAKE_PTR(lines);
		return 0;
	}
	if (full == NULL && !one_repository(rec) && !opts->force)
		return vsl_error_set_code(
		    err, EBUSY,
		    "conflict: unable to delete %.12s (must be forced) - image is referenced in "
		    "multiple repositories",
		    digest_hex(id));
	if (used && !opts->force) {
		if (full)
			return vsl_error_set_code(
			    err, EBUSY,
			    "conflict: unable to remove repository reference \"%s\" (must force) "
			    "- container %.12s is using its referenced image %.12s",
			    input, user, digest_hex(id));
		return vsl_error_set_code(
		    err, EBUSY,
		    "conflict: unable to delete %.12s (must be forced) - image is being used by "
		    "container %.12s",
		    digest_hex(id), user);
	}
	/* The last name (or the id): every name goes, then the image unless a
	 * container still uses it (forced: it keeps its layers until then). */
	for (char **n = rec->names; n && *n; n++)
		if ((r = image_db_untag(im->db, *n, err)) < 0 ||
		    (r = add_line(&lines, "Untagged", *n, err)) < 0)
			return r;
	for (char **d = rec->digests; d && *d; d++)
		if ((r = image_db_untag(im->db, *d, err)) < 0 ||
		    (r = add_line(&lines, "Untagged", *d, err)) < 0)
			return r;
	if (!used) {
		if ((r = images_lock(im, LOCK_EX, err)) < 0)
			return r;
		r = delete_image(im, rec, &lines, err);
		images_unlock(im);
		if (r < 0)
			return r;
	}
	*ret_lines = TAKE_PTR(lines);
	return 0;
}

int images_get_config(struct images *im, const char *id, struct image_config **ret, struct vsl_error **err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r = blob_store_read(im->blobs, id, IMAGE_CONFIG_MAX_SIZE, &text, &len, err);
	if (r < 0)
		return vsl_error_prefix(err, "image %s", id);
	return image_config_parse(text, len, ret, err);
}

int images_layer_paths(struct images *im, const char *id, char ***ret, struct vsl_error **err)
{
	_cleanup_image_record_ struct image_record *rec = NULL;
	int r = image_db_get(im->db, id, &rec, err);
	if (r < 0)
		return r;
	size_t n = strv_length(rec->chain_ids);
	_cleanup_strv_ char **paths = calloc(n + 1, sizeof(char *));
	if (paths == NULL)
		return vsl_error_errno(err, ENOMEM, "image %s", id);
	for (size_t i = 0; i < n; i++)
		if ((paths[i] = layer_store_diff_path(im->layers, rec->chain_ids[n - 1 - i])) == NULL)
			return vsl_error_errno(err, ENOMEM, "image %s", id);
	*ret = TAKE_PTR(paths);
	return 0;
}

int images_unpack_blob(struct images *im, const char *blob, const char *chain_id, const char *diff_id,
                       uint64_t *ret_size, struct vsl_error **err)
{
	if (layer_store_has(im->layers, chain_id)) {
		_cleanup_layer_record_ struct layer_record *old = NULL;
		if (image_db_get_layer(im->db, chain_id, &old, NULL) >= 0)
			*ret_size = old->size;
		return 0;
	}
	_cleanup_layer_ingest_ struct layer_ingest *ingest = NULL;
	_cleanup_close_ int diff_dirfd = -EBADF;
	int r = layer_store_begin(im->layers, chain_id, &ingest, &diff_dirfd, err);
	if (r < 0)
		return r;
	_cleanup_close_ int fd = -EBADF;
	uint64_t size;
	if ((r = blob_store_open_blob(im->blobs, blob, &fd, &size, err)) < 0)
		return r;
	struct layer_apply_result res;
	if ((r = layer_apply(fd, diff_dirfd, &res, err)) < 0)
		return r;
	if (strcmp(res.diff_id, diff_id) != 0)
		return vsl_error_set_code(err, EBADMSG, "content is %s but the image config says %s",
		                          res.diff_id, diff_id);
	if ((r = layer_ingest_commit(ingest, err)) < 0)
		return r;
	*ret_size = res.unpacked_size;
	return 1;
}

struct counting_sink {
	struct blob_writer *blob;
	uint64_t size;
};

static int counting_sink_write(void *userdata, const void *buf, size_t len, struct vsl_error **err)
{
	struct counting_sink *s = userdata;
	s->size += len;
	return blob_writer_write(s->blob, buf, len, err);
}

int images_store_compressed(struct images *im, int in_fd, enum compression c, char ret_diff_id[DIGEST_SIZE],
                            char ret_digest[DIGEST_SIZE], uint64_t *ret_size, struct vsl_error **err)
{
	_cleanup_zreader_ struct zreader *in = NULL;
	int r = zreader_open(in_fd, &in, err);
	if (r < 0)
		return r;
	_cleanup_blob_writer_ struct blob_writer *blob = NULL;
	if ((r = blob_writer_new(im->blobs, NULL, -1, &blob, err)) < 0)
		return r;
	struct counting_sink sink = {.blob = blob};
	_cleanup_zwriter_ struct zwriter *out = NULL;
	if ((r = zwriter_new(c, 0, counting_sink_write, &sink, &out, err)) < 0)
		return r;
	_cleanup_digester_ struct digester *diff = ret_diff_id ? digester_new() : NULL;
	_cleanup_free_ char *buf = malloc(COPY_CHUNK);
	if ((ret_diff_id && diff == NULL) || buf == NULL)
		return vsl_error_errno(err, ENOMEM, "store a layer");
	ssize_t n;
	while ((n = zreader_read(in, buf, COPY_CHUNK, err)) > 0) {
		if (diff)
			digester_update(diff, buf, (size_t)n);
		if ((r = zwriter_write(out, buf, (size_t)n, err)) < 0)
			return r;
	}
	if (n < 0)
		return (int)n;
	if ((r = zwriter_finish(out, err)) < 0)
		return r;
	char digest[DIGEST_SIZE];
	if ((r = blob_writer_commit(blob, digest, err)) < 0)
		return r;
	if (diff)
		digester_final(diff, ret_diff_id);
	memcpy(ret_digest, digest, DIGEST_SIZE);
	*ret_size = sink.size;
	return 0;
}
