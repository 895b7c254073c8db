/* Control groups: layout detection, path resolution, the public calls, and the
 * file helpers the v1/v2 backends share. */
#include "runtime/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runtime/cgroup-internal.h"
#include "runtime/config.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/mountinfo.h"

void (*cgroup_write_observer)(const char *dir, const char *file, const char *value);

static const char *const ctrl_names[CG_CTRL_COUNT] = {
    [CG_CPU] = "cpu",         [CG_CPUACCT] = "cpuacct",   [CG_CPUSET] = "cpuset",
    [CG_MEMORY] = "memory",   [CG_DEVICES] = "devices",   [CG_FREEZER] = "freezer",
    [CG_BLKIO] = "blkio",     [CG_PIDS] = "pids",         [CG_HUGETLB] = "hugetlb",
    [CG_NET_CLS] = "net_cls", [CG_NET_PRIO] = "net_prio", [CG_PERF_EVENT] = "perf_event",
    [CG_RDMA] = "rdma",       [CG_MISC] = "misc",         [CG_SYSTEMD] = "name=systemd",
};

const char *cg_ctrl_name(enum cg_ctrl c)
{
	return c < CG_CTRL_COUNT ? ctrl_names[c] : "?";
}

const char *cg_ctrl_v2_name(enum cg_ctrl c)
{
	return c == CG_BLKIO ? "io" : cg_ctrl_name(c);
}

int cg_missing_controller(struct vsl_error **err, enum cg_ctrl c, const char *what)
{
	return vsl_error_set(err, "%s requested but the '%s' cgroup controller is not available on this host",
	                     what, cg_ctrl_name(c));
}

/* ---- file helpers ---- */

int cg_write(int dirfd, const char *dir, const char *file, const char *value, struct vsl_error **err)
{
	if (cgroup_write_observer)
		cgroup_write_observer(dir, file, value);

	_cleanup_close_ int fd = openat(dirfd, file, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return vsl_error_errno(err, errno, "write '%s' to '%s/%s'", value, dir, file);
	/* One write(2): the kernel parses each write as a whole value. */
	size_t len = strlen(value);
	ssize_t n = write(fd, value, len);
	if (n < 0)
		return vsl_error_errno(err, errno, "write '%s' to '%s/%s'", value, dir, file);
	if ((size_t)n != len)
		return vsl_error_errno(err, EIO, "write '%s' to '%s/%s': short write", value, dir, file);
	return 0;
}

int cg_writef(int dirfd, const char *dir, const char *file, struct vsl_error **err, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return vsl_error_set(err, "value for '%s/%s' is too long", dir, file);
	return cg_write(dirfd, dir, file, buf, err);
}

int cg_read(int dirfd, const char *dir, const char *file, bool quiet_enoent, char **ret,
            struct vsl_error **err)
{
	_cleanup_free_ char *joined = NULL;
	const char *name = file;
	if (dirfd == AT_FDCWD) {
		/* no fd yet: the name is relative to `dir` */
		if (asprintf(&joined, "%s/%s", dir, file) < 0)
			return vsl_error_errno(err, ENOMEM, "read '%s/%s'", dir, file);
		name = joined;
	}
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (quiet_enoent && errno == ENOENT)
			return -ENOENT;
		return vsl_error_errno(err, errno, "read '%s/%s'", dir, file);
	}
	size_t cap = 4096, len = 0;
	_cleanup_free_ char *buf = malloc(cap);
	if (buf == NULL)
		return vsl_error_errno(err, ENOMEM, "read '%s/%s'", dir, file);
	for (;;) {
		if (cap - len < 2) {
			char *nb = realloc(buf, cap * 2);
			if (nb == NULL)
				return vsl_error_errno(err, ENOMEM, "read '%s/%s'", dir, file);
			buf = nb;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return vsl_error_errno(err, errno, "read '%s/%s'", dir, file);
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*ret = TAKE_PTR(buf);
	return 0;
}

static int parse_u64(const char *s, uint64_t *ret)
{
	while (*s == ' ' || *s == '\t')
		s++;
	if (strncmp(s, "max", 3) == 0) {
		*ret = UINT64_MAX;
		return 0;
	}
	char *end = NULL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || end == s)
		return -EINVAL;
	*ret = v;
	return 0;
}

int cg_read_u64(int dirfd, const char *file, uint64_t *ret)
{
	_cleanup_free_ char *s = NULL;
	int r = cg_read(dirfd, "", file, true, &s, NULL);
	if (r < 0)
		return r;
	return parse_u64(s, ret);
}

int cg_read_keyed(int dirfd, const char *file, const char *key, uint64_t *ret)
{
	_cleanup_free_ char *s = NULL;
	int r = cg_read(dirfd, "", file, true, &s, NULL);
	if (r < 0)
		return r;
	size_t klen = strlen(key);
	for (char *line = s; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ' ')
			return parse_u64(line + klen + 1, ret);
	}
	return -ENOENT;
}

uint64_t cg_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

