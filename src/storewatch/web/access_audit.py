"""The one place where access events are reported: logins, user and role changes, API token changes.

``AuthService``, ``UserAdminService`` and ``TokenService`` call these methods and nothing else; today they write a
log line (``storewatch.web.access``). The audit log records them by replacing this class's bodies (or passing a
subclass to ``create_app``'s services) — no caller changes.
Passwords, tokens and hashes are never passed here.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

log = logging.getLogger("storewatch.web.access")


class AccessAudit:
    def login(self, username: str, user_id: str | None, ok: bool, ip: str | None, reason: str = "") -> None:
        """A password login tried: ``user_id`` None for an unknown name; ``reason`` of a failure: wrong_password,
        locked (this attempt or an earlier one locked it), disabled, no_dashboard, ip_limited, csrf (the form had no
        valid pre-session token: not a password try, not counted)."""
        log.info("login %s user=%s ip=%s %s", "ok" if ok else "failed", username, ip, reason)

    def logout(self, user_id: str, everywhere: bool) -> None:
        log.info("logout user=%s everywhere=%s", user_id, everywhere)

    def user_changed(self, actor: str, user_id: str, username: str, what: str, detail: Mapping[str, object]) -> None:
        """``what``: created, edited (role, stores, name in ``detail``), disabled, enabled, unlocked,
        password_reset, password_changed."""
        log.info("user %s by=%s user=%s %s", what, actor, username, detail)

    def token_changed(self, actor: str, token_id: str, name: str, what: str) -> None:
        """``what``: created, revoked."""
        log.info("token %s by=%s token=%s (%s)", what, actor, token_id, name)
