/* Credentials in Docker's config.json: the files below are written the way
 * `docker login` writes them; the base64 values were made with Python's base64
 * module, not with the code under test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "image/auth.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"

struct fixture {
	char dir[64];
	char file[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test-auth-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->file, sizeof(f->file), "%s/config.json", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	rm_rf_at(AT_FDCWD, f->dir);
	free(f);
	return 0;
}

static void write_text(const char *path, const char *text)
{
	FILE *fp = fopen(path, "we");
	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

static json_t *read_json(const char *path)
{
	json_error_t jerr;
	json_t *j = json_load_file(path, 0, &jerr);
	assert_non_null(j);
	return j;
}

static void expect_creds(const char *file, const char *domain, const char *user, const char *secret)
{
	_cleanup_free_ char *u = NULL, *s = NULL;
	_cleanup_error_ struct vsl_error *err = NULL;
	assert_int_equal(auth_lookup(file, domain, &u, &s, &err), 0);
	if (user == NULL) {
		assert_null(u);
		assert_null(s);
		return;
	}
	assert_non_null(u);
	assert_string_equal(u, user);
	assert_string_equal(s, secret);
}

static void test_default_file(void **state)
{
	(void)state;
	setenv("VESSEL_AUTH_FILE", "/x/auth.json", 1);
	setenv("DOCKER_CONFIG", "/y", 1);
	setenv("HOME", "/home/z", 1);
	_cleanup_free_ char *a = auth_default_file();
	assert_string_equal(a, "/x/auth.json");
	unsetenv("VESSEL_AUTH_FILE");
	_cleanup_free_ char *b = auth_default_file();
	assert_string_equal(b, "/y/config.json");
	unsetenv("DOCKER_CONFIG");
	_cleanup_free_ char *c = auth_default_file();
	assert_string_equal(c, "/home/z/.docker/config.json");
}

static void test_no_file_no_entry(void **state)
{
	struct fixture *f = *state;
	expect_creds(f->file, "127.0.0.1:5000", NULL, NULL);
	write_text(f->file, "{\"auths\": {\"other.example:5000\": {\"auth\": \"dXNlcjpwYXNz\"}}}");
	expect_creds(f->file, "127.0.0.1:5000", NULL, NULL);
	/* A different port is a different registry. */
	expect_creds(f->file, "other.example", NULL, NULL);
	expect_creds(f->file, "other.example:5000", "user", "pass");
	write_text(f->file, "{\"credsStore\": \"desktop\"}");
	expect_creds(f->file, "other.example:5000", NULL, NULL);
}

static void test_auth_field(void **state)
{
	struct fixture *f = *state;
	write_text(f->file, "{\"auths\": {\"127.0.0.1:5000\": {\"auth\": \"dXNlcjpwYTpzcw==\"},"
	                    "\"https://index.docker.io/v1/\": {\"auth\": \"YWxpY2U6czNjcmV0\"}}}");
	/* Only the first ':' separates: secrets may contain colons. */
	expect_creds(f->file, "127.0.0.1:5000", "user", "pa:ss");
	expect_creds(f->file, "docker.io", "alice", "s3cret");
}

static void test_docker_hub_aliases_and_schemes(void **state)
{
	struct fixture *f = *state;
	write_text(f->file, "{\"auths\": {\"registry-1.docker.io\": {\"auth\": \"Ym9iOmh1bnRlcjI=\"},"
	                    "\"http://127.0.0.1:5000/v2/\": {\"auth\": \"dXNlcjpwYXNz\"}}}");
	expect_creds(f->file, "docker.io", "bob", "hunter2");
	expect_creds(f->file, "127.0.0.1:5000", "user", "pass");

	write_text(f->file, "{\"auths\": {\"docker.io\": {\"auth\": \"Ym9iOmh1bnRlcjI=\"}}}");
	expect_creds(f->file, "docker.io", "bob", "hunter2");
	write_text(f->file, "{\"auths\": {\"index.docker.io\": {\"auth\": \"Ym9iOmh1bnRlcjI=\"}}}");
	expect_creds(f->file, "docker.io", "bob", "hunter2");

	/* The canonical key wins over a stale alias. */
	write_text(f->file, "{\"auths\": {\"docker.io\": {\"auth\": \"Ym9iOmh1bnRlcjI=\"},"
	                    "\"https://index.docker.io/v1/\": {\"auth\": \"YWxpY2U6czNjcmV0\"}}}");
	expect_creds(f->file, "docker.io", "alice", "s3cret");
}

static void test_username_password_and_token(void **state)
{
	struct fixture *f = *state;
	write_text(f->file,
	           "{\"auths\": {\"a.example\": {\"username\": \"carol\", \"password\": \"pw\"},"
	           "\"b.example\": {\"auth\": \"dXNlcjpwYXNz\", \"identitytoken\": \"refresh-123\"}}}");
	expect_creds(f->file, "a.example", "carol", "pw");
	expect_creds(f->file, "b.example", "<token>", "refresh-123");
}

