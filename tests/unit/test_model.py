"""Computed properties the templates rely on."""

from __future__ import annotations

from scs_deploy.model import Region

REGION = {
    "name": "net",
    "networks": {
        "management": {"cidr": "10.0.0.0/24", "gateway": "10.0.0.1", "bridge": "br-mgmt"},
        "storage": {"cidr": "10.1.0.0/24", "vlan": 20, "mtu": 9000},
        "tunnel": {"cidr": "10.2.0.0/24", "vlan": 30},
    },
    "hosts": [
        {
            "name": "n1",
            "address": "10.0.0.11",
            "addresses": {"storage": "10.1.0.11", "tunnel": "10.2.0.11"},
            "roles": ["control", "compute", "network", "storage"],
            "bonds": [{"name": "bond0", "members": ["eno1", "eno2"], "mode": "active-backup"}],
            "interfaces": {"management": "bond0", "storage": "bond0", "tunnel": "eno3"},
            "disks": ["/dev/sdb", {"path": "/dev/sdc", "wipe": True}],
        }
    ],
}


def test_interfaces_with_bond_vlan_and_bridge() -> None:
    region = Region.model_validate(REGION)
    stanzas = {s["name"]: s for s in region.host_interfaces(region.hosts[0])}
    assert list(stanzas) == ["eno1", "eno2", "bond0", "br-mgmt", "bond0.20", "eno3", "eno3.30"]
    assert stanzas["bond0"]["bond_slaves"] == ["eno1", "eno2"]
    assert stanzas["bond0"]["method"] == "manual"
    assert stanzas["br-mgmt"]["bridge_ports"] == ["bond0"]
    assert stanzas["br-mgmt"]["address"] == "10.0.0.11/24"
    assert stanzas["br-mgmt"]["gateway"] == "10.0.0.1"
    assert stanzas["bond0.20"]["vlan_raw_device"] == "bond0"
    assert stanzas["bond0.20"]["vlan_id"] == 20
    assert stanzas["bond0.20"]["address"] == "10.1.0.11/24"
    assert stanzas["bond0.20"]["mtu"] == 9000
    assert stanzas["eno3.30"]["address"] == "10.2.0.11/24"


def test_disks_accept_strings_and_mappings() -> None:
    region = Region.model_validate(REGION)
    assert [(d.path, d.wipe) for d in region.hosts[0].disks] == [
        ("/dev/sdb", False),
        ("/dev/sdc", True),
    ]


def test_ceph_clients_get_least_privilege() -> None:
    region = Region.model_validate(REGION)
    clients = {c.name: c for c in region.ceph_clients}
    assert clients["glance"].caps["osd"] == "profile rbd pool=images"
    assert clients["nova"].caps["osd"] == (
        "profile rbd pool=vms, profile rbd-read-only pool=images"
    )
    assert clients["cinder-backup"].secret == "scs_secret_ceph_client_cinder_backup_key"


def test_single_replica_allows_its_warning() -> None:
    region = Region.model_validate(REGION | {"ceph": {"replicas": 1}})
    assert region.ceph_allowed_health_warnings == ["POOL_NO_REDUNDANCY"]
    assert region.ceph.min_size == 1
    assert Region.model_validate(REGION).ceph.min_size == 2


def _controls(count: int, **openstack: object) -> Region:
    """A region of ``count`` control hosts (each also compute, network and storage)."""
    return Region.model_validate(
        {
            "name": "ha",
            "networks": {"management": {"cidr": "10.0.0.0/24", "vip": "10.0.0.10"}},
            "hosts": [
                {
                    "name": f"c{i}",
                    "address": f"10.0.0.{10 + i}",
                    "roles": ["control", "compute", "network", "storage"],
                }
                for i in range(1, count + 1)
            ],
            "openstack": openstack,
        }
    )


def test_one_control_host_keeps_classic_transient_queues_and_no_cinder_cluster() -> None:
    region = _controls(1)
    assert region.oslo_messaging_rabbit == {"rabbit_quorum_queue": True}
    assert region.cinder_cluster is None
    assert region.memcached_dead_retry is None
    assert region.memcached_socket_timeout is None
    assert region.keystone_cache_socket_timeout is None
    assert region.ovn_client_probe_interval is None


def test_three_control_hosts_replicate_every_queue_and_cluster_cinder() -> None:
    region = _controls(3)
    options = region.oslo_messaging_rabbit
    assert options["rabbit_quorum_queue"] is True
    assert options["rabbit_transient_quorum_queue"] is True
    assert options["rabbit_stream_fanout"] is True
    # oslo.messaging 17.3 refuses stream fanout without a prefetch count (0: unlimited)
    # and without transient quorum queues (impl_rabbit.Connection.__init__).
    assert options["rabbit_qos_prefetch_count"] > 0
    # Its counter file in /dev/shm would be shared by every uWSGI API of a host.
    assert "use_queue_manager" not in options
    # also the TCP_USER_TIMEOUT of each connection: a dead server is left after 20 s, not 60 s
    assert options["heartbeat_timeout_threshold"] == 20
    assert region.cinder_cluster == "ceph"
    assert region.memcached_servers == [f"10.0.0.{10 + i}:11211" for i in (1, 2, 3)]
    assert region.memcached_dead_retry == 60
    assert region.memcached_socket_timeout == 1
    assert region.keystone_cache_socket_timeout == 0.25
    assert region.ovn_client_probe_interval == 3000


def test_cinder_on_one_of_three_control_hosts_forms_no_cluster() -> None:
    assert _controls(3, services={"cinder": ["c2"]}).cinder_cluster is None
    assert _controls(3, services={"cinder": ["c1", "c3"]}).cinder_cluster == "ceph"


def test_each_host_tries_its_own_ovn_server_first() -> None:
    data = _controls(3).model_dump(mode="json", exclude_none=True)
    data["hosts"] += [
        {"name": f"k{i}", "address": f"10.0.0.{20 + i}", "roles": ["compute"]} for i in (1, 2, 3)
    ]
    region = Region.model_validate(data)
    first = {h.name: region.ovn_connection(6642, h).split(",")[0] for h in region.hosts}
    assert region.ovn_connection(6642, region.hosts[1]) == (
        "tcp:10.0.0.12:6642,tcp:10.0.0.13:6642,tcp:10.0.0.11:6642"
    )
    assert first["c1"] == "tcp:10.0.0.11:6642"
    assert first["c3"] == "tcp:10.0.0.13:6642"
    # Compute hosts spread over the servers by their place in the region.
    assert {first[f"k{i}"] for i in (1, 2, 3)} == {f"tcp:10.0.0.{n}:6642" for n in (11, 12, 13)}
    # Without a host: every server in the region's order (northd, the gate).
    assert region.ovn_sb_connection == "tcp:10.0.0.11:6642,tcp:10.0.0.12:6642,tcp:10.0.0.13:6642"
