#include "engine/volume-store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine/container-store.h"
#include "util/cleanup.h"
#include "util/db.h"
#include "util/error.h"
#include "util/strv.h"

/* Version i + 1 of the room is reached by steps[i]; append, never edit.
 * volume_mounts.volume references volumes(name): a volume some row still
 * names cannot be deleted, whatever a caller forgot to check. There is no
 * key to containers(id) on purpose: a container's removal must not take the
 * rows that say which anonymous volumes were its (see the header). */
static const char *const volume_steps[] = {
    "CREATE TABLE volumes ("
    " name TEXT PRIMARY KEY NOT NULL,"
    " driver TEXT NOT NULL,"
    " labels TEXT NOT NULL DEFAULT '{}',"
    " options TEXT NOT NULL DEFAULT '{}',"
    " created INTEGER NOT NULL,"
    " anonymous INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE volume_mounts ("
    " container_id TEXT NOT NULL,"
    " destination TEXT NOT NULL,"
    " volume TEXT REFERENCES volumes(name),"
    " source TEXT,"
    " read_only INTEGER NOT NULL DEFAULT 0,"
    " no_copy INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (container_id, destination));"
    "CREATE INDEX volume_mounts_volume ON volume_mounts(volume);",
};

/* Rows of containers that still exist. */
#define LIVE           "container_id IN (SELECT id FROM containers)"
#define RUNNING_STATES "(?, ?, ?)"

int volume_store_init(struct db *db, struct vsl_error **err)
{
	return db_migrate(db, "volume", volume_steps, ARRAY_SIZE(volume_steps), err);
}

void volume_record_free(struct volume_record *v)
{
	if (v == NULL)
		return;
	free(v->name);
	free(v->driver);
	free(v->labels);
	free(v->options);
	free(v);
}

void volume_record_list_free(struct volume_record **l, size_t n)
{
	for (size_t i = 0; l && i < n; i++)
		volume_record_free(l[i]);
	free(l);
}

void volume_mount_list_free(struct volume_mount_record *m, size_t n)
{
	for (size_t i = 0; m && i < n; i++) {
		free(m[i].container_id);
		free(m[i].destination);
		free(m[i].volume);
		free(m[i].source);
	}
	free(m);
}

static char *column_dup(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	return t ? strdup((const char *)t) : NULL;
}

static void bind_running(sqlite3_stmt *s, int first)
{
	sqlite3_bind_int(s, first, CONTAINER_RUNNING);
	sqlite3_bind_int(s, first + 1, CONTAINER_PAUSED);
	sqlite3_bind_int(s, first + 2, CONTAINER_RESTARTING);
}

#define SELECT_VOLUME                                                                                        \
	"SELECT name, driver, labels, options, created, anonymous,"                                          \
	" (SELECT COUNT(DISTINCT container_id) FROM volume_mounts m WHERE m.volume = v.name AND " LIVE "),"  \
	" (SELECT COUNT(DISTINCT m.container_id) FROM volume_mounts m JOIN containers c ON c.id = "          \
	"m.container_id WHERE m.volume = v.name AND c.state IN " RUNNING_STATES ")"                          \
	" FROM volumes v"

static int row_read(struct db *db, sqlite3_stmt *s, struct volume_record **ret, struct vsl_error **err)
{
	struct volume_record *v = calloc(1, sizeof(*v));
	if (v == NULL)
		return vsl_error_errno(err, ENOMEM, "read volume");
	v->name = column_dup(s, 0);
	v->driver = column_dup(s, 1);
	v->labels = column_dup(s, 2);
	v->options = column_dup(s, 3);
	v->created = sqlite3_column_int64(s, 4);
	v->anonymous = sqlite3_column_int(s, 5) != 0;
	v->users = (unsigned)sqlite3_column_int(s, 6);
	v->running = (unsigned)sqlite3_column_int(s, 7);
	if (!v->name || !v->driver || !v->labels || !v->options) {
		volume_record_free(v);
		return db ? db_error(db, err, "read volume") : vsl_error_errno(err, ENOMEM, "read volume");
	}
	*ret = v;
	return 0;
}

int volume_store_insert(struct db *db, const struct volume_record *v, struct vsl_error **err)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = db_prepare(db,
	                   "INSERT INTO volumes (name, driver, labels, options, created, anonymous)"
	                   " VALUES (?, ?, ?, ?, ?, ?)",
	                   &s, err);
	if (r < 0)
		return r;
	sqlite3_bind_text(s, 1, v->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, v->driver ? v->driver : "local", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, v->labels ? v->labels : "{}", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, v->options ? v->options : "{}", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, v->created);
	sqlite3_bind_int(s, 6, v->anonymous);
	if (sqlite3_step(s) != SQLITE_DONE) {
		if ((sqlite3_extended_errcode(db_handle(db)) & 0xff) == SQLITE_CONSTRAINT)
			return vsl_error_set_code(err, EEXIST, "volume '%s' already exists", v->name);
		return db_error(db, err, "insert volume");
	}
	return 0;
}

int volume_store_get(struct db *db, const char *name, struct volume_record **ret, struct vsl_error **err)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = db_prepare(db, SELECT_VOLUME " WHERE name = ?", &s, err);
	if (r < 0)
		return r;
	bind_running(s, 1);
	sqlite3_bind_text(s, 4, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		return vsl_error_set_code(err, ENOENT, "no such volume");
	if (rc != SQLITE_ROW)
		return db_error(db, err, "read volume");
	return row_read(db, s, ret, err);
}

