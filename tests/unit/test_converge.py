"""The converge fast path: what the callback names, what the module observes, the filters
that share the result, the records scs-deploy keeps and the plays' triggers."""

from __future__ import annotations

import grp
import json
import os
import pwd
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from scs_deploy import converge
from scs_deploy.converge import CONVERGE_VERSION, ConvergeRecords, RoleRecord
from scs_deploy.phases import get_phase
from scs_deploy.render import Render, render
from scs_deploy.validate import load_region
from tests.unit.modules import ROOT, load_file, load_role_module
from tests.unit.role_vars import example_dir

callback = load_file(
    ROOT / "playbooks" / "plugins" / "callback" / "scs_converge.py", "scs_converge_callback"
)
filters = load_file(
    ROOT / "roles" / "converge" / "filter_plugins" / "scs_converge.py", "scs_converge_filters"
)
library = load_role_module("converge", "scs_converge")

BOOTSTRAP = get_phase("bootstrap")
CEPH = get_phase("ceph")
OPENSTACK = get_phase("openstack")

# The groups scs_deploy.model.region derives for a converged control node and a compute node.
CONTROL_GROUPS = {
    "control",
    "network",
    "compute",
    "storage",
    "mariadb",
    "rabbitmq",
    "memcached",
    "haproxy",
    "keystone",
    "glance",
    "placement",
    "cinder",
    "barbican",
    "octavia",
    "ceph_rgw",
    "ovn_central",
    "ovn_controller",
    "neutron",
    "neutron_metadata_agent",
    "nova",
    "nova_compute",
    "openstack_wheels",
}
COMPUTE_GROUPS = {"compute", "storage", "ovn_controller", "neutron_metadata_agent", "nova_compute"}
HOST_GROUPS = {"n1": CONTROL_GROUPS, "n2": COMPUTE_GROUPS}


# --- the callback: what a task's templated arguments manage ---------------------------------


def test_template_dest_is_a_normalised_path() -> None:
    keys = callback.managed_keys("template", {"src": "x.j2", "dest": "/etc//nova/./nova.conf"})
    assert keys == ["path:/etc/nova/nova.conf"]


def test_fqcn_actions_count_like_short_ones() -> None:
    args = {"src": "x.j2", "dest": "/etc/chrony/chrony.conf"}
    assert callback.managed_keys("ansible.builtin.template", args) == callback.managed_keys(
        "template", args
    )
    assert callback.managed_keys("ansible.builtin.template", args) == [
        "path:/etc/chrony/chrony.conf"
    ]
    assert callback.managed_keys("community.general.ini_file", {"path": "/etc/a.ini"}) == [
        "path:/etc/a.ini"
    ]


def test_copy_into_a_directory_and_relative_paths_name_nothing() -> None:
    assert callback.managed_keys("copy", {"src": "files/", "dest": "/etc/ssl/private/"}) == []
    assert callback.managed_keys("copy", {"content": "x", "dest": "relative/x.conf"}) == []


def test_file_takes_its_path_argument() -> None:
    keys = callback.managed_keys(
        "ansible.builtin.file", {"path": "/var/lib/nova", "state": "directory", "mode": "0750"}
    )
    assert keys == ["path:/var/lib/nova"]
    assert callback.managed_keys("file", {"dest": "/etc/x", "state": "absent"}) == ["path:/etc/x"]


def test_command_with_creates_names_an_exists_key() -> None:
    args = {"cmd": "ceph-volume lvm create", "creates": "/var/lib/ceph/osd/ceph-0/ready"}
    assert callback.managed_keys("ansible.builtin.command", args) == [
        "exists:/var/lib/ceph/osd/ceph-0/ready"
    ]
    assert callback.managed_keys("shell", {"cmd": "true", "creates": "/x"}) == ["exists:/x"]
    assert callback.managed_keys("command", {"cmd": "true"}) == []


def test_units_are_named_when_their_state_or_enablement_is_set() -> None:
    assert callback.managed_keys(
        "ansible.builtin.systemd_service", {"name": "chrony.service", "state": "started"}
    ) == ["unit:chrony.service"]
    assert callback.managed_keys("service", {"name": "ssh", "enabled": False}) == ["unit:ssh"]
    assert callback.managed_keys("systemd_service", {"daemon_reload": True}) == []
    # A name alone changes nothing on the unit.
    assert callback.managed_keys("systemd", {"name": "x.service", "daemon_reload": True}) == []


