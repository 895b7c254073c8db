/* seccomp: profiles compiled from hand-built structs, loaded in forked children. */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "runtime/config.h"
#include "runtime/seccomp.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"

#define CHILD_CHECK(cond)                                                                                    \
	do {                                                                                                 \
		if (!(cond)) {                                                                               \
			fprintf(stderr, "%s:%d: child check failed: %s (errno %d)\n", __FILE__, __LINE__,    \
			        #cond, errno);                                                               \
			return 1;                                                                            \
		}                                                                                            \
	} while (0)

static inline void filter_freep(struct seccomp_filter **f)
{
	seccomp_filter_free(*f);
}
#define _cleanup_filter_ _cleanup_(filter_freep)

/* Runs fn(arg) in a child; returns its wait status. */
static int run_in_child(int (*fn)(void *), void *arg)
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn(arg));
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void assert_child_ok(int status)
{
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static bool skip_unless_root(void)
{
	/* Without no_new_privs (the runtime sets it only when asked) loading needs CAP_SYS_ADMIN. */
	if (geteuid() == 0)
		return false;
	fprintf(stderr, "skipped: needs root\n");
	return true;
}

/* Compiles s; a failure is printed and fails the test. */
static struct seccomp_filter *prepare_ok(const struct oci_seccomp *s)
{
	struct seccomp_filter *f = NULL;
	_cleanup_error_ struct vsl_error *err = NULL;
	int r = seccomp_filter_prepare(s, &f, &err);
	if (r < 0)
		fprintf(stderr, "seccomp_filter_prepare: %s\n", vsl_error_message(err));
	assert_int_equal(r, 0);
	assert_non_null(f);
	return f;
}

/* Expects s to be refused with exactly `msg`. */
static void prepare_fails(const struct oci_seccomp *s, const char *msg)
{
	struct seccomp_filter *f = NULL;
	_cleanup_error_ struct vsl_error *err = NULL;
	assert_true(seccomp_filter_prepare(s, &f, &err) < 0);
	assert_null(f);
	assert_non_null(err);
	assert_string_equal(vsl_error_message(err), msg);
}

static int load_in_child(struct seccomp_filter *f, int *ret_fd)
{
	struct vsl_error *err = NULL;
	if (seccomp_filter_load(f, ret_fd, &err) < 0) {
		fprintf(stderr, "seccomp_filter_load: %s\n", vsl_error_message(err));
		return -1;
	}
	return 0;
}

/* ---- errno rules, unknown names skipped ---- */

static int child_mkdir(void *arg)
{
	struct seccomp_filter *f = arg;
	int fd = 7;
	CHILD_CHECK(load_in_child(f, &fd) == 0);
	CHILD_CHECK(fd == -1);

	char dir[] = "/tmp/vessel-test-seccomp-XXXXXX";
	/* mkdtemp is mkdir underneath: refused too. */
	errno = 0;
	CHILD_CHECK(mkdtemp(dir) == NULL && errno == EACCES);
	errno = 0;
	CHILD_CHECK(mkdir("/tmp/vessel-test-seccomp-never", 0700) < 0 && errno == EACCES);
	errno = 0;
	CHILD_CHECK(syscall(SYS_mkdirat, AT_FDCWD, "/tmp/vessel-test-seccomp-never", 0700) < 0 &&
	            errno == EACCES);
	/* Everything else still works. */
	CHILD_CHECK(getpid() > 1);
	CHILD_CHECK(access("/", F_OK) == 0);
	return 0;
}

static void test_errno_rule(void **state)
{
	(void)state;
	if (skip_unless_root())
		return;
	struct oci_syscall_rule rules[] = {
	    {
	        /* A name this libseccomp does not know is skipped, the others apply. */
	        .names = (char *[]){"vessel_no_such_syscall", "mkdir", "mkdirat", NULL},
	        .action = "SCMP_ACT_ERRNO",
	        .has_errno_ret = true,
	        .errno_ret = EACCES,
	    },
	};
	struct oci_seccomp s = {
	    .default_action = "SCMP_ACT_ALLOW",
	    .architectures = (char *[]){"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", NULL},
	    .syscalls = rules,
	    .n_syscalls = ARRAY_SIZE(rules),
	};
	_cleanup_filter_ struct seccomp_filter *f = prepare_ok(&s);
	assert_child_ok(run_in_child(child_mkdir, f));
}

/* ---- argument conditions: OR on one index, AND across, MASKED_EQ ---- */

static int child_args(void *arg)
{
	(void)arg;
	pid_t self = getpid();
	struct oci_syscall_arg pers_args[] = {
	    {.index = 0, .value = 0xffffffffu, .op = "SCMP_CMP_EQ"},
	    {.index = 0, .value = PER_LINUX32, .op = "SCMP_CMP_EQ"},
	};
	struct oci_syscall_arg kill_args[] = {
	    {.index = 0, .value = (uint64_t)self, .op = "SCMP_CMP_EQ"},
	    {.index = 1, .value = 0, .op = "SCMP_CMP_EQ"},
	};
	struct oci_syscall_arg umask_args[] = {
	    {.index = 0, .value = 0700, .value_two = 0700, .op = "SCMP_CMP_MASKED_EQ"},
	};
	struct oci_syscall_rule rules[] = {
	    {.names = (char *[]){"personality", NULL},
	     .action = "SCMP_ACT_ERRNO",
	     .has_errno_ret = true,
	     .errno_ret = EACCES,
	     .args = pers_args,
	     .n_args = ARRAY_SIZE(pers_args)},
	    {.names = (char *[]){"kill", NULL},
	     .action = "SCMP_ACT_ERRNO",
	     .has_errno_ret = true,
	     .errno_ret = EACCES,
	     .args = kill_args,
	     .n_args = ARRAY_SIZE(kill_args)},
	    {.names = (char *[]){"umask", NULL},
	     .action = "SCMP_ACT_ERRNO",
	     .has_errno_ret = true,
	     .errno_ret = EACCES,
	     .args = umask_args,
	     .n_args = ARRAY_SIZE(umask_args)},
	};
	struct oci_seccomp s = {
	    .default_action = "SCMP_ACT_ALLOW", .syscalls = rules, .n_syscalls = ARRAY_SIZE(rules)};
	struct seccomp_filter *f = NULL;
	struct vsl_error *err = NULL;
	if (seccomp_filter_prepare(&s, &f, &err) < 0) {
		fprintf(stderr, "prepare: %s\n", vsl_error_message(err));
		return 1;
	}
	CHILD_CHECK(load_in_child(f, NULL) == 0);

	/* Same index twice: either condition denies. */
	errno = 0;
	CHILD_CHECK(syscall(SYS_personality, 0xffffffffUL) == -1 && errno == EACCES);
	errno = 0;
	CHILD_CHECK(syscall(SYS_personality, (unsigned long)PER_LINUX32) == -1 && errno == EACCES);
	CHILD_CHECK(syscall(SYS_personality, (unsigned long)PER_LINUX) == PER_LINUX);

	/* Different indexes: both must match. */
	errno = 0;
	CHILD_CHECK(kill(self, 0) == -1 && errno == EACCES);
	CHILD_CHECK(kill(self, SIGWINCH) == 0); /* ignored by default */
	CHILD_CHECK(kill(getppid(), 0) == 0);

	/* MASKED_EQ: value is the mask, valueTwo the datum. */
	errno = 0;
	CHILD_CHECK(syscall(SYS_umask, 0777) == -1 && errno == EACCES);
	errno = 0;
	CHILD_CHECK(syscall(SYS_umask, 0750) == -1 && errno == EACCES);
	CHILD_CHECK(syscall(SYS_umask, 0022) >= 0);
	CHILD_CHECK(syscall(SYS_umask, 0600) == 0022);
	return 0;
}

static void test_arg_conditions(void **state)
{
	(void)state;
	if (skip_unless_root())
		return;
	assert_child_ok(run_in_child(child_args, NULL));
}

/* ---- default ERRNO with a whitelist ---- */

static int child_whitelist(void *arg)
{
	CHILD_CHECK(load_in_child(arg, NULL) == 0);
	errno = 0;
	CHILD_CHECK(syscall(SYS_getppid) == -1 && errno == EPERM); /* default errnoRet */
	errno = 0;
	CHILD_CHECK(syscall(SYS_getuid) == -1 && errno == EPERM);
	CHILD_CHECK(syscall(SYS_getpid) > 1);
	return 0;
}

static void test_default_errno_whitelist(void **state)
{
	(void)state;
	if (skip_unless_root())
		return;
	struct oci_syscall_rule rules[] = {
	    {.names = (char *[]){"getpid", "exit", "exit_group", "write", "writev", "brk", "mmap", "munmap",
	                         "rt_sigreturn", "rt_sigprocmask", "futex", "newfstatat", "fstat",
	                         "sigaltstack" /* ASan, on exit */, NULL},
	     .action = "SCMP_ACT_ALLOW"},
	    /* Same as the default: skipped rather than refused by libseccomp. */
	    {.names = (char *[]){"getuid", NULL}, .action = "SCMP_ACT_ERRNO"},
	};
	struct oci_seccomp s = {
	    .default_action = "SCMP_ACT_ERRNO", .syscalls = rules, .n_syscalls = ARRAY_SIZE(rules)};
	_cleanup_filter_ struct seccomp_filter *f = prepare_ok(&s);
	assert_child_ok(run_in_child(child_whitelist, f));
}

/* ---- kill actions ---- */

static int child_getppid(void *arg)
{
	CHILD_CHECK(load_in_child(arg, NULL) == 0);
	syscall(SYS_getppid);
	return 0; /* not reached */
}

static void test_kill(void **state)
{
	(void)state;
	if (skip_unless_root())
		return;
	const char *kinds[] = {"SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD"};
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		struct oci_syscall_rule rules[] = {
		    {.names = (char *[]){"getppid", NULL}, .action = (char *)kinds[i]},
		};
		struct oci_seccomp s = {
		    .default_action = "SCMP_ACT_ALLOW", .syscalls = rules, .n_syscalls = 1};
		_cleanup_filter_ struct seccomp_filter *f = prepare_ok(&s);
		int status = run_in_child(child_getppid, f);
		assert_true(WIFSIGNALED(status));
		assert_int_equal(WTERMSIG(status), SIGSYS);
	}
}

