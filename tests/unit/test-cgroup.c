/* Cgroups: layout detection and the exact files written, on fake trees (pure
 * v2, pure v1 with co-mounted controllers, hybrid); then the real cgroups of
 * this machine when run as root (create, limits, enter, freeze, kill, destroy,
 * and the eBPF device program on the cgroup2 mount). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/bpf.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "runtime/cgroup-internal.h"
#include "runtime/cgroup.h"
#include "runtime/config.h"
#include "util/cleanup.h"
#include "util/error.h"

/* ---- fake trees ---- */

static char g_root[64];
static char *g_log[256];
static size_t g_nlog;

static void observe(const char *dir, const char *file, const char *value)
{
	size_t rl = strlen(g_root);
	if (strncmp(dir, g_root, rl) == 0)
		dir += rl;
	if (g_nlog < ARRAY_SIZE(g_log))
		assert_true(asprintf(&g_log[g_nlog++], "%s/%s=%s", dir, file, value) > 0);
}

static void log_clear(void)
{
	for (size_t i = 0; i < g_nlog; i++)
		free(g_log[i]);
	g_nlog = 0;
}

/* Asserts the writes, in order, and nothing else. */
static void expect_writes(const char *const *want)
{
	size_t n = 0;
	for (; want[n]; n++) {
		if (n >= g_nlog)
			fail_msg("missing write #%zu: %s", n, want[n]);
		assert_string_equal(g_log[n], want[n]);
	}
	if (g_nlog != n)
		fail_msg("unexpected extra write: %s", g_log[n]);
}

static void mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(buf, 0755);
			*p = '/';
		}
	mkdir(buf, 0755);
}

/* Creates root/rel with content (parents too), as the kernel would present it. */
static void put(const char *rel, const char *content)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s%s", g_root, rel);
	char *slash = strrchr(path, '/');
	*slash = '\0';
	mkdir_p(path);
	*slash = '/';
	FILE *f = fopen(path, "we");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static char *get(const char *rel)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s%s", g_root, rel);
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return NULL;
	char *s = calloc(1, 4096);
	size_t n = fread(s, 1, 4095, f);
	s[n] = '\0';
	fclose(f);
	return s;
}

static bool exists(const char *rel)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s%s", g_root, rel);
	return access(path, F_OK) == 0;
}

