"""Boot a guest and reach it: the proof from outside that a region is a cloud.

As a project member: upload the test image, make a network, a router to the
external network, a security group for ICMP and SSH and a key pair; boot a
server from a volume made from the image; wait for its address on the console,
attach a floating IP, ping it and log in over SSH; attach a second volume and
find it in the guest. Everything made is deleted again (unless kept), newest
first. Timings of every step go into the result.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scs_deploy.errors import ScsDeployError

Say = Callable[[str], None]
GuestProbe = Callable[["Guest"], None]

#: What the test image logs on the serial console once it has its address.
ADDRESS_LINE = "scs-test-guest: eth0 address "
#: The subnet of the smoke test's own network (any private range the region does not use).
PRIVATE_CIDR = "192.168.199.0/24"


class SmokeError(ScsDeployError):
    """A step of the smoke test failed; the message says which and what was seen."""

    exit_code = 1


@dataclass
class SmokeResult:
    server_name: str = ""
    floating_ip: str = ""
    guest_address: str = ""
    hostname: str = ""
    disks: list[str] = field(default_factory=list)
    # What the guest is attached to, for checks that build on it (a load balancer).
    subnet_id: str = ""
    external_network_id: str = ""
    # step -> seconds
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Guest:
    """The smoke test's guest while it runs, for checks that need one."""

    result: SmokeResult
    key: Path

    def run(self, command: str) -> bytes:
        """``command``'s output in the guest, over its floating IP."""
        return guest_output(self.key, self.result.floating_ip, command)

    def run_at(self, address: str, command: str) -> bytes:
        """``command``'s output on whatever answers SSH at ``address`` with the guest's key."""
        return guest_output(self.key, address, command)


@dataclass(frozen=True)
class SmokeSettings:
    image: Path
    external_network: str = "external"
    prefix: str = "scs-smoke"
    flavor_ram_mb: int = 256
    volume_size_gb: int = 1
    boot_timeout: float = 600
    reach_timeout: float = 300


class _Resources:
    """What the smoke test made, deleted newest first."""

    def __init__(self) -> None:
        self._cleanups: list[tuple[str, Callable[[], None]]] = []

    def add(self, what: str, cleanup: Callable[[], None]) -> None:
        self._cleanups.append((what, cleanup))

    def delete_all(self) -> list[str]:
        failures = []
        while self._cleanups:
            what, cleanup = self._cleanups.pop()
            try:
                cleanup()
            # Every cleanup is tried; what failed is reported together.
            except Exception as exc:
                failures.append(f"{what}: {exc}")
        return failures


def wait_for(what: str, probe: Callable[[], Any], timeout: float, interval: float = 2) -> Any:
    """``probe()``'s first true answer; a SmokeError naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SmokeError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def guest_address(console_log: str) -> str:
    """The address the test image logged, '' before it did (``10.0.0.5/24`` -> ``10.0.0.5``)."""
    for line in console_log.splitlines():
        index = line.find(ADDRESS_LINE)
        if index >= 0:
            return line[index + len(ADDRESS_LINE) :].split()[0].split("/")[0]
    return ""


def ping(address: str) -> bool:
    return (
        subprocess.run(
            ["ping", "-c", "1", "-W", "2", address], capture_output=True, check=False
        ).returncode
        == 0
    )


def ssh_argv(key: Path, address: str, command: str) -> list[str]:
    return [
        "ssh",
        "-i",
        str(key),
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "ConnectTimeout=5",
        "-o",
        "LogLevel=ERROR",
        f"root@{address}",
        command,
    ]


def guest_run(key: Path, address: str, command: str) -> str | None:
    """``command``'s output in the guest over SSH, None while SSH does not answer."""
    done = subprocess.run(
        ssh_argv(key, address, command), capture_output=True, text=True, check=False, timeout=60
    )
    return done.stdout if done.returncode == 0 else None


def guest_output(key: Path, address: str, command: str) -> bytes:
    """``command``'s standard output in the guest, as bytes; a failure is a SmokeError."""
    done = subprocess.run(
        ssh_argv(key, address, command), capture_output=True, check=False, timeout=300
    )
    if done.returncode != 0:
        stderr = done.stderr.decode(errors="replace").strip()
        raise SmokeError(f"in the guest, {command!r} failed ({done.returncode}): {stderr}")
    return done.stdout


@contextlib.contextmanager
def _timed(result: SmokeResult, step: str, say: Say) -> Iterator[None]:
    started = time.monotonic()
    yield
    result.timings[step] = round(time.monotonic() - started, 1)
    say(f"{step}: {result.timings[step]:.1f} s")


