"""The dashboard's audit trail: what routes call to record a login, a view, a search, an export or a change.

``AuditTrail`` (one per app, in ``WebContext``) writes through ``store.audit.AuditLog``; ``RequestAudit`` is the
same bound to the request's user and address (``deps.Audit``), so a route says only what happened:
``audit.view("incident:ab12", store)``. Recording is synchronous and fails closed: a view that cannot be audited
is an error, not a silent gap. An evidence file fetched again and again by one user (a video player's range
requests, a thumbnail on every page) is recorded once per ``repeat_window_s``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from storewatch.audit.chain import ActorKind, AuditAction, AuditEntry
from storewatch.audit.export import audit_csv
from storewatch.audit.repeat import REPEAT_WINDOW_S, RepeatFilter
from storewatch.store.audit import AuditFilter, AuditLog
from storewatch.store.db import Database
from storewatch.web.access_audit import AccessAudit
from storewatch.web.users import User


class AuditTrail:
    def __init__(
        self,
        database: Database,
        repeat_window_s: float = REPEAT_WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.log = AuditLog(database)
        self.repeats = RepeatFilter(repeat_window_s, clock)

    def record(
        self,
        actor: str,
        action: AuditAction,
        *,
        kind: ActorKind = ActorKind.USER,
        store: str | None = None,
        target: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> AuditEntry:
        return self.log.record(actor, kind, action, store=store, target=target, detail=dict(detail or {}))

    def entries(self, where: AuditFilter, limit: int) -> list[AuditEntry]:
        return self.log.list(where, limit=limit)

    def csv(self, where: AuditFilter) -> tuple[str, int]:
        rows = [e.public() for e in self.log.scan(where)]
        return audit_csv(rows), len(rows)


class TrailAccessAudit(AccessAudit):
    """Logins, logouts, user and token changes into the audit log as well as the access log line."""

    def __init__(self, trail: AuditTrail) -> None:
        self.trail = trail

    def login(self, username: str, user_id: str | None, ok: bool, ip: str | None, reason: str = "") -> None:
        """The name as typed (at most 64 characters), the address, why it failed; never the password."""
        super().login(username, user_id, ok, ip, reason)
        detail = {"ip": ip, **({"reason": reason} if reason else {})}
        action = AuditAction.LOGIN_OK if ok else AuditAction.LOGIN_FAILED
        self.trail.record(username.strip()[:64] or "(empty)", action, target="session", detail=detail)

    def logout(self, user_id: str, everywhere: bool) -> None:
        super().logout(user_id, everywhere)
        self.trail.record(user_id, AuditAction.LOGOUT, target=f"user:{user_id}", detail={"everywhere": everywhere})

    def user_changed(self, actor: str, user_id: str, username: str, what: str, detail: Mapping[str, object]) -> None:
        super().user_changed(actor, user_id, username, what, detail)
        self.trail.record(actor, AuditAction.USER_CHANGE, target=f"user:{username}", detail={"what": what, **detail})

    def token_changed(self, actor: str, token_id: str, name: str, what: str) -> None:
        super().token_changed(actor, token_id, name, what)
        self.trail.record(
            actor, AuditAction.TOKEN_CHANGE, target=f"token:{token_id}", detail={"what": what, "name": name}
        )


class RequestAudit:
    """The trail bound to one request's user (and client address)."""

    def __init__(self, trail: AuditTrail, user: User, ip: str | None) -> None:
        self.trail, self.user, self.ip = trail, user, ip

    def _record(self, action: AuditAction, target: str, store: str | None, detail: Mapping[str, Any]) -> None:
        self.trail.record(self.user.name, action, store=store, target=target, detail={"via": "dashboard", **detail})

    def view(self, target: str, store: str | None = None, **detail: Any) -> None:
        self._record(AuditAction.VIEW, target, store, detail)

    def view_file(self, key: str) -> None:
        """An evidence file served (once per repeat window per user and file)."""
        target = f"media:{key}"
        if self.trail.repeats.first(self.user.name, target):
            self._record(AuditAction.VIEW, target, key.split("/", 1)[0], {})

    def unblur(self, key: str, reason: str) -> None:
        """A clip watched as recorded, faces visible, with the reason the user typed (every time)."""
        self._record(AuditAction.UNBLUR, f"media:{key}", key.split("/", 1)[0], {"reason": reason})

    def search(self, what: str, filters: Mapping[str, Any], store: str | None = None) -> None:
        """A list narrowed by filters (nothing is recorded for an unfiltered list: that is the page itself)."""
        given = {k: (v.isoformat() if hasattr(v, "isoformat") else str(v)) for k, v in filters.items() if v is not None}
        if given:
            self._record(AuditAction.SEARCH, what, store, {"filters": given})

    def export(self, target: str, store: str | None = None, **detail: Any) -> None:
        self._record(AuditAction.EXPORT, target, store, detail)

    def config_change(self, target: str, store: str | None = None, **detail: Any) -> None:
        self._record(AuditAction.CONFIG_CHANGE, target, store, detail)

    def ack(self, target: str, store: str | None = None, **detail: Any) -> None:
        self._record(AuditAction.ACK, target, store, detail)

    def incident_change(self, target: str, store: str | None = None, **detail: Any) -> None:
        self._record(AuditAction.INCIDENT_CHANGE, target, store, detail)
