"""scs-0123: the mandatory services are in the catalog a member gets, and S3 answers where
the object store is."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from scs_deploy.verify.core import Outcome, failed, passed

#: test id -> the catalog types of which one must be there.
CATALOG_TYPES: dict[str, tuple[str, ...]] = {
    "scs-0123-service-compute": ("compute",),
    "scs-0123-service-identity": ("identity",),
    "scs-0123-service-image": ("image",),
    "scs-0123-service-network": ("network",),
    "scs-0123-service-load-balancer": ("load-balancer",),
    "scs-0123-service-placement": ("placement",),
    "scs-0123-storage-apis": ("volume", "volumev3", "block-storage"),
}
S3_ID = "scs-0123-swift-s3"
TEST_IDS: tuple[str, ...] = (*CATALOG_TYPES, S3_ID)

#: What S3 answers a request signed with an access key it does not know.
S3_UNKNOWN_KEY_ERRORS: tuple[str, ...] = ("InvalidAccessKeyId", "NoSuchKey")


def _public_url(entry: Mapping[str, Any]) -> str:
    for endpoint in entry.get("endpoints", []):
        if endpoint.get("interface") == "public":
            return str(endpoint.get("url", ""))
    return ""


def catalog_outcomes(catalog: Sequence[Mapping[str, Any]]) -> dict[str, Outcome]:
    present = {str(entry.get("type")) for entry in catalog if entry.get("endpoints")}
    outcomes: dict[str, Outcome] = {}
    for test_id, types in CATALOG_TYPES.items():
        found = [t for t in types if t in present]
        outcomes[test_id] = (
            passed(found[0]) if found else failed(f"no {' or '.join(types)} in the catalog")
        )
    return outcomes


def s3_outcome(catalog: Sequence[Mapping[str, Any]], ask: Callable[[str], str]) -> Outcome:
    """S3 on the object store's host: the object-store entry's public URL, cut to scheme and
    host, answers an S3 request with an unknown access key as S3 does. ``ask(url)`` returns
    the body of the answer (any status)."""
    entries = [e for e in catalog if e.get("type") == "object-store"]
    if not entries:
        return failed("no object-store in the catalog (scs-0123 makes S3 mandatory)")
    url = _public_url(entries[0])
    match = re.match(r"^(https?://[^/]+)", url)
    if match is None:
        return failed(f"the object-store has no public endpoint URL ({url!r})")
    body = ask(match.group(1) + "/")
    if any(error in body for error in S3_UNKNOWN_KEY_ERRORS):
        return passed(f"S3 answers at {match.group(1)}")
    return failed(f"no S3 answer at {match.group(1)}: {body[:120]!r}")


def check(cloud: Any) -> dict[str, Outcome]:
    catalog = cloud.catalog
    return catalog_outcomes(catalog) | {S3_ID: s3_outcome(catalog, cloud.s3_probe)}
