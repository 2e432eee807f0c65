"""The hub's side: applying edge messages to its database, idempotently, whatever transport brought them.

``Ingester.apply(envelope)`` stores what the message carries through the same repositories the edge uses (events by
``EventRepository.upsert_many``, idempotent by event id and never undoing a newer state; incidents whole, the newer
copy winning; alerts into the ``alerts`` table, the higher ``AlertPayload.rank`` winning, so a late copy of a
waiting alert never undoes its acknowledgement; thumbnails into ``hub_thumbnails``, the last one kept; an erasure
removes the hub's copies of a data subject's events, as the store did: rows, thumbnails and fetched files, and
writes an audit row), then, in one more transaction, its bookkeeping: the stream's position (``sync_received``: in
order, after a gap, or late/repeated), the registry of stores and cameras (last heard of, health from ``camera.*``
events, the configuration version each store runs). The data is committed before the bookkeeping, so a crash between
the two only means the message is applied again when it is delivered again: harmless.

Outcomes: ``applied``; ``late`` (at or below the stream's last number: a repeat or a late message, applied anyway
because applying is idempotent, and counted); ``wait`` (an incident naming events the hub does not have yet; the
transport redelivers it later, and with ``may_wait=False`` it is applied without those links); ``refused``
(not a valid message: counted and logged, never retried). Database errors propagate: the transport retries the
same message and does not move on, so each camera's order holds.

One ingester per hub database (its stream bookkeeping assumes a single writer).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TypeVar, cast

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from storewatch.audit.chain import ActorKind, AuditAction
from storewatch.core.events import Event, EventState
from storewatch.incidents.workflow import Incident
from storewatch.retention.files import remove_event_files
from storewatch.store.audit import AuditLog
from storewatch.store.db import Database
from storewatch.store.events import EventRepository
from storewatch.store.incidents import IncidentRepository
from storewatch.store.models import AlertRow, AlertStatus, EventRow
from storewatch.store.retention import RetentionRepository
from storewatch.store.sync_models import HubCameraRow, HubStoreRow, HubThumbnailRow, ReceivedRow
from storewatch.store.types import utcnow
from storewatch.sync.envelope import SOLO_KINDS, Envelope, EnvelopeError, Kind
from storewatch.sync.payloads import (
    AlertPayload,
    ConfigAck,
    ErasurePayload,
    IncidentPayload,
    ThumbnailPayload,
    newer_than,
)

log = logging.getLogger(__name__)

T = TypeVar("T")


class Outcome(StrEnum):
    APPLIED = "applied"
    LATE = "late"
    WAIT = "wait"
    REFUSED = "refused"


class Ingester:
    def __init__(self, database: Database, media_dir: Path | None = None) -> None:
        """``media_dir``: where the hub keeps the evidence files it fetched (an erasure removes them too)."""
        self.db = database
        self.media_dir = media_dir
        self.events = EventRepository(database)
        self.incidents = IncidentRepository(database)
        self.counts: Counter[tuple[str, str]] = Counter()
        """(store, kind or outcome) -> messages, for the hub's report."""

    def apply(self, env: Envelope, *, may_wait: bool = True) -> Outcome:
        try:
            outcome = self._apply(env, may_wait)
        except (EnvelopeError, ValidationError, ValueError) as exc:
            log.error("sync: message %s (%s from %s) refused: %s", env.id, env.kind.value, env.store, exc)
            outcome = Outcome.REFUSED
        self.counts[(env.store, env.kind.value if outcome == Outcome.APPLIED else outcome.value)] += 1
        return outcome

    def apply_run(self, envs: Sequence[Envelope]) -> list[Outcome]:
        """Apply several messages (no incidents) in order in two transactions (their events, then the rest with
        the bookkeeping) instead of two per message: how the hub catches up after an outage. The outcomes are those
        ``apply`` would give one by one; a message that is not valid is refused alone. Should the run's
        transaction refuse one message (``EnvelopeError``), the run is applied again one message at a time."""
        parsed: list[tuple[Envelope, _Parsed]] = []
        outcomes: dict[int, Outcome] = {}
        for i, env in enumerate(envs):
            if env.kind in SOLO_KINDS:
                raise ValueError(f"apply_run takes no {env.kind.value} messages (they are applied one by one)")
            try:
                parsed.append((env, _parse(env)))
            except (EnvelopeError, ValidationError, ValueError) as exc:
                log.error("sync: message %s (%s from %s) refused: %s", env.id, env.kind.value, env.store, exc)
                outcomes[i] = Outcome.REFUSED
        events = [p.event for _, p in parsed if p.event is not None]
        if events:
            self.events.upsert_many(events)
        try:
            with self.db.write_session() as session:
                lates = [self._bookkeep(session, env, p) for env, p in parsed]
        except EnvelopeError as exc:
            log.warning("sync: a run of %d messages refused as a whole (%s); applying them one by one", len(envs), exc)
            return [self.apply(env) for env in envs]
        it = iter(lates)
        result = [outcomes.get(i) or (Outcome.LATE if next(it) else Outcome.APPLIED) for i in range(len(envs))]
        for env, outcome in zip(envs, result, strict=True):
            self.counts[(env.store, env.kind.value if outcome == Outcome.APPLIED else outcome.value)] += 1
        return result

    def _bookkeep(self, session: Session, env: Envelope, p: _Parsed) -> bool:
        """A message's own rows (alert, thumbnail) and its bookkeeping in ``session``; True when late."""
        if p.alert is not None:
            _store_alert(session, p.alert)
        elif p.thumb is not None:
            self._thumbnail(session, env, p.thumb)
        late = self._position(session, env)
        now = utcnow()
        self._store(session, env, p.ack, now)
        if p.event is not None:
            self._camera(session, env.store, str(p.event.camera), now, p.event)
        elif env.camera is not None:
            self._camera(session, env.store, env.camera, now, None)
        for camera in p.ack.cameras if p.ack is not None else ():
            if camera.startswith(f"{env.store}/"):
                self._camera(session, env.store, camera, now, None)
        return late

    def _apply(self, env: Envelope, may_wait: bool) -> Outcome:
        if env.kind == Kind.INCIDENT:
            if not self._incident(env, IncidentPayload.model_validate(env.payload).incident(), may_wait):
                return Outcome.WAIT
            parsed = _Parsed()
        elif env.kind == Kind.ERASURE:
            self._erase(env, ErasurePayload.model_validate(env.payload))
            parsed = _Parsed()
        else:
            parsed = _parse(env)
        if parsed.event is not None:
            self.events.upsert_many([parsed.event])
        with self.db.write_session() as session:  # alerts and thumbnails in the same transaction as the bookkeeping
            late = self._bookkeep(session, env, parsed)
        return Outcome.LATE if late else Outcome.APPLIED

    def _incident(self, env: Envelope, incident: Incident, may_wait: bool) -> bool:
        if incident.store != env.store:
            raise EnvelopeError(f"incident {incident.id} of store {incident.store} sent by store {env.store}")
        with self.db.session() as session:
            query = select(EventRow.id).where(EventRow.id.in_(incident.event_ids))
            known = set(session.scalars(query)) if incident.event_ids else set()
        missing = [e for e in incident.event_ids if e not in known]
        if missing:
            if may_wait:
                return False
            log.warning("sync: incident %s stored without %d event(s) the hub never received: %s", incident.id,
                        len(missing), ", ".join(missing[:5]))  # fmt: skip
            incident = replace(incident, event_ids=tuple(e for e in incident.event_ids if e in known))
        stored = self.incidents.get(incident.id)
        if stored is None:
            self.incidents.save(incident)
        elif newer_than(incident, stored):
            self.incidents.change(incident.id, lambda cur: incident if newer_than(incident, cur) else cur)
        return True

    def _erase(self, env: Envelope, erasure: ErasurePayload) -> None:
        """Remove the store's events named by ``erasure`` (never another store's) with what is only about them
        (alerts, deliveries, thumbnails, fetched files); incidents stay, without those links. Audited."""
        ids: list[str] = []
        with self.db.session() as session:
            for start in range(0, len(erasure.event_ids), 500):
                chunk = erasure.event_ids[start : start + 500]
                ids += session.scalars(select(EventRow.id).where(EventRow.id.in_(chunk), EventRow.store == env.store))
        removed = RetentionRepository(self.db).remove_events(ids)
        files = remove_event_files(self.media_dir, set(ids)) if self.media_dir is not None and ids else 0
        AuditLog(self.db).record(
            f"store {env.store}", ActorKind.SYSTEM, AuditAction.SUBJECT_REQUEST, store=env.store,
            target=erasure.request[:200],
            detail={"kind": "erase", "reference": erasure.request, "from_store": env.store, "message": env.id,
                    "asked": len(erasure.event_ids), "events": len(ids), "files": files,
                    "rows": {k.value: v for k, v in removed.items()}},
        )  # fmt: skip

    @staticmethod
    def _thumbnail(session: Session, env: Envelope, thumb: ThumbnailPayload) -> None:
        assert env.camera is not None
        row = session.get(HubThumbnailRow, thumb.event_id, with_for_update=True)
        if row is None:
            row = HubThumbnailRow(event_id=thumb.event_id)
            session.add(row)
        elif row.store != env.store:
            raise EnvelopeError(f"thumbnail of event {thumb.event_id} of store {row.store} sent by {env.store}")
        row.store, row.camera, row.width, row.height = env.store, env.camera, thumb.width, thumb.height
        row.jpeg, row.received_utc = thumb.data(), utcnow()

    @staticmethod
    def _position(session: Session, env: Envelope) -> bool:
        """Record the message's place in its stream; True when it is late or repeated."""
        store, camera = env.stream
        row = _locked(session, ReceivedRow, (store, camera))
        if row is None:
            row = _keep(session, ReceivedRow(store=store, camera=camera, last_seq=0, received=0, gaps=0, late=0),
                        (store, camera))  # fmt: skip
        row.updated_utc = utcnow()
        if env.seq <= row.last_seq:
            row.late += 1
            return True
        if env.seq > row.last_seq + 1:
            row.gaps += 1
            log.warning("sync: stream %s/%s jumped from %d to %d (messages missing or still to come)", store,
                        camera or "-", row.last_seq, env.seq)  # fmt: skip
        row.last_seq = env.seq
        row.received += 1
        return False

    @staticmethod
    def _store(session: Session, env: Envelope, ack: ConfigAck | None, now: datetime) -> None:
        row = _locked(session, HubStoreRow, env.store)
        if row is None:
            row = _keep(session, HubStoreRow(id=env.store, first_seen_utc=now, config_ok=True), env.store)
        row.last_seen_utc = now
        if ack is not None and (row.config_acked_utc is None or env.created_utc >= row.config_acked_utc):
            row.config_version, row.config_ok, row.config_error = ack.version, ack.ok, ack.error
            row.config_acked_utc = env.created_utc

    @staticmethod
    def _camera(session: Session, store: str, camera: str, now: datetime, event: Event | None) -> None:
        row = _locked(session, HubCameraRow, (store, camera))
        if row is None:
            row = _keep(session, HubCameraRow(store=store, camera=camera, health="ok", health_reason="",
                                              first_seen_utc=now), (store, camera))  # fmt: skip
        row.last_seen_utc = now
        if event is None:
            return
        at = event.end_utc or event.start_utc
        row.last_event_utc = at if row.last_event_utc is None else max(row.last_event_utc, at)
        health = camera_health(event)
        if health is not None and (row.health_since_utc is None or at >= row.health_since_utc):
            row.health, row.health_reason, row.health_since_utc = health, event.explanation[:500], at