/* ---- flags ---- */

static int child_flags(void *arg)
{
	CHILD_CHECK(load_in_child(arg, NULL) == 0);
	errno = 0;
	CHILD_CHECK(syscall(SYS_getppid) == -1 && errno == ENOSYS);
	return 0;
}

static void test_flags(void **state)
{
	(void)state;
	if (skip_unless_root())
		return;
	struct oci_syscall_rule rules[] = {
	    {.names = (char *[]){"getppid", NULL},
	     .action = "SCMP_ACT_ERRNO",
	     .has_errno_ret = true,
	     .errno_ret = ENOSYS},
	};
	struct oci_seccomp s = {
	    .default_action = "SCMP_ACT_ALLOW",
	    .flags =
	        (char *[]){"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
	                   "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", NULL},
	    .syscalls = rules,
	    .n_syscalls = 1,
	};
	_cleanup_filter_ struct seccomp_filter *f = prepare_ok(&s);
	assert_child_ok(run_in_child(child_flags, f));
}

/* ---- SCMP_ACT_NOTIFY: the listener fd answers a syscall of a grandchild ---- */

static int child_notify(void *arg)
{
	int fd = -1;
	CHILD_CHECK(load_in_child(arg, &fd) == 0);
	CHILD_CHECK(fd >= 0);
	CHILD_CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC);

	pid_t pid = fork();
	CHILD_CHECK(pid >= 0);
	if (pid == 0) /* inherits the filter: its getppid goes to our listener */
		_exit(syscall(SYS_getppid) == 4242 ? 0 : 1);

	struct seccomp_notif *req = NULL;
	struct seccomp_notif_resp *resp = NULL;
	CHILD_CHECK(seccomp_notify_alloc(&req, &resp) == 0);
	CHILD_CHECK(seccomp_notify_receive(fd, req) == 0);
	CHILD_CHECK(req->data.nr == SYS_getppid);
	CHILD_CHECK((pid_t)req->pid == pid);
	resp->id = req->id;
	resp->val = 4242;
	resp->error = 0;
	resp->flags = 0;
	CHILD_CHECK(seccomp_notify_respond(fd, resp) == 0);
	seccomp_notify_free(req, resp);

	int status;
	CHILD_CHECK(waitpid(pid, &status, 0) == pid);
	CHILD_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(fd);
	return 0;
}

