"""The audit log's hash chain: what a row is, how it is encoded and hashed, and how a chain is checked.

Each row's ``hash`` is SHA-256 over a canonical encoding of the row (sequence number, time, actor, action, store,
target, detail) followed by the ``prev_hash`` of the row before it, so changing, removing or moving any row breaks
every link after it. The encoding is JSON with sorted keys, no spaces, ASCII only and times as
``YYYY-MM-DDTHH:MM:SS.ffffffZ``: the same bytes on every backend and Python version. ``detail`` is stored as that
same canonical JSON text (not as a database JSON value, which PostgreSQL would re-encode), so what is hashed is
exactly what is stored.

``check_chain`` walks rows in ``seq`` order and names the first problem: a row whose content no longer matches its
hash (edited), a gap in the sequence (removed), a row whose link points at another row of the chain (reordered).
A chain may start after 1 when retention removed its oldest rows: the purge is itself a row (``retention_purge``)
that records the last removed row's number and hash, which is where the remaining chain must start.

>>> import dataclasses
>>> from datetime import UTC, datetime
>>> t = datetime(2026, 3, 1, 12, tzinfo=UTC)
>>> a = seal(AuditRecord(t, "ana", ActorKind.USER, AuditAction.LOGIN_OK), 1, GENESIS)
>>> b = seal(AuditRecord(t, "ana", ActorKind.USER, AuditAction.VIEW, "s1", "incident:i1"), 2, a.hash)
>>> check_chain([a, b]).ok
True
>>> edited = dataclasses.replace(b, target="incident:i2")
>>> check_chain([a, edited]).problem.describe()
'row 2 was edited: its content no longer matches its hash'
>>> check_chain([b]).problem.describe()
'row 1 is missing: the chain starts at row 2 and no retention purge removed rows before it'
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

GENESIS = "0" * 64
"""The ``prev_hash`` of the first row ever written."""


class ActorKind(StrEnum):
    USER = "user"
    """A dashboard account."""
    TOKEN = "token"
    """An API token or a signed link (e.g. an alert's acknowledge link)."""
    CLI = "cli"
    """A person at the command line (``--by``, default the login name)."""
    SYSTEM = "system"
    """storewatch itself (retention, the runner)."""


class AuditAction(StrEnum):
    LOGIN_OK = "login_ok"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    USER_CHANGE = "user_change"
    """An account created, edited (role, stores), disabled, enabled, unlocked, or its password reset or changed."""
    TOKEN_CHANGE = "token_change"
    """An API token created or revoked."""
    VIEW = "view"
    """Personal data looked at: an incident, an alert, an evidence file, the audit log itself."""
    SEARCH = "search"
    """A filtered list of events, alerts or incidents."""
    EXPORT = "export"
    """Data taken out: an evidence pack, a case export, the audit log."""
    UNBLUR = "unblur"
    """A clip watched as recorded, faces visible, by a role allowed to, with the reason typed."""
    CONFIG_CHANGE = "config_change"
    ACK = "ack"
    """An alert acknowledged or called a false alarm."""
    INCIDENT_CHANGE = "incident_change"
    """An incident moved along its workflow, noted, assigned, tagged, or its loss recorded."""
    LEGAL_HOLD = "legal_hold"
    """A legal hold placed or released: retention keeps (or no longer keeps) the incident's evidence."""
    RETENTION_PURGE = "retention_purge"
    SUBJECT_REQUEST = "subject_request"
    """A data subject's request handled: find, export or erase (``storewatch privacy subject``)."""
    VERIFY = "verify"
    """An evidence pack checked against its manifest (``storewatch incidents verify``): its SHA-256, the result."""


def canonical_time(t: datetime) -> str:
    """``t`` in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (naive times are refused).

    >>> from datetime import timedelta, timezone
    >>> canonical_time(datetime(2026, 3, 1, 13, tzinfo=timezone(timedelta(hours=1))))
    '2026-03-01T12:00:00.000000Z'
    """
    if t.utcoffset() is None:
        raise ValueError(f"naive datetime {t!r}: audit times must carry a time zone (UTC)")
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Any) -> str:
    """The one JSON text of ``value``: sorted keys, no spaces, ASCII; NaN and infinities are refused.

    >>> canonical_json({"b": [1, 2.5], "a": "é"})
    '{"a":"\\\\u00e9","b":[1,2.5]}'
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """What is to be recorded (the log gives it its number and hashes)."""

    at: datetime
    actor: str
    actor_kind: ActorKind
    action: AuditAction
    store: str | None = None
    target: str | None = None
    """What was acted on, as ``kind:id`` (``incident:ab12``, ``media:s1/door/2026-03-01/e1.jpg``, ``site``)."""
    detail: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.actor or len(self.actor) > 128:
            raise ValueError(f"audit actor must be 1-128 characters, not {self.actor!r}")
        if self.target is not None and len(self.target) > 600:
            raise ValueError("audit target is at most 600 characters")
        if self.store is not None and len(self.store) > 64:
            raise ValueError("audit store is at most 64 characters")
        canonical_time(self.at)
        canonical_json(dict(self.detail))


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """A stored row of the log."""

    seq: int
    at: datetime
    actor: str
    actor_kind: str
    """An ``ActorKind`` value (kept as stored: a tampered value must still be checkable)."""
    action: str
    """An ``AuditAction`` value (as stored)."""
    store: str | None
    target: str | None
    detail: str
    """Canonical JSON text."""
    prev_hash: str
    hash: str

    @property
    def details(self) -> dict[str, Any]:
        try:
            parsed = json.loads(self.detail)
        except ValueError:
            return {"unreadable": self.detail[:200]}
        return parsed if isinstance(parsed, dict) else {"value": parsed}

    def public(self) -> dict[str, Any]:
        """JSON-ready, for listings and exports."""
        return {
            "seq": self.seq, "at_utc": canonical_time(self.at), "actor": self.actor,
            "actor_kind": self.actor_kind, "action": self.action, "store": self.store,
            "target": self.target, "detail": self.details, "prev_hash": self.prev_hash, "hash": self.hash,
        }  # fmt: skip


def row_hash(seq: int, at: datetime, actor: str, actor_kind: str, action: str, store: str | None,
             target: str | None, detail: str, prev_hash: str) -> str:  # fmt: skip
    """SHA-256 (hex) of the row's canonical encoding followed by the previous row's hash."""
    body = canonical_json(
        {"seq": seq, "at": canonical_time(at), "actor": actor, "actor_kind": str(actor_kind), "action": str(action),
         "store": store, "target": target, "detail": detail}
    )  # fmt: skip
    return hashlib.sha256(f"{body}\n{prev_hash}".encode("ascii")).hexdigest()


def seal(record: AuditRecord, seq: int, prev_hash: str) -> AuditEntry:
    """The entry ``record`` becomes as row ``seq`` after the row whose hash is ``prev_hash``."""
    detail = canonical_json(dict(record.detail))
    at = record.at.astimezone(UTC)
    digest = row_hash(seq, at, record.actor, record.actor_kind, record.action, record.store, record.target, detail,
                      prev_hash)  # fmt: skip
    return AuditEntry(seq, at, record.actor, record.actor_kind.value, record.action.value, record.store,
                      record.target, detail, prev_hash, digest)  # fmt: skip


def content_matches(entry: AuditEntry, seq: int | None = None) -> bool:
    """Whether the entry's content (with ``seq`` in place of its own, if given) gives its stored hash."""
    computed = row_hash(entry.seq if seq is None else seq, entry.at, entry.actor, entry.actor_kind, entry.action,
                        entry.store, entry.target, entry.detail, entry.prev_hash)  # fmt: skip
    return computed == entry.hash


