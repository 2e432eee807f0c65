"""Pages: the estate overview, analytics, the live alerts feed, an alert, acknowledging it; logging out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from storewatch.store.models import AlertStatus
from storewatch.web.analytics import AnalyticsService
from storewatch.web.auth import COOKIE
from storewatch.web.deps import Audit, Ctx, CurrentUser, Scope, allowed, require
from storewatch.web.errors import ServiceError
from storewatch.web.permissions import Capability
from storewatch.web.routes.api import Id, StoreQ
from storewatch.web.routes.common import read_form, redirect, render
from storewatch.web.schemas import AcknowledgeIn, EventPublic
from storewatch.web.store_choice import ChosenStore, narrowed, pick
from storewatch.web.users import User

router = APIRouter(tags=["pages"], default_response_class=HTMLResponse)
VIEW = [allowed(Capability.VIEW)]

FEED_LIMIT = 100


@router.get("/", summary="Estate overview: stores, camera health, waiting alerts, open incidents", dependencies=VIEW)
def overview(request: Request, ctx: Ctx, scope: Scope, user: CurrentUser, chosen: ChosenStore) -> Response:
    view = narrowed(scope, chosen)
    stores = ctx.estate.overview(view)
    waiting = ctx.alerts.list(view, status=AlertStatus.WAITING, limit=5)
    return render(ctx, request, "overview.html", user, active="overview", stores=stores, waiting=waiting)


@router.get("/analytics", summary="Events per day, hour, kind and camera; alert answers", dependencies=VIEW)
def analytics(
    request: Request,
    ctx: Ctx,
    scope: Scope,
    user: CurrentUser,
    chosen: ChosenStore,
    days: Annotated[int, Query(ge=1, le=366, description="How many days back (1-366).")] = 14,
    store: StoreQ = None,
) -> Response:
    store = pick(store, chosen)
    summary = AnalyticsService(ctx.db, ctx.directory).summary(scope, store, days)
    stores = ctx.estate.store_ids(scope)
    return render(ctx, request, "analytics.html", user, active="analytics", summary=summary, store=store,
                  stores=stores, days=days)  # fmt: skip


@router.get("/alerts", summary="Live alerts feed", dependencies=VIEW)
def alerts(
    request: Request,
    ctx: Ctx,
    scope: Scope,
    user: CurrentUser,
    chosen: ChosenStore,
    audit: Audit,
    status: Annotated[AlertStatus | None, Query()] = None,
    store: StoreQ = None,
) -> Response:
    audit.search("alerts", {"status": status, "store": store}, store)
    store = pick(store, chosen)
    position = ctx.hub.position  # before reading: what changes after it reaches the page over the live feed
    found = ctx.alerts.list(scope, store=store, status=status, limit=FEED_LIMIT)
    stores = ctx.estate.store_ids(scope)
    return render(ctx, request, "alerts.html", user, active="alerts", alerts=found, status=status, store=store,
                  stores=stores, feed_position=position)  # fmt: skip


@router.get("/alerts/{alert_id}", summary="An alert: what happened, evidence, acknowledge", dependencies=VIEW)
def alert(alert_id: Id, request: Request, ctx: Ctx, scope: Scope, user: CurrentUser, audit: Audit) -> Response:
    found = ctx.alerts.get(scope, alert_id)
    audit.view(f"alert:{found.id}", found.store)
    event = _event(ctx, scope, found.event_id)
    return render(ctx, request, "alert_detail.html", user, active="alerts", alert=found, event=event)


@router.get(
    "/alerts/{alert_id}/card", summary="One alert as a feed card (HTML fragment, for the live feed)", dependencies=VIEW
)
def alert_card(alert_id: Id, request: Request, ctx: Ctx, scope: Scope, user: CurrentUser) -> Response:
    return render(ctx, request, "_alert_card.html", user, alert=ctx.alerts.get(scope, alert_id))


@router.post(
    "/alerts/{alert_id}/acknowledge",
    summary="Acknowledge an alert, or call it a false alarm (form)",
    dependencies=[*VIEW, allowed(Capability.ACKNOWLEDGE)],
)
async def acknowledge(
    alert_id: Id, request: Request, ctx: Ctx, scope: Scope, user: CurrentUser, audit: Audit
) -> Response:
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
            audit.ack(f"alert:{done.id}", done.store, status=done.status.value)
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
def logout(user: Annotated[User, Depends(require(Capability.DASHBOARD))], ctx: Ctx) -> Response:
    ctx.auth.audit.logout(user.id, everywhere=False)
    response = redirect("/login")
    response.delete_cookie(COOKIE, path="/")
    return response


def _event(ctx: Ctx, scope: Scope, event_id: str) -> EventPublic | None:
    """The alert's event, or None while it is not stored yet (an alert is raised before its event is written)."""
    try:
        return ctx.events.get(scope, event_id)
    except ServiceError:
        return None
