"""roles/os_gate: the unit and HTTP gates, and the endpoint URLs they probe."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from scs_deploy.model.openstack import SERVICES
from scs_deploy.regiondir import RegionDir
from scs_deploy.validate import load_region
from tests.conftest import BASE_REGION
from tests.unit.modules import load_role_module


def load(name: str) -> ModuleType:
    return load_role_module("os_gate", name)


units_running = load("scs_units_running")
http_probe = load("scs_http_probe")


class Exited(Exception):
    """exit_json was called; args holds what the module returned."""

    def __init__(self, result: dict[str, Any]) -> None:
        super().__init__(result)
        self.result = result


class Failed(Exception):
    """fail_json was called; msg and result hold what the module reported."""

    def __init__(self, msg: str, result: dict[str, Any]) -> None:
        super().__init__(msg)
        self.msg = msg
        self.result = result


@pytest.fixture
def run_module(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Exited | Failed]:
    """Run a module's main() with the given args; its exit_json or fail_json as an outcome."""

    def exit_json(self: basic.AnsibleModule, **kwargs: Any) -> None:
        raise Exited(kwargs)

    def fail_json(self: basic.AnsibleModule, msg: str, **kwargs: Any) -> None:
        raise Failed(msg, kwargs)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)

    def run(module: ModuleType, args: dict[str, Any]) -> Exited | Failed:
        with patch_module_args(args):
            try:
                module.main()
            except (Exited, Failed) as outcome:
                return outcome
        raise AssertionError("main() returned without exit_json or fail_json")

    return run


# --- scs_units_running ------------------------------------------------------------------------


def show(
    load_state: str = "loaded",
    active: str = "active",
    sub: str = "running",
    file: str = "enabled",
) -> dict[str, str]:
    """The states systemctl show prints for one unit (the fake adds its Id)."""
    return {
        "LoadState": load_state,
        "ActiveState": active,
        "SubState": sub,
        "UnitFileState": file,
    }


@pytest.fixture
def systemctl(monkeypatch: pytest.MonkeyPatch) -> Callable[..., list[list[str]]]:
    """Fake run_command: answer `systemctl show` with one block per unit, in argument order."""

    def answer(blocks: list[dict[str, str]], rc: int = 0, err: str = "") -> list[list[str]]:
        calls: list[list[str]] = []

        def run_command(
            self: basic.AnsibleModule, args: list[str], **_: Any
        ) -> tuple[int, str, str]:
            calls.append(list(args))
            names = args[args.index("--") + 1 :]
            assert len(names) == len(blocks)
            out = "\n".join(
                f"Id={name}\n" + "".join(f"{key}={value}\n" for key, value in block.items())
                for name, block in zip(names, blocks, strict=True)
            )
            return rc, out if rc == 0 else "", err

        monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
        return calls

    return answer


def test_units_running_and_enabled_or_static_pass(
    run_module: Callable[..., Exited | Failed], systemctl: Callable[..., list[list[str]]]
) -> None:
    calls = systemctl([show(), show(file="static")])
    outcome = run_module(units_running, {"units": ["keystone-api", "cron.timer"]})
    assert isinstance(outcome, Exited)
    assert outcome.result["changed"] is False
    assert outcome.result["units"] == {
        "keystone-api.service": {
            "load": "loaded",
            "active": "active",
            "sub": "running",
            "enablement": "enabled",
        },
        "cron.timer": {
            "load": "loaded",
            "active": "active",
            "sub": "running",
            "enablement": "static",
        },
    }
    assert calls == [
        [
            "systemctl",
            "show",
            "--property=Id,LoadState,ActiveState,SubState,UnitFileState",
            "--",
            "keystone-api.service",
            "cron.timer",
        ]
    ]


def test_a_dead_unit_fails_and_points_at_its_journal(
    run_module: Callable[..., Exited | Failed], systemctl: Callable[..., list[list[str]]]
) -> None:
    systemctl([show(), show(active="inactive", sub="dead")])
    outcome = run_module(units_running, {"units": ["glance-api", "nova-api"]})
    assert isinstance(outcome, Failed)
    assert "nova-api.service is inactive (dead)" in outcome.msg
    assert "journalctl -u nova-api.service" in outcome.msg
    assert "glance-api" not in outcome.msg
    assert outcome.result["units"]["nova-api.service"]["active"] == "inactive"


def test_a_missing_unit_is_not_installed(
    run_module: Callable[..., Exited | Failed], systemctl: Callable[..., list[list[str]]]
) -> None:
    systemctl([show(load_state="not-found", active="inactive", sub="dead", file="")])
    outcome = run_module(units_running, {"units": ["placement-api"]})
    assert isinstance(outcome, Failed)
    assert outcome.msg == "placement-api.service is not installed (not-found)"


