"""The OpenStack services scs-deploy runs: their API ports, catalog entries and venvs. Pure data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

OpenStackServiceName = Literal[
    "keystone", "glance", "placement", "cinder", "nova", "neutron", "barbican", "octavia"
]

VENV_ROOT = "/opt/scs/venvs"
WHEEL_PORT = 8190
MARIADB_PORT = 3306
#: HTTP health check of a Galera node (infra_mariadb's galera-check), what HAProxy asks.
GALERA_CHECK_PORT = 9200
RABBITMQ_PORT = 5672
MEMCACHED_PORT = 11211
NOVA_METADATA_PORT = 8775
NOVNCPROXY_PORT = 6080
OVN_NB_PORT = 6641
OVN_SB_PORT = 6642
OVN_NB_RAFT_PORT = 6643
OVN_SB_RAFT_PORT = 6644
# Cinder's RBD backend (its cinder.conf section and volume_backend_name) and its type.
CINDER_BACKEND_NAME = "rbd-1"
DEFAULT_VOLUME_TYPE = "rbd"
# The cluster ([DEFAULT] cluster) the volume services of more than one host form:
# active/active on the one RBD backend (docs/openstack.md, "Cinder on three hosts").
CINDER_CLUSTER_NAME = "ceph"
# [oslo_messaging_rabbit] rabbit_qos_prefetch_count with stream fanout (oslo.messaging
# refuses 0, unlimited, there): kolla-ansible 2026.1's value.
RABBITMQ_QOS_PREFETCH_COUNT = 50
#: Seconds after which an oslo.messaging client takes a silent RabbitMQ server for dead, with
#: more than one server ([oslo_messaging_rabbit] heartbeat_timeout_threshold; its default is
#: 60). oslo.messaging also makes it the TCP_USER_TIMEOUT of the connection, so it bounds how
#: long a client sends into a host that lost its power. RabbitMQ's guide calls 5-20 s optimal
#: for most environments; the upper end leaves room for a loaded host.
RABBITMQ_HEARTBEAT_TIMEOUT_THRESHOLD = 20
# Seconds a memcached server that did not answer is left out before a client tries it
# again, with more than one server (oslo.cache's default: 300).
MEMCACHED_DEAD_RETRY = 60
#: Seconds keystonemiddleware waits for a memcached server before it leaves it out
#: (memcache_pool_socket_timeout; its default is 3).
MEMCACHED_SOCKET_TIMEOUT = 1
#: Seconds Keystone's oslo.cache waits for a memcached server before it leaves it out
#: ([cache] socket_timeout, a float; its default is 1.0).
KEYSTONE_CACHE_SOCKET_TIMEOUT = 0.25
#: Milliseconds of silence after which Neutron's OVSDB clients probe a clustered OVN
#: database, and as many again before they connect to another server (neutron's default is
#: 60000).
OVN_CLIENT_PROBE_INTERVAL_MS = 3000
# The physical network name Neutron and OVN give the external network's bridge.
EXTERNAL_PHYSNET = "physnet1"
# Debian's Ceph bindings, linked into the venvs of services that talk RADOS.
CEPH_SYSTEM_PACKAGES: tuple[str, ...] = ("python3-rados", "python3-rbd")
CEPH_SYSTEM_MODULES: tuple[str, ...] = ("rados", "rbd")
# Debian's libvirt bindings for nova-compute: libvirt-python is only an sdist on
# PyPI, and Debian builds the same bindings against the host's libvirt.
LIBVIRT_SYSTEM_PACKAGES: tuple[str, ...] = ("python3-libvirt",)
LIBVIRT_SYSTEM_MODULES: tuple[str, ...] = (
    "libvirt",
    "libvirtmod",
    "libvirt_qemu",
    "libvirtmod_qemu",
)


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
    uses_libvirt: bool = False

    @property
    def system_packages(self) -> tuple[str, ...]:
        """Debian packages whose modules the venv links in."""
        return (CEPH_SYSTEM_PACKAGES if self.uses_ceph else ()) + (
            LIBVIRT_SYSTEM_PACKAGES if self.uses_libvirt else ()
        )

    @property
    def system_modules(self) -> tuple[str, ...]:
        return (CEPH_SYSTEM_MODULES if self.uses_ceph else ()) + (
            LIBVIRT_SYSTEM_MODULES if self.uses_libvirt else ()
        )


@dataclass(frozen=True)
class ListenerSpec:
    """A port of a service that HAProxy publishes but the catalog does not list."""

    name: str
    service: OpenStackServiceName
    port: int
    check_path: str
    check_status: tuple[int, ...]
    # False: on the management VIP only (e.g. the metadata API, which only the
    # metadata agents on the hosts call).
    public: bool


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("keystone", "identity", "keystone", 5000, "/v3", "/v3", (200,)),
    ServiceSpec("glance", "image", "glance", 9292, "", "/", (200, 300), uses_ceph=True),
    ServiceSpec("placement", "placement", "placement", 8778, "", "/", (200,)),
    ServiceSpec(
        "cinder", "block-storage", "cinderv3", 8776, "/v3", "/", (200, 300), uses_ceph=True
    ),
    ServiceSpec(
        "nova",
        "compute",
        "nova",
        8774,
        "/v2.1",
        "/",
        (200,),
        uses_ceph=True,
        uses_libvirt=True,
    ),
    ServiceSpec("neutron", "network", "neutron", 9696, "", "/", (200,)),
    # The root answers 300 (version list) without a token.
    ServiceSpec("barbican", "key-manager", "barbican", 9311, "", "/", (200, 300)),
    # The root answers 200 (version list) without a token.
    ServiceSpec("octavia", "load-balancer", "octavia", 9876, "", "/", (200,)),
)

LISTENERS: tuple[ListenerSpec, ...] = (
    ListenerSpec("nova-metadata", "nova", NOVA_METADATA_PORT, "/", (200,), public=False),
    ListenerSpec("nova-novncproxy", "nova", NOVNCPROXY_PORT, "/vnc_lite.html", (200,), public=True),
)

SERVICE_NAMES: tuple[OpenStackServiceName, ...] = tuple(s.name for s in SERVICES)


def service_spec(name: str) -> ServiceSpec:
    for spec in SERVICES:
        if spec.name == name:
            return spec
    raise KeyError(name)
