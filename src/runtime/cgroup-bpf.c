/* Device rules on cgroup v2: there is no devices.allow file, the kernel asks a
 * BPF_PROG_TYPE_CGROUP_DEVICE program attached to the cgroup instead. We
 * compile the OCI rule list into one such program: rules are tested from the
 * last to the first, the first hit decides (so the last matching rule wins, as
 * the spec reads), and a request no rule matches is denied. */
#include <errno.h>
#include <linux/bpf.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/cgroup-internal.h"
#include "runtime/config.h"
#include "util/cleanup.h"
#include "util/error.h"

#define INSN(c, d, s, o, i)                                                                                  \
	((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})
#define LDX_W(dst, src, off)     INSN(BPF_LDX | BPF_W | BPF_MEM, dst, src, off, 0)
#define ALU64_K(op, dst, imm)    INSN(BPF_ALU64 | (op) | BPF_K, dst, 0, 0, imm)
#define MOV64_X(dst, src)        INSN(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0)
#define JMP_K(op, dst, imm, off) INSN(BPF_JMP | (op) | BPF_K, dst, 0, off, imm)
#define EXIT_INSN()              INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

#define ACC_ALL (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE)

/* registers the prologue fills from struct bpf_cgroup_dev_ctx */
enum { R_RET = 0, R_CTX = 1, R_TYPE = 2, R_ACC = 3, R_MAJOR = 4, R_MINOR = 5 };

static int parse_access(const char *s, int *ret)
{
	int acc = 0;
	if (s == NULL || *s == '\0') {
		*ret = ACC_ALL;
		return 0;
	}
	for (; *s; s++) {
		switch (*s) {
		case 'r':
			acc |= BPF_DEVCG_ACC_READ;
			break;
		case 'w':
			acc |= BPF_DEVCG_ACC_WRITE;
			break;
		case 'm':
			acc |= BPF_DEVCG_ACC_MKNOD;
			break;
		default:
			return -EINVAL;
		}
	}
	*ret = acc;
	return 0;
}

int cg_bpf_devices_build(const struct oci_device_rule *rules, size_t n, struct bpf_insn **ret, size_t *ret_n,
                         struct vsl_error **err)
{
	/* prologue 6 + per rule at most 9 + epilogue 2 */
	size_t cap = 6 + 9 * n + 2, len = 0;
	_cleanup_free_ struct bpf_insn *p = calloc(cap, sizeof(*p));
	if (p == NULL)
		return vsl_error_errno(err, ENOMEM, "build eBPF device program");

	/* access_type is (access << 16) | type */
	p[len++] = LDX_W(R_TYPE, R_CTX, offsetof(struct bpf_cgroup_dev_ctx, access_type));
	p[len++] = ALU64_K(BPF_AND, R_TYPE, 0xFFFF);
	p[len++] = LDX_W(R_ACC, R_CTX, offsetof(struct bpf_cgroup_dev_ctx, access_type));
	p[len++] = ALU64_K(BPF_RSH, R_ACC, 16);
	p[len++] = LDX_W(R_MAJOR, R_CTX, offsetof(struct bpf_cgroup_dev_ctx, major));
	p[len++] = LDX_W(R_MINOR, R_CTX, offsetof(struct bpf_cgroup_dev_ctx, minor));

