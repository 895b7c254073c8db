#include "engine/container-store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/db.h"
#include "util/error.h"

/* Version i + 1 of the room is reached by steps[i]; append, never edit.
 * image_id references images(id): an image cannot be deleted from under a
 * container that uses it, whatever `rmi -f` untags. */
static const char *const container_steps[] = {
    "CREATE TABLE containers ("
    " id TEXT PRIMARY KEY NOT NULL,"
    " name TEXT UNIQUE NOT NULL,"
    " image_id TEXT NOT NULL REFERENCES images(id),"
    " image_name TEXT NOT NULL,"
    " config TEXT NOT NULL,"
    " created INTEGER NOT NULL,"
    " state INTEGER NOT NULL,"
    " pid INTEGER NOT NULL DEFAULT 0,"
    " monitor_pid INTEGER NOT NULL DEFAULT 0,"
    " started_at INTEGER NOT NULL DEFAULT 0,"
    " finished_at INTEGER NOT NULL DEFAULT 0,"
    " exit_code INTEGER NOT NULL DEFAULT 0,"
    " oom_killed INTEGER NOT NULL DEFAULT 0,"
    " restart_count INTEGER NOT NULL DEFAULT 0,"
    " error TEXT);"
    "CREATE INDEX containers_image ON containers(image_id);",
    /* `stop` and `kill` by a user: the restart policy leaves the container be. */
    "ALTER TABLE containers ADD COLUMN stop_requested INTEGER NOT NULL DEFAULT 0;",
};

static const char *const state_names[] = {
    [CONTAINER_CREATED] = "created",       [CONTAINER_RUNNING] = "running", [CONTAINER_PAUSED] = "paused",
    [CONTAINER_RESTARTING] = "restarting", [CONTAINER_EXITED] = "exited",   [CONTAINER_DEAD] = "dead",
    [CONTAINER_REMOVING] = "removing",
};

const char *container_state_name(enum container_state s)
{
	return (unsigned)s < ARRAY_SIZE(state_names) ? state_names[s] : "dead";
}

int container_store_init(struct db *db, struct vsl_error **err)
{
	return db_migrate(db, "container", container_steps, ARRAY_SIZE(container_steps), err);
}

void container_record_free(struct container_record *c)
{
	if (c == NULL)
		return;
	free(c->id);
	free(c->name);
	free(c->image_id);
	free(c->image_name);
	free(c->config);
	free(c->error);
	free(c);
}

void container_record_list_free(struct container_record **l, size_t n)
{
	for (size_t i = 0; l && i < n; i++)
		container_record_free(l[i]);
	free(l);
}

#define COLUMNS                                                                                              \
	"id, name, image_id, image_name, config, created, state, pid, monitor_pid, started_at, "             \
	"finished_at, "                                                                                      \
	"exit_code, oom_killed, restart_count, error, stop_requested"

static char *column_dup(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	return t ? strdup((const char *)t) : NULL;
}

