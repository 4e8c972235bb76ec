# Copyright: scs-deploy contributors
# Apache License 2.0 (see LICENSE)
"""Callback: what each role of a phase manages on each host, for the converge fast path.

Every task result of a role names what the role manages: a template's destination, a
unit it starts, the packages it installs. This plugin collects those names per host and
top-level role (the role a play includes; helper roles count for it) from the task's
templated arguments, never from its result, so ``no_log`` tasks count too and no value
is ever kept. It writes them, with the roles that ran and the values the phase's last
play observed, to the JSON file named by SCS_CONVERGE_MANIFEST: at each play start (the
last play reads it) and at the end. Without that variable it does nothing.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: scs_converge
type: aggregate
short_description: Record what each role manages, per host, for scs-deploy's converge fast path
description:
  - Writes the file named by the environment variable SCS_CONVERGE_MANIFEST.
requirements:
  - enabled in callbacks_enabled
"""

_FILE_ACTIONS = {
    "template": ("dest",),
    "copy": ("dest",),
    "file": ("path", "dest", "name"),
    "lineinfile": ("path", "dest"),
    "blockinfile": ("path", "dest"),
    "replace": ("path", "dest"),
    "ini_file": ("path", "dest"),
    "assemble": ("dest",),
    "get_url": ("dest",),
}
_UNIT_ACTIONS = {"systemd_service", "systemd", "service"}
_PACKAGE_ACTIONS = {"apt", "package"}
_ACCOUNT_ACTIONS = {"user": "user", "group": "group"}
_INCLUDE_ROLE = {"include_role", "import_role"}
_OBSERVE = "scs_converge"
_SELF = "converge"
#: Every role that ran also "manages" the host's identity: a host installed anew (a new
#: machine id) makes all its roles run, those whose state lives only inside a service
#: (a Ceph pool, a Keystone endpoint) included.
HOST_IDENTITY = "path:/etc/machine-id"
# A package name without a version, release or architecture qualifier.
_PACKAGE_NAME = re.compile(r"^[a-z0-9][a-z0-9+.-]*(:[a-z0-9-]+)?")


def _short(action: str) -> str:
    return action.rsplit(".", 1)[-1]


def _top_role(task: Any) -> str | None:
    """The role the play included: the outermost include_role above the task (or the task)."""
    top = None
    parent = task._parent
    while parent is not None:
        role = getattr(parent, "_role_name", None)
        if _short(getattr(parent, "action", "") or "") in _INCLUDE_ROLE and role:
            top = role
        parent = getattr(parent, "_parent", None)
    if top is None and _short(task.action or "") in _INCLUDE_ROLE:
        top = task.args.get("name")
    return top


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list):
        return [str(part) for part in value]
    return []


def managed_keys(action: str, args: dict[str, Any]) -> list[str]:
    """What a task with these (templated) arguments manages, as scs_converge keys."""
    short = _short(action)
    keys: list[str] = []
    for argument in _FILE_ACTIONS.get(short, ()):
        path = args.get(argument)
        # A copy into a directory ("dest/") names no file of its own; a file task may.
        into_directory = short != "file" and str(path).endswith("/")
        if isinstance(path, str) and path.startswith("/") and not into_directory:
            keys.append(f"path:{os.path.normpath(path)}")
            break
    # What a role tests for (a marker, a file a command creates) decides what it does:
    # its coming or going is drift too.
    for argument in ("creates", "removes"):
        if short in {"command", "shell"} and isinstance(args.get(argument), str):
            keys.append(f"exists:{args[argument]}")
    if short == "stat" and isinstance(args.get("path"), str):
        keys.append(f"exists:{os.path.normpath(args['path'])}")
    unit_named = short in _UNIT_ACTIONS and isinstance(args.get("name"), str)
    if unit_named and (args.get("state") or args.get("enabled") is not None):
        keys.append(f"unit:{args['name']}")
    if short in _PACKAGE_ACTIONS:
        for name in _names(args.get("name") or args.get("pkg")):
            match = _PACKAGE_NAME.match(name)
            if match and "/" not in name and "*" not in name and not name.endswith(".deb"):
                keys.append(f"package:{match.group(0)}")
    if short in _ACCOUNT_ACTIONS and isinstance(args.get("name"), str):
        keys.append(f"{_ACCOUNT_ACTIONS[short]}:{args['name']}")
    # A loop's summary result names "{{ item }}": its items were counted one by one.
    return [key for key in keys if "{{" not in key]


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "scs_converge"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self._path = os.environ.get("SCS_CONVERGE_MANIFEST")
        self._hosts: dict[str, dict[str, Any]] = {}
        # Only deploy plays count: a precheck or discover play of a role is not its run.
        self._deploying = False

    def _host(self, name: str) -> dict[str, Any]:
        return self._hosts.setdefault(name, {"ran": [], "managed": {}, "observed": {}})

    def _record(self, result: Any) -> None:
        if not self._path:
            return
        task = result._task
        host = result._host.get_name()
        delegate = getattr(task, "delegate_to", None)
        if delegate and delegate != host:
            return  # written on another host: that host's own roles answer for it
        action = task.action or ""
        if _short(action) == _OBSERVE and task.args.get("mode") == "observe":
            observed = result._result.get("observed")
            if isinstance(observed, dict):
                self._host(host)["observed"].update(observed)
            return
        role = _top_role(task)
        if role is None or role == _SELF or not self._deploying:
            return
        entry = self._host(host)
        if role not in entry["ran"]:
            entry["ran"].append(role)
        keys = entry["managed"].setdefault(role, [HOST_IDENTITY])
        for key in managed_keys(action, dict(task.args)):
            if key not in keys:
                keys.append(key)

    def v2_runner_on_ok(self, result: Any) -> None:
        self._record(result)

    def v2_runner_item_on_ok(self, result: Any) -> None:
        self._record(result)

    def _write(self) -> None:
        if not self._path:
            return
        temporary = f"{self._path}.tmp"
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump({"hosts": self._hosts}, handle, sort_keys=True)
        os.replace(temporary, self._path)

    def v2_playbook_on_play_start(self, play: Any) -> None:
        self._deploying = (play.vars or {}).get("scs_action") == "deploy"
        self._write()

    def v2_playbook_on_stats(self, stats: Any) -> None:
        self._write()
