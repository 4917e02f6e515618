#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""The v6 calls and the project's layer of xen_hotpatch against a hypervisor:
meant for real Xen in dom0 (the real-Xen tier runs it there), and run by the
python tier on the simulated one.

    realxen_v6.py [--backend xen|sim:DIR] [--root DIR] [--xen-hotpatch PATH]
                  [--cumulative CUM] [--bad PAYLOAD [--bad-errno NAME]]
                  BASE TOP

BASE and TOP are payload files for the running hypervisor, TOP stacked on
BASE, CUM a cumulative one (stacked on the hypervisor); their names are their
file names without .livepatch, and none of them may be loaded already.

The v6 calls (Hypervisor): build_id; upload, apply (waiting, and not waiting
then polling livepatch_status), APPLY with LIVEPATCH_ACTION_APPLY_NODEPS,
REPLACE by CUM, revert and unload; livepatch_list with each payload's
.modinfo as metadata; Xen's answers to wrong requests as OSError subclasses
with errno: an unknown name (ENOENT), a second upload of a name or of a
build-id (EEXIST), APPLY and REPLACE of TOP on an empty stack (EINVAL),
REVERT under the top (EBUSY), UNLOAD of an applied payload (EINVAL), a
payload --bad Xen refuses (its errno, --bad-errno when given).

