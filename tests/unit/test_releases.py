"""The shipped release manifests, their constraints files, and the loader."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from scs_deploy.errors import ConfigError
from scs_deploy.releases import (
    Artifact,
    Release,
    available_releases,
    constraints_path,
    load_release,
    parse_release,
    release_dir,
)

RELEASES = available_releases()
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)===?([A-Za-z0-9.+!_-]+)$")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(release: Release) -> dict[str, str]:
    """Canonical name -> version of every line of the release's constraints file."""
    result: dict[str, str] = {}
    for number, raw in enumerate(constraints_path(release).read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _PIN.match(line)
        assert match, f"{release.openstack.constraints}:{number}: not name==version: {line!r}"
        name = canonical(match.group(1))
        assert name not in result, f"{release.openstack.constraints}:{number}: {name} twice"
        result[name] = match.group(2)
    return result


def test_both_releases_ship() -> None:
    assert {"2026.1", "2026.2"} <= set(RELEASES)
    assert sorted(RELEASES, key=lambda r: tuple(int(p) for p in r.split("."))) == RELEASES


@pytest.mark.parametrize("release_id", RELEASES)
def test_manifest_loads(release_id: str) -> None:
    release = load_release(release_id)
    assert release.id == release_id
    assert constraints_path(release).is_file()
    assert load_release(release_id) is release  # cached


@pytest.mark.parametrize("release_id", RELEASES)
def test_services_and_extras_are_pinned(release_id: str) -> None:
    release = load_release(release_id)
    pinned = pins(release)
    assert len(pinned) > 50, "a full resolved set, not just the services"
    for service, pin in release.openstack.services.items():
        assert pinned.get(canonical(pin.package)) == pin.version, service
        for extra in pin.extras:
            name, _, version = extra.partition("==")
            # Pinned by the constraints, or inline where upstream's constraints
            # know nothing of it (uWSGI); never both with different versions.
            assert canonical(name) in pinned or version, f"{service}: extra {name} not pinned"
            if version:
                assert pinned.get(canonical(name), version) == version, f"{service}: {extra}"


@pytest.mark.parametrize("release_id", RELEASES)
def test_octavia_venv_carries_the_ovn_provider(release_id: str) -> None:
    # Octavia's only provider is OVN's (no amphora): its driver and agent are entry
    # points of ovn-octavia-provider, which must come into Octavia's venv.
    release = load_release(release_id)
    extras = [canonical(e.partition("==")[0]) for e in release.openstack.services["octavia"].extras]
    assert "ovn-octavia-provider" in extras


@pytest.mark.parametrize("release_id", RELEASES)
def test_constraints_header_says_how_it_was_made(release_id: str) -> None:
    text = constraints_path(load_release(release_id)).read_text()
    assert "scripts/resolve_release_constraints.py" in text.split("\n\n")[0]


@pytest.mark.parametrize("release_id", RELEASES)
def test_upgrade_sources_exist(release_id: str) -> None:
    release = load_release(release_id)
    for source in release.upgrade_from:
        assert source in RELEASES
        assert source != release_id


def test_2026_2_upgrades_from_2026_1() -> None:
    assert "2026.1" in load_release("2026.2").upgrade_from


def test_2026_2_secrets_extend_2026_1() -> None:
    old, new = load_release("2026.1").secrets, load_release("2026.2").secrets
    assert old.items() <= new.items(), "a secret vanished or changed its kind"
    assert set(new) - set(old), "2026.2 should add a secret (merge on upgrade is tested)"


def test_unknown_release_names_available_ones() -> None:
    with pytest.raises(ConfigError) as info:
        load_release("1999.1")
    (problem,) = info.value.problems
    assert problem.path == "release"
    assert "1999.1" in problem.message
    for release_id in RELEASES:
        assert release_id in problem.message


def test_artifact_checksum_is_64_hex_or_absent() -> None:
    Artifact(name="k3s", url="https://example.org/k3s", sha256=None)
    Artifact(name="k3s", url="https://example.org/k3s", sha256="0" * 64)
    for bad in ("", "abc", "G" * 64, "0" * 63):
        with pytest.raises(ValidationError):
            Artifact(name="k3s", url="https://example.org/k3s", sha256=bad)


def test_manifest_rejects_unknown_keys_and_kinds(tmp_path: Path) -> None:
    text = (release_dir() / "2026.1.yaml").read_text()
    extra = tmp_path / "2026.1.yaml"
    extra.write_text(text + "\nsurprise: 1\n")
    with pytest.raises(ConfigError) as info:
        parse_release(extra)
    assert any(p.path == "surprise" and p.file == str(extra) for p in info.value.problems)

    bad_kind = tmp_path / "sub" / "2026.1.yaml"
    bad_kind.parent.mkdir()
    bad_kind.write_text(text.replace("ceph_fsid: uuid", "ceph_fsid: guid"))
    with pytest.raises(ConfigError) as info:
        parse_release(bad_kind)
    assert any(p.path == "secrets.ceph_fsid" for p in info.value.problems)


def test_manifest_id_must_match_file_name(tmp_path: Path) -> None:
    renamed = tmp_path / "2030.1.yaml"
    renamed.write_text((release_dir() / "2026.1.yaml").read_text())
    with pytest.raises(ConfigError, match=r"2030\.1\.yaml"):
        parse_release(renamed)


def test_release_is_frozen() -> None:
    release = load_release("2026.1")
    with pytest.raises(ValidationError):
        release.id = "2026.2"  # type: ignore[misc]


def test_every_release_lists_the_images_of_scs_0104_v5() -> None:
    """Each image of the certificate's scs-0104 list (../shared) is in the release with the
    same name or name scheme, sources and status (optional where the list gives none)."""
    reference = Path(__file__).resolve().parents[3] / "shared" / "scs-standards"
    listing = reference / "scs-0104-v1-images-v5.yaml"
    if not listing.exists():
        pytest.skip(f"{listing} is not here")
    import yaml

    wanted = yaml.safe_load(listing.read_text())["images"]
    for release_id in available_releases():
        specs = load_release(release_id).scs.standard_images
        for entry in wanted:
            if entry["name"] == "Debian 10":
                continue  # in the list, but no test id of certificate v5.1 checks it
            scheme = entry.get("name_scheme")
            found = [
                s for s in specs if (s.name_scheme == scheme if scheme else s.name == entry["name"])
            ]
            assert len(found) == 1, (release_id, entry["name"])
            assert found[0].sources == entry["source"], (release_id, entry["name"])
            assert found[0].status == entry.get("status", "optional"), (release_id, entry["name"])
