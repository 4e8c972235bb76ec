"""state.json: records from before "running" existed load; a run's records replace each other."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from scs_deploy.state import PhaseRecord, State, load_state, save_state

# A state.json as scs-deploy wrote it before phases were recorded while running.
OLD_STATE = {
    "version": 1,
    "region": "lab",
    "phases": {
        "bootstrap": {
            "phase": "bootstrap",
            "result": "ok",
            "release": "2026.1",
            "render_hash": "ab" * 32,
            "run_id": "20260101T000000.000000Z-bootstrap",
            "started": "2026-01-01T00:00:00Z",
            "finished": "2026-01-01T00:01:00Z",
            "check": False,
            "limit": None,
            "hosts": {"node1": {"ok": 3, "changed": 1}},
            "failure": None,
        }
    },
    "history": [],
}


def record(result: str, run_id: str = "r1", **extra: object) -> PhaseRecord:
    return PhaseRecord.model_validate(
        {
            "phase": "ceph",
            "result": result,
            "release": "2026.1",
            "render_hash": "cd" * 32,
            "run_id": run_id,
            "started": datetime(2026, 1, 2, tzinfo=UTC),
            **extra,
        }
    )


def test_old_state_loads_and_running_records_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text(json.dumps(OLD_STATE))
    state = load_state(path, "lab")
    assert state.phases["bootstrap"].result == "ok"
    assert state.phases["bootstrap"].pid is None
    state.record(record("running", pid=4242))
    save_state(path, state)
    again = load_state(path, "lab")
    assert again.phases["ceph"].result == "running"
    assert again.phases["ceph"].pid == 4242
    assert again.phases["ceph"].finished is None


def test_the_final_record_replaces_the_running_one() -> None:
    state = State(region="lab")
    state.record(record("running", pid=1))
    state.record(record("ok", finished=datetime(2026, 1, 3, tzinfo=UTC), pid=1))
    state.record(record("running", run_id="r2", pid=2))
    assert [(r.run_id, r.result) for r in state.history] == [("r1", "ok"), ("r2", "running")]
    assert state.phases["ceph"].run_id == "r2"


def test_stale_running_records_become_interrupted() -> None:
    state = State(region="lab")
    state.record(record("running", pid=4242))
    assert state.close_stale() == ["ceph"]
    closed = state.phases["ceph"]
    assert closed.result == "interrupted"
    assert closed.failure == "the deploy (PID 4242) ended before the phase did"
    assert state.history[0].result == "interrupted"
    assert state.close_stale() == []
