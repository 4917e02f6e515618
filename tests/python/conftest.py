# SPDX-License-Identifier: GPL-2.0-only
"""The python tier's fixtures: tests/lib/xhp_pytest.py (shared with the
ansible tier). Each test gets its own simulated dom0 (`host`) and, with
`hv`, a Hypervisor on it."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

from xhp_pytest import FX, XEN_ID, Host, payload_id, host, hv, _fixtures_present  # noqa: E402,F401
