"""Working incidents from the dashboard: list, read (the view is recorded in the chain of custody), move along the
workflow, note, assign, tag, record the loss, export the evidence pack, and follow an alert's acknowledgement.

Every change goes through ``IncidentRepository.change`` (read, apply, write in one transaction, retried when
another writer came first), so the CLI, the runner and two browsers can work the same incident at once. The
workflow's refusals become a 409 (a move from where it is not allowed) or a 422 naming the field (a false alarm
without a reason, an empty note).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from storewatch.errors import StorewatchError
from storewatch.incidents.cases import incident_record
from storewatch.incidents.export import export_incident
from storewatch.incidents.workflow import ALLOWED, Incident, IncidentState, TransitionError
from storewatch.store.db import Database
from storewatch.store.incidents import IncidentNotFoundError, IncidentRepository
from storewatch.store.models import CustodyAction
from storewatch.web.clip_privacy import ClipPrivacy
from storewatch.web.errors import ConflictError, InvalidError, NotFoundError
from storewatch.web.jobs import Job, JobRunner, JobsBusyError, Progress
from storewatch.web.present import Views
from storewatch.web.readmodels import ReadModels
from storewatch.web.schemas import (
    AssignIn,
    CustodyPublic,
    IncidentMoveIn,
    IncidentPublic,
    IncidentSummary,
    LossIn,
    NoteIn,
    TagsIn,
    TimelineEntryPublic,
)
from storewatch.web.scope import OutOfScopeError, StoreScope
from storewatch.web.users import User

VIEW_RECORD_EVERY = timedelta(minutes=10)
"""A user's repeated views of one incident within this time are recorded once in the chain of custody."""
MAX_LIMIT = 500

Change = Callable[[Incident], Incident]


