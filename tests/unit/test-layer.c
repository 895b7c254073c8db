/* Layer apply and write. Tars are made here with libarchive's writer,
 * compressed here with zlib or libzstd, and results are checked with
 * stat/getxattr/readlink against values written by hand. Needs root (mknod,
 * chown, trusted.* xattrs), as CI runs it. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>
#include <cmocka.h>

#include "image/layer.h"
#include "util/cleanup.h"
#include "util/digest.h"
#include "util/error.h"
#include "util/fs.h"

#define MTIME 1600000000

/* struct vfs_cap_data, revision 2, effective, cap_net_raw (13) permitted. */
static const unsigned char cap_net_raw[20] = {0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00,
                                              0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};

/* ---- tars made in the test ---- */

struct tb {
	struct archive *a;
	unsigned char *data;
	size_t len, cap;
};

static void buf_append(unsigned char **data, size_t *len, size_t *cap, const void *buf, size_t n)
{
	if (*len + n > *cap) {
		*cap = (*len + n) * 2 + 1024;
		*data = realloc(*data, *cap);
		assert_non_null(*data);
	}
	memcpy(*data + *len, buf, n);
	*len += n;
}

static la_ssize_t tb_write(struct archive *a, void *userdata, const void *buf, size_t len)
{
	(void)a;
	struct tb *t = userdata;
	buf_append(&t->data, &t->len, &t->cap, buf, len);
	return (la_ssize_t)len;
}

static void tb_open(struct tb *t)
{
	*t = (struct tb){.a = archive_write_new()};
	assert_non_null(t->a);
	assert_int_equal(archive_write_set_format_pax(t->a), ARCHIVE_OK);
	assert_int_equal(archive_write_open(t->a, t, NULL, tb_write, NULL), ARCHIVE_OK);
}

static struct archive_entry *tb_entry(const char *path, mode_t type, mode_t perm)
{
	struct archive_entry *e = archive_entry_new();
	assert_non_null(e);
	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, perm);
	archive_entry_set_mtime(e, MTIME, 0);
	return e;
}

/* Writes and frees e; data for regular files. */
static void tb_put(struct tb *t, struct archive_entry *e, const char *data)
{
	if (archive_entry_filetype(e) == AE_IFREG && archive_entry_hardlink(e) == NULL)
		archive_entry_set_size(e, data ? (la_int64_t)strlen(data) : 0);
	assert_int_equal(archive_write_header(t->a, e), ARCHIVE_OK);
	if (data && *data)
		assert_int_equal(archive_write_data(t->a, data, strlen(data)), (la_ssize_t)strlen(data));
	archive_entry_free(e);
}

static void tb_file(struct tb *t, const char *path, mode_t perm, const char *data)
{
	tb_put(t, tb_entry(path, AE_IFREG, perm), data);
}

static void tb_dir(struct tb *t, const char *path, mode_t perm)
{
	tb_put(t, tb_entry(path, AE_IFDIR, perm), NULL);
}

static void tb_symlink(struct tb *t, const char *path, const char *target)
{
	struct archive_entry *e = tb_entry(path, AE_IFLNK, 0777);
	archive_entry_set_symlink(e, target);
	tb_put(t, e, NULL);
}

static void tb_hardlink(struct tb *t, const char *path, const char *target)
{
	struct archive_entry *e = tb_entry(path, AE_IFREG, 0644);
	archive_entry_set_hardlink(e, target);
	archive_entry_set_size(e, 0);
	tb_put(t, e, NULL);
}

static void tb_close(struct tb *t)
{
	assert_int_equal(archive_write_close(t->a), ARCHIVE_OK);
	archive_write_free(t->a);
	t->a = NULL;
}

static size_t gzip_member(const void *in, size_t len, unsigned char *out, size_t cap)
{
	z_stream zs = {0};
	assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	size_t n = cap - zs.avail_out;
	deflateEnd(&zs);
	return n;
}

/* ---- fixture: <root>/layer (applied into), <root>/outside (must stay untouched) ---- */

