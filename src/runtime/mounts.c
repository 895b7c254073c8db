#include "runtime/mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/config.h"
#include "runtime/mount-opts.h"
#include "runtime/resolve.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/mountinfo.h"

/* Attributes fsmount() accepts for a fresh mount. */
#define FSMOUNT_ATTRS                                                                                        \
	(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC | MOUNT_ATTR__ATIME |  \
	 MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_NOSYMFOLLOW)

int mounts_attach(int mntfd, int targetfd)
{
	if (move_mount(mntfd, "", targetfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return -errno;
	return 0;
}

int mounts_setattr(int fd, bool recursive, uint64_t set, uint64_t clr, uint64_t propagation)
{
	if (set == 0 && clr == 0 && propagation == 0)
		return 0;
	struct mount_attr attr = {.attr_set = set, .attr_clr = clr, .propagation = propagation};
	if (mount_setattr(fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof(attr)) < 0)
		return -errno;
	return 0;
}

int mounts_bind_fd(int srcfd, int targetfd, bool recursive, uint64_t attr_set)
{
	_cleanup_close_ int tree = open_tree(
	    srcfd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0));
	if (tree < 0)
		return -errno;
	int r = mounts_setattr(tree, recursive, attr_set, 0, 0);
	if (r < 0)
		return r;
	return mounts_attach(tree, targetfd);
}

/* The kernel explains a failed fsconfig in the context's log ("e tmpfs: Bad
 * value for 'size'"); errno alone says only EINVAL. */
static void fs_log(int fsfd, char *buf, size_t size)
{
	buf[0] = '\0';
	ssize_t n = read(fsfd, buf, size - 1);
	if (n <= 0)
		return;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

static int fs_fail(struct vsl_error **err, int fsfd, int errnum, const char *what, const char *type)
{
	char log[256];
	fs_log(fsfd, log, sizeof(log));
	if (log[0] && log[1] == ' ')
		return vsl_error_errno(err, errnum, "%s %s (%s)", what, type, log + 2);
	return vsl_error_errno(err, errnum, "%s %s", what, type);
}

int mounts_new_fs(const char *type, const char *source, const struct mount_opts *o, struct vsl_error **err)
{
	_cleanup_close_ int fsfd = fsopen(type, FSOPEN_CLOEXEC);
	if (fsfd < 0)
		return vsl_error_errno(err, errno, "open filesystem %s", type);
	if (source && fsconfig(fsfd, FSCONFIG_SET_STRING, "source", source, 0) < 0)
		return fs_fail(err, fsfd, errno, "set source of", type);
	for (char **f = o->sb_flags; f && *f; f++)
		if (fsconfig(fsfd, FSCONFIG_SET_FLAG, *f, NULL, 0) < 0)
			return fs_fail(err, fsfd, errno, *f, type);
	for (char **d = o->data; d && *d; d++) {
		_cleanup_free_ char *key = strdup(*d);
		if (key == NULL)
			return vsl_error_errno(err, ENOMEM, "mount %s", type);
		char *eq = strchr(key, '=');
		int r;
		if (eq) {
			*eq = '\0';
			r = fsconfig(fsfd, FSCONFIG_SET_STRING, key, eq + 1, 0);
		} else {
			r = fsconfig(fsfd, FSCONFIG_SET_FLAG, key, NULL, 0);
		}
		if (r < 0)
			return fs_fail(err, fsfd, errno, *d, type);
	}
	if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return fs_fail(err, fsfd, errno, "create", type);

	/* A fresh mount has no children: the recursive attributes are its own. */
	uint64_t attrs = (o->attr_set | o->rec_attr_set) & FSMOUNT_ATTRS;
	int mntfd = fsmount(fsfd, FSMOUNT_CLOEXEC, (unsigned)attrs);
	if (mntfd < 0)
		return fs_fail(err, fsfd, errno, "mount", type);
	return mntfd;
}

/* A user namespace with the mount's uid/gid mappings, for MOUNT_ATTR_IDMAP.
 * A child is cloned straight into a new user namespace, its maps written
 * from here, its ns file opened; then it is let go. */
static int idmap_userns(const struct oci_mount *m, struct vsl_error **err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return vsl_error_errno(err, errno, "pipe");
	pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		return vsl_error_errno(err, e, "clone a user namespace for an idmapped mount");
	}
	if (pid == 0) {
		char c;
		close(p[1]);
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(p[0]);

	int r = 0, fd = -EBADF;
	const struct {
		const char *file;
		const struct oci_id_map *map;
		size_t n;
	} maps[] = {
	    {"uid_map", m->uid_mappings, m->n_uid_mappings},
	    {"gid_map", m->gid_mappings, m->n_gid_mappings},
	};
	for (size_t i = 0; i < ARRAY_SIZE(maps) && r == 0; i++) {
		char path[64], buf[4096];
		size_t len = 0;
		for (size_t j = 0; j < maps[i].n && len < sizeof(buf); j++)
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%u %u %u\n",
			                        maps[i].map[j].container_id, maps[i].map[j].host_id,
			                        maps[i].map[j].size);
		if (len >= sizeof(buf)) {
			r = vsl_error_errno(err, E2BIG, "%s of an idmapped mount", maps[i].file);
			break;
		}
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, maps[i].file);
		_cleanup_close_ int mfd = open(path, O_WRONLY | O_CLOEXEC);
		if (mfd < 0 || write(mfd, buf, len) != (ssize_t)len)
			r = vsl_error_errno(err, errno, "write %s", path);
	}
	if (r == 0) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			r = vsl_error_errno(err, errno, "open %s", path);
	}
	close(p[1]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return r < 0 ? r : fd;
}

