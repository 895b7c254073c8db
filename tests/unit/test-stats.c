/* `vessel stats` counters read from fake cgroup and /proc trees written here
 * with the kernel's file formats: cgroup v2 (memory without inactive file
 * cache, "max" as no limit, io.stat summed over devices), v1 hierarchies as a
 * hybrid host has them, /proc/stat and /proc/PID/net/dev; and Docker's CPU %
 * worked out by hand. Each test works in its own mkdtemp directory, removed by
 * the teardown. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "engine/stats.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"

struct fixture {
	char dir[64];
};

static void assert_near(double got, double want)
{
	if (got < want - 1e-9 || got > want + 1e-9)
		fail_msg("got %.12f, want %.12f", got, want);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test-stats-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	rm_rf_at(AT_FDCWD, f->dir);
	free(f);
	return 0;
}

/* Writes dir/rel (making its parent directories) with the given text. */
static void put(const struct fixture *f, const char *rel, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
	for (char *p = path + strlen(f->dir) + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
		*p = '/';
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write_all(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static char *under(const struct fixture *f, const char *rel)
{
	static char path[512];
	snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
	return path;
}

static void test_v2_counters(void **state)
{
	struct fixture *f = *state;
	put(f, "cg/cgroup.controllers", "cpuset cpu io memory pids\n");
	put(f, "cg/vessel/c1/cpu.stat", "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n");
	put(f, "cg/vessel/c1/memory.current", "10485760\n");
	put(f, "cg/vessel/c1/memory.stat",
	    "anon 1048576\nfile 8388608\nactive_file 4194304\ninactive_file 2097152\n");
	put(f, "cg/vessel/c1/memory.max", "67108864\n");
	put(f, "cg/vessel/c1/pids.current", "3\n");
	put(f, "cg/vessel/c1/io.stat",
	    "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n"
	    "253:1 rbytes=1000 wbytes=24 rios=3 wios=1 dbytes=0 dios=0\n");

	struct stats_sample s = {0};
	_cleanup_error_ struct vsl_error *err = NULL;
	assert_int_equal(stats_read_cgroup(under(f, "cg"), "/vessel/c1", &s, &err), 0);
	assert_int_equal(s.cpu_ns, 2500000000ull);
	assert_int_equal(s.mem_usage, 10485760 - 2097152);
	assert_int_equal(s.mem_limit, 64 << 20);
	assert_int_equal(s.pids, 3);
	assert_int_equal(s.blk_read, 5096);
	assert_int_equal(s.blk_write, 8216);
	assert_near(stats_mem_percent(&s), 12.5);
}

static void test_v2_no_limit_and_missing_controllers(void **state)
{
	struct fixture *f = *state;
	put(f, "cg/cgroup.controllers", "memory\n");
	put(f, "cg/c2/memory.current", "4096\n");
	put(f, "cg/c2/memory.max", "max\n");

	struct stats_sample s = {.system_ns = 77, .net_rx = 5};
	_cleanup_error_ struct vsl_error *err = NULL;
	assert_int_equal(stats_read_cgroup(under(f, "cg"), "c2", &s, &err), 0);
	assert_true(s.mem_limit == STATS_NO_LIMIT);
	assert_int_equal(s.mem_usage, 4096);
	/* cpu, pids and io are not enabled: nothing to count. */
	assert_int_equal(s.cpu_ns, 0);
	assert_int_equal(s.pids, 0);
	assert_int_equal(s.blk_read + s.blk_write, 0);
	/* The other readers' fields are left alone. */
	assert_int_equal(s.system_ns, 77);
	assert_int_equal(s.net_rx, 5);
	assert_near(stats_mem_percent(&s), 0.0);
}

static void test_missing_cgroup_is_enoent(void **state)
{
	struct fixture *f = *state;
	put(f, "cg/cgroup.controllers", "memory\n");
	struct stats_sample s = {0};
	_cleanup_error_ struct vsl_error *err = NULL;
	assert_int_equal(stats_read_cgroup(under(f, "cg"), "/vessel/gone", &s, &err), -ENOENT);
	assert_non_null(err);

	/* v1 layout with none of the hierarchies holding it. */
	put(f, "v1/memory/other/memory.usage_in_bytes", "1\n");
	vsl_error_free(err);
	err = NULL;
	assert_int_equal(stats_read_cgroup(under(f, "v1"), "/vessel/gone", &s, &err), -ENOENT);
}

static void test_v1_hybrid_counters(void **state)
{
	struct fixture *f = *state;
	/* A hybrid host: v1 controllers, cgroup2 only at unified/ (not the root). */
	put(f, "cg/unified/cgroup.controllers", "");
	put(f, "cg/cpuacct/vessel/c3/cpuacct.usage", "123456789\n");
	put(f, "cg/memory/vessel/c3/memory.usage_in_bytes", "3000000\n");
	put(f, "cg/memory/vessel/c3/memory.stat",
	    "cache 100\ninactive_file 7\ntotal_inactive_file 1000000\n");
	put(f, "cg/memory/vessel/c3/memory.limit_in_bytes", "9223372036854771712\n");
	put(f, "cg/pids/vessel/c3/pids.current", "5\n");
	put(f, "cg/blkio/vessel/c3/blkio.throttle.io_service_bytes",
	    "8:0 Read 512\n8:0 Write 1024\n8:0 Sync 0\n8:0 Async 1536\n8:0 Total 1536\n"
	    "8:16 Read 488\n8:16 Write 0\n8:16 Total 488\nTotal 2024\n");

	struct stats_sample s = {0};
	_cleanup_error_ struct vsl_error *err = NULL;
	assert_int_equal(stats_read_cgroup(under(f, "cg"), "/vessel/c3", &s, &err), 0);
	assert_int_equal(s.cpu_ns, 123456789);
	assert_int_equal(s.mem_usage, 2000000);
	assert_true(s.mem_limit == STATS_NO_LIMIT);
	assert_int_equal(s.pids, 5);
	assert_int_equal(s.blk_read, 1000);
	assert_int_equal(s.blk_write, 1024);
}

static void test_v1_cpu_cpuacct_and_limit(void **state)
{
	struct fixture *f = *state;
	put(f, "cg/cpu,cpuacct/x/cpuacct.usage", "42\n");
	put(f, "cg/memory/x/memory.usage_in_bytes", "100\n");
	put(f, "cg/memory/x/memory.limit_in_bytes", "67108864\n");

	struct stats_sample s = {0};
	_cleanup_error_ struct vsl_error *err = NULL;
	assert_int_equal(stats_read_cgroup(under(f, "cg"), "/x", &s, &err), 0);
	assert_int_equal(s.cpu_ns, 42);
	assert_int_equal(s.mem_usage, 100);
	assert_int_equal(s.mem_limit, 67108864);
}

static void test_proc_stat(void **state)
{
	struct fixture *f = *state;
	/* user nice system idle iowait irq softirq steal guest guest_nice */
	put(f, "proc/stat",
	    "cpu  100 20 30 800 10 5 5 30 999 999\n"
	    "cpu0 50 10 15 400 5 2 3 15 0 0\n"
	    "cpu1 50 10 15 400 5 3 2 15 0 0\n"
	    "intr 12345 1 2\nctxt 999\nbtime 1700000000\n");
	struct stats_sample s = {0};
	_cleanup_error_ struct vsl_error *err = NULL;
	assert_int_equal(stats_read_system(under(f, "proc"), &s, &err), 0);
	long hz = sysconf(_SC_CLK_TCK);
	/* 1000 ticks of the first eight fields; guest time is counted in user already. */
	assert_int_equal(s.system_ns, 1000ull * (1000000000ull / (unsigned long long)hz));
	assert_int_equal(s.online_cpus, 2);
}

static void test_net_dev(void **state)
{
	struct fixture *f = *state;
	put(f, "proc/42/net/dev",
	    "Inter-|   Receive                                                |  Transmit\n"
	    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop "
	    "fifo "
	    "colls carrier compressed\n"
	    "    lo:    9999      10    0    0    0     0          0         0     9999      10    0    0    "
	    "0  "
	    "   0       0          0\n"
	    "  eth0:    1500      12    0    0    0     0          0         0      700       8    0    0    "
	    "0  "
	    "   0       0          0\n"
	    "  eth1:      10       1    0    0    0     0          0         0       20       1    0    0    "
	    "0  "
	    "   0       0          0\n");
	struct stats_sample s = {0};
	_cleanup_error_ struct vsl_error *err = NULL;
	assert_int_equal(stats_read_net(under(f, "proc"), 42, &s, &err), 0);
	assert_int_equal(s.net_rx, 1510);
	assert_int_equal(s.net_tx, 720);
}

static void test_cpu_percent(void **state)
{
	(void)state;
	/* Half a second of CPU in 4 s of host time (1 s on each of 4 CPUs): 50% of one CPU. */
	struct stats_sample a = {.cpu_ns = 1000000000, .system_ns = 10000000000, .online_cpus = 4};
	struct stats_sample b = {.cpu_ns = 1500000000, .system_ns = 14000000000, .online_cpus = 4};
	assert_near(stats_cpu_percent(&a, &b), 50.0);
	/* No host time passed, or a counter that went back (a restarted cgroup): 0. */
	assert_near(stats_cpu_percent(&a, &a), 0.0);
	assert_near(stats_cpu_percent(&b, &a), 0.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_v2_counters, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_v2_no_limit_and_missing_controllers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_cgroup_is_enoent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_v1_hybrid_counters, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_v1_cpu_cpuacct_and_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_proc_stat, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_net_dev, setup, teardown),
	    cmocka_unit_test(test_cpu_percent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
