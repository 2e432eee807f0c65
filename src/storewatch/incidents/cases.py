"""An incident as other systems see it: the full record (evidence packs, ``show --json``) and the flat *case*
(an external case-management system: CSV file or webhook), both with a stable, versioned schema.

``storewatch.case/1`` — one row per incident, these columns in this order; columns may be added at the end within
version 1, never renamed, removed or retyped. Times are ISO 8601 UTC; ``loss`` is a decimal string in the
currency's major unit (``129.99``); lists are joined with ``;``.

>>> from datetime import UTC, datetime
>>> from storewatch.incidents.workflow import Incident, TimelineEntry
>>> t = datetime(2026, 3, 2, 12, tzinfo=UTC)
>>> row = case_row(Incident.open("i1", "s1", t, "walk out at s1/door").set_loss("ana", t, 12999, "EUR"), [])
>>> row["schema"], row["state"], row["loss"], row["currency"]
('storewatch.case/1', 'open', '129.99', 'EUR')
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterable, Sequence
from typing import Any

from storewatch.alerts.webhook import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    direct_opener,
    http_post,
    sign,
)
from storewatch.core.events import Event
from storewatch.incidents.workflow import Incident, TimelineEntry

CASE_SCHEMA = "storewatch.case/1"
RECORD_SCHEMA = "storewatch.incident/1"
CASE_COLUMNS = (
    "schema", "id", "store", "camera", "zone", "title", "state", "created_utc", "updated_utc", "resolved_utc",
    "assignee", "tags", "loss", "currency", "false_alarm_reason", "legal_hold", "event_ids", "event_types",
    "first_event_utc", "last_event_utc", "notes",
)  # fmt: skip


def incident_record(
    incident: Incident, events: Sequence[Event], custody: Sequence[dict[str, Any]] = ()
) -> dict[str, Any]:
    """The whole record, JSON-ready (``storewatch.incident/1``): fields, events, timeline, custody."""
    return {
        "schema": RECORD_SCHEMA,
        "id": incident.id,
        "title": incident.title,
        "store": incident.store,
        "camera": incident.camera,
        "zone": incident.zone,
        "state": incident.state.value,
        "assignee": incident.assignee,
        "tags": list(incident.tags),
        "loss": _loss(incident),
        "currency": incident.currency,
        "false_alarm_reason": incident.false_alarm_reason,
        "legal_hold": incident.legal_hold,
        "created_utc": incident.created.isoformat(),
        "updated_utc": incident.updated.isoformat(),
        "resolved_utc": incident.resolved.isoformat() if incident.resolved else None,
        "events": [json.loads(e.model_dump_json()) for e in events],
        "timeline": [_entry(t) for t in incident.timeline],
        "custody": list(custody),
    }


def case_row(incident: Incident, events: Sequence[Event]) -> dict[str, str]:
    """The flat ``storewatch.case/1`` row of an incident."""
    starts = sorted(e.start_utc for e in events)
    notes = " | ".join(t.text for t in incident.timeline if t.kind == "note")
    row = {
        "schema": CASE_SCHEMA,
        "id": incident.id,
        "store": incident.store,
        "camera": incident.camera or "",
        "zone": incident.zone or "",
        "title": incident.title,
        "state": incident.state.value,
        "created_utc": incident.created.isoformat(),
        "updated_utc": incident.updated.isoformat(),
        "resolved_utc": incident.resolved.isoformat() if incident.resolved else "",
        "assignee": incident.assignee or "",
        "tags": ";".join(incident.tags),
        "loss": _loss(incident) or "",
        "currency": incident.currency or "",
        "false_alarm_reason": incident.false_alarm_reason or "",
        "legal_hold": "true" if incident.legal_hold else "false",
        "event_ids": ";".join(incident.event_ids),
        "event_types": ";".join(dict.fromkeys(e.type for e in events)),
        "first_event_utc": starts[0].isoformat() if starts else "",
        "last_event_utc": starts[-1].isoformat() if starts else "",
        "notes": notes,
    }
    assert tuple(row) == CASE_COLUMNS
    return row


def cases_csv(rows: Iterable[dict[str, str]]) -> str:
    """The rows as CSV text with a header (RFC 4180 quoting, ``\\r\\n`` line ends as spreadsheets expect)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CASE_COLUMNS)
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue()


def push_cases(url: str, rows: Sequence[dict[str, str]], secret: str, timeout_s: float = 10.0) -> int:
    """POST ``{"schema": "storewatch.case/1", "cases": [...]}`` to ``url``, signed like the alert webhooks
    (``X-Storewatch-Signature`` over ``<timestamp>.<body>``); returns the HTTP status. Raises
    ``DeliveryError`` (from ``alerts.delivery``) when the receiver refuses or cannot be reached."""
    body = json.dumps({"schema": CASE_SCHEMA, "cases": list(rows)}, separators=(",", ":")).encode()
    ts = int(time.time())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        SIGNATURE_HEADER: sign(body, secret, ts),
        TIMESTAMP_HEADER: str(ts),
        DELIVERY_HEADER: f"cases-{ts}",
    }
    opener = direct_opener()
    try:
        return http_post(opener, url, body, headers, timeout_s)
    finally:
        opener.close()


def _entry(t: TimelineEntry) -> dict[str, str]:
    return {"at": t.at.isoformat(), "actor": t.actor, "kind": t.kind, "text": t.text}


def _loss(incident: Incident) -> str | None:
    if incident.loss_minor is None:
        return None
    return f"{incident.loss_minor // 100}.{incident.loss_minor % 100:02d}"