/* In a new user namespace the flags of mounts copied from the host are
 * locked: clearing one (or changing the access-time mode) is EPERM. Like runc,
 * keep what the source has rather than fail. */
static void keep_locked(int fd, uint64_t *set, uint64_t *clr)
{
	struct statvfs sv;
	if (fstatvfs(fd, &sv) < 0)
		return;
	static const struct {
		unsigned long st;
		uint64_t attr;
	} locked[] = {
	    {ST_RDONLY, MOUNT_ATTR_RDONLY},
	    {ST_NOSUID, MOUNT_ATTR_NOSUID},
	    {ST_NODEV, MOUNT_ATTR_NODEV},
	    {ST_NOEXEC, MOUNT_ATTR_NOEXEC},
	};
	for (size_t i = 0; i < ARRAY_SIZE(locked); i++)
		if (sv.f_flag & locked[i].st)
			*clr &= ~locked[i].attr;
	if (*clr & MOUNT_ATTR__ATIME) {
		*clr &= ~(uint64_t)MOUNT_ATTR__ATIME;
		*set &= ~(uint64_t)MOUNT_ATTR__ATIME;
	}
	if ((sv.f_flag & ST_NODIRATIME) && (*clr & MOUNT_ATTR_NODIRATIME))
		*clr &= ~(uint64_t)MOUNT_ATTR_NODIRATIME;
}

/* Copies the tree under directory fd `src` into directory fd `dst`
 * (tmpcopyup). Nothing is followed: entries are opened with O_NOFOLLOW
 * relative to their parent, symlinks are copied as symlinks. */
