# SPDX-License-Identifier: GPL-2.0-only
"""Metrics: the node-exporter textfile written after every converge, revert
and boot, and `status --format=openmetrics`; checked with promtool (Debian's
prometheus) and with prometheus_client's two parsers."""

import os
import shutil
import subprocess

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_prometheus

import xen_hotpatch as xh
from xhp_pytest import FX, payload_id

PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"


def promtool_check(text):
    p = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def samples(text):
    """{(name, frozenset(labels)): value}, after both parsers accepted text."""
    list(parse_openmetrics(text))
    out = {}
    for fam in parse_prometheus(text):
        for s in fam.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(text, name, **labels):
    return samples(text)[(name, frozenset(labels.items()))]


def by_name(text, name):
    return [(dict(k[1]), v) for k, v in samples(text).items() if k[0] == name]


@pytest.fixture
def mdir(host):
    d = host.root / "var/lib/prometheus/node-exporter"
    d.mkdir(parents=True)
    return d


def textfile(mdir):
    return (mdir / "xen_hotpatch.prom").read_text()


def without_clock(text):
    return [l for l in text.splitlines() if not l.startswith("xen_hotpatch_metrics_timestamp_seconds ")]


def test_apply_writes_the_textfile_and_status_prints_the_same(host, mdir):
    host.put("zz-base", "mm-middle", "aa-top")
    rc, _, err = host.cli("apply")
    assert rc == 0, err
    text = textfile(mdir)
    rc, out = promtool_check(text)
    assert rc == 0 and out == "", out
    rc, printed, _ = host.cli("status", "--format=openmetrics")
    assert rc == 0
    assert without_clock(printed) == without_clock(text)
    assert text.endswith("# EOF\n")
    assert value(text, "xen_hotpatch_in_sync") == 1
    assert value(text, "xen_hotpatch_applied_payloads") == 3
    applied = sorted(by_name(text, "xen_hotpatch_payload_applied"), key=lambda x: x[0]["position"])
    assert [a[0]["name"] for a in applied] == ["zz-base", "mm-middle", "aa-top"]
    assert applied[0][0]["build_id"] == payload_id("zz-base")
    assert applied[0][0]["version"] == "1" and applied[1][0]["version"] == ""
    assert value(text, "xen_hotpatch_last_run", verb="apply", outcome="done", error="-") == 1
    assert value(text, "xen_hotpatch_last_run_success") == 1
    assert value(text, "xen_hotpatch_last_run_steps") == 6
    assert value(text, "xen_hotpatch_hypervisor", build_id=host.xen_id, backend="sim") == 1
    assert sorted(os.listdir(mdir)) == ["xen_hotpatch.prom"]  # no temporary left


def test_the_bindings_converge_writes_it_too(host, mdir):
    host.put("zz-base")
    xh.apply(root=str(host.root))
    assert value(textfile(mdir), "xen_hotpatch_applied_payloads") == 1
    xh.revert("zz-base", root=str(host.root))
    text = textfile(mdir)
    assert value(text, "xen_hotpatch_applied_payloads") == 0
    assert value(text, "xen_hotpatch_last_run", verb="revert", outcome="done", error="-") == 1
    assert value(text, "xen_hotpatch_in_sync") == 0  # zz-base installed, not applied
    assert value(text, "xen_hotpatch_installed_not_applied_payloads") == 1


def test_a_failed_run_is_recorded(host, mdir, monkeypatch):
    host.put("zz-base", "mm-middle")
    monkeypatch.setenv("XEN_HOTPATCH_SIM_FAIL", "apply:mm-middle:EIO:async")
    rc, _, _ = host.cli("apply")
    assert rc == 1
    text = textfile(mdir)
    assert promtool_check(text)[0] == 0
    assert value(text, "xen_hotpatch_last_run", verb="apply", outcome="step-failed", error="EIO") == 1
    assert value(text, "xen_hotpatch_last_run_success") == 0
    assert value(text, "xen_hotpatch_applied_payloads") == 1


def test_boot_writes_it(host, mdir, tmp_path):
    host.put("zz-base")
    assert host.cli("apply")[0] == 0
    host.sim("reboot")
    shutil.rmtree(host.rundir)
    cmdline = tmp_path / "cmdline"
    cmdline.write_text("quiet\n")
    rc, _, err = host.cli("boot", env={"XEN_HOTPATCH_CMDLINE": str(cmdline)})
    assert rc == 0, err
    text = textfile(mdir)
    assert value(text, "xen_hotpatch_last_run", verb="boot", outcome="done", error="-") == 1
    assert value(text, "xen_hotpatch_applied_payloads") == 1
    assert host.applied() == ["zz-base"]


