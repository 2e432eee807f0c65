"""The audit log for privacy officers: ``/audit`` (the newest rows, filtered by time, store, actor and action) and
``/audit.csv`` (every matching row with its hashes). Reading and exporting are recorded in the log itself.

Who may read it: the roles with ``audit.read`` (administrator, privacy officer, regional manager).
A reader limited to some stores sees only the rows about those stores.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from storewatch.audit.chain import AuditAction
from storewatch.store.audit import AuditFilter
from storewatch.web.deps import Audit, Ctx, Scope, allowed, require
from storewatch.web.permissions import Capability
from storewatch.web.routes.common import render
from storewatch.web.users import User

router = APIRouter(tags=["audit"], dependencies=[allowed(Capability.READ_AUDIT)])

AuditReader = Annotated[User, Depends(require(Capability.READ_AUDIT))]
TimeQ = Annotated[datetime | None, Query(description="ISO 8601; UTC unless a zone is given.")]
NameQ = Annotated[str | None, Query(max_length=128)]
PAGE_LIMIT = 500


def _where(scope: Scope, since: datetime | None, until: datetime | None, store: str | None, actor: str | None,
           action: AuditAction | None) -> AuditFilter:  # fmt: skip
    since, until = (t.replace(tzinfo=UTC) if t is not None and t.tzinfo is None else t for t in (since, until))
    stores = None if scope.everything else tuple(sorted(scope.stores or ()))
    return AuditFilter(since=since, until=until, store=store or None, actor=actor or None,
                       action=action.value if action else None, stores=stores)  # fmt: skip


def audit_filter(
    scope: Scope,
    since: TimeQ = None,
    until: TimeQ = None,
    store: NameQ = None,
    actor: NameQ = None,
    action: Annotated[AuditAction | None, Query()] = None,
) -> AuditFilter:
    """The rows a reader asked for (the query's filters) within the reader's stores."""
    return _where(scope, since, until, store, actor, action)


Where = Annotated[AuditFilter, Depends(audit_filter)]


def _filters(where: AuditFilter) -> dict[str, str]:
    return {k: (v.isoformat() if isinstance(v, datetime) else str(v))
            for k, v in (("since", where.since), ("until", where.until), ("store", where.store),
                         ("actor", where.actor), ("action", where.action)) if v is not None}  # fmt: skip


@router.get("/audit", response_class=HTMLResponse, summary="The audit log (privacy officers; filters)")
def audit_page(request: Request, ctx: Ctx, user: AuditReader, audit: Audit, where: Where) -> Response:
    rows = ctx.audit.entries(where, PAGE_LIMIT)
    audit.view("audit", where.store, filters=_filters(where), rows=len(rows))
    query = request.url.query
    return render(ctx, request, "audit.html", user, active="audit", rows=rows, where=where, actions=list(AuditAction),
                  limit=PAGE_LIMIT, csv_url="/audit.csv" + (f"?{query}" if query else ""))  # fmt: skip


@router.get(
    "/audit.csv",
    summary="The audit log as CSV (every matching row, oldest first, with its hashes)",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def audit_csv(ctx: Ctx, user: AuditReader, audit: Audit, where: Where) -> Response:
    text, count = ctx.audit.csv(where)
    audit.export("audit", where.store, filters=_filters(where), rows=count, format="csv")
    name = f"storewatch-audit-{datetime.now(UTC):%Y%m%d-%H%M%S}.csv"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    return Response(text, media_type="text/csv; charset=utf-8", headers=headers)
