/* The resolver keeps every lookup inside the root; rootfs_prepare/pivot/
 * finalize build a working container root in a private mount namespace and
 * never follow what a hostile image planted. Runs as root. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "runtime/config.h"
#include "runtime/mount-opts.h"
#include "runtime/resolve.h"
#include "runtime/rootfs.h"
#include "util/cleanup.h"
#include "util/error.h"

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&s, fmt, ap);
	va_end(ap);
	assert_true(r >= 0);
	return s;
}

static void write_file(const char *path, const char *content)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
}

static void mkdirs(const char *base, const char *rel)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", base, rel);
	for (char *s = p + strlen(base) + 1; *s; s++) {
		if (*s == '/') {
			*s = '\0';
			mkdir(p, 0755);
			*s = '/';
		}
	}
	assert_true(mkdir(p, 0755) == 0 || errno == EEXIST);
}

static void rm_rf(const char *path)
{
	_cleanup_free_ char *cmd = xasprintf("rm -rf --one-file-system '%s'", path);
	assert_int_equal(system(cmd), 0);
}

static char *read_fd(int fd)
{
	char buf[256];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	return strdup(buf);
}

/* ---- the resolver ---------------------------------------------------- */

struct fixture {
	char root[64];
	char host[64]; /* a directory outside the root */
	int rootfd;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->root, sizeof(f->root), "/tmp/vessel-resolve-XXXXXX");
	snprintf(f->host, sizeof(f->host), "/tmp/vessel-host-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	assert_non_null(mkdtemp(f->host));
	mkdirs(f->root, "etc");
	_cleanup_free_ char *passwd = xasprintf("%s/etc/passwd", f->root);
	write_file(passwd, "inside");
	_cleanup_free_ char *regular = xasprintf("%s/regular", f->root);
	write_file(regular, "");
	const struct {
		const char *target, *name;
	} links[] = {
	    {"/etc/passwd", "abs"}, {"../../../etc", "up"}, {"loop2", "loop1"},
	    {"loop1", "loop2"},     {f->host, "escdir"},    {"/regular", "tofile"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", f->root, links[i].name);
		assert_int_equal(symlink(links[i].target, p), 0);
	}
	f->rootfd = open(f->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(f->rootfd >= 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	close(f->rootfd);
	rm_rf(f->root);
	rm_rf(f->host);
	free(f);
	return 0;
}

static void expect_inside(int rootfd, const char *path)
{
	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_close_ int fd = resolve_open(rootfd, path, O_RDONLY, 0, &err);
	assert_true(fd >= 0);
	_cleanup_free_ char *s = read_fd(fd);
	assert_string_equal(s, "inside");
}

static void test_symlinks_stay_inside(void **state)
{
	struct fixture *f = *state;
	expect_inside(f->rootfd, "abs");
	expect_inside(f->rootfd, "/abs");
	expect_inside(f->rootfd, "up/passwd");
	expect_inside(f->rootfd, "../../../etc/passwd");
	expect_inside(f->rootfd, "/etc/../../../../etc/passwd");
}

static void test_loop_and_magic_links_refused(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	assert_int_equal(resolve_open(f->rootfd, "loop1", O_RDONLY, 0, &err), -ELOOP);
	assert_non_null(strstr(vsl_error_message(err), "'loop1'"));

	/* /proc magic links jump anywhere: refused even with the host as root. */
	_cleanup_close_ int hostroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_int_equal(resolve_open_quiet(hostroot, "/proc/self/exe", O_PATH, 0), -ELOOP);
	assert_int_equal(resolve_open_quiet(hostroot, "/proc/self/root/etc", O_PATH, 0), -ELOOP);
	_cleanup_close_ int fd = resolve_open_quiet(hostroot, "/proc/self/status", O_RDONLY, 0);
	assert_true(fd >= 0);
	assert_true(resolve_fd_is_procfs(fd));
	assert_false(resolve_fd_is_procfs(f->rootfd));
}

static void test_mkdir_p_chain(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_close_ int fd = resolve_mkdir_p(f->rootfd, "/a/b//c/./d", 0755, &err);
	assert_true(fd >= 0);
	struct stat got, want;
	assert_int_equal(fstat(fd, &got), 0);
	_cleanup_free_ char *p = xasprintf("%s/a/b/c/d", f->root);
	assert_int_equal(stat(p, &want), 0);
	assert_int_equal(got.st_ino, want.st_ino);
	assert_true(S_ISDIR(got.st_mode));
	assert_int_equal(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);

	/* Again: everything exists. */
	_cleanup_close_ int again = resolve_mkdir_p(f->rootfd, "a/b/c/d", 0755, &err);
	assert_true(again >= 0);
	/* The root itself. */
	_cleanup_close_ int root = resolve_mkdir_p(f->rootfd, "/", 0755, &err);
	assert_true(root >= 0);
}

static void test_mkdir_p_through_escaping_symlink(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	/* escdir -> /tmp/vessel-host-XXX, which exists on the host only: the
	 * dangling link is followed inside the root. */
	_cleanup_close_ int fd = resolve_mkdir_p(f->rootfd, "/escdir/x/y", 0755, &err);
	assert_true(fd >= 0);
	_cleanup_free_ char *inside = xasprintf("%s%s/x/y", f->root, f->host);
	_cleanup_free_ char *outside = xasprintf("%s/x", f->host);
	struct stat st;
	assert_int_equal(stat(inside, &st), 0);
	assert_int_equal(stat(outside, &st), -1);
	assert_int_equal(errno, ENOENT);

	/* "..": clamped at the root. */
	_cleanup_close_ int fd2 = resolve_mkdir_p(f->rootfd, "../../../../made", 0755, &err);
	assert_true(fd2 >= 0);
	_cleanup_free_ char *made = xasprintf("%s/made", f->root);
	assert_int_equal(stat(made, &st), 0);
	assert_int_equal(stat("/made", &st), -1);

	/* A file in the way. */
	assert_int_equal(resolve_mkdir_p(f->rootfd, "/tofile/sub", 0755, &err), -ENOTDIR);
}

static void test_mkfile_p(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_close_ int fd = resolve_mkfile_p(f->rootfd, "/f1/f2/target", 0644, &err);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_size, 0);

	/* An existing file (through an absolute symlink) is accepted as is. */
	_cleanup_close_ int fd2 = resolve_mkfile_p(f->rootfd, "/abs", 0644, &err);
	assert_true(fd2 >= 0);
	_cleanup_close_ int rd = resolve_open(f->rootfd, "/abs", O_RDONLY, 0, &err);
	_cleanup_free_ char *s = read_fd(rd);
	assert_string_equal(s, "inside");

	/* A dangling symlink as the last component: created inside. */
	_cleanup_free_ char *dl = xasprintf("%s/dangling", f->root);
	_cleanup_free_ char *hostfile = xasprintf("%s/planted", f->host);
	assert_int_equal(symlink(hostfile, dl), 0);
	_cleanup_close_ int fd3 = resolve_mkfile_p(f->rootfd, "/dangling", 0644, &err);
	assert_true(fd3 >= 0);
	assert_int_equal(stat(hostfile, &st), -1);
	_cleanup_free_ char *in = xasprintf("%s%s", f->root, hostfile);
	assert_int_equal(stat(in, &st), 0);

	assert_int_equal(resolve_mkfile_p(f->rootfd, "/etc", 0644, &err), -EISDIR);
	vsl_error_freep(&err);
	assert_int_equal(resolve_mkfile_p(f->rootfd, "/", 0644, &err), -EISDIR);
}

static void test_parent(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_free_ char *name = NULL;
	_cleanup_close_ int fd = resolve_parent(f->rootfd, "//dev/./net/../net/tun", 0755, &name, &err);
	assert_true(fd >= 0);
	assert_string_equal(name, "tun");
	struct stat got, want;
	_cleanup_free_ char *p = xasprintf("%s/dev/net", f->root);
	assert_int_equal(stat(p, &want), 0);
	assert_int_equal(fstat(fd, &got), 0);
	assert_int_equal(got.st_ino, want.st_ino);
	assert_true(resolve_parent(f->rootfd, "/", 0755, &name, &err) < 0);
}

static void test_clean_path(void **state)
{
	(void)state;
	const char *cases[][2] = {
	    {"/dev", "/dev"},  {"//dev/./pts/", "/dev/pts"}, {"dev", "/dev"}, {"/", "/"}, {"", "/"},
	    {"/a/../..", "/"}, {"/a/b/../c", "/a/c"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_free_ char *c = resolve_clean_path(cases[i][0]);
		assert_string_equal(c, cases[i][1]);
	}
}

static void test_mount_opts(void **state)
{
	(void)state;
	char *opts[] = {"rbind",    "ro",       "rnosuid", "nodev", "noatime",
	                "rprivate", "mode=755", "size=1k", "sync",  NULL};
	struct mount_opts o;
	assert_int_equal(mount_opts_parse(opts, &o, NULL), 0);
	assert_true(o.rbind);
	assert_false(o.bind);
	assert_int_equal(o.attr_set, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOATIME);
	assert_int_equal(o.attr_clr, MOUNT_ATTR__ATIME);
	assert_int_equal(o.rec_attr_set, MOUNT_ATTR_NOSUID);
	assert_int_equal(o.propagation, MS_PRIVATE);
	assert_true(o.propagation_rec);
	assert_string_equal(o.sb_flags[0], "sync");
	_cleanup_free_ char *data = mount_opts_data_string(&o);
	assert_string_equal(data, "mode=755,size=1k");
	mount_opts_clear(&o);

	char *opts2[] = {"ro", "rw", "rro", "rrw", "suid", "shared", "remount", NULL};
	assert_int_equal(mount_opts_parse(opts2, &o, NULL), 0);
	assert_int_equal(o.attr_set, 0);
	assert_int_equal(o.attr_clr, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID);
	assert_int_equal(o.rec_attr_clr, MOUNT_ATTR_RDONLY);
	assert_int_equal(o.propagation, MS_SHARED);
	assert_false(o.propagation_rec);
	assert_true(o.remount);
	assert_null(o.data);
	mount_opts_clear(&o);
}

/* ---- a whole container root, in a child's own mount namespace ---------- */

#define CHECK(cond)                                                                                          \
	do {                                                                                                 \
		if (!(cond)) {                                                                               \
			fprintf(stderr, "child: line %d: check failed: %s (errno: %s)\n", __LINE__, #cond,   \
			        strerror(errno));                                                            \
			_exit(1);                                                                            \
		}                                                                                            \
	} while (0)

static char *mountinfo(void)
{
	int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	size_t cap = 1 << 20, len = 0;
	char *s = malloc(cap);
	ssize_t n;
	while ((n = read(fd, s + len, cap - len - 1)) > 0)
		len += (size_t)n;
	s[len] = '\0';
	close(fd);
	return s;
}

static bool no_pivot;

static void container_steps(struct oci_config *c, const char *rootfs, bool userns, void (*check)(void))
{
	_cleanup_error_ struct vsl_error *err = NULL;
	struct rootfs_ctx ctx = {
	    .config = c, .rootfs = rootfs, .rootfd = -EBADF, .new_userns = userns, .no_pivot = no_pivot};
	int step = 0;
	if (rootfs_prepare(&ctx, &err) < 0)
		step = 91;
	else if (rootfs_pivot(&ctx, &err) < 0)
		step = 92;
	else if (rootfs_finalize(&ctx, &err) < 0)
		step = 93;
	if (step) {
		fprintf(stderr, "child: %s\n", vsl_error_message(err));
		_exit(step);
	}
	check();
	rootfs_ctx_clear(&ctx);
	_exit(0);
}

static int wait_exit(pid_t pid)
{
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* Runs prepare/pivot/finalize in a child with its own mount (and IPC)
 * namespace, then `check` inside the new root. Returns the child's exit
 * status; the child's error message is printed. */
static int run_in_container(struct oci_config *c, const char *rootfs, void (*check)(void))
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (unshare(CLONE_NEWNS | CLONE_NEWIPC |
		            (c->namespaces[NS_CGROUP].present ? CLONE_NEWCGROUP : 0)) < 0)
			_exit(90);
		container_steps(c, rootfs, false, check);
	}
	return wait_exit(pid);
}

/* The same in a new user namespace (identity-mapped, so the host's files keep
 * their owners) with its own pid namespace: mknod is refused there, host
 * mounts are locked, sysfs may not be mounted. */
static int run_in_userns_container(struct oci_config *c, const char *rootfs, void (*check)(void))
{
	int to_parent[2], to_child[2];
	assert_int_equal(pipe2(to_parent, O_CLOEXEC), 0);
	assert_int_equal(pipe2(to_child, O_CLOEXEC), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char b = 0;
		if (unshare(CLONE_NEWUSER) < 0 || write(to_parent[1], &b, 1) != 1 ||
		    read(to_child[0], &b, 1) != 1 || b != 1)
			_exit(89);
		if (unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWPID) < 0)
			_exit(90);
		pid_t inner = fork();
		if (inner < 0)
			_exit(90);
		if (inner == 0)
			container_steps(c, rootfs, true, check);
		int status;
		if (waitpid(inner, &status, 0) != inner || !WIFEXITED(status))
			_exit(88);
		_exit(WEXITSTATUS(status));
	}
	char b;
	assert_int_equal(read(to_parent[0], &b, 1), 1);
	const char *files[] = {"setgroups", "uid_map", "gid_map"};
	const char *text[] = {"deny", "0 0 4294967295\n", "0 0 4294967295\n"};
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *path = xasprintf("/proc/%d/%s", (int)pid, files[i]);
		_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, text[i], strlen(text[i])), (ssize_t)strlen(text[i]));
	}
	b = 1;
	assert_int_equal(write(to_child[1], &b, 1), 1);
	close(to_parent[0]);
	close(to_parent[1]);
	close(to_child[0]);
	close(to_child[1]);
	return wait_exit(pid);
}

