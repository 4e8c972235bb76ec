"""What a region is: hosts, networks and per-layer settings. Pure data, no I/O."""

from __future__ import annotations

import hashlib
import re
from functools import cached_property
from ipaddress import IPv4Address, IPv4Network
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from scs_deploy.model.base import StrictModel
from scs_deploy.model.openstack import (
    CINDER_BACKEND_NAME,
    CINDER_CLUSTER_NAME,
    DEFAULT_VOLUME_TYPE,
    EXTERNAL_PHYSNET,
    GALERA_CHECK_PORT,
    KEYSTONE_CACHE_SOCKET_TIMEOUT,
    LISTENERS,
    MARIADB_PORT,
    MEMCACHED_DEAD_RETRY,
    MEMCACHED_PORT,
    MEMCACHED_SOCKET_TIMEOUT,
    NOVNCPROXY_PORT,
    OVN_CLIENT_PROBE_INTERVAL_MS,
    OVN_NB_PORT,
    OVN_SB_PORT,
    RABBITMQ_HEARTBEAT_TIMEOUT_THRESHOLD,
    RABBITMQ_QOS_PREFETCH_COUNT,
    SERVICE_NAMES,
    SERVICES,
    OpenStackServiceName,
)
from scs_deploy.model.scs import ScsSettings

DEFAULT_RELEASE = "2026.1"

# The pools of the RADOS gateway's default zone, and the placement groups each starts with.
# Not .rgw.root: since Reef a pool name that begins with "." is Ceph's own, and
# `ceph osd pool create` makes none (the gateway makes that one itself).
RGW_POOLS: tuple[str, ...] = (
    "default.rgw.log",
    "default.rgw.control",
    "default.rgw.meta",
    "default.rgw.buckets.index",
    "default.rgw.buckets.data",
    "default.rgw.buckets.non-ec",
)
RGW_POOL_PG_NUM = 8

HostRole = Literal["control", "compute", "network", "storage", "kaas"]
NetworkName = Literal["management", "public", "storage", "tunnel", "external"]
NETWORK_NAMES: tuple[NetworkName, ...] = ("management", "public", "storage", "tunnel", "external")

_HOSTNAME = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_INTERFACE = re.compile(r"^[A-Za-z0-9_.:-]{1,15}$")

# What each role needs at least; a host's minimum is the largest of its roles'.
ROLE_MIN_MEMORY_MB: dict[str, int] = {
    "control": 4096,
    "network": 1024,
    "compute": 2048,
    "storage": 2048,
    "kaas": 4096,
}
ROLE_MIN_CPUS: dict[str, int] = {
    "control": 2,
    "network": 1,
    "compute": 2,
    "storage": 1,
    "kaas": 2,
}


def _hostname(value: str) -> str:
    if not _HOSTNAME.match(value):
        raise ValueError(
            f"'{value}' is not a valid host name: use 1-63 lower-case letters, digits "
            "and '-', not starting or ending with '-'"
        )
    return value


HostName = Annotated[str, Field(min_length=1)]


class Disk(StrictModel):
    """A whole disk that becomes one Ceph OSD."""

    path: str
    wipe: bool = False

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        return {"path": value} if isinstance(value, str) else value

    @field_validator("path")
    @classmethod
    def _device_path(cls, value: str) -> str:
        if not value.startswith("/dev/") or len(value) <= len("/dev/"):
            raise ValueError(f"'{value}' is not a device path: use e.g. /dev/sdb")
        return value


class SshSettings(StrictModel):
    """How Ansible reaches the host."""

    user: str = "root"
    port: int = Field(default=22, ge=1, le=65535)
    private_key: str | None = None
    connection: Literal["ssh", "local"] = "ssh"


class Bond(StrictModel):
    """A Linux bond built from physical interfaces."""

    name: str
    members: list[str] = Field(min_length=1)
    mode: str = "802.3ad"

    @field_validator("name", "members")
    @classmethod
    def _interface_names(cls, value: Any) -> Any:
        for name in [value] if isinstance(value, str) else value:
            if not _INTERFACE.match(name):
                raise ValueError(f"'{name}' is not a valid interface name")
        return value


