"""The phases, in order: each a list of plays of roles, ending in a health gate."""

from __future__ import annotations

from dataclasses import dataclass

# Only what a play needs: gathering "all" costs about a second per host.
FACTS_DEFAULT: tuple[str, ...] = ("!all", "!min", "distribution", "virtual")
FACTS_PRECHECK: tuple[str, ...] = (*FACTS_DEFAULT, "hardware", "network")
FACTS_GATE: tuple[str, ...] = ("!all", "!min", "network")
# Worker counts follow the host's CPUs and memory; VIPs need the interfaces.
FACTS_OPENSTACK: tuple[str, ...] = (*FACTS_DEFAULT, "hardware", "network")
OPENSTACK_HOSTS = "control:network:compute"

# Post-deploy roles that create resources through the APIs from the deploy host.
API_RESOURCE_ROLES: tuple[str, ...] = (
    "os_flavors",
    "os_images",
    "os_volume_types",
    "os_security_group_defaults",
)

# Every host that runs a Ceph daemon or holds a Ceph client key.
CEPH_HOSTS = "ceph_mon:ceph_mgr:ceph_osd:ceph_rgw:control:compute"


@dataclass(frozen=True)
class Play:
    """One play of a phase playbook."""

    name: str
    hosts: str
    roles: tuple[str, ...]
    action: str = "deploy"
    facts: tuple[str, ...] = FACTS_DEFAULT
    any_errors_fatal: bool = False
    serial: int | None = None
    become: bool = True
    # A gate runs on every deploy; other plays are left out when their roles converged.
    always: bool = False
    # Roles whose pending run makes this play run; empty: the play's own roles (a
    # precheck of a role no play deploys: every role the phase deploys).
    when_pending: tuple[str, ...] = ()


@dataclass(frozen=True)
class Phase:
    name: str
    description: str
    plays: tuple[Play, ...]

    @property
    def playbook(self) -> str:
        return f"{self.name}.yml"

    @property
    def groups(self) -> list[str]:
        """The groups the phase's plays name, in order, each once."""
        return list(dict.fromkeys(g for play in self.plays for g in play.hosts.split(":")))

    @property
    def hosts(self) -> str:
        """The pattern of every host a play of the phase runs on."""
        return "all" if "all" in self.groups else ":".join(self.groups)

    @property
    def uses_clouds_file(self) -> bool:
        """Whether roles of the phase call the APIs from the deploy host, through clouds.yaml."""
        return any(role in API_RESOURCE_ROLES for play in self.plays for role in play.roles)

    @property
    def converging_roles(self) -> tuple[str, ...]:
        """The roles whose runs are recorded and skipped when converged: those that deploy."""
        return tuple(
            dict.fromkeys(
                role
                for play in self.plays
                if not play.always and play.action != "precheck"
                for role in play.roles
            )
        )

    def triggers(self, play: Play, role: str) -> tuple[str, ...] | None:
        """The roles of which one pending makes ``role`` run in ``play``; None: it always runs."""
        if play.always:
            return None
        if play.when_pending:
            return play.when_pending
        if role in self.converging_roles:
            return (role,)
        return self.converging_roles

    def roles_on(self, host_groups: set[str]) -> list[str]:
        """The converging roles of the phase that run on a host of these groups."""
        found: list[str] = []
        for play in self.plays:
            if play.always or play.action == "precheck":
                continue
            if play.hosts == "all" or host_groups & set(play.hosts.split(":")):
                found += [r for r in play.roles if r not in found]
        return found


def _gate(phase: str, hosts: str) -> Play:
    return Play(
        name=f"{phase} health gate",
        hosts=hosts,
        roles=("gate_host",),
        action="deploy",
        facts=FACTS_GATE,
        any_errors_fatal=True,
        always=True,
    )