def test_apt_names_packages_without_versions_globs_or_files() -> None:
    args = {"name": ["foo=1.2", "bar:amd64", "./x.deb", "/tmp/y.deb", "lib*"], "state": "present"}
    assert callback.managed_keys("ansible.builtin.apt", args) == [
        "package:foo",
        "package:bar:amd64",
    ]
    assert callback.managed_keys("package", {"name": "chrony, openssh-server"}) == [
        "package:chrony",
        "package:openssh-server",
    ]
    assert callback.managed_keys("apt", {"pkg": ["python3-openstackclient>=7"]}) == [
        "package:python3-openstackclient"
    ]
    assert callback.managed_keys("apt", {"update_cache": True}) == []


def test_accounts() -> None:
    assert callback.managed_keys("ansible.builtin.user", {"name": "nova", "uid": 64060}) == [
        "user:nova"
    ]
    assert callback.managed_keys("group", {"name": "nova", "system": True}) == ["group:nova"]


def test_a_loop_summary_names_nothing() -> None:
    assert callback.managed_keys("template", {"src": "a.j2", "dest": "/etc/{{ item }}.conf"}) == []
    assert callback.managed_keys("user", {"name": "{{ item.name }}"}) == []
    assert callback.managed_keys("apt", {"name": "{{ packages }}"}) == []


def _block(parent: Any = None, **attributes: Any) -> SimpleNamespace:
    return SimpleNamespace(_parent=parent, **attributes)


def test_top_role_is_the_outermost_include() -> None:
    play_block = _block()
    outer = _block(play_block, _role_name="os_nova", action="ansible.builtin.include_role")
    inner = _block(_block(outer), _role_name="os_common", action="include_role")
    task = SimpleNamespace(action="template", args={}, _parent=_block(inner))
    assert callback._top_role(task) == "os_nova"
    include = SimpleNamespace(
        action="ansible.builtin.include_role", args={"name": "os_glance"}, _parent=play_block
    )
    assert callback._top_role(include) == "os_glance"
    assert callback._top_role(SimpleNamespace(action="debug", args={}, _parent=play_block)) is None


def _result(host: str, task: Any, result: dict[str, Any] | None = None) -> SimpleNamespace:
    return SimpleNamespace(
        _task=task, _host=SimpleNamespace(get_name=lambda: host), _result=result or {}
    )


def test_callback_writes_what_deploy_plays_manage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = tmp_path / "converge.json"
    monkeypatch.setenv("SCS_CONVERGE_MANIFEST", str(manifest))
    plugin = callback.CallbackModule()
    role = _block(_block(), _role_name="host_chrony", action="ansible.builtin.include_role")

    def task(action: str, args: dict[str, Any], delegate_to: str | None = None) -> Any:
        return SimpleNamespace(
            action=action, args=args, _parent=_block(role), delegate_to=delegate_to
        )

    plugin.v2_playbook_on_play_start(SimpleNamespace(vars={"scs_action": "precheck"}))
    plugin.v2_runner_on_ok(_result("n1", task("template", {"dest": "/etc/precheck"})))
    plugin.v2_playbook_on_play_start(SimpleNamespace(vars={"scs_action": "deploy"}))
    plugin.v2_runner_on_ok(_result("n1", task("template", {"dest": "/etc/chrony/chrony.conf"})))
    plugin.v2_runner_item_on_ok(_result("n1", task("apt", {"name": "chrony"})))
    plugin.v2_runner_on_ok(_result("n1", task("template", {"dest": "/etc/other"}, "n2")))
    plugin.v2_playbook_on_play_start(SimpleNamespace(vars={"scs_action": "record"}))
    observe = SimpleNamespace(
        action="scs_converge", args={"mode": "observe"}, _parent=_block(), delegate_to=None
    )
    observed = {"host_chrony": {"package:chrony": "4.5-1"}}
    plugin.v2_runner_on_ok(_result("n1", observe, {"observed": observed}))
    plugin.v2_playbook_on_stats(None)

    assert json.loads(manifest.read_text(encoding="utf-8")) == {
        "hosts": {
            "n1": {
                "ran": ["host_chrony"],
                "managed": {
                    "host_chrony": [
                        "path:/etc/machine-id",
                        "path:/etc/chrony/chrony.conf",
                        "package:chrony",
                    ]
                },
                "observed": observed,
            }
        }
    }
    assert not Path(f"{manifest}.tmp").exists()


# --- the module: observe and check ----------------------------------------------------------


class Failed(Exception):
    pass


