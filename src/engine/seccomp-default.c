/* vessel's default seccomp profile and Docker-format profiles, as OCI linux.seccomp.
 *
 * Both go through one set of rules: a rule applies when the container's
 * capabilities and the host's architecture and kernel match its includes and
 * none of its excludes, exactly as dockerd filters its profiles. */
#include "engine/seccomp-default.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/json-table.h"
#include "util/strv.h"

#define _cleanup_json_ _cleanup_(json_decrefp)

/* The host, in libseccomp's names and Go's (which profiles' "arches" use). */
#if defined(__x86_64__) && defined(__ILP32__)
#define HOST_GOARCH "amd64p32"
#define HOST_ARCHES "SCMP_ARCH_X32", "SCMP_ARCH_X86_64", "SCMP_ARCH_X86"
#elif defined(__x86_64__)
#define HOST_GOARCH "amd64"
#define HOST_ARCHES "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"
#elif defined(__i386__)
#define HOST_GOARCH "386"
#define HOST_ARCHES "SCMP_ARCH_X86"
#elif defined(__aarch64__)
#define HOST_GOARCH "arm64"
#define HOST_ARCHES "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"
#elif defined(__arm__)
#define HOST_GOARCH "arm"
#define HOST_ARCHES "SCMP_ARCH_ARM"
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HOST_GOARCH "ppc64le"
#define HOST_ARCHES "SCMP_ARCH_PPC64LE"
#elif defined(__s390x__)
#define HOST_GOARCH "s390x"
#define HOST_ARCHES "SCMP_ARCH_S390X", "SCMP_ARCH_S390"
#elif defined(__riscv) && __riscv_xlen == 64
#define HOST_GOARCH "riscv64"
#define HOST_ARCHES "SCMP_ARCH_RISCV64"
#else
#error "unknown architecture: add it to seccomp-default.c"
#endif

static const char *const host_arches[] = {HOST_ARCHES, NULL};

/* ---- rules ---- */

struct sc_arg {
	unsigned index;
	uint64_t value, value_two;
	const char *op;
};

/* When a rule applies; every list may be NULL. */
struct sc_filter {
	char *const *caps;   /* all of these in the bounding set */
	char *const *arches; /* the host's Go architecture among these */
	const char *min_kernel;
};

static bool kernel_at_least(const char *min)
{
	struct utsname u;
	unsigned kmaj = 0, kmin = 0, wmaj = 0, wmin = 0;
	if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &kmaj, &kmin) < 1)
		return true; /* unknown: let the kernel refuse what it lacks */
	if (sscanf(min, "%u.%u", &wmaj, &wmin) < 1)
		return true;
	return kmaj > wmaj || (kmaj == wmaj && kmin >= wmin);
}

static bool filter_includes(const struct sc_filter *f, char *const *caps)
{
	for (char *const *c = f->caps; c && *c; c++)
		if (!strv_contains(caps, *c))
			return false;
	if (f->arches && f->arches[0] && !strv_contains(f->arches, HOST_GOARCH))
		return false;
	if (f->min_kernel && f->min_kernel[0] && !kernel_at_least(f->min_kernel))
		return false;
	return true;
}

static bool filter_excludes(const struct sc_filter *f, char *const *caps)
{
	for (char *const *c = f->caps; c && *c; c++)
		if (strv_contains(caps, *c))
			return true;
	if (f->arches && strv_contains(f->arches, HOST_GOARCH))
		return true;
	if (f->min_kernel && f->min_kernel[0] && kernel_at_least(f->min_kernel))
		return true;
	return false;
}

/* 64-bit values above INT64_MAX as "\x01<decimal>" (see the header). */
static json_t *json_u64(uint64_t v)
{
	if (v <= INT64_MAX)
		return json_integer((json_int_t)v);
	char buf[32];
	snprintf(buf, sizeof(buf), "\x01%" PRIu64, v);
	return json_string(buf);
}

