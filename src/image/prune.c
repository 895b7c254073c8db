/* `image prune` and the content store's garbage collection: images nobody
 * wants any more, then files no image record points at. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/blob-store.h"
#include "image/image-db.h"
#include "image/images-internal.h"
#include "image/manifest.h"
#include "storage/layer-store.h"
#include "util/cleanup.h"
#include "util/db.h"
#include "util/digest.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/strv.h"

/* ---- which images ---- */

/* "key" matches any value; "key=value" that value. */
static bool has_label(const struct image_config *c, const char *want)
{
	const char *eq = strchr(want, '=');
	size_t klen = eq ? (size_t)(eq - want) : strlen(want);
	for (size_t i = 0; c && i < c->config.n_labels; i++) {
		const struct json_kv *kv = &c->config.labels[i];
		if (strlen(kv->key) != klen || strncmp(kv->key, want, klen) != 0)
			continue;
		if (eq == NULL || strcmp(kv->value ? kv->value : "", eq + 1) == 0)
			return true;
	}
	return false;
}

static int selected(struct images *im, const struct prune_opts *opts, const struct image_record *rec,
                    bool *ret, struct vsl_error **err)
{
	*ret = false;
	if (!opts->all && rec->names && rec->names[0])
		return 0;
	if (opts->until && rec->created >= opts->until)
		return 0;
	if (opts->labels || opts->not_labels) {
		_cleanup_image_config_ struct image_config *config = NULL;
		int r = images_get_config(im, rec->id, &config, err);
		if (r < 0)
			return r;
		for (char **l = opts->labels; l && *l; l++)
			if (!has_label(config, *l))
				return 0;
		for (char **l = opts->not_labels; l && *l; l++)
			if (has_label(config, *l))
				return 0;
	}
	if (opts->in_use && opts->in_use(opts->userdata, rec->id, NULL))
		return 0;
	*ret = true;
	return 0;
}

/* Docker's prune prints "untagged: x" and "deleted: x" where rmi prints
 * "Untagged: x" and "Deleted: x". */
static int append_lowered(char ***lines, char **from, struct vsl_error **err)
{
	for (char **l = from; l && *l; l++) {
		_cleanup_free_ char *s = strdup(*l);
		if (s == NULL)
			return vsl_error_errno(err, ENOMEM, "prune images");
		if (s[0] >= 'A' && s[0] <= 'Z')
			s[0] = (char)(s[0] - 'A' + 'a');
		if (strv_append(lines, s) < 0)
			return vsl_error_errno(err, ENOMEM, "prune images");
	}
	return 0;
}

/* What removing rec can free: the unpacked sizes of its layers and the
 * sizes of its blobs, counted afterwards for those that are gone. */
struct footprint {
	char **chains;
	uint64_t *chain_sizes;
	char **blobs;
	uint64_t *blob_sizes;
	size_t n_chains, n_blobs;
};

static void footprint_release(struct footprint *f)
{
	strv_free(f->chains);
	strv_free(f->blobs);
	free(f->chain_sizes);
	free(f->blob_sizes);
}