class FakeModule:
    """run_command with canned output per program; fail_json raises."""

    def __init__(self, outputs: dict[str, tuple[int, str, str]] | None = None) -> None:
        self.outputs = outputs or {}
        self.calls: list[list[str]] = []

    def run_command(self, args: list[str]) -> tuple[int, str, str]:
        self.calls.append(args)
        return self.outputs[args[0]]

    def fail_json(self, msg: str, **_: Any) -> None:
        raise Failed(msg)


def _owner(path: Path, mode: str) -> str:
    info = os.lstat(path)
    return f"{mode} {info.st_uid} {info.st_gid}"


def test_a_file_changes_with_its_content_and_mode(tmp_path: Path) -> None:
    path = tmp_path / "a.conf"
    path.write_text("one\n", encoding="utf-8")
    path.chmod(0o644)
    first = library._path(str(path))
    assert first.startswith("file ")
    assert first.endswith(" " + _owner(path, "644"))
    assert library._path(str(path)) == first
    path.write_text("two\n", encoding="utf-8")
    second = library._path(str(path))
    assert second != first
    path.chmod(0o600)
    third = library._path(str(path))
    assert third.split()[1] == second.split()[1]
    assert third.endswith(" " + _owner(path, "600"))


def test_paths_of_other_kinds(tmp_path: Path) -> None:
    assert library._path(str(tmp_path / "missing")) == "absent"
    directory = tmp_path / "d"
    directory.mkdir()
    directory.chmod(0o750)
    assert library._path(str(directory)) == "directory " + _owner(directory, "750")
    link = tmp_path / "link"
    link.symlink_to(directory)
    assert library._path(str(link)) == f"link {directory} ok"
    dangling = tmp_path / "dangling"
    dangling.symlink_to("nowhere")
    assert library._path(str(dangling)) == "link nowhere dangling"
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo, 0o600)
    assert library._path(str(fifo)) == "special " + _owner(fifo, "600")


def test_exists_counts_a_dangling_link(tmp_path: Path) -> None:
    assert library._exists(str(tmp_path / "missing")) == "absent"
    (tmp_path / "dangling").symlink_to("nowhere")
    assert library._exists(str(tmp_path / "dangling")) == "present"


def test_accounts_are_observed_by_name() -> None:
    me = pwd.getpwuid(os.getuid())
    assert library._user(me.pw_name) == f"{me.pw_uid} {me.pw_gid} {me.pw_dir} {me.pw_shell}"
    assert library._user("scs-no-such-user") == "absent"
    group = grp.getgrgid(os.getgid())
    assert library._group(group.gr_name) == str(group.gr_gid)
    assert library._group("scs-no-such-group") == "absent"


def test_check_finds_nothing_when_nothing_changed_and_the_file_that_did(tmp_path: Path) -> None:
    conf = tmp_path / "chrony.conf"
    conf.write_text("server a\n", encoding="utf-8")
    marker = tmp_path / "ready"
    keys = {
        "host_chrony": [f"path:{conf}"],
        "ceph_osd": [f"exists:{marker}", f"path:{tmp_path}"],
    }
    module = FakeModule()
    recorded = library.observe(module, keys)
    assert recorded["ceph_osd"][f"exists:{marker}"] == "absent"
    assert library.check(module, recorded, []) == ([], {})

    conf.write_text("server b\n", encoding="utf-8")
    pending, reasons = library.check(module, recorded, [])
    assert pending == ["host_chrony"]
    was = recorded["host_chrony"][f"path:{conf}"]
    assert reasons["host_chrony"] == f"path:{conf}: was {was}, is {library._path(str(conf))}"
    # No unit or package key: nothing to ask systemctl or dpkg-query.
    assert module.calls == []


def test_check_returns_the_pending_roles_with_their_reason(tmp_path: Path) -> None:
    conf = tmp_path / "x"
    conf.write_text("x", encoding="utf-8")
    expected = library.observe(FakeModule(), {"host_ssh": [f"path:{conf}"], "host_hosts": []})
    pending, reasons = library.check(FakeModule(), expected, ["host_users", "host_sysctl"])
    assert pending == ["host_sysctl", "host_users"]
    assert set(reasons) == {"host_sysctl", "host_users"}
    assert all(reason.startswith("no record") for reason in reasons.values())


SYSTEMCTL_SHOW = """\
Id=chrony.service
LoadState=loaded
ActiveState=active
UnitFileState=enabled

Id=haproxy.service
LoadState=loaded
ActiveState=reloading
UnitFileState=enabled

Id=nope.service
LoadState=not-found
ActiveState=inactive
"""

DPKG_QUERY = "bar\t2.0-1\tii \nchrony\t4.5-1\tii \ngone\t1.0\trc \n"


