"""From events to people: the routes of a site, escalation, and delivery with signed links to the evidence.

One thread reads the event bus: each *started* event is matched against the site's routes (none configured:
every channel, at once, no escalation); each matching route raises an alert (``routing.escalation``) whose first
level is sent through the ``Deliverer`` at once, and the escalation is checked every second. The message links to
the snapshot and clip on the status server (``/media/<key>?token=...``), signed and expiring: the files may still
be being written when the message leaves, and are there when someone opens the link.
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from storewatch.alerts import AlertMessage, Deliverer, build_deliverer
from storewatch.alerts.log import DeliveryLog
from storewatch.config.schema import SiteConfig
from storewatch.core.events import Event, EventState, Severity
from storewatch.core.ids import CameraId
from storewatch.media.signing import action_token, signed_url
from storewatch.media.store import evidence_key
from storewatch.routing.escalation import Escalations, Step, UnknownAlertError
from storewatch.routing.routes import Level, Route, routes_for
from storewatch.runtime.bus import EventBus

log = logging.getLogger(__name__)

LINK_TTL_S = 7 * 24 * 3600.0
"""How long a link in an alert works."""


class Alerting:
    def __init__(
        self,
        site: SiteConfig,
        bus: EventBus,
        base_url: str,
        secret: bytes,
        delivery_log: DeliveryLog | None = None,
        clip_suffix: Callable[[str], str] | None = None,
    ) -> None:
        """``clip_suffix(camera)``: the suffix of that camera's clips (``.mp4``, or ``.mkv`` for codecs MP4
        cannot hold), so the link names the file the evidence writer will write."""
        self.site = site
        self.bus = bus
        self.base_url = base_url.rstrip("/")
        self._lock = threading.Lock()
        self.secret = secret
        self._clip_suffix = clip_suffix or (lambda camera: ".mp4")
        self.deliverer: Deliverer = build_deliverer(site.alerts, log=delivery_log)
        names = [c.name for c in site.alerts.channels]
        self.routes = list(site.routes) or [Route(name="everyone", levels=[Level(channels=names)])]
        self.escalations = Escalations()
        self._events: dict[str, Event] = {}
        self._alert_events: dict[str, str] = {}
        """Alert id -> the id of the event it is about."""
        self.acknowledged = 0
        self._inbox = bus.subscribe("alerting", maxsize=10_000)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.sent = 0

    def start(self) -> None:
        self.deliverer.start()
        self._thread = threading.Thread(target=self._run, name="alerting", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self.deliverer.stop()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                event = self._inbox.get(timeout=1.0)
            except queue.Empty:
                event = None
            now = datetime.now(UTC)
            if event is not None and event.state == EventState.STARTED:
                self._route(event, now)
            with self._lock:
                due = self.escalations.due(now)
            for step in due:
                self._send(step)

    def _route(self, event: Event, now: datetime) -> None:
        store = next((s for s in self.site.stores if s.id == event.store), None)
        if store is None:
            return
        tz = store.timezone or self.site.site.timezone
        self._events[event.id] = event
        for route in routes_for(event, self.routes, now, store.schedule, tz):
            alert_id = uuid.uuid4().hex
            with self._lock:
                step = self.escalations.raise_alert(alert_id, event.id, route, now)
                self._alert_events[alert_id] = event.id
            self._send(step)

    def _send(self, step: Step) -> None:
        event = self._events.get(step.event_id)
        if event is None:
            return
        ack = f"{self.base_url}/ack?token=" + action_token(alert_id=step.alert_id, ttl_s=LINK_TTL_S, secret=self.secret)
        clip = self._link(event, self._clip_suffix(str(event.camera)))
        message = AlertMessage.from_event(event, snapshot_url=self._link(event, ".jpg"), clip_url=clip, ack_url=ack)
        try:
            self.sent += len(self.deliverer.submit(message, channels=step.channels))
        except (KeyError, RuntimeError) as exc:
            log.error("alert for event %s not sent: %s", event.id, exc)

    def _link(self, event: Event, suffix: str) -> str:
        key = evidence_key(str(event.camera), event.start_utc, event.id, suffix)
        return signed_url(f"{self.base_url}/media", key, LINK_TTL_S, self.secret)

    def acknowledge(self, alert_id: str, by: str = "signed link") -> str:
        """Stop the alert's escalation and record who acknowledged it and how long it took (as an
        ``alert_acknowledged`` event, stored like any other); the text is for the person who did it."""
        now = datetime.now(UTC)
        try:
            with self._lock:
                done = self.escalations.acknowledge(alert_id, by, now)
        except UnknownAlertError:
            return "This alert was acknowledged already (or is unknown): nothing to do."
        source = self._events.get(self._alert_events.get(alert_id, ""))
        self.bus.publish(
            Event.start(
                "alert_acknowledged",
                source.camera if source is not None else CameraId("unknown/unknown"),
                now,
                f"alert acknowledged by {by} after {done.time_to_ack_s:.0f} s (level {done.level})",
                severity=Severity.INFO,
                values={"alert_id": alert_id, "time_to_ack_s": round(done.time_to_ack_s, 1), "level": done.level,
                        "by": by, "event_id": source.id if source is not None else ""},
            )
        )  # fmt: skip
        self.acknowledged += 1
        return f"Acknowledged after {done.time_to_ack_s:.0f} s. Thank you."


def link_secret(path: Path) -> bytes:
    """The site's link-signing secret, made on first use and kept (owner-only) in ``path``."""
    from storewatch.media.signing import new_secret

    if path.exists():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = new_secret()
    path.touch(mode=0o600)
    path.write_bytes(secret)
    return secret
