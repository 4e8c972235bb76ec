"""Secrets: generated, vault-encrypted, merged without touching existing values."""

from __future__ import annotations

import base64
import stat
import struct
from pathlib import Path

import pytest

from scs_deploy.errors import SecretsError
from scs_deploy.regiondir import VAULT_PASS_ENV, RegionDir
from scs_deploy.releases import load_release
from scs_deploy.secrets import ceph_key, ensure_secrets, generate, read_secrets


def test_files_are_encrypted_and_private(tmp_path: Path) -> None:
    added = ensure_secrets(tmp_path, "2026.1")
    region_dir = RegionDir(tmp_path)
    assert set(added) == {f"scs_secret_{n}" for n in load_release("2026.1").secrets}
    assert region_dir.secrets_file.read_bytes().startswith(b"$ANSIBLE_VAULT;1.1;AES256")
    assert stat.S_IMODE(region_dir.vault_pass_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(region_dir.secrets_file.stat().st_mode) == 0o600
    values = read_secrets(region_dir)
    raw = region_dir.secrets_file.read_text()
    for value in values.values():
        assert value not in raw
    assert len(set(values.values())) == len(values)


def test_new_release_adds_secrets_and_keeps_existing(tmp_path: Path) -> None:
    ensure_secrets(tmp_path, "2026.1")
    before = read_secrets(RegionDir(tmp_path))
    added = ensure_secrets(tmp_path, "2026.2")
    after = read_secrets(RegionDir(tmp_path))
    new_names = set(load_release("2026.2").secrets) - set(load_release("2026.1").secrets)
    assert new_names, "2026.2 is expected to add at least one secret"
    assert set(added) == {f"scs_secret_{n}" for n in new_names}
    assert {k: after[k] for k in before} == before
    assert ensure_secrets(tmp_path, "2026.2") == []


def test_wrong_vault_password_is_a_clear_error(tmp_path: Path) -> None:
    ensure_secrets(tmp_path, "2026.1")
    (tmp_path / ".vault-pass").write_text("not the password\n")
    with pytest.raises(SecretsError, match="cannot decrypt"):
        read_secrets(RegionDir(tmp_path))


def test_vault_password_file_from_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "keys" / "pass"
    monkeypatch.setenv(VAULT_PASS_ENV, str(elsewhere))
    (tmp_path / "region").mkdir()
    ensure_secrets(tmp_path / "region", "2026.1")
    assert elsewhere.exists()
    assert not (tmp_path / "region" / ".vault-pass").exists()


@pytest.mark.parametrize("kind", ["password", "uuid", "fernet_key", "ceph_key"])
def test_generated_values_have_their_form(kind: str) -> None:
    first, second = generate(kind), generate(kind)
    assert first != second
    assert len(first) >= 32


def test_ceph_key_is_what_ceph_authtool_prints() -> None:
    raw = base64.b64decode(ceph_key())
    kind, _, _, length = struct.unpack("<hiih", raw[:12])
    assert (kind, length, len(raw)) == (1, 16, 28)


def test_passwords_never_begin_like_an_option(monkeypatch: pytest.MonkeyPatch) -> None:
    """rabbitmqctl reads a password that begins with '-' as options: one is drawn again."""
    from scs_deploy import secrets

    draws = iter(["-leadingdash" + "x" * 20, "_leadingunderscore" + "x" * 14, "Fine" + "x" * 28])
    monkeypatch.setattr(secrets.random_source, "token_urlsafe", lambda _n: next(draws))
    assert secrets.password() == "Fine" + "x" * 28
    monkeypatch.undo()
    assert all(generate("password")[0].isalnum() for _ in range(300))


def test_an_older_rabbitmq_password_with_a_leading_dash_is_a_clear_error(tmp_path: Path) -> None:
    """Regions made before the fix: the error names the secret and the way out, before any run."""
    from scs_deploy.secrets import write_secrets

    ensure_secrets(tmp_path, "2026.1")
    region_dir = RegionDir(tmp_path)
    values = read_secrets(region_dir)
    values["scs_secret_cinder_rabbitmq_password"] = "-" + "a" * 31
    write_secrets(region_dir, values)
    with pytest.raises(SecretsError) as raised:
        ensure_secrets(tmp_path, "2026.1")
    message = str(raised.value)
    assert "scs_secret_cinder_rabbitmq_password" in message
    assert "init --merge" in message
    assert "a" * 31 not in message
    del values["scs_secret_cinder_rabbitmq_password"]
    write_secrets(region_dir, values)
    assert ensure_secrets(tmp_path, "2026.1") == ["scs_secret_cinder_rabbitmq_password"]
    assert read_secrets(region_dir)["scs_secret_cinder_rabbitmq_password"][0].isalnum()
