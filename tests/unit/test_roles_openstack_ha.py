"""The OpenStack roles with one and with three control hosts: what their configuration files
say, evaluated by Ansible's templating over the rendered example regions (inventories/
testbed-aio and testbed-ha). With one control host nothing the HA settings add may appear:
a changed file would restart the services of a converged one-host region."""

from __future__ import annotations

import configparser
from collections.abc import Iterator
from typing import Any

import pytest

from scs_deploy.regiondir import RegionDir
from tests.unit.role_vars import RoleVars, assertion, example_dir, role_vars

HA_HOSTS = ("tb1", "tb2", "tb3")
HA_ADDRESSES = ("10.231.0.11", "10.231.0.12", "10.231.0.13")
# The roles whose services talk to RabbitMQ, and the variable holding their configuration
# (os_nova_compute's file is nova-compute.conf on the compute hosts).
RABBITMQ_CONFIGS: dict[str, tuple[list[str], str]] = {
    "nova": (["os_nova_common", "os_nova"], "__os_nova_nova_conf"),
    "nova-compute": (["os_nova_common", "os_nova_compute"], "__os_nova_compute_nova_conf"),
    "cinder": (["os_cinder"], "__os_cinder_cinder_conf"),
    "barbican": (["os_barbican"], "__os_barbican_barbican_conf"),
    "octavia": (["os_octavia"], "__os_octavia_octavia_conf"),
}
# What os_nova_compute's variables read from tasks' results (a KVM host).
COMPUTE_REGISTERS = {
    "__os_nova_compute_kvm_dev": {"stat": {"exists": True, "ischr": True}},
    "__os_nova_compute_kvm_pvm": {"stat": {"exists": False}},
}


@pytest.fixture(scope="module")
def regions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, RegionDir]]:
    base = tmp_path_factory.mktemp("regions")
    yield {name: example_dir(name, base) for name in ("testbed-aio", "testbed-ha")}


def host_vars(directory: RegionDir, host: str, roles: list[str]) -> RoleVars:
    found = role_vars(directory, host, roles)
    found.variables.update(COMPUTE_REGISTERS)
    found.variables["ansible_facts"]["virtualization_role"] = "host"
    return found


def ini(text: str) -> configparser.RawConfigParser:
    # [DEFAULT] as a section like the others (configparser would copy it into each).
    parser = configparser.RawConfigParser(
        interpolation=None, strict=True, default_section="configparser-defaults"
    )
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)
    return parser


def cinder_conf(directory: RegionDir, host: str) -> configparser.RawConfigParser:
    return ini(host_vars(directory, host, ["os_cinder"]).template("os_cinder", "cinder.conf.j2"))


def keystone_conf(directory: RegionDir, host: str) -> configparser.RawConfigParser:
    found = host_vars(directory, host, ["os_keystone"])
    return ini(found.template("os_keystone", "keystone.conf.j2"))


def conf(directory: RegionDir, host: str, service: str) -> dict[str, Any]:
    roles, name = RABBITMQ_CONFIGS[service]
    value: dict[str, Any] = host_vars(directory, host, roles).value(name)
    return value


# One control host: the files stay as they were.


def test_one_host_keeps_its_rabbitmq_options(regions: dict[str, RegionDir]) -> None:
    for service in RABBITMQ_CONFIGS:
        assert conf(regions["testbed-aio"], "tb1", service)["oslo_messaging_rabbit"] == {
            "rabbit_quorum_queue": True
        }, service
    section = dict(cinder_conf(regions["testbed-aio"], "tb1")["oslo_messaging_rabbit"])
    assert section == {"rabbit_quorum_queue": "true"}


def test_one_host_cinder_volume_forms_no_cluster(regions: dict[str, RegionDir]) -> None:
    parsed = cinder_conf(regions["testbed-aio"], "tb1")
    assert "cluster" not in parsed["DEFAULT"]
    assert "backend_host" not in parsed["DEFAULT"]
    assert "coordination" not in parsed


def test_one_host_keystone_keeps_the_cache_defaults(regions: dict[str, RegionDir]) -> None:
    cache = dict(keystone_conf(regions["testbed-aio"], "tb1")["cache"])
    assert cache == {
        "enabled": "true",
        "backend": "oslo_cache.memcache_pool",
        "memcache_servers": "10.231.0.11:11211",
    }


