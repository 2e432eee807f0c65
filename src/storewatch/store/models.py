"""The database schema as typed SQLAlchemy 2 ORM classes: events, alerts, incidents and their logs.

One table per concept. ``events`` holds one row per event id (its started/updated/ended messages merged);
``alerts`` one row per event x route/recipient; ``deliveries`` one row per alert message to a channel, with every
try in ``delivery_attempts`` (rows in status ``dead`` are the dead-letter list); ``action_log`` the deterrents and
their outcomes; ``incidents`` the case a person works, linked to its events, with an append-only
``incident_timeline`` and ``custody_log`` (who created, viewed or exported evidence, when).

Ids: events keep the id their source made; alerts, incidents and deliveries get a random hex id from their owner
(no database counters, so rows from many stores merge in a hub); the two append-only logs use an integer key.
All times are timezone-aware UTC (``UTCDateTime``); free-form maps and lists are JSON.

The schema is created by the Alembic migrations in ``storewatch.store.migrations``, never by ``create_all``;
a test proves the two agree on SQLite and PostgreSQL.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storewatch.alerts.log import DeliveryStatus
from storewatch.core.events import EventState, Severity
from storewatch.incidents.workflow import IncidentState
from storewatch.store.types import JSONType, StrEnumType, UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# An auto-incrementing 64-bit key; SQLite only auto-increments a column typed exactly INTEGER.
LogId = BigInteger().with_variant(Integer(), "sqlite")


def new_id() -> str:
    """A random 32-character hex id (for alerts, incidents, deliveries)."""
    return uuid.uuid4().hex


class AlertStatus(StrEnum):
    WAITING = "waiting"
    """Raised, nobody has acknowledged it yet (escalation runs)."""
    ACKNOWLEDGED = "acknowledged"
    FALSE_ALARM = "false_alarm"
    """Acknowledged as not what it looked like (with the reason)."""


class CustodyAction(StrEnum):
    CREATED = "created"
    VIEWED = "viewed"
    EXPORTED = "exported"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class EventRow(Base):
    """One event: its messages merged by id (see ``storewatch.store.merge``)."""

    __tablename__ = "events"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    type: Mapped[str] = mapped_column(String(128))
    severity: Mapped[Severity] = mapped_column(StrEnumType(Severity))
    state: Mapped[EventState] = mapped_column(StrEnumType(EventState))
    store: Mapped[str] = mapped_column(String(64))
    camera: Mapped[str] = mapped_column(String(128), doc="Namespaced: store/camera.")
    zone: Mapped[str | None] = mapped_column(String(128))
    track_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)
    start_utc: Mapped[datetime] = mapped_column(UTCDateTime())
    end_utc: Mapped[datetime | None] = mapped_column(UTCDateTime())
    start_s: Mapped[float | None] = mapped_column(Float)
    end_s: Mapped[float | None] = mapped_column(Float)
    values: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    explanation: Mapped[str] = mapped_column(String(500))
    evidence: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    stored_utc: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, doc="First written.")
    updated_utc: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, doc="Last changed.")

    __table_args__ = (
        Index("ix_events_start_utc", "start_utc"),
        Index("ix_events_store_start_utc", "store", "start_utc"),
        Index("ix_events_camera_start_utc", "camera", "start_utc"),
        Index("ix_events_type_start_utc", "type", "start_utc"),
    )


class AlertRow(Base):
    """One alert: an event sent along one route, climbing its escalation levels until someone acknowledges it.
    No foreign key to ``events``: the alert is raised when its event starts, before the writer stores the event."""

    __tablename__ = "alerts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    event_id: Mapped[str] = mapped_column(String(128))
    route: Mapped[str] = mapped_column(String(80), doc="Name of the route that matched.")
    store: Mapped[str] = mapped_column(String(64))
    camera: Mapped[str] = mapped_column(String(128))
    event_type: Mapped[str] = mapped_column(String(128))
    severity: Mapped[Severity] = mapped_column(StrEnumType(Severity))
    status: Mapped[AlertStatus] = mapped_column(StrEnumType(AlertStatus), default=AlertStatus.WAITING)
    level: Mapped[int] = mapped_column(Integer, default=0, doc="Escalation level reached (0: the first).")
    raised_utc: Mapped[datetime] = mapped_column(UTCDateTime())
    last_sent_utc: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_utc: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(128))
    time_to_ack_s: Mapped[float | None] = mapped_column(Float)
    false_alarm_reason: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (
        UniqueConstraint("event_id", "route"),
        Index("ix_alerts_status_raised_utc", "status", "raised_utc"),
        Index("ix_alerts_store_raised_utc", "store", "raised_utc"),
    )


class UserRow(Base):
    """A dashboard account, scoped to stores (``["*"]``: all)."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128), default="")
    password_hash: Mapped[str] = mapped_column(String(256), doc="argon2 hash; never the password.")
    role: Mapped[str] = mapped_column(String(32))
    stores: Mapped[list[str]] = mapped_column(JSONType, default=list)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_utc: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_utc: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, doc="Wrong passwords since the last lockout.")
    locked_until_utc: Mapped[datetime | None] = mapped_column(UTCDateTime(), doc="No login before this time.")
    session_version: Mapped[int] = mapped_column(Integer, default=0, doc="Raised to end every session.")


