/* Digests: the values are the published sha256 test vectors (FIPS 180-2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "util/cleanup.h"
#include "util/digest.h"
#include "util/error.h"

#define EMPTY "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define ABC   "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static void test_vectors(void **state)
{
	(void)state;
	char d[DIGEST_SIZE];
	digest_buffer("", 0, d);
	assert_string_equal(d, EMPTY);
	digest_buffer("abc", 3, d);
	assert_string_equal(d, ABC);
}

static void test_streaming_equals_whole(void **state)
{
	(void)state;
	_cleanup_digester_ struct digester *h = digester_new();
	assert_non_null(h);
	digester_update(h, "a", 1);
	digester_update(h, "", 0);
	digester_update(h, "bc", 2);
	char d[DIGEST_SIZE];
	digester_final(h, d);
	assert_string_equal(d, ABC);
}

static void test_fd(void **state)
{
	(void)state;
	char path[] = "/tmp/test-digest-XXXXXX";
	_cleanup_close_ int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, "abc", 3), 3);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	char d[DIGEST_SIZE];
	_cleanup_error_ struct vsl_error *err = NULL;
	assert_int_equal(digest_fd(fd, d, &err), 0);
	assert_string_equal(d, ABC);
}

static void test_valid(void **state)
{
	(void)state;
	assert_true(digest_is_valid(EMPTY));
	assert_string_equal(digest_hex(ABC), ABC + 7);
	assert_false(digest_is_valid(NULL));
	assert_false(digest_is_valid("sha256:"));
	assert_false(
	    digest_is_valid("sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
	/* Uppercase, short, long, and a path hiding in the hex are all refused. */
	assert_false(
	    digest_is_valid("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"));
	assert_false(
	    digest_is_valid("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85"));
	assert_false(digest_is_valid(EMPTY "0"));
	assert_false(
	    digest_is_valid("sha256:../../../../etc/passwd0000000000000000000000000000000000000000"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vectors),
	    cmocka_unit_test(test_streaming_equals_whole),
	    cmocka_unit_test(test_fd),
	    cmocka_unit_test(test_valid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
