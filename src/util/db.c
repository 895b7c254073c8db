#include "util/db.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/cleanup.h"
#include "util/error.h"

#define DB_BUSY_TIMEOUT_MS      30000
#define DB_WAL_CHECKPOINT_PAGES 32

struct db {
	sqlite3 *h;
	char *path;
	/* Open db_begin()/db_begin_read() levels: 1 is the transaction, more are savepoints. */
	unsigned depth;
};

sqlite3 *db_handle(struct db *db)
{
	return db->h;
}

static int errno_of(sqlite3 *h, int code)
{
	int sys = sqlite3_system_errno(h);
	switch (code & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return EBUSY;
	case SQLITE_NOMEM:
		return ENOMEM;
	case SQLITE_READONLY:
		return EROFS;
	case SQLITE_FULL:
		return ENOSPC;
	case SQLITE_CONSTRAINT:
		return EEXIST;
	case SQLITE_NOTFOUND:
		return ENOENT;
	case SQLITE_TOOBIG:
		return E2BIG;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return EACCES;
	case SQLITE_CANTOPEN:
	case SQLITE_IOERR:
		return sys > 0 ? sys : EIO;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return EUCLEAN;
	default:
		return EIO;
	}
}

int db_error(struct db *db, struct vsl_error **err, const char *what)
{
	sqlite3 *h = db ? db->h : NULL;
	int code = h ? sqlite3_extended_errcode(h) : SQLITE_NOMEM;
	int e = errno_of(h, code);
	const char *msg = h ? sqlite3_errmsg(h) : sqlite3_errstr(code);
	if ((code & 0xff) == SQLITE_CANTOPEN || (code & 0xff) == SQLITE_IOERR) {
		int sys = h ? sqlite3_system_errno(h) : 0;
		if (sys > 0)
			return vsl_error_set_code(err, e, "%s: %s: %s", what, msg, strerror(sys));
	}
	return vsl_error_set_code(err, e, "%s: %s", what, msg);
}

int db_exec(struct db *db, const char *sql, struct vsl_error **err)
{
	if (sqlite3_exec(db->h, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_error(db, err, "database");
	return 0;
}

int db_prepare(struct db *db, const char *sql, sqlite3_stmt **ret, struct vsl_error **err)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(db->h, sql, -1, &s, NULL) != SQLITE_OK)
		return db_error(db, err, "database: prepare");
	*ret = s;
	return 0;
}

/* Setting WAL needs a moment of exclusive access, and the busy handler is not
 * consulted for every path through it: several processes opening a fresh
 * file at once can see SQLITE_BUSY here, so retry within the busy timeout. */
static int set_wal(struct db *db, struct vsl_error **err)
{
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		sqlite3_stmt *s = NULL;
		int rc = sqlite3_prepare_v2(db->h, "PRAGMA journal_mode=WAL", -1, &s, NULL);
		if (rc == SQLITE_OK) {
			rc = sqlite3_step(s);
			if (rc == SQLITE_ROW) {
				const char *mode = (const char *)sqlite3_column_text(s, 0);
				bool wal = mode && strcmp(mode, "wal") == 0;
				sqlite3_finalize(s);
				if (!wal)
					return vsl_error_set(err, "database '%s': cannot switch to WAL mode",
					                     db->path);
				return 0;
			}
		}
		sqlite3_finalize(s);
		if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
			return db_error(db, err, "database: set WAL mode");
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 > DB_BUSY_TIMEOUT_MS)
			return db_error(db, err, "database: set WAL mode");
		nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
	}
}

