"""Shared fixtures: region directories written from text."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

# Line numbers matter: tests/unit/test_validate.py asserts positions in this text.
BASE_REGION = """\
name: lab
release: "2026.1"
networks:
  management:
    cidr: 10.0.0.0/24
    gateway: 10.0.0.1
    vip: 10.0.0.10
  storage:
    cidr: 10.1.0.0/24
hosts:
  - name: node1
    address: 10.0.0.11
    addresses: {storage: 10.1.0.11}
    roles: [control, network, compute, storage]
    interfaces: {management: eth0, storage: eth1}
    disks: [/dev/sdb, /dev/sdc]
  - name: node2
    address: 10.0.0.12
    addresses: {storage: 10.1.0.12}
    roles: [compute, storage]
    disks: [/dev/sdb]
ceph:
  replicas: 2
  osd_backend: raw
"""

LOCAL_REGION = """\
name: local
release: "2026.1"
environment:
  ntp_servers: []
networks:
  management:
    cidr: 127.0.0.0/8
    vip: {vip}
hosts:
  - name: deployhost
    address: {address}
    roles: [control, network, compute, storage, kaas]
    ssh: {{connection: local}}
ceph:
  replicas: 1
kaas:
  enabled: true
"""


@pytest.fixture
def region_dir(tmp_path: Path) -> Callable[[str], Path]:
    """A region directory holding the given region.yml text."""

    def make(text: str = BASE_REGION) -> Path:
        directory = tmp_path / "region"
        directory.mkdir(exist_ok=True)
        (directory / "region.yml").write_text(text, encoding="utf-8")
        return directory

    return make
