"""Lifecycle: create/start/state/kill/delete, run, run --detach, list, spec."""

import json
import os
import subprocess
import time

import helpers


def test_create_start_kill_delete_states(rt, bundle):
    bundle.set_args("sleep", "1000")
    bundle.config["annotations"] = {"org.vessel.test": "lifecycle"}
    bundle.save()
    c = rt.create(bundle)

    st = c.state()
    assert st["id"] == c.id
    assert st["status"] == "created"
    assert st["pid"] > 0
    assert os.path.realpath(st["bundle"]) == os.path.realpath(bundle.path)
    assert st["annotations"] == {"org.vessel.test": "lifecycle"}
    assert st["ociVersion"]
    # The init waits for `start`: it exists, but has not exec'd sleep yet.
    assert os.path.exists("/proc/%d" % st["pid"])
    with open("/proc/%d/cmdline" % st["pid"], "rb") as f:
        assert b"sleep" not in f.read()

    c.start()
    st = c.state()
    assert st["status"] == "running"
    with open("/proc/%d/cmdline" % st["pid"], "rb") as f:
        assert f.read().split(b"\0")[:2] == [b"sleep", b"1000"]

    c.kill("KILL")
    c.wait_status("stopped")
    c.delete()

    r = rt("state", c.id)
    assert r.returncode == 1
    assert c.id not in rt.listed_ids()


def test_state_of_missing_container_fails_with_exit_1(rt):
    r = rt("state", "no-such-container-here")
    assert r.returncode == 1, helpers.format_result(r)
    assert r.stdout == ""
    assert "not exist" in r.stderr or "no such" in r.stderr.lower(), r.stderr


def test_delete_and_kill_of_missing_container_fail(rt):
    for args in (("delete", "no-such-ctr"), ("kill", "no-such-ctr", "KILL"), ("start", "no-such-ctr")):
        r = rt(*args)
        assert r.returncode == 1, helpers.format_result(r)
        assert "does not exist" in r.stderr, helpers.format_result(r)


def test_create_twice_with_same_id_fails(rt, bundle):
    bundle.set_args("sleep", "1000")
    c = rt.create(bundle)
    r = rt("create", "--bundle", bundle.path, c.id)
    assert r.returncode != 0, helpers.format_result(r)
    assert c.status == "created"


def test_stopped_after_process_exits(rt, bundle):
    bundle.set_args("true")
    c = rt.create(bundle)
    c.start()
    c.wait_status("stopped")
    c.delete()


def test_run_prints_output_and_exits_0(rt, work):
    b = work.bundle("echo", "Hello", "World")
    r = rt.run(b)
    assert r.returncode == 0, helpers.format_result(r)
    assert r.stdout == "Hello World\n"


def test_run_propagates_exit_code(rt, work):
    b = work.bundle("sh", "-c", "exit 42")
    r = rt.run(b)
    assert r.returncode == 42, helpers.format_result(r)


