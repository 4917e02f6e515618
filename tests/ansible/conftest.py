# SPDX-License-Identifier: GPL-2.0-only
"""The ansible tier's fixtures: a fleet of simulated dom0s and a runner for
ansible-playbook with the collection from src/ansible/."""

import json
import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

from xhp_pytest import FX, TOP, Host, _fixtures_present  # noqa: E402,F401

PLAYBOOKS = TOP / "tests/ansible/playbooks"


class Fleet:
    """N simulated dom0s (h1..hN) and an inventory naming them."""

    def __init__(self, base, n):
        self.base = base
        self.hosts = {f"h{i}": Host(base / f"h{i}") for i in range(1, n + 1)}
        self.runs = 0
        self.results = {}
        self.faults = {}

    def put(self, *names, hosts=None):
        for h in hosts or self.hosts:
            self.hosts[h].put(*names)

    def remove(self, *names, hosts=None):
        for h in hosts or self.hosts:
            self.hosts[h].remove(*names)

    def cli_all(self, *args):
        return {n: h.cli(*args) for n, h in self.hosts.items()}

    def inventory(self):
        lines = ["[dom0s]"]
        for name, h in self.hosts.items():
            fault = self.faults.get(name, "")
            lines.append(f"{name} xhp_root={h.root} xhp_backend={h.backend} xhp_run_dir={h.rundir} "
                         f"xhp_sim_fail={fault!r}")
        lines += ["", "[dom0s:vars]", "ansible_connection=local",
                  "ansible_python_interpreter=/usr/bin/python3"]
        path = self.base / "inventory.ini"
        path.write_text("\n".join(lines) + "\n")
        return path

    def install(self):
        """`make install-ansible` into a staging root: the paths for
        ANSIBLE_COLLECTIONS_PATH and ANSIBLE_LIBRARY, as the packages lay
        them out."""
        dest = self.base / "staging"
        subprocess.run(["make", "-s", "-C", str(TOP), "install-ansible", f"DESTDIR={dest}", "PREFIX=/usr"],
                       check=True, capture_output=True)
        share = dest / "usr/share/ansible"
        return {"ANSIBLE_COLLECTIONS_PATH": str(share / "collections"),
                "ANSIBLE_LIBRARY": str(share / "plugins/modules")}

    def playbook(self, name, *args, env=None):
        """Run playbooks/NAME: (rc, output); self.results then holds what
        the modules returned, by host (callback_plugins/xhp_results.py)."""
        self.runs += 1
        out = self.base / f"results-{self.runs}"
        out.mkdir()
        e = dict(os.environ)
        e.pop("LD_PRELOAD", None)
        e.update({
            "ANSIBLE_COLLECTIONS_PATH": str(TOP / "src/ansible"),
            "ANSIBLE_CALLBACK_PLUGINS": str(TOP / "tests/ansible/callback_plugins"),
            "ANSIBLE_CALLBACKS_ENABLED": "xhp_results",
            "ANSIBLE_HOME": str(self.base / "ansible-home"),
            "ANSIBLE_LOCAL_TEMP": str(self.base / "ansible-tmp"),
            "ANSIBLE_REMOTE_TEMP": str(self.base / "ansible-tmp"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_DEPRECATION_WARNINGS": "0",
            "XHP_OUT": str(out),
        })
        e.update(env or {})
        p = subprocess.run(["ansible-playbook", "-i", str(self.inventory()), str(PLAYBOOKS / name), *args],
                           capture_output=True, text=True, env=e)
        self.results = {f.stem: json.loads(f.read_text()) for f in out.glob("*.json")}
        return p.returncode, p.stdout + p.stderr


@pytest.fixture
def fleet(tmp_path, monkeypatch):
    monkeypatch.delenv("XEN_HOTPATCH_SIM_FAIL", raising=False)
    monkeypatch.delenv("XEN_HOTPATCH_RUN_DIR", raising=False)
    return Fleet(tmp_path, 5)
