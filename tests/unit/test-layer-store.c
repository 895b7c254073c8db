/* Unpacked layers: a committed layer appears at layers/<hex>/diff with what
 * was unpacked, an abandoned one leaves nothing, two ingests of one chain ID
 * (in one process and across processes) both succeed with one directory left,
 * removal leaves nothing, and the collector clears only dead leftovers. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "storage/layer-store.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"

#define CHAIN_HEX "1111111111111111111111111111111111111111111111111111111111111111"
#define CHAIN     "sha256:" CHAIN_HEX
#define OTHER_HEX "2222222222222222222222222222222222222222222222222222222222222222"
#define OTHER     "sha256:" OTHER_HEX

struct fixture {
	char root[64];
	int root_fd;
	struct layer_store *store;
};

static int teardown(void **state)
{
	struct fixture *f = *state;
	layer_store_free(f->store);
	if (f->root_fd >= 0)
		close(f->root_fd);
	int r = rm_rf_at(AT_FDCWD, f->root);
	free(f);
	return r;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -1;
	snprintf(f->root, sizeof(f->root), "/tmp/test-layer-store-XXXXXX");
	if (mkdtemp(f->root) == NULL) {
		free(f);
		return -1;
	}
	*state = f;
	_cleanup_error_ struct vsl_error *err = NULL;
	f->root_fd = open(f->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (f->root_fd < 0 || layer_store_open(f->root_fd, &f->store, &err) < 0) {
		teardown(state);
		return -1;
	}
	return 0;
}

/* Names in layers/, sorted, joined with ','. */
static char *entries(const struct fixture *f)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/layers", f->root);
	struct dirent **list = NULL;
	int n = scandir(path, &list, NULL, alphasort);
	assert_true(n >= 0);
	char *out = strdup("");
	for (int i = 0; i < n; i++) {
		if (list[i]->d_name[0] != '.') {
			char *next = NULL;
			assert_true(asprintf(&next, "%s%s%s", out, out[0] ? "," : "", list[i]->d_name) > 0);
			free(out);
			out = next;
		}
		free(list[i]);
	}
	free(list);
	return out;
}

static void assert_entries(const struct fixture *f, const char *expected)
{
	_cleanup_free_ char *got = entries(f);
	assert_string_equal(got, expected);
}

