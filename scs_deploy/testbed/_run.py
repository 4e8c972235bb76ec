"""The one way this package runs a command: errors become TestbedError with the stderr."""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Callable, Sequence

from scs_deploy.errors import TestbedError

#: Where progress lines go; ``up`` and ``down`` take one (or a rich Console).
Say = Callable[[str], None]


def quiet(_line: str) -> None:
    """A progress sink that drops every line."""


def run(
    argv: Sequence[str],
    *,
    input_text: str | None = None,
    check: bool = True,
    timeout: float | None = 600,
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` and return its result; a non-zero exit raises TestbedError when ``check``."""
    try:
        result = subprocess.run(
            list(argv),
            input=input_text,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as exc:
        raise TestbedError(f"{shlex.join(argv)}: {exc.strerror}") from exc
    except subprocess.TimeoutExpired as exc:
        raise TestbedError(f"{shlex.join(argv)}: no answer after {timeout:.0f} s") from exc
    if check and result.returncode != 0:
        detail = (result.stderr or result.stdout).strip() or f"exit status {result.returncode}"
        raise TestbedError(f"{shlex.join(argv)} failed: {detail}")
    return result


def output(argv: Sequence[str], *, timeout: float | None = 600) -> str:
    """Run ``argv`` and return its standard output (raises TestbedError on failure)."""
    return run(argv, timeout=timeout).stdout