static int copy_tree(int src, int dst, int depth)
{
	if (depth > 64)
		return -ELOOP;
	int dfd = openat(src, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	_cleanup_closedir_ DIR *d = fdopendir(dfd);
	if (d == NULL) {
		close(dfd);
		return -errno;
	}
	struct dirent *de;
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		struct stat st;
		if (fstatat(src, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
		int r = 0;
		if (S_ISDIR(st.st_mode)) {
			if (mkdirat(dst, de->d_name, st.st_mode & 07777) < 0)
				return -errno;
			_cleanup_close_ int s =
			    openat(src, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			_cleanup_close_ int t =
			    openat(dst, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (s < 0 || t < 0)
				return -errno;
			r = copy_tree(s, t, depth + 1);
		} else if (S_ISREG(st.st_mode)) {
			_cleanup_close_ int s = openat(src, de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			_cleanup_close_ int t =
			    openat(dst, de->d_name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			           st.st_mode & 07777);
			if (s < 0 || t < 0)
				return -errno;
			for (;;) {
				ssize_t n = copy_file_range(s, NULL, t, NULL, 1 << 20, 0);
				if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL))
					n = sendfile(t, s, NULL, 1 << 20);
				if (n < 0)
					return -errno;
				if (n == 0)
					break;
			}
		} else if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t n = readlinkat(src, de->d_name, target, sizeof(target) - 1);
			if (n < 0)
				return -errno;
			target[n] = '\0';
			if (symlinkat(target, dst, de->d_name) < 0)
				return -errno;
		} else {
			if (mknodat(dst, de->d_name, st.st_mode, st.st_rdev) < 0)
				return -errno;
		}
		if (r < 0)
			return r;
		if (fchownat(dst, de->d_name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 &&
		    errno != EPERM && errno != EINVAL)
			return -errno;
		if (!S_ISLNK(st.st_mode) && fchmodat(dst, de->d_name, st.st_mode & 07777, 0) < 0)
			return -errno;
	}
	return -errno;
}

static void error_drop(struct vsl_error **err)
{
	if (err)
		vsl_error_freep(err);
}

/* Mounts over /proc entries can hide what masked paths hide, or fake procfs
 * files the runtime writes to (CVE-2019-16884): as runc, allow only procfs at
 * /proc and the few files lxcfs-style tools overlay. */
static int check_proc_dest(const char *dest, bool is_proc, int srcfd)
{
	static const char *const allowed[] = {
	    "/proc/cpuinfo", "/proc/diskstats",
	    "/proc/meminfo", "/proc/stat",
	    "/proc/swaps",   "/proc/uptime",
	    "/proc/loadavg", "/proc/slabinfo",
	    "/proc/net/dev", "/proc/sys/kernel/ns_last_pid",
	};
	if (strcmp(dest, "/proc") == 0)
		return is_proc || (srcfd >= 0 && resolve_fd_is_procfs(srcfd)) ? 0 : -EPERM;
	if (strncmp(dest, "/proc/", 6) != 0)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(allowed); i++)
		if (strcmp(dest, allowed[i]) == 0)
			return 0;
	return -EPERM;
}

static int apply_propagation(int mntfd, const struct mount_opts *o)
{
	if (o->propagation == 0)
		return 0;
	return mounts_setattr(mntfd, o->propagation_rec, 0, 0, o->propagation);
}

static int mount_bind(int rootfd, const struct oci_mount *m, const char *dest, const struct mount_opts *o,
                      bool new_userns, struct vsl_error **err)
{
	if (m->source == NULL)
		return vsl_error_errno(err, EINVAL, "bind mount on '%s' has no source", dest);
	bool rec = o->rbind;
	/* The source is a host path (relative: to the bundle, our cwd). */
	_cleanup_close_ int tree =
	    open_tree(AT_FDCWD, m->source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (rec ? AT_RECURSIVE : 0));
	if (tree < 0)
		return vsl_error_errno(err, errno, "bind mount '%s' on '%s'", m->source, dest);
	struct stat st;
	if (fstat(tree, &st) < 0)
		return vsl_error_errno(err, errno, "stat '%s'", m->source);
	if (check_proc_dest(dest, false, tree) < 0)
		return vsl_error_errno(err, EPERM, "bind mount '%s' on '%s': not allowed inside /proc",
		                       m->source, dest);

	uint64_t set = o->attr_set, clr = o->attr_clr;
	uint64_t rset = o->rec_attr_set, rclr = o->rec_attr_clr;
	if (new_userns) {
		keep_locked(tree, &set, &clr);
		keep_locked(tree, &rset, &rclr);
	}
	if (o->idmap || o->ridmap || m->n_uid_mappings || m->n_gid_mappings) {
		_cleanup_close_ int userns = idmap_userns(m, err);
		if (userns < 0)
			return vsl_error_prefix(err, "mount '%s' on '%s'", m->source, dest);
		struct mount_attr a = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns};
		if (mount_setattr(tree, "",
		                  AT_EMPTY_PATH | (o->ridmap || (rec && !o->idmap) ? AT_RECURSIVE : 0), &a,
		                  sizeof(a)) < 0)
			return vsl_error_errno(err, errno, "idmap mount '%s' on '%s'", m->source, dest);
	}
	int r = mounts_setattr(tree, false, set, clr, 0);
	if (r == 0)
		r = mounts_setattr(tree, true, rset, rclr, 0);
	if (r < 0)
		return vsl_error_errno(err, -r, "set options of bind mount '%s' on '%s'", m->source, dest);

	_cleanup_close_ int target = S_ISDIR(st.st_mode) ? resolve_mkdir_p(rootfd, dest, 0755, err)
	                                                 : resolve_mkfile_p(rootfd, dest, 0644, err);
	if (target < 0)
		return vsl_error_prefix(err, "mount '%s' on '%s'", m->source, dest);
	r = mounts_attach(tree, target);
	if (r == 0)
		r = apply_propagation(tree, o);
	if (r < 0)
		return vsl_error_errno(err, -r, "mount '%s' on '%s'", m->source, dest);
	return 0;
}

/* A mount of type `type` at `dest` from a fresh filesystem. */
static int mount_fs(int rootfd, const struct oci_mount *m, const char *type, const char *dest,
                    const struct mount_opts *o, bool new_userns, struct vsl_error **err)
{
	if (check_proc_dest(dest, strcmp(type, "proc") == 0, -EBADF) < 0)
		return vsl_error_errno(err, EPERM, "mount '%s' on '%s': not allowed inside /proc", type,
		                       dest);
	_cleanup_close_ int target = resolve_mkdir_p(rootfd, dest, 0755, err);
	if (target < 0)
		return vsl_error_prefix(err, "mount '%s' on '%s'", type, dest);

	_cleanup_close_ int mnt = mounts_new_fs(type, m->source, o, err);
	if (mnt == -EPERM && strcmp(type, "sysfs") == 0 && new_userns) {
		/* Without its own network namespace a user namespace may not
		 * mount sysfs: bind the host's, read-only, as runc does. */
		error_drop(err);
		mnt = open_tree(AT_FDCWD, "/sys", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
		if (mnt < 0)
			return vsl_error_errno(err, errno, "mount 'sysfs' on '%s': bind /sys", dest);
		uint64_t set = o->attr_set | MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
		               MOUNT_ATTR_NOEXEC,
		         clr = 0;
		keep_locked(mnt, &set, &clr);
		int r = mounts_setattr(mnt, true, set, 0, 0);
		if (r < 0)
			return vsl_error_errno(err, -r, "mount 'sysfs' on '%s'", dest);
	}
	if (mnt < 0)
		return vsl_error_prefix(err, "mount '%s' on '%s'", type, dest);

	if (o->tmpcopyup) {
		int r = copy_tree(target, mnt, 0);
		if (r < 0)
			return vsl_error_errno(err, -r, "copy up '%s' into tmpfs", dest);
	}
	int r = mounts_attach(mnt, target);
	if (r == 0)
		r = apply_propagation(mnt, o);
	if (r < 0)
		return vsl_error_errno(err, -r, "mount '%s' on '%s'", type, dest);
	return 0;
}

/* "remount" on a non-bind entry: change the options of what is mounted at
 * dest already. */
static int mount_remount(int rootfd, const char *dest, const struct mount_opts *o, bool new_userns,
                         struct vsl_error **err)
{
	_cleanup_close_ int fd = resolve_open(rootfd, dest, O_PATH, 0, err);
	if (fd < 0)
		return vsl_error_prefix(err, "remount '%s'", dest);
	uint64_t set = o->attr_set, clr = o->attr_clr, rset = o->rec_attr_set, rclr = o->rec_attr_clr;
	if (new_userns) {
		keep_locked(fd, &set, &clr);
		keep_locked(fd, &rset, &rclr);
	}
	int r = mounts_setattr(fd, false, set, clr, 0);
	if (r == 0)
		r = mounts_setattr(fd, true, rset, rclr, 0);
	if (r == 0)
		r = apply_propagation(fd, o);
	if (r < 0)
		return vsl_error_errno(err, -r, "remount '%s'", dest);
	return 0;
}

/* One v1 hierarchy (or the hybrid unified one) of this process. */
struct cg_hier {
	char *name;   /* directory under the cgroup tmpfs: "cpu,cpuacct", "systemd", "unified" */
	char *source; /* host path of our cgroup in it (NULL when `fresh`) */
	char *ctrls;  /* as in /proc/self/cgroup: "cpu,cpuacct", "name=systemd"; "" for unified */
	char **controllers;
};

static void cg_hier_free(struct cg_hier *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(h[i].name);
		free(h[i].source);
		free(h[i].ctrls);
		strv_free(h[i].controllers);
	}
	free(h);
}

static bool opt_in_list(const char *list, const char *opt)
{
	size_t n = strlen(opt);
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ",");
		if (len == n && strncmp(p, opt, n) == 0)
			return true;
		p += len;
		if (*p == ',')
			p++;
	}
	return false;
}

