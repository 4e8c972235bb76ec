"""On demand (make e2e-ha): the highly available control plane on three testbed hosts.

A guest answers on its floating IP with its router's gateway on its own host and on
another (the Geneve tunnel between hosts). A client keeps working (token, lists, a network
created and deleted) while a deploy restarts RabbitMQ and OVN's databases for a changed
configuration, one member at a time, and while the host that holds the management VIP loses
its power and comes back. Then all three lose it twice: once Galera forms its cluster again
by itself, once its saved views are gone too and the deploy has to find the most advanced
node and bootstrap from it; each time the deploy brings the region back until a guest boots
again. The figures (longest gap between successful rounds, failed calls, time to recover)
are printed and written to ``ha-figures.json`` in the testbed directory.

``SCS_E2E_HA_TESTBED=DIR`` runs on a deployed three-host testbed instead of a new one (left up).
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from scs_deploy import smoke as smoke_api
from scs_deploy import testbed as testbed_api
from scs_deploy.cli import app
from scs_deploy.smoke import SmokeError, wait_for
from scs_deploy.testbed import TestbedInfo
from scs_deploy.testbed.plan import VIP
from tests.e2e.helpers import changed_tasks, deploy, run_events, ssh

pytestmark = pytest.mark.e2e_ha
EXISTING_TESTBED_ENV = "SCS_E2E_HA_TESTBED"
HOSTS = ("tb1", "tb2", "tb3")
#: Longest gap between two successful client rounds the failover may cause: VRRP moves the VIP
#: within about 3 s, HAProxy takes a dead backend out about 0.5 s after a request met it
#: (observe layer4, fastinter 500ms) and at the latest after two 2 s checks, Galera
#: evicts a silent node after its suspect timeout (5 s); a round itself takes a few seconds.
FAILOVER_GAP_BUDGET = 30.0
#: Seconds of client rounds with every host up before the stop: the gap to compare with.
BASELINE_S = 45.0
#: Ceph checks the testbed allows (the monitors' data shares the machine's disk).
CEPH_ALLOWED = {"MON_DISK_LOW"}


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestbedInfo]:
    existing = os.environ.get(EXISTING_TESTBED_ENV)
    if existing:
        yield testbed_api.status(Path(existing))
        return
    directory = tmp_path_factory.mktemp("openstack-ha") / "testbed"
    info = testbed_api.up(directory, hosts=3, disks=1, disk_size="8G", memory_max="7G")
    try:
        deploy(directory, "bootstrap", "ceph", "openstack", "post-deploy")
        yield info
    finally:
        testbed_api.down(directory)


@dataclass
class Round:
    started: float
    ended: float
    failed: list[str] = field(default_factory=list)
    #: How long each call took, in seconds, in the order made.
    took: dict[str, float] = field(default_factory=dict)
    #: The machine's 1-minute load average when the round ended (2 cores for all hosts).
    load: float = 0.0


@dataclass
class ClientLoop:
    """Rounds of API calls as the admin of the region, one after the other, in a thread."""

    clouds_file: Path
    cloud: str
    rounds: list[Round] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        import openstack.config
        import openstack.connection

        config = openstack.config.OpenStackConfig(config_files=[str(self.clouds_file)])
        number = 0
        while not self.stop.is_set():
            number += 1
            current = Round(started=time.monotonic(), ended=0.0)
            try:
                conn = openstack.connection.Connection(
                    config=config.get_one(cloud=self.cloud, api_timeout=10)
                )
            except Exception as exc:
                current.failed.append(f"connect: {exc}")
            else:
                self._calls(conn, number, current)
                conn.close()
            current.ended = time.monotonic()
            current.load = os.getloadavg()[0]
            self.rounds.append(current)
            if current.failed:
                time.sleep(0.5)

    @staticmethod
    def _calls(conn: Any, number: int, current: Round) -> None:
        calls = [
            ("token", lambda: conn.auth_token),
            ("servers", lambda: list(conn.compute.servers(all_projects=True))),
            ("networks", lambda: list(conn.network.networks())),
            ("images", lambda: list(conn.image.images())),
            ("network create+delete", lambda: _network_round_trip(conn, number)),
        ]
        for name, call in calls:
            started = time.monotonic()
            try:
                call()
            except Exception as exc:
                current.failed.append(f"{name}: {type(exc).__name__}: {str(exc)[-300:]}")
            current.took[name] = round(time.monotonic() - started, 1)

    def figures(self, since: float = 0.0, until: float = math.inf) -> dict[str, Any]:
        """Longest time without a successful round, and the failed calls, of the rounds that
        ended between ``since`` and ``until``. The first gap starts at the last successful
        round before ``since``: the round under way at a stop counts for the stop."""
        rounds = [r for r in self.rounds if since < r.ended <= until]
        before = [r.ended for r in self.rounds if r.ended <= since and not r.failed]
        good = before[-1:] + [r.ended for r in rounds if not r.failed]
        gaps = [(b - a, a, b) for a, b in itertools.pairwise(good)]
        failed = [call for r in rounds if r.failed for call in r.failed]
        longest, gap_from, gap_to = max(gaps, default=(0.0, 0.0, 0.0))
        return {
            "rounds": len(rounds),
            "failed_rounds": sum(1 for r in rounds if r.failed),
            "failed_calls": len(failed),
            "longest_gap_s": round(longest, 1),
            "slowest_call": max(
                ((took, name) for r in rounds for name, took in r.took.items()),
                default=(0.0, ""),
            ),
            "first_failures": failed[:5],
            "machine_load_max": max((r.load for r in rounds), default=0.0),
            # Where the longest gap's time went: every round that ended inside it, with the
            # time of each call, from the gap's start.
            "longest_gap_rounds": [
                {"at_s": round(r.started - gap_from, 1), "took_s": r.took, "failed": r.failed}
                for r in rounds
                if gap_from < r.ended <= gap_to
            ],
        }


@dataclass
class VipProbe:
    """TCP connections to Keystone on the VIP, one every 0.2 s with a 0.5 s timeout, in a
    thread: when the VIP itself answered, apart from how long API calls took (a client's
    SYN retries stretch its own gap well past the failover)."""

    port: int = 5000
    samples: list[tuple[float, bool]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.is_set():
            at = time.monotonic()
            try:
                socket.create_connection((str(VIP), self.port), timeout=0.5).close()
                answered = True
            except OSError:
                answered = False
            self.samples.append((at, answered))
            self.stop.wait(max(0.0, 0.2 - (time.monotonic() - at)))

    def longest_silence(self, since: float = 0.0) -> float:
        """Longest time from a refused or timed-out connection to the next accepted one."""
        longest, silent_from = 0.0, None
        for at, answered in self.samples:
            if at < since:
                continue
            if not answered and silent_from is None:
                silent_from = at
            elif answered and silent_from is not None:
                longest, silent_from = max(longest, at - silent_from), None
        if silent_from is not None and self.samples:
            longest = max(longest, self.samples[-1][0] - silent_from)
        return round(longest, 1)


def _network_round_trip(conn: Any, number: int) -> None:
    network = conn.network.create_network(name=f"ha-probe-{number}")
    conn.network.delete_network(network)


def vip_holders(region: TestbedInfo) -> list[str]:
    holders = []
    for name in HOSTS:
        done = ssh(region, name, "ip -4 -o addr show", check=False)
        if done.returncode == 0 and re.search(rf"inet {re.escape(str(VIP))}/", done.stdout):
            holders.append(name)
    return holders


def galera_size(region: TestbedInfo, host: str) -> int:
    done = ssh(
        region,
        host,
        "mariadb -N -B -e \"SHOW STATUS LIKE 'wsrep_cluster_size'\"",
        check=False,
    )
    return int(done.stdout.split()[-1]) if done.returncode == 0 and done.stdout.split() else 0


def galera_clients(region: TestbedInfo) -> dict[str, int]:
    """The services' connections each Galera node serves (HAProxy sends new ones to the first
    node; pooled ones stay where they were opened)."""
    query = (
        "SELECT COUNT(*) FROM information_schema.PROCESSLIST"
        " WHERE USER NOT IN"
        " ('root', 'system user', 'mysql', 'event_scheduler', 'unauthenticated user')"
    )
    found = {}
    for name in HOSTS:
        done = ssh(region, name, f'mariadb -N -B -e "{query}"', check=False)
        found[name] = (
            int(done.stdout.split()[-1]) if done.returncode == 0 and done.stdout.split() else -1
        )
    return found


def rabbitmq_running(region: TestbedInfo, host: str) -> int:
    done = ssh(region, host, "rabbitmqctl -q cluster_status --formatter json", check=False)
    if done.returncode != 0:
        return 0
    return len(json.loads(done.stdout).get("running_nodes", []))


def ovn_members(region: TestbedInfo, host: str, database: str) -> int:
    """RAFT servers the host's database knows, when it is a connected member (else 0)."""
    target = "ovnnb_db" if database == "OVN_Northbound" else "ovnsb_db"
    done = ssh(
        region,
        host,
        f"ovs-appctl -t /var/run/ovn/{target}.ctl cluster/status {database}",
        check=False,
    )
    if done.returncode != 0 or "Status: cluster member" not in done.stdout:
        return 0
    servers = done.stdout.split("Servers:", 1)[-1]
    return len(re.findall(r"^\s+[0-9a-f]{4} \(", servers, flags=re.MULTILINE))


