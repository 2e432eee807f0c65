"""Tables of hub-and-edge sync (``storewatch.sync``), on the same ``Base`` metadata as ``models``.

At an edge: ``sync_outbox`` holds every message to send to the hub, in the order it was made, until the transport
has it acknowledged (then ``sent``; ``dead`` when the hub's side refuses it for good); ``sync_sequences`` the last
sequence number given in each (store, camera) stream (the outbox's sent rows are pruned, the numbering goes on);
``sync_incidents`` what was last sent of each incident (incidents change from several processes, so the edge
compares instead of listening), ``sync_alerts`` the same for alerts; ``edge_config`` the configuration
version the hub pushed, kept across restarts.

At a hub: ``sync_received`` the last sequence applied per (store, camera) stream with counters of gaps and late or
repeated messages; ``hub_stores`` and ``hub_cameras`` the registry of what was seen (health, configuration
version each store runs); ``hub_configs`` every configuration version pushed to a store; ``hub_thumbnails`` the
small privacy-protected JPEG each event's snapshot travelled as.

A database has all of them (one schema, one migration chain); an edge leaves the hub's empty and vice versa.
``camera`` is ``""`` for a store's own stream (incidents, configuration acknowledgements).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Boolean, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storewatch.store.models import Base, LogId
from storewatch.store.types import JSONType, StrEnumType, UTCDateTime, utcnow


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"
    """Refused for good (e.g. larger than the server takes); kept for inspection, never retried."""


class OutboxRow(Base):
    """One message for the hub, numbered within its (store, camera) stream."""

    __tablename__ = "sync_outbox"

    id: Mapped[int] = mapped_column(LogId, primary_key=True, autoincrement=True, doc="Send order.")
    msg_id: Mapped[str] = mapped_column(String(32), unique=True, doc="The envelope id (de-duplication key).")
    kind: Mapped[str] = mapped_column(String(16))
    store: Mapped[str] = mapped_column(String(64))
    camera: Mapped[str] = mapped_column(String(128), doc="Namespaced camera id, or '' for the store's stream.")
    seq: Mapped[int] = mapped_column(BigInteger)
    created_utc: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[OutboxStatus] = mapped_column(StrEnumType(OutboxStatus), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_utc: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_sync_outbox_status_id", "status", "id"),
        Index("ix_sync_outbox_store_camera_seq", "store", "camera", "seq", unique=True),
    )


class SequenceRow(Base):
    """The last sequence number an edge gave in one stream."""

    __tablename__ = "sync_sequences"

    store: Mapped[str] = mapped_column(String(64), primary_key=True)
    camera: Mapped[str] = mapped_column(String(128), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class SyncedIncidentRow(Base):
    """What an edge last put in the outbox for an incident (its fingerprint: state, timeline length, update)."""

    __tablename__ = "sync_incidents"

    incident_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(128))
    synced_utc: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SyncedAlertRow(Base):
    """What an edge last put in the outbox for an alert (its fingerprint: status, level, acknowledgement)."""

    __tablename__ = "sync_alerts"

    alert_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(160))
    synced_utc: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class EdgeConfigRow(Base):
    """The configuration version an edge received for its store, and whether it runs it."""

    __tablename__ = "edge_config"

    store: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    config: Mapped[dict[str, Any]] = mapped_column(JSONType, doc="The LiveConfig, as JSON.")
    received_utc: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    applied_utc: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text, doc="Why it was not applied (the edge runs the previous one).")


class ReceivedRow(Base):
    """At the hub: the last sequence number applied from one stream, and how the stream behaved."""

    __tablename__ = "sync_received"

    store: Mapped[str] = mapped_column(String(64), primary_key=True)
    camera: Mapped[str] = mapped_column(String(128), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    received: Mapped[int] = mapped_column(BigInteger, default=0, doc="Messages applied in order or after a gap.")
    gaps: Mapped[int] = mapped_column(BigInteger, default=0, doc="Times a message came after a missing one.")
    late: Mapped[int] = mapped_column(BigInteger, default=0, doc="Messages at or below last_seq (repeats, late).")
    updated_utc: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class HubStoreRow(Base):
    """A store the hub has heard from, and the configuration version it says it runs."""

    __tablename__ = "hub_stores"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    first_seen_utc: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_utc: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    config_version: Mapped[int | None] = mapped_column(Integer, doc="Version running (0: the site file's).")
    config_ok: Mapped[bool] = mapped_column(Boolean, default=True, doc="False: the newest version was refused.")
    config_error: Mapped[str | None] = mapped_column(Text)
    config_acked_utc: Mapped[datetime | None] = mapped_column(UTCDateTime())


class HubCameraRow(Base):
    """A camera of a store, as the hub knows it: health and when it was last heard of."""

    __tablename__ = "hub_cameras"

    store: Mapped[str] = mapped_column(String(64), primary_key=True)
    camera: Mapped[str] = mapped_column(String(128), primary_key=True, doc="Namespaced: store/camera.")
    health: Mapped[str] = mapped_column(String(16), default="ok", doc="ok, offline or tampering.")
    health_reason: Mapped[str] = mapped_column(String(500), default="")
    health_since_utc: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_seen_utc: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_utc: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_event_utc: Mapped[datetime | None] = mapped_column(UTCDateTime())


class HubConfigRow(Base):
    """One configuration version pushed to a store (append-only; the newest is what the store should run)."""

    __tablename__ = "hub_configs"

    store: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSONType, doc="The LiveConfig, as JSON.")
    created_utc: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(128), default="")


class HubThumbnailRow(Base):
    """At the hub: the thumbnail of an event's snapshot (already privacy-protected at the edge), a small JPEG."""

    __tablename__ = "hub_thumbnails"

    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    store: Mapped[str] = mapped_column(String(64))
    camera: Mapped[str] = mapped_column(String(128))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    jpeg: Mapped[bytes] = mapped_column(LargeBinary)
    received_utc: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_hub_thumbnails_store", "store"),)
