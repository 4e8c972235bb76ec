"""The OpenStack services scs-deploy runs: their API ports, catalog entries and venvs. Pure data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

OpenStackServiceName = Literal["keystone", "glance", "placement", "cinder"]

VENV_ROOT = "/opt/scs/venvs"
WHEEL_PORT = 8190
MARIADB_PORT = 3306
RABBITMQ_PORT = 5672
MEMCACHED_PORT = 11211
# Debian's Ceph bindings, linked into the venvs of services that talk RADOS.
CEPH_SYSTEM_PACKAGES: tuple[str, ...] = ("python3-rados", "python3-rbd")
CEPH_SYSTEM_MODULES: tuple[str, ...] = ("rados", "rbd")


@dataclass(frozen=True)
class ServiceSpec:
    """What is fixed about one OpenStack API service, whatever the region."""

    name: OpenStackServiceName
    catalog_type: str
    catalog_name: str
    port: int
    # Appended to the endpoint URL in the catalog.
    url_path: str
    # What HAProxy asks a backend, and the answers that mean "up".
    check_path: str
    check_status: tuple[int, ...]
    uses_ceph: bool = False


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("keystone", "identity", "keystone", 5000, "/v3", "/v3", (200,)),
    ServiceSpec("glance", "image", "glance", 9292, "", "/", (200, 300), uses_ceph=True),
    ServiceSpec("placement", "placement", "placement", 8778, "", "/", (200,)),
    ServiceSpec(
        "cinder", "block-storage", "cinderv3", 8776, "/v3", "/", (200, 300), uses_ceph=True
    ),
)

SERVICE_NAMES: tuple[OpenStackServiceName, ...] = tuple(s.name for s in SERVICES)


def service_spec(name: str) -> ServiceSpec:
    for spec in SERVICES:
        if spec.name == name:
            return spec
    raise KeyError(name)