def ceph_checks(region: TestbedInfo, host: str) -> set[str]:
    done = ssh(region, host, "timeout 30 ceph health detail --format json", check=False)
    if done.returncode != 0:
        return {"UNREACHABLE"}
    return set(json.loads(done.stdout).get("checks", {})) - CEPH_ALLOWED


def clusters(region: TestbedInfo) -> dict[str, Any]:
    """What every clustered service says about its members, seen from every host."""
    return {
        name: {
            "galera": galera_size(region, name),
            "rabbitmq": rabbitmq_running(region, name),
            "ovn_nb": ovn_members(region, name, "OVN_Northbound"),
            "ovn_sb": ovn_members(region, name, "OVN_Southbound"),
        }
        for name in HOSTS
    }


def admin_connection(region: TestbedInfo) -> Any:
    import openstack.config
    import openstack.connection

    config = openstack.config.OpenStackConfig(config_files=[str(region.directory / "clouds.yaml")])
    return openstack.connection.Connection(
        config=config.get_one(cloud="testbed-admin", api_timeout=30)
    )


def services_down(region: TestbedInfo) -> list[str]:
    """Compute and block storage services that stopped reporting: a service whose database
    connection went through the VIP's old holder hangs on it, and stays "active" for
    systemd."""
    conn = admin_connection(region)
    try:
        found = [(s.binary, s.host, s.state) for s in conn.compute.services()]
        found += [(s.binary, s.host, s.state) for s in conn.block_storage.services()]
    finally:
        conn.close()
    return sorted(f"{binary} on {host}" for binary, host, state in found if state != "up")


