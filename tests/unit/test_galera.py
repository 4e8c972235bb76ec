"""The Galera bootstrap choice and the node module's parsers (roles/infra_mariadb)."""

from __future__ import annotations

from typing import Any

import pytest

from scs_deploy.regiondir import RegionDir
from tests.unit.modules import ROOT, load_file, load_role_module
from tests.unit.role_vars import example_dir, role_vars

FILTERS = load_file(ROOT / "roles/infra_mariadb/filter_plugins/scs_galera.py", "scs_galera")
NODE = load_role_module("infra_mariadb", "scs_galera_node")
UUID = "9acf4d34-acdb-11e6-bcc3-d3e36276629f"
OTHER = "11111111-acdb-11e6-bcc3-d3e36276629f"
ORDER = ["ctl1", "ctl2", "ctl3"]


def node(
    *,
    running: bool = False,
    primary: bool = False,
    saved: tuple[str, int, bool] | None = (UUID, 10, False),
    recovered: tuple[str, int] | None = None,
) -> dict[str, Any]:
    return {
        "node": {
            "running": running,
            "primary": primary,
            "synced": primary,
            "status": {},
            "saved": (
                {"uuid": saved[0], "seqno": saved[1], "safe_to_bootstrap": saved[2]}
                if saved
                else None
            ),
            "recovered": {"uuid": recovered[0], "seqno": recovered[1]} if recovered else None,
        }
    }


def hostvars(**nodes: dict[str, Any] | None) -> dict[str, Any]:
    return {name: ({"state": value} if value is not None else {}) for name, value in nodes.items()}


def choose(**nodes: dict[str, Any] | None) -> str:
    return FILTERS.scs_galera_bootstrap_node(hostvars(**nodes), ORDER, "state")


def test_primary_lists_the_nodes_of_a_primary_component_in_order() -> None:
    found = hostvars(ctl1=node(), ctl2=node(running=True, primary=True), ctl3=None)
    assert FILTERS.scs_galera_primary(found, ORDER, "state") == ["ctl2"]
    skipped = {"ctl1": {"state": {"skipped": True}}}
    assert FILTERS.scs_galera_primary(skipped, ["ctl1"], "state") == []


def test_a_new_cluster_starts_on_the_first_node() -> None:
    assert choose(ctl1=node(saved=None), ctl2=node(saved=None), ctl3=node(saved=None)) == "ctl1"


def test_nodes_without_history_join_the_one_with_history() -> None:
    assert choose(ctl1=node(saved=None), ctl2=node(saved=None), ctl3=node()) == "ctl3"
    zero = (FILTERS.ZERO_UUID, -1, False)
    assert choose(ctl1=node(saved=zero), ctl2=node(), ctl3=node(saved=None)) == "ctl2"


def test_the_node_marked_safe_to_bootstrap_wins() -> None:
    chosen = choose(
        ctl1=node(saved=(UUID, 12, False)),
        ctl2=node(saved=(UUID, 10, True)),
        ctl3=node(saved=(UUID, 9, False)),
    )
    assert chosen == "ctl2"


def test_the_highest_recovered_seqno_wins_and_ties_go_to_the_earlier_node() -> None:
    crashed = (UUID, -1, False)
    assert (
        choose(
            ctl1=node(saved=crashed, recovered=(UUID, 40)),
            ctl2=node(saved=crashed, recovered=(UUID, 42)),
            ctl3=node(saved=crashed, recovered=(UUID, 41)),
        )
        == "ctl2"
    )
    assert (
        choose(
            ctl1=node(saved=crashed, recovered=(UUID, 40)),
            ctl2=node(saved=crashed, recovered=(UUID, 42)),
            ctl3=node(saved=crashed, recovered=(UUID, 42)),
        )
        == "ctl2"
    )