static void test_notify(void **state)
{
	(void)state;
	if (skip_unless_root())
		return;
	struct oci_syscall_rule rules[] = {
	    {.names = (char *[]){"getppid", NULL}, .action = "SCMP_ACT_NOTIFY"},
	};
	/* Through libseccomp's loader, then through ours (WAIT_KILLABLE_RECV), with TSYNC. */
	char **flag_sets[] = {
	    NULL,
	    (char *[]){"SECCOMP_FILTER_FLAG_TSYNC", NULL},
	    (char *[]){"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", NULL},
	    (char *[]){"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", "SECCOMP_FILTER_FLAG_TSYNC", NULL},
	};
	for (size_t i = 0; i < ARRAY_SIZE(flag_sets); i++) {
		struct oci_seccomp s = {
		    .default_action = "SCMP_ACT_ALLOW",
		    .listener_path = "/run/listener.sock",
		    .flags = flag_sets[i],
		    .syscalls = rules,
		    .n_syscalls = 1,
		};
		_cleanup_filter_ struct seccomp_filter *f = prepare_ok(&s);
		assert_child_ok(run_in_child(child_notify, f));
	}
}

/* ---- compiled programs kept in a cache directory ---- */

static struct seccomp_filter *prepare_cached_ok(const struct oci_seccomp *s, const char *dir)
{
	struct seccomp_filter *f = NULL;
	_cleanup_error_ struct vsl_error *err = NULL;
	int r = seccomp_filter_prepare_cached(s, dir, &f, &err);
	if (r < 0)
		fprintf(stderr, "seccomp_filter_prepare_cached: %s\n", vsl_error_message(err));
	assert_int_equal(r, 0);
	assert_non_null(f);
	return f;
}

