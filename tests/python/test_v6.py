# SPDX-License-Identifier: GPL-2.0-only
"""The v6 calls (Hypervisor) against the simulated hypervisor."""

import errno
import time
import os
import subprocess
import sys
import threading

import pytest

import xen_hotpatch as xh
from xhp_pytest import FX, XEN_ID, XHP_BIN, payload_id


def test_constants_have_the_v6_values():
    values = {
        "LIVEPATCH_ACTION_UNLOAD": 1, "LIVEPATCH_ACTION_REVERT": 2,
        "LIVEPATCH_ACTION_APPLY": 3, "LIVEPATCH_ACTION_REPLACE": 4,
        "LIVEPATCH_ACTION_APPLY_NODEPS": 1,
        "LIVEPATCH_STATE_CHECKED": 1, "LIVEPATCH_STATE_APPLIED": 2,
    }
    for name, value in values.items():
        assert getattr(xh, name) == value, name
        assert getattr(xh.Hypervisor, name) == value, name


def test_build_id_is_the_hypervisors(hv, host):
    assert hv.build_id == XEN_ID
    assert hv.build_id() == XEN_ID
    assert isinstance(hv.build_id, str)
    host.sim("reboot", "--build-id", "ab" * 20)
    assert hv.build_id == "ab" * 20


def test_upload_then_status_and_list(hv, host):
    hv.livepatch_upload("zz-base", str(FX / "zz-base.livepatch"))
    assert hv.livepatch_status("zz-base") == {"state": xh.LIVEPATCH_STATE_CHECKED, "rc": 0}
    assert hv.livepatch_list() == [
        {"name": "zz-base", "state": xh.LIVEPATCH_STATE_CHECKED, "rc": 0, "metadata": ["version=1"]}]
    assert host.loaded() == [("zz-base", "CHECKED")]


def test_upload_accepts_path_objects_and_bytes(hv, host):
    hv.livepatch_upload(b"zz-base", FX / "zz-base.livepatch")
    assert host.loaded() == [("zz-base", "CHECKED")]


def test_action_waits_for_the_work_by_default(hv, host):
    for name in ("zz-base", "mm-middle", "aa-top"):
        hv.livepatch_upload(name, str(FX / f"{name}.livepatch"))
        hv.livepatch_action(name, xh.LIVEPATCH_ACTION_APPLY)
        assert hv.livepatch_status(name) == {"state": xh.LIVEPATCH_STATE_APPLIED, "rc": 0}
    assert host.applied() == ["zz-base", "mm-middle", "aa-top"]
    hv.livepatch_action("aa-top", xh.LIVEPATCH_ACTION_REVERT)
    assert hv.livepatch_status("aa-top") == {"state": xh.LIVEPATCH_STATE_CHECKED, "rc": 0}
    hv.livepatch_action("aa-top", xh.LIVEPATCH_ACTION_UNLOAD)
    assert [e["name"] for e in hv.livepatch_list()] == ["zz-base", "mm-middle"]


def test_action_without_wait_returns_once_scheduled_as_v6_did(hv, host, monkeypatch):
    # the simulated work takes 300 ms (as Xen's takes its own time): the
    # first look sees it pending, and it ends on its own without another action
    monkeypatch.setenv("XEN_HOTPATCH_SIM_WORK_MS", "300")
    with xh.Hypervisor(host.backend) as h:
        h.livepatch_upload("zz-base", str(FX / "zz-base.livepatch"))
        assert h.livepatch_action("zz-base", xh.LIVEPATCH_ACTION_APPLY, wait=False) is None
        first = h.livepatch_status("zz-base")
        last = first
        for _ in range(500):
            if last["rc"] != -errno.EAGAIN:
                break
            time.sleep(0.01)
            last = h.livepatch_status("zz-base")
    assert first == {"state": xh.LIVEPATCH_STATE_CHECKED, "rc": -errno.EAGAIN}
    assert last == {"state": xh.LIVEPATCH_STATE_APPLIED, "rc": 0}


def test_replace_takes_over_the_stack(hv, host):
    for name in ("zz-base", "mm-middle"):
        hv.livepatch_upload(name, str(FX / f"{name}.livepatch"))
        hv.livepatch_action(name, xh.LIVEPATCH_ACTION_APPLY)
    hv.livepatch_upload("cum-v2", str(FX / "cum-v2.livepatch"))
    hv.livepatch_action("cum-v2", xh.LIVEPATCH_ACTION_REPLACE, timeout=50_000_000)
    assert host.applied() == ["cum-v2"]