def _popen_run(rt, b, cid):
    return subprocess.Popen(rt.argv("run", "--bundle", b.path, cid),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _wait_running(rt, cid, p):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        r = rt("state", cid)
        if r.returncode == 0 and json.loads(r.stdout)["status"] == "running":
            return
        assert p.poll() is None, p.communicate()
        time.sleep(0.05)
    raise AssertionError("%s never ran" % cid)


def test_run_propagates_death_by_signal(rt, work):
    # runc reports a process killed by signal N as exit 128+N.
    b = work.bundle("sleep", "1000")
    cid = rt.new_id()
    p = _popen_run(rt, b, cid)
    try:
        _wait_running(rt, cid, p)
        rt.ok("kill", cid, "KILL")
        out, err = p.communicate(timeout=20)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 128 + 9, (out, err)


def test_run_forwards_signals_to_the_container(rt, work):
    b = work.bundle("sh", "-c", "trap 'echo got-term; exit 3' TERM; echo ready; "
                                "while true; do sleep 0.1; done")
    cid = rt.new_id()
    p = _popen_run(rt, b, cid)
    try:
        assert p.stdout.readline() == "ready\n"
        p.send_signal(15)
        out, err = p.communicate(timeout=20)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 3, (out, err)
    assert out == "got-term\n"


def test_run_stdin_passes_through(rt, work):
    b = work.bundle("sh", "-c", "read line; echo got:$line")
    r = rt.run(b, input="ping\n")
    assert r.returncode == 0, helpers.format_result(r)
    assert r.stdout == "got:ping\n"


def test_run_removes_container_afterwards(rt, work):
    b = work.bundle("true")
    cid = rt.new_id()
    r = rt.run(b, cid=cid)
    assert r.returncode == 0, helpers.format_result(r)
    assert rt("state", cid).returncode == 1
    assert helpers.cgroup_dirs(cid) == []


def test_run_missing_executable_fails(rt, work):
    b = work.bundle("/no/such/binary")
    r = rt.run(b)
    assert r.returncode != 0
    assert "/no/such/binary" in r.stderr or "no such file" in r.stderr.lower(), r.stderr


def test_run_detach(rt, work):
    b = work.bundle("sh", "-c", "echo started; sleep 1000")
    t0 = time.monotonic()
    c = rt.run_detached(b)
    assert time.monotonic() - t0 < 10
    st = c.state()
    assert st["status"] == "running"
    assert st["pid"] > 0
    c.wait_output("started\n")
    c.delete(force=True)
    assert rt("state", c.id).returncode == 1


def test_pid_file(rt, bundle, work):
    bundle.set_args("sleep", "1000")
    pidfile = work.join("ctr.pid")
    c = rt.create(bundle, extra=["--pid-file", pidfile])
    with open(pidfile) as f:
        assert int(f.read().strip()) == c.pid


def test_list(rt, work):
    a = rt.create(work.bundle("sleep", "1000"))
    b = rt.run_detached(work.bundle("sleep", "1000"))

    listed = {c["id"]: c for c in rt.json("list", "--format", "json")}
    assert set(listed) == {a.id, b.id}
    assert listed[a.id]["status"] == "created"
    assert listed[b.id]["status"] == "running"
    assert listed[b.id]["pid"] == b.pid

    quiet = rt.ok("list", "-q").stdout.split()
    assert sorted(quiet) == sorted([a.id, b.id])

    table = rt.ok("list").stdout.splitlines()
    assert table[0].split()[:4] == ["ID", "PID", "STATUS", "BUNDLE"]
    rows = {line.split()[0]: line.split() for line in table[1:]}
    assert rows[a.id][2] == "created"
    assert rows[b.id][2] == "running"


def test_list_empty_root(rt):
    r = rt("list", "--format", "json")
    assert r.returncode == 0, helpers.format_result(r)
    assert json.loads(r.stdout) in (None, [])


def test_delete_running_needs_force(rt, work):
    c = rt.run_detached(work.bundle("sleep", "1000"))
    pid = c.pid
    r = rt("delete", c.id)
    assert r.returncode != 0, helpers.format_result(r)
    assert c.status == "running"

    c.delete(force=True)
    assert rt("state", c.id).returncode == 1
    # The process is gone (reaped or a zombie of nobody we know: not running).
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.05)
    assert not _alive(pid)


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_delete_removes_cgroups(rt, work):
    b = work.bundle("sleep", "1000")
    cid = rt.new_id()
    b.linux["cgroupsPath"] = "/vessel-tests/" + cid
    b.save()
    c = rt.run_detached(b, cid=cid)
    assert helpers.cgroup_dirs(cid), "no cgroup named %s anywhere" % cid
    c.delete(force=True)
    assert helpers.cgroup_dirs(cid) == []
    for d in helpers.cgroup_dirs("vessel-tests", max_depth=2):
        try:
            os.rmdir(d)
        except OSError:
            pass


def test_kill_signal_names(rt, work):
    # A shell trapping TERM and USR1 proves the signal arrives by name and number.
    b = work.bundle("sh", "-c",
                    "trap 'echo got-usr1' USR1; trap 'echo got-term; exit 7' TERM; "
                    "echo ready; while true; do sleep 0.1; done")
    c = rt.run_detached(b)
    c.wait_output("ready")
    c.kill("SIGUSR1")
    c.wait_output("got-usr1")
    c.kill("15")
    c.wait_output("got-term")
    c.wait_status("stopped")


def test_kill_default_signal_is_term(rt, work):
    b = work.bundle("sh", "-c", "trap 'echo got-term; exit 0' TERM; echo ready; "
                                "while true; do sleep 0.1; done")
    c = rt.run_detached(b)
    c.wait_output("ready")
    rt.ok("kill", c.id)
    c.wait_output("got-term")
    c.wait_status("stopped")