/* Pairs /proc/self/cgroup with /proc/self/mountinfo: for each v1 hierarchy
 * the host mount serving it and our cgroup's path inside it. `fresh`: only
 * the names and controllers are wanted (in a cgroup namespace the paths are
 * relative to its root and the hierarchies are mounted anew). */
static int cg_hierarchies(bool fresh, struct cg_hier **ret, size_t *ret_n, struct vsl_error **err)
{
	_cleanup_fclose_ FILE *cg = fopen("/proc/self/cgroup", "re");
	if (cg == NULL)
		return vsl_error_errno(err, errno, "open /proc/self/cgroup");
	/* Read once for every hierarchy (a dozen on a v1 host), one string a line. */
	const char *lines;
	if (mountinfo_cgroup_lines(&lines, err) < 0)
		return -1;
	_cleanup_free_ char *mi = strdup(lines);
	if (mi == NULL)
		return vsl_error_errno(err, ENOMEM, "read /proc/self/mountinfo");
	size_t mi_len = strlen(mi);
	for (size_t i = 0; i < mi_len; i++)
		if (mi[i] == '\n')
			mi[i] = '\0';
	struct cg_hier *h = NULL;
	size_t n = 0;
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, cg) > 0) {
		line[strcspn(line, "\n")] = '\0';
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (c2 == NULL)
			continue;
		*c1 = *c2 = '\0';
		const char *ctrls = c1 + 1, *path = c2 + 1;
		bool unified = strcmp(line, "0") == 0;

		for (const char *ml = mi; ml < mi + mi_len; ml += strlen(ml) + 1) {
			/* id parent dev root mountpoint opts [optional...] - fstype source superopts */
			char root[PATH_MAX], mp[PATH_MAX], fstype[64], super[1024];
			const char *dash = strstr(ml, " - ");
			if (dash == NULL || strncmp(dash + 3, "cgroup", 6) != 0 ||
			    sscanf(ml, "%*d %*d %*s %4095s %4095s", root, mp) != 2 ||
			    sscanf(dash + 3, "%63s %*s %1023s", fstype, super) != 2)
				continue;
			bool match;
			if (unified) {
				match = strcmp(fstype, "cgroup2") == 0;
			} else {
				match = strcmp(fstype, "cgroup") == 0;
				_cleanup_free_ char *list = strdup(ctrls);
				for (char *s = list, *tok; match && s && (tok = strsep(&s, ","));)
					if (*tok && !opt_in_list(super, tok))
						match = false;
			}
			if (!match)
				continue;
			/* Our path relative to the mount's root. */
			size_t rl = strcmp(root, "/") == 0 ? 0 : strlen(root);
			if (!fresh && rl && (strncmp(path, root, rl) != 0 || (path[rl] && path[rl] != '/')))
				continue;
			struct cg_hier *nh = realloc(h, (n + 1) * sizeof(*h));
			if (nh == NULL)
				break;
			h = nh;
			const char *base = strrchr(mp, '/');
			h[n] = (struct cg_hier){0};
			if (!fresh && asprintf(&h[n].source, "%s%s", mp, path + rl) < 0)
				h[n].source = NULL;
			h[n].name = strdup(base ? base + 1 : mp);
			h[n].ctrls = strdup(unified ? "" : ctrls);
			n++;
			if (!unified && strchr(ctrls, ',')) {
				/* Co-mounted controllers get symlinks: cpu -> cpu,cpuacct. */
				_cleanup_free_ char *list = strdup(ctrls);
				size_t k = 0;
				h[n - 1].controllers = calloc(strlen(ctrls) + 1, sizeof(char *));
				for (char *s = list, *tok;
				     h[n - 1].controllers && s && (tok = strsep(&s, ","));)
					if (*tok && strncmp(tok, "name=", 5) != 0 &&
					    strcmp(tok, h[n - 1].name) != 0)
						h[n - 1].controllers[k++] = strdup(tok);
			}
			break;
		}
	}
	*ret = h;
	*ret_n = n;
	return 0;
}

