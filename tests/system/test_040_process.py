"""The container's process: env, cwd, user, umask, rlimits, capabilities,
noNewPrivileges, oomScoreAdj and seccomp, each read back from inside."""

import resource

import helpers

# Linux capability numbers used below.
CAP_CHOWN, CAP_KILL, CAP_NET_BIND_SERVICE, CAP_NET_RAW, CAP_AUDIT_WRITE = 0, 5, 10, 13, 29


def run(rt, bundle, *args):
    bundle.process["args"] = list(args)
    bundle.save()
    return rt.run(bundle)


def run_ok(rt, bundle, *args):
    r = run(rt, bundle, *args)
    assert r.returncode == 0, helpers.format_result(r)
    return r.stdout


def status(rt, bundle):
    return run_ok(rt, bundle, "cat", "/proc/self/status")


def test_env(rt, bundle):
    bundle.process["env"] = ["PATH=/bin", "FOO=bar baz", "EMPTY="]
    out = run_ok(rt, bundle, "sh", "-c", 'echo "$FOO|$EMPTY|$PATH|${EMPTY+set}"')
    assert out == "bar baz||/bin|set\n"


def test_env_is_exactly_the_spec(rt, bundle):
    bundle.process["env"] = ["PATH=/bin", "ONLY=this"]
    out = run_ok(rt, bundle, "env")
    env = dict(line.split("=", 1) for line in out.splitlines())
    env.pop("HOME", None)  # runc adds HOME from /etc/passwd when the spec has none
    assert env == {"PATH": "/bin", "ONLY": "this"}


def test_home_from_passwd(rt, bundle):
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    assert run_ok(rt, bundle, "sh", "-c", "echo $HOME") == "/home/user\n"


def test_cwd(rt, bundle):
    bundle.process["cwd"] = "/home/user"
    assert run_ok(rt, bundle, "pwd") == "/home/user\n"


def test_user_uid_gid_additional_gids(rt, bundle):
    bundle.process["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [10, 29]}
    out = run_ok(rt, bundle, "sh", "-c", "id -u; id -g; id -G")
    uid, gid, groups = out.splitlines()
    assert (uid, gid) == ("1000", "1000")
    assert set(groups.split()) == {"1000", "10", "29"}


def test_user_without_additional_gids_has_no_host_groups(rt, bundle):
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    st = status(rt, bundle)
    assert helpers.read_status_field(st, "Uid").split() == ["1000"] * 4
    assert helpers.read_status_field(st, "Gid").split() == ["1000"] * 4
    assert helpers.read_status_field(st, "Groups").split() in ([], ["1000"])


def test_umask(rt, bundle):
    bundle.process["user"]["umask"] = 0o027
    bundle.config["root"]["readonly"] = False
    out = run_ok(rt, bundle, "sh", "-c", "umask; touch /tmp/f; stat -c %a /tmp/f")
    assert out.split() == ["0027", "640"]


def limits(text, name):
    for line in text.splitlines():
        if line.startswith(name):
            return line[len(name):].split()[:2]
    raise AssertionError("no %r in:\n%s" % (name, text))


def test_rlimits(rt, bundle):
    bundle.process["rlimits"] = [
        {"type": "RLIMIT_NOFILE", "soft": 1000, "hard": 2000},
        {"type": "RLIMIT_NPROC", "soft": 500, "hard": 600},
        {"type": "RLIMIT_CORE", "soft": 0, "hard": 0},
    ]
    out = run_ok(rt, bundle, "sh", "-c", "ulimit -n; cat /proc/self/limits")
    assert out.splitlines()[0] == "1000"
    assert limits(out, "Max open files") == ["1000", "2000"]
    assert limits(out, "Max processes") == ["500", "600"]
    assert limits(out, "Max core file size") == ["0", "0"]


def test_rlimit_above_host_hard_limit_is_a_clear_error(rt, bundle):
    # runc 1.1.5 fails here too, but says "error setting rlimit type 7": the
    # issue asks for the limit's name.
    host_soft, host_hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert host_hard != resource.RLIM_INFINITY
    bundle.process["rlimits"] = [
        {"type": "RLIMIT_NOFILE", "soft": host_hard + 10000, "hard": host_hard + 10000}]
    cid = rt.new_id()
    r = rt.run(bundle.save(), cid=cid)
    assert r.returncode != 0, helpers.format_result(r)
    assert "RLIMIT_NOFILE" in r.stderr, r.stderr
    # Nothing half-made is left behind.
    assert rt("state", cid).returncode == 1
    assert helpers.cgroup_dirs(cid) == []


def test_default_capabilities_exact(rt, bundle):
    st = status(rt, bundle)
    mask = helpers.cap_mask(CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE)
    assert helpers.read_status_field(st, "CapPrm") == mask
    assert helpers.read_status_field(st, "CapEff") == mask
    assert helpers.read_status_field(st, "CapBnd") == mask


def test_capabilities_chosen_sets_and_no_inheritable_or_ambient(rt, bundle):
    # Inheritable and ambient stay empty unless asked for (CVE-2022-27650).
    bundle.process["capabilities"] = {
        "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"],
        "permitted": ["CAP_CHOWN", "CAP_KILL"],
        # For uid 0, execve makes effective equal to permitted anyway.
        "effective": ["CAP_CHOWN", "CAP_KILL"],
    }
    st = status(rt, bundle)
    assert helpers.read_status_field(st, "CapBnd") == helpers.cap_mask(CAP_CHOWN, CAP_KILL,
                                                                       CAP_NET_RAW)
    assert helpers.read_status_field(st, "CapPrm") == helpers.cap_mask(CAP_CHOWN, CAP_KILL)
    assert helpers.read_status_field(st, "CapEff") == helpers.cap_mask(CAP_CHOWN, CAP_KILL)
    assert helpers.read_status_field(st, "CapInh") == "0" * 16
    assert helpers.read_status_field(st, "CapAmb") == "0" * 16


