# SPDX-License-Identifier: GPL-2.0-only
# Type stubs of xen_hotpatch (the C extension and its Python layer).
import os
from types import TracebackType
from typing import Any, Dict, List, Literal, Optional, Type, TypedDict, Union

_Path = Union[str, bytes, os.PathLike[str], os.PathLike[bytes]]
_Name = Union[str, bytes, os.PathLike[str], os.PathLike[bytes]]

LIVEPATCH_ACTION_UNLOAD: Literal[1]
LIVEPATCH_ACTION_REVERT: Literal[2]
LIVEPATCH_ACTION_APPLY: Literal[3]
LIVEPATCH_ACTION_REPLACE: Literal[4]
LIVEPATCH_ACTION_APPLY_NODEPS: Literal[1]
LIVEPATCH_STATE_CHECKED: Literal[1]
LIVEPATCH_STATE_APPLIED: Literal[2]
VERSION: str
HAVE_XEN: bool


class Error(OSError): ...
class HypervisorError(Error):
    rc: int
class BusyError(HypervisorError): ...
class NoHypervisorError(Error): ...
class PayloadError(Error): ...
class RunError(Error):
    result: Optional[Dict[str, Any]]
class UsageError(Error, ValueError): ...


class BuildId(str):
    def __call__(self) -> str: ...


class _LivepatchStatus(TypedDict):
    state: int
    rc: int


class _LivepatchEntry(TypedDict):
    name: str
    state: int
    rc: int
    metadata: List[str]


class Hypervisor:
    LIVEPATCH_ACTION_UNLOAD: Literal[1]
    LIVEPATCH_ACTION_REVERT: Literal[2]
    LIVEPATCH_ACTION_APPLY: Literal[3]
    LIVEPATCH_ACTION_REPLACE: Literal[4]
    LIVEPATCH_ACTION_APPLY_NODEPS: Literal[1]
    LIVEPATCH_STATE_CHECKED: Literal[1]
    LIVEPATCH_STATE_APPLIED: Literal[2]

    def __init__(self, backend: str = "xen") -> None: ...
    @property
    def build_id(self) -> BuildId: ...
    @property
    def backend(self) -> str: ...
    @property
    def closed(self) -> bool: ...
    def livepatch_status(self, name: _Name) -> _LivepatchStatus: ...
    def livepatch_action(self, name: _Name, action: int, timeout: int = 0, flags: int = 0, *,
                         wait: bool = True, deadline_ms: int = 30000) -> None: ...
    def livepatch_upload(self, name: _Name, filename: _Path) -> None: ...
    def livepatch_list(self) -> List[_LivepatchEntry]: ...
    def close(self) -> None: ...
    def __enter__(self) -> "Hypervisor": ...
    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> bool: ...


# The documents are those of the JSON CLI (README.md, "Contracts").
def read_payload(path: _Path) -> Dict[str, Any]: ...
def status(*, root: Optional[_Path] = None, backend: Optional[str] = None,
           config: Optional[_Path] = None) -> Dict[str, Any]: ...
def plan(*, root: Optional[_Path] = None, backend: Optional[str] = None,
         config: Optional[_Path] = None) -> Dict[str, Any]: ...
def apply(*, root: Optional[_Path] = None, backend: Optional[str] = None,
          config: Optional[_Path] = None) -> Dict[str, Any]: ...
def revert(name: _Name, *, root: Optional[_Path] = None, backend: Optional[str] = None,
           config: Optional[_Path] = None) -> Dict[str, Any]: ...