static void put_files(const char *dir, const char *const *files)
{
	char rel[PATH_MAX];
	for (; *files; files++) {
		snprintf(rel, sizeof(rel), "%s/%s", dir, *files);
		put(rel, "");
	}
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

static int fake_setup(void **state)
{
	(void)state;
	snprintf(g_root, sizeof(g_root), "/tmp/vessel-cgtest-XXXXXX");
	assert_non_null(mkdtemp(g_root));
	cgroup_write_observer = observe;
	return 0;
}

static int fake_teardown(void **state)
{
	(void)state;
	cgroup_write_observer = NULL;
	log_clear();
	nftw(g_root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static const char mi_v2[] =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "30 22 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n";

/* co-mounted cpu,cpuacct and net_cls,net_prio; no hugetlb */
static const char mi_v1[] =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "31 22 0:28 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:5 - tmpfs tmpfs ro,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:6 - cgroup cgroup "
    "rw,xattr,name=systemd\n"
    "33 31 0:30 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:7 - cgroup cgroup "
    "rw,cpu,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:8 - cgroup cgroup rw,memory\n"
    "35 31 0:32 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup rw,cpuset\n"
    "36 31 0:33 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,pids\n"
    "37 31 0:34 / /sys/fs/cgroup/blkio rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,blkio\n"
    "38 31 0:35 / /sys/fs/cgroup/devices rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup "
    "rw,devices\n"
    "39 31 0:36 / /sys/fs/cgroup/freezer rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup "
    "rw,freezer\n"
    "40 31 0:37 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup "
    "rw,net_cls,net_prio\n";

/* like this project's dev machines: every controller alone, cgroup2 at unified */
static const char mi_hybrid[] =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
    "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

static int open_fake(const char *mountinfo, const char *path, bool systemd, struct cgroup **cg,
                     struct vsl_error **err)
{
	put("/mountinfo", mountinfo);
	char mi[PATH_MAX];
	snprintf(mi, sizeof(mi), "%s/mountinfo", g_root);
	return cgroup_open_at(mi, g_root, path, "c1", systemd, cg, err);
}

static void cgroup_freep(struct cgroup **cg)
{
	cgroup_free(*cg);
}
#define _cleanup_cgroup_ _cleanup_(cgroup_freep)

/* ---- layout and path ---- */

static void test_layouts(void **state)
{
	(void)state;
	_cleanup_error_ struct vsl_error *err = NULL;
	{
		_cleanup_cgroup_ struct cgroup *cg = NULL;
		assert_int_equal(open_fake(mi_v2, NULL, false, &cg, &err), 0);
		assert_int_equal(cgroup_layout(cg), CGROUP_UNIFIED);
		assert_string_equal(cgroup_path(cg), "/vessel/c1");
	}
	{
		_cleanup_cgroup_ struct cgroup *cg = NULL;
		assert_int_equal(open_fake(mi_v1, NULL, false, &cg, &err), 0);
		assert_int_equal(cgroup_layout(cg), CGROUP_LEGACY);
		assert_int_equal(cg->n_v1, 9);
		/* the co-mounted hierarchy is one, holding both controllers */
		bool found = false;
		for (size_t i = 0; i < cg->n_v1; i++)
			if (cg->v1[i].mask == (CG_BIT(CG_CPU) | CG_BIT(CG_CPUACCT))) {
				found = true;
				assert_string_equal(cg->v1[i].mnt + strlen(g_root),
				                    "/sys/fs/cgroup/cpu,cpuacct");
				assert_string_equal(cg->v1[i].dir + strlen(g_root),
				                    "/sys/fs/cgroup/cpu,cpuacct/vessel/c1");
			}
		assert_true(found);
		assert_null(cg->v2.mnt);
		assert_int_equal(cgroup_unified_fd(cg), -1);
	}
	{
		_cleanup_cgroup_ struct cgroup *cg = NULL;
		assert_int_equal(open_fake(mi_hybrid, NULL, false, &cg, &err), 0);
		assert_int_equal(cgroup_layout(cg), CGROUP_HYBRID);
		assert_int_equal(cg->n_v1, 9);
		assert_string_equal(cg->v2.dir + strlen(g_root), "/sys/fs/cgroup/unified/vessel/c1");
		assert_int_equal(cgroup_unified_fd(cg), -1);
	}
	{
		_cleanup_cgroup_ struct cgroup *cg = NULL;
		assert_true(open_fake("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n", NULL, false, &cg, &err) < 0);
		assert_non_null(strstr(vsl_error_message(err), "no cgroup filesystem"));
	}
}

static void check_path(const char *in, bool systemd, const char *want)
{
	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_cgroup_ struct cgroup *cg = NULL;
	int r = open_fake(mi_v2, in, systemd, &cg, &err);
	if (want == NULL) {
		assert_true(r < 0);
		return;
	}
	if (r < 0)
		fail_msg("%s: %s", in, vsl_error_message(err));
	assert_string_equal(cgroup_path(cg), want);
}

static void test_paths(void **state)
{
	(void)state;
	check_path(NULL, false, "/vessel/c1");
	check_path("", false, "/vessel/c1");
	check_path("/a/b", false, "/a/b");
	check_path("a/b", false, "/a/b"); /* relative: to the hierarchy root, as runc */
	check_path("//a/./b/", false, "/a/b");
	check_path("/a/../../etc", false, NULL);
	check_path("/", false, NULL);
	check_path("system.slice:docker:abc", true, "/system.slice/docker-abc.scope");
	check_path("a-b-c.slice:crio:x", true, "/a.slice/a-b.slice/a-b-c.slice/crio-x.scope");
	check_path("-.slice:p:n", true, "/p-n.scope");
	check_path(":p:n", true, "/system.slice/p-n.scope");
	check_path("user.slice::n", true, "/user.slice/n.scope");
	check_path("user.slice:p:pod-a.slice", true, "/pod.slice/pod-a.slice");
	check_path(NULL, true, "/system.slice/vessel-c1.scope");
	check_path("a--b.slice:p:n", true, NULL);
	check_path("a-.slice:p:n", true, NULL);
	check_path("notaslice:p:n", true, NULL);
	check_path("/a/b", true, NULL);
	check_path("a.slice:p:../x", true, NULL);

	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_cgroup_ struct cgroup *cg = NULL;
	assert_true(open_fake(mi_v2, "/a/b", true, &cg, &err) < 0);
	assert_string_equal(vsl_error_message(err),
	                    "cgroupsPath '/a/b': with systemd cgroups it must read 'slice:prefix:name'");
}

/* ---- v2 ---- */

static const char *const v2_leaf_files[] = {
    "cgroup.procs", "cgroup.freeze", "cgroup.kill",     "memory.max",  "memory.low",  "memory.swap.max",
    "cpu.weight",   "cpu.max",       "cpu.max.burst",   "cpuset.cpus", "cpuset.mems", "pids.max",
    "io.max",       "io.weight",     "hugetlb.2MB.max", "memory.high", NULL};

static void v2_tree(const char *root_controllers)
{
	put("/sys/fs/cgroup/cgroup.controllers", root_controllers);
	put("/sys/fs/cgroup/cgroup.subtree_control", "");
	put("/sys/fs/cgroup/vessel/cgroup.controllers", root_controllers);
	put("/sys/fs/cgroup/vessel/cgroup.subtree_control", "");
	put_files("/sys/fs/cgroup/vessel/c1", v2_leaf_files);
	put("/sys/fs/cgroup/vessel/c1/cgroup.events", "populated 0\nfrozen 0\n");
}

static struct oci_throttle_device rbps[] = {{8, 0, 1048576}};
static struct oci_throttle_device wiops[] = {{8, 0, 100}, {8, 16, 0}};
static struct oci_hugepage_limit huge[] = {{(char *)"2MB", 4194304}};
static struct json_kv unified[] = {{(char *)"memory.high", (char *)"900000"}};

static struct oci_resources sample_resources(void)
{
	struct oci_resources r = {0};
	r.memory.has_limit = true;
	r.memory.limit = 1048576;
	r.memory.has_swap = true;
	r.memory.swap = 2097152;
	r.memory.has_reservation = true;
	r.memory.reservation = 524288;
	r.cpu.has_shares = true;
	r.cpu.shares = 1024;
	r.cpu.has_quota = true;
	r.cpu.quota = 50000;
	r.cpu.has_period = true;
	r.cpu.period = 100000;
	r.pids.has_limit = true;
	r.pids.limit = 100;
	r.blkio.read_bps = rbps;
	r.blkio.n_read_bps = 1;
	r.blkio.write_iops = wiops;
	r.blkio.n_write_iops = 2;
	r.hugepage_limits = huge;
	r.n_hugepage_limits = 1;
	r.unified = unified;
	r.n_unified = 1;
	return r;
}

static void test_v2_create(void **state)
{
	(void)state;
	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_cgroup_ struct cgroup *cg = NULL;
	v2_tree("cpuset cpu io memory hugetlb pids rdma misc\n");
	assert_int_equal(open_fake(mi_v2, NULL, false, &cg, &err), 0);
	struct oci_resources res = sample_resources();
	log_clear();
	if (cgroup_create(cg, &res, &err) < 0)
		fail_msg("%s", vsl_error_message(err));
	static const char *const want[] = {
	    "/sys/fs/cgroup/cgroup.subtree_control=+cpu +cpuset +memory +io +pids +hugetlb",
	    "/sys/fs/cgroup/vessel/cgroup.subtree_control=+cpu +cpuset +memory +io +pids +hugetlb",
	    "/sys/fs/cgroup/vessel/c1/memory.max=1048576",
	    "/sys/fs/cgroup/vessel/c1/memory.low=524288",
	    "/sys/fs/cgroup/vessel/c1/memory.swap.max=1048576", /* memory+swap minus memory */
	    "/sys/fs/cgroup/vessel/c1/cpu.weight=39",           /* 1 + (1022 * 9999) / 262142 */
	    "/sys/fs/cgroup/vessel/c1/cpu.max=50000 100000",
	    "/sys/fs/cgroup/vessel/c1/pids.max=100",
	    "/sys/fs/cgroup/vessel/c1/io.max=8:0 rbps=1048576 wiops=100",
	    "/sys/fs/cgroup/vessel/c1/io.max=8:16 wiops=max",
	    "/sys/fs/cgroup/vessel/c1/hugetlb.2MB.max=4194304",
	    "/sys/fs/cgroup/vessel/c1/memory.high=900000",
	    NULL,
	};
	expect_writes(want);
	assert_true(cgroup_unified_fd(cg) >= 0);

	/* controllers already on: no write to subtree_control; no resources: no write at all */
	put("/sys/fs/cgroup/cgroup.subtree_control", "cpuset cpu io memory hugetlb pids\n");
	put("/sys/fs/cgroup/vessel/cgroup.subtree_control", "cpuset cpu io memory hugetlb pids\n");
	log_clear();
	assert_int_equal(cgroup_create(cg, NULL, &err), 0);
	assert_int_equal(g_nlog, 0);

	/* update: only what is set, and "max" for -1 */
	struct oci_resources up = {0};
	up.memory.has_limit = true;
	up.memory.limit = -1;
	up.cpu.has_period = true;
	up.cpu.period = 20000;
	put("/sys/fs/cgroup/vessel/c1/cpu.max", "50000 100000\n");
	log_clear();
	if (cgroup_update(cg, &up, &err) < 0)
		fail_msg("%s", vsl_error_message(err));
	static const char *const want_up[] = {
	    "/sys/fs/cgroup/vessel/c1/memory.max=max",
	    "/sys/fs/cgroup/vessel/c1/cpu.max=50000 20000", /* the quota stays */
	    NULL,
	};
	expect_writes(want_up);
}

static void test_v2_conversions(void **state)
{
	(void)state;
	assert_int_equal(cg_shares_to_weight(2), 1);
	assert_int_equal(cg_shares_to_weight(1024), 39);
	assert_int_equal(cg_shares_to_weight(262144), 10000);
	assert_int_equal(cg_blkio_to_io_weight(10), 1);
	assert_int_equal(cg_blkio_to_io_weight(500), 4950);
	assert_int_equal(cg_blkio_to_io_weight(1000), 10000);
}

static void test_v2_errors(void **state)
{
	(void)state;
	_cleanup_cgroup_ struct cgroup *cg = NULL;
	v2_tree("cpuset cpu io memory pids\n"); /* no hugetlb */
	{
		_cleanup_error_ struct vsl_error *err = NULL;
		assert_int_equal(open_fake(mi_v2, NULL, false, &cg, &err), 0);
		struct oci_resources res = {.hugepage_limits = huge, .n_hugepage_limits = 1};
		log_clear();
		assert_true(cgroup_create(cg, &res, &err) < 0);
		char want[PATH_MAX];
		snprintf(want, sizeof(want),
		         "the 'hugetlb' cgroup controller is needed but not available in "
		         "'%s/sys/fs/cgroup/cgroup.controllers'",
		         g_root);
		assert_string_equal(vsl_error_message(err), want);
		assert_int_equal(g_nlog, 0); /* checked before anything was made */
	}
	{
		_cleanup_error_ struct vsl_error *err = NULL;
		struct oci_resources res = {0};
		res.memory.has_limit = true;
		res.memory.limit = 2000;
		res.memory.has_swap = true;
		res.memory.swap = 1000;
		assert_true(cgroup_create(cg, &res, &err) < 0);
		assert_non_null(strstr(vsl_error_message(err),
		                       "memory.swap (1000) must be at least memory.limit (2000)"));
	}
	{
		_cleanup_error_ struct vsl_error *err = NULL;
		struct json_kv bad[] = {{(char *)"../../etc/passwd", (char *)"x"}};
		struct oci_resources res = {.unified = bad, .n_unified = 1};
		assert_true(cgroup_create(cg, &res, &err) < 0);
		assert_string_equal(vsl_error_message(err),
		                    "linux.resources.unified: invalid file name '../../etc/passwd'");
	}
	{
		/* the file and the value are named */
		_cleanup_error_ struct vsl_error *err = NULL;
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/sys/fs/cgroup/vessel/c1/pids.max", g_root);
		unlink(path);
		mkdir(path, 0755);
		struct oci_resources res = {0};
		res.pids.has_limit = true;
		res.pids.limit = 200;
		assert_true(cgroup_create(cg, &res, &err) < 0);
		char want[PATH_MAX + 64];
		snprintf(want, sizeof(want), "write '200' to '%s': Is a directory", path);
		assert_string_equal(vsl_error_message(err), want);
	}
}

static void test_v2_freeze_kill_stats(void **state)
{
	(void)state;
	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_cgroup_ struct cgroup *cg = NULL;
	v2_tree("cpuset cpu io memory pids\n");
	assert_int_equal(open_fake(mi_v2, NULL, false, &cg, &err), 0);

	/* the kernel would flip cgroup.events; the fake tree says it already did */
	put("/sys/fs/cgroup/vessel/c1/cgroup.events", "populated 1\nfrozen 1\n");
	log_clear();
	assert_int_equal(cgroup_freeze(cg, true, &err), 0);
	static const char *const want[] = {"/sys/fs/cgroup/vessel/c1/cgroup.freeze=1", NULL};
	expect_writes(want);
	bool frozen = false;
	assert_int_equal(cgroup_is_frozen(cg, &frozen, &err), 0);
	assert_true(frozen);

	/* never reported frozen: a bounded wait, then undo and say so */
	put("/sys/fs/cgroup/vessel/c1/cgroup.events", "populated 1\nfrozen 0\n");
	cg->freeze_timeout_ms = 30;
	log_clear();
	assert_true(cgroup_freeze(cg, true, &err) < 0);
	assert_non_null(strstr(vsl_error_message(err), "did not freeze within 30 ms"));
	static const char *const want_undo[] = {"/sys/fs/cgroup/vessel/c1/cgroup.freeze=1",
	                                        "/sys/fs/cgroup/vessel/c1/cgroup.freeze=0", NULL};
	expect_writes(want_undo);

	log_clear();
	assert_int_equal(cgroup_kill_all(cg, SIGKILL, NULL), 0);
	static const char *const want_kill[] = {"/sys/fs/cgroup/vessel/c1/cgroup.kill=1", NULL};
	expect_writes(want_kill);

	put("/sys/fs/cgroup/vessel/c1/cgroup.procs", "");
	put("/sys/fs/cgroup/vessel/c1/sub/cgroup.procs", "");
	pid_t *pids = NULL;
	size_t n = 99;
	assert_int_equal(cgroup_pids(cg, &pids, &n, NULL), 0);
	assert_int_equal(n, 0);
	free(pids);

	put("/sys/fs/cgroup/vessel/c1/cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n");
	put("/sys/fs/cgroup/vessel/c1/memory.current", "4096\n");
	put("/sys/fs/cgroup/vessel/c1/memory.max", "max\n");
	put("/sys/fs/cgroup/vessel/c1/pids.current", "3\n");
	put("/sys/fs/cgroup/vessel/c1/pids.max", "100\n");
	put("/sys/fs/cgroup/vessel/c1/memory.events", "low 0\nhigh 0\nmax 2\noom 1\noom_kill 1\n");
	put("/sys/fs/cgroup/vessel/c1/io.stat",
	    "8:0 rbytes=100 wbytes=200 rios=1 wios=2\n8:16 rbytes=1 wbytes=2\n");
	struct cgroup_stats s;
	assert_int_equal(cgroup_stats(cg, &s, &err), 0);
	assert_int_equal(s.cpu_usage_ns, 1500000);
	assert_int_equal(s.memory_usage, 4096);
	assert_true(s.memory_limit == UINT64_MAX);
	assert_int_equal(s.pids_current, 3);
	assert_int_equal(s.pids_limit, 100);
	assert_int_equal(s.oom_kills, 1);
	assert_int_equal(s.io_read_bytes, 101);
	assert_int_equal(s.io_write_bytes, 202);
}

/* ---- v1 ---- */

static void v1_tree(void)
{
	static const char *const mem[] = {"cgroup.procs",
	                                  "memory.limit_in_bytes",
	                                  "memory.memsw.limit_in_bytes",
	                                  "memory.soft_limit_in_bytes",
	                                  "memory.swappiness",
	                                  "memory.oom_control",
	                                  NULL};
	static const char *const cpu[] = {"cgroup.procs", "cpu.shares", "cpu.cfs_quota_us",
	                                  "cpu.cfs_period_us", NULL};
	static const char *const plain[] = {"cgroup.procs", NULL};
	put_files("/sys/fs/cgroup/memory/vessel/c1", mem);
	put("/sys/fs/cgroup/memory/vessel/c1/memory.limit_in_bytes", "9223372036854771712\n");
	put_files("/sys/fs/cgroup/cpu,cpuacct/vessel/c1", cpu);
	put_files("/sys/fs/cgroup/pids/vessel/c1", (const char *const[]){"cgroup.procs", "pids.max", NULL});
	put_files("/sys/fs/cgroup/blkio/vessel/c1",
	          (const char *const[]){"cgroup.procs", "blkio.bfq.weight", "blkio.throttle.read_bps_device",
	                                "blkio.throttle.write_iops_device", NULL});
	put_files("/sys/fs/cgroup/devices/vessel/c1",
	          (const char *const[]){"cgroup.procs", "devices.allow", "devices.deny", NULL});
	put_files("/sys/fs/cgroup/freezer/vessel/c1",
	          (const char *const[]){"cgroup.procs", "freezer.state", NULL});
	put_files("/sys/fs/cgroup/net_cls,net_prio/vessel/c1", plain);
	put_files("/sys/fs/cgroup/systemd/vessel/c1", plain);
	/* cpuset: the root has values, new levels start empty */
	put("/sys/fs/cgroup/cpuset/cpuset.cpus", "0-3\n");
	put("/sys/fs/cgroup/cpuset/cpuset.mems", "0\n");
	put("/sys/fs/cgroup/cpuset/vessel/cpuset.cpus", "\n");
	put("/sys/fs/cgroup/cpuset/vessel/cpuset.mems", "\n");
	put("/sys/fs/cgroup/cpuset/vessel/c1/cpuset.cpus", "\n");
	put("/sys/fs/cgroup/cpuset/vessel/c1/cpuset.mems", "\n");
	put("/sys/fs/cgroup/cpuset/vessel/c1/cgroup.procs", "");
}

static struct oci_device_rule dev_rules[] = {
    {.allow = false, .type = 'a', .major = -1, .minor = -1, .access = (char *)"rwm"},
    {.allow = true, .type = 'c', .major = 1, .minor = 3, .access = (char *)"rwm"},
    {.allow = true, .type = 'c', .major = -1, .minor = -1, .access = (char *)"m"},
    {.allow = false, .type = 'c', .major = 1, .minor = 3, .access = (char *)"w"},
};

static void test_v1_create(void **state)
{
	(void)state;
	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_cgroup_ struct cgroup *cg = NULL;
	v1_tree();
	assert_int_equal(open_fake(mi_v1, NULL, false, &cg, &err), 0);
	struct oci_resources res = sample_resources();
	res.hugepage_limits = NULL; /* not mounted here: see test_v1_missing */
	res.n_hugepage_limits = 0;
	res.unified = NULL;
	res.n_unified = 0;
	res.memory.has_swappiness = true;
	res.memory.swappiness = 10;
	res.blkio.has_weight = true;
	res.blkio.weight = 300;
	res.devices = dev_rules;
	res.n_devices = ARRAY_SIZE(dev_rules);
	log_clear();
	if (cgroup_create(cg, &res, &err) < 0)
		fail_msg("%s", vsl_error_message(err));
	static const char *const want[] = {
	    "/sys/fs/cgroup/cpuset/vessel/cpuset.cpus=0-3",
	    "/sys/fs/cgroup/cpuset/vessel/cpuset.mems=0",
	    "/sys/fs/cgroup/cpuset/vessel/c1/cpuset.cpus=0-3",
	    "/sys/fs/cgroup/cpuset/vessel/c1/cpuset.mems=0",
	    "/sys/fs/cgroup/memory/vessel/c1/memory.limit_in_bytes=1048576", /* lowering: limit first */
	    "/sys/fs/cgroup/memory/vessel/c1/memory.memsw.limit_in_bytes=2097152",
	    "/sys/fs/cgroup/memory/vessel/c1/memory.soft_limit_in_bytes=524288",
	    "/sys/fs/cgroup/memory/vessel/c1/memory.swappiness=10",
	    "/sys/fs/cgroup/cpu,cpuacct/vessel/c1/cpu.shares=1024",
	    "/sys/fs/cgroup/cpu,cpuacct/vessel/c1/cpu.cfs_period_us=100000",
	    "/sys/fs/cgroup/cpu,cpuacct/vessel/c1/cpu.cfs_quota_us=50000",
	    "/sys/fs/cgroup/pids/vessel/c1/pids.max=100",
	    "/sys/fs/cgroup/blkio/vessel/c1/blkio.weight=300", /* absent here: BFQ's file next */
	    "/sys/fs/cgroup/blkio/vessel/c1/blkio.bfq.weight=300",
	    "/sys/fs/cgroup/blkio/vessel/c1/blkio.throttle.read_bps_device=8:0 1048576",
	    "/sys/fs/cgroup/blkio/vessel/c1/blkio.throttle.write_iops_device=8:0 100",
	    "/sys/fs/cgroup/blkio/vessel/c1/blkio.throttle.write_iops_device=8:16 0",
	    "/sys/fs/cgroup/devices/vessel/c1/devices.deny=a",
	    "/sys/fs/cgroup/devices/vessel/c1/devices.allow=c 1:3 rwm",
	    "/sys/fs/cgroup/devices/vessel/c1/devices.allow=c *:* m",
	    "/sys/fs/cgroup/devices/vessel/c1/devices.deny=c 1:3 w",
	    NULL,
	};
	expect_writes(want);
	char *v = get("/sys/fs/cgroup/cpuset/vessel/c1/cpuset.cpus");
	assert_string_equal(v, "0-3");
	free(v);

	/* raising above the current memsw: memsw first */
	struct oci_resources up = {0};
	up.memory.has_limit = true;
	up.memory.limit = 4194304;
	up.memory.has_swap = true;
	up.memory.swap = 8388608;
	log_clear();
	assert_int_equal(cgroup_update(cg, &up, &err), 0);
	static const char *const want_up[] = {
	    "/sys/fs/cgroup/memory/vessel/c1/memory.memsw.limit_in_bytes=8388608",
	    "/sys/fs/cgroup/memory/vessel/c1/memory.limit_in_bytes=4194304",
	    NULL,
	};
	expect_writes(want_up);

	/* enter: every hierarchy, name=systemd included */
	log_clear();
	assert_int_equal(cgroup_enter(cg, 4242, &err), 0);
	assert_int_equal(g_nlog, 9);
	for (size_t i = 0; i < g_nlog; i++)
		assert_non_null(strstr(g_log[i], "/vessel/c1/cgroup.procs=4242"));
	bool systemd = false;
	for (size_t i = 0; i < g_nlog; i++)
		systemd |= strncmp(g_log[i], "/sys/fs/cgroup/systemd/", 23) == 0;
	assert_true(systemd);

	/* freezer: write, then read back until FROZEN */
	put("/sys/fs/cgroup/freezer/vessel/c1/freezer.state", "FROZEN\n");
	log_clear();
	assert_int_equal(cgroup_freeze(cg, true, &err), 0);
	static const char *const want_fr[] = {"/sys/fs/cgroup/freezer/vessel/c1/freezer.state=FROZEN", NULL};
	expect_writes(want_fr);
	bool frozen = false;
	assert_int_equal(cgroup_is_frozen(cg, &frozen, &err), 0);
	assert_true(frozen);

	put("/sys/fs/cgroup/memory/vessel/c1/memory.usage_in_bytes", "8192\n");
	put("/sys/fs/cgroup/memory/vessel/c1/memory.limit_in_bytes", "9223372036854771712\n");
	put("/sys/fs/cgroup/memory/vessel/c1/memory.oom_control",
	    "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
	put("/sys/fs/cgroup/cpu,cpuacct/vessel/c1/cpuacct.usage", "123456\n");
	put("/sys/fs/cgroup/blkio/vessel/c1/blkio.throttle.io_service_bytes_recursive",
	    "8:0 Read 10\n8:0 Write 20\n8:0 Sync 30\n8:0 Total 30\nTotal 30\n");
	struct cgroup_stats s;
	assert_int_equal(cgroup_stats(cg, &s, &err), 0);
	assert_int_equal(s.cpu_usage_ns, 123456);
	assert_int_equal(s.memory_usage, 8192);
	assert_true(s.memory_limit == UINT64_MAX);
	assert_int_equal(s.oom_kills, 2);
	assert_int_equal(s.io_read_bytes, 10);
	assert_int_equal(s.io_write_bytes, 20);
}

static void test_v1_missing(void **state)
{
	(void)state;
	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_cgroup_ struct cgroup *cg = NULL;
	assert_int_equal(open_fake(mi_v1, NULL, false, &cg, &err), 0);
	struct oci_resources res = {.hugepage_limits = huge, .n_hugepage_limits = 1};
	log_clear();
	assert_true(cgroup_create(cg, &res, &err) < 0);
	assert_string_equal(vsl_error_message(err),
	                    "hugepage limits requested but the 'hugetlb' cgroup controller is "
	                    "not available on this host");
	assert_int_equal(g_nlog, 0);
	assert_false(exists("/sys/fs/cgroup/memory/vessel"));

	vsl_error_free(TAKE_PTR(err));
	struct oci_resources uni = {.unified = unified, .n_unified = 1};
	assert_true(cgroup_create(cg, &uni, &err) < 0);
	assert_non_null(strstr(vsl_error_message(err), "needs cgroup v2"));
}

/* ---- hybrid ---- */

static void hybrid_tree(const char *unified_controllers)
{
	static const char *const plain[] = {"cgroup.procs", NULL};
	static const char *const names[] = {"cpu",     "cpuacct", "cpuset", "memory", "devices",
	                                    "freezer", "blkio",   "pids",   "systemd"};
	char dir[128];
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		snprintf(dir, sizeof(dir), "/sys/fs/cgroup/%s/vessel/c1", names[i]);
		put_files(dir, plain);
	}
	put_files("/sys/fs/cgroup/memory/vessel/c1", (const char *const[]){"memory.limit_in_bytes", NULL});
	put_files("/sys/fs/cgroup/pids/vessel/c1", (const char *const[]){"pids.max", NULL});
	put("/sys/fs/cgroup/cpuset/cpuset.cpus", "0-1\n");
	put("/sys/fs/cgroup/cpuset/cpuset.mems", "0\n");
	put("/sys/fs/cgroup/cpuset/vessel/cpuset.cpus", "0-1\n");
	put("/sys/fs/cgroup/cpuset/vessel/cpuset.mems", "0\n");
	put("/sys/fs/cgroup/cpuset/vessel/c1/cpuset.cpus", "0-1\n");
	put("/sys/fs/cgroup/cpuset/vessel/c1/cpuset.mems", "0\n");
	put("/sys/fs/cgroup/unified/cgroup.controllers", unified_controllers);
	put("/sys/fs/cgroup/unified/cgroup.subtree_control", "");
	put("/sys/fs/cgroup/unified/vessel/cgroup.controllers", "");
	put("/sys/fs/cgroup/unified/vessel/cgroup.subtree_control", "");
	put_files("/sys/fs/cgroup/unified/vessel/c1",
	          (const char *const[]){"cgroup.procs", "cgroup.kill", "hugetlb.2MB.max", NULL});
}

/* Limits on v1 controllers of the hybrid tree, and the writes they make. */
static const struct oci_resources hybrid_limits = {
    .memory = {.has_limit = true, .limit = 1048576},
    .pids = {.has_limit = true, .limit = 64},
};
static const char *const hybrid_limit_writes[] = {
    "/sys/fs/cgroup/memory/vessel/c1/memory.limit_in_bytes=1048576",
    "/sys/fs/cgroup/pids/vessel/c1/pids.max=64",
    NULL,
};

static void test_hybrid(void **state)
{
	(void)state;
	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_cgroup_ struct cgroup *cg = NULL;
	hybrid_tree("hugetlb\n");
	assert_int_equal(open_fake(mi_hybrid, NULL, false, &cg, &err), 0);
	struct oci_resources res = hybrid_limits;
	log_clear();
	if (cgroup_create(cg, &res, &err) < 0)
		fail_msg("%s", vsl_error_message(err));
	expect_writes(hybrid_limit_writes); /* cpuset already had values; the unified side only tracks */
	assert_true(exists("/sys/fs/cgroup/unified/vessel/c1"));
	assert_int_equal(cgroup_unified_fd(cg), -1);

	log_clear();
	assert_int_equal(cgroup_enter(cg, 77, &err), 0);
	assert_int_equal(g_nlog, 10);
	assert_string_equal(g_log[9], "/sys/fs/cgroup/unified/vessel/c1/cgroup.procs=77");

	log_clear();
	assert_int_equal(cgroup_kill_all(cg, SIGKILL, &err), 0);
	static const char *const want_kill[] = {"/sys/fs/cgroup/unified/vessel/c1/cgroup.kill=1", NULL};
	expect_writes(want_kill);

	/* hugetlb is not on v1 here but the cgroup2 root offers it: use it there */
	struct oci_resources h = {.hugepage_limits = huge, .n_hugepage_limits = 1};
	put("/sys/fs/cgroup/unified/vessel/cgroup.controllers", "hugetlb\n");
	log_clear();
	if (cgroup_update(cg, &h, &err) < 0)
		fail_msg("%s", vsl_error_message(err));
	static const char *const want_h[] = {
	    "/sys/fs/cgroup/unified/cgroup.subtree_control=+hugetlb",
	    "/sys/fs/cgroup/unified/vessel/cgroup.subtree_control=+hugetlb",
	    "/sys/fs/cgroup/unified/vessel/c1/hugetlb.2MB.max=4194304",
	    NULL,
	};
	expect_writes(want_h);
}

/* cgroup_create() in two steps: the first makes the cgroup2 side a child is
 * cloned into and only checks the v1 resources, which the rest writes; a
 * resource the host cannot give fails in the first step, nothing written. */
static void test_create_in_two_steps(void **state)
{
	(void)state;
	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_cgroup_ struct cgroup *cg = NULL;
	hybrid_tree("hugetlb\n");
	assert_int_equal(open_fake(mi_hybrid, NULL, false, &cg, &err), 0);
	struct oci_resources res = hybrid_limits;
	log_clear();
	if (cgroup_create_for_clone(cg, &res, &err) < 0)
		fail_msg("%s", vsl_error_message(err));
	assert_int_equal(g_nlog, 0);
	int fd = cgroup_clone_fd(cg);
	assert_true(fd >= 0);
	close(fd);
	if (cgroup_create_rest(cg, &res, &err) < 0)
		fail_msg("%s", vsl_error_message(err));
	expect_writes(hybrid_limit_writes);

	cgroup_free(TAKE_PTR(cg));
	assert_int_equal(open_fake(mi_v1, NULL, false, &cg, &err), 0);
	struct oci_resources huge_res = {.hugepage_limits = huge, .n_hugepage_limits = 1};
	log_clear();
	assert_true(cgroup_create_for_clone(cg, &huge_res, &err) < 0);
	assert_non_null(strstr(vsl_error_message(err), "'hugetlb' cgroup controller is not available"));
	assert_int_equal(g_nlog, 0);
	assert_int_equal(cgroup_clone_fd(cg), -1); /* v1 alone: nothing to clone into */
}

static void test_hybrid_no_hugetlb(void **state)
{
	(void)state;
	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_cgroup_ struct cgroup *cg = NULL;
	hybrid_tree("\n");
	assert_int_equal(open_fake(mi_hybrid, NULL, false, &cg, &err), 0);
	struct oci_resources res = {.hugepage_limits = huge, .n_hugepage_limits = 1};
	log_clear();
	assert_true(cgroup_create(cg, &res, &err) < 0);
	assert_non_null(strstr(vsl_error_message(err), "'hugetlb' cgroup controller is not available"));
	assert_int_equal(g_nlog, 0);

	/* and without hugepage limits the missing controller does not matter */
	vsl_error_free(TAKE_PTR(err));
	res.n_hugepage_limits = 0;
	assert_int_equal(cgroup_create(cg, &res, &err), 0);
}

/* hybrid without a v1 devices hierarchy: the rules go to the cgroup2 side as a program */
static void test_hybrid_no_devices(void **state)
{
	(void)state;
	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_cgroup_ struct cgroup *cg = NULL;
	hybrid_tree("\n");
	char mi[sizeof(mi_hybrid)];
	size_t w = 0;
	for (const char *l = mi_hybrid; *l;) {
		size_t len = strcspn(l, "\n") + 1;
		if (strstr(l, "rw,devices\n") != l + len - strlen("rw,devices\n")) {
			memcpy(mi + w, l, len);
			w += len;
		}
		l += len;
	}
	mi[w] = '\0';
	assert_int_equal(open_fake(mi, NULL, false, &cg, &err), 0);
	assert_int_equal(cg->n_v1, 8);
	struct oci_resources res = {.devices = dev_rules, .n_devices = ARRAY_SIZE(dev_rules)};
	log_clear();
	/* a plain directory is no cgroup: loading or attaching fails, naming the cgroup2 dir */
	assert_true(cgroup_create(cg, &res, &err) < 0);
	assert_non_null(strstr(vsl_error_message(err), "eBPF device program"));
	assert_non_null(strstr(vsl_error_message(err), "/sys/fs/cgroup/unified/vessel/c1"));
	assert_int_equal(g_nlog, 0); /* nothing went to a v1 devices.* file */
}

/* ---- the eBPF device program, run by a small interpreter here ---- */

static int run_prog(const struct bpf_insn *p, size_t n, int type, int acc, uint32_t major, uint32_t minor)
{
	struct bpf_cgroup_dev_ctx ctx = {
	    .access_type = (uint32_t)(acc << 16 | type), .major = major, .minor = minor};
	uint64_t reg[11] = {0};
	for (size_t pc = 0; pc < n; pc++) {
		const struct bpf_insn *i = &p[pc];
		uint64_t imm = (uint64_t)(int64_t)i->imm;
		switch (i->code) {
		case BPF_LDX | BPF_W | BPF_MEM:
			assert_int_equal(i->src_reg, 1);
			reg[i->dst_reg] = *(uint32_t *)((char *)&ctx + i->off);
			break;
		case BPF_ALU64 | BPF_AND | BPF_K:
			reg[i->dst_reg] &= imm;
			break;
		case BPF_ALU64 | BPF_RSH | BPF_K:
			reg[i->dst_reg] >>= imm;
			break;
		case BPF_ALU64 | BPF_MOV | BPF_K:
			reg[i->dst_reg] = imm;
			break;
		case BPF_ALU64 | BPF_MOV | BPF_X:
			reg[i->dst_reg] = reg[i->src_reg];
			break;
		case BPF_JMP | BPF_JNE | BPF_K:
			if (reg[i->dst_reg] != imm)
				pc += i->off;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			if (reg[i->dst_reg] == imm)
				pc += i->off;
			break;
		case BPF_JMP | BPF_EXIT:
			return (int)reg[0];
		default:
			fail_msg("unexpected opcode 0x%x", i->code);
		}
	}
	fail_msg("fell off the end of the program");
	return -1;
}

#define C BPF_DEVCG_DEV_CHAR
#define B BPF_DEVCG_DEV_BLOCK
#define R BPF_DEVCG_ACC_READ
#define W BPF_DEVCG_ACC_WRITE
#define M BPF_DEVCG_ACC_MKNOD

static void test_bpf_program(void **state)
{
	(void)state;
	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_free_ struct bpf_insn *p = NULL;
	size_t n = 0;
	assert_int_equal(cg_bpf_devices_build(dev_rules, ARRAY_SIZE(dev_rules), &p, &n, &err), 0);
	assert_int_equal(run_prog(p, n, C, R, 1, 3), 1);
	assert_int_equal(run_prog(p, n, C, W, 1, 3), 0);     /* the last rule denies w */
	assert_int_equal(run_prog(p, n, C, R | W, 1, 3), 0); /* any overlap with a deny */
	assert_int_equal(run_prog(p, n, C, M, 1, 3), 1);
	assert_int_equal(run_prog(p, n, C, M, 5, 0), 1); /* c *:* m */
	assert_int_equal(run_prog(p, n, C, R, 5, 0), 0);
	assert_int_equal(run_prog(p, n, B, M, 8, 0), 0);
	assert_int_equal(run_prog(p, n, C, R, 1, 5), 0);

	/* "allow all" first, a later deny: the earlier rules after a catch-all are dropped */
	struct oci_device_rule r2[] = {
	    {.allow = false, .type = 'c', .major = 1, .minor = 9, .access = NULL},
	    {.allow = true, .type = 'a', .major = -1, .minor = -1, .access = (char *)"rwm"},
	    {.allow = false, .type = 'c', .major = 1, .minor = 3, .access = (char *)"rwm"},
	};
	free(TAKE_PTR(p));
	assert_int_equal(cg_bpf_devices_build(r2, ARRAY_SIZE(r2), &p, &n, &err), 0);
	assert_int_equal(p[n - 1].code, BPF_JMP | BPF_EXIT);
	assert_int_equal(run_prog(p, n, C, R | W, 1, 3), 0);
	assert_int_equal(run_prog(p, n, C, R | W, 1, 9), 1); /* allow-all comes after the deny */
	assert_int_equal(run_prog(p, n, B, R, 8, 0), 1);

	/* no rules: deny everything */
	free(TAKE_PTR(p));
	assert_int_equal(cg_bpf_devices_build(NULL, 0, &p, &n, &err), 0);
	assert_int_equal(run_prog(p, n, C, R, 1, 3), 0);

	struct oci_device_rule bad[] = {{.allow = true, .type = 'x', .major = -1, .minor = -1}};
	free(TAKE_PTR(p));
	assert_true(cg_bpf_devices_build(bad, 1, &p, &n, &err) < 0);
	assert_string_equal(vsl_error_message(err), "linux.resources.devices[0]: invalid type 'x'");
}

/* ---- the real cgroups of this machine ---- */

static char g_base[64]; /* "/vessel-test-<pid>": removed with everything under it */
static pid_t g_children[8];
static size_t g_nchildren;

static bool real_available(void)
{
	return geteuid() == 0 && access("/sys/fs/cgroup", W_OK) == 0;
}

static int real_setup(void **state)
{
	(void)state;
	snprintf(g_base, sizeof(g_base), "/vessel-test-%d", (int)getpid());
	return 0;
}

static int real_teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < g_nchildren; i++) {
		kill(g_children[i], SIGKILL);
		waitpid(g_children[i], NULL, 0);
	}
	g_nchildren = 0;
	if (!real_available())
		return 0;
	/* the base cgroup and everything under it, on every hierarchy */
	struct cgroup *cg = NULL;
	if (cgroup_open(g_base, "x", false, &cg, NULL) == 0) {
		struct vsl_error *err = NULL;
		if (cgroup_destroy(cg, &err) < 0)
			fprintf(stderr, "teardown: %s\n", vsl_error_message(err));
		vsl_error_free(err);
		cgroup_free(cg);
	}
	return 0;
}

/* A child that waits for a byte (or EOF) on a pipe, then runs `fn`, exit code its result. */
static pid_t spawn_child(int *ret_wfd, int (*fn)(void))
{
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[1]);
		char c;
		ssize_t n = read(p[0], &c, 1);
		_exit(n == 1 && fn ? fn() : 0);
	}
	close(p[0]);
	g_children[g_nchildren++] = pid;
	*ret_wfd = p[1];
	return pid;
}