struct fx {
	char root[64];
	char outside[96];
	int rootfd, layer, outfd;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->root, sizeof(f->root), "/tmp/test-layer-XXXXXX");
	const char *root = mkdtemp(f->root);
	assert_non_null(root);
	snprintf(f->outside, sizeof(f->outside), "%s/outside", root);
	f->rootfd = open(f->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(f->rootfd >= 0);
	assert_int_equal(mkdirat(f->rootfd, "layer", 0755), 0);
	assert_int_equal(mkdirat(f->rootfd, "outside", 0755), 0);
	f->layer = openat(f->rootfd, "layer", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	f->outfd = openat(f->rootfd, "outside", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(f->layer >= 0 && f->outfd >= 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	close(f->layer);
	close(f->outfd);
	close(f->rootfd);
	rm_rf_at(AT_FDCWD, f->root);
	free(f);
	return 0;
}

/* A fresh empty layer directory next to the others. */
static int new_layer(struct fx *f, const char *name)
{
	assert_int_equal(mkdirat(f->rootfd, name, 0755), 0);
	int fd = openat(f->rootfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

/* Streams buf through a pipe from another process, as the puller does. */
static int apply_bytes(int dest, const void *buf, size_t len, struct layer_apply_result *res,
                       struct vsl_error **err)
{
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		const unsigned char *b = buf;
		size_t off = 0;
		while (off < len) {
			size_t n = len - off < 3000 ? len - off : 3000;
			if (write_all(p[1], b + off, n) < 0)
				_exit(1);
			off += n;
		}
		_exit(0);
	}
	close(p[1]);
	int r = layer_apply(p[0], dest, res, err);
	close(p[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return r;
}

static void apply_ok(int dest, const void *buf, size_t len, struct layer_apply_result *res)
{
	_cleanup_error_ struct vsl_error *err = NULL;
	if (apply_bytes(dest, buf, len, res, &err) < 0)
		fail_msg("layer_apply: %s", vsl_error_message(err));
}

static size_t count_entries(int dirfd)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	DIR *d = fdopendir(fd);
	assert_non_null(d);
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void assert_no_whiteout_names(int dirfd, const char *dir)
{
	int fd = openat(dirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	DIR *d = fdopendir(fd);
	assert_non_null(d);
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, ".wh.", 4) == 0)
			fail_msg("'%s/%s' exists", dir, de->d_name);
	closedir(d);
}

static void assert_whiteout(int dirfd, const char *path)
{
	struct stat st;
	assert_int_equal(fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(major(st.st_rdev), 0);
	assert_int_equal(minor(st.st_rdev), 0);
}

static void assert_xattr(int dirfd, const char *path, const char *name, const void *value, size_t len)
{
	char proc[128], buf[256];
	int fd = openat(dirfd, path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	assert_true(fd >= 0);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	ssize_t n = getxattr(proc, name, buf, sizeof(buf));
	close(fd);
	if (n < 0)
		fail_msg("getxattr '%s' '%s': %s", path, name, strerror(errno));
	assert_int_equal(n, len);
	assert_memory_equal(buf, value, len);
}

static void assert_no_xattr(int dirfd, const char *path, const char *name)
{
	char proc[128], buf[256];
	int fd = openat(dirfd, path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	assert_true(fd >= 0);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	assert_int_equal(getxattr(proc, name, buf, sizeof(buf)), -1);
	assert_int_equal(errno, ENODATA);
	close(fd);
}

static void assert_content(int dirfd, const char *path, const char *want)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	_cleanup_error_ struct vsl_error *err = NULL;
	assert_int_equal(read_file_at(dirfd, path, 1 << 20, &data, &len, &err), 0);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(data, want, len);
}

/* ---- apply ---- */

static void test_apply_types(void **state)
{
	struct fx *f = *state;
	struct tb t;
	tb_open(&t);
	struct archive_entry *e = tb_entry("etc/", AE_IFDIR, 0755);
	archive_entry_set_mtime(e, 1400000000, 0);
	tb_put(&t, e, NULL);
	e = tb_entry("etc/hosts", AE_IFREG, 0640);
	archive_entry_set_uid(e, 1000);
	archive_entry_set_gid(e, 1001);
	archive_entry_set_mtime(e, 1500000000, 123456789);
	tb_put(&t, e, "127.0.0.1 localhost\n");
	tb_hardlink(&t, "etc/hosts.bak", "etc/hosts");
	e = tb_entry("etc/link", AE_IFLNK, 0777);
	archive_entry_set_symlink(e, "hosts");
	archive_entry_set_uid(e, 33);
	archive_entry_set_gid(e, 34);
	tb_put(&t, e, NULL);
	tb_file(&t, "./usr/bin/tool", 0755, "#!/bin/sh\n"); /* "./" prefix, parents not in the tar */
	tb_put(&t, tb_entry("run/fifo", AE_IFIFO, 0620), NULL);
	e = tb_entry("dev/null", AE_IFCHR, 0666);
	archive_entry_set_rdevmajor(e, 1);
	archive_entry_set_rdevminor(e, 3);
	tb_put(&t, e, NULL);
	e = tb_entry("dev/loop0", AE_IFBLK, 0660);
	archive_entry_set_rdevmajor(e, 7);
	archive_entry_set_rdevminor(e, 0);
	archive_entry_set_gid(e, 6);
	tb_put(&t, e, NULL);
	tb_close(&t);
	_cleanup_free_ unsigned char *tar = t.data;

	struct layer_apply_result res;
	apply_ok(f->layer, tar, t.len, &res);

	struct stat st;
	assert_int_equal(fstatat(f->layer, "etc/hosts", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_uid, 1000);
	assert_int_equal(st.st_gid, 1001);
	assert_int_equal(st.st_mtim.tv_sec, 1500000000);
	assert_int_equal(st.st_mtim.tv_nsec, 123456789);
	assert_int_equal(st.st_nlink, 2);
	assert_content(f->layer, "etc/hosts", "127.0.0.1 localhost\n");

	struct stat st2;
	assert_int_equal(fstatat(f->layer, "etc/hosts.bak", &st2, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(st2.st_ino, st.st_ino);

	char target[64];
	ssize_t n = readlinkat(f->layer, "etc/link", target, sizeof(target));
	assert_int_equal(n, 5);
	assert_memory_equal(target, "hosts", 5);
	assert_int_equal(fstatat(f->layer, "etc/link", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(st.st_uid, 33);
	assert_int_equal(st.st_gid, 34);
	assert_int_equal(st.st_mtim.tv_sec, MTIME);

	assert_int_equal(fstatat(f->layer, "usr/bin/tool", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	/* Directories the tar did not list are made as tar makes them. */
	assert_int_equal(fstatat(f->layer, "usr/bin", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0755);

	assert_int_equal(fstatat(f->layer, "run/fifo", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISFIFO(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0620);

	assert_int_equal(fstatat(f->layer, "dev/null", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(st.st_rdev, makedev(1, 3));
	assert_int_equal(st.st_mode & 07777, 0666);
	assert_int_equal(fstatat(f->layer, "dev/loop0", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISBLK(st.st_mode));
	assert_int_equal(st.st_rdev, makedev(7, 0));
	assert_int_equal(st.st_gid, 6);

	/* Set after its children were written into it. */
	assert_int_equal(fstatat(f->layer, "etc", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(st.st_mtim.tv_sec, 1400000000);

	char want[DIGEST_SIZE];
	digest_buffer(tar, t.len, want);
	assert_string_equal(res.diff_id, want);
	assert_string_equal(res.digest, want);
	assert_int_equal(res.size, t.len);
	assert_int_equal(res.compressed_size, t.len);
	assert_int_equal(res.compression, COMPRESSION_NONE);
	/* hosts (20) + tool (10); the hardlink adds nothing. */
	assert_int_equal(res.unpacked_size, 30);
}

static void test_apply_whiteouts(void **state)
{
	struct fx *f = *state;
	struct tb t;
	tb_open(&t);
	tb_dir(&t, "a/", 0755);
	tb_file(&t, "a/.wh..wh..opq", 0600, NULL);
	tb_file(&t, "a/keep", 0644, "kept");
	struct archive_entry *e = tb_entry(".wh.gone", AE_IFREG, 0600);
	archive_entry_set_uid(e, 5);
	tb_put(&t, e, NULL);
	tb_file(&t, "b/.wh.x", 0600, NULL); /* parent not in the tar */
	tb_dir(&t, ".wh..wh.plnk/", 0700);  /* aufs bookkeeping */
	tb_file(&t, ".wh..wh.plnk/123.456", 0644, "aufs");
	tb_file(&t, "a/.wh..wh.aufs", 0600, NULL);
	tb_close(&t);
	_cleanup_free_ unsigned char *tar = t.data;

	struct layer_apply_result res;
	apply_ok(f->layer, tar, t.len, &res);

	assert_xattr(f->layer, "a", "trusted.overlay.opaque", "y", 1);
	assert_no_xattr(f->layer, "b", "trusted.overlay.opaque");
	assert_content(f->layer, "a/keep", "kept");
	assert_whiteout(f->layer, "gone");
	assert_whiteout(f->layer, "b/x");
	struct stat st;
	assert_int_equal(fstatat(f->layer, "gone", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(st.st_uid, 5);
	assert_no_whiteout_names(f->layer, ".");
	assert_no_whiteout_names(f->layer, "a");
	assert_no_whiteout_names(f->layer, "b");
	assert_int_equal(count_entries(f->layer), 3); /* a, b, gone */
	assert_int_equal(count_entries(f->outfd), 0);
}

static void test_apply_xattrs_and_modes(void **state)
{
	struct fx *f = *state;
	struct tb t;
	tb_open(&t);
	struct archive_entry *e = tb_entry("bin/ping", AE_IFREG, 04755);
	archive_entry_set_uid(e, 1000);
	archive_entry_set_gid(e, 1000);
	archive_entry_xattr_add_entry(e, "security.capability", cap_net_raw, sizeof(cap_net_raw));
	archive_entry_xattr_add_entry(e, "user.note", "hello", 5);
	archive_entry_xattr_add_entry(e, "trusted.vessel", "bar", 3);
	/* Overlay's own attributes could redirect lookups: never from a tar. */
	archive_entry_xattr_add_entry(e, "trusted.overlay.redirect", "/etc", 4);
	tb_put(&t, e, "ELF");
	e = tb_entry("shared/", AE_IFDIR, 02775);
	archive_entry_set_uid(e, 1000);
	archive_entry_set_gid(e, 50);
	tb_put(&t, e, NULL);
	tb_dir(&t, "tmp/", 01777);
	e = tb_entry("bin/sgid", AE_IFREG, 02711);
	archive_entry_set_gid(e, 42);
	tb_put(&t, e, "x");
	tb_close(&t);
	_cleanup_free_ unsigned char *tar = t.data;

	struct layer_apply_result res;
	apply_ok(f->layer, tar, t.len, &res);

	struct stat st;
	assert_int_equal(fstatat(f->layer, "bin/ping", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(st.st_mode & 07777, 04755);
	assert_int_equal(st.st_uid, 1000);
	assert_int_equal(st.st_gid, 1000);
	assert_xattr(f->layer, "bin/ping", "security.capability", cap_net_raw, sizeof(cap_net_raw));
	assert_xattr(f->layer, "bin/ping", "user.note", "hello", 5);
	assert_xattr(f->layer, "bin/ping", "trusted.vessel", "bar", 3);
	assert_no_xattr(f->layer, "bin/ping", "trusted.overlay.redirect");

	assert_int_equal(fstatat(f->layer, "shared", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(st.st_mode & 07777, 02775);
	assert_int_equal(st.st_uid, 1000);
	assert_int_equal(st.st_gid, 50);
	assert_int_equal(fstatat(f->layer, "tmp", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(st.st_mode & 07777, 01777);
	assert_int_equal(fstatat(f->layer, "bin/sgid", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(st.st_mode & 07777, 02711);
	assert_int_equal(st.st_gid, 42);
}

static void test_apply_replace(void **state)
{
	struct fx *f = *state;
	struct tb t;
	tb_open(&t);
	tb_file(&t, "x", 0644, "file first");
	tb_dir(&t, "x/", 0755); /* a directory replaces the file */
	tb_file(&t, "x/y", 0644, "inside");
	tb_dir(&t, "d/", 0755);
	tb_file(&t, "d/f", 0644, "gone with d");
	tb_file(&t, "d", 0600, "now a file"); /* a file replaces the directory */
	tb_dir(&t, "m/", 0755);
	tb_file(&t, "m/a", 0644, "stays");
	tb_dir(&t, "m/", 0700); /* a directory over a directory merges */
	tb_symlink(&t, "s", "x");
	tb_file(&t, "s", 0644, "replaced the symlink");
	tb_close(&t);
	_cleanup_free_ unsigned char *tar = t.data;

	struct layer_apply_result res;
	apply_ok(f->layer, tar, t.len, &res);

	struct stat st;
	assert_int_equal(fstatat(f->layer, "x", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_content(f->layer, "x/y", "inside");
	assert_int_equal(fstatat(f->layer, "d", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_content(f->layer, "d", "now a file");
	assert_int_equal(fstatat(f->layer, "m", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_content(f->layer, "m/a", "stays");
	assert_int_equal(fstatat(f->layer, "s", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_content(f->layer, "s", "replaced the symlink");
	assert_int_equal(count_entries(f->layer), 4);
}

/* Applies a tar that must be refused; returns the error message. */
static void expect_refused(struct fx *f, const char *layer_name, struct tb *t, const char *msg)
{
	_cleanup_close_ int dest = new_layer(f, layer_name);
	_cleanup_free_ unsigned char *tar = t->data;
	struct layer_apply_result res;
	memset(&res, 0x5a, sizeof(res));
	_cleanup_error_ struct vsl_error *err = NULL;
	assert_true(apply_bytes(dest, tar, t->len, &res, &err) < 0);
	assert_non_null(err);
	if (strcmp(vsl_error_message(err), msg) != 0)
		fail_msg("got '%s', want '%s'", vsl_error_message(err), msg);
	/* ret untouched on failure */
	assert_int_equal(res.size, 0x5a5a5a5a5a5a5a5aULL);
}

static void test_apply_escapes(void **state)
{
	struct fx *f = *state;
	struct tb t;
	_cleanup_free_ char *abs = NULL;
	assert_true(asprintf(&abs, "%s/abs", f->outside) > 0);

	/* The file the hardlink attempts aim at. */
	assert_int_equal(write_file_atomic_at(f->outfd, "secret", "s3cret", 6, 0600, NULL), 0);

	tb_open(&t);
	tb_file(&t, "../outside/dotdot", 0644, "x");
	tb_close(&t);
	expect_refused(f, "l1", &t, "layer entry '../outside/dotdot': path escapes the layer");

	tb_open(&t);
	tb_file(&t, abs, 0644, "x");
	tb_close(&t);
	_cleanup_free_ char *msg = NULL;
	assert_true(asprintf(&msg, "layer entry '%s': path escapes the layer", abs) > 0);
	expect_refused(f, "l2", &t, msg);

	tb_open(&t);
	tb_file(&t, "a/../../outside/mid", 0644, "x");
	tb_close(&t);
	expect_refused(f, "l3", &t, "layer entry 'a/../../outside/mid': path escapes the layer");

	/* Writing through a symlink that points outside, absolute or relative. */
	tb_open(&t);
	tb_symlink(&t, "evil", f->outside);
	tb_file(&t, "evil/pwned", 0644, "x");
	tb_close(&t);
	expect_refused(f, "l4", &t,
	               "layer entry 'evil/pwned': parent directory escapes the layer through a symlink");

	tb_open(&t);
	tb_symlink(&t, "rel", "../outside");
	tb_dir(&t, "rel/sub/", 0755);
	tb_close(&t);
	expect_refused(f, "l5", &t,
	               "layer entry 'rel/sub/': parent directory escapes the layer through a symlink");

	/* ... deeper: the symlink is a grandparent. */
	tb_open(&t);
	tb_symlink(&t, "up", "../../../../../../../../..");
	tb_file(&t, "up/tmp/deep", 0644, "x");
	tb_close(&t);
	expect_refused(f, "l6", &t,
	               "layer entry 'up/tmp/deep': parent directory escapes the layer through a symlink");

	/* Hardlinks to something outside, directly or through a symlink. */
	tb_open(&t);
	tb_hardlink(&t, "hl", "../outside/secret");
	tb_close(&t);
	expect_refused(f, "l7", &t,
	               "layer entry 'hl': hardlink target '../outside/secret' escapes the layer");

	tb_open(&t);
	tb_symlink(&t, "evil", f->outside);
	tb_hardlink(&t, "hl", "evil/secret");
	tb_close(&t);
	expect_refused(f, "l8", &t, "layer entry 'hl': hardlink target 'evil/secret' escapes the layer");

	tb_open(&t);
	tb_hardlink(&t, "hl", abs);
	tb_close(&t);
	_cleanup_free_ char *msg2 = NULL;
	assert_true(asprintf(&msg2, "layer entry 'hl': hardlink target '%s' escapes the layer", abs) > 0);
	expect_refused(f, "l9", &t, msg2);

	/* A whiteout cannot name its parent. */
	tb_open(&t);
	tb_file(&t, "d/.wh...", 0600, NULL);
	tb_close(&t);
	expect_refused(f, "l10", &t, "layer entry 'd/.wh...': invalid whiteout");

	/* Nothing was made outside, and the secret was never linked. */
	assert_int_equal(count_entries(f->outfd), 1);
	struct stat st;
	assert_int_equal(fstatat(f->outfd, "secret", &st, 0), 0);
	assert_int_equal(st.st_nlink, 1);
	assert_int_equal(access("/tmp/deep", F_OK), -1);
}

static void test_apply_symlink_inside(void **state)
{
	struct fx *f = *state;
	struct tb t;
	tb_open(&t);
	tb_dir(&t, "real/", 0755);
	tb_symlink(&t, "alias", "real");
	tb_file(&t, "alias/file", 0644, "via alias");
	tb_symlink(&t, "victim", f->outside);
	tb_file(&t, "victim", 0644, "not through");
	tb_symlink(&t, "sl", f->outside);
	tb_hardlink(&t, "sl-hard", "sl"); /* a link to the symlink itself, not its target */
	tb_close(&t);
	_cleanup_free_ unsigned char *tar = t.data;

	struct layer_apply_result res;
	apply_ok(f->layer, tar, t.len, &res);
	assert_content(f->layer, "real/file", "via alias");
	assert_content(f->layer, "victim", "not through");
	struct stat st, st2;
	assert_int_equal(fstatat(f->layer, "sl-hard", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(fstatat(f->layer, "sl", &st2, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(st.st_ino, st2.st_ino);
	assert_int_equal(count_entries(f->outfd), 0);
}

/* A layer made of all kinds of entries, for the compression tests. */
static void small_tar(struct tb *t)
{
	tb_open(t);
	tb_dir(t, "etc/", 0755);
	tb_file(t, "etc/motd", 0644, "Welcome to the layer\n");
	tb_symlink(t, "etc/issue", "motd");
	tb_close(t);
}

static void check_small(int dest)
{
	assert_content(dest, "etc/motd", "Welcome to the layer\n");
	char target[16];
	assert_int_equal(readlinkat(dest, "etc/issue", target, sizeof(target)), 4);
}

static void test_apply_gzip(void **state)
{
	struct fx *f = *state;
	struct tb t;
	small_tar(&t);
	_cleanup_free_ unsigned char *tar = t.data;
	size_t cap = compressBound(t.len) + 64;
	_cleanup_free_ unsigned char *gz = malloc(cap);
	size_t gzlen = gzip_member(tar, t.len, gz, cap);

	struct layer_apply_result res;
	apply_ok(f->layer, gz, gzlen, &res);
	check_small(f->layer);
	char want[DIGEST_SIZE];
	digest_buffer(tar, t.len, want);
	assert_string_equal(res.diff_id, want);
	digest_buffer(gz, gzlen, want);
	assert_string_equal(res.digest, want);
	assert_int_equal(res.size, t.len);
	assert_int_equal(res.compressed_size, gzlen);
	assert_int_equal(res.compression, COMPRESSION_GZIP);
	assert_int_equal(res.unpacked_size, 21);
}

static void test_apply_gzip_multi_member(void **state)
{
	struct fx *f = *state;
	struct tb t;
	small_tar(&t);
	_cleanup_free_ unsigned char *tar = t.data;
	size_t cap = compressBound(t.len) * 2 + 128;
	_cleanup_free_ unsigned char *gz = malloc(cap);
	/* Split mid-header: members are one stream, not one tar each. */
	size_t n1 = gzip_member(tar, 700, gz, cap);
	size_t n2 = gzip_member(tar + 700, t.len - 700, gz + n1, cap - n1);

	struct layer_apply_result res;
	apply_ok(f->layer, gz, n1 + n2, &res);
	check_small(f->layer);
	char want[DIGEST_SIZE];
	digest_buffer(tar, t.len, want);
	assert_string_equal(res.diff_id, want);
	digest_buffer(gz, n1 + n2, want);
	assert_string_equal(res.digest, want);
	assert_int_equal(res.compressed_size, n1 + n2);
}

static void test_apply_zstd(void **state)
{
	struct fx *f = *state;
	struct tb t;
	small_tar(&t);
	_cleanup_free_ unsigned char *tar = t.data;
	size_t cap = ZSTD_compressBound(t.len);
	_cleanup_free_ unsigned char *zs = malloc(cap);
	size_t zlen = ZSTD_compress(zs, cap, tar, t.len, 3);
	assert_false(ZSTD_isError(zlen));

	struct layer_apply_result res;
	apply_ok(f->layer, zs, zlen, &res);
	check_small(f->layer);
	char want[DIGEST_SIZE];
	digest_buffer(tar, t.len, want);
	assert_string_equal(res.diff_id, want);
	digest_buffer(zs, zlen, want);
	assert_string_equal(res.digest, want);
	assert_int_equal(res.size, t.len);
	assert_int_equal(res.compressed_size, zlen);
	assert_int_equal(res.compression, COMPRESSION_ZSTD);
}

static void test_apply_corrupt(void **state)
{
	struct fx *f = *state;
	struct tb t;
	small_tar(&t);
	_cleanup_free_ unsigned char *tar = t.data;
	size_t cap = compressBound(t.len) + 64;
	_cleanup_free_ unsigned char *gz = malloc(cap);
	size_t gzlen = gzip_member(tar, t.len, gz, cap);

	/* A broken CRC32 trailer: the whole layer must be refused. */
	gz[gzlen - 7] ^= 0x55;
	{
		_cleanup_close_ int dest = new_layer(f, "bad-crc");
		struct layer_apply_result res;
		_cleanup_error_ struct vsl_error *err = NULL;
		assert_true(apply_bytes(dest, gz, gzlen, &res, &err) < 0);
		assert_non_null(strstr(vsl_error_message(err), "corrupt gzip data"));
	}
	/* Cut in the middle of a file's data. */
	{
		_cleanup_close_ int dest = new_layer(f, "short");
		struct layer_apply_result res;
		_cleanup_error_ struct vsl_error *err = NULL;
		assert_true(apply_bytes(dest, tar, 1024 + 10, &res, &err) < 0);
		assert_non_null(err);
	}
	/* Not a tar at all. */
	{
		_cleanup_close_ int dest = new_layer(f, "garbage");
		struct layer_apply_result res;
		_cleanup_error_ struct vsl_error *err = NULL;
		static const char junk[2048] = "this is not a tar archive";
		assert_true(apply_bytes(dest, junk, sizeof(junk), &res, &err) < 0);
		assert_non_null(err);
	}
}

static void test_apply_reads_to_end(void **state)
{
	struct fx *f = *state;
	struct tb t;
	small_tar(&t);
	/* Bytes after the end-of-archive blocks still belong to the blob. */
	unsigned char *tar = t.data;
	size_t len = t.len, cap = t.cap;
	/* More than any read-ahead: 1 MiB of zeros (tar tools pad with them). */
	_cleanup_free_ unsigned char *tail = calloc(1, 1 << 20);
	assert_non_null(tail);
	buf_append(&tar, &len, &cap, tail, 1 << 20);
	buf_append(&tar, &len, &cap, "trailer", 7);
	_cleanup_free_ unsigned char *data = tar;
	size_t gzcap = compressBound(len) + 64;
	_cleanup_free_ unsigned char *gz = malloc(gzcap);
	size_t gzlen = gzip_member(data, len, gz, gzcap);

	struct layer_apply_result res;
	apply_ok(f->layer, gz, gzlen, &res);
	check_small(f->layer);
	char want[DIGEST_SIZE];
	digest_buffer(data, len, want);
	assert_string_equal(res.diff_id, want);
	digest_buffer(gz, gzlen, want);
	assert_string_equal(res.digest, want);
	assert_int_equal(res.size, len);
	assert_int_equal(res.compressed_size, gzlen);
}

static void test_apply_empty(void **state)
{
	struct fx *f = *state;
	struct layer_apply_result res;
	apply_ok(f->layer, "", 0, &res);
	assert_string_equal(res.diff_id,
	                    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_int_equal(res.size, 0);

	/* Only the end-of-archive blocks. */
	static const unsigned char zeros[1024] = {0};
	_cleanup_close_ int dest = new_layer(f, "zeros");
	apply_ok(dest, zeros, sizeof(zeros), &res);
	assert_int_equal(res.size, 1024);
	assert_int_equal(count_entries(dest), 0);
	assert_int_equal(count_entries(f->layer), 0);
}

/* ---- write ---- */

struct seen {
	char name[128];
	mode_t type;
	char link[128];
	char symlink[128];
	int has_cap, has_overlay_xattr;
};

/* Reads a tar back with libarchive, independently of layer.c. */
static size_t read_entries(const unsigned char *tar, size_t len, struct seen *out, size_t max)
{
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_memory(a, tar, len), ARCHIVE_OK);
	struct archive_entry *e;
	size_t n = 0;
	int r;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		assert_true(n < max);
		struct seen *s = &out[n++];
		memset(s, 0, sizeof(*s));
		snprintf(s->name, sizeof(s->name), "%s", archive_entry_pathname(e));
		s->type = archive_entry_filetype(e);
		if (archive_entry_hardlink(e))
			snprintf(s->link, sizeof(s->link), "%s", archive_entry_hardlink(e));
		if (archive_entry_symlink(e))
			snprintf(s->symlink, sizeof(s->symlink), "%s", archive_entry_symlink(e));
		const char *xn;
		const void *xv;
		size_t xs;
		archive_entry_xattr_reset(e);
		while (archive_entry_xattr_next(e, &xn, &xv, &xs) == ARCHIVE_OK) {
			if (strcmp(xn, "security.capability") == 0 && xs == sizeof(cap_net_raw) &&
			    memcmp(xv, cap_net_raw, xs) == 0)
				s->has_cap = 1;
			if (strncmp(xn, "trusted.overlay.", 16) == 0)
				s->has_overlay_xattr = 1;
		}
	}
	assert_int_equal(r, ARCHIVE_EOF);
	archive_read_free(a);
	return n;
}

static void set_xattr_at(int dirfd, const char *path, const char *name, const void *v, size_t len)
{
	char proc[64];
	int fd = openat(dirfd, path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	assert_true(fd >= 0);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	assert_int_equal(setxattr(proc, name, v, len, 0), 0);
	close(fd);
}

static void put_file(int dirfd, const char *path, const char *data, mode_t mode)
{
	int fd = openat(dirfd, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

/* An overlay upper dir, made by hand. */
static int make_upper(struct fx *f)
{
	int up = new_layer(f, "upper");
	assert_int_equal(mkdirat(up, "dir", 0755), 0);
	put_file(up, "dir/a", "hello\n", 0640);
	assert_int_equal(fchownat(up, "dir/a", 7, 8, 0), 0);
	assert_int_equal(linkat(up, "dir/a", up, "dir/b", 0), 0);
	assert_int_equal(symlinkat("dir/a", up, "lnk"), 0);
	assert_int_equal(mknodat(up, "gone", S_IFCHR, makedev(0, 0)), 0);
	assert_int_equal(mkdirat(up, "opq", 0750), 0);
	set_xattr_at(up, "opq", "trusted.overlay.opaque", "y", 1);
	put_file(up, "opq/inside", "in", 0644);
	assert_int_equal(mkdirat(up, "dev", 0755), 0);
	assert_int_equal(mknodat(up, "dev/tty", S_IFCHR | 0666, makedev(5, 0)), 0);
	assert_int_equal(mknodat(up, "fifo", S_IFIFO | 0600, 0), 0);
	put_file(up, "ping", "ELF", 0755);
	set_xattr_at(up, "ping", "security.capability", cap_net_raw, sizeof(cap_net_raw));
	set_xattr_at(up, "ping", "trusted.overlay.origin", "xyz", 3);
	assert_int_equal(fchmodat(up, "ping", 04755, 0), 0);
	return up;
}

static int memfd(void)
{
	int fd = memfd_create("layer", MFD_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

static unsigned char *slurp(int fd, size_t *ret_len)
{
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	unsigned char *p = malloc((size_t)st.st_size + 1);
	assert_non_null(p);
	assert_int_equal(pread(fd, p, (size_t)st.st_size, 0), st.st_size);
	*ret_len = (size_t)st.st_size;
	return p;
}

static void test_write_overlay_diff(void **state)
{
	struct fx *f = *state;
	_cleanup_close_ int up = make_upper(f);
	_cleanup_close_ int out = memfd();
	struct layer_write_result res;
	_cleanup_error_ struct vsl_error *err = NULL;
	if (layer_write(up, out, COMPRESSION_NONE, LAYER_WRITE_OVERLAY_DIFF, &res, &err) < 0)
		fail_msg("layer_write: %s", vsl_error_message(err));

	size_t len;
	_cleanup_free_ unsigned char *tar = slurp(out, &len);
	char want[DIGEST_SIZE];
	digest_buffer(tar, len, want);
	assert_string_equal(res.diff_id, want);
	assert_string_equal(res.digest, want);
	assert_int_equal(res.size, len);
	assert_int_equal(res.compressed_size, len);

	struct seen s[32];
	size_t n = read_entries(tar, len, s, 32);
	static const struct {
		const char *name;
		mode_t type;
	} expect[] = {
	    {"dev/", AE_IFDIR},       {"dev/tty", AE_IFCHR},
	    {"dir/", AE_IFDIR},       {"dir/a", AE_IFREG},
	    {"dir/b", AE_IFREG},      {"fifo", AE_IFIFO},
	    {".wh.gone", AE_IFREG},   {"lnk", AE_IFLNK},
	    {"opq/", AE_IFDIR},       {"opq/.wh..wh..opq", AE_IFREG},
	    {"opq/inside", AE_IFREG}, {"ping", AE_IFREG},
	};
	assert_int_equal(n, ARRAY_SIZE(expect));
	for (size_t i = 0; i < n; i++) {
		if (strcmp(s[i].name, expect[i].name) != 0)
			fail_msg("entry %zu: '%s', want '%s'", i, s[i].name, expect[i].name);
		/* libarchive reads a hardlink entry with no file type of its own. */
		if (s[i].link[0] == '\0' && s[i].type != expect[i].type)
			fail_msg("entry '%s': type 0%o, want 0%o", s[i].name, s[i].type, expect[i].type);
		assert_int_equal(s[i].has_overlay_xattr, 0);
	}
	assert_string_equal(s[3].link, "");
	assert_string_equal(s[4].link, "dir/a");
	assert_string_equal(s[7].symlink, "dir/a");
	assert_int_equal(s[11].has_cap, 1);

	/* The same tree gives the same bytes. */
	_cleanup_close_ int out2 = memfd();
	struct layer_write_result res2;
	assert_int_equal(layer_write(up, out2, COMPRESSION_NONE, LAYER_WRITE_OVERLAY_DIFF, &res2, &err), 0);
	assert_string_equal(res2.diff_id, res.diff_id);

	/* Without the overlay flag a 0/0 device is just a device. */
	_cleanup_close_ int out3 = memfd();
	assert_int_equal(layer_write(up, out3, COMPRESSION_NONE, 0, &res2, &err), 0);
	size_t len3;
	_cleanup_free_ unsigned char *tar3 = slurp(out3, &len3);
	n = read_entries(tar3, len3, s, 32);
	assert_int_equal(n, ARRAY_SIZE(expect) - 1);
	assert_string_equal(s[6].name, "gone");
	assert_int_equal(s[6].type, AE_IFCHR);
}

static void test_write_gzip_round_trip(void **state)
{
	struct fx *f = *state;
	_cleanup_close_ int up = make_upper(f);
	_cleanup_close_ int out = memfd();
	struct layer_write_result res;
	_cleanup_error_ struct vsl_error *err = NULL;
	assert_int_equal(layer_write(up, out, COMPRESSION_GZIP, LAYER_WRITE_OVERLAY_DIFF, &res, &err), 0);
	size_t len;
	_cleanup_free_ unsigned char *gz = slurp(out, &len);
	assert_memory_equal(gz, "\x1f\x8b", 2);
	char want[DIGEST_SIZE];
	digest_buffer(gz, len, want);
	assert_string_equal(res.digest, want);
	assert_int_equal(res.compressed_size, len);

	/* zlib's own view of the stream gives diff_id. */
	_cleanup_free_ unsigned char *tar = malloc(res.size + 1);
	z_stream zs = {0};
	assert_int_equal(inflateInit2(&zs, 16 + MAX_WBITS), Z_OK);
	zs.next_in = gz;
	zs.avail_in = (uInt)len;
	zs.next_out = tar;
	zs.avail_out = (uInt)res.size + 1;
	assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
	assert_int_equal(zs.total_out, res.size);
	inflateEnd(&zs);
	digest_buffer(tar, res.size, want);
	assert_string_equal(res.diff_id, want);

	/* And applied again: whiteouts and opaque dirs come back as overlay's. */
	struct layer_apply_result ares;
	apply_ok(f->layer, gz, len, &ares);
	assert_string_equal(ares.diff_id, res.diff_id);
	assert_string_equal(ares.digest, res.digest);
	assert_whiteout(f->layer, "gone");
	assert_xattr(f->layer, "opq", "trusted.overlay.opaque", "y", 1);
	assert_no_whiteout_names(f->layer, "opq");
	assert_content(f->layer, "opq/inside", "in");
	struct stat a, b;
	assert_int_equal(fstatat(f->layer, "dir/a", &a, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(fstatat(f->layer, "dir/b", &b, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	assert_int_equal(a.st_uid, 7);
	assert_int_equal(a.st_gid, 8);
	assert_int_equal(a.st_mode & 07777, 0640);
	assert_int_equal(fstatat(f->layer, "ping", &a, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(a.st_mode & 07777, 04755);
	assert_xattr(f->layer, "ping", "security.capability", cap_net_raw, sizeof(cap_net_raw));
	assert_no_xattr(f->layer, "ping", "trusted.overlay.origin");
	assert_int_equal(fstatat(f->layer, "dev/tty", &a, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(a.st_rdev, makedev(5, 0));
}

static void test_write_zstd(void **state)
{
	struct fx *f = *state;
	_cleanup_close_ int up = make_upper(f);
	_cleanup_close_ int out = memfd();
	struct layer_write_result res;
	_cleanup_error_ struct vsl_error *err = NULL;
	assert_int_equal(layer_write(up, out, COMPRESSION_ZSTD, LAYER_WRITE_OVERLAY_DIFF, &res, &err), 0);
	size_t len;
	_cleanup_free_ unsigned char *zs = slurp(out, &len);
	char want[DIGEST_SIZE];
	digest_buffer(zs, len, want);
	assert_string_equal(res.digest, want);
	assert_int_equal(res.compressed_size, len);

	_cleanup_free_ unsigned char *tar = malloc(res.size + 1);
	size_t n = ZSTD_decompress(tar, res.size + 1, zs, len);
	assert_false(ZSTD_isError(n));
	assert_int_equal(n, res.size);
	digest_buffer(tar, n, want);
	assert_string_equal(res.diff_id, want);
	struct seen s[32];
	assert_int_equal(read_entries(tar, n, s, 32), 12);
	assert_string_equal(s[6].name, ".wh.gone");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_apply_types, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_apply_whiteouts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_apply_xattrs_and_modes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_apply_replace, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_apply_escapes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_apply_symlink_inside, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_apply_gzip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_apply_gzip_multi_member, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_apply_zstd, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_apply_corrupt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_apply_reads_to_end, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_apply_empty, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_overlay_diff, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_gzip_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_zstd, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