static int append_rule(json_t *syscalls, char *const *names, const char *action, bool has_errno,
                       unsigned errno_ret, const struct sc_arg *args, size_t n_args)
{
	_cleanup_json_ json_t *rule = json_object();
	json_t *jn = json_array();
	if (rule == NULL || jn == NULL || json_object_set_new(rule, "names", jn) < 0 ||
	    json_object_set_new(rule, "action", json_string(action)) < 0)
		return -ENOMEM;
	for (char *const *n = names; *n; n++)
		if (json_array_append_new(jn, json_string(*n)) < 0)
			return -EINVAL;
	if (has_errno && json_object_set_new(rule, "errnoRet", json_integer(errno_ret)) < 0)
		return -ENOMEM;
	if (n_args > 0) {
		json_t *ja = json_array();
		if (ja == NULL || json_object_set_new(rule, "args", ja) < 0)
			return -ENOMEM;
		for (size_t i = 0; i < n_args; i++) {
			json_t *a = json_object();
			if (a == NULL || json_array_append_new(ja, a) < 0 ||
			    json_object_set_new(a, "index", json_integer(args[i].index)) < 0 ||
			    json_object_set_new(a, "value", json_u64(args[i].value)) < 0 ||
			    json_object_set_new(a, "op", json_string(args[i].op)) < 0)
				return -ENOMEM;
			if (args[i].value_two != 0 &&
			    json_object_set_new(a, "valueTwo", json_u64(args[i].value_two)) < 0)
				return -ENOMEM;
		}
	}
	return json_array_append_new(syscalls, TAKE_PTR(rule)) < 0 ? -ENOMEM : 0;
}

static json_t *profile_head(const char *default_action, bool has_errno, unsigned errno_ret,
                            char *const *arches)
{
	_cleanup_json_ json_t *p = json_object();
	if (p == NULL || json_object_set_new(p, "defaultAction", json_string(default_action)) < 0)
		return NULL;
	if (has_errno && json_object_set_new(p, "defaultErrnoRet", json_integer(errno_ret)) < 0)
		return NULL;
	if (arches && arches[0]) {
		json_t *a = json_array();
		if (a == NULL || json_object_set_new(p, "architectures", a) < 0)
			return NULL;
		for (char *const *s = arches; *s; s++)
			if (json_array_append_new(a, json_string(*s)) < 0)
				return NULL;
	}
	if (json_object_set_new(p, "syscalls", json_array()) < 0)
		return NULL;
	return TAKE_PTR(p);
}

/* ---- the default profile ---- */

#define L(...) ((char *const[]){__VA_ARGS__, NULL})

/* Namespace flags clone must not carry without CAP_SYS_ADMIN: NEWNS, NEWCGROUP,
 * NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET. */
#define CLONE_NS_FLAGS UINT64_C(0x7E020000)

struct default_rule {
	char *const *names;
	const char *action; /* NULL: SCMP_ACT_ALLOW */
	unsigned errno_ret;
	struct sc_arg arg; /* op NULL: no argument condition */
	struct sc_filter includes, excludes;
};

/* What any program may do: files, memory, signals, time reading, sockets of
 * its own namespace, SysV IPC of its own namespace, scheduling of itself. */
