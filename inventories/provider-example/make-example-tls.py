#!/usr/bin/env python3
"""Write the EXAMPLE certificates and key that provider-example/region.yml names.

    .venv/bin/python inventories/provider-example/make-example-tls.py

Every run makes new keys and overwrites:

  ca/proxy-ca.crt  stands in for the CA of a TLS-inspecting proxy
                   (environment.ca_certificates); its key is thrown away
  tls/ca.crt       stands in for the operator's CA (openstack.tls.ca); key thrown away
  tls/api.crt      server certificate for both VIPs and the API names, then tls/ca.crt
                   (openstack.tls.certificate)
  tls/api.key      its private key (openstack.tls.key)

These are EXAMPLES, public in the repository: never use them for a real region.
Nothing here expires (notAfter 9999-12-31, RFC 5280's "no end"), so the example
keeps passing `scs-deploy validate`. Real certificates should have a normal
lifetime.
"""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HERE = Path(__file__).resolve().parent
# What region.yml says: networks.management.vip, networks.public.vip, and the API's DNS name.
VIPS = ("10.10.0.10", "198.51.100.10")
DNS_NAMES = ("api.region1.example.net", "region1-api.region1.example.net")
NOT_BEFORE = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
NOT_AFTER = datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=datetime.UTC)
CA_USAGE = x509.KeyUsage(
    digital_signature=True,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=True,
    crl_sign=True,
    encipher_only=False,
    decipher_only=False,
)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "scs-deploy EXAMPLE, never use"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def new_ca(common_name: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP384R1())
    name = _name(common_name)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(CA_USAGE, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA384())
    )
    return certificate, key


def new_server_certificate(
    ca: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName(n) for n in DNS_NAMES]
    names += [x509.IPAddress(ipaddress.ip_address(a)) for a in VIPS]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(DNS_NAMES[0]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return certificate, key


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _write(relative: str, data: bytes, mode: int = 0o644) -> None:
    path = HERE / relative
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    path.chmod(mode)
    print(f"wrote {path.relative_to(HERE.parent.parent)}")


def main() -> None:
    proxy_ca, _ = new_ca("EXAMPLE TLS-inspecting proxy CA")
    _write("ca/proxy-ca.crt", _pem(proxy_ca))
    api_ca, api_ca_key = new_ca("EXAMPLE operator CA of region1")
    server, server_key = new_server_certificate(api_ca, api_ca_key)
    _write("tls/ca.crt", _pem(api_ca))
    _write("tls/api.crt", _pem(server) + _pem(api_ca))
    key = server_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # 0644, not 0600: an example, public in the repository, and git keeps no modes but +x.
    _write("tls/api.key", key)


if __name__ == "__main__":
    main()
