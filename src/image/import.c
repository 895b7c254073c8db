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

/* ---- --change lines ---- */

/* Splits s into words at unquoted whitespace; quotes ("..." with backslash
 * escapes, '...') are removed, as the Dockerfile parser does for ENV and LABEL. */
static int split_words(const char *s, char ***ret, struct vsl_error **err)
{
	_cleanup_strv_ char **words = NULL;
	_cleanup_free_ char *w = malloc(strlen(s) + 1);
	if (w == NULL)
		return vsl_error_errno(err, ENOMEM, "parse change");
	while (*s) {
		while (isspace((unsigned char)*s))
			s++;
		if (*s == '\0')
			break;
		size_t n = 0;
		char quote = 0;
		for (; *s && (quote || !isspace((unsigned char)*s)); s++) {
			if (quote == 0 && (*s == '"' || *s == '\'')) {
				quote = *s;
			} else if (quote && *s == quote) {
				quote = 0;
			} else if (*s == '\\' && quote != '\'' && s[1]) {
				w[n++] = *++s;
			} else {
				w[n++] = *s;
			}
		}
		if (quote)
			return vsl_error_set_code(err, EINVAL, "unterminated quote");
		w[n] = '\0';
		if (strv_append(&words, w) < 0)
			return vsl_error_errno(err, ENOMEM, "parse change");
	}
	*ret = TAKE_PTR(words);
	return 0;
}

/* ["a", "b"] (JSON) or a shell command -> ["/bin/sh", "-c", command]. */
static int parse_command(const char *rest, bool shell_form_ok, char ***ret, struct vsl_error **err)
{
	_cleanup_strv_ char **argv = NULL;
	if (*rest == '[') {
		json_error_t jerr;
		json_t *a = json_loads(rest, 0, &jerr);
		bool ok = a && json_is_array(a);
		size_t i;
		json_t *v;
		json_array_foreach(a, i, v)
		{
			if (!json_is_string(v)) {
				ok = false;
				break;
			}
			if (strv_append(&argv, json_string_value(v)) < 0) {
				json_decref(a);
				return vsl_error_errno(err, ENOMEM, "parse change");
			}
		}
		json_decref(a);
		if (ok) {
			if (argv == NULL && (argv = calloc(1, sizeof(char *))) == NULL)
				return vsl_error_errno(err, ENOMEM, "parse change");
			*ret = TAKE_PTR(argv);
			return 0;
		}
		strv_free(TAKE_PTR(argv));
		/* Not a JSON array of strings: Docker takes it as a shell command. */
	}
	if (!shell_form_ok)
		return split_words(rest, ret, err);
	if (strv_append(&argv, "/bin/sh") < 0 || strv_append(&argv, "-c") < 0 || strv_append(&argv, rest) < 0)
		return vsl_error_errno(err, ENOMEM, "parse change");
	*ret = TAKE_PTR(argv);
	return 0;
}

/* KEY=VALUE words, or the legacy "KEY value with spaces" form. */
static int parse_pairs(const char *instr, const char *rest, char ***ret, struct vsl_error **err)
{
	_cleanup_strv_ char **words = NULL;
	int r = split_words(rest, &words, err);
	if (r < 0)
		return r;
	if (words == NULL)
		return vsl_error_set_code(err, EINVAL, "%s requires at least one argument", instr);
	if (strchr(words[0], '=') == NULL) {
		/* Legacy form: the first word is the key, the rest of the line the value. */
		const char *v = rest;
		while (isspace((unsigned char)*v))
			v++;
		v += strcspn(v, " \t");
		while (isspace((unsigned char)*v))
			v++;
		if (*v == '\0')
			return vsl_error_set_code(err, EINVAL, "%s %s: missing a value", instr, words[0]);
		_cleanup_strv_ char **one = NULL;
		_cleanup_free_ char *pair = NULL;
		if (asprintf(&pair, "%s=%s", words[0], v) < 0 || strv_append(&one, pair) < 0)
			return vsl_error_errno(err, ENOMEM, "parse change");
		*ret = TAKE_PTR(one);
		return 0;
	}
	for (char **w = words; *w; w++)
		if (strchr(*w, '=') == NULL || **w == '=')
			return vsl_error_set_code(err, EINVAL, "%s: '%s' is not KEY=VALUE", instr, *w);
	*ret = TAKE_PTR(words);
	return 0;
}

static int set_string(char **field, const char *value, struct vsl_error **err)
{
	char *copy = strdup(value);
	if (copy == NULL)
		return vsl_error_errno(err, ENOMEM, "parse change");
	free(*field);
	*field = copy;
	return 0;
}

