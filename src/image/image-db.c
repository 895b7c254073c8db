#include "image/image-db.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/cleanup.h"
#include "util/db.h"
#include "util/digest.h"
#include "util/error.h"
#include "util/strv.h"

/* Version i + 1 of the room is reached by steps[i]; append, never edit.
 *
 * Blob fields live on image_layers too: the same layer can come from
 * differently compressed blobs in different images, and each image's blobs
 * must stay until that image is removed. layers.blob_* names one blob that is
 * kept while the layer is (for save and push). Containers will reference
 * images(id), so removing an image they use fails on the foreign key. */
static const char *const image_steps[] = {
    "CREATE TABLE images ("
    " id TEXT PRIMARY KEY NOT NULL,"
    " manifest_digest TEXT,"
    " manifest_media_type TEXT,"
    " created INTEGER NOT NULL DEFAULT 0,"
    " added INTEGER NOT NULL,"
    " size INTEGER NOT NULL DEFAULT 0,"
    " architecture TEXT,"
    " os TEXT,"
    " variant TEXT);"
    "CREATE INDEX images_manifest ON images(manifest_digest);"
    "CREATE TABLE layers ("
    " chain_id TEXT PRIMARY KEY NOT NULL,"
    " diff_id TEXT NOT NULL,"
    " parent_chain_id TEXT,"
    " blob_digest TEXT,"
    " blob_media_type TEXT,"
    " blob_size INTEGER NOT NULL DEFAULT 0,"
    " size INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX layers_blob ON layers(blob_digest);"
    "CREATE TABLE image_layers ("
    " image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
    " idx INTEGER NOT NULL,"
    " chain_id TEXT NOT NULL REFERENCES layers(chain_id),"
    " blob_digest TEXT,"
    " blob_media_type TEXT,"
    " blob_size INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (image_id, idx));"
    "CREATE INDEX image_layers_chain ON image_layers(chain_id);"
    "CREATE INDEX image_layers_blob ON image_layers(blob_digest);"
    "CREATE TABLE image_names ("
    " name TEXT PRIMARY KEY NOT NULL,"
    " image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE);"
    "CREATE INDEX image_names_image ON image_names(image_id);"
    "CREATE TABLE image_digests ("
    " name_with_digest TEXT PRIMARY KEY NOT NULL,"
    " image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE);"
    "CREATE INDEX image_digests_image ON image_digests(image_id);",
};

int image_db_init(struct db *db, struct vsl_error **err)
{
	return db_migrate(db, "image", image_steps, ARRAY_SIZE(image_steps), err);
}

static char **strv_empty(void)
{
	return calloc(1, sizeof(char *));
}

/* NULL for SQL NULL; *oom set when a copy fails. */
static char *column_dup(sqlite3_stmt *s, int col, bool *oom)
{
	const unsigned char *t = sqlite3_column_text(s, col);
	if (t == NULL)
		return NULL;
	char *c = strdup((const char *)t);
	if (c == NULL)
		*oom = true;
	return c;
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

/* One text column of every row of sql, with `param` bound to ?1. */
static int query_strv(struct db *db, const char *sql, const char *param, char ***ret, struct vsl_error **err)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = db_prepare(db, sql, &s, err);
	if (r < 0)
		return r;
	bind_text(s, 1, param);
	_cleanup_strv_ char **v = strv_empty();
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
	*ret = TAKE_PTR(v);
	return 0;
}

/* Runs a statement without result rows, binding the NULL-terminated args as text. */
static int exec_args(struct db *db, const char *sql, struct vsl_error **err, const char *const *args,
                     size_t n)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = db_prepare(db, sql, &s, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		bind_text(s, (int)i + 1, args[i]);
	if (sqlite3_step(s) != SQLITE_DONE)
		return db_error(db, err, "write image records");
	return 0;
}