static char *const allowed[] = {
    "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "cachestat", "capget", "capset",
    "chdir", "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64", "clock_getres",
    "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64",
    "close", "close_range", "connect", "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create",
    "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait",
    "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat", "exit", "exit_group", "faccessat",
    "faccessat2", "fadvise64", "fadvise64_64", "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat",
    "fchmodat2", "fchown", "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr",
    "flock", "fork", "fremovexattr", "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64",
    "fsync", "ftruncate", "ftruncate64", "futex", "futex_requeue", "futex_time64", "futex_wait",
    "futex_waitv", "futex_wake", "futimesat", "getcpu", "getcwd", "getdents", "getdents64", "getegid",
    "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32", "getitimer",
    "getpeername", "getpgid", "getpgrp", "getpid", "getppid", "getpriority", "getrandom", "getresgid",
    "getresgid32", "getresuid", "getresuid32", "getrlimit", "get_robust_list", "getrusage", "getsid",
    "getsockname", "getsockopt", "get_thread_area", "gettid", "gettimeofday", "getuid", "getuid32",
    "getxattr", "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel",
    "ioctl", "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64", "ioprio_get",
    "ioprio_set", "io_setup", "io_submit", "ipc", "kill", "landlock_add_rule", "landlock_create_ruleset",
    "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link", "linkat", "listen", "listxattr",
    "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64", "madvise",
    "map_shadow_stack", "membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir", "mkdirat", "mknod",
    "mknodat", "mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect", "mq_getsetattr", "mq_notify",
    "mq_open", "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64",
    "mq_unlink", "mremap", "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap",
    "name_to_handle_at", "nanosleep", "newfstatat", "_newselect", "open", "openat", "openat2", "pause",
    "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free", "pkey_mprotect", "poll",
    "ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2", "prlimit64", "process_mrelease",
    "pselect6", "pselect6_time64", "pwrite64", "pwritev", "pwritev2", "read", "readahead", "readlink",
    "readlinkat", "readv", "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages",
    "removexattr", "rename", "renameat", "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction",
    "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
    "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr", "sched_getparam",
    "sched_get_priority_max", "sched_get_priority_min", "sched_getscheduler", "sched_rr_get_interval",
    "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr", "sched_setparam",
    "sched_setscheduler", "sched_yield", "seccomp", "select", "semctl", "semget", "semop", "semtimedop",
    "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto", "setfsgid",
    "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32", "setitimer",
    "setpgid", "setpriority", "setregid", "setregid32", "setresgid", "setresgid32", "setresuid",
    "setresuid32", "setreuid", "setreuid32", "setrlimit", "set_robust_list", "setsid", "setsockopt",
    "set_thread_area", "set_tid_address", "setuid", "setuid32", "setxattr", "shmat", "shmctl", "shmdt",
    "shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4", "sigprocmask", "sigreturn", "socketcall",
    "socketpair", "splice", "stat", "stat64", "statfs", "statfs64", "statx", "symlink", "symlinkat", "sync",
    "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create", "timer_delete",
    "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64",
    "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times",
    "tkill", "truncate", "truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "utime",
    "utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid", "waitpid", "write",
    "writev",
    /* Needs CAP_SYS_PTRACE over the target anyway (and the Yama/ptrace checks);
     * safe since kernel 4.8 closed the seccomp bypass through ptrace. */
    "process_vm_readv", "process_vm_writev", "ptrace", NULL};

#define EQ(v)                                                                                                \
	{                                                                                                    \
		.index = 0, .value = (v), .op = "SCMP_CMP_EQ"                                                \
	}

