# SPDX-License-Identifier: GPL-2.0-only
"""The xen.hotpatch collection driven by ansible-playbook over a fleet of
simulated dom0s."""

import re

import xen_hotpatch as xh
from xhp_pytest import FX

BASE = ["zz-base"]
CHAIN = ["zz-base", "mm-middle", "aa-top"]


def recap(output):
    """PLAY RECAP: {host: {"ok": n, "changed": n, "failed": n, ...}}."""
    out = {}
    for m in re.finditer(r"^(h\d+)\s+:\s+(.*)$", output, re.M):
        out[m.group(1)] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
    return out


def consistent(host):
    """The host's applied stack is a chain on its hypervisor, and nothing is
    loaded that is not applied (no leftovers of a failed run)."""
    show = host.show()
    parent = show["build_id"]
    for name in show["applied"]:
        info = xh.read_payload(str(FX / f"{name}.livepatch"))
        if info["depends"] != parent:
            return False
        parent = info["build_id"]
    return all(e["state"] == "APPLIED" for e in show["loaded"])


def converge_all(fleet, names):
    fleet.put(*names)
    for name, (rc, _, err) in fleet.cli_all("apply").items():
        assert rc == 0, f"{name}: {err}"


def test_first_rollout_then_idempotent(fleet):
    fleet.put(*CHAIN)
    rc, out = fleet.playbook("converge.yml")
    assert rc == 0, out
    assert all(r["changed"] == 1 and r["failed"] == 0 for r in recap(out).values()), out
    for name, host in fleet.hosts.items():
        assert host.applied() == CHAIN
        res = fleet.results.get(name)
        assert res["changed"] and res["stack_before"] == [] and res["stack_after"] == CHAIN
        assert res["ansible_facts"]["xen_hotpatch"]["in_sync"]
        assert res["result"]["outcome"] == "done"
    actions = {n: len(h.show()["actions"]) for n, h in fleet.hosts.items()}
    rc, out = fleet.playbook("converge.yml")
    assert rc == 0, out
    assert all(r["changed"] == 0 for r in recap(out).values()), out
    assert {n: len(h.show()["actions"]) for n, h in fleet.hosts.items()} == actions
    assert not any(fleet.results[n]["changed"] for n in fleet.hosts)


def test_staged_rollout_stops_after_the_failing_batch(fleet):
    converge_all(fleet, BASE)
    before = {n: len(h.show()["actions"]) for n, h in fleet.hosts.items()}
    fleet.put("mm-middle", "aa-top")
    fleet.faults["h3"] = "apply:aa-top:EIO:async"
    rc, out = fleet.playbook("converge.yml", "-e", "batch=2")
    assert rc != 0, out
    r = recap(out)
    # batches h1 h2 | h3 h4 | h5: h3 fails, its batch completes, h5 never runs
    assert sorted(r) == ["h1", "h2", "h3", "h4"], out
    assert r["h3"]["failed"] == 1 and all(r[h]["failed"] == 0 for h in ("h1", "h2", "h4"))
    stacks = {n: h.applied() for n, h in fleet.hosts.items()}
    assert stacks == {"h1": CHAIN, "h2": CHAIN, "h3": ["zz-base", "mm-middle"], "h4": CHAIN, "h5": BASE}
    assert len(fleet.hosts["h5"].show()["actions"]) == before["h5"]
    assert fleet.results.get("h5") is None
    assert all(consistent(h) for h in fleet.hosts.values())
    failed = fleet.results.get("h3")
    assert failed["failed"] and "apply aa-top failed" in failed["msg"]
    assert failed["result"]["failed"]["name"] == "aa-top"
    assert failed["stack_after"] == ["zz-base", "mm-middle"] == failed["result"]["applied"]
    assert failed["ansible_facts"]["xen_hotpatch"]["applied"] == ["zz-base", "mm-middle"]
    # the fault gone, the same playbook finishes the rollout
    fleet.faults.clear()
    rc, out = fleet.playbook("converge.yml", "-e", "batch=2")
    assert rc == 0, out
    assert all(h.applied() == CHAIN for h in fleet.hosts.values())
    assert {n for n, v in recap(out).items() if v["changed"]} == {"h3", "h5"}


