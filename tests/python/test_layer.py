# SPDX-License-Identifier: GPL-2.0-only
"""The project's layer (read_payload, status, plan, apply, revert) against the
CLI's JSON on the same simulated hosts."""

import errno
import fcntl
import os
import shutil
import subprocess
import sys

import pytest

import xen_hotpatch as xh
from xhp_pytest import FX

GOOD = sorted(p.stem for p in FX.glob("*.livepatch"))
BAD = sorted(p.stem for p in (FX / "bad").glob("*.livepatch"))


@pytest.mark.parametrize("name", GOOD)
def test_read_payload_is_info_json(host, name):
    path = str(FX / f"{name}.livepatch")
    rc, doc = host.cli_json("info", path)
    assert rc == 0
    assert xh.read_payload(path) == doc[0]


@pytest.mark.parametrize("name", BAD)
def test_read_payload_refuses_what_info_refuses(host, name):
    path = str(FX / "bad" / f"{name}.livepatch")
    rc, _, err = host.cli("info", path)
    assert rc == 1
    with pytest.raises(xh.PayloadError) as e:
        xh.read_payload(path)
    assert e.value.filename == path and e.value.errno > 0
    # the CLI says "xen-hotpatch: FILE: REASON": the same reason
    assert err.strip() == f"xen-hotpatch: {path}: {e.value.strerror}"


def test_read_payload_bad_input(tmp_path):
    with pytest.raises(FileNotFoundError):
        xh.read_payload(str(tmp_path / "missing.livepatch"))
    with pytest.raises(xh.PayloadError):
        xh.read_payload(str(tmp_path))
    empty = tmp_path / "empty.livepatch"
    empty.write_bytes(b"")
    with pytest.raises(xh.PayloadError):
        xh.read_payload(str(empty))
    with pytest.raises(TypeError):
        xh.read_payload(None)


# Scenarios: payloads installed, what was applied before, policy lines.
SCENARIOS = {
    "empty": ([], [], ""),
    "fresh-chain": (["zz-base", "mm-middle", "aa-top"], [], ""),
    "partly-applied": (["zz-base", "mm-middle", "aa-top"], ["zz-base"], ""),
    "in-sync": (["zz-base", "mm-middle"], ["zz-base", "mm-middle"], ""),
    "cumulative-upgrade": (["cum-v3", "on-cum3"], ["zz-base", "mm-middle"], ""),
    "branches": (["zz-base", "br-v1", "br-v2", "br-nover"], [], ""),
    "orphan-and-cycle": (["zz-base", "orphan", "cyc-a", "cyc-b"], [], ""),
    "blocked": (["zz-base", "mm-middle"], [], "blocked = mm-middle"),
    "independent": (["zz-base", "indep"], [], "independent = indep"),
    "refused-replace": (["hooks-prepost"], ["zz-base"], ""),
    "other-hypervisor": (["zz-base", "for-other-xen"], [], ""),
}


def _setup(host, installed, applied, policy):
    if applied:
        host.put(*applied)
        rc, out, err = host.cli("apply")
        assert rc == 0, err
        for name in applied:
            host.remove(name)
    host.put(*installed)
    host.policy(policy)
    if "for-other-xen" in installed:
        # a payload for another hypervisor lives in that hypervisor's folder
        other = host.pd.parent / xh.read_payload(str(FX / "for-other-xen.livepatch"))["xen_depends"]
        other.mkdir()
        (host.pd / "for-other-xen.livepatch").rename(other / "for-other-xen.livepatch")


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_status_and_plan_are_the_clis(host, scenario):
    _setup(host, *SCENARIOS[scenario])
    _, status = host.cli_json("status")
    _, plan = host.cli_json("apply", "--dry-run")
    assert xh.status(root=str(host.root)) == status
    assert xh.plan(root=str(host.root)) == plan


def test_bad_payload_in_the_folder_is_a_problem_in_both(host):
    host.put("zz-base")
    (host.pd / "broken.livepatch").write_bytes(b"\x7fELF nonsense")
    _, status = host.cli_json("status")
    _, plan = host.cli_json("apply", "--dry-run")
    assert xh.status(root=str(host.root)) == status
    assert xh.plan(root=str(host.root)) == plan
    assert any(p["kind"] == "invalid" for p in status["problems"])