def test_a_disabled_unit_fails_naming_the_accepted_enablement(
    run_module: Callable[..., Exited | Failed], systemctl: Callable[..., list[list[str]]]
) -> None:
    systemctl([show(file="disabled")])
    outcome = run_module(units_running, {"units": ["neutron-server"]})
    assert isinstance(outcome, Failed)
    assert outcome.msg == "neutron-server.service is disabled, expected one of enabled, static"


def test_the_accepted_enablement_is_configurable(
    run_module: Callable[..., Exited | Failed], systemctl: Callable[..., list[list[str]]]
) -> None:
    systemctl([show(file="static")])
    outcome = run_module(units_running, {"units": ["a"], "enablement": ["enabled"]})
    assert isinstance(outcome, Failed)
    assert outcome.msg == "a.service is static, expected one of enabled"


def test_every_problem_is_named(
    run_module: Callable[..., Exited | Failed], systemctl: Callable[..., list[list[str]]]
) -> None:
    systemctl([show(load_state="not-found"), show(), show(active="failed", sub="failed")])
    outcome = run_module(units_running, {"units": ["a", "b", "c"]})
    assert isinstance(outcome, Failed)
    problems = outcome.msg.split("; ")
    assert len(problems) == 2
    assert problems[0].startswith("a.service is not installed")
    assert problems[1].startswith("c.service is failed (failed)")


def test_systemctl_failing_fails(
    run_module: Callable[..., Exited | Failed], systemctl: Callable[..., list[list[str]]]
) -> None:
    systemctl([show()], rc=1, err="Failed to connect to bus: No such file or directory\n")
    outcome = run_module(units_running, {"units": ["a"]})
    assert isinstance(outcome, Failed)
    assert (
        outcome.msg == "systemctl show failed: Failed to connect to bus: No such file or directory"
    )


def test_no_units_pass_without_systemctl(
    run_module: Callable[..., Exited | Failed], systemctl: Callable[..., list[list[str]]]
) -> None:
    calls = systemctl([])
    outcome = run_module(units_running, {"units": []})
    assert isinstance(outcome, Exited)
    assert outcome.result["units"] == {}
    assert calls == []


# --- scs_http_probe ---------------------------------------------------------------------------


class Handler(BaseHTTPRequestHandler):
    """/ok 200, /auth 401, /moved 302 to /ok, /flaky 503 once and 200 after, else 404."""

    def do_GET(self) -> None:
        server: Server = self.server  # type: ignore[assignment]
        server.requests.append(self.path)
        if self.path == "/ok":
            self.answer(200)
        elif self.path == "/auth":
            self.answer(401)
        elif self.path == "/moved":
            self.answer(302, location="/ok")
        elif self.path == "/flaky":
            self.answer(503 if server.requests.count("/flaky") == 1 else 200)
        else:
            self.answer(404)

    def answer(self, status: int, location: str = "") -> None:
        body = b"%d\n" % status
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


class Server(HTTPServer):
    requests: list[str]


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    """A local HTTP server, with no proxy between it and the module."""
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    httpd = Server(("127.0.0.1", 0), Handler)
    httpd.requests = []
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def url(server: Server, path: str) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


def test_accepted_statuses_pass(run_module: Callable[..., Exited | Failed], server: Server) -> None:
    urls = {"keystone public": url(server, "/ok"), "nova internal": url(server, "/auth")}
    outcome = run_module(http_probe, {"urls": urls, "status_code": [200, 401]})
    assert isinstance(outcome, Exited)
    assert outcome.result["changed"] is False
    assert outcome.result["status"] == {"keystone public": 200, "nova internal": 401}


def test_a_status_not_accepted_fails_naming_label_url_and_status(
    run_module: Callable[..., Exited | Failed], server: Server
) -> None:
    urls = {"keystone public": url(server, "/ok"), "nova internal": url(server, "/auth")}
    outcome = run_module(http_probe, {"urls": urls, "delay": 0})
    assert isinstance(outcome, Failed)
    auth = url(server, "/auth")
    assert (
        outcome.msg == f"no accepted answer (200) after 1 tries: nova internal ({auth}): HTTP 401"
    )
    assert outcome.result["status"] == {"keystone public": 200, "nova internal": 401}


def test_a_redirect_is_not_followed(
    run_module: Callable[..., Exited | Failed], server: Server
) -> None:
    moved = url(server, "/moved")
    outcome = run_module(http_probe, {"urls": {"glance public": moved}, "delay": 0})
    assert isinstance(outcome, Failed)
    assert f"glance public ({moved}): HTTP 302" in outcome.msg
    assert server.requests == ["/moved"]