@pytest.mark.parametrize(
    ("nodes", "message"),
    [
        ({"ctl1": node(), "ctl2": node(), "ctl3": None}, "ctl3 did not report"),
        ({"ctl1": node(), "ctl2": node(running=True), "ctl3": node()}, "still runs on ctl2"),
        (
            {"ctl1": node(), "ctl2": node(saved=(OTHER, 3, False)), "ctl3": node()},
            "different clusters",
        ),
        (
            {"ctl1": node(), "ctl2": node(saved=(UUID, -1, False)), "ctl3": node()},
            "of ctl2 is unknown",
        ),
    ],
)
def test_no_guess(nodes: dict[str, Any], message: str) -> None:
    with pytest.raises(FILTERS.AnsibleFilterError, match=message):
        choose(**nodes)


def test_grastate_is_read_and_marked() -> None:
    text = (
        f"# GALERA saved state\nversion: 2.1\nuuid:    {UUID}\nseqno:   -1\nsafe_to_bootstrap: 0\n"
    )
    assert NODE.parse_grastate(text) == {"uuid": UUID, "seqno": -1, "safe_to_bootstrap": False}
    marked = NODE.mark_safe_to_bootstrap(text)
    assert NODE.parse_grastate(marked)["safe_to_bootstrap"] is True
    assert marked.count("safe_to_bootstrap") == 1
    older = f"version: 2.1\nuuid: {UUID}\nseqno: 5\n"
    assert NODE.parse_grastate(NODE.mark_safe_to_bootstrap(older))["safe_to_bootstrap"] is True


def test_recovery_and_status_output_are_parsed() -> None:
    out = f"WSREP: Recovered position {UUID}:42\n--wsrep_start_position={UUID}:42\n"
    assert NODE.parse_recovery(out) == {"uuid": UUID, "seqno": 42}
    assert NODE.parse_recovery("nothing here") is None
    status = "wsrep_cluster_status\tPrimary\nwsrep_local_state\t4\nwsrep_cluster_size\t3\n"
    assert NODE.parse_status(status) == {
        "cluster_status": "Primary",
        "local_state": "4",
        "cluster_size": "3",
    }


class FakeSystemd:
    """The AnsibleModule a Node runs systemctl through: a server that ignores SIGTERM (as every
    node in a non-primary view did after a full power cut) or stops on it."""

    def __init__(self, stops_on_sigterm: bool, state: str = "active") -> None:
        self.stops_on_sigterm = stops_on_sigterm
        self.state = state
        self.calls: list[list[str]] = []
        self.stop_job = False
        self.params = {"datadir": "/nonexistent", "service": "mariadb"}

    def run_command(self, argv: list[str]) -> tuple[int, str, str]:
        self.calls.append(argv)
        if argv[:2] == ["systemctl", "is-active"]:
            return 0, self.state + "\n", ""
        if argv[:2] == ["systemctl", "stop"]:
            self.stop_job = True
            self.state = "inactive" if self.stops_on_sigterm else "deactivating"
        elif argv[:2] == ["systemctl", "kill"]:
            # Killed while starting and nobody asked for a stop: the start job (and
            # Restart=on-abort) runs it again.
            restarted = self.state == "activating" and not self.stop_job
            self.state = "activating" if restarted else "failed"
        return 0, "", ""

    def fail_json(self, **kwargs: Any) -> None:
        raise AssertionError(kwargs["msg"])


