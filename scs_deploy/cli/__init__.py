"""The scs-deploy command line: parse, call one function, print. No logic here."""

from __future__ import annotations

import typer

from scs_deploy.cli import region, testbed

app = typer.Typer(
    name="scs-deploy",
    help="From bare Linux hosts to a working, SCS-compatible cloud.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals hold secrets
    add_completion=False,
)
region.register(app)
app.add_typer(testbed.app, name="testbed", help="Local test hosts as systemd-nspawn containers.")


def main() -> None:
    app()
