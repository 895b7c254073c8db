/* cgroup v1 (legacy): one hierarchy per controller (or a few co-mounted, such
 * as cpu,cpuacct), each with its own directory for the container. Also the
 * controller half of the hybrid layout. */
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

static struct cg_hier *hier_for(struct cgroup *cg, enum cg_ctrl c)
{
	for (size_t i = 0; i < cg->n_v1; i++)
		if (cg->v1[i].mask & CG_BIT(c))
			return &cg->v1[i];
	return NULL;
}

static const char *what_needs(enum cg_ctrl c)
{
	switch (c) {
	case CG_MEMORY:
		return "memory limits";
	case CG_CPU:
		return "cpu limits";
	case CG_CPUSET:
		return "cpuset cpus/mems";
	case CG_PIDS:
		return "pids.limit";
	case CG_BLKIO:
		return "blockIO limits";
	case CG_HUGETLB:
		return "hugepage limits";
	case CG_NET_CLS:
		return "network.classID";
	case CG_NET_PRIO:
		return "network.priorities";
	case CG_DEVICES:
		return "device rules";
	default:
		return "a resource";
	}
}

/* What this layer must do itself: in hybrid, hugetlb may come from the cgroup2
 * side and the unified map always does. */
static int v1_check(struct cgroup *cg, const struct oci_resources *res, struct vsl_error **err)
{
	if (res == NULL)
		return 0;
	uint32_t need = cg_required(res);
	if (cg->layout == CGROUP_HYBRID) {
		if (!hier_for(cg, CG_HUGETLB))
			need &= ~CG_BIT(CG_HUGETLB);
		if (!hier_for(cg, CG_DEVICES))
			need &= ~CG_BIT(CG_DEVICES); /* an eBPF program on the cgroup2 side */
	}
	for (int c = 0; c < CG_CTRL_COUNT; c++)
		if ((need & CG_BIT(c)) && !hier_for(cg, c))
			return cg_missing_controller(err, c, what_needs(c));
	if (cg->layout == CGROUP_LEGACY && res->n_unified)
		return vsl_error_set(err,
		                     "linux.resources.unified ('%s') needs cgroup v2, this host has v1 only",
		                     res->unified[0].key);
	return 0;
}

static bool blank(const char *s)
{
	return s[strspn(s, " \t\n")] == '\0';
}

/* A new cpuset cgroup starts with empty cpus and mems, and the kernel refuses
 * tasks until both are set: copy the parent's down at every level we pass. */
