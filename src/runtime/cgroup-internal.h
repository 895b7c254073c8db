/* Private to the cgroup files: the struct behind `struct cgroup`, the ops table
 * each layout fills in, and the small file helpers they share.
 *
 * cgroup.c detects the layout and resolves the path; cgroup-v1.c and
 * cgroup-v2.c implement one layout each; the hybrid layout is v1 for every
 * controller plus the v2 "tracking" half from cgroup-v2.c, composed in cgroup.c.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtime/cgroup.h"
#include "runtime/config.h"

struct vsl_error;

/* Controllers we know by name. v1 hierarchies bind a set of them; on v2 only
 * cpu, cpuset, io (= blkio here), memory, pids, hugetlb, rdma, misc exist. */
enum cg_ctrl {
	CG_CPU,
	CG_CPUACCT,
	CG_CPUSET,
	CG_MEMORY,
	CG_DEVICES,
	CG_FREEZER,
	CG_BLKIO, /* "io" on v2 */
	CG_PIDS,
	CG_HUGETLB,
	CG_NET_CLS,
	CG_NET_PRIO,
	CG_PERF_EVENT,
	CG_RDMA,
	CG_MISC,
	CG_SYSTEMD, /* the name=systemd hierarchy: no controller, tracks processes */
	CG_CTRL_COUNT
};
#define CG_BIT(c) (1u << (c))

/* "memory", "blkio", "name=systemd" (v1 spelling) */
const char *cg_ctrl_name(enum cg_ctrl c);
/* "io" for CG_BLKIO, the v1 name otherwise */
const char *cg_ctrl_v2_name(enum cg_ctrl c);

/* One mounted hierarchy and our directory in it. */
struct cg_hier {
	char *mnt;     /* mount point, with the test root prefixed */
	char *dir;     /* mnt + cgroup path */
	uint32_t mask; /* v1: controllers bound here; v2: 0 */
	int fd;        /* O_DIRECTORY fd of dir, -EBADF until made or opened */
	bool created;  /* the last cg_mkdir_path made the leaf (undo on failure) */
};

struct cgroup_ops {
	/* mkdir + apply (res may be NULL) of what cgroup_clone_fd() places a
	 * child in, and checks of the rest; create_rest (NULL: nothing) makes
	 * the rest, which the child enters later. */
	int (*create)(struct cgroup *cg, const struct oci_resources *res, struct vsl_error **err);
	int (*create_rest)(struct cgroup *cg, const struct oci_resources *res, struct vsl_error **err);
	int (*update)(struct cgroup *cg, const struct oci_resources *res, struct vsl_error **err);
	int (*enter)(struct cgroup *cg, pid_t pid, struct vsl_error **err);
	int (*enter_self)(struct cgroup *cg, bool in_v2, struct vsl_error **err);
	int (*freeze)(struct cgroup *cg, bool frozen, struct vsl_error **err);
	int (*is_frozen)(struct cgroup *cg, bool *ret, struct vsl_error **err);
	int (*pids)(struct cgroup *cg, pid_t **ret, size_t *ret_n, struct vsl_error **err);
	int (*kill_all)(struct cgroup *cg, int sig, struct vsl_error **err);
	int (*destroy)(struct cgroup *cg, struct vsl_error **err);
	int (*stats)(struct cgroup *cg, struct cgroup_stats *ret, struct vsl_error **err);
};

struct cgroup {
	enum cgroup_layout layout;
	const struct cgroup_ops *ops;
	char *path;         /* "/vessel/abc", relative to every hierarchy root */
	struct cg_hier *v1; /* v1 hierarchies (legacy, hybrid) */
	size_t n_v1;
	struct cg_hier v2; /* the cgroup2 mount; v2.mnt is NULL when there is none */
	bool v2_avail_known;
	uint32_t v2_avail;      /* controllers in the v2 root's cgroup.controllers */
	long freeze_timeout_ms; /* bounded wait for the kernel to report frozen */
};

extern const struct cgroup_ops cgroup_v1_ops;
extern const struct cgroup_ops cgroup_v2_ops;
extern const struct cgroup_ops cgroup_hybrid_ops;

/* Tests set this to see every write, in order (fake files only keep the last). */
extern void (*cgroup_write_observer)(const char *dir, const char *file, const char *value);

/* ---- file helpers (cgroup.c) ---- */

