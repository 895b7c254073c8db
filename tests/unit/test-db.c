/* The state database: the pragmas every process relies on, migrations per
 * room (fresh, re-run, partial, refused when newer), savepoints inside a
 * transaction, and forked processes incrementing one counter through
 * db_begin() without losing an update. Each test works in its own mkdtemp
 * root, removed by the teardown even when the test fails. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "util/cleanup.h"
#include "util/db.h"
#include "util/error.h"
#include "util/fs.h"

struct fixture {
	char root[64];
	char path[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -1;
	snprintf(f->root, sizeof(f->root), "/tmp/test-db-XXXXXX");
	if (mkdtemp(f->root) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/vessel.db", f->root);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int r = rm_rf_at(AT_FDCWD, f->root);
	free(f);
	return r;
}

static struct db *open_db(const struct fixture *f)
{
	_cleanup_error_ struct vsl_error *err = NULL;
	struct db *db = NULL;
	int r = db_open(f->path, &db, &err);
	if (r < 0)
		fail_msg("db_open: %s", vsl_error_message(err));
	return db;
}

static int64_t query_int(struct db *db, const char *sql)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	assert_int_equal(sqlite3_prepare_v2(db_handle(db), sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	return sqlite3_column_int64(s, 0);
}

static bool table_exists(struct db *db, const char *name)
{
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	assert_int_equal(sqlite3_prepare_v2(db_handle(db),
	                                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
	                                    -1, &s, NULL),
	                 SQLITE_OK);
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	return sqlite3_step(s) == SQLITE_ROW;
}

static int64_t room_version(struct db *db, const char *room)
{
	if (!table_exists(db, "schema_versions"))
		return 0;
	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	assert_int_equal(sqlite3_prepare_v2(db_handle(db),
	                                    "SELECT version FROM schema_versions WHERE room = ?", -1, &s,
	                                    NULL),
	                 SQLITE_OK);
	sqlite3_bind_text(s, 1, room, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW)
		return 0;
	return sqlite3_column_int64(s, 0);
}

static void test_open_pragmas(void **state)
{
	struct fixture *f = *state;
	_cleanup_db_ struct db *db = open_db(f);

	_cleanup_stmt_ sqlite3_stmt *s = NULL;
	assert_int_equal(sqlite3_prepare_v2(db_handle(db), "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
	assert_int_equal(query_int(db, "PRAGMA foreign_keys"), 1);
	assert_int_equal(query_int(db, "PRAGMA synchronous"), 1); /* NORMAL */
	assert_true(query_int(db, "PRAGMA busy_timeout") >= 1000);

	/* Write something so the WAL and shm files are open too, then check that
	 * no fd on any of the database's files would leak into a child. */
	_cleanup_error_ struct vsl_error *err = NULL;
	assert_int_equal(db_exec(db, "CREATE TABLE t (x); INSERT INTO t VALUES (1);", &err), 0);
	_cleanup_closedir_ DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	int seen = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		char link[300], target[PATH_MAX];
		snprintf(link, sizeof(link), "/proc/self/fd/%s", de->d_name);
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		if (strncmp(target, f->root, strlen(f->root)) != 0)
			continue;
		seen++;
		int flags = fcntl(atoi(de->d_name), F_GETFD);
		assert_true(flags >= 0);
		if (!(flags & FD_CLOEXEC))
			fail_msg("fd %s on '%s' lacks FD_CLOEXEC", de->d_name, target);
	}
	assert_true(seen >= 2); /* database and WAL at least */
}

static void test_open_error(void **state)
{
	struct fixture *f = *state;
	char path[192];
	snprintf(path, sizeof(path), "%s/missing-dir/vessel.db", f->root);
	_cleanup_error_ struct vsl_error *err = NULL;
	struct db *db = (struct db *)0x1;
	assert_true(db_open(path, &db, &err) < 0);
	assert_ptr_equal(db, (struct db *)0x1); /* untouched on failure */
	assert_non_null(strstr(vsl_error_message(err), "missing-dir/vessel.db"));
}

static const char *const steps_v2[] = {
    "CREATE TABLE widgets (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
    "ALTER TABLE widgets ADD COLUMN color TEXT NOT NULL DEFAULT 'red'",
};
static const char *const steps_v3[] = {
    "CREATE TABLE widgets (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
    "ALTER TABLE widgets ADD COLUMN color TEXT NOT NULL DEFAULT 'red'",
    "CREATE TABLE gadgets (id INTEGER PRIMARY KEY)",
};

