"""The bridge with NAT the hosts sit on: bridge, ip_forward, iptables rules."""

from __future__ import annotations

import json
import shlex
import time
from pathlib import Path

from scs_deploy.errors import TestbedError
from scs_deploy.testbed._run import output, run
from scs_deploy.testbed.plan import (
    BRIDGE,
    EXTERNAL_BRIDGE,
    EXTERNAL_GATEWAY,
    EXTERNAL_SUBNET,
    GATEWAY,
    RULE_COMMENT,
    SUBNET,
    TUNNEL_BRIDGE,
    external_veth,
    tunnel_veth,
)

IP_FORWARD = Path("/proc/sys/net/ipv4/ip_forward")


def bridge_names(ip_json: str) -> list[str]:
    """Interface names in the output of ``ip -j link show [type bridge]``."""
    text = ip_json.strip()
    if not text:
        return []
    try:
        links = json.loads(text)
    except ValueError as exc:
        raise TestbedError(f"cannot parse the output of 'ip -j link': {exc}") from exc
    return [str(link["ifname"]) for link in links if "ifname" in link]


def tagged_rules(iptables_save: str, comment: str = RULE_COMMENT) -> list[tuple[str, list[str]]]:
    """(table, rule) for every ``-A`` rule carrying ``--comment comment`` in ``iptables-save``
    output; the rule is the argument list after ``-A``, ready for ``iptables -t T -D``."""
    rules: list[tuple[str, list[str]]] = []
    table = "filter"
    for line in iptables_save.splitlines():
        if line.startswith("*"):
            table = line[1:].strip()
            continue
        if not line.startswith("-A "):
            continue
        words = shlex.split(line)
        tagged = any(
            words[i] == "--comment" and i + 1 < len(words) and words[i + 1] == comment
            for i in range(len(words))
        )
        if tagged:
            rules.append((table, words[1:]))
    return rules


def _our_rules() -> list[tuple[str, list[str]]]:
    return [
        ("nat", ["POSTROUTING", "-s", str(SUBNET), "!", "-o", BRIDGE, "-j", "MASQUERADE"]),
        ("filter", ["FORWARD", "-i", BRIDGE, "-j", "ACCEPT"]),
        ("filter", ["FORWARD", "-o", BRIDGE, "-j", "ACCEPT"]),
        ("filter", ["FORWARD", "-i", EXTERNAL_BRIDGE, "-j", "ACCEPT"]),
        ("filter", ["FORWARD", "-o", EXTERNAL_BRIDGE, "-j", "ACCEPT"]),
    ]


def read_ip_forward() -> str:
    return IP_FORWARD.read_text().strip()


def write_ip_forward(value: str) -> None:
    IP_FORWARD.write_text(value + "\n")


def existing_bridges() -> list[str]:
    names = bridge_names(output(["ip", "-j", "link", "show", "type", "bridge"]))
    return [b for b in (BRIDGE, EXTERNAL_BRIDGE, TUNNEL_BRIDGE) if b in names]


def create() -> None:
    """The management bridge with the gateway address and the NAT/forward rules, the
    external network's bridge, whose gateway (and floating IPs' neighbour) this machine is
    (ip_forward is separate), and the tunnel network's bridge."""
    for bridge, gateway, subnet in (
        (BRIDGE, GATEWAY, SUBNET),
        (EXTERNAL_BRIDGE, EXTERNAL_GATEWAY, EXTERNAL_SUBNET),
    ):
        run(["ip", "link", "add", bridge, "type", "bridge"])
        run(["ip", "addr", "add", f"{gateway}/{subnet.prefixlen}", "dev", bridge])
        run(["ip", "link", "set", bridge, "up"])
    # Layer 2 between the hosts only: no address, nothing routed.
    run(["ip", "link", "add", TUNNEL_BRIDGE, "type", "bridge"])
    run(["ip", "link", "set", TUNNEL_BRIDGE, "up"])
    for table, (chain, *rule) in _our_rules():
        # Insert at the top so a restrictive FORWARD policy or DROP rule does not win.
        tag = ["-m", "comment", "--comment", RULE_COMMENT]
        run(["iptables", "-w", "-t", table, "-I", chain, *rule, *tag])


def remove() -> list[str]:
    """Delete every rule tagged with our comment and the bridge; returns what was removed."""
    removed = []
    for table, (chain, *rule) in tagged_rules(output(["iptables-save"])):
        run(["iptables", "-w", "-t", table, "-D", chain, *rule])
        removed.append(f"iptables {table} {chain} rule")
    for bridge in existing_bridges():
        run(["ip", "link", "del", bridge])
        removed.append(f"bridge {bridge}")
    return removed


def attach_extra_veths(name: str) -> None:
    """Put a host's external and tunnel veths (made by systemd-nspawn) on their bridges."""
    run(["ip", "link", "set", external_veth(name), "master", EXTERNAL_BRIDGE, "up"])
    run(["ip", "link", "set", tunnel_veth(name), "master", TUNNEL_BRIDGE, "up"])


def host_links(name: str) -> tuple[str, ...]:
    """The machine's ends of a host's veths: nspawn's ``vb-<name>``, the external and the
    tunnel one."""
    return (f"vb-{name}"[:15], external_veth(name), tunnel_veth(name))


def present_host_links(name: str) -> list[str]:
    """Those of the host's veth ends that exist on the machine now."""
    existing = {
        str(link.get("ifname")) for link in json.loads(output(["ip", "-j", "link", "show"]) or "[]")
    }
    return [link for link in host_links(name) if link in existing]


def cut_host_links(name: str) -> None:
    """Take the machine's ends of a host's veths down: from now on the host neither sends
    nor receives, as after a power cut. Killing its processes first would let its kernel
    answer for a moment without them (RST to a SYN, FIN on every open connection)."""
    for link in present_host_links(name):
        run(["ip", "link", "set", link, "down"], check=False)


def remove_host_links(name: str) -> list[str]:
    """Delete a host's veths that outlived it (a network namespace the kernel has not
    freed yet keeps them, and the next start fails with "File exists")."""
    removed = []
    for link in present_host_links(name):
        result = run(["ip", "link", "del", link], check=False)
        # Gone meanwhile with its namespace is as good as deleted.
        if result.returncode != 0 and link in present_host_links(name):
            raise TestbedError(f"ip link del {link} failed: {result.stderr.strip()}")
        removed.append(f"link {link}")
    return removed


def wait_host_links_gone(name: str, timeout: float) -> list[str]:
    """Wait while the kernel drops a dead host's veths with its network namespace (it
    frees namespaces in the background); returns those still there after ``timeout``."""
    deadline = time.monotonic() + timeout
    left = present_host_links(name)
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = present_host_links(name)
    return left
