"""Generate, merge and vault-encrypt the region's secrets."""

from __future__ import annotations

import base64
import json
import os
import secrets as random_source
import shlex
import struct
import time
import uuid
from pathlib import Path
from typing import Any

from scs_deploy.errors import SecretsError
from scs_deploy.lock import region_lock
from scs_deploy.regiondir import RegionDir

SECRET_PREFIX = "scs_secret_"
# Identifiers kept beside the secrets that are not secret: they may appear in
# rendered files, logs and output (certificates are public too: see tls.py).
IDENTIFIERS = frozenset(
    {
        SECRET_PREFIX + "ceph_fsid",
        SECRET_PREFIX + "libvirt_ceph_secret_uuid",
        SECRET_PREFIX + "libvirt_ceph_nova_secret_uuid",
    }
)
# Keystone's default max_active_keys: one staged, one primary, one secondary.
FERNET_ACTIVE_KEYS = 3


def generate(kind: str) -> str:
    """A fresh value of one secret kind (see the release manifests' ``secrets``)."""
    if kind == "password":
        return password()
    if kind == "uuid":
        return str(uuid.UUID(bytes=random_source.token_bytes(16), version=4))
    if kind == "fernet_key":
        return fernet_key()
    if kind == "fernet_repository":
        return json.dumps({str(i): fernet_key() for i in range(FERNET_ACTIVE_KEYS)}, sort_keys=True)
    if kind == "ceph_key":
        return ceph_key()
    if kind == "ssh_key":
        return ssh_private_key()
    raise ValueError(f"unknown secret kind {kind!r}")


def password() -> str:
    """32 URL-safe characters that begin with a letter or digit: command-line tools
    (rabbitmqctl add_user, authenticate_user) read a leading '-' as an option."""
    while True:
        value = random_source.token_urlsafe(24)
        if value[0].isalnum():
            return value


def secret_values(values: dict[str, str]) -> dict[str, str]:
    """Every value that must never leave secrets.yml, by a name for reports.

    Identifiers and certificates are left out; a key repository counts key by key.
    """
    from scs_deploy.tls import PUBLIC_SECRETS

    found: dict[str, str] = {}
    for name, value in values.items():
        if name in IDENTIFIERS or name in PUBLIC_SECRETS:
            continue
        if value.startswith("{"):
            try:
                keys = json.loads(value)
            except ValueError:
                keys = None
            if isinstance(keys, dict):
                found.update({f"{name}[{index}]": str(key) for index, key in keys.items()})
                continue
        found[name] = value
    return found


def fernet_key() -> str:
    return base64.urlsafe_b64encode(random_source.token_bytes(32)).decode()


def rotated_repository(repository: str) -> str:
    """A Fernet key repository after one rotation, as ``keystone-manage fernet_rotate`` does it.

    The staged key (0) becomes the new primary (the next index), a fresh key is
    staged, and the oldest secondaries go once more than FERNET_ACTIVE_KEYS remain.
    """
    keys = {int(index): key for index, key in json.loads(repository).items()}
    primary = max(keys)
    keys[primary + 1] = keys[0]
    keys[0] = fernet_key()
    for index in sorted(i for i in keys if i != 0):
        if len(keys) <= FERNET_ACTIVE_KEYS:
            break
        del keys[index]
    return json.dumps({str(i): k for i, k in sorted(keys.items())}, sort_keys=True)


ROTATABLE = {
    "keystone-fernet": "keystone_fernet_keys",
    "keystone-credential": "keystone_credential_keys",
}


def rotate(region_dir: RegionDir, what: str) -> str:
    """Rotate one key repository in secrets.yml; the next deploy hands it to the hosts."""
    if what not in ROTATABLE:
        raise SecretsError(f"cannot rotate '{what}'; rotatable: {', '.join(sorted(ROTATABLE))}")
    name = SECRET_PREFIX + ROTATABLE[what]
    with region_lock(
        region_dir.path, f"scs-deploy rotate {shlex.quote(str(region_dir.path))} {what}"
    ):
        values = read_secrets(region_dir)
        if name not in values:
            raise SecretsError(f"{region_dir.secrets_file} holds no {name}; run a deploy first")
        values[name] = rotated_repository(values[name])
        write_secrets(region_dir, values)
    return name