static void test_migrate_fresh_and_reopen(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	{
		_cleanup_db_ struct db *db = open_db(f);
		assert_int_equal(db_migrate(db, "widgets", steps_v2, 2, &err), 0);
		assert_int_equal(room_version(db, "widgets"), 2);
		/* Both steps ran: the column the second one adds is there with its default. */
		assert_int_equal(db_exec(db, "INSERT INTO widgets (name) VALUES ('a')", &err), 0);
		_cleanup_stmt_ sqlite3_stmt *s = NULL;
		assert_int_equal(sqlite3_prepare_v2(db_handle(db), "SELECT color FROM widgets", -1, &s, NULL),
		                 SQLITE_OK);
		assert_int_equal(sqlite3_step(s), SQLITE_ROW);
		assert_string_equal((const char *)sqlite3_column_text(s, 0), "red");
	}
	{
		/* Re-opening and migrating again re-runs nothing (CREATE TABLE without
		 * IF NOT EXISTS would fail) and keeps the data. */
		_cleanup_db_ struct db *db = open_db(f);
		if (db_migrate(db, "widgets", steps_v2, 2, &err) < 0)
			fail_msg("%s", vsl_error_message(err));
		assert_int_equal(query_int(db, "SELECT count(*) FROM widgets"), 1);

		/* A new step runs alone. */
		if (db_migrate(db, "widgets", steps_v3, 3, &err) < 0)
			fail_msg("%s", vsl_error_message(err));
		assert_int_equal(room_version(db, "widgets"), 3);
		assert_true(table_exists(db, "gadgets"));
		assert_int_equal(query_int(db, "SELECT count(*) FROM widgets"), 1);
	}
}

static void test_migrate_rooms_independent(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_db_ struct db *db = open_db(f);
	static const char *const a[] = {"CREATE TABLE a1 (x)", "CREATE TABLE a2 (x)"};
	static const char *const b[] = {"CREATE TABLE b1 (x)"};
	assert_int_equal(db_migrate(db, "a", a, 2, &err), 0);
	assert_int_equal(db_migrate(db, "b", b, 1, &err), 0);
	assert_int_equal(room_version(db, "a"), 2);
	assert_int_equal(room_version(db, "b"), 1);
	assert_true(table_exists(db, "a2"));
	assert_true(table_exists(db, "b1"));
}

static void test_migrate_newer_refused(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_db_ struct db *db = open_db(f);
	assert_int_equal(db_migrate(db, "widgets", steps_v3, 3, &err), 0);
	assert_true(db_migrate(db, "widgets", steps_v2, 2, &err) < 0);
	assert_non_null(err);
	assert_non_null(strstr(vsl_error_message(err), "newer vessel"));
	assert_non_null(strstr(vsl_error_message(err), "'widgets'"));
	/* Refusing changed nothing. */
	assert_int_equal(room_version(db, "widgets"), 3);
	assert_true(table_exists(db, "gadgets"));
}

static void test_migrate_failing_step_is_atomic(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_db_ struct db *db = open_db(f);
	static const char *const bad[] = {"CREATE TABLE first (x)", "THIS IS NOT SQL"};
	assert_true(db_migrate(db, "bad", bad, 2, &err) < 0);
	assert_non_null(strstr(vsl_error_message(err), "step 2"));
	/* Step 1 was undone with the failed step 2: the room is still at version 0. */
	assert_false(table_exists(db, "first"));
	assert_int_equal(room_version(db, "bad"), 0);
	/* The connection is usable afterwards, outside any transaction. */
	vsl_error_free(TAKE_PTR(err));
	static const char *const good[] = {"CREATE TABLE first (x)"};
	assert_int_equal(db_migrate(db, "bad", good, 1, &err), 0);
	assert_true(table_exists(db, "first"));
}

static void test_transactions_and_savepoints(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_db_ struct db *db = open_db(f);
	assert_int_equal(db_exec(db, "CREATE TABLE t (x INTEGER)", &err), 0);

	assert_int_equal(db_begin(db, &err), 0);
	assert_int_equal(db_exec(db, "INSERT INTO t VALUES (1)", &err), 0);
	assert_int_equal(db_begin(db, &err), 0); /* nested: a savepoint */
	assert_int_equal(db_exec(db, "INSERT INTO t VALUES (2)", &err), 0);
	db_rollback(db); /* undoes 2 only */
	assert_int_equal(db_begin(db, &err), 0);
	assert_int_equal(db_exec(db, "INSERT INTO t VALUES (3)", &err), 0);
	assert_int_equal(db_commit(db, &err), 0); /* releases the savepoint: still uncommitted */
	assert_int_equal(sqlite3_get_autocommit(db_handle(db)), 0);
	assert_int_equal(db_commit(db, &err), 0);
	assert_int_equal(sqlite3_get_autocommit(db_handle(db)), 1);
	assert_int_equal(query_int(db, "SELECT group_concat(x) = '1,3' FROM (SELECT x FROM t ORDER BY x)"),
	                 1);

	/* A whole rollback leaves nothing. */
	assert_int_equal(db_begin(db, &err), 0);
	assert_int_equal(db_exec(db, "INSERT INTO t VALUES (4)", &err), 0);
	db_rollback(db);
	assert_int_equal(query_int(db, "SELECT count(*) FROM t"), 2);

	/* Commit without begin is an error, not a silent success. */
	assert_true(db_commit(db, &err) < 0);
}