#define EXEC(db, sql, err, ...)                                                                              \
	exec_args(db, sql, err, (const char *const[]){__VA_ARGS__},                                          \
	          sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

/* 1 when sql with param bound yields a row, 0 when not. */
static int query_exists(struct db *db, const char *sql, const char *param, struct vsl_error **err)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = db_prepare(db, sql, &s, err);
	if (r < 0)
		return r;
	bind_text(s, 1, param);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc != SQLITE_DONE)
		return db_error(db, err, "read image records");
	return 0;
}

/* Runs fn inside db_begin()/db_commit(), rolling back when it fails. */
static int in_transaction(struct db *db, int (*fn)(struct db *, void *, struct vsl_error **), void *data,
                          struct vsl_error **err)
{
	int r = db_begin(db, err);
	if (r < 0)
		return r;
	r = fn(db, data, err);
	if (r < 0) {
		db_rollback(db);
		return r;
	}
	return db_commit(db, err);
}

static int check_layer(const struct layer_record *l, struct vsl_error **err)
{
	if (!digest_is_valid(l->chain_id))
		return vsl_error_set_code(err, EINVAL, "invalid chain id '%s'",
		                          l->chain_id ? l->chain_id : "(null)");
	if (!digest_is_valid(l->diff_id))
		return vsl_error_set_code(err, EINVAL, "layer '%s': invalid diff id '%s'", l->chain_id,
		                          l->diff_id ? l->diff_id : "(null)");
	if (l->blob_digest && !digest_is_valid(l->blob_digest))
		return vsl_error_set_code(err, EINVAL, "layer '%s': invalid blob digest '%s'", l->chain_id,
		                          l->blob_digest);
	return 0;
}

struct put_args {
	const struct image_record *img;
	const struct layer_record *layers;
	size_t n_layers;
};

static int put_locked(struct db *db, void *data, struct vsl_error **err)
{
	const struct put_args *a = data;
	const struct image_record *img = a->img;
	int r;

	for (size_t i = 0; i < a->n_layers; i++) {
		const struct layer_record *l = &a->layers[i];
		/* Known layers stay as they are, except that one recorded without
		 * a blob (imported) gains this one. */
		_cleanup_stmt_ sqlite3_stmt *s = NULL;
		r = db_prepare(
		    db,
		    "INSERT INTO layers (chain_id, diff_id, parent_chain_id, blob_digest, blob_media_type,"
		    " blob_size, size) VALUES (?, ?, ?, ?, ?, ?, ?)"
		    " ON CONFLICT(chain_id) DO UPDATE SET blob_digest = excluded.blob_digest,"
		    " blob_media_type = excluded.blob_media_type, blob_size = excluded.blob_size"
		    " WHERE layers.blob_digest IS NULL",
		    &s, err);
		if (r < 0)
			return r;
		bind_text(s, 1, l->chain_id);
		bind_text(s, 2, l->diff_id);
		bind_text(s, 3, l->parent);
		bind_text(s, 4, l->blob_digest);
		bind_text(s, 5, l->blob_media_type);
		sqlite3_bind_int64(s, 6, (int64_t)l->blob_size);
		sqlite3_bind_int64(s, 7, (int64_t)l->size);
		if (sqlite3_step(s) != SQLITE_DONE)
			return db_error(db, err, "record layer");
	}

	{
		_cleanup_stmt_ sqlite3_stmt *s = NULL;
		r = db_prepare(
		    db,
		    "INSERT INTO images (id, manifest_digest, manifest_media_type, created, added, size,"
		    " architecture, os, variant) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
		    " ON CONFLICT(id) DO UPDATE SET manifest_digest = excluded.manifest_digest,"
		    " manifest_media_type = excluded.manifest_media_type, created = excluded.created,"
		    " size = excluded.size, architecture = excluded.architecture, os = excluded.os,"
		    " variant = excluded.variant",
		    &s, err);
		if (r < 0)
			return r;
		bind_text(s, 1, img->id);
		bind_text(s, 2, img->manifest_digest);
		bind_text(s, 3, img->manifest_media_type);
		sqlite3_bind_int64(s, 4, img->created);
		sqlite3_bind_int64(s, 5, img->added ? img->added : (int64_t)time(NULL));
		sqlite3_bind_int64(s, 6, (int64_t)img->size);
		bind_text(s, 7, img->architecture);
		bind_text(s, 8, img->os);
		bind_text(s, 9, img->variant);
		if (sqlite3_step(s) != SQLITE_DONE)
			return db_error(db, err, "record image");
	}

	if ((r = EXEC(db, "DELETE FROM image_layers WHERE image_id = ?", err, img->id)) < 0)
		return r;
	for (size_t i = 0; i < a->n_layers; i++) {
		const struct layer_record *l = &a->layers[i];
		_cleanup_stmt_ sqlite3_stmt *s = NULL;
		r = db_prepare(
		    db,
		    "INSERT INTO image_layers (image_id, idx, chain_id, blob_digest, blob_media_type,"
		    " blob_size) VALUES (?, ?, ?, ?, ?, ?)",
		    &s, err);
		if (r < 0)
			return r;
		bind_text(s, 1, img->id);
		sqlite3_bind_int64(s, 2, (int64_t)i);
		bind_text(s, 3, l->chain_id);
		bind_text(s, 4, l->blob_digest);
		bind_text(s, 5, l->blob_media_type);
		sqlite3_bind_int64(s, 6, (int64_t)l->blob_size);
		if (sqlite3_step(s) != SQLITE_DONE)
			return db_error(db, err, "record image layers");
	}

	for (char **n = img->names; n && *n; n++)
		if ((r = EXEC(db,
		              "INSERT INTO image_names (name, image_id) VALUES (?, ?)"
		              " ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id",
		              err, *n, img->id)) < 0)
			return vsl_error_prefix(err, "name '%s'", *n);
	for (char **d = img->digests; d && *d; d++)
		if ((r = EXEC(db,
		              "INSERT INTO image_digests (name_with_digest, image_id) VALUES (?, ?)"
		              " ON CONFLICT(name_with_digest) DO UPDATE SET image_id = excluded.image_id",
		              err, *d, img->id)) < 0)
			return vsl_error_prefix(err, "digest '%s'", *d);
	return 0;
}