def test_units_and_packages_are_asked_for_once(tmp_path: Path) -> None:
    module = FakeModule(
        {"systemctl": (0, SYSTEMCTL_SHOW, ""), "dpkg-query": (1, DPKG_QUERY, "no packages")}
    )
    observed = library.observe(
        module,
        {
            "host_chrony": ["unit:chrony.service", "package:chrony"],
            "infra_haproxy": ["unit:haproxy.service", "unit:nope.service", "package:chrony"],
            "host_packages": ["package:bar:amd64", "package:gone", "package:missing"],
        },
    )
    assert observed == {
        "host_chrony": {
            "unit:chrony.service": "loaded active enabled",
            "package:chrony": "4.5-1",
        },
        "infra_haproxy": {
            "unit:haproxy.service": "loaded active enabled",
            "unit:nope.service": "not-found inactive ",
            "package:chrony": "4.5-1",
        },
        "host_packages": {
            "package:bar:amd64": "2.0-1",
            "package:gone": "absent",
            "package:missing": "absent",
        },
    }
    systemctl, dpkg = module.calls
    assert systemctl[0] == "systemctl"
    assert systemctl[-4:] == ["--", "chrony.service", "haproxy.service", "nope.service"]
    assert dpkg[0] == "dpkg-query"
    assert dpkg[dpkg.index("--") + 1 :] == ["bar:amd64", "chrony", "gone", "missing"]


def test_a_stopped_unit_is_drift() -> None:
    stopped = SYSTEMCTL_SHOW.replace("ActiveState=active", "ActiveState=failed", 1)
    expected = {"host_chrony": {"unit:chrony.service": "loaded active enabled"}}
    module = FakeModule({"systemctl": (0, stopped, "")})
    assert library.check(module, expected, []) == (
        ["host_chrony"],
        {"host_chrony": "unit:chrony.service: was loaded active enabled, is loaded failed enabled"},
    )


def test_a_failing_systemctl_fails_the_module() -> None:
    module = FakeModule({"systemctl": (1, "", "Failed to connect to bus")})
    with pytest.raises(Failed, match="Failed to connect to bus"):
        library.observe(module, {"host_ssh": ["unit:ssh.service"]})


def test_an_unknown_kind_of_key_fails_the_module() -> None:
    with pytest.raises(Failed, match="unknown kind of key: socket:/run/x"):
        library.observe(FakeModule(), {"host_ssh": ["socket:/run/x"]})


# --- the filters --------------------------------------------------------------------------


def test_union_of_the_pending_roles_of_the_given_hosts() -> None:
    hostvars = {
        "n1": {"__converge_check": {"pending": ["os_nova", "host_ssh"]}},
        "n2": {"__converge_check": {"pending": ["host_ssh", "os_glance"]}},
        "n3": {"__converge_check": {"pending": ["os_cinder"]}},
    }
    assert filters.scs_converge_union(hostvars, ["n1", "n2"]) == [
        "host_ssh",
        "os_glance",
        "os_nova",
    ]
    assert filters.scs_converge_union(hostvars, ["n1"]) == ["host_ssh", "os_nova"]
    assert filters.scs_converge_union({"n1": {"__converge_check": {"pending": []}}}, ["n1"]) == []


def test_union_is_every_role_when_a_host_has_no_check_result() -> None:
    hostvars: dict[str, Any] = {
        "n1": {"__converge_check": {"pending": ["os_nova"]}},
        "n2": {},
        "n3": {"__converge_check": {"skipped": True}},
    }
    assert filters.scs_converge_union(hostvars, ["n1", "n2"]) == ["*"]
    assert filters.scs_converge_union(hostvars, ["n3"]) == ["*"]


def test_runs() -> None:
    assert filters.scs_converge_runs(["*"], ["os_nova"])
    assert filters.scs_converge_runs(["os_nova_compute"], ["os_nova", "os_nova_compute"])
    assert not filters.scs_converge_runs(["os_glance"], ["os_nova"])


def test_managed_keys_of_the_roles_that_ran() -> None:
    manifest = json.dumps(
        {
            "hosts": {
                "n1": {
                    "ran": ["host_chrony", "host_hosts"],
                    "managed": {
                        "host_chrony": ["path:/etc/chrony/chrony.conf"],
                        "host_ssh": ["unit:ssh.service"],
                    },
                    "observed": {},
                }
            }
        }
    )
    # host_hosts ran and manages nothing observable: nothing to ask the host.
    assert filters.scs_converge_managed(manifest, "n1") == {
        "host_chrony": ["path:/etc/chrony/chrony.conf"],
    }
    assert filters.scs_converge_managed(manifest, "n9") == {}
    assert filters.scs_converge_managed("", "n1") == {}


