"""Cgroups: limits enforced inside, freezer, update, ps, kill --all.

Limits are read back from the host's cgroup files of the container's process
(v1, hybrid or pure v2 host, see helpers.cgroup_path) and shown to bite from
inside."""

import json
import os
import time

import helpers

MiB = 1024 * 1024


def test_memory_limit_oom_kills_an_allocation_over_it(rt, bundle):
    # busybox dd allocates its block buffer: 64M under a 32M limit must die.
    bundle.linux["resources"]["memory"] = {"limit": 32 * MiB, "swap": 32 * MiB}
    bundle.set_args("dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1")
    r = rt.run(bundle)
    assert r.returncode == 137, helpers.format_result(r)


def test_memory_limit_allows_an_allocation_under_it(rt, bundle):
    bundle.linux["resources"]["memory"] = {"limit": 64 * MiB, "swap": 64 * MiB}
    bundle.set_args("dd", "if=/dev/zero", "of=/dev/null", "bs=8M", "count=2")
    r = rt.run(bundle)
    assert r.returncode == 0, helpers.format_result(r)


def test_resources_written_to_the_cgroup(rt, bundle):
    bundle.linux["resources"].update({
        "memory": {"limit": 48 * MiB, "reservation": 16 * MiB},
        "pids": {"limit": 77},
        "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0"},
    })
    bundle.set_args("sleep", "1000")
    pid = rt.run_detached(bundle).pid
    assert helpers.cgroup_read(pid, "memory", "memory.limit_in_bytes", "memory.max") == str(48 * MiB)
    assert helpers.cgroup_read(pid, "memory", "memory.soft_limit_in_bytes",
                               "memory.low") == str(16 * MiB)
    assert helpers.cgroup_read(pid, "pids", "pids.max") == "77"
    if helpers.cgroup_v2_only():
        assert helpers.cgroup_read(pid, "cpu", "cpu.max") == "50000 100000"
    else:
        assert helpers.cgroup_read(pid, "cpu", "cpu.shares") == "512"
        assert helpers.cgroup_read(pid, "cpu", "cpu.cfs_quota_us") == "50000"
        assert helpers.cgroup_read(pid, "cpu", "cpu.cfs_period_us") == "100000"
    assert helpers.cgroup_read(pid, "cpuset", "cpuset.cpus", "cpuset.cpus") == "0"
    # The container's process really is in those cgroups.
    with open(os.path.join(helpers.cgroup_path(pid, "pids"), "cgroup.procs")) as f:
        assert str(pid) in f.read().split()


def test_device_rules_and_block_io_in_the_cgroup(rt, bundle):
    with open("/sys/block/vda/dev") as f:
        major, minor = (int(x) for x in f.read().split(":"))
    bundle.linux["resources"]["blockIO"] = {"throttleReadBpsDevice": [
        {"major": major, "minor": minor, "rate": 1048576}]}
    bundle.set_args("sleep", "1000")
    pid = rt.run_detached(bundle).pid
    if helpers.cgroup_v2_only():
        assert ("%d:%d rbps=1048576" % (major, minor)) in \
            helpers.cgroup_read(pid, "blkio", "io.max", "io.max")
        return
    assert helpers.cgroup_read(pid, "blkio", "blkio.throttle.read_bps_device") == \
        "%d:%d 1048576" % (major, minor)
    rules = helpers.cgroup_read(pid, "devices", "devices.list").splitlines()
    # Deny-all first, then the default devices: /dev/null is allowed, vda is not.
    assert "a *:* rwm" not in rules, rules
    assert "c 1:3 rwm" in rules, rules
    assert not any(r.startswith("b %d:%d" % (major, minor)) for r in rules), rules


def test_pids_limit_stops_a_fork_loop(rt, bundle):
    bundle.linux["resources"]["pids"] = {"limit": 20}
    # The inner sh dies when fork fails; PID 1 reports and execs (no fork).
    bundle.set_args("sh", "-c",
                    "sh -c 'i=0; while [ $i -lt 60 ]; do sleep 1000 & i=$((i+1)); done'; "
                    "echo loop-done; exec sleep 1000")
    c = rt.run_detached(bundle)
    c.wait_output("loop-done", timeout=20)
    current = int(helpers.cgroup_read(c.pid, "pids", "pids.current"))
    assert current <= 20
    assert "can't fork" in c.errors() or "Resource temporarily unavailable" in c.errors(), \
        c.errors()


def busy_bundle(bundle):
    bundle.set_args("sh", "-c", "while :; do :; done")
    return bundle