def test_ambient_capabilities_for_non_root(rt, bundle):
    caps = ["CAP_NET_BIND_SERVICE"]
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.process["capabilities"] = {s: caps for s in
                                      ("bounding", "permitted", "effective",
                                       "inheritable", "ambient")}
    st = status(rt, bundle)
    mask = helpers.cap_mask(CAP_NET_BIND_SERVICE)
    for field in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert helpers.read_status_field(st, field) == mask, field


def test_capability_is_enforced(rt, bundle):
    bundle.config["root"]["readonly"] = False
    bundle.process["capabilities"] = {s: ["CAP_KILL"] for s in
                                      ("bounding", "permitted", "effective")}
    r = run(rt, bundle, "chown", "1000", "/etc/passwd")
    assert r.returncode != 0
    assert "Operation not permitted" in r.stderr, r.stderr


def test_no_new_privileges(rt, bundle):
    assert helpers.read_status_field(status(rt, bundle), "NoNewPrivs") == "1"
    bundle.process["noNewPrivileges"] = False
    assert helpers.read_status_field(status(rt, bundle), "NoNewPrivs") == "0"


def test_oom_score_adj(rt, bundle):
    bundle.process["oomScoreAdj"] = 500
    assert run_ok(rt, bundle, "cat", "/proc/self/oom_score_adj") == "500\n"


def seccomp_deny(syscalls, **rule):
    return {
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": [dict({"names": syscalls, "action": "SCMP_ACT_ERRNO"}, **rule)],
    }


def test_seccomp_denies_mkdir_with_eperm(rt, bundle):
    bundle.linux["seccomp"] = seccomp_deny(["mkdir", "mkdirat"], errnoRet=1)
    r = run(rt, bundle, "mkdir", "/tmp/denied")
    assert r.returncode != 0
    assert "Operation not permitted" in r.stderr, r.stderr


def test_seccomp_default_errno_is_eperm(rt, bundle):
    bundle.linux["seccomp"] = seccomp_deny(["mkdir", "mkdirat"])
    r = run(rt, bundle, "mkdir", "/tmp/denied")
    assert r.returncode != 0
    assert "Operation not permitted" in r.stderr, r.stderr


def test_seccomp_chosen_errno(rt, bundle):
    # ENOSPC on a read-only root could only come from the filter (the kernel
    # would say EROFS).
    bundle.linux["seccomp"] = seccomp_deny(["mkdir", "mkdirat"], errnoRet=28)
    r = run(rt, bundle, "mkdir", "/tmp/denied")
    assert r.returncode != 0
    assert "No space left on device" in r.stderr, r.stderr


def test_seccomp_other_syscalls_still_work(rt, bundle):
    bundle.config["root"]["readonly"] = False
    bundle.linux["seccomp"] = seccomp_deny(["mkdir", "mkdirat"], errnoRet=28)
    assert run_ok(rt, bundle, "sh", "-c", "touch /tmp/ok && echo fine") == "fine\n"
    st = status(rt, bundle)
    assert helpers.read_status_field(st, "Seccomp") == "2"


def test_seccomp_argument_filter(rt, bundle):
    # Only chmod to mode 0777 is refused: the argument comparison decides.
    bundle.config["root"]["readonly"] = False
    bundle.linux["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [
            {"names": ["chmod"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
             "args": [{"index": 1, "value": 0o777, "op": "SCMP_CMP_EQ"}]},
            {"names": ["fchmodat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
             "args": [{"index": 2, "value": 0o777, "op": "SCMP_CMP_EQ"}]},
        ],
    }
    out = run_ok(rt, bundle, "sh", "-c",
                 "touch /tmp/f; chmod 755 /tmp/f && echo 755-ok; "
                 "chmod 777 /tmp/f 2>&1 || echo 777-refused; stat -c %a /tmp/f")
    lines = out.splitlines()
    assert lines[0] == "755-ok"
    assert "Operation not permitted" in lines[1]
    assert lines[-2:] == ["777-refused", "755"]


def test_seccomp_kill_action(rt, bundle):
    bundle.linux["seccomp"] = seccomp_deny(["mkdir", "mkdirat"])
    bundle.linux["seccomp"]["syscalls"][0]["action"] = "SCMP_ACT_KILL"
    r = run(rt, bundle, "sh", "-c", "mkdir /tmp/x; echo survived")
    # sh (PID 1) runs mkdir as a child, which dies of SIGSYS.
    assert "survived" in r.stdout, helpers.format_result(r)
    r = run(rt, bundle, "mkdir", "/tmp/x")
    assert r.returncode == 128 + 31, helpers.format_result(r)


def test_seccomp_unknown_syscall_name_is_an_error_or_ignored(rt, bundle):
    # runc ignores names libseccomp does not know; either way the container must
    # not run without the rest of the filter.
    bundle.linux["seccomp"] = seccomp_deny(["mkdir", "mkdirat", "no_such_syscall_xyz"])
    r = run(rt, bundle, "mkdir", "/tmp/denied")
    assert r.returncode != 0
    assert "File exists" not in r.stderr
    if "no_such_syscall_xyz" not in r.stderr:
        assert "Operation not permitted" in r.stderr, r.stderr
