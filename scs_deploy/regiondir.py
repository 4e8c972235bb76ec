"""Where things live in a region directory."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from scs_deploy.errors import UsageError

VAULT_PASS_ENV = "SCS_DEPLOY_VAULT_PASS_FILE"


@dataclass(frozen=True)
class RegionDir:
    """The files of one region; see DESIGN.md, "The region directory"."""

    path: Path

    @classmethod
    def existing(cls, path: Path) -> RegionDir:
        """A region directory that must already hold a region.yml."""
        region_dir = cls(path.resolve())
        if not path.is_dir():
            raise UsageError(
                f"{path}: no such directory (create one with 'scs-deploy init {path}')"
            )
        if not region_dir.region_file.is_file():
            raise UsageError(
                f"{path}: no region.yml in this directory "
                f"(create one with 'scs-deploy init {path}')"
            )
        return region_dir

    @property
    def region_file(self) -> Path:
        return self.path / "region.yml"

    @property
    def secrets_file(self) -> Path:
        return self.path / "secrets.yml"

    @property
    def vault_pass_file(self) -> Path:
        override = os.environ.get(VAULT_PASS_ENV)
        return Path(override) if override else self.path / ".vault-pass"

    @property
    def state_file(self) -> Path:
        return self.path / "state.json"

    @property
    def converge_file(self) -> Path:
        """What each role's last successful run left on each host (the converge fast path)."""
        return self.path / "converge.json"

    @property
    def build_dir(self) -> Path:
        return self.path / "build"

    @property
    def artifacts_dir(self) -> Path:
        return self.path / "artifacts"

    @property
    def known_hosts_file(self) -> Path:
        """Host keys Ansible has seen (accept-new: first contact trusts, a change fails)."""
        return self.path / "ssh" / "known_hosts"

    @property
    def deployed_render_dir(self) -> Path:
        """A copy of build/ as it was at the last successful deploy, for ``plan --diff``."""
        return self.artifacts_dir / "last-deployed-render"

    def resolve(self, relative: str) -> Path:
        """A path from region.yml, relative to the region directory unless absolute."""
        candidate = Path(relative)
        return candidate if candidate.is_absolute() else self.path / candidate
