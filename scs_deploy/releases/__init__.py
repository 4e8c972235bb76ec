"""Release manifests: what one scs-deploy release deploys, and their schema.

A release is ``<id>.yaml`` in this package (see DESIGN.md, Releases), with its
pinned Python dependency set in ``constraints/<file>``. Both ship inside the
wheel as package data. Nothing is read at import time; PyYAML is imported
only when a manifest is loaded, so the CLI starts fast.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from scs_deploy.errors import ConfigError, Problem

__all__ = [
    "Artifact",
    "CephRelease",
    "ClusterApiRelease",
    "KubernetesRelease",
    "OpenStackRelease",
    "OsSupport",
    "Release",
    "ScsRelease",
    "SecretKind",
    "ServicePin",
    "StandardImage",
    "available_releases",
    "constraints_path",
    "load_release",
    "parse_release",
    "release_dir",
]

SecretKind = Literal["password", "ceph_key", "uuid", "fernet_key", "fernet_repository", "ssh_key"]

_RELEASE_DIR = Path(__file__).resolve().parent
_PYPI_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
# A requirement as the manifest may write it: a PyPI name, optionally pinned.
_REQUIREMENT_RE = re.compile(rf"^{_PYPI_NAME}(?:==[A-Za-z0-9.+!_-]+)?$")
_SECRET_NAME_RE = r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$"

NonEmptyStr = Annotated[str, Field(min_length=1)]
PypiName = Annotated[str, Field(pattern=rf"^{_PYPI_NAME}$")]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServicePin(_Frozen):
    """One OpenStack service: the PyPI package, its exact version, what else it needs."""

    package: PypiName
    version: Annotated[str, Field(pattern=r"^[0-9][A-Za-z0-9.+!_-]*$")]
    # PyPI packages the service needs at run time but does not depend on
    # (database driver, memcached clients, WSGI server, ...), as ``name`` or
    # ``name==version``; the release's constraints file pins every one of them.
    extras: list[str] = Field(default_factory=list)

    @field_validator("extras")
    @classmethod
    def _requirements(cls, value: list[str]) -> list[str]:
        for item in value:
            if not _REQUIREMENT_RE.match(item):
                raise ValueError(f"{item!r} is not 'name' or 'name==version'")
        return value


class OpenStackRelease(_Frozen):
    series: NonEmptyStr
    utility: ServicePin
    services: dict[str, ServicePin] = Field(min_length=1)
    # File name under scs_deploy/releases/constraints/.
    constraints: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*\.txt$")]


class CephRelease(_Frozen):
    release: Annotated[str, Field(pattern=r"^[a-z]+$")]
    version: Annotated[str, Field(pattern=r"^[0-9]+\.[0-9]+\.[0-9]+$")]
    source: Literal["distribution", "upstream"]
    upstream_repository: Annotated[str, Field(pattern=r"^https?://\S+$")]
    upstream_key_url: Annotated[str, Field(pattern=r"^https?://\S+$")]


class Artifact(_Frozen):
    """A file downloaded from upstream (linux-amd64), pinned by URL and checksum.

    ``sha256`` is ``None`` where the published checksum could not be read when
    the manifest was written (the build machines reach neither github.com nor
    dl.k8s.io). Never invent one: fill it from upstream's checksum file. Code
    that downloads an artifact must refuse one whose checksum is ``None``.
    """

    name: NonEmptyStr
    url: Annotated[str, Field(pattern=r"^https://\S+$")]
    sha256: Sha256 | None


class KubernetesRelease(_Frozen):
    version: NonEmptyStr
    artifacts: list[Artifact] = Field(default_factory=list)


class ClusterApiRelease(_Frozen):
    version: Annotated[str, Field(pattern=r"^v[0-9]+\.[0-9]+\.[0-9]+\S*$")]
    providers: dict[str, Annotated[str, Field(pattern=r"^v[0-9]+\.[0-9]+\.[0-9]+\S*$")]]
    orc_version: Annotated[str, Field(pattern=r"^v[0-9]+\.[0-9]+\.[0-9]+\S*$")]
    artifacts: list[Artifact] = Field(default_factory=list)


class OsSupport(_Frozen):
    # As Ansible reports them: ansible_distribution / ansible_distribution_version.
    distribution: NonEmptyStr
    version: NonEmptyStr


class StandardImage(_Frozen):
    """An image of scs-0104: the names that are it, where it may come from, and whether a
    region must offer it."""

    # The test ids' suffix: scs-0104-source-<key>, scs-0104-image-<key>.
    key: Annotated[str, Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]
    name: NonEmptyStr
    # A regular expression an image name starts with; without one, the name itself.
    name_scheme: str | None = None
    # URL prefixes its image_source property may start with.
    sources: list[Annotated[str, Field(pattern=r"^https://")]] = Field(min_length=1)
    status: Literal["mandatory", "recommended", "optional"]

    @property
    def mandatory(self) -> bool:
        return self.status == "mandatory"

    def matches(self, name: str) -> bool:
        """Whether an image of this name is this standard image."""
        if self.name_scheme is not None:
            return re.match(self.name_scheme, name) is not None
        return name == self.name

    @field_validator("name_scheme")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from None
        return value


class ScsRelease(_Frozen):
    """What the SCS standards ask of the region, as this release reads them."""

    certificate: NonEmptyStr
    standard_images: list[StandardImage] = Field(min_length=1)


class Release(_Frozen):
    id: Annotated[str, Field(pattern=r"^[0-9]{4}\.[0-9]+$")]
    openstack: OpenStackRelease
    scs: ScsRelease
    ceph: CephRelease
    kubernetes: KubernetesRelease
    cluster_api: ClusterApiRelease
    os_support: list[OsSupport] = Field(min_length=1)
    secrets: dict[Annotated[str, Field(pattern=_SECRET_NAME_RE)], SecretKind] = Field(min_length=1)
    upgrade_from: list[str] = Field(default_factory=list)

    @field_validator("upgrade_from")
    @classmethod
    def _no_duplicates(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("lists a release twice")
        return value


def release_dir() -> Path:
    """The directory the manifests (and ``constraints/``) live in."""
    return _RELEASE_DIR


@functools.lru_cache(maxsize=1)
def _manifest_files() -> dict[str, Path]:
    return {p.stem: p for p in _RELEASE_DIR.glob("*.yaml") if p.is_file()}


def available_releases() -> list[str]:
    """Ids of the releases shipped with this scs-deploy, sorted."""
    return sorted(_manifest_files(), key=_release_sort_key)


def _release_sort_key(release_id: str) -> tuple[tuple[int, ...], str]:
    try:
        return tuple(int(part) for part in release_id.split(".")), release_id
    except ValueError:
        return (), release_id


def _problems(error: ValidationError, file: str) -> list[Problem]:
    return [
        Problem(
            path=".".join(str(part) for part in err["loc"]) or "release",
            message=err["msg"],
            file=file,
        )
        for err in error.errors()
    ]


def parse_release(path: Path) -> Release:
    """Read and validate one manifest file; errors become ConfigError with the file named."""
    import yaml
    from yaml import YAMLError

    try:
        data: Any = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    except (OSError, YAMLError) as exc:
        raise ConfigError([Problem(path="release", message=str(exc), file=str(path))]) from exc
    try:
        release = Release.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_problems(exc, str(path))) from exc
    if release.id != path.stem:
        raise ConfigError(
            [
                Problem(
                    path="id",
                    message=f"is {release.id!r} but the file is named {path.name}",
                    file=str(path),
                )
            ]
        )
    return release


@functools.cache
def load_release(release_id: str) -> Release:
    """The shipped release ``release_id``; ConfigError naming the available ones if unknown."""
    path = _manifest_files().get(release_id)
    if path is None:
        available = ", ".join(available_releases()) or "none"
        raise ConfigError(
            [
                Problem(
                    path="release",
                    message=f"unknown release {release_id!r}; available releases: {available}",
                )
            ]
        )
    return parse_release(path)


def constraints_path(release: Release) -> Path:
    """The pinned constraints file of ``release`` (inside the installed package)."""
    return _RELEASE_DIR / "constraints" / release.openstack.constraints