int image_db_put(struct db *db, const struct image_record *img, const struct layer_record *layers,
                 size_t n_layers, struct vsl_error **err)
{
	if (img == NULL || !digest_is_valid(img->id))
		return vsl_error_set_code(err, EINVAL, "record image: invalid image id '%s'",
		                          img && img->id ? img->id : "(null)");
	for (size_t i = 0; i < n_layers; i++) {
		int r = check_layer(&layers[i], err);
		if (r < 0)
			return vsl_error_prefix(err, "record image '%s'", img->id);
	}
	for (char **n = img->names; n && *n; n++)
		if (**n == '\0' || strchr(*n, '@'))
			return vsl_error_set_code(err, EINVAL, "record image '%s': invalid name '%s'",
			                          img->id, *n);
	for (char **d = img->digests; d && *d; d++)
		if (strchr(*d, '@') == NULL || !digest_is_valid(strchr(*d, '@') + 1))
			return vsl_error_set_code(err, EINVAL, "record image '%s': invalid repo digest '%s'",
			                          img->id, *d);

	struct put_args a = {img, layers, n_layers};
	int r = in_transaction(db, put_locked, &a, err);
	if (r < 0)
		return vsl_error_prefix(err, "record image '%s'", img->id);
	return 0;
}

static int no_such_image(const char *what, struct vsl_error **err)
{
	return vsl_error_set_code(err, ENOENT, "no such image '%s'", what);
}

