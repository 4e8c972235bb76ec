"""The example regions under inventories/: each validates and plans from a fresh copy."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from scs_deploy.cli import app
from scs_deploy.model.region import DEFAULT_RELEASE
from scs_deploy.testbed.plan import plan as plan_testbed
from scs_deploy.testbed.region_file import render as render_testbed_region

INVENTORIES = Path(__file__).resolve().parents[2] / "inventories"
EXAMPLES = sorted(p.parent.name for p in INVENTORIES.glob("*/region.yml"))
# What running scs-deploy in an example folder leaves there (inventories/.gitignore).
GENERATED = shutil.ignore_patterns(
    "build", "artifacts", "logs", "ssh", "secrets.yml", ".vault-pass", "state.json", "clouds.yaml"
)

runner = CliRunner()


@dataclass(frozen=True)
class Facts:
    """What the plan of an example must show."""

    hosts: int
    controls: tuple[str, ...]
    internal_vip: str
    public_vip: str


FACTS = {
    "testbed-aio": Facts(1, ("tb1",), "10.231.0.10", "10.231.0.10"),
    "testbed-ha": Facts(3, ("tb1", "tb2", "tb3"), "10.231.0.10", "10.231.0.10"),
    "provider-example": Facts(11, ("ctl1", "ctl2", "ctl3"), "10.10.0.10", "198.51.100.10"),
}


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def copy_example(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(INVENTORIES / name, target, ignore=GENERATED)
    return target


def rendered(directory: Path, relative: str) -> Any:
    return yaml.safe_load((directory / "build" / relative).read_text(encoding="utf-8"))


def test_the_documented_examples_exist() -> None:
    assert set(FACTS) <= set(EXAMPLES)


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_validates_and_plans(name: str, tmp_path: Path) -> None:
    directory = copy_example(name, tmp_path)
    code, output = invoke("validate", str(directory))
    assert code == 0, output
    assert ": valid (" in output
    code, output = invoke("init", str(directory), "--merge")
    assert code == 0, output
    assert (directory / "secrets.yml").is_file()
    assert (directory / ".vault-pass").is_file()
    code, output = invoke("plan", str(directory))
    assert code == 0, output
    for phase in ("bootstrap", "ceph", "openstack"):
        assert f"phase {phase}:" in output
    facts = FACTS.get(name)
    if facts is None:
        return
    assert f"valid ({facts.hosts} hosts" in invoke("validate", str(directory))[1]
    lines = output.splitlines()
    play = lines.index("  Load balancer and VIPs: infra_haproxy")
    assert lines[play + 1] == f"    on {len(facts.controls)} hosts: {', '.join(facts.controls)}"
    group_vars = rendered(directory, "inventory/group_vars/all.yml")
    assert group_vars["scs_openstack_keepalived"] is (len(facts.controls) > 1)
    assert group_vars["scs_openstack_internal_vip"] == facts.internal_vip
    assert group_vars["scs_openstack_public_vip"] == facts.public_vip
    assert [h["name"] for h in group_vars["scs_mariadb_hosts"]] == list(facts.controls)
    hosts = rendered(directory, "inventory/hosts.yml")["all"]["hosts"]
    assert len(hosts) == facts.hosts
    # No example names a private key: ssh-agent, or what `testbed up` adds.
    assert not any("ansible_ssh_private_key_file" in h for h in hosts.values())


def test_provider_example_renders_its_network_proxy_and_tls(tmp_path: Path) -> None:
    directory = copy_example("provider-example", tmp_path)
    code, output = invoke("plan", str(directory))
    assert code == 0, output
    group_vars = rendered(directory, "inventory/group_vars/all.yml")
    assert group_vars["scs_ca_certificates"] == [
        {"name": "proxy-ca.crt", "src": str(directory / "ca" / "proxy-ca.crt")}
    ]
    assert group_vars["scs_proxy_env"]["https_proxy"].startswith("http://")
    assert "10.10.0.0/24" in group_vars["scs_proxy_env"]["no_proxy"].split(",")
    assert group_vars["scs_openstack_tls_certificate_file"] == str(directory / "tls" / "api.crt")
    assert group_vars["scs_openstack_tls_key_file"] == str(directory / "tls" / "api.key")
    assert group_vars["scs_openstack_tls_ca_file"] == str(directory / "tls" / "ca.crt")
    assert group_vars["scs_ceph_public_network"] == "10.20.0.0/24"
    assert [m["address"] for m in group_vars["scs_ceph_mons"]] == [
        "10.20.0.11",
        "10.20.0.12",
        "10.20.0.13",
    ]
    ctl1 = rendered(directory, "inventory/host_vars/ctl1.yml")
    assert ctl1["scs_host_management_interface"] == "bond0"
    assert ctl1["scs_host_public_interface"] == "bond0.100"
    stanzas = {s["name"]: s for s in ctl1["scs_host_interfaces"]}
    assert stanzas["bond0"]["bond_slaves"] == ["eno1", "eno2"]
    assert stanzas["bond1.20"]["address"] == "10.20.0.11/24"
    assert stanzas["bond1.30"]["address"] == "10.30.0.11/24"
    stor1 = rendered(directory, "inventory/host_vars/stor1.yml")
    assert len(stor1["scs_host_disks"]) == 4
    assert "bond0.100" not in {s["name"] for s in stor1["scs_host_interfaces"]}


def test_provider_example_tls_script_makes_files_validate_accepts(tmp_path: Path) -> None:
    directory = copy_example("provider-example", tmp_path)
    before = (directory / "tls" / "api.key").read_bytes()
    subprocess.run(
        [sys.executable, str(directory / "make-example-tls.py")], check=True, capture_output=True
    )
    assert (directory / "tls" / "api.key").read_bytes() != before
    code, output = invoke("validate", str(directory))
    assert code == 0, output


def _without_machine_values(data: dict[str, Any]) -> dict[str, Any]:
    """The region less what `testbed up` fills in from this machine: its generated SSH
    key pair and copies of the machine's extra CAs."""
    data["operator"]["ssh_public_keys"] = []
    data["environment"]["ca_certificates"] = []
    for host in data["hosts"]:
        host["ssh"].pop("private_key", None)
    return data


@pytest.mark.parametrize(("name", "count"), [("testbed-aio", 1), ("testbed-ha", 3)])
def test_testbed_example_is_what_testbed_up_writes(name: str, count: int) -> None:
    planned = plan_testbed(count, 2)
    # `up` binds each disk under its loop device's name; the kernel counts from loop0.
    loops = iter(range(2 * count))
    attached = tuple(
        replace(h, disks=tuple(replace(d, guest_path=f"/dev/loop{next(loops)}") for d in h.disks))
        for h in planned
    )
    written = render_testbed_region(
        attached, DEFAULT_RELEASE, "ssh-ed25519 AAAA scs-testbed", ["ca/machine.crt"]
    )
    example = (INVENTORIES / name / "region.yml").read_text(encoding="utf-8")
    assert _without_machine_values(yaml.safe_load(example)) == _without_machine_values(
        yaml.safe_load(written)
    )
