# SPDX-License-Identifier: GPL-2.0-only
"""What the pytest tiers (python, ansible) share; their conftest.py files
import it (tests/lib/pytest-tier.sh sets the paths).

A Host is one simulated dom0: a --root with the payload folder for the
fixture hypervisor, a policy naming the sim backend, a simulated hypervisor
directory and a run directory. The fixture payloads
(tests/fixtures/make-set.sh) are shared read-only.
"""

import json
import os
import pathlib
import shutil
import subprocess

import pytest

TOP = pathlib.Path(os.environ.get("XHP_TOP", pathlib.Path(__file__).resolve().parents[2]))
XHP_BIN = os.environ.get("XHP_BIN", str(TOP / "build/asan/xen-hotpatch"))
SIM_BIN = os.environ.get("XHP_SIM_BIN", str(TOP / "build/asan/xen-hotpatch-sim"))
FX = pathlib.Path(os.environ.get("XHP_PY_FX", TOP / "build/py-fixtures"))
XEN_ID = "5eed0c11c11c11c11c11c11c11c11c11c11c11c1"


def _read_ids():
    ids = {}
    path = FX / "ids.env"
    if path.exists():
        for line in path.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep:
                ids[key] = value.strip("'\"")
    return ids


IDS = _read_ids()


def payload_id(name):
    """The build-id of fixture payload NAME (ids.env)."""
    return IDS[name.upper().replace("-", "_") + "_ID"]


def _clean_env(env):
    """The environment for a child process: no sanitizer preload (the
    tool binaries carry their own runtime when built with ASan)."""
    env = dict(env)
    env.pop("LD_PRELOAD", None)
    env.pop("PYTHONMALLOC", None)
    return env


class Host:
    """One simulated dom0."""

    def __init__(self, base, xen_id=XEN_ID):
        base.mkdir(parents=True, exist_ok=True)
        self.base = base
        self.root = base / "root"
        self.simdir = base / "sim"
        self.rundir = base / "run"
        self.xen_id = xen_id
        self.pd = self.root / "usr/lib/xen-hotpatch" / xen_id
        self.pd.mkdir(parents=True)
        (self.root / "etc/xen-hotpatch").mkdir(parents=True)
        self.backend = f"sim:{self.simdir}"
        self.policy("")
        self.sim("init", "--build-id", xen_id)

    def policy(self, lines):
        (self.root / "etc/xen-hotpatch/xen-hotpatch.conf").write_text(
            f"backend = {self.backend}\n{lines}\n")

    def put(self, *names):
        """Install fixture payloads into the payload folder."""
        for name in names:
            shutil.copy(FX / f"{name}.livepatch", self.pd / f"{name}.livepatch")

    def remove(self, *names):
        for name in names:
            (self.pd / f"{name}.livepatch").unlink()

    def sim(self, *args, check=True):
        return subprocess.run([SIM_BIN, str(self.simdir), *args], check=check,
                              capture_output=True, text=True,
                              env=_clean_env(os.environ))

    def show(self):
        return json.loads(self.sim("show", "--json").stdout)

    def applied(self):
        return self.show()["applied"]

    def loaded(self):
        return [(e["name"], e["state"]) for e in self.show()["loaded"]]

    def cli(self, *args, env=None):
        """The xen-hotpatch binary, with --root for the verbs that take it:
        (rc, stdout, stderr)."""
        e = _clean_env(os.environ)
        e["XEN_HOTPATCH_RUN_DIR"] = str(self.rundir)
        e.update(env or {})
        verb = next((a for a in args if not a.startswith("-")), None)
        root = [] if verb in ("info", "version") else ["--root", str(self.root)]
        p = subprocess.run([XHP_BIN, *root, *args], capture_output=True, text=True, env=e)
        return p.returncode, p.stdout, p.stderr

    def cli_json(self, *args):
        rc, out, err = self.cli("--json", *args)
        assert out, f"no JSON from xen-hotpatch {' '.join(args)} (exit {rc}): {err}"
        return rc, json.loads(out)


@pytest.fixture
def host(tmp_path, monkeypatch):
    monkeypatch.setenv("XEN_HOTPATCH_RUN_DIR", str(tmp_path / "run"))
    monkeypatch.delenv("XEN_HOTPATCH_SIM_FAIL", raising=False)
    monkeypatch.delenv("XEN_HOTPATCH_SIM_WORK_MS", raising=False)
    monkeypatch.delenv("XEN_HOTPATCH_CMDLINE", raising=False)
    return Host(tmp_path)


@pytest.fixture
def hv(host):
    import xen_hotpatch
    with xen_hotpatch.Hypervisor(host.backend) as h:
        yield h


@pytest.fixture(scope="session", autouse=True)
def _fixtures_present():
    if not (FX / "ids.env").exists():
        pytest.exit(f"no fixture payloads in {FX} (tests/python/run.sh forges them)", 1)
