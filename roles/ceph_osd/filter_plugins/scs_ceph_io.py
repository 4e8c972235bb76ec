# Copyright: scs-deploy contributors
# Apache License 2.0 (see LICENSE)
"""Filter of the OSD tasks: what in a ``ceph status`` keeps client I/O from being served."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# A placement group in one of these states holds its client ops back. A backfill or recovery
# after new disks serves I/O and may go on for hours, so those states do not count.
_BLOCKING_FLAG = re.compile(r"(^|[+])(laggy|wait|peering|activating|down|incomplete)([+]|$)")
_BLOCKING_CHECKS = ("SLOW_OPS",)


def scs_ceph_blocked_io(status: Mapping[str, Any]) -> list[str]:
    """The placement group states (as ``state: count``) and health checks of ``ceph status
    --format json`` that show blocked client I/O; empty when I/O flows."""
    states = (status.get("pgmap") or {}).get("pgs_by_state") or []
    blocked = [
        f"{state['state_name']}: {state['count']}"
        for state in states
        if _BLOCKING_FLAG.search(state["state_name"])
        or not state["state_name"].startswith("active")
    ]
    checks = ((status.get("health") or {}).get("checks")) or {}
    return blocked + [check for check in _BLOCKING_CHECKS if check in checks]


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"scs_ceph_blocked_io": scs_ceph_blocked_io}