def test_apply_nodeps_skips_the_depends_check(hv, host):
    hv.livepatch_upload("zz-base", str(FX / "zz-base.livepatch"))
    hv.livepatch_action("zz-base", xh.LIVEPATCH_ACTION_APPLY)
    hv.livepatch_upload("indep", str(FX / "indep.livepatch"))
    with pytest.raises(xh.HypervisorError) as e:
        hv.livepatch_action("indep", xh.LIVEPATCH_ACTION_APPLY)
    assert e.value.errno == errno.EINVAL
    hv.livepatch_action("indep", xh.LIVEPATCH_ACTION_APPLY, flags=xh.LIVEPATCH_ACTION_APPLY_NODEPS)
    assert host.applied() == ["zz-base", "indep"]


def test_status_of_an_unknown_name_is_enoent(hv):
    with pytest.raises(xh.HypervisorError) as e:
        hv.livepatch_status("nothing-here")
    assert e.value.errno == errno.ENOENT
    assert isinstance(e.value, FileNotFoundError)
    assert e.value.filename == "nothing-here"
    assert "livepatch_status" in e.value.strerror and "\n" not in str(e.value)


def test_revert_of_a_payload_under_the_top_is_refused(hv, host):
    for name in ("zz-base", "mm-middle"):
        hv.livepatch_upload(name, str(FX / f"{name}.livepatch"))
        hv.livepatch_action(name, xh.LIVEPATCH_ACTION_APPLY)
    with pytest.raises(xh.BusyError) as e:
        hv.livepatch_action("zz-base", xh.LIVEPATCH_ACTION_REVERT)
    assert e.value.errno == errno.EBUSY
    assert host.applied() == ["zz-base", "mm-middle"]


def test_unload_of_an_applied_payload_is_refused(hv, host):
    hv.livepatch_upload("zz-base", str(FX / "zz-base.livepatch"))
    hv.livepatch_action("zz-base", xh.LIVEPATCH_ACTION_APPLY)
    with pytest.raises(xh.HypervisorError) as e:
        hv.livepatch_action("zz-base", xh.LIVEPATCH_ACTION_UNLOAD)
    assert e.value.errno == errno.EINVAL
    assert host.loaded() == [("zz-base", "APPLIED")]


def test_second_upload_of_a_name_is_eexist(hv, host):
    hv.livepatch_upload("zz-base", str(FX / "zz-base.livepatch"))
    with pytest.raises(xh.HypervisorError) as e:
        hv.livepatch_upload("zz-base", str(FX / "zz-base.livepatch"))
    assert e.value.errno == errno.EEXIST and isinstance(e.value, FileExistsError)
    with pytest.raises(xh.HypervisorError) as e:
        hv.livepatch_upload("other-name", str(FX / "zz-base.livepatch"))
    assert e.value.errno == errno.EEXIST
    assert host.loaded() == [("zz-base", "CHECKED")]


def test_payload_for_another_hypervisor_is_refused_at_upload(hv, host):
    with pytest.raises(xh.HypervisorError) as e:
        hv.livepatch_upload("for-other-xen", str(FX / "for-other-xen.livepatch"))
    assert e.value.errno == errno.EINVAL
    assert host.loaded() == []


@pytest.mark.parametrize("bad", sorted(p.stem for p in (FX / "bad").glob("*.livepatch")))
def test_malformed_payloads_are_refused_and_change_nothing(hv, host, bad):
    # Xen's refusal, or for a file over Xen's size limit ours before sending
    with pytest.raises((xh.HypervisorError, xh.PayloadError)) as e:
        hv.livepatch_upload(bad, str(FX / "bad" / f"{bad}.livepatch"))
    assert e.value.errno > 0
    assert e.value.filename in (bad, str(FX / "bad" / f"{bad}.livepatch"))
    assert host.loaded() == []


def test_unreadable_files_raise_payload_errors(hv, host, tmp_path):
    with pytest.raises(xh.PayloadError) as e:
        hv.livepatch_upload("x", str(tmp_path / "missing.livepatch"))
    assert isinstance(e.value, FileNotFoundError) and e.value.errno == errno.ENOENT
    assert e.value.filename == str(tmp_path / "missing.livepatch")
    with pytest.raises(xh.PayloadError) as e:
        hv.livepatch_upload("x", str(tmp_path))
    assert e.value.errno == errno.EISDIR and isinstance(e.value, IsADirectoryError)
    fifo = tmp_path / "fifo.livepatch"
    os.mkfifo(fifo)
    with pytest.raises(xh.PayloadError) as e:  # refused at once, never waited on
        hv.livepatch_upload("x", str(fifo))
    assert "FIFO" in str(e.value)
    big = tmp_path / "big.livepatch"
    big.write_bytes(b"\0" * (2 * 1024 * 1024 + 1))
    with pytest.raises(xh.PayloadError) as e:
        hv.livepatch_upload("x", str(big))
    assert e.value.errno == errno.EFBIG
    assert host.loaded() == []