static void write_marker(int dirfd, const char *content)
{
	assert_int_equal(mkdirat(dirfd, "etc", 0755), 0);
	_cleanup_close_ int fd = openat(dirfd, "etc/marker", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
}

static char *read_marker(const struct fixture *f, const char *hex)
{
	char rel[128];
	snprintf(rel, sizeof(rel), "layers/%s/diff/etc/marker", hex);
	char *buf = NULL;
	_cleanup_error_ struct vsl_error *err = NULL;
	if (read_file_at(f->root_fd, rel, 100, &buf, NULL, &err) < 0)
		fail_msg("%s", vsl_error_message(err));
	return buf;
}

static void test_begin_commit(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	assert_false(layer_store_has(f->store, CHAIN));
	{
		_cleanup_layer_ingest_ struct layer_ingest *in = NULL;
		_cleanup_close_ int diff = -EBADF;
		assert_int_equal(layer_store_begin(f->store, CHAIN, &in, &diff, &err), 0);
		assert_true(fcntl(diff, F_GETFD) & FD_CLOEXEC);
		/* An empty directory to unpack into, not yet visible as the layer. */
		_cleanup_closedir_ DIR *d = fdopendir(dup(diff));
		assert_non_null(d);
		int n = 0;
		for (struct dirent *de; (de = readdir(d)) != NULL;)
			n += de->d_name[0] != '.';
		assert_int_equal(n, 0);
		write_marker(diff, "one");
		assert_false(layer_store_has(f->store, CHAIN));

		assert_int_equal(layer_ingest_commit(in, &err), 0);
		assert_true(layer_store_has(f->store, CHAIN));
		/* A second commit of the same ingest is a caller bug. */
		assert_true(layer_ingest_commit(in, &err) < 0);
	}
	/* Freed after the commit: the layer stays. */
	assert_entries(f, CHAIN_HEX);
	_cleanup_free_ char *m = read_marker(f, CHAIN_HEX);
	assert_string_equal(m, "one");

	_cleanup_free_ char *p = layer_store_diff_path(f->store, CHAIN);
	char expected[256];
	snprintf(expected, sizeof(expected), "%s/layers/%s/diff", f->root, CHAIN_HEX);
	assert_string_equal(p, expected);
	assert_true(p[0] == '/');
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
}

static void test_free_without_commit(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	struct layer_ingest *in = NULL;
	_cleanup_close_ int diff = -EBADF;
	assert_int_equal(layer_store_begin(f->store, CHAIN, &in, &diff, &err), 0);
	write_marker(diff, "half");
	assert_int_equal(mkdirat(diff, "etc/sub", 0755), 0);
	layer_ingest_free(in);
	assert_false(layer_store_has(f->store, CHAIN));
	assert_entries(f, "");
}

static void test_race_in_process(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_layer_ingest_ struct layer_ingest *a = NULL, *b = NULL;
	_cleanup_close_ int da = -EBADF, db = -EBADF;
	assert_int_equal(layer_store_begin(f->store, CHAIN, &a, &da, &err), 0);
	assert_int_equal(layer_store_begin(f->store, CHAIN, &b, &db, &err), 0);
	write_marker(da, "a");
	write_marker(db, "b");
	assert_int_equal(layer_ingest_commit(a, &err), 0);
	assert_int_equal(layer_ingest_commit(b, &err), 0);
	/* The first commit wins; the second's directory is gone already. */
	assert_entries(f, CHAIN_HEX);
	_cleanup_free_ char *m = read_marker(f, CHAIN_HEX);
	assert_string_equal(m, "a");
}

#define PROCS 6

static int ingest_child(int root_fd, int i)
{
	struct vsl_error *err = NULL;
	struct layer_store *s = NULL;
	if (layer_store_open(root_fd, &s, &err) < 0)
		return 10;
	struct layer_ingest *in = NULL;
	int diff = -1;
	if (layer_store_begin(s, CHAIN, &in, &diff, &err) < 0)
		return 11;
	for (int j = 0; j < 50; j++) {
		char name[32];
		snprintf(name, sizeof(name), "f%d", j);
		int fd = openat(diff, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0 || write(fd, &i, sizeof(i)) != sizeof(i))
			return 12;
		close(fd);
	}
	if (layer_ingest_commit(in, &err) < 0)
		return 13;
	if (!layer_store_has(s, CHAIN))
		return 14;
	close(diff);
	layer_ingest_free(in);
	layer_store_free(s);
	return 0;
}

static void test_race_across_processes(void **state)
{
	struct fixture *f = *state;
	pid_t pids[PROCS];
	for (int i = 0; i < PROCS; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0)
			_exit(ingest_child(f->root_fd, i));
	}
	for (int i = 0; i < PROCS; i++) {
		int status;
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		if (WEXITSTATUS(status) != 0)
			fail_msg("ingest %d failed at step %d", i, WEXITSTATUS(status));
	}
	assert_entries(f, CHAIN_HEX);
	/* One process's layer, whole: all 50 files. */
	char path[256];
	snprintf(path, sizeof(path), "%s/layers/%s/diff", f->root, CHAIN_HEX);
	struct dirent **list = NULL;
	int n = scandir(path, &list, NULL, NULL);
	for (int i = 0; i < n; i++)
		free(list[i]);
	free(list);
	assert_int_equal(n, 52);
}

static void test_remove(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	for (int i = 0; i < 2; i++) {
		_cleanup_layer_ingest_ struct layer_ingest *in = NULL;
		_cleanup_close_ int diff = -EBADF;
		assert_int_equal(layer_store_begin(f->store, i ? OTHER : CHAIN, &in, &diff, &err), 0);
		write_marker(diff, "x");
		assert_int_equal(layer_ingest_commit(in, &err), 0);
	}
	assert_entries(f, CHAIN_HEX "," OTHER_HEX);
	assert_int_equal(layer_store_remove(f->store, CHAIN, &err), 0);
	assert_false(layer_store_has(f->store, CHAIN));
	assert_true(layer_store_has(f->store, OTHER));
	assert_entries(f, OTHER_HEX); /* no del-* left */
	/* Absent: nothing to do. */
	assert_int_equal(layer_store_remove(f->store, CHAIN, &err), 0);
}

