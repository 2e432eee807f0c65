"""Tables of door access (``storewatch.access``), on the same ``Base`` metadata as ``models``.

``access_events``: one row per badge read or door-state change, keyed by a hash of its identity (store, door,
kind, time, badge): a re-sent event is stored once. ``access_exceptions``: the rules' findings by stable id.
``access_quarantine``: every record that could not be read, with its error and raw text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storewatch.store.models import Base
from storewatch.store.types import JSONType, UTCDateTime, utcnow


class AccessEventRow(Base):
    __tablename__ = "access_events"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, doc="sha256 of store/door/kind/time/badge")
    store: Mapped[str] = mapped_column(String(64))
    door: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    badge: Mapped[str | None] = mapped_column(String(64))
    person: Mapped[str | None] = mapped_column(String(120))
    result: Mapped[str | None] = mapped_column(String(16))
    at_utc: Mapped[datetime] = mapped_column(UTCDateTime())
    source: Mapped[str] = mapped_column(String(300), default="")
    received_utc: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_access_events_store_door_at_utc", "store", "door", "at_utc"),)


class AccessExceptionRow(Base):
    __tablename__ = "access_exceptions"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    store: Mapped[str] = mapped_column(String(64))
    door: Mapped[str] = mapped_column(String(64))
    at_utc: Mapped[datetime] = mapped_column(UTCDateTime())
    badge: Mapped[str | None] = mapped_column(String(64))
    person: Mapped[str | None] = mapped_column(String(120))
    values: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    explanation: Mapped[str] = mapped_column(String(500))
    camera: Mapped[str | None] = mapped_column(String(128))
    clip_start_utc: Mapped[datetime | None] = mapped_column(UTCDateTime())
    clip_end_utc: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_utc: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_access_exceptions_store_at_utc", "store", "at_utc"),)


class AccessQuarantineRow(Base):
    __tablename__ = "access_quarantine"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(500))
    record: Mapped[str] = mapped_column(String(300))
    path: Mapped[str] = mapped_column(String(300))
    error: Mapped[str] = mapped_column(Text)
    raw: Mapped[str | None] = mapped_column(Text)
    received_utc: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_access_quarantine_received_utc", "received_utc"),)
