"""The one module that talks to ansible-runner: a typed request in, a typed result out."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from scs_deploy.resources import callback_plugins_dir

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
    # Where the scs_converge callback writes what the roles that ran manage.
    converge_manifest: Path | None = None


@dataclass(frozen=True)
class Event:
    """A task result or a task start, reduced to what progress and errors need."""

    kind: str  # task_start, play_start, ok, changed, failed, unreachable, skipped, output
    host: str = ""
    play: str = ""
    role: str = ""
    task: str = ""
    message: str = ""
    ignored: bool = False
    # What ansible-playbook printed for this event (kind "output": a line of its own).
    stdout: str = ""


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
    # The signal (SIGINT, SIGTERM) that stopped the run; ansible-playbook is gone by then.
    interrupted_by: int | None = None

    @property
    def succeeded(self) -> bool:
        return self.status == "successful" and not self.failures and self.interrupted_by is None

    @property
    def log(self) -> Path:
        """ansible-playbook's whole output, as ansible-runner keeps it."""
        return self.artifacts / "stdout"


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
    if not parts and result.get("censored"):
        # no_log: what the task said may hold a secret, so ansible kept none of it.
        return "task failed; ansible hid what it said (no_log: the task handles secrets)"
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
    environment = {
        "PATH": path,
        "ANSIBLE_CONFIG": str(request.ansible_cfg),
        # ansible-runner adds its own callback directory to this variable, which
        # otherwise hides the one ansible.cfg names.
        "ANSIBLE_CALLBACK_PLUGINS": str(callback_plugins_dir()),
        "ANSIBLE_NOCOLOR": "1",
        # ansible-runner turns host key checking off; we keep it as ansible.cfg says.
        "ANSIBLE_HOST_KEY_CHECKING": "True",
    }
    if request.converge_manifest is not None:
        environment["SCS_CONVERGE_MANIFEST"] = str(request.converge_manifest)
    return environment


def run_playbook(request: RunRequest, on_event: Callable[[Event], None]) -> RunResult:
    """Run one playbook; stream events to ``on_event``; keep artifacts under artifact_dir.

    SIGINT or SIGTERM while it runs stops ansible-playbook (see ``_Stop``) and
    returns a result with ``interrupted_by`` set instead of raising.
    """
    import ansible_runner

    hosts: dict[str, HostStats] = {}
    failures: list[Event] = []
    stop = _Stop()

    def handle(raw: dict[str, Any]) -> bool:
        stop.found_playbook(raw.get("pid"))
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
        stdout = str(raw.get("stdout") or "").replace("\r\n", "\n")
        event = _event(raw)
        if event is None and stdout:
            event = Event(kind="output")
        if event is not None:
            event = replace(event, stdout=stdout)
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
    with stop.catching_signals():
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
            # Without one, ansible-runner installs SIGINT/SIGTERM handlers of its
            # own and never puts the previous ones back.
            cancel_callback=stop.cancel,
            # ansible-runner keeps the fact cache in each run's artifacts: every phase
            # gathers afresh, after the one before may have changed the hosts (host_network).
            # How often ansible-runner asks cancel_callback (default 5 s).
            settings={"pexpect_timeout": 1},
            suppress_env_files=True,
        )
        stop.finish(request.playbook)
    return RunResult(
        status=str(runner.status),
        rc=int(runner.rc if runner.rc is not None else 1),
        artifacts=request.artifact_dir / request.ident,
        hosts=hosts,
        failures=failures,
        interrupted_by=stop.signal,
    )


class _Stop:
    """SIGINT or SIGTERM during a run: stop ansible-playbook the way Ctrl-C in its terminal would.

    ansible-runner starts ansible-playbook on a pseudo-terminal of its own, in a
    session (and process group) of its own, so Ctrl-C on ours never reaches it.
    The first signal is passed on to its process group as SIGINT: ansible stops
    its workers and ends. If it has not ended after GRACE seconds, or at a
    second signal, ``cancel`` tells ansible-runner to SIGKILL the group. Once the
    run returns, ``finish`` kills what is left (workers have sessions of their own).
    """

    GRACE = 20.0

    def __init__(self) -> None:
        self.signal: int | None = None
        self.count = 0
        self.group: int | None = None
        self.forwarded_at: float | None = None
        self.killed = False

    def handle(self, signum: int, _frame: object) -> None:
        self.signal = self.signal or signum
        self.count += 1

    @contextlib.contextmanager
    def catching_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield  # only the main thread receives signals (and may set handlers)
            return
        previous = {s: signal.signal(s, self.handle) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)

    def found_playbook(self, pid: object) -> None:
        """Every event carries the PID of ansible-playbook: its process group is ours to stop."""
        if self.group is not None or not isinstance(pid, int) or not _child_of_this(pid):
            return
        with contextlib.suppress(OSError):
            self.group = os.getpgid(pid)

    def cancel(self) -> bool:
        """Asked by ansible-runner every second; True: it SIGKILLs the playbook's group."""
        if self.signal is None:
            return False
        if self.forwarded_at is None and self.group is not None and self.count == 1:
            self.forwarded_at = time.monotonic()
            with contextlib.suppress(OSError):
                os.killpg(self.group, signal.SIGINT)
            return False
        self.killed = (
            self.forwarded_at is None
            or self.count > 1
            or time.monotonic() - self.forwarded_at > self.GRACE
        )
        return self.killed

    def finish(self, playbook: Path) -> None:
        """After an interrupted run: no ansible-playbook process of this run may outlive it.

        ansible's workers start sessions of their own, so the playbook's process
        group does not hold them: a worker left by a SIGKILLed ansible-playbook is
        found by its command line and killed with its process group (its module).
        """
        if self.signal is None:
            return
        # A SIGKILLed ansible-playbook stops no worker: no use waiting for them.
        deadline = time.monotonic() + (0 if self.killed else 5)
        while (left := playbook_processes(playbook)) and time.monotonic() < deadline:
            time.sleep(0.1)
        for pid in left:
            with contextlib.suppress(OSError):
                group = os.getpgid(pid)
                if group != os.getpgrp():
                    os.killpg(group, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def playbook_processes(path: Path) -> list[int]:
    """PIDs of the ansible-playbook processes (main and workers) that run ``path``.

    ``path`` is a playbook, or a directory: then any playbook in it counts.
    """
    target = str(path)
    prefix = f"{target}/"
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            arguments = [os.fsdecode(a) for a in (entry / "cmdline").read_bytes().split(b"\0")]
        except OSError:
            continue
        if any(Path(a).name == "ansible-playbook" for a in arguments[:2]) and any(
            a == target or a.startswith(prefix) for a in arguments
        ):
            found.append(int(entry.name))
    return sorted(found)


def _child_of_this(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    fields = stat.rsplit(")", 1)[-1].split()
    return len(fields) > 1 and fields[1] == str(os.getpid())


def _quote(part: str) -> str:
    import shlex

    return shlex.quote(part)
