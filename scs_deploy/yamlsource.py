"""Read a YAML file fast, and find where a key or value came from only when asked.

Loading uses PyYAML's C parser; positions come from a second, round-trip
parse with ruamel.yaml, done only when a problem has to be reported.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scs_deploy.errors import ConfigError, Problem


@dataclass
class Located:
    """Parsed YAML data plus, on demand, the node tree that knows line and column."""

    file: str
    text: str
    data: Any
    _tree: Any = field(default=None, repr=False)

    def _nodes(self) -> Any:
        if self._tree is None:
            from ruamel.yaml import YAML

            self._tree = YAML(typ="rt").load(self.text)
        return self._tree

    def position(self, path: Sequence[str | int], *, key: bool = False) -> tuple[int, int]:
        """1-based (line, column) of the value at ``path``, or of its key when ``key``.

        Falls back to the deepest existing parent when the path leads nowhere
        (a missing required field is reported where its parent is).
        """
        node = self._nodes()
        best = (1, 1)
        for index, part in enumerate(path):
            last = index == len(path) - 1
            lc = getattr(node, "lc", None)
            if isinstance(node, dict) and part in node:
                if lc is not None:
                    line, col = lc.key(part) if (key and last) else lc.value(part)
                    best = (line + 1, col + 1)
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                if lc is not None:
                    line, col = lc.item(part)
                    best = (line + 1, col + 1)
                node = node[part]
            else:
                break
        return best

    def problem(self, path: Sequence[str | int], message: str, *, key: bool = False) -> Problem:
        line, column = self.position(path, key=key)
        return Problem(
            path=format_path(path), message=message, file=self.file, line=line, column=column
        )


def format_path(path: Sequence[str | int]) -> str:
    """``("hosts", 2, "address")`` -> ``hosts[2].address``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _loader() -> Any:
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class UniqueKeyLoader(base):  # type: ignore[misc, valid-type]
        """A safe loader that refuses a key given twice in one mapping."""

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else id(key_node)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"key '{key}' appears twice", key_node.start_mark
                    )
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    return UniqueKeyLoader


def load_located(
    path: Path, display_name: str | None = None, cache_dir: Path | None = None
) -> Located:
    """Parse ``path``; a syntax error becomes a ConfigError with its place.

    With ``cache_dir``, the parsed data is kept as JSON keyed by the file's
    SHA-256: an unchanged 1000-host region.yml then loads in 10 ms, not 250.
    """
    name = display_name or path.name
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([Problem(path="", message=f"{path} does not exist", file=name)]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            [Problem(path="", message=f"cannot read {path}: {exc}", file=name)]
        ) from None
    if cache_dir is None:
        return Located(file=name, text=text, data=_parse(text, name))
    digest = hashlib.sha256(text.encode()).hexdigest()
    cache = cache_dir / f"{path.stem}.parsed.json"
    try:
        cached = json.loads(cache.read_text(encoding="utf-8"))
        if cached.get("sha256") == digest:
            return Located(file=name, text=text, data=cached["data"])
    except (OSError, ValueError, AttributeError):
        pass
    data = _parse(text, name)
    try:
        encoded = json.dumps({"sha256": digest, "data": data})
    except (TypeError, ValueError):
        return Located(file=name, text=text, data=data)  # dates and the like: not cacheable
    if json.loads(encoded)["data"] != data:
        return Located(file=name, text=text, data=data)  # e.g. integer keys: JSON makes them text
    cache_dir.mkdir(parents=True, exist_ok=True)
    temporary = cache.with_name(cache.name + ".tmp")
    temporary.write_text(encoded, encoding="utf-8")
    os.replace(temporary, cache)
    return Located(file=name, text=text, data=data)


def _parse(text: str, name: str) -> Any:
    import yaml

    try:
        data = yaml.load(text, Loader=_loader())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise ConfigError(
            [
                Problem(
                    path="",
                    message=f"YAML syntax error: {what}",
                    file=name,
                    line=mark.line + 1 if mark else None,
                    column=mark.column + 1 if mark else None,
                )
            ]
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError([Problem(path="", message=f"YAML error: {exc}", file=name)]) from None
    return {} if data is None else data