def remove_probe_networks(region: TestbedInfo) -> None:
    """The networks of calls that timed out on the client but went through on the server."""
    conn = admin_connection(region)
    try:
        for network in conn.network.networks():
            if network.name.startswith("ha-probe-"):
                conn.network.delete_network(network, ignore_missing=True)
    finally:
        conn.close()


def complete(found: dict[str, Any]) -> bool:
    return all(value == len(HOSTS) for host in found.values() for value in host.values())


def wait_until(what: str, probe: Any, timeout: float, interval: float = 5.0) -> Any:
    try:
        return wait_for(what, probe, timeout, interval)
    except SmokeError as exc:
        pytest.fail(str(exc), pytrace=False)


def record(region: TestbedInfo, key: str, figures: dict[str, Any]) -> None:
    path = region.directory / "ha-figures.json"
    found = json.loads(path.read_text()) if path.exists() else {}
    found[key] = figures
    path.write_text(json.dumps(found, indent=2) + "\n")
    print(f"\n{key}: {json.dumps(figures)}")


def test_every_cluster_has_three_members(region: TestbedInfo) -> None:
    found = clusters(region)
    assert complete(found), found
    assert len(vip_holders(region)) == 1
    assert ceph_checks(region, "tb1") == set()


def test_second_deploy_changes_nothing(region: TestbedInfo) -> None:
    deploy(region.directory, "openstack")
    assert changed_tasks(run_events(region.directory, "openstack")) == []