/* Reads one image; the caller provides the transaction that makes its parts agree. */
static int get_locked(struct db *db, const char *id, struct image_record **ret, struct vsl_error **err)
{
	_cleanup_image_record_ struct image_record *rec = calloc(1, sizeof(*rec));
	if (rec == NULL)
		return vsl_error_errno(err, ENOMEM, "read image '%s'", id);
	{
		_cleanup_stmt_ sqlite3_stmt *s = NULL;
		int r = db_prepare(db,
		                   "SELECT id, manifest_digest, manifest_media_type, created, added, size,"
		                   " architecture, os, variant FROM images WHERE id = ?",
		                   &s, err);
		if (r < 0)
			return r;
		bind_text(s, 1, id);
		int rc = sqlite3_step(s);
		if (rc == SQLITE_DONE)
			return no_such_image(id, err);
		if (rc != SQLITE_ROW)
			return db_error(db, err, "read image");
		bool oom = false;
		rec->id = column_dup(s, 0, &oom);
		rec->manifest_digest = column_dup(s, 1, &oom);
		rec->manifest_media_type = column_dup(s, 2, &oom);
		rec->created = sqlite3_column_int64(s, 3);
		rec->added = sqlite3_column_int64(s, 4);
		rec->size = (uint64_t)sqlite3_column_int64(s, 5);
		rec->architecture = column_dup(s, 6, &oom);
		rec->os = column_dup(s, 7, &oom);
		rec->variant = column_dup(s, 8, &oom);
		if (oom)
			return vsl_error_errno(err, ENOMEM, "read image '%s'", id);
	}
	int r = query_strv(db, "SELECT name FROM image_names WHERE image_id = ? ORDER BY name", id,
	                   &rec->names, err);
	if (r >= 0)
		r = query_strv(db, "SELECT name_with_digest FROM image_digests WHERE image_id = ? ORDER BY 1",
		               id, &rec->digests, err);
	if (r >= 0)
		r = query_strv(db, "SELECT chain_id FROM image_layers WHERE image_id = ? ORDER BY idx", id,
		               &rec->chain_ids, err);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(rec);
	return 0;
}

int image_db_get(struct db *db, const char *id, struct image_record **ret, struct vsl_error **err)
{
	int r = db_begin_read(db, err);
	if (r < 0)
		return r;
	r = get_locked(db, id, ret, err);
	if (r < 0) {
		db_rollback(db);
		return r;
	}
	return db_commit(db, err);
}

/* The single text value of the first row, or -ENOENT (without touching err). */
static int query_one(struct db *db, const char *sql, const char *param, char **ret, struct vsl_error **err)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = db_prepare(db, sql, &s, err);
	if (r < 0)
		return r;
	bind_text(s, 1, param);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	if (rc != SQLITE_ROW)
		return db_error(db, err, "read image records");
	char *v = strdup((const char *)sqlite3_column_text(s, 0));
	if (v == NULL)
		return vsl_error_errno(err, ENOMEM, "read image records");
	*ret = v;
	return 0;
}

static int resolve_prefix(struct db *db, const char *input, const char *hex, char **ret_id,
                          struct vsl_error **err)
{
	_cleanup_free_ char *pattern = NULL;
	/* hex is checked to be [0-9a-f] only, so it carries no GLOB syntax. */
	if (asprintf(&pattern, DIGEST_PREFIX "%s*", hex) < 0)
		return vsl_error_errno(err, ENOMEM, "resolve image");
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = db_prepare(db, "SELECT id FROM images WHERE id GLOB ? ORDER BY id LIMIT 2", &s, err);
	if (r < 0)
		return r;
	bind_text(s, 1, pattern);
	_cleanup_free_ char *found = NULL;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (found)
			return vsl_error_set_code(err, EINVAL, "ambiguous image id prefix '%s'", input);
		found = strdup((const char *)sqlite3_column_text(s, 0));
		if (found == NULL)
			return vsl_error_errno(err, ENOMEM, "resolve image");
	}
	if (rc != SQLITE_DONE)
		return db_error(db, err, "resolve image");
	if (found == NULL)
		return no_such_image(input, err);
	*ret_id = TAKE_PTR(found);
	return 0;
}

static bool is_hex_prefix(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");
	return n > 0 && n <= DIGEST_HEX_LEN && s[n] == '\0';
}

