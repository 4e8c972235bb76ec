"""The region's own CA and the API server certificate, kept in secrets.yml.

Generated on the deploy host (never on a target host), so every control host
gets the same certificate without copying between hosts. The server
certificate names every address the endpoints answer on; when that set
changes, or the certificate nears its end, a new one is issued from the same
CA, which clients keep trusting.
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from scs_deploy.errors import ConfigError, Problem
from scs_deploy.model import Region
from scs_deploy.regiondir import RegionDir

CA_CERTIFICATE = "scs_secret_tls_ca_certificate"
CA_KEY = "scs_secret_tls_ca_key"
SERVER_CERTIFICATE = "scs_secret_tls_server_certificate"
SERVER_KEY = "scs_secret_tls_server_key"
#: Certificates are public; the scans for leaked secrets skip these names.
PUBLIC_SECRETS = frozenset({CA_CERTIFICATE, SERVER_CERTIFICATE})

CA_DAYS = 3650
SERVER_DAYS = 825
RENEW_BEFORE = datetime.timedelta(days=30)


@dataclass(frozen=True)
class SubjectNames:
    """What the server certificate must cover."""

    addresses: tuple[str, ...]
    dns_names: tuple[str, ...]


def subject_names(region: Region) -> SubjectNames:
    addresses = sorted({str(a) for a in (region.vip, region.public_vip) if a is not None})
    names = [f"{region.name}-api"]
    if region.environment.dns_domain:
        names.append(f"{region.name}-api.{region.environment.dns_domain}")
    return SubjectNames(addresses=tuple(addresses), dns_names=tuple(names))


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _pem_key(key: object) -> str:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(  # type: ignore[attr-defined, no-any-return]
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _pem_certificate(certificate: object) -> str:
    from cryptography.hazmat.primitives import serialization

    return certificate.public_bytes(serialization.Encoding.PEM).decode()  # type: ignore[attr-defined, no-any-return]


def new_ca(region_name: str) -> tuple[str, str]:
    """A self-signed CA for the region: (certificate PEM, key PEM)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP384R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"scs-deploy CA of {region_name}")])
    now = _now()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA384())
    )
    return _pem_certificate(certificate), _pem_key(key)


def new_server_certificate(
    ca_certificate_pem: str, ca_key_pem: str, names: SubjectNames
) -> tuple[str, str]:
    """(certificate chain PEM: server then CA, key PEM) for the API endpoints."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    ca_certificate = x509.load_pem_x509_certificate(ca_certificate_pem.encode())
    ca_key = serialization.load_pem_private_key(ca_key_pem.encode(), password=None)
    key = ec.generate_private_key(ec.SECP256R1())
    alternative: list[x509.GeneralName] = [x509.DNSName(n) for n in names.dns_names]
    alternative += [x509.IPAddress(ipaddress.ip_address(a)) for a in names.addresses]
    common_name = names.dns_names[0] if names.dns_names else names.addresses[0]
    now = _now()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca_certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=SERVER_DAYS))
        .add_extension(x509.SubjectAlternativeName(alternative), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_certificate.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    return _pem_certificate(certificate) + ca_certificate_pem, _pem_key(key)


def covered_names(certificate_pem: str) -> tuple[set[str], set[str]]:
    """(IP addresses, DNS names) in the first certificate's subjectAltName."""
    from cryptography import x509

    certificate = x509.load_pem_x509_certificate(certificate_pem.encode())
    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return set(), set()
    san = extension.value
    return (
        {str(a) for a in san.get_values_for_type(x509.IPAddress)},
        set(san.get_values_for_type(x509.DNSName)),
    )


def _needs_new_server_certificate(current: str, ca_pem: str, names: SubjectNames) -> bool:
    from cryptography import x509

    try:
        certificate = x509.load_pem_x509_certificate(current.encode())
    except ValueError:
        return True
    addresses, dns_names = covered_names(current)
    if addresses != set(names.addresses) or dns_names != set(names.dns_names):
        return True
    if certificate.not_valid_after_utc - RENEW_BEFORE < _now():
        return True
    return ca_pem not in current