def run(
    admin: Any,
    member: Any,
    settings: SmokeSettings,
    say: Say,
    *,
    keep: bool = False,
    in_guest: GuestProbe | None = None,
) -> SmokeResult:
    """The whole smoke test; ``admin`` and ``member`` are openstacksdk connections;
    ``in_guest`` runs once the guest answers SSH, while everything is still there."""
    for tool in ("ping", "ssh", "ssh-keygen"):
        if shutil.which(tool) is None:
            raise SmokeError(f"{tool} is not installed here (Debian: iputils-ping, openssh-client)")
    result = SmokeResult(server_name=f"{settings.prefix}-server")
    made = _Resources()
    try:
        with tempfile.TemporaryDirectory(prefix="scs-smoke-") as scratch:
            key = Path(scratch) / "id_ed25519"
            subprocess.run(
                [
                    "ssh-keygen",
                    "-q",
                    "-t",
                    "ed25519",
                    "-N",
                    "",
                    "-C",
                    settings.prefix,
                    "-f",
                    str(key),
                ],
                check=True,
            )
            _run(admin, member, settings, say, made, result, key)
            if in_guest is not None:
                with _timed(result, "checks in the guest", say):
                    in_guest(Guest(result, key))
    except SmokeError:
        raise
    except Exception as exc:
        from openstack.exceptions import SDKException

        if isinstance(exc, SDKException):
            raise SmokeError(f"after {', '.join(result.timings) or 'no step'}: {exc}") from exc
        raise
    finally:
        if not keep:
            failures = made.delete_all()
            if failures:
                raise SmokeError("cleanup failed: " + "; ".join(failures))
    return result


def _run(
    admin: Any,
    member: Any,
    settings: SmokeSettings,
    say: Say,
    made: _Resources,
    result: SmokeResult,
    key: Path,
) -> None:
    prefix = settings.prefix
    compute, network, image_api, storage = (
        member.compute,
        member.network,
        member.image,
        member.block_storage,
    )

    external = network.find_network(settings.external_network)
    if external is None or not external.is_router_external:
        raise SmokeError(
            f"no external network '{settings.external_network}' (the post-deploy phase makes it)"
        )

    with _timed(result, "image upload", say):
        with settings.image.open("rb") as data:
            image = image_api.create_image(
                name=f"{prefix}-image",
                data=data,
                disk_format="raw",
                container_format="bare",
                wait=True,
                min_ram=128,
                min_disk=1,
                hw_disk_bus="virtio",
                hw_vif_model="virtio",
                os_type="linux",
            )
        made.add("image", lambda: image_api.delete_image(image, ignore_missing=True))

    flavor = admin.compute.create_flavor(
        name=f"{prefix}-flavor", ram=settings.flavor_ram_mb, vcpus=1, disk=0, is_public=True
    )
    made.add("flavor", lambda: admin.compute.delete_flavor(flavor, ignore_missing=True))

    with _timed(result, "network, router, security group, key pair", say):
        net = network.create_network(name=f"{prefix}-net")
        made.add("network", lambda: network.delete_network(net, ignore_missing=True))
        subnet = network.create_subnet(
            name=f"{prefix}-subnet", network_id=net.id, ip_version=4, cidr=PRIVATE_CIDR
        )
        result.subnet_id = subnet.id
        result.external_network_id = external.id
        made.add("subnet", lambda: network.delete_subnet(subnet, ignore_missing=True))
        router = network.create_router(
            name=f"{prefix}-router", external_gateway_info={"network_id": external.id}
        )
        made.add("router", lambda: network.delete_router(router, ignore_missing=True))
        network.add_interface_to_router(router, subnet_id=subnet.id)
        made.add(
            "router interface",
            lambda: network.remove_interface_from_router(router, subnet_id=subnet.id),
        )
        group = network.create_security_group(name=f"{prefix}-sg")
        made.add(
            "security group", lambda: network.delete_security_group(group, ignore_missing=True)
        )
        for protocol, port in (("icmp", None), ("tcp", 22)):
            network.create_security_group_rule(
                security_group_id=group.id,
                direction="ingress",
                ethertype="IPv4",
                protocol=protocol,
                port_range_min=port,
                port_range_max=port,
                remote_ip_prefix="0.0.0.0/0",
            )
        keypair = compute.create_keypair(
            name=f"{prefix}-key", public_key=key.with_suffix(".pub").read_text()
        )
        made.add("key pair", lambda: compute.delete_keypair(keypair, ignore_missing=True))

    started = time.monotonic()
    with _timed(result, "server create to ACTIVE", say):
        server = compute.create_server(
            name=result.server_name,
            flavor_id=flavor.id,
            networks=[{"uuid": net.id}],
            key_name=keypair.name,
            security_groups=[{"name": group.name}],
            block_device_mapping=[
                {
                    "boot_index": 0,
                    "uuid": image.id,
                    "source_type": "image",
                    "destination_type": "volume",
                    "volume_size": settings.volume_size_gb,
                    "delete_on_termination": True,
                }
            ],
        )
        made.add("server", lambda: _delete_server(compute, server))
        server = compute.wait_for_server(server, status="ACTIVE", wait=int(settings.boot_timeout))

    with _timed(result, "address on the console", say):
        result.guest_address = wait_for(
            "the guest to log its address on the console",
            lambda: guest_address(compute.get_server_console_output(server)["output"]),
            settings.boot_timeout,
            interval=3,
        )
    ports = list(network.ports(device_id=server.id))
    given = {ip["ip_address"] for port in ports for ip in port.fixed_ips}
    if result.guest_address not in given:
        raise SmokeError(
            f"the guest logged {result.guest_address}, Neutron gave it {sorted(given)}"
        )

    floating = network.create_ip(floating_network_id=external.id, port_id=ports[0].id)
    made.add("floating IP", lambda: network.delete_ip(floating, ignore_missing=True))
    result.floating_ip = floating.floating_ip_address
    with _timed(result, "floating IP answers ping", say):
        wait_for(
            f"{result.floating_ip} to answer ping",
            lambda: ping(result.floating_ip),
            settings.reach_timeout,
        )
    result.timings["server create to first ping"] = round(time.monotonic() - started, 1)

    with _timed(result, "SSH login", say):
        hostname = wait_for(
            f"SSH to root@{result.floating_ip}",
            lambda: guest_run(key, result.floating_ip, "hostname"),
            settings.reach_timeout,
            interval=3,
        )
    result.hostname = hostname.strip()
    if result.hostname != result.server_name:
        raise SmokeError(f"the guest calls itself {result.hostname!r}, not {result.server_name!r}")

    with _timed(result, "second volume attached and seen", say):
        volume = storage.create_volume(name=f"{prefix}-data", size=settings.volume_size_gb)
        made.add("data volume", lambda: _delete_volume(storage, volume))
        storage.wait_for_status(volume, "available", wait=300)
        attachment = compute.create_volume_attachment(server, volume_id=volume.id)
        made.add(
            "volume attachment",
            lambda: _detach(compute, storage, server, attachment, volume),
        )
        storage.wait_for_status(volume, "in-use", wait=300)
        found = wait_for(
            "the second disk in the guest",
            lambda: _second_disk(key, result.floating_ip),
            settings.reach_timeout,
            interval=3,
        )
    result.disks = found