bool cg_poll_sleep(uint64_t deadline_ns, unsigned *step)
{
	uint64_t now = cg_now_ns();
	if (now >= deadline_ns)
		return false;
	/* 10us, 20us, ... capped at 10ms: a freeze usually settles at once. */
	uint64_t ns = 10000ull << (*step < 10 ? *step : 10);
	if (ns > 10000000ull)
		ns = 10000000ull;
	if (ns > deadline_ns - now)
		ns = deadline_ns - now;
	(*step)++;
	struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000ull), .tv_nsec = (long)(ns % 1000000000ull)};
	nanosleep(&ts, NULL);
	return true;
}

int cg_open_dir(struct cg_hier *h, struct vsl_error **err)
{
	if (h->fd >= 0)
		return h->fd;
	int fd = open(h->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return vsl_error_errno(err, errno, "open cgroup '%s'", h->dir);
	h->fd = fd;
	return fd;
}

int cg_mkdir_path(struct cgroup *cg, struct cg_hier *h, cg_level_fn level, void *userdata,
                  struct vsl_error **err)
{
	if (level == NULL) {
		/* Hot path: the parents usually exist (/vessel), so one mkdir and one
		 * open instead of a walk down every level. */
		bool made = mkdir(h->dir, 0755) == 0;
		if (made || errno == EEXIST) {
			int leaf = open(h->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (leaf < 0)
				return vsl_error_errno(err, errno, "open cgroup '%s'", h->dir);
			closep(&h->fd);
			h->fd = leaf;
			h->created = made;
			return 0;
		}
		if (errno != ENOENT)
			return vsl_error_errno(err, errno, "create cgroup '%s'", h->dir);
	}

	_cleanup_close_ int fd = open(h->mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return vsl_error_errno(err, errno, "open cgroup mount '%s'", h->mnt);

	size_t mlen = strlen(h->mnt);
	_cleanup_free_ char *dir = strdup(h->dir); /* cut at each level for messages */
	if (dir == NULL)
		return vsl_error_errno(err, ENOMEM, "create cgroup '%s'", h->dir);

	bool created = false;
	const char *p = cg->path;
	while (*p) {
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		size_t clen = strcspn(p, "/");
		char comp[256];
		if (clen >= sizeof(comp))
			return vsl_error_errno(err, ENAMETOOLONG, "create cgroup '%s'", h->dir);
		memcpy(comp, p, clen);
		comp[clen] = '\0';
		p += clen;

		/* parent's name: dir cut at mlen + (offset of this component - 1) */
		size_t parent_len = mlen + (size_t)(p - cg->path) - clen - 1;
		size_t child_len = mlen + (size_t)(p - cg->path);
		char saved = dir[child_len];
		dir[child_len] = '\0';

		created = mkdirat(fd, comp, 0755) == 0;
		if (!created && errno != EEXIST)
			return vsl_error_errno(err, errno, "create cgroup '%s'", dir);
		_cleanup_close_ int child = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (child < 0)
			return vsl_error_errno(err, errno, "open cgroup '%s'", dir);
		if (level) {
			char psaved = dir[parent_len];
			dir[parent_len] = '\0';
			_cleanup_free_ char *parent = strdup(dir);
			dir[parent_len] = psaved;
			if (parent == NULL)
				return vsl_error_errno(err, ENOMEM, "create cgroup '%s'", h->dir);
			int r = level(cg, fd, parent, child, dir, userdata, err);
			if (r < 0)
				return r;
		}
		dir[child_len] = saved;
		closep(&fd);
		fd = TAKE_FD(child);
	}
	closep(&h->fd);
	h->fd = TAKE_FD(fd);
	h->created = created;
	return 0;
}

static int remove_tree(const char *dir, uint64_t deadline, struct vsl_error **err)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		return vsl_error_errno(err, errno, "remove cgroup '%s'", dir);
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		_cleanup_free_ char *child = NULL;
		if (asprintf(&child, "%s/%s", dir, de->d_name) < 0)
			return vsl_error_errno(err, ENOMEM, "remove cgroup '%s'", dir);
		int r = remove_tree(child, deadline, err);
		if (r < 0)
			return r;
	}
	unsigned step = 0;
	for (;;) {
		if (rmdir(dir) == 0 || errno == ENOENT)
			return 0;
		/* EBUSY: the last processes are still exiting; give them a moment. */
		if (errno != EBUSY || !cg_poll_sleep(deadline, &step))
			return vsl_error_errno(err, errno, "remove cgroup '%s'", dir);
	}
}

int cg_remove_dir(struct cg_hier *h, struct vsl_error **err)
{
	closep(&h->fd);
	h->fd = -EBADF;
	return remove_tree(h->dir, cg_now_ns() + 2000000000ull, err);
}

int cg_collect_pids(const char *dir, pid_t **pids, size_t *n, struct vsl_error **err)
{
	_cleanup_free_ char *procs = NULL;
	int r = cg_read(AT_FDCWD, dir, "cgroup.procs", false, &procs, NULL);
	if (r < 0) {
		_cleanup_free_ char *path = NULL;
		if (asprintf(&path, "%s/cgroup.procs", dir) < 0)
			path = NULL;
		return vsl_error_errno(err, -r, "read '%s'", path ? path : dir);
	}
	for (char *s = procs; *s;) {
		char *end;
		long v = strtol(s, &end, 10);
		if (end == s)
			break;
		pid_t *np = realloc(*pids, (*n + 1) * sizeof(pid_t));
		if (np == NULL)
			return vsl_error_errno(err, ENOMEM, "list processes of '%s'", dir);
		*pids = np;
		(*pids)[(*n)++] = (pid_t)v;
		s = end;
		while (*s == '\n')
			s++;
	}

	_cleanup_closedir_ DIR *d = opendir(dir);
	if (d == NULL)
		return vsl_error_errno(err, errno, "list processes of '%s'", dir);
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		_cleanup_free_ char *child = NULL;
		if (asprintf(&child, "%s/%s", dir, de->d_name) < 0)
			return vsl_error_errno(err, ENOMEM, "list processes of '%s'", dir);
		r = cg_collect_pids(child, pids, n, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* We cannot stop new forks here (no freezer on this path), so the caller freezes first
 * where it can; signalling twice is harmless. */
int cg_signal_pids(const char *dir, int sig, struct vsl_error **err)
{
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	int r = cg_collect_pids(dir, &pids, &n, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (kill(pids[i], sig) < 0 && errno != ESRCH)
			return vsl_error_errno(err, errno, "send signal %d to %d", sig, (int)pids[i]);
	}
	return 0;
}

int cg_enter_dir(struct cg_hier *h, pid_t pid, struct vsl_error **err)
{
	int fd = cg_open_dir(h, err);
	if (fd < 0)
		return fd;
	return cg_writef(fd, h->dir, "cgroup.procs", err, "%d", (int)pid);
}

/* Writing a pid to cgroup.procs takes the kernel's global threadgroup rwsem
 * for writing, and the first writer after a quiet spell waits for an RCU grace
 * period there (rcu_sync, ~10 ms on this kind of host). A thread that moves
 * itself alone, "0" into a v1 `tasks` file, needs no threadgroup stability and
 * skips that lock (Linux 6.2+; older kernels take it and are only slower). For
 * a process with one thread, moving the thread moves the process. */
int cg_enter_self_v1(struct cg_hier *h, struct vsl_error **err)
{
	int fd = cg_open_dir(h, err);
	if (fd < 0)
		return fd;
	return cg_write(fd, h->dir, "tasks", "0", err);
}

uint32_t cg_required(const struct oci_resources *r)
{
	uint32_t m = 0;
	if (r == NULL)
		return 0;
	if ((r->memory.has_limit && r->memory.limit > 0) ||
	    (r->memory.has_reservation && r->memory.reservation > 0) ||
	    (r->memory.has_swap && r->memory.swap > 0) ||
	    (r->memory.has_kernel_tcp && r->memory.kernel_tcp > 0) ||
	    (r->memory.has_swappiness && r->memory.swappiness <= 100) || r->memory.disable_oom_killer)
		m |= CG_BIT(CG_MEMORY);
	if ((r->cpu.has_shares && r->cpu.shares) || (r->cpu.has_quota && r->cpu.quota > 0) ||
	    (r->cpu.has_period && r->cpu.period) || (r->cpu.has_burst && r->cpu.burst) ||
	    (r->cpu.has_rt_runtime && r->cpu.rt_runtime) || (r->cpu.has_rt_period && r->cpu.rt_period) ||
	    (r->cpu.has_idle && r->cpu.idle))
		m |= CG_BIT(CG_CPU);
	if ((r->cpu.cpus && r->cpu.cpus[0]) || (r->cpu.mems && r->cpu.mems[0]))
		m |= CG_BIT(CG_CPUSET);
	if (r->pids.has_limit && r->pids.limit > 0)
		m |= CG_BIT(CG_PIDS);
	if (r->blkio.has_weight || r->blkio.has_leaf_weight || r->blkio.n_weight_devices ||
	    r->blkio.n_read_bps || r->blkio.n_write_bps || r->blkio.n_read_iops || r->blkio.n_write_iops)
		m |= CG_BIT(CG_BLKIO);
	if (r->n_hugepage_limits)
		m |= CG_BIT(CG_HUGETLB);
	if (r->network.has_class_id)
		m |= CG_BIT(CG_NET_CLS);
	if (r->network.n_priorities)
		m |= CG_BIT(CG_NET_PRIO);
	if (r->n_devices)
		m |= CG_BIT(CG_DEVICES);
	return m;
}

/* ---- the mount table ---- */

struct mount_table {
	struct {
		char *mnt;
		uint32_t mask;
	} v1[CG_CTRL_COUNT];
	size_t n_v1;
	char *v2;
};

static void mount_table_free(struct mount_table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n_v1; i++)
		free(t->v1[i].mnt);
	free(t->v2);
	free(t);
}

/* Mount points escape space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s)
{
	char *w = s;
	for (char *r = s; *r;) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '7' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0' &&
		    r[3] <= '7') {
			*w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
			r += 4;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
}

static uint32_t v1_mask_of(char *superopts)
{
	uint32_t mask = 0;
	char *save = NULL;
	for (char *tok = strtok_r(superopts, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (int c = 0; c < CG_CTRL_COUNT; c++) {
			if (strcmp(tok, ctrl_names[c]) == 0)
				mask |= CG_BIT(c);
		}
	}
	return mask;
}

static int v2_preference(const char *mnt)
{
	if (strcmp(mnt, "/sys/fs/cgroup") == 0)
		return 2;
	if (strcmp(mnt, "/sys/fs/cgroup/unified") == 0)
		return 1;
	return 0;
}

/* text: mountinfo's lines, consumed; `mountinfo` names it in errors. */
static int mount_table_parse_text(char *text, const char *mountinfo, struct mount_table **ret,
                                  struct vsl_error **err)
{
	struct mount_table *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return vsl_error_errno(err, ENOMEM, "read '%s'", mountinfo);

	int v2_pref = -1;
	char *lsave = NULL;
	for (char *line = strtok_r(text, "\n", &lsave); line; line = strtok_r(NULL, "\n", &lsave)) {
		/* "id parent maj:min root mountpoint opts [optional...] - fstype source superopts" */
		char *sep = strstr(line, " - ");
		if (sep == NULL || strncmp(sep + 3, "cgroup", 6) != 0)
			continue;
		*sep = '\0';
		char *save = NULL, *fstype = strtok_r(sep + 3, " \n", &save);
		(void)strtok_r(NULL, " \n", &save); /* source */
		char *superopts = strtok_r(NULL, " \n", &save);

		char *fsave = NULL, *mnt = NULL;
		char *field = strtok_r(line, " ", &fsave);
		for (int i = 0; field && i < 4; i++) /* skip id, parent, maj:min, root */
			field = mnt = strtok_r(NULL, " ", &fsave);
		if (mnt == NULL || fstype == NULL)
			continue;
		unescape_octal(mnt);

		if (strcmp(fstype, "cgroup2") == 0) {
			int pref = v2_preference(mnt);
			if (pref > v2_pref) {
				char *copy = strdup(mnt);
				if (copy == NULL)
					goto oom;
				free(t->v2);
				t->v2 = copy;
				v2_pref = pref;
			}
		} else if (strcmp(fstype, "cgroup") == 0 && superopts) {
			uint32_t mask = v1_mask_of(superopts);
			bool seen = false;
			for (size_t i = 0; i < t->n_v1; i++)
				seen |= (t->v1[i].mask & mask) != 0; /* the same hierarchy mounted twice */
			if (mask == 0 || seen || t->n_v1 == CG_CTRL_COUNT)
				continue;
			t->v1[t->n_v1].mnt = strdup(mnt);
			if (t->v1[t->n_v1].mnt == NULL)
				goto oom;
			t->v1[t->n_v1++].mask = mask;
		}
	}
	*ret = t;
	return 0;
oom:
	mount_table_free(t);
	return vsl_error_errno(err, ENOMEM, "read '%s'", mountinfo);
}

static int mount_table_parse(const char *mountinfo, struct mount_table **ret, struct vsl_error **err)
{
	_cleanup_free_ char *text = NULL;
	if (read_file_at(AT_FDCWD, mountinfo, 64 << 20, &text, NULL, err) < 0)
		return -1;
	return mount_table_parse_text(text, mountinfo, ret, err);
}

/* Parsed once per process: the mount table of cgroup filesystems does not change
 * under a running engine. Published with a CAS so concurrent first callers are safe. */
static struct mount_table *host_table;

static int host_mount_table(const struct mount_table **ret, struct vsl_error **err)
{
	struct mount_table *t = __atomic_load_n(&host_table, __ATOMIC_ACQUIRE);
	if (t == NULL) {
		const char *lines;
		if (mountinfo_cgroup_lines(&lines, err) < 0)
			return -1;
		_cleanup_free_ char *text = strdup(lines);
		if (text == NULL)
			return vsl_error_errno(err, ENOMEM, "read /proc/self/mountinfo");
		int r = mount_table_parse_text(text, "/proc/self/mountinfo", &t, err);
		if (r < 0)
			return r;
		struct mount_table *expected = NULL;
		if (!__atomic_compare_exchange_n(&host_table, &expected, t, false, __ATOMIC_ACQ_REL,
		                                 __ATOMIC_ACQUIRE)) {
			mount_table_free(t);
			t = expected;
		}
	}
	*ret = t;
	return 0;
}

/* ---- cgroupsPath ---- */

/* "/a//b/./c/" -> "/a/b/c"; ".." is refused: it would climb out of the hierarchy. */
static int normalize_path(const char *in, char **ret, struct vsl_error **err)
{
	size_t len = strlen(in);
	_cleanup_free_ char *out = malloc(len + 2);
	if (out == NULL)
		return vsl_error_errno(err, ENOMEM, "cgroupsPath '%s'", in);
	size_t w = 0;
	for (const char *p = in; *p;) {
		while (*p == '/')
			p++;
		size_t clen = strcspn(p, "/");
		if (clen == 0)
			break;
		if (clen == 2 && p[0] == '.' && p[1] == '.')
			return vsl_error_set(err, "cgroupsPath '%s': '..' is not allowed", in);
		if (!(clen == 1 && p[0] == '.')) {
			out[w++] = '/';
			memcpy(out + w, p, clen);
			w += clen;
		}
		p += clen;
	}
	out[w] = '\0';
	if (w == 0)
		return vsl_error_set(err, "cgroupsPath '%s': the root cgroup cannot be a container's", in);
	*ret = TAKE_PTR(out);
	return 0;
}

static bool valid_unit_part(const char *s)
{
	return *s && strchr(s, '/') == NULL && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

/* systemd's slice naming: "a-b-c.slice" lives at /a.slice/a-b.slice/a-b-c.slice. */
static int expand_slice(const char *slice, char **ret, struct vsl_error **err)
{
	size_t len = strlen(slice);
	const size_t sfx = strlen(".slice");
	if (len <= sfx || strcmp(slice + len - sfx, ".slice") != 0 || !valid_unit_part(slice))
		return vsl_error_set(err, "invalid slice name '%s'", slice);
	if (strcmp(slice, "-.slice") == 0) {
		*ret = strdup("");
		return *ret ? 0 : vsl_error_errno(err, ENOMEM, "slice '%s'", slice);
	}
	size_t nlen = len - sfx;
	if (slice[0] == '-' || slice[nlen - 1] == '-' || memmem(slice, nlen, "--", 2) != NULL)
		return vsl_error_set(err, "invalid slice name '%s'", slice);

	/* every prefix ending before a '-' is a parent slice */
	_cleanup_free_ char *out = malloc(len * (len + 8) + 1);
	if (out == NULL)
		return vsl_error_errno(err, ENOMEM, "slice '%s'", slice);
	size_t w = 0;
	for (size_t i = 0; i <= nlen; i++) {
		if (i == nlen || slice[i] == '-') {
			out[w++] = '/';
			memcpy(out + w, slice, i);
			w += i;
			memcpy(out + w, ".slice", sfx);
			w += sfx;
		}
	}
	out[w] = '\0';
	*ret = TAKE_PTR(out);
	return 0;
}

static int systemd_path(const char *spec, const char *id, char **ret, struct vsl_error **err)
{
	_cleanup_free_ char *copy = NULL;
	if (spec == NULL || *spec == '\0') {
		if (asprintf(&copy, "system.slice:vessel:%s", id) < 0)
			return vsl_error_errno(err, ENOMEM, "cgroupsPath");
	} else {
		copy = strdup(spec);
		if (copy == NULL)
			return vsl_error_errno(err, ENOMEM, "cgroupsPath");
	}
	char *c1 = strchr(copy, ':');
	char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (c2 == NULL || strchr(c2 + 1, ':') != NULL)
		return vsl_error_set(
		    err, "cgroupsPath '%s': with systemd cgroups it must read 'slice:prefix:name'", spec);
	*c1 = *c2 = '\0';
	const char *slice = *copy ? copy : "system.slice", *prefix = c1 + 1, *name = c2 + 1;
	if (!valid_unit_part(name) || (*prefix && !valid_unit_part(prefix)))
		return vsl_error_set(err, "cgroupsPath '%s': invalid unit name", spec);

	_cleanup_free_ char *slice_path = NULL;
	int r = expand_slice(slice, &slice_path, err);
	if (r < 0)
		return vsl_error_prefix(err, "cgroupsPath '%s'", spec);

	size_t nlen = strlen(name);
	char *out = NULL;
	if (nlen > 6 && strcmp(name + nlen - 6, ".slice") == 0) {
		/* the container is a slice of its own, placed by its name alone */
		r = expand_slice(name, &out, err);
		if (r < 0)
			return vsl_error_prefix(err, "cgroupsPath '%s'", spec);
	} else if (asprintf(&out, "%s/%s%s%s.scope", slice_path, prefix, *prefix ? "-" : "", name) < 0) {
		return vsl_error_errno(err, ENOMEM, "cgroupsPath");
	}
	*ret = out;
	return 0;
}

static int resolve_path(const char *cgroups_path, const char *id, bool systemd, char **ret,
                        struct vsl_error **err)
{
	_cleanup_free_ char *raw = NULL;
	if (systemd) {
		int r = systemd_path(cgroups_path, id, &raw, err);
		if (r < 0)
			return r;
	} else if (cgroups_path == NULL || *cgroups_path == '\0') {
		if (id == NULL || *id == '\0' || strchr(id, '/') || strcmp(id, "..") == 0)
			return vsl_error_set(err, "container id '%s' cannot name a cgroup", id ? id : "");
		if (asprintf(&raw, "/vessel/%s", id) < 0)
			return vsl_error_errno(err, ENOMEM, "cgroupsPath");
	} else {
		/* relative paths are relative to the hierarchy roots too, as runc does */
		raw = strdup(cgroups_path);
		if (raw == NULL)
			return vsl_error_errno(err, ENOMEM, "cgroupsPath");
	}
	return normalize_path(raw, ret, err);
}

/* ---- opening ---- */

static int join_root(const char *root, const char *mnt, const char *path, char **ret)
{
	return asprintf(ret, "%s%s%s", root ? root : "", mnt, path ? path : "") < 0 ? -ENOMEM : 0;
}

static int cgroup_new(const struct mount_table *t, const char *root, const char *cgroups_path, const char *id,
                      bool systemd, struct cgroup **ret, struct vsl_error **err)
{
	uint32_t v1_controllers = 0;
	for (size_t i = 0; i < t->n_v1; i++)
		v1_controllers |= t->v1[i].mask & ~CG_BIT(CG_SYSTEMD);

	enum cgroup_layout layout;
	if (v1_controllers && t->v2)
		layout = CGROUP_HYBRID;
	else if (v1_controllers)
		layout = CGROUP_LEGACY;
	else if (t->v2)
		layout = CGROUP_UNIFIED;
	else
		return vsl_error_set(err, "no cgroup filesystem is mounted (see /proc/self/mountinfo)");

	struct cgroup *cg = calloc(1, sizeof(*cg));
	if (cg == NULL)
		return vsl_error_errno(err, ENOMEM, "open cgroup");
	cg->layout = layout;
	cg->ops = layout == CGROUP_UNIFIED  ? &cgroup_v2_ops
	          : layout == CGROUP_LEGACY ? &cgroup_v1_ops
	                                    : &cgroup_hybrid_ops;
	cg->v2.fd = -EBADF;
	cg->freeze_timeout_ms = 3000;
	int r = resolve_path(cgroups_path, id, systemd, &cg->path, err);
	if (r < 0)
		goto fail;

	if (t->v2 && (join_root(root, t->v2, NULL, &cg->v2.mnt) < 0 ||
	              join_root(root, t->v2, cg->path, &cg->v2.dir) < 0))
		goto oom;
	if (layout != CGROUP_UNIFIED) {
		cg->v1 = calloc(t->n_v1, sizeof(*cg->v1));
		if (cg->v1 == NULL)
			goto oom;
		for (size_t i = 0; i < t->n_v1; i++) {
			struct cg_hier *h = &cg->v1[cg->n_v1++];
			h->fd = -EBADF;
			h->mask = t->v1[i].mask;
			if (join_root(root, t->v1[i].mnt, NULL, &h->mnt) < 0 ||
			    join_root(root, t->v1[i].mnt, cg->path, &h->dir) < 0)
				goto oom;
		}
	}
	*ret = cg;
	return 0;
oom:
	r = vsl_error_errno(err, ENOMEM, "open cgroup");
fail:
	cgroup_free(cg);
	return r;
}

int cgroup_open(const char *cgroups_path, const char *id, bool systemd, struct cgroup **ret,
                struct vsl_error **err)
{
	const struct mount_table *t = NULL;
	int r = host_mount_table(&t, err);
	if (r < 0)
		return r;
	return cgroup_new(t, NULL, cgroups_path, id, systemd, ret, err);
}

int cgroup_open_at(const char *mountinfo, const char *root, const char *cgroups_path, const char *id,
                   bool systemd, struct cgroup **ret, struct vsl_error **err)
{
	struct mount_table *t = NULL;
	int r = mount_table_parse(mountinfo, &t, err);
	if (r < 0)
		return r;
	r = cgroup_new(t, root, cgroups_path, id, systemd, ret, err);
	mount_table_free(t);
	return r;
}

static void hier_clear(struct cg_hier *h)
{
	free(h->mnt);
	free(h->dir);
	closep(&h->fd);
}

void cgroup_free(struct cgroup *cg)
{
	if (cg == NULL)
		return;
	for (size_t i = 0; i < cg->n_v1; i++)
		hier_clear(&cg->v1[i]);
	free(cg->v1);
	hier_clear(&cg->v2);
	free(cg->path);
	free(cg);
}

enum cgroup_layout cgroup_layout(const struct cgroup *cg)
{
	return cg->layout;
}

const char *cgroup_path(const struct cgroup *cg)
{
	return cg->path;
}

/* ---- the public calls: checks shared by every layout, then the ops table ---- */

static int check_resources(const struct oci_resources *res, struct vsl_error **err)
{
	if (res == NULL)
		return 0;
	for (size_t i = 0; i < res->n_unified; i++) {
		const char *k = res->unified[i].key;
		if (k == NULL || *k == '\0' || strchr(k, '/') || strstr(k, ".."))
			return vsl_error_set(err, "linux.resources.unified: invalid file name '%s'",
			                     k ? k : "");
		if (res->unified[i].value == NULL)
			return vsl_error_set(err, "linux.resources.unified: '%s' has no value", k);
	}
	for (size_t i = 0; i < res->n_hugepage_limits; i++) {
		const char *s = res->hugepage_limits[i].page_size;
		if (s == NULL || *s == '\0' || strchr(s, '/') || strstr(s, ".."))
			return vsl_error_set(err, "linux.resources.hugepageLimits: invalid page size '%s'",
			                     s ? s : "");
	}
	if (res->memory.has_swappiness && res->memory.swappiness > 100 &&
	    res->memory.swappiness != UINT64_MAX)
		return vsl_error_set(err, "linux.resources.memory.swappiness: %llu is not in 0..100",
		                     (unsigned long long)res->memory.swappiness);
	return 0;
}

int cgroup_create_for_clone(struct cgroup *cg, const struct oci_resources *res, struct vsl_error **err)
{
	int r = check_resources(res, err);
	if (r < 0)
		return r;
	return cg->ops->create(cg, res, err);
}

int cgroup_create_rest(struct cgroup *cg, const struct oci_resources *res, struct vsl_error **err)
{
	return cg->ops->create_rest ? cg->ops->create_rest(cg, res, err) : 0;
}

int cgroup_create(struct cgroup *cg, const struct oci_resources *res, struct vsl_error **err)
{
	int r = cgroup_create_for_clone(cg, res, err);
	if (r < 0 || (r = cgroup_create_rest(cg, res, err)) >= 0)
		return r;
	if (cg->v2.created)
		cg_remove_dir(&cg->v2, NULL); /* leave nothing half made */
	return r;
}

int cgroup_update(struct cgroup *cg, const struct oci_resources *res, struct vsl_error **err)
{
	int r = check_resources(res, err);
	if (r < 0)
		return r;
	return res ? cg->ops->update(cg, res, err) : 0;
}

int cgroup_unified_fd(struct cgroup *cg)
{
	if (cg->layout != CGROUP_UNIFIED)
		return -1;
	int fd = cg_open_dir(&cg->v2, NULL);
	return fd < 0 ? -1 : fd;
}

int cgroup_clone_fd(struct cgroup *cg)
{
	if (cg->layout == CGROUP_LEGACY || cg->v2.mnt == NULL)
		return -1;
	int fd = cg_open_dir(&cg->v2, NULL);
	return fd < 0 ? -1 : fd;
}

int cgroup_enter(struct cgroup *cg, pid_t pid, struct vsl_error **err)
{
	return cg->ops->enter(cg, pid, err);
}

int cgroup_enter_self(struct cgroup *cg, bool in_v2, struct vsl_error **err)
{
	return cg->ops->enter_self(cg, in_v2, err);
}

int cgroup_freeze(struct cgroup *cg, bool frozen, struct vsl_error **err)
{
	return cg->ops->freeze(cg, frozen, err);
}

int cgroup_is_frozen(struct cgroup *cg, bool *ret, struct vsl_error **err)
{
	return cg->ops->is_frozen(cg, ret, err);
}

int cgroup_pids(struct cgroup *cg, pid_t **ret, size_t *ret_n, struct vsl_error **err)
{
	return cg->ops->pids(cg, ret, ret_n, err);
}

int cgroup_kill_all(struct cgroup *cg, int sig, struct vsl_error **err)
{
	return cg->ops->kill_all(cg, sig, err);
}

int cgroup_destroy(struct cgroup *cg, struct vsl_error **err)
{
	return cg->ops->destroy(cg, err);
}

int cgroup_stats(struct cgroup *cg, struct cgroup_stats *ret, struct vsl_error **err)
{
	struct cgroup_stats s = {0};
	int r = cg->ops->stats(cg, &s, err);
	if (r < 0)
		return r;
	*ret = s;
	return 0;
}

/* ---- hybrid: v1 controllers, plus the cgroup2 mount that tracks processes ---- */

static bool v1_has(struct cgroup *cg, enum cg_ctrl c)
{
	for (size_t i = 0; i < cg->n_v1; i++)
		if (cg->v1[i].mask & CG_BIT(c))
			return true;
	return false;
}

/* What the unified half must provide: hugetlb when the host left it off v1 (it
 * then shows up in the cgroup2 root, as on this project's dev machines), and
 * device rules as an eBPF program when there is no v1 devices hierarchy.
 * CG_DEVICES here means "the program", not a controller to enable. */
static int hybrid_v2_want(struct cgroup *cg, const struct oci_resources *res, uint32_t *ret,
                          struct vsl_error **err)
{
	*ret = 0;
	if (res && res->n_hugepage_limits && !v1_has(cg, CG_HUGETLB)) {
		if (!(cg_v2_available(cg) & CG_BIT(CG_HUGETLB)))
			return cg_missing_controller(err, CG_HUGETLB, "hugepage limits");
		*ret |= CG_BIT(CG_HUGETLB);
	}
	if (res && res->n_devices && !v1_has(cg, CG_DEVICES))
		*ret |= CG_BIT(CG_DEVICES);
	return 0;
}

static int hybrid_apply_v2(struct cgroup *cg, const struct oci_resources *res, uint32_t want,
                           struct vsl_error **err)
{
	int r;
	if (res == NULL)
		return 0;
	if ((want & CG_BIT(CG_HUGETLB)) && (r = cg_v2_set_hugetlb(&cg->v2, res, err)) < 0)
		return r;
	if ((want & CG_BIT(CG_DEVICES)) &&
	    (r = cg_bpf_devices_apply(cg->v2.fd, cg->v2.dir, res->devices, res->n_devices, err)) < 0)
		return r;
	return cg_v2_set_unified(&cg->v2, res, err);
}

/* The cgroup2 half, which clone3 places the child in; the v1 hierarchies are
 * checked here and made by create_rest. */
static int hybrid_create(struct cgroup *cg, const struct oci_resources *res, struct vsl_error **err)
{
	uint32_t want = 0;
	int r = hybrid_v2_want(cg, res, &want, err);
	if (r < 0 || (r = cgroup_v1_ops.create(cg, res, err)) < 0)
		return r;
	r = cg_v2_make(cg, want & CG_BIT(CG_HUGETLB), 0, err);
	if (r >= 0)
		r = hybrid_apply_v2(cg, res, want, err);
	/* leave no half-made cgroup behind (only what this call made) */
	if (r < 0 && cg->v2.created)
		cg_remove_dir(&cg->v2, NULL);
	return r;
}

static int hybrid_create_rest(struct cgroup *cg, const struct oci_resources *res, struct vsl_error **err)
{
	return cgroup_v1_ops.create_rest(cg, res, err);
}

static int hybrid_update(struct cgroup *cg, const struct oci_resources *res, struct vsl_error **err)
{
	uint32_t want = 0;
	int r = hybrid_v2_want(cg, res, &want, err);
	if (r < 0)
		return r;
	r = cgroup_v1_ops.update(cg, res, err);
	if (r < 0)
		return r;
	if (want || res->n_unified) {
		if (want & CG_BIT(CG_HUGETLB))
			r = cg_v2_make(cg, CG_BIT(CG_HUGETLB), 0, err); /* enables hugetlb in the ancestors */
		else
			r = cg_open_dir(&cg->v2, err);
		if (r < 0)
			return r;
		return hybrid_apply_v2(cg, res, want, err);
	}
	return 0;
}

static int hybrid_enter(struct cgroup *cg, pid_t pid, struct vsl_error **err)
{
	int r = cgroup_v1_ops.enter(cg, pid, err);
	if (r < 0)
		return r;
	return cg_enter_dir(&cg->v2, pid, err);
}

static int hybrid_enter_self(struct cgroup *cg, bool in_v2, struct vsl_error **err)
{
	int r = cgroup_v1_ops.enter_self(cg, true, err);
	if (r < 0 || in_v2)
		return r;
	return cg_enter_dir(&cg->v2, 0, err); /* 0: ourselves */
}

static int hybrid_freeze(struct cgroup *cg, bool frozen, struct vsl_error **err)
{
	if (v1_has(cg, CG_FREEZER))
		return cgroup_v1_ops.freeze(cg, frozen, err);
	/* no v1 freezer: cgroup2's cgroup.freeze needs no controller */
	return cg_v2_freeze_dir(cg, &cg->v2, frozen, err);
}

static int hybrid_is_frozen(struct cgroup *cg, bool *ret, struct vsl_error **err)
{
	if (v1_has(cg, CG_FREEZER))
		return cgroup_v1_ops.is_frozen(cg, ret, err);
	return cg_v2_is_frozen_dir(&cg->v2, ret, err);
}

/* The cgroup2 tree sees every process we entered, whatever v1 has mounted:
 * pids and kill are the v2 ones. */
static int hybrid_pids(struct cgroup *cg, pid_t **ret, size_t *ret_n, struct vsl_error **err)
{
	return cgroup_v2_ops.pids(cg, ret, ret_n, err);
}

static int hybrid_kill_all(struct cgroup *cg, int sig, struct vsl_error **err)
{
	return cgroup_v2_ops.kill_all(cg, sig, err);
}

static int hybrid_destroy(struct cgroup *cg, struct vsl_error **err)
{
	int r = cgroup_v1_ops.destroy(cg, err);
	int r2 = cg_remove_dir(&cg->v2, err);
	return r < 0 ? r : r2;
}

static int hybrid_stats(struct cgroup *cg, struct cgroup_stats *ret, struct vsl_error **err)
{
	return cgroup_v1_ops.stats(cg, ret, err);
}

const struct cgroup_ops cgroup_hybrid_ops = {
    .create = hybrid_create,
    .create_rest = hybrid_create_rest,
    .update = hybrid_update,
    .enter = hybrid_enter,
    .enter_self = hybrid_enter_self,
    .freeze = hybrid_freeze,
    .is_frozen = hybrid_is_frozen,
    .pids = hybrid_pids,
    .kill_all = hybrid_kill_all,
    .destroy = hybrid_destroy,
    .stats = hybrid_stats,
};