def results_in_order(events: list[dict[str, Any]], tasks: set[str]) -> list[str]:
    """'host: task' of every result of the given tasks, in the order the run reported them."""
    found = []
    for event in sorted(events, key=lambda e: int(e.get("counter", 0))):
        data = event.get("event_data", {})
        if event.get("event") == "runner_on_ok" and data.get("task") in tasks:
            found.append(f"{data.get('host')}: {data.get('task')}")
    return found


def restarted_units(events: list[dict[str, Any]]) -> dict[str, list[str]]:
    """The units os_restart restarted, per host."""
    found: dict[str, list[str]] = {}
    for event in events:
        data = event.get("event_data", {})
        if event.get("event") == "runner_on_ok" and data.get("task") == "Restart the units":
            items = [result.get("item") for result in data.get("res", {}).get("results", [])]
            found.setdefault(data.get("host"), []).extend(items)
    return found


def test_clusters_restart_one_member_at_a_time_while_clients_keep_working(
    region: TestbedInfo,
) -> None:
    """A configuration the deploy writes again (here: edited by hand) restarts RabbitMQ and
    OVN's databases one member at a time, each back in its cluster before the next goes, and
    Neutron one host at a time, out of HAProxy while it restarts, while the APIs keep
    answering."""
    drifted = {
        "/etc/default/ovn-central": ("tb1", "tb3"),
        "/etc/rabbitmq/rabbitmq.conf": ("tb1", "tb2"),
        "/etc/neutron/neutron.conf": HOSTS,
    }
    for path, hosts in drifted.items():
        for name in hosts:
            ssh(region, name, f"echo '# edited by hand' >> {path}")
    loop = ClientLoop(region.directory / "clouds.yaml", "testbed-admin")
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    try:
        wait_until("a first successful round", lambda: any(not r.failed for r in loop.rounds), 120)
        started = time.monotonic()
        deploy(region.directory, "openstack")
        ended = time.monotonic()
        time.sleep(10)
    finally:
        loop.stop.set()
        thread.join(timeout=60)
        remove_probe_networks(region)
    events = run_events(region.directory, "openstack")
    during = loop.figures(since=started, until=ended)
    record(region, "rolling_restart", {"deploy_s": round(ended - started, 1), "clients": during})
    ovn = (
        "Restart the OVN databases and northd",
        "Wait for the databases to be healthy cluster members",
    )
    rabbitmq = ("Restart the RabbitMQ node", "Wait for every RabbitMQ node to run in the cluster")
    api = (
        "Restart the units",
        "Put the host's servers back into HAProxy and wait for their checks to pass",
    )
    for (restart, wait), path in (
        (ovn, "/etc/default/ovn-central"),
        (rabbitmq, "/etc/rabbitmq/rabbitmq.conf"),
        (api, "/etc/neutron/neutron.conf"),
    ):
        # Each host's restart and then its wait, host after host; the deploy's own waits follow.
        expected = [f"{name}: {task}" for name in drifted[path] for task in (restart, wait)]
        assert results_in_order(events, {restart, wait})[: len(expected)] == expected
    # Nothing else changed (neutron.conf's write is no_log: its result does not say), and
    # os_restart restarted Neutron's units and no other on each host.
    assert {task.split(": ")[1] for task in changed_tasks(events)} <= {
        "infra_ovn_central",
        "infra_rabbitmq",
        "os_neutron",
        "os_restart",
    }
    restarted = restarted_units(events)
    assert sorted(restarted) == list(HOSTS), restarted
    assert all(u.startswith("neutron-") for units in restarted.values() for u in units), restarted
    assert complete(clusters(region)), clusters(region)
    assert during["failed_calls"] == 0, during