/* One hierarchy under the cgroup tmpfs `tmp`: a fresh mount in a cgroup
 * namespace (which shows the namespace's root), else a bind of our cgroup. */
static int mount_cgroup_v1_hier(int tmp, const struct cg_hier *h, const char *dest, uint64_t attrs,
                                bool fresh, bool new_userns, struct vsl_error **err)
{
	if (h->name == NULL || h->ctrls == NULL || (!fresh && h->source == NULL))
		return vsl_error_errno(err, ENOMEM, "mount 'cgroup' on '%s'", dest);
	if (mkdirat(tmp, h->name, 0755) < 0 && errno != EEXIST)
		return vsl_error_errno(err, errno, "mount 'cgroup' on '%s': mkdir %s", dest, h->name);
	_cleanup_close_ int sub = openat(tmp, h->name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sub < 0)
		return vsl_error_errno(err, errno, "mount 'cgroup' on '%s': open %s", dest, h->name);

	_cleanup_close_ int mnt = -EBADF;
	if (fresh) {
		struct mount_opts fo = {.attr_set = attrs};
		_cleanup_strv_ char **flags = NULL;
		bool unified = h->ctrls[0] == '\0';
		if (!unified) {
			/* "cpu,cpuacct" -> cpu, cpuacct; "name=systemd" -> none, name=systemd. */
			size_t k = 0;
			flags = calloc(strlen(h->ctrls) + 3, sizeof(char *));
			_cleanup_free_ char *list = strdup(h->ctrls);
			if (flags == NULL || list == NULL)
				return vsl_error_errno(err, ENOMEM, "mount 'cgroup' on '%s'", dest);
			for (char *s = list, *tok; s && (tok = strsep(&s, ","));) {
				if (*tok == '\0')
					continue;
				if (strncmp(tok, "name=", 5) == 0)
					flags[k++] = strdup("none");
				flags[k++] = strdup(tok);
			}
			fo.data = flags;
		}
		mnt = mounts_new_fs(unified ? "cgroup2" : "cgroup", "cgroup", &fo, err);
		if (mnt < 0)
			return vsl_error_prefix(err, "mount 'cgroup' on '%s/%s'", dest, h->name);
	} else {
		mnt = open_tree(AT_FDCWD, h->source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
		if (mnt < 0)
			return vsl_error_errno(err, errno, "mount 'cgroup' on '%s': bind '%s'", dest,
			                       h->source);
		uint64_t set = attrs, clr = 0;
		if (new_userns)
			keep_locked(mnt, &set, &clr);
		int r = mounts_setattr(mnt, false, set, 0, 0);
		if (r < 0)
			return vsl_error_errno(err, -r, "mount 'cgroup' on '%s': bind '%s'", dest, h->source);
	}
	int r = mounts_attach(mnt, sub);
	if (r < 0)
		return vsl_error_errno(err, -r, "mount 'cgroup' on '%s/%s'", dest, h->name);
	/* Co-mounted controllers get symlinks: cpu -> cpu,cpuacct. */
	for (char **c = h->controllers; c && *c; c++)
		if (symlinkat(h->name, tmp, *c) < 0 && errno != EEXIST)
			return vsl_error_errno(err, errno, "mount 'cgroup' on '%s': symlink %s", dest, *c);
	return 0;
}

/* "cgroup" on a v2 host is cgroup2; on a v1 or hybrid host it is a tmpfs
 * holding a bind of this process's cgroup in each hierarchy, as runc and
 * docker show it. */
static int mount_cgroup(int rootfd, const struct oci_mount *m, const char *dest, const struct mount_opts *o,
                        bool cgroupns, bool new_userns, struct vsl_error **err)
{
	struct statfs sfs;
	if (statfs("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC) {
		int r = mount_fs(rootfd, m, "cgroup2", dest, o, new_userns, err);
		if (r == -EPERM || r == -EBUSY) {
			/* No cgroup namespace of our own: bind our cgroup instead. */
			struct cg_hier *h = NULL;
			size_t n = 0;
			error_drop(err);
			if (cg_hierarchies(false, &h, &n, err) < 0)
				return -1;
			struct oci_mount b = {.destination = m->destination,
			                      .source = n ? h[0].source : NULL};
			struct mount_opts bo = *o;
			bo.rbind = true;
			r = mount_bind(rootfd, &b, dest, &bo, new_userns, err);
			cg_hier_free(h, n);
		}
		return r;
	}

	struct mount_opts tmo = {0};
	char *data[] = {"mode=755", NULL};
	tmo.data = data;
	tmo.attr_set =
	    (o->attr_set | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC) & ~MOUNT_ATTR_RDONLY;
	_cleanup_close_ int target = resolve_mkdir_p(rootfd, dest, 0755, err);
	if (target < 0)
		return vsl_error_prefix(err, "mount 'cgroup' on '%s'", dest);
	_cleanup_close_ int tmp = mounts_new_fs("tmpfs", "cgroup", &tmo, err);
	if (tmp < 0)
		return vsl_error_prefix(err, "mount 'cgroup' on '%s'", dest);
	int r = mounts_attach(tmp, target);
	if (r < 0)
		return vsl_error_errno(err, -r, "mount 'cgroup' on '%s'", dest);

	struct cg_hier *h = NULL;
	size_t n = 0;
	if (cg_hierarchies(cgroupns, &h, &n, err) < 0)
		return vsl_error_prefix(err, "mount 'cgroup' on '%s'", dest);
	uint64_t battrs = o->attr_set | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
	for (size_t i = 0; i < n && r == 0; i++)
		r = mount_cgroup_v1_hier(tmp, &h[i], dest, battrs, cgroupns, new_userns, err);
	cg_hier_free(h, n);
	if (r < 0)
		return r;
	if (o->attr_set & MOUNT_ATTR_RDONLY) {
		r = mounts_setattr(tmp, false, MOUNT_ATTR_RDONLY, 0, 0);
		if (r < 0)
			return vsl_error_errno(err, -r, "mount 'cgroup' on '%s': make read-only", dest);
	}
	r = apply_propagation(tmp, o);
	if (r < 0)
		return vsl_error_errno(err, -r, "mount 'cgroup' on '%s'", dest);
	return 0;
}

int mounts_apply(int rootfd, const struct oci_config *c, const struct oci_mount *m, bool new_userns,
                 struct vsl_error **err)
{
	if (m->destination == NULL || m->destination[0] != '/')
		return vsl_error_errno(err, EINVAL, "mount destination '%s' is not absolute",
		                       m->destination ? m->destination : "");
	_cleanup_free_ char *dest = resolve_clean_path(m->destination);
	if (dest == NULL)
		return vsl_error_errno(err, ENOMEM, "mount on '%s'", m->destination);
	struct mount_opts o;
	if (mount_opts_parse(m->options, &o, err) < 0)
		return vsl_error_prefix(err, "mount on '%s'", dest);

	const char *type = m->type ? m->type : "none";
	int r;
	if (o.bind || o.rbind || strcmp(type, "bind") == 0)
		r = mount_bind(rootfd, m, dest, &o, new_userns, err);
	else if (o.remount)
		r = mount_remount(rootfd, dest, &o, new_userns, err);
	else if (strcmp(type, "cgroup") == 0)
		r = mount_cgroup(rootfd, m, dest, &o, c->namespaces[NS_CGROUP].present, new_userns, err);
	else
		r = mount_fs(rootfd, m, type, dest, &o, new_userns, err);
	mount_opts_clear(&o);
	return r;
}
