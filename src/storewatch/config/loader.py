"""Loading a site file with errors a person can act on: every problem, each with its YAML line and key path.

PyYAML composes the file into nodes that keep their line numbers; pydantic validates the plain data; each pydantic
error's location (a path of keys and indexes) is walked back through the nodes to the line it came from. PyYAML
silently keeps the last of two equal keys in a mapping, so duplicates are found in the node walk and reported.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "site.yaml"
>>> _ = p.write_text("site: {id: demo}\\nstores:\\n  - id: s1\\n    colour: red\\n")
>>> for issue in check_site_config(p): print(issue.format().replace(str(p), "site.yaml"))
site.yaml:4: stores[0].colour: unknown key (allowed keys are listed by `storewatch config schema`)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from storewatch.config.schema import SiteConfig
from storewatch.errors import ConfigError

Loc = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class ConfigIssue:
    file: str
    line: int | None
    column: int | None
    key_path: str
    message: str
    value: str | None = None

    def format(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        key = f" {self.key_path}:" if self.key_path else ""
        got = f" (got {self.value})" if self.value is not None else ""
        return f"{where}:{key} {self.message}{got}"


def key_path(loc: Loc) -> str:
    """``('stores', 0, 'cameras')`` -> ``stores[0].cameras``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _find_node(root: yaml.Node, loc: Loc) -> tuple[yaml.Node, bool]:
    """The node at ``loc`` (or its deepest existing ancestor) and whether the whole path was found."""
    node = root
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == part), None)
            if child is None:  # an extra key's error points at the key itself
                child = next((k for k, _ in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        if child is None:
            return node, False
        node = child
    return node, True


def _duplicate_keys(node: yaml.Node, path: Loc = ()) -> list[tuple[yaml.Node, Loc]]:
    found: list[tuple[yaml.Node, Loc]] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for k, v in node.value:
            if k.value in seen:
                found.append((k, (*path, k.value)))
            seen.add(k.value)
            found += _duplicate_keys(v, (*path, k.value))
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            found += _duplicate_keys(v, (*path, i))
    return found


def _message(err: Mapping[str, Any]) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown key (allowed keys are listed by `storewatch config schema`)"
    if err["type"] == "missing":
        return "required key is missing"
    return str(err["msg"]).removeprefix("Value error, ")


def _read(path: Path) -> str:
    if not path.exists():
        raise ConfigError(f"{path}: no such file")
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory, not a YAML file")
    try:
        return path.read_text(encoding="utf-8")
    except PermissionError:
        raise ConfigError(f"{path}: not readable (permission denied)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc})") from None


_NAMED_KEY = re.compile(r"^([a-z_]+(?:\.[a-z_]+|\[\d+\])+): ")
_KEY_PART = re.compile(r"[a-z_]+|\[\d+\]")


def _validation_issues(path: Path, root: yaml.Node, exc: ValidationError) -> list[ConfigIssue]:
    issues = []
    for err in exc.errors():
        loc: Loc = tuple(err["loc"])
        msg = _message(err)
        if not loc:  # a cross-field check may name the key it is about: "pos.tills[1].camera: ..."
            named = _NAMED_KEY.match(msg)
            if named:
                loc = tuple(int(k[1:-1]) if k.startswith("[") else k for k in _KEY_PART.findall(named.group(1)))
                msg = msg[named.end() :]  # the key is shown once, as the issue's key path
        point = re.match(r"point (\d+) ", msg)
        lookup = (*loc, int(point.group(1))) if point else loc
        node, exact = _find_node(root, lookup)
        value = None if err["type"] in ("missing", "extra_forbidden") or not exact else _short(err.get("input"))
        issues.append(
            ConfigIssue(str(path), node.start_mark.line + 1, node.start_mark.column + 1, key_path(loc), msg, value)
        )
    return sorted(issues, key=lambda i: (i.line or 0, i.key_path))


def _short(value: Any) -> str | None:
    if isinstance(value, dict | list):
        return None
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _parse(path: Path) -> tuple[Any, yaml.Node | None, list[ConfigIssue]]:
    text = _read(path)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        return None, None, [ConfigIssue(str(path), line, col, "", f"YAML syntax error: {exc.problem}")]
    if root is None:
        return None, None, [ConfigIssue(str(path), None, None, "", "the file is empty")]
    if not isinstance(root, yaml.MappingNode):
        return None, root, [ConfigIssue(str(path), 1, 1, "", "the top level must be a mapping (site:, stores:, ...)")]
    issues = [
        ConfigIssue(str(path), k.start_mark.line + 1, k.start_mark.column + 1, key_path(loc), "duplicate key")
        for k, loc in _duplicate_keys(root)
    ]
    return yaml.safe_load(text), root, issues


def check_site_config(path: Path) -> list[ConfigIssue]:
    """Every problem in the site file at ``path`` (empty list = valid)."""
    data, root, issues = _parse(path)
    if data is None or root is None:
        return issues
    try:
        SiteConfig.model_validate(data)
    except ValidationError as exc:
        issues += _validation_issues(path, root, exc)
    return sorted(issues, key=lambda i: (i.line or 0, i.key_path))


def load_site_config(path: Path) -> SiteConfig:
    """The validated site configuration; ``ConfigError`` listing every problem otherwise."""
    issues = check_site_config(path)
    if issues:
        lines = "\n".join(i.format() for i in issues)
        raise ConfigError(f"{path}: {len(issues)} problem(s)\n{lines}", fix=f"storewatch config check {path}")
    data, _, _ = _parse(path)
    return SiteConfig.model_validate(data)