# Three control hosts.


@pytest.mark.parametrize("service", sorted(RABBITMQ_CONFIGS))
def test_every_rabbitmq_service_reaches_every_node_with_replicated_queues(
    regions: dict[str, RegionDir], service: str
) -> None:
    for host in HA_HOSTS:
        found = conf(regions["testbed-ha"], host, service)
        url = found["DEFAULT"]["transport_url"]
        assert url.startswith("rabbit://")
        servers = url.removeprefix("rabbit://").split("/")[0].split(",")
        assert [server.split("@")[1] for server in servers] == [f"{a}:5672" for a in HA_ADDRESSES]
        # One dict for all: the processes on a vhost declare its exchanges alike.
        assert found["oslo_messaging_rabbit"] == {
            "rabbit_quorum_queue": True,
            "rabbit_transient_quorum_queue": True,
            "rabbit_stream_fanout": True,
            "rabbit_qos_prefetch_count": 50,
            "heartbeat_timeout_threshold": 20,
        }


def test_cinder_volume_services_form_one_cluster(regions: dict[str, RegionDir]) -> None:
    hosts = {}
    for host, address in zip(HA_HOSTS, HA_ADDRESSES, strict=True):
        parsed = cinder_conf(regions["testbed-ha"], host)
        assert parsed["DEFAULT"]["cluster"] == "ceph"
        # Each service keeps its own host name: no shared backend_host, no [DEFAULT] host.
        assert "backend_host" not in parsed["rbd-1"]
        assert "backend_host" not in parsed["DEFAULT"]
        assert "host" not in parsed["DEFAULT"]
        assert parsed["DEFAULT"]["my_ip"] == address
        hosts[host] = {section: dict(parsed[section]) for section in parsed.sections()}
    # Apart from the host's own address the three files are the same.
    for host in HA_HOSTS:
        hosts[host]["DEFAULT"].pop("my_ip")
    assert hosts["tb1"] == hosts["tb2"] == hosts["tb3"]


def test_keystone_hosts_share_their_keys_and_every_cache_server(
    regions: dict[str, RegionDir],
) -> None:
    repositories = []
    for host in HA_HOSTS:
        found = host_vars(regions["testbed-ha"], host, ["os_keystone"])
        repositories.append(found.value("__os_keystone_key_repositories"))
        cache = dict(keystone_conf(regions["testbed-ha"], host)["cache"])
        assert cache["backend"] == "oslo_cache.memcache_pool"
        assert cache["memcache_servers"] == ",".join(f"{a}:11211" for a in HA_ADDRESSES)
        assert cache["memcache_dead_retry"] == "60"
        assert cache["socket_timeout"] == "0.25"
    assert repositories[0] == repositories[1] == repositories[2]
    assert {r["name"] for r in repositories[0]} == {"fernet", "credential"}


@pytest.mark.parametrize(
    ("roles", "name"),
    [
        (["os_glance"], "__os_glance_glance_api_conf"),
        (["os_placement"], "__os_placement_placement_conf"),
        (["os_neutron"], "__os_neutron_neutron_conf"),
        (["os_cinder"], "__os_cinder_cinder_conf"),
        (["os_barbican"], "__os_barbican_barbican_conf"),
        (["os_octavia"], "__os_octavia_octavia_conf"),
        (["os_nova_common", "os_nova"], "__os_nova_nova_conf"),
    ],
)
def test_token_caches_use_every_memcached_server(
    regions: dict[str, RegionDir], roles: list[str], name: str
) -> None:
    found = host_vars(regions["testbed-ha"], "tb2", roles).value(name)
    assert found["keystone_authtoken"]["memcached_servers"] == ",".join(
        f"{a}:11211" for a in HA_ADDRESSES
    )