int volume_store_list(struct db *db, struct volume_record ***ret, size_t *ret_n, struct vsl_error **err)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = db_prepare(db, SELECT_VOLUME " ORDER BY name", &s, err);
	if (r < 0)
		return r;
	bind_running(s, 1);
	struct volume_record **l = NULL;
	size_t n = 0;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct volume_record **nl = realloc(l, (n + 1) * sizeof(*l));
		if (nl == NULL) {
			volume_record_list_free(l, n);
			return vsl_error_errno(err, ENOMEM, "list volumes");
		}
		l = nl;
		if ((r = row_read(db, s, &l[n], err)) < 0) {
			volume_record_list_free(l, n);
			return r;
		}
		n++;
	}
	if (rc != SQLITE_DONE) {
		volume_record_list_free(l, n);
		return db_error(db, err, "list volumes");
	}
	*ret = l;
	*ret_n = n;
	return 0;
}

int volume_store_delete(struct db *db, const char *name, struct vsl_error **err)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = db_prepare(db, "DELETE FROM volumes WHERE name = ?", &s, err);
	if (r < 0)
		return r;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE) {
		if ((sqlite3_extended_errcode(db_handle(db)) & 0xff) == SQLITE_CONSTRAINT)
			return vsl_error_set_code(err, EBUSY, "volume is in use");
		return db_error(db, err, "delete volume");
	}
	if (sqlite3_changes(db_handle(db)) == 0)
		return vsl_error_set_code(err, ENOENT, "no such volume");
	return 0;
}

int volume_store_mount_add(struct db *db, const struct volume_mount_record *m, struct vsl_error **err)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = db_prepare(
	    db,
	    "INSERT INTO volume_mounts (container_id, destination, volume, source, read_only, no_copy)"
	    " VALUES (?, ?, ?, ?, ?, ?)",
	    &s, err);
	if (r < 0)
		return r;
	sqlite3_bind_text(s, 1, m->container_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, m->destination, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, m->volume, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, m->source, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 5, m->read_only);
	sqlite3_bind_int(s, 6, m->no_copy);
	if (sqlite3_step(s) != SQLITE_DONE)
		return db_error(db, err, "record a volume mount");
	return 0;
}

int volume_store_mounts_of(struct db *db, const char *container_id, struct volume_mount_record **ret,
                           size_t *ret_n, struct vsl_error **err)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = db_prepare(db,
	                   "SELECT container_id, destination, volume, source, read_only, no_copy"
	                   " FROM volume_mounts WHERE container_id = ? ORDER BY destination",
	                   &s, err);
	if (r < 0)
		return r;
	sqlite3_bind_text(s, 1, container_id, -1, SQLITE_STATIC);
	struct volume_mount_record *l = NULL;
	size_t n = 0;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct volume_mount_record *nl = realloc(l, (n + 1) * sizeof(*l));
		if (nl == NULL) {
			volume_mount_list_free(l, n);
			return vsl_error_errno(err, ENOMEM, "read volume mounts");
		}
		l = nl;
		struct volume_mount_record *m = &l[n++];
		*m = (struct volume_mount_record){
		    .container_id = column_dup(s, 0),
		    .destination = column_dup(s, 1),
		    .volume = column_dup(s, 2),
		    .source = column_dup(s, 3),
		    .read_only = sqlite3_column_int(s, 4) != 0,
		    .no_copy = sqlite3_column_int(s, 5) != 0,
		};
		if (!m->container_id || !m->destination || (!m->volume && !m->source)) {
			volume_mount_list_free(l, n);
			return vsl_error_errno(err, ENOMEM, "read volume mounts");
		}
	}
	if (rc != SQLITE_DONE) {
		volume_mount_list_free(l, n);
		return db_error(db, err, "read volume mounts");
	}
	*ret = l;
	*ret_n = n;
	return 0;
}

int volume_store_mounts_drop(struct db *db, const char *container_id, struct vsl_error **err)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = db_prepare(db, "DELETE FROM volume_mounts WHERE container_id = ?", &s, err);
	if (r < 0)
		return r;
	sqlite3_bind_text(s, 1, container_id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		return db_error(db, err, "forget volume mounts");
	return 0;
}

int volume_store_users(struct db *db, const char *volume, char ***ret_ids, struct vsl_error **err)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = db_prepare(db,
	                   "SELECT DISTINCT container_id FROM volume_mounts WHERE volume = ? AND " LIVE
	                   " ORDER BY container_id",
	                   &s, err);
	if (r < 0)
		return r;
	sqlite3_bind_text(s, 1, volume, -1, SQLITE_STATIC);
	_cleanup_strv_ char **ids = NULL;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (strv_append(&ids, (const char *)sqlite3_column_text(s, 0)) < 0)
			return vsl_error_errno(err, ENOMEM, "read volume users");
	if (rc != SQLITE_DONE)
		return db_error(db, err, "read volume users");
	*ret_ids = TAKE_PTR(ids);
	return 0;
}

int volume_store_in_use_by_running(struct db *db, const char *volume, const char *except_id, bool *ret,
                                   struct vsl_error **err)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = db_prepare(db,
	                   "SELECT 1 FROM volume_mounts m JOIN containers c ON c.id = m.container_id"
	                   " WHERE m.volume = ? AND m.container_id != ? AND c.state IN " RUNNING_STATES
	                   " LIMIT 1",
	                   &s, err);
	if (r < 0)
		return r;
	sqlite3_bind_text(s, 1, volume, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, except_id ? except_id : "", -1, SQLITE_STATIC);
	bind_running(s, 3);
	int rc = sqlite3_step(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_error(db, err, "read volume users");
	*ret = rc == SQLITE_ROW;
	return 0;
}

int volume_store_gc(struct db *db, struct vsl_error **err)
{
	return db_exec(db, "DELETE FROM volume_mounts WHERE container_id NOT IN (SELECT id FROM containers)",
	               err);
}