/* The one entry of the cache directory (asserting there is exactly one). */
static void only_entry(const char *dir, char *ret, size_t size)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	assert_non_null(d);
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		assert_true((size_t)snprintf(ret, size, "%s/%s", dir, de->d_name) < size);
		n++;
	}
	assert_int_equal(n, 1);
}

static int child_mkdir_eperm(void *arg)
{
	CHILD_CHECK(load_in_child(arg, NULL) == 0);
	errno = 0;
	CHILD_CHECK(mkdir("/tmp/vessel-test-seccomp-never", 0700) < 0 && errno == EPERM);
	return 0;
}

static char cache_top[] = "/tmp/vessel-test-seccomp-cache-XXXXXX";

static int cache_teardown(void **state)
{
	(void)state;
	if (strchr(cache_top, 'X') == NULL)
		rm_rf_at(AT_FDCWD, cache_top);
	return 0;
}

static void test_cache(void **state)
{
	(void)state;
	if (skip_unless_root())
		return;
	assert_non_null(mkdtemp(cache_top));
	char dir[64], file[192], other[192];
	snprintf(dir, sizeof(dir), "%s/cache", cache_top);

	struct oci_syscall_rule eacces[] = {
	    {.names = (char *[]){"mkdir", "mkdirat", NULL},
	     .action = "SCMP_ACT_ERRNO",
	     .has_errno_ret = true,
	     .errno_ret = EACCES},
	};
	struct oci_seccomp a = {
	    .default_action = "SCMP_ACT_ALLOW",
	    .syscalls = eacces,
	    .n_syscalls = 1,
	};
	struct stat st;

	/* A miss compiles, stores one private file in a private directory, and the
	 * program works; a hit works the same. */
	{
		_cleanup_filter_ struct seccomp_filter *f = prepare_cached_ok(&a, dir);
		assert_child_ok(run_in_child(child_mkdir, f));
	}
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	only_entry(dir, file, sizeof(file));
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	{
		_cleanup_filter_ struct seccomp_filter *f = prepare_cached_ok(&a, dir);
		assert_child_ok(run_in_child(child_mkdir, f));
	}

	/* The stored program is what a hit loads: put another profile's in its
	 * place, and the first profile now answers EPERM. */
	struct oci_syscall_rule eperm[] = {
	    {.names = (char *[]){"mkdir", "mkdirat", NULL},
	     .action = "SCMP_ACT_ERRNO",
	     .has_errno_ret = true,
	     .errno_ret = EPERM},
	};
	struct oci_seccomp b = {.default_action = "SCMP_ACT_ALLOW", .syscalls = eperm, .n_syscalls = 1};
	char saved[96];
	snprintf(saved, sizeof(saved), "%s/a-program", cache_top);
	assert_int_equal(rename(file, saved), 0);
	{
		_cleanup_filter_ struct seccomp_filter *f = prepare_cached_ok(&b, dir);
	}
	only_entry(dir, other, sizeof(other)); /* b's, under its own name */
	assert_string_not_equal(other, file);
	assert_int_equal(rename(other, file), 0);
	{
		_cleanup_filter_ struct seccomp_filter *f = prepare_cached_ok(&a, dir);
		assert_child_ok(run_in_child(child_mkdir_eperm, f));
	}

	/* A file others may write is not trusted: compiled again, and replaced. */
	assert_int_equal(chmod(file, 0666), 0);
	{
		_cleanup_filter_ struct seccomp_filter *f = prepare_cached_ok(&a, dir);
		assert_child_ok(run_in_child(child_mkdir, f));
	}
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);

	/* Nor is a cut-short one. */
	off_t size = st.st_size;
	assert_int_equal(truncate(file, size - 8), 0);
	{
		_cleanup_filter_ struct seccomp_filter *f = prepare_cached_ok(&b, dir);
		_cleanup_filter_ struct seccomp_filter *g = prepare_cached_ok(&a, dir);
		assert_child_ok(run_in_child(child_mkdir, g));
	}
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_size, size);

	/* A listener comes back from the cache too; the listener path, left out of
	 * the file's name, is still required on a hit. */
	struct oci_syscall_rule notify[] = {
	    {.names = (char *[]){"getppid", NULL}, .action = "SCMP_ACT_NOTIFY"},
	};
	struct oci_seccomp n = {
	    .default_action = "SCMP_ACT_ALLOW",
	    .listener_path = "/run/listener.sock",
	    .flags = (char *[]){"SECCOMP_FILTER_FLAG_TSYNC", NULL},
	    .syscalls = notify,
	    .n_syscalls = 1,
	};
	for (int i = 0; i < 2; i++) {
		_cleanup_filter_ struct seccomp_filter *f = prepare_cached_ok(&n, dir);
		assert_child_ok(run_in_child(child_notify, f));
	}
	n.listener_path = NULL;
	struct seccomp_filter *f = NULL;
	_cleanup_error_ struct vsl_error *err = NULL;
	assert_true(seccomp_filter_prepare_cached(&n, dir, &f, &err) < 0);
	assert_null(f);
	assert_string_equal(vsl_error_message(err),
	                    "linux.seccomp.listenerPath: required when a rule uses SCMP_ACT_NOTIFY");

	/* No usable directory: compiled every time, still correct. */
	{
		_cleanup_filter_ struct seccomp_filter *g =
		    prepare_cached_ok(&a, "/proc/vessel-no-such/cache");
		assert_child_ok(run_in_child(child_mkdir, g));
	}
}

