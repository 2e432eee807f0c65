"""Only on a hub (``WebSettings.hub``): the hub page (each store's sync streams and configuration, the versions
pushed) and its JSON; ``configure`` puts the page in the navigation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from storewatch.web.deps import Ctx, CurrentUser, Scope, allowed
from storewatch.web.hub_views import HubStatus, HubStatusService
from storewatch.web.permissions import Capability
from storewatch.web.routes.common import COMING_SOON, NAV, render
from storewatch.web.store_choice import ChosenStore, narrowed

NAV_ITEM = ("hub", "/hub", "Hub")
MISSING_SNAPSHOT = "Snapshot kept at the store"

router = APIRouter(dependencies=[allowed(Capability.VIEW)])


def configure(templates: Jinja2Templates) -> None:
    """The hub page in the navigation (no longer 'coming soon'); evidence placeholders say where it is."""
    nav = list(templates.env.globals.get("nav", NAV))  # type: ignore[call-overload]
    templates.env.globals["nav"] = [*nav, NAV_ITEM] if NAV_ITEM not in nav else nav
    soon = templates.env.globals.get("coming_soon", COMING_SOON)
    templates.env.globals["coming_soon"] = [s for s in soon if s != NAV_ITEM[2]]  # type: ignore[attr-defined]
    templates.env.globals["missing_snapshot"] = MISSING_SNAPSHOT


def hub_status(ctx: Ctx) -> HubStatusService:
    return HubStatusService(ctx.db, ctx.directory)


Status = Annotated[HubStatusService, Depends(hub_status)]


@router.get("/hub", tags=["pages"], response_class=HTMLResponse, summary="The hub: stores' sync and configuration")
def hub_page(request: Request, ctx: Ctx, scope: Scope, user: CurrentUser, chosen: ChosenStore, hub: Status) -> Response:
    status = hub.status(narrowed(scope, chosen))
    return render(ctx, request, "hub_status.html", user, active="hub", status=status, chosen=chosen)


@router.get("/api/v1/hub/stores", tags=["hub"], summary="Each store's sync streams and configuration versions")
def hub_stores(scope: Scope, hub: Status) -> HubStatus:
    return hub.status(scope)