static int footprint_add_blob(struct images *im, struct footprint *f, const char *digest)
{
	if (digest == NULL || strv_contains(f->blobs, digest))
		return 0;
	_cleanup_close_ int fd = -EBADF;
	uint64_t size = 0;
	if (blob_store_open_blob(im->blobs, digest, &fd, &size, NULL) < 0)
		return 0;
	uint64_t *s = realloc(f->blob_sizes, (f->n_blobs + 1) * sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	f->blob_sizes = s;
	if (strv_append(&f->blobs, digest) < 0)
		return -ENOMEM;
	f->blob_sizes[f->n_blobs++] = size;
	return 0;
}

static int footprint_of(struct images *im, const struct image_record *rec, struct footprint *f,
                        struct vsl_error **err)
{
	int r = footprint_add_blob(im, f, rec->id);
	if (r >= 0)
		r = footprint_add_blob(im, f, rec->manifest_digest);
	for (char **d = rec->digests; r >= 0 && d && *d; d++) {
		const char *at = strchr(*d, '@');
		r = at ? footprint_add_blob(im, f, at + 1) : 0;
	}
	for (char **c = rec->chain_ids; r >= 0 && c && *c; c++) {
		_cleanup_layer_record_ struct layer_record *l = NULL;
		if (image_db_get_layer(im->db, *c, &l, NULL) < 0)
			continue;
		if ((r = footprint_add_blob(im, f, l->blob_digest)) < 0)
			break;
		uint64_t *s = realloc(f->chain_sizes, (f->n_chains + 1) * sizeof(*s));
		if (s == NULL || strv_append(&f->chains, *c) < 0) {
			if (s)
				f->chain_sizes = s;
			r = -ENOMEM;
			break;
		}
		f->chain_sizes = s;
		f->chain_sizes[f->n_chains++] = l->size;
	}
	if (r < 0)
		return vsl_error_errno(err, ENOMEM, "prune images");
	return 0;
}

static uint64_t footprint_freed(struct images *im, const struct footprint *f)
{
	uint64_t total = 0;
	for (size_t i = 0; i < f->n_chains; i++)
		if (!layer_store_has(im->layers, f->chains[i]))
			total += f->chain_sizes[i];
	for (size_t i = 0; i < f->n_blobs; i++)
		if (!blob_store_has(im->blobs, f->blobs[i]))
			total += f->blob_sizes[i];
	return total;
}

int images_prune(struct images *im, const struct prune_opts *opts, char ***ret_lines, uint64_t *ret_reclaimed,
                 struct vsl_error **err)
{
	static const struct prune_opts none = {0};
	if (opts == NULL)
		opts = &none;
	struct image_record **recs = NULL;
	size_t n = 0;
	int r = images_list(im, &recs, &n, err);
	if (r < 0)
		return r;

	_cleanup_strv_ char **lines = NULL;
	uint64_t reclaimed = 0;
	for (size_t i = 0; r >= 0 && i < n; i++) {
		bool want = false;
		if ((r = selected(im, opts, recs[i], &want, err)) < 0 || !want)
			continue;
		struct footprint f = {0};
		if ((r = footprint_of(im, recs[i], &f, err)) < 0) {
			footprint_release(&f);
			break;
		}
		/* Forced: an image in several repositories goes too, as Docker's
		 * prune removes each of its references. The callback is passed
		 * again for a container created since the check above: the image
		 * then keeps its layers. */
		struct remove_opts ro = {.force = true, .in_use = opts->in_use, .userdata = opts->userdata};
		_cleanup_strv_ char **removed = NULL;
		_cleanup_error_ struct vsl_error *e = NULL;
		if (images_remove(im, recs[i]->id, &ro, &removed, &e) >= 0) {
			r = append_lowered(&lines, removed, err);
			reclaimed += footprint_freed(im, &f);
		}
		/* A failure (removed meanwhile by another command) skips the image. */
		footprint_release(&f);
	}
	image_record_list_free(recs, n);
	if (r < 0)
		return r;

	uint64_t collected = 0;
	if ((r = images_gc(im, &collected, err)) < 0)
		return r;
	*ret_lines = TAKE_PTR(lines);
	if (ret_reclaimed)
		*ret_reclaimed = reclaimed + collected;
	return 0;
}

/* ---- garbage collection ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A sorted set of strings from one SQL query (first column). */
struct set {
	char **v;
	size_t n;
};

static int set_load(struct db *db, const char *sql, struct set *ret, struct vsl_error **err)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = db_prepare(db, sql, &s, err);
	if (r < 0)
		return r;
	_cleanup_strv_ char **v = calloc(1, sizeof(char *));
	if (v == NULL)
		return vsl_error_errno(err, ENOMEM, "read image records");
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(s, 0);
		if (t && strv_append(&v, (const char *)t) < 0)
			return vsl_error_errno(err, ENOMEM, "read image records");
	}
	if (rc != SQLITE_DONE)
		return db_error(db, err, "read image records");
	ret->n = strv_length(v);
	qsort(v, ret->n, sizeof(char *), cmp_str);
	ret->v = TAKE_PTR(v);
	return 0;
}

static bool set_has(const struct set *s, const char *key)
{
	return s->n && bsearch(&key, s->v, s->n, sizeof(char *), cmp_str) != NULL;
}

/* Every digest an image record names: configs, manifests, the indexes
 * behind repo digests, and layer blobs (an image's own and the one a layer
 * keeps for save and push). */
static const char referenced_blobs_sql[] =
    "SELECT id FROM images"
    " UNION SELECT manifest_digest FROM images WHERE manifest_digest IS NOT NULL"
    " UNION SELECT substr(name_with_digest, instr(name_with_digest, '@') + 1) FROM image_digests"
    " UNION SELECT blob_digest FROM layers WHERE blob_digest IS NOT NULL"
    " UNION SELECT blob_digest FROM image_layers WHERE blob_digest IS NOT NULL";
static const char referenced_layers_sql[] = "SELECT chain_id FROM layers";

static bool is_hex64(const char *name)
{
	return strlen(name) == DIGEST_HEX_LEN && strspn(name, "0123456789abcdef") == DIGEST_HEX_LEN;
}

