/* What `docker stats` shows of a container, read from the kernel: its
 * cgroup's counters (cgroup v2, or the v1 controllers of legacy and hybrid
 * hosts), the host's CPU time from /proc/stat and the network counters of the
 * container's network namespace from /proc/<pid>/net/dev.
 *
 * Every reader takes the root it reads under as a parameter (/sys/fs/cgroup,
 * /proc), so tests run them on a fake tree:
 *
 *     struct stats_sample a = {0}, b = {0};
 *     stats_read_cgroup("/sys/fs/cgroup", "/vessel/<id>", &a, err);
 *     stats_read_system("/proc", &a, err);
 *     ... a second later, the same into b ...
 *     double cpu = stats_cpu_percent(&a, &b);
 */
#pragma once

#include <stdint.h>
#include <sys/types.h>

struct vsl_error;

#define STATS_NO_LIMIT UINT64_MAX

struct stats_sample {
	uint64_t cpu_ns;    /* CPU time of the cgroup's processes */
	uint64_t system_ns; /* CPU time of the whole host (all CPUs, idle included) */
	unsigned online_cpus;
	uint64_t mem_usage; /* without the inactive page cache, as Docker counts it */
	uint64_t mem_limit; /* STATS_NO_LIMIT when there is none */
	uint64_t blk_read, blk_write;
	uint64_t net_rx, net_tx;
	uint64_t pids;
};

/* The counters of cgroup `path` (relative to each hierarchy's root, e.g.
 * "/vessel/abc"). cgroup v2 when cgroup_root holds cgroup.controllers; else
 * v1 hierarchies mounted under cgroup_root by controller name (cpuacct or
 * cpu,cpuacct, memory, blkio, pids), as on legacy and hybrid hosts. A counter
 * whose file is missing (a controller not enabled) reads as 0. -ENOENT when
 * the cgroup itself does not exist. */
int stats_read_cgroup(const char *cgroup_root, const char *path, struct stats_sample *ret,
                      struct vsl_error **err);
/* system_ns and online_cpus from <proc_root>/stat. */
int stats_read_system(const char *proc_root, struct stats_sample *ret, struct vsl_error **err);
/* net_rx and net_tx from <proc_root>/<pid>/net/dev: every interface but lo. */
int stats_read_net(const char *proc_root, pid_t pid, struct stats_sample *ret, struct vsl_error **err);

/* Docker's CPU %: the cgroup's share of the host's CPU time between two
 * samples, times the number of CPUs (so one busy CPU of four is 100%). */
double stats_cpu_percent(const struct stats_sample *prev, const struct stats_sample *cur);
/* Docker's MEM %: usage over limit; 0 without a limit. */
double stats_mem_percent(const struct stats_sample *s);