static const struct default_rule default_rules[] = {
    {.names = allowed},
    /* AF_VSOCK (40) reaches the host or VMs beside it, not namespaced. */
    {.names = L("socket"), .arg = {.index = 0, .value = 40, .op = "SCMP_CMP_NE"}},
    /* personality: only the Linux domain, PER_LINUX32, UNAME26 and the query;
     * the others turn on ADDR_NO_RANDOMIZE and friends. */
    {.names = L("personality"), .arg = EQ(0x0)},
    {.names = L("personality"), .arg = EQ(0x8)},
    {.names = L("personality"), .arg = EQ(0x20000)},
    {.names = L("personality"), .arg = EQ(0x20008)},
    {.names = L("personality"), .arg = EQ(0xffffffff)},
    /* Architecture-specific calls of their own architectures. */
    {.names = L("sync_file_range2", "swapcontext"), .includes = {.arches = L("ppc64le")}},
    {.names = L("arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush",
                "set_tls"),
     .includes = {.arches = L("arm", "arm64")}},
    {.names = L("arch_prctl"), .includes = {.arches = L("amd64", "x32")}},
    {.names = L("modify_ldt"), .includes = {.arches = L("amd64", "x32", "x86")}},
    {.names = L("s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"),
     .includes = {.arches = L("s390", "s390x")}},
    {.names = L("riscv_flush_icache"), .includes = {.arches = L("riscv64")}},
    /* What a capability already gates in the kernel, allowed with that capability. */
    {.names = L("open_by_handle_at"), .includes = {.caps = L("CAP_DAC_READ_SEARCH")}},
    {.names = L("bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick",
                "lookup_dcookie", "mount", "mount_setattr", "move_mount", "open_tree", "perf_event_open",
                "quotactl", "quotactl_fd", "setdomainname", "sethostname", "setns", "syslog", "umount",
                "umount2", "unshare"),
     .includes = {.caps = L("CAP_SYS_ADMIN")}},
    /* Without CAP_SYS_ADMIN, clone only without namespace flags (the flags are
     * argument 0, argument 1 on s390). */
    {.names = L("clone"),
     .arg = {.index = 0, .value = CLONE_NS_FLAGS, .value_two = 0, .op = "SCMP_CMP_MASKED_EQ"},
     .excludes = {.caps = L("CAP_SYS_ADMIN"), .arches = L("s390", "s390x")}},
    {.names = L("clone"),
     .arg = {.index = 1, .value = CLONE_NS_FLAGS, .value_two = 0, .op = "SCMP_CMP_MASKED_EQ"},
     .includes = {.arches = L("s390", "s390x")},
     .excludes = {.caps = L("CAP_SYS_ADMIN")}},
    /* clone3's flags sit in memory, out of the filter's reach: ENOSYS makes
     * libc fall back to clone, which the rule above can check. */
    {.names = L("clone3"),
     .action = "SCMP_ACT_ERRNO",
     .errno_ret = ENOSYS,
     .excludes = {.caps = L("CAP_SYS_ADMIN")}},
    {.names = L("reboot"), .includes = {.caps = L("CAP_SYS_BOOT")}},
    {.names = L("chroot"), .includes = {.caps = L("CAP_SYS_CHROOT")}},
    {.names = L("delete_module", "init_module", "finit_module"), .includes = {.caps = L("CAP_SYS_MODULE")}},
    {.names = L("acct"), .includes = {.caps = L("CAP_SYS_PACCT")}},
    {.names = L("kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"),
     .includes = {.caps = L("CAP_SYS_PTRACE")}},
    {.names = L("iopl", "ioperm"), .includes = {.caps = L("CAP_SYS_RAWIO")}},
    {.names = L("settimeofday", "stime", "clock_settime", "clock_settime64"),
     .includes = {.caps = L("CAP_SYS_TIME")}},
    {.names = L("vhangup"), .includes = {.caps = L("CAP_SYS_TTY_CONFIG")}},
    {.names = L("get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"),
     .includes = {.caps = L("CAP_SYS_NICE")}},
    {.names = L("syslog"), .includes = {.caps = L("CAP_SYSLOG")}},
    {.names = L("bpf"), .includes = {.caps = L("CAP_BPF")}},
    {.names = L("perf_event_open"), .includes = {.caps = L("CAP_PERFMON")}},
};

int seccomp_default_build(char *const *caps, json_t **ret, struct vsl_error **err)
{
	_cleanup_json_ json_t *p = profile_head("SCMP_ACT_ERRNO", true, EPERM, (char *const *)host_arches);
	if (p == NULL)
		return vsl_error_errno(err, ENOMEM, "build the default seccomp profile");
	json_t *syscalls = json_object_get(p, "syscalls");
	for (size_t i = 0; i < ARRAY_SIZE(default_rules); i++) {
		const struct default_rule *r = &default_rules[i];
		if (!filter_includes(&r->includes, caps) || filter_excludes(&r->excludes, caps))
			continue;
		const char *action = r->action ? r->action : "SCMP_ACT_ALLOW";
		if (append_rule(syscalls, r->names, action, r->errno_ret != 0, r->errno_ret, &r->arg,
		                r->arg.op ? 1 : 0) < 0)
			return vsl_error_errno(err, ENOMEM, "build the default seccomp profile");
	}
	*ret = TAKE_PTR(p);
	return 0;
}

/* ---- Docker's profile format ---- */

#define SECCOMP_ACTIONS                                                                                      \
	"SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO", \
	    "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY"

struct dk_arg {
	unsigned index;
	uint64_t value, value_two;
	char *op;
};

struct dk_syscall {
	char *name;
	char **names;
	char *action;
	bool has_errno_ret;
	unsigned errno_ret;
	struct dk_arg *args;
	size_t n_args;
	char **inc_caps, **inc_arches, **exc_caps, **exc_arches;
	char *inc_min_kernel, *exc_min_kernel;
};

struct dk_arch {
	char *arch;
	char **sub;
};

struct dk_profile {
	char *default_action;
	bool has_default_errno_ret;
	unsigned default_errno_ret;
	char **architectures;
	struct dk_arch *arch_map;
	size_t n_arch_map;
	char **flags;
	char *listener_path, *listener_metadata;
	struct dk_syscall *syscalls;
	size_t n_syscalls;
};