static int cpuset_copy_down(struct cgroup *cg, int parent_fd, const char *parent_dir, int fd, const char *dir,
                            void *userdata, struct vsl_error **err)
{
	(void)cg, (void)userdata;
	static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *mine = NULL, *parent = NULL;
		int r = cg_read(fd, dir, files[i], false, &mine, err);
		if (r < 0)
			return r;
		if (!blank(mine))
			continue;
		r = cg_read(parent_fd, parent_dir, files[i], false, &parent, err);
		if (r < 0)
			return r;
		if (blank(parent))
			continue;
		parent[strcspn(parent, "\n")] = '\0';
		r = cg_write(fd, dir, files[i], parent, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Opens (update) the hierarchy of `c`; NULL with no error when it is not mounted. */
static struct cg_hier *use(struct cgroup *cg, enum cg_ctrl c, int *r, struct vsl_error **err)
{
	struct cg_hier *h = hier_for(cg, c);
	*r = 0;
	if (h && (*r = cg_open_dir(h, err)) < 0)
		return NULL;
	return h;
}

static int write_i64(struct cg_hier *h, const char *file, int64_t v, struct vsl_error **err)
{
	return cg_writef(h->fd, h->dir, file, err, "%lld", (long long)v);
}

/* memsw only exists with swap accounting on; without it there is nothing to limit. */
static int write_memsw(struct cg_hier *h, int64_t v, struct vsl_error **err)
{
	_cleanup_error_ struct vsl_error *e = NULL;
	int r = write_i64(h, "memory.memsw.limit_in_bytes", v, &e);
	if (r < 0 && r != -ENOENT) {
		*err = TAKE_PTR(e);
		return r;
	}
	return 0;
}

static int set_memory(struct cgroup *cg, const struct oci_resources *res, bool update, struct vsl_error **err)
{
	const typeof(res->memory) *m = &res->memory;
	int r;
	bool limit = m->has_limit && (m->limit > 0 || (update && m->limit < 0));
	bool swap = m->has_swap && (m->swap > 0 || (update && m->swap < 0));
	bool any = limit || swap || (m->has_reservation && (m->reservation > 0 || update)) ||
	           (m->has_kernel_tcp && (m->kernel_tcp > 0 || update)) ||
	           (m->has_swappiness && m->swappiness <= 100) || m->disable_oom_killer;
	if (!any)
		return 0;
	struct cg_hier *h = use(cg, CG_MEMORY, &r, err);
	if (h == NULL)
		return r < 0 ? r : cg_missing_controller(err, CG_MEMORY, what_needs(CG_MEMORY));

	int64_t lim = m->limit > 0 ? m->limit : -1, sw = m->swap > 0 ? m->swap : -1;
	if (limit && swap) {
		/* The kernel keeps memsw >= limit at every step, so the order of the
		 * two writes depends on whether the limit goes up or down. */
		uint64_t cur = 0;
		if (cg_read_u64(h->fd, "memory.limit_in_bytes", &cur) < 0)
			cur = UINT64_MAX;
		if (sw == -1 || cur < (uint64_t)sw) {
			if ((r = write_memsw(h, sw, err)) < 0 ||
			    (r = write_i64(h, "memory.limit_in_bytes", lim, err)) < 0)
				return r;
		} else {
			if ((r = write_i64(h, "memory.limit_in_bytes", lim, err)) < 0 ||
			    (r = write_memsw(h, sw, err)) < 0)
				return r;
		}
	} else if (limit) {
		if ((r = write_i64(h, "memory.limit_in_bytes", lim, err)) < 0)
			return r;
	} else if (swap) {
		if ((r = write_memsw(h, sw, err)) < 0)
			return r;
	}
	if (m->has_reservation && (m->reservation > 0 || update) &&
	    (r = write_i64(h, "memory.soft_limit_in_bytes", m->reservation > 0 ? m->reservation : -1, err)) <
	        0)
		return r;
	if (m->has_kernel_tcp && (m->kernel_tcp > 0 || update) &&
	    (r = write_i64(h, "memory.kmem.tcp.limit_in_bytes", m->kernel_tcp > 0 ? m->kernel_tcp : -1,
	                   err)) < 0)
		return r;
	if (m->has_swappiness && m->swappiness <= 100 &&
	    (r = write_i64(h, "memory.swappiness", (int64_t)m->swappiness, err)) < 0)
		return r;
	if (m->disable_oom_killer && (r = cg_write(h->fd, h->dir, "memory.oom_control", "1", err)) < 0)
		return r;
	return 0;
}

static int set_cpu(struct cgroup *cg, const struct oci_resources *res, bool update, struct vsl_error **err)
{
	const typeof(res->cpu) *c = &res->cpu;
	int r;
	bool shares = c->has_shares && c->shares, period = c->has_period && c->period;
	bool quota = c->has_quota && (c->quota > 0 || (update && c->quota < 0));
	bool burst = c->has_burst && (c->burst || update), idle = c->has_idle && (c->idle || update);
	bool rt_period = c->has_rt_period && c->rt_period, rt_runtime = c->has_rt_runtime && c->rt_runtime;
	if (shares || period || quota || burst || idle || rt_period || rt_runtime) {
		struct cg_hier *h = use(cg, CG_CPU, &r, err);
		if (h == NULL)
			return r < 0 ? r : cg_missing_controller(err, CG_CPU, what_needs(CG_CPU));
		if (shares && (r = cg_writef(h->fd, h->dir, "cpu.shares", err, "%llu",
		                             (unsigned long long)c->shares)) < 0)
			return r;
		if (period) {
			/* A period below the current quota's ratio to the parent is refused
			 * (EINVAL); in that order the quota goes first. */
			_cleanup_error_ struct vsl_error *e = NULL;
			r = cg_writef(h->fd, h->dir, "cpu.cfs_period_us", &e, "%llu",
			              (unsigned long long)c->period);
			if (r == -EINVAL && quota) {
				if ((r = write_i64(h, "cpu.cfs_quota_us", c->quota > 0 ? c->quota : -1,
				                   err)) < 0)
					return r;
				quota = false;
				r = cg_writef(h->fd, h->dir, "cpu.cfs_period_us", err, "%llu",
				              (unsigned long long)c->period);
			} else if (r < 0) {
				*err = TAKE_PTR(e);
			}
			if (r < 0)
				return r;
		}
		if (quota && (r = write_i64(h, "cpu.cfs_quota_us", c->quota > 0 ? c->quota : -1, err)) < 0)
			return r;
		if (burst && (r = cg_writef(h->fd, h->dir, "cpu.cfs_burst_us", err, "%llu",
		                            (unsigned long long)c->burst)) < 0)
			return r;
		if (rt_period && (r = cg_writef(h->fd, h->dir, "cpu.rt_period_us", err, "%llu",
		                                (unsigned long long)c->rt_period)) < 0)
			return r;
		if (rt_runtime && (r = write_i64(h, "cpu.rt_runtime_us", c->rt_runtime, err)) < 0)
			return r;
		if (idle && (r = write_i64(h, "cpu.idle", c->idle, err)) < 0)
			return r;
	}
	bool cpus = c->cpus && c->cpus[0], mems = c->mems && c->mems[0];
	if (cpus || mems) {
		struct cg_hier *h = use(cg, CG_CPUSET, &r, err);
		if (h == NULL)
			return r < 0 ? r : cg_missing_controller(err, CG_CPUSET, what_needs(CG_CPUSET));
		if (cpus && (r = cg_write(h->fd, h->dir, "cpuset.cpus", c->cpus, err)) < 0)
			return r;
		if (mems && (r = cg_write(h->fd, h->dir, "cpuset.mems", c->mems, err)) < 0)
			return r;
	}
	return 0;
}

/* blkio.weight is CFQ's; kernels since 5.0 have BFQ's blkio.bfq.weight instead. */
static int write_weight(struct cg_hier *h, const char *file, const char *bfq_file, const char *value,
                        struct vsl_error **err)
{
	_cleanup_error_ struct vsl_error *e = NULL;
	int r = cg_write(h->fd, h->dir, file, value, &e);
	if (r == -ENOENT)
		return cg_write(h->fd, h->dir, bfq_file, value, err);
	if (r < 0)
		*err = TAKE_PTR(e);
	return r;
}

static int set_blkio(struct cgroup *cg, const struct oci_resources *res, struct vsl_error **err)
{
	const typeof(res->blkio) *b = &res->blkio;
	int r;
	if (!(cg_required(res) & CG_BIT(CG_BLKIO)))
		return 0;
	struct cg_hier *h = use(cg, CG_BLKIO, &r, err);
	if (h == NULL)
		return r < 0 ? r : cg_missing_controller(err, CG_BLKIO, what_needs(CG_BLKIO));
	char buf[64];
	if (b->has_weight && b->weight != 0) { /* docker sends 0 for "unset" */
		snprintf(buf, sizeof(buf), "%u", (unsigned)b->weight);
		if ((r = write_weight(h, "blkio.weight", "blkio.bfq.weight", buf, err)) < 0)
			return r;
	}
	if (b->has_leaf_weight && b->leaf_weight != 0 &&
	    (r = cg_writef(h->fd, h->dir, "blkio.leaf_weight", err, "%u", (unsigned)b->leaf_weight)) < 0)
		return r;
	for (size_t i = 0; i < b->n_weight_devices; i++) {
		const struct oci_weight_device *w = &b->weight_devices[i];
		if (w->has_weight) {
			snprintf(buf, sizeof(buf), "%lld:%lld %u", (long long)w->major, (long long)w->minor,
			         (unsigned)w->weight);
			if ((r = write_weight(h, "blkio.weight_device", "blkio.bfq.weight_device", buf,
			                      err)) < 0)
				return r;
		}
		if (w->has_leaf_weight &&
		    (r = cg_writef(h->fd, h->dir, "blkio.leaf_weight_device", err, "%lld:%lld %u",
		                   (long long)w->major, (long long)w->minor, (unsigned)w->leaf_weight)) < 0)
			return r;
	}
	static const char *const files[4] = {
	    "blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
	    "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device"};
	const struct oci_throttle_device *lists[4] = {b->read_bps, b->write_bps, b->read_iops, b->write_iops};
	size_t counts[4] = {b->n_read_bps, b->n_write_bps, b->n_read_iops, b->n_write_iops};
	for (int k = 0; k < 4; k++)
		for (size_t i = 0; i < counts[k]; i++)
			if ((r = cg_writef(h->fd, h->dir, files[k], err, "%lld:%lld %llu",
			                   (long long)lists[k][i].major, (long long)lists[k][i].minor,
			                   (unsigned long long)lists[k][i].rate)) < 0)
				return r;
	return 0;
}

static int set_hugetlb(struct cgroup *cg, const struct oci_resources *res, struct vsl_error **err)
{
	int r;
	if (res->n_hugepage_limits == 0)
		return 0;
	struct cg_hier *h = use(cg, CG_HUGETLB, &r, err);
	if (h == NULL) {
		if (r < 0)
			return r;
		if (cg->layout == CGROUP_HYBRID)
			return 0; /* the cgroup2 half sets them */
		return cg_missing_controller(err, CG_HUGETLB, what_needs(CG_HUGETLB));
	}
	for (size_t i = 0; i < res->n_hugepage_limits; i++) {
		char file[96];
		int n = snprintf(file, sizeof(file), "hugetlb.%s.limit_in_bytes",
		                 res->hugepage_limits[i].page_size);
		if (n < 0 || (size_t)n >= sizeof(file))
			return vsl_error_set(err, "hugepage size '%s'", res->hugepage_limits[i].page_size);
		if ((r = cg_writef(h->fd, h->dir, file, err, "%llu",
		                   (unsigned long long)res->hugepage_limits[i].limit)) < 0)
			return r;
	}
	return 0;
}

static int set_network(struct cgroup *cg, const struct oci_resources *res, struct vsl_error **err)
{
	int r;
	if (res->network.has_class_id) {
		struct cg_hier *h = use(cg, CG_NET_CLS, &r, err);
		if (h == NULL)
			return r < 0 ? r : cg_missing_controller(err, CG_NET_CLS, what_needs(CG_NET_CLS));
		if ((r = cg_writef(h->fd, h->dir, "net_cls.classid", err, "%u",
		                   (unsigned)res->network.class_id)) < 0)
			return r;
	}
	if (res->network.n_priorities) {
		struct cg_hier *h = use(cg, CG_NET_PRIO, &r, err);
		if (h == NULL)
			return r < 0 ? r : cg_missing_controller(err, CG_NET_PRIO, what_needs(CG_NET_PRIO));
		for (size_t i = 0; i < res->network.n_priorities; i++)
			if ((r = cg_writef(h->fd, h->dir, "net_prio.ifpriomap", err, "%s %s",
			                   res->network.priorities[i].key,
			                   res->network.priorities[i].value)) < 0)
				return r;
	}
	return 0;
}

static void format_rule(const struct oci_device_rule *d, char *buf, size_t size)
{
	char maj[24] = "*", min[24] = "*";
	if (d->type == 'a' || d->type == 0) {
		snprintf(buf, size, "a");
		return;
	}
	if (d->major >= 0)
		snprintf(maj, sizeof(maj), "%lld", (long long)d->major);
	if (d->minor >= 0)
		snprintf(min, sizeof(min), "%lld", (long long)d->minor);
	snprintf(buf, size, "%c %s:%s %s", d->type, maj, min, d->access && d->access[0] ? d->access : "rwm");
}

static int set_devices(struct cgroup *cg, const struct oci_resources *res, struct vsl_error **err)
{
	int r;
	if (res->n_devices == 0)
		return 0;
	struct cg_hier *h = use(cg, CG_DEVICES, &r, err);
	if (h == NULL) {
		if (r < 0 || cg->layout == CGROUP_HYBRID)
			return r; /* hybrid: the cgroup2 half attaches a program */
		return cg_missing_controller(err, CG_DEVICES, what_needs(CG_DEVICES));
	}
	/* Start from deny-all, then replay the rules in order, as the spec reads them.
	 * A leading "a" rule sets that start itself (and "a" with child cgroups is EINVAL,
	 * so one write fewer matters on update). */
	const struct oci_device_rule *first = &res->devices[0];
	if (!(first->type == 'a' || first->type == 0) &&
	    (r = cg_write(h->fd, h->dir, "devices.deny", "a", err)) < 0)
		return r;
	for (size_t i = 0; i < res->n_devices; i++) {
		char rule[80];
		format_rule(&res->devices[i], rule, sizeof(rule));
		if ((r = cg_write(h->fd, h->dir, res->devices[i].allow ? "devices.allow" : "devices.deny",
		                  rule, err)) < 0)
			return r;
	}
	return 0;
}

static int v1_apply(struct cgroup *cg, const struct oci_resources *res, bool update, struct vsl_error **err)
{
	int r;
	if (res == NULL)
		return 0;
	if ((r = set_memory(cg, res, update, err)) < 0 || (r = set_cpu(cg, res, update, err)) < 0)
		return r;
	if (res->pids.has_limit && (res->pids.limit > 0 || update)) {
		struct cg_hier *h = use(cg, CG_PIDS, &r, err);
		if (h == NULL)
			return r < 0 ? r : cg_missing_controller(err, CG_PIDS, what_needs(CG_PIDS));
		r = res->pids.limit > 0 ? write_i64(h, "pids.max", res->pids.limit, err)
		                        : cg_write(h->fd, h->dir, "pids.max", "max", err);
		if (r < 0)
			return r;
	}
	if ((r = set_blkio(cg, res, err)) < 0 || (r = set_hugetlb(cg, res, err)) < 0 ||
	    (r = set_network(cg, res, err)) < 0 || (r = set_devices(cg, res, err)) < 0)
		return r;
	return 0;
}

static void undo_created(struct cgroup *cg)
{
	for (size_t i = 0; i < cg->n_v1; i++)
		if (cg->v1[i].created) {
			cg_remove_dir(&cg->v1[i], NULL);
			cg->v1[i].created = false;
		}
}

/* Nothing is placed by clone3 on v1: every hierarchy is made by v1_create_rest(). */
static int v1_create(struct cgroup *cg, const struct oci_resources *res, struct vsl_error **err)
{
	return v1_check(cg, res, err);
}

static int v1_create_rest(struct cgroup *cg, const struct oci_resources *res, struct vsl_error **err)
{
	int r;
	/* every mounted hierarchy, not only those with limits: ps, kill and
	 * systemd's name=systemd tracking all look there */
	for (size_t i = 0; i < cg->n_v1; i++) {
		struct cg_hier *h = &cg->v1[i];
		h->created = false;
		r = cg_mkdir_path(cg, h, (h->mask & CG_BIT(CG_CPUSET)) ? cpuset_copy_down : NULL, NULL, err);
		if (r < 0)
			goto undo;
	}
	r = v1_apply(cg, res, false, err);
	if (r >= 0)
		return 0;
undo:
	undo_created(cg);
	return r;
}

static int v1_update(struct cgroup *cg, const struct oci_resources *res, struct vsl_error **err)
{
	int r = v1_check(cg, res, err);
	if (r < 0)
		return r;
	return v1_apply(cg, res, true, err);
}

static int v1_enter(struct cgroup *cg, pid_t pid, struct vsl_error **err)
{
	for (size_t i = 0; i < cg->n_v1; i++) {
		int r = cg_enter_dir(&cg->v1[i], pid, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int v1_enter_self(struct cgroup *cg, bool in_v2, struct vsl_error **err)
{
	(void)in_v2; /* no v2 half */
	for (size_t i = 0; i < cg->n_v1; i++) {
		int r = cg_enter_self_v1(&cg->v1[i], err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int read_state(struct cg_hier *h, char *buf, size_t size, struct vsl_error **err)
{
	_cleanup_free_ char *s = NULL;
	int r = cg_read(h->fd, h->dir, "freezer.state", false, &s, err);
	if (r < 0)
		return r;
	snprintf(buf, size, "%.*s", (int)strcspn(s, "\n"), s);
	return 0;
}

static int v1_freeze(struct cgroup *cg, bool frozen, struct vsl_error **err)
{
	int r;
	struct cg_hier *h = use(cg, CG_FREEZER, &r, err);
	if (h == NULL)
		return r < 0 ? r : cg_missing_controller(err, CG_FREEZER, frozen ? "pause" : "resume");
	const char *want = frozen ? "FROZEN" : "THAWED";
	if ((r = cg_write(h->fd, h->dir, "freezer.state", want, err)) < 0)
		return r;
	uint64_t deadline = cg_now_ns() + (uint64_t)cg->freeze_timeout_ms * 1000000ull;
	unsigned step = 0;
	for (;;) {
		char state[32];
		if ((r = read_state(h, state, sizeof(state), err)) < 0)
			return r;
		if (strcmp(state, want) == 0)
			return 0;
		if (!cg_poll_sleep(deadline, &step))
			break;
		/* FREEZING can stick while a task sits in a syscall; asking again retries it */
		if (frozen && step % 8 == 0 && (r = cg_write(h->fd, h->dir, "freezer.state", want, err)) < 0)
			return r;
	}
	if (frozen)
		cg_write(h->fd, h->dir, "freezer.state", "THAWED", NULL);
	return vsl_error_set(err, "cgroup '%s' did not reach %s within %ld ms", h->dir, want,
	                     cg->freeze_timeout_ms);
}

static int v1_is_frozen(struct cgroup *cg, bool *ret, struct vsl_error **err)
{
	int r;
	struct cg_hier *h = use(cg, CG_FREEZER, &r, err);
	if (h == NULL)
		return r < 0 ? r : cg_missing_controller(err, CG_FREEZER, "pause state");
	char state[32];
	if ((r = read_state(h, state, sizeof(state), err)) < 0)
		return r;
	*ret = strcmp(state, "FROZEN") == 0;
	return 0;
}

/* The hierarchy whose cgroup.procs lists the container: any will do, since
 * enter writes to all; pids or name=systemd are the usual ones. */
static struct cg_hier *procs_hier(struct cgroup *cg)
{
	struct cg_hier *h = hier_for(cg, CG_PIDS);
	if (h == NULL)
		h = hier_for(cg, CG_SYSTEMD);
	return h ? h : &cg->v1[0];
}

static int v1_pids(struct cgroup *cg, pid_t **ret, size_t *ret_n, struct vsl_error **err)
{
	pid_t *pids = NULL;
	size_t n = 0;
	int r = cg_collect_pids(procs_hier(cg)->dir, &pids, &n, err);
	if (r < 0) {
		free(pids);
		return r;
	}
	*ret = pids;
	*ret_n = n;
	return 0;
}

static int v1_kill_all(struct cgroup *cg, int sig, struct vsl_error **err)
{
	/* Without cgroup.kill, a forking process could escape a pid-by-pid kill:
	 * freeze first so the list cannot grow, kill, then thaw to let SIGKILL land. */
	bool frozen = sig == SIGKILL && hier_for(cg, CG_FREEZER) && v1_freeze(cg, true, NULL) == 0;
	int r = cg_signal_pids(procs_hier(cg)->dir, sig, err);
	if (frozen)
		v1_freeze(cg, false, r < 0 ? NULL : err);
	return r;
}

static int v1_destroy(struct cgroup *cg, struct vsl_error **err)
{
	int ret = 0;
	for (size_t i = 0; i < cg->n_v1; i++) {
		int r = cg_remove_dir(&cg->v1[i], err);
		if (r < 0 && ret == 0)
			ret = r; /* keep going: remove as much as we can */
	}
	return ret;
}

static void sum_blkio(int fd, uint64_t *rbytes, uint64_t *wbytes)
{
	_cleanup_free_ char *s = NULL;
	if (cg_read(fd, "", "blkio.throttle.io_service_bytes_recursive", true, &s, NULL) < 0 &&
	    cg_read(fd, "", "blkio.throttle.io_service_bytes", true, &s, NULL) < 0)
		return;
	/* "8:0 Read 4096\n8:0 Write 0\n...Total 4096" */
	for (char *line = s; line && *line;) {
		char dev[32], op[16];
		unsigned long long v;
		if (sscanf(line, "%31s %15s %llu", dev, op, &v) == 3) {
			if (strcmp(op, "Read") == 0)
				*rbytes += v;
			else if (strcmp(op, "Write") == 0)
				*wbytes += v;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
}

static int v1_stats(struct cgroup *cg, struct cgroup_stats *s, struct vsl_error **err)
{
	int r;
	struct cg_hier *h;
	if ((h = use(cg, CG_CPUACCT, &r, err)) != NULL)
		cg_read_u64(h->fd, "cpuacct.usage", &s->cpu_usage_ns);
	else if (r < 0)
		return r;
	if ((h = use(cg, CG_MEMORY, &r, err)) != NULL) {
		cg_read_u64(h->fd, "memory.usage_in_bytes", &s->memory_usage);
		cg_read_u64(h->fd, "memory.limit_in_bytes", &s->memory_limit);
		/* v1 reports "no limit" as the largest page-aligned long */
		if (s->memory_limit >= (UINT64_MAX >> 2))
			s->memory_limit = UINT64_MAX;
		cg_read_keyed(h->fd, "memory.oom_control", "oom_kill", &s->oom_kills);
	} else if (r < 0) {
		return r;
	}
	if ((h = use(cg, CG_PIDS, &r, err)) != NULL) {
		cg_read_u64(h->fd, "pids.current", &s->pids_current);
		cg_read_u64(h->fd, "pids.max", &s->pids_limit);
	} else if (r < 0) {
		return r;
	}
	if ((h = use(cg, CG_BLKIO, &r, err)) != NULL)
		sum_blkio(h->fd, &s->io_read_bytes, &s->io_write_bytes);
	else if (r < 0)
		return r;
	return 0;
}

const struct cgroup_ops cgroup_v1_ops = {
    .create = v1_create,
    .create_rest = v1_create_rest,
    .update = v1_update,
    .enter = v1_enter,
    .enter_self = v1_enter_self,
    .freeze = v1_freeze,
    .is_frozen = v1_is_frozen,
    .pids = v1_pids,
    .kill_all = v1_kill_all,
    .destroy = v1_destroy,
    .stats = v1_stats,
};
