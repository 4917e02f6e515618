# SPDX-License-Identifier: GPL-2.0-only
"""Ansible module xen_hotpatch_info: facts about a dom0's livepatch stack."""

DOCUMENTATION = r"""
---
module: xen_hotpatch_info
short_description: Facts about the Xen livepatch stack of a dom0
description:
  - Reports what C(xen-hotpatch status) reports, as facts. The facts are the
    hypervisor's build-id, the applied stack, what is installed but not
    applied, quarantined payloads, problems and whether the host is in sync.
  - Runs on the target dom0 through its Python bindings (python3-xen-hotpatch).
    Never changes anything.
version_added: "0.1.0"
options:
  root:
    description: Prefix for payloads, policy and state, as the CLI's C(--root).
    type: path
  backend:
    description: C(xen) or C(sim:DIR), as the CLI's C(--backend).
    type: str
requirements:
  - python3-xen-hotpatch on the target host
author:
  - xen-hotpatch
"""

EXAMPLES = r"""
- xen.hotpatch.xen_hotpatch_info:
- ansible.builtin.debug:
    msg: "{{ ansible_facts.xen_hotpatch.applied }} in sync: {{ ansible_facts.xen_hotpatch.in_sync }}"
"""

RETURN = r"""
status:
  description: The document C(xen-hotpatch --json status) prints.
  type: dict
  returned: always
ansible_facts:
  description: C(xen_hotpatch) contains build_id, backend, applied (names, bottom first),
    applied_payloads, pending, quarantined, problems and in_sync.
  type: dict
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.xen.hotpatch.plugins.module_utils.xen_hotpatch import (
    COMMON_ARGS, error_result, facts, require_bindings, session_args, xen_hotpatch)


def main():
    module = AnsibleModule(argument_spec=dict(**COMMON_ARGS), supports_check_mode=True)
    require_bindings(module)
    try:
        status = xen_hotpatch.status(**session_args(module))
    except xen_hotpatch.Error as e:
        module.fail_json(**error_result(e))
    module.exit_json(changed=False, status=status, ansible_facts=dict(xen_hotpatch=facts(status)))


if __name__ == "__main__":
    main()