@dataclass(frozen=True, slots=True)
class _Parsed:
    event: Event | None = None
    alert: AlertPayload | None = None
    thumb: ThumbnailPayload | None = None
    ack: ConfigAck | None = None


def _parse(env: Envelope) -> _Parsed:
    """What a message (not an incident) carries, checked."""
    if env.kind in (Kind.EVENT, Kind.HEALTH):
        return _Parsed(event=env.event())
    if env.kind == Kind.ALERT:
        alert = AlertPayload.model_validate(env.payload)
        if alert.store != env.store or alert.camera != env.camera:
            raise EnvelopeError(f"alert {alert.id} of {alert.camera} sent as {env.camera} by store {env.store}")
        return _Parsed(alert=alert)
    if env.kind == Kind.THUMBNAIL:
        return _Parsed(thumb=ThumbnailPayload.model_validate(env.payload))
    return _Parsed(ack=ConfigAck.model_validate(env.payload))


def store_alert(database: Database, alert: AlertPayload) -> bool:
    """Store an alert's state unless the hub has the same or a later one; whether it changed anything."""
    with database.write_session() as session:
        return _store_alert(session, alert)


def _store_alert(session: Session, alert: AlertPayload) -> bool:
    row = session.get(AlertRow, alert.id, with_for_update=True)
    if row is None:
        row = AlertRow(id=alert.id)
        session.add(row)
    elif _alert_rank(row) >= alert.rank:
        return False  # a late or repeated copy: the newer state stays
    row.event_id, row.route, row.store, row.camera = alert.event_id, alert.route, alert.store, alert.camera
    row.event_type, row.severity = alert.event_type, alert.severity
    row.status, row.level = alert.status, alert.level
    row.raised_utc, row.last_sent_utc = alert.raised, alert.last_sent
    row.acknowledged_utc, row.acknowledged_by = alert.acknowledged, alert.acknowledged_by
    row.time_to_ack_s, row.false_alarm_reason = alert.time_to_ack_s, alert.false_alarm_reason
    return True


