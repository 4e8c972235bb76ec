"""The modules of the SCS-compatible IaaS certificate v5.1 that have test ids, in its order,
each with the check that decides them."""

from __future__ import annotations

from typing import Any

from scs_deploy.verify import (
    backup,
    entropy,
    flavors,
    images,
    key_manager,
    operations,
    security_groups,
    services,
    volume_types,
)
from scs_deploy.verify.core import Module, Outcome, passed

CERTIFICATE = "SCS-compatible IaaS v5.1"


def _images(cloud: Any) -> dict[str, Outcome]:
    return images.metadata(cloud.public_images, cloud.now)


def _standard_images(cloud: Any) -> dict[str, Outcome]:
    """A mandatory image that is missing because its source cannot be reached from here
    (no image site answers the testbed) is a SKIP with that reason."""
    found, specs = cloud.public_images, cloud.standard_images
    unavailable = {
        spec.name: f"no image {spec.name}, and its source {spec.sources[0]} does not answer here"
        for spec in images.missing_mandatory(found, specs)
        if not cloud.reachable(spec.sources[0])
    }
    return images.standard(found, unavailable, specs)


MODULES: tuple[Module, ...] = (
    Module(
        "scs-0100-v3.1",
        "Flavor naming v3.1",
        flavors.NAMING_IDS,
        lambda cloud: flavors.naming(cloud.flavors),
    ),
    Module("scs-0101-v1", "Entropy v1.1", entropy.TEST_IDS, entropy.check),
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

#: Manual checks of scs-0121 and scs-0302 that the APIs can decide (not in the
#: certificate's automated targets).
OPERATIONS = Module(
    "scs-0121-v1+scs-0302-v1",
    "Availability zones; domain manager",
    operations.TEST_IDS,
    operations.check,
)

SMOKE_ID = "smoke-workload"
#: Not a test id of the certificate: the proof from outside that a member gets a working
#: server, which scs-deploy runs after the certificate's modules.
SMOKE = Module(
    "scs-deploy-smoke",
    "Smoke workload",
    (SMOKE_ID,),
    lambda cloud: {SMOKE_ID: passed(cloud.workload.summary)},
)