def ovn_sb(region: TestbedInfo, command: str) -> str:
    """An ovn-sbctl query, through the Southbound cluster, from tb1."""
    remote = ",".join(f"tcp:{region.host(name).address}:6642" for name in HOSTS)
    return ssh(region, "tb1", f"ovn-sbctl --db={remote} --bare {command}").stdout.strip()


def ovn_nb(region: TestbedInfo, command: str) -> str:
    remote = ",".join(f"tcp:{region.host(name).address}:6641" for name in HOSTS)
    return ssh(region, "tb1", f"ovn-nbctl --db={remote} {command}").stdout.strip()


def gateway_host(region: TestbedInfo, gateway_port: str) -> str:
    """The host whose chassis holds the router's gateway port (cr-lrp-<port>) now."""
    chassis = ovn_sb(
        region, f"--columns=chassis find Port_Binding logical_port=cr-lrp-{gateway_port}"
    )
    if not chassis:
        return ""
    return ovn_sb(region, f"--columns=hostname list Chassis {chassis}")


def chassis_name(region: TestbedInfo, host: str) -> str:
    return ovn_sb(region, f"--columns=name find Chassis hostname={host}")


def test_a_guest_answers_through_a_gateway_on_another_host(region: TestbedInfo) -> None:
    """The floating IP's way in is the router's gateway chassis; the guest's host differs from
    it (moved there if the scheduler put both on one host): the path crosses the Geneve tunnel
    between two hosts, both ways, for ping and for SSH."""
    figures: dict[str, Any] = {}
    admin = smoke_api.connect(region.directory / "clouds.yaml", "testbed-admin")

    def across(guest: smoke_api.Guest) -> None:
        server = next(admin.compute.servers(all_projects=True, name=guest.result.server_name))
        guest_host = server.compute_host
        subnet = admin.network.get_subnet(guest.result.subnet_id)
        router_port = next(
            admin.network.ports(
                device_owner="network:router_interface", network_id=subnet.network_id
            )
        )
        gateway_port = next(
            admin.network.ports(
                device_id=router_port.device_id, device_owner="network:router_gateway"
            )
        )
        first = gateway_host(region, gateway_port.id)
        figures.update(guest_host=guest_host, gateway_host_first=first)
        if first == guest_host:
            target = next(name for name in HOSTS if name != guest_host)
            # Above every priority Neutron gives (at most the number of chassis).
            ovn_nb(
                region,
                f"lrp-set-gateway-chassis lrp-{gateway_port.id} {chassis_name(region, target)} 100",
            )
            wait_until(
                f"the gateway on {target}",
                lambda: gateway_host(region, gateway_port.id) == target,
                60,
                1,
            )
            moved = time.monotonic()
            wait_until(
                "the guest's SSH over the moved gateway",
                lambda: smoke_api.guest_run(guest.key, guest.result.floating_ip, "hostname"),
                120,
                2,
            )
            figures.update(
                gateway_host_moved_to=target,
                reached_after_move_s=round(time.monotonic() - moved, 1),
            )
        assert gateway_host(region, gateway_port.id) != guest_host
        assert smoke_api.ping(guest.result.floating_ip)
        assert guest.run("hostname").decode().strip() == guest.result.server_name

    member = smoke_api.connect(region.directory / "clouds.yaml", "testbed-member")
    try:
        settings = smoke_api.SmokeSettings(image=_test_image())
        result = smoke_api.run(admin, member, settings, print, in_guest=across)
    finally:
        member.close()
        admin.close()
    figures["timings"] = result.timings
    record(region, "across_hosts", figures)


def _test_image() -> Path:
    from scs_deploy.testbed import image as test_image

    return test_image.ensure(print)


