#!/usr/bin/python
# Copyright: scs-deploy contributors
# Apache License 2.0 (see LICENSE)
"""Ansible module: one Galera node's state, and the transitions the cluster tasks need."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: scs_galera_node
short_description: Read or change the state of one MariaDB Galera node
description:
  - C(state=facts) reads whether the server runs, its wsrep status (through the unix socket as
    root) and its saved state (C(grastate.dat)); it changes nothing.
  - C(state=recovered) is C(facts) for a stopped node, plus the position InnoDB recorded
    (C(galera_recovery)) when C(grastate.dat) does not hold one (seqno -1: the node crashed or
    still runs). The bootstrap choice needs it.
  - C(state=bootstrapped) marks the node safe to bootstrap and starts a new primary component on
    it (C(galera_new_cluster)); C(state=started) and C(state=restarted) start or restart the
    server so that it joins the primary component. All three wait until the node is Synced.
  - C(state=stopped) stops the server. A server that is still stopping after C(kill_after)
    seconds is killed (SIGKILL), one that is still starting at once. Use it only on a node
    outside a primary component: such a node commits nothing, and C(galera_recovery) reads
    its position from InnoDB afterwards.
options:
  state:
    description: What to read or do.
    type: str
    choices: [facts, recovered, bootstrapped, started, restarted, stopped]
    default: facts
  datadir:
    description: The server's data directory, where C(grastate.dat) lives.
    type: path
    default: /var/lib/mysql
  service:
    description: The systemd unit of the server.
    type: str
    default: mariadb
  timeout:
    description: Seconds to wait for the node to be Synced.
    type: int
    default: 300
  kill_after:
    description: Seconds C(state=stopped) waits for the server to stop before it kills it.
    type: int
    default: 60
"""

EXAMPLES = r"""
- name: Read the Galera state of every node
  scs_galera_node:
    state: facts
  register: galera
"""

RETURN = r"""
node:
  description:
    - running (bool), status (the wsrep_* status variables without the prefix, {} when not
      running or not answering), primary (bool: in a primary component), synced (bool),
      saved ({uuid, seqno, safe_to_bootstrap} from grastate.dat, null without the file),
      recovered ({uuid, seqno} from galera_recovery, null when not run).
  type: dict
  returned: always
killed:
  description: Whether C(state=stopped) had to kill the server.
  type: bool
  returned: always
"""

import os
import re
import time

from ansible.module_utils.basic import AnsibleModule

GRASTATE = "grastate.dat"
ZERO_UUID = "00000000-0000-0000-0000-000000000000"
SYNCED = "4"
# systemctl is-active answers of a unit whose process does not run.
STOPPED = ("inactive", "failed", "unknown", "")
# Seconds a killed server may take to be gone.
KILLED_STOP_TIMEOUT = 30
# Seconds a server that is still starting gets to stop on SIGTERM before it is killed.
STARTING_STOP_GRACE = 5
_POSITION = re.compile(r"--wsrep[_-]start[_-]position=([0-9a-f-]{36}):(-?\d+)")


def parse_grastate(text):
    """{uuid, seqno, safe_to_bootstrap} of a grastate.dat."""
    fields = {}
    for line in text.splitlines():
        if ":" in line and not line.lstrip().startswith("#"):
            key, value = line.split(":", 1)
            fields[key.strip()] = value.strip()
    return {
        "uuid": fields.get("uuid", ZERO_UUID),
        "seqno": int(fields.get("seqno", "-1") or -1),
        "safe_to_bootstrap": fields.get("safe_to_bootstrap", "0") == "1",
    }


def mark_safe_to_bootstrap(text):
    """grastate.dat with safe_to_bootstrap set to 1 (added when the file has no such line)."""
    if re.search(r"^safe_to_bootstrap:", text, flags=re.MULTILINE):
        return re.sub(r"^safe_to_bootstrap:.*$", "safe_to_bootstrap: 1", text, flags=re.MULTILINE)
    return text.rstrip("\n") + "\nsafe_to_bootstrap: 1\n"


def parse_recovery(output):
    """{uuid, seqno} from galera_recovery's output, None when it names no position."""
    match = _POSITION.search(output)
    if match is None:
        return None
    return {"uuid": match.group(1), "seqno": int(match.group(2))}


def parse_status(output):
    """wsrep status variables (prefix removed) from `SHOW GLOBAL STATUS` in batch mode."""
    status = {}
    for line in output.splitlines():
        name, _, value = line.partition("\t")
        if name.startswith("wsrep_"):
            status[name[len("wsrep_") :]] = value
    return status