/* Writes `value` in one write(2); the error names value and file. */
int cg_write(int dirfd, const char *dir, const char *file, const char *value, struct vsl_error **err);
int cg_writef(int dirfd, const char *dir, const char *file, struct vsl_error **err, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Reads a small file whole; *ret is NUL-terminated. Returns -errno without
 * filling err when `quiet_enoent` and the file does not exist. */
int cg_read(int dirfd, const char *dir, const char *file, bool quiet_enoent, char **ret,
            struct vsl_error **err);
/* Parses "123\n" or "max\n" (UINT64_MAX). */
int cg_read_u64(int dirfd, const char *file, uint64_t *ret);
/* The value of `key` in a "key value\n" file such as cpu.stat or memory.events. */
int cg_read_keyed(int dirfd, const char *file, const char *key, uint64_t *ret);
/* Makes every component of cg->path under h->mnt and leaves h->fd open on the
 * leaf (h->created says whether the leaf is new). `level`, when given, runs
 * after each mkdir with the parent's fd (the mount root first) and the
 * child's: v2 enables controllers in the parent, v1 cpuset copies the
 * parent's cpus/mems down. */
typedef int (*cg_level_fn)(struct cgroup *cg, int parent_fd, const char *parent_dir, int fd, const char *dir,
                           void *userdata, struct vsl_error **err);
int cg_mkdir_path(struct cgroup *cg, struct cg_hier *h, cg_level_fn level, void *userdata,
                  struct vsl_error **err);
/* Opens h->dir if not yet open; the error says the cgroup does not exist. */
int cg_open_dir(struct cg_hier *h, struct vsl_error **err);
/* Removes h->dir and any child cgroups, retrying briefly on EBUSY; gone is fine. */
int cg_remove_dir(struct cg_hier *h, struct vsl_error **err);
/* Appends the pids of cgroup.procs in dir and its children. */
int cg_collect_pids(const char *dir, pid_t **pids, size_t *n, struct vsl_error **err);
int cg_signal_pids(const char *dir, int sig, struct vsl_error **err);
int cg_enter_dir(struct cg_hier *h, pid_t pid, struct vsl_error **err);
/* The calling thread (pid 0) into a v1 hierarchy's `tasks`: see cgroup_enter_self(). */
int cg_enter_self_v1(struct cg_hier *h, struct vsl_error **err);
/* Sleeps for the next step of a bounded poll; returns false when `deadline_ns`
 * (CLOCK_MONOTONIC) has passed. */
bool cg_poll_sleep(uint64_t deadline_ns, unsigned *step);
uint64_t cg_now_ns(void);
/* Controllers the resources need (v1 meaning; CG_BLKIO stands for io). Device
 * rules count as CG_DEVICES. Zero values that OCI writers use for "unset"
 * (shares 0, quota 0, limit 0) need nothing. */
uint32_t cg_required(const struct oci_resources *res);
/* Error for a requested resource whose controller this host does not have. */
int cg_missing_controller(struct vsl_error **err, enum cg_ctrl c, const char *what);

/* ---- v2 pieces reused by the hybrid layout (cgroup-v2.c) ---- */

uint32_t cg_v2_available(struct cgroup *cg);
/* Controllers the resources need, as CG_BIT mask (v2 meaning). */
uint32_t cg_v2_required(const struct oci_resources *res);
/* mkdir, enabling `want` (plus `optional` where possible) in every ancestor. */
int cg_v2_make(struct cgroup *cg, uint32_t want, uint32_t optional, struct vsl_error **err);
int cg_v2_set_hugetlb(struct cg_hier *h, const struct oci_resources *res, struct vsl_error **err);
int cg_v2_set_unified(struct cg_hier *h, const struct oci_resources *res, struct vsl_error **err);
int cg_v2_freeze_dir(struct cgroup *cg, struct cg_hier *h, bool frozen, struct vsl_error **err);
int cg_v2_is_frozen_dir(struct cg_hier *h, bool *ret, struct vsl_error **err);
int cg_v2_kill_dir(struct cg_hier *h, int sig, struct vsl_error **err);

/* Conversions from the OCI (v1-flavoured) values, exposed for tests. */
uint64_t cg_shares_to_weight(uint64_t shares);
uint64_t cg_blkio_to_io_weight(uint64_t weight);

/* ---- device rules as eBPF (cgroup-bpf.c) ---- */

struct bpf_insn;
/* Builds a BPF_PROG_TYPE_CGROUP_DEVICE program: the last matching rule decides,
 * no match denies. *ret is malloc'd. */
int cg_bpf_devices_build(const struct oci_device_rule *rules, size_t n, struct bpf_insn **ret, size_t *ret_n,
                         struct vsl_error **err);
/* Loads the program and attaches it to the cgroup dir fd (BPF_F_ALLOW_MULTI),
 * replacing programs attached there before. */
int cg_bpf_devices_apply(int dirfd, const char *dir, const struct oci_device_rule *rules, size_t n,
                         struct vsl_error **err);