def test_foreign_payload_is_reported_as_the_cli_does(host):
    with xh.Hypervisor(host.backend) as hv:
        hv.livepatch_upload("foreign-one", str(FX / "indep.livepatch"))
        hv.livepatch_action("foreign-one", xh.LIVEPATCH_ACTION_APPLY)
    _, status = host.cli_json("status")
    got = xh.status(root=str(host.root))
    assert got == status
    assert [p["origin"] for p in got["applied"]] == ["foreign"]


def test_apply_converges_and_is_idempotent(host):
    host.put("zz-base", "mm-middle", "aa-top")
    planned = xh.plan(root=str(host.root))
    res = xh.apply(root=str(host.root))
    assert res["outcome"] == "done" and res["ok"] and res["failed"] is None
    assert res["plan"] == planned
    assert res["steps_done"] == len(planned["steps"]) == 6
    assert res["applied"] == host.applied() == ["zz-base", "mm-middle", "aa-top"]
    status = xh.status(root=str(host.root))
    assert status["in_sync"] and status == host.cli_json("status")[1]
    again = xh.apply(root=str(host.root))
    assert again["steps_done"] == 0 and again["plan"]["steps"] == []
    assert host.cli("status")[0] == 0


def test_apply_cumulative_upgrade_replaces(host):
    host.put("zz-base", "mm-middle")
    xh.apply(root=str(host.root))
    host.remove("zz-base", "mm-middle")
    host.put("cum-v3", "on-cum3")
    res = xh.apply(root=str(host.root))
    assert [s["op"] for s in res["plan"]["steps"]].count("replace") == 1
    assert host.applied() == ["cum-v3", "on-cum3"] == res["applied"]
    # no unpatched moment: once patched, every stack in the history has a payload
    history = host.show()["history"]
    first = next(i for i, h in enumerate(history) if h)
    assert all(history[first:])


def test_apply_with_a_failing_step_stops_at_a_consistent_stack(host, monkeypatch):
    host.put("zz-base", "mm-middle", "aa-top")
    monkeypatch.setenv("XEN_HOTPATCH_SIM_FAIL", "apply:aa-top:EIO:async")
    with pytest.raises(xh.RunError) as e:
        xh.apply(root=str(host.root))
    r = e.value.result
    assert e.value.errno == errno.EIO
    assert r["outcome"] == "step-failed" and not r["ok"]
    assert r["failed"]["op"] == "apply" and r["failed"]["name"] == "aa-top"
    assert r["failed"]["errno"] == errno.EIO and r["failed"]["rc"] == -errno.EIO
    assert r["applied"] == host.applied() == ["zz-base", "mm-middle"]
    assert "apply aa-top failed" in e.value.strerror and "\n" not in e.value.strerror
    # what the run uploaded and could not apply is unloaded again
    assert ("aa-top", "CHECKED") not in host.loaded()
    monkeypatch.delenv("XEN_HOTPATCH_SIM_FAIL")
    assert xh.apply(root=str(host.root))["applied"] == ["zz-base", "mm-middle", "aa-top"]


def test_apply_rollback_policy(host, monkeypatch):
    host.put("zz-base")
    xh.apply(root=str(host.root))
    host.put("mm-middle", "aa-top")
    host.policy("on_failure = rollback")
    monkeypatch.setenv("XEN_HOTPATCH_SIM_FAIL", "apply:aa-top:EIO:async")
    with pytest.raises(xh.RunError) as e:
        xh.apply(root=str(host.root))
    assert e.value.result["rolled_back"] is True
    assert e.value.result["applied"] == host.applied() == ["zz-base"]
    assert any("rollback" in n for n in e.value.result["notes"])


def test_busy_hypervisor_is_a_busy_error(host, monkeypatch):
    host.put("zz-base")
    monkeypatch.setenv("XEN_HOTPATCH_SIM_FAIL", "apply:zz-base:EBUSY:async")
    with pytest.raises(xh.BusyError) as e:
        xh.apply(root=str(host.root))
    assert isinstance(e.value, xh.RunError) and e.value.result["busy"]
    assert host.applied() == []