# --- the records ----------------------------------------------------------------------------


def _same(inputs: str) -> defaultdict[str, str]:
    """The same inputs for every role."""
    return defaultdict(lambda: inputs)


def _settings(
    records: ConvergeRecords,
    inputs: str | Mapping[str, str] = "A",
    full: bool = False,
    phase: Any = OPENSTACK,
) -> dict[str, Any]:
    per_role = _same(inputs) if isinstance(inputs, str) else inputs
    settings = converge.phase_settings(
        phase, HOST_GROUPS, records, per_role, Path("/m.json"), full=full
    )
    assert settings["scs_converge"]["manifest"] == "/m.json"
    hosts: dict[str, Any] = settings["scs_converge"]["hosts"]
    return hosts


def test_roles_on_follow_the_plays_hosts() -> None:
    compute = OPENSTACK.roles_on(COMPUTE_GROUPS)
    assert compute == ["os_ca_trust", "infra_ovn_controller", "os_nova_compute", "os_neutron"]
    assert "os_keystone" not in compute
    control = OPENSTACK.roles_on(CONTROL_GROUPS)
    assert set(control) == set(OPENSTACK.converging_roles)
    assert "os_gate" not in control
    assert BOOTSTRAP.roles_on(set()) == list(BOOTSTRAP.converging_roles)
    assert "host_precheck" not in BOOTSTRAP.converging_roles
    assert "gate_host" not in BOOTSTRAP.converging_roles


def test_every_role_is_pending_without_records() -> None:
    hosts = _settings(ConvergeRecords())
    assert hosts == {
        "n1": {"pending": OPENSTACK.roles_on(CONTROL_GROUPS), "expected": {}},
        "n2": {"pending": OPENSTACK.roles_on(COMPUTE_GROUPS), "expected": {}},
    }
    bootstrap = _settings(ConvergeRecords(), phase=BOOTSTRAP)
    assert bootstrap["n2"]["pending"] == list(BOOTSTRAP.converging_roles)


def _records() -> ConvergeRecords:
    return ConvergeRecords(
        phases={
            "openstack": {
                "n1": {
                    "os_keystone": RoleRecord(
                        inputs="A", observed={"path:/etc/keystone/keystone.conf": "file x 640 0 0"}
                    ),
                    "os_glance": RoleRecord(inputs="A"),
                },
                "n2": {"os_nova_compute": RoleRecord(inputs="A", observed={"user:nova": "1 1"})},
            },
            "bootstrap": {"n1": {"host_ssh": RoleRecord(inputs="A")}},
        }
    )


def test_records_at_the_same_inputs_are_expected() -> None:
    hosts = _settings(_records())
    assert hosts["n1"]["expected"] == {
        "os_keystone": {"path:/etc/keystone/keystone.conf": "file x 640 0 0"},
        "os_glance": {},
    }
    assert "os_keystone" not in hosts["n1"]["pending"]
    assert "os_glance" not in hosts["n1"]["pending"]
    assert "os_nova" in hosts["n1"]["pending"]
    assert hosts["n2"]["expected"] == {"os_nova_compute": {"user:nova": "1 1"}}
    assert hosts["n2"]["pending"] == ["os_ca_trust", "infra_ovn_controller", "os_neutron"]


def test_other_inputs_or_full_make_every_role_pending() -> None:
    for hosts in (_settings(_records(), inputs="B"), _settings(_records(), full=True)):
        assert hosts["n1"] == {"pending": OPENSTACK.roles_on(CONTROL_GROUPS), "expected": {}}
        assert hosts["n2"] == {"pending": OPENSTACK.roles_on(COMPUTE_GROUPS), "expected": {}}


def test_only_roles_with_other_inputs_become_pending() -> None:
    inputs = _same("A")
    inputs["os_keystone"] = "B"
    hosts = _settings(_records(), inputs=inputs)
    assert hosts["n1"]["expected"] == {"os_glance": {}}
    assert "os_keystone" in hosts["n1"]["pending"]
    assert hosts["n2"]["expected"] == {"os_nova_compute": {"user:nova": "1 1"}}


def _manifest(tmp_path: Path, hosts: dict[str, Any]) -> Path:
    path = tmp_path / "converge.json"
    path.write_text(json.dumps({"hosts": hosts}), encoding="utf-8")
    return path


