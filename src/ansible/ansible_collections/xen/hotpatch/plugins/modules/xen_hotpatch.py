# SPDX-License-Identifier: GPL-2.0-only
"""Ansible module xen_hotpatch: the livepatch stack of a Xen dom0."""

DOCUMENTATION = r"""
---
module: xen_hotpatch
short_description: Converge or revert the Xen livepatch stack of a dom0
description:
  - Brings the hypervisor's applied livepatch stack to what is installed under
    C(/usr/lib/xen-hotpatch/<build-id>/) (C(state=converged), as
    C(xen-hotpatch apply)), takes one payload and everything above it off
    (C(state=reverted), as C(xen-hotpatch revert NAME)), or only reports
    (C(state=status)).
  - Runs on the target dom0 through its Python bindings (python3-xen-hotpatch).
  - Check mode reports the plan (C(xen-hotpatch apply --dry-run)) and changes
    nothing. Diff mode shows the applied stack before and after.
  - Idempotent. A second run reports C(changed=false).
  - Every run returns the host's facts (C(ansible_facts.xen_hotpatch)).
version_added: "0.1.0"
options:
  state:
    description:
      - C(converged) applies the installed stack, C(reverted) reverts I(name),
        C(status) only reports.
    type: str
    choices: [converged, reverted, status]
    default: converged
  name:
    description:
      - The payload to revert with everything stacked above it (C(state=reverted)).
    type: str
  root:
    description:
      - Prefix for payloads, policy and state, as the CLI's C(--root).
    type: path
  backend:
    description:
      - C(xen) or C(sim:DIR), as the CLI's C(--backend). Default from the policy, else C(xen).
    type: str
requirements:
  - python3-xen-hotpatch on the target host
notes:
  - Simulated hosts (C(backend=sim:DIR)) on one machine each need their own
    run directory. Set C(XEN_HOTPATCH_RUN_DIR) per host with the C(environment)
    keyword.
  - A failure leaves the host at a consistent stack. The task fails with the
    failed step, and the applied stack afterwards is in I(result).
author:
  - xen-hotpatch
"""

EXAMPLES = r"""
- name: Roll the installed livepatch stack out, two hosts at a time
  hosts: dom0s
  serial: 2
  max_fail_percentage: 0
  tasks:
    - xen.hotpatch.xen_hotpatch:
        state: converged

- name: Take a payload off
  xen.hotpatch.xen_hotpatch:
    state: reverted
    name: xsa123

- name: Facts only
  xen.hotpatch.xen_hotpatch:
    state: status
  register: hp
"""

RETURN = r"""
changed:
  description: Whether the applied stack changed (or would change, in check mode).
  type: bool
  returned: always
stack_before:
  description: The applied stack before the run, names bottom first.
  type: list
  elements: str
  returned: always
stack_after:
  description: The applied stack after the run (check mode, the planned one).
  type: list
  elements: str
  returned: always
plan:
  description: The plan, as C(xen-hotpatch --json apply --dry-run) prints it.
  type: dict
  returned: when state is converged
result:
  description: What the run did, as C(xen-hotpatch --json apply) or C(revert) prints it.
  type: dict
  returned: when something ran
status:
  description: The host's status after the run, as C(xen-hotpatch --json status) prints it.
  type: dict
  returned: always
ansible_facts:
  description: C(xen_hotpatch) contains build_id, backend, applied (names), applied_payloads, pending,
    quarantined, problems and in_sync.
  type: dict
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.xen.hotpatch.plugins.module_utils.xen_hotpatch import (
    COMMON_ARGS, diff, error_result, facts, require_bindings, session_args, stack, xen_hotpatch)


def blocking_problems(doc):
    """Problems that make `xen-hotpatch apply` exit 1: an installed payload
    that cannot be used. (Foreign payloads are only warned about.)"""
    return [p for p in doc.get("problems", []) if p.get("error") and p.get("kind") != "foreign"]


def converge(module, args, before):
    plan = xen_hotpatch.plan(**args)
    predicted = plan["desired"] if not plan["refused"] else stack(before)
    out = dict(changed=bool(plan["steps"]) and not plan["refused"], plan=plan,
               stack_before=stack(before), stack_after=predicted)
    if plan["refused"]:
        module.fail_json(msg="the plan was refused; nothing changed: "
                         + "; ".join(p["message"] for p in plan["problems"] if p.get("error")), **out)
    if module._diff:
        out["diff"] = diff(before, predicted)
    if module.check_mode or not plan["steps"]:
        return out
    try:
        out["result"] = xen_hotpatch.apply(**args)
    except xen_hotpatch.Error as e:
        after = xen_hotpatch.status(**args)
        out.update(error_result(e), stack_after=stack(after), status=after, changed=stack(after) != stack(before))
        module.fail_json(ansible_facts=dict(xen_hotpatch=facts(after)), **out)
    return out


def revert(module, args, before):
    name = module.params["name"]
    names = stack(before)
    loaded = {p["name"] for p in before.get("loaded_not_applied", [])}
    if name not in names and name not in loaded:
        return dict(changed=False, stack_before=names, stack_after=names)
    predicted = names[:names.index(name)] if name in names else names
    out = dict(changed=True, stack_before=names, stack_after=predicted)
    if module._diff:
        out["diff"] = diff(before, predicted)
    if module.check_mode:
        return out
    try:
        out["result"] = xen_hotpatch.revert(name, **args)
    except xen_hotpatch.Error as e:
        after = xen_hotpatch.status(**args)
        out.update(error_result(e), stack_after=stack(after), status=after, changed=stack(after) != names)
        module.fail_json(ansible_facts=dict(xen_hotpatch=facts(after)), **out)
    return out


def main():
    module = AnsibleModule(
        argument_spec=dict(state=dict(type="str", default="converged",
                                      choices=["converged", "reverted", "status"]),
                           name=dict(type="str"), **COMMON_ARGS),
        required_if=[("state", "reverted", ["name"])],
        supports_check_mode=True,
    )
    require_bindings(module)
    args = session_args(module)
    state = module.params["state"]
    if state == "reverted" and not module.params["name"]:
        module.fail_json(msg="state=reverted needs name: the payload to revert")
    try:
        before = xen_hotpatch.status(**args)
        if state == "converged":
            out = converge(module, args, before)
        elif state == "reverted":
            out = revert(module, args, before)
        else:
            out = dict(changed=False, stack_before=stack(before), stack_after=stack(before))
        after = before if module.check_mode or not out["changed"] else xen_hotpatch.status(**args)
    except xen_hotpatch.Error as e:
        module.fail_json(**error_result(e))
    if not module.check_mode:
        out["stack_after"] = stack(after)
        out["changed"] = out["stack_after"] != out["stack_before"] or bool(out.get("result", {}).get("steps"))
        if module._diff and "diff" in out:
            out["diff"] = diff(before, out["stack_after"], after)
    out.update(status=after, ansible_facts=dict(xen_hotpatch=facts(after)))
    unusable = blocking_problems(out.get("plan", {}))
    if state == "converged" and unusable:
        module.fail_json(msg="installed payloads that cannot be applied: "
                         + "; ".join(p["message"] for p in unusable), **out)
    module.exit_json(**out)


if __name__ == "__main__":
    main()
