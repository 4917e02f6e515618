#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""The v6 calls and the project's layer of xen_hotpatch against a hypervisor:
meant for real Xen in dom0 (the real-Xen tier runs it there), and run by the
python tier on the simulated one.

    realxen_v6.py [--backend xen|sim:DIR] [--root DIR] [--xen-hotpatch PATH]
                  [--bad PAYLOAD] BASE TOP

BASE and TOP are payload files for the running hypervisor, TOP stacked on
BASE (their names are their file names without .livepatch); none of them may
be loaded already. The script uploads, applies, reverts and unloads them
through Hypervisor (the v6 calls), checks Xen's answers to wrong requests
(unknown name, second upload, REVERT under the top, UNLOAD of an applied
payload, a payload --bad Xen refuses), compares read_payload/status/plan with
`xen-hotpatch --json` (with --xen-hotpatch), and leaves the hypervisor as it
found it. One line per check, "PASS ..." or "FAIL ...", then "N passed, N
failed"; exit 0 when nothing failed.
"""

import argparse
import errno
import json
import os
import subprocess
import sys
import time

import xen_hotpatch as xh

RESULTS = {"pass": 0, "fail": 0}


def check(what, cond, detail=""):
    RESULTS["pass" if cond else "fail"] += 1
    print(f"{'PASS' if cond else 'FAIL'} {what}" + ("" if cond or not detail else f": {detail}"), flush=True)
    return cond


def raises(what, err, call):
    try:
        call()
    except xh.Error as e:
        return check(what, e.errno == err and "\n" not in str(e), f"errno {e.errno} ({e})")
    return check(what, False, "no exception")


def name_of(path):
    base = os.path.basename(path)
    return base[:-len(".livepatch")] if base.endswith(".livepatch") else base


def v6_calls(hv, base, top):
    b, t = name_of(base), name_of(top)
    bid = hv.build_id
    check("build_id is the hypervisor's, as BASE's xen_depends", bid == xh.read_payload(base)["xen_depends"], bid)
    loaded = {e["name"] for e in hv.livepatch_list()}
    if not check("BASE and TOP are not loaded yet", not ({b, t} & loaded), str(sorted(loaded))):
        return False
    raises("livepatch_status of an unknown name: ENOENT", errno.ENOENT, lambda: hv.livepatch_status(b))
    hv.livepatch_upload(b, base)
    check("upload: CHECKED, rc 0", hv.livepatch_status(b) == {"state": xh.LIVEPATCH_STATE_CHECKED, "rc": 0})
    raises("second upload of a name: EEXIST", errno.EEXIST, lambda: hv.livepatch_upload(b, base))
    hv.livepatch_action(b, xh.LIVEPATCH_ACTION_APPLY)
    check("apply (waits): APPLIED, rc 0", hv.livepatch_status(b) == {"state": xh.LIVEPATCH_STATE_APPLIED, "rc": 0})
    hv.livepatch_upload(t, top)
    hv.livepatch_action(t, xh.LIVEPATCH_ACTION_APPLY, timeout=0, flags=0, wait=False)
    seen, deadline = None, time.monotonic() + 30
    while time.monotonic() < deadline:
        seen = hv.livepatch_status(t)
        if seen["rc"] != -errno.EAGAIN:
            break
        time.sleep(0.001)
    check("apply without wait, then polling livepatch_status: APPLIED",
          seen == {"state": xh.LIVEPATCH_STATE_APPLIED, "rc": 0}, str(seen))
    entries = {e["name"]: e for e in hv.livepatch_list()}
    check("livepatch_list: both APPLIED, metadata is a list of str",
          all(entries[n]["state"] == xh.LIVEPATCH_STATE_APPLIED and isinstance(entries[n]["metadata"], list)
              for n in (b, t)), str(entries))
    raises("revert of a payload under the top: EBUSY", errno.EBUSY,
           lambda: hv.livepatch_action(b, xh.LIVEPATCH_ACTION_REVERT))
    raises("unload of an applied payload: EINVAL", errno.EINVAL,
           lambda: hv.livepatch_action(t, xh.LIVEPATCH_ACTION_UNLOAD))
    for n in (t, b):
        hv.livepatch_action(n, xh.LIVEPATCH_ACTION_REVERT)
        check(f"revert {n}: CHECKED", hv.livepatch_status(n)["state"] == xh.LIVEPATCH_STATE_CHECKED)
    for n in (t, b):
        hv.livepatch_action(n, xh.LIVEPATCH_ACTION_UNLOAD)
    check("unload: both gone", not ({b, t} & {e["name"] for e in hv.livepatch_list()}))
    return True


def bad_payload(hv, bad):
    n = name_of(bad)
    try:
        hv.livepatch_upload(n, bad)
    except xh.HypervisorError as e:
        check("a payload Xen refuses: HypervisorError with Xen's errno", e.errno > 0, str(e))
    else:
        check("a payload Xen refuses: HypervisorError with Xen's errno", False, "uploaded")
        hv.livepatch_action(n, xh.LIVEPATCH_ACTION_UNLOAD)
    check("  ... and nothing is loaded under its name", n not in {e["name"] for e in hv.livepatch_list()})


def clean_up(hv, base, top):
    """Leave the hypervisor as it was: take BASE and TOP off, top first."""
    for n in (name_of(top), name_of(base)):
        for action in (xh.LIVEPATCH_ACTION_REVERT, xh.LIVEPATCH_ACTION_UNLOAD):
            try:
                hv.livepatch_action(n, action)
            except xh.Error:
                pass


def cli_json(tool, args, *words):
    p = subprocess.run([tool, *args, "--json", *words], capture_output=True, text=True)
    return json.loads(p.stdout) if p.stdout else None


def project_layer(tool, args, kw, base):
    check("read_payload is `info --json`", xh.read_payload(base) == cli_json(tool, [], "info", base)[0])
    check("status() is `status --json`", xh.status(**kw) == cli_json(tool, args, "status"))
    check("plan() is `apply --dry-run --json`", xh.plan(**kw) == cli_json(tool, args, "apply", "--dry-run"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", default="xen")
    ap.add_argument("--root")
    ap.add_argument("--xen-hotpatch", dest="tool", help="the tool, to compare the project's layer with")
    ap.add_argument("--bad", help="a payload Xen refuses")
    ap.add_argument("base")
    ap.add_argument("top")
    a = ap.parse_args()
    print(f"xen_hotpatch {xh.VERSION} (libxenctrl: {xh.HAVE_XEN}), backend {a.backend}", flush=True)
    with xh.Hypervisor(a.backend) as hv:
        try:
            if v6_calls(hv, a.base, a.top) and a.bad:
                bad_payload(hv, a.bad)
        except xh.Error as e:
            check("no unexpected error", False, f"{type(e).__name__}: {e}")
            clean_up(hv, a.base, a.top)
    if a.tool:
        args = ["--backend", a.backend] + (["--root", a.root] if a.root else [])
        project_layer(a.tool, args, {"backend": a.backend, "root": a.root}, a.base)
    print(f"{RESULTS['pass']} passed, {RESULTS['fail']} failed")
    return 0 if RESULTS["fail"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