def test_record_run_stores_what_the_roles_that_ran_left(tmp_path: Path) -> None:
    records = _records()
    manifest = _manifest(
        tmp_path,
        {
            "n1": {
                # os_gate is a gate, host_ssh no role of the phase: neither is recorded.
                "ran": ["os_keystone", "os_nova", "os_gate", "host_ssh"],
                "managed": {
                    "os_keystone": ["path:/etc/keystone/keystone.conf"],
                    "os_gate": ["unit:x"],
                },
                "observed": {
                    "os_keystone": {"path:/etc/keystone/keystone.conf": "file y 640 0 0"},
                    "os_gate": {"unit:x": "loaded active enabled"},
                },
            },
            # It ran and manages something the last play did not observe: its record goes.
            "n2": {
                "ran": ["os_nova_compute"],
                "managed": {"os_nova_compute": ["unit:nova-compute.service"]},
                "observed": {},
            },
            "ghost": {"ran": ["os_nova"], "managed": {}, "observed": {}},
        },
    )
    updated = converge.record_run(records, OPENSTACK, HOST_GROUPS, manifest, _same("B"))
    assert updated.phases["openstack"] == {
        "n1": {
            "os_keystone": RoleRecord(
                inputs="B", observed={"path:/etc/keystone/keystone.conf": "file y 640 0 0"}
            ),
            "os_glance": RoleRecord(inputs="A"),
            "os_nova": RoleRecord(inputs="B"),
        },
        "n2": {},
    }
    assert updated.phases["bootstrap"] == records.phases["bootstrap"]
    # The records given are left as they were.
    assert records == _records()


def test_record_run_without_a_manifest_forgets_the_phase(tmp_path: Path) -> None:
    for manifest in (tmp_path / "missing.json", tmp_path / "corrupt.json"):
        if manifest.name == "corrupt.json":
            manifest.write_text('{"hosts": ', encoding="utf-8")
        updated = converge.record_run(_records(), OPENSTACK, HOST_GROUPS, manifest, _same("A"))
        assert set(updated.phases) == {"bootstrap"}


def test_forget_phase_forgets_only_that_phase() -> None:
    records = _records()
    updated = converge.forget_phase(records, BOOTSTRAP)
    assert updated.phases == {"openstack": records.phases["openstack"]}
    assert set(records.phases) == {"openstack", "bootstrap"}
    assert converge.forget_phase(records, CEPH).phases == records.phases


def test_records_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "converge.json"
    converge.save_records(path, _records())
    assert converge.load_records(path) == _records()
    assert [p.name for p in tmp_path.iterdir()] == ["converge.json"]


@pytest.mark.parametrize(
    "text",
    [
        None,
        "{not json",
        json.dumps({"version": CONVERGE_VERSION + 1, "phases": {}}),
        json.dumps({"version": CONVERGE_VERSION + 1, "phases": {"bootstrap": {"n1": {}}}}),
        json.dumps({"version": CONVERGE_VERSION, "phases": {"bootstrap": {"n1": {"r": {}}}}}),
        json.dumps({"version": CONVERGE_VERSION, "phases": {}, "extra": 1}),
    ],
    ids=["missing", "corrupt", "other-version", "other-version-records", "invalid", "extra"],
)
def test_unusable_records_are_none(tmp_path: Path, text: str | None) -> None:
    path = tmp_path / "converge.json"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    assert converge.load_records(path) == ConvergeRecords()


def _render(playbook: str = "- hosts: all\n", **group_vars: Any) -> Render:
    variables = {
        "inventory/group_vars/all.yml": group_vars,
        "inventory/host_vars/n1.yml": {"scs_host_address": "10.0.0.11"},
    }
    files = {name: json.dumps(values) for name, values in variables.items()}
    return Render(files={**files, "openstack.yml": playbook}, variables=variables)


def test_role_inputs_follow_the_render_and_the_secrets(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.yml"
    secrets.write_text("a: 1\n", encoding="utf-8")
    first = converge.RoleInputs(_render(), secrets)["os_keystone"]
    assert converge.RoleInputs(_render(), secrets)["os_keystone"] == first
    assert converge.RoleInputs(_render("- hosts: control\n"), secrets)["os_keystone"] != first
    assert converge.RoleInputs(_render(), secrets)["os_glance"] != first
    secrets.write_text("a: 2\n", encoding="utf-8")
    assert converge.RoleInputs(_render(), secrets)["os_keystone"] != first
    assert converge.RoleInputs(_render(), tmp_path / "missing.yml")["os_keystone"] != first


#: What converge caches from the roles' files: fake roles need them cleared.
CACHED = (
    converge.role_dependencies,
    converge.code_digest,
    converge.role_words,
    converge._own_words,
    converge._shared_code_digest,
)


def _role_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tasks: dict[str, str]
) -> tuple[Path, Path]:
    """Roles with these tasks/main.yml and an empty playbooks directory, as converge's data."""
    roles, playbooks = tmp_path / "roles", tmp_path / "playbooks"
    for role, text in tasks.items():
        (roles / role / "tasks").mkdir(parents=True)
        (roles / role / "tasks" / "main.yml").write_text(text, encoding="utf-8")
    playbooks.mkdir()
    monkeypatch.setattr(
        converge, "data_dir", lambda name: {"roles": roles, "playbooks": playbooks}[name]
    )
    return roles, playbooks