static void test_error_names_what_failed(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_db_ struct db *db = open_db(f);
	assert_int_equal(db_exec(db, "CREATE TABLE u (k TEXT PRIMARY KEY)", &err), 0);
	assert_int_equal(db_exec(db, "INSERT INTO u VALUES ('a')", &err), 0);
	assert_int_equal(db_exec(db, "INSERT INTO u VALUES ('a')", &err), -EEXIST);
	assert_non_null(strstr(vsl_error_message(err), "UNIQUE constraint failed"));

	vsl_error_free(TAKE_PTR(err));
	sqlite3_stmt *s = (sqlite3_stmt *)0x1;
	assert_true(db_prepare(db, "SELECT nope FROM u", &s, &err) < 0);
	assert_ptr_equal(s, (sqlite3_stmt *)0x1);
	assert_non_null(strstr(vsl_error_message(err), "no such column: nope"));
}

#define WRITERS    6
#define INCREMENTS 40

/* One child: read the counter, then write it back plus one, in one
 * transaction. Any lost update shows as a final count below the total. */
static int writer_child(const char *path, bool migrate_too)
{
	struct vsl_error *err = NULL;
	struct db *db = NULL;
	if (db_open(path, &db, &err) < 0)
		return 10;
	if (migrate_too) {
		static const char *const steps[] = {"CREATE TABLE counter (n INTEGER NOT NULL);"
		                                    "INSERT INTO counter VALUES (0);"};
		if (db_migrate(db, "counter", steps, 1, &err) < 0)
			return 11;
	}
	for (int i = 0; i < INCREMENTS; i++) {
		if (db_begin(db, &err) < 0)
			return 12;
		sqlite3_stmt *s = NULL;
		if (db_prepare(db, "SELECT n FROM counter", &s, &err) < 0 || sqlite3_step(s) != SQLITE_ROW)
			return 13;
		int64_t n = sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
		if (i % 7 == 0)
			usleep(200); /* widen the window between read and write */
		if (db_prepare(db, "UPDATE counter SET n = ?", &s, &err) < 0)
			return 14;
		sqlite3_bind_int64(s, 1, n + 1);
		if (sqlite3_step(s) != SQLITE_DONE)
			return 15;
		sqlite3_finalize(s);
		if (db_commit(db, &err) < 0)
			return 16;
	}
	db_close(db);
	return 0;
}

static void run_writers(const struct fixture *f, bool migrate_too)
{
	pid_t pids[WRITERS];
	for (int i = 0; i < WRITERS; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0)
			_exit(writer_child(f->path, migrate_too));
	}
	for (int i = 0; i < WRITERS; i++) {
		int status;
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		if (WEXITSTATUS(status) != 0)
			fail_msg("writer %d failed at step %d", i, WEXITSTATUS(status));
	}
}

static void test_concurrent_writers(void **state)
{
	struct fixture *f = *state;
	{
		_cleanup_error_ struct vsl_error *err = NULL;
		_cleanup_db_ struct db *db = open_db(f);
		assert_int_equal(
		    db_exec(db, "CREATE TABLE counter (n INTEGER NOT NULL); INSERT INTO counter VALUES (0);",
		            &err),
		    0);
	}
	run_writers(f, false);
	_cleanup_db_ struct db *db = open_db(f);
	assert_int_equal(query_int(db, "SELECT n FROM counter"), WRITERS * INCREMENTS);
}

static void test_concurrent_fresh_open_and_migrate(void **state)
{
	/* All processes start on a file that does not exist yet: creating it,
	 * switching it to WAL and migrating must each happen once. */
	struct fixture *f = *state;
	run_writers(f, true);
	_cleanup_db_ struct db *db = open_db(f);
	assert_int_equal(query_int(db, "SELECT count(*) FROM counter"), 1);
	assert_int_equal(query_int(db, "SELECT n FROM counter"), WRITERS * INCREMENTS);
	assert_int_equal(room_version(db, "counter"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_open_pragmas, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_error, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_migrate_fresh_and_reopen, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_migrate_rooms_independent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_migrate_newer_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_migrate_failing_step_is_atomic, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_transactions_and_savepoints, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_error_names_what_failed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent_writers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent_fresh_open_and_migrate, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
