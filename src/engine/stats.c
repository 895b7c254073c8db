/* Counters of a container for `stats`: see stats.h. The file formats are the
 * kernel's (Documentation/admin-guide/cgroup-v2.rst and cgroup-v1/). */
#include "engine/stats.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"

#define MAX_COUNTER_FILE (1 << 20)

/* NULL when the file cannot be read: a controller that is not there. */
static char *read_text(int dirfd, const char *name)
{
	char *text = NULL;
	size_t len = 0;
	if (dirfd < 0 || read_file_at(dirfd, name, MAX_COUNTER_FILE, &text, &len, NULL) < 0)
		return NULL;
	return text;
}

/* A file holding one number, or "max" (v2's word for no limit). */
static bool read_u64(int dirfd, const char *name, uint64_t *ret)
{
	_cleanup_free_ char *text = read_text(dirfd, name);
	if (text == NULL)
		return false;
	if (strncmp(text, "max", 3) == 0) {
		*ret = STATS_NO_LIMIT;
		return true;
	}
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno || end == text)
		return false;
	*ret = v;
	return true;
}

/* A "key value" line of a flat keyed file (memory.stat, cpu.stat). */
static bool read_keyed(int dirfd, const char *name, const char *key, uint64_t *ret)
{
	_cleanup_free_ char *text = read_text(dirfd, name);
	size_t klen = strlen(key);
	for (char *line = text; line && *line;) {
		char *next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (strncmp(line, key, klen) == 0 && line[klen] == ' ') {
			*ret = strtoull(line + klen + 1, NULL, 10);
			return true;
		}
		line = next;
	}
	return false;
}