class Host(StrictModel):
    """One machine of the region."""

    name: str
    address: IPv4Address
    roles: list[HostRole] = Field(min_length=1)
    ssh: SshSettings = SshSettings()
    interfaces: dict[NetworkName, str] = {}
    addresses: dict[NetworkName, IPv4Address] = {}
    bonds: list[Bond] = []
    disks: list[Disk] = []
    manage_network: bool = True

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        return _hostname(value)

    @field_validator("roles")
    @classmethod
    def _unique_roles(cls, value: list[HostRole]) -> list[HostRole]:
        if len(set(value)) != len(value):
            raise ValueError("a role is listed twice")
        return value

    def has_role(self, role: HostRole) -> bool:
        return role in self.roles

    @property
    def min_memory_mb(self) -> int:
        # The kernel reports a little less than the installed size (an 8 GiB
        # host shows about 7.7 GiB), so the check allows 10 % below nominal.
        return max(ROLE_MIN_MEMORY_MB[r] for r in self.roles) * 9 // 10

    @property
    def min_cpus(self) -> int:
        return max(ROLE_MIN_CPUS[r] for r in self.roles)


class AllocationPool(StrictModel):
    start: IPv4Address
    end: IPv4Address


class Network(StrictModel):
    """An IPv4 network the hosts share."""

    cidr: IPv4Network
    gateway: IPv4Address | None = None
    vip: IPv4Address | None = None
    vlan: int | None = Field(default=None, ge=1, le=4094)
    mtu: int | None = Field(default=None, ge=576, le=9216)
    bridge: str | None = None
    allocation_pool: AllocationPool | None = None


class Networks(StrictModel):
    """Management is required; public, storage and tunnel fall back to it.

    ``external`` is the provider network of floating IPs and routers' gateways:
    Neutron's, not the hosts'. Its interface on a network host becomes a port of
    the OVS bridge ``bridge`` (default br-ex) and carries no host address.
    """

    management: Network
    public: Network | None = None
    storage: Network | None = None
    tunnel: Network | None = None
    external: Network | None = None

    def declared(self) -> dict[NetworkName, Network]:
        found: dict[NetworkName, Network] = {}
        for name in NETWORK_NAMES:
            network = getattr(self, name)
            if network is not None:
                found[name] = network
        return found

    def get(self, name: NetworkName) -> Network:
        network: Network | None = getattr(self, name)
        return network if network is not None else self.management


class Proxy(StrictModel):
    """HTTP(S) proxy every host uses to reach package mirrors and PyPI."""

    http: str | None = None
    https: str | None = None
    no_proxy: list[str] = []


class HostEnvironment(StrictModel):
    """What every host needs from its surroundings."""

    ca_certificates: list[str] = []
    proxy: Proxy = Proxy()
    apt_mirror: str = "http://deb.debian.org/debian"
    # None: the distribution's security archive; "": leave the security suite out
    apt_security_mirror: str | None = None
    ntp_servers: list[str] = ["0.debian.pool.ntp.org", "1.debian.pool.ntp.org"]
    dns_domain: str = ""


class Operator(StrictModel):
    """The account people use on the hosts."""

    user: str = Field(default="scs", pattern=r"^[a-z_][a-z0-9_-]{0,31}$")
    ssh_public_keys: list[str] = []


class CephPools(StrictModel):
    images: str = "images"
    volumes: str = "volumes"
    vms: str = "vms"
    backups: str = "backups"


class CephSettings(StrictModel):
    """Storage layer."""

    replicas: int = Field(default=3, ge=1, le=7)
    osd_backend: Literal["lvm", "raw"] = "lvm"
    mons: list[str] | None = None
    pools: CephPools = CephPools()
    allowed_health_warnings: list[str] = []
    rgw: bool = True
    rgw_port: int = Field(default=7480, ge=1, le=65535)

    @property
    def min_size(self) -> int:
        return 1 if self.replicas < 3 else self.replicas // 2 + 1

    @property
    def volume_type_description(self) -> str:
        """The description of the RBD volume type; scs-0114 puts the aspects it has first."""
        where = f"Ceph RBD volumes in pool {self.pools.volumes}"
        if self.replicas > 1:
            return f"[scs:replicated] {where}, {self.replicas} copies on different hosts"
        return f"{where}, one copy (not replicated)"