int image_db_resolve(struct db *db, const char *name_or_id, char **ret_id, struct vsl_error **err)
{
	if (name_or_id == NULL || *name_or_id == '\0')
		return vsl_error_set_code(err, EINVAL, "empty image name");

	/* Every lookup is a single statement: each sees one consistent state. */
	int r;
	if (strchr(name_or_id, '@')) {
		r = query_one(db, "SELECT image_id FROM image_digests WHERE name_with_digest = ?", name_or_id,
		              ret_id, err);
		return r == -ENOENT ? no_such_image(name_or_id, err) : r;
	}
	if (digest_is_valid(name_or_id)) {
		r = query_one(db, "SELECT id FROM images WHERE id = ?", name_or_id, ret_id, err);
		return r == -ENOENT ? no_such_image(name_or_id, err) : r;
	}
	r = query_one(db, "SELECT image_id FROM image_names WHERE name = ?", name_or_id, ret_id, err);
	if (r != -ENOENT)
		return r;

	const char *hex = name_or_id;
	if (strncmp(hex, DIGEST_PREFIX, strlen(DIGEST_PREFIX)) == 0)
		hex += strlen(DIGEST_PREFIX);
	if (!is_hex_prefix(hex))
		return no_such_image(name_or_id, err);
	return resolve_prefix(db, name_or_id, hex, ret_id, err);
}

int image_db_list(struct db *db, struct image_record ***ret, size_t *ret_n, struct vsl_error **err)
{
	int r = db_begin_read(db, err);
	if (r < 0)
		return r;
	_cleanup_strv_ char **ids = NULL;
	r = query_strv(db, "SELECT id FROM images ORDER BY created DESC, id", NULL, &ids, err);
	size_t n = 0;
	while (ids && ids[n])
		n++;
	struct image_record **list = NULL;
	if (r >= 0 && (list = calloc(n + 1, sizeof(*list))) == NULL)
		r = vsl_error_errno(err, ENOMEM, "list images");
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = get_locked(db, ids[i], &list[i], err);
	if (r >= 0)
		r = db_commit(db, err);
	else
		db_rollback(db);
	if (r < 0) {
		image_record_list_free(list, n);
		return r;
	}
	*ret = list;
	*ret_n = n;
	return 0;
}

struct tag_args {
	const char *id, *name;
};

static int tag_locked(struct db *db, void *data, struct vsl_error **err)
{
	const struct tag_args *a = data;
	int r = query_exists(db, "SELECT 1 FROM images WHERE id = ?", a->id, err);
	if (r < 0)
		return r;
	if (r == 0)
		return no_such_image(a->id, err);
	return EXEC(db,
	            "INSERT INTO image_names (name, image_id) VALUES (?, ?)"
	            " ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id",
	            err, a->name, a->id);
}

int image_db_tag(struct db *db, const char *id, const char *name, struct vsl_error **err)
{
	if (name == NULL || *name == '\0' || strchr(name, '@'))
		return vsl_error_set_code(err, EINVAL, "invalid tag '%s'", name ? name : "(null)");
	struct tag_args a = {id, name};
	int r = in_transaction(db, tag_locked, &a, err);
	if (r < 0)
		return vsl_error_prefix(err, "tag '%s'", name);
	return 0;
}

int image_db_untag(struct db *db, const char *name, struct vsl_error **err)
{
	bool digest = name && strchr(name, '@');
	int r = EXEC(db,
	             digest ? "DELETE FROM image_digests WHERE name_with_digest = ?"
	                    : "DELETE FROM image_names WHERE name = ?",
	             err, name);
	if (r < 0)
		return vsl_error_prefix(err, "untag '%s'", name);
	if (sqlite3_changes(db_handle(db)) == 0)
		return no_such_image(name ? name : "(null)", err);
	return 0;
}

struct remove_args {
	const char *id;
	char **chains;
	char **blobs;
};