def test_bad_arguments(hv):
    with pytest.raises(TypeError):
        hv.livepatch_status(42)
    with pytest.raises(ValueError):
        hv.livepatch_status("a\0b")
    with pytest.raises(ValueError) as e:
        hv.livepatch_action("x", 7)
    assert isinstance(e.value, xh.UsageError) and e.value.errno == errno.EINVAL
    with pytest.raises(ValueError):
        hv.livepatch_action("x", xh.LIVEPATCH_ACTION_APPLY, flags=1 << 32)
    with pytest.raises(ValueError):
        hv.livepatch_action("x", xh.LIVEPATCH_ACTION_APPLY, timeout=-1)
    with pytest.raises(TypeError):
        hv.livepatch_action("x", xh.LIVEPATCH_ACTION_APPLY, 0, 0, True)  # wait is keyword-only


def test_names_xen_cannot_take_are_refused(hv):
    with pytest.raises(xh.HypervisorError) as e:
        hv.livepatch_upload("n" * 128, str(FX / "zz-base.livepatch"))
    assert e.value.errno == errno.EINVAL
    with pytest.raises(xh.HypervisorError) as e:
        hv.livepatch_status("n" * 300)
    assert e.value.errno in (errno.EINVAL, errno.ENAMETOOLONG)


def test_no_hypervisor(tmp_path):
    with pytest.raises(xh.NoHypervisorError) as e:
        xh.Hypervisor(f"sim:{tmp_path}/never-initialised")
    assert e.value.errno == errno.ENODEV
    if not os.path.exists("/dev/xen/privcmd") and not os.path.exists("/proc/xen/privcmd"):
        with pytest.raises(xh.NoHypervisorError) as e:
            xh.Hypervisor("xen")
        assert e.value.errno in (errno.ENODEV, errno.ENOTSUP)
    with pytest.raises(ValueError) as e:
        xh.Hypervisor("kvm")
    assert isinstance(e.value, xh.Error) and e.value.errno == errno.EINVAL


def test_bad_fault_spec_is_a_usage_error(host, monkeypatch):
    monkeypatch.setenv("XEN_HOTPATCH_SIM_FAIL", "apply:x:ENOSUCHERRNO")
    with pytest.raises(xh.UsageError) as e:
        xh.Hypervisor(host.backend)
    assert "XEN_HOTPATCH_SIM_FAIL" in str(e.value)


def test_closed_hypervisor(host):
    h = xh.Hypervisor(host.backend)
    h.close()
    assert h.closed
    with pytest.raises(ValueError):
        h.livepatch_list()
    h.close()


def test_injected_sync_failures_raise_with_xens_errno(host, monkeypatch):
    monkeypatch.setenv("XEN_HOTPATCH_SIM_FAIL", "upload:*:ENOMEM,apply:zz-base:EPERM")
    with xh.Hypervisor(host.backend) as h:
        with pytest.raises(xh.HypervisorError) as e:
            h.livepatch_upload("mm-middle", str(FX / "mm-middle.livepatch"))
        assert e.value.errno == errno.ENOMEM
    host.sim("show")  # nothing loaded: now upload without the fault
    monkeypatch.setenv("XEN_HOTPATCH_SIM_FAIL", "apply:zz-base:EPERM")
    with xh.Hypervisor(host.backend) as h:
        h.livepatch_upload("zz-base", str(FX / "zz-base.livepatch"))
        with pytest.raises(xh.HypervisorError) as e:
            h.livepatch_action("zz-base", xh.LIVEPATCH_ACTION_APPLY)
        assert e.value.errno == errno.EPERM and isinstance(e.value, PermissionError)
    assert host.loaded() == [("zz-base", "CHECKED")]


def test_injected_async_failure_raises_with_the_payloads_rc(host, monkeypatch):
    monkeypatch.setenv("XEN_HOTPATCH_SIM_FAIL", "apply:zz-base:ENOEXEC:async")
    with xh.Hypervisor(host.backend) as h:
        h.livepatch_upload("zz-base", str(FX / "zz-base.livepatch"))
        with pytest.raises(xh.HypervisorError) as e:
            h.livepatch_action("zz-base", xh.LIVEPATCH_ACTION_APPLY)
        assert e.value.errno == errno.ENOEXEC and e.value.rc == -errno.ENOEXEC
        assert h.livepatch_status("zz-base") == {"state": xh.LIVEPATCH_STATE_CHECKED,
                                                 "rc": -errno.ENOEXEC}
        # without wait the call succeeds (the work was scheduled), as in v6
        h.livepatch_action("zz-base", xh.LIVEPATCH_ACTION_APPLY, wait=False)
    assert host.applied() == []


