# Copyright: scs-deploy contributors
# Apache License 2.0 (see LICENSE)
"""Filters of the converge role: the phase-wide set of roles to run, and a host's managed keys."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

# A host without a check result (it never got that far) makes every role run.
EVERY_ROLE = "*"


def scs_converge_union(hostvars: Mapping[str, Any], hosts: list[str]) -> list[str]:
    """Roles that need a run on any of ``hosts``: a role runs on all its hosts or on none,
    because tasks reach across hosts (run_once, delegate_to, hostvars of peers)."""
    pending: set[str] = set()
    for host in hosts:
        check = (hostvars[host] or {}).get("__converge_check") or {}
        names = check.get("pending")
        if not isinstance(names, list):
            return [EVERY_ROLE]
        pending.update(str(name) for name in names)
    return sorted(pending)


def scs_converge_runs(pending: list[str], roles: list[str]) -> bool:
    """Whether a play whose roles run when any of ``roles`` is pending has to run."""
    return EVERY_ROLE in pending or any(role in pending for role in roles)


def scs_converge_managed(manifest: str, host: str) -> dict[str, list[str]]:
    """Role -> keys the scs_converge callback recorded on ``host`` in this run.

    Roles that ran and manage nothing observable are left out: there is nothing to ask
    the host (deploy records them with nothing observed).
    """
    entry = (json.loads(manifest or "{}").get("hosts") or {}).get(host) or {}
    managed = entry.get("managed") or {}
    return {role: managed[role] for role in entry.get("ran", []) if managed.get(role)}


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "scs_converge_union": scs_converge_union,
            "scs_converge_runs": scs_converge_runs,
            "scs_converge_managed": scs_converge_managed,
        }
