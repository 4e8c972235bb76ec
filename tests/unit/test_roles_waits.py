"""A wait (a task with ``until``) fails when its time is up. Ansible marks a task whose retries
ran out as failed only when its result failed: with ``failed_when: false`` it passes silently,
so such a wait must be followed by a check of its own (an assert or fail within the next two
tasks), which says what was still missing."""

from __future__ import annotations

from typing import Any

import yaml

from tests.unit.modules import ROOT

CHECKS = ("ansible.builtin.assert", "ansible.builtin.fail")


def task_lists(tasks: list[Any]) -> list[list[dict[str, Any]]]:
    """The list and every block's lists, each in its order."""
    found = [[t for t in tasks if isinstance(t, dict)]]
    for task in found[0]:
        for key in ("block", "rescue", "always"):
            if key in task:
                found += task_lists(task[key])
    return found


def unchecked_silent_waits(tasks: list[Any]) -> list[str]:
    """Names of the waits with ``failed_when: false`` that no check follows."""
    names = []
    for listed in task_lists(tasks):
        for index, task in enumerate(listed):
            if "until" not in task or task.get("failed_when") is not False:
                continue
            following = listed[index + 1 : index + 3]
            if not any(key in later for later in following for key in CHECKS):
                names.append(str(task.get("name")))
    return names


def test_every_wait_fails_when_its_time_is_up() -> None:
    files = sorted((ROOT / "roles").glob("*/tasks/*.yml"))
    assert files
    problems = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in files
        for name in unchecked_silent_waits(yaml.safe_load(path.read_text(encoding="utf-8")) or [])
    ]
    assert problems == []


def test_a_silent_wait_is_found_unless_a_check_follows() -> None:
    wait = {"name": "Wait", "ansible.builtin.command": "true", "until": "x", "failed_when": False}
    other = {"name": "Read", "ansible.builtin.command": "true"}
    check = {"name": "Check", "ansible.builtin.assert": {"that": ["x"]}}
    assert unchecked_silent_waits([wait, other]) == ["Wait"]
    assert unchecked_silent_waits([{"block": [wait]}]) == ["Wait"]
    assert unchecked_silent_waits([wait, other, check]) == []
    assert unchecked_silent_waits([{**wait, "failed_when": "x"}, other]) == []
