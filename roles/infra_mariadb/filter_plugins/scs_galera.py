# Copyright: scs-deploy contributors
# Apache License 2.0 (see LICENSE)
"""Filters of the Galera tasks: which nodes form a primary component, and which node a cluster
without one is bootstrapped from. Decided from every node's reported state, never guessed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

try:
    from ansible.errors import AnsibleFilterError
except ImportError:  # the unit tests load this file without Ansible's error classes

    class AnsibleFilterError(Exception):  # type: ignore[no-redef]
        pass


ZERO_UUID = "00000000-0000-0000-0000-000000000000"


def _nodes(hostvars: Mapping[str, Any], names: Sequence[str], key: str) -> dict[str, Any]:
    """name -> the node state scs_galera_node returned into ``key`` (None where it did not:
    the host was unreachable or failed before)."""
    nodes: dict[str, Any] = {}
    for name in names:
        result = (hostvars.get(name) or {}).get(key) or {}
        nodes[name] = result.get("node") if not result.get("skipped") else None
    return nodes


def scs_galera_primary(hostvars: Mapping[str, Any], names: Sequence[str], key: str) -> list[str]:
    """The nodes among ``names`` that run in a primary component."""
    nodes = _nodes(hostvars, names, key)
    return [name for name in names if nodes[name] and nodes[name].get("primary")]


def _position(node: Mapping[str, Any]) -> tuple[str, int] | None:
    """The node's cluster UUID and last committed seqno; None for a node without history."""
    saved = node.get("saved")
    recovered = node.get("recovered")
    if recovered:
        return str(recovered["uuid"]), int(recovered["seqno"])
    if saved and saved["uuid"] != ZERO_UUID:
        return str(saved["uuid"]), int(saved["seqno"])
    return None


def scs_galera_bootstrap_node(hostvars: Mapping[str, Any], order: Sequence[str], key: str) -> str:
    """The node a cluster without a primary component starts from.

    ``order``: every node of the cluster, first preferred; ``key``: where each registered its
    state with the recovered position (scs_galera_node state=recovered).

    - Every node must have reported, and none may run: a missing one may hold newer writes.
    - Nodes without history (no grastate.dat, or the zero UUID) join; if no node has history the
      cluster is new and the first node bootstraps it.
    - All nodes with history must share one cluster UUID.
    - A node marked safe_to_bootstrap (it left a cleanly stopped cluster last) is the one.
    - Otherwise every node with history needs a known seqno; the highest wins, ties go to the
      earlier node in ``order``.
    """
    nodes = _nodes(hostvars, order, key)
    missing = [name for name in order if not nodes[name]]
    if missing:
        raise AnsibleFilterError(
            "Galera has no primary component and %s did not report its state (unreachable?): "
            "a node that is not seen may hold the newest writes, so none is bootstrapped; "
            "bring it back and run again" % ", ".join(missing)
        )
    running = [name for name in order if nodes[name].get("running")]
    if running:
        raise AnsibleFilterError(
            "Galera has no primary component but MariaDB still runs on %s: stop it first"
            % ", ".join(running)
        )
    positions = {name: _position(nodes[name]) for name in order}
    history = {name: position for name, position in positions.items() if position is not None}
    if not history:
        return order[0]
    uuids = sorted({uuid for uuid, _ in history.values()})
    if len(uuids) > 1:
        raise AnsibleFilterError(
            "the Galera nodes belong to different clusters (%s): refusing to choose; "
            "decide which data to keep and remove the others' grastate.dat"
            % "; ".join("%s: %s" % (name, history[name][0]) for name in history)
        )
    safe = [name for name in history if (nodes[name].get("saved") or {}).get("safe_to_bootstrap")]
    if len(safe) == 1:
        return safe[0]
    unknown = [name for name, (_, seqno) in history.items() if seqno < 0]
    if unknown:
        raise AnsibleFilterError(
            "the last committed transaction of %s is unknown (seqno -1 even after "
            "galera_recovery): refusing to guess the most advanced node; check its error log"
            % ", ".join(unknown)
        )
    highest = max(seqno for _, seqno in history.values())
    return next(name for name in order if name in history and history[name][1] == highest)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "scs_galera_primary": scs_galera_primary,
            "scs_galera_bootstrap_node": scs_galera_bootstrap_node,
        }