def test_refused_plan_changes_nothing(host):
    host.put("zz-base")
    xh.apply(root=str(host.root))
    host.remove("zz-base")
    host.put("hooks-prepost")
    before = host.show()["actions"]
    with pytest.raises(xh.RunError) as e:
        xh.apply(root=str(host.root))
    assert e.value.errno == errno.ECANCELED and e.value.result["outcome"] == "refused"
    assert "nothing changed" in e.value.strerror
    assert host.show()["actions"] == before


def test_run_lock_held_is_busy(host):
    host.policy("lock_wait_ms = 0")
    host.rundir.mkdir(exist_ok=True)
    with open(host.rundir / "lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        with pytest.raises(xh.BusyError) as e:
            xh.status(root=str(host.root))
        assert e.value.errno == errno.EWOULDBLOCK


def test_payload_folder_that_cannot_be_read(host):
    host.policy("payload_dir = /nonexistent/payloads")
    with pytest.raises(xh.PayloadError) as e:
        xh.plan(root=str(host.root))
    assert "/nonexistent/payloads" in str(e.value)
    with pytest.raises(xh.RunError) as e:
        xh.apply(root=str(host.root))
    assert e.value.result["outcome"] == "no-payload-dir"
    assert host.show()["actions"] == []


def test_bad_policy_is_an_error_naming_file_and_line(host):
    host.policy("no_such_key = 1")
    with pytest.raises(xh.Error) as e:
        xh.status(root=str(host.root))
    assert "xen-hotpatch.conf:2" in str(e.value) and e.value.errno == errno.EINVAL


def test_config_and_backend_arguments(host, tmp_path):
    conf = tmp_path / "other.conf"
    conf.write_text("blocked = zz-base\n")
    host.put("zz-base")
    st = xh.status(root=str(host.root), backend=host.backend, config=str(conf))
    assert [b["name"] for b in st["blocked"]] == ["zz-base"]
    assert st == host.cli_json("--config", str(conf), "--backend", host.backend, "status")[1]
    with pytest.raises(xh.NoHypervisorError):
        xh.status(root=str(host.root), backend=f"sim:{tmp_path}/none")
    with pytest.raises(TypeError):
        xh.status(str(host.root))  # keyword-only


def test_revert_takes_off_the_payload_and_what_is_above(host):
    host.put("zz-base", "mm-middle", "aa-top")
    xh.apply(root=str(host.root))
    res = xh.revert("mm-middle", root=str(host.root))
    assert res["outcome"] == "done" and res["applied"] == host.applied() == ["zz-base"]
    assert host.loaded() == [("zz-base", "APPLIED")]
    with pytest.raises(xh.RunError) as e:
        xh.revert("mm-middle", root=str(host.root))
    assert e.value.errno == errno.ENOENT and e.value.filename == "mm-middle"
    assert e.value.result["outcome"] == "not-loaded"


def test_revert_failure(host, monkeypatch):
    host.put("zz-base", "mm-middle")
    xh.apply(root=str(host.root))
    monkeypatch.setenv("XEN_HOTPATCH_SIM_FAIL", "revert:mm-middle:EPERM")
    with pytest.raises(xh.RunError) as e:
        xh.revert("zz-base", root=str(host.root))
    assert e.value.errno == errno.EPERM
    assert e.value.result["applied"] == host.applied() == ["zz-base", "mm-middle"]


def test_apply_through_a_crash_and_reboot_quarantines(host):
    host.put("zz-base")
    code = "import xen_hotpatch as xh, sys\nxh.apply(root=sys.argv[1])\n"
    env = dict(os.environ, XEN_HOTPATCH_SIM_FAIL="apply:zz-base:crash")
    p = subprocess.run([sys.executable, "-c", code, str(host.root)], env=env, capture_output=True)
    assert p.returncode == -9
    host.sim("reboot")
    shutil.rmtree(host.rundir)  # /run is lost at reboot
    st = xh.status(root=str(host.root))
    assert [q["name"] for q in st["quarantined"]] == ["zz-base"] and not st["in_sync"]
    assert st == host.cli_json("status")[1]
    res = xh.apply(root=str(host.root))
    assert res["applied"] == [] and host.applied() == []
