"""Loading the project's Ansible modules and plugins, which are files, not packages."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def load_file(path: Path, name: str | None = None) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name or path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_role_module(role: str, name: str) -> ModuleType:
    """roles/<role>/library/<name>.py"""
    return load_file(ROOT / "roles" / role / "library" / f"{name}.py")