static int row_read(sqlite3_stmt *s, struct container_record **ret, struct vsl_error **err)
{
	struct container_record *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return vsl_error_errno(err, ENOMEM, "read container records");
	c->id = column_dup(s, 0);
	c->name = column_dup(s, 1);
	c->image_id = column_dup(s, 2);
	c->image_name = column_dup(s, 3);
	c->config = column_dup(s, 4);
	c->created = sqlite3_column_int64(s, 5);
	c->state = (enum container_state)sqlite3_column_int(s, 6);
	c->pid = sqlite3_column_int(s, 7);
	c->monitor_pid = sqlite3_column_int(s, 8);
	c->started_at = sqlite3_column_int64(s, 9);
	c->finished_at = sqlite3_column_int64(s, 10);
	c->exit_code = sqlite3_column_int(s, 11);
	c->oom_killed = sqlite3_column_int(s, 12) != 0;
	c->restart_count = sqlite3_column_int(s, 13);
	c->error = column_dup(s, 14);
	c->stop_requested = sqlite3_column_int(s, 15) != 0;
	if (!c->id || !c->name || !c->image_id || !c->image_name || !c->config) {
		container_record_free(c);
		return vsl_error_errno(err, ENOMEM, "read container records");
	}
	*ret = c;
	return 0;
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

static const char *bare_name(const char *name)
{
	return name[0] == '/' ? name + 1 : name;
}

static int name_conflict(struct db *db, const char *name, struct vsl_error **err)
{
	_cleanup_free_ char *owner = NULL;
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	if (db_prepare(db, "SELECT id FROM containers WHERE name = ?", &s, NULL) >= 0) {
		bind_text(s, 1, name);
		if (sqlite3_step(s) == SQLITE_ROW)
			owner = column_dup(s, 0);
	}
	return vsl_error_set_code(
	    err, EEXIST,
	    "Conflict. The container name \"/%s\" is already in use by container \"%s\". You "
	    "have to remove (or rename) that container to be able to reuse that name.",
	    name, owner ? owner : "?");
}

int container_store_insert(struct db *db, const struct container_record *c, struct vsl_error **err)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = db_prepare(
	    db, "INSERT INTO containers (" COLUMNS ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", &s, err);
	if (r < 0)
		return r;
	bind_text(s, 1, c->id);
	bind_text(s, 2, c->name);
	bind_text(s, 3, c->image_id);
	bind_text(s, 4, c->image_name);
	bind_text(s, 5, c->config);
	sqlite3_bind_int64(s, 6, c->created);
	sqlite3_bind_int(s, 7, (int)c->state);
	sqlite3_bind_int(s, 8, c->pid);
	sqlite3_bind_int(s, 9, c->monitor_pid);
	sqlite3_bind_int64(s, 10, c->started_at);
	sqlite3_bind_int64(s, 11, c->finished_at);
	sqlite3_bind_int(s, 12, c->exit_code);
	sqlite3_bind_int(s, 13, c->oom_killed);
	sqlite3_bind_int(s, 14, c->restart_count);
	bind_text(s, 15, c->error);
	sqlite3_bind_int(s, 16, c->stop_requested);
	if (sqlite3_step(s) != SQLITE_DONE) {
		if (sqlite3_extended_errcode(db_handle(db)) == SQLITE_CONSTRAINT_UNIQUE &&
		    container_store_name_taken(db, c->name))
			return name_conflict(db, c->name, err);
		return db_error(db, err, "record container");
	}
	return 0;
}

int container_store_get(struct db *db, const char *id, struct container_record **ret, struct vsl_error **err)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = db_prepare(db, "SELECT " COLUMNS " FROM containers WHERE id = ?", &s, err);
	if (r < 0)
		return r;
	bind_text(s, 1, id);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		return vsl_error_set_code(err, ENOENT, "no such container: %s", id);
	if (rc != SQLITE_ROW)
		return db_error(db, err, "read container record");
	return row_read(s, ret, err);
}

static int query_ids(struct db *db, const char *sql, const char *param, char **ret_first, int *ret_count,
                     struct vsl_error **err)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = db_prepare(db, sql, &s, err);
	if (r < 0)
		return r;
	bind_text(s, 1, param);
	int n = 0, rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n++ == 0 && (*ret_first = column_dup(s, 0)) == NULL)
			return vsl_error_errno(err, ENOMEM, "resolve container");
	}
	if (rc != SQLITE_DONE)
		return db_error(db, err, "resolve container");
	*ret_count = n;
	return 0;
}

int container_store_resolve(struct db *db, const char *input, char **ret_id, struct vsl_error **err)
{
	/* Docker's order: a full id, then a name, then an id prefix. */
	_cleanup_free_ char *found = NULL;
	int n = 0;
	int r = query_ids(db, "SELECT id FROM containers WHERE id = ?1 OR name = ?1 LIMIT 1",
	                  bare_name(input), &found, &n, err);
	if (r < 0)
		return r;
	if (n == 0 && input[0] && strspn(input, "0123456789abcdef") == strlen(input)) {
		_cleanup_free_ char *pattern = NULL;
		/* Only hex digits: no GLOB syntax can hide in the pattern. */
		if (asprintf(&pattern, "%s*", input) < 0)
			return vsl_error_errno(err, ENOMEM, "resolve container");
		if ((r = query_ids(db, "SELECT id FROM containers WHERE id GLOB ? LIMIT 2", pattern, &found,
		                   &n, err)) < 0)
			return r;
		if (n > 1)
			return vsl_error_set_code(err, EINVAL, "multiple IDs found with provided prefix: %s",
			                          input);
	}
	if (n == 0)
		return vsl_error_set_code(err, ENOENT, "no such container: %s", input);
	*ret_id = TAKE_PTR(found);
	return 0;
}

