"""The one exception tree of scs-deploy; only ``cli/`` turns these into exit codes."""

from __future__ import annotations

import signal
from dataclasses import dataclass, field
from pathlib import Path


class ScsDeployError(Exception):
    """Root of every error scs-deploy raises on purpose."""

    exit_code = 1


class UsageError(ScsDeployError):
    """The command line or the region directory cannot be used as given."""

    exit_code = 2


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, with where it is."""

    path: str
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = self.file
            if self.line is not None:
                where += f":{self.line}:{self.column or 1}"
            where += " "
        return f"{where}{self.path}: {self.message}" if self.path else f"{where}{self.message}"


class ConfigError(ScsDeployError):
    """The region (or a file next to it) is invalid; carries every problem found."""

    exit_code = 2

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class SecretsError(ScsDeployError):
    """The secrets file or the vault password cannot be read or written."""

    exit_code = 2


class StateError(ScsDeployError):
    """state.json exists but cannot be understood."""

    exit_code = 2


@dataclass
class PhaseFailed(ScsDeployError):
    """A phase ran and a task failed on a host."""

    phase: str
    host: str
    role: str
    task: str
    message: str
    artifacts: Path | None = None
    failures: list[tuple[str, str, str, str]] = field(default_factory=list)

    exit_code = 1

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        role = self.role or "-"
        text = (
            f"phase {self.phase} failed on host {self.host}, role {role}, "
            f"task '{self.task}': {self.message}"
        )
        if self.artifacts is not None:
            text += f"\nfull log: {self.artifacts / 'stdout'}"
        return text


@dataclass
class DeployInterrupted(ScsDeployError):
    """A signal (Ctrl-C) stopped a phase; ansible-playbook was stopped with it."""

    phase: str
    resume: str
    artifacts: Path | None = None
    signal_number: int = signal.SIGINT

    # 128 + the signal's number, as a shell reports it: 130 for Ctrl-C.
    exit_code = 130

    def __post_init__(self) -> None:
        self.exit_code = 128 + self.signal_number
        super().__init__(str(self))

    def __str__(self) -> str:
        text = (
            f"phase {self.phase} interrupted ({signal.Signals(self.signal_number).name}); "
            f"ansible-playbook was stopped and the phase is recorded as interrupted"
            f"\nresume with: {self.resume}"
        )
        if self.artifacts is not None:
            text += f"\nfull log: {self.artifacts / 'stdout'}"
        return text


class RegionLocked(ScsDeployError):
    """Another scs-deploy command holds the region directory's lock."""

    exit_code = 2


class TestbedError(ScsDeployError):
    """The local testbed could not be built, started or removed."""

    exit_code = 1


class TestbedPrerequisiteError(TestbedError):
    """Not root, or a tool the testbed needs is missing."""

    exit_code = 2


class CloudError(ScsDeployError):
    """An OpenStack or Ceph API call against the running region failed."""
