"""The inventory page (read-only): shrink per shelf zone over a period, each zone's behaviour events beside its
unexplained loss; and the same report as JSON for integrations."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from storewatch.web.deps import Ctx, CurrentUser, Scope, allowed
from storewatch.web.errors import InvalidError
from storewatch.web.inventory_view import InventoryReads
from storewatch.web.permissions import Capability
from storewatch.web.routes.api import StoreQ
from storewatch.web.routes.common import render
from storewatch.web.store_choice import ChosenStore, pick

router = APIRouter(tags=["inventory"])
VIEW = [allowed(Capability.VIEW)]
FromQ = Annotated[date | None, Query(alias="from", description="First day (YYYY-MM-DD); default 30 days ago.")]
ToQ = Annotated[date | None, Query(alias="to", description="Last day, included; default today.")]


@router.get(
    "/inventory",
    summary="Shrink per shelf zone, the zone's behaviour events beside its unexplained loss",
    dependencies=VIEW,
    response_class=HTMLResponse,
)
def inventory(
    request: Request,
    ctx: Ctx,
    scope: Scope,
    user: CurrentUser,
    chosen: ChosenStore,
    store: StoreQ = None,
    first: FromQ = None,
    last: ToQ = None,
) -> Response:
    store = pick(store, chosen)
    reads = InventoryReads(ctx.db, ctx.settings.site)
    stores = ctx.estate.store_ids(scope)
    context: dict[str, Any] = {"active": "inventory", "store": store, "stores": stores, "page": None,
                               "values": {"from": first, "to": last}, "currency": reads.config.currency}  # fmt: skip
    try:
        context["page"] = reads.shrink(scope, store, first, last)
    except InvalidError as exc:
        return render(ctx, request, "inventory.html", user, 422, errors={exc.field or "from": exc.message}, **context)
    return render(ctx, request, "inventory.html", user, **context)


@router.get("/api/v1/inventory/shrink", summary="The shrink report as JSON (zones, SKUs, events)", dependencies=VIEW)
def shrink_json(ctx: Ctx, scope: Scope, store: StoreQ = None, first: FromQ = None, last: ToQ = None) -> dict[str, Any]:
    page = InventoryReads(ctx.db, ctx.settings.site).shrink(scope, store, first, last)
    return page.report.to_dict()