@pytest.mark.parametrize(
    ("roles", "name", "section"),
    [
        (["os_neutron"], "__os_neutron_ml2_conf", "ovn"),
        (["os_neutron"], "__os_neutron_agent_conf", "ovn"),
        (["os_octavia"], "__os_octavia_octavia_conf", "ovn"),
    ],
)
def test_ovn_clients_reach_every_database_member(
    regions: dict[str, RegionDir], roles: list[str], name: str, section: str
) -> None:
    found = host_vars(regions["testbed-ha"], "tb3", roles).value(name)[section]
    # tb3's own server first: Neutron reads the schema from the first one that answers, and
    # a SYN to a host that lost its power waits 127 s.
    own_first = HA_ADDRESSES[2:] + HA_ADDRESSES[:2]
    assert found["ovn_sb_connection"] == ",".join(f"tcp:{a}:6642" for a in own_first)
    if "ovn_nb_connection" in found:
        assert found["ovn_nb_connection"] == ",".join(f"tcp:{a}:6641" for a in own_first)


def test_services_reach_shared_things_through_the_vip(regions: dict[str, RegionDir]) -> None:
    vip = "10.231.0.10"
    nova = conf(regions["testbed-ha"], "tb2", "nova")
    assert f"@{vip}/" in nova["database"]["connection"]
    assert f"@{vip}/" in nova["api_database"]["connection"]
    assert nova["keystone_authtoken"]["auth_url"].startswith(f"https://{vip}:")
    agent = host_vars(regions["testbed-ha"], "tb2", ["os_neutron"]).value("__os_neutron_agent_conf")
    assert agent["DEFAULT"]["nova_metadata_host"] == vip


@pytest.mark.parametrize("region", ["testbed-aio", "testbed-ha"])
def test_neutron_calls_nova_and_placement_as_its_service_user(
    regions: dict[str, RegionDir], region: str
) -> None:
    # Without [placement] credentials the segments plugin logs MissingAuthPlugin on every
    # network create and delete.
    found = host_vars(regions[region], "tb1", ["os_neutron"]).value("__os_neutron_neutron_conf")
    for section in ("nova", "placement"):
        assert found[section]["auth_type"] == "password"
        assert found[section]["username"] == "neutron"
        assert found[section]["password"]
        assert found[section]["endpoint_type"] == "internal"
        assert found[section]["auth_url"] == found["keystone_authtoken"]["auth_url"]


@pytest.mark.parametrize(
    ("region", "role", "expected"),
    [
        ("testbed-aio", "os_neutron", []),
        ("testbed-aio", "os_nova", []),
        ("testbed-ha", "os_neutron", ["neutron"]),
        ("testbed-ha", "os_nova", ["nova", "nova-metadata", "nova-novncproxy"]),
        ("testbed-ha", "os_keystone", ["keystone"]),
    ],
)
def test_a_restart_leaves_haproxy_only_where_other_servers_take_over(
    regions: dict[str, RegionDir], region: str, role: str, expected: list[str]
) -> None:
    roles = ["os_nova_common", role] if role == "os_nova" else [role]
    found = host_vars(regions[region], "tb1", roles).value(f"{role}_haproxy_backends")
    assert found == expected


def test_rabbitmq_cluster_check_reads_the_running_nodes(regions: dict[str, RegionDir]) -> None:
    found = host_vars(regions["testbed-ha"], "tb2", ["infra_rabbitmq"])
    assert found.value("__infra_rabbitmq_node_names") == [f"rabbit@{h}" for h in HA_HOSTS]
    answer = (
        "Cluster status of node rabbit@tb2 ...\n"
        '{"cluster_name":"rabbit@tb1","disk_nodes":["rabbit@tb1","rabbit@tb2","rabbit@tb3"],'
        '"running_nodes":["rabbit@tb3","rabbit@tb1","rabbit@tb2"]}'
    )
    running = "__infra_rabbitmq_running_nodes"
    assert found.value(running, __infra_rabbitmq_cluster_status={"stdout": answer}) == [
        f"rabbit@{h}" for h in HA_HOSTS
    ]
    refused = {"stdout": "Error: unable to perform an operation on node 'rabbit@tb2'."}
    assert found.value(running, __infra_rabbitmq_cluster_status=refused) == []


CINDER_CLUSTER_CHECK = "Check that more than one cinder host runs cinder-volume as one cluster"