/* Sets "KEY=value" in env, replacing the key's earlier value. */
static int env_set(char ***env, const char *pair, struct vsl_error **err)
{
	size_t klen = strcspn(pair, "=");
	for (char **e = *env; e && *e; e++)
		if (strncmp(*e, pair, klen) == 0 && (*e)[klen] == '=')
			return set_string(e, pair, err);
	return strv_append(env, pair) < 0 ? vsl_error_errno(err, ENOMEM, "parse change") : 0;
}

static int label_set(struct image_container_config *c, const char *pair, struct vsl_error **err)
{
	size_t klen = strcspn(pair, "=");
	for (size_t i = 0; i < c->n_labels; i++)
		if (strlen(c->labels[i].key) == klen && strncmp(c->labels[i].key, pair, klen) == 0)
			return set_string(&c->labels[i].value, pair + klen + 1, err);
	struct json_kv *grown = realloc(c->labels, (c->n_labels + 1) * sizeof(*grown));
	if (grown == NULL)
		return vsl_error_errno(err, ENOMEM, "parse change");
	c->labels = grown;
	char *k = strndup(pair, klen), *v = strdup(pair + klen + 1);
	if (k == NULL || v == NULL) {
		free(k);
		free(v);
		return vsl_error_errno(err, ENOMEM, "parse change");
	}
	c->labels[c->n_labels++] = (struct json_kv){.key = k, .value = v};
	return 0;
}

