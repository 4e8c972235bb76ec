"""Turning ansible-runner events into what a person reads."""

from __future__ import annotations

from scs_deploy.runner import _event


def test_loop_failure_reports_the_failed_items() -> None:
    event = _event(
        {
            "event": "runner_on_failed",
            "event_data": {
                "host": "tb2",
                "role": "host_precheck",
                "task": "Check disks",
                "res": {
                    "msg": "One or more items failed",
                    "results": [
                        {"failed": False, "msg": "All assertions passed"},
                        {"failed": True, "msg": "host tb2: disk /dev/vdb holds a filesystem"},
                    ],
                },
            },
        }
    )
    assert event is not None
    assert (event.kind, event.host, event.role) == ("failed", "tb2", "host_precheck")
    assert event.message == "host tb2: disk /dev/vdb holds a filesystem"


def test_changed_result_and_ignored_failure() -> None:
    changed = _event({"event": "runner_on_ok", "event_data": {"res": {"changed": True}}})
    assert changed is not None and changed.kind == "changed"
    ignored = _event(
        {"event": "runner_on_failed", "event_data": {"ignore_errors": True, "res": {"msg": "x"}}}
    )
    assert ignored is not None and ignored.ignored
    assert _event({"event": "verbose", "event_data": {}}) is None


def test_a_hidden_failure_says_why_it_has_no_message() -> None:
    """A no_log task's failure names the reason its output is missing, not "no message"."""
    from scs_deploy.runner import _failure_message

    censored = {
        "failed": True,
        "censored": "the output has been hidden due to the fact that 'no_log: true' was "
        "specified for this result",
    }
    assert "no_log" in _failure_message(censored)
    assert _failure_message({"failed": True}) == "task failed (no message)"
