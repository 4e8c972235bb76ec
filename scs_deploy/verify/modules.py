"""The modules of the SCS-compatible IaaS certificate v5.1 that have test ids, in its order,
each with the check that decides them."""

from __future__ import annotations

from typing import Any

from scs_deploy.verify import (
    backup,
    flavors,
    images,
    key_manager,
    security_groups,
    services,
    volume_types,
)
from scs_deploy.verify.core import Module, Outcome, failed

CERTIFICATE = "SCS-compatible IaaS v5.1"
ENTROPY_IDS: tuple[str, ...] = ("scs-0101-entropy-avail", "scs-0101-fips-test")


def _entropy(_cloud: Any) -> dict[str, Outcome]:
    return {
        test_id: failed("not checked yet: it needs a guest of the smoke workload")
        for test_id in ENTROPY_IDS
    }


def _images(cloud: Any) -> dict[str, Outcome]:
    return images.metadata(cloud.public_images, cloud.now)


def _standard_images(cloud: Any) -> dict[str, Outcome]:
    return images.standard(cloud.public_images, cloud.unavailable_images)


MODULES: tuple[Module, ...] = (
    Module(
        "scs-0100-v3.1",
        "Flavor naming v3.1",
        flavors.NAMING_IDS,
        lambda cloud: flavors.naming(cloud.flavors),
    ),
    Module("scs-0101-v1", "Entropy v1.1", ENTROPY_IDS, _entropy),
    Module("scs-0102-v1", "Image metadata v1", images.METADATA_IDS, _images),
    Module(
        "scs-0103-v1",
        "Standard flavors",
        flavors.STANDARD_IDS,
        lambda cloud: flavors.standard(cloud.flavors),
    ),
    Module(
        "scs-0104-v1-2",
        "Standard images",
        images.SOURCE_IDS + images.PRESENCE_IDS,
        _standard_images,
    ),
    Module("scs-0114-v1", "Volume Types", (volume_types.TEST_ID,), volume_types.check),
    Module(
        "scs-0115-v1",
        "Default rules for security groups",
        (security_groups.TEST_ID,),
        security_groups.check,
    ),
    Module("scs-0116-v1", "Key manager", (key_manager.TEST_ID,), key_manager.check),
    Module("scs-0117-v1", "Volume backup", (backup.TEST_ID,), backup.check),
    Module(
        "scs-0123-v1",
        "Mandatory and Supported IaaS Services",
        services.TEST_IDS,
        services.check,
    ),
)