def test_a_variable_counts_for_the_roles_that_name_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _role_tree(
        tmp_path,
        monkeypatch,
        {
            "converge": "- ansible.builtin.debug: {}\n",
            "os_mq": "os_mq_hosts: '{{ scs_rabbitmq_hosts }}'\n",
            "os_nova": "- ansible.builtin.include_role:\n    name: os_mq\n",
            "os_neutron": "os_neutron_probe: '{{ scs_ovn_client_probe_interval }}'\n",
            "os_keystone": "os_keystone_cache: '{{ scs_keystone_cache }}'\n",
        },
    )
    for cached in CACHED:
        monkeypatch.setattr(converge, cached.__name__, cached.__wrapped__)
    base = {
        "scs_rabbitmq_hosts": [{"name": "n1", "address": "10.0.0.11"}],
        "scs_ovn_client_probe_interval": None,
        # A value that names another variable makes that one count too.
        "scs_keystone_cache": "{{ scs_memcached_servers }}",
        "scs_memcached_servers": ["10.0.0.11:11211"],
        "scs_unused": 1,
    }

    def digests(playbook: str = "- hosts: all\n", **changed: Any) -> dict[str, str]:
        inputs = converge.RoleInputs(_render(playbook, **{**base, **changed}), tmp_path / "s")
        return {role: inputs[role] for role in ("os_mq", "os_nova", "os_neutron", "os_keystone")}

    before = digests()
    assert digests(scs_unused=2) == before
    probe = digests(scs_ovn_client_probe_interval=3000)
    assert {r for r in before if probe[r] != before[r]} == {"os_neutron"}
    # os_nova includes os_mq, which names the RabbitMQ hosts.
    rabbit = digests(scs_rabbitmq_hosts=[])
    assert {r for r in before if rabbit[r] != before[r]} == {"os_mq", "os_nova"}
    memcached = digests(scs_memcached_servers=[])
    assert {r for r in before if memcached[r] != before[r]} == {"os_keystone"}
    # A variable the playbooks name counts for every role.
    named = digests("- hosts: all\n  when: scs_unused\n")
    assert all(
        digests("- hosts: all\n  when: scs_unused\n", scs_unused=2)[r] != named[r] for r in named
    )


def test_a_role_depends_on_the_roles_it_includes_and_whose_modules_it_calls() -> None:
    used = converge.role_dependencies()
    # include_role, transitively: os_uwsgi includes os_systemd.
    assert {"os_venv", "os_wheels", "os_uwsgi", "os_systemd", "os_db"} <= used["os_keystone"]
    assert {"os_nova_common", "os_mq"} <= used["os_nova_compute"]
    # Nothing of the OpenStack helpers in a host role.
    assert used["host_ssh"] == {"host_ssh"}
    assert not any(role.startswith("os_") for role in used["ceph_osd"])
    # Every role uses itself; every role named exists.
    roles = set(used)
    for role, names in used.items():
        assert role in names
        assert names <= roles


