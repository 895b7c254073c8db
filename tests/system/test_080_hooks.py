"""OCI hooks: each runs at its time, with the state JSON on stdin."""

import json
import os
import time

import helpers

HOST_HOOKS = ("prestart", "createRuntime", "createContainer", "poststart", "poststop")


def recording_hook(work, name, env=None):
    """A host hook saving its stdin to NAME.json and appending NAME to `order`."""
    hook = {"path": "/bin/sh",
            "args": ["sh", "-c", "cat > %s/%s.json; echo %s >> %s/order" %
                     (work.path, name, name, work.path)]}
    if env:
        hook["env"] = env
    return hook


def order(work):
    try:
        with open(work.join("order")) as f:
            return f.read().split()
    except FileNotFoundError:
        return []


def hook_state(work, name):
    with open(work.join(name + ".json")) as f:
        return json.load(f)


def all_hooks_bundle(work, bundle):
    hooks = {name: [recording_hook(work, name)] for name in HOST_HOOKS}
    # startContainer runs in the container: its path resolves in the rootfs.
    hooks["startContainer"] = [{"path": "/bin/sh",
                                "args": ["sh", "-c", "cat > /dev/shm/startContainer.json"]}]
    bundle.config["hooks"] = hooks
    bundle.config["annotations"] = {"hook.test": "yes"}
    bundle.set_args("sh", "-c", "cat /dev/shm/startContainer.json; echo; sleep 1000")
    return bundle


def test_hooks_run_in_order_with_state_on_stdin(rt, work, bundle):
    # runc 1.1.5 fails this: it runs poststart hooks during `create` (fixed in 1.2).
    all_hooks_bundle(work, bundle)
    c = rt.create(bundle)
    pid = c.pid
    created = order(work)
    assert sorted(created) == ["createContainer", "createRuntime", "prestart"], created
    assert created.index("createRuntime") < created.index("createContainer")
    assert created.index("prestart") < created.index("createContainer")

    c.start()
    # poststart has run by the time `start` returns.
    assert order(work)[3:] == ["poststart"], order(work)

    # startContainer ran inside, before the process: the process printed its state.
    out = c.wait_output("}")
    inner = json.loads(out.strip().splitlines()[0])
    assert inner["id"] == c.id
    assert inner["annotations"] == {"hook.test": "yes"}

    c.kill("KILL")
    c.wait_status("stopped")
    assert "poststop" not in order(work)
    c.delete()
    assert order(work)[-1] == "poststop", order(work)

    for name in HOST_HOOKS:
        st = hook_state(work, name)
        assert st["id"] == c.id, name
        assert os.path.realpath(st["bundle"]) == os.path.realpath(bundle.path), name
        assert st["annotations"] == {"hook.test": "yes"}, name
        assert st["ociVersion"], name
        assert "status" in st, name
        if name == "createContainer":
            # Runs in the container's namespaces: runc gives the pid as seen there.
            assert st["pid"] in (pid, 1), (name, st)
        elif name != "poststop":
            assert st["pid"] == pid, (name, st)
    assert hook_state(work, "createRuntime")["status"] == "creating"
    assert hook_state(work, "createContainer")["status"] == "creating"
    assert hook_state(work, "poststart")["status"] in ("created", "running")
    assert hook_state(work, "poststop")["status"] == "stopped"


def test_run_invokes_all_hooks(rt, work, bundle):
    hooks = {name: [recording_hook(work, name)] for name in HOST_HOOKS}
    bundle.config["hooks"] = hooks
    bundle.set_args("true")
    r = rt.run(bundle)
    assert r.returncode == 0, helpers.format_result(r)
    got = order(work)
    assert sorted(got) == sorted(HOST_HOOKS), got
    assert got[-2:] == ["poststart", "poststop"] or got[-1] == "poststop", got


def test_hook_env_and_args(rt, work, bundle):
    bundle.config["hooks"] = {"createRuntime": [{
        "path": "/bin/sh",
        "args": ["sh", "-c", 'echo "$0 $1 $HOOKVAR" > %s/envargs' % work.path, "arg0", "arg1"],
        "env": ["HOOKVAR=from-env", "PATH=/bin:/usr/bin"]}]}
    bundle.save()
    r = rt.run(bundle)
    assert r.returncode == 0, helpers.format_result(r)
    with open(work.join("envargs")) as f:
        assert f.read() == "arg0 arg1 from-env\n"


def test_hook_timeout_fails_create(rt, work, bundle):
    bundle.config["hooks"] = {"createRuntime": [{"path": "/bin/sleep",
                                                 "args": ["sleep", "30"], "timeout": 1}]}
    bundle.set_args("sleep", "1000")
    cid = rt.new_id()
    t0 = time.monotonic()
    r = rt("create", "--bundle", bundle.path, cid)
    elapsed = time.monotonic() - t0
    assert r.returncode != 0, helpers.format_result(r)
    assert elapsed < 15, elapsed
    assert "timeout" in r.stderr.lower() or "timed out" in r.stderr.lower(), r.stderr
    assert rt("state", cid).returncode == 1
    assert helpers.cgroup_dirs(cid) == []


def test_failing_prestart_hook_fails_create(rt, work, bundle):
    bundle.config["hooks"] = {"prestart": [{"path": "/bin/sh",
                                            "args": ["sh", "-c", "echo hook-said-no >&2; exit 3"]}]}
    bundle.set_args("sleep", "1000")
    cid = rt.new_id()
    r = rt("create", "--bundle", bundle.path, cid)
    assert r.returncode != 0, helpers.format_result(r)
    assert "hook" in r.stderr.lower(), helpers.format_result(r)
    assert "does not exist" in rt("state", cid).stderr
    assert helpers.cgroup_dirs(cid) == []
    # The same bundle with a hook that succeeds is created.
    bundle.config["hooks"]["prestart"][0]["args"] = ["sh", "-c", "exit 0"]
    assert rt.create(bundle.save()).status == "created"


def test_failing_poststop_hook_does_not_stop_delete(rt, work, bundle):
    # The spec: a failing poststop hook is a warning; the lifecycle continues.
    bundle.config["hooks"] = {"poststop": [{"path": "/bin/false", "args": ["false"]}]}
    bundle.set_args("sleep", "1000")
    c = rt.create(bundle)
    c.delete(force=True)
    assert rt("state", c.id).returncode == 1