static bool hybrid_or_v1(void)
{
	struct statfs sfs;
	return statfs("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type != CGROUP2_SUPER_MAGIC;
}

static void check_full_root(void)
{
	struct stat st;
	struct statfs sfs;
	char buf[64];

	/* /proc is a procfs of our own. */
	CHECK(stat("/proc/self", &st) == 0);
	CHECK(statfs("/proc", &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC);

	/* /dev: a tmpfs with the default devices and links. */
	CHECK(statfs("/dev", &sfs) == 0 && sfs.f_type == TMPFS_MAGIC);
	CHECK(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3));
	CHECK((st.st_mode & 0777) == 0666);
	CHECK(stat("/dev/urandom", &st) == 0 && st.st_rdev == makedev(1, 9));
	CHECK(stat("/dev/tty", &st) == 0 && st.st_rdev == makedev(5, 0));
	ssize_t n = readlink("/dev/ptmx", buf, sizeof(buf) - 1);
	CHECK(n == 8 && memcmp(buf, "pts/ptmx", 8) == 0);
	n = readlink("/dev/fd", buf, sizeof(buf) - 1);
	CHECK(n == 13 && memcmp(buf, "/proc/self/fd", 13) == 0);
	CHECK(statfs("/dev/pts", &sfs) == 0 && sfs.f_type == DEVPTS_SUPER_MAGIC);
	CHECK(stat("/dev/fuse", &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(10, 229));
	CHECK((st.st_mode & 07777) == 0600 && st.st_uid == 12 && st.st_gid == 34);
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	CHECK(fd >= 0 && write(fd, "x", 1) == 1);
	close(fd);

	/* The masked file reads empty, the masked directory is an empty read-only tmpfs. */
	fd = open("/etc/secret", O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0 && read(fd, buf, sizeof(buf)) == 0);
	close(fd);
	CHECK(stat("/maskdir/inner", &st) < 0 && errno == ENOENT);
	CHECK(mkdir("/maskdir/new", 0755) < 0 && errno == EROFS);

	/* Read-only paths refuse writes, recursively. */
	CHECK(open("/ro/file", O_WRONLY | O_CLOEXEC) < 0 && errno == EROFS);
	CHECK(open("/proc/sys/kernel/shmmni", O_WRONLY | O_CLOEXEC) < 0 && errno == EROFS);

	/* The sysctl was written before /proc/sys became read-only. */
	fd = open("/proc/sys/kernel/shmmax", O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	CHECK(n > 0);
	buf[n] = '\0';
	CHECK(strcmp(buf, "123456789\n") == 0);
	close(fd);

	/* The read-only bind of a host directory. */
	fd = open("/mnt/data/hello", O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0 && read(fd, buf, sizeof(buf)) == 5);
	close(fd);
	CHECK(open("/mnt/data/hello", O_WRONLY | O_CLOEXEC) < 0 && errno == EROFS);
	/* The file bind, created as an empty file target. */
	fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0 && read(fd, buf, sizeof(buf)) == 5);
	close(fd);

	/* The idmapped bind shows the on-disk root as 1000:2000. */
	CHECK(stat("/mnt/idmapped/hello", &st) == 0 && st.st_uid == 1000 && st.st_gid == 2000);

	/* A tmpfs whose destination went through /mnt/evil -> <host dir>. */
	CHECK(statfs("/mnt/evil/sub", &sfs) == 0 && sfs.f_type == TMPFS_MAGIC);

	/* tmpcopyup carried the image's files into the tmpfs. */
	CHECK(statfs("/copied", &sfs) == 0 && sfs.f_type == TMPFS_MAGIC);
	CHECK(stat("/copied/sub/file", &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 4);
	n = readlink("/copied/link", buf, sizeof(buf) - 1);
	CHECK(n == 8 && memcmp(buf, "sub/file", 8) == 0);

	/* cgroups: v2, or a tmpfs of v1 hierarchies. */
	if (hybrid_or_v1()) {
		CHECK(statfs("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == TMPFS_MAGIC);
		CHECK(stat("/sys/fs/cgroup/memory/memory.limit_in_bytes", &st) == 0);
		CHECK(mkdir("/sys/fs/cgroup/memory/x", 0755) < 0 && errno == EROFS);
		CHECK(mkdir("/sys/fs/cgroup/new", 0755) < 0 && errno == EROFS);
	} else {
		CHECK(stat("/sys/fs/cgroup/cgroup.controllers", &st) == 0);
	}
	CHECK(statfs("/sys", &sfs) == 0 && sfs.f_type == SYSFS_MAGIC);

	/* root.readonly */
	CHECK(open("/newfile", O_WRONLY | O_CREAT | O_CLOEXEC, 0644) < 0 && errno == EROFS);
	/* but the tmpfs mounts stay writable */
	fd = open("/dev/shm/x", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	CHECK(fd >= 0);
	close(fd);
	/* The host is gone. */
	CHECK(getcwd(buf, sizeof(buf)) && strcmp(buf, "/") == 0);
}

static void test_container_root(void **state)
{
	(void)state;
	char root[] = "/tmp/vessel-rootfs-XXXXXX", host[] = "/tmp/vessel-hostsrc-XXXXXX";
	assert_non_null(mkdtemp(root));
	assert_non_null(mkdtemp(host));
	mkdirs(root, "etc");
	mkdirs(root, "ro");
	mkdirs(root, "maskdir");
	mkdirs(root, "mnt");
	mkdirs(root, "copied/sub");
	_cleanup_free_ char *secret = xasprintf("%s/etc/secret", root);
	write_file(secret, "secret");
	_cleanup_free_ char *rofile = xasprintf("%s/ro/file", root);
	write_file(rofile, "ro");
	_cleanup_free_ char *inner = xasprintf("%s/maskdir/inner", root);
	write_file(inner, "x");
	_cleanup_free_ char *cfile = xasprintf("%s/copied/sub/file", root);
	write_file(cfile, "data");
	_cleanup_free_ char *clink = xasprintf("%s/copied/link", root);
	assert_int_equal(symlink("sub/file", clink), 0);
	_cleanup_free_ char *hello = xasprintf("%s/hello", host);
	write_file(hello, "hello");
	/* A destination through a symlink to a host directory that exists. */
	_cleanup_free_ char *evil = xasprintf("%s/mnt/evil", root);
	assert_int_equal(symlink(host, evil), 0);

	char *proc_opts[] = {"nosuid", "noexec", "nodev", NULL};
	char *dev_opts[] = {"nosuid", "strictatime", "mode=755", "size=65536k", NULL};
	char *pts_opts[] = {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", NULL};
	char *shm_opts[] = {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL};
	char *sys_opts[] = {"nosuid", "noexec", "nodev", "ro", NULL};
	char *cg_opts[] = {"nosuid", "noexec", "nodev", "relatime", "ro", NULL};
	char *bind_opts[] = {"rbind", "ro", "rprivate", NULL};
	char *fbind_opts[] = {"bind", NULL};
	char *tmp_opts[] = {"mode=700", NULL};
	char *copy_opts[] = {"tmpcopyup", NULL};
	char *idmap_opts[] = {"bind", "idmap", NULL};
	struct oci_id_map uidmap = {0, 1000, 1}, gidmap = {0, 2000, 1};
	struct oci_mount mounts[] = {
	    {.destination = "/proc", .type = "proc", .source = "proc", .options = proc_opts},
	    {.destination = "/dev", .type = "tmpfs", .source = "tmpfs", .options = dev_opts},
	    {.destination = "/dev/pts", .type = "devpts", .source = "devpts", .options = pts_opts},
	    {.destination = "/dev/shm", .type = "tmpfs", .source = "shm", .options = shm_opts},
	    {.destination = "/dev/mqueue", .type = "mqueue", .source = "mqueue", .options = proc_opts},
	    {.destination = "/sys", .type = "sysfs", .source = "sysfs", .options = sys_opts},
	    {.destination = "/sys/fs/cgroup", .type = "cgroup", .source = "cgroup", .options = cg_opts},
	    {.destination = "/mnt/data", .type = "bind", .source = host, .options = bind_opts},
	    {.destination = "/etc/hostname", .type = "none", .source = hello, .options = fbind_opts},
	    {.destination = "/mnt/evil/sub", .type = "tmpfs", .source = "tmpfs", .options = tmp_opts},
	    {.destination = "/copied", .type = "tmpfs", .source = "tmpfs", .options = copy_opts},
	    {.destination = "/mnt/idmapped",
	     .type = "bind",
	     .source = host,
	     .options = idmap_opts,
	     .uid_mappings = &uidmap,
	     .n_uid_mappings = 1,
	     .gid_mappings = &gidmap,
	     .n_gid_mappings = 1},
	};
	struct oci_device devices[] = {
	    {.path = "/dev/fuse",
	     .type = 'c',
	     .major = 10,
	     .minor = 229,
	     .has_mode = true,
	     .file_mode = 0600,
	     .has_uid = true,
	     .uid = 12,
	     .has_gid = true,
	     .gid = 34},
	};
	char *masked[] = {"/etc/secret", "/maskdir", "/proc/kcore", "/does/not/exist", NULL};
	char *readonly[] = {"/ro", "/proc/sys", "/not/there", NULL};
	struct json_kv sysctl[] = {{"kernel.shmmax", "123456789"}};
	struct oci_config c = {
	    .root_readonly = true,
	    .mounts = mounts,
	    .n_mounts = ARRAY_SIZE(mounts),
	    .devices = devices,
	    .n_devices = ARRAY_SIZE(devices),
	    .masked_paths = masked,
	    .readonly_paths = readonly,
	    .sysctl = sysctl,
	    .n_sysctl = ARRAY_SIZE(sysctl),
	};
	c.namespaces[NS_MOUNT].present = true;
	c.namespaces[NS_IPC].present = true;

	_cleanup_free_ char *before = mountinfo();
	assert_int_equal(run_in_container(&c, root, check_full_root), 0);
	_cleanup_free_ char *after = mountinfo();
	assert_string_equal(before, after);

	/* The tmpfs for /mnt/evil/sub landed inside the root, not in the host dir. */
	struct stat st;
	_cleanup_free_ char *hsub = xasprintf("%s/sub", host);
	assert_int_equal(stat(hsub, &st), -1);
	_cleanup_free_ char *isub = xasprintf("%s%s/sub", root, host);
	assert_int_equal(stat(isub, &st), 0);
	/* The host's file under the bind was not touched. */
	_cleanup_close_ int fd = open(hello, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *s = read_fd(fd);
	assert_string_equal(s, "hello");

	rm_rf(root);
	rm_rf(host);
}

static void check_planted(void)
{
	struct stat st;
	char buf[16];
	CHECK(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3));
	CHECK(lstat("/dev/zero", &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 5));
	CHECK(lstat("/dev/net/tun", &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(10, 200));
	int fd = open("/etc/file", O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0 && read(fd, buf, sizeof(buf)) == 0);
	close(fd);
}

/* No /dev mount: linux.devices are made in the image's /dev, where the image
 * planted symlinks to host files. They are replaced, never followed. */
static void test_planted_dev_symlinks(void **state)
{
	(void)state;
	char root[] = "/tmp/vessel-rootfs-XXXXXX";
	char hostfile[] = "/tmp/vessel-victim-XXXXXX";
	assert_non_null(mkdtemp(root));
	int vfd = mkstemp(hostfile);
	assert_true(vfd >= 0);
	assert_int_equal(write(vfd, "victim", 6), 6);
	close(vfd);
	mkdirs(root, "dev");
	mkdirs(root, "etc");
	_cleanup_free_ char *efile = xasprintf("%s/etc/file", root);
	write_file(efile, "masked");
	_cleanup_free_ char *dnull = xasprintf("%s/dev/null", root);
	assert_int_equal(symlink(hostfile, dnull), 0);
	_cleanup_free_ char *dzero = xasprintf("%s/dev/zero", root);
	_cleanup_free_ char *rel = xasprintf("../../../../../..%s", hostfile);
	assert_int_equal(symlink(rel, dzero), 0);
	/* /dev/net -> /tmp: the directory on the way is followed inside the root only. */
	_cleanup_free_ char *dnet = xasprintf("%s/dev/net", root);
	assert_int_equal(symlink("/tmp", dnet), 0);

	struct oci_device devices[] = {
	    {.path = "/dev/null", .type = 'c', .major = 1, .minor = 3},
	    {.path = "/dev/zero", .type = 'c', .major = 1, .minor = 5},
	    {.path = "/dev/net/tun", .type = 'c', .major = 10, .minor = 200},
	};
	char *masked[] = {"/etc/file", NULL};
	struct oci_config c = {.devices = devices, .n_devices = ARRAY_SIZE(devices), .masked_paths = masked};
	assert_int_equal(run_in_container(&c, root, check_planted), 0);

	struct stat st;
	assert_int_equal(lstat(hostfile, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_size, 6);
	assert_int_equal(stat("/tmp/tun", &st), -1);
	_cleanup_free_ char *tun = xasprintf("%s/tmp/tun", root);
	assert_int_equal(lstat(tun, &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	unlink(hostfile);
	rm_rf(root);
}

static void check_nothing(void)
{
}

/* A /dev/null that is not the null device must not be used for masking
 * (CVE-2025-31133), and a sysctl outside the container's namespaces is refused. */
static void test_fake_dev_null_and_bad_sysctl(void **state)
{
	(void)state;
	char root[] = "/tmp/vessel-rootfs-XXXXXX";
	assert_non_null(mkdtemp(root));
	mkdirs(root, "dev");
	mkdirs(root, "etc");
	_cleanup_free_ char *efile = xasprintf("%s/etc/file", root);
	write_file(efile, "masked");
	/* A /dev bound from the host is used as it is, fake null included (a
	 * /dev of the image's own gets the real devices made over its entries). */
	char fakedev[] = "/tmp/vessel-fakedev-XXXXXX";
	assert_non_null(mkdtemp(fakedev));
	_cleanup_free_ char *dnull = xasprintf("%s/null", fakedev);
	write_file(dnull, "");
	char *bind_opts[] = {"bind", NULL};
	struct oci_mount dev_bind[] = {
	    {.destination = "/dev", .type = "bind", .source = fakedev, .options = bind_opts}};
	char *masked[] = {"/etc/file", NULL};
	struct oci_config c = {.masked_paths = masked, .mounts = dev_bind, .n_mounts = 1};
	int status = run_in_container(&c, root, check_nothing);
	rm_rf(fakedev);
	assert_int_equal(status, 93);

	char *proc_opts[] = {NULL};
	struct oci_mount mounts[] = {
	    {.destination = "/proc", .type = "proc", .source = "proc", .options = proc_opts}};
	struct json_kv bad[] = {{"kernel.panic", "1"}};
	struct oci_config c2 = {.mounts = mounts, .n_mounts = 1, .sysctl = bad, .n_sysctl = 1};
	assert_int_equal(run_in_container(&c2, root, check_nothing), 93);
	struct json_kv dots[] = {{"net/../kernel/panic", "1"}};
	c2.sysctl = dots;
	c2.namespaces[NS_NETWORK].present = true;
	assert_int_equal(run_in_container(&c2, root, check_nothing), 93);

	/* A bind over /proc from a non-procfs source is refused. */
	char *bopts[] = {"rbind", NULL};
	struct oci_mount fake[] = {
	    {.destination = "/proc", .type = "bind", .source = root, .options = bopts}};
	struct oci_config c3 = {.mounts = fake, .n_mounts = 1};
	assert_int_equal(run_in_container(&c3, root, check_nothing), 91);
	rm_rf(root);
}

static void check_userns_root(void)
{
	struct stat st;
	struct statfs sfs;
	char buf[16];
	CHECK(stat("/proc/self", &st) == 0);
	CHECK(statfs("/proc", &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC);
	/* Bound from the host: the real devices, on an empty file of the tmpfs. */
	CHECK(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3));
	CHECK(stat("/dev/zero", &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 5));
	int fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0 && read(fd, buf, 4) == 4 && buf[0] == 0);
	close(fd);
	/* sysfs fell back to a bind of the host's. */
	CHECK(statfs("/sys", &sfs) == 0 && sfs.f_type == SYSFS_MAGIC);
	CHECK(mkdir("/sys/x", 0755) < 0 && errno == EROFS);
	fd = open("/etc/secret", O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0 && read(fd, buf, sizeof(buf)) == 0);
	close(fd);
	CHECK(open("/ro/file", O_WRONLY | O_CLOEXEC) < 0 && errno == EROFS);
	CHECK(open("/mnt/data/hello", O_WRONLY | O_CLOEXEC) < 0 && errno == EROFS);
	CHECK(open("/newfile", O_WRONLY | O_CREAT | O_CLOEXEC, 0644) < 0 && errno == EROFS);
	if (hybrid_or_v1())
		CHECK(stat("/sys/fs/cgroup/memory/memory.limit_in_bytes", &st) == 0);
}

static void test_userns_root(void **state)
{
	(void)state;
	char root[] = "/tmp/vessel-rootfs-XXXXXX", host[] = "/tmp/vessel-hostsrc-XXXXXX";
	assert_non_null(mkdtemp(root));
	assert_non_null(mkdtemp(host));
	mkdirs(root, "etc");
	mkdirs(root, "ro");
	_cleanup_free_ char *secret = xasprintf("%s/etc/secret", root);
	write_file(secret, "secret");
	_cleanup_free_ char *rofile = xasprintf("%s/ro/file", root);
	write_file(rofile, "ro");
	_cleanup_free_ char *hello = xasprintf("%s/hello", host);
	write_file(hello, "hello");

	char *proc_opts[] = {"nosuid", "noexec", "nodev", NULL};
	char *dev_opts[] = {"nosuid", "strictatime", "mode=755", "size=65536k", NULL};
	char *sys_opts[] = {"nosuid", "noexec", "nodev", "ro", NULL};
	/* "dev", "suid" and "atime" would clear locked flags: kept, not failed. */
	char *bind_opts[] = {"rbind", "ro", "dev", "suid", "strictatime", NULL};
	struct oci_mount mounts[] = {
	    {.destination = "/proc", .type = "proc", .source = "proc", .options = proc_opts},
	    {.destination = "/dev", .type = "tmpfs", .source = "tmpfs", .options = dev_opts},
	    {.destination = "/sys", .type = "sysfs", .source = "sysfs", .options = sys_opts},
	    {.destination = "/sys/fs/cgroup", .type = "cgroup", .source = "cgroup", .options = sys_opts},
	    {.destination = "/mnt/data", .type = "bind", .source = host, .options = bind_opts},
	};
	char *masked[] = {"/etc/secret", NULL};
	char *readonly[] = {"/ro", NULL};
	struct oci_config c = {
	    .root_readonly = true,
	    .mounts = mounts,
	    .n_mounts = ARRAY_SIZE(mounts),
	    .masked_paths = masked,
	    .readonly_paths = readonly,
	};
	_cleanup_free_ char *before = mountinfo();
	assert_int_equal(run_in_userns_container(&c, root, check_userns_root), 0);
	_cleanup_free_ char *after = mountinfo();
	assert_string_equal(before, after);
	rm_rf(root);
	rm_rf(host);
}

static void check_small_root(void)
{
	struct stat st;
	char buf[64];
	CHECK(stat("/proc/self", &st) == 0);
	CHECK(stat("/marker", &st) == 0);
	CHECK(getcwd(buf, sizeof(buf)) && strcmp(buf, "/") == 0);
	CHECK(stat("/etc/secret", &st) == 0 && S_ISCHR(st.st_mode));
}

/* runc --no-pivot (MS_MOVE + chroot), and each rootfsPropagation value. */
static void test_no_pivot_and_propagation(void **state)
{
	(void)state;
	char root[] = "/tmp/vessel-rootfs-XXXXXX";
	assert_non_null(mkdtemp(root));
	mkdirs(root, "etc");
	_cleanup_free_ char *marker = xasprintf("%s/marker", root);
	write_file(marker, "");
	_cleanup_free_ char *secret = xasprintf("%s/etc/secret", root);
	write_file(secret, "secret");
	char *proc_opts[] = {NULL};
	struct oci_mount mounts[] = {
	    {.destination = "/proc", .type = "proc", .source = "proc", .options = proc_opts},
	    {.destination = "/dev", .type = "tmpfs", .source = "tmpfs", .options = proc_opts},
	};
	char *masked[] = {"/etc/secret", NULL};
	struct oci_config c = {.mounts = mounts, .n_mounts = ARRAY_SIZE(mounts), .masked_paths = masked};
	_cleanup_free_ char *before = mountinfo();

	no_pivot = true;
	assert_int_equal(run_in_container(&c, root, check_small_root), 0);
	no_pivot = false;

	const char *props[] = {"shared",  "rshared",  "slave",      "rslave",
	                       "private", "rprivate", "unbindable", "runbindable"};
	for (size_t i = 0; i < ARRAY_SIZE(props); i++) {
		c.rootfs_propagation = (char *)props[i];
		if (run_in_container(&c, root, check_small_root) != 0)
			fail_msg("rootfsPropagation %s", props[i]);
	}
	c.rootfs_propagation = "sideways";
	assert_int_equal(run_in_container(&c, root, check_small_root), 91);

	_cleanup_free_ char *after = mountinfo();
	assert_string_equal(before, after);
	rm_rf(root);
}

static void check_cgroupns(void)
{
	struct stat st;
	struct statfs sfs;
	if (hybrid_or_v1()) {
		CHECK(statfs("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == TMPFS_MAGIC);
		CHECK(stat("/sys/fs/cgroup/memory/memory.limit_in_bytes", &st) == 0);
		CHECK(statfs("/sys/fs/cgroup/systemd", &sfs) == 0 && sfs.f_type == CGROUP_SUPER_MAGIC);
		CHECK(mkdir("/sys/fs/cgroup/memory/x", 0755) < 0 && errno == EROFS);
	} else {
		CHECK(stat("/sys/fs/cgroup/cgroup.controllers", &st) == 0);
	}
	/* In its own cgroup namespace the process sits at the root. */
	int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
	char buf[1024];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	CHECK(n > 0);
	buf[n] = '\0';
	CHECK(strstr(buf, ":/\n") != NULL);
	close(fd);
}

/* With a cgroup namespace the hierarchies are mounted anew, not bound. */
static void test_cgroup_namespace(void **state)
{
	(void)state;
	char root[] = "/tmp/vessel-rootfs-XXXXXX";
	assert_non_null(mkdtemp(root));
	char *no_opts[] = {NULL};
	char *cg_opts[] = {"nosuid", "noexec", "nodev", "relatime", "ro", NULL};
	struct oci_mount mounts[] = {
	    {.destination = "/proc", .type = "proc", .source = "proc", .options = no_opts},
	    {.destination = "/sys/fs/cgroup", .type = "cgroup", .source = "cgroup", .options = cg_opts},
	};
	struct oci_config c = {.mounts = mounts, .n_mounts = ARRAY_SIZE(mounts)};
	c.namespaces[NS_CGROUP].present = true;
	assert_int_equal(run_in_container(&c, root, check_cgroupns), 0);
	rm_rf(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_symlinks_stay_inside, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_loop_and_magic_links_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mkdir_p_chain, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mkdir_p_through_escaping_symlink, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mkfile_p, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_parent, setup, teardown),
	    cmocka_unit_test(test_clean_path),
	    cmocka_unit_test(test_mount_opts),
	    cmocka_unit_test(test_container_root),
	    cmocka_unit_test(test_planted_dev_symlinks),
	    cmocka_unit_test(test_fake_dev_null_and_bad_sysctl),
	    cmocka_unit_test(test_userns_root),
	    cmocka_unit_test(test_no_pivot_and_propagation),
	    cmocka_unit_test(test_cgroup_namespace),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
