/* linux.seccomp -> a libseccomp filter, compiled early and loaded last. */
#include "runtime/seccomp.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "runtime/config.h"
#include "util/cleanup.h"
#include "util/digest.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"

#ifndef SECCOMP_SET_MODE_FILTER
#define SECCOMP_SET_MODE_FILTER 1
#endif
#ifndef SECCOMP_FILTER_FLAG_TSYNC
#define SECCOMP_FILTER_FLAG_TSYNC (1UL << 0)
#endif
#ifndef SECCOMP_FILTER_FLAG_LOG
#define SECCOMP_FILTER_FLAG_LOG (1UL << 1)
#endif
#ifndef SECCOMP_FILTER_FLAG_SPEC_ALLOW
#define SECCOMP_FILTER_FLAG_SPEC_ALLOW (1UL << 2)
#endif
#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif
#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

/* The syscall's argument registers. */
#define SECCOMP_MAX_ARGS 6

struct seccomp_filter {
	scmp_filter_ctx ctx;
	bool notify; /* some rule is SCMP_ACT_NOTIFY: the load returns a listener fd */
	/* Set when the profile needs a kernel flag libseccomp cannot pass (2.5 has
	 * no attribute for WAIT_KILLABLE_RECV): we then load the exported BPF
	 * ourselves with these flags. */
	unsigned long raw_flags;
	struct sock_filter *raw_prog;
	size_t raw_len;
};

const char *const seccomp_known_actions[] = {
    "SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",   "SCMP_ACT_ERRNO",
    "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW",        "SCMP_ACT_LOG",         "SCMP_ACT_NOTIFY", NULL,
};

const char *const seccomp_known_operators[] = {
    "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",        "SCMP_CMP_EQ",
    "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ", NULL,
};

/* Those libseccomp 2.5 resolves ("SCMP_ARCH_" + upper-case of its own name). */
const char *const seccomp_known_archs[] = {
    "SCMP_ARCH_X86",     "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",         "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS",     "SCMP_ARCH_MIPS64",      "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",   "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_S390",        "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",  "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",     NULL,
};

const char *const seccomp_known_flags[] = {
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
    NULL,
};

static const struct {
	const char *name;
	uint32_t action;
	bool takes_ret; /* errnoRet is the errno (ERRNO) or the tracer's message (TRACE) */
} actions[] = {
    /* SCMP_ACT_KILL is the historical name: it kills the thread only. */
    {"SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD, false},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP, false},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), true},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), true},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG, false},
    {"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, false},
};

static const struct {
	const char *name;
	enum scmp_compare op;
} operators[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

/* 0, or -ENOENT for an unknown name, -ERANGE for an errnoRet that does not fit. */
static int action_parse(const char *name, bool has_ret, unsigned ret, uint32_t *action)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(actions); i++) {
		if (strcmp(name, actions[i].name) != 0)
			continue;
		if (!actions[i].takes_ret) {
			/* Ignored, as runc does: only ERRNO and TRACE carry a value. */
			*action = actions[i].action;
			return 0;
		}
		unsigned v = has_ret ? ret : EPERM;
		if (v > 0xffff)
			return -ERANGE;
		*action = actions[i].action | v;
		return 0;
	}
	return -ENOENT;
}

static int action_error(struct vsl_error **err, int r, const char *field, const char *name, unsigned ret)
{
	if (r == -ERANGE)
		return vsl_error_set(err, "%s: errnoRet %u out of range", field, ret);
	return vsl_error_set(err, "%s: unknown action '%s'", field, name ? name : "(null)");
}

static int operator_parse(const char *name, enum scmp_compare *op)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(operators); i++)
		if (strcmp(name, operators[i].name) == 0) {
			*op = operators[i].op;
			return 0;
		}
	return -ENOENT;
}

static uint32_t arch_parse(const char *name)
{
	/* libseccomp's own names are the lower-case tail: "SCMP_ARCH_X86_64" -> "x86_64". */
	if (name == NULL || strncmp(name, "SCMP_ARCH_", 10) != 0)
		return 0;
	char lower[32];
	size_t len = strlen(name + 10);
	if (len == 0 || len >= sizeof(lower))
		return 0;
	for (size_t i = 0; i <= len; i++)
		lower[i] = (char)tolower((unsigned char)name[10 + i]);
	return seccomp_arch_resolve_name(lower);
}