class TlsFiles(StrictModel):
    """The operator's own certificate for the API endpoints (PEM files).

    Relative to the region directory. ``certificate`` holds the server
    certificate followed by its chain; ``ca`` is the CA clients must trust.
    """

    certificate: str
    key: str
    ca: str


class ComputeSettings(StrictModel):
    """Nova's hypervisor settings."""

    # auto: KVM where the host has a usable one, else QEMU emulation (TCG).
    virt_type: Literal["auto", "kvm", "qemu"] = "auto"


class NetworkSettings(StrictModel):
    """Neutron with OVN."""

    # auto: the kernel datapath where the kernel has the openvswitch module, else
    # the userspace one (netdev).
    datapath: Literal["auto", "system", "netdev"] = "auto"
    tunnel_type: Literal["geneve", "vxlan"] = "geneve"


class OpenStackSettings(StrictModel):
    """IaaS layer."""

    region_name: str = Field(default="RegionOne", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    # None: scs-deploy generates a CA for the region and a server certificate.
    tls: TlsFiles | None = None
    # Which hosts run a service; a service not listed runs on every control host.
    services: dict[OpenStackServiceName, list[str]] = {}
    compute: ComputeSettings = ComputeSettings()
    network: NetworkSettings = NetworkSettings()
    # The one availability zone of compute, network and storage (scs-0121: the same name
    # in every service, so that a server, its network and its volumes go together).
    availability_zone: str = Field(default="nova", pattern=r"^[A-Za-z0-9_.-]{1,63}$")


class KaasSettings(StrictModel):
    """Kubernetes Cluster API management layer."""

    enabled: bool = False


class CephClient(StrictModel):
    """A cephx identity an OpenStack service uses, with least privilege."""

    name: str
    pools: tuple[str, ...]
    read_only_pools: tuple[str, ...] = ()
    groups: tuple[str, ...]
    # The system group of the service that reads the keyring.
    service_group: str

    @property
    def secret(self) -> str:
        return f"scs_secret_ceph_client_{self.name.replace('-', '_')}_key"

    @property
    def caps(self) -> dict[str, str]:
        grants = [f"profile rbd pool={p}" for p in self.pools]
        grants += [f"profile rbd-read-only pool={p}" for p in self.read_only_pools]
        return {
            "mon": "profile rbd",
            "osd": ", ".join(grants),
            "mgr": ", ".join(f"profile rbd pool={p}" for p in self.pools),
        }


class Region(StrictModel):
    """The one source of truth for a deployment."""

    name: str
    release: str = DEFAULT_RELEASE
    environment: HostEnvironment = HostEnvironment()
    operator: Operator = Operator()
    networks: Networks
    hosts: list[Host] = Field(min_length=1)
    ceph: CephSettings = CephSettings()
    openstack: OpenStackSettings = OpenStackSettings()
    kaas: KaasSettings = KaasSettings()
    scs: ScsSettings = ScsSettings()

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        return _hostname(value)

    def hosts_with(self, role: HostRole) -> list[Host]:
        return [h for h in self.hosts if role in h.roles]

    @cached_property
    def ceph_mon_names(self) -> list[str]:
        if self.ceph.mons is not None:
            return list(self.ceph.mons)
        return [h.name for h in self.hosts_with("control")]

    @property
    def host_groups(self) -> dict[str, set[str]]:
        """Host name -> the inventory groups it is in."""
        found: dict[str, set[str]] = {h.name: set() for h in self.hosts}
        for group, members in self.groups.items():
            for name in members:
                found[name].add(group)
        return found

    @cached_property
    def groups(self) -> dict[str, list[str]]:
        """Inventory groups: one per role, plus the service groups derived from them."""
        groups: dict[str, list[str]] = {
            role: [h.name for h in self.hosts_with(role)]
            for role in ("control", "network", "compute", "storage", "kaas")
        }
        storage_hosts = groups["storage"]
        groups["ceph_mon"] = self.ceph_mon_names
        groups["ceph_mgr"] = self.ceph_mon_names
        groups["ceph_osd"] = [h.name for h in self.hosts_with("storage") if h.disks]
        groups["ceph_rgw"] = groups["control"] if self.ceph.rgw and storage_hosts else []
        for infrastructure in ("mariadb", "rabbitmq", "memcached", "haproxy"):
            groups[infrastructure] = list(groups["control"])
        for name in SERVICE_NAMES:
            groups[name] = self.service_hosts(name)
        # The wheel cache is built once per region, on the first control host.
        groups["openstack_wheels"] = groups["control"][:1]
        groups["nova_compute"] = list(groups["compute"])
        groups["ovn_central"] = list(groups["control"])
        groups["ovn_controller"] = [
            h.name for h in self.hosts if h.has_role("compute") or h.has_role("network")
        ]
        groups["ovn_gateway"] = [h.name for h in self.hosts if self.is_ovn_gateway(h)]
        groups["neutron_metadata_agent"] = list(groups["compute"])
        return groups

    def is_ovn_gateway(self, host: Host) -> bool:
        """A network host with an interface on the external network routes floating IPs."""
        return (
            host.has_role("network")
            and self.networks.external is not None
            and "external" in host.interfaces
        )

    @property
    def external_bridge(self) -> str:
        external = self.networks.external
        return external.bridge if external is not None and external.bridge else "br-ex"

    @cached_property
    def neutron_external(self) -> dict[str, Any]:
        """The external provider network, as Neutron and OVN see it ({} without one)."""
        external = self.networks.external
        if external is None:
            return {}
        pool = external.allocation_pool
        return {
            "name": "external",
            "physnet": EXTERNAL_PHYSNET,
            "bridge": self.external_bridge,
            "network_type": "vlan" if external.vlan is not None else "flat",
            "segmentation_id": external.vlan,
            "cidr": str(external.cidr),
            "gateway": str(external.gateway) if external.gateway else None,
            "allocation_pool": (
                {"start": str(pool.start), "end": str(pool.end)} if pool is not None else None
            ),
            "mtu": external.mtu or 1500,
        }

    def ovn_connection(self, port: int, host: Host | None = None) -> str:
        """ovsdb client connection string over every OVN central host; for a client on
        ``host``, its own server first (``own_first``)."""
        centrals = [h.name for h in self.hosts_with("control")]
        if host is not None:
            centrals = self.own_first(centrals, host)
        return ",".join(f"tcp:{self.host(name).address}:{port}" for name in centrals)

    @property
    def ovn_nb_connection(self) -> str:
        return self.ovn_connection(OVN_NB_PORT)

    @property
    def ovn_sb_connection(self) -> str:
        return self.ovn_connection(OVN_SB_PORT)

    @property
    def ovn_client_probe_interval(self) -> int | None:
        """Neutron's [ovn] ovsdb_probe_interval (ms): None (neutron's 60 s) with one server.

        With a RAFT cluster, Neutron writes through the leader. A leader that lost its power
        answers nothing, and its clients learn it only from their inactivity probe: with
        60 s every network, port and router change waited one to two minutes after such a
        failover, with 5 s it waited 5 to 10 s; with 3 s it waits 3 to 6 s, about as long as
        Galera stalls writes after such a loss (evs.suspect_timeout, 5 s). A longer probe
        suits a database so large that its leader cannot answer an echo within 3 s.
        """
        return OVN_CLIENT_PROBE_INTERVAL_MS if len(self.hosts_with("control")) > 1 else None

    @property
    def novncproxy_base_url(self) -> str:
        return f"https://{self.public_vip}:{NOVNCPROXY_PORT}/vnc_lite.html"

    def service_hosts(self, name: OpenStackServiceName) -> list[str]:
        """Hosts that run an OpenStack service: the model's list, else every control host."""
        listed = self.openstack.services.get(name)
        if listed is not None:
            return list(listed)
        return [h.name for h in self.hosts_with("control")]

    @property
    def public_vip(self) -> IPv4Address | None:
        """Where the public endpoints answer: the public network's VIP if it has one, else
        the management VIP (the public network may carry only floating IPs)."""
        public = self.networks.public
        if public is not None and public.vip is not None:
            return public.vip
        return self.networks.management.vip

    def public_interface(self, host: Host) -> str:
        """The device that carries the host's public network ("" when not modelled)."""
        device = host.interfaces.get("public")
        if device is None:
            return ""
        network = self.networks.get("public")
        if network.bridge is not None:
            return network.bridge
        return f"{device}.{network.vlan}" if network.vlan is not None else device

    def tunnel_interface(self, host: Host) -> str:
        """The device that carries the host's address on a declared tunnel network ("" when
        the tunnels leave from the management address)."""
        address = host.addresses.get("tunnel")
        if self.networks.tunnel is None or address is None:
            return ""
        return self._device_with_address(host, address)

    def tunnel_cidr(self, host: Host) -> str:
        """The host's tunnel address with the tunnel network's prefix length."""
        prefix = self.networks.get("tunnel").cidr.prefixlen
        return f"{self.address_on(host, 'tunnel')}/{prefix}"

    def management_interface(self, host: Host) -> str:
        """The device that carries the host's management address ("" when not modelled)."""
        return self._device_with_address(host, host.address)

    def _device_with_address(self, host: Host, address: IPv4Address) -> str:
        """The device of the host's interface stanzas that carries ``address`` ("" if none)."""
        for stanza in self.host_interfaces(host):
            if stanza["address"].split("/")[0] == str(address):
                return str(stanza["name"])
        return ""

    @cached_property
    def endpoints(self) -> dict[str, dict[str, Any]]:
        """Catalog entries; every URL goes through HAProxy and speaks TLS."""
        internal, public = self.vip, self.public_vip
        return {
            spec.name: {
                "type": spec.catalog_type,
                "name": spec.catalog_name,
                "port": spec.port,
                "public_url": f"https://{public}:{spec.port}{spec.url_path}",
                "internal_url": f"https://{internal}:{spec.port}{spec.url_path}",
            }
            for spec in SERVICES
            if self.service_hosts(spec.name)
        }

    @property
    def volume_types(self) -> list[dict[str, Any]]:
        """One type per Cinder backend ([] without Cinder), described as scs-0114 asks."""
        if not self.service_hosts("cinder"):
            return []
        return [
            {
                "name": DEFAULT_VOLUME_TYPE,
                "description": self.ceph.volume_type_description,
                "is_public": True,
                "extra_specs": {"volume_backend_name": CINDER_BACKEND_NAME},
            }
        ]

    @cached_property
    def object_store_endpoint(self) -> dict[str, Any]:
        """The Ceph RADOS gateway's Swift API in the catalog ({} without a gateway); the URL
        names the project, whose gateway tenant holds its containers and buckets."""
        if not self.groups["ceph_rgw"]:
            return {}
        port = self.ceph.rgw_port
        path = "/swift/v1/AUTH_%(project_id)s"
        return {
            "type": "object-store",
            "name": "swift",
            "port": port,
            "public_url": f"https://{self.public_vip}:{port}{path}",
            "internal_url": f"https://{self.vip}:{port}{path}",
        }

    @cached_property
    def endpoint_probes(self) -> dict[str, str]:
        """Service and interface ("keystone public") to the URL a GET probes: up to a %(...)s;
        the object store at its root, where S3 answers anonymous requests."""
        probes = {
            f"{name} {interface}": re.sub(r"/?%\(.*$", "", entry[f"{interface}_url"])
            for name, entry in self.endpoints.items()
            for interface in ("public", "internal")
        }
        if self.object_store_endpoint:
            for interface in ("public", "internal"):
                url = self.object_store_endpoint[f"{interface}_url"]
                probes[f"object-store {interface}"] = re.sub(r"^(https://[^/]+)/.*$", r"\1/", url)
        return probes

    @cached_property
    def haproxy_services(self) -> list[dict[str, Any]]:
        """One HAProxy frontend and backend per API, plus the database."""
        binds = sorted({str(a) for a in (self.vip, self.public_vip) if a is not None})

        def backends(names: list[str], port: int) -> list[dict[str, Any]]:
            return [
                {"name": name, "address": str(self.host(name).address), "port": port}
                for name in names
            ]

        services: list[dict[str, Any]] = [
            {
                "name": spec.name,
                "port": spec.port,
                "mode": "http",
                "tls": True,
                "check_path": spec.check_path,
                "check_status": list(spec.check_status),
                "bind": binds,
                "backends": backends(self.service_hosts(spec.name), spec.port),
                "active_backends": 0,
            }
            for spec in SERVICES
            if self.service_hosts(spec.name)
        ]
        services += [
            {
                "name": listener.name,
                "port": listener.port,
                "mode": "http",
                "tls": True,
                "check_path": listener.check_path,
                "check_status": list(listener.check_status),
                "bind": binds if listener.public else [str(self.vip)] if self.vip else [],
                "backends": backends(self.service_hosts(listener.service), listener.port),
                "active_backends": 0,
            }
            for listener in LISTENERS
            if self.service_hosts(listener.service)
        ]
        if self.object_store_endpoint:
            services.append(
                {
                    "name": "swift",
                    "port": self.ceph.rgw_port,
                    "mode": "http",
                    "tls": True,
                    "check_path": "/",
                    "check_status": [200],
                    "bind": binds,
                    "backends": backends(self.groups["ceph_rgw"], self.ceph.rgw_port),
                    "active_backends": 0,
                }
            )
        # Clients reach the database on the management VIP only; one server takes
        # the writes at a time (what Galera wants, too: no certification conflicts).
        database: dict[str, Any] = {
            "name": "mariadb",
            "port": MARIADB_PORT,
            "mode": "tcp",
            "tls": False,
            "check_path": "",
            "check_status": [],
            "bind": [str(self.vip)] if self.vip else [],
            "backends": backends(self.groups["mariadb"], MARIADB_PORT),
            "active_backends": 1,
        }
        if self.mariadb_galera:
            # A Galera node outside the primary component accepts connections and refuses
            # every query: HAProxy asks its HTTP health check instead of opening a connection.
            database.update(check_path="/", check_status=[200], check_port=GALERA_CHECK_PORT)
        services.append(database)
        return services

    @property
    def mariadb_galera(self) -> bool:
        """More than one database host form a Galera cluster."""
        return len(self.groups["mariadb"]) > 1

    @property
    def mariadb_wsrep_sync_wait(self) -> int | None:
        """Causal reads (wsrep_sync_wait 1) on the services' connections when Galera serves them.

        HAProxy sends new connections to the first node, but pooled ones stay where they were
        opened: after the first node comes back, one service holds connections on two nodes,
        and a read on one must see what a request just wrote through the other. Galera applies
        a replicated write a little later than it commits; a causal read waits for that.
        """
        return 1 if self.mariadb_galera else None

    @property
    def keepalived_router_id(self) -> int:
        """A VRRP router id (1-255) stable for the region, unlikely to clash with a neighbour's."""
        return int(hashlib.sha256(self.name.encode()).hexdigest(), 16) % 255 + 1

    def keepalived_priority(self, host: Host) -> int:
        """The first control host holds the VIP by preference, the next ones follow."""
        controls = [h.name for h in self.hosts_with("control")]
        return 150 - controls.index(host.name) if host.name in controls else 0

    def own_first(self, servers: list[str], host: Host) -> list[str]:
        """``servers`` (host names) in the order the host's clients try them: its own first,
        then the next ones; a host without one starts at its place in the region, so that
        clients spread. Neutron reads the OVN schema over a fresh blocking connection to
        each remote in the order named, and a SYN to a host that lost its power goes
        unanswered for 127 s: with one order for all, the loss of the first host stalled
        every Neutron process that read it. (oslo.messaging shuffles its RabbitMQ hosts
        itself, so their order does not matter.)"""
        if not servers:
            return []
        names = [h.name for h in self.hosts]
        start = (
            servers.index(host.name)
            if host.name in servers
            else names.index(host.name) % len(servers)
        )
        return servers[start:] + servers[:start]

    def haproxy_drained_backends(self, host: Host) -> dict[str, list[str]]:
        """The HAProxy backends a restart of each OpenStack service on ``host`` takes the
        host out of first, per service: those where ``host`` is one server of several.

        uWSGI stops gracefully (it finishes the requests it took), but HAProxy keeps handing
        it requests until two checks failed, and those end in 502s (a rolling Neutron
        restart lost 4 calls of a client loop on 2026-11-30). With one server there is
        nothing to send the requests to instead."""
        found: dict[str, list[str]] = {}
        backends: list[tuple[OpenStackServiceName, str]] = [(s.name, s.name) for s in SERVICES]
        backends += [(listener.service, listener.name) for listener in LISTENERS]
        for service, backend in backends:
            servers = self.service_hosts(service)
            if host.name in servers and len(servers) > 1:
                found.setdefault(service, []).append(backend)
        return found

    @cached_property
    def memcached_servers(self) -> list[str]:
        return [f"{h.address}:{MEMCACHED_PORT}" for h in self.hosts_with("control")]

    @property
    def memcached_dead_retry(self) -> int | None:
        """Keystone's [cache] memcache_dead_retry: None (oslo.cache's 300 s) with one server.

        With more, a server that failed is left out for this long and its keys go to the
        others; a client that still skips it after it is back reads and writes those keys
        elsewhere than the clients that do not, so a short time keeps invalidations (a
        revoked token, a removed role) seen by every keystone process.
        """
        return MEMCACHED_DEAD_RETRY if len(self.memcached_servers) > 1 else None

    @property
    def memcached_socket_timeout(self) -> int | None:
        """keystonemiddleware's memcache_pool_socket_timeout: None (its 3 s) with one server.

        With more, every API process meets a server that lost its power once, on its first
        token check after the loss, and waits this long before it leaves that server out:
        3 s per process made every API answer slowly for half a minute after a failover.
        memcached answers within milliseconds on the management network.
        """
        return MEMCACHED_SOCKET_TIMEOUT if len(self.memcached_servers) > 1 else None

    @property
    def keystone_cache_socket_timeout(self) -> float | None:
        """Keystone's [cache] socket_timeout: None (oslo.cache's 1 s) with one server.

        Keystone keeps one cache region per subsystem (tokens, revocations, assignments,
        catalog, ...), and each region has its own memcache_pool with its own list of dead
        servers. A server that lost its power costs every keystone process this timeout once
        per region it touches: with 1 s a token took 4 s after a failover. memcached answers
        within a millisecond on the management network, so a quarter second still leaves
        room for a loaded host.
        """
        return KEYSTONE_CACHE_SOCKET_TIMEOUT if len(self.memcached_servers) > 1 else None

    @cached_property
    def oslo_messaging_rabbit(self) -> dict[str, Any]:
        """[oslo_messaging_rabbit] of every service that talks to RabbitMQ (one dict for all:
        the processes on one vhost must declare its exchanges alike).

        Durable queues are quorum queues everywhere. With more than one RabbitMQ host the
        reply and fanout queues are replicated too (quorum queues, and one stream per fanout
        topic), as kolla-ansible 2026.1 does. One host keeps them classic: a region's
        fanout exchanges, once declared non-durable, refuse a durable declaration
        (PRECONDITION_FAILED) while a queue is bound to them. use_queue_manager stays off:
        its counter file /dev/shm/<host>_<processname>_qmanager would be shared by every
        uWSGI-run API of a host (all of them are "uwsgi"), as different users, resetting
        each other's counters into duplicate reply queue names.

        With more than one host, a client also gives up on a silent server after 20 s
        instead of 60 s (heartbeat_timeout_threshold), and moves to the next one: after a
        power cut nova-compute lost its conductor for 70 s, cinder-volume its server too.
        """
        options: dict[str, Any] = {"rabbit_quorum_queue": True}
        if len(self.groups["rabbitmq"]) > 1:
            options.update(
                {
                    "rabbit_transient_quorum_queue": True,
                    "rabbit_stream_fanout": True,
                    "rabbit_qos_prefetch_count": RABBITMQ_QOS_PREFETCH_COUNT,
                    "heartbeat_timeout_threshold": RABBITMQ_HEARTBEAT_TIMEOUT_THRESHOLD,
                }
            )
        return options

    @property
    def cinder_cluster(self) -> str | None:
        """Cinder's [DEFAULT] cluster: the volume services of more than one host form one
        (active/active); None with one host, which keeps its own host name."""
        return CINDER_CLUSTER_NAME if len(self.service_hosts("cinder")) > 1 else None

    def host(self, name: str) -> Host:
        for host in self.hosts:
            if host.name == name:
                return host
        raise KeyError(name)

    def address_on(self, host: Host, network: NetworkName) -> IPv4Address:
        """The host's address on a network; networks not declared fall back to management."""
        return host.addresses.get(network, host.address)

    @property
    def vip(self) -> IPv4Address | None:
        return self.networks.management.vip

    @cached_property
    def ceph_allowed_health_warnings(self) -> list[str]:
        """Warnings the health gate accepts; one replica is a choice, so its warning is too."""
        allowed = list(self.ceph.allowed_health_warnings)
        if self.ceph.replicas == 1 and "POOL_NO_REDUNDANCY" not in allowed:
            allowed.append("POOL_NO_REDUNDANCY")
        return allowed

    @cached_property
    def ceph_pools(self) -> list[dict[str, Any]]:
        """The RBD pools, and the RADOS gateway's: made here with few placement groups
        (the autoscaler grows them with their data), before the gateway would make them
        itself with the default count, and its bucket data pool as a "bulk" pool with
        hundreds, more than a small cluster's OSDs may hold."""
        pools = self.ceph.pools

        def pool(name: str, application: str, pg_num: int | None) -> dict[str, Any]:
            return {
                "name": name,
                "size": self.ceph.replicas,
                "min_size": self.ceph.min_size,
                "application": application,
                "pg_num": pg_num,
            }

        found = [
            pool(name, "rbd", None)
            for name in (pools.images, pools.volumes, pools.vms, pools.backups)
        ]
        if self.groups["ceph_rgw"]:
            found += [pool(name, "rgw", RGW_POOL_PG_NUM) for name in RGW_POOLS]
        return found

    @cached_property
    def ceph_clients(self) -> list[CephClient]:
        pools = self.ceph.pools
        return [
            CephClient(
                name="glance", pools=(pools.images,), groups=("control",), service_group="glance"
            ),
            CephClient(
                name="cinder",
                pools=(pools.volumes, pools.vms),
                read_only_pools=(pools.images,),
                groups=("control", "compute"),
                service_group="cinder",
            ),
            CephClient(
                name="cinder-backup",
                pools=(pools.backups,),
                groups=("control",),
                service_group="cinder",
            ),
            CephClient(
                name="nova",
                pools=(pools.vms,),
                read_only_pools=(pools.images,),
                groups=("compute",),
                service_group="nova",
            ),
        ]

    def host_interfaces(self, host: Host) -> list[dict[str, Any]]:
        """ifupdown-style stanzas for the host, in the order they must come up."""
        stanzas: dict[str, dict[str, Any]] = {}

        def stanza(name: str, kind: str, **values: Any) -> dict[str, Any]:
            base: dict[str, Any] = {
                "name": name,
                "kind": kind,
                "method": "manual",
                "address": "",
                "gateway": "",
                "mtu": 0,
                "bond_slaves": [],
                "bond_mode": "",
                "bridge_ports": [],
                "vlan_raw_device": "",
                "vlan_id": 0,
            }
            base.update(values)
            return stanzas.setdefault(name, base)

        bonds = {bond.name: bond for bond in host.bonds}
        for bond in host.bonds:
            for member in bond.members:
                stanza(member, "ethernet")
            stanza(bond.name, "bond", bond_slaves=list(bond.members), bond_mode=bond.mode)
        for network_name, device in host.interfaces.items():
            if network_name == "external":
                # Up without an address: OVN's bridge takes it as a port (a VLAN
                # on it is Neutron's segmentation, not the host's).
                if device not in bonds:
                    stanza(device, "ethernet")
                continue
            network = self.networks.get(network_name)
            if device not in bonds:
                stanza(device, "ethernet")
            carrier = device
            if network.vlan is not None:
                carrier = f"{device}.{network.vlan}"
                stanza(carrier, "vlan", vlan_raw_device=device, vlan_id=network.vlan)
            if network.bridge is not None:
                stanza(network.bridge, "bridge", bridge_ports=[carrier])
                carrier = network.bridge
            target = stanzas[carrier]
            if network_name == "management" or network_name in host.addresses:
                target["method"] = "static"
                target["address"] = (
                    f"{self.address_on(host, network_name)}/{network.cidr.prefixlen}"
                )
            if network_name == "management" and network.gateway is not None:
                target["gateway"] = str(network.gateway)
            if network.mtu is not None:
                target["mtu"] = network.mtu
        return list(stanzas.values())
