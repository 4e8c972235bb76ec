"""scs-0102 (image metadata) and scs-0104 (standard images), from the public images a member
sees. Hidden images are out of scope: Glance does not list them by default."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from scs_deploy.scs.image_metadata import (
    PROPERTY_RULES,
    Image,
    is_outdated,
    parse_date,
    text,
)
from scs_deploy.verify.core import Outcome, all_of, failed, passed

__all__ = ["PROPERTY_RULES", "Image", "parse_date"]

RECENCY_ID = "scs-0102-image-recency"
METADATA_IDS: tuple[str, ...] = (*PROPERTY_RULES, RECENCY_ID)


def _recency_problems(images: Sequence[Image], now: datetime) -> list[str]:
    """An outdated image is fine beside a current one under the shorter name (its own name
    without the last word, which should mark it old: 'Debian 13 20260101' next to
    'Debian 13'); the standard asks for the mark, its test only warns without one."""
    current = {text(i, "name") for i in images if not is_outdated(i, now)}
    problems = []
    for image in images:
        if not is_outdated(image, now):
            continue
        name = text(image, "name")
        words = name.split()
        if len(words) < 2 or " ".join(words[:-1]) not in current:
            problems.append(
                f"{name}: outdated (replace_frequency {text(image, 'replace_frequency')}) "
                "and no current image replaces it"
            )
    return problems


def metadata(images: Sequence[Image], now: datetime) -> dict[str, Outcome]:
    counted = f"{len(images)} public images"
    outcomes = {
        test_id: all_of(
            [f"{text(i, 'name')}: {p}" for i in images if (p := rule(i, now)) is not None],
            when_clean=counted,
        )
        for test_id, rule in PROPERTY_RULES.items()
    }
    outcomes[RECENCY_ID] = all_of(_recency_problems(images, now), when_clean=counted)
    return outcomes


@dataclass(frozen=True)
class StandardImage:
    """An image of scs-0104: the names that are it and the sources it may come from."""

    key: str
    name: str
    name_pattern: str | None
    sources: tuple[str, ...]
    mandatory: bool

    def matches(self, name: str) -> bool:
        if self.name_pattern is not None:
            return re.match(self.name_pattern, name) is not None
        return name == self.name


def _ubuntu(version: str, codename: str, *, mandatory: bool = False) -> StandardImage:
    return StandardImage(
        f"ubuntu-{version.replace('.', '')}",
        f"Ubuntu {version}",
        None,
        (
            f"https://cloud-images.ubuntu.com/releases/{codename}/",
            f"https://cloud-images.ubuntu.com/{codename}/",
        ),
        mandatory,
    )


def _debian(version: int, codename: str) -> StandardImage:
    return StandardImage(
        f"debian-{version}",
        f"Debian {version}",
        None,
        (
            f"https://cloud.debian.org/images/cloud/{codename}/",
            f"https://cdimage.debian.org/cdimage/cloud/{codename}/",
        ),
        False,
    )


_CAPI_SOURCES: tuple[str, ...] = (
    "https://nbg1.your-objectstorage.com/osism/openstack-k8s-capi-images/",
    "https://swift.services.a.regiocloud.tech/swift/v1/AUTH_b182637428444b9aa302bb8d5a5a418c/"
    "openstack-k8s-capi-images/ubuntu-2404-kube",
    "https://swift.services.a.regiocloud.tech/swift/v1/AUTH_b182637428444b9aa302bb8d5a5a418c/"
    "openstack-k8s-capi-images/ubuntu-2204-kube",
)

#: scs-0104 v1 with the image list of certificate v5 (and the older CAPI name scheme).
STANDARD_IMAGES: tuple[StandardImage, ...] = (
    StandardImage(
        "capi-1",
        "ubuntu-capi-image v",
        r"ubuntu-capi-image v[0-9]\.[0-9]+(\.[0-9]+)?",
        _CAPI_SOURCES,
        False,
    ),
    StandardImage(
        "capi-2",
        "ubuntu-capi-image-v",
        r"ubuntu-capi-image-v[0-9]\.[0-9]+(\.[0-9]+)?",
        _CAPI_SOURCES,
        False,
    ),
    _ubuntu("24.04", "noble", mandatory=True),
    _ubuntu("22.04", "jammy"),
    _ubuntu("20.04", "focal"),
    _debian(13, "trixie"),
    _debian(12, "bookworm"),
    _debian(11, "bullseye"),
)
SOURCE_IDS: tuple[str, ...] = tuple(f"scs-0104-source-{s.key}" for s in STANDARD_IMAGES)
PRESENCE_IDS: tuple[str, ...] = tuple(
    f"scs-0104-image-{s.key}" for s in STANDARD_IMAGES if s.mandatory
)


def missing_mandatory(images: Sequence[Image]) -> list[StandardImage]:
    return [
        spec
        for spec in STANDARD_IMAGES
        if spec.mandatory and not any(spec.matches(text(i, "name")) for i in images)
    ]


def standard(
    images: Sequence[Image], unavailable: Mapping[str, str] | None = None
) -> dict[str, Outcome]:
    """Standard images come from their upstream sources; the mandatory ones are there.

    ``unavailable``: standard image name -> why the region could not get it (the
    post-deploy phase could not reach its source): its absence is a SKIP, not a FAIL.
    """
    unavailable = unavailable or {}
    outcomes: dict[str, Outcome] = {}
    for spec in STANDARD_IMAGES:
        found = [i for i in images if spec.matches(text(i, "name"))]
        wrong = [
            f"{text(i, 'name')}: image_source {text(i, 'image_source') or 'missing'}"
            for i in found
            if not text(i, "image_source").startswith(spec.sources)
        ]
        outcomes[f"scs-0104-source-{spec.key}"] = all_of(
            wrong, when_clean=f"{len(found)} {spec.name} images" if found else "none offered"
        )
        if spec.mandatory:
            presence_id = f"scs-0104-image-{spec.key}"
            if found:
                outcomes[presence_id] = passed(text(found[0], "name"))
            elif spec.name in unavailable:
                outcomes[presence_id] = Outcome("SKIP", unavailable[spec.name])
            else:
                outcomes[presence_id] = failed(f"no public image {spec.name}")
    return outcomes
