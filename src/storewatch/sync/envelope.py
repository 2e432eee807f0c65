"""The sync message: one versioned envelope for everything an edge sends its hub.

``storewatch.sync/1``: ``id`` (random hex, made once when the message enters the edge's outbox and kept on every
re-send: the de-duplication key of JetStream and of the HTTP endpoint), ``kind`` (``event``, ``incident``,
``health``, ``config_ack``, ``alert``, ``thumbnail``, ``erasure``), ``store``, ``camera`` (namespaced
``store/camera``; None for the store's own stream: incidents, configuration acknowledgements, erasures), ``seq`` (1,
2, 3... within the (store, camera) stream, so the hub can keep order and see gaps), ``created_utc`` (when the edge
made it), ``sent_utc`` (this attempt) and ``payload`` (the kind's JSON object). New optional fields may be added
within version 1; none is renamed or removed.

On NATS an envelope travels on ``storewatch.<store>.<kind>``.

>>> from datetime import UTC, datetime
>>> t = datetime(2026, 3, 2, 12, tzinfo=UTC)
>>> env = Envelope(id="ab12", kind=Kind.EVENT, store="s1", camera="s1/door", seq=7, created_utc=t, sent_utc=t,
...                payload={"id": "e1"})
>>> env.subject, env.stream
('storewatch.s1.event', ('s1', 's1/door'))
>>> Envelope.parse(env.to_json()) == env
True
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from storewatch.core.events import Event
from storewatch.core.ids import is_slug
from storewatch.errors import StorewatchError

SCHEMA = "storewatch.sync/1"
SUBJECT_PREFIX = "storewatch"
MAX_BODY_BYTES = 900_000
"""Bigger envelopes are refused at the edge (NATS takes 1 MiB a message by default)."""


class Kind(StrEnum):
    EVENT = "event"
    INCIDENT = "incident"
    HEALTH = "health"
    """A camera's health changed: the payload is a ``camera.*`` event."""
    CONFIG_ACK = "config_ack"
    """Which configuration version the edge runs (or why it refused a new one)."""
    ALERT = "alert"
    """An alert's state (raised, escalated, acknowledged or called a false alarm): ``payloads.AlertPayload``."""
    THUMBNAIL = "thumbnail"
    """A small JPEG of an event's (privacy-protected) snapshot: ``payloads.ThumbnailPayload``."""
    ERASURE = "erasure"
    """A data subject's erasure done at the store: the hub removes its copies too (``payloads.ErasurePayload``)."""


CAMERA_KINDS = (Kind.EVENT, Kind.HEALTH, Kind.ALERT, Kind.THUMBNAIL)
"""Kinds that travel on their camera's stream (the rest on the store's own)."""
SOLO_KINDS = (Kind.INCIDENT, Kind.ERASURE)
"""Kinds the hub applies one message at a time, never in a run with others."""


class EnvelopeError(StorewatchError):
    """A sync message that is not a valid ``storewatch.sync/1`` envelope."""


def subject(store: str, kind: Kind | str) -> str:
    """The NATS subject of a store's messages of one kind.

    >>> subject("s1", Kind.HEALTH)
    'storewatch.s1.health'
    """
    return f"{SUBJECT_PREFIX}.{store}.{Kind(kind).value}"


def kind_of(event: Event) -> Kind:
    """``health`` for camera health and tampering events, ``event`` for the rest."""
    return Kind.HEALTH if event.type.startswith("camera.") else Kind.EVENT


class Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    schema_: Literal["storewatch.sync/1"] = Field("storewatch.sync/1", alias="schema", description="Envelope version.")
    id: str = Field(min_length=1, max_length=32, pattern=r"^[0-9a-zA-Z_-]+$", description="De-duplication key.")
    kind: Kind
    store: str = Field(description="The sending store's id.")
    camera: str | None = Field(None, max_length=128, description="store/camera; None for the store's own stream.")
    seq: int = Field(ge=1, description="Position in the (store, camera) stream, from 1.")
    created_utc: datetime
    sent_utc: datetime
    payload: dict[str, Any]

    @field_validator("store")
    @classmethod
    def _store_slug(cls, v: str) -> str:
        if not is_slug(v):
            raise ValueError(f"store {v!r} is not a slug")
        return v

    @field_validator("created_utc", "sent_utc")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        if v.utcoffset() is None:
            raise ValueError("times must carry a time zone (UTC)")
        return v

    @model_validator(mode="after")
    def _camera_in_store(self) -> Envelope:
        if self.camera is not None and not self.camera.startswith(f"{self.store}/"):
            raise ValueError(f"camera {self.camera!r} is not in store {self.store!r}")
        if self.kind in CAMERA_KINDS and self.camera is None:
            raise ValueError(f"a {self.kind.value} message names its camera")
        return self

    @property
    def subject(self) -> str:
        return subject(self.store, self.kind)

    @property
    def stream(self) -> tuple[str, str]:
        """The (store, camera) stream its ``seq`` counts in (camera ``""``: the store's own)."""
        return self.store, self.camera or ""

    def to_json(self) -> bytes:
        return self.model_dump_json(by_alias=True).encode()

    @classmethod
    def parse(cls, body: bytes | str) -> Envelope:
        """The envelope in ``body``; ``EnvelopeError`` saying what is wrong otherwise."""
        try:
            return cls.model_validate_json(body)
        except ValidationError as exc:
            where = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors()[:5])
            raise EnvelopeError(f"not a {SCHEMA} envelope: {where}") from None

    def event(self) -> Event:
        """The event an ``event`` or ``health`` message carries."""
        if self.kind not in (Kind.EVENT, Kind.HEALTH):
            raise EnvelopeError(f"a {self.kind.value} message carries no event")
        try:
            event = Event.model_validate(self.payload)
        except ValidationError as exc:
            raise EnvelopeError(f"message {self.id}: invalid event: {exc.errors()[0]['msg']}") from None
        if str(event.camera) != self.camera:
            raise EnvelopeError(f"message {self.id}: event of camera {event.camera} sent as {self.camera}")
        return event
