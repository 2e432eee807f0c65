"""The JSON API (``/api/v1``): who am I, the estate, events, alerts and the live stream. Incidents are in
``api_incidents``. Every operation requires a login and reads only the user's stores."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Header, Path, Query, Request
from fastapi.responses import StreamingResponse

from storewatch.store.models import AlertStatus
from storewatch.web.deps import Audit, Ctx, CurrentUser, Scope, allowed
from storewatch.web.errors import ServiceError
from storewatch.web.live import LiveFeedBusyError
from storewatch.web.permissions import Capability
from storewatch.web.schemas import AcknowledgeIn, AlertPublic, EventPublic, StoreSummary, UserPublic

router = APIRouter(prefix="/api/v1", dependencies=[allowed(Capability.VIEW)])

Id = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.-]+$")]
StoreQ = Annotated[str | None, Query(max_length=64, description="Only this store.")]
Limit = Annotated[int, Query(ge=1, le=500, description="At most this many, newest first.")]


class FeedBusyError(ServiceError):
    status = 503


@router.get("/me", tags=["users"], summary="The logged-in user")
def me(user: CurrentUser) -> UserPublic:
    return UserPublic(
        username=user.username, display_name=user.display_name, role=user.role.value, stores=list(user.stores)
    )


@router.get("/estate", tags=["estate"], summary="Stores with camera health, waiting alerts and open incidents")
def estate(ctx: Ctx, scope: Scope) -> list[StoreSummary]:
    return ctx.estate.overview(scope)


@router.get("/events", tags=["events"], summary="Events, newest first")
def events(
    ctx: Ctx,
    scope: Scope,
    audit: Audit,
    store: StoreQ = None,
    type: Annotated[str | None, Query(max_length=128, description="Type or type prefix, e.g. camera.")] = None,
    since: Annotated[datetime | None, Query(description="Started at or after (ISO 8601 with zone).")] = None,
    limit: Limit = 100,
) -> list[EventPublic]:
    audit.search("events", {"store": store, "type": type, "since": since}, store)
    return ctx.events.list(scope, store=store, type_prefix=type, since=since, limit=limit)


@router.get("/events/{event_id}", tags=["events"], summary="One event")
def event(event_id: Id, ctx: Ctx, scope: Scope, audit: Audit) -> EventPublic:
    found = ctx.events.get(scope, event_id)
    audit.view(f"event:{found.id}", found.store)
    return found


@router.get("/alerts", tags=["alerts"], summary="Alerts, newest first")
def alerts(
    ctx: Ctx, scope: Scope, audit: Audit, store: StoreQ = None, status: AlertStatus | None = None, limit: Limit = 100
) -> list[AlertPublic]:
    audit.search("alerts", {"store": store, "status": status}, store)
    return ctx.alerts.list(scope, store=store, status=status, limit=limit)


@router.get("/alerts/{alert_id}", tags=["alerts"], summary="One alert, with its event's explanation and evidence")
def alert(alert_id: Id, ctx: Ctx, scope: Scope, audit: Audit) -> AlertPublic:
    found = ctx.alerts.get(scope, alert_id)
    audit.view(f"alert:{found.id}", found.store)
    return found


@router.post(
    "/alerts/{alert_id}/acknowledge",
    tags=["alerts"],
    summary="Acknowledge an alert (with a false_alarm_reason: call it a false alarm)",
    responses={409: {"description": "Acknowledged already"}},
    dependencies=[allowed(Capability.ACKNOWLEDGE)],
)
def acknowledge(
    alert_id: Id,
    ctx: Ctx,
    scope: Scope,
    user: CurrentUser,
    audit: Audit,
    body: Annotated[AcknowledgeIn | None, Body()] = None,
) -> AlertPublic:
    done = ctx.alerts.acknowledge(scope, user, alert_id, body or AcknowledgeIn())
    audit.ack(f"alert:{done.id}", done.store, status=done.status.value)
    return done


@router.get(
    "/stream",
    tags=["live"],
    summary="Server-sent events: `alert` and `event` messages for the user's stores (Last-Event-ID resumes)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream(
    request: Request,
    ctx: Ctx,
    scope: Scope,
    last_event_id: Annotated[str | None, Header(max_length=64)] = None,
) -> StreamingResponse:
    try:
        client = ctx.hub.open(last_event_id, scope)
    except LiveFeedBusyError as exc:
        raise FeedBusyError(str(exc)) from exc
    return StreamingResponse(
        ctx.hub.stream(client, request.is_disconnected),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