def cpu_ticks(pid):
    """utime + stime of `pid`: they stand still while it is frozen."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def proc_state(pid):
    with open("/proc/%d/status" % pid) as f:
        return helpers.read_status_field(f.read(), "State")


def test_pause_freezes_and_resume_thaws(rt, bundle):
    c = rt.run_detached(busy_bundle(bundle))
    pid = c.pid
    deadline = time.monotonic() + 5
    while cpu_ticks(pid) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert cpu_ticks(pid) > 0, "the busy loop never ran"

    rt.ok("pause", c.id)
    assert c.status == "paused"
    if helpers.cgroup_v2_only():
        assert helpers.cgroup_read(pid, "freezer", "cgroup.freeze", "cgroup.freeze") == "1"
    else:
        assert helpers.cgroup_read(pid, "freezer", "freezer.state") == "FROZEN"
    a = cpu_ticks(pid)
    time.sleep(0.5)
    b = cpu_ticks(pid)
    assert a == b, "the process used CPU while paused"
    # Frozen tasks are not runnable: the kernel reports them stopped/sleeping.
    assert proc_state(pid)[0] in "DST", proc_state(pid)

    rt.ok("resume", c.id)
    assert c.status == "running"
    time.sleep(0.5)
    assert cpu_ticks(pid) > b, "the process used no CPU after resume"


def test_delete_force_of_paused_container(rt, bundle):
    c = rt.run_detached(busy_bundle(bundle))
    rt.ok("pause", c.id)
    c.delete(force=True)
    assert rt("state", c.id).returncode == 1
    assert helpers.cgroup_dirs(c.id) == []


def test_update_memory_flag(rt, bundle):
    bundle.linux["resources"]["memory"] = {"limit": 32 * MiB}
    bundle.set_args("sleep", "1000")
    c = rt.run_detached(bundle)
    rt.ok("update", "--memory", str(64 * MiB), c.id)
    assert helpers.cgroup_read(c.pid, "memory", "memory.limit_in_bytes",
                               "memory.max") == str(64 * MiB)
    rt.ok("update", "--pids-limit", "55", c.id)
    assert helpers.cgroup_read(c.pid, "pids", "pids.max") == "55"


def test_update_resources_file(rt, bundle, work):
    bundle.set_args("sleep", "1000")
    c = rt.run_detached(bundle)
    path = work.join("resources.json")
    with open(path, "w") as f:
        json.dump({"memory": {"limit": 96 * MiB}, "pids": {"limit": 66},
                   "cpu": {"quota": 20000, "period": 100000}}, f)
    rt.ok("update", "--resources", path, c.id)
    assert helpers.cgroup_read(c.pid, "memory", "memory.limit_in_bytes",
                               "memory.max") == str(96 * MiB)
    assert helpers.cgroup_read(c.pid, "pids", "pids.max") == "66"
    if not helpers.cgroup_v2_only():
        assert helpers.cgroup_read(c.pid, "cpu", "cpu.cfs_quota_us") == "20000"


def test_update_resources_from_stdin(rt, bundle):
    bundle.set_args("sleep", "1000")
    c = rt.run_detached(bundle)
    rt.ok("update", "-r", "-", c.id, input=json.dumps({"memory": {"limit": 40 * MiB}}))
    assert helpers.cgroup_read(c.pid, "memory", "memory.limit_in_bytes",
                               "memory.max") == str(40 * MiB)


def test_updated_limit_bites(rt, bundle):
    bundle.linux["resources"]["memory"] = {"limit": 256 * MiB, "swap": 256 * MiB}
    bundle.set_args("sleep", "1000")
    c = rt.run_detached(bundle)
    rt.ok("update", "--memory", str(32 * MiB), "--memory-swap", str(32 * MiB), c.id)
    r = c.exec("dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1")
    assert r.returncode == 137, helpers.format_result(r)


def test_ps_lists_pids(rt, bundle):
    bundle.set_args("sh", "-c", "sleep 1000 & sleep 1000 & echo started; wait")
    c = rt.run_detached(bundle)
    c.wait_output("started")
    deadline = time.monotonic() + 5
    while True:
        pids = rt.json("ps", "--format", "json", c.id)
        if len(pids) == 3 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert len(pids) == 3, pids
    assert c.pid in pids
    with open(os.path.join(helpers.cgroup_path(c.pid, "pids"), "cgroup.procs")) as f:
        assert sorted(pids) == sorted(int(p) for p in f.read().split())

    table = rt.ok("ps", c.id).stdout.splitlines()
    assert "PID" in table[0].split()
    assert len(table) == 4, table
    assert sum(line.endswith(" sleep 1000") for line in table) == 2, table


def test_kill_all(rt, bundle):
    # Without a PID namespace, killing init alone would orphan its children:
    # --all must signal every process of the cgroup.
    bundle.remove_namespace("pid")
    bundle.set_args("sh", "-c", "sleep 1000 & sleep 1000 & echo started; wait")
    c = rt.run_detached(bundle)
    c.wait_output("started")
    procs = os.path.join(helpers.cgroup_path(c.pid, "pids"), "cgroup.procs")
    with open(procs) as f:
        pids = [int(p) for p in f.read().split()]
    assert len(pids) == 3
    rt.ok("kill", "--all", c.id, "KILL")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with open(procs) as f:
            if not f.read().split():
                break
        time.sleep(0.05)
    with open(procs) as f:
        assert f.read().split() == []
    c.wait_status("stopped")
