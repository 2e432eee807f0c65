"""The JSON API of incidents (``/api/v1/incidents``): list, read (recorded in the chain of custody), move, note,
assign, tag, loss, and the evidence pack."""

from __future__ import annotations

import shutil
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from storewatch.incidents.workflow import IncidentState
from storewatch.web.deps import Audit, Ctx, CurrentUser, Scope, allowed
from storewatch.web.permissions import Capability
from storewatch.web.routes.api import Id, Limit, StoreQ
from storewatch.web.schemas import AssignIn, IncidentMoveIn, IncidentPublic, IncidentSummary, LossIn, NoteIn, TagsIn

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"], dependencies=[allowed(Capability.VIEW_INCIDENTS)])
MANAGE = [allowed(Capability.MANAGE_INCIDENTS)]


@router.get("", summary="Incidents, newest first")
def incidents(
    ctx: Ctx,
    scope: Scope,
    audit: Audit,
    state: Annotated[IncidentState | None, Query()] = None,
    store: StoreQ = None,
    limit: Limit = 100,
) -> list[IncidentSummary]:
    audit.search("incidents", {"state": state, "store": store}, store)
    return ctx.incidents.list(scope, state=state, store=store, limit=limit)


@router.get("/{incident_id}", summary="One incident: events, evidence, timeline, custody (the view is recorded)")
def incident(incident_id: Id, ctx: Ctx, scope: Scope, user: CurrentUser, audit: Audit) -> IncidentPublic:
    found = ctx.incidents.get(scope, incident_id, viewer=user)
    audit.view(f"incident:{found.id}", found.store)
    return found


@router.post(
    "/{incident_id}/moves", summary="Move along the workflow", responses={409: {}, 422: {}}, dependencies=MANAGE
)
def move(incident_id: Id, body: IncidentMoveIn, ctx: Ctx, scope: Scope, user: CurrentUser) -> IncidentPublic:
    return ctx.incidents.move(scope, user, incident_id, body)


@router.post("/{incident_id}/notes", summary="Add a note to the timeline", dependencies=MANAGE)
def note(incident_id: Id, body: NoteIn, ctx: Ctx, scope: Scope, user: CurrentUser) -> IncidentPublic:
    return ctx.incidents.note(scope, user, incident_id, body)


@router.put("/{incident_id}/assignee", summary="Assign (null: nobody)", dependencies=MANAGE)
def assign(incident_id: Id, body: AssignIn, ctx: Ctx, scope: Scope, user: CurrentUser) -> IncidentPublic:
    return ctx.incidents.assign(scope, user, incident_id, body)


@router.post("/{incident_id}/tags", summary="Add and remove tags", dependencies=MANAGE)
def tags(incident_id: Id, body: TagsIn, ctx: Ctx, scope: Scope, user: CurrentUser) -> IncidentPublic:
    return ctx.incidents.tag(scope, user, incident_id, body)


@router.put("/{incident_id}/loss", summary="Record the loss (amount null: clear it)", dependencies=MANAGE)
def loss(incident_id: Id, body: LossIn, ctx: Ctx, scope: Scope, user: CurrentUser) -> IncidentPublic:
    return ctx.incidents.set_loss(scope, user, incident_id, body)


@router.post(
    "/{incident_id}/export",
    summary="Download the evidence pack (zip; the export is recorded in the chain of custody)",
    response_class=FileResponse,
    responses={200: {"content": {"application/zip": {}}}, 409: {"description": "No stored events to export"}},
    dependencies=[allowed(Capability.EXPORT_EVIDENCE)],
)
def export(incident_id: Id, ctx: Ctx, scope: Scope, user: CurrentUser, audit: Audit) -> FileResponse:
    pack = ctx.incidents.export(scope, user, incident_id)
    found = ctx.incidents.get(scope, incident_id)
    audit.export(f"incident:{found.id}", found.store, file=pack.name)
    return FileResponse(
        pack,
        media_type="application/zip",
        filename=pack.name,
        background=BackgroundTask(shutil.rmtree, pack.parent, ignore_errors=True),
    )