def _locked(session: Session, model: type[T], key: object) -> T | None:
    """The row of ``model`` with primary key ``key``, locked (``FOR UPDATE``) once per transaction: the messages of
    a run share their stream's, store's and camera's rows instead of reading them again each."""
    cache: dict[tuple[type, object], object] = session.info.setdefault("locked", {})
    if (model, key) not in cache:
        cache[(model, key)] = session.get(model, key, with_for_update=True)
    found = cache[(model, key)]
    return None if found is None else cast(T, found)


def _keep(session: Session, row: T, key: object) -> T:
    """Add a new row and remember it as locked (see ``_locked``)."""
    session.add(row)
    session.info.setdefault("locked", {})[(type(row), key)] = row
    return row


def _alert_rank(row: AlertRow) -> tuple[int, int, datetime]:
    """``AlertPayload.rank`` of a stored alert."""
    final = row.status != AlertStatus.WAITING
    return int(final), row.level, row.last_sent_utc or row.raised_utc


def camera_health(event: Event) -> str | None:
    """What a ``camera.*`` event says of its camera's health (None: nothing).

    >>> from datetime import UTC, datetime
    >>> e = Event.start("camera.offline", "s1/c1", datetime(2026, 1, 1, tzinfo=UTC), "no frames")
    >>> camera_health(e), camera_health(e.end(datetime(2026, 1, 1, 0, 5, tzinfo=UTC)))
    ('offline', 'ok')
    """
    if event.type == "camera.offline":
        return "ok" if event.state == EventState.ENDED else "offline"
    if event.type.startswith("camera.tampering."):
        return "ok" if event.state == EventState.ENDED else "tampering"
    return None
