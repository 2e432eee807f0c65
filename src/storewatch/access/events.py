"""Access-control events: a badge read at a door (granted or denied) or a change of the door's state that the
system reports (opened, closed, forced, held open), parsed from JSON (an object, a list, ``{"events": [...]}``),
JSON Lines or CSV (a header; columns as the JSON keys). A record that cannot be read is a ``Quarantined`` naming
it and the key (column) that is wrong; the others are read.

>>> text = (b'{"store": "s1", "door": "D-101", "kind": "badge", "badge": "B7", "result": "granted",'
...         b' "at_utc": "2026-03-02T22:10:00Z"}\\n{"store": "s1", "door": "D-101", "kind": "badge"}\\n')
>>> [str(r) if isinstance(r, Quarantined) else r.key for r in parse_access(text, "a.jsonl")]
['s1/D-101/badge/2026-03-02T22:10:00+00:00/B7', 'a.jsonl: line 2 (door D-101): at_utc: Field required']
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, tzinfo
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, model_validator

from storewatch.pos.jsonfmt import key_path
from storewatch.pos.model import DEFAULT_TZ, PosId
from storewatch.pos.records import Quarantined, clip_raw, read_text


class AccessKind(StrEnum):
    BADGE = "badge"
    """A badge (card, fob, PIN) presented at a reader: ``result`` says whether the door was released."""
    DOOR_OPEN = "door_open"
    DOOR_CLOSED = "door_closed"
    DOOR_FORCED = "door_forced"
    """The system itself reports the door opened without a release."""
    DOOR_HELD = "door_held"
    """The door stayed open past the system's limit."""


class AccessResult(StrEnum):
    GRANTED = "granted"
    DENIED = "denied"


def _utc(value: datetime, info: ValidationInfo) -> datetime:
    if value.utcoffset() is None:
        default = (info.context or {}).get(DEFAULT_TZ)
        if default is None:
            raise ValueError("times must carry a time zone (give an offset, or --timezone)")
        value = value.replace(tzinfo=default)
    return value.astimezone(UTC)


class AccessEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    store: PosId = Field(description="The store (the site file's store id).")
    door: PosId = Field(description="The door as the access system names it.")
    kind: AccessKind
    at_utc: Annotated[datetime, AfterValidator(_utc)]
    badge: str | None = Field(None, min_length=1, max_length=64, description="Badge (credential) id, of a badge read.")
    person: str | None = Field(None, max_length=120, description="Who the badge belongs to, when the system says.")
    result: AccessResult | None = Field(None, description="Of a badge read: granted or denied.")
    source: str = Field("", max_length=300)

    @model_validator(mode="after")
    def _badge_has_result(self) -> AccessEvent:
        if self.kind is AccessKind.BADGE and (self.result is None or self.badge is None):
            raise ValueError("a badge event needs badge and result (granted or denied)")
        return self

    @property
    def key(self) -> str:
        """Identity for idempotent storage: a re-sent event is the same event."""
        return f"{self.store}/{self.door}/{self.kind.value}/{self.at_utc.isoformat()}/{self.badge or ''}"

    @property
    def granted(self) -> bool:
        return self.kind is AccessKind.BADGE and self.result is AccessResult.GRANTED


AccessResultOrBad = AccessEvent | Quarantined
COLUMNS = frozenset(AccessEvent.model_fields) - {"source"}


def parse_access(
    source: Path | bytes, name: str | None = None, default_tz: tzinfo = UTC
) -> Iterator[AccessResultOrBad]:
    """Each event of a JSON, JSON Lines or CSV document (CSV when the suffix is ``.csv`` or it does not start with
    ``{`` or ``[``)."""
    read = read_text(source, name)
    if isinstance(read, Quarantined):
        yield read
        return
    text, name = read
    head = text.lstrip()[:1]
    if name.lower().endswith(".csv") or head not in ("{", "["):
        yield from _csv(text, name, default_tz)
    else:
        yield from _json(text, name, default_tz)


def _json(text: str, name: str, tz: tzinfo) -> Iterator[AccessResultOrBad]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg != "Extra data":
            yield Quarantined(name, "file", f"line {exc.lineno}, column {exc.colno}", f"not valid JSON: {exc.msg}")
            return
        for lineno, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                yield Quarantined(name, f"line {lineno}", f"column {err.colno}", f"not valid JSON: {err.msg}", line)
                continue
            yield _validate(record, name, f"line {lineno}", tz)
        return
    records = doc.get("events") if isinstance(doc, dict) and "events" in doc else doc
    for i, record in enumerate(records if isinstance(records, list) else [records], 1):
        yield _validate(record, name, f"record {i}", tz)


def _csv(text: str, name: str, tz: tzinfo) -> Iterator[AccessResultOrBad]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip() for h in next(reader, [])]
    unknown = sorted(set(header) - COLUMNS)
    if not header or unknown:
        problem = f"unknown column(s) {unknown} (allowed: {sorted(COLUMNS)})" if unknown else "empty file (no header)"
        yield Quarantined(name, "file", "line 1", problem)
        return
    for lineno, cells in enumerate(reader, 2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            yield Quarantined(name, f"line {lineno}", "", f"{len(cells)} cells, the header has {len(header)}")
            continue
        record = {h: c.strip() for h, c in zip(header, cells, strict=True) if c.strip()}
        yield _validate(record, name, f"line {lineno}", tz)


def _validate(record: Any, name: str, where: str, tz: tzinfo) -> AccessResultOrBad:
    if not isinstance(record, dict):
        return Quarantined(name, where, "", f"expected an object, got {type(record).__name__}")
    try:
        return AccessEvent.model_validate(
            {**record, "source": f"{name}#{where.replace(' ', '')}"}, context={DEFAULT_TZ: tz}
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        ids = ", ".join(f"{k} {record[k]}" for k in ("door", "badge") if k in record)
        return Quarantined(
            name,
            f"{where} ({ids})" if ids else where,
            key_path(first["loc"]),
            str(first["msg"]).removeprefix("Value error, "),
            clip_raw(json.dumps(record, default=str)),
        )