int container_store_list(struct db *db, struct container_record ***ret, size_t *ret_n, struct vsl_error **err)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = db_prepare(db, "SELECT " COLUMNS " FROM containers ORDER BY created DESC, id", &s, err);
	if (r < 0)
		return r;
	struct container_record **list = NULL;
	size_t n = 0;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct container_record **grown = realloc(list, (n + 1) * sizeof(*list));
		if (grown == NULL) {
			container_record_list_free(list, n);
			return vsl_error_errno(err, ENOMEM, "list containers");
		}
		list = grown;
		if ((r = row_read(s, &list[n], err)) < 0) {
			container_record_list_free(list, n);
			return r;
		}
		n++;
	}
	if (rc != SQLITE_DONE) {
		container_record_list_free(list, n);
		return db_error(db, err, "list containers");
	}
	*ret = list;
	*ret_n = n;
	return 0;
}

int container_store_update(struct db *db, const struct container_record *c, struct vsl_error **err)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = db_prepare(db,
	                   "UPDATE containers SET state = ?, pid = ?, monitor_pid = ?, started_at = ?, "
	                   "finished_at = ?, exit_code = ?, oom_killed = ?, restart_count = ?, error = ?, "
	                   "stop_requested = ? WHERE id = ?",
	                   &s, err);
	if (r < 0)
		return r;
	sqlite3_bind_int(s, 1, (int)c->state);
	sqlite3_bind_int(s, 2, c->pid);
	sqlite3_bind_int(s, 3, c->monitor_pid);
	sqlite3_bind_int64(s, 4, c->started_at);
	sqlite3_bind_int64(s, 5, c->finished_at);
	sqlite3_bind_int(s, 6, c->exit_code);
	sqlite3_bind_int(s, 7, c->oom_killed);
	sqlite3_bind_int(s, 8, c->restart_count);
	bind_text(s, 9, c->error);
	sqlite3_bind_int(s, 10, c->stop_requested);
	bind_text(s, 11, c->id);
	if (sqlite3_step(s) != SQLITE_DONE)
		return db_error(db, err, "record container state");
	if (sqlite3_changes(db_handle(db)) == 0)
		return vsl_error_set_code(err, ENOENT, "no such container: %s", c->id);
	return 0;
}

int container_store_rename(struct db *db, const char *id, const char *name, struct vsl_error **err)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = db_prepare(db, "UPDATE containers SET name = ? WHERE id = ?", &s, err);
	if (r < 0)
		return r;
	bind_text(s, 1, bare_name(name));
	bind_text(s, 2, id);
	if (sqlite3_step(s) != SQLITE_DONE) {
		if (sqlite3_extended_errcode(db_handle(db)) == SQLITE_CONSTRAINT_UNIQUE)
			return name_conflict(db, bare_name(name), err);
		return db_error(db, err, "rename container");
	}
	return 0;
}

int container_store_remove(struct db *db, const char *id, struct vsl_error **err)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	int r = db_prepare(db, "DELETE FROM containers WHERE id = ?", &s, err);
	if (r < 0)
		return r;
	bind_text(s, 1, id);
	if (sqlite3_step(s) != SQLITE_DONE)
		return db_error(db, err, "remove container record");
	return 0;
}

bool container_store_name_taken(struct db *db, const char *name)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	if (db_prepare(db, "SELECT 1 FROM containers WHERE name = ?", &s, NULL) < 0)
		return true;
	bind_text(s, 1, bare_name(name));
	return sqlite3_step(s) == SQLITE_ROW;
}

bool container_store_image_user(struct db *db, const char *image_id, char **ret_user)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	if (db_prepare(db, "SELECT id FROM containers WHERE image_id = ? LIMIT 1", &s, NULL) < 0)
		return true; /* when in doubt, in use: removal is what cannot be undone */
	bind_text(s, 1, image_id);
	if (sqlite3_step(s) != SQLITE_ROW)
		return false;
	if (ret_user)
		*ret_user = column_dup(s, 0);
	return true;
}

bool container_store_any_joins_netns(struct db *db)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	/* Any mention at all: a false "yes" only costs the caller some care. */
	if (db_prepare(db, "SELECT 1 FROM containers WHERE instr(config, 'container:') > 0 LIMIT 1", &s,
	               NULL) < 0)
		return true;
	return sqlite3_step(s) == SQLITE_ROW;
}
