/* Container root filesystems on overlay (needs root): through the mounted
 * root, the upper layer wins, whiteouts and opaque directories hide what is
 * below, writes land in the container's diff; a read-only root refuses
 * writes; unmount and removal leave no mount and no directory; `diff` lists
 * exactly the changes of a scripted session; a hundred layers with long paths
 * mount, with the new mount API and with mount(2); bad ids name no path; the
 * collector clears only leftovers and the mounts of dead containers. */
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
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <cmocka.h>

#include "storage/overlay.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"

#define ID    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define OTHER "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

struct fixture {
	char root[64];
	int root_fd;
	char *lowers[3]; /* l1 (top), l2, NULL */
};

/* Mount points strictly under prefix, from /proc/self/mountinfo; with
 * options_of set, the super options of the mount at that path (last wins). */
static int mounts_under(const char *prefix, const char *options_of, char **ret_opts)
{
	FILE *fp = fopen("/proc/self/mountinfo", "re");
	if (fp == NULL)
		return -1;
	size_t plen = strlen(prefix);
	int n = 0;
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, fp) > 0) {
		char *save = NULL, *field = strtok_r(line, " ", &save);
		char *mnt = NULL;
		for (int i = 0; field && i < 4; i++)
			field = strtok_r(NULL, " ", &save);
		mnt = field;
		if (mnt == NULL)
			continue;
		if (strncmp(mnt, prefix, plen) == 0 && mnt[plen] == '/')
			n++;
		if (options_of && strcmp(mnt, options_of) == 0 && ret_opts) {
			/* after " - ": fstype, source, super options */
			char *f;
			while ((f = strtok_r(NULL, " ", &save)) != NULL && strcmp(f, "-") != 0)
				;
			strtok_r(NULL, " ", &save);
			strtok_r(NULL, " ", &save);
			char *opts = strtok_r(NULL, " \n", &save);
			free(*ret_opts);
			*ret_opts = opts ? strdup(opts) : NULL;
		}
	}
	free(line);
	fclose(fp);
	return n;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	overlay_set_legacy_mount(false);
	/* Whatever a failed test left mounted, innermost first. */
	for (int i = 0; i < 1000 && mounts_under(f->root, NULL, NULL) > 0; i++) {
		FILE *fp = fopen("/proc/self/mountinfo", "re");
		char *line = NULL, *last = NULL;
		size_t cap = 0;
		while (fp && getline(&line, &cap, fp) > 0) {
			char *save = NULL, *field = strtok_r(line, " ", &save);
			for (int j = 0; field && j < 4; j++)
				field = strtok_r(NULL, " ", &save);
			if (field && strncmp(field, f->root, strlen(f->root)) == 0) {
				free(last);
				last = strdup(field);
			}
		}
		free(line);
		if (fp)
			fclose(fp);
		if (last)
			umount2(last, MNT_DETACH);
		free(last);
	}
	int r = mounts_under(f->root, NULL, NULL) == 0 ? 0 : -1;
	if (f->root_fd >= 0)
		close(f->root_fd);
	if (rm_rf_at(AT_FDCWD, f->root) < 0)
		r = -1;
	for (size_t i = 0; i < ARRAY_SIZE(f->lowers); i++)
		free(f->lowers[i]);
	free(f);
	return r;
}

static void put(int dirfd, const char *path, const char *content)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		fail_msg("create '%s': %s", path, strerror(errno));
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
}

static void mkdirs(int dirfd, const char *path)
{
	if (mkdirat(dirfd, path, 0755) < 0)
		fail_msg("mkdir '%s': %s", path, strerror(errno));
}