static void test_bad_files(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *u = NULL, *s = NULL;

	write_text(f->file, "{\"auths\": {\"a.example\": {\"auth\": \"!!not base64!!\"}}}");
	_cleanup_error_ struct vsl_error *e1 = NULL;
	assert_true(auth_lookup(f->file, "a.example", &u, &s, &e1) < 0);
	assert_non_null(strstr(e1->msg, "auths.a.example.auth"));

	/* base64 of "nocolon". */
	write_text(f->file, "{\"auths\": {\"a.example\": {\"auth\": \"bm9jb2xvbg==\"}}}");
	_cleanup_error_ struct vsl_error *e2 = NULL;
	assert_true(auth_lookup(f->file, "a.example", &u, &s, &e2) < 0);

	write_text(f->file, "{\"auths\": ");
	_cleanup_error_ struct vsl_error *e3 = NULL;
	assert_true(auth_lookup(f->file, "a.example", &u, &s, &e3) < 0);
	assert_non_null(strstr(e3->msg, f->file));
	/* A file that cannot be read back is not overwritten. */
	_cleanup_error_ struct vsl_error *e4 = NULL;
	assert_true(auth_store(f->file, "a.example", "u", "p", &e4) < 0);
	_cleanup_free_ char *text = NULL;
	_cleanup_error_ struct vsl_error *e5 = NULL;
	assert_int_equal(read_file_at(AT_FDCWD, f->file, 4096, &text, NULL, &e5), 0);
	assert_string_equal(text, "{\"auths\": ");
	assert_null(u);
	assert_null(s);
}

static void test_store_keeps_other_keys(void **state)
{
	struct fixture *f = *state;
	write_text(f->file, "{\"auths\": {\"other.example\": {\"auth\": \"dXNlcjpwYXNz\"},"
	                    "\"http://127.0.0.1:5000\": {\"auth\": \"Ym9iOmh1bnRlcjI=\"}},"
	                    "\"credHelpers\": {\"gcr.io\": \"gcloud\"}, \"detachKeys\": \"ctrl-e,e\"}");
	chmod(f->file, 0644);
	_cleanup_error_ struct vsl_error *err = NULL;
	assert_int_equal(auth_store(f->file, "127.0.0.1:5000", "alice", "s3cret", &err), 0);

	struct stat st;
	assert_int_equal(stat(f->file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);

	json_t *j = read_json(f->file);
	assert_string_equal(json_string_value(json_object_get(j, "detachKeys")), "ctrl-e,e");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "credHelpers"), "gcr.io")),
	                    "gcloud");
	json_t *auths = json_object_get(j, "auths");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(auths, "other.example"), "auth")),
	    "dXNlcjpwYXNz");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(auths, "127.0.0.1:5000"), "auth")),
	    "YWxpY2U6czNjcmV0");
	/* The old spelling of the same registry is gone, not left stale. */
	assert_null(json_object_get(auths, "http://127.0.0.1:5000"));
	assert_int_equal(json_object_size(auths), 2);
	json_decref(j);

	expect_creds(f->file, "127.0.0.1:5000", "alice", "s3cret");

	/* No temporary files left behind. */
	_cleanup_closedir_ DIR *d = opendir(f->dir);
	struct dirent *de;
	int n = 0;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' || strlen(de->d_name) > 2)
			n++;
	assert_int_equal(n, 1);
}

static void test_store_docker_hub_new_dir(void **state)
{
	struct fixture *f = *state;
	char path[256];
	snprintf(path, sizeof(path), "%s/.docker/config.json", f->dir);
	_cleanup_error_ struct vsl_error *err = NULL;
	assert_int_equal(auth_store(path, "docker.io", "bob", "hunter2", &err), 0);
	json_t *j = read_json(path);
	assert_string_equal(
	    json_string_value(json_object_get(
	        json_object_get(json_object_get(j, "auths"), "https://index.docker.io/v1/"), "auth")),
	    "Ym9iOmh1bnRlcjI=");
	json_decref(j);
	expect_creds(path, "docker.io", "bob", "hunter2");

	_cleanup_error_ struct vsl_error *e2 = NULL;
	assert_true(auth_store(path, "docker.io", "a:b", "x", &e2) < 0);
}

static void test_remove(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *e0 = NULL;
	assert_int_equal(auth_remove(f->file, "docker.io", &e0), -ENOENT);

	write_text(f->file, "{\"auths\": {\"docker.io\": {\"auth\": \"Ym9iOmh1bnRlcjI=\"},"
	                    "\"https://index.docker.io/v1/\": {\"auth\": \"YWxpY2U6czNjcmV0\"},"
	                    "\"other.example\": {\"auth\": \"dXNlcjpwYXNz\"}}, \"psFormat\": \"x\"}");
	_cleanup_error_ struct vsl_error *e1 = NULL;
	assert_int_equal(auth_remove(f->file, "docker.io", &e1), 0);
	expect_creds(f->file, "docker.io", NULL, NULL);
	expect_creds(f->file, "other.example", "user", "pass");
	json_t *j = read_json(f->file);
	assert_string_equal(json_string_value(json_object_get(j, "psFormat")), "x");
	json_decref(j);

	_cleanup_error_ struct vsl_error *e2 = NULL;
	assert_int_equal(auth_remove(f->file, "docker.io", &e2), -ENOENT);
	assert_non_null(strstr(e2->msg, "docker.io"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_default_file),
	    cmocka_unit_test_setup_teardown(test_no_file_no_entry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_auth_field, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_docker_hub_aliases_and_schemes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_username_password_and_token, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_keeps_other_keys, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_docker_hub_new_dir, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