def test_a_node_that_stops_is_not_killed() -> None:
    systemd = FakeSystemd(stops_on_sigterm=True)
    assert NODE.Node(systemd).stop(kill_after=5) is False
    assert ["systemctl", "stop", "--no-block", "mariadb"] in systemd.calls
    assert not [call for call in systemd.calls if call[1] == "kill"]


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """A second passes at every look at the clock; nobody sleeps."""
    clock = iter(range(0, 1000))
    monkeypatch.setattr(NODE.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(NODE.time, "sleep", lambda seconds: None)


@pytest.mark.usefixtures("fake_clock")
def test_a_node_that_ignores_sigterm_is_killed_after_the_wait() -> None:
    systemd = FakeSystemd(stops_on_sigterm=False)
    assert NODE.Node(systemd).stop(kill_after=5) is True
    assert ["systemctl", "kill", "--signal=SIGKILL", "mariadb"] in systemd.calls
    assert systemd.state == "failed"


@pytest.mark.usefixtures("fake_clock")
def test_a_node_still_starting_is_stopped_then_killed_without_the_wait() -> None:
    systemd = FakeSystemd(stops_on_sigterm=False, state="activating")
    assert NODE.Node(systemd).stop(kill_after=3600) is True
    stop = systemd.calls.index(["systemctl", "stop", "--no-block", "mariadb"])
    kill = systemd.calls.index(["systemctl", "kill", "--signal=SIGKILL", "mariadb"])
    assert stop < kill
    # The grace for a starting server, not kill_after: far fewer than 3600 status reads.
    assert len(systemd.calls) < 20
    assert systemd.state == "failed"


# What the roles render for one and for three database hosts.


@pytest.fixture(scope="module")
def regions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, RegionDir]:
    base = tmp_path_factory.mktemp("regions")
    return {name: example_dir(name, base) for name in ("testbed-aio", "testbed-ha")}


def server_cnf(directory: RegionDir, host: str) -> str:
    return role_vars(directory, host, ["infra_mariadb"]).template("infra_mariadb", "99-scs.cnf.j2")


def haproxy_backend(directory: RegionDir, name: str) -> str:
    found = role_vars(directory, "tb1", ["infra_haproxy"])
    text = found.template("infra_haproxy", "haproxy.cfg.j2")
    return text.split(f"\nbackend {name}\n", 1)[1].split("\n\n", 1)[0]


def test_three_hosts_form_a_galera_cluster(regions: dict[str, RegionDir]) -> None:
    cnf = server_cnf(regions["testbed-ha"], "tb2")
    assert "wsrep_cluster_address = gcomm://10.231.0.11,10.231.0.12,10.231.0.13" in cnf
    assert "wsrep_node_address = 10.231.0.12" in cnf
    assert "wsrep_sst_method = mariabackup" in cnf
    backend = haproxy_backend(regions["testbed-ha"], "mariadb")
    assert "option httpchk GET /" in backend
    servers = [line.split() for line in backend.splitlines() if line.strip().startswith("server")]
    assert [s[1] for s in servers] == ["tb1", "tb2", "tb3"]
    assert all("port" in s and s[s.index("port") + 1] == "9200" for s in servers)
    assert ["backup" in s for s in servers] == [False, True, True]


def test_a_database_connection_to_a_dead_server_ends_within_seconds(
    regions: dict[str, RegionDir],
) -> None:
    backend = haproxy_backend(regions["testbed-ha"], "mariadb")
    servers = [line.split() for line in backend.splitlines() if line.strip().startswith("server")]
    assert all(s[s.index("tcp-ut") + 1] == "5s" for s in servers)
    # HAProxy 3.0.11 leaves a stream that it shuts while connecting half-open for good.
    assert "shutdown-sessions" not in backend
    assert "\n    option srvtcpka\n" in backend
    assert "\n    srvtcpka-idle 10s\n" in backend


def test_one_host_runs_a_single_server(regions: dict[str, RegionDir]) -> None:
    cnf = server_cnf(regions["testbed-aio"], "tb1")
    assert "wsrep" not in cnf
    backend = haproxy_backend(regions["testbed-aio"], "mariadb")
    assert "option tcp-check" in backend
    assert "9200" not in backend


def test_a_failed_health_check_instance_does_not_leave_the_host_degraded(
    regions: dict[str, RegionDir],
) -> None:
    # HAProxy closing a check early (power cut, check timeout) fails that one instance.
    unit = role_vars(regions["testbed-ha"], "tb1", ["infra_mariadb"]).template(
        "infra_mariadb", "scs-galera-check@.service.j2"
    )
    unit_section = unit.split("[Service]", 1)[0]
    assert "\nCollectMode=inactive-or-failed\n" in unit_section
