"""Roles and what each may do: the one permission table every route's ``deps.require(capability)`` reads.

A route names the capability it needs, never a role, so the table below is the whole policy: the users page shows
it as a matrix (``MATRIX``), and ``tests/web/test_access_walk.py`` walks every route with a role that lacks its
capability and expects 403. Store scope is separate (``web.scope``): a store manager and a regional manager hold
the same capabilities, one over their store, the other over their region's stores.

Role ``integration`` is for API tokens: it has no dashboard pages and cannot log in with a password.

>>> can(Role.GUARD, Capability.ACKNOWLEDGE), can(Role.GUARD, Capability.EXPORT_EVIDENCE)
(True, False)
>>> sorted(c.value for c in CAPABILITIES[Role.INTEGRATION])
['access.ingest', 'alerts.acknowledge', 'alerts.view', 'incidents.view', 'pos.ingest']
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """The seven roles. Stored values of earlier versions still read: ``manager`` is a store manager, ``viewer``
    an investigator (the role that reads incidents and evidence, as a viewer could, and changes no settings).

    >>> Role("manager"), Role("viewer")
    (<Role.STORE_MANAGER: 'store_manager'>, <Role.INVESTIGATOR: 'investigator'>)
    """

    ADMIN = "admin"
    REGIONAL_MANAGER = "regional_manager"
    STORE_MANAGER = "store_manager"
    INVESTIGATOR = "investigator"
    GUARD = "guard"
    PRIVACY_OFFICER = "privacy_officer"
    INTEGRATION = "integration"
    MANAGER = "store_manager"  # earlier name (alias, not listed)
    VIEWER = "investigator"  # earlier name (alias, not listed)

    @classmethod
    def _missing_(cls, value: object) -> Role | None:
        return LEGACY_ROLES.get(str(value))


LEGACY_ROLES = {"manager": Role.STORE_MANAGER, "viewer": Role.INVESTIGATOR}
"""Role values earlier versions stored (migration 0006 rewrites them; reading them still works)."""


class Capability(StrEnum):
    VIEW = "alerts.view"
    ACKNOWLEDGE = "alerts.acknowledge"
    VIEW_INCIDENTS = "incidents.view"
    MANAGE_INCIDENTS = "incidents.manage"
    EXPORT_EVIDENCE = "evidence.export"
    VIEW_UNBLURRED = "media.unblurred"
    EDIT_CONFIG = "config.edit"
    MANAGE_USERS = "users.manage"
    MANAGE_TOKENS = "tokens.manage"
    READ_AUDIT = "audit.read"
    PRIVACY_REQUESTS = "privacy.requests"
    INGEST_POS = "pos.ingest"
    INGEST_ACCESS = "access.ingest"
    DASHBOARD = "dashboard"


DESCRIPTIONS: dict[Capability, str] = {
    Capability.VIEW: "See stores, cameras, events, alerts and their evidence (faces blurred)",
    Capability.ACKNOWLEDGE: "Acknowledge alerts, call them false alarms",
    Capability.VIEW_INCIDENTS: "See incidents, their timeline and chain of custody",
    Capability.MANAGE_INCIDENTS: "Work incidents: move, note, assign, tag, record loss",
    Capability.EXPORT_EVIDENCE: "Export evidence packs",
    Capability.VIEW_UNBLURRED: "See media without face blurring",
    Capability.EDIT_CONFIG: "Edit zones, lines and rules",
    Capability.MANAGE_USERS: "Manage users and roles",
    Capability.MANAGE_TOKENS: "Manage API tokens",
    Capability.READ_AUDIT: "Read and export the audit log",
    Capability.PRIVACY_REQUESTS: "Run retention and subject-access requests",
    Capability.INGEST_POS: "Send point-of-sale transactions",
    Capability.INGEST_ACCESS: "Send door access events",
    Capability.DASHBOARD: "Use the dashboard with a password (own settings)",
}

_C = Capability
_WORK = {_C.DASHBOARD, _C.VIEW, _C.ACKNOWLEDGE, _C.VIEW_INCIDENTS, _C.MANAGE_INCIDENTS, _C.EXPORT_EVIDENCE}
CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.ADMIN: frozenset(Capability),
    Role.REGIONAL_MANAGER: frozenset({*_WORK, _C.EDIT_CONFIG, _C.READ_AUDIT}),
    Role.STORE_MANAGER: frozenset({*_WORK, _C.EDIT_CONFIG}),
    Role.INVESTIGATOR: frozenset(
        {_C.DASHBOARD, _C.VIEW, _C.VIEW_INCIDENTS, _C.MANAGE_INCIDENTS, _C.EXPORT_EVIDENCE, _C.VIEW_UNBLURRED}
    ),
    Role.GUARD: frozenset({_C.DASHBOARD, _C.VIEW, _C.ACKNOWLEDGE, _C.VIEW_INCIDENTS, _C.MANAGE_INCIDENTS}),
    Role.PRIVACY_OFFICER: frozenset(
        {_C.DASHBOARD, _C.VIEW, _C.VIEW_INCIDENTS, _C.VIEW_UNBLURRED, _C.READ_AUDIT, _C.PRIVACY_REQUESTS}
    ),
    Role.INTEGRATION: frozenset({_C.VIEW, _C.ACKNOWLEDGE, _C.VIEW_INCIDENTS, _C.INGEST_POS, _C.INGEST_ACCESS}),
}
"""The permission table. Every role is here (``tests/web/test_permissions.py`` checks it)."""

TOKEN_CAPABILITIES = frozenset(Capability) - {Capability.DASHBOARD, Capability.MANAGE_USERS, Capability.MANAGE_TOKENS}
"""What an API token may be given: never the dashboard, users or tokens (a token cannot make more tokens)."""


def can(role: Role, capability: Capability) -> bool:
    return capability in CAPABILITIES[role]


def matrix() -> list[tuple[Capability, str, list[bool]]]:
    """Rows of the permissions matrix: each capability, its description, and for each role (``list(Role)``
    order) whether it has it."""
    return [(c, DESCRIPTIONS[c], [c in CAPABILITIES[r] for r in Role]) for c in Capability]