static const struct json_field dk_arg_fields[] = {
    JT_FIELD(struct dk_arg, "index", K_U32, index, JT_REQ),
    JT_FIELD(struct dk_arg, "value", K_U64, value, JT_REQ),
    JT_FIELD(struct dk_arg, "valueTwo", K_U64, value_two),
    JT_FIELD(struct dk_arg, "op", K_STR, op,
             JT_REQ JT_ONEOF("operator", "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ",
                             "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ")),
    {0},
};
static const struct json_table dk_arg_table = {dk_arg_fields, sizeof(struct dk_arg), NULL, NULL};

#define S struct dk_syscall
static const struct json_field dk_includes_fields[] = {
    JT_FIELD(S, "caps", K_STRV, inc_caps),
    JT_FIELD(S, "arches", K_STRV, inc_arches),
    JT_FIELD(S, "minKernel", K_STR, inc_min_kernel),
    {0},
};
static const struct json_table dk_includes_table = {dk_includes_fields, 0, NULL, NULL};

static const struct json_field dk_excludes_fields[] = {
    JT_FIELD(S, "caps", K_STRV, exc_caps),
    JT_FIELD(S, "arches", K_STRV, exc_arches),
    JT_FIELD(S, "minKernel", K_STR, exc_min_kernel),
    {0},
};
static const struct json_table dk_excludes_table = {dk_excludes_fields, 0, NULL, NULL};

static int check_dk_syscall(void *obj, const struct jpath *p, struct vsl_error **err)
{
	const struct dk_syscall *s = obj;
	if (s->name != NULL && s->names != NULL)
		return json_table_fail(err, p,
		                       "'name' and 'names' were specified in the seccomp profile, use "
		                       "either 'name' or 'names'");
	return 0;
}

static const struct json_field dk_syscall_fields[] = {
    JT_FIELD(S, "name", K_STR, name),
    JT_FIELD(S, "names", K_STRV, names),
    JT_FIELD(S, "action", K_STR, action, JT_REQ JT_ONEOF("action", SECCOMP_ACTIONS)),
    JT_FIELD(S, "errnoRet", K_U32, errno_ret, JT_HAS(S, has_errno_ret)),
    JT_FIELD(S, "args", K_ARR, args, JT_COUNT(S, n_args) JT_SUB(dk_arg_table)),
    JT_INLINE("includes", dk_includes_table),
    JT_INLINE("excludes", dk_excludes_table),
    {0},
};
#undef S
static const struct json_table dk_syscall_table = {dk_syscall_fields, sizeof(struct dk_syscall), NULL,
                                                   check_dk_syscall};

static const struct json_field dk_arch_fields[] = {
    JT_FIELD(struct dk_arch, "architecture", K_STR, arch, JT_REQ),
    JT_FIELD(struct dk_arch, "subArchitectures", K_STRV, sub),
    {0},
};
static const struct json_table dk_arch_table = {dk_arch_fields, sizeof(struct dk_arch), NULL, NULL};

static int check_dk_profile(void *obj, const struct jpath *p, struct vsl_error **err)
{
	const struct dk_profile *d = obj;
	if (d->architectures && d->architectures[0] && d->n_arch_map > 0)
		return json_table_fail(err, p,
		                       "'architectures' and 'archMap' were specified in the seccomp "
		                       "profile, use either 'architectures' or 'archMap'");
	return 0;
}

#define P struct dk_profile
static const struct json_field dk_profile_fields[] = {
    JT_FIELD(P, "defaultAction", K_STR, default_action, JT_REQ JT_ONEOF("action", SECCOMP_ACTIONS)),
    JT_FIELD(P, "defaultErrnoRet", K_U32, default_errno_ret, JT_HAS(P, has_default_errno_ret)),
    JT_FIELD(P, "architectures", K_STRV, architectures),
    JT_FIELD(P, "archMap", K_ARR, arch_map, JT_COUNT(P, n_arch_map) JT_SUB(dk_arch_table)),
    JT_FIELD(P, "flags", K_STRV, flags),
    JT_FIELD(P, "listenerPath", K_STR, listener_path),
    JT_FIELD(P, "listenerMetadata", K_STR, listener_metadata),
    JT_FIELD(P, "syscalls", K_ARR, syscalls, JT_COUNT(P, n_syscalls) JT_SUB(dk_syscall_table)),
    {0},
};
#undef P
static const struct json_table dk_profile_table = {dk_profile_fields, sizeof(struct dk_profile), NULL,
                                                   check_dk_profile};

