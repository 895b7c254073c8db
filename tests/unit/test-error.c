/* The error object: context travels up, errno is kept, NULL err is tolerated. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "util/cleanup.h"
#include "util/error.h"

static int fails_with_enoent(struct vsl_error **err)
{
	return vsl_error_errno(err, ENOENT, "open '%s'", "/x");
}

static void test_prefix_chain(void **state)
{
	(void)state;
	_cleanup_error_ struct vsl_error *err = NULL;
	int r = fails_with_enoent(&err);
	assert_int_equal(r, -ENOENT);
	r = vsl_error_prefix(&err, "prepare rootfs of %s", "web");
	assert_int_equal(r, -ENOENT);
	assert_string_equal(vsl_error_message(err),
	                    "prepare rootfs of web: open '/x': No such file or directory");
}

static void test_first_error_wins(void **state)
{
	(void)state;
	_cleanup_error_ struct vsl_error *err = NULL;
	vsl_error_set(&err, "first");
	vsl_error_errno(&err, EIO, "second");
	assert_string_equal(vsl_error_message(err), "first");
	assert_int_equal(vsl_error_code(err), -1);
}

static void test_null_err(void **state)
{
	(void)state;
	assert_int_equal(vsl_error_errno(NULL, EPERM, "x"), -EPERM);
	assert_int_equal(vsl_error_prefix(NULL, "x"), -1);
}

static void test_take_fd(void **state)
{
	(void)state;
	_cleanup_close_ int fd = 7;
	int got = TAKE_FD(fd);
	assert_int_equal(got, 7);
	assert_int_equal(fd, -EBADF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_prefix_chain),
	    cmocka_unit_test(test_first_error_wins),
	    cmocka_unit_test(test_null_err),
	    cmocka_unit_test(test_take_fd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
