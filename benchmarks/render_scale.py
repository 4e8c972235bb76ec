"""Validate and render a 1000-host region; print wall times.

    python benchmarks/render_scale.py [--hosts 1000] [--repeat 5]

Targets on a 2-core machine: validate + render under 0.3 s in process; the
whole `scs-deploy plan` process under 0.5 s.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from ipaddress import IPv4Address
from pathlib import Path


def region_text(hosts: int) -> str:
    lines = [
        "name: scale",
        'release: "2026.1"',
        "networks:",
        "  management: {cidr: 10.0.0.0/16, gateway: 10.0.0.1, vip: 10.0.0.10}",
        "  storage: {cidr: 10.1.0.0/16, vlan: 20}",
        "hosts:",
    ]
    for index in range(hosts):
        management = IPv4Address("10.0.1.0") + index
        storage = IPv4Address("10.1.1.0") + index
        if index < 3:
            name, roles, disks = f"ctl{index + 1}", "[control, network]", ""
        else:
            name, roles, disks = f"node{index - 2}", "[compute, storage]", "[/dev/sdb, /dev/sdc]"
        lines += [
            f"  - name: {name}",
            f"    address: {management}",
            f"    addresses: {{storage: {storage}}}",
            f"    roles: {roles}",
            "    interfaces: {management: eno1, storage: eno1}",
        ]
        if disks:
            lines.append(f"    disks: {disks}")
    lines += ["ceph:", "  replicas: 3"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from scs_deploy.regiondir import RegionDir
    from scs_deploy.render import render, write_build
    from scs_deploy.validate import load_region

    workdir = Path(tempfile.mkdtemp(prefix="scs-bench-"))
    try:
        (workdir / "region.yml").write_text(region_text(args.hosts), encoding="utf-8")
        region_dir = RegionDir(workdir)
        validate_times, render_times, write_times, cold_times = [], [], [], []
        for _ in range(args.repeat):
            shutil.rmtree(region_dir.build_dir, ignore_errors=True)
            start = time.perf_counter()
            load_region(region_dir)
            cold_times.append(time.perf_counter() - start)
        region_dir.build_dir.mkdir()
        for _ in range(args.repeat):
            start = time.perf_counter()
            region = load_region(region_dir)
            validated = time.perf_counter()
            result = render(region, region_dir)
            rendered = time.perf_counter()
            write_build(result, region_dir.build_dir)
            written = time.perf_counter()
            validate_times.append(validated - start)
            render_times.append(rendered - validated)
            write_times.append(written - rendered)
        plan_times = []
        command = [sys.executable, "-m", "scs_deploy", "plan", str(workdir)]
        for _ in range(args.repeat):
            start = time.perf_counter()
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            plan_times.append(time.perf_counter() - start)
    finally:
        shutil.rmtree(workdir)

    def show(label: str, values: list[float]) -> None:
        print(f"{label:34} median {statistics.median(values):.3f} s  min {min(values):.3f} s")

    print(f"{args.hosts} hosts, {args.repeat} runs each")
    show("validate, cold (YAML parsed)", cold_times)
    show("validate, warm (parse cached)", validate_times)
    show("render (in memory)", render_times)
    show("write build/ (unchanged files)", write_times)
    show(
        "validate (warm) + render",
        [a + b for a, b in zip(validate_times, render_times, strict=True)],
    )
    show("scs-deploy plan (whole process)", plan_times)


if __name__ == "__main__":
    main()