class ProblemKind(StrEnum):
    EDITED = "edited"
    REMOVED = "removed"
    REORDERED = "reordered"
    BROKEN = "broken"
    """A link that fits no explanation above (rows inserted, or the chain rewritten from here)."""
    ANCHOR = "anchor"
    """A head hash written down earlier is not in the chain any more."""


@dataclass(frozen=True, slots=True)
class ChainProblem:
    kind: ProblemKind
    seq: int
    """The row the problem is at (for a removal: the first missing row)."""
    text: str

    def describe(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class ChainStart:
    """Where the chain begins: row 1 after ``GENESIS``, or after the last row a retention purge removed."""

    seq: int = 1
    prev_hash: str = GENESIS
    purged: bool = False


@dataclass(frozen=True, slots=True)
class ChainReport:
    rows: int
    head: AuditEntry | None
    start: ChainStart
    problem: ChainProblem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def purge_start(entries: Iterable[AuditEntry]) -> ChainStart:
    """The chain's start from its ``retention_purge`` rows: after the highest row any of them says it removed."""
    start = ChainStart()
    for entry in entries:
        audit = entry.details.get("audit") if entry.action == AuditAction.RETENTION_PURGE else None
        if not isinstance(audit, dict) or not isinstance(audit.get("through_seq"), int):
            continue
        if audit["through_seq"] + 1 > start.seq and isinstance(audit.get("through_hash"), str):
            start = ChainStart(audit["through_seq"] + 1, audit["through_hash"], purged=True)
    return start


MOVE_WINDOW = 10_000
"""How far from its place a moved row is looked for (that many hashes, at the first problem only)."""


def check_chain(entries: Iterable[AuditEntry], start: ChainStart | None = None) -> ChainReport:
    """Walk ``entries`` (in ``seq`` order) from ``start`` and report the first problem."""
    begin = start or ChainStart()
    expected_seq, expected_prev = begin.seq, begin.prev_hash
    rows, head = 0, None
    for entry in entries:
        problem = _check(entry, expected_seq, expected_prev, begin)
        if problem is not None:
            return ChainReport(rows, head, begin, problem)
        rows, head = rows + 1, entry
        expected_seq, expected_prev = entry.seq + 1, entry.hash
    return ChainReport(rows, head, begin)


def _check(entry: AuditEntry, seq: int, prev: str, begin: ChainStart) -> ChainProblem | None:
    if entry.seq > seq:
        span = f"row {seq}" if entry.seq == seq + 1 else f"rows {seq} to {entry.seq - 1}"
        if seq == begin.seq and seq == 1 and not begin.purged:
            text = (
                f"row 1 is missing: the chain starts at row {entry.seq} and no retention purge removed rows before it"
            )
        elif seq == begin.seq:
            text = f"{span} missing: the chain should start at row {seq} (after the last retention purge)"
        else:
            text = f"{span} {'is' if entry.seq == seq + 1 else 'are'} missing (removed)"
        return ChainProblem(ProblemKind.REMOVED, seq, text)
    if entry.seq < seq:  # only when entries are not from the log (ordered by seq, unique)
        return ChainProblem(ProblemKind.REORDERED, entry.seq, f"row {entry.seq} comes after row {seq - 1}")
    content_ok = content_matches(entry)
    if content_ok and entry.prev_hash == prev:
        return None
    if not content_ok:
        written = _written_as(entry)
        if written is not None:
            return ChainProblem(ProblemKind.REORDERED, seq, f"row {seq} was moved: it was written as row {written}")
    if not content_ok:
        return ChainProblem(ProblemKind.EDITED, seq, f"row {seq} was edited: its content no longer matches its hash")
    return ChainProblem(
        ProblemKind.BROKEN, seq, f"row {seq} does not follow row {seq - 1}: a row was removed or inserted before it"
    )


def _written_as(entry: AuditEntry) -> int | None:
    """The row number under which ``entry``'s content gives its hash, near its place (None: not found)."""
    for distance in range(1, MOVE_WINDOW):
        for seq in (entry.seq - distance, entry.seq + distance):
            if seq >= 1 and content_matches(entry, seq):
                return seq
    return None
