"""What the dashboard does with events, alerts, media and the estate: the business rules between routes and
repositories. Every read takes the user's ``StoreScope``; an item outside it is "not found".

Alerts come from ``store.alerts.AlertRepository``; acknowledging one (or calling it a false alarm) also moves the
incidents of its event (``IncidentsService.on_alert_acknowledged``), as the signed link does through the runner.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from storewatch.store.alerts import AlertNotFoundError, AlertNotWaitingError, AlertRecord, AlertRepository
from storewatch.store.db import Database
from storewatch.store.models import AlertStatus
from storewatch.web.directory import StoreDirectory
from storewatch.web.errors import ConflictError, InvalidError, NotFoundError
from storewatch.web.incident_service import IncidentsService
from storewatch.web.present import Views
from storewatch.web.readmodels import ReadModels
from storewatch.web.schemas import (
    AcknowledgeIn,
    AlertPublic,
    CameraHealth,
    CameraStatus,
    EventPublic,
    StoreSummary,
)
from storewatch.web.scope import OutOfScopeError, StoreScope
from storewatch.web.users import User

MAX_LIMIT = 500


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidError(f"limit must be 1 to {MAX_LIMIT}, not {limit}", field="limit")
    return limit


def stores_of(scope: StoreScope, store: str | None) -> list[str] | None:
    """The stores a query reads (``StoreScope.narrow``); a store outside the scope is not found (404)."""
    try:
        return scope.narrow(store)
    except OutOfScopeError as exc:
        raise NotFoundError(str(exc), field="store") from exc


class EventService:
    def __init__(self, reads: ReadModels, views: Views) -> None:
        self.reads, self.views = reads, views

    def list(
        self,
        scope: StoreScope,
        *,
        store: str | None = None,
        type_prefix: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> builtins.list[EventPublic]:
        rows = self.reads.events_list(stores_of(scope, store), since, _limit(limit), type_prefix)
        return [self.views.event(r) for r in rows]

    def get(self, scope: StoreScope, event_id: str) -> EventPublic:
        row = self.reads.event_row(event_id)
        if row is None or not scope.allows(row.store):
            raise NotFoundError(f"no event has the id {event_id!r}")
        return self.views.event(row)


class AlertService:
    def __init__(self, database: Database, reads: ReadModels, views: Views, incidents: IncidentsService) -> None:
        self.repo = AlertRepository(database)
        self.reads, self.views, self.incidents = reads, views, incidents

    def list(
        self, scope: StoreScope, *, store: str | None = None, status: AlertStatus | None = None, limit: int = 100
    ) -> builtins.list[AlertPublic]:
        return self.present(self.repo.list(store=stores_of(scope, store), status=status, limit=_limit(limit)))

    def get(self, scope: StoreScope, alert_id: str) -> AlertPublic:
        return self.present([self._record(scope, alert_id)])[0]

    def acknowledge(self, scope: StoreScope, user: User, alert_id: str, body: AcknowledgeIn) -> AlertPublic:
        """Acknowledge the alert (with a reason: call it a false alarm) as ``user``; 409 when someone already did."""
        self._record(scope, alert_id)
        now = datetime.now(UTC)
        try:
            done = self.repo.acknowledge(alert_id, user.name, now, body.false_alarm_reason)
        except AlertNotWaitingError as exc:
            raise ConflictError(exc.message) from exc
        except AlertNotFoundError as exc:
            raise NotFoundError(exc.message) from exc
        self.incidents.on_alert_acknowledged(done.event_id, user.name, now, done.false_alarm_reason)
        return self.present([done])[0]

    def changed(self, alert_ids: Sequence[str]) -> builtins.list[AlertPublic]:
        """Current views of these alerts (for the live feed; no scope: the feed filters per client)."""
        found = [r for r in (self.repo.get(i) for i in alert_ids) if r is not None]
        return self.present(found)

    def present(self, records: Sequence[AlertRecord]) -> builtins.list[AlertPublic]:
        event_ids = [a.event_id for a in records]
        events = self.reads.events(event_ids)
        incidents = self.reads.incidents_of_events(event_ids)
        return [self.views.alert(a, events.get(a.event_id), incidents.get(a.event_id, [])) for a in records]

    def _record(self, scope: StoreScope, alert_id: str) -> AlertRecord:
        found = self.repo.get(alert_id)
        if found is None or not scope.allows(found.store):
            raise NotFoundError(f"no alert has the id {alert_id!r}")
        return found


class EstateService:
    """The estate overview: each store the user may see, its cameras' health, waiting alerts, open incidents."""

    SEEN_FOR_S = 5.0
    """The stores the database names are read again after this long (every page's store list needs them)."""

    def __init__(self, reads: ReadModels, directory: StoreDirectory) -> None:
        self.reads, self.directory = reads, directory
        self._seen: tuple[float, list[str]] = (float("-inf"), [])

    def store_ids(self, scope: StoreScope) -> list[str]:
        """The stores the user may see: the site file's, then any other the database names."""
        return list(dict.fromkeys(scope.filter([*self.directory.configured, *self.stores_seen()])))

    def stores_seen(self) -> list[str]:
        at, stores = self._seen
        if time.monotonic() - at > self.SEEN_FOR_S:
            self._seen = (time.monotonic(), stores := self.reads.stores_seen())
        return stores

    def overview(self, scope: StoreScope) -> list[StoreSummary]:
        stores = scope.narrow(None)
        seen = self.reads.cameras_seen(stores)
        open_now = self.reads.open_problems(stores)  # oldest first: the newest open problem of a camera wins
        problems = {p.camera: p for p in open_now}
        offline = {p.camera: p for p in open_now if p.type == "camera.offline"}  # offline trumps tampering
        waiting, open_incidents = self.reads.waiting_alerts(stores), self.reads.open_incidents(stores)
        names = dict.fromkeys(
            scope.filter([*self.directory.configured, *self.stores_seen(), *(c.split("/")[0] for c in seen)])
        )
        summaries = []
        for store in names:
            info = self.directory.info(store)
            cameras = list(dict.fromkeys([*info.cameras, *sorted(c for c in seen if c.split("/")[0] == store)]))
            health = []
            for camera in cameras:
                problem = offline.get(camera) or problems.get(camera)
                status = (
                    CameraStatus.OK
                    if problem is None
                    else (CameraStatus.OFFLINE if problem.type == "camera.offline" else CameraStatus.TAMPERED)
                )
                health.append(
                    CameraHealth(
                        id=camera,
                        name=self.directory.camera_name(camera),
                        status=status,
                        since_utc=problem.since if problem else None,
                        reason=problem.explanation if problem else "no problem reported",
                        last_event_utc=seen.get(camera),
                    )
                )
            last = max((seen[c] for c in cameras if c in seen), default=None)
            summaries.append(
                StoreSummary(
                    id=store,
                    name=info.name,
                    timezone=info.timezone.key,
                    cameras=health,
                    waiting_alerts=waiting.get(store, 0),
                    open_incidents=open_incidents.get(store, 0),
                    last_event_utc=last,
                )
            )
        return summaries
