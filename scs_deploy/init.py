"""``scs-deploy init``: a commented region.yml from a profile, plus secrets."""

from __future__ import annotations

import shlex
from pathlib import Path

from scs_deploy.errors import UsageError
from scs_deploy.lock import region_lock
from scs_deploy.regiondir import RegionDir

PROFILES = ("aio", "ha")
_PROFILE_DIR = Path(__file__).resolve().parent / "profiles"


def profile_text(profile: str) -> str:
    if profile not in PROFILES:
        raise UsageError(f"unknown profile '{profile}'; profiles are: {', '.join(PROFILES)}")
    return (_PROFILE_DIR / f"{profile}.yml").read_text(encoding="utf-8")


def init_region(path: Path, profile: str, *, force: bool = False) -> list[str]:
    """Write region.yml and create (or complete) the secrets. Returns added secret names."""
    from scs_deploy.model import DEFAULT_RELEASE
    from scs_deploy.secrets import ensure_secrets

    text = profile_text(profile)
    region_dir = RegionDir(path.resolve())
    if region_dir.region_file.exists() and not force:
        raise UsageError(
            f"{region_dir.region_file} exists; use --force to replace it "
            "(secrets are kept) or --merge to only add missing secrets"
        )
    if path.exists() and not path.is_dir():
        raise UsageError(f"{path} exists and is not a directory")
    path.mkdir(parents=True, exist_ok=True)
    command = shlex.join(
        ["scs-deploy", "init", str(region_dir.path), "--profile", profile]
        + (["--force"] if force else [])
    )
    with region_lock(region_dir.path, command):
        added = ensure_secrets(region_dir, DEFAULT_RELEASE)
        region_dir.region_file.write_text(text, encoding="utf-8")
        from scs_deploy.tls import ensure_ca

        # The server certificate names the region's VIPs: deploy issues it once the
        # operator has set them.
        return added + ensure_ca(region_dir, region_dir.path.name)


def merge_secrets(path: Path) -> list[str]:
    """Add the secrets the region's release needs and the file lacks."""
    from scs_deploy.secrets import ensure_secrets
    from scs_deploy.validate import load_region

    region_dir = RegionDir.existing(path)
    with region_lock(
        region_dir.path, f"scs-deploy init {shlex.quote(str(region_dir.path))} --merge"
    ):
        region = load_region(region_dir)
        from scs_deploy.tls import ensure_tls_secrets

        return ensure_secrets(region_dir, region.release) + ensure_tls_secrets(region_dir, region)
