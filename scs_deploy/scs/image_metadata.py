"""scs-0102 image metadata: the properties every public image carries, and their rules.

Pure functions of an image's properties (as Glance shows them, or as region.yml declares
them); ``now`` None leaves out what depends on the clock.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

Image = Mapping[str, Any]

ARCHITECTURES: tuple[str, ...] = ("x86_64", "aarch64", "risc-v")
DISK_BUSES: tuple[str, ...] = ("virtio", "scsi")
REPLACE_FREQUENCIES: dict[str, timedelta | None] = {
    "never": None,
    "critical_bug": None,
    "yearly": timedelta(days=365),
    "quarterly": timedelta(days=92),
    "monthly": timedelta(days=31),
    "weekly": timedelta(days=7, hours=7),
    "daily": timedelta(hours=25),
}
#: An image may be this much older than its replace frequency says before it is outdated.
RECENCY_GRACE = 1.1
DATE_FORMATS: tuple[str, ...] = (
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)
SOURCE_SCHEMES: tuple[str, ...] = ("http://", "https://", "ftp://", "ftps://")
_UUID_VALIDITY = re.compile(r"^(none|notice|forever|last-[0-9]+)$")
OLD_SUFFIX = re.compile(r"^(old|prev|[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{8})$")


def parse_date(text: str) -> datetime | None:
    for layout in DATE_FORMATS:
        try:
            return datetime.strptime(text, layout).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def text(image: Image, key: str) -> str:
    value = image.get(key)
    return "" if value is None else str(value).strip()


def _build_date_problem(image: Image, now: datetime | None) -> str | None:
    built = parse_date(text(image, "image_build_date"))
    if built is None:
        return "image_build_date missing or not a date"
    created = parse_date(text(image, "created_at"))
    if created is not None and built > created:
        return "image_build_date after the upload"
    if now is not None and built > now:
        return "image_build_date in the future"
    return None


def is_outdated(image: Image, now: datetime) -> bool:
    period = REPLACE_FREQUENCIES.get(text(image, "replace_frequency"))
    if period is None:
        return False
    built = parse_date(text(image, "image_build_date")) or parse_date(text(image, "created_at"))
    if built is None or now - built <= period * RECENCY_GRACE:
        return False
    until = text(image, "provided_until")
    if until in ("none", "notice"):
        return False
    ends = parse_date(until)
    return ends is None or ends > now


#: scs-0102 test id -> what is wrong with one image (None: nothing).
PropertyRule = Callable[[Image, datetime | None], str | None]


def _one_of(key: str, allowed: Sequence[str], *, optional: bool = False) -> PropertyRule:
    def rule(image: Image, _now: datetime | None) -> str | None:
        value = text(image, key)
        if optional and not value:
            return None
        return None if value in allowed else f"{key} {value or 'missing'}, not {'/'.join(allowed)}"

    return rule


def _present(key: str) -> PropertyRule:
    return lambda image, _now: None if text(image, key) else f"{key} missing"


def _min_disk(image: Image, _now: datetime | None) -> str | None:
    min_disk = int(image.get("min_disk") or 0)
    if min_disk <= 0:
        return "min_disk missing"
    size = int(image.get("size") or 0)
    return None if size <= min_disk * 2**30 else f"min_disk {min_disk} GiB, smaller than the image"


def _min_ram(image: Image, _now: datetime | None) -> str | None:
    return None if int(image.get("min_ram") or 0) > 0 else "min_ram missing"


def _source(image: Image, _now: datetime | None) -> str | None:
    source = text(image, "image_source")
    if source == "private" or source.startswith(SOURCE_SCHEMES):
        return None
    return f"image_source {source or 'missing'}: neither a URL nor 'private'"


def _uuid_validity(image: Image, _now: datetime | None) -> str | None:
    value = text(image, "uuid_validity")
    if not value or _UUID_VALIDITY.match(value) or parse_date(value):
        return None
    return f"uuid_validity {value!r}"


PROPERTY_RULES: dict[str, PropertyRule] = {
    "scs-0102-prop-architecture": _one_of("architecture", ARCHITECTURES),
    "scs-0102-prop-min_disk": _min_disk,
    "scs-0102-prop-min_ram": _min_ram,
    "scs-0102-prop-os_version": _present("os_version"),
    "scs-0102-prop-os_distro": _present("os_distro"),
    "scs-0102-prop-hw_disk_bus": _one_of("hw_disk_bus", DISK_BUSES, optional=True),
    "scs-0102-prop-image_build_date": _build_date_problem,
    "scs-0102-prop-image_original_user": _present("image_original_user"),
    "scs-0102-prop-image_source": _source,
    "scs-0102-prop-image_description": _present("image_description"),
    "scs-0102-prop-replace_frequency": _one_of("replace_frequency", tuple(REPLACE_FREQUENCIES)),
    "scs-0102-prop-provided_until": _present("provided_until"),
    "scs-0102-prop-uuid_validity": _uuid_validity,
}


def property_problems(image: Image, now: datetime | None = None) -> dict[str, str]:
    """scs-0102 test id -> what one image breaks."""
    return {
        test_id: problem
        for test_id, rule in PROPERTY_RULES.items()
        if (problem := rule(image, now)) is not None
    }
