"""From events to people: the routes of a site, escalation, and delivery with signed links to the evidence.

One thread reads the event bus: each *started* event is matched against the site's routes (none configured:
every channel, at once, no escalation); each matching route raises an alert (``routing.escalation``) whose first
level is sent through the ``Deliverer`` at once, and the escalation is checked every second. With a database,
every alert and step is also written there (``store.alerts``): whoever acknowledges it (dashboard, API, signed
link, another process) stops its escalation within a second, and alerts still waiting at a restart carry on.

The message links to the snapshot and clip on the status server (``/media/<key>?token=...``), signed and expiring:
the files may still be being written when the message leaves, and are there when someone opens the link.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

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
from storewatch.store.alerts import AlertNotFoundError, AlertNotWaitingError, AlertRepository
from storewatch.store.db import Database
from storewatch.store.events import EventRepository
from storewatch.store.models import AlertStatus

log = logging.getLogger(__name__)

LINK_TTL_S = 7 * 24 * 3600.0
"""How long a link in an alert works."""
SYNC_S = 1.0
"""How often the database is asked which alerts were acknowledged elsewhere."""
RESUME_S = 24 * 3600.0
"""At start, alerts raised this long ago or less that nobody acknowledged carry on escalating."""


class Alerting:
    def __init__(
        self,
        site: SiteConfig,
        bus: EventBus,
        base_url: str,
        secret: bytes,
        delivery_log: DeliveryLog | None = None,
        clip_suffix: Callable[[str], str] | None = None,
        database: Database | None = None,
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
        self.database = database
        self.repository = AlertRepository(database) if database is not None else None
        self._inbox = bus.subscribe("alerting", maxsize=10_000)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_sync = 0.0
        self.sent = 0

    def start(self) -> None:
        self.deliverer.start()
        self._resume(datetime.now(UTC))
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
            self._forget_handled_elsewhere()
            with self._lock:
                due = self.escalations.due(now)
            for step in due:
                self._record(step)
                self._send(step)

    def _route(self, event: Event, now: datetime) -> None:
        store = next((s for s in self.site.stores if s.id == event.store), None)
        if store is None:
            return
        tz = store.timezone or self.site.site.timezone
        self._events[event.id] = event
        for route in routes_for(event, self.routes, now, store.schedule, tz):
            alert_id = uuid.uuid4().hex
            if self.repository is not None:
                try:
                    alert_id = self.repository.raise_alert(alert_id, event, route.name, now)
                except SQLAlchemyError as exc:  # the alert still goes out; only its record is missing
                    log.error("alert for event %s not recorded in the database: %s", event.id, exc)
            with self._lock:
                if alert_id in self.escalations.pending:
                    continue  # a replayed event: this alert was raised already
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

    def acknowledge(self, alert_id: str, by: str = "signed link", false_alarm_reason: str | None = None) -> str:
        """Stop the alert's escalation and record who acknowledged it and how long it took (in the alerts table
        and as an ``alert_acknowledged`` event, stored like any other); with a reason, the alert is called a false
        alarm. The text is for the person who did it."""
        now = datetime.now(UTC)
        level = 0
        if self.repository is not None:
            try:
                record = self.repository.acknowledge(alert_id, by, now, false_alarm_reason)
            except (AlertNotWaitingError, AlertNotFoundError):
                return "This alert was acknowledged already (or is unknown): nothing to do."
            took, level, event_id = record.time_to_ack_s or 0.0, record.level, record.event_id
            with self._lock:
                self.escalations.forget(alert_id)
        else:
            try:
                with self._lock:
                    done = self.escalations.acknowledge(alert_id, by, now)
            except UnknownAlertError:
                return "This alert was acknowledged already (or is unknown): nothing to do."
            took, level, event_id = done.time_to_ack_s, done.level, self._alert_events.get(alert_id, "")
        source = self._events.get(event_id) or self._stored_event(event_id)
        verdict = f"called a false alarm ({false_alarm_reason.strip()})" if false_alarm_reason else "acknowledged"
        values: dict[str, str | float | int | bool] = {
            "alert_id": alert_id, "time_to_ack_s": round(took, 1), "level": level, "by": by, "event_id": event_id,
        }  # fmt: skip
        if false_alarm_reason:
            values["false_alarm_reason"] = false_alarm_reason.strip()
        self.bus.publish(
            Event.start(
                "alert_acknowledged",
                source.camera if source is not None else CameraId("unknown/unknown"),
                now,
                f"alert {verdict} by {by} after {took:.0f} s (level {level})",
                severity=Severity.INFO,
                values=values,
            )
        )
        self.acknowledged += 1
        return f"{'Marked as a false alarm' if false_alarm_reason else 'Acknowledged'} after {took:.0f} s. Thank you."

    # --- the database side: optional, never in the way of sending ------------------------------------------
    def _record(self, step: Step) -> None:
        if self.repository is None:
            return
        try:
            self.repository.escalated(step.alert_id, step.level, step.at)
        except SQLAlchemyError as exc:
            log.error("escalation of alert %s not recorded in the database: %s", step.alert_id, exc)

    def _forget_handled_elsewhere(self) -> None:
        """Stop escalating alerts someone acknowledged through the dashboard, the API or another process."""
        if self.repository is None or time.monotonic() < self._next_sync:
            return
        self._next_sync = time.monotonic() + SYNC_S
        with self._lock:
            ids = list(self.escalations.pending)
        try:
            statuses = self.repository.statuses(ids)
        except SQLAlchemyError as exc:
            log.warning("alert states not read from the database: %s", exc)
            return
        with self._lock:
            for alert_id, status in statuses.items():
                if status != AlertStatus.WAITING:
                    self.escalations.forget(alert_id)

    def _resume(self, now: datetime) -> None:
        """Carry on escalating the alerts still waiting from before a restart (raised within ``RESUME_S``)."""
        if self.repository is None:
            return
        routes = {r.name: r for r in self.routes}
        try:
            waiting = self.repository.waiting(now - timedelta(seconds=RESUME_S))
        except SQLAlchemyError as exc:
            log.error("waiting alerts not read from the database: %s", exc)
            return
        for alert in waiting:
            event, route = self._stored_event(alert.event_id), routes.get(alert.route)
            if event is None or route is None:
                continue  # the event is gone, or the route was removed from the site file since
            self._events[event.id] = event
            self._alert_events[alert.id] = event.id
            self.escalations.adopt(alert.id, event.id, route, alert.raised, alert.level)
        if waiting:
            log.info("alerts: %d alert(s) still waiting from before carry on escalating", len(waiting))

    def _stored_event(self, event_id: str) -> Event | None:
        if self.database is None or not event_id:
            return None
        try:
            return EventRepository(self.database).get(event_id)
        except SQLAlchemyError:
            return None


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