def _second_disk(key: Path, address: str) -> list[str]:
    listing = guest_run(key, address, "cat /proc/partitions") or ""
    disks = sorted({line.split()[-1] for line in listing.splitlines()[2:] if line.split()})
    return disks if "vdb" in disks else []


def _delete_server(compute: Any, server: Any) -> None:
    compute.delete_server(server, ignore_missing=True)
    # Nova answers a GET with status DELETED (which ends wait_for_delete) while the
    # project's server list still shows it: gone means gone from the list.
    wait_for(
        f"server {server.id} to go",
        lambda: all(listed.id != server.id for listed in compute.servers()),
        300,
    )


def _detach(compute: Any, storage: Any, server: Any, attachment: Any, volume: Any) -> None:
    compute.delete_volume_attachment(server, volume.id, ignore_missing=True)
    storage.wait_for_status(volume, "available", wait=300)


def _delete_volume(storage: Any, volume: Any) -> None:
    storage.delete_volume(volume, ignore_missing=True)
    storage.wait_for_delete(volume, wait=300)


def smoke_region(
    directory: Path, image: Path | None, say: Say, *, keep: bool = False
) -> SmokeResult:
    """The smoke test on a deployed region, through DIR/clouds.yaml; ``image`` None: the
    test image ``scs-deploy testbed image`` builds (and caches)."""
    from scs_deploy.regiondir import RegionDir
    from scs_deploy.validate import load_region

    region_dir = RegionDir.existing(directory)
    region = load_region(region_dir)
    clouds_yaml = region_dir.path / "clouds.yaml"
    if not clouds_yaml.exists():
        raise SmokeError(f"{clouds_yaml} does not exist: deploy the openstack phase first")
    if image is None:
        from scs_deploy.testbed import image as test_image

        image = test_image.ensure(say)
    admin = connect(clouds_yaml, f"{region.name}-admin")
    member = connect(clouds_yaml, f"{region.name}-member")
    try:
        return run(admin, member, SmokeSettings(image=image), say, keep=keep)
    finally:
        admin.close()
        member.close()


def connect(clouds_yaml: Path, cloud: str) -> Any:
    import openstack
    from openstack.config import OpenStackConfig

    config = OpenStackConfig(config_files=[str(clouds_yaml)])
    return openstack.connection.Connection(config=config.get_one(cloud=cloud))


def describe(result: SmokeResult) -> list[str]:
    lines = [
        f"server {result.server_name}: {result.guest_address}, floating IP {result.floating_ip}",
        f"SSH: hostname {result.hostname}; disks {' '.join(result.disks)}",
    ]
    lines += [f"{step}: {seconds:.1f} s" for step, seconds in result.timings.items()]
    return lines
