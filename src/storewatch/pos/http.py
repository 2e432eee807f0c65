"""POS transactions over HTTP: ``POST /api/v1/pos/transactions`` of the dashboard app, signed with the shared
secret of ``pos.sources.http`` or sent with an API token holding ``pos.ingest`` (``storewatch.ingest.http``: the
authentication, limits and status codes the integration endpoints share). A token's stores do not limit the POS
store ids, which are the POS's own numbering, not the site's store ids.

The body is one document in any supported format, chosen by ``Content-Type``: ``application/xml`` / ``text/xml``
(ARTS POSLog), ``application/json``, ``application/x-ndjson`` / ``application/jsonl`` (JSON Lines), ``text/csv``;
another or none: sniffed from the first bytes. Reply (JSON): ``accepted`` (read and stored, ``inserted`` new,
``updated`` corrected, ``duplicate`` already stored as sent), ``quarantined`` and ``errors`` (each record that
could not be read: where and why; it is kept in the quarantine table too), ``exceptions`` raised.

>>> status, reply = PosHttpEndpoint(None, "s3cret").handle(b"{}", {})  # type: ignore[arg-type]
>>> status, reply["error"][:25]
(401, 'bad or missing signature ')
"""

from __future__ import annotations

from typing import Any

from storewatch.ingest.http import Authorize, Grant, IngestEndpoint, errors_of
from storewatch.pos.formats import PosFormat, parse_bytes
from storewatch.pos.service import IngestReport, PosIngestService

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
        "errors": errors_of(report.quarantined),
    }


class PosHttpEndpoint(IngestEndpoint[IngestReport]):
    capability = "pos.ingest"
    record = "transaction"
    what = "POSLog XML, JSON, JSON Lines or CSV"

    def __init__(
        self,
        service: PosIngestService,
        secret: str | None,
        max_body_bytes: int = 32 << 20,
        authorize: Authorize | None = None,
    ) -> None:
        super().__init__(secret, max_body_bytes, authorize)
        self.service = service

    def ingest(self, body: bytes, content_type: str | None, source: str, grant: Grant) -> IngestReport:
        results = parse_bytes(body, format_of(content_type), source, self.service.tz)
        return self.service.ingest(results, source)

    def reply(self, report: IngestReport) -> dict[str, Any]:
        return reply_of(report)
