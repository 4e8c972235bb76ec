"""What every command shares: consoles and the one place errors become exit codes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

from scs_deploy.errors import ConfigError, ScsDeployError

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


@contextmanager
def reported() -> Iterator[None]:
    """Turn an expected failure into one clear message and its exit code, no traceback."""
    try:
        yield
    except ConfigError as exc:
        count = len(exc.problems)
        err_console.print(f"[red]error:[/] {count} problem{'s' if count != 1 else ''} found")
        for problem in exc.problems:
            err_console.print(f"  {problem}", markup=False)
        raise typer.Exit(exc.exit_code) from None
    except ScsDeployError as exc:
        err_console.print("[red]error:[/] ", end="")
        err_console.print(str(exc), markup=False)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        # Ctrl-C between phases: nothing was running, nothing to record.
        err_console.print("[red]interrupted[/]")
        raise typer.Exit(130) from None