static int apply_change(struct image_container_config *c, const char *line, struct vsl_error **err)
{
	while (isspace((unsigned char)*line))
		line++;
	size_t n = strcspn(line, " \t");
	_cleanup_free_ char *instr = strndup(line, n);
	if (instr == NULL)
		return vsl_error_errno(err, ENOMEM, "parse change");
	for (char *p = instr; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	const char *rest = line + n;
	while (isspace((unsigned char)*rest))
		rest++;
	_cleanup_free_ char *trimmed = strdup(rest);
	if (trimmed == NULL)
		return vsl_error_errno(err, ENOMEM, "parse change");
	for (size_t l = strlen(trimmed); l > 0 && isspace((unsigned char)trimmed[l - 1]); l--)
		trimmed[l - 1] = '\0';

	static const char *const known[] = {"CMD",  "ENTRYPOINT", "ENV",     "EXPOSE",    "LABEL",
	                                    "USER", "VOLUME",     "WORKDIR", "STOPSIGNAL"};
	bool ok = false;
	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		ok |= strcmp(instr, known[i]) == 0;
	if (!ok)
		return vsl_error_set_code(
		    err, EINVAL,
		    "%s is not a valid change command (use CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, "
		    "USER, VOLUME, WORKDIR or STOPSIGNAL)",
		    *instr ? instr : "''");
	if (*trimmed == '\0' && strcmp(instr, "CMD") != 0 && strcmp(instr, "ENTRYPOINT") != 0)
		return vsl_error_set_code(err, EINVAL, "%s requires an argument", instr);

	int r = 0;
	if (strcmp(instr, "CMD") == 0 || strcmp(instr, "ENTRYPOINT") == 0) {
		char ***field = strcmp(instr, "CMD") == 0 ? &c->cmd : &c->entrypoint;
		_cleanup_strv_ char **argv = NULL;
		if (*trimmed && (r = parse_command(trimmed, true, &argv, err)) < 0)
			return r;
		if (argv == NULL && (argv = calloc(1, sizeof(char *))) == NULL)
			return vsl_error_errno(err, ENOMEM, "parse change");
		strv_free(*field);
		*field = TAKE_PTR(argv);
	} else if (strcmp(instr, "ENV") == 0 || strcmp(instr, "LABEL") == 0) {
		_cleanup_strv_ char **pairs = NULL;
		if ((r = parse_pairs(instr, trimmed, &pairs, err)) < 0)
			return r;
		for (char **p = pairs; r >= 0 && *p; p++)
			r = instr[0] == 'E' ? env_set(&c->env, *p, err) : label_set(c, *p, err);
	} else if (strcmp(instr, "EXPOSE") == 0) {
		_cleanup_strv_ char **ports = NULL;
		if ((r = split_words(trimmed, &ports, err)) < 0)
			return r;
		for (char **p = ports; p && *p; p++) {
			_cleanup_free_ char *port = NULL;
			if (asprintf(&port, strchr(*p, '/') ? "%s" : "%s/tcp", *p) < 0)
				return vsl_error_errno(err, ENOMEM, "parse change");
			unsigned long num = strtoul(port, NULL, 10);
			if (!isdigit((unsigned char)port[0]) || num == 0 || num > 65535)
				return vsl_error_set_code(err, EINVAL, "EXPOSE: invalid port '%s'", *p);
			if (!strv_contains(c->exposed_ports, port) &&
			    strv_append(&c->exposed_ports, port) < 0)
				return vsl_error_errno(err, ENOMEM, "parse change");
		}
	} else if (strcmp(instr, "VOLUME") == 0) {
		_cleanup_strv_ char **vols = NULL;
		if ((r = parse_command(trimmed, false, &vols, err)) < 0)
			return r;
		for (char **v = vols; v && *v; v++)
			if (!strv_contains(c->volumes, *v) && strv_append(&c->volumes, *v) < 0)
				return vsl_error_errno(err, ENOMEM, "parse change");
	} else if (strcmp(instr, "USER") == 0) {
		r = set_string(&c->user, trimmed, err);
	} else if (strcmp(instr, "WORKDIR") == 0) {
		r = set_string(&c->working_dir, trimmed, err);
	} else {
		r = set_string(&c->stop_signal, trimmed, err);
	}
	return r;
}

/* ---- the layer ---- */

struct import_sink {
	struct blob_writer *blob;
	uint64_t size;
};

static int import_sink_write(void *userdata, const void *buf, size_t len, struct vsl_error **err)
{
	struct import_sink *s = userdata;
	s->size += len;
	return blob_writer_write(s->blob, buf, len, err);
}

/* in_fd (any compression) -> a gzip blob in the store; the diff id of the tar. */
static int store_layer(struct images *im, int in_fd, char ret_diff_id[DIGEST_SIZE],
                       char ret_blob[DIGEST_SIZE], uint64_t *ret_blob_size, bool *ret_new_blob,
                       struct vsl_error **err)
{
	_cleanup_zreader_ struct zreader *in = NULL;
	int r = zreader_open(in_fd, &in, err);
	if (r < 0)
		return r;
	_cleanup_blob_writer_ struct blob_writer *blob = NULL;
	if ((r = blob_writer_new(im->blobs, NULL, -1, &blob, err)) < 0)
		return r;
	struct import_sink sink = {.blob = blob};
	_cleanup_zwriter_ struct zwriter *out = NULL;
	if ((r = zwriter_new(COMPRESSION_GZIP, 0, import_sink_write, &sink, &out, err)) < 0)
		return r;
	_cleanup_digester_ struct digester *diff = digester_new();
	_cleanup_free_ char *buf = malloc(1 << 16);
	if (diff == NULL || buf == NULL)
		return vsl_error_errno(err, ENOMEM, "import");
	ssize_t n;
	while ((n = zreader_read(in, buf, 1 << 16, err)) > 0) {
		digester_update(diff, buf, (size_t)n);
		if ((r = zwriter_write(out, buf, (size_t)n, err)) < 0)
			return r;
	}
	if (n < 0)
		return (int)n;
	if ((r = zwriter_finish(out, err)) < 0)
		return r;
	/* Whether it was there before decides whether a failure later removes it:
	 * that is only known from its digest, which the commit computes. */
	char digest[DIGEST_SIZE];
	digester_final(diff, ret_diff_id);
	if ((r = blob_writer_commit(blob, digest, err)) < 0)
		return r;
	memcpy(ret_blob, digest, DIGEST_SIZE);
	*ret_blob_size = sink.size;
	*ret_new_blob = true;
	return 0;
}

static int unpack_layer(struct images *im, const char *blob, const char *diff_id, uint64_t *ret_size,
                        bool *ret_new_layer, struct vsl_error **err)
{
	*ret_new_layer = false;
	if (layer_store_has(im->layers, diff_id)) {
		_cleanup_layer_record_ struct layer_record *old = NULL;
		if (image_db_get_layer(im->db, diff_id, &old, NULL) >= 0)
			*ret_size = old->size;
		return 0;
	}
	_cleanup_layer_ingest_ struct layer_ingest *ingest = NULL;
	_cleanup_close_ int diff_dirfd = -EBADF;
	int r = layer_store_begin(im->layers, diff_id, &ingest, &diff_dirfd, err);
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
		return vsl_error_set_code(err, EBADMSG, "layer content changed while importing (%s, then %s)",
		                          diff_id, res.diff_id);
	if ((r = layer_ingest_commit(ingest, err)) < 0)
		return r;
	*ret_size = res.unpacked_size;
	*ret_new_layer = true;
	return 0;
}

static int build_config(struct image_config *c, char **changes, const char *message, struct vsl_error **err)
{
	for (char **ch = changes; ch && *ch; ch++) {
		int r = apply_change(&c->config, *ch, err);
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

static int import_unlocked(struct images *im, int in_fd, const char *name, char **changes, const char *message,
                  char **ret_id, struct vsl_error **err)
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

	r = store_layer(im, in_fd, diff_id, blob, &blob_size, &new_blob, err);
	if (r >= 0)
		r = unpack_layer(im, blob, diff_id, &size, &new_layer, err);
	if (r < 0)
		goto fail;

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
