/* The state database: one SQLite file, `<root>/vessel.db`, shared by the rooms
 * that keep metadata in it (images now; containers, networks, volumes later).
 *
 *     _cleanup_db_ struct db *db = NULL;
 *     if (db_open(path, &db, err) < 0 || image_db_init(db, err) < 0)
 *             return ...;
 *
 * Many vessel processes use the file at once and any of them may be killed at
 * any moment, so the file runs in WAL mode with a busy timeout: readers never
 * block writers, writers queue behind each other, and a crash leaves the last
 * committed state. Every change of more than one statement goes through
 * db_begin() (BEGIN IMMEDIATE) and db_commit(): taking the write lock up front
 * is what keeps a read-modify-write from losing another process's update.
 *
 * Each room owns its tables and brings them up to date with db_migrate(); the
 * versions live in a shared schema_versions(room, version) table.
 */
#pragma once

#include <sqlite3.h>
#include <stddef.h>

struct vsl_error;
struct db;

/* Opens (creating if needed) the database at path: WAL, a 30 s busy timeout,
 * foreign keys on, synchronous=NORMAL. */
int db_open(const char *path, struct db **ret, struct vsl_error **err);
void db_close(struct db *db);

/* Brings `room`'s tables to version n_steps: steps[i] (SQL, may hold several
 * statements) moves the room from version i to i + 1. All steps run in one
 * IMMEDIATE transaction, so a failing step or a crash leaves the old version.
 * A room recorded at a higher version than n_steps is refused: its state was
 * written by a newer vessel, and this one would misread it. */
int db_migrate(struct db *db, const char *room, const char *const *steps, size_t n_steps,
               struct vsl_error **err);

/* Runs SQL without results (may hold several statements). */
int db_exec(struct db *db, const char *sql, struct vsl_error **err);

/* Starts a write transaction (BEGIN IMMEDIATE: writers serialise here, waiting
 * up to the busy timeout). Inside a transaction it opens a savepoint instead,
 * so a room's function can be called from a caller's larger transaction;
 * db_commit() and db_rollback() then end that savepoint only. */
int db_begin(struct db *db, struct vsl_error **err);
/* Starts a read transaction (BEGIN DEFERRED): several SELECTs see one snapshot.
 * End it with db_commit() or db_rollback(); never write inside it (the upgrade
 * to a write lock can fail at once with "database is locked"). */
int db_begin_read(struct db *db, struct vsl_error **err);
int db_commit(struct db *db, struct vsl_error **err);
/* Undoes the innermost db_begin()/db_begin_read(); a no-op outside one. */
void db_rollback(struct db *db);

int db_prepare(struct db *db, const char *sql, sqlite3_stmt **ret, struct vsl_error **err);

/* Fills err from the connection's last error, as "<what>: <sqlite message>",
 * with an errno that matches the kind (EBUSY, ENOSPC, EEXIST for constraint
 * violations, EIO, ...). Returns the negative errno. */
int db_error(struct db *db, struct vsl_error **err, const char *what);

sqlite3 *db_handle(struct db *db);

static inline void db_closep(struct db **db)
{
	db_close(*db);
}
#define _cleanup_db_ __attribute__((cleanup(db_closep)))

static inline void sqlite3_finalizep(sqlite3_stmt **s)
{
	/* The statement's error has already been reported by the step that failed. */
	if (*s)
		(void)sqlite3_finalize(*s);
}
#define _cleanup_stmt_ __attribute__((cleanup(sqlite3_finalizep)))
