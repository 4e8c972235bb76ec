"""state.json: what was deployed, phase by phase. Written atomically."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from scs_deploy.errors import StateError

STATE_VERSION = 1
HISTORY_LIMIT = 100


class HostCounts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ok: int = 0
    changed: int = 0
    failed: int = 0
    unreachable: int = 0
    skipped: int = 0


Result = Literal["ok", "failed", "running", "interrupted"]


class PhaseRecord(BaseModel):
    """One run of one phase.

    ``running`` is written before ansible-playbook starts and replaced when it
    ends, so a deploy that dies on the way leaves a record saying so; ``pid``
    names the deploy that wrote it (state.json from before these two loads as is).
    """

    model_config = ConfigDict(extra="forbid")

    phase: str
    result: Result
    release: str
    render_hash: str
    run_id: str
    started: datetime
    finished: datetime | None = None
    pid: int | None = None
    check: bool = False
    limit: str | None = None
    hosts: dict[str, HostCounts] = {}
    failure: str | None = None

    @property
    def changed(self) -> int:
        return sum(h.changed for h in self.hosts.values())


class State(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = STATE_VERSION
    region: str
    phases: dict[str, PhaseRecord] = {}
    history: list[PhaseRecord] = Field(default_factory=list)

    def record(self, entry: PhaseRecord) -> None:
        """Keep the run in the history; a check run does not count as deployed.

        A record with the run_id of one already kept (its ``running`` record) replaces it.
        """
        for index, kept in enumerate(self.history):
            if kept.run_id == entry.run_id:
                self.history[index] = entry
                break
        else:
            self.history.append(entry)
        del self.history[:-HISTORY_LIMIT]
        if not entry.check:
            self.phases[entry.phase] = entry

    def close_stale(self) -> list[str]:
        """Mark ``running`` records interrupted; only the region lock's holder may call this.

        Whoever wrote them is gone, or it would hold the lock. Returns their phases.
        """
        self.history = [stale_as_interrupted(r) for r in self.history]
        closed = [name for name, r in self.phases.items() if r.result == "running"]
        self.phases = {name: stale_as_interrupted(r) for name, r in self.phases.items()}
        return closed


def stale_as_interrupted(record: PhaseRecord) -> PhaseRecord:
    """A ``running`` record whose deploy is gone, as what it is: interrupted (when unknown)."""
    if record.result != "running":
        return record
    who = f"the deploy (PID {record.pid})" if record.pid else "the deploy"
    return record.model_copy(
        update={"result": "interrupted", "failure": f"{who} ended before the phase did"}
    )


def load_state(path: Path, region_name: str) -> State:
    """The recorded state, an empty one when nothing ran yet, StateError when unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return State(region=region_name)
    except OSError as exc:
        raise StateError(f"cannot read {path}: {exc.strerror}") from None
    try:
        state = State.model_validate(json.loads(text))
    except (json.JSONDecodeError, ValidationError) as exc:
        first = str(exc).splitlines()[0]
        raise StateError(
            f"{path} is corrupt ({first}); move it away to start a fresh record"
        ) from None
    if state.version != STATE_VERSION:
        raise StateError(f"{path} has state version {state.version}; expected {STATE_VERSION}")
    return state


def save_state(path: Path, state: State) -> None:
    """Write-then-rename, so a crash never leaves half a file."""
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        handle.write(state.model_dump_json(indent=2))
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