/* Bytes a directory tree takes on disk (its blocks), for the report. */
static uint64_t disk_usage_at(int parent, const char *name, int depth)
{
	struct stat st;
	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	uint64_t total = (uint64_t)st.st_blocks * 512;
	if (!S_ISDIR(st.st_mode) || depth > 256)
		return total;
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return total;
	_cleanup_closedir_ DIR *d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return total;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			total += disk_usage_at(dirfd(d), de->d_name, depth + 1);
	return total;
}

/* Calls fn for each entry of root/<dir>; an absent directory has none. */
static int for_each_entry(int root_dirfd, const char *dir, int (*fn)(void *ud, int dfd, const char *name),
                          void *ud, struct vsl_error **err)
{
	int fd = openat(root_dirfd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return vsl_error_errno(err, errno, "open '%s'", dir);
	_cleanup_closedir_ DIR *d = fdopendir(fd);
	if (d == NULL) {
		int e = errno;
		close(fd);
		return vsl_error_errno(err, e, "open '%s'", dir);
	}
	/* Names first, then removals: readdir and unlink of the same directory
	 * may skip entries. */
	_cleanup_strv_ char **names = NULL;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' && strv_append(&names, de->d_name) < 0)
			return vsl_error_errno(err, ENOMEM, "read '%s'", dir);
	for (char **n = names; n && *n; n++) {
		int r = fn(ud, dirfd(d), *n);
		if (r < 0)
			return r;
	}
	return 0;
}

struct gc {
	struct images *im;
	struct set blobs, layers;
	uint64_t reclaimed;
	struct vsl_error **err;
};

static int gc_blob(void *ud, int dfd, const char *name)
{
	struct gc *g = ud;
	char digest[DIGEST_SIZE];
	if (!is_hex64(name))
		return 0;
	snprintf(digest, sizeof(digest), "%s%s", DIGEST_PREFIX, name);
	if (set_has(&g->blobs, digest))
		return 0;
	struct stat st;
	uint64_t size = fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? (uint64_t)st.st_blocks * 512 : 0;
	if (blob_store_remove(g->im->blobs, digest, g->err) < 0)
		return -1;
	g->reclaimed += size;
	return 0;
}

static int gc_layer(void *ud, int dfd, const char *name)
{
	struct gc *g = ud;
	char chain[DIGEST_SIZE];
	if (!is_hex64(name))
		return 0;
	snprintf(chain, sizeof(chain), "%s%s", DIGEST_PREFIX, name);
	if (set_has(&g->layers, chain))
		return 0;
	uint64_t size = disk_usage_at(dfd, name, 0);
	if (layer_store_remove(g->im->layers, chain, g->err) < 0)
		return -1;
	g->reclaimed += size;
	return 0;
}

/* Under the exclusive images lock no pull, load, import or push runs (they
 * hold it shared from their first write to their record), so whatever is in
 * the temporary directory belongs to a command that died. */
static int gc_tmp(void *ud, int dfd, const char *name)
{
	struct gc *g = ud;
	if (strncmp(name, "blob-", 5) != 0 && strncmp(name, "load-", 5) != 0)
		return 0;
	uint64_t size = disk_usage_at(dfd, name, 0);
	int r = rm_rf_at(dfd, name);
	if (r < 0 && r != -ENOENT)
		return vsl_error_errno(g->err, -r, "remove leftover '%s'", name);
	g->reclaimed += size;
	return 0;
}

int images_gc(struct images *im, uint64_t *ret_reclaimed, struct vsl_error **err)
{
	int r = images_lock(im, LOCK_EX, err);
	if (r < 0)
		return r;
	struct gc g = {.im = im, .err = err};
	r = layer_store_gc(im->layers, err);
	if (r >= 0)
		r = set_load(im->db, referenced_blobs_sql, &g.blobs, err);
	if (r >= 0)
		r = set_load(im->db, referenced_layers_sql, &g.layers, err);
	/* Layers before blobs: a crash in between leaves blobs, which a
	 * later gc removes, never a layer whose blob went first. */
	if (r >= 0)
		r = for_each_entry(im->root_dirfd, "layers", gc_layer, &g, err);
	if (r >= 0)
		r = for_each_entry(im->root_dirfd, "blobs/sha256", gc_blob, &g, err);
	if (r >= 0)
		r = for_each_entry(im->root_dirfd, "tmp", gc_tmp, &g, err);
	images_unlock(im);
	strv_free(g.blobs.v);
	strv_free(g.layers.v);
	if (r < 0)
		return vsl_error_prefix(err, "collect unused image data");
	if (ret_reclaimed)
		*ret_reclaimed = g.reclaimed;
	return 0;
}