def cinder_precheck(directory: RegionDir, overrides: dict[str, Any]) -> bool | None:
    """Whether the cinder cluster precheck passes (None: it is skipped)."""
    that, task_vars, when = assertion("os_cinder", "precheck.yml", CINDER_CLUSTER_CHECK)
    found = host_vars(directory, "tb1", ["os_cinder"])
    found.variables["os_cinder_cinder_conf_overrides"] = overrides
    found.variables.update(task_vars)
    if not found.value(when):
        return None
    return all(found.value(condition) for condition in that)


def test_cinder_precheck_wants_the_cluster_with_three_hosts(
    regions: dict[str, RegionDir],
) -> None:
    ha = regions["testbed-ha"]
    assert cinder_precheck(ha, {}) is True
    assert cinder_precheck(ha, {"DEFAULT": {"cluster": "volumes"}}) is True
    assert cinder_precheck(ha, {"DEFAULT": {"cluster": None}}) is False
    assert cinder_precheck(ha, {"rbd-1": {"backend_host": "rbd"}}) is False
    assert cinder_precheck(ha, {"DEFAULT": {"backend_host": "rbd"}}) is False
    assert cinder_precheck(regions["testbed-aio"], {}) is None


# Each service's database sections, and the variable holding its configuration.
DATABASE_CONFIGS: dict[str, tuple[list[str], str, tuple[str, ...]]] = {
    "keystone": (["os_keystone"], "__os_keystone_keystone_conf", ("database",)),
    "glance": (["os_glance"], "__os_glance_glance_api_conf", ("database",)),
    "nova": (["os_nova_common", "os_nova"], "__os_nova_nova_conf", ("api_database", "database")),
    "neutron": (["os_neutron"], "__os_neutron_neutron_conf", ("database",)),
    "cinder": (["os_cinder"], "__os_cinder_cinder_conf", ("database",)),
    "barbican": (["os_barbican"], "__os_barbican_barbican_conf", ("database",)),
    "octavia": (["os_octavia"], "__os_octavia_octavia_conf", ("database",)),
}


@pytest.mark.parametrize("service", sorted(DATABASE_CONFIGS))
@pytest.mark.parametrize(("region", "expected"), [("testbed-aio", None), ("testbed-ha", 1)])
def test_services_read_causally_from_galera_and_plainly_from_a_lone_server(
    regions: dict[str, RegionDir], region: str, expected: int | None, service: str
) -> None:
    # After a failback a service's pooled connections sit on two Galera nodes: a read on one
    # must wait for what the other just committed ("Router ... could not be found").
    roles, variable, sections = DATABASE_CONFIGS[service]
    found = host_vars(regions[region], "tb1", roles).value(variable)
    for section in sections:
        assert found[section]["mysql_wsrep_sync_wait"] == expected, (service, section)


@pytest.mark.parametrize(
    ("region", "expected"),
    [("testbed-aio", None), ("testbed-ha", "init_command=SET SESSION wsrep_sync_wait = 1")],
)
def test_placement_sets_causal_reads_on_each_new_connection_on_galera(
    regions: dict[str, RegionDir], region: str, expected: str | None
) -> None:
    # [placement_database] has no mysql_wsrep_sync_wait; PyMySQL's init_command does the same.
    found = host_vars(regions[region], "tb1", ["os_placement"]).value(
        "__os_placement_placement_conf"
    )
    assert found["placement_database"]["connection_parameters"] == expected


def test_a_lone_database_server_leaves_the_causal_read_settings_out_of_the_files(
    regions: dict[str, RegionDir],
) -> None:
    for region, present in (("testbed-aio", False), ("testbed-ha", True)):
        keystone = ini(
            host_vars(regions[region], "tb1", ["os_keystone"]).template(
                "os_keystone", "keystone.conf.j2"
            )
        )
        placement = ini(
            host_vars(regions[region], "tb1", ["os_placement"]).template(
                "os_placement", "placement.conf.j2"
            )
        )
        assert keystone.has_option("database", "mysql_wsrep_sync_wait") is present, region
        assert placement.has_option("placement_database", "connection_parameters") is present, (
            region
        )
        if present:
            assert keystone.get("database", "mysql_wsrep_sync_wait") == "1"
