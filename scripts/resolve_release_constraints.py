#!/usr/bin/env python3
"""Regenerate a release's pinned constraints file from its manifest.

Usage (from the repository root, with the project venv, which has ruamel.yaml):

    .venv/bin/python scripts/resolve_release_constraints.py \\
        scs_deploy/releases/2026.1.yaml \\
        ../shared/openstack-constraints/upper-constraints-2026.1.txt \\
        --python /root/.pyenv/versions/3.13.0/bin/python3.13

What it does:

1. Reads every service of the manifest (``package==version`` plus its
   ``extras``) from ``openstack.services``.
2. Creates a throwaway virtualenv with ``--python``, which must be the
   Python the target hosts run (CPython 3.13 for Debian 13) on Linux x86_64,
   and upgrades pip in it.
3. Runs ``pip install --dry-run --ignore-installed --report`` for all
   services together, constrained by OpenStack's upper-constraints, so pip
   resolves the complete dependency set the way the hosts will see it
   (environment markers are evaluated by the real target interpreter).
4. Writes ``name==version`` for every resolved distribution, sorted, under a
   header that says how the file was made, to the manifest's
   ``openstack.constraints`` file next to the manifest (or ``--output``).

Packages named with ``--pin-only`` (default: libvirt-python) are left out
of the resolution and pinned to upstream's version instead: they are sdists
whose metadata step needs native headers (libvirt-dev) on the resolving
machine, and they have no Python dependencies of their own.

``--override NAME==VERSION`` replaces upstream's pin of NAME (written to a
derived copy of the upstream file; the header lists every override). Use it
only where upstream's file is older than the service releases: the 2026.2
input is a master snapshot of 2026-08-22, taken before nova 34.0.0 raised its
minimum keystoneauth1 and oslo.versionedobjects. Pick the newest release of
NAME published before the series' final release that satisfies the services.
It also takes a library's bug-fix release of the same series where the pinned
one has a fault a deployment meets (oslo.messaging 17.3.2 / 18.3.1: a consumer
retries a dead RabbitMQ server forever). Say why in the manifest, next to
``openstack.constraints``.

Why a real interpreter and not ``pip --python-version 3.13 --platform ...``:
cross-resolution needs ``--only-binary=:all:``, and a few dependencies of
the 2026.x services exist on PyPI only as sdists (ovs, ncclient,
testresources, simplegeneric), so a binary-only resolve is impossible.

pip runs isolated from this machine's pip configuration (PIP_CONFIG_FILE is
set to os.devnull and PIP_* variables other than index/TLS/proxy ones are
dropped), so local constraints, find-links or extra indexes cannot leak
into the result.

Only the standard library is used, plus ruamel.yaml (a dependency of
scs-deploy) to read the manifest, and pip as a subprocess.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# PIP_* variables that only say *where and how* to reach an index, never
# *what* to install; everything else (PIP_CONSTRAINT, PIP_FIND_LINKS,
# PIP_EXTRA_INDEX_URL, ...) is dropped.
_KEEP_PIP_ENV = {
    "PIP_CERT",
    "PIP_CLIENT_CERT",
    "PIP_INDEX_URL",
    "PIP_PROXY",
    "PIP_TRUSTED_HOST",
    "PIP_DEFAULT_TIMEOUT",
    "PIP_RETRIES",
}
_NAME_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:(===?)(\S+))?$")


def canonical(name: str) -> str:
    """PEP 503 normalised project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def load_manifest(path: Path) -> dict[str, Any]:
    from ruamel.yaml import YAML

    data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise SystemExit(f"{path}: not a mapping")
    return data


def split_name(requirement: str) -> str:
    match = _NAME_RE.match(requirement)
    if match is None:
        raise SystemExit(f"{requirement!r} is not 'name' or 'name==version'")
    return match.group(1)


def requirements_of(manifest: dict[str, Any]) -> list[str]:
    """``package==version`` of every service, then every extra, de-duplicated."""
    services: dict[str, Any] = manifest["openstack"]["services"]
    reqs: dict[str, str] = {}
    for pin in services.values():
        reqs.setdefault(canonical(pin["package"]), f"{pin['package']}=={pin['version']}")
    for pin in services.values():
        for extra in pin.get("extras", []):
            match = _NAME_RE.match(extra)
            if match is None:
                raise SystemExit(f"extra {extra!r} is not 'name' or 'name==version'")
            key = canonical(match.group(1))
            previous = reqs.get(key)
            if previous is not None and "==" in extra and previous != extra:
                if "==" in previous:
                    raise SystemExit(f"conflicting pins in manifest: {previous} / {extra}")
                reqs[key] = extra
            else:
                reqs.setdefault(key, extra)
    return list(reqs.values())