class Node:
    def __init__(self, module):
        self.module = module
        self.datadir = module.params["datadir"]
        self.service = module.params["service"]

    @property
    def grastate_path(self):
        return os.path.join(self.datadir, GRASTATE)

    def active_state(self):
        _, out, _ = self.module.run_command(["systemctl", "is-active", self.service])
        return out.strip()

    def running(self):
        """Whether mariadbd may run: also while it starts (a joiner waiting for a primary
        component stays "activating"), so that it is stopped before a recovery."""
        return self.active_state() not in STOPPED

    def status(self):
        rc, out, _ = self.module.run_command(
            [
                "mariadb",
                "--connect-timeout=5",
                "--batch",
                "--skip-column-names",
                "--execute",
                "SHOW GLOBAL STATUS LIKE 'wsrep%'",
            ]
        )
        return parse_status(out) if rc == 0 else {}

    def saved(self):
        try:
            with open(self.grastate_path) as handle:
                return parse_grastate(handle.read())
        except FileNotFoundError:
            return None

    def facts(self, recovered=None):
        running = self.running()
        status = self.status() if running else {}
        return {
            "running": running,
            "status": status,
            "primary": status.get("cluster_status") == "Primary",
            "synced": status.get("cluster_status") == "Primary"
            and status.get("local_state") == SYNCED,
            "saved": self.saved(),
            "recovered": recovered,
        }

    def recover(self):
        """The position InnoDB holds, for a stopped node whose grastate.dat has none."""
        saved = self.saved()
        if saved is None or saved["uuid"] == ZERO_UUID or saved["seqno"] >= 0:
            return None
        rc, out, err = self.module.run_command(["galera_recovery"])
        if rc != 0:
            self.module.fail_json(
                msg="galera_recovery failed (rc %d): %s" % (rc, (err or out).strip()[-2000:])
            )
        position = parse_recovery(out)
        if position is None:
            self.module.fail_json(msg="galera_recovery named no position: " + out.strip()[-2000:])
        return position

    def systemctl(self, verb, *options):
        rc, out, err = self.module.run_command(["systemctl", verb, *options, self.service])
        if rc != 0:
            self.module.fail_json(
                msg="systemctl %s %s failed: %s; see journalctl -u %s"
                % (verb, self.service, (err or out).strip(), self.service),
                node=self.facts(),
            )

    def stop(self, kill_after):
        """Stop the server; kill it when it still stops after ``kill_after`` seconds, or at
        once while it is still starting. Seen after all three hosts lost their power: every
        node, still starting in a non-primary view, ignored SIGTERM (twice, for 60 s and for
        15 min), and MariaDB's unit sets SendSIGKILL=no, so systemd never kills it (after
        its 15 min stop timeout it logs "Skipping SIGKILL" and waits again)."""
        starting = self.active_state() == "activating"
        # The stop job comes first also for a server still starting: it replaces the start
        # job, and without it systemd started the killed server again (seen on 2026-11-30:
        # "still runs 30 s after SIGKILL" on all three nodes).
        self.systemctl("stop", "--no-block")
        if self._wait_stopped(STARTING_STOP_GRACE if starting else kill_after):
            return False
        self.systemctl("kill", "--signal=SIGKILL")
        if not self._wait_stopped(KILLED_STOP_TIMEOUT):
            self.module.fail_json(
                msg="%s still runs %d s after SIGKILL" % (self.service, KILLED_STOP_TIMEOUT),
                node=self.facts(),
            )
        return True

    def _wait_stopped(self, seconds):
        deadline = time.monotonic() + seconds
        while self.running():
            if time.monotonic() > deadline:
                return False
            time.sleep(1)
        return True

    def bootstrap(self):
        text = ""
        try:
            with open(self.grastate_path) as handle:
                text = handle.read()
        except FileNotFoundError:
            pass
        if text:
            with open(self.grastate_path, "w") as handle:
                handle.write(mark_safe_to_bootstrap(text))
        rc, out, err = self.module.run_command(["galera_new_cluster"])
        if rc != 0:
            self.module.fail_json(
                msg="galera_new_cluster failed: %s; see journalctl -u %s"
                % ((err or out).strip(), self.service),
                node=self.facts(),
            )

    def wait_synced(self):
        deadline = time.monotonic() + self.module.params["timeout"]
        while True:
            facts = self.facts()
            if facts["synced"]:
                return facts
            if time.monotonic() > deadline:
                self.module.fail_json(
                    msg="the node is not Synced in a primary component after %d s: cluster "
                    "status %s, local state %s"
                    % (
                        self.module.params["timeout"],
                        facts["status"].get("cluster_status", "none (not answering)"),
                        facts["status"].get("local_state_comment", "none"),
                    ),
                    node=facts,
                )
            time.sleep(2)


def main():
    module = AnsibleModule(
        argument_spec={
            "state": {
                "type": "str",
                "default": "facts",
                "choices": ["facts", "recovered", "bootstrapped", "started", "restarted", "stopped"],
            },
            "datadir": {"type": "path", "default": "/var/lib/mysql"},
            "service": {"type": "str", "default": "mariadb"},
            "timeout": {"type": "int", "default": 300},
            "kill_after": {"type": "int", "default": 60},
        },
        supports_check_mode=True,
    )
    node = Node(module)
    state = module.params["state"]
    if state == "facts":
        module.exit_json(changed=False, node=node.facts())
    if state == "recovered":
        if node.running():
            module.fail_json(msg="the server runs: its position is recovered only when stopped")
        module.exit_json(changed=False, node=node.facts(recovered=node.recover()))
    running = node.running()
    if state == "stopped":
        killed = False
        if running and not module.check_mode:
            killed = node.stop(module.params["kill_after"])
        module.exit_json(changed=running, killed=killed, node=node.facts())
    if module.check_mode:
        module.exit_json(changed=True, node=node.facts())
    if state == "bootstrapped":
        if running:
            module.fail_json(msg="the server runs: a new cluster is bootstrapped on a stopped node")
        node.bootstrap()
    elif state == "restarted":
        node.systemctl("restart")
    elif not running:
        node.systemctl("start")
    changed = state != "started" or not running
    module.exit_json(changed=changed, node=node.wait_synced())


if __name__ == "__main__":
    main()
