# SPDX-License-Identifier: GPL-2.0-only
"""What the xen_hotpatch modules share: the bindings, the facts, the diff.

The modules run on the target host (a Xen dom0) and use its Python bindings
(package python3-xen-hotpatch), never the CLI.
"""

import traceback

try:
    import xen_hotpatch
    HAVE_BINDINGS = True
    BINDINGS_ERROR = None
except ImportError:
    xen_hotpatch = None
    HAVE_BINDINGS = False
    BINDINGS_ERROR = traceback.format_exc()

COMMON_ARGS = dict(
    root=dict(type="path", default=None),
    backend=dict(type="str", default=None),
)


def require_bindings(module):
    """Fail the task when the target host lacks the bindings."""
    if not HAVE_BINDINGS:
        from ansible.module_utils.basic import missing_required_lib
        module.fail_json(msg=missing_required_lib("xen_hotpatch (package python3-xen-hotpatch)"),
                         exception=BINDINGS_ERROR)


def session_args(module):
    """The keyword arguments the bindings' status/plan/apply/revert take."""
    return dict(root=module.params["root"], backend=module.params["backend"])


def error_result(exc):
    """What a task that failed on a xen_hotpatch error returns."""
    out = dict(msg=str(exc), errno=exc.errno)
    if getattr(exc, "result", None) is not None:
        out["result"] = exc.result
    if getattr(exc, "rc", 0):
        out["payload_rc"] = exc.rc
    return out


def stack(status):
    """The applied stack from a status document: names, bottom first."""
    return [p["name"] for p in status["applied"]]


def facts(status):
    """ansible_facts.xen_hotpatch from a status document."""
    return dict(
        build_id=status["build_id"],
        backend=status.get("backend"),
        applied=stack(status),
        applied_payloads=status["applied"],
        pending=[p["name"] for p in status.get("installed_not_applied", [])],
        quarantined=status.get("quarantined", []),
        problems=status.get("problems", []),
        in_sync=status["in_sync"],
    )


def stack_text(names, status=None):
    """A stack for diff mode: one payload a line, bottom first."""
    ids = {p["name"]: p.get("build_id") for p in (status or {}).get("applied", [])}
    lines = [f"{n} {ids[n]}" if ids.get(n) else n for n in names]
    return "".join(line + "\n" for line in lines)


def diff(before_status, after_names, after_status=None):
    """Diff mode: the applied stack before and after."""
    return dict(before_header="applied stack (bottom first)", before=stack_text(stack(before_status), before_status),
                after_header="applied stack (bottom first)", after=stack_text(after_names, after_status or before_status))
