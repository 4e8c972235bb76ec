"""DIR/clouds.yaml and the CA beside it, so that openstacksdk and the `openstack` client work."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from scs_deploy.model import Region
from scs_deploy.regiondir import RegionDir
from scs_deploy.secrets import SECRET_PREFIX, read_secrets

#: The project and user of the <region>-member cloud.
MEMBER_PROJECT = "member"
MEMBER_USER = "member"


def ca_file(region_dir: RegionDir) -> Path:
    return region_dir.path / "ca.crt"


def clouds_file(region_dir: RegionDir) -> Path:
    return region_dir.path / "clouds.yaml"


def clouds(region: Region, region_dir: RegionDir, secrets: dict[str, str]) -> dict[str, Any]:
    """Two clouds: ``<region>-admin`` (admin in project admin) and ``<region>-member``."""
    auth_url = region.endpoints["keystone"]["public_url"]

    def cloud(user: str, project: str, password: str) -> dict[str, Any]:
        return {
            "auth": {
                "auth_url": auth_url,
                "username": user,
                "password": password,
                "project_name": project,
                "user_domain_name": "Default",
                "project_domain_name": "Default",
            },
            "region_name": region.openstack.region_name,
            "interface": "public",
            "identity_api_version": 3,
            "cacert": str(ca_file(region_dir)),
        }

    return {
        "clouds": {
            f"{region.name}-admin": cloud(
                "admin", "admin", secrets[SECRET_PREFIX + "keystone_admin_password"]
            ),
            f"{region.name}-member": cloud(
                MEMBER_USER, MEMBER_PROJECT, secrets[SECRET_PREFIX + "keystone_member_password"]
            ),
        }
    }


def _write_private(path: Path, text: str, mode: int) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(temporary, mode)
    os.replace(temporary, path)


def write_clouds(region: Region, region_dir: RegionDir) -> Path:
    """Write DIR/clouds.yaml (0600: it holds passwords) and DIR/ca.crt; returns the former."""
    import yaml

    from scs_deploy.tls import ca_pem

    _write_private(ca_file(region_dir), ca_pem(region_dir, region), 0o644)
    target = clouds_file(region_dir)
    text = yaml.safe_dump(clouds(region, region_dir, read_secrets(region_dir)), sort_keys=True)
    header = (
        "# Written by scs-deploy after the openstack phase. Use it with\n"
        f"#   OS_CLIENT_CONFIG_FILE={target} openstack --os-cloud {region.name}-admin token issue\n"
    )
    _write_private(target, header + text, 0o600)
    return target
