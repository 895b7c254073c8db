/* cgroup v2 (unified): one tree, controllers enabled top-down through
 * cgroup.subtree_control, device rules as an eBPF program. The pieces that
 * only need a cgroup2 directory (mkdir, freeze, kill, hugetlb, the unified
 * map) also serve the hybrid layout. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/cgroup-internal.h"
#include "runtime/config.h"
#include "util/cleanup.h"
#include "util/error.h"

/* Controllers vessel enables for its containers when the host has them. */
#define V2_CONTROLLERS                                                                                       \
	(CG_BIT(CG_CPU) | CG_BIT(CG_CPUSET) | CG_BIT(CG_MEMORY) | CG_BIT(CG_BLKIO) | CG_BIT(CG_PIDS) |       \
	 CG_BIT(CG_HUGETLB))

uint64_t cg_shares_to_weight(uint64_t shares)
{
	/* shares 2..262144 onto weight 1..10000, as runc and crun map them */
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t cg_blkio_to_io_weight(uint64_t weight)
{
	/* blkio weight 10..1000 onto io.weight 1..10000 */
	if (weight < 10)
		weight = 10;
	if (weight > 1000)
		weight = 1000;
	return 1 + ((weight - 10) * 9999) / 990;
}

static uint32_t parse_controller_list(const char *s)
{
	uint32_t mask = 0;
	while (*s) {
		while (*s == ' ' || *s == '\n')
			s++;
		size_t len = strcspn(s, " \n");
		if (len == 0)
			break;
		for (int c = 0; c < CG_CTRL_COUNT; c++) {
			const char *name = cg_ctrl_v2_name(c);
			if (strlen(name) == len && memcmp(name, s, len) == 0)
				mask |= CG_BIT(c);
		}
		s += len;
	}
	return mask;
}

static int read_controllers(int fd, const char *dir, const char *file, uint32_t *ret, struct vsl_error **err)
{
	_cleanup_free_ char *s = NULL;
	int r = cg_read(fd, dir, file, false, &s, err);
	if (r < 0)
		return r;
	*ret = parse_controller_list(s);
	return 0;
}

uint32_t cg_v2_available(struct cgroup *cg)
{
	if (!cg->v2_avail_known && cg->v2.mnt) {
		uint32_t mask = 0;
		if (read_controllers(AT_FDCWD, cg->v2.mnt, "cgroup.controllers", &mask, NULL) == 0) {
			cg->v2_avail = mask;
			cg->v2_avail_known = true;
		}
	}
	return cg->v2_avail;
}

uint32_t cg_v2_required(const struct oci_resources *res)
{
	uint32_t m = cg_required(res) & V2_CONTROLLERS;
	if (res && (m & CG_BIT(CG_MEMORY))) {
		/* swappiness, kernel_tcp and the OOM killer switch have no v2 file */
		const typeof(res->memory) *mem = &res->memory;
		if (!((mem->has_limit && mem->limit > 0) || (mem->has_reservation && mem->reservation > 0) ||
		      (mem->has_swap && mem->swap > 0)))
			m &= ~CG_BIT(CG_MEMORY);
	}
	return m;
}

static int first_missing(uint32_t missing)
{
	for (int c = 0; c < CG_CTRL_COUNT; c++)
		if (missing & CG_BIT(c))
			return c;
	return -1;
}

static int format_enable(uint32_t mask, char *buf, size_t size)
{
	size_t w = 0;
	buf[0] = '\0';
	for (int c = 0; c < CG_CTRL_COUNT; c++) {
		if (!(mask & CG_BIT(c)))
			continue;
		int n = snprintf(buf + w, size - w, "%s+%s", w ? " " : "", cg_ctrl_v2_name(c));
		if (n < 0 || (size_t)n >= size - w)
			return -EOVERFLOW;
		w += (size_t)n;
	}
	return 0;
}

struct enable_ctx {
	uint32_t want, optional;
};

/* Runs for each parent on the way down: the controllers must be on in every
 * ancestor's subtree_control before the leaf has their files. */
static int enable_in_parent(struct cgroup *cg, int parent_fd, const char *parent_dir, int fd, const char *dir,
                            void *userdata, struct vsl_error **err)
{
	(void)cg, (void)fd, (void)dir;
	const struct enable_ctx *ctx = userdata;
	uint32_t avail = 0, cur = 0;
	int r = read_controllers(parent_fd, parent_dir, "cgroup.controllers", &avail, err);
	if (r < 0)
		return r;
	r = read_controllers(parent_fd, parent_dir, "cgroup.subtree_control", &cur, err);
	if (r < 0)
		return r;
	uint32_t need = ctx->want & ~cur;
	if (need & ~avail)
		return vsl_error_set(err,
		                     "the '%s' cgroup controller is not available in '%s/cgroup.controllers'",
		                     cg_ctrl_v2_name(first_missing(need & ~avail)), parent_dir);
	uint32_t extra = ctx->optional & avail & ~cur & ~need;
	if ((need | extra) == 0)
		return 0; /* already on: no write */

	char buf[128];
	if (format_enable(need | extra, buf, sizeof(buf)) < 0)
		return vsl_error_set(err, "enable controllers in '%s'", parent_dir);
	_cleanup_error_ struct vsl_error *first = NULL;
	r = cg_write(parent_fd, parent_dir, "cgroup.subtree_control", buf, &first);
	if (r >= 0)
		return 0;
	if (need == 0 || extra == 0) {
		if (need == 0)
			return 0; /* only nice-to-have controllers failed (a parent with processes, say) */
		*err = TAKE_PTR(first);
		return r;
	}
	/* retry with only what the resources need, so the error is about those */
	if (format_enable(need, buf, sizeof(buf)) < 0)
		return vsl_error_set(err, "enable controllers in '%s'", parent_dir);
	return cg_write(parent_fd, parent_dir, "cgroup.subtree_control", buf, err);
}

int cg_v2_make(struct cgroup *cg, uint32_t want, uint32_t optional, struct vsl_error **err)
{
	struct enable_ctx ctx = {.want = want, .optional = optional};
	return cg_mkdir_path(cg, &cg->v2, (want | optional) ? enable_in_parent : NULL, &ctx, err);
}

int cg_v2_set_hugetlb(struct cg_hier *h, const struct oci_resources *res, struct vsl_error **err)
{
	for (size_t i = 0; i < res->n_hugepage_limits; i++) {
		char file[96];
		int n = snprintf(file, sizeof(file), "hugetlb.%s.max", res->hugepage_limits[i].page_size);
		if (n < 0 || (size_t)n >= sizeof(file))
			return vsl_error_set(err, "hugepage size '%s'", res->hugepage_limits[i].page_size);
		int r = cg_writef(h->fd, h->dir, file, err, "%llu",
		                  (unsigned long long)res->hugepage_limits[i].limit);
		if (r < 0)
			return r;
	}
	return 0;
}

int cg_v2_set_unified(struct cg_hier *h, const struct oci_resources *res, struct vsl_error **err)
{
	/* Keys were checked in cgroup_create/update: a plain file name, no '/' or "..". */
	for (size_t i = 0; i < res->n_unified; i++) {
		int r = cg_write(h->fd, h->dir, res->unified[i].key, res->unified[i].value, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int set_memory(struct cg_hier *h, const struct oci_resources *res, bool update, struct vsl_error **err)
{
	const typeof(res->memory) *m = &res->memory;
	int r;
	if (m->has_limit && (m->limit > 0 || (update && m->limit < 0))) {
		r = m->limit > 0 ? cg_writef(h->fd, h->dir, "memory.max", err, "%lld", (long long)m->limit)
		                 : cg_write(h->fd, h->dir, "memory.max", "max", err);
		if (r < 0)
			return r;
	}
	if (m->has_reservation && (m->reservation > 0 || (update && m->reservation < 0))) {
		r = m->reservation > 0
		        ? cg_writef(h->fd, h->dir, "memory.low", err, "%lld", (long long)m->reservation)
		        : cg_write(h->fd, h->dir, "memory.low", "max", err);
		if (r < 0)
			return r;
	}
	if (m->has_swap && m->swap != 0) {
		/* OCI's swap is memory+swap (v1's memsw); v2 limits swap alone. */
		char val[32];
		if (m->swap < 0) {
			if (!update)
				return 0; /* "max" is the default */
			snprintf(val, sizeof(val), "max");
		} else {
			if (!m->has_limit || m->limit <= 0)
				return vsl_error_set(
				    err, "memory.swap (%lld) needs a memory limit: it counts memory+swap",
				    (long long)m->swap);
			if (m->swap < m->limit)
				return vsl_error_set(err,
				                     "memory.swap (%lld) must be at least memory.limit "
				                     "(%lld): it counts memory+swap",
				                     (long long)m->swap, (long long)m->limit);
			snprintf(val, sizeof(val), "%lld", (long long)(m->swap - m->limit));
		}
		_cleanup_error_ struct vsl_error *e = NULL;
		r = cg_write(h->fd, h->dir, "memory.swap.max", val, &e);
		/* no swap accounting on this host: "no swap" and "unlimited" need no file */
		if (r < 0 && !(r == -ENOENT && (strcmp(val, "0") == 0 || strcmp(val, "max") == 0))) {
			*err = TAKE_PTR(e);
			return r;
		}
	}
	return 0;
}

static int set_cpu(struct cg_hier *h, const struct oci_resources *res, bool update, struct vsl_error **err)
{
	const typeof(res->cpu) *c = &res->cpu;
	int r;
	if ((c->has_rt_runtime && c->rt_runtime) || (c->has_rt_period && c->rt_period))
		return vsl_error_set(err,
		                     "cpu.realtimeRuntime/realtimePeriod: cgroup v2 has no realtime limits");
	if (c->has_shares && c->shares) {
		r = cg_writef(h->fd, h->dir, "cpu.weight", err, "%llu",
		              (unsigned long long)cg_shares_to_weight(c->shares));
		if (r < 0)
			return r;
	}
	bool quota = c->has_quota && c->quota != 0, period = c->has_period && c->period != 0;
	if (quota || period) {
		char qbuf[32] = "max";
		if (quota && c->quota > 0)
			snprintf(qbuf, sizeof(qbuf), "%lld", (long long)c->quota);
		if (period) {
			if (update && !quota) {
				/* keep the quota in place when only the period changes */
				_cleanup_free_ char *cur = NULL;
				if ((r = cg_read(h->fd, h->dir, "cpu.max", false, &cur, err)) < 0)
					return r;
				size_t qlen = strcspn(cur, " \n");
				if (qlen > 0 && qlen < sizeof(qbuf)) {
					memcpy(qbuf, cur, qlen);
					qbuf[qlen] = '\0';
				}
			}
			r = cg_writef(h->fd, h->dir, "cpu.max", err, "%s %llu", qbuf,
			              (unsigned long long)c->period);
		} else if (update || c->quota > 0) {
			/* a lone quota keeps the current period */
			r = cg_write(h->fd, h->dir, "cpu.max", qbuf, err);
		} else {
			r = 0;
		}
		if (r < 0)
			return r;
	}
	if (c->has_burst && (c->burst || update)) {
		r = cg_writef(h->fd, h->dir, "cpu.max.burst", err, "%llu", (unsigned long long)c->burst);
		if (r < 0)
			return r;
	}
	if (c->has_idle && (c->idle || update)) {
		r = cg_writef(h->fd, h->dir, "cpu.idle", err, "%lld", (long long)c->idle);
		if (r < 0)
			return r;
	}
	if (c->cpus && c->cpus[0] && (r = cg_write(h->fd, h->dir, "cpuset.cpus", c->cpus, err)) < 0)
		return r;
	if (c->mems && c->mems[0] && (r = cg_write(h->fd, h->dir, "cpuset.mems", c->mems, err)) < 0)
		return r;
	return 0;
}

struct io_dev {
	int64_t major, minor;
	uint64_t v[4]; /* rbps wbps riops wiops; 0 = not set */
	bool set[4];
};

static struct io_dev *io_dev_get(struct io_dev *devs, size_t *n, int64_t major, int64_t minor)
{
	for (size_t i = 0; i < *n; i++)
		if (devs[i].major == major && devs[i].minor == minor)
			return &devs[i];
	struct io_dev *d = &devs[(*n)++];
	*d = (struct io_dev){.major = major, .minor = minor};
	return d;
}

static int set_io(struct cg_hier *h, const struct oci_resources *res, struct vsl_error **err)
{
	const typeof(res->blkio) *b = &res->blkio;
	int r;
	/* BFQ takes the blkio weight as is; io.weight (the cost model) needs it scaled. */
	if (b->has_weight && b->weight != 0) { /* docker sends 0 for "unset" */
		_cleanup_error_ struct vsl_error *e = NULL;
		r = cg_writef(h->fd, h->dir, "io.bfq.weight", &e, "%u", (unsigned)b->weight);
		if (r == -ENOENT)
			r = cg_writef(h->fd, h->dir, "io.weight", err, "default %llu",
			              (unsigned long long)cg_blkio_to_io_weight(b->weight));
		else if (r < 0)
			*err = TAKE_PTR(e);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < b->n_weight_devices; i++) {
		const struct oci_weight_device *w = &b->weight_devices[i];
		if (!w->has_weight)
			continue;
		_cleanup_error_ struct vsl_error *e = NULL;
		r = cg_writef(h->fd, h->dir, "io.bfq.weight", &e, "%lld:%lld %u", (long long)w->major,
		              (long long)w->minor, (unsigned)w->weight);
		if (r == -ENOENT)
			r = cg_writef(h->fd, h->dir, "io.weight", err, "%lld:%lld %llu", (long long)w->major,
			              (long long)w->minor,
			              (unsigned long long)cg_blkio_to_io_weight(w->weight));
		else if (r < 0)
			*err = TAKE_PTR(e);
		if (r < 0)
			return r;
	}

	/* io.max takes one line per device with any of the four keys */
	const struct oci_throttle_device *lists[4] = {b->read_bps, b->write_bps, b->read_iops, b->write_iops};
	size_t counts[4] = {b->n_read_bps, b->n_write_bps, b->n_read_iops, b->n_write_iops};
	size_t total = counts[0] + counts[1] + counts[2] + counts[3], n = 0;
	if (total == 0)
		return 0;
	_cleanup_free_ struct io_dev *devs = calloc(total, sizeof(*devs));
	if (devs == NULL)
		return vsl_error_errno(err, ENOMEM, "io.max");
	for (int k = 0; k < 4; k++)
		for (size_t i = 0; i < counts[k]; i++) {
			struct io_dev *d = io_dev_get(devs, &n, lists[k][i].major, lists[k][i].minor);
			d->v[k] = lists[k][i].rate;
			d->set[k] = true;
		}
	static const char *const keys[4] = {"rbps", "wbps", "riops", "wiops"};
	for (size_t i = 0; i < n; i++) {
		char line[200];
		int w = snprintf(line, sizeof(line), "%lld:%lld", (long long)devs[i].major,
		                 (long long)devs[i].minor);
		for (int k = 0; k < 4; k++) {
			if (!devs[i].set[k])
				continue;
			/* 0 removes the limit, as writing 0 to v1's throttle files does */
			if (devs[i].v[k])
				w += snprintf(line + w, sizeof(line) - (size_t)w, " %s=%llu", keys[k],
				              (unsigned long long)devs[i].v[k]);
			else
				w += snprintf(line + w, sizeof(line) - (size_t)w, " %s=max", keys[k]);
		}
		r = cg_write(h->fd, h->dir, "io.max", line, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int v2_apply(struct cgroup *cg, const struct oci_resources *res, bool update, struct vsl_error **err)
{
	struct cg_hier *h = &cg->v2;
	int r;
	if (res == NULL)
		return 0;
	if ((r = set_memory(h, res, update, err)) < 0 || (r = set_cpu(h, res, update, err)) < 0)
		return r;
	if (res->pids.has_limit && (res->pids.limit > 0 || update)) {
		r = res->pids.limit > 0
		        ? cg_writef(h->fd, h->dir, "pids.max", err, "%lld", (long long)res->pids.limit)
		        : cg_write(h->fd, h->dir, "pids.max", "max", err);
		if (r < 0)
			return r;
	}
	if ((r = set_io(h, res, err)) < 0 || (r = cg_v2_set_hugetlb(h, res, err)) < 0)
		return r;
	if (res->n_devices &&
	    (r = cg_bpf_devices_apply(h->fd, h->dir, res->devices, res->n_devices, err)) < 0)
		return r;
	/* last, so that its raw values win over the converted ones */
	return cg_v2_set_unified(h, res, err);
}

static int v2_check(struct cgroup *cg, const struct oci_resources *res, uint32_t *ret_need,
                    struct vsl_error **err)
{
	uint32_t all = cg_required(res);
	if (all & CG_BIT(CG_NET_CLS))
		return vsl_error_set(err,
		                     "network.classID requested but cgroup v2 has no 'net_cls' controller");
	if (all & CG_BIT(CG_NET_PRIO))
		return vsl_error_set(
		    err, "network.priorities requested but cgroup v2 has no 'net_prio' controller");
	uint32_t need = cg_v2_required(res);
	uint32_t missing = need & ~cg_v2_available(cg);
	if (missing)
		return vsl_error_set(
		    err, "the '%s' cgroup controller is needed but not available in '%s/cgroup.controllers'",
		    cg_ctrl_v2_name(first_missing(missing)), cg->v2.mnt);
	*ret_need = need;
	return 0;
}

static int v2_create(struct cgroup *cg, const struct oci_resources *res, struct vsl_error **err)
{
	uint32_t need = 0;
	int r = v2_check(cg, res, &need, err);
	if (r < 0)
		return r;
	r = cg_v2_make(cg, need, V2_CONTROLLERS & cg_v2_available(cg), err);
	if (r < 0)
		return r;
	r = v2_apply(cg, res, false, err);
	if (r < 0 && cg->v2.created)
		cg_remove_dir(&cg->v2, NULL); /* leave nothing half made */
	return r;
}

static int v2_update(struct cgroup *cg, const struct oci_resources *res, struct vsl_error **err)
{
	uint32_t need = 0;
	int r = v2_check(cg, res, &need, err);
	if (r < 0)
		return r;
	if ((r = cg_open_dir(&cg->v2, err)) < 0)
		return r;
	return v2_apply(cg, res, true, err);
}

static int v2_enter(struct cgroup *cg, pid_t pid, struct vsl_error **err)
{
	return cg_enter_dir(&cg->v2, pid, err);
}

/* v2 moves threads only inside a threaded subtree: without CLONE_INTO_CGROUP
 * the whole process goes, at cgroup.procs' price. */
static int v2_enter_self(struct cgroup *cg, bool in_v2, struct vsl_error **err)
{
	return in_v2 ? 0 : cg_enter_dir(&cg->v2, 0, err); /* 0: ourselves */
}

static int read_frozen(struct cg_hier *h, bool *ret, struct vsl_error **err)
{
	uint64_t v = 0;
	int r = cg_read_keyed(h->fd, "cgroup.events", "frozen", &v);
	if (r < 0)
		return vsl_error_errno(err, -r, "read '%s/cgroup.events'", h->dir);
	*ret = v == 1;
	return 0;
}

int cg_v2_freeze_dir(struct cgroup *cg, struct cg_hier *h, bool frozen, struct vsl_error **err)
{
	int r = cg_open_dir(h, err);
	if (r < 0)
		return r;
	r = cg_write(h->fd, h->dir, "cgroup.freeze", frozen ? "1" : "0", err);
	if (r < 0)
		return r;
	/* cgroup.freeze is a request; cgroup.events says when every task has stopped */
	uint64_t deadline = cg_now_ns() + (uint64_t)cg->freeze_timeout_ms * 1000000ull;
	unsigned step = 0;
	for (;;) {
		bool now = false;
		r = read_frozen(h, &now, err);
		if (r < 0)
			return r;
		if (now == frozen)
			return 0;
		if (!cg_poll_sleep(deadline, &step))
			break;
	}
	if (frozen)
		cg_write(h->fd, h->dir, "cgroup.freeze", "0", NULL);
	return vsl_error_set(err, "cgroup '%s' did not %s within %ld ms", h->dir, frozen ? "freeze" : "thaw",
	                     cg->freeze_timeout_ms);
}

int cg_v2_is_frozen_dir(struct cg_hier *h, bool *ret, struct vsl_error **err)
{
	int r = cg_open_dir(h, err);
	if (r < 0)
		return r;
	return read_frozen(h, ret, err);
}

int cg_v2_kill_dir(struct cg_hier *h, int sig, struct vsl_error **err)
{
	if (sig == SIGKILL) {
		int r = cg_open_dir(h, err);
		if (r < 0)
			return r;
		/* cgroup.kill (5.14+) kills the whole subtree atomically, forks included */
		_cleanup_error_ struct vsl_error *e = NULL;
		r = cg_write(h->fd, h->dir, "cgroup.kill", "1", &e);
		if (r >= 0)
			return 0;
		if (r != -ENOENT) {
			*err = TAKE_PTR(e);
			return r;
		}
	}
	return cg_signal_pids(h->dir, sig, err);
}

static int v2_freeze(struct cgroup *cg, bool frozen, struct vsl_error **err)
{
	return cg_v2_freeze_dir(cg, &cg->v2, frozen, err);
}

static int v2_is_frozen(struct cgroup *cg, bool *ret, struct vsl_error **err)
{
	return cg_v2_is_frozen_dir(&cg->v2, ret, err);
}

static int v2_pids(struct cgroup *cg, pid_t **ret, size_t *ret_n, struct vsl_error **err)
{
	pid_t *pids = NULL;
	size_t n = 0;
	int r = cg_collect_pids(cg->v2.dir, &pids, &n, err);
	if (r < 0) {
		free(pids);
		return r;
	}
	*ret = pids;
	*ret_n = n;
	return 0;
}

static int v2_kill_all(struct cgroup *cg, int sig, struct vsl_error **err)
{
	return cg_v2_kill_dir(&cg->v2, sig, err);
}

static int v2_destroy(struct cgroup *cg, struct vsl_error **err)
{
	return cg_remove_dir(&cg->v2, err);
}

static void sum_io_stat(int fd, uint64_t *rbytes, uint64_t *wbytes)
{
	_cleanup_free_ char *s = NULL;
	if (cg_read(fd, "", "io.stat", true, &s, NULL) < 0)
		return;
	/* "8:0 rbytes=1 wbytes=2 rios=3 ..." per device */
	for (char *p = s; (p = strchr(p, ' ')) != NULL; p++) {
		unsigned long long v;
		if (sscanf(p, " rbytes=%llu", &v) == 1)
			*rbytes += v;
		else if (sscanf(p, " wbytes=%llu", &v) == 1)
			*wbytes += v;
	}
}

static int v2_stats(struct cgroup *cg, struct cgroup_stats *s, struct vsl_error **err)
{
	int fd = cg_open_dir(&cg->v2, err);
	if (fd < 0)
		return fd;
	uint64_t usec = 0;
	if (cg_read_keyed(fd, "cpu.stat", "usage_usec", &usec) == 0)
		s->cpu_usage_ns = usec * 1000;
	cg_read_u64(fd, "memory.current", &s->memory_usage);
	cg_read_u64(fd, "memory.max", &s->memory_limit);
	cg_read_u64(fd, "pids.current", &s->pids_current);
	cg_read_u64(fd, "pids.max", &s->pids_limit);
	cg_read_keyed(fd, "memory.events", "oom_kill", &s->oom_kills);
	sum_io_stat(fd, &s->io_read_bytes, &s->io_write_bytes);
	return 0;
}

const struct cgroup_ops cgroup_v2_ops = {
    .create = v2_create,
    .update = v2_update,
    .enter = v2_enter,
    .enter_self = v2_enter_self,
    .freeze = v2_freeze,
    .is_frozen = v2_is_frozen,
    .pids = v2_pids,
    .kill_all = v2_kill_all,
    .destroy = v2_destroy,
    .stats = v2_stats,
};