def test_crash_leaves_a_dead_host_until_reboot(host):
    # the simulated crash kills the calling process: run it in a child
    code = ("import xen_hotpatch as xh, sys\n"
            "h = xh.Hypervisor(sys.argv[1])\n"
            "h.livepatch_upload('zz-base', sys.argv[2])\n"
            "h.livepatch_action('zz-base', xh.LIVEPATCH_ACTION_APPLY)\n")
    env = dict(os.environ, XEN_HOTPATCH_SIM_FAIL="apply:zz-base:crash")
    p = subprocess.run([sys.executable, "-c", code, host.backend, str(FX / "zz-base.livepatch")],
                       env=env, capture_output=True)
    assert p.returncode == -9, p.stderr
    with pytest.raises(xh.NoHypervisorError) as e:
        xh.Hypervisor(host.backend)
    assert e.value.errno == errno.EHOSTDOWN
    host.sim("reboot")
    with xh.Hypervisor(host.backend) as h:
        assert h.livepatch_list() == []


def test_metadata_and_names_round_trip(hv, host):
    hv.livepatch_upload("cum-v3", str(FX / "cum-v3.livepatch"))
    (entry,) = hv.livepatch_list()
    assert entry["metadata"] == ["version=3"]
    assert hv.livepatch_status(entry["name"])["state"] == xh.LIVEPATCH_STATE_CHECKED


def test_the_gil_is_released_while_waiting(host, monkeypatch):
    # Another thread sees the work pending (rc -EAGAIN) while this thread is
    # inside livepatch_action waiting for it: only possible without the GIL.
    monkeypatch.setenv("XEN_HOTPATCH_SIM_WORK_MS", "300")
    seen = []
    with xh.Hypervisor(host.backend) as h, xh.Hypervisor(host.backend) as watcher:
        h.livepatch_upload("zz-base", str(FX / "zz-base.livepatch"))
        inside = threading.Event()
        done = threading.Event()

        def watch():
            inside.wait()
            while not done.is_set():
                st = watcher.livepatch_status("zz-base")
                seen.append(st["rc"])
                if st["rc"] == -errno.EAGAIN:
                    break

        t = threading.Thread(target=watch)
        t.start()
        inside.set()
        h.livepatch_action("zz-base", xh.LIVEPATCH_ACTION_APPLY)
        done.set()
        t.join()
    assert -errno.EAGAIN in seen
    assert host.applied() == ["zz-base"]


def test_hypervisor_build_id_matches_payload_xen_depends(hv):
    assert xh.read_payload(str(FX / "zz-base.livepatch"))["xen_depends"] == hv.build_id
    assert xh.read_payload(str(FX / "zz-base.livepatch"))["build_id"] == payload_id("zz-base")


def test_have_xen_matches_the_tool(host):
    rc, out, _ = host.cli("version")
    assert rc == 0
    assert xh.HAVE_XEN == ("libxenctrl" in out)
    assert xh.VERSION in out


def test_type_stubs_match_the_module():
    # mypy's stubtest imports the module and compares it with __init__.pyi
    # (mypy itself leaks at exit: no leak report for it under the ASan build)
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")
    p = subprocess.run([sys.executable, "-m", "mypy.stubtest", "--ignore-missing-stub", "xen_hotpatch"],
                       capture_output=True, text=True, env=env,
                       cwd=os.path.dirname(os.path.dirname(xh.__file__)))
    assert p.returncode == 0, p.stdout + p.stderr


def test_the_real_xen_script_on_the_simulator(host):
    # tests/python/realxen_v6.py is what the real-Xen tier runs in dom0
    script = os.path.join(os.path.dirname(__file__), "realxen_v6.py")
    p = subprocess.run([sys.executable, script, "--backend", host.backend, "--root", str(host.root),
                        "--xen-hotpatch", XHP_BIN, "--bad", str(FX / "bad" / "elf32.livepatch"),
                        "--bad-errno", "EOPNOTSUPP", "--cumulative", str(FX / "cum-v2.livepatch"),
                        str(FX / "zz-base.livepatch"), str(FX / "mm-middle.livepatch")],
                       capture_output=True, text=True, env=dict(os.environ, XEN_HOTPATCH_RUN_DIR=str(host.rundir)))
    assert p.returncode == 0, p.stdout + p.stderr
    assert "FAIL" not in p.stdout and p.stdout.rstrip().endswith(" passed, 0 failed")
    assert int(p.stdout.rstrip().splitlines()[-1].split()[0]) >= 50
    assert host.loaded() == [] and host.applied() == []
