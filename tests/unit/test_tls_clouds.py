"""The region CA and API certificate in the secrets, key rotation, and clouds.yaml."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path

import yaml
from typer.testing import CliRunner

from scs_deploy.cli import app
from scs_deploy.clouds import write_clouds
from scs_deploy.regiondir import RegionDir
from scs_deploy.secrets import ensure_secrets, read_secrets, rotated_repository
from scs_deploy.tls import (
    CA_CERTIFICATE,
    SERVER_CERTIFICATE,
    SERVER_KEY,
    covered_names,
    ensure_tls_secrets,
)
from scs_deploy.validate import load_region
from tests.conftest import BASE_REGION


def prepared(make: Callable[[str], Path], text: str = BASE_REGION) -> tuple[RegionDir, object]:
    directory = RegionDir(make(text))
    region = load_region(directory)
    ensure_secrets(directory, region.release)
    return directory, region


def test_certificate_names_the_vips_and_is_kept(region_dir: Callable[[str], Path]) -> None:
    directory, region = prepared(region_dir)
    added = ensure_tls_secrets(directory, region)  # type: ignore[arg-type]
    assert SERVER_CERTIFICATE in added and CA_CERTIFICATE in added
    values = read_secrets(directory)
    addresses, names = covered_names(values[SERVER_CERTIFICATE])
    assert addresses == {"10.0.0.10"}
    assert names == {"lab-api"}
    assert values[SERVER_CERTIFICATE].endswith(values[CA_CERTIFICATE])
    assert ensure_tls_secrets(directory, region) == []  # type: ignore[arg-type]
    assert read_secrets(directory) == values


def test_new_vip_gets_a_new_certificate_from_the_same_ca(
    region_dir: Callable[[str], Path],
) -> None:
    directory, region = prepared(region_dir)
    ensure_tls_secrets(directory, region)  # type: ignore[arg-type]
    before = read_secrets(directory)
    moved = BASE_REGION.replace("vip: 10.0.0.10", "vip: 10.0.0.20")
    (directory.region_file).write_text(moved)
    region = load_region(directory)
    assert ensure_tls_secrets(directory, region) == [SERVER_CERTIFICATE, SERVER_KEY]
    after = read_secrets(directory)
    assert after[CA_CERTIFICATE] == before[CA_CERTIFICATE]
    assert covered_names(after[SERVER_CERTIFICATE])[0] == {"10.0.0.20"}


def test_fernet_rotation_promotes_the_staged_key() -> None:
    start = json.dumps({"0": "staged", "1": "secondary", "2": "primary"})
    rotated = json.loads(rotated_repository(start))
    assert set(rotated) == {"0", "2", "3"}
    assert rotated["3"] == "staged"  # the new primary: every host could already decrypt with it
    assert rotated["2"] == "primary"  # kept to validate tokens it issued
    assert rotated["0"] not in {"staged", "secondary", "primary"}


def test_rotate_command(region_dir: Callable[[str], Path]) -> None:
    directory, _ = prepared(region_dir)
    before = json.loads(read_secrets(directory)["scs_secret_keystone_fernet_keys"])
    result = CliRunner().invoke(app, ["rotate", str(directory.path), "keystone-fernet"])
    assert result.exit_code == 0, result.output
    after = json.loads(read_secrets(directory)["scs_secret_keystone_fernet_keys"])
    assert after["3"] == before["0"]
    wrong = CliRunner().invoke(app, ["rotate", str(directory.path), "nova"])
    assert wrong.exit_code == 2 and "rotatable: keystone-credential" in wrong.output


def test_clouds_yaml(region_dir: Callable[[str], Path]) -> None:
    directory, region = prepared(region_dir)
    ensure_tls_secrets(directory, region)  # type: ignore[arg-type]
    path = write_clouds(region, directory)  # type: ignore[arg-type]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = yaml.safe_load(path.read_text())
    admin, member = data["clouds"]["lab-admin"], data["clouds"]["lab-member"]
    assert admin["auth"]["auth_url"] == "https://10.0.0.10:5000/v3"
    assert admin["auth"]["project_name"] == "admin"
    assert member["auth"]["username"] == "member"
    assert member["auth"]["project_name"] == "member"
    assert Path(admin["cacert"]).read_text() == read_secrets(directory)[CA_CERTIFICATE]
    assert admin["region_name"] == "RegionOne"