/* Referenced by a remaining image: as a layer blob, a config or a manifest. */
static int blob_in_use(struct db *db, const char *digest, struct vsl_error **err)
{
	return query_exists(db,
	                    "SELECT 1 WHERE EXISTS (SELECT 1 FROM image_layers WHERE blob_digest = ?1)"
	                    " OR EXISTS (SELECT 1 FROM images WHERE id = ?1 OR manifest_digest = ?1)",
	                    digest, err);
}

static int add_candidates(char ***v, char **more)
{
	for (char **m = more; m && *m; m++)
		if (!strv_contains(*v, *m) && strv_append(v, *m) < 0)
			return -ENOMEM;
	return 0;
}

/* A kept layer whose recorded blob is about to go takes a blob of another
 * image that has the layer, or none. */
static int repoint_layers(struct db *db, const char *blob, struct vsl_error **err)
{
	_cleanup_strv_ char **chains = NULL;
	int r = query_strv(db, "SELECT chain_id FROM layers WHERE blob_digest = ?", blob, &chains, err);
	if (r < 0)
		return r;
	for (char **c = chains; *c; c++) {
		_cleanup_stmt_ sqlite3_stmt *s = NULL;
		r = db_prepare(
		    db,
		    "UPDATE layers SET"
		    " blob_digest = (SELECT blob_digest FROM image_layers WHERE chain_id = ?1"
		    "  AND blob_digest IS NOT NULL ORDER BY image_id, idx LIMIT 1),"
		    " blob_media_type = (SELECT blob_media_type FROM image_layers WHERE chain_id = ?1"
		    "  AND blob_digest IS NOT NULL ORDER BY image_id, idx LIMIT 1),"
		    " blob_size = coalesce((SELECT blob_size FROM image_layers WHERE chain_id = ?1"
		    "  AND blob_digest IS NOT NULL ORDER BY image_id, idx LIMIT 1), 0)"
		    " WHERE chain_id = ?1",
		    &s, err);
		if (r < 0)
			return r;
		bind_text(s, 1, *c);
		if (sqlite3_step(s) != SQLITE_DONE)
			return db_error(db, err, "update layer blob");
	}
	return 0;
}

static int remove_locked(struct db *db, void *data, struct vsl_error **err)
{
	struct remove_args *a = data;
	_cleanup_free_ char *manifest = NULL;
	{
		_cleanup_stmt_ sqlite3_stmt *s = NULL;
		int r = db_prepare(db, "SELECT manifest_digest FROM images WHERE id = ?", &s, err);
		if (r < 0)
			return r;
		bind_text(s, 1, a->id);
		int rc = sqlite3_step(s);
		if (rc == SQLITE_DONE)
			return no_such_image(a->id, err);
		if (rc != SQLITE_ROW)
			return db_error(db, err, "read image");
		bool oom = false;
		manifest = column_dup(s, 0, &oom);
		if (oom)
			return vsl_error_errno(err, ENOMEM, "remove image");
	}

	_cleanup_strv_ char **chains = NULL, **blobs = NULL, **candidates = NULL;
	int r = query_strv(db, "SELECT chain_id FROM image_layers WHERE image_id = ? ORDER BY idx DESC",
	                   a->id, &chains, err);
	if (r >= 0)
		r = query_strv(db,
		               "SELECT blob_digest FROM image_layers WHERE image_id = ? ORDER BY idx DESC",
		               a->id, &blobs, err);
	if (r < 0)
		return r;
	if (add_candidates(&candidates, (char *[]){(char *)a->id, manifest, NULL}) < 0 ||
	    add_candidates(&candidates, blobs) < 0)
		return vsl_error_errno(err, ENOMEM, "remove image");

	if ((r = EXEC(db, "DELETE FROM images WHERE id = ?", err, a->id)) < 0)
		return r;

	for (char **c = chains; *c; c++) {
		if (strv_contains(a->chains, *c))
			continue;
		r = query_exists(db, "SELECT 1 FROM image_layers WHERE chain_id = ?", *c, err);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		_cleanup_strv_ char **layer_blob = NULL;
		if ((r = query_strv(db, "SELECT blob_digest FROM layers WHERE chain_id = ?", *c, &layer_blob,
		                    err)) < 0)
			return r;
		if (add_candidates(&candidates, layer_blob) < 0 || strv_append(&a->chains, *c) < 0)
			return vsl_error_errno(err, ENOMEM, "remove image");
		if ((r = EXEC(db, "DELETE FROM layers WHERE chain_id = ?", err, *c)) < 0)
			return r;
	}

	for (char **b = candidates; b && *b; b++) {
		r = blob_in_use(db, *b, err);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		if (strv_append(&a->blobs, *b) < 0)
			return vsl_error_errno(err, ENOMEM, "remove image");
		if ((r = repoint_layers(db, *b, err)) < 0)
			return r;
	}
	return 0;
}