/* l2 (bottom) and l1 (top), as the layer store unpacks them. */
static void make_lowers(struct fixture *f)
{
	mkdirs(f->root_fd, "l2");
	mkdirs(f->root_fd, "l2/etc");
	put(f->root_fd, "l2/etc/passwd", "root-l2");
	put(f->root_fd, "l2/etc/hosts", "hosts-l2");
	put(f->root_fd, "l2/etc/motd", "motd-l2");
	put(f->root_fd, "l2/etc/gone", "gone-l2");
	mkdirs(f->root_fd, "l2/opt");
	mkdirs(f->root_fd, "l2/opt/old");
	put(f->root_fd, "l2/opt/old/a", "a");
	put(f->root_fd, "l2/opt/old/b", "b");
	mkdirs(f->root_fd, "l2/var");
	put(f->root_fd, "l2/var/keep", "keep");
	mkdirs(f->root_fd, "l2/bin");
	put(f->root_fd, "l2/bin/sh", "sh");
	/* A symlink out of the layer, to host files a walk must not see. */
	mkdirs(f->root_fd, "host");
	put(f->root_fd, "host/x", "host-x");
	put(f->root_fd, "host/y", "host-y");
	char target[128];
	snprintf(target, sizeof(target), "%s/host", f->root);
	assert_int_equal(symlinkat(target, f->root_fd, "l2/data"), 0);

	mkdirs(f->root_fd, "l1");
	mkdirs(f->root_fd, "l1/etc");
	put(f->root_fd, "l1/etc/passwd", "root-l1");
	assert_int_equal(mknodat(f->root_fd, "l1/etc/gone", S_IFCHR | 0000, makedev(0, 0)), 0);
	mkdirs(f->root_fd, "l1/opt");
	mkdirs(f->root_fd, "l1/opt/old");
	char path[128];
	snprintf(path, sizeof(path), "%s/l1/opt/old", f->root);
	assert_int_equal(setxattr(path, "trusted.overlay.opaque", "y", 1, 0), 0);
	put(f->root_fd, "l1/opt/old/c", "c");

	assert_true(asprintf(&f->lowers[0], "%s/l1", f->root) > 0);
	assert_true(asprintf(&f->lowers[1], "%s/l2", f->root) > 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -1;
	f->root_fd = -1;
	snprintf(f->root, sizeof(f->root), "/tmp/test-overlay-XXXXXX");
	if (mkdtemp(f->root) == NULL) {
		free(f);
		return -1;
	}
	*state = f;
	f->root_fd = open(f->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (f->root_fd < 0) {
		teardown(state);
		return -1;
	}
	make_lowers(f);
	return 0;
}

static char *merged_path(const struct fixture *f, const char *id, const char *rel)
{
	char *p = NULL;
	assert_true(asprintf(&p, "%s/overlay/%s/merged%s", f->root, id, rel) > 0);
	return p;
}

static char *read_at(const char *path)
{
	char *buf = NULL;
	_cleanup_error_ struct vsl_error *err = NULL;
	if (read_file_at(AT_FDCWD, path, 4096, &buf, NULL, &err) < 0)
		return NULL;
	return buf;
}

static void assert_content(const char *path, const char *expected)
{
	_cleanup_free_ char *got = read_at(path);
	if (got == NULL)
		fail_msg("read '%s': %s", path, strerror(errno));
	assert_string_equal(got, expected);
}

static void assert_absent(const char *path)
{
	struct stat st;
	assert_int_equal(lstat(path, &st), -1);
	assert_int_equal(errno, ENOENT);
}

static void create_and_mount(struct fixture *f, const char *id, const struct overlay_mount_opts *o)
{
	_cleanup_error_ struct vsl_error *err = NULL;
	if (overlay_create(f->root_fd, id, &err) < 0)
		fail_msg("%s", vsl_error_message(err));
	_cleanup_free_ char *merged = NULL;
	if (overlay_mount(f->root_fd, id, f->lowers, o, &merged, &err) < 0)
		fail_msg("%s", vsl_error_message(err));
	_cleanup_free_ char *expected = merged_path(f, id, "");
	assert_string_equal(merged, expected);
	assert_true(overlay_is_mounted(f->root_fd, id));
}

/* What any container sees through its root: upper wins, whiteouts and
 * opaque directories hide, writes go to diff and not to the layers. */
static void check_union(struct fixture *f)
{
	_cleanup_free_ char *passwd = merged_path(f, ID, "/etc/passwd");
	assert_content(passwd, "root-l1");
	_cleanup_free_ char *hosts = merged_path(f, ID, "/etc/hosts");
	assert_content(hosts, "hosts-l2");
	_cleanup_free_ char *gone = merged_path(f, ID, "/etc/gone");
	assert_absent(gone);
	_cleanup_free_ char *a = merged_path(f, ID, "/opt/old/a");
	assert_absent(a);
	_cleanup_free_ char *c = merged_path(f, ID, "/opt/old/c");
	assert_content(c, "c");

	_cleanup_free_ char *newfile = merged_path(f, ID, "/etc/new");
	put(AT_FDCWD, newfile, "written");
	put(AT_FDCWD, passwd, "root-new");
	char diff[256];
	snprintf(diff, sizeof(diff), "%s/overlay/%s/diff/etc/new", f->root, ID);
	assert_content(diff, "written");
	snprintf(diff, sizeof(diff), "%s/overlay/%s/diff/etc/passwd", f->root, ID);
	assert_content(diff, "root-new");
	snprintf(diff, sizeof(diff), "%s/l1/etc/passwd", f->root);
	assert_content(diff, "root-l1");
	snprintf(diff, sizeof(diff), "%s/l1/etc/new", f->root);
	assert_absent(diff);

	/* The container's "/" is diff's mode, whatever the umask was. */
	_cleanup_free_ char *top = merged_path(f, ID, "");
	struct stat st;
	assert_int_equal(stat(top, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
}

static char *options_of(const struct fixture *f, const char *id)
{
	_cleanup_free_ char *merged = merged_path(f, id, "");
	char *opts = NULL;
	assert_true(mounts_under(f->root, merged, &opts) >= 1);
	assert_non_null(opts);
	return opts;
}

static void unmount_and_remove(struct fixture *f, const char *id)
{
	_cleanup_error_ struct vsl_error *err = NULL;
	if (overlay_remove(f->root_fd, id, &err) < 0)
		fail_msg("%s", vsl_error_message(err));
	assert_false(overlay_is_mounted(f->root_fd, id));
	assert_int_equal(mounts_under(f->root, NULL, NULL), 0);
	char rel[256];
	snprintf(rel, sizeof(rel), "overlay/%s", id);
	struct stat st;
	assert_int_equal(fstatat(f->root_fd, rel, &st, AT_SYMLINK_NOFOLLOW), -1);
	assert_int_equal(errno, ENOENT);
}

static int overlay_entries(const struct fixture *f)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/overlay", f->root);
	struct dirent **list = NULL;
	int n = scandir(path, &list, NULL, alphasort);
	assert_true(n >= 0);
	int count = 0;
	for (int i = 0; i < n; i++) {
		count += list[i]->d_name[0] != '.';
		free(list[i]);
	}
	free(list);
	return count;
}

static void test_mount_union(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	mode_t old = umask(077);
	create_and_mount(f, ID, NULL);
	umask(old);

	/* The new mount API: one lowerdir+ per layer, no redirects. */
	_cleanup_free_ char *opts = options_of(f, ID);
	assert_non_null(strstr(opts, "lowerdir+="));
	assert_non_null(strstr(opts, "redirect_dir=nofollow"));
	assert_null(strstr(opts, "volatile"));
	check_union(f);
	/* A file exists in the layer, not in the container's "/". */
	_cleanup_free_ char *lfile = merged_path(f, ID, "/bin/sh");
	assert_content(lfile, "sh");

	assert_int_equal(overlay_unmount(f->root_fd, ID, &err), 0);
	assert_false(overlay_is_mounted(f->root_fd, ID));
	assert_int_equal(mounts_under(f->root, NULL, NULL), 0);
	/* Not mounted is not an error; diff stays for the next start. */
	assert_int_equal(overlay_unmount(f->root_fd, ID, &err), 0);
	char diff[256];
	snprintf(diff, sizeof(diff), "%s/overlay/%s/diff/etc/new", f->root, ID);
	assert_content(diff, "written");

	unmount_and_remove(f, ID);

	/* Mounted twice (a bug elsewhere): removal still takes both. */
	create_and_mount(f, OTHER, NULL);
	if (overlay_mount(f->root_fd, OTHER, f->lowers, NULL, NULL, &err) < 0)
		fail_msg("%s", vsl_error_message(err));
	assert_int_equal(mounts_under(f->root, NULL, NULL), 2);
	unmount_and_remove(f, OTHER);
	assert_int_equal(overlay_entries(f), 0);
	/* An absent layer is not an error either. */
	assert_int_equal(overlay_remove(f->root_fd, ID, &err), 0);
}

static void test_read_only(void **state)
{
	struct fixture *f = *state;
	struct overlay_mount_opts o = {.read_only = true};
	create_and_mount(f, ID, &o);
	_cleanup_free_ char *passwd = merged_path(f, ID, "/etc/passwd");
	assert_content(passwd, "root-l1");
	_cleanup_free_ char *newfile = merged_path(f, ID, "/etc/new");
	assert_int_equal(open(newfile, O_WRONLY | O_CREAT | O_CLOEXEC, 0644), -1);
	assert_int_equal(errno, EROFS);
	assert_int_equal(open(passwd, O_WRONLY | O_CLOEXEC), -1);
	assert_int_equal(errno, EROFS);
	unmount_and_remove(f, ID);
}

static void test_volatile_and_no_layers(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	struct overlay_mount_opts o = {.volatile_ = true};
	create_and_mount(f, ID, &o);
	_cleanup_free_ char *opts = options_of(f, ID);
	assert_non_null(strstr(opts, "volatile"));
	unmount_and_remove(f, ID);

	/* An image without layers: an empty root, writable. */
	assert_int_equal(overlay_create(f->root_fd, OTHER, &err), 0);
	char *none[] = {NULL};
	assert_int_equal(overlay_mount(f->root_fd, OTHER, none, NULL, NULL, &err), 0);
	_cleanup_free_ char *top = merged_path(f, OTHER, "");
	_cleanup_closedir_ DIR *d = opendir(top);
	assert_non_null(d);
	int n = 0;
	for (struct dirent *de; (de = readdir(d)) != NULL;)
		n += de->d_name[0] != '.';
	assert_int_equal(n, 0);
	_cleanup_free_ char *file = merged_path(f, OTHER, "/hello");
	put(AT_FDCWD, file, "hi");
	assert_content(file, "hi");
	unmount_and_remove(f, OTHER);
}

static void test_legacy_mount(void **state)
{
	struct fixture *f = *state;
	overlay_set_legacy_mount(true);
	create_and_mount(f, ID, NULL);
	_cleanup_free_ char *opts = options_of(f, ID);
	/* mount(2)'s option string, not the new API's lowerdir+. */
	assert_null(strstr(opts, "lowerdir+="));
	assert_non_null(strstr(opts, "lowerdir="));
	assert_non_null(strstr(opts, "redirect_dir=nofollow"));
	check_union(f);
	unmount_and_remove(f, ID);

	struct overlay_mount_opts o = {.read_only = true};
	create_and_mount(f, OTHER, &o);
	_cleanup_free_ char *newfile = merged_path(f, OTHER, "/etc/new");
	assert_int_equal(open(newfile, O_WRONLY | O_CREAT | O_CLOEXEC, 0644), -1);
	assert_int_equal(errno, EROFS);
	unmount_and_remove(f, OTHER);
}

#define MANY 100

/* A hundred layers under a long directory name: far more than a page of
 * lowerdir option. Each has its own file; f-shared is in all, and the top
 * layer's copy must win. */
static void many_layers(struct fixture *f, bool legacy)
{
	char base[300];
	memset(base, 'd', 200);
	base[200] = '\0';
	if (mkdirat(f->root_fd, base, 0755) < 0 && errno != EEXIST)
		fail_msg("mkdir: %s", strerror(errno));
	char **lowers = calloc(MANY + 1, sizeof(char *));
	assert_non_null(lowers);
	size_t total = 0;
	for (int i = 0; i < MANY; i++) {
		char rel[400], name[32], content[32];
		snprintf(rel, sizeof(rel), "%s/layer-%03d", base, i);
		if (mkdirat(f->root_fd, rel, 0755) < 0 && errno != EEXIST)
			fail_msg("mkdir: %s", strerror(errno));
		_cleanup_close_ int fd = openat(f->root_fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		assert_true(fd >= 0);
		snprintf(name, sizeof(name), "f%03d", i);
		snprintf(content, sizeof(content), "layer %d", i);
		put(fd, name, content);
		put(fd, "f-shared", content);
		assert_true(asprintf(&lowers[i], "%s/%s", f->root, rel) > 0);
		total += strlen(lowers[i]) + 1;
	}
	assert_true(total > 16384);

	overlay_set_legacy_mount(legacy);
	_cleanup_error_ struct vsl_error *err = NULL;
	assert_int_equal(overlay_create(f->root_fd, ID, &err), 0);
	if (overlay_mount(f->root_fd, ID, lowers, NULL, NULL, &err) < 0)
		fail_msg("%s", vsl_error_message(err));
	for (int i = 0; i < MANY; i++) {
		char rel[32], content[32];
		snprintf(rel, sizeof(rel), "/f%03d", i);
		snprintf(content, sizeof(content), "layer %d", i);
		_cleanup_free_ char *p = merged_path(f, ID, rel);
		assert_content(p, content);
	}
	_cleanup_free_ char *shared = merged_path(f, ID, "/f-shared");
	assert_content(shared, "layer 0");
	unmount_and_remove(f, ID);
	strv_free(lowers);
}

static void test_many_layers(void **state)
{
	many_layers(*state, false);
}

static void test_many_layers_legacy(void **state)
{
	many_layers(*state, true);
}

struct expected_change {
	const char *kind;
	const char *path;
};

static void assert_changes(struct fixture *f, const char *id, const struct expected_change *want,
                           size_t n_want)
{
	_cleanup_error_ struct vsl_error *err = NULL;
	struct overlay_change *c = NULL;
	size_t n = 0;
	if (overlay_changes(f->root_fd, id, f->lowers, &c, &n, &err) < 0)
		fail_msg("%s", vsl_error_message(err));
	bool same = n == n_want;
	for (size_t i = 0; same && i < n; i++)
		same = strcmp(c[i].path, want[i].path) == 0 &&
		       strcmp(overlay_change_kind_to_string(c[i].kind), want[i].kind) == 0;
	for (size_t i = 0; !same && i < n; i++)
		print_message("  got %s %s\n", overlay_change_kind_to_string(c[i].kind), c[i].path);
	assert_int_equal(n, n_want);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(c[i].path, want[i].path);
		assert_string_equal(overlay_change_kind_to_string(c[i].kind), want[i].kind);
	}
	overlay_changes_free(c, n);
}

static void test_changes(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	create_and_mount(f, ID, NULL);

	/* Nothing done yet: nothing to list. */
	assert_changes(f, ID, NULL, 0);

	/* The session: what a user would do in a shell in the container. */
	_cleanup_free_ char *m = merged_path(f, ID, "");
	_cleanup_close_ int mfd = open(m, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(mfd >= 0);
	put(mfd, "etc/passwd", "changed");                       /* C /etc/passwd */
	assert_int_equal(unlinkat(mfd, "etc/hosts", 0), 0);      /* D /etc/hosts */
	assert_int_equal(fchmodat(mfd, "etc/motd", 0600, 0), 0); /* C /etc/motd */
	mkdirs(mfd, "srv");                                      /* A /srv */
	mkdirs(mfd, "srv/new");                                  /* A /srv/new */
	put(mfd, "srv/new/f", "f");                              /* A /srv/new/f */
	/* rm -rf /opt/old; mkdir /opt/old; touch /opt/old/d: an opaque dir */
	assert_int_equal(unlinkat(mfd, "opt/old/c", 0), 0);
	assert_int_equal(unlinkat(mfd, "opt/old", AT_REMOVEDIR), 0);
	mkdirs(mfd, "opt/old");
	put(mfd, "opt/old/d", "d");
	assert_int_equal(unlinkat(mfd, "var/keep", 0), 0); /* D /var/keep */
	/* rm -r /bin: one whiteout for the directory */
	assert_int_equal(unlinkat(mfd, "bin/sh", 0), 0);
	assert_int_equal(unlinkat(mfd, "bin", AT_REMOVEDIR), 0);
	assert_int_equal(symlinkat("/etc", mfd, "lnk"), 0); /* A /lnk */
	/* A file made and removed again leaves no trace. */
	put(mfd, "var/tmpfile", "t");
	assert_int_equal(unlinkat(mfd, "var/tmpfile", 0), 0);
	closep(&mfd);

	/* Opaque, as the kernel made it. */
	char path[256];
	snprintf(path, sizeof(path), "%s/overlay/%s/diff/opt/old", f->root, ID);
	char v[4];
	assert_int_equal(getxattr(path, "trusted.overlay.opaque", v, sizeof(v)), 1);

	/* Where a layer has a symlink out of it (/data -> host dir), a
	 * directory of the same name in diff is compared with nothing: the
	 * host's x and y must not show up as changed or deleted. */
	assert_int_equal(overlay_unmount(f->root_fd, ID, &err), 0);
	snprintf(path, sizeof(path), "overlay/%s/diff/data", ID);
	mkdirs(f->root_fd, path);
	snprintf(path, sizeof(path), "overlay/%s/diff/data/x", ID);
	put(f->root_fd, path, "mine");

	static const struct expected_change want[] = {
	    {"D", "/bin"},       {"C", "/data"},     {"A", "/data/x"},     {"C", "/etc"},
	    {"D", "/etc/hosts"}, {"C", "/etc/motd"}, {"C", "/etc/passwd"}, {"A", "/lnk"},
	    {"C", "/opt"},       {"C", "/opt/old"},  {"D", "/opt/old/c"},  {"A", "/opt/old/d"},
	    {"A", "/srv"},       {"A", "/srv/new"},  {"A", "/srv/new/f"},  {"C", "/var"},
	    {"D", "/var/keep"},
	};
	assert_changes(f, ID, want, ARRAY_SIZE(want));

	/* Against no layers at all, everything is new and nothing was there
	 * to delete. */
	static const struct expected_change all_new[] = {
	    {"A", "/data"},       {"A", "/data/x"}, {"A", "/etc"},     {"A", "/etc/motd"},
	    {"A", "/etc/passwd"}, {"A", "/lnk"},    {"A", "/opt"},     {"A", "/opt/old"},
	    {"A", "/opt/old/d"},  {"A", "/srv"},    {"A", "/srv/new"}, {"A", "/srv/new/f"},
	    {"A", "/var"},
	};
	free(f->lowers[0]);
	free(f->lowers[1]);
	f->lowers[0] = f->lowers[1] = NULL;
	assert_changes(f, ID, all_new, ARRAY_SIZE(all_new));
	unmount_and_remove(f, ID);
}

/* rm -rf /opt; mkdir -p /opt/old; touch /opt/old/c: the deleted directory's
 * old entries are D one by one, its new ones A or C by whether the path
 * existed, and the hidden layer below an opaque one does not count. */
static void test_changes_recreated_tree(void **state)
{
	struct fixture *f = *state;
	create_and_mount(f, ID, NULL);
	_cleanup_free_ char *m = merged_path(f, ID, "");
	_cleanup_close_ int mfd = open(m, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(mfd >= 0);
	assert_int_equal(unlinkat(mfd, "opt/old/c", 0), 0);
	assert_int_equal(unlinkat(mfd, "opt/old", AT_REMOVEDIR), 0);
	assert_int_equal(unlinkat(mfd, "opt", AT_REMOVEDIR), 0);
	mkdirs(mfd, "opt");
	mkdirs(mfd, "opt/old");
	put(mfd, "opt/old/c", "new c");
	put(mfd, "opt/new", "n");
	closep(&mfd);

	static const struct expected_change want[] = {
	    {"C", "/opt"},
	    {"A", "/opt/new"},
	    {"C", "/opt/old"},
	    {"C", "/opt/old/c"},
	};
	assert_changes(f, ID, want, ARRAY_SIZE(want));
	unmount_and_remove(f, ID);
}

static void test_bad_ids(void **state)
{
	struct fixture *f = *state;
	static const char *bad[] = {
	    "",
	    "..",
	    "../../etc",
	    "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",  /* upper case */
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",   /* 63 */
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0", /* 65 */
	    "0123456789abcdef0123456789abcdef/../456789abcdef0123456789abcdef",
	    "del-0123456789abcdef",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		_cleanup_error_ struct vsl_error *err = NULL;
		assert_false(overlay_id_is_valid(bad[i]));
		assert_int_equal(overlay_create(f->root_fd, bad[i], &err), -EINVAL);
		assert_non_null(err);
		vsl_error_freep(&err);
		assert_int_equal(overlay_mount(f->root_fd, bad[i], f->lowers, NULL, NULL, &err), -EINVAL);
		vsl_error_freep(&err);
		assert_int_equal(overlay_remove(f->root_fd, bad[i], &err), -EINVAL);
		vsl_error_freep(&err);
		assert_int_equal(overlay_unmount(f->root_fd, bad[i], &err), -EINVAL);
		vsl_error_freep(&err);
		int fd = -1;
		assert_int_equal(overlay_diff_dirfd(f->root_fd, bad[i], &fd, &err), -EINVAL);
		assert_int_equal(fd, -1);
		vsl_error_freep(&err);
		assert_false(overlay_is_mounted(f->root_fd, bad[i]));
	}
	_cleanup_error_ struct vsl_error *err = NULL;
	assert_int_equal(overlay_create(f->root_fd, NULL, &err), -EINVAL);
	/* Nothing was made for any of them. */
	struct stat st;
	assert_int_equal(fstatat(f->root_fd, "overlay", &st, 0), -1);

	/* A good id twice: the second is refused, the first kept whole. */
	vsl_error_freep(&err);
	assert_true(overlay_id_is_valid(ID));
	assert_int_equal(overlay_create(f->root_fd, ID, &err), 0);
	assert_int_equal(overlay_create(f->root_fd, ID, &err), -EEXIST);
	assert_int_equal(overlay_entries(f), 1);
	int fd = -1;
	vsl_error_freep(&err);
	assert_int_equal(overlay_diff_dirfd(f->root_fd, ID, &fd, &err), 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	close(fd);
	assert_int_equal(overlay_diff_dirfd(f->root_fd, OTHER, &fd, &err), -ENOENT);
}

static bool only_other_alive(const char *id, void *userdata)
{
	(*(int *)userdata)++;
	return strcmp(id, OTHER) == 0;
}

static void test_gc(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	create_and_mount(f, ID, NULL);
	create_and_mount(f, OTHER, NULL);

	/* A crashed removal, a crashed creation long ago, one under way. */
	mkdirs(f->root_fd, "overlay/del-00000000000000aa");
	mkdirs(f->root_fd, "overlay/del-00000000000000aa/diff");
	put(f->root_fd, "overlay/del-00000000000000aa/diff/file", "x");
	mkdirs(f->root_fd, "overlay/tmp-00000000000000bb");
	mkdirs(f->root_fd, "overlay/tmp-00000000000000cc");
	struct timespec old[2] = {{.tv_sec = 1000}, {.tv_sec = 1000}};
	assert_int_equal(utimensat(f->root_fd, "overlay/tmp-00000000000000bb", old, 0), 0);

	/* Without a callback: leftovers only. */
	assert_int_equal(overlay_gc(f->root_fd, NULL, NULL, &err), 0);
	assert_true(overlay_is_mounted(f->root_fd, ID));
	assert_true(overlay_is_mounted(f->root_fd, OTHER));
	struct stat st;
	assert_int_equal(fstatat(f->root_fd, "overlay/del-00000000000000aa", &st, 0), -1);
	assert_int_equal(fstatat(f->root_fd, "overlay/tmp-00000000000000bb", &st, 0), -1);
	assert_int_equal(fstatat(f->root_fd, "overlay/tmp-00000000000000cc", &st, 0), 0);

	int asked = 0;
	assert_int_equal(overlay_gc(f->root_fd, only_other_alive, &asked, &err), 0);
	assert_int_equal(asked, 2);
	assert_false(overlay_is_mounted(f->root_fd, ID));
	assert_true(overlay_is_mounted(f->root_fd, OTHER));
	/* Unmounted, not removed: a stopped container keeps its layer. */
	_cleanup_free_ char *passwd = merged_path(f, ID, "/etc/passwd");
	assert_absent(passwd);
	assert_int_equal(fstatat(f->root_fd, "overlay/" ID "/diff", &st, AT_SYMLINK_NOFOLLOW), 0);
	_cleanup_free_ char *other = merged_path(f, OTHER, "/etc/passwd");
	assert_content(other, "root-l1");
	unmount_and_remove(f, OTHER);
	unmount_and_remove(f, ID);
}

int main(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "test-overlay: needs root (mount, mknod, trusted.* xattrs)\n");
		return 1;
	}
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_mount_union, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_volatile_and_no_layers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_legacy_mount, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_many_layers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_many_layers_legacy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_changes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_changes_recreated_tree, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_ids, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_gc, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
