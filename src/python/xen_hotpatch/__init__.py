# SPDX-License-Identifier: GPL-2.0-only
"""Xen livepatching from Python: the v6 calls and xen-hotpatch's own layer.

Two layers over xen-hotpatch's C library (no shelling out to the CLI):

* ``Hypervisor(backend="xen")`` (or ``"sim:DIR"``) carries the livepatch
  calls of Xen's never-merged v6 Python bindings, same names and shapes:
  ``livepatch_status(name)``, ``livepatch_action(name, action, timeout=0,
  flags=0)``, ``livepatch_upload(name, filename)``, ``livepatch_list()``,
  ``build_id`` and the ``LIVEPATCH_*`` constants.
* ``read_payload(path)``, ``status()`` and ``plan()`` return what
  ``xen-hotpatch --json info``, ``--json status`` and ``--json apply
  --dry-run`` print, as the same objects (dicts and lists); ``apply()`` and
  ``revert(name)`` run what ``xen-hotpatch apply`` and ``revert NAME`` run
  and return what the run did (its plan is the dry run's document).

Every error is an ``Error`` (an ``OSError``) carrying ``errno`` and a
one-line ``strerror``; see the classes below. Example::

    import xen_hotpatch as xh
    with xh.Hypervisor("sim:/tmp/hv") as hv:
        print(hv.build_id, hv.livepatch_list())
    print(xh.status(root="/", backend="xen")["in_sync"])
"""

import errno as _errno

from . import _xen_hotpatch as _c

__all__ = [
    "Hypervisor", "read_payload", "status", "plan", "apply", "revert",
    "Error", "HypervisorError", "BusyError", "NoHypervisorError",
    "PayloadError", "RunError", "UsageError", "BuildId",
    "LIVEPATCH_ACTION_UNLOAD", "LIVEPATCH_ACTION_REVERT",
    "LIVEPATCH_ACTION_APPLY", "LIVEPATCH_ACTION_REPLACE",
    "LIVEPATCH_ACTION_APPLY_NODEPS",
    "LIVEPATCH_STATE_CHECKED", "LIVEPATCH_STATE_APPLIED",
    "VERSION", "HAVE_XEN",
]

# VERSION: the library's version (as ``xen-hotpatch version``); HAVE_XEN:
# False when the library was built without libxenctrl (only "sim:DIR" works).
from ._xen_hotpatch import (
    HAVE_XEN, LIVEPATCH_ACTION_APPLY, LIVEPATCH_ACTION_APPLY_NODEPS,
    LIVEPATCH_ACTION_REPLACE, LIVEPATCH_ACTION_REVERT, LIVEPATCH_ACTION_UNLOAD,
    LIVEPATCH_STATE_APPLIED, LIVEPATCH_STATE_CHECKED, VERSION)


class Error(OSError):
    """Base of every xen_hotpatch error.

    ``errno``: the (positive) errno; ``strerror``: one line saying what
    failed and why (untrusted names escaped); ``filename``: the payload name
    or file concerned, or None. An error whose errno has a builtin OSError
    subclass is also an instance of it (``FileNotFoundError`` for ENOENT,
    ``PermissionError`` for EACCES/EPERM, ...).
    """


class HypervisorError(Error):
    """The hypervisor refused or failed a call. ``rc``: the payload's rc
    after an action that ran and failed (0 when not known)."""

    rc = 0


class BusyError(HypervisorError):
    """Transient: the hypervisor is busy, the run lock is held, or the
    deadline passed. Try again (the CLI's exit code 2)."""


class NoHypervisorError(Error):
    """No hypervisor to talk to: not a Xen dom0 (ENODEV), a library built
    without Xen support (ENOTSUP), a simulated host that crashed
    (EHOSTDOWN), a simulator directory that was never initialised."""


class PayloadError(Error):
    """A payload file cannot be read, or Xen would refuse it."""


class RunError(Error):
    """An apply or revert did not complete. ``result``: the document ``apply
    --json`` / ``revert --json`` prints for it (failed step, applied stack
    afterwards); ``errno`` the failing step's error."""

    result = None


class _BusyRunError(RunError, BusyError):
    """A run that stopped because the hypervisor or the lock was busy."""


class UsageError(Error, ValueError):
    """A bad argument value (also a ValueError)."""


_BUSY = {_errno.EBUSY, _errno.EAGAIN, _errno.ETIME, _errno.EWOULDBLOCK}
_NOHV = {_errno.ENODEV, _errno.ENOTSUP, _errno.EHOSTDOWN}
_mixed_cache = {}


def _with_builtin(cls, err):
    """cls, or a subclass of cls and the builtin OSError subclass for err."""
    builtin = type(OSError(err, ""))
    if builtin is OSError or issubclass(cls, builtin):
        return cls
    key = (cls, builtin)
    if key not in _mixed_cache:
        _mixed_cache[key] = type(cls.__name__, (cls, builtin),
                                 {"__module__": cls.__module__,
                                  "__doc__": cls.__doc__})
    return _mixed_cache[key]


def _make_error(kind, err, reason, filename, rc, extra):
    """The factory the C part raises through (see pyutil.h)."""
    if kind == "usage":
        cls = UsageError
    elif kind == "open" and err not in _NOHV and err not in _BUSY:
        cls = Error  # the policy cannot be read, ...
    elif kind == "run":
        cls = _BusyRunError if err in _BUSY else RunError
    elif kind == "payload" or kind == "file":
        cls = PayloadError
    elif err in _NOHV and (kind == "open" or err != _errno.ENOTSUP):
        cls = NoHypervisorError  # (ENOTSUP is EOPNOTSUPP: Xen's refusal)
    elif err in _BUSY:
        cls = BusyError
    else:
        cls = HypervisorError
    exc = _with_builtin(cls, err)(err, reason, filename)
    if rc:
        exc.rc = rc
    for key, value in (extra or {}).items():
        setattr(exc, key, value)
    return exc


class BuildId(str):
    """A build-id in lowercase hex. Calling it returns the same string, so
    both ``hv.build_id`` and ``hv.build_id()`` work."""

    __slots__ = ()

    def __call__(self):
        return str(self)


_c._register(_make_error, BuildId)

# The calls, once the error classes are registered.
from ._xen_hotpatch import (
    Hypervisor, apply, plan, read_payload, revert, status)