def test_counts_quarantined_unproven_and_problems(host, mdir):
    host.policy("proven_after_s = 3600")
    host.put("zz-base", "orphan")
    host.cli("apply")
    text = textfile(mdir)
    assert value(text, "xen_hotpatch_unproven_payloads") == 1
    (applied,) = by_name(text, "xen_hotpatch_payload_applied")
    assert applied[0]["proven"] == "false"
    assert value(text, "xen_hotpatch_problems") >= 1
    # a crash during an apply: quarantined at the next run
    host.policy("")
    host.put("mm-middle")
    env = {"XEN_HOTPATCH_SIM_FAIL": "apply:mm-middle:crash"}
    assert host.cli("apply", env=env)[0] == -9
    host.sim("reboot")
    shutil.rmtree(host.rundir)
    host.cli("apply")
    text = textfile(mdir)
    assert value(text, "xen_hotpatch_quarantined_payloads") == 1
    assert value(text, "xen_hotpatch_in_sync") == 0


def test_untrusted_names_are_escaped(host, mdir):
    weird = 'we"ird\\na\nme'
    with xh.Hypervisor(host.backend) as hv:
        hv.livepatch_upload(weird, str(FX / "indep.livepatch"))
        hv.livepatch_action(weird, xh.LIVEPATCH_ACTION_APPLY)
    rc, text, _ = host.cli("status", "--format=openmetrics")
    assert rc == 3
    assert promtool_check(text)[0] == 0
    (applied,) = by_name(text, "xen_hotpatch_payload_applied")
    # xhp_escape's printable form: the newline as \n, the backslash doubled
    assert applied[0]["name"] == 'we"ird\\\\na\\nme'
    assert applied[0]["origin"] == "foreign"


def test_no_folder_no_file_and_the_run_does_not_care(host):
    host.put("zz-base")
    rc, out, err = host.cli("apply")
    assert rc == 0 and "metrics" not in out + err
    assert not (host.root / "var/lib/prometheus").exists()


def test_metrics_dir_policy(host, tmp_path):
    other = host.root / "srv/metrics"
    other.mkdir(parents=True)
    host.policy("metrics_dir = /srv/metrics")
    host.put("zz-base")
    assert host.cli("apply")[0] == 0
    assert value((other / "xen_hotpatch.prom").read_text(), "xen_hotpatch_applied_payloads") == 1
    host.policy("metrics_dir =")
    (other / "xen_hotpatch.prom").unlink()
    host.remove("zz-base")
    assert host.cli("apply")[0] == 0
    assert not (other / "xen_hotpatch.prom").exists()
    host.policy("metrics_dir = relative/path")
    rc, _, err = host.cli("status")
    assert rc == 1 and "metrics_dir" in err


def test_a_write_failure_never_fails_the_run(host, mdir):
    (mdir / "xen_hotpatch.prom").mkdir()  # rename() onto a directory fails
    host.put("zz-base")
    rc, out, err = host.cli("apply")
    assert rc == 0
    assert "metrics: cannot write" in out + err
    assert host.applied() == ["zz-base"]
    assert xh.apply(root=str(host.root))["ok"]


def test_status_format_option(host):
    host.put("zz-base")
    assert host.cli("--json", "status")[1] == host.cli("status", "--format=json")[1]
    assert host.cli("status", "--format", "text")[1] == host.cli("status")[1]
    rc, out, err = host.cli("status", "--format=yaml")
    assert rc == 1 and out == "" and "openmetrics" in err
    rc, out, err = host.cli("status", "--json", "--format=json")
    assert rc == 1 and out == "" and "choose one" in err
    rc, out, err = host.cli("info", "--format=json", str(FX / "zz-base.livepatch"))
    assert rc == 1 and out == "" and "--format" in err


def test_a_read_only_root_is_skipped_quietly(host, mdir):
    # the initramfs converges with --root /sysroot, often read-only
    if subprocess.run(["mount", "--bind", str(mdir), str(mdir)], capture_output=True).returncode:
        pytest.skip("cannot bind-mount here (not root, or no CAP_SYS_ADMIN)")
    try:
        r = subprocess.run(["mount", "-o", "remount,bind,ro", str(mdir)], capture_output=True)
        if r.returncode:
            pytest.skip("cannot remount read-only here")
        host.put("zz-base")
        rc, out, err = host.cli("apply")
        assert rc == 0 and "metrics" not in out + err
        assert host.applied() == ["zz-base"] and not (mdir / "xen_hotpatch.prom").exists()
    finally:
        subprocess.run(["umount", str(mdir)], capture_output=True)
