"""The site YAML file on disk, changed by the dashboard's editors the way a person would change it.

Why ruamel.yaml: the site file is written by people, with comments that explain choices ("staff walk in and out by
day"), an order that reads well and flow lists for coordinates. PyYAML (the loader's parser) drops comments and
re-orders nothing but re-formats everything; a targeted text rewrite would have to re-implement YAML's block and
flow syntax to find where a camera's ``zones:`` ends. ruamel.yaml's round-trip mode keeps comments, key order,
quoting and flow style of everything an edit does not touch, so a save changes only the lines of what changed.

A change is made under a lock, against the version the editor started from (``version``: a hash of the file's
bytes; another save in between is refused as stale rather than silently overwritten), and checked as a whole site
file with the same checks as ``storewatch config check`` before anything is written. The previous file is kept as
``<name>.<UTC timestamp>.bak`` beside it (the newest ``keep_backups`` are kept) and the new one replaces it
atomically (write a temporary file, then rename), so a crash never leaves half a file.

>>> import tempfile
>>> path = Path(tempfile.mkdtemp()) / "site.yaml"
>>> _ = path.write_text("site: {id: t}  # the test site\\nstores:\\n  - id: s1\\n    cameras:\\n"
...                     "      - id: door\\n        source: door.mp4\\n")
>>> f = SiteFile(path)
>>> def add_zone(doc: Any) -> None:
...     camera_node(doc, "s1", "door")["zones"] = block_list(
...         [{"id": "till", "kind": "checkout", "polygon": flow_points([(0.1, 0.1), (0.5, 0.1), (0.5, 0.5)])}])
>>> saved = f.change(f.read().version, add_zone)
>>> print(path.read_text())
site: {id: t}  # the test site
stores:
  - id: s1
    cameras:
      - id: door
        source: door.mp4
        zones:
          - id: till
            kind: checkout
            polygon: [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]
<BLANKLINE>
>>> [z.id for z in saved.site.stores[0].cameras[0].zones], saved.backup is not None
(['till'], True)
"""

from __future__ import annotations

import hashlib
import io
import itertools
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from storewatch.config.loader import ConfigIssue, check_site_config, load_site_config
from storewatch.config.schema import SiteConfig
from storewatch.errors import StorewatchError

DIGITS = 4
"""Decimals kept of a normalised coordinate (a tenth of a pixel on a 1000-pixel frame)."""


class StaleSiteFileError(StorewatchError):
    """The file changed since the editor read it."""


class SiteFileInvalidError(StorewatchError):
    """The changed file would not be a valid site file; ``issues`` say why (key paths of the new file)."""

    def __init__(self, issues: Sequence[ConfigIssue]) -> None:
        super().__init__("; ".join(f"{i.key_path or 'file'}: {i.message}" for i in issues))
        self.issues = list(issues)


class SiteNodeMissingError(StorewatchError):
    """The store or camera is not in the file."""


@dataclass(frozen=True, slots=True)
class SiteSnapshot:
    site: SiteConfig
    version: str
    """Hash of the file's bytes: what a change must start from."""


@dataclass(frozen=True, slots=True)
class SavedSite:
    site: SiteConfig
    version: str
    backup: Path | None
    """The previous version, kept beside the file."""


def version_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


class SiteFile:
    """``read()`` the validated site and its version; ``change(version, edit)`` it in place."""

    def __init__(self, path: Path, *, keep_backups: int = 20) -> None:
        self.path = path
        self.keep_backups = keep_backups
        self._lock = threading.Lock()
        self._cache: tuple[tuple[int, int], SiteSnapshot] | None = None

    def read(self) -> SiteSnapshot:
        """The site as the file says now (``ConfigError`` listing every problem when it is not valid); parsed
        again only when the file changed."""
        stat = self.path.stat() if self.path.exists() else None
        key = (stat.st_mtime_ns, stat.st_size) if stat else (0, 0)
        cached = self._cache
        if cached is not None and cached[0] == key:
            return cached[1]
        data = self.path.read_bytes() if stat else b""
        snapshot = SiteSnapshot(load_site_config(self.path), version_of(data))
        self._cache = (key, snapshot)
        return snapshot

    def change(self, version: str | None, edit: Callable[[Any], None], *, dry_run: bool = False) -> SavedSite:
        """Apply ``edit`` to the round-trip document, check the result as a site file and write it (unless
        ``dry_run``). ``version`` None: whatever the file is now."""
        with self._lock:
            old = self.path.read_bytes()
            if version is not None and version != version_of(old):
                raise StaleSiteFileError(
                    f"{self.path.name} changed since the editor opened it (someone else saved)",
                    fix="reload the page to edit the current version",
                )
            text = old.decode("utf-8")
            yaml = _yaml(text)
            doc = yaml.load(text)
            edit(doc)
            out = io.StringIO()
            yaml.dump(doc, out)
            new = out.getvalue().encode("utf-8")
            site = self._check(new)
            if dry_run:
                return SavedSite(site, version_of(old), None)
            backup = self._backup(old)
            _write_atomically(self.path, new)
            self._cache = None
            return SavedSite(site, version_of(new), backup)

    def _check(self, data: bytes) -> SiteConfig:
        with tempfile.NamedTemporaryFile("wb", suffix=".yaml", dir=self.path.parent, delete=False) as tmp:
            tmp.write(data)
        candidate = Path(tmp.name)
        try:
            issues = check_site_config(candidate)
            if issues:
                raise SiteFileInvalidError(issues)
            return load_site_config(candidate)
        finally:
            candidate.unlink(missing_ok=True)

    def _backup(self, data: bytes) -> Path:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        backup = self.path.with_name(f"{self.path.name}.{stamp}.bak")
        backup.write_bytes(data)
        older = sorted(self.path.parent.glob(f"{glob_escape(self.path.name)}.*.bak"))
        for stale in older[: max(0, len(older) - self.keep_backups)]:
            stale.unlink(missing_ok=True)
        return backup


