"""`scs-deploy verify DIR`: the certificate's modules, checked against a deployed region."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from scs_deploy.errors import ScsDeployError, UsageError
from scs_deploy.verify.core import Result, run_modules, unknown_ids
from scs_deploy.verify.modules import MODULES, OPERATIONS, SMOKE

Say = Callable[[str], None]


def verify_region(
    directory: Path, only: Sequence[str] = (), say: Say = lambda _line: None
) -> list[Result]:
    """The certificate's test ids, the manual checks an API can decide, then the smoke
    workload (whose guest the entropy checks share), each with its outcome."""
    from scs_deploy.clouds import clouds_file
    from scs_deploy.regiondir import RegionDir
    from scs_deploy.validate import load_region
    from scs_deploy.verify.cloud import RegionCloud

    modules = (*MODULES, OPERATIONS, SMOKE)
    unknown = unknown_ids(modules, only)
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
    from scs_deploy.releases import load_release

    release = load_release(region.release)
    cloud = RegionCloud(clouds, region.name, datetime.now(UTC), release.scs.standard_images)
    cloud.say = say
    try:
        return run_modules(modules, cloud, only)
    finally:
        cloud.close()
