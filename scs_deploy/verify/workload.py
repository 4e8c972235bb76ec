"""The smoke workload of `verify`: what a member does with a new region. It boots the test
guest from a volume and reaches it over a floating IP and SSH (`scs-deploy smoke`); while
the guest runs, the entropy checks of scs-0101 read it, a load balancer in front of it
forwards SSH, and an object goes into the object store and comes back."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scs_deploy.verify.core import Outcome

if TYPE_CHECKING:
    from scs_deploy.smoke import Guest
    from scs_deploy.verify.cloud import RegionCloud

LB_TIMEOUT = 300


@dataclass
class Workload:
    """What the workload saw: a line per step, and the checks made inside the guest."""

    steps: list[str] = field(default_factory=list)
    entropy: dict[str, Outcome] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        return "; ".join(self.steps)


def _ssh_hostname(guest: Guest, address: str) -> str:
    from scs_deploy.smoke import SmokeError

    try:
        return guest.run_at(address, "hostname").decode().strip()
    except SmokeError:
        return ""


def load_balancer(
    member: Any, guest: Guest, prefix: str, backends: dict[str, str] | None = None
) -> str:
    """A TCP load balancer (the OVN provider) in front of SSH on ``backends`` (address ->
    the host name it answers with; default: the guest), reached over a floating IP of its
    own until every backend has answered; everything is deleted again."""
    from scs_deploy.smoke import SmokeError, wait_for

    lb_api, network = member.load_balancer, member.network
    result = guest.result
    backends = backends or {result.guest_address: result.server_name}
    balancer = lb_api.create_load_balancer(
        name=f"{prefix}-lb", vip_subnet_id=result.subnet_id, provider="ovn"
    )
    floating = None
    try:
        lb_api.wait_for_load_balancer(balancer.id, status="ACTIVE", wait=LB_TIMEOUT)
        listener = lb_api.create_listener(
            name=f"{prefix}-ssh", load_balancer_id=balancer.id, protocol="TCP", protocol_port=22
        )
        lb_api.wait_for_load_balancer(balancer.id, status="ACTIVE", wait=LB_TIMEOUT)
        # The OVN provider balances by source address and port: each connection anew.
        pool = lb_api.create_pool(
            name=f"{prefix}-pool",
            listener_id=listener.id,
            protocol="TCP",
            lb_algorithm="SOURCE_IP_PORT",
        )
        lb_api.wait_for_load_balancer(balancer.id, status="ACTIVE", wait=LB_TIMEOUT)
        for address in backends:
            lb_api.create_member(
                pool, address=address, protocol_port=22, subnet_id=result.subnet_id
            )
            lb_api.wait_for_load_balancer(balancer.id, status="ACTIVE", wait=LB_TIMEOUT)
        balancer = lb_api.get_load_balancer(balancer.id)
        floating = network.create_ip(
            floating_network_id=result.external_network_id, port_id=balancer.vip_port_id
        )
        address = floating.floating_ip_address
        started = time.monotonic()
        seen: set[str] = set()
        expected = set(backends.values())

        def every_backend_answered() -> bool:
            name = _ssh_hostname(guest, address)
            if name and name not in expected:
                raise SmokeError(f"the load balancer led to {name!r}, not to {sorted(expected)}")
            seen.add(name)
            return expected <= seen

        wait_for(
            f"SSH through the load balancer at {address} to reach {sorted(expected)}",
            every_backend_answered,
            LB_TIMEOUT,
        )
        return (
            f"SSH through a load balancer at {address} reached {len(expected)} "
            f"backend{'s' if len(expected) > 1 else ''} in {time.monotonic() - started:.0f} s"
        )
    finally:
        if floating is not None:
            network.delete_ip(floating, ignore_missing=True)
        lb_api.delete_load_balancer(balancer, ignore_missing=True, cascade=True)
        wait_for(
            "the load balancer to go",
            lambda: lb_api.find_load_balancer(balancer.id, ignore_missing=True) is None,
            LB_TIMEOUT,
        )


def object_round_trip(member: Any, prefix: str) -> str:
    """An object into a new container and back, then both deleted."""
    store = member.object_store
    container = f"{prefix}-{uuid.uuid4().hex[:8]}"
    payload = uuid.uuid4().bytes * 4096
    store.create_container(name=container)
    try:
        store.upload_object(container=container, name="object", data=payload)
        if store.download_object("object", container=container) != payload:
            from scs_deploy.smoke import SmokeError

            raise SmokeError("the object read back differs from the one written")
    finally:
        store.delete_object("object", container=container, ignore_missing=True)
        store.delete_container(container, ignore_missing=True)
    return f"an object of {len(payload) // 1024} KiB written and read back"


def run_workload(cloud: RegionCloud) -> Workload | Exception:
    from scs_deploy import smoke
    from scs_deploy.testbed import image as test_image
    from scs_deploy.verify import entropy

    prefix = "scs-verify"
    found = Workload()

    def in_guest(guest: Guest) -> None:
        found.entropy = entropy.outcomes_from_guest(guest.run)
        catalog = {entry.get("type") for entry in cloud.catalog}
        if "load-balancer" in catalog:
            found.steps.append(load_balancer(cloud.member, guest, prefix))
        if "object-store" in catalog:
            found.steps.append(object_round_trip(cloud.member, prefix))

    try:
        settings = smoke.SmokeSettings(image=test_image.ensure(cloud.say), prefix=prefix)
        result = smoke.run(cloud.admin, cloud.member, settings, cloud.say, in_guest=in_guest)
    # Kept and raised to every check that needs the workload (see RegionCloud.workload).
    except Exception as exc:
        return exc
    seconds = result.timings.get("server create to first ping", 0)
    found.steps.insert(
        0,
        f"guest reached at {result.floating_ip} {seconds:.0f} s after its creation, "
        f"volume {' '.join(result.disks)} attached",
    )
    return found
