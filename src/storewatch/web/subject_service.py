"""Data subject requests from the dashboard (privacy officers and administrators): the CLI's service
(``privacy.subject_actions.SubjectRequests``) bound to the signed-in user, their stores and the job runner.

- ``find``: the report, recorded in the audit log as ``subject_request`` (kind ``find``), as the CLI records it
  (actor kind ``user``, ``via: dashboard``).
- ``export``: a job (``web.jobs``; its page shows progress) writing the pack with clips only as faces-blurred copies;
  the job's file is the pack, which ``storewatch incidents verify`` checks.
- ``erase``: only after the requester typed the reference again (the confirmation) and a reason; refused while an
  incident holding the person's events is under legal hold (409; the refusal is recorded too).

Every reference is checked against the user's stores before anything is recorded or touched: a person seen only
at other stores is "not found" (their existence is not revealed).

>>> SubjectQuery(kind=RefKind.TRACK, value=" s1/door/4 ").reference()
Reference(kind=<RefKind.TRACK: 'track'>, value='s1/door/4')
>>> SubjectQuery(kind=RefKind.TRACK, value="4").reference()  # doctest: +IGNORE_EXCEPTION_DETAIL
Traceback (most recent call last):
...
InvalidError: '4' is not a track id: write it as store/camera/N (e.g. s1/door/17, as events name tracks)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field

from storewatch.audit.chain import ActorKind
from storewatch.errors import StorewatchError
from storewatch.privacy.subject_actions import Erasure, LegalHoldError, ProtectClip, SubjectRequests
from storewatch.privacy.subjects import Reference, RefKind, SubjectNotFoundError, SubjectReport
from storewatch.store.db import Database
from storewatch.web.errors import ConflictError, InvalidError, NotFoundError
from storewatch.web.jobs import Job, JobRunner, JobsBusyError, Progress
from storewatch.web.scope import StoreScope
from storewatch.web.users import User

T = TypeVar("T")
VIA = "dashboard"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class SubjectQuery(BaseModel):
    """Who the request is about: a track (``store/camera/N``), an event or an incident (id or its first 6+ chars)."""

    model_config = ConfigDict(extra="forbid")

    kind: RefKind = Field(RefKind.TRACK, description="What the reference is: incident, track or event.")
    value: str = Field(min_length=1, max_length=128, description="The incident, track or event id.")

    def reference(self) -> Reference:
        try:
            return Reference.parse(self.kind, self.value)
        except StorewatchError as exc:
            raise InvalidError(exc.message, field="value") from exc


class SubjectErase(SubjectQuery):
    """An erasure: the reference, typed once more to confirm, and why (kept in the audit log)."""

    confirm: str = Field("", max_length=128, description="The reference typed again.")
    reason: str = Field("", max_length=500, description="The request it answers.")


class SubjectService:
    def __init__(
        self, database: Database, data_dir: Path, media_root: Path, protect_clip: ProtectClip, jobs: JobRunner
    ) -> None:
        self.db, self.data_dir, self.media_root = database, data_dir, media_root
        self.protect_clip, self.jobs = protect_clip, jobs

    def requests(self, scope: StoreScope) -> SubjectRequests:
        return SubjectRequests(self.db, self.data_dir, self.media_root, ActorKind.USER, via=VIA, allows=scope.allows)

    def find(self, scope: StoreScope, user: User, query: SubjectQuery) -> SubjectReport:
        return _mapped(lambda: self.requests(scope).find(query.reference(), user.name))

    def export(self, scope: StoreScope, user: User, query: SubjectQuery) -> Job:
        """A job writing the pack (checked now: an unknown or out-of-scope reference fails here, not in the job)."""
        reference = query.reference()
        requests = self.requests(scope)
        report = _mapped(lambda: requests.report(reference))
        stores = report.stores
        name = f"subject-{reference.kind.value}-{_UNSAFE.sub('-', reference.value).strip('-')}.zip"

        def work(progress: Progress, folder: Path) -> Path:
            out = folder / name
            requests.export(reference, out, user.name, self.protect_clip, progress)
            return out

        try:
            return self.jobs.submit("subject_export", f"Subject export ({reference})", owner=user.id,
                                    store=stores[0] if len(stores) == 1 else None, work=work,
                                    link=subject_url(reference))  # fmt: skip
        except JobsBusyError as exc:
            raise ConflictError(exc.message) from exc

    def erase(self, scope: StoreScope, user: User, body: SubjectErase) -> tuple[SubjectReport, Erasure]:
        reference = body.reference()
        if body.confirm.strip() != reference.value:
            raise InvalidError(f"type {reference.value} to confirm the erasure", field="confirm")
        if len(body.reason.strip()) < 5:
            raise InvalidError("say why (the request this answers, at least 5 characters)", field="reason")
        requests = self.requests(scope)
        report = _mapped(lambda: requests.report(reference))
        return report, _mapped(lambda: requests.erase(report, user.name, body.reason))


def subject_url(reference: Reference) -> str:
    """The subjects page showing what is held about ``reference``."""
    return "/privacy/subjects?" + urlencode({"kind": reference.kind.value, "value": reference.value})


def _mapped(call: Callable[[], T]) -> T:
    """``call()`` with the privacy errors as the web's: not found (404), legal hold (409)."""
    try:
        return call()
    except SubjectNotFoundError as exc:
        raise NotFoundError(exc.message) from exc
    except LegalHoldError as exc:
        raise ConflictError(exc.message + (f" ({exc.fix})" if exc.fix else "")) from exc