static void test_invalid_chain_ids(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	static const char *const bad[] = {"sha256:..", "sha256:" CHAIN_HEX "/..", CHAIN_HEX, "", "tmp-1"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_false(layer_store_has(f->store, bad[i]));
		assert_null(layer_store_diff_path(f->store, bad[i]));
		struct layer_ingest *in = NULL;
		int fd = -1;
		assert_int_equal(layer_store_begin(f->store, bad[i], &in, &fd, &err), -EINVAL);
		assert_null(in);
		assert_int_equal(fd, -1);
		vsl_error_free(TAKE_PTR(err));
		assert_int_equal(layer_store_remove(f->store, bad[i], &err), -EINVAL);
		vsl_error_free(TAKE_PTR(err));
	}
	assert_entries(f, "");
}

static void make_leftover(const struct fixture *f, const char *name, time_t age)
{
	char rel[128];
	snprintf(rel, sizeof(rel), "layers/%s", name);
	assert_int_equal(mkdirat(f->root_fd, rel, 0700), 0);
	snprintf(rel, sizeof(rel), "layers/%s/diff", name);
	assert_int_equal(mkdirat(f->root_fd, rel, 0755), 0);
	_cleanup_close_ int diff = openat(f->root_fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(diff >= 0);
	write_marker(diff, "left");
	snprintf(rel, sizeof(rel), "layers/%s", name);
	struct timespec t[2] = {{.tv_sec = time(NULL) - age}, {.tv_sec = time(NULL) - age}};
	assert_int_equal(utimensat(f->root_fd, rel, t, 0), 0);
}

static void test_gc(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	/* A committed layer, old leftovers, and fresh ones. */
	{
		_cleanup_layer_ingest_ struct layer_ingest *in = NULL;
		_cleanup_close_ int diff = -EBADF;
		assert_int_equal(layer_store_begin(f->store, CHAIN, &in, &diff, &err), 0);
		assert_int_equal(layer_ingest_commit(in, &err), 0);
	}
	char path[256];
	snprintf(path, sizeof(path), "%s/layers/%s", f->root, CHAIN_HEX);
	struct timespec old[2] = {{.tv_sec = time(NULL) - 3600}, {.tv_sec = time(NULL) - 3600}};
	assert_int_equal(utimensat(AT_FDCWD, path, old, 0), 0); /* age alone never removes a layer */
	make_leftover(f, "tmp-0000000000000001", 120);
	make_leftover(f, "del-0000000000000002", 120);
	make_leftover(f, "tmp-0000000000000003", 5);
	make_leftover(f, "del-0000000000000004", 5);

	/* A live ingest that has been unpacking for a long time: its lock keeps it. */
	_cleanup_layer_ingest_ struct layer_ingest *live = NULL;
	_cleanup_close_ int live_diff = -EBADF;
	assert_int_equal(layer_store_begin(f->store, OTHER, &live, &live_diff, &err), 0);
	_cleanup_free_ char *before = entries(f);
	char live_name[64] = "";
	for (char *tok = strtok(before, ","); tok; tok = strtok(NULL, ","))
		if (strncmp(tok, "tmp-", 4) == 0 && strcmp(tok, "tmp-0000000000000001") != 0 &&
		    strcmp(tok, "tmp-0000000000000003") != 0)
			snprintf(live_name, sizeof(live_name), "%s", tok);
	assert_true(live_name[0] != '\0');
	snprintf(path, sizeof(path), "%s/layers/%s", f->root, live_name);
	assert_int_equal(utimensat(AT_FDCWD, path, old, 0), 0);

	if (layer_store_gc(f->store, &err) < 0)
		fail_msg("%s", vsl_error_message(err));

	char expected[512];
	bool live_first = strcmp(live_name, "tmp-0000000000000003") < 0;
	snprintf(expected, sizeof(expected), "%s,del-0000000000000004,%s,%s", CHAIN_HEX,
	         live_first ? live_name : "tmp-0000000000000003",
	         live_first ? "tmp-0000000000000003" : live_name);
	assert_entries(f, expected);
	assert_true(layer_store_has(f->store, CHAIN));

	/* The live ingest still commits. */
	write_marker(live_diff, "live");
	assert_int_equal(layer_ingest_commit(live, &err), 0);
	_cleanup_free_ char *m = read_marker(f, OTHER_HEX);
	assert_string_equal(m, "live");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_begin_commit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_free_without_commit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_race_in_process, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_race_across_processes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_invalid_chain_ids, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_gc, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
