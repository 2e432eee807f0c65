"""The cashier exception dashboard: ``/pos/exceptions`` (per cashier with the peer statistics, per register, per
shift, and the exceptions with the till's video), its CSV and PDF exports, and one transaction's page (its lines,
voids marked, beside the video). Who: ``pos.view`` (managers and investigators). Every view is in the audit log as
a search, every download as an export.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from storewatch.pos.config import PosConfig
from storewatch.pos.exceptions import ExceptionCode, money
from storewatch.pos.report import ExceptionReport, ReportQuery
from storewatch.pos.report_export import filters_text, report_csv, report_pdf, stats_text
from storewatch.web.deps import Audit, Ctx, CurrentUser, Scope, allowed
from storewatch.web.errors import InvalidError
from storewatch.web.permissions import Capability
from storewatch.web.pos_service import PosExceptionsService
from storewatch.web.routes.api import StoreQ
from storewatch.web.routes.common import render
from storewatch.web.store_choice import ChosenStore, pick

router = APIRouter(tags=["pos"], dependencies=[allowed(Capability.VIEW_POS)])

PAGE_LINES = 200
"""Exceptions listed on the page (the newest; the exports hold them all)."""
DEFAULT_DAYS = 7
TextQ = Annotated[str | None, Query(max_length=120)]
DayQ = Annotated[str | None, Query(max_length=10, description="YYYY-MM-DD (business day, store time).")]
PosIdP = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")]


def service(ctx: Ctx) -> PosExceptionsService:
    config = ctx.settings.site.pos if ctx.settings.site is not None else PosConfig()
    return PosExceptionsService(ctx.db, config, ctx.directory, ctx.links)


Service = Annotated[PosExceptionsService, Depends(service)]


@dataclass(frozen=True)
class Filters:
    store: str | None
    first_day: date
    last_day: date
    cashier: str | None
    register: str | None
    code: ExceptionCode | None
    shift: str | None

    def params(self) -> dict[str, str]:
        """The filters as query parameters (for links and exports)."""
        values = {"store": self.store, "from": self.first_day.isoformat(), "to": self.last_day.isoformat(),
                  "cashier": self.cashier, "register": self.register, "code": self.code.value if self.code else None,
                  "shift": self.shift}  # fmt: skip
        return {k: v for k, v in values.items() if v}


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidError(f"{name}: {value!r} is not a date (YYYY-MM-DD)", field=name) from None


def filters(
    svc: Service,
    chosen: ChosenStore,
    store: StoreQ = None,
    from_: Annotated[DayQ, Query(alias="from")] = None,
    to: DayQ = None,
    cashier: TextQ = None,
    register: TextQ = None,
    code: TextQ = None,
    shift: TextQ = None,
) -> Filters:
    """The page's filters from the query (empty fields: not given); the period defaults to the last 7 days."""
    today = datetime.now(UTC).astimezone(ZoneInfo(svc.config.timezone)).date()
    last = _day(to, "to")
    first = _day(from_, "from")
    last = last or (max(first, today) if first else today)
    first = first or last - timedelta(days=DEFAULT_DAYS - 1)
    try:
        kind = ExceptionCode(code) if code else None
    except ValueError:
        raise InvalidError(f"code: {code!r} is not an exception code", field="code") from None
    return Filters(pick(store, chosen), first, last, cashier or None, register or None, kind, shift or None)


Chosen = Annotated[Filters, Depends(filters)]


def _query(svc: PosExceptionsService, scope: Scope, f: Filters) -> ReportQuery:
    return svc.query(scope, f.store, f.first_day, f.last_day, f.cashier, f.register, f.code, f.shift)


@router.get("/pos/exceptions", response_class=HTMLResponse,
            summary="Till exceptions per cashier, register and shift, with the till's video")  # fmt: skip
def exceptions_page(
    request: Request, ctx: Ctx, scope: Scope, user: CurrentUser, audit: Audit, svc: Service, f: Chosen
) -> Response:
    audit.search("pos_exceptions", f.params(), f.store)
    report: ExceptionReport | None = None
    errors: dict[str, str] = {}
    try:
        report = svc.report(_query(svc, scope, f), details=PAGE_LINES)  # the page lists only the newest
    except InvalidError as exc:
        errors = {exc.field or "form": exc.message}
    shown = list(reversed(report.lines))[:PAGE_LINES] if report else []
    videos = {ln.exception.id: svc.video(ln.exception.clip) for ln in shown}
    params = f.params()
    query = urlencode(params)

    def link(**changes: str | None) -> str:
        """This page with some filters changed (None: dropped)."""
        return "/pos/exceptions?" + urlencode({k: v for k, v in {**params, **changes}.items() if v})

    return render(ctx, request, "pos_exceptions.html", user, 200 if not errors else 422, active="pos",
                  report=report, shown=shown, videos=videos, f=f, stores=svc.site_stores(scope), errors=errors,
                  codes=list(ExceptionCode), query=query, link=link,
                  keep={k: v for k, v in params.items() if k != "store"},
                  page_lines=PAGE_LINES, stats_text=stats_text, filters_text=filters_text)  # fmt: skip


def _download(report: ExceptionReport, body: bytes | str, media_type: str, suffix: str) -> Response:
    q = report.query
    name = f"storewatch-pos-exceptions-{q.first_day:%Y%m%d}-{q.last_day:%Y%m%d}.{suffix}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    return Response(body, media_type=media_type, headers=headers)


@router.get("/pos/exceptions.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}},
            summary="The exception report as CSV (every exception matching the filters)")  # fmt: skip
def exceptions_csv(scope: Scope, audit: Audit, svc: Service, f: Chosen) -> Response:
    report = svc.report(_query(svc, scope, f))
    audit.export("pos_exceptions", f.store, format="csv", rows=len(report.lines), filters=f.params())
    return _download(report, report_csv(report), "text/csv; charset=utf-8", "csv")


@router.get("/pos/exceptions.pdf", response_class=Response, responses={200: {"content": {"application/pdf": {}}}},
            summary="The exception report as PDF (per cashier with peer statistics, then every exception)")  # fmt: skip
def exceptions_pdf(ctx: Ctx, scope: Scope, audit: Audit, svc: Service, f: Chosen) -> Response:
    report = svc.report(_query(svc, scope, f))
    audit.export("pos_exceptions", f.store, format="pdf", rows=len(report.lines), filters=f.params())
    return _download(report, report_pdf(report, ctx.directory.name), "application/pdf", "pdf")


@router.get("/pos/transactions/{pos_store}/{register}/{business_day}/{sequence}", response_class=HTMLResponse,
            summary="A till transaction: its lines (voids marked), its exceptions and the till's video")  # fmt: skip
def transaction_page(
    request: Request,
    ctx: Ctx,
    scope: Scope,
    user: CurrentUser,
    audit: Audit,
    svc: Service,
    pos_store: PosIdP,
    register: PosIdP,
    business_day: date,
    sequence: Annotated[int, Path(ge=0, le=2**62)],
) -> Response:
    view = svc.transaction(scope, pos_store, register, business_day, sequence)
    audit.view(f"pos_transaction:{view.transaction.key}", view.site_store)
    tx = view.transaction
    voided = {ln.voids_line for ln in tx.void_lines if ln.voids_line is not None}
    context: dict[str, Any] = {"view": view, "tx": tx, "voided": voided, "money": money}
    return render(ctx, request, "pos_transaction.html", user, active="pos", **context)
