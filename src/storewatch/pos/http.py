"""POS transactions over HTTP: ``POST /api/v1/pos/transactions`` of the dashboard app. Framework-free
(``handle(body, headers) -> (status, reply)``); the web route only reads the body and hands it over.

Authentication: an HMAC-SHA256 signature of the body, as the sync endpoint and the alert webhooks use
(``X-Storewatch-Signature: sha256=<hex>`` over ``<timestamp>.<body>`` with the shared secret, and
``X-Storewatch-Timestamp``, at most 5 minutes off). TODO: also accept the app's Bearer API tokens once they exist.

The body is one document in any supported format, chosen by ``Content-Type``: ``application/xml`` / ``text/xml``
(ARTS POSLog), ``application/json``, ``application/x-ndjson`` / ``application/jsonl`` (JSON Lines), ``text/csv``;
another or none: sniffed from the first bytes. Reply (JSON): ``accepted`` (read and stored, ``inserted`` new,
``updated`` corrected, ``duplicate`` already stored as sent), ``quarantined`` and ``errors`` (each record that
could not be read: where and why; it is kept in the quarantine table too), ``exceptions`` raised.

Status: 200 when at least one transaction was read (bad records are listed, not fatal: the rest of the batch is
accepted); 400 when nothing could be read from the body (empty, not the format it claims, every record bad);
401 for a missing or wrong signature; 413 for a body over the limit; 503 when the database is away.

>>> status, reply = PosHttpEndpoint(None, "s3cret").handle(b"{}", {})  # type: ignore[arg-type]
>>> status, reply["error"][:25]
(401, 'bad or missing signature ')
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from storewatch.alerts.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from storewatch.pos.formats import PosFormat, parse_bytes
from storewatch.pos.service import IngestReport, PosIngestService

log = logging.getLogger(__name__)

POS_PATH = "/api/v1/pos/transactions"
CONTENT_TYPES = {
    "application/xml": PosFormat.POSLOG,
    "text/xml": PosFormat.POSLOG,
    "application/json": PosFormat.JSON,
    "application/x-ndjson": PosFormat.JSON,
    "application/jsonl": PosFormat.JSON,
    "application/x-jsonlines": PosFormat.JSON,
    "text/csv": PosFormat.CSV,
}
MAX_ERRORS = 1000
"""Per-record errors listed in a reply at most (all are stored)."""


def format_of(content_type: str | None) -> PosFormat | None:
    """The format a ``Content-Type`` names (parameters such as ``charset`` ignored); None: sniff the body."""
    if not content_type:
        return None
    return CONTENT_TYPES.get(content_type.split(";", 1)[0].strip().lower())


def reply_of(report: IngestReport) -> dict[str, Any]:
    """The JSON reply for an ingest (also what the MQTT subscriber logs)."""
    return {
        "source": report.source,
        "accepted": report.accepted,
        "inserted": report.inserted,
        "updated": report.updated,
        "duplicate": report.unchanged,
        "quarantined": len(report.quarantined),
        "exceptions": report.exceptions,
        "errors": [
            {"record": q.record, "path": q.path, "error": q.error, "message": str(q)}
            for q in report.quarantined[:MAX_ERRORS]
        ],
    }


class PosHttpEndpoint:
    def __init__(self, service: PosIngestService, secret: str, max_body_bytes: int = 32 << 20) -> None:
        self.service, self.secret, self.max_body_bytes = service, secret, max_body_bytes
        self._count = 0

    def handle(self, body: bytes, headers: Mapping[str, str], peer: str = "http") -> tuple[int, dict[str, Any]]:
        lower = {k.lower(): v for k, v in headers.items()}
        if not verify_signature(
            body, lower.get(SIGNATURE_HEADER.lower()), self.secret, lower.get(TIMESTAMP_HEADER.lower())
        ):
            return 401, {"error": "bad or missing signature (X-Storewatch-Signature over <timestamp>.<body>)"}
        if len(body) > self.max_body_bytes:
            return 413, {"error": f"body of {len(body)} bytes, over the limit of {self.max_body_bytes}"}
        if not body.strip():
            return 400, {"error": "empty body: send POSLog XML, JSON, JSON Lines or CSV"}
        self._count += 1
        source = f"{peer}#{self._count}"
        results = parse_bytes(body, format_of(lower.get("content-type")), source, self.service.tz)
        try:
            report = self.service.ingest(results, source)
        except SQLAlchemyError as exc:
            log.warning("pos http: database unavailable: %s", exc)
            return 503, {"error": "the database is unavailable; send again (ingest is idempotent)"}
        reply = reply_of(report)
        if report.accepted == 0:
            return 400, {"error": "no transaction could be read from the body", **reply}
        return 200, reply
