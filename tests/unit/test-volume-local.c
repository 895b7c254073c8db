/* The local volume driver and tree helpers (needs root): a copy keeps owners,
 * modes, symlinks, hard links and xattrs; sizes count hard links once; a
 * removal never descends into a mount (a bound host directory survives);
 * a tmpfs volume mounts with its size and unmounts; names and options are
 * checked as Docker checks them. */
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
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <cmocka.h>

#include "storage/tree.h"
#include "storage/volume-local.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json-table.h"

struct fixture {
	char dir[64];
	int fd;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/test-volume-local-XXXXXX");
	if (f == NULL || mkdtemp(f->dir) == NULL)
		return -1;
	f->fd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	*state = f;
	return f->fd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	/* Whatever a failed test left mounted goes first. */
	char path[128];
	snprintf(path, sizeof(path), "%s/volumes/v1/_data", f->dir);
	umount2(path, MNT_DETACH);
	snprintf(path, sizeof(path), "%s/src/mnt", f->dir);
	umount2(path, MNT_DETACH);
	close(f->fd);
	rm_rf_at(AT_FDCWD, f->dir);
	free(f);
	return 0;
}

static void put(int dirfd, const char *name, const char *text, mode_t mode, uid_t uid, gid_t gid)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchown(fd, uid, gid), 0);
	assert_int_equal(fchmod(fd, mode), 0);
}