def test_state_stays_true_after_runtime_exits(rt, work):
    # Every runtime command has exited by now: state must come from the kernel.
    c = rt.run_detached(work.bundle("sh", "-c", "sleep 0.5"))
    assert c.status == "running"
    c.wait_status("stopped", timeout=10)


def test_spec_writes_a_config_that_runs(rt, work):
    d = work.join("specbundle")
    os.makedirs(d)
    r = rt("spec", cwd=d)
    assert r.returncode == 0, helpers.format_result(r)
    with open(os.path.join(d, "config.json")) as f:
        config = json.load(f)
    assert config["ociVersion"].startswith("1.")
    assert config["root"]["path"] == "rootfs"
    assert {n["type"] for n in config["linux"]["namespaces"]} >= {"pid", "mount"}

    # That config, with our busybox rootfs and a non-terminal echo, runs.
    helpers.make_rootfs(os.path.join(d, "rootfs"))
    config["process"]["terminal"] = False
    config["process"]["args"] = ["echo", "from-spec"]
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(config, f)
    r = rt("run", "--bundle", d, rt.new_id())
    assert r.returncode == 0, helpers.format_result(r)
    assert r.stdout == "from-spec\n"


def test_spec_refuses_to_overwrite(rt, work):
    d = work.join("specbundle2")
    os.makedirs(d)
    with open(os.path.join(d, "config.json"), "w") as f:
        f.write("{}")
    r = rt("spec", cwd=d)
    assert r.returncode != 0
    assert "exists" in r.stderr, helpers.format_result(r)
    with open(os.path.join(d, "config.json")) as f:
        assert f.read() == "{}"


def test_spec_rootless(rt, work):
    d = work.join("rootless")
    os.makedirs(d)
    rt.ok("spec", "--rootless", cwd=d)
    with open(os.path.join(d, "config.json")) as f:
        config = json.load(f)
    assert "user" in {n["type"] for n in config["linux"]["namespaces"]}
    assert config["linux"]["uidMappings"][0]["size"] >= 1


def test_features(rt):
    f = rt.json("features")
    assert f["ociVersionMin"].startswith("1.0")
    assert set(f["hooks"]) >= {"prestart", "createRuntime", "createContainer",
                               "startContainer", "poststart", "poststop"}
    assert "pid" in f["linux"]["namespaces"]


def test_bad_config_creates_nothing(rt, bundle):
    bundle.config["process"]["args"] = "not-an-array"
    bundle.save()
    cid = rt.new_id()
    r = rt("create", "--bundle", bundle.path, cid)
    assert r.returncode != 0
    assert "args" in r.stderr, r.stderr
    assert rt("state", cid).returncode == 1
    assert helpers.cgroup_dirs(cid) == []


def test_log_format_json(rt, work):
    # Shims (containerd, CRI-O) read the runtime's errors from --log as JSON lines.
    b = work.bundle("/no/such/binary")
    log = work.join("runtime.log")
    r = rt("--log", log, "--log-format", "json", "run", "--bundle", b.path, rt.new_id())
    # (rt() puts --root first; the global flags may come in any order before the command.)
    assert r.returncode != 0
    with open(log) as f:
        entries = [json.loads(line) for line in f if line.strip()]
    errors = [e for e in entries if e.get("level") == "error"]
    assert errors, entries
    assert all("msg" in e and "time" in e for e in errors), errors
    assert any("/no/such/binary" in e["msg"] or "no such file" in e["msg"].lower()
               for e in errors), errors


def test_no_new_keyring_accepted(rt, work):
    b = work.bundle("echo", "ok")
    r = rt.run(b, extra=["--no-new-keyring"])
    assert r.returncode == 0, helpers.format_result(r)
    assert r.stdout == "ok\n"


def test_systemd_cgroup_flag_accepted_without_systemd(rt, work):
    # runc 1.1.5 fails here without a systemd on D-Bus; the issue asks for
    # cgroupfs in that case.
    b = work.bundle("echo", "ok")
    r = rt("--systemd-cgroup", "run", "--bundle", b.path, rt.new_id())
    assert r.returncode == 0, helpers.format_result(r)
    assert r.stdout == "ok\n"