class DeliveryRow(Base):
    """One alert message to one channel across its attempts (``alerts.log.Delivery``); ``dead`` rows are the
    dead-letter list. No foreign key to ``events``: a delivery is written before the event's row may be."""

    __tablename__ = "deliveries"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    channel: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str] = mapped_column(String(128), index=True)
    status: Mapped[DeliveryStatus] = mapped_column(StrEnumType(DeliveryStatus), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0, doc="Attempts in the current round.")
    due_utc: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    message: Mapped[dict[str, Any]] = mapped_column(JSONType, doc="The AlertMessage, as JSON.")
    created_utc: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_utc: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_deliveries_channel_status_due_utc", "channel", "status", "due_utc"),)


class DeliveryAttemptRow(Base):
    """One try of a delivery (append-only)."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(LogId, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer, doc="From 1 within a round; a re-send starts a new round.")
    at_utc: Mapped[datetime] = mapped_column(UTCDateTime())
    ok: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)


class ActionLogRow(Base):
    """One deterrent action (HTTP request, MQTT command, audio, public-view monitor) and its outcome."""

    __tablename__ = "action_log"

    id: Mapped[int] = mapped_column(LogId, primary_key=True, autoincrement=True)
    action: Mapped[str] = mapped_column(String(64), doc="The action's name in the site file.")
    kind: Mapped[str] = mapped_column(String(16), doc="http, mqtt, audio, pvm.")
    camera: Mapped[str | None] = mapped_column(String(128))
    event_id: Mapped[str | None] = mapped_column(String(128))
    at_utc: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), doc="done, failed, or skipped (cool-down, schedule).")
    outcome: Mapped[str] = mapped_column(Text, default="", doc="What happened, e.g. 'HTTP 200' or the error.")
    duration_s: Mapped[float | None] = mapped_column(Float)

    __table_args__ = (
        Index("ix_action_log_at_utc", "at_utc"),
        Index("ix_action_log_action_at_utc", "action", "at_utc"),
    )


class IncidentRow(Base):
    """A case a person works: open -> acknowledged -> investigating -> resolved | false_alarm."""

    __tablename__ = "incidents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    store: Mapped[str] = mapped_column(String(64))
    camera: Mapped[str | None] = mapped_column(String(128))
    zone: Mapped[str | None] = mapped_column(String(128))
    title: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[IncidentState] = mapped_column(StrEnumType(IncidentState), default=IncidentState.OPEN)
    assignee: Mapped[str | None] = mapped_column(String(128))
    notes: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    loss_value_minor: Mapped[int | None] = mapped_column(BigInteger, doc="Loss in minor units (cents); exact.")
    loss_currency: Mapped[str | None] = mapped_column(String(3), doc="ISO 4217 code, e.g. EUR.")
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    false_alarm_reason: Mapped[str | None] = mapped_column(String(500), doc="Why it was not what it looked like.")
    created_utc: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_utc: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_utc: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_incidents_store_state_created_utc", "store", "state", "created_utc"),
        Index("ix_incidents_created_utc", "created_utc"),
    )


class IncidentEventRow(Base):
    """Which events an incident is about (many to many)."""

    __tablename__ = "incident_events"

    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), primary_key=True, index=True)
    linked_utc: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TimelineRow(Base):
    """An entry of an incident's timeline: state changes, notes, assignments (append-only)."""

    __tablename__ = "incident_timeline"

    id: Mapped[int] = mapped_column(LogId, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    at_utc: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32), doc="state, note, assign, link, tag, ...")
    text: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (Index("ix_incident_timeline_incident_id_at_utc", "incident_id", "at_utc"),)


class CustodyRow(Base):
    """Chain of custody of an incident's evidence (append-only; an incident with entries cannot be deleted)."""

    __tablename__ = "custody_log"

    id: Mapped[int] = mapped_column(LogId, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id", ondelete="RESTRICT"))
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[CustodyAction] = mapped_column(StrEnumType(CustodyAction))
    at_utc: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, doc="e.g. path, sha256, export target.")

    __table_args__ = (Index("ix_custody_log_incident_id_at_utc", "incident_id", "at_utc"),)
