/* Init layers (needs root for chown and trusted.* xattrs): an image without
 * /etc gets etc and the three mountpoints; an image with /etc gets only the
 * missing files, under an /etc with the image's owner, mode and times; a
 * whiteout in an upper layer deletes a lower file, an opaque /etc hides the
 * layers below it; an /etc that is a symlink gets nothing; the layer is made
 * once and lives beside the top layer's diff; no temporary is left. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <cmocka.h>

#include "storage/init-layer.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"

/* Two layers as the layer store lays them out: <tmp>/<name>/diff. */
struct fixture {
	char tmp[64];
	char *lowers[3]; /* top, bottom, NULL */
};

static void mkpath(const char *base, const char *rel, mode_t mode)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", base, rel);
	assert_int_equal(mkdir(p, mode), 0);
}

static void touch(const char *base, const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", base, rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	close(fd);
}

static void whiteout(const char *base, const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", base, rel);
	assert_int_equal(mknod(p, S_IFCHR | 0, makedev(0, 0)), 0);
}

static bool exists(const char *base, const char *rel, struct stat *st)
{
	char p[512];
	struct stat ignored;
	snprintf(p, sizeof(p), "%s/%s", base, rel);
	return lstat(p, st ? st : &ignored) == 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->tmp, sizeof(f->tmp), "/tmp/vessel-init-layer-XXXXXX");
	assert_non_null(mkdtemp(f->tmp));
	const char *names[] = {"top", "bottom"};
	for (int i = 0; i < 2; i++) {
		mkpath(f->tmp, names[i], 0700);
		char rel[32];
		snprintf(rel, sizeof(rel), "%s/diff", names[i]);
		mkpath(f->tmp, rel, 0755);
		assert_true(asprintf(&f->lowers[i], "%s/%s/diff", f->tmp, names[i]) > 0);
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	rm_rf_at(AT_FDCWD, f->tmp);
	free(f->lowers[0]);
	free(f->lowers[1]);
	free(f);
	return 0;
}

static char *ensure(struct fixture *f)
{
	_cleanup_error_ struct vsl_error *err = NULL;
	char *path = NULL;
	int r = init_layer_ensure(f->lowers, &path, &err);
	if (r < 0)
		fail_msg("init_layer_ensure: %s", vsl_error_message(err));
	assert_non_null(path);
	return path;
}

static void test_image_without_etc(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *path = ensure(f);
	char expected[128];
	snprintf(expected, sizeof(expected), "%s/top/init", f->tmp);
	assert_string_equal(path, expected);
	struct stat st;
	assert_true(exists(path, "etc", &st));
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(st.st_uid, 0);
	const char *files[] = {"etc/hosts", "etc/hostname", "etc/resolv.conf"};
	for (size_t i = 0; i < 3; i++) {
		assert_true(exists(path, files[i], &st));
		assert_true(S_ISREG(st.st_mode));
		assert_int_equal(st.st_size, 0);
		assert_int_equal(st.st_mode & 07777, 0644);
	}
	assert_true(exists(path, ".", &st));
	assert_int_equal(st.st_mode & 07777, 0755);
}

static void test_only_missing_files_under_the_images_etc(void **state)
{
	struct fixture *f = *state;
	mkpath(f->lowers[1], "etc", 0750);
	touch(f->lowers[1], "etc/hosts");
	char etc[512];
	snprintf(etc, sizeof(etc), "%s/etc", f->lowers[1]);
	assert_int_equal(chown(etc, 5, 6), 0);
	struct timespec times[2] = {{.tv_sec = 1000000000}, {.tv_sec = 1200000000}};
	assert_int_equal(utimensat(AT_FDCWD, etc, times, 0), 0);

	_cleanup_free_ char *path = ensure(f);
	struct stat st;
	assert_true(exists(path, "etc", &st));
	assert_int_equal(st.st_mode & 07777, 0750);
	assert_int_equal(st.st_uid, 5);
	assert_int_equal(st.st_gid, 6);
	assert_int_equal(st.st_mtim.tv_sec, 1200000000);
	assert_false(exists(path, "etc/hosts", NULL));
	assert_true(exists(path, "etc/hostname", NULL));
	assert_true(exists(path, "etc/resolv.conf", NULL));
}