PHASES: tuple[Phase, ...] = (
    Phase(
        name="bootstrap",
        description="prechecks, packages, time, users, SSH, network on every host",
        plays=(
            Play(
                name="Bootstrap prechecks",
                hosts="all",
                roles=("host_precheck",),
                action="precheck",
                facts=FACTS_PRECHECK,
                any_errors_fatal=True,
            ),
            # The precheck play gathered every fact these two need.
            Play(
                name="Host configuration",
                hosts="all",
                facts=(),
                roles=(
                    "host_environment",
                    "host_packages",
                    "host_chrony",
                    "host_sysctl",
                    "host_hosts",
                    "host_users",
                    "host_ssh",
                    "host_journald",
                    "host_network",
                ),
            ),
            Play(
                name="bootstrap health gate",
                hosts="all",
                roles=("gate_host",),
                facts=(),
                any_errors_fatal=True,
                always=True,
            ),
        ),
    ),
    Phase(
        name="ceph",
        description="monitors, managers, OSDs, pools, client keys, RGW",
        plays=(
            Play(
                name="Ceph prechecks: hosts",
                hosts=CEPH_HOSTS,
                roles=("ceph_common", "ceph_clients"),
                action="precheck",
                any_errors_fatal=True,
            ),
            *(
                Play(
                    name=f"Ceph prechecks: {what}",
                    hosts=group,
                    roles=(role,),
                    action="precheck",
                    facts=(),
                    any_errors_fatal=True,
                )
                for what, group, role in (
                    ("monitors", "ceph_mon", "ceph_mon"),
                    ("managers", "ceph_mgr", "ceph_mgr"),
                    ("OSDs", "ceph_osd", "ceph_osd"),
                    ("pools", "ceph_mon", "ceph_pools"),
                    ("RADOS gateways", "ceph_rgw", "ceph_rgw"),
                    ("health gate", "ceph_mon", "ceph_health"),
                )
            ),
            Play("Ceph packages and configuration", CEPH_HOSTS, ("ceph_common",), facts=()),
            Play("Ceph monitors", "ceph_mon", ("ceph_mon",), facts=()),
            Play("Ceph managers", "ceph_mgr", ("ceph_mgr",), facts=()),
            Play("Ceph OSDs", "ceph_osd", ("ceph_osd",), facts=()),
            Play("Ceph pools", "ceph_mon", ("ceph_pools",), facts=()),
            Play("Ceph client keys", "ceph_mon:control:compute", ("ceph_clients",), facts=()),
            Play("Ceph RADOS gateways", "ceph_rgw", ("ceph_rgw",), facts=()),
            Play(
                "Ceph health gate",
                "ceph_mon",
                ("ceph_health",),
                facts=(),
                any_errors_fatal=True,
                always=True,
            ),
        ),
    ),
    Phase(
        name="openstack",
        description="infrastructure services and the OpenStack APIs",
        plays=(
            Play(
                name="OpenStack prechecks",
                hosts=OPENSTACK_HOSTS,
                roles=("os_ca_trust",),
                action="precheck",
                facts=FACTS_OPENSTACK,
                any_errors_fatal=True,
            ),
            *(
                Play(
                    name=f"OpenStack prechecks: {group}",
                    hosts=group,
                    roles=roles,
                    action="precheck",
                    facts=(),
                    any_errors_fatal=True,
                )
                for group, roles in (
                    ("control", ("infra_mariadb", "infra_rabbitmq", "infra_memcached")),
                    ("haproxy", ("infra_haproxy",)),
                    ("keystone", ("os_keystone",)),
                    ("ceph_rgw", ("os_rgw",)),
                    ("glance", ("os_glance",)),
                    ("placement", ("os_placement",)),
                    ("cinder", ("os_cinder",)),
                    ("barbican", ("os_barbican",)),
                    ("ovn_central", ("infra_ovn_central",)),
                    ("ovn_controller", ("infra_ovn_controller",)),
                    ("neutron", ("os_neutron",)),
                    ("octavia", ("os_octavia",)),
                    ("nova", ("os_nova",)),
                    ("nova_compute", ("os_nova_compute",)),
                )
            ),
            Play("Region CA trusted", OPENSTACK_HOSTS, ("os_ca_trust",), facts=()),
            Play("Wheel cache", "openstack_wheels", ("os_wheels",), facts=()),
            Play("Database", "mariadb", ("infra_mariadb",), facts=()),
            Play("Message queue", "rabbitmq", ("infra_rabbitmq",), facts=()),
            Play("Memcached", "memcached", ("infra_memcached",), facts=()),
            Play("Load balancer and VIPs", "haproxy", ("infra_haproxy",), facts=()),
            Play("Keystone", "keystone", ("os_keystone",), facts=()),
            Play("Object store", "ceph_rgw", ("os_rgw",), facts=()),
            Play("Glance", "glance", ("os_glance",), facts=()),
            Play("Placement", "placement", ("os_placement",), facts=()),
            Play("Cinder", "cinder", ("os_cinder",), facts=()),
            Play("Barbican", "barbican", ("os_barbican",), facts=()),
            Play("OVN central", "ovn_central", ("infra_ovn_central",), facts=()),
            Play("Neutron", "neutron", ("os_neutron",), facts=()),
            # The OVN provider needs OVN's databases (and Neutron, for the VIP ports).
            Play("Octavia", "octavia", ("os_octavia",), facts=()),
            Play("OVN chassis", "ovn_controller", ("infra_ovn_controller",), facts=()),
            Play("Nova", "nova", ("os_nova",), facts=()),
            Play("Nova compute", "nova_compute", ("os_nova_compute",), facts=()),
            Play("Neutron metadata agents", "neutron_metadata_agent", ("os_neutron",), facts=()),
            # New compute hosts are mapped to the cell as they come.
            Play(
                "Nova host discovery",
                "nova",
                ("os_nova",),
                action="discover",
                facts=(),
                when_pending=("os_nova", "os_nova_compute"),
            ),
            Play(
                "OpenStack health gate",
                OPENSTACK_HOSTS,
                ("os_gate",),
                facts=(),
                any_errors_fatal=True,
                always=True,
            ),
        ),
    ),
    Phase(
        name="post-deploy",
        description="flavors, images, networks and roles through the APIs",
        plays=(
            Play(
                name="Post-deploy prechecks",
                hosts="control",
                roles=("os_external_network",),
                action="precheck",
                # Facts are gathered once per run ("smart"): the gate needs the network.
                facts=FACTS_GATE,
                any_errors_fatal=True,
            ),
            # The resources live in the APIs, not on a host the converge check could
            # observe: their roles run on every deploy (idempotent, one call per kind).
            Play(
                name="Post-deploy prechecks: resources",
                hosts="control",
                roles=API_RESOURCE_ROLES,
                action="precheck",
                facts=(),
                any_errors_fatal=True,
                always=True,
            ),
            Play("External network", "control", ("os_external_network",), facts=()),
            Play("Resources", "control", API_RESOURCE_ROLES, facts=(), always=True),
            _gate("post-deploy", "control"),
        ),
    ),
    Phase(
        name="kaas",
        description="Kubernetes management cluster with Cluster API",
        plays=(_gate("kaas", "kaas"),),
    ),
)

PHASE_NAMES: tuple[str, ...] = tuple(p.name for p in PHASES)


def get_phase(name: str) -> Phase:
    for phase in PHASES:
        if phase.name == name:
            return phase
    raise KeyError(name)


def select_phases(only: list[str], start: str | None) -> list[Phase]:
    """Phases to run, in the fixed order; names are checked by the caller."""
    names = list(PHASE_NAMES)
    if start is not None:
        names = names[names.index(start) :]
    if only:
        names = [n for n in names if n in only]
    return [get_phase(n) for n in names]


def hosts_matching(groups: dict[str, list[str]], pattern: str) -> set[str]:
    """Hosts a play's pattern (group names joined by ':', or 'all') selects."""
    if pattern == "all":
        return {h for members in groups.values() for h in members}
    found: set[str] = set()
    for name in pattern.split(":"):
        found.update(groups.get(name, []))
    return found
