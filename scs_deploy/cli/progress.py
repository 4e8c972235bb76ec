"""Live progress of a deploy: phase, hosts, task, counts, elapsed."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.text import Text

from scs_deploy.phases import Phase
from scs_deploy.runner import Event
from scs_deploy.state import PhaseRecord


class PhaseProgress:
    """A DeployObserver: one live line on a terminal, plain lines elsewhere.

    ``verbose``: ansible's own output, line by line as it comes, instead.
    """

    def __init__(self, console: Console, *, verbose: bool = False) -> None:
        self.console = console
        self.verbose = verbose
        self._live: Any = None
        self._phase = ""
        self._hosts = 0
        self._task = ""
        self._started = 0.0
        self._counts = {"ok": 0, "changed": 0, "failed": 0, "unreachable": 0, "skipped": 0}

    def _line(self) -> Text:
        elapsed = time.monotonic() - self._started
        c = self._counts
        text = Text()
        text.append(f"{self._phase}", style="bold")
        text.append(f" | {self._hosts} hosts | ")
        text.append(f"ok={c['ok']} ", style="green")
        text.append(f"changed={c['changed']} ", style="yellow")
        text.append(f"failed={c['failed'] + c['unreachable']}", style="red")
        text.append(f" | {elapsed:5.1f}s | {self._task}")
        return text

    def phase_started(self, phase: Phase, hosts: int) -> None:
        from rich.live import Live

        self._phase, self._hosts, self._task = phase.name, hosts, "starting"
        self._counts = dict.fromkeys(self._counts, 0)
        self._started = time.monotonic()
        self.console.print(f"[bold]phase {phase.name}[/]: {phase.description} ({hosts} hosts)")
        if self.console.is_terminal and not self.verbose:
            self._live = Live(self._line(), console=self.console, refresh_per_second=8)
            self._live.start()

    def phase_skipped(self, phase: Phase, message: str) -> None:
        self.console.print(message, markup=False, highlight=False)

    def event(self, event: Event) -> None:
        if self.verbose:
            if event.kind in self._counts:
                self._counts[event.kind] += 1
            for line in event.stdout.splitlines():
                self.console.print(line, markup=False, highlight=False)
            return
        if event.kind == "task_start":
            self._task = f"{event.role}: {event.task}" if event.role else event.task
            if self._live is None:
                self.console.print(f"  {self._phase} | {self._task}", highlight=False)
        elif event.kind in self._counts:
            self._counts[event.kind] += 1
            if event.kind in {"failed", "unreachable"} and not event.ignored:
                self.console.print(
                    f"  [red]{event.kind}[/] {event.host} | {event.role or '-'}: {event.task}",
                    highlight=False,
                )
        if self._live is not None:
            self._live.update(self._line())

    def phase_finished(self, record: PhaseRecord) -> None:
        if self._live is not None:
            self._live.update(self._line())
            self._live.stop()
            self._live = None
        elapsed = ((record.finished or record.started) - record.started).total_seconds()
        style = "green" if record.result == "ok" else "red"
        self.console.print(
            f"[{style}]phase {record.phase} {record.result}[/] in {elapsed:.1f}s"
            + (" (check mode)" if record.check else "")
        )
        for host, counts in record.hosts.items():
            self.console.print(
                f"  {host}: ok={counts.ok} changed={counts.changed} failed={counts.failed} "
                f"unreachable={counts.unreachable} skipped={counts.skipped}",
                highlight=False,
            )
