"""roles/infra_ovn_controller/library: what the OVS modules read and the transactions they plan."""

from __future__ import annotations

import json
from types import ModuleType

import pytest

from tests.unit.modules import load_role_module


def load(name: str) -> ModuleType:
    return load_role_module("infra_ovn_controller", name)


ovsdb_map = load("scs_ovsdb_map")
ovs_bridge = load("scs_ovs_bridge")


def listing(pairs: list[list[str]]) -> str:
    """`ovs-vsctl --format=json --columns=external_ids list Open_vSwitch .`"""
    return json.dumps({"data": [[["map", pairs]]], "headings": ["external_ids"]})


def test_parse_map() -> None:
    out = listing([["hostname", "tb1"], ["ovn-remote", "tcp:10.231.0.11:6642"]])
    assert ovsdb_map.parse_map(out) == {"hostname": "tb1", "ovn-remote": "tcp:10.231.0.11:6642"}


def test_parse_map_rejects_a_set_column() -> None:
    with pytest.raises(ValueError, match="not a map"):
        ovsdb_map.parse_map(json.dumps({"data": [[["set", []]]], "headings": ["ports"]}))


def test_parse_map_wants_one_record() -> None:
    with pytest.raises(ValueError, match="one record"):
        ovsdb_map.parse_map(json.dumps({"data": [], "headings": ["external_ids"]}))


def test_plan_sets_differing_keys_and_removes_null_keys() -> None:
    current = {"hostname": "tb1", "ovn-cms-options": "enable-chassis-as-gw", "rundir": "/run"}
    wanted = {
        "hostname": "tb1",
        "ovn-remote-probe-interval": 60000,
        "ovn-cms-options": None,
        "absent": None,
    }
    to_set, to_remove = ovsdb_map.plan(current, wanted)
    assert to_set == {"ovn-remote-probe-interval": "60000"}
    assert to_remove == ["ovn-cms-options"]


def test_plan_converged() -> None:
    assert ovsdb_map.plan({"a": "1"}, {"a": 1, "b": None}) == ({}, [])


def test_vsctl_args_quote_values_in_one_transaction() -> None:
    to_set = {"ovn-bridge-mappings": "physnet1:br-ex"}
    args = ovsdb_map.vsctl_args("Open_vSwitch", ".", "external_ids", to_set, ["ovn-cms-options"])
    assert args == [
        "set",
        "Open_vSwitch",
        ".",
        'external_ids:ovn-bridge-mappings="physnet1:br-ex"',
        "--",
        "remove",
        "Open_vSwitch",
        ".",
        "external_ids",
        "ovn-cms-options",
    ]


def test_vsctl_args_remove_only() -> None:
    assert ovsdb_map.vsctl_args("Open_vSwitch", ".", "external_ids", {}, ["a", "b"]) == [
        "remove",
        "Open_vSwitch",
        ".",
        "external_ids",
        "a",
        "--",
        "remove",
        "Open_vSwitch",
        ".",
        "external_ids",
        "b",
    ]


@pytest.mark.parametrize(
    ("atom", "value"),
    [('""', ""), ("netdev", "netdev"), ('"a b"', "a b"), ("system\n", "system")],
)
def test_unquote(atom: str, value: str) -> None:
    assert ovs_bridge.unquote(atom) == value


def test_bridge_plan_creates_the_bridge() -> None:
    args, changes = ovs_bridge.plan("br-ex", False, "netdev", "", ["ext0"], [])
    assert args == [
        "--may-exist",
        "add-br",
        "br-ex",
        "--",
        "set",
        "Bridge",
        "br-ex",
        "datapath_type=netdev",
        "--",
        "--may-exist",
        "add-port",
        "br-ex",
        "ext0",
    ]
    assert changes == ["bridge br-ex created", "port ext0 added to br-ex"]


def test_bridge_plan_fixes_the_datapath_and_keeps_other_ports() -> None:
    ports = ["ext0", "patch-provnet-1"]
    args, changes = ovs_bridge.plan("br-ex", True, "netdev", "", ["ext0"], ports)
    assert args == ["set", "Bridge", "br-ex", "datapath_type=netdev"]
    assert changes == ["bridge br-ex: datapath_type (empty) -> netdev"]


def test_bridge_plan_converged() -> None:
    ports = ["ext0", "patch-provnet-1"]
    assert ovs_bridge.plan("br-ex", True, "netdev", "netdev", ["ext0"], ports) == ([], [])