static void test_copy_keeps_what_files_are(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(mkdirat(f->fd, "src", 0750), 0);
	assert_int_equal(fchownat(f->fd, "src", 1000, 1001, 0), 0);
	assert_int_equal(fchmodat(f->fd, "src", 0750, 0), 0);
	_cleanup_close_ int src = openat(f->fd, "src", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	put(src, "a", "hello\n", 04755, 1000, 1001);
	assert_int_equal(mkdirat(src, "sub", 0700), 0);
	assert_int_equal(fchownat(src, "sub", 1002, 1003, 0), 0);
	put(src, "sub/b", "deep", 0600, 1002, 1003);
	assert_int_equal(symlinkat("../a", src, "sub/link"), 0);
	assert_int_equal(fchownat(src, "sub/link", 7, 8, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(linkat(src, "a", src, "hard", 0), 0);
	assert_int_equal(mkfifoat(src, "fifo", 0640), 0);
	_cleanup_close_ int afd = openat(src, "a", O_RDONLY | O_CLOEXEC);
	assert_int_equal(fsetxattr(afd, "user.note", "x1", 2, 0), 0);

	assert_int_equal(mkdirat(f->fd, "dst", 0755), 0);
	_cleanup_close_ int dst = openat(f->fd, "dst", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_error_ struct vsl_error *err = NULL;
	if (tree_copy(src, dst, &err) < 0)
		fail_msg("%s", err->msg);

	struct stat st;
	assert_int_equal(fstat(dst, &st), 0);
	assert_int_equal(st.st_uid, 1000);
	assert_int_equal(st.st_gid, 1001);
	assert_int_equal(st.st_mode & 07777, 0750);
	assert_int_equal(fstatat(dst, "a", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 04755); /* set-uid survives the chown */
	assert_int_equal(st.st_uid, 1000);
	struct stat hard;
	assert_int_equal(fstatat(dst, "hard", &hard, 0), 0);
	assert_int_equal(hard.st_ino, st.st_ino);
	assert_int_equal(st.st_nlink, 2);
	assert_int_equal(fstatat(dst, "sub", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(st.st_uid, 1002);
	assert_int_equal(fstatat(dst, "sub/b", &st, 0), 0);
	assert_int_equal(st.st_gid, 1003);
	assert_int_equal(st.st_size, 4);
	char target[16] = "";
	assert_int_equal(readlinkat(dst, "sub/link", target, sizeof(target) - 1), 4);
	assert_string_equal(target, "../a");
	assert_int_equal(fstatat(dst, "sub/link", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(st.st_uid, 7);
	assert_int_equal(fstatat(dst, "fifo", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISFIFO(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0640);
	_cleanup_close_ int copied = openat(dst, "a", O_RDONLY | O_CLOEXEC);
	char x[4] = "";
	assert_int_equal(fgetxattr(copied, "user.note", x, sizeof(x)), 2);
	assert_memory_equal(x, "x1", 2);

	/* "hello\n" (once, though linked twice) + "deep"; directories, links and fifos count 0 + target
	 * length. */
	uint64_t size = 0;
	assert_int_equal(tree_size(dst, &size, &err), 0);
	assert_int_equal(size, 6 + 4 + 4);
	assert_int_equal(tree_is_empty(f->fd, "dst"), 0);
}

static void test_remove_does_not_cross_mounts(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(mkdirat(f->fd, "host", 0755), 0);
	_cleanup_close_ int host = openat(f->fd, "host", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	put(host, "precious", "keep me", 0644, 0, 0);
	assert_int_equal(mkdirat(f->fd, "src", 0755), 0);
	assert_int_equal(mkdirat(f->fd, "src/mnt", 0755), 0);
	_cleanup_close_ int src = openat(f->fd, "src", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	put(src, "plain", "x", 0644, 0, 0);
	char from[128], to[128];
	snprintf(from, sizeof(from), "%s/host", f->dir);
	snprintf(to, sizeof(to), "%s/src/mnt", f->dir);
	assert_int_equal(mount(from, to, NULL, MS_BIND, NULL), 0);

	_cleanup_error_ struct vsl_error *err = NULL;
	assert_int_equal(tree_remove(f->fd, "src", &err), -EBUSY);
	assert_non_null(strstr(err->msg, "mounted"));
	assert_int_equal(faccessat(host, "precious", F_OK, 0), 0);
	assert_int_equal(umount2(to, MNT_DETACH), 0);
	vsl_error_freep(&err);
	assert_int_equal(tree_remove(f->fd, "src", &err), 0);
	assert_int_equal(faccessat(f->fd, "src", F_OK, AT_SYMLINK_NOFOLLOW), -1);
	assert_int_equal(faccessat(host, "precious", F_OK, 0), 0);
	assert_int_equal(tree_remove(f->fd, "src", &err), 0); /* gone already: fine */
}

static void test_tmpfs_volume_mounts_with_its_size(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	assert_int_equal(volume_local_create(f->fd, "v1", &err), 0);
	assert_int_equal(volume_local_create(f->fd, "v1", &err), -EEXIST);
	vsl_error_freep(&err);
	assert_false(volume_local_is_mounted(f->fd, "v1"));
	struct volume_local_opts o = {.type = "tmpfs", .device = "tmpfs", .o = "size=1m,noexec"};
	if (volume_local_mount(f->fd, "v1", &o, &err) < 0)
		fail_msg("%s", err->msg);
	assert_true(volume_local_is_mounted(f->fd, "v1"));
	/* Mounting again stacks nothing. */
	assert_int_equal(volume_local_mount(f->fd, "v1", &o, &err), 0);
	_cleanup_close_ int data = -EBADF;
	assert_int_equal(volume_local_open_data(f->fd, "v1", &data, &err), 0);
	struct statfs sfs;
	assert_int_equal(fstatfs(data, &sfs), 0);
	assert_int_equal(sfs.f_type, 0x01021994); /* TMPFS_MAGIC */
	assert_int_equal((uint64_t)sfs.f_blocks * sfs.f_bsize, 1024 * 1024);
	assert_true(sfs.f_flags & ST_NOEXEC);
	assert_int_equal(volume_local_remove(f->fd, "v1", &err), 0);
	assert_false(volume_local_is_mounted(f->fd, "v1"));
	assert_int_equal(faccessat(f->fd, "volumes/v1", F_OK, AT_SYMLINK_NOFOLLOW), -1);
	_cleanup_free_ char *p = volume_local_data_path("/r", "v1");
	assert_string_equal(p, "/r/volumes/v1/_data");
}

static void test_names_and_options(void **state)
{
	(void)state;
	assert_true(volume_local_name_valid("db"));
	assert_true(volume_local_name_valid("a.b_c-1"));
	assert_false(volume_local_name_valid("a"));
	assert_false(volume_local_name_valid("-ab"));
	assert_false(volume_local_name_valid("a/b"));
	assert_false(volume_local_name_valid(".."));
	assert_false(volume_local_name_valid(""));

	struct volume_local_opts o;
	_cleanup_error_ struct vsl_error *err = NULL;
	struct json_kv good[] = {{"type", "tmpfs"}, {"device", "tmpfs"}, {"o", "size=1m"}};
	assert_int_equal(volume_local_opts_parse(good, 3, &o, &err), 0);
	assert_string_equal(o.type, "tmpfs");
	assert_string_equal(o.o, "size=1m");
	struct json_kv bad[] = {{"foo", "bar"}};
	assert_int_equal(volume_local_opts_parse(bad, 1, &o, &err), -EINVAL);
	assert_string_equal(err->msg, "invalid option: \"foo\"");
	vsl_error_freep(&err);
	struct json_kv no_device[] = {{"type", "tmpfs"}};
	assert_int_equal(volume_local_opts_parse(no_device, 1, &o, &err), -EINVAL);
	assert_string_equal(err->msg, "missing required option: \"device\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_copy_keeps_what_files_are, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_remove_does_not_cross_mounts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tmpfs_volume_mounts_with_its_size, setup, teardown),
	    cmocka_unit_test(test_names_and_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
