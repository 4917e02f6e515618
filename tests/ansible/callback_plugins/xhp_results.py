# SPDX-License-Identifier: GPL-2.0-only
"""Test-only callback: what the xen.hotpatch modules returned, one JSON file
per host in $XHP_OUT (the last such task of the run wins)."""

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: xhp_results
type: aggregate
short_description: keep the xen.hotpatch modules' results for the tests
description: Writes each host's last xen_hotpatch / xen_hotpatch_info result to $XHP_OUT/HOST.json.
requirements: [XHP_OUT in the environment]
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "xhp_results"
    CALLBACK_NEEDS_ENABLED = True

    def _keep(self, result, failed):
        if result._task.action.split(".")[-1] not in ("xen_hotpatch", "xen_hotpatch_info"):
            return
        path = os.path.join(os.environ["XHP_OUT"], f"{result._host.get_name()}.json")
        with open(path, "w") as f:
            json.dump(dict(result._result, failed=failed), f)

    def v2_runner_on_ok(self, result):
        self._keep(result, False)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._keep(result, True)