def ensure_ca(region_dir: RegionDir, region_name: str) -> list[str]:
    """Create the region CA unless secrets.yml holds one; names added."""
    from scs_deploy.secrets import read_secrets, write_secrets

    values = read_secrets(region_dir)
    if CA_CERTIFICATE in values and CA_KEY in values:
        return []
    values[CA_CERTIFICATE], values[CA_KEY] = new_ca(region_name)
    write_secrets(region_dir, values)
    return [CA_CERTIFICATE, CA_KEY]


def ensure_tls_secrets(region_dir: RegionDir, region: Region) -> list[str]:
    """Create the CA and (re)issue the server certificate when needed; names changed."""
    from scs_deploy.secrets import read_secrets, write_secrets

    if region.vip is None or region.openstack.tls is not None:
        return []
    values = read_secrets(region_dir)
    changed: list[str] = []
    if CA_CERTIFICATE not in values or CA_KEY not in values:
        values[CA_CERTIFICATE], values[CA_KEY] = new_ca(region.name)
        changed += [CA_CERTIFICATE, CA_KEY]
    names = subject_names(region)
    current = values.get(SERVER_CERTIFICATE, "")
    if (
        changed
        or SERVER_KEY not in values
        or _needs_new_server_certificate(current, values[CA_CERTIFICATE], names)
    ):
        values[SERVER_CERTIFICATE], values[SERVER_KEY] = new_server_certificate(
            values[CA_CERTIFICATE], values[CA_KEY], names
        )
        changed += [SERVER_CERTIFICATE, SERVER_KEY]
    if changed:
        write_secrets(region_dir, values)
    return changed


def check_operator_files(
    certificate: Path, key: Path, ca: Path, required: Iterable[str]
) -> list[tuple[str, str]]:
    """Problems with the operator's own TLS files, as (field, message)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    problems: list[tuple[str, str]] = []
    texts: dict[str, str] = {}
    for field, path in (("certificate", certificate), ("key", key), ("ca", ca)):
        try:
            texts[field] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append((field, f"cannot read {path}: {getattr(exc, 'strerror', exc)}"))
    if problems:
        return problems
    try:
        server = x509.load_pem_x509_certificate(texts["certificate"].encode())
    except ValueError:
        return [("certificate", f"{certificate} holds no PEM certificate")]
    try:
        x509.load_pem_x509_certificate(texts["ca"].encode())
    except ValueError:
        problems.append(("ca", f"{ca} holds no PEM certificate"))
    try:
        private = serialization.load_pem_private_key(texts["key"].encode(), password=None)
    except (ValueError, TypeError):
        return [*problems, ("key", f"{key} holds no unencrypted PEM private key")]
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    encoding = serialization.Encoding.PEM
    if private.public_key().public_bytes(encoding, public) != server.public_key().public_bytes(
        encoding, public
    ):
        problems.append(("key", f"{key} is not the key of the certificate {certificate}"))
    addresses, _ = covered_names(texts["certificate"])
    missing = [a for a in required if a not in addresses]
    if missing:
        problems.append(
            (
                "certificate",
                f"{certificate} does not name {', '.join(missing)} in its subjectAltName "
                "(IP addresses the endpoints answer on)",
            )
        )
    if server.not_valid_after_utc < _now():
        problems.append(("certificate", f"{certificate} expired on {server.not_valid_after_utc}"))
    return problems


def ca_pem(region_dir: RegionDir, region: Region) -> str:
    """The CA certificate clients of the region trust."""
    from scs_deploy.secrets import read_secrets

    if region.openstack.tls is not None:
        return region_dir.resolve(region.openstack.tls.ca).read_text(encoding="utf-8")
    values = read_secrets(region_dir)
    if CA_CERTIFICATE not in values:
        raise ConfigError([Problem(path="secrets", message="the region CA is not generated yet")])
    return values[CA_CERTIFICATE]