def ssh_private_key() -> str:
    """A fresh ed25519 key in OpenSSH's private key format (what ssh-keygen writes)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
        .decode()
    )


def ceph_key() -> str:
    """A cephx key as ``ceph-authtool --gen-print-key`` prints it."""
    now = time.time()
    header = struct.pack("<hiih", 1, int(now), int((now % 1) * 1e9), 16)
    return base64.b64encode(header + random_source.token_bytes(16)).decode()


def _vault(region_dir: RegionDir, *, create: bool) -> Any:
    from ansible.parsing.vault import VaultLib, VaultSecret

    pass_file = region_dir.vault_pass_file
    if create and not pass_file.exists():
        pass_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(pass_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(random_source.token_urlsafe(32) + "\n")
    try:
        password = pass_file.read_bytes().strip()
    except OSError as exc:
        raise SecretsError(
            f"cannot read the vault password file {pass_file}: {exc.strerror}"
        ) from None
    if not password:
        raise SecretsError(f"the vault password file {pass_file} is empty")
    return VaultLib([("default", VaultSecret(password))])


def read_secrets(region_dir: RegionDir) -> dict[str, str]:
    """Every secret of the region, decrypted; names keep their ``scs_secret_`` prefix."""
    from ansible.errors import AnsibleError
    from ruamel.yaml import YAML

    path = region_dir.secrets_file
    try:
        ciphertext = path.read_bytes()
    except FileNotFoundError:
        raise SecretsError(
            f"{path} does not exist; run 'scs-deploy init {region_dir.path} --merge'"
        ) from None
    vault = _vault(region_dir, create=False)
    try:
        plaintext = vault.decrypt(ciphertext)
    except AnsibleError:
        raise SecretsError(
            f"cannot decrypt {path} with the password in {region_dir.vault_pass_file}"
        ) from None
    data = YAML(typ="safe").load(plaintext) or {}
    if not isinstance(data, dict):
        raise SecretsError(f"{path} does not hold a mapping of secrets")
    return {str(k): str(v) for k, v in data.items()}


def write_secrets(region_dir: RegionDir, values: dict[str, str]) -> None:
    import io

    from ruamel.yaml import YAML

    buffer = io.StringIO()
    YAML(typ="safe", pure=True).dump(dict(sorted(values.items())), buffer)
    vault = _vault(region_dir, create=True)
    ciphertext = vault.encrypt(buffer.getvalue().encode())
    target = region_dir.secrets_file
    temporary = target.with_name(f".{target.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(ciphertext)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, target)


def required_secrets(release_id: str) -> dict[str, str]:
    """Prefixed secret name -> kind, for one release."""
    from scs_deploy.releases import load_release

    release = load_release(release_id)
    return {SECRET_PREFIX + name: kind for name, kind in release.secrets.items()}


def ensure_secrets(region: RegionDir | Path, release_id: str) -> list[str]:
    """Create the secrets file, or add the secrets a release needs that it lacks.

    Existing values are never changed. Returns the names that were added.
    """
    region_dir = region if isinstance(region, RegionDir) else RegionDir(Path(region).resolve())
    wanted = required_secrets(release_id)
    current = read_secrets(region_dir) if region_dir.secrets_file.exists() else {}
    missing = {name: kind for name, kind in wanted.items() if name not in current}
    if missing or not region_dir.secrets_file.exists():
        merged = dict(current)
        merged.update({name: generate(kind) for name, kind in missing.items()})
        write_secrets(region_dir, merged)
    # Passwords made before password() began with a letter or digit.
    optionlike = sorted(
        name
        for name, kind in wanted.items()
        if kind == "password" and "rabbitmq" in name and current.get(name, "").startswith("-")
    )
    if optionlike:
        raise SecretsError(
            f"{region_dir.secrets_file}: {', '.join(optionlike)} start with '-', which "
            "rabbitmqctl reads as an option: delete them from the file (`ansible-vault edit`) and "
            "run `scs-deploy init --merge` for new ones, then deploy the openstack phase"
        )
    return sorted(missing)
