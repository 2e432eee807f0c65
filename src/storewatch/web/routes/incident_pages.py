"""Pages: the incidents list (filters: state, store) and an incident, worked through plain HTML forms
(post, then redirect back; on a mistake the page comes back with the message next to the field)."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from storewatch.incidents.workflow import IncidentState
from storewatch.web.deps import Audit, Ctx, CurrentUser, Scope, allowed
from storewatch.web.errors import ServiceError
from storewatch.web.permissions import Capability
from storewatch.web.routes.api import Id, StoreQ
from storewatch.web.routes.common import read_form, redirect, render
from storewatch.web.schemas import AssignIn, IncidentMoveIn, IncidentPublic, LossIn, NoteIn, TagsIn
from storewatch.web.scope import StoreScope
from storewatch.web.store_choice import ChosenStore, pick
from storewatch.web.users import User

router = APIRouter(
    tags=["pages"], dependencies=[allowed(Capability.VIEW_INCIDENTS)], default_response_class=HTMLResponse
)

LIST_LIMIT = 200


class IncidentAction(StrEnum):
    MOVE = "move"
    NOTE = "note"
    ASSIGN = "assign"
    TAGS = "tags"
    LOSS = "loss"


Handler = Callable[[Ctx, StoreScope, User, str, Any], IncidentPublic]
FORMS: dict[IncidentAction, tuple[type[BaseModel], Handler, str, tuple[str, ...]]] = {
    IncidentAction.MOVE: (IncidentMoveIn, lambda c, s, u, i, b: c.incidents.move(s, u, i, b), "moved", ()),
    IncidentAction.NOTE: (NoteIn, lambda c, s, u, i, b: c.incidents.note(s, u, i, b), "noted", ()),
    IncidentAction.ASSIGN: (AssignIn, lambda c, s, u, i, b: c.incidents.assign(s, u, i, b), "assigned", ()),
    IncidentAction.TAGS: (TagsIn, lambda c, s, u, i, b: c.incidents.tag(s, u, i, b), "tagged", ("add", "remove")),
    IncidentAction.LOSS: (LossIn, lambda c, s, u, i, b: c.incidents.set_loss(s, u, i, b), "loss", ()),
}
"""Each form: its schema, the service call, the notice after it, and its comma-separated list fields."""


@router.get("/incidents", summary="Incidents, newest first (filters: state, store)")
def incidents(
    request: Request,
    ctx: Ctx,
    scope: Scope,
    user: CurrentUser,
    chosen: ChosenStore,
    audit: Audit,
    state: Annotated[IncidentState | None, Query()] = None,
    store: StoreQ = None,
) -> Response:
    audit.search("incidents", {"state": state, "store": store}, store)
    store = pick(store, chosen)
    found = ctx.incidents.list(scope, state=state, store=store, limit=LIST_LIMIT)
    stores = ctx.estate.store_ids(scope)
    return render(
        ctx,
        request,
        "incidents.html",
        user,
        active="incidents",
        incidents=found,
        state=state,
        store=store,
        stores=stores,
        states=list(IncidentState),
    )


@router.get("/incidents/{incident_id}", summary="An incident: workflow, evidence, timeline, custody")
def incident(incident_id: Id, request: Request, ctx: Ctx, scope: Scope, user: CurrentUser, audit: Audit) -> Response:
    found = ctx.incidents.get(scope, incident_id, viewer=user)
    audit.view(f"incident:{found.id}", found.store)
    return render(ctx, request, "incident_detail.html", user, active="incidents", incident=found)


@router.post(
    "/incidents/{incident_id}/pack",
    summary="Start the evidence pack (a job whose page shows progress)",
    dependencies=[allowed(Capability.EXPORT_EVIDENCE)],
)
def pack(incident_id: Id, ctx: Ctx, scope: Scope, user: CurrentUser, audit: Audit) -> Response:
    job = ctx.incidents.start_export(scope, user, incident_id, ctx.jobs)
    audit.export(f"incident:{incident_id}", job.store, job=job.id)
    return redirect(f"/jobs/{job.id}")


@router.post("/incidents/{incident_id}/{action}", summary="Work an incident (form): move, note, assign, tags, loss",
             dependencies=[allowed(Capability.MANAGE_INCIDENTS)])  # fmt: skip
async def act(
    incident_id: Id, action: IncidentAction, request: Request, ctx: Ctx, scope: Scope, user: CurrentUser, audit: Audit
) -> Response:
    schema, handler, notice, lists = FORMS[action]
    body, values, errors = await read_form(request, schema, lists)
    status = 422
    if body is not None:
        try:
            done = handler(ctx, scope, user, incident_id, body)
        except ServiceError as exc:
            if exc.status == 404:
                raise
            errors, status = {exc.field or "form": exc.message}, exc.status
        else:
            audit.incident_change(f"incident:{done.id}", done.store, change=action.value)
            return redirect(f"/incidents/{done.id}?notice={notice}#{action.value}")
    found = ctx.incidents.get(scope, incident_id)
    return render(
        ctx,
        request,
        "incident_detail.html",
        user,
        status,
        active="incidents",
        incident=found,
        errors=errors,
        values=values,
        form=action.value,
    )