int db_open(const char *path, struct db **ret, struct vsl_error **err)
{
	_cleanup_db_ struct db *db = calloc(1, sizeof(*db));
	if (db == NULL)
		return vsl_error_errno(err, ENOMEM, "open database '%s'", path);
	db->path = strdup(path);
	if (db->path == NULL)
		return vsl_error_errno(err, ENOMEM, "open database '%s'", path);

	/* SQLite's unix VFS opens every file (database, WAL, shm) with O_CLOEXEC,
	 * so the containers we start do not inherit them. */
	int rc = sqlite3_open_v2(
	    path, &db->h,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE, NULL);
	if (rc != SQLITE_OK) {
		if (db->h == NULL)
			return vsl_error_errno(err, ENOMEM, "open database '%s'", path);
		_cleanup_free_ char *what = NULL;
		if (asprintf(&what, "open database '%s'", path) < 0)
			return vsl_error_errno(err, ENOMEM, "open database '%s'", path);
		return db_error(db, err, what);
	}
	sqlite3_extended_result_codes(db->h, 1);
	sqlite3_busy_timeout(db->h, DB_BUSY_TIMEOUT_MS);

	int r = set_wal(db, err);
	if (r < 0)
		return vsl_error_prefix(err, "open database '%s'", path);
	/* NORMAL in WAL mode: a power cut may lose the last commits but never
	 * corrupts the file; kill -9 loses nothing. */
	r = db_exec(db, "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;", err);
	if (r < 0)
		return vsl_error_prefix(err, "open database '%s'", path);
	/* A vessel command is a short process and mostly the file's only connection.
	 * Closing the last connection would checkpoint the WAL into the database (an
	 * fdatasync of each) and delete it, and the next command's first commit would
	 * make it again (an fdatasync of its header and one of the directory): four
	 * disk flushes per command for nothing a crash needs. So the WAL stays, and
	 * is checkpointed when it passes DB_WAL_CHECKPOINT_PAGES, by whichever
	 * command commits then. Kept small, because every command's open reads it
	 * whole to rebuild its index (~0.25 ms on average at 32 pages); a `run`
	 * writes ~9 pages, so one in 3-4 pays for a checkpoint. */
	(void)sqlite3_db_config(db->h, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)NULL);
	(void)sqlite3_wal_autocheckpoint(db->h, DB_WAL_CHECKPOINT_PAGES);

	*ret = TAKE_PTR(db);
	return 0;
}

void db_close(struct db *db)
{
	if (db == NULL)
		return;
	if (db->h) {
		if (db->depth > 0 && !sqlite3_get_autocommit(db->h))
			(void)sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
		/* v2: a statement someone forgot to finalize delays the close instead of leaking the handle.
		 */
		(void)sqlite3_close_v2(db->h);
	}
	free(db->path);
	free(db);
}

static int begin(struct db *db, const char *sql, struct vsl_error **err)
{
	/* A failed statement may have made SQLite roll back on its own. */
	if (db->depth > 0 && sqlite3_get_autocommit(db->h))
		db->depth = 0;
	if (db->depth == 0) {
		if (sqlite3_exec(db->h, sql, NULL, NULL, NULL) != SQLITE_OK)
			return db_error(db, err, "database: begin transaction");
	} else {
		char sp[32];
		snprintf(sp, sizeof(sp), "SAVEPOINT vsl_%u", db->depth);
		if (sqlite3_exec(db->h, sp, NULL, NULL, NULL) != SQLITE_OK)
			return db_error(db, err, "database: savepoint");
	}
	db->depth++;
	return 0;
}

int db_begin(struct db *db, struct vsl_error **err)
{
	return begin(db, "BEGIN IMMEDIATE", err);
}

int db_begin_read(struct db *db, struct vsl_error **err)
{
	return begin(db, "BEGIN DEFERRED", err);
}

int db_commit(struct db *db, struct vsl_error **err)
{
	if (db->depth == 0 || sqlite3_get_autocommit(db->h)) {
		db->depth = 0;
		return vsl_error_set_code(err, EINVAL, "database: commit without a transaction");
	}
	char sql[32];
	if (db->depth == 1)
		snprintf(sql, sizeof(sql), "COMMIT");
	else
		snprintf(sql, sizeof(sql), "RELEASE vsl_%u", db->depth - 1);
	if (sqlite3_exec(db->h, sql, NULL, NULL, NULL) != SQLITE_OK) {
		int r = db_error(db, err, "database: commit");
		db_rollback(db);
		return r;
	}
	db->depth--;
	return 0;
}