def test_a_failure_in_the_first_batch_stops_everything_after_it(fleet):
    converge_all(fleet, BASE)
    fleet.put("mm-middle")
    fleet.faults["h1"] = "upload:mm-middle:ENOMEM"
    rc, out = fleet.playbook("converge.yml", "-e", "batch=1")
    assert rc != 0
    assert sorted(recap(out)) == ["h1"], out
    assert all(h.applied() == BASE and consistent(h) for h in fleet.hosts.values())


def test_check_mode_is_the_plan_and_diff_shows_the_stacks(fleet):
    converge_all(fleet, BASE)
    fleet.put("mm-middle", "aa-top")
    before = {n: h.show()["actions"] for n, h in fleet.hosts.items()}
    rc, out = fleet.playbook("converge.yml", "--check", "--diff")
    assert rc == 0, out
    assert all(v["changed"] == 1 for v in recap(out).values()), out
    assert {n: h.show()["actions"] for n, h in fleet.hosts.items()} == before
    res = fleet.results.get("h1")
    assert res["plan"] == xh.plan(root=str(fleet.hosts["h1"].root))
    assert res["stack_before"] == BASE and res["stack_after"] == CHAIN
    assert res["diff"]["before"].split() [0] == "zz-base"
    assert [line.split()[0] for line in res["diff"]["after"].splitlines()] == CHAIN
    assert "+mm-middle" in out and "+aa-top" in out  # the callback prints the diff
    # in sync: check mode says nothing would change
    converge_all(fleet, [])
    rc, out = fleet.playbook("converge.yml", "--check")
    assert rc == 0 and all(v["changed"] == 0 for v in recap(out).values()), out


def test_check_mode_predicts_a_refusal(fleet):
    converge_all(fleet, BASE)
    fleet.remove("zz-base")
    fleet.put("hooks-prepost")  # REPLACE impossible with pre/post hooks
    rc, out = fleet.playbook("converge.yml", "--check")
    assert rc != 0
    res = fleet.results.get("h1")
    assert res["failed"] and "nothing changed" in res["msg"]
    assert all(h.applied() == BASE for h in fleet.hosts.values())


def test_reverted_state(fleet):
    converge_all(fleet, CHAIN)
    rc, out = fleet.playbook("revert.yml", "-e", "payload=mm-middle", "--check", "--diff")
    assert rc == 0, out
    assert all(h.applied() == CHAIN for h in fleet.hosts.values())
    assert fleet.results.get("h2")["stack_after"] == ["zz-base"]
    rc, out = fleet.playbook("revert.yml", "-e", "payload=mm-middle")
    assert rc == 0, out
    assert all(v["changed"] == 1 for v in recap(out).values())
    assert all(h.applied() == ["zz-base"] and consistent(h) for h in fleet.hosts.values())
    rc, out = fleet.playbook("revert.yml", "-e", "payload=mm-middle")
    assert rc == 0 and all(v["changed"] == 0 for v in recap(out).values()), out


def test_reverted_needs_a_name(fleet):
    rc, out = fleet.playbook("revert.yml", "-e", "payload=''")
    assert rc != 0
    assert "name" in fleet.results.get("h1")["msg"]


def test_facts_and_the_short_module_name(fleet):
    converge_all(fleet, CHAIN)
    fleet.put("orphan")
    rc, out = fleet.playbook("facts.yml")
    assert rc == 0, out
    facts = fleet.results["h4"]["ansible_facts"]["xen_hotpatch"]
    assert facts["applied"] == CHAIN and facts["build_id"] == fleet.hosts["h4"].xen_id
    assert not facts["in_sync"] and any(p["kind"] == "orphan" for p in facts["problems"])
    rc, out = fleet.playbook("shortname.yml")
    assert rc == 0, out
    st = fleet.results.get("h2")
    assert not st["changed"] and st["status"] == xh.status(root=str(fleet.hosts["h2"].root))


def test_without_the_bindings_the_module_says_so(fleet):
    rc, out = fleet.playbook("converge.yml", env={"PYTHONPATH": ""})
    assert rc != 0
    assert "python3-xen-hotpatch" in fleet.results.get("h1")["msg"]


def test_the_installed_layout_offers_bare_module_names(fleet):
    fleet.put(*BASE)
    rc, out = fleet.playbook("bare.yml", env=fleet.install())
    assert rc == 0, out
    assert all(h.applied() == BASE for h in fleet.hosts.values())
    assert fleet.results["h1"]["ansible_facts"]["xen_hotpatch"]["applied"] == BASE
