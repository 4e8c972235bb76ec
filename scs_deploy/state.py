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


class PhaseRecord(BaseModel):
    """One run of one phase."""

    model_config = ConfigDict(extra="forbid")

    phase: str
    result: Literal["ok", "failed"]
    release: str
    render_hash: str
    run_id: str
    started: datetime
    finished: datetime
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
        """Keep the run in the history; a check run does not count as deployed."""
        self.history.append(entry)
        del self.history[:-HISTORY_LIMIT]
        if not entry.check:
            self.phases[entry.phase] = entry


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