static int add_flag(struct seccomp_filter *f, size_t i, const char *name, struct vsl_error **err)
{
	static const struct {
		const char *name;
		enum scmp_filter_attr attr;
		unsigned long kernel_flag;
	} flags[] = {
	    {"SECCOMP_FILTER_FLAG_TSYNC", SCMP_FLTATR_CTL_TSYNC, SECCOMP_FILTER_FLAG_TSYNC},
	    {"SECCOMP_FILTER_FLAG_LOG", SCMP_FLTATR_CTL_LOG, SECCOMP_FILTER_FLAG_LOG},
	    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SCMP_FLTATR_CTL_SSB, SECCOMP_FILTER_FLAG_SPEC_ALLOW},
	};

	if (name && strcmp(name, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") == 0) {
		/* Only means something with a listener; applied at load (see raw_flags). */
		f->raw_flags |= SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
		return 0;
	}
	for (size_t k = 0; name && k < ARRAY_SIZE(flags); k++) {
		if (strcmp(name, flags[k].name) != 0)
			continue;
		int r = seccomp_attr_set(f->ctx, flags[k].attr, 1);
		if (r < 0)
			return vsl_error_errno(err, -r, "linux.seccomp.flags[%zu]: '%s' not supported here",
			                       i, name);
		f->raw_flags |= flags[k].kernel_flag;
		return 0;
	}
	return vsl_error_set(err, "linux.seccomp.flags[%zu]: unknown flag '%s'", i, name ? name : "(null)");
}

static int add_rule(struct seccomp_filter *f, size_t i, const struct oci_syscall_rule *rule, uint32_t def,
                    struct vsl_error **err)
{
	uint32_t action;
	int r = action_parse(rule->action, rule->has_errno_ret, rule->errno_ret, &action);
	if (r < 0) {
		char field[64];
		snprintf(field, sizeof(field), "linux.seccomp.syscalls[%zu]", i);
		return action_error(err, r, field, rule->action, rule->errno_ret);
	}

	if (rule->n_args > SECCOMP_MAX_ARGS * 4)
		return vsl_error_set(err, "linux.seccomp.syscalls[%zu]: too many args (%zu)", i,
		                     rule->n_args);
	struct scmp_arg_cmp conds[SECCOMP_MAX_ARGS * 4];
	unsigned per_index[SECCOMP_MAX_ARGS] = {0};
	bool same_index = false;
	for (size_t j = 0; j < rule->n_args; j++) {
		const struct oci_syscall_arg *a = &rule->args[j];
		enum scmp_compare op;
		if (operator_parse(a->op, &op) < 0)
			return vsl_error_set(err,
			                     "linux.seccomp.syscalls[%zu].args[%zu]: unknown operator '%s'",
			                     i, j, a->op ? a->op : "(null)");
		if (a->index >= SECCOMP_MAX_ARGS)
			return vsl_error_set(
			    err, "linux.seccomp.syscalls[%zu].args[%zu]: index %u out of range (0-%d)", i, j,
			    a->index, SECCOMP_MAX_ARGS - 1);
		if (++per_index[a->index] > 1)
			same_index = true;
		/* For MASKED_EQ the spec's value is the mask and valueTwo the datum,
		 * which is libseccomp's order too. */
		conds[j] = (struct scmp_arg_cmp){
		    .arg = a->index, .op = op, .datum_a = a->value, .datum_b = a->value_two};
	}

	for (size_t k = 0; rule->names && rule->names[k]; k++) {
		const char *name = rule->names[k];
		if (action == SCMP_ACT_NOTIFY && strcmp(name, "write") == 0)
			/* The runtime itself writes after loading the filter: it would wait on its own
			 * listener. */
			return vsl_error_set(
			    err, "linux.seccomp.syscalls[%zu]: SCMP_ACT_NOTIFY cannot be used for 'write'",
			    i);
	}

	/* libseccomp refuses (EACCES) a rule that repeats the default action;
	 * it would change nothing anyway. */
	if (action == def)
		return 0;
	if (action == SCMP_ACT_NOTIFY)
		f->notify = true;

	for (size_t k = 0; rule->names && rule->names[k]; k++) {
		const char *name = rule->names[k];
		int nr = seccomp_syscall_resolve_name(name);
		/* Profiles list syscalls newer than this libseccomp or kernel: skip them, as runc does. */
		if (nr == __NR_SCMP_ERROR)
			continue;

		if (same_index) {
			/* Several conditions on one argument: libseccomp ANDs a rule's
			 * conditions, so each becomes its own rule (OR), as in runc. */
			for (size_t j = 0; j < rule->n_args; j++) {
				r = seccomp_rule_add_array(f->ctx, action, nr, 1, &conds[j]);
				if (r < 0)
					return vsl_error_errno(
					    err, -r, "linux.seccomp.syscalls[%zu]: add rule for '%s'", i,
					    name);
			}
		} else {
			r = seccomp_rule_add_array(f->ctx, action, nr, (unsigned)rule->n_args, conds);
			if (r < 0)
				return vsl_error_errno(
				    err, -r, "linux.seccomp.syscalls[%zu]: add rule for '%s'", i, name);
		}
	}
	return 0;
}