class IncidentsService:
    def __init__(self, database: Database, reads: ReadModels, views: Views, clips: ClipPrivacy | None = None) -> None:
        """``clips``: packs hold clips with faces blurred (when privacy is on), made as needed."""
        self.db = database
        self.repo = IncidentRepository(database)
        self.reads, self.views = reads, views
        self.clips = clips

    # --- reading ------------------------------------------------------------------------------------------------
    def list(
        self, scope: StoreScope, *, state: IncidentState | None = None, store: str | None = None, limit: int = 100
    ) -> list[IncidentSummary]:
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidError(f"limit must be 1 to {MAX_LIMIT}, not {limit}", field="limit")
        try:
            stores = scope.narrow(store)
        except OutOfScopeError as exc:
            raise NotFoundError(exc.message, field="store") from exc
        return [_summary(i) for i in self.repo.list(store=stores, state=state, limit=limit)]

    def get(self, scope: StoreScope, incident_id: str, viewer: User | None = None) -> IncidentPublic:
        """The whole incident; with ``viewer`` the view is recorded in the chain of custody."""
        incident = self._load(scope, incident_id)
        if viewer is not None:
            self._record_view(incident.id, viewer.name)
        return self.present(incident)

    def present(self, incident: Incident) -> IncidentPublic:
        rows = self.reads.events(list(incident.event_ids))
        events = [self.views.event(rows[i]) for i in incident.event_ids if i in rows]
        record = incident_record(incident, [])
        return IncidentPublic(
            **_summary(incident).model_dump(),
            loss=record["loss"],
            currency=incident.currency,
            false_alarm_reason=incident.false_alarm_reason,
            legal_hold=incident.legal_hold,
            resolved_utc=incident.resolved,
            allowed_moves=list(ALLOWED[incident.state]),
            events=events,
            timeline=[
                TimelineEntryPublic(at_utc=t.at, actor=t.actor, kind=t.kind, text=t.text) for t in incident.timeline
            ],
            custody=[_custody(c) for c in self.repo.custody(incident.id)],
        )

    # --- changing -----------------------------------------------------------------------------------------------
    def move(self, scope: StoreScope, user: User, incident_id: str, body: IncidentMoveIn) -> IncidentPublic:
        if body.to == IncidentState.FALSE_ALARM and not body.reason:
            raise InvalidError("a false alarm needs a reason: say what it really was", field="reason")
        return self._change(scope, incident_id, lambda i: i.move(body.to, user.name, _now(), reason=body.reason), "to")

    def note(self, scope: StoreScope, user: User, incident_id: str, body: NoteIn) -> IncidentPublic:
        return self._change(scope, incident_id, lambda i: i.note(user.name, _now(), body.text), "text")

    def assign(self, scope: StoreScope, user: User, incident_id: str, body: AssignIn) -> IncidentPublic:
        who = body.assignee or None
        return self._change(scope, incident_id, lambda i: i.assign(user.name, _now(), who), "assignee")

    def tag(self, scope: StoreScope, user: User, incident_id: str, body: TagsIn) -> IncidentPublic:
        if not body.add and not body.remove:
            raise InvalidError("name a tag to add or remove", field="add")
        change: Change = lambda i: i.tag(user.name, _now(), tuple(body.add), tuple(body.remove))  # noqa: E731
        return self._change(scope, incident_id, change, "add")

    def set_loss(self, scope: StoreScope, user: User, incident_id: str, body: LossIn) -> IncidentPublic:
        if body.amount is not None and not body.currency:
            raise InvalidError("give the currency of the amount (3 letters, e.g. EUR)", field="currency")
        minor = None if body.amount is None else int((body.amount * 100).to_integral_value())
        currency = body.currency.upper() if body.currency and minor is not None else None
        return self._change(scope, incident_id, lambda i: i.set_loss(user.name, _now(), minor, currency), "amount")

    def export(self, scope: StoreScope, user: User, incident_id: str) -> Path:
        """Write the evidence pack to a new temporary folder (the caller removes it) and record the export."""
        incident = self._load(scope, incident_id)
        folder = Path(tempfile.mkdtemp(prefix="storewatch-pack-"))
        try:
            return self._write_pack(incident.id, user, folder, None)
        except ConflictError:
            shutil.rmtree(folder, ignore_errors=True)
            raise

    def start_export(self, scope: StoreScope, user: User, incident_id: str, jobs: JobRunner) -> Job:
        """The same pack written by a job (its page shows the progress and offers the file); scope is checked now."""
        incident = self._load(scope, incident_id)
        title = f"Evidence pack of incident {incident.id[:8]}"
        try:
            return jobs.submit(
                "evidence_pack",
                title,
                owner=user.id,
                store=incident.store,
                work=lambda progress, folder: self._write_pack(incident.id, user, folder, progress),
            )
        except JobsBusyError as exc:
            raise ConflictError(exc.message) from exc

    def _write_pack(self, incident_id: str, user: User, folder: Path, progress: Progress | None) -> Path:
        out = folder / f"incident-{incident_id[:8]}-{_now():%Y%m%d-%H%M%S}.zip"
        try:
            protect = self.clips.protected if self.clips is not None and self.clips.links.protect_clips else None
            export_incident(self.db, incident_id, out, user.name, progress, protect)
        except StorewatchError as exc:
            out.unlink(missing_ok=True)
            raise ConflictError(exc.message) from exc
        return out

    def on_alert_acknowledged(self, event_id: str, by: str, at: datetime, false_alarm_reason: str | None) -> None:
        """The incidents of an acknowledged alert's event: an open one is acknowledged; a false alarm closes an
        incident that is about that event alone, and is noted on one that has other events too."""
        for incident_id in self.repo.for_event(event_id):
            self.repo.change(
                incident_id, lambda i: i.alert_acknowledged(event_id, by, at, false_alarm_reason, "from the dashboard")
            )

    # --- helpers ------------------------------------------------------------------------------------------------
    def _load(self, scope: StoreScope, incident_id: str) -> Incident:
        try:
            found = self.repo.get(self.repo.resolve_id(incident_id))
        except IncidentNotFoundError as exc:
            raise NotFoundError(exc.message) from exc
        if found is None or not scope.allows(found.store):
            raise NotFoundError(f"no incident has the id {incident_id!r}")
        return found

    def _change(self, scope: StoreScope, incident_id: str, fn: Change, field: str) -> IncidentPublic:
        incident = self._load(scope, incident_id)
        try:
            changed = self.repo.change(incident.id, fn)
        except TransitionError as exc:
            text = str(exc)
            if "can go to" in text:
                raise ConflictError(text, field=field) from exc
            raise InvalidError(text, field="reason" if "reason" in text else field) from exc
        return self.present(changed)

    def _record_view(self, incident_id: str, actor: str) -> None:
        last = next((c for c in reversed(self.repo.custody(incident_id)) if c["actor"] == actor), None)
        recent = last is not None and _now() - datetime.fromisoformat(last["at_utc"]) < VIEW_RECORD_EVERY
        if last is not None and last["action"] == CustodyAction.VIEWED.value and recent:
            return
        self.repo.record_custody(incident_id, actor, CustodyAction.VIEWED, {"via": "dashboard"})


def _now() -> datetime:
    return datetime.now(UTC)


def _summary(i: Incident) -> IncidentSummary:
    return IncidentSummary(
        id=i.id,
        title=i.title,
        store=i.store,
        camera=i.camera,
        zone=i.zone,
        state=i.state,
        assignee=i.assignee,
        tags=list(i.tags),
        event_count=len(i.event_ids),
        created_utc=i.created,
        updated_utc=i.updated,
    )


def _custody(entry: dict[str, Any]) -> CustodyPublic:
    rest = {k: v for k, v in entry.items() if k not in ("action", "actor", "at_utc")}
    return CustodyPublic(
        at_utc=datetime.fromisoformat(entry["at_utc"]), actor=entry["actor"], action=entry["action"], detail=rest
    )
