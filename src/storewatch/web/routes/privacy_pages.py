"""Pages of data subject requests (``privacy.requests``: privacy officers and administrators): find what is held
about a person from an incident, a track or an event; export it blurred as a pack (a job); erase it after typing
the reference again and a reason. Each request is one ``subject_request`` row of the audit log
(``web.subject_service``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from storewatch.errors import StorewatchError
from storewatch.privacy.subject_actions import Erasure
from storewatch.privacy.subjects import RefKind, SubjectReport
from storewatch.web.deps import Ctx, CurrentUser, Scope, allowed
from storewatch.web.errors import InvalidError, ServiceError
from storewatch.web.permissions import Capability
from storewatch.web.routes.common import read_form, redirect, render
from storewatch.web.subject_service import SubjectErase, SubjectQuery
from storewatch.web.users import User

router = APIRouter(
    tags=["pages"], dependencies=[allowed(Capability.PRIVACY_REQUESTS)], default_response_class=HTMLResponse
)

KINDS = [
    (RefKind.INCIDENT, "Incident", "an incident id (or its first 6 characters)"),
    (RefKind.TRACK, "Track", "store/camera/N, as events name tracks (e.g. s1/door/17)"),
    (RefKind.EVENT, "Event", "an event id"),
]


@router.get("/privacy/subjects", summary="Data subject requests: find what is held about a person (audited)")
def subjects_page(
    request: Request,
    ctx: Ctx,
    scope: Scope,
    user: CurrentUser,
    kind: Annotated[RefKind, Query()] = RefKind.INCIDENT,
    value: Annotated[str, Query(max_length=128)] = "",
) -> Response:
    values: dict[str, Any] = {"kind": kind.value, "value": value}
    if not value.strip():
        return _page(ctx, request, user, values)
    try:
        report = ctx.subjects.find(scope, user, SubjectQuery(kind=kind, value=value))
    except ServiceError as exc:
        return _page(ctx, request, user, values, errors={exc.field or "value": exc.message}, status=exc.status)
    return _page(ctx, request, user, values, report=report)


@router.post("/privacy/subjects/export", summary="Export what is held about a person, faces blurred (a job)")
async def subject_export(request: Request, ctx: Ctx, scope: Scope, user: CurrentUser) -> Response:
    body, values, errors = await read_form(request, SubjectQuery)
    if body is not None:
        try:
            job = await run_in_threadpool(ctx.subjects.export, scope, user, body)
        except ServiceError as exc:
            errors = {exc.field or "value": exc.message}
            return _page(ctx, request, user, values, errors=errors, status=exc.status)
        return redirect(f"/jobs/{job.id}")
    return _page(ctx, request, user, values, errors=errors, status=422)


@router.post("/privacy/subjects/erase", summary="Erase what is held about a person (typed confirmation, reason)")
async def subject_erase(request: Request, ctx: Ctx, scope: Scope, user: CurrentUser) -> Response:
    body, values, errors = await read_form(request, SubjectErase)
    if body is None:
        return _page(ctx, request, user, values, errors=errors, status=422)
    try:
        report, erased = await run_in_threadpool(ctx.subjects.erase, scope, user, body)
    except InvalidError as exc:  # the confirmation or the reason: show the person again, with the message
        found = await run_in_threadpool(_report, ctx, scope, user, body)
        return _page(ctx, request, user, values, report=found, errors={exc.field or "form": exc.message}, status=422)
    except ServiceError as exc:
        found = await run_in_threadpool(_report, ctx, scope, user, body) if exc.status == 409 else None
        return _page(ctx, request, user, values, report=found, errors={"erase": exc.message}, status=exc.status)
    return _page(ctx, request, user, values, erased=erased, erased_report=report)


def _report(ctx: Ctx, scope: Scope, user: User, body: SubjectErase) -> SubjectReport | None:
    """The report to show again beside an erasure's mistake (not recorded again: it was not a new request)."""
    try:
        return ctx.subjects.requests(scope).report(body.reference())
    except StorewatchError:  # an unknown reference: the page shows the message alone
        return None


def _page(
    ctx: Ctx,
    request: Request,
    user: User,
    values: dict[str, Any],
    *,
    report: SubjectReport | None = None,
    erased: Erasure | None = None,
    erased_report: SubjectReport | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    if errors and "value" not in errors and "kind" in errors:
        errors["value"] = errors.pop("kind")
    return render(ctx, request, "privacy_subjects.html", user, status, active="privacy", kinds=KINDS, values=values,
                  errors=errors or {}, report=report, erased=erased, erased_report=erased_report)  # fmt: skip