/* ---- errors name the field ---- */

static void test_errors(void **state)
{
	(void)state;
	struct oci_syscall_arg bad_op[] = {
	    {.index = 0, .value = 1, .op = "SCMP_CMP_EQ"},
	    {.index = 1, .value = 1, .op = "SCMP_CMP_FOO"},
	};
	struct oci_syscall_arg bad_index[] = {{.index = 6, .value = 1, .op = "SCMP_CMP_EQ"}};
	struct oci_syscall_rule rules[] = {
	    {.names = (char *[]){"getpid", NULL}, .action = "SCMP_ACT_ERRNO"},
	    {.names = (char *[]){"getppid", NULL}, .action = "SCMP_ACT_ALLOW"},
	    {.names = (char *[]){"getuid", NULL}, .action = "SCMP_ACT_LOG"},
	    {.names = (char *[]){"getgid", NULL}, .action = "SCMP_ACT_FOO"},
	};
	struct oci_seccomp s = {.default_action = "SCMP_ACT_ALLOW", .syscalls = rules, .n_syscalls = 4};
	prepare_fails(&s, "linux.seccomp.syscalls[3]: unknown action 'SCMP_ACT_FOO'");

	rules[3].action = "SCMP_ACT_TRAP";
	rules[2].args = bad_op;
	rules[2].n_args = ARRAY_SIZE(bad_op);
	prepare_fails(&s, "linux.seccomp.syscalls[2].args[1]: unknown operator 'SCMP_CMP_FOO'");

	rules[2].args = bad_index;
	rules[2].n_args = 1;
	prepare_fails(&s, "linux.seccomp.syscalls[2].args[0]: index 6 out of range (0-5)");
	rules[2].args = NULL;
	rules[2].n_args = 0;

	rules[0].has_errno_ret = true;
	rules[0].errno_ret = 70000;
	prepare_fails(&s, "linux.seccomp.syscalls[0]: errnoRet 70000 out of range");
	rules[0].has_errno_ret = false;

	s.default_action = "SCMP_ACT_NOPE";
	prepare_fails(&s, "linux.seccomp.defaultAction: unknown action 'SCMP_ACT_NOPE'");
	s.default_action = "SCMP_ACT_NOTIFY";
	prepare_fails(&s, "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
	s.default_action = "SCMP_ACT_ALLOW";

	s.architectures = (char *[]){"SCMP_ARCH_X86_64", "SCMP_ARCH_FOO", NULL};
	prepare_fails(&s, "linux.seccomp.architectures[1]: unknown architecture 'SCMP_ARCH_FOO'");
	s.architectures = (char *[]){"x86_64", NULL};
	prepare_fails(&s, "linux.seccomp.architectures[0]: unknown architecture 'x86_64'");
	s.architectures = NULL;

	s.flags = (char *[]){"SECCOMP_FILTER_FLAG_FOO", NULL};
	prepare_fails(&s, "linux.seccomp.flags[0]: unknown flag 'SECCOMP_FILTER_FLAG_FOO'");
	s.flags = NULL;

	rules[1].action = "SCMP_ACT_NOTIFY";
	prepare_fails(&s, "linux.seccomp.listenerPath: required when a rule uses SCMP_ACT_NOTIFY");
	s.listener_path = "/run/l.sock";
	rules[1].names = (char *[]){"getppid", "write", NULL};
	prepare_fails(&s, "linux.seccomp.syscalls[1]: SCMP_ACT_NOTIFY cannot be used for 'write'");
	rules[1].names = (char *[]){"getppid", NULL};

	struct seccomp_filter *f = prepare_ok(&s);
	seccomp_filter_free(f);
}

/* ---- the known_* lists are what prepare accepts ---- */

static void test_known_lists(void **state)
{
	(void)state;
	for (size_t i = 0; seccomp_known_actions[i]; i++) {
		if (strcmp(seccomp_known_actions[i], "SCMP_ACT_NOTIFY") == 0)
			continue;
		struct oci_seccomp s = {.default_action = (char *)seccomp_known_actions[i]};
		seccomp_filter_free(prepare_ok(&s));
	}
	for (size_t i = 0; seccomp_known_operators[i]; i++) {
		struct oci_syscall_arg a = {
		    .index = 0, .value = 1, .value_two = 1, .op = (char *)seccomp_known_operators[i]};
		struct oci_syscall_rule r = {
		    .names = (char *[]){"getpid", NULL}, .action = "SCMP_ACT_ERRNO", .args = &a, .n_args = 1};
		struct oci_seccomp s = {.default_action = "SCMP_ACT_ALLOW", .syscalls = &r, .n_syscalls = 1};
		seccomp_filter_free(prepare_ok(&s));
	}
	for (size_t i = 0; seccomp_known_archs[i]; i++) {
		/* Every name resolves; foreign-endian ones may not mix with the native arch. */
		struct oci_seccomp s = {.default_action = "SCMP_ACT_ALLOW",
		                        .architectures = (char *[]){(char *)seccomp_known_archs[i], NULL}};
		struct seccomp_filter *f = NULL;
		_cleanup_error_ struct vsl_error *err = NULL;
		if (seccomp_filter_prepare(&s, &f, &err) < 0)
			assert_null(strstr(vsl_error_message(err), "unknown architecture"));
		seccomp_filter_free(f);
	}
	for (size_t i = 0; seccomp_known_flags[i]; i++) {
		struct oci_seccomp s = {.default_action = "SCMP_ACT_ALLOW",
		                        .flags = (char *[]){(char *)seccomp_known_flags[i], NULL}};
		seccomp_filter_free(prepare_ok(&s));
	}
}

static void test_null_profile(void **state)
{
	(void)state;
	struct seccomp_filter *f = (void *)1;
	assert_int_equal(seccomp_filter_prepare(NULL, &f, NULL), 0);
	assert_null(f);
	int fd = 5;
	assert_int_equal(seccomp_filter_load(NULL, &fd, NULL), 0);
	assert_int_equal(fd, -1);
	seccomp_filter_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_errno_rule),
	    cmocka_unit_test(test_arg_conditions),
	    cmocka_unit_test(test_default_errno_whitelist),
	    cmocka_unit_test(test_kill),
	    cmocka_unit_test(test_flags),
	    cmocka_unit_test(test_notify),
	    cmocka_unit_test_teardown(test_cache, cache_teardown),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_known_lists),
	    cmocka_unit_test(test_null_profile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
