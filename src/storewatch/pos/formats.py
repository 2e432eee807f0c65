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
        return sniff_format(f.read(512))


def sniff_format(head: bytes) -> PosFormat | None:
    """The format from a document's first bytes: ``<`` XML, ``{``/``[`` JSON, a first line with commas CSV.

    >>> sniff_format(b'  {"store": "1"}'), sniff_format(b"store,register\\n"), sniff_format(b"hello")
    (<PosFormat.JSON: 'json'>, <PosFormat.CSV: 'csv'>, None)
    """
    head = head[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
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


def parse_bytes(data: bytes, fmt: PosFormat | None, name: str, default_tz: tzinfo = UTC) -> Iterator[ParseResult]:
    """Every transaction record of a document received whole (an HTTP body, an MQTT message); ``fmt`` None: sniffed
    from its first bytes. Like ``parse_file``, never raises for the content."""
    fmt = fmt or sniff_format(data)
    if fmt is None:
        yield Quarantined(name, "file", "", "unknown format (send POSLog XML, JSON, JSON Lines or CSV)")
    elif fmt is PosFormat.POSLOG:
        yield from parse_poslog(data, name, default_tz)
    elif fmt is PosFormat.JSON:
        yield from parse_json(data, name, default_tz)
    else:
        yield from parse_csv(data, name, default_tz)
