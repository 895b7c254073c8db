/* The content store: blobs land at blobs/sha256/<hex> with their exact bytes,
 * a wrong digest or size stores nothing and leaves no temporary behind, bad
 * digests never form paths, damage on disk is caught on read, and processes
 * storing the same blob at once all succeed. Digests of the test contents are
 * the published sha256 values (sha256sum), not computed by the code under test. */
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
#include <unistd.h>
#include <cmocka.h>

#include "image/blob-store.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"

#define HELLO_HEX "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
#define HELLO     "sha256:" HELLO_HEX /* "hello" */
#define EMPTY     "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define ABC       "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
/* 1,000,000 times 'a' (FIPS 180-2). */
#define MILLION_A "sha256:cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"

struct fixture {
	char root[64];
	int root_fd;
	struct blob_store *store;
};

static int teardown(void **state)
{
	struct fixture *f = *state;
	blob_store_free(f->store);
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
	snprintf(f->root, sizeof(f->root), "/tmp/test-blob-store-XXXXXX");
	if (mkdtemp(f->root) == NULL) {
		free(f);
		return -1;
	}
	*state = f;
	_cleanup_error_ struct vsl_error *err = NULL;
	f->root_fd = open(f->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (f->root_fd < 0 || blob_store_open(f->root_fd, &f->store, &err) < 0) {
		teardown(state); /* cmocka runs no teardown after a failed setup */
		return -1;
	}
	return 0;
}

static char *path_in(const struct fixture *f, const char *rel)
{
	char *p = NULL;
	assert_true(asprintf(&p, "%s/%s", f->root, rel) > 0);
	return p;
}

/* Entries of a directory under the root, "." and ".." not counted. */
static int count_entries(const struct fixture *f, const char *rel)
{
	_cleanup_free_ char *p = path_in(f, rel);
	_cleanup_closedir_ DIR *d = opendir(p);
	assert_non_null(d);
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	return n;
}

static void assert_file_content(const struct fixture *f, const char *rel, const char *content, size_t len)
{
	_cleanup_free_ char *buf = NULL;
	size_t n = 0;
	_cleanup_error_ struct vsl_error *err = NULL;
	if (read_file_at(f->root_fd, rel, len + 16, &buf, &n, &err) < 0)
		fail_msg("%s", vsl_error_message(err));
	assert_int_equal(n, len);
	assert_memory_equal(buf, content, len);
}

static void test_open_creates_layout(void **state)
{
	struct fixture *f = *state;
	struct stat st;
	_cleanup_free_ char *blobs = path_in(f, "blobs/sha256");
	_cleanup_free_ char *tmp = path_in(f, "tmp");
	assert_int_equal(stat(blobs, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(stat(tmp, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* Opening again over an existing layout works. */
	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_blob_store_ struct blob_store *again = NULL;
	assert_int_equal(blob_store_open(f->root_fd, &again, &err), 0);
}

static void test_put_read(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	char d[DIGEST_SIZE];
	assert_false(blob_store_has(f->store, HELLO));
	assert_int_equal(blob_store_put(f->store, "hello", 5, NULL, d, &err), 0);
	assert_string_equal(d, HELLO);
	assert_true(blob_store_has(f->store, HELLO));
	assert_file_content(f, "blobs/sha256/" HELLO_HEX, "hello", 5);

	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	assert_int_equal(blob_store_read(f->store, HELLO, 5, &buf, &len, &err), 0);
	assert_int_equal(len, 5);
	assert_string_equal(buf, "hello"); /* NUL-terminated for parsers */

	/* With the expected digest given, and an empty blob. */
	assert_int_equal(blob_store_put(f->store, "", 0, EMPTY, NULL, &err), 0);
	assert_true(blob_store_has(f->store, EMPTY));
	/* Storing it again is fine. */
	assert_int_equal(blob_store_put(f->store, "hello", 5, HELLO, NULL, &err), 0);
	assert_int_equal(count_entries(f, "blobs/sha256"), 2);
	assert_int_equal(count_entries(f, "tmp"), 0);

	/* Bigger than max is refused. */
	char *big = NULL;
	assert_int_equal(blob_store_read(f->store, HELLO, 4, &big, &len, &err), -EFBIG);
	assert_null(big);
}

static void test_put_mismatch_stores_nothing(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	char d[DIGEST_SIZE] = "untouched";
	assert_int_equal(blob_store_put(f->store, "hellO", 5, HELLO, d, &err), -EBADMSG);
	assert_non_null(strstr(vsl_error_message(err), "digest mismatch"));
	assert_string_equal(d, "untouched");
	assert_false(blob_store_has(f->store, HELLO));
	assert_int_equal(count_entries(f, "blobs/sha256"), 0);
	assert_int_equal(count_entries(f, "tmp"), 0);
}

static void test_stream(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	{
		_cleanup_blob_writer_ struct blob_writer *w = NULL;
		assert_int_equal(blob_writer_new(f->store, MILLION_A, 1000000, &w, &err), 0);
		char chunk[7000];
		memset(chunk, 'a', sizeof(chunk));
		size_t left = 1000000;
		while (left > 0) {
			size_t n = left < sizeof(chunk) ? left : sizeof(chunk);
			assert_int_equal(blob_writer_write(w, chunk, n, &err), 0);
			left -= n;
		}
		/* Nothing is visible before the commit. */
		assert_false(blob_store_has(f->store, MILLION_A));
		char d[DIGEST_SIZE];
		if (blob_writer_commit(w, d, &err) < 0)
			fail_msg("%s", vsl_error_message(err));
		assert_string_equal(d, MILLION_A);
		/* A finished writer accepts nothing more. */
		assert_true(blob_writer_write(w, "a", 1, &err) < 0);
	}
	_cleanup_close_ int fd = -EBADF;
	uint64_t size = 0;
	assert_int_equal(blob_store_open_blob(f->store, MILLION_A, &fd, &size, &err), 0);
	assert_int_equal(size, 1000000);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	char buf[4];
	assert_int_equal(pread(fd, buf, sizeof(buf), 999998), 2);
	assert_memory_equal(buf, "aa", 2);
	assert_int_equal(count_entries(f, "tmp"), 0);
}

static void test_stream_unknown_digest_and_size(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_blob_writer_ struct blob_writer *w = NULL;
	assert_int_equal(blob_writer_new(f->store, NULL, -1, &w, &err), 0);
	assert_int_equal(blob_writer_write(w, "a", 1, &err), 0);
	assert_int_equal(blob_writer_write(w, "bc", 2, &err), 0);
	char d[DIGEST_SIZE];
	assert_int_equal(blob_writer_commit(w, d, &err), 0);
	assert_string_equal(d, ABC);
	assert_true(blob_store_has(f->store, ABC));
}

static void test_stream_size_mismatch(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	{
		/* More than announced: refused at the write. */
		_cleanup_blob_writer_ struct blob_writer *w = NULL;
		assert_int_equal(blob_writer_new(f->store, HELLO, 3, &w, &err), 0);
		assert_int_equal(blob_writer_write(w, "hello", 5, &err), -EBADMSG);
		vsl_error_free(TAKE_PTR(err));
		assert_true(blob_writer_commit(w, NULL, &err) < 0);
	}
	vsl_error_free(TAKE_PTR(err));
	{
		/* Less than announced: refused at the commit, even though the digest matches. */
		_cleanup_blob_writer_ struct blob_writer *w = NULL;
		assert_int_equal(blob_writer_new(f->store, HELLO, 6, &w, &err), 0);
		assert_int_equal(blob_writer_write(w, "hello", 5, &err), 0);
		assert_int_equal(blob_writer_commit(w, NULL, &err), -EBADMSG);
		assert_non_null(strstr(vsl_error_message(err), "size mismatch"));
	}
	vsl_error_free(TAKE_PTR(err));
	{
		/* Right size, wrong content. */
		_cleanup_blob_writer_ struct blob_writer *w = NULL;
		assert_int_equal(blob_writer_new(f->store, HELLO, 5, &w, &err), 0);
		assert_int_equal(blob_writer_write(w, "jello", 5, &err), 0);
		assert_int_equal(blob_writer_commit(w, NULL, &err), -EBADMSG);
	}
	assert_false(blob_store_has(f->store, HELLO));
	assert_int_equal(count_entries(f, "blobs/sha256"), 0);
	assert_int_equal(count_entries(f, "tmp"), 0);
}

static void test_free_without_commit(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	struct blob_writer *w = NULL;
	assert_int_equal(blob_writer_new(f->store, HELLO, 5, &w, &err), 0);
	assert_int_equal(blob_writer_write(w, "hello", 5, &err), 0);
	blob_writer_free(w);
	assert_false(blob_store_has(f->store, HELLO));
	assert_int_equal(count_entries(f, "blobs/sha256"), 0);
	assert_int_equal(count_entries(f, "tmp"), 0);
}

static void test_invalid_digests(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	/* A file the path in the "digest" would name exists: none of these may reach it. */
	assert_int_equal(mkdirat(f->root_fd, "blobs/sha256/x", 0755), 0);
	static const char *const bad[] = {
	    "sha256:../../../tmp",
	    "sha256:x",
	    "sha256:" HELLO_HEX "/",
	    "sha256:2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824",
	    "sha512:" HELLO_HEX,
	    HELLO_HEX,
	    "",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_false(blob_store_has(f->store, bad[i]));
		int fd = -1;
		assert_int_equal(blob_store_open_blob(f->store, bad[i], &fd, NULL, &err), -EINVAL);
		assert_int_equal(fd, -1);
		vsl_error_free(TAKE_PTR(err));
		assert_int_equal(blob_store_remove(f->store, bad[i], &err), -EINVAL);
		vsl_error_free(TAKE_PTR(err));
		struct blob_writer *w = NULL;
		assert_int_equal(blob_writer_new(f->store, bad[i], -1, &w, &err), -EINVAL);
		assert_null(w);
		vsl_error_free(TAKE_PTR(err));
	}
	assert_false(blob_store_has(f->store, NULL));
	assert_int_equal(count_entries(f, "blobs/sha256"), 1); /* only x */
}

static void test_absent(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	int fd = -1;
	assert_int_equal(blob_store_open_blob(f->store, HELLO, &fd, NULL, &err), -ENOENT);
	assert_int_equal(fd, -1);
	assert_non_null(strstr(vsl_error_message(err), HELLO));
	vsl_error_free(TAKE_PTR(err));
	char *buf = NULL;
	assert_int_equal(blob_store_read(f->store, HELLO, 100, &buf, NULL, &err), -ENOENT);
	assert_null(buf);
}

static void test_read_detects_damage(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	assert_int_equal(blob_store_put(f->store, "hello", 5, HELLO, NULL, &err), 0);
	/* Something on the host changes the file behind the store's back. */
	_cleanup_close_ int fd = openat(f->root_fd, "blobs/sha256/" HELLO_HEX, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "J", 1, 0), 1);
	char *buf = NULL;
	assert_int_equal(blob_store_read(f->store, HELLO, 100, &buf, NULL, &err), -EBADMSG);
	assert_null(buf);
	assert_non_null(strstr(vsl_error_message(err), "corrupt"));

	/* Storing the blob again repairs it. */
	vsl_error_free(TAKE_PTR(err));
	assert_int_equal(blob_store_put(f->store, "hello", 5, HELLO, NULL, &err), 0);
	assert_int_equal(blob_store_read(f->store, HELLO, 100, &buf, NULL, &err), 0);
	assert_string_equal(buf, "hello");
	free(buf);
	assert_int_equal(count_entries(f, "tmp"), 0);
}

static void test_remove(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	assert_int_equal(blob_store_put(f->store, "hello", 5, NULL, NULL, &err), 0);
	assert_int_equal(blob_store_put(f->store, "abc", 3, NULL, NULL, &err), 0);
	assert_int_equal(blob_store_remove(f->store, HELLO, &err), 0);
	assert_false(blob_store_has(f->store, HELLO));
	assert_true(blob_store_has(f->store, ABC));
	assert_int_equal(count_entries(f, "blobs/sha256"), 1);
	/* Already gone: not an error (two removers may race). */
	assert_int_equal(blob_store_remove(f->store, HELLO, &err), 0);
}

#define PROCS 6
#define BIG   (4 << 20)

static int same_blob_child(int root_fd, const char *data)
{
	struct vsl_error *err = NULL;
	struct blob_store *s = NULL;
	if (blob_store_open(root_fd, &s, &err) < 0)
		return 10;
	for (int round = 0; round < 3; round++) {
		struct blob_writer *w = NULL;
		if (blob_writer_new(s, NULL, BIG, &w, &err) < 0)
			return 11;
		for (size_t off = 0; off < BIG; off += 65536)
			if (blob_writer_write(w, data + off, 65536, &err) < 0)
				return 12;
		char d[DIGEST_SIZE];
		if (blob_writer_commit(w, d, &err) < 0)
			return 13;
		blob_writer_free(w);
		/* Every reader sees the whole blob at any moment. */
		char *buf = NULL;
		if (blob_store_read(s, d, BIG, &buf, NULL, &err) < 0)
			return 14;
		free(buf);
	}
	blob_store_free(s);
	return 0;
}

static void test_concurrent_same_blob(void **state)
{
	struct fixture *f = *state;
	char *data = malloc(BIG);
	assert_non_null(data);
	for (size_t i = 0; i < BIG; i++)
		data[i] = (char)(i * 7 + i / 4096);
	pid_t pids[PROCS];
	for (int i = 0; i < PROCS; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0)
			_exit(same_blob_child(f->root_fd, data));
	}
	int failed = 0;
	for (int i = 0; i < PROCS; i++) {
		int status;
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed = WIFEXITED(status) ? WEXITSTATUS(status) : 100;
	}
	if (failed) {
		free(data);
		fail_msg("a writer failed at step %d", failed);
	}
	assert_int_equal(count_entries(f, "blobs/sha256"), 1);
	assert_int_equal(count_entries(f, "tmp"), 0);

	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_free_ char *dir = path_in(f, "blobs/sha256");
	d = opendir(dir);
	struct dirent *de;
	char name[300] = "";
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			snprintf(name, sizeof(name), "blobs/sha256/%s", de->d_name);
	_cleanup_free_ char *buf = NULL;
	size_t n = 0;
	_cleanup_error_ struct vsl_error *err = NULL;
	assert_int_equal(read_file_at(f->root_fd, name, BIG + 1, &buf, &n, &err), 0);
	bool same = n == BIG && memcmp(buf, data, BIG) == 0;
	free(data);
	assert_true(same);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_open_creates_layout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_put_read, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_put_mismatch_stores_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stream, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stream_unknown_digest_and_size, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stream_size_mismatch, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_free_without_commit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_invalid_digests, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_absent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_detects_damage, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent_same_blob, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