int image_db_remove(struct db *db, const char *id, char ***ret_unused_chain_ids, char ***ret_unused_blobs,
                    struct vsl_error **err)
{
	struct remove_args a = {.id = id};
	a.chains = strv_empty();
	a.blobs = strv_empty();
	int r = 0;
	if (a.chains == NULL || a.blobs == NULL)
		r = vsl_error_errno(err, ENOMEM, "remove image");
	if (r >= 0)
		r = in_transaction(db, remove_locked, &a, err);
	if (r < 0) {
		strv_free(a.chains);
		strv_free(a.blobs);
		return vsl_error_prefix(err, "remove image '%s'", id);
	}
	if (ret_unused_chain_ids)
		*ret_unused_chain_ids = TAKE_PTR(a.chains);
	if (ret_unused_blobs)
		*ret_unused_blobs = TAKE_PTR(a.blobs);
	strv_free(a.chains);
	strv_free(a.blobs);
	return 0;
}

int image_db_get_layer(struct db *db, const char *chain_id, struct layer_record **ret, struct vsl_error **err)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = db_prepare(
	    db,
	    "SELECT chain_id, diff_id, parent_chain_id, blob_digest, blob_media_type, blob_size, size"
	    " FROM layers WHERE chain_id = ?",
	    &s, err);
	if (r < 0)
		return r;
	bind_text(s, 1, chain_id);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		return vsl_error_set_code(err, ENOENT, "no such layer '%s'", chain_id ? chain_id : "(null)");
	if (rc != SQLITE_ROW)
		return db_error(db, err, "read layer");
	_cleanup_layer_record_ struct layer_record *l = calloc(1, sizeof(*l));
	if (l == NULL)
		return vsl_error_errno(err, ENOMEM, "read layer");
	bool oom = false;
	l->chain_id = column_dup(s, 0, &oom);
	l->diff_id = column_dup(s, 1, &oom);
	l->parent = column_dup(s, 2, &oom);
	l->blob_digest = column_dup(s, 3, &oom);
	l->blob_media_type = column_dup(s, 4, &oom);
	l->blob_size = (uint64_t)sqlite3_column_int64(s, 5);
	l->size = (uint64_t)sqlite3_column_int64(s, 6);
	if (oom)
		return vsl_error_errno(err, ENOMEM, "read layer");
	*ret = TAKE_PTR(l);
	return 0;
}

void image_record_free(struct image_record *r)
{
	if (r == NULL)
		return;
	free(r->id);
	free(r->manifest_digest);
	free(r->manifest_media_type);
	free(r->architecture);
	free(r->os);
	free(r->variant);
	strv_free(r->names);
	strv_free(r->digests);
	strv_free(r->chain_ids);
	free(r);
}

void image_record_list_free(struct image_record **list, size_t n)
{
	if (list == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		image_record_free(list[i]);
	free(list);
}

void layer_record_free(struct layer_record *r)
{
	if (r == NULL)
		return;
	free(r->chain_id);
	free(r->diff_id);
	free(r->parent);
	free(r->blob_digest);
	free(r->blob_media_type);
	free(r);
}
