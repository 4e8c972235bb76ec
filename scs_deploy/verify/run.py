"""`scs-deploy verify DIR`: the certificate's modules, checked against a deployed region."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from scs_deploy.errors import ScsDeployError, UsageError
from scs_deploy.verify.core import Result, run_modules, unknown_ids
from scs_deploy.verify.modules import MODULES


def verify_region(directory: Path, only: Sequence[str] = ()) -> list[Result]:
    from scs_deploy.clouds import clouds_file
    from scs_deploy.regiondir import RegionDir
    from scs_deploy.validate import load_region
    from scs_deploy.verify.cloud import RegionCloud

    unknown = unknown_ids(MODULES, only)
    if unknown:
        raise UsageError(
            f"--only: unknown test id{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
            "(the test ids are those of the SCS-compatible IaaS certificate v5.1)"
        )
    region_dir = RegionDir.existing(directory)
    region = load_region(region_dir)
    clouds = clouds_file(region_dir)
    if not clouds.exists():
        raise ScsDeployError(f"{clouds} does not exist: deploy the openstack phase first")
    cloud = RegionCloud(clouds, region.name, datetime.now(UTC))
    try:
        return run_modules(MODULES, cloud, only)
    finally:
        cloud.close()