def test_clients_keep_working_while_the_vip_holder_loses_power(region: TestbedInfo) -> None:
    holder = vip_holders(region)
    assert len(holder) == 1, holder
    loop = ClientLoop(region.directory / "clouds.yaml", "testbed-admin")
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    probe = VipProbe()
    probe_thread = threading.Thread(target=probe.run, daemon=True)
    probe_thread.start()
    try:
        wait_until("a first successful round", lambda: any(not r.failed for r in loop.rounds), 120)
        # The same rounds with every host up: how long a round takes on this machine anyway.
        baseline_from = time.monotonic()
        time.sleep(BASELINE_S)
        stopped_at = time.monotonic()
        baseline = loop.figures(since=baseline_from, until=stopped_at)
        testbed_api.stop_host(region.directory, holder[0])
        new_holder = wait_until("the VIP on another host", lambda: vip_holders(region), 60, 1)
        time.sleep(60)
        down = loop.figures(since=stopped_at)
        down["vip_silent_s"] = probe.longest_silence(since=stopped_at)
        started_at = time.monotonic()
        testbed_api.start_host(region.directory, holder[0])
        wait_until("three members in every cluster", lambda: complete(clusters(region)), 600)
        time.sleep(30)
        back = loop.figures(since=started_at)
        back["vip_silent_s"] = probe.longest_silence(since=started_at)
        back["galera_clients"] = galera_clients(region)
    finally:
        loop.stop.set()
        probe.stop.set()
        thread.join(timeout=60)
        probe_thread.join(timeout=5)
        remove_probe_networks(region)
    record(
        region,
        "failover",
        {
            "stopped": holder[0],
            "vip_moved_to": new_holder,
            "all_up": baseline,
            "while_down": down,
            "while_back": back,
        },
    )
    assert down["longest_gap_s"] <= FAILOVER_GAP_BUDGET, down
    assert back["longest_gap_s"] <= FAILOVER_GAP_BUDGET, back
    # The services of every host, the ones that stayed up included, report again.
    deadline = time.monotonic() + 180
    while (still_down := services_down(region)) and time.monotonic() < deadline:
        time.sleep(5)
    assert not still_down, f"not reporting 180 s after the start: {still_down}"
    assert wait_until("ceph without new warnings", lambda: ceph_checks(region, "tb1") == set(), 300)


def saved_view(region: TestbedInfo, name: str) -> Path:
    """gvwstate.dat of a host's Galera node, seen from the machine (the host's overlay root
    stays mounted while it is stopped)."""
    return region.directory / "hosts" / name / "root" / "var/lib/mysql/gvwstate.dat"


def full_outage(region: TestbedInfo, key: str, *, drop_saved_views: bool) -> None:
    for name in HOSTS:
        testbed_api.stop_host(region.directory, name)
    if drop_saved_views:
        # Without the view of its last primary component a node cannot form one again by
        # itself (pc.recovery); the deploy has to read every node's position (grastate.dat,
        # --wsrep-recover) and bootstrap from the most advanced.
        for name in HOSTS:
            saved_view(region, name).unlink(missing_ok=True)
    started = time.monotonic()
    for name in HOSTS:
        testbed_api.start_host(region.directory, name)
    booted = time.monotonic() - started
    formed_by_itself = complete(clusters(region))
    result = CliRunner().invoke(app, ["deploy", str(region.directory), "--phase", "openstack"])
    assert "Traceback" not in result.output
    assert result.exit_code == 0, result.output
    recovered = time.monotonic() - started
    assert complete(clusters(region)), clusters(region)
    smoke = CliRunner().invoke(app, ["smoke", str(region.directory)])
    assert smoke.exit_code == 0, smoke.output
    record(
        region,
        key,
        {
            "galera_saved_views_dropped": drop_saved_views,
            "clusters_complete_before_the_deploy": formed_by_itself,
            "hosts_booted_s": round(booted, 1),
            "deploy_recovered_s": round(recovered, 1),
            "guest_booted_s": round(time.monotonic() - started, 1),
        },
    )


def test_a_deploy_brings_the_region_back_after_all_hosts_lost_power(region: TestbedInfo) -> None:
    full_outage(region, "full_outage", drop_saved_views=False)


def test_a_deploy_bootstraps_galera_from_the_most_advanced_node_after_a_full_outage(
    region: TestbedInfo,
) -> None:
    full_outage(region, "full_outage_without_saved_views", drop_saved_views=True)
