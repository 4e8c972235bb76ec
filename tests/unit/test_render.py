"""Render is pure: same region, same bytes; build/ can be deleted and made again."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path

from scs_deploy.regiondir import RegionDir
from scs_deploy.render import render, write_build
from scs_deploy.validate import load_region
from tests.conftest import BASE_REGION

GOLDEN = Path(__file__).parent / "golden"


def tree_digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_two_renders_are_byte_identical(region_dir: Callable[[str], Path]) -> None:
    directory = RegionDir(region_dir(BASE_REGION))
    write_build(render(load_region(directory), directory), directory.build_dir)
    first = tree_digest(directory.build_dir)
    shutil.rmtree(directory.build_dir)
    write_build(render(load_region(directory), directory), directory.build_dir)
    assert tree_digest(directory.build_dir) == first
    assert "bootstrap.yml" in first
    assert "inventory/host_vars/node2.yml" in first


def test_render_removes_files_of_removed_hosts_and_keeps_the_cache(
    region_dir: Callable[[str], Path],
) -> None:
    directory = RegionDir(region_dir(BASE_REGION))
    write_build(render(load_region(directory), directory), directory.build_dir)
    cache = directory.build_dir / ".cache" / "facts" / "node1"
    cache.parent.mkdir(parents=True)
    cache.write_text("{}")
    smaller = BASE_REGION.split("  - name: node2")[0] + "ceph:\n  replicas: 1\n"
    (directory.path / "region.yml").write_text(smaller)
    write_build(render(load_region(directory), directory), directory.build_dir)
    assert not (directory.build_dir / "inventory/host_vars/node2.yml").exists()
    assert cache.exists()


def test_rendered_files_match_golden(region_dir: Callable[[str], Path]) -> None:
    directory = RegionDir(region_dir(BASE_REGION))
    files = render(load_region(directory), directory).files
    for name in ("bootstrap.yml", "openstack.yml", "inventory/host_vars/node1.yml"):
        golden = GOLDEN / name.replace("/", "__")
        assert files[name] == golden.read_text(encoding="utf-8"), name


def test_rendered_yaml_is_what_ansible_reads(region_dir: Callable[[str], Path]) -> None:
    import yaml

    directory = RegionDir(region_dir(BASE_REGION))
    files = render(load_region(directory), directory).files
    inventory = yaml.safe_load(files["inventory/hosts.yml"])
    assert inventory["all"]["hosts"]["node1"]["ansible_host"] == "10.0.0.11"
    assert set(inventory["all"]["children"]["storage"]["hosts"]) == {"node1", "node2"}
    assert list(inventory["all"]["children"]["ceph_mon"]["hosts"]) == ["node1"]
    host = yaml.safe_load(files["inventory/host_vars/node1.yml"])
    assert host["scs_host_ceph_address"] == "10.1.0.11"
    assert host["scs_host_disks"] == [
        {"path": "/dev/sdb", "wipe": False},
        {"path": "/dev/sdc", "wipe": False},
    ]
    group = yaml.safe_load(files["inventory/group_vars/all.yml"])
    assert group["scs_ceph_mons"] == [{"name": "node1", "address": "10.1.0.11"}]
    playbook = yaml.safe_load(files["bootstrap.yml"])
    # The converge check opens every phase, its record closes it.
    assert playbook[0]["vars"]["scs_action"] == "check"
    assert playbook[0]["roles"] == [{"role": "converge"}]
    assert playbook[-1]["vars"]["scs_action"] == "record"
    assert playbook[1]["any_errors_fatal"] is True
    assert playbook[1]["vars"]["scs_action"] == "precheck"
    gate = next(play for play in playbook if play["name"] == "bootstrap health gate")
    assert "when" not in gate["tasks"][0]
    packages = next(play for play in playbook if play["name"] == "Host configuration")
    assert packages["tasks"][1]["ansible.builtin.include_role"] == {"name": "host_packages"}
    assert 'intersect(["*", "host_packages"])' in packages["tasks"][1]["when"]
