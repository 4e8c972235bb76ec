"""scs-0102 (image metadata) and scs-0104 (standard images), from the public images a member
sees. Hidden images are out of scope: Glance does not list them by default."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from scs_deploy.model import DEFAULT_RELEASE
from scs_deploy.releases import StandardImage, load_release
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


#: scs-0104's images as the default release lists them (the ids are the same in every
#: release; a region is checked against its own release's list).
STANDARD_IMAGES: tuple[StandardImage, ...] = tuple(
    load_release(DEFAULT_RELEASE).scs.standard_images
)
SOURCE_IDS: tuple[str, ...] = tuple(f"scs-0104-source-{s.key}" for s in STANDARD_IMAGES)
PRESENCE_IDS: tuple[str, ...] = tuple(
    f"scs-0104-image-{s.key}" for s in STANDARD_IMAGES if s.mandatory
)


def missing_mandatory(
    images: Sequence[Image], specs: Sequence[StandardImage] = STANDARD_IMAGES
) -> list[StandardImage]:
    return [
        spec
        for spec in specs
        if spec.mandatory and not any(spec.matches(text(i, "name")) for i in images)
    ]


def standard(
    images: Sequence[Image],
    unavailable: Mapping[str, str] | None = None,
    specs: Sequence[StandardImage] = STANDARD_IMAGES,
) -> dict[str, Outcome]:
    """Standard images come from their upstream sources; the mandatory ones are there.

    ``unavailable``: standard image name -> why the region could not get it (the
    post-deploy phase could not reach its source): its absence is a SKIP, not a FAIL.
    """
    unavailable = unavailable or {}
    outcomes: dict[str, Outcome] = {}
    for spec in specs:
        found = [i for i in images if spec.matches(text(i, "name"))]
        wrong = [
            f"{text(i, 'name')}: image_source {text(i, 'image_source') or 'missing'}"
            for i in found
            if not text(i, "image_source").startswith(tuple(spec.sources))
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