def glob_escape(name: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", name)


def _write_atomically(path: Path, data: bytes) -> None:
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- the round-trip document ------------------------------------------------------------------------------------
def _yaml(text: str) -> YAML:
    """A round-trip YAML that writes in the file's own indentation."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 120
    mapping, sequence, offset = guess_indent(text)
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    return yaml


_KEY_LINE = re.compile(r"^( *)(- +)?[^\s#-][^:#]*:(\s|$)")


def guess_indent(text: str) -> tuple[int, int, int]:
    """(mapping indent, sequence indent, dash offset) of a block-style YAML text; (2, 4, 2) when it cannot tell.

    >>> guess_indent("a:\\n    b: 1\\nc:\\n- d: 1\\n  e: 2\\n")
    (4, 2, 0)
    >>> guess_indent("stores:\\n  - id: s1\\n    cameras: []\\n")
    (2, 4, 2)
    """
    mapping = offset = None
    dash = 2
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    for prev, line in itertools.pairwise(lines):
        before, now = _KEY_LINE.match(prev), _KEY_LINE.match(line)
        if before is None or now is None or before.group(2) or not prev.rstrip().endswith(":"):
            continue
        step = len(now.group(1)) - len(before.group(1))
        if now.group(2) and offset is None and step >= 0:
            offset, dash = step, len(now.group(2))
        elif not now.group(2) and mapping is None and step > 0:
            mapping = step
    mapping = mapping or 2
    offset = 2 if offset is None else offset
    return mapping, offset + dash, offset


def camera_node(doc: Any, store: str, camera: str) -> CommentedMap:
    """The camera's mapping in the document (made block style, so keys added to it read well)."""
    for store_node in doc.get("stores") or []:
        if isinstance(store_node, Mapping) and str(store_node.get("id")) == store:
            for cam in store_node.get("cameras") or []:
                if isinstance(cam, CommentedMap) and str(cam.get("id")) == camera:
                    cam.fa.set_block_style()
                    return cam
            raise SiteNodeMissingError(f"store {store} has no camera {camera!r} in the site file")
    raise SiteNodeMissingError(f"the site file has no store {store!r}")


def flow_points(points: Iterable[Sequence[float]]) -> CommentedSeq:
    """``[[x, y], ...]`` on one line, each coordinate rounded to ``DIGITS`` decimals."""
    seq = CommentedSeq([_flow([round(float(v), DIGITS) for v in p]) for p in points])
    seq.fa.set_flow_style()
    return seq


def _flow(values: Sequence[Any]) -> CommentedSeq:
    seq = CommentedSeq(values)
    seq.fa.set_flow_style()
    return seq


def flow_map(values: Mapping[str, Any]) -> CommentedMap:
    out = CommentedMap(_plain(values))
    out.fa.set_flow_style()
    return out


def block_list(items: Iterable[Mapping[str, Any]]) -> CommentedSeq:
    return CommentedSeq([CommentedMap(item) for item in items])


def _plain(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (_flow(v) if isinstance(v, list) else flow_map(v) if isinstance(v, Mapping) else v)
            for k, v in values.items()}  # fmt: skip


def sync_map(target: CommentedMap, new: Mapping[str, Any], *, convert: Callable[[str, Any], Any] | None = None) -> None:
    """Make ``target`` hold exactly ``new`` in place: keys kept in their order (and their comments), changed
    values replaced, keys ``new`` lacks removed, new keys appended. A value equal to the old one is left as it
    was written (``0.40`` stays ``0.40``)."""
    for key in [k for k in target if k not in new]:
        del target[key]
    for key, value in new.items():
        if key in target and _same(target[key], value):
            continue
        target[key] = convert(key, value) if convert else value


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, Sequence) and not isinstance(old, str):
        return isinstance(new, Sequence) and len(old) == len(new) and all(map(_same, old, new))
    if isinstance(old, Mapping):
        return isinstance(new, Mapping) and old.keys() == new.keys() and all(_same(old[k], new[k]) for k in old)
    if isinstance(old, bool) or isinstance(new, bool):
        return isinstance(old, bool) and isinstance(new, bool) and old is new
    if isinstance(old, int | float) and isinstance(new, int | float):
        return abs(float(old) - float(new)) < 0.5 * 10.0**-DIGITS
    return bool(old == new)


def set_or_drop(node: CommentedMap, key: str, value: Any) -> None:
    """``node[key] = value``, or no key at all when ``value`` is empty (the schema's default)."""
    if value:
        node[key] = value
    elif key in node:
        del node[key]