/* <root>/<hierarchy><path>, or -1 when absent. */
static int open_cgroup(const char *root, const char *hierarchy, const char *path)
{
	_cleanup_free_ char *p = NULL;
	if (asprintf(&p, "%s%s%s/%s", root, hierarchy ? "/" : "", hierarchy ? hierarchy : "",
	             path[0] == '/' ? path + 1 : path) < 0)
		return -1;
	return open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N ..." per device. */
static void sum_io_stat(int dirfd, uint64_t *rd, uint64_t *wr)
{
	_cleanup_free_ char *text = read_text(dirfd, "io.stat");
	char *save = NULL;
	for (char *tok = text ? strtok_r(text, " \n", &save) : NULL; tok;
	     tok = strtok_r(NULL, " \n", &save)) {
		if (strncmp(tok, "rbytes=", 7) == 0)
			*rd += strtoull(tok + 7, NULL, 10);
		else if (strncmp(tok, "wbytes=", 7) == 0)
			*wr += strtoull(tok + 7, NULL, 10);
	}
}

/* blkio.throttle.io_service_bytes: "MAJ:MIN Read N" lines, and a "Total N". */
static void sum_blkio(int dirfd, uint64_t *rd, uint64_t *wr)
{
	_cleanup_free_ char *text = read_text(dirfd, "blkio.throttle.io_service_bytes");
	if (text == NULL)
		text = read_text(dirfd, "blkio.throttle.io_service_bytes_recursive");
	for (char *line = text; line && *line;) {
		char *next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		char dev[64], op[16];
		unsigned long long v;
		if (sscanf(line, "%63s %15s %llu", dev, op, &v) == 3) {
			if (strcasecmp(op, "read") == 0)
				*rd += v;
			else if (strcasecmp(op, "write") == 0)
				*wr += v;
		}
		line = next;
	}
}

static void without_cache(struct stats_sample *s, uint64_t inactive_file)
{
	if (inactive_file < s->mem_usage)
		s->mem_usage -= inactive_file;
}

static int read_v2(const char *root, const char *path, struct stats_sample *s, struct vsl_error **err)
{
	_cleanup_close_ int fd = open_cgroup(root, NULL, path);
	if (fd < 0)
		return vsl_error_errno(err, errno, "open cgroup '%s' under '%s'", path, root);
	uint64_t usec = 0, inactive = 0;
	if (read_keyed(fd, "cpu.stat", "usage_usec", &usec))
		s->cpu_ns = usec * 1000;
	read_u64(fd, "memory.current", &s->mem_usage);
	if (read_keyed(fd, "memory.stat", "inactive_file", &inactive))
		without_cache(s, inactive);
	read_u64(fd, "memory.max", &s->mem_limit);
	read_u64(fd, "pids.current", &s->pids);
	sum_io_stat(fd, &s->blk_read, &s->blk_write);
	return 0;
}

static int read_v1(const char *root, const char *path, struct stats_sample *s, struct vsl_error **err)
{
	_cleanup_close_ int cpu = open_cgroup(root, "cpuacct", path);
	if (cpu < 0)
		cpu = open_cgroup(root, "cpu,cpuacct", path);
	_cleanup_close_ int mem = open_cgroup(root, "memory", path);
	_cleanup_close_ int blkio = open_cgroup(root, "blkio", path);
	_cleanup_close_ int pids = open_cgroup(root, "pids", path);
	if (cpu < 0 && mem < 0 && blkio < 0 && pids < 0)
		return vsl_error_errno(err, ENOENT, "open cgroup '%s' under '%s'", path, root);
	read_u64(cpu, "cpuacct.usage", &s->cpu_ns);
	uint64_t inactive = 0;
	read_u64(mem, "memory.usage_in_bytes", &s->mem_usage);
	if (read_keyed(mem, "memory.stat", "total_inactive_file", &inactive))
		without_cache(s, inactive);
	/* v1 says "no limit" with the largest page-aligned signed long. */
	if (read_u64(mem, "memory.limit_in_bytes", &s->mem_limit) && s->mem_limit >= (UINT64_C(1) << 62))
		s->mem_limit = STATS_NO_LIMIT;
	read_u64(pids, "pids.current", &s->pids);
	sum_blkio(blkio, &s->blk_read, &s->blk_write);
	return 0;
}

int stats_read_cgroup(const char *cgroup_root, const char *path, struct stats_sample *ret,
                      struct vsl_error **err)
{
	struct stats_sample s = *ret;
	s.cpu_ns = s.mem_usage = s.blk_read = s.blk_write = s.pids = 0;
	s.mem_limit = STATS_NO_LIMIT;
	_cleanup_free_ char *probe = NULL;
	if (asprintf(&probe, "%s/cgroup.controllers", cgroup_root) < 0)
		return vsl_error_errno(err, ENOMEM, "read cgroup");
	int r = access(probe, F_OK) == 0 ? read_v2(cgroup_root, path, &s, err)
	                                 : read_v1(cgroup_root, path, &s, err);
	if (r < 0)
		return r;
	*ret = s;
	return 0;
}

int stats_read_system(const char *proc_root, struct stats_sample *ret, struct vsl_error **err)
{
	_cleanup_close_ int dir = open(proc_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return vsl_error_errno(err, errno, "open '%s'", proc_root);
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r = read_file_at(dir, "stat", MAX_COUNTER_FILE, &text, &len, err);
	if (r < 0)
		return vsl_error_prefix(err, "read '%s/stat'", proc_root);
	long hz = sysconf(_SC_CLK_TCK);
	if (hz <= 0)
		hz = 100;
	uint64_t ticks = 0;
	unsigned cpus = 0;
	bool found = false;
	for (char *line = text; line && *line;) {
		char *next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (strncmp(line, "cpu ", 4) == 0) {
			/* user nice system idle iowait irq softirq steal: guest time is in user already. */
			char *p = line + 4;
			for (int i = 0; i < 8; i++) {
				char *end;
				unsigned long long v = strtoull(p, &end, 10);
				if (end == p)
					break;
				ticks += v;
				p = end;
			}
			found = true;
		} else if (strncmp(line, "cpu", 3) == 0 && line[3] >= '0' && line[3] <= '9') {
			cpus++;
		}
		line = next;
	}
	if (!found)
		return vsl_error_set(err, "'%s/stat' has no cpu line", proc_root);
	ret->system_ns = ticks * (1000000000 / (uint64_t)hz);
	ret->online_cpus = cpus ? cpus : 1;
	return 0;
}

int stats_read_net(const char *proc_root, pid_t pid, struct stats_sample *ret, struct vsl_error **err)
{
	_cleanup_free_ char *path = NULL;
	if (asprintf(&path, "%s/%d/net/dev", proc_root, (int)pid) < 0)
		return vsl_error_errno(err, ENOMEM, "read network counters");
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r = read_file_at(AT_FDCWD, path, MAX_COUNTER_FILE, &text, &len, err);
	if (r < 0)
		return r;
	uint64_t rx = 0, tx = 0;
	/* Two header lines, then "  eth0: rx_bytes packets errs drop fifo frame compressed multicast tx_bytes
	 * ..." */
	for (char *line = text; line && *line;) {
		char *next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		char *colon = strchr(line, ':');
		if (colon) {
			*colon = '\0';
			const char *name = line + strspn(line, " ");
			unsigned long long v[9];
			if (strcmp(name, "lo") != 0 &&
			    sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
			           &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8]) == 9) {
				rx += v[0];
				tx += v[8];
			}
		}
		line = next;
	}
	ret->net_rx = rx;
	ret->net_tx = tx;
	return 0;
}

double stats_cpu_percent(const struct stats_sample *prev, const struct stats_sample *cur)
{
	if (cur->cpu_ns < prev->cpu_ns || cur->system_ns <= prev->system_ns)
		return 0.0;
	double cpu = (double)(cur->cpu_ns - prev->cpu_ns);
	double sys = (double)(cur->system_ns - prev->system_ns);
	unsigned cpus = cur->online_cpus ? cur->online_cpus : 1;
	return cpu / sys * cpus * 100.0;
}

double stats_mem_percent(const struct stats_sample *s)
{
	if (s->mem_limit == 0 || s->mem_limit == STATS_NO_LIMIT)
		return 0.0;
	return (double)s->mem_usage / (double)s->mem_limit * 100.0;
}
