"""Which ``ceph status`` shows blocked client I/O after new OSDs join (roles/ceph_osd)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.modules import ROOT, load_file

FILTERS = load_file(ROOT / "roles/ceph_osd/filter_plugins/scs_ceph_io.py", "scs_ceph_io")


def status(*states: tuple[str, int], checks: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "pgmap": {"pgs_by_state": [{"state_name": name, "count": count} for name, count in states]},
        "health": {"status": "HEALTH_WARN", "checks": {check: {} for check in checks}},
    }


@pytest.mark.parametrize(
    "states",
    [
        [("active+clean", 322)],
        # a backfill after a new disk serves I/O; it may take hours
        [
            ("active+clean", 300),
            ("active+remapped+backfill_wait", 20),
            ("active+remapped+backfilling", 2),
        ],
        [("active+undersized+degraded", 4), ("active+clean", 10)],
    ],
)
def test_io_flows_while_every_placement_group_is_active_and_current(
    states: list[tuple[str, int]],
) -> None:
    assert FILTERS.scs_ceph_blocked_io(status(*states, checks=("POOL_NO_REDUNDANCY",))) == []


def test_laggy_waiting_and_peering_groups_block_io() -> None:
    blocked = FILTERS.scs_ceph_blocked_io(
        status(
            ("active+clean", 300),
            ("active+clean+laggy", 2),
            ("active+wait", 1),
            ("peering", 3),
            ("activating+remapped", 4),
            ("unknown", 5),
        )
    )
    assert blocked == [
        "active+clean+laggy: 2",
        "active+wait: 1",
        "peering: 3",
        "activating+remapped: 4",
        "unknown: 5",
    ]


def test_slow_ops_block_io_even_when_every_group_looks_clean() -> None:
    # what a CI run met: the first look was clean, the new OSD then held ops for minutes
    assert FILTERS.scs_ceph_blocked_io(status(("active+clean", 322), checks=("SLOW_OPS",))) == [
        "SLOW_OPS"
    ]


def test_a_status_without_maps_blocks_nothing_it_cannot_see() -> None:
    assert FILTERS.scs_ceph_blocked_io({}) == []
