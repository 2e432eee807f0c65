"""Long operations: a job's page (progress, then the file), its state as JSON for the page's script, the file, and
the user's recent jobs. A job is its owner's (an administrator sees every job) and within the user's stores."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from storewatch.web.deps import Ctx, CurrentUser, Scope, allowed
from storewatch.web.errors import ConflictError, NotFoundError
from storewatch.web.jobs import Job, JobState
from storewatch.web.permissions import Capability
from storewatch.web.routes.api import Id
from storewatch.web.routes.common import render
from storewatch.web.schemas import JobPublic
from storewatch.web.scope import StoreScope
from storewatch.web.users import Role, User

router = APIRouter(tags=["jobs"], dependencies=[allowed(Capability.DASHBOARD)])


def _visible(job: Job, user: User, scope: StoreScope) -> bool:
    mine = job.owner == user.id or user.role == Role.ADMIN
    return mine and (job.store is None or scope.allows(job.store))


def _job(ctx: Ctx, job_id: str, user: User, scope: StoreScope) -> Job:
    job = ctx.jobs.get(job_id)
    if job is None or not _visible(job, user, scope):
        raise NotFoundError("no such job: it may have expired (jobs are kept an hour) or the server restarted")
    return job


@router.get("/jobs", summary="Your recent long operations", response_class=HTMLResponse)
def jobs_page(request: Request, ctx: Ctx, scope: Scope, user: CurrentUser) -> Response:
    mine = [j for j in ctx.jobs.jobs() if _visible(j, user, scope)]
    return render(ctx, request, "jobs.html", user, active="jobs", jobs=[JobPublic.of(j) for j in mine])


@router.get("/jobs/{job_id}", summary="A long operation: its progress, then its file", response_class=HTMLResponse)
def job_page(job_id: Id, request: Request, ctx: Ctx, scope: Scope, user: CurrentUser) -> Response:
    job = _job(ctx, job_id, user, scope)
    return render(ctx, request, "job.html", user, active="jobs", job=JobPublic.of(job), outcome=_outcome(job))


def _outcome(job: Job) -> dict[str, Any] | None:
    """What a finished job shows on its page besides its file (a backtest: its table)."""
    if job.kind != "backtest" or job.state != JobState.DONE or job.result is None or not job.result.is_file():
        return None
    found: dict[str, Any] = json.loads(job.result.read_text())
    return found


@router.get("/api/v1/jobs/{job_id}", summary="A long operation's state and progress")
def job_state(job_id: Id, ctx: Ctx, scope: Scope, user: CurrentUser) -> JobPublic:
    return JobPublic.of(_job(ctx, job_id, user, scope))


@router.get("/api/v1/jobs/{job_id}/file", summary="A finished job's file", responses={404: {}, 409: {}})
def job_file(job_id: Id, ctx: Ctx, scope: Scope, user: CurrentUser) -> FileResponse:
    job = _job(ctx, job_id, user, scope)
    if job.state != JobState.DONE or job.result is None:
        raise ConflictError(f"the job is {job.state.value}; its file is there when it is done")
    if not job.result.is_file():
        raise NotFoundError("the job's file is gone (jobs are kept an hour)")
    kind = "application/zip" if job.result.suffix == ".zip" else "application/json"
    return FileResponse(job.result, media_type=kind, filename=job.result.name)