void db_rollback(struct db *db)
{
	if (db == NULL || db->depth == 0)
		return;
	if (sqlite3_get_autocommit(db->h)) {
		db->depth = 0;
		return;
	}
	char sql[64];
	if (db->depth == 1)
		snprintf(sql, sizeof(sql), "ROLLBACK");
	else
		snprintf(sql, sizeof(sql), "ROLLBACK TO vsl_%u; RELEASE vsl_%u", db->depth - 1,
		         db->depth - 1);
	/* Nothing useful to do if undoing fails: the connection rolls back on close. */
	(void)sqlite3_exec(db->h, sql, NULL, NULL, NULL);
	db->depth--;
}

static const char schema_versions_sql[] = "CREATE TABLE IF NOT EXISTS schema_versions ("
                                          " room TEXT PRIMARY KEY NOT NULL,"
                                          " version INTEGER NOT NULL)";

static int migrate_locked(struct db *db, const char *room, const char *const *steps, size_t n_steps,
                          struct vsl_error **err)
{
	int r = db_exec(db, schema_versions_sql, err);
	if (r < 0)
		return r;

	int64_t version = 0;
	{
		_cleanup_stmt_ sqlite3_stmt *s = NULL;
		r = db_prepare(db, "SELECT version FROM schema_versions WHERE room = ?", &s, err);
		if (r < 0)
			return r;
		sqlite3_bind_text(s, 1, room, -1, SQLITE_STATIC);
		int rc = sqlite3_step(s);
		if (rc == SQLITE_ROW)
			version = sqlite3_column_int64(s, 0);
		else if (rc != SQLITE_DONE)
			return db_error(db, err, "read schema version");
	}

	if (version < 0 || (uint64_t)version > n_steps)
		return vsl_error_set_code(err, EPROTONOSUPPORT,
		                          "schema version %" PRId64
		                          " of '%s' is newer than this vessel knows (%zu): "
		                          "state written by a newer vessel",
		                          version, room, n_steps);
	if ((uint64_t)version == n_steps)
		return 0;

	for (size_t i = (size_t)version; i < n_steps; i++) {
		r = db_exec(db, steps[i], err);
		if (r < 0)
			return vsl_error_prefix(err, "step %zu", i + 1);
	}

	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	r = db_prepare(db,
	               "INSERT INTO schema_versions (room, version) VALUES (?, ?)"
	               " ON CONFLICT(room) DO UPDATE SET version = excluded.version",
	               &s, err);
	if (r < 0)
		return r;
	sqlite3_bind_text(s, 1, room, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (int64_t)n_steps);
	if (sqlite3_step(s) != SQLITE_DONE)
		return db_error(db, err, "record schema version");
	return 0;
}

/* The common case, every command's: the room is up to date. One read, no
 * write lock (which would queue every vessel process behind the others). */
static bool up_to_date(struct db *db, const char *room, size_t n_steps)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(db->h, "SELECT version FROM schema_versions WHERE room = ?", -1, &s, NULL) !=
	    SQLITE_OK)
		return false; /* no table yet: the locked path makes it */
	sqlite3_bind_text(s, 1, room, -1, SQLITE_STATIC);
	bool ok = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int64(s, 0) == (int64_t)n_steps;
	sqlite3_finalize(s);
	return ok;
}

int db_migrate(struct db *db, const char *room, const char *const *steps, size_t n_steps,
               struct vsl_error **err)
{
	if (up_to_date(db, room, n_steps))
		return 0;
	int r = db_begin(db, err);
	if (r >= 0) {
		r = migrate_locked(db, room, steps, n_steps, err);
		if (r >= 0)
			r = db_commit(db, err);
		else
			db_rollback(db);
	}
	if (r < 0)
		return vsl_error_prefix(err, "migrate '%s' tables", room);
	return 0;
}
