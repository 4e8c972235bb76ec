"""The one module that talks to ansible-runner: a typed request in, a typed result out."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# ansible-runner event names -> what a person calls them
_OUTCOMES = {
    "runner_on_ok": "ok",
    "runner_on_failed": "failed",
    "runner_on_unreachable": "unreachable",
    "runner_on_skipped": "skipped",
}


@dataclass(frozen=True)
class RunRequest:
    """Everything one ansible-playbook run needs; no pass-through options."""

    playbook: Path
    inventory: Path
    ansible_cfg: Path
    artifact_dir: Path
    ident: str
    extra_var_files: tuple[Path, ...] = ()
    vault_password_file: Path | None = None
    limit: str | None = None
    check: bool = False


@dataclass(frozen=True)
class Event:
    """A task result or a task start, reduced to what progress and errors need."""

    kind: str  # task_start, play_start, ok, changed, failed, unreachable, skipped
    host: str = ""
    play: str = ""
    role: str = ""
    task: str = ""
    message: str = ""
    ignored: bool = False


@dataclass
class HostStats:
    ok: int = 0
    changed: int = 0
    failed: int = 0
    unreachable: int = 0
    skipped: int = 0


@dataclass
class RunResult:
    status: str
    rc: int
    artifacts: Path
    hosts: dict[str, HostStats] = field(default_factory=dict)
    failures: list[Event] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return self.status == "successful" and not self.failures


def _failure_message(result: dict[str, Any]) -> str:
    items = [i for i in result.get("results") or [] if isinstance(i, dict) and i.get("failed")]
    if items:
        # A loop's own msg only says that an item failed; the items say what.
        return "\n".join(_failure_message(item) for item in items)
    parts: list[str] = []
    for key in ("msg", "reason", "stderr", "module_stderr"):
        value = result.get(key)
        if value and str(value).strip() and str(value).strip() not in parts:
            parts.append(str(value).strip())
    for module_result in (result.get("failed_modules") or {}).values():
        if isinstance(module_result, dict):
            parts.append(_failure_message(module_result))
    return "\n".join(parts) or "task failed (no message)"


def _event(raw: dict[str, Any]) -> Event | None:
    name = raw.get("event", "")
    data = raw.get("event_data", {}) or {}
    host, play = str(data.get("host", "")), str(data.get("play", ""))
    role, task = str(data.get("role", "")), str(data.get("task", ""))
    if name == "playbook_on_task_start":
        return Event(kind="task_start", host=host, play=play, role=role, task=task)
    if name == "playbook_on_play_start":
        return Event(kind="play_start", host=host, play=play, role=role, task=task)
    outcome = _OUTCOMES.get(name)
    if outcome is None:
        return None
    result = data.get("res", {}) or {}
    if outcome == "ok" and result.get("changed"):
        outcome = "changed"
    return Event(
        kind=outcome,
        host=host,
        play=play,
        role=role,
        task=task,
        message=_failure_message(result) if outcome in {"failed", "unreachable"} else "",
        ignored=bool(data.get("ignore_errors")),
    )


def _environment(request: RunRequest) -> dict[str, str]:
    """ansible-runner's own defaults, corrected where they undo build/ansible.cfg."""
    # ansible-playbook from beside this interpreter, so an unactivated venv works.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return {
        "PATH": path,
        "ANSIBLE_CONFIG": str(request.ansible_cfg),
        "ANSIBLE_NOCOLOR": "1",
        # ansible-runner turns host key checking off and moves the fact cache
        # into each run's artifacts; we keep both as ansible.cfg says.
        "ANSIBLE_HOST_KEY_CHECKING": "True",
        "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(request.ansible_cfg.parent / ".cache" / "facts"),
    }


def run_playbook(request: RunRequest, on_event: Callable[[Event], None]) -> RunResult:
    """Run one playbook; stream events to ``on_event``; keep artifacts under artifact_dir."""
    import ansible_runner

    hosts: dict[str, HostStats] = {}
    failures: list[Event] = []

    def handle(raw: dict[str, Any]) -> bool:
        if raw.get("event") == "playbook_on_stats":
            data = raw.get("event_data", {})
            for field_name, key in (
                ("ok", "ok"),
                ("changed", "changed"),
                ("failed", "failures"),
                ("unreachable", "dark"),
                ("skipped", "skipped"),
            ):
                for host, count in (data.get(key) or {}).items():
                    setattr(hosts.setdefault(host, HostStats()), field_name, int(count))
        event = _event(raw)
        if event is not None:
            if event.kind in {"failed", "unreachable"} and not event.ignored:
                failures.append(event)
            on_event(event)
        return True

    cmdline = []
    if request.vault_password_file is not None:
        cmdline += ["--vault-password-file", str(request.vault_password_file)]
    for path in request.extra_var_files:
        cmdline += ["-e", f"@{path}"]
    if request.check:
        cmdline.append("--check")
    private_dir = request.artifact_dir / request.ident
    private_dir.mkdir(parents=True, exist_ok=True)
    runner = ansible_runner.run(
        private_data_dir=str(private_dir),
        artifact_dir=str(request.artifact_dir),
        ident=request.ident,
        playbook=str(request.playbook),
        inventory=str(request.inventory),
        cmdline=" ".join(_quote(part) for part in cmdline) if cmdline else None,
        envvars=_environment(request),
        limit=request.limit,
        quiet=True,
        event_handler=handle,
        suppress_env_files=True,
    )
    return RunResult(
        status=str(runner.status),
        rc=int(runner.rc if runner.rc is not None else 1),
        artifacts=request.artifact_dir / request.ident,
        hosts=hosts,
        failures=failures,
    )


def _quote(part: str) -> str:
    import shlex

    return shlex.quote(part)