static void test_whiteout_and_opaque(void **state)
{
	struct fixture *f = *state;
	/* bottom has all three; top deletes hosts, and an opaque etc in top
	 * hides bottom's resolv.conf, but top has its own hostname. */
	mkpath(f->lowers[1], "etc", 0755);
	touch(f->lowers[1], "etc/hosts");
	touch(f->lowers[1], "etc/hostname");
	touch(f->lowers[1], "etc/resolv.conf");
	mkpath(f->lowers[0], "etc", 0755);
	whiteout(f->lowers[0], "etc/hosts");
	touch(f->lowers[0], "etc/hostname");
	char etc[512];
	snprintf(etc, sizeof(etc), "%s/etc", f->lowers[0]);
	assert_int_equal(setxattr(etc, "trusted.overlay.opaque", "y", 1, 0), 0);

	_cleanup_free_ char *path = ensure(f);
	assert_true(exists(path, "etc/hosts", NULL));
	assert_false(exists(path, "etc/hostname", NULL));
	assert_true(exists(path, "etc/resolv.conf", NULL));
}

static void test_whiteout_of_etc_in_the_top_layer(void **state)
{
	struct fixture *f = *state;
	mkpath(f->lowers[1], "etc", 0700);
	touch(f->lowers[1], "etc/hosts");
	whiteout(f->lowers[0], "etc");

	_cleanup_free_ char *path = ensure(f);
	struct stat st;
	assert_true(exists(path, "etc", &st));
	assert_int_equal(st.st_mode & 07777, 0755); /* not bottom's 0700 */
	assert_true(exists(path, "etc/hosts", NULL));
}

static void test_etc_as_a_symlink_gets_nothing(void **state)
{
	struct fixture *f = *state;
	char link[512];
	snprintf(link, sizeof(link), "%s/etc", f->lowers[0]);
	assert_int_equal(symlink("private/etc", link), 0);

	_cleanup_free_ char *path = ensure(f);
	assert_false(exists(path, "etc", NULL));
	DIR *d = opendir(path);
	assert_non_null(d);
	struct dirent *de;
	int n = 0;
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	closedir(d);
	assert_int_equal(n, 0);
}

static void test_made_once_and_no_temporary_left(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *first = ensure(f);
	struct stat a, b;
	assert_true(exists(first, "etc/hosts", &a));
	/* What the image shows later does not matter any more: the layer is kept. */
	mkpath(f->lowers[0], "etc", 0755);
	touch(f->lowers[0], "etc/hosts");
	_cleanup_free_ char *second = ensure(f);
	assert_string_equal(first, second);
	assert_true(exists(second, "etc/hosts", &b));
	assert_int_equal(a.st_ino, b.st_ino);

	char top[128];
	snprintf(top, sizeof(top), "%s/top", f->tmp);
	DIR *d = opendir(top);
	assert_non_null(d);
	struct dirent *de;
	while ((de = readdir(d)))
		assert_true(strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		            strcmp(de->d_name, "diff") == 0 || strcmp(de->d_name, "init") == 0);
	closedir(d);
}

static void test_no_layers(void **state)
{
	(void)state;
	char *none[] = {NULL};
	char *path = (char *)"unchanged";
	_cleanup_error_ struct vsl_error *err = NULL;
	assert_int_equal(init_layer_ensure(none, &path, &err), 0);
	assert_null(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_image_without_etc, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_only_missing_files_under_the_images_etc, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_whiteout_and_opaque, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_whiteout_of_etc_in_the_top_layer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_etc_as_a_symlink_gets_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_made_once_and_no_temporary_left, setup, teardown),
	    cmocka_unit_test(test_no_layers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
