"""Door access events over HTTP: ``POST /api/v1/access/events`` of the dashboard app, signed with the shared
secret of ``access.sources.http`` or sent with an API token holding ``access.ingest`` (``storewatch.ingest.http``:
the authentication, limits and status codes shared with the POS endpoint). Event ``store`` ids are the site's, so
a token sends only for its own stores: an event of another store is quarantined with that error, the rest stored.

The body is JSON (an event, a list, ``{"events": [...]}``), JSON Lines or CSV (``Content-Type: text/csv``, or
sniffed). Reply (JSON): ``accepted``, ``new`` (not stored before), ``quarantined`` and ``errors`` (each record
that could not be read: where and why; kept in ``access_quarantine`` too), ``exceptions`` (the rules' findings
on the new events: code, door, time).

>>> status, reply = AccessHttpEndpoint(None, "s3cret").handle(b"{}", {})  # type: ignore[arg-type]
>>> status, reply["error"][:25]
(401, 'bad or missing signature ')
"""

from __future__ import annotations

from typing import Any

from storewatch.access.events import parse_access
from storewatch.access.service import AccessIngestService, AccessReport
from storewatch.ingest.http import Authorize, Grant, IngestEndpoint, errors_of, within

ACCESS_PATH = "/api/v1/access/events"


class AccessHttpEndpoint(IngestEndpoint[AccessReport]):
    capability = "access.ingest"
    record = "event"
    what = "JSON, JSON Lines or CSV access events"

    def __init__(
        self,
        service: AccessIngestService,
        secret: str | None,
        max_body_bytes: int = 8 << 20,
        authorize: Authorize | None = None,
    ) -> None:
        super().__init__(secret, max_body_bytes, authorize)
        self.service = service

    def ingest(self, body: bytes, content_type: str | None, source: str, grant: Grant) -> AccessReport:
        name = f"{source}.csv" if (content_type or "").split(";")[0].strip().lower() == "text/csv" else source
        results = within(parse_access(body, name, self.service.tz), grant, name)
        return self.service.ingest(results, name)

    def reply(self, report: AccessReport) -> dict[str, Any]:
        return {
            "source": report.source,
            "accepted": report.accepted,
            "new": report.new,
            "quarantined": len(report.quarantined),
            "errors": errors_of(report.quarantined),
            "exceptions": [
                {"code": e.code.value, "store": e.store, "door": e.door, "at_utc": e.at_utc.isoformat()}
                for e in report.exceptions
            ],
        }
