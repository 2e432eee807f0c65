"""Reading a POS file in any supported format: ARTS POSLog XML (2.x, NCR ACS, 6.0), JSON / JSON Lines, CSV.

The format comes from the file's suffix, else from its first bytes. ``parse_file`` never raises for the
content: an unreadable file is one ``Quarantined`` for the whole file.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, tzinfo
from enum import StrEnum
from pathlib import Path

from storewatch.pos.csvfmt import parse_csv
from storewatch.pos.jsonfmt import parse_json
from storewatch.pos.poslog import parse_poslog
from storewatch.pos.records import ParseResult, Quarantined


class PosFormat(StrEnum):
    POSLOG = "poslog"
    JSON = "json"
    CSV = "csv"


_SUFFIXES = {
    ".xml": PosFormat.POSLOG,
    ".json": PosFormat.JSON,
    ".jsonl": PosFormat.JSON,
    ".ndjson": PosFormat.JSON,
    ".csv": PosFormat.CSV,
}


def detect_format(path: Path) -> PosFormat | None:
    """The format of ``path`` from its suffix, else its first non-blank byte (``<`` XML, ``{``/``[`` JSON)."""
    by_suffix = _SUFFIXES.get(path.suffix.lower())
    if by_suffix is not None:
        return by_suffix
    with path.open("rb") as f:
        head = f.read(512).lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return PosFormat.POSLOG
    if head[:1] in (b"{", b"["):
        return PosFormat.JSON
    if b"," in head.split(b"\n", 1)[0]:
        return PosFormat.CSV
    return None


def parse_file(path: Path, default_tz: tzinfo = UTC) -> Iterator[ParseResult]:
    """Every transaction record of ``path``, each a ``Transaction`` or a ``Quarantined``."""
    try:
        fmt = detect_format(path)
    except OSError as exc:
        yield Quarantined(str(path), "file", "", f"cannot read: {exc.strerror or exc}")
        return
    if fmt is None:
        yield Quarantined(str(path), "file", "", "unknown format (use .xml POSLog, .json/.jsonl or .csv)")
        return
    try:
        if fmt is PosFormat.POSLOG:
            yield from parse_poslog(path, str(path), default_tz)
        elif fmt is PosFormat.JSON:
            yield from parse_json(path, str(path), default_tz)
        else:
            yield from parse_csv(path, str(path), default_tz)
    except OSError as exc:
        yield Quarantined(str(path), "file", "", f"cannot read: {exc.strerror or exc}")