The project's layer: read_payload, status() and plan() against `xen-hotpatch
--json info|status|apply --dry-run` (with --xen-hotpatch); with --root, BASE
and TOP are installed in ROOT's payload folder and apply(), the cumulative
upgrade (CUM instead of BASE and TOP: one REPLACE) and revert() run, each
compared with the CLI's JSON and the v6 listing of the same moment; the
files are removed again. The caller points XEN_HOTPATCH_RUN_DIR at a run
directory of its own.

The hypervisor is left as it was found. One line per check, "PASS ..." or
"FAIL WHAT: what differed", then "N passed, N failed"; exit 0 when nothing
failed.
"""

import argparse
import errno
import json
import os
import shutil
import subprocess
import sys
import time

import xen_hotpatch as xh

RESULTS = {"pass": 0, "fail": 0}
CHECKED, APPLIED = xh.LIVEPATCH_STATE_CHECKED, xh.LIVEPATCH_STATE_APPLIED


def check(what, cond, detail=""):
    RESULTS["pass" if cond else "fail"] += 1
    print(f"{'PASS' if cond else 'FAIL'} {what}" + ("" if cond or not detail else f": {detail}"), flush=True)
    return cond


def raises(what, err, call, builtin=None):
    """call() must raise a HypervisorError with errno err (and, when given,
    be an instance of the builtin OSError subclass for it) and one line."""
    try:
        call()
    except xh.Error as e:
        good = (isinstance(e, xh.HypervisorError) and e.errno == err and "\n" not in str(e)
                and (builtin is None or isinstance(e, builtin)))
        return check(what, good, f"{type(e).__name__} errno {e.errno} ({e})")
    return check(what, False, "no exception")


def name_of(path):
    base = os.path.basename(path)
    return base[:-len(".livepatch")] if base.endswith(".livepatch") else base


def state(st, rc=0):
    return {"state": st, "rc": rc}


def listing(hv):
    """{name: entry} of livepatch_list()."""
    return {e["name"]: e for e in hv.livepatch_list()}


def applied_names(hv):
    return [e["name"] for e in hv.livepatch_list() if e["state"] == APPLIED]


def modinfo_lines(path):
    """The .modinfo strings of a payload, as Xen's LIST carries them."""
    return [f"{k}={v}" for k, v in xh.read_payload(path)["modinfo"].items()]


# ---- the v6 calls ------------------------------------------------------------------


def v6_refusals(hv, base, top):
    """Wrong requests while BASE and TOP are uploaded and nothing is applied."""
    b, t = name_of(base), name_of(top)
    raises("second upload of a name: EEXIST (FileExistsError)", errno.EEXIST,
           lambda: hv.livepatch_upload(b, base), FileExistsError)
    raises("upload of BASE's bytes under another name (same build-id): EEXIST", errno.EEXIST,
           lambda: hv.livepatch_upload(b + "-dup", base))
    check("  ... and nothing is loaded under that name", b + "-dup" not in listing(hv))
    raises("APPLY of TOP on an empty stack (its depends is BASE): EINVAL", errno.EINVAL,
           lambda: hv.livepatch_action(t, xh.LIVEPATCH_ACTION_APPLY))
    raises("REPLACE by TOP (its depends is not the hypervisor): EINVAL", errno.EINVAL,
           lambda: hv.livepatch_action(t, xh.LIVEPATCH_ACTION_REPLACE))
    got = hv.livepatch_status(t)
    check("  ... TOP still CHECKED, rc 0, nothing applied", got == state(CHECKED) and applied_names(hv) == [],
          f"{got}, applied {applied_names(hv)}")


def v6_nodeps(hv, top):
    """APPLY with LIVEPATCH_ACTION_APPLY_NODEPS: Xen skips the dependency
    check (TOP alone on an empty stack); then TOP is taken off and unloaded."""
    t = name_of(top)
    hv.livepatch_action(t, xh.LIVEPATCH_ACTION_APPLY, 0, xh.LIVEPATCH_ACTION_APPLY_NODEPS)
    got = hv.livepatch_status(t)
    check("APPLY of TOP with LIVEPATCH_ACTION_APPLY_NODEPS: APPLIED, alone",
          got == state(APPLIED) and applied_names(hv) == [t], f"{got}, applied {applied_names(hv)}")
    hv.livepatch_action(t, xh.LIVEPATCH_ACTION_REVERT)
    hv.livepatch_action(t, xh.LIVEPATCH_ACTION_UNLOAD)
    check("  ... reverted and unloaded", t not in listing(hv), str(listing(hv)))


def v6_stack(hv, base, top):
    """BASE applied (waiting), TOP applied without waiting then polled."""
    b, t = name_of(base), name_of(top)
    hv.livepatch_action(b, xh.LIVEPATCH_ACTION_APPLY)
    check("APPLY of BASE (waits): APPLIED, rc 0", hv.livepatch_status(b) == state(APPLIED))
    hv.livepatch_action(b, xh.LIVEPATCH_ACTION_APPLY)
    check("APPLY of an applied payload: nothing happens, no error",
          hv.livepatch_status(b) == state(APPLIED) and applied_names(hv) == [b], str(applied_names(hv)))
    hv.livepatch_upload(t, top)
    hv.livepatch_action(t, xh.LIVEPATCH_ACTION_APPLY, timeout=0, flags=0, wait=False)
    seen, deadline = None, time.monotonic() + 30
    while time.monotonic() < deadline:
        seen = hv.livepatch_status(t)
        if seen["rc"] != -errno.EAGAIN:
            break
        time.sleep(0.001)
    check("APPLY of TOP without wait, then polling livepatch_status: APPLIED", seen == state(APPLIED), str(seen))
    entries = listing(hv)
    want = {n: {"name": n, "state": APPLIED, "rc": 0, "metadata": modinfo_lines(p)}
            for n, p in ((b, base), (t, top))}
    check("livepatch_list: both APPLIED, rc 0, metadata the payloads' .modinfo",
          all(entries.get(n) == want[n] for n in want), f"got {entries}, want {want}")
    raises("REVERT of a payload under the top: EBUSY", errno.EBUSY,
           lambda: hv.livepatch_action(b, xh.LIVEPATCH_ACTION_REVERT))
    raises("UNLOAD of an applied payload: EINVAL", errno.EINVAL,
           lambda: hv.livepatch_action(t, xh.LIVEPATCH_ACTION_UNLOAD))


def v6_replace(hv, cum, base, top):
    """REPLACE by the cumulative CUM: it alone applied, BASE and TOP CHECKED."""
    c = name_of(cum)
    hv.livepatch_upload(c, cum)
    hv.livepatch_action(c, xh.LIVEPATCH_ACTION_REPLACE)
    entries = listing(hv)
    got = {n: (e["state"], e["rc"]) for n, e in entries.items()}
    want = {c: (APPLIED, 0), name_of(base): (CHECKED, 0), name_of(top): (CHECKED, 0)}
    check("REPLACE by CUM: CUM APPLIED, BASE and TOP CHECKED", got == want, f"got {got}, want {want}")
    check("  ... CUM's metadata is its .modinfo", entries.get(c, {}).get("metadata") == modinfo_lines(cum),
          str(entries.get(c)))
    hv.livepatch_action(c, xh.LIVEPATCH_ACTION_REVERT)
    check("REVERT of CUM: CHECKED, nothing applied",
          hv.livepatch_status(c) == state(CHECKED) and applied_names(hv) == [], str(listing(hv)))
    return [c]


def v6_calls(hv, base, top, cum):
    b, t = name_of(base), name_of(top)
    bid = hv.build_id
    check("build_id is the hypervisor's, as BASE's xen_depends",
          isinstance(bid, str) and bid == bid() == xh.read_payload(base)["xen_depends"], bid)
    loaded = set(listing(hv))
    if not check("BASE, TOP and CUM are not loaded yet", not ({b, t, name_of(cum or "")} & loaded), str(sorted(loaded))):
        return False
    raises("livepatch_status of an unknown name: ENOENT (FileNotFoundError)", errno.ENOENT,
           lambda: hv.livepatch_status(b), FileNotFoundError)
    raises("APPLY of an unknown name: ENOENT", errno.ENOENT,
           lambda: hv.livepatch_action(b, xh.LIVEPATCH_ACTION_APPLY))
    hv.livepatch_upload(b, base)
    check("upload of BASE: CHECKED, rc 0", hv.livepatch_status(b) == state(CHECKED))
    hv.livepatch_upload(t, top)
    v6_refusals(hv, base, top)
    v6_nodeps(hv, top)
    v6_stack(hv, base, top)
    if cum:
        v6_replace(hv, cum, base, top)
    else:
        for n in (t, b):
            hv.livepatch_action(n, xh.LIVEPATCH_ACTION_REVERT)
            check(f"REVERT of {n}: CHECKED", hv.livepatch_status(n) == state(CHECKED))
    for n in (t, b) + ((name_of(cum),) if cum else ()):
        hv.livepatch_action(n, xh.LIVEPATCH_ACTION_UNLOAD)
    check("UNLOAD: all gone", not ({b, t, name_of(cum or "")} & set(listing(hv))), str(listing(hv)))
    return True


def bad_payload(hv, bad, err):
    n = name_of(bad)
    what = f"a payload Xen refuses: HypervisorError with errno {err or 'of Xen'}"
    try:
        hv.livepatch_upload(n, bad)
    except xh.HypervisorError as e:
        check(what, e.errno == err if err else e.errno > 0, f"errno {e.errno} ({e})")
    else:
        check(what, False, "uploaded")
        hv.livepatch_action(n, xh.LIVEPATCH_ACTION_UNLOAD)
    check("  ... and nothing is loaded under its name", n not in listing(hv))


def clean_up(hv, names):
    """Leave the hypervisor as it was: take NAMES off, top first."""
    for n in names:
        for action in (xh.LIVEPATCH_ACTION_REVERT, xh.LIVEPATCH_ACTION_UNLOAD):
            try:
                hv.livepatch_action(n, action)
            except xh.Error:
                pass


# ---- the project's layer -------------------------------------------------------------


class Cli:
    """`xen-hotpatch [--backend B] [--root R] --json ...` for comparisons."""

    def __init__(self, tool, backend, root):
        self.tool = tool
        self.args = ["--backend", backend] + (["--root", root] if root else [])
        self.kw = {"backend": backend, "root": root}

    def json(self, *words, global_args=True):
        p = subprocess.run([self.tool, *(self.args if global_args else []), "--json", *words],
                           capture_output=True, text=True)
        return json.loads(p.stdout) if p.stdout else {"exit": p.returncode, "stderr": p.stderr}

    def same(self, when):
        """status() and plan() against the CLI's JSON now; returns status()."""
        st, plan = xh.status(**self.kw), xh.plan(**self.kw)
        cst, cplan = self.json("status"), self.json("apply", "--dry-run")
        check(f"{when}: status() is `status --json`", st == cst, f"status() {st}; CLI {cst}")
        check(f"{when}: plan() is `apply --dry-run --json`", plan == cplan, f"plan() {plan}; CLI {cplan}")
        return st, plan


def stack_of(st):
    return [p["name"] for p in st["applied"]]


def layer_read(cli, paths):
    for p in paths:
        got, want = xh.read_payload(p), cli.json("info", p, global_args=False)
        check(f"read_payload({name_of(p)}) is `info --json`", [got] == want, f"{got}; CLI {want}")


def layer_apply(cli, hv, pd, base, top):
    """apply() of BASE and TOP installed in PD; a second apply() does nothing."""
    for p in (base, top):
        shutil.copy(p, pd)
    want = [name_of(base), name_of(top)]
    st, plan = cli.same("BASE and TOP installed")
    check("  ... status: not in sync, plan: BASE and TOP desired",
          not st["in_sync"] and plan["desired"] == want, f"in_sync {st['in_sync']}, desired {plan['desired']}")
    res = xh.apply(**cli.kw)
    check("apply(): done, its plan the dry run's, applied BASE TOP as the v6 listing",
          res["outcome"] == "done" and res["plan"] == plan and res["applied"] == want == applied_names(hv),
          f"result {res}; v6 applied {applied_names(hv)}")
    st, _ = cli.same("after apply()")
    check("  ... status: in sync, applied BASE TOP", st["in_sync"] and stack_of(st) == want, str(st))
    again = xh.apply(**cli.kw)
    check("a second apply() has nothing to do", again["steps_done"] == 0 and again["plan"]["steps"] == [], str(again))


def layer_upgrade(cli, hv, pd, base, top, cum):
    """CUM installed instead of BASE and TOP: one REPLACE; then CUM reverted."""
    for p in (base, top):
        os.unlink(os.path.join(pd, os.path.basename(p)))
    shutil.copy(cum, pd)
    _, plan = cli.same("CUM installed instead of BASE and TOP")
    ops = [s["op"] for s in plan["steps"]]
    check("  ... plan: one REPLACE", ops.count("replace") == 1, str(plan["steps"]))
    res = xh.apply(**cli.kw)
    got = {n: e["state"] for n, e in listing(hv).items()}
    check("apply() of the cumulative: CUM alone applied, BASE and TOP unloaded",
          res["applied"] == [name_of(cum)] and got == {name_of(cum): APPLIED}, f"result {res}; v6 {got}")
    st, _ = cli.same("after the cumulative apply()")
    check("  ... status: in sync", st["in_sync"], str(st))
    return [cum]


def layer_revert(cli, hv, pd, installed):
    """revert() of the bottom of the stack: nothing applied or loaded."""
    bottom = name_of(installed[0])
    res = xh.revert(bottom, **cli.kw)
    check(f"revert({bottom}): nothing applied, nothing of ours loaded",
          res["outcome"] == "done" and res["applied"] == [] == applied_names(hv)
          and not ({name_of(p) for p in installed} & set(listing(hv))), f"result {res}; v6 {listing(hv)}")
    cli.same("after revert()")
    for p in installed:
        os.unlink(os.path.join(pd, os.path.basename(p)))
    st, plan = cli.same("payloads removed")
    check("  ... status: in sync, nothing applied, nothing to do",
          st["in_sync"] and stack_of(st) == [] and plan["steps"] == [], f"status {st}; plan {plan}")


def layer_run(cli, hv, root, base, top, cum):
    """The layer against the CLI as found; with ROOT, apply() and revert()."""
    pd = os.path.join(root or "/", "usr/lib/xen-hotpatch", hv.build_id)
    if root:
        os.makedirs(pd, exist_ok=True)
    st, _ = cli.same("the hypervisor as found")
    check("  ... status()'s build_id is the v6 build_id", st["build_id"] == hv.build_id, str(st))
    if not root:
        return
    layer_apply(cli, hv, pd, base, top)
    installed = layer_upgrade(cli, hv, pd, base, top, cum) if cum else [base, top]
    layer_revert(cli, hv, pd, installed)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", default="xen")
    ap.add_argument("--root", help="a root the script installs BASE, TOP and CUM in for apply()")
    ap.add_argument("--xen-hotpatch", dest="tool", help="the tool, to compare the project's layer with")
    ap.add_argument("--cumulative", help="a cumulative payload (depends on the hypervisor): REPLACE")
    ap.add_argument("--bad", help="a payload Xen refuses")
    ap.add_argument("--bad-errno", help="the errno name Xen refuses it with (EINVAL)")
    ap.add_argument("base")
    ap.add_argument("top")
    a = ap.parse_args()
    bad_err = getattr(errno, a.bad_errno) if a.bad_errno else None
    names = [name_of(p) for p in (a.cumulative, a.top, a.base) if p]
    print(f"xen_hotpatch {xh.VERSION} (libxenctrl: {xh.HAVE_XEN}), backend {a.backend}", flush=True)
    with xh.Hypervisor(a.backend) as hv:
        try:
            fresh = v6_calls(hv, a.base, a.top, a.cumulative)
            if fresh and a.bad:
                bad_payload(hv, a.bad, bad_err)
            if fresh and a.tool:
                cli = Cli(a.tool, a.backend, a.root)
                layer_read(cli, [p for p in (a.base, a.top, a.cumulative) if p])
                layer_run(cli, hv, a.root, a.base, a.top, a.cumulative)
        except (xh.Error, KeyError, OSError) as e:
            check("no unexpected error", False, f"{type(e).__name__}: {e}")
            clean_up(hv, names + [name_of(a.base) + "-dup"])
    print(f"{RESULTS['pass']} passed, {RESULTS['fail']} failed")
    return 0 if RESULTS["fail"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