/* Exports the compiled program, for loading it with flags libseccomp cannot set. */
static int export_bpf(struct seccomp_filter *f, struct vsl_error **err)
{
	_cleanup_close_ int fd = memfd_create("vessel-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return vsl_error_errno(err, errno, "create memfd for the seccomp program");
	int r = seccomp_export_bpf(f->ctx, fd);
	if (r < 0)
		return vsl_error_errno(err, -r, "export seccomp program");
	struct stat st;
	if (fstat(fd, &st) < 0)
		return vsl_error_errno(err, errno, "stat exported seccomp program");
	size_t size = (size_t)st.st_size;
	if (size == 0 || size % sizeof(struct sock_filter) != 0 ||
	    size / sizeof(struct sock_filter) > BPF_MAXINSNS)
		return vsl_error_set(err, "exported seccomp program has a bad size (%zu bytes)", size);
	_cleanup_free_ struct sock_filter *prog = malloc(size);
	if (prog == NULL)
		return vsl_error_errno(err, ENOMEM, "export seccomp program");
	for (size_t done = 0; done < size;) {
		ssize_t n = pread(fd, (char *)prog + done, size - done, (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return vsl_error_errno(err, n < 0 ? errno : EIO, "read exported seccomp program");
		done += (size_t)n;
	}
	f->raw_prog = TAKE_PTR(prog);
	f->raw_len = size / sizeof(struct sock_filter);
	return 0;
}

static inline void seccomp_filter_freep(struct seccomp_filter **f)
{
	seccomp_filter_free(*f);
}

int seccomp_filter_prepare(const struct oci_seccomp *s, struct seccomp_filter **ret, struct vsl_error **err)
{
	if (s == NULL) {
		*ret = NULL;
		return 0;
	}

	uint32_t def;
	int r = action_parse(s->default_action, s->has_default_errno_ret, s->default_errno_ret, &def);
	if (r < 0)
		return action_error(err, r, "linux.seccomp.defaultAction", s->default_action,
		                    s->default_errno_ret);
	if (def == SCMP_ACT_NOTIFY)
		/* Every syscall of the runtime after the load, including handing over the fd, would wait on
		 * it. */
		return vsl_error_set(
		    err, "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");

	_cleanup_(seccomp_filter_freep) struct seccomp_filter *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return vsl_error_errno(err, ENOMEM, "allocate seccomp filter");
	f->ctx = seccomp_init(def);
	if (f->ctx == NULL)
		return vsl_error_set(err, "linux.seccomp: cannot initialise libseccomp");

	/* The runtime sets no_new_privs itself when process.noNewPrivileges asks;
	 * a privileged process loads a filter without it. */
	r = seccomp_attr_set(f->ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (r < 0)
		return vsl_error_errno(err, -r, "linux.seccomp: clear no_new_privs attribute");
	/* Real errno values from the kernel rather than libseccomp's ECANCELED. */
	(void)seccomp_attr_set(f->ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
	/* A binary tree of syscall numbers instead of a list: loading a filter
	 * makes the kernel run it once per syscall number to find the ones it
	 * always allows (its bitmap cache), and Docker's profile as a list is
	 * ~1000 instructions deep: that walk costs more than the rest of a
	 * container's creation. Older libseccomp lacks it: then a list. */
	(void)seccomp_attr_set(f->ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);

	for (size_t i = 0; s->architectures && s->architectures[i]; i++) {
		uint32_t arch = arch_parse(s->architectures[i]);
		if (arch == 0)
			return vsl_error_set(err,
			                     "linux.seccomp.architectures[%zu]: unknown architecture '%s'", i,
			                     s->architectures[i]);
		r = seccomp_arch_add(f->ctx, arch);
		if (r < 0 && r != -EEXIST)
			return vsl_error_errno(err, -r, "linux.seccomp.architectures[%zu]: add '%s'", i,
			                       s->architectures[i]);
	}

	for (size_t i = 0; s->flags && s->flags[i]; i++) {
		r = add_flag(f, i, s->flags[i], err);
		if (r < 0)
			return r;
	}

	for (size_t i = 0; i < s->n_syscalls; i++) {
		r = add_rule(f, i, &s->syscalls[i], def, err);
		if (r < 0)
			return r;
	}

	if (f->notify && s->listener_path == NULL)
		return vsl_error_set(err,
		                     "linux.seccomp.listenerPath: required when a rule uses SCMP_ACT_NOTIFY");

	if (f->notify && (f->raw_flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)) {
		r = export_bpf(f, err);
		if (r < 0)
			return vsl_error_prefix(err, "linux.seccomp");
	}

	*ret = TAKE_PTR(f);
	return 0;
}

/* ---- compiled programs kept between runs ----------------------------------- */

/* A cache file: this header, then `len` struct sock_filter. */
#define CACHE_MAGIC "vessel-seccomp2" /* 2: filters built as binary trees */
struct cache_header {
	char magic[16];
	uint64_t flags; /* raw_flags */
	uint32_t notify;
	uint32_t len;
};

static void hash_bytes(struct digester *d, const void *p, size_t n)
{
	uint64_t len = n;
	digester_update(d, &len, sizeof(len));
	digester_update(d, p, n);
}

static void hash_str(struct digester *d, const char *v)
{
	/* NULL and "" differ: the length of NULL is ~0. */
	if (v == NULL) {
		uint64_t none = UINT64_MAX;
		digester_update(d, &none, sizeof(none));
	} else {
		hash_bytes(d, v, strlen(v));
	}
}

static void hash_u64(struct digester *d, uint64_t v)
{
	digester_update(d, &v, sizeof(v));
}

static void hash_strv(struct digester *d, char **v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	hash_u64(d, v ? n : UINT64_MAX);
	for (size_t i = 0; i < n; i++)
		hash_str(d, v[i]);
}

/* Everything the compiled program and its load flags depend on: every field of
 * the profile but the listener's path and metadata, the libseccomp that compiles
 * (its syscall tables) and the kernel it probes (the actions it supports). */
static int cache_key(const struct oci_seccomp *s, char ret[DIGEST_SIZE])
{
	_cleanup_digester_ struct digester *d = digester_new();
	if (d == NULL)
		return -ENOMEM;
	hash_str(d, CACHE_MAGIC);
	const struct scmp_version *v = seccomp_version();
	hash_u64(d, v ? ((uint64_t)v->major << 32 | (uint64_t)v->minor << 16 | v->micro) : 0);
	struct utsname u;
	if (uname(&u) < 0)
		return -errno;
	hash_str(d, u.release);
	hash_str(d, u.version);
	hash_str(d, u.machine);

	hash_str(d, s->default_action);
	hash_u64(d, s->has_default_errno_ret);
	hash_u64(d, s->default_errno_ret);
	hash_strv(d, s->architectures);
	hash_strv(d, s->flags);
	hash_u64(d, s->n_syscalls);
	for (size_t i = 0; i < s->n_syscalls; i++) {
		const struct oci_syscall_rule *r = &s->syscalls[i];
		hash_strv(d, r->names);
		hash_str(d, r->action);
		hash_u64(d, r->has_errno_ret);
		hash_u64(d, r->errno_ret);
		hash_u64(d, r->n_args);
		for (size_t j = 0; j < r->n_args; j++) {
			hash_u64(d, r->args[j].index);
			hash_u64(d, r->args[j].value);
			hash_u64(d, r->args[j].value_two);
			hash_str(d, r->args[j].op);
		}
	}
	digester_final(d, ret);
	return 0;
}

/* Ours alone, or not used: whoever can write here chooses the filter of the
 * next container. */
static bool cache_trusted(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && st.st_uid == geteuid() && (st.st_mode & 022) == 0;
}

static int cache_open(const char *dir)
{
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (!cache_trusted(fd)) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

/* 0 and *ret, or -errno when there is no usable entry. */
static int cache_read(int dirfd, const char *name, struct seccomp_filter **ret)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || !cache_trusted(fd))
		return -EPERM;
	struct cache_header h;
	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		return -EIO;
	if (memcmp(h.magic, CACHE_MAGIC, sizeof(h.magic)) != 0 || h.len == 0 || h.len > BPF_MAXINSNS ||
	    (uint64_t)st.st_size != sizeof(h) + (uint64_t)h.len * sizeof(struct sock_filter))
		return -EINVAL;
	size_t size = (size_t)h.len * sizeof(struct sock_filter);
	_cleanup_free_ struct sock_filter *prog = malloc(size);
	if (prog == NULL)
		return -ENOMEM;
	if (pread(fd, prog, size, sizeof(h)) != (ssize_t)size)
		return -EIO;
	struct seccomp_filter *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -ENOMEM;
	f->notify = h.notify != 0;
	f->raw_flags = (unsigned long)h.flags;
	f->raw_len = h.len;
	f->raw_prog = TAKE_PTR(prog);
	*ret = f;
	return 0;
}

static void cache_write(int dirfd, const char *name, const struct seccomp_filter *f)
{
	struct cache_header h = {.flags = f->raw_flags, .notify = f->notify, .len = (uint32_t)f->raw_len};
	memcpy(h.magic, CACHE_MAGIC, sizeof(h.magic));
	size_t size = f->raw_len * sizeof(struct sock_filter);
	_cleanup_free_ char *buf = malloc(sizeof(h) + size);
	if (buf == NULL)
		return;
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), f->raw_prog, size);
	_cleanup_error_ struct vsl_error *err = NULL;
	/* A temporary file renamed into place: a reader never sees half of one. */
	if (write_file_atomic_at(dirfd, name, buf, sizeof(h) + size, 0600, &err) < 0)
		log_debug("seccomp cache: %s", vsl_error_message(err));
}

int seccomp_filter_prepare_cached(const struct oci_seccomp *s, const char *cache_dir,
                                  struct seccomp_filter **ret, struct vsl_error **err)
{
	char key[DIGEST_SIZE];
	if (s == NULL || cache_key(s, key) < 0)
		return seccomp_filter_prepare(s, ret, err);
	const char *name = digest_hex(key);

	_cleanup_close_ int dirfd = cache_open(cache_dir);
	struct seccomp_filter *cached = NULL;
	if (dirfd >= 0 && cache_read(dirfd, name, &cached) == 0) {
		/* The one check of prepare on what the key leaves out. */
		if (cached->notify && s->listener_path == NULL) {
			seccomp_filter_free(cached);
			return vsl_error_set(
			    err, "linux.seccomp.listenerPath: required when a rule uses SCMP_ACT_NOTIFY");
		}
		*ret = cached;
		return 0;
	}

	_cleanup_(seccomp_filter_freep) struct seccomp_filter *f = NULL;
	if (seccomp_filter_prepare(s, &f, err) < 0)
		return -1;
	/* From here loaded as the exported program, as a cached one is. */
	if (f->raw_prog == NULL && export_bpf(f, err) < 0)
		return vsl_error_prefix(err, "linux.seccomp");
	seccomp_release(f->ctx);
	f->ctx = NULL;
	if (dirfd >= 0)
		cache_write(dirfd, name, f);
	*ret = TAKE_PTR(f);
	return 0;
}

/* As libseccomp's seccomp_load() does with our attributes (no no_new_privs). */
static int load_raw(struct seccomp_filter *f, int *ret_notify_fd, struct vsl_error **err)
{
	unsigned long flags = f->raw_flags;
	if (f->notify) {
		flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
		/* With a listener, TSYNC must report a failing thread as ESRCH: its
		 * normal failure value (a thread id) would clash with the returned fd. */
		if (flags & SECCOMP_FILTER_FLAG_TSYNC)
			flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
	} else {
		/* Only means something with a listener, and the kernel refuses it without. */
		flags &= ~SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
	}
	struct sock_fprog prog = {.len = (unsigned short)f->raw_len, .filter = f->raw_prog};
	long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
	if (fd < 0 && errno == EINVAL && (flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV))
		return vsl_error_errno(
		    err, errno,
		    "load seccomp filter (SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs Linux 5.19)");
	if (fd < 0)
		return vsl_error_errno(err, errno, "load seccomp filter");
	*ret_notify_fd = f->notify ? (int)fd : -1;
	return 0;
}

int seccomp_filter_load(struct seccomp_filter *f, int *ret_notify_fd, struct vsl_error **err)
{
	if (f == NULL) {
		if (ret_notify_fd)
			*ret_notify_fd = -1;
		return 0;
	}

	int fd = -1;
	if (f->raw_prog) {
		int r = load_raw(f, &fd, err);
		if (r < 0)
			return r;
	} else {
		int r = seccomp_load(f->ctx);
		if (r < 0)
			return vsl_error_errno(err, -r, "load seccomp filter");
		if (f->notify) {
			fd = seccomp_notify_fd(f->ctx);
			if (fd < 0)
				return vsl_error_errno(err, -fd, "get seccomp listener fd");
		}
	}
	if (ret_notify_fd)
		*ret_notify_fd = fd;
	else if (fd >= 0)
		close(fd);
	return 0;
}

void seccomp_filter_free(struct seccomp_filter *f)
{
	if (f == NULL)
		return;
	if (f->ctx)
		seccomp_release(f->ctx);
	free(f->raw_prog);
	free(f);
}