def test_a_role_change_leaves_the_other_roles_inputs_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    roles, playbooks = _role_tree(
        tmp_path,
        monkeypatch,
        {
            "converge": "- ansible.builtin.debug: {}\n",
            "os_venv": "- ansible.builtin.pip: {}\n",
            "os_keystone": "- ansible.builtin.include_role:\n    name: os_venv\n",
            "os_glance": "- ansible.builtin.debug: {}\n",
            "os_gate": "- scs_http_probe: {}\n",
        },
    )
    (roles / "os_glance" / "library").mkdir()
    (roles / "os_glance" / "library" / "scs_http_probe.py").write_text("x = 1\n", "utf-8")
    (playbooks / "phase.yml.j2").write_text("- hosts: all\n", encoding="utf-8")

    def digests() -> dict[str, str]:
        for cached in CACHED:
            cached.cache_clear()
        inputs = converge.RoleInputs(_render(), tmp_path / "secrets.yml")
        return {role: inputs[role] for role in ("os_keystone", "os_glance", "os_gate", "os_venv")}

    try:
        before = digests()
        assert converge.role_dependencies()["os_gate"] == {"os_gate", "os_glance"}
        (roles / "os_venv" / "tasks" / "main.yml").write_text("- x: 2\n", encoding="utf-8")
        after_venv = digests()
        # os_keystone includes os_venv; os_glance and os_gate do not.
        assert after_venv["os_venv"] != before["os_venv"]
        assert after_venv["os_keystone"] != before["os_keystone"]
        assert after_venv["os_glance"] == before["os_glance"]
        assert after_venv["os_gate"] == before["os_gate"]
        # os_gate calls a module os_glance ships.
        (roles / "os_glance" / "library" / "scs_http_probe.py").write_text("x = 2\n", "utf-8")
        after_module = digests()
        assert after_module["os_gate"] != after_venv["os_gate"]
        assert after_module["os_keystone"] == after_venv["os_keystone"]
        # The playbooks and the shared converge role count for every role.
        (playbooks / "phase.yml.j2").write_text("- hosts: none\n", encoding="utf-8")
        after_playbooks = digests()
        assert all(after_playbooks[r] != after_module[r] for r in after_module)
        (roles / "converge" / "tasks" / "main.yml").write_text("- y: 1\n", encoding="utf-8")
        after_converge = digests()
        assert all(after_converge[r] != after_playbooks[r] for r in after_playbooks)
    finally:
        for cached in CACHED:
            cached.cache_clear()


# --- the plays' triggers --------------------------------------------------------------------


def _play(phase: Any, name: str) -> Any:
    return next(play for play in phase.plays if play.name == name)


def test_triggers() -> None:
    gate = _play(OPENSTACK, "OpenStack health gate")
    assert OPENSTACK.triggers(gate, "os_gate") is None
    assert OPENSTACK.triggers(_play(BOOTSTRAP, "bootstrap health gate"), "gate_host") is None
    assert OPENSTACK.triggers(_play(OPENSTACK, "Keystone"), "os_keystone") == ("os_keystone",)
    discovery = _play(OPENSTACK, "Nova host discovery")
    assert OPENSTACK.triggers(discovery, "os_nova") == ("os_nova", "os_nova_compute")
    precheck = _play(BOOTSTRAP, "Bootstrap prechecks")
    assert BOOTSTRAP.triggers(precheck, "host_precheck") == BOOTSTRAP.converging_roles
    assert "host_network" in BOOTSTRAP.converging_roles
    # The precheck of a role a play deploys runs when that role does.
    ceph_precheck = _play(CEPH, "Ceph prechecks: hosts")
    assert CEPH.triggers(ceph_precheck, "ceph_common") == ("ceph_common",)


def test_phase_hosts() -> None:
    assert BOOTSTRAP.hosts == "all"
    assert CEPH.hosts == "ceph_mon:ceph_mgr:ceph_osd:ceph_rgw:control:compute"
    groups = OPENSTACK.hosts.split(":")
    assert groups[:3] == ["control", "network", "compute"]
    assert len(groups) == len(set(groups))
    assert {"nova_compute", "openstack_wheels", "neutron_metadata_agent"} <= set(groups)


#: Roles no OpenStack compute or network setting concerns.
UNCONCERNED = ("host_", "ceph_", "os_keystone", "os_glance", "infra_mariadb", "infra_haproxy")


@pytest.mark.parametrize(
    ("tail", "concerned"),
    [
        ("openstack: {compute: {virt_type: qemu}}\n", {"os_nova_compute"}),
        (
            "openstack: {availability_zone: az1}\n",
            {"os_nova", "os_nova_compute", "os_neutron", "os_cinder", "infra_ovn_controller"},
        ),
    ],
    ids=["virt-type", "availability-zone"],
)
def test_a_region_change_re_runs_only_the_roles_it_concerns(
    tmp_path: Path, tail: str, concerned: set[str]
) -> None:
    directory = example_dir("testbed-ha", tmp_path)

    def inputs() -> converge.RoleInputs:
        return converge.RoleInputs(render(load_region(directory), directory), tmp_path / "s")

    before = inputs()
    with directory.region_file.open("a", encoding="utf-8") as region_file:
        region_file.write(tail)
    after = inputs()
    changed = {role for role in converge.role_dependencies() if before[role] != after[role]}
    assert concerned <= changed
    assert not {role for role in changed if role.startswith(UNCONCERNED)}