def test_a_redirect_counts_when_accepted(
    run_module: Callable[..., Exited | Failed], server: Server
) -> None:
    moved = url(server, "/moved")
    outcome = run_module(http_probe, {"urls": {"glance public": moved}, "status_code": [302]})
    assert isinstance(outcome, Exited)
    assert outcome.result["status"] == {"glance public": 302}
    assert server.requests == ["/moved"]


def test_a_flaky_url_passes_on_a_retry(
    run_module: Callable[..., Exited | Failed], server: Server
) -> None:
    urls = {"ok": url(server, "/ok"), "flaky": url(server, "/flaky")}
    outcome = run_module(http_probe, {"urls": urls, "retries": 1, "delay": 0})
    assert isinstance(outcome, Exited)
    assert outcome.result["status"] == {"ok": 200, "flaky": 200}
    # The second round asks only what did not answer as accepted in the first.
    assert sorted(server.requests) == ["/flaky", "/flaky", "/ok"]


def test_a_flaky_url_fails_without_retries(
    run_module: Callable[..., Exited | Failed], server: Server
) -> None:
    flaky = url(server, "/flaky")
    outcome = run_module(http_probe, {"urls": {"flaky": flaky}, "retries": 0, "delay": 0})
    assert isinstance(outcome, Failed)
    assert outcome.msg == f"no accepted answer (200) after 1 tries: flaky ({flaky}): HTTP 503"
    assert server.requests == ["/flaky"]


def test_a_closed_port_fails_with_the_connection_error(
    run_module: Callable[..., Exited | Failed],
) -> None:
    # Bound but not listening: a connection is refused, and no other process gets the port.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as closed:
        closed.bind(("127.0.0.1", 0))
        target = f"http://127.0.0.1:{closed.getsockname()[1]}/v3"
        outcome = run_module(
            http_probe,
            {"urls": {"keystone internal": target}, "retries": 1, "delay": 0, "timeout": 5},
        )
    assert isinstance(outcome, Failed)
    assert "after 2 tries" in outcome.msg
    assert f"keystone internal ({target}): " in outcome.msg
    assert "refused" in outcome.msg.lower()
    assert "HTTP 0" not in outcome.msg
    assert outcome.result["status"] == {"keystone internal": 0}


# --- Region.endpoint_probes -------------------------------------------------------------------


def test_endpoint_probes_cover_every_catalog_entry(region_dir: Callable[[str], Path]) -> None:
    region = load_region(RegionDir(region_dir(BASE_REGION)))
    # BASE_REGION has a control host: every OpenStack API is in the catalog.
    assert set(region.endpoints) == {spec.name for spec in SERVICES}
    probes = region.endpoint_probes
    # The object store (the Ceph RADOS gateway) is probed at its root, where S3 answers.
    assert set(probes) == {
        f"{name} {interface}"
        for name in [*region.endpoints, "object-store"]
        for interface in ("public", "internal")
    }
    assert probes["object-store internal"] == "https://10.0.0.10:7480/"
    for label, probe in probes.items():
        assert "%(" not in probe, label
    # No catalog URL of SERVICES carries a %(...)s template: the probes are the catalog URLs.
    assert all("%(" not in spec.url_path for spec in SERVICES)
    for name, entry in region.endpoints.items():
        assert probes[f"{name} public"] == entry["public_url"]
        assert probes[f"{name} internal"] == entry["internal_url"]
    assert probes["keystone internal"] == "https://10.0.0.10:5000/v3"
    assert probes["cinder public"] == "https://10.0.0.10:8776/v3"


def test_endpoint_probes_cut_a_template(region_dir: Callable[[str], Path]) -> None:
    region = load_region(RegionDir(region_dir(BASE_REGION)))
    # endpoints is a cached_property: seed the cache with catalog URLs that carry templates.
    region.__dict__["endpoints"] = {
        "cinder": {
            "public_url": "https://203.0.113.5:8776/v3/%(project_id)s",
            "internal_url": "https://10.0.0.10:8776/v3/%(tenant_id)s/",
        },
        "swift": {
            "public_url": "https://203.0.113.5:8080/%(project_id)s",
            "internal_url": "https://10.0.0.10:8080/v1",
        },
    }
    assert region.endpoint_probes == {
        "cinder public": "https://203.0.113.5:8776/v3",
        "cinder internal": "https://10.0.0.10:8776/v3",
        "swift public": "https://203.0.113.5:8080",
        "swift internal": "https://10.0.0.10:8080/v1",
        "object-store public": "https://10.0.0.10:7480/",
        "object-store internal": "https://10.0.0.10:7480/",
    }
