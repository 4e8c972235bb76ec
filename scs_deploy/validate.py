"""Load region.yml and check it, reporting every problem with its place in the file."""

from __future__ import annotations

import difflib
from ipaddress import IPv4Address
from itertools import combinations
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError

from scs_deploy.errors import ConfigError, Problem
from scs_deploy.model import Region
from scs_deploy.regiondir import RegionDir
from scs_deploy.yamlsource import Located, load_located


def load_region(region_dir: RegionDir) -> Region:
    """The region of ``region_dir``, or ConfigError with every problem found."""
    cache = region_dir.build_dir / ".cache"
    located = load_located(
        region_dir.region_file, "region.yml", cache if region_dir.build_dir.is_dir() else None
    )
    if not isinstance(located.data, dict):
        raise ConfigError([located.problem([], "the file must hold a mapping (name, hosts, ...)")])
    try:
        region = Region.model_validate(located.data)
    except ValidationError as exc:
        raise ConfigError(schema_problems(exc, located)) from None
    problems = check_region(region, located, region_dir)
    if problems:
        raise ConfigError(problems)
    return region


def schema_problems(exc: ValidationError, located: Located) -> list[Problem]:
    """Pydantic's errors, placed in the file and worded for the person who wrote it."""
    problems = []
    for error in exc.errors(include_url=False):
        loc = [part for part in error["loc"] if not _is_union_tag(part)]
        kind = error["type"]
        if kind == "extra_forbidden":
            unknown = str(loc[-1])
            allowed = _allowed_keys(loc[:-1])
            message = f"unknown key '{unknown}'"
            close = difflib.get_close_matches(unknown, allowed, n=1)
            if close:
                message += f"; did you mean '{close[0]}'?"
            elif allowed:
                message += f"; allowed here: {', '.join(allowed)}"
            problems.append(located.problem(loc, message, key=True))
            continue
        if kind == "missing":
            problems.append(located.problem(loc, "is required but missing"))
            continue
        message = str(error["msg"])
        message = message.removeprefix("Value error, ")
        value = error.get("input")
        if kind in {"string_type", "int_type", "bool_type", "list_type", "dict_type"}:
            message += f" (got {type(value).__name__} {value!r})"
            if loc == ["release"]:
                message += '; write the release in quotes, e.g. release: "2026.1"'
        problems.append(located.problem(loc, message))
    return problems


def _is_union_tag(part: Any) -> bool:
    return isinstance(part, str) and ("[" in part or part in {"str", "int"})


def _allowed_keys(loc: list[Any]) -> list[str]:
    """The keys the model accepts at ``loc`` (for 'did you mean')."""
    model: Any = Region
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return []
        field = model.model_fields.get(str(part))
        if field is None:
            return []
        model = _inner_model(field.annotation)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return sorted(model.model_fields)
    return []


