"""A real ansible-runner run of a phase against this machine (connection local).

The kaas phase is a gate today: it gathers facts and checks that the host has
the address region.yml gives it, so it changes nothing here.
"""

from __future__ import annotations

import ipaddress
import json
import re
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scs_deploy.cli import app
from scs_deploy.regiondir import RegionDir
from scs_deploy.secrets import ensure_secrets, read_secrets
from scs_deploy.tls import PUBLIC_SECRETS
from tests.conftest import LOCAL_REGION

runner = CliRunner()


def machine_address() -> str:
    """A global IPv4 address of this machine; the gate must find it on an interface."""
    output = subprocess.run(
        ["ip", "-j", "-4", "addr", "show", "scope", "global"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    for link in json.loads(output):
        for info in link.get("addr_info", []):
            if info.get("family") == "inet":
                return str(info["local"])
    pytest.fail("this machine has no global IPv4 address for the local run")


def local_region(tmp_path: Path, address: str) -> Path:
    directory = tmp_path / "local"
    directory.mkdir()
    network = ipaddress.ip_network(f"{address}/24", strict=False)
    vip = next(a for a in network.hosts() if str(a) != address)
    text = LOCAL_REGION.format(address=address, vip=vip).replace("127.0.0.0/8", str(network))
    (directory / "region.yml").write_text(text)
    ensure_secrets(directory, "2026.1")
    return directory


def test_phase_runs_records_state_and_reports_progress(tmp_path: Path) -> None:
    directory = local_region(tmp_path, machine_address())
    result = runner.invoke(app, ["deploy", str(directory), "--phase", "kaas"])
    assert result.exit_code == 0, result.output
    assert "phase kaas: Kubernetes management cluster" in result.output
    assert "kaas | gate_host: Check that the management address" in result.output
    assert "phase kaas ok" in result.output
    assert "deployhost: ok=" in result.output

    state = json.loads((directory / "state.json").read_text())
    record = state["phases"]["kaas"]
    assert record["result"] == "ok"
    assert record["release"] == "2026.1"
    assert record["hosts"]["deployhost"]["failed"] == 0
    assert record["hosts"]["deployhost"]["ok"] >= 2
    assert record["hosts"]["deployhost"]["changed"] == 0
    assert len(record["render_hash"]) == 64
    assert "bootstrap" not in state["phases"]

    artifacts = directory / "artifacts" / record["run_id"]
    events = list((artifacts / "job_events").glob("*.json"))
    assert any(
        json.loads(e.read_text()).get("event_data", {}).get("role") == "gate_host" for e in events
    )
    assert (directory / "artifacts" / "last-deployed-render" / "kaas.yml").exists()

    status = runner.invoke(app, ["status", str(directory), "--json"])
    assert json.loads(status.output)["phases"]["kaas"]["result"] == "ok"


def test_failure_names_host_phase_role_and_task(tmp_path: Path) -> None:
    directory = local_region(tmp_path, "127.0.0.2")
    result = runner.invoke(app, ["deploy", str(directory), "--phase", "kaas"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert (
        "phase kaas failed on host deployhost, role gate_host, task 'Check that the "
        "management address from region.yml is configured on the host'"
    ) in result.output
    assert "management address 127.0.0.2 from region.yml is not configured" in result.output
    state = json.loads((directory / "state.json").read_text())
    assert state["phases"]["kaas"]["result"] == "failed"
    assert state["phases"]["kaas"]["hosts"]["deployhost"]["failed"] == 1
    assert not (directory / "artifacts" / "last-deployed-render").exists()
    # The message ends with the run's whole log, which holds the failure too.
    log = directory / "artifacts" / state["phases"]["kaas"]["run_id"] / "stdout"
    assert result.output.rstrip().splitlines()[-1] == f"full log: {log}"
    assert "management address 127.0.0.2 from region.yml is not configured" in log.read_text()


def test_verbose_shows_ansible_output(tmp_path: Path) -> None:
    directory = local_region(tmp_path, machine_address())
    result = runner.invoke(app, ["deploy", str(directory), "--phase", "kaas", "--verbose"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("PLAY [kaas health gate] ***") for line in lines)
    assert "ok: [deployhost]" in lines
    assert any(re.match(r"deployhost\s+: ok=", line) for line in lines)  # PLAY RECAP
    # Ansible's lines instead of the progress lines.
    assert "kaas | gate_host: Check that the management address" not in result.output
    assert "phase kaas ok" in result.output


def test_no_secret_in_build_artifacts_or_output(tmp_path: Path) -> None:
    directory = local_region(tmp_path, machine_address())
    outputs = [
        runner.invoke(app, ["plan", str(directory)]).output,
        runner.invoke(app, ["deploy", str(directory), "--phase", "kaas"]).output,
        runner.invoke(app, ["status", str(directory), "--json"]).output,
    ]
    secrets = read_secrets(RegionDir(directory))
    assert len(secrets) > 10
    scanned = [p for sub in ("build", "artifacts") for p in (directory / sub).rglob("*")]
    files = [p for p in scanned if p.is_file()]
    assert len(files) > 10
    texts = [p.read_text(errors="replace") for p in files] + outputs
    texts.append((directory / "state.json").read_text())
    for name, value in secrets.items():
        if name in PUBLIC_SECRETS:
            continue
        for text in texts:
            assert value not in text, f"secret {name} leaked"
