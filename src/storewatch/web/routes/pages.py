"""Pages: the estate overview, the live alerts feed, an alert, acknowledging it; logging out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from storewatch.store.models import AlertStatus
from storewatch.web.auth import COOKIE
from storewatch.web.deps import Ctx, CurrentUser, Scope, current_user
from storewatch.web.errors import ServiceError
from storewatch.web.routes.api import Id, StoreQ
from storewatch.web.routes.common import read_form, redirect, render
from storewatch.web.schemas import AcknowledgeIn, EventPublic
from storewatch.web.store_choice import ChosenStore, narrowed, pick

router = APIRouter(tags=["pages"], dependencies=[Depends(current_user)], default_response_class=HTMLResponse)

FEED_LIMIT = 100


@router.get("/", summary="Estate overview: stores, camera health, waiting alerts, open incidents")
def overview(request: Request, ctx: Ctx, scope: Scope, user: CurrentUser, chosen: ChosenStore) -> Response:
    view = narrowed(scope, chosen)
    stores = ctx.estate.overview(view)
    waiting = ctx.alerts.list(view, status=AlertStatus.WAITING, limit=5)
    return render(ctx, request, "overview.html", user, active="overview", stores=stores, waiting=waiting)


@router.get("/alerts", summary="Live alerts feed")
def alerts(
    request: Request,
    ctx: Ctx,
    scope: Scope,
    user: CurrentUser,
    chosen: ChosenStore,
    status: Annotated[AlertStatus | None, Query()] = None,
    store: StoreQ = None,
) -> Response:
    store = pick(store, chosen)
    position = ctx.hub.position  # before reading: what changes after it reaches the page over the live feed
    found = ctx.alerts.list(scope, store=store, status=status, limit=FEED_LIMIT)
    stores = ctx.estate.store_ids(scope)
    return render(ctx, request, "alerts.html", user, active="alerts", alerts=found, status=status, store=store,
                  stores=stores, feed_position=position)  # fmt: skip


@router.get("/alerts/{alert_id}", summary="An alert: what happened, evidence, acknowledge")
def alert(alert_id: Id, request: Request, ctx: Ctx, scope: Scope, user: CurrentUser) -> Response:
    found = ctx.alerts.get(scope, alert_id)
    event = _event(ctx, scope, found.event_id)
    return render(ctx, request, "alert_detail.html", user, active="alerts", alert=found, event=event)


@router.get("/alerts/{alert_id}/card", summary="One alert as a feed card (HTML fragment, for the live feed)")
def alert_card(alert_id: Id, request: Request, ctx: Ctx, scope: Scope, user: CurrentUser) -> Response:
    return render(ctx, request, "_alert_card.html", user, alert=ctx.alerts.get(scope, alert_id))


@router.post("/alerts/{alert_id}/acknowledge", summary="Acknowledge an alert, or call it a false alarm (form)")
async def acknowledge(alert_id: Id, request: Request, ctx: Ctx, scope: Scope, user: CurrentUser) -> Response:
    body, values, errors = await read_form(request, AcknowledgeIn)
    back = "/alerts" if values.get("next") == "feed" else f"/alerts/{alert_id}"
    if values.get("action") != "false_alarm":
        body, errors = AcknowledgeIn(), {}  # a reason typed and then "Acknowledge" pressed: just acknowledge
    elif body is not None and body.false_alarm_reason is None:
        body, errors = None, {"false_alarm_reason": "Say what it really was: a false alarm needs a reason."}
    failed = 409
    if body is not None:
        try:  # on a thread: at a hub this asks the store over the network (a few seconds at most)
            done = await run_in_threadpool(ctx.alerts.acknowledge, scope, user, alert_id, body)
        except ServiceError as exc:
            errors, failed = {exc.field or "form": exc.message}, exc.status
        else:
            return redirect(f"{back}?notice={done.status.value}#alert-{alert_id}")
    found = ctx.alerts.get(scope, alert_id)
    event = _event(ctx, scope, found.event_id)
    status = failed if "form" in errors else 422
    return render(
        ctx,
        request,
        "alert_detail.html",
        user,
        status,
        active="alerts",
        alert=found,
        event=event,
        errors=errors,
        values=values,
    )


@router.post("/logout", summary="Log out (clears the session cookie)")
def logout() -> Response:
    response = redirect("/login")
    response.delete_cookie(COOKIE, path="/")
    return response


def _event(ctx: Ctx, scope: Scope, event_id: str) -> EventPublic | None:
    """The alert's event, or None while it is not stored yet (an alert is raised before its event is written)."""
    try:
        return ctx.events.get(scope, event_id)
    except ServiceError:
        return None
