"""Integration endpoints over HTTP (POS transactions, door access events): the authentication, limits and status
codes they share, framework-free (``handle(body, headers, peer) -> (status, reply)``); the web routes only read
the body and hand it over, each integration says how a body is parsed, stored and answered.

Authentication, either of:

* an HMAC-SHA256 signature of the body with the integration's shared secret, as the sync endpoint and the alert
  webhooks use (``X-Storewatch-Signature: sha256=<hex>`` over ``<timestamp>.<body>``, and
  ``X-Storewatch-Timestamp``, at most 5 minutes off): the sender may send for any store;
* an API token (``Authorization: Bearer swt_...``, ``storewatch tokens``) holding the integration's capability
  (``pos.ingest``, ``access.ingest``; role ``integration``): an integration whose records name the site's stores
  (door access) accepts only the token's stores, and quarantines a record of another store with that error.

Status: 200 when at least one record was read (bad records are listed, not fatal: the rest of the batch is
accepted); 400 when nothing could be read; 401 for a missing or wrong signature or token; 403 for a token without
the capability; 413 for a body over the limit; 503 when the database is away (send again: ingest is idempotent).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from storewatch.alerts.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from storewatch.ingest.report import FileReport
from storewatch.pos.records import Quarantined

log = logging.getLogger(__name__)

MAX_ERRORS = 1000
"""Per-record errors listed in a reply at most (all are stored)."""


@dataclass(frozen=True)
class Grant:
    """Who a request acts as and which stores it may send for (None: every store)."""

    caller: str
    stores: frozenset[str] | None = None

    def allows(self, store: str) -> bool:
        return self.stores is None or store in self.stores


class RefusedError(Exception):
    """A request the endpoint will not take: its status (401, 403) and why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


Authorize = Callable[[str, str], Grant]
"""(bearer token, capability) -> the token's ``Grant``; raises ``RefusedError`` (401 unknown, 403 lacking it)."""


class _Stored(Protocol):
    @property
    def store(self) -> str: ...

    @property
    def key(self) -> str: ...


R = TypeVar("R", bound=_Stored)
Rep = TypeVar("Rep", bound=FileReport)


def within(results: Iterable[R | Quarantined], grant: Grant, source: str) -> Iterator[R | Quarantined]:
    """The results, each record of a store the grant does not cover turned into a ``Quarantined`` saying so."""
    for r in results:
        if isinstance(r, Quarantined) or grant.allows(r.store):
            yield r
        else:
            yield Quarantined(source, r.key, "store", f"store {r.store!r} is not one this API token may send for")


def errors_of(quarantined: Iterable[Quarantined]) -> list[dict[str, str]]:
    """The reply's ``errors``: each record that could not be read, where and why (at most ``MAX_ERRORS``)."""
    out: list[dict[str, str]] = []
    for q in quarantined:
        if len(out) >= MAX_ERRORS:
            break
        out.append({"record": q.record, "path": q.path, "error": q.error, "message": str(q)})
    return out


class IngestEndpoint(Generic[Rep]):
    """One integration's endpoint: subclasses give ``capability``, ``what`` (for messages), ``ingest`` and
    ``reply``. ``secret`` None: only API tokens are accepted; ``authorize`` None: only signatures."""

    capability = ""
    record = "record"
    """What one record is (``transaction``, ``event``), for messages."""
    what = "records"
    """What a body may hold, for messages."""

    def __init__(self, secret: str | None, max_body_bytes: int, authorize: Authorize | None = None) -> None:
        self.secret, self.max_body_bytes, self.authorize = secret, max_body_bytes, authorize
        self._count = 0

    def ingest(self, body: bytes, content_type: str | None, source: str, grant: Grant) -> Rep:
        raise NotImplementedError

    def reply(self, report: Rep) -> dict[str, Any]:
        raise NotImplementedError

    def handle(self, body: bytes, headers: Mapping[str, str], peer: str = "http") -> tuple[int, dict[str, Any]]:
        lower = {k.lower(): v for k, v in headers.items()}
        try:
            grant = self._grant(body, lower)
        except RefusedError as exc:
            return exc.status, {"error": exc.message}
        if len(body) > self.max_body_bytes:
            return 413, {"error": f"body of {len(body)} bytes, over the limit of {self.max_body_bytes}"}
        if not body.strip():
            return 400, {"error": f"empty body: send {self.what}"}
        self._count += 1
        source = f"{peer}#{self._count}"
        try:
            report = self.ingest(body, lower.get("content-type"), source, grant)
        except SQLAlchemyError as exc:
            log.warning("%s over http: database unavailable: %s", self.capability, exc)
            return 503, {"error": "the database is unavailable; send again (ingest is idempotent)"}
        reply = self.reply(report)
        if report.accepted == 0:
            return 400, {"error": f"no {self.record} could be read from the body", **reply}
        return 200, reply

    def _grant(self, body: bytes, headers: Mapping[str, str]) -> Grant:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            if self.authorize is None:
                raise RefusedError(401, "API tokens are not accepted here: sign the body with the shared secret")
            return self.authorize(token.strip(), self.capability)
        signature, timestamp = headers.get(SIGNATURE_HEADER.lower()), headers.get(TIMESTAMP_HEADER.lower())
        if self.secret is None or not verify_signature(body, signature, self.secret, timestamp):
            message = "bad or missing signature (X-Storewatch-Signature over <timestamp>.<body>)"
            if self.authorize is not None:
                message += " or API token (Authorization: Bearer)"
            raise RefusedError(401, message)
        return Grant("signed")
