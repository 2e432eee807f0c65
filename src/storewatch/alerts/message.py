"""The alert as people and machines receive it: one ``AlertMessage`` per event message, the same on every channel.

An ``Event`` says what happened; an ``AlertMessage`` adds what a channel needs to show it: a title, a one-line text,
and links to the evidence (snapshot, clip) and to acknowledge it. The links are plain strings made by the caller
(who signs them and sets their expiry); this module never sees a signing key. The local snapshot path is kept for
channels that attach the picture (e-mail), but it is not part of the published payload: paths are internal.

``payload()`` is the JSON every machine channel sends (webhook body, MQTT message). Its schema is versioned by the
``schema`` key (``storewatch.alert/1``): fields may be added within version 1, never renamed, removed or retyped.

>>> from datetime import UTC, datetime
>>> from storewatch.core.events import Event, Severity
>>> from storewatch.core.ids import CameraId
>>> e = Event(id="e1", type="camera.tampering.too_dark", camera=CameraId("s1/c1"), severity=Severity.HIGH,
...           start_utc=datetime(2026, 1, 1, 9, 30, tzinfo=UTC),
...           explanation="view too dark: mean brightness 4 (limit 20)")
>>> m = AlertMessage.from_event(e, snapshot_url="https://x/s.jpg")
>>> m.title
'HIGH: Camera tampering too dark at s1/c1'
>>> m.text
'view too dark: mean brightness 4 (limit 20) (s1/c1, 2026-01-01 09:30:00 UTC)'
>>> p = m.payload(); p["schema"], p["event_id"], p["links"]["snapshot"], p["links"]["clip"]
('storewatch.alert/1', 'e1', 'https://x/s.jpg', None)
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from storewatch.core.events import Event, EventState, Severity

SCHEMA = "storewatch.alert/1"
"""The payload's schema id; bumped only for incompatible changes."""


class AlertLinks(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    snapshot: str | None = Field(None, description="Signed, expiring URL of the snapshot (JPEG).")
    clip: str | None = Field(None, description="Signed, expiring URL of the clip.")
    ack: str | None = Field(None, description="URL that acknowledges the alert.")


class AlertMessage(BaseModel):
    """What every channel sends for one event message (started, updated or ended)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: str
    type: str
    state: EventState
    severity: Severity
    store: str
    camera: str = Field(description="Namespaced camera id, store/camera.")
    zone: str | None = None
    track_ids: tuple[str, ...] = ()
    start_utc: datetime
    end_utc: datetime | None = None
    duration_s: float | None = None
    title: str
    text: str = Field(description="One line: the explanation, where and when.")
    explanation: str
    values: dict[str, float | int | str | bool] = Field(default_factory=dict)
    links: AlertLinks = AlertLinks()
    snapshot_path: str | None = Field(None, description="Local snapshot file, for channels that attach it.")

    @classmethod
    def from_event(
        cls,
        event: Event,
        *,
        snapshot_url: str | None = None,
        clip_url: str | None = None,
        ack_url: str | None = None,
    ) -> AlertMessage:
        """The alert for ``event``, with the caller's (already signed) links."""
        return cls(
            event_id=event.id,
            type=event.type,
            state=event.state,
            severity=event.severity,
            store=event.store,
            camera=str(event.camera),
            zone=event.zone,
            track_ids=event.track_ids,
            start_utc=event.start_utc,
            end_utc=event.end_utc,
            duration_s=event.duration_s,
            title=_title(event),
            text=_text(event),
            explanation=event.explanation,
            values=dict(event.values),
            links=AlertLinks(snapshot=snapshot_url, clip=clip_url, ack=ack_url),
            snapshot_path=event.evidence.get("snapshot"),
        )

    @property
    def camera_name(self) -> str:
        """The camera's own id within its store (``c1`` of ``s1/c1``)."""
        return self.camera.split("/", 1)[-1]

    def payload(self) -> dict[str, Any]:
        """The published JSON object (schema ``storewatch.alert/1``); no local paths."""
        data = self.model_dump(mode="json", exclude={"snapshot_path"})
        return {"schema": SCHEMA, **data}

    def to_json(self) -> bytes:
        """``payload()`` as compact UTF-8 JSON with sorted keys (the same message gives the same bytes)."""
        return json.dumps(self.payload(), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def humanize_type(type_: str) -> str:
    """``camera.tampering.too_dark`` -> ``Camera tampering too dark``.

    >>> humanize_type("behaviour.loitering")
    'Behaviour loitering'
    """
    words = type_.replace(".", " ").replace("_", " ").split()
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _title(event: Event) -> str:
    ended = " (ended)" if event.state is EventState.ENDED else ""
    return f"{event.severity.value.upper()}: {humanize_type(event.type)} at {event.camera}{ended}"


def _text(event: Event) -> str:
    where = str(event.camera) + (f" zone {event.zone}" if event.zone else "")
    at = event.end_utc if event.state is EventState.ENDED and event.end_utc else event.start_utc
    when = at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    one_line = " ".join(event.explanation.split())
    return f"{one_line} ({where}, {when})"