static bool proc_cgroup_has(pid_t pid, const char *line)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	assert_non_null(f);
	char buf[512];
	while (fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\n")] = '\0';
		if (strcmp(buf, line) == 0)
			return true;
	}
	return false;
}

static char proc_state(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	char *paren = strrchr(buf, ')');
	assert_non_null(paren);
	return paren[2];
}

static int hierarchy_id(const char *name)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/cgroup", "re");
	char buf[512];
	while (f && fgets(buf, sizeof(buf), f)) {
		int id;
		char names[256];
		if (sscanf(buf, "%d:%255[^:]:", &id, names) == 2 && strcmp(names, name) == 0)
			return id;
	}
	return -1;
}

static void read_real(const char *dir, const char *file, char *buf, size_t size)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	assert_non_null(f);
	assert_non_null(fgets(buf, (int)size, f));
	buf[strcspn(buf, "\n")] = '\0';
}

static void test_real_lifecycle(void **state)
{
	(void)state;
	if (!real_available())
		skip();
	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_cgroup_ struct cgroup *cg = NULL;
	char path[128];
	snprintf(path, sizeof(path), "%s/ct", g_base);
	assert_int_equal(cgroup_open(path, "ct", false, &cg, &err), 0);
	enum cgroup_layout layout = cgroup_layout(cg);

	struct oci_resources res = {0};
	res.memory.has_limit = true;
	res.memory.limit = 64 << 20;
	res.pids.has_limit = true;
	res.pids.limit = 50;
	if (cgroup_create(cg, &res, &err) < 0)
		fail_msg("%s", vsl_error_message(err));

	char buf[256], line[256];
	if (layout == CGROUP_UNIFIED) {
		read_real(cg->v2.dir, "memory.max", buf, sizeof(buf));
		assert_string_equal(buf, "67108864");
		read_real(cg->v2.dir, "pids.max", buf, sizeof(buf));
		assert_string_equal(buf, "50");
	} else {
		for (size_t i = 0; i < cg->n_v1; i++) {
			if (cg->v1[i].mask & CG_BIT(CG_MEMORY)) {
				read_real(cg->v1[i].dir, "memory.limit_in_bytes", buf, sizeof(buf));
				assert_string_equal(buf, "67108864");
			}
			if (cg->v1[i].mask & CG_BIT(CG_PIDS)) {
				read_real(cg->v1[i].dir, "pids.max", buf, sizeof(buf));
				assert_string_equal(buf, "50");
			}
		}
	}

	int wfd;
	pid_t pid = spawn_child(&wfd, NULL);
	if (cgroup_enter(cg, pid, &err) < 0)
		fail_msg("%s", vsl_error_message(err));
	if (layout != CGROUP_UNIFIED) {
		snprintf(line, sizeof(line), "%d:memory:%s", hierarchy_id("memory"), path);
		assert_true(proc_cgroup_has(pid, line));
		snprintf(line, sizeof(line), "%d:pids:%s", hierarchy_id("pids"), path);
		assert_true(proc_cgroup_has(pid, line));
		snprintf(line, sizeof(line), "%d:name=systemd:%s", hierarchy_id("name=systemd"), path);
		assert_true(hierarchy_id("name=systemd") < 0 || proc_cgroup_has(pid, line));
	}
	if (layout != CGROUP_LEGACY) {
		snprintf(line, sizeof(line), "0::%s", path);
		assert_true(proc_cgroup_has(pid, line));
	}

	pid_t *pids = NULL;
	size_t n = 0;
	assert_int_equal(cgroup_pids(cg, &pids, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(pids[0], pid);
	free(pids);

	if (cgroup_freeze(cg, true, &err) < 0)
		fail_msg("%s", vsl_error_message(err));
	bool frozen = false;
	assert_int_equal(cgroup_is_frozen(cg, &frozen, &err), 0);
	assert_true(frozen);
	char st = proc_state(pid);
	/* a frozen task: 'D' under the v1 freezer (TASK_FROZEN shows as uninterruptible), 'S' under cgroup2
	 */
	fprintf(stderr, "# frozen child state: %c\n", st);
	assert_true(st == 'D' || st == 'S' || st == 'T');
	if (cgroup_freeze(cg, false, &err) < 0)
		fail_msg("%s", vsl_error_message(err));
	assert_int_equal(cgroup_is_frozen(cg, &frozen, &err), 0);
	assert_false(frozen);

	if (layout == CGROUP_HYBRID) {
		/* cgroup2's own freezer works on the tracking mount too (no controller needed) */
		if (cg_v2_freeze_dir(cg, &cg->v2, true, &err) < 0)
			fail_msg("%s", vsl_error_message(err));
		assert_int_equal(cg_v2_is_frozen_dir(&cg->v2, &frozen, &err), 0);
		assert_true(frozen);
		if (cg_v2_freeze_dir(cg, &cg->v2, false, &err) < 0)
			fail_msg("%s", vsl_error_message(err));
		assert_int_equal(cg_v2_is_frozen_dir(&cg->v2, &frozen, &err), 0);
		assert_false(frozen);
	}

	struct cgroup_stats s;
	assert_int_equal(cgroup_stats(cg, &s, &err), 0);
	assert_int_equal(s.memory_limit, 64 << 20);
	assert_int_equal(s.pids_current, 1);
	assert_int_equal(s.pids_limit, 50);

	if (cgroup_kill_all(cg, SIGKILL, &err) < 0)
		fail_msg("%s", vsl_error_message(err));
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	g_nchildren--;
	close(wfd);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

	if (cgroup_destroy(cg, &err) < 0)
		fail_msg("%s", vsl_error_message(err));
	for (size_t i = 0; i < cg->n_v1; i++)
		assert_int_equal(access(cg->v1[i].dir, F_OK), -1);
	if (cg->v2.dir)
		assert_int_equal(access(cg->v2.dir, F_OK), -1);
	assert_int_equal(cgroup_destroy(cg, &err), 0); /* already gone is fine */
}

static int open_null_zero(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0 || errno != EPERM)
		return 10;
	fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 11;
	close(fd);
	return 0;
}

static int open_null(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return 20;
	close(fd);
	return 0;
}

static int run_in(struct cg_hier *h, int (*fn)(void))
{
	int wfd;
	pid_t pid = spawn_child(&wfd, fn);
	_cleanup_error_ struct vsl_error *err = NULL;
	if (cg_enter_dir(h, pid, &err) < 0)
		fail_msg("%s", vsl_error_message(err));
	assert_int_equal(write(wfd, "x", 1), 1);
	close(wfd);
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	g_nchildren--;
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void test_real_bpf_devices(void **state)
{
	(void)state;
	if (!real_available())
		skip();
	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_cgroup_ struct cgroup *cg = NULL;
	char path[128];
	snprintf(path, sizeof(path), "%s/bpf", g_base);
	assert_int_equal(cgroup_open(path, "bpf", false, &cg, &err), 0);
	if (cg->v2.mnt == NULL)
		skip(); /* pure v1: no cgroup2 mount to attach to */
	/* the cgroup2 side alone: on hybrid the v1 devices cgroup stays allow-all,
	 * so only the program decides */
	if (cg_v2_make(cg, 0, 0, &err) < 0)
		fail_msg("%s", vsl_error_message(err));

	struct oci_device_rule rules[] = {
	    {.allow = true, .type = 'a', .major = -1, .minor = -1, .access = (char *)"rwm"},
	    {.allow = false, .type = 'c', .major = 1, .minor = 3, .access = (char *)"rwm"},
	};
	if (cg_bpf_devices_apply(cg->v2.fd, cg->v2.dir, rules, ARRAY_SIZE(rules), &err) < 0)
		fail_msg("%s", vsl_error_message(err));
	assert_int_equal(run_in(&cg->v2, open_null_zero), 0);

	/* a second apply replaces the first program rather than adding to it */
	if (cg_bpf_devices_apply(cg->v2.fd, cg->v2.dir, rules, 1, &err) < 0)
		fail_msg("%s", vsl_error_message(err));
	assert_int_equal(run_in(&cg->v2, open_null), 0);

	assert_int_equal(cgroup_destroy(cg, &err), 0);
}

static void test_real_v1_devices(void **state)
{
	(void)state;
	if (!real_available())
		skip();
	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_cgroup_ struct cgroup *cg = NULL;
	char path[128];
	snprintf(path, sizeof(path), "%s/dev", g_base);
	assert_int_equal(cgroup_open(path, "dev", false, &cg, &err), 0);
	struct oci_device_rule rules[] = {
	    {.allow = false, .type = 'a', .major = -1, .minor = -1, .access = (char *)"rwm"},
	    {.allow = true, .type = 'c', .major = 1, .minor = 5, .access = (char *)"rwm"},
	};
	struct oci_resources res = {.devices = rules, .n_devices = ARRAY_SIZE(rules)};
	if (cgroup_create(cg, &res, &err) < 0)
		fail_msg("%s", vsl_error_message(err));
	struct cg_hier *h = cg->layout == CGROUP_UNIFIED ? &cg->v2 : NULL;
	for (size_t i = 0; h == NULL && i < cg->n_v1; i++)
		if (cg->v1[i].mask & CG_BIT(CG_DEVICES))
			h = &cg->v1[i];
	assert_non_null(h);
	assert_int_equal(run_in(h, open_null_zero), 0);
	assert_int_equal(cgroup_destroy(cg, &err), 0);
}

int main(void)
{
	const struct CMUnitTest fake[] = {
	    cmocka_unit_test_setup_teardown(test_layouts, fake_setup, fake_teardown),
	    cmocka_unit_test_setup_teardown(test_paths, fake_setup, fake_teardown),
	    cmocka_unit_test_setup_teardown(test_v2_create, fake_setup, fake_teardown),
	    cmocka_unit_test(test_v2_conversions),
	    cmocka_unit_test_setup_teardown(test_v2_errors, fake_setup, fake_teardown),
	    cmocka_unit_test_setup_teardown(test_v2_freeze_kill_stats, fake_setup, fake_teardown),
	    cmocka_unit_test_setup_teardown(test_v1_create, fake_setup, fake_teardown),
	    cmocka_unit_test_setup_teardown(test_v1_missing, fake_setup, fake_teardown),
	    cmocka_unit_test_setup_teardown(test_hybrid, fake_setup, fake_teardown),
	    cmocka_unit_test_setup_teardown(test_create_in_two_steps, fake_setup, fake_teardown),
	    cmocka_unit_test_setup_teardown(test_hybrid_no_hugetlb, fake_setup, fake_teardown),
	    cmocka_unit_test_setup_teardown(test_hybrid_no_devices, fake_setup, fake_teardown),
	    cmocka_unit_test(test_bpf_program),
	};
	const struct CMUnitTest real[] = {
	    cmocka_unit_test(test_real_lifecycle),
	    cmocka_unit_test(test_real_bpf_devices),
	    cmocka_unit_test(test_real_v1_devices),
	};
	int failed = cmocka_run_group_tests_name("cgroup-fake", fake, NULL, NULL);
	failed += cmocka_run_group_tests_name("cgroup-real", real, real_setup, real_teardown);
	return failed;
}
