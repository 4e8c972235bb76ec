"""The whole deploy of the shared region, twice, no flags: the second run changes
nothing in any phase; and no secret value is anywhere it does not belong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scs_deploy.regiondir import RegionDir
from scs_deploy.secrets import read_secrets, secret_values
from scs_deploy.testbed import TestbedInfo
from tests.e2e.helpers import deploy

pytestmark = pytest.mark.e2e

OUTPUTS: list[str] = []


def phase_records(directory: Path, count: int) -> list[dict]:  # type: ignore[type-arg]
    history = json.loads((directory / "state.json").read_text())["history"]
    return list(history[-count:])


def test_whole_deploy_twice_converges(shared_testbed: TestbedInfo) -> None:
    directory = shared_testbed.directory
    OUTPUTS.append(deploy(directory))
    OUTPUTS.append(deploy(directory))
    # kaas has no host on the testbed: not run, not recorded
    assert "phase kaas: nothing to deploy (no host in group kaas)" in OUTPUTS[-1]
    records = phase_records(directory, 4)
    assert [r["phase"] for r in records] == ["bootstrap", "ceph", "openstack", "post-deploy"]
    for record in records:
        assert record["result"] == "ok", record
        changed = {host: counts["changed"] for host, counts in record["hosts"].items()}
        assert all(c == 0 for c in changed.values()), (record["phase"], changed)


def test_no_secret_in_build_artifacts_logs_or_output(shared_testbed: TestbedInfo) -> None:
    directory = shared_testbed.directory
    values = secret_values(read_secrets(RegionDir(directory)))
    assert len(values) > 40
    files = [
        path
        for folder in ("build", "artifacts")
        for path in (directory / folder).rglob("*")
        if path.is_file()
    ]
    files += [p for p in directory.glob("*.log")]
    assert len(files) > 100
    texts = {str(path): path.read_text(errors="replace") for path in files}
    texts.update({f"output {i}": text for i, text in enumerate(OUTPUTS)})
    texts["state.json"] = (directory / "state.json").read_text()
    leaks = sorted(
        f"{name} in {where}"
        for name, value in values.items()
        for where, text in texts.items()
        if value in text
    )
    assert not leaks, leaks[:20]
