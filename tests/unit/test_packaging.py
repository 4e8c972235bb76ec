"""The wheel carries roles, playbook templates, profiles and release manifests."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_installed_wheel_works_outside_the_checkout(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(tmp_path / "dist"),
            str(ROOT),
        ],
        check=True,
    )
    (wheel,) = (tmp_path / "dist").glob("scs_deploy-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        "scs_deploy/_data/roles/gate_host/tasks/main.yml",
        "scs_deploy/_data/playbooks/phase.yml.j2",
        "scs_deploy/_data/playbooks/ansible.cfg.j2",
        "scs_deploy/releases/2026.1.yaml",
        "scs_deploy/releases/constraints/2026.1.txt",
        "scs_deploy/profiles/ha.yml",
    ):
        assert expected in names
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    region = tmp_path / "region"
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}
    for args in (["init", str(region), "--profile", "ha"], ["plan", str(region)]):
        done = subprocess.run(
            [sys.executable, "-m", "scs_deploy", *args],
            cwd="/tmp",
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
    cfg = (region / "build" / "ansible.cfg").read_text()
    assert f"roles_path = {target}/scs_deploy/_data/roles" in cfg