static void dk_profile_freep(struct dk_profile *d)
{
	json_table_free(&dk_profile_table, d);
}

static int set_strv(json_t *obj, const char *key, char *const *l)
{
	json_t *a = json_array();
	if (a == NULL || json_object_set_new(obj, key, a) < 0)
		return -ENOMEM;
	for (; *l; l++)
		if (json_array_append_new(a, json_string(*l)) < 0)
			return -EINVAL;
	return 0;
}

int seccomp_profile_convert(const char *text, size_t len, char *const *caps, json_t **ret,
                            struct vsl_error **err)
{
	const struct jpath root = {.key = "seccomp profile", .doc = true};
	_cleanup_json_ json_t *j = NULL;
	int r = json_table_load(text, len, &root, &j, err);
	if (r < 0)
		return r;
	_cleanup_(dk_profile_freep) struct dk_profile d = {0};
	r = json_table_parse(&dk_profile_table, j, &d, &root, err);
	if (r < 0)
		return r;

	/* archMap: the host's entry and what runs beside it. */
	_cleanup_strv_ char **arches = NULL;
	for (size_t i = 0; i < d.n_arch_map; i++) {
		if (strcmp(d.arch_map[i].arch, host_arches[0]) != 0)
			continue;
		if (strv_append(&arches, d.arch_map[i].arch) < 0)
			return vsl_error_errno(err, ENOMEM, "convert seccomp profile");
		for (char **s = d.arch_map[i].sub; s && *s; s++)
			if (strv_append(&arches, *s) < 0)
				return vsl_error_errno(err, ENOMEM, "convert seccomp profile");
	}

	_cleanup_json_ json_t *p = profile_head(d.default_action, d.has_default_errno_ret,
	                                        d.default_errno_ret, arches ? arches : d.architectures);
	if (p == NULL)
		return vsl_error_errno(err, ENOMEM, "convert seccomp profile");
	if ((d.flags && set_strv(p, "flags", d.flags) < 0) ||
	    (d.listener_path && json_object_set_new(p, "listenerPath", json_string(d.listener_path)) < 0) ||
	    (d.listener_metadata &&
	     json_object_set_new(p, "listenerMetadata", json_string(d.listener_metadata)) < 0))
		return vsl_error_errno(err, EINVAL, "convert seccomp profile");

	json_t *syscalls = json_object_get(p, "syscalls");
	for (size_t i = 0; i < d.n_syscalls; i++) {
		const struct dk_syscall *s = &d.syscalls[i];
		struct sc_filter inc = {
		    .caps = s->inc_caps, .arches = s->inc_arches, .min_kernel = s->inc_min_kernel};
		struct sc_filter exc = {
		    .caps = s->exc_caps, .arches = s->exc_arches, .min_kernel = s->exc_min_kernel};
		if (!filter_includes(&inc, caps) || filter_excludes(&exc, caps))
			continue;
		char *single[] = {s->name, NULL};
		char *const *names = s->name ? single : s->names;
		if (names == NULL || names[0] == NULL)
			continue; /* dockerd writes such a rule out, and runc then ignores it */
		_cleanup_free_ struct sc_arg *args = calloc(s->n_args + 1, sizeof(*args));
		if (args == NULL)
			return vsl_error_errno(err, ENOMEM, "convert seccomp profile");
		for (size_t k = 0; k < s->n_args; k++)
			args[k] = (struct sc_arg){s->args[k].index, s->args[k].value, s->args[k].value_two,
			                          s->args[k].op};
		if (append_rule(syscalls, names, s->action, s->has_errno_ret, s->errno_ret, args, s->n_args) <
		    0)
			return vsl_error_errno(err, EINVAL, "convert seccomp profile");
	}
	*ret = TAKE_PTR(p);
	return 0;
}