def pip_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_") or k in _KEEP_PIP_ENV}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run(cmd: list[str], env: dict[str, str]) -> str:
    proc = subprocess.run(cmd, env=env, text=True, capture_output=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-20000:])
        sys.stderr.write(proc.stderr[-20000:])
        raise SystemExit(f"command failed ({proc.returncode}): {shlex.join(cmd)}")
    return proc.stdout


def resolve(
    python: str, upstream: Path, reqs: list[str], workdir: Path
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    env = pip_env()
    venv = workdir / "venv"
    run([python, "-m", "venv", str(venv)], env)
    vpy = str(venv / "bin" / "python")
    run([vpy, "-m", "pip", "install", "--quiet", "--upgrade", "pip"], env)
    info = json.loads(
        run(
            [
                vpy,
                "-c",
                "import json, platform, sys, pip; print(json.dumps({"
                "'python': platform.python_implementation() + ' ' + platform.python_version(),"
                "'platform': sys.platform + ' ' + platform.machine(),"
                "'pip': pip.__version__}))",
            ],
            env,
        )
    )
    report = workdir / "report.json"
    run(
        [
            vpy,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--ignore-installed",
            "--quiet",
            "--prefer-binary",
            "--report",
            str(report),
            "-c",
            str(upstream),
            *reqs,
        ],
        env,
    )
    installs: list[dict[str, Any]] = json.loads(report.read_text(encoding="utf-8"))["install"]
    return installs, info


def upstream_pins(upstream: Path) -> dict[str, str]:
    pins: dict[str, str] = {}
    for raw in upstream.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        spec = line.split(";", 1)[0].strip()
        match = _NAME_RE.match(spec)
        if match and match.group(3):
            pins[canonical(match.group(1))] = match.group(3)
    return pins


def apply_overrides(upstream: Path, overrides: dict[str, str], workdir: Path) -> Path:
    """A copy of ``upstream`` with the pins of ``overrides`` replaced."""
    if not overrides:
        return upstream
    keep: list[str] = []
    replaced: set[str] = set()
    for raw in upstream.read_text(encoding="utf-8").splitlines():
        spec = raw.split("#", 1)[0].split(";", 1)[0].strip()
        match = _NAME_RE.match(spec) if spec else None
        if match and canonical(match.group(1)) in overrides:
            replaced.add(canonical(match.group(1)))
            continue
        keep.append(raw)
    missing = set(overrides) - replaced
    if missing:
        raise SystemExit(f"--override: not pinned by {upstream}: {', '.join(sorted(missing))}")
    keep.extend(f"{name}==={version}" for name, version in sorted(overrides.items()))
    derived = workdir / "upstream-with-overrides.txt"
    derived.write_text("\n".join(keep) + "\n", encoding="utf-8")
    return derived


def render(
    manifest_path: Path,
    manifest: dict[str, Any],
    upstream: Path,
    installs: list[dict[str, Any]],
    pinned_only: dict[str, str],
    overrides: dict[str, str],
    info: dict[str, str],
    argv: list[str],
    seconds: float,
) -> str:
    upstream_pinned = upstream_pins(upstream)
    rows: list[tuple[str, str, str]] = [
        (canonical(name), name, version) for name, version in pinned_only.items()
    ]
    sdists: list[str] = []
    not_upstream: list[str] = []
    yanked: list[str] = []
    for item in installs:
        meta = item["metadata"]
        name, version = meta["name"], meta["version"]
        rows.append((canonical(name), name, version))
        url: str = item["download_info"]["url"]
        if not url.endswith(".whl"):
            sdists.append(f"{name}=={version}")
        if canonical(name) not in upstream_pinned:
            not_upstream.append(f"{name}=={version}")
        if item.get("is_yanked"):
            yanked.append(f"{name}=={version}")
    rows.sort()
    seen: set[str] = set()
    for key, name, _ in rows:
        if key in seen:
            raise SystemExit(f"duplicate distribution in resolution: {name}")
        seen.add(key)

    sha = hashlib.sha256(upstream.read_bytes()).hexdigest()
    today = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d")
    header = [
        f"# Pinned dependency set of scs-deploy release {manifest['id']}"
        f" (OpenStack {manifest['openstack']['series']}).",
        "# GENERATED - do not edit by hand. Regenerate with:",
        f"#   {shlex.join(['scripts/resolve_release_constraints.py', *argv])}",
        f"# Manifest: {manifest_path.name}",
        f"# Input: {upstream.name} (sha256 {sha[:16]}...), OpenStack's upper-constraints",
        f"# Resolved on {today} by pip {info['pip']} on {info['python']}, {info['platform']}",
        f"# (took {seconds:.0f} s): pip install --dry-run --ignore-installed --prefer-binary",
        "#   --report, all services and their extras in one resolution.",
        "# Valid for that interpreter (the target hosts' CPython) on Linux x86_64 only:",
        "# markers were evaluated for it, so no line carries a marker.",
        f"# {len(rows)} distributions.",
    ]
    if sdists:
        header.append("# Only an sdist on PyPI (built on the host at install time):")
        header.extend(f"#   {s}" for s in sorted(sdists, key=str.lower))
    if not_upstream:
        header.append("# Not pinned by upstream's constraints (the manifest or pip chose):")
        header.extend(f"#   {s}" for s in sorted(not_upstream, key=str.lower))
    if overrides:
        header.append("# Overrides of upstream's pins (why: the manifest, openstack.constraints):")
        header.extend(
            f"#   {name}=={version} (upstream: {upstream_pinned.get(name, '-')})"
            for name, version in sorted(overrides.items())
        )
    if pinned_only:
        header.append("# Not resolved, pinned to upstream's version (sdist needing native headers")
        header.append("# to read its metadata; no Python dependencies):")
        header.extend(f"#   {n}=={v}" for n, v in sorted(pinned_only.items()))
    if yanked:
        header.append("# Yanked on PyPI but pinned by upstream (kept: it is what upstream tests):")
        header.extend(f"#   {s}" for s in sorted(yanked, key=str.lower))
    body = [f"{name}=={version}" for _, name, version in rows]
    return "\n".join([*header, *body]) + "\n"


def main(argv: list[str] | None = None) -> int:
    args_list = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("manifest", type=Path, help="scs_deploy/releases/<id>.yaml")
    parser.add_argument("upstream", type=Path, help="OpenStack upper-constraints file")
    parser.add_argument(
        "--python",
        default="python3.13",
        help="the target hosts' Python interpreter (default: python3.13)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="default: constraints/<openstack.constraints> next to the manifest",
    )
    parser.add_argument(
        "--pin-only",
        action="append",
        metavar="NAME",
        help="pin NAME to upstream's version without resolving it"
        " (repeatable; default: libvirt-python)",
    )
    parser.add_argument(
        "--override",
        action="append",
        default=[],
        metavar="NAME==VERSION",
        help="replace upstream's pin of NAME (repeatable)",
    )
    args = parser.parse_args(args_list)
    overrides: dict[str, str] = {}
    for item in args.override:
        name, sep, version = item.partition("==")
        if not sep or not name or not version:
            raise SystemExit(f"--override {item!r}: expected NAME==VERSION")
        overrides[canonical(name)] = version

    manifest = load_manifest(args.manifest)
    pin_only = {canonical(n) for n in (args.pin_only or ["libvirt-python"])}
    upstream_pinned = {**upstream_pins(args.upstream), **overrides}
    reqs: list[str] = []
    pinned_only: dict[str, str] = {}
    for req in requirements_of(manifest):
        name = split_name(req)
        if canonical(name) not in pin_only:
            reqs.append(req)
        elif canonical(name) in upstream_pinned:
            pinned_only[name] = upstream_pinned[canonical(name)]
        else:
            raise SystemExit(f"--pin-only {name}: not pinned by {args.upstream}")
    output: Path = args.output or (
        args.manifest.parent / "constraints" / manifest["openstack"]["constraints"]
    )
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="scs-resolve-") as tmp:
        upstream = apply_overrides(args.upstream.resolve(), overrides, Path(tmp))
        installs, info = resolve(args.python, upstream, reqs, Path(tmp))
    seconds = time.monotonic() - started

    services = manifest["openstack"]["services"].values()
    wanted = {canonical(s["package"]): str(s["version"]) for s in services}
    got = {canonical(i["metadata"]["name"]): i["metadata"]["version"] for i in installs}
    for key, version in wanted.items():
        if got.get(key) != version:
            raise SystemExit(f"{key}: resolved {got.get(key)}, manifest wants {version}")

    text = render(
        args.manifest,
        manifest,
        args.upstream,
        installs,
        pinned_only,
        overrides,
        info,
        args_list,
        seconds,
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    total = len(installs) + len(pinned_only)
    print(f"{output}: {total} distributions, resolved in {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