def _inner_model(annotation: Any) -> Any:
    """The BaseModel inside ``list[X]``, ``X | None`` and the like."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def check_region(region: Region, located: Located, region_dir: RegionDir) -> list[Problem]:
    """Cross-field checks that need no SSH."""
    from scs_deploy.releases import available_releases

    problems: list[Problem] = []

    def problem(path: list[str | int], message: str, *, key: bool = False) -> None:
        problems.append(located.problem(path, message, key=key))

    if region.release not in available_releases():
        problem(
            ["release"],
            f"unknown release '{region.release}'; available: {', '.join(available_releases())}",
        )

    _check_networks(region, problem)
    _check_hosts(region, problem, region_dir)
    _check_roles(region, problem)
    _check_ceph(region, problem)
    _check_openstack(region, problem, region_dir)

    for index, image in enumerate(region.scs.images):
        if image.file is not None and not region_dir.resolve(image.file).is_file():
            problem(
                ["scs", "images", index, "file"], f"{region_dir.resolve(image.file)} is not a file"
            )

    for index, cert in enumerate(region.environment.ca_certificates):
        path = region_dir.resolve(cert)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            problem(["environment", "ca_certificates", index], f"cannot read {path}")
            continue
        if "-----BEGIN CERTIFICATE-----" not in text:
            problem(["environment", "ca_certificates", index], f"{path} holds no PEM certificate")
    return problems


class Report(Protocol):
    """How a check reports a problem: where in region.yml, and what."""

    def __call__(self, path: list[str | int], message: str, *, key: bool = False) -> None: ...


def _check_networks(region: Region, problem: Report) -> None:
    declared = region.networks.declared()
    for name, network in declared.items():
        for field in ("gateway", "vip"):
            address = getattr(network, field)
            if address is not None and address not in network.cidr:
                problem(
                    ["networks", name, field],
                    f"{address} is outside the {name} network {network.cidr}",
                )
        pool = network.allocation_pool
        if pool is not None:
            for end in ("start", "end"):
                if getattr(pool, end) not in network.cidr:
                    problem(
                        ["networks", name, "allocation_pool", end],
                        f"{getattr(pool, end)} is outside the {name} network {network.cidr}",
                    )
    for (name_a, net_a), (name_b, net_b) in combinations(declared.items(), 2):
        if net_a.cidr.overlaps(net_b.cidr):
            problem(
                ["networks", name_b, "cidr"],
                f"{net_b.cidr} overlaps the {name_a} network {net_a.cidr}; "
                "networks must not overlap (leave a network out to share management)",
            )
    host_addresses = {h.address for h in region.hosts}
    for host in region.hosts:
        host_addresses.update(host.addresses.values())
    for name, network in declared.items():
        if network.vip is not None and network.vip in host_addresses:
            problem(
                ["networks", name, "vip"],
                f"{network.vip} is a host address; the VIP must be a free address",
            )


def _check_hosts(region: Region, problem: Report, region_dir: RegionDir) -> None:
    declared = region.networks.declared()
    seen_names: set[str] = set()
    seen_addresses: dict[IPv4Address, str] = {}
    for index, host in enumerate(region.hosts):
        if host.name in seen_names:
            problem(["hosts", index, "name"], f"host name '{host.name}' is used more than once")
        seen_names.add(host.name)
        management = region.networks.management
        if host.address not in management.cidr:
            problem(
                ["hosts", index, "address"],
                f"{host.address} is outside the management network {management.cidr}",
            )
        if host.address in seen_addresses:
            problem(
                ["hosts", index, "address"],
                f"{host.address} is already the address of {seen_addresses[host.address]}",
            )
        seen_addresses.setdefault(host.address, host.name)
        for network_name, address in host.addresses.items():
            network = declared.get(network_name)
            where: list[str | int] = ["hosts", index, "addresses", network_name]
            if network is None:
                problem(where, f"the region declares no {network_name} network")
            elif address not in network.cidr:
                problem(where, f"{address} is outside the {network_name} network {network.cidr}")
            elif address in seen_addresses and network_name != "management":
                problem(where, f"{address} is already an address of {seen_addresses[address]}")
            seen_addresses.setdefault(address, host.name)
        for network_name in host.interfaces:
            if network_name not in declared:
                problem(
                    ["hosts", index, "interfaces", network_name],
                    f"the region declares no {network_name} network",
                )
        if (
            "storage" in declared
            and "storage" not in host.addresses
            and ("storage" in host.roles or host.name in region.ceph_mon_names)
        ):
            problem(
                ["hosts", index, "addresses"],
                f"{host.name} runs Ceph and the region declares a storage network: "
                "give it an address there (addresses: {storage: ...})",
            )
        if (
            "tunnel" in declared
            and "tunnel" not in host.addresses
            and host.name in region.groups["ovn_controller"]
        ):
            problem(
                ["hosts", index, "addresses"],
                f"{host.name} is an OVN chassis and the region declares a tunnel network: "
                "give it an address there (addresses: {tunnel: ...})",
            )
        disk_paths: set[str] = set()
        for disk_index, disk in enumerate(host.disks):
            if disk.path in disk_paths:
                problem(
                    ["hosts", index, "disks", disk_index],
                    f"disk {disk.path} is listed more than once on {host.name}",
                )
            disk_paths.add(disk.path)
        if host.disks and "storage" not in host.roles:
            problem(
                ["hosts", index, "disks"],
                f"{host.name} lists disks but is not a storage host; add the role "
                "'storage' or remove the disks",
            )
        if host.ssh.private_key is not None:
            key = region_dir.resolve(host.ssh.private_key)
            if not key.is_file():
                problem(["hosts", index, "ssh", "private_key"], f"{key} does not exist")


def _check_roles(region: Region, problem: Report) -> None:
    for role in ("control", "compute"):
        if not region.hosts_with(role):
            problem(["hosts"], f"no host has the role '{role}'; at least one is required")
    controls = region.hosts_with("control")
    if len(controls) > 1 and len(controls) % 2 == 0:
        problem(
            ["hosts"],
            f"{len(controls)} control hosts cannot keep a quorum when half fail; "
            "use an odd number (1, 3, 5)",
        )
    if region.kaas.enabled and not region.hosts_with("kaas"):
        problem(["kaas", "enabled"], "KaaS is enabled but no host has the role 'kaas'")


def _check_ceph(region: Region, problem: Report) -> None:
    storage = [h for h in region.hosts_with("storage") if h.disks]
    if storage and region.ceph.replicas > len(storage):
        problem(
            ["ceph", "replicas"],
            f"{region.ceph.replicas} replicas need at least {region.ceph.replicas} storage "
            f"hosts with disks; the region has {len(storage)}",
        )
    mons = region.ceph.mons
    if mons is not None:
        host_names = {h.name for h in region.hosts}
        for index, name in enumerate(mons):
            if name not in host_names:
                problem(["ceph", "mons", index], f"'{name}' is not a host of the region")
        if len(mons) % 2 == 0:
            problem(
                ["ceph", "mons"],
                f"{len(mons)} monitors cannot keep a quorum when half fail; use an odd number",
            )
        if len(set(mons)) != len(mons):
            problem(["ceph", "mons"], "a monitor is listed twice")


def _check_openstack(region: Region, problem: Report, region_dir: RegionDir) -> None:
    from scs_deploy.model.openstack import SERVICE_NAMES
    from scs_deploy.releases import available_releases, constraints_path, load_release

    controls = region.hosts_with("control")
    if controls and region.networks.management.vip is None:
        problem(
            ["networks", "management"],
            "a vip is required: HAProxy publishes the APIs on it (a free address of the "
            "management network, e.g. vip: " + _free_address_hint(region) + ")",
        )
    public = region.networks.public
    if public is not None and public.vip is not None:
        for index, host in enumerate(region.hosts):
            if "control" in host.roles and "public" not in host.interfaces:
                problem(
                    ["hosts", index, "interfaces"],
                    f"{host.name} is a control host and the public network has a vip: "
                    "name its interface there (interfaces: {public: ...})",
                )
    _check_external_network(region, problem)
    hosts = {h.name: h for h in region.hosts}
    for service, names in region.openstack.services.items():
        if not names:
            problem(
                ["openstack", "services", service],
                f"lists no host; leave {service} out to run it on every control host",
            )
        for index, name in enumerate(names):
            where: list[str | int] = ["openstack", "services", service, index]
            found = hosts.get(name)
            if found is None:
                problem(where, f"'{name}' is not a host of the region")
            elif "control" not in found.roles:
                problem(
                    where,
                    f"{name} has no control role ({', '.join(found.roles)}); {service} runs "
                    "on control hosts",
                )
        if len(set(names)) != len(names):
            problem(["openstack", "services", service], "a host is listed twice")
    tls = region.openstack.tls
    if tls is not None:
        from scs_deploy.tls import check_operator_files

        required = sorted({str(a) for a in (region.vip, region.public_vip) if a is not None})
        for field, message in check_operator_files(
            region_dir.resolve(tls.certificate),
            region_dir.resolve(tls.key),
            region_dir.resolve(tls.ca),
            required,
        ):
            problem(["openstack", "tls", field], message)
    if region.release not in available_releases() or not controls:
        return
    release = load_release(region.release)
    manifest = f"scs_deploy/releases/{region.release}.yaml"
    pinned = _constraint_names(constraints_path(release))
    for service in SERVICE_NAMES:
        if not region.service_hosts(service):
            continue
        pin = release.openstack.services.get(service)
        if pin is None:
            problem(
                ["release"],
                f"release {region.release} pins no version of {service} "
                f"({manifest}: openstack.services.{service} is missing)",
            )
            continue
        for extra in pin.extras:
            name = extra.split("==")[0]
            if "==" not in extra and _canonical(name) not in pinned:
                problem(
                    ["release"],
                    f"release {region.release}: {service} needs {name}, which neither "
                    f"{manifest} nor its constraints file pins",
                )


def _check_external_network(region: Region, problem: Report) -> None:
    external = region.networks.external
    for index, host in enumerate(region.hosts):
        device = host.interfaces.get("external")
        if "external" in host.addresses:
            problem(
                ["hosts", index, "addresses", "external"],
                "hosts have no address on the external network: OVN's routers answer there "
                "(leave it out)",
            )
        if device is None:
            continue
        if "network" not in host.roles:
            problem(
                ["hosts", index, "interfaces", "external"],
                f"{host.name} has no network role; only network hosts carry the external "
                "network (add the role, or leave the interface out)",
            )
        for other, other_device in host.interfaces.items():
            if other != "external" and other_device == device:
                problem(
                    ["hosts", index, "interfaces", "external"],
                    f"{device} carries the {other} network too; the external interface "
                    "becomes a port of OVS's bridge and must be a device of its own",
                )
    if external is None:
        return
    if external.vip is not None:
        problem(["networks", "external", "vip"], "the external network has no VIP (leave it out)")
    if region.hosts_with("compute") and not region.groups["ovn_gateway"]:
        problem(
            ["networks", "external"],
            "no network host names an interface on the external network: give one "
            "(hosts[].interfaces: {external: <device>}) or leave the network out",
        )


def _free_address_hint(region: Region) -> str:
    used = {h.address for h in region.hosts}
    for address in region.networks.management.cidr.hosts():
        if address not in used and address != region.networks.management.gateway:
            return str(address)
    return "..."


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _constraint_names(path: Any) -> set[str]:
    names = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            names.add(_canonical(line.split("==")[0]))
    return names