	bool catch_all = false;
	for (size_t k = n; k-- > 0;) {
		const struct oci_device_rule *d = &rules[k];
		int acc = 0;
		if (parse_access(d->access, &acc) < 0)
			return vsl_error_set(err, "linux.resources.devices[%zu]: invalid access '%s'", k,
			                     d->access);
		size_t jumps[4], nj = 0;
		bool any_type = d->type == 'a' || d->type == 0;
		if (!any_type) {
			int t = d->type == 'c'   ? BPF_DEVCG_DEV_CHAR
			        : d->type == 'b' ? BPF_DEVCG_DEV_BLOCK
			                         : -1;
			if (t < 0)
				return vsl_error_set(err, "linux.resources.devices[%zu]: invalid type '%c'",
				                     k, d->type);
			jumps[nj++] = len;
			p[len++] = JMP_K(BPF_JNE, R_TYPE, t, 0);
		}
		if (acc != ACC_ALL) {
			/* an allow rule must cover every bit asked for; a deny rule hits on any overlap */
			p[len++] = MOV64_X(R_RET, R_ACC);
			if (d->allow) {
				p[len++] = ALU64_K(BPF_AND, R_RET, ~acc & ACC_ALL);
				jumps[nj++] = len;
				p[len++] = JMP_K(BPF_JNE, R_RET, 0, 0);
			} else {
				p[len++] = ALU64_K(BPF_AND, R_RET, acc);
				jumps[nj++] = len;
				p[len++] = JMP_K(BPF_JEQ, R_RET, 0, 0);
			}
		}
		if (!any_type && d->major >= 0) {
			jumps[nj++] = len;
			p[len++] = JMP_K(BPF_JNE, R_MAJOR, (int32_t)d->major, 0);
		}
		if (!any_type && d->minor >= 0) {
			jumps[nj++] = len;
			p[len++] = JMP_K(BPF_JNE, R_MINOR, (int32_t)d->minor, 0);
		}
		p[len++] = ALU64_K(BPF_MOV, R_RET, d->allow ? 1 : 0);
		p[len++] = EXIT_INSN();
		for (size_t j = 0; j < nj; j++)
			p[jumps[j]].off = (int16_t)(len - jumps[j] - 1);
		if (nj == 0) {
			/* matches everything: rules before it can never decide, and the
			 * verifier refuses unreachable code */
			catch_all = true;
			break;
		}
	}
	if (!catch_all) {
		p[len++] = ALU64_K(BPF_MOV, R_RET, 0);
		p[len++] = EXIT_INSN();
	}
	*ret = TAKE_PTR(p);
	*ret_n = len;
	return 0;
}

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static int prog_load(const struct bpf_insn *insns, size_t n, const char *dir, struct vsl_error **err)
{
	union bpf_attr attr = {0};
	attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	attr.insns = (uintptr_t)insns;
	attr.insn_cnt = (uint32_t)n;
	attr.license = (uintptr_t) "GPL";
	int fd = sys_bpf(BPF_PROG_LOAD, &attr);
	if (fd >= 0)
		return fd;
	int saved = errno;
	if (saved != EINVAL && saved != EACCES)
		return vsl_error_errno(err, saved, "load eBPF device program for '%s'", dir);

	/* load again with the verifier's log, only to say why */
	_cleanup_free_ char *log = calloc(1, 16384);
	if (log) {
		attr.log_buf = (uintptr_t)log;
		attr.log_size = 16384;
		attr.log_level = 1;
		fd = sys_bpf(BPF_PROG_LOAD, &attr);
		if (fd >= 0)
			return fd;
		log[16383] = '\0';
	}
	return vsl_error_errno(err, saved, "load eBPF device program for '%s' (verifier: %s)", dir,
	                       log && *log ? log : "no log");
}

int cg_bpf_devices_apply(int dirfd, const char *dir, const struct oci_device_rule *rules, size_t n,
                         struct vsl_error **err)
{
	_cleanup_free_ struct bpf_insn *insns = NULL;
	size_t len = 0;
	int r = cg_bpf_devices_build(rules, n, &insns, &len, err);
	if (r < 0)
		return r;
	_cleanup_close_ int prog = prog_load(insns, len, dir, err);
	if (prog < 0)
		return prog;

	/* What is attached now (ours from an earlier create/update) is replaced:
	 * with BPF_F_ALLOW_MULTI every program must allow, so an old one left in
	 * place would keep denying what the new rules allow. */
	uint32_t ids[64];
	union bpf_attr q = {0};
	q.query.target_fd = (uint32_t)dirfd;
	q.query.attach_type = BPF_CGROUP_DEVICE;
	q.query.prog_ids = (uintptr_t)ids;
	q.query.prog_cnt = ARRAY_SIZE(ids);
	size_t n_old = sys_bpf(BPF_PROG_QUERY, &q) == 0 ? q.query.prog_cnt : 0;
	if (n_old > ARRAY_SIZE(ids))
		n_old = ARRAY_SIZE(ids);
	int old[ARRAY_SIZE(ids)];
	size_t n_fds = 0;
	for (size_t i = 0; i < n_old; i++) {
		union bpf_attr g = {0};
		g.prog_id = ids[i];
		int fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &g);
		if (fd >= 0)
			old[n_fds++] = fd;
	}

	union bpf_attr a = {0};
	a.target_fd = (uint32_t)dirfd;
	a.attach_bpf_fd = (uint32_t)prog;
	a.attach_type = BPF_CGROUP_DEVICE;
	a.attach_flags = BPF_F_ALLOW_MULTI;
	bool replaced = false;
	if (n_fds == 1) {
		/* swap in place: no moment with both or neither attached */
		a.attach_flags |= BPF_F_REPLACE;
		a.replace_bpf_fd = (uint32_t)old[0];
		replaced = sys_bpf(BPF_PROG_ATTACH, &a) == 0;
		a.attach_flags = BPF_F_ALLOW_MULTI;
		a.replace_bpf_fd = 0;
	}
	if (!replaced && sys_bpf(BPF_PROG_ATTACH, &a) < 0) {
		r = vsl_error_errno(err, errno, "attach eBPF device program to '%s'", dir);
		goto out;
	}
	for (size_t i = 0; !replaced && i < n_fds; i++) {
		union bpf_attr dt = {0};
		dt.target_fd = (uint32_t)dirfd;
		dt.attach_bpf_fd = (uint32_t)old[i];
		dt.attach_type = BPF_CGROUP_DEVICE;
		if (sys_bpf(BPF_PROG_DETACH, &dt) < 0 && errno != ENOENT) {
			r = vsl_error_errno(err, errno, "detach the previous eBPF device program from '%s'",
			                    dir);
			goto out;
		}
	}
	r = 0;
out:
	for (size_t i = 0; i < n_fds; i++)
		close(old[i]);
	return r;
}
