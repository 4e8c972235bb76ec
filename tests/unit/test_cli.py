"""Every command's happy path and its bad input: exit 2, one message, no traceback."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scs_deploy.cli import app
from tests.conftest import BASE_REGION

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def snapshot(directory: Path) -> dict[str, bytes]:
    return {
        p.relative_to(directory).as_posix(): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def test_init_writes_region_secrets_and_password(tmp_path: Path) -> None:
    code, output = invoke("init", str(tmp_path / "r"), "--profile", "ha")
    assert code == 0, output
    assert (tmp_path / "r" / "region.yml").read_text().startswith("# scs-deploy region")
    assert (tmp_path / "r" / "secrets.yml").exists()
    assert (tmp_path / "r" / ".vault-pass").exists()
    code, output = invoke("validate", str(tmp_path / "r"))
    assert code == 0, output
    assert "valid (8 hosts" in output


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    assert invoke("init", str(tmp_path))[0] == 0
    (tmp_path / "region.yml").write_text("name: mine\n")
    before = snapshot(tmp_path)
    code, output = invoke("init", str(tmp_path), "--profile", "ha")
    assert code == 2
    assert "exists; use --force" in output
    assert snapshot(tmp_path) == before
    code, _ = invoke("init", str(tmp_path), "--profile", "ha", "--force")
    assert code == 0
    assert (tmp_path / "secrets.yml").read_bytes() == before["secrets.yml"]


def test_init_merge_adds_nothing_when_complete(tmp_path: Path) -> None:
    invoke("init", str(tmp_path))
    # The first merge issues the API certificate for the VIPs region.yml names.
    code, output = invoke("init", str(tmp_path), "--merge")
    assert "scs_secret_tls_server_certificate" in output
    code, output = invoke("init", str(tmp_path), "--merge")
    assert code == 0, output
    assert "added 0 secrets" in output


def test_init_unknown_profile(tmp_path: Path) -> None:
    code, output = invoke("init", str(tmp_path / "x"), "--profile", "huge")
    assert code == 2
    assert "unknown profile 'huge'" in output
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("command", ["validate", "plan", "deploy", "status"])
def test_missing_directory(tmp_path: Path, command: str) -> None:
    code, output = invoke(command, str(tmp_path / "nowhere"))
    assert code == 2
    assert "no such directory" in output
    assert output.count("error:") == 1
    assert not (tmp_path / "nowhere").exists()


def test_validate_prints_every_problem(region_dir: Callable[[str], Path]) -> None:
    text = BASE_REGION.replace("replicas: 2", "replicas: 0").replace(
        "osd_backend: raw", "osd_backend: zfs"
    )
    code, output = invoke("validate", str(region_dir(text)))
    assert code == 2
    assert "2 problems found" in output
    assert "region.yml:23:13 ceph.replicas:" in output
    assert "region.yml:24:16 ceph.osd_backend:" in output


def test_plan_shows_phases_and_diff(region_dir: Callable[[str], Path]) -> None:
    directory = region_dir(BASE_REGION)
    code, output = invoke("plan", str(directory))
    assert code == 0, output
    assert "phase bootstrap" in output
    assert "on 2 hosts: node1, node2" in output
    assert (directory / "build" / "bootstrap.yml").exists()
    code, output = invoke("plan", str(directory), "--diff")
    assert "no successful deploy recorded yet" in output
    code, output = invoke("plan", str(directory), "--phase", "nope")
    assert code == 2
    assert "unknown phase 'nope'" in output


def test_plan_diff_against_last_deployed_render(region_dir: Callable[[str], Path]) -> None:
    directory = region_dir(BASE_REGION)
    invoke("plan", str(directory))
    (directory / "build").rename(directory / "deployed")
    (directory / "artifacts").mkdir()
    (directory / "deployed").rename(directory / "artifacts" / "last-deployed-render")
    (directory / "region.yml").write_text(BASE_REGION.replace("10.0.0.12", "10.0.0.13"))
    code, output = invoke("plan", str(directory), "--diff")
    assert code == 0, output
    lines = output.splitlines()
    assert any(line.startswith("-") and '"ansible_host": "10.0.0.12"' in line for line in lines)
    assert any(line.startswith("+") and '"ansible_host": "10.0.0.13"' in line for line in lines)
    assert "+++ build/inventory/hosts.yml" in lines


def test_status_before_and_corrupt_state(region_dir: Callable[[str], Path]) -> None:
    directory = region_dir(BASE_REGION)
    code, output = invoke("status", str(directory))
    assert code == 0, output
    assert "bootstrap    not deployed" in output
    code, output = invoke("status", str(directory), "--json")
    assert json.loads(output)["phases"]["ceph"] is None
    (directory / "state.json").write_text("{not json")
    before = snapshot(directory)
    code, output = invoke("status", str(directory))
    assert code == 2
    assert "state.json is corrupt" in output
    assert snapshot(directory) == before


def test_deploy_with_unreadable_vault_password_writes_nothing(tmp_path: Path) -> None:
    invoke("init", str(tmp_path))
    (tmp_path / ".vault-pass").chmod(0o000)
    (tmp_path / ".vault-pass").rename(tmp_path / ".vault-pass.moved")
    before = snapshot(tmp_path)
    code, output = invoke("deploy", str(tmp_path))
    assert code == 2
    assert "cannot read the vault password file" in output
    assert snapshot(tmp_path) == before


def test_deploy_with_corrupt_state_writes_nothing(tmp_path: Path) -> None:
    invoke("init", str(tmp_path))
    (tmp_path / "state.json").write_text("[]")
    before = snapshot(tmp_path)
    code, output = invoke("deploy", str(tmp_path), "--phase", "kaas")
    assert code == 2
    assert "state.json is corrupt" in output
    assert snapshot(tmp_path) == before


def test_deploy_with_invalid_region_writes_nothing(region_dir: Callable[[str], Path]) -> None:
    directory = region_dir(BASE_REGION.replace("replicas: 2", "replicas: 9"))
    before = snapshot(directory)
    code, output = invoke("deploy", str(directory))
    assert code == 2
    assert "ceph.replicas" in output
    assert snapshot(directory) == before


def test_deploy_unknown_phase(region_dir: Callable[[str], Path]) -> None:
    code, output = invoke("deploy", str(region_dir(BASE_REGION)), "--from", "storage")
    assert code == 2
    assert "unknown phase 'storage'; phases are: bootstrap, ceph" in output


def test_deploy_limit_that_matches_nothing(region_dir: Callable[[str], Path]) -> None:
    directory = region_dir(BASE_REGION)
    code, output = invoke("deploy", str(directory), "--limit", "node1,node7")
    assert code == 2
    assert "--limit: 'node7' is neither a host nor a group" in output
    assert not (directory / "build").exists()
