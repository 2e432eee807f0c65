"""Scoped API tokens for integrations: made (and shown) once, stored as a SHA-256, listed, revoked.

A token is ``swt_`` and 43 URL-safe characters (256 random bits). The database keeps only its SHA-256 (a fast
hash is enough for a secret nobody can guess; argon2 is for passwords people choose) and its first characters to
recognise it. A request with ``Authorization: Bearer <token>`` acts as the token: role ``integration``, the
token's capabilities (``permissions.TOKEN_CAPABILITIES`` at most: never users, tokens or the dashboard) and
stores. Tokens work on ``/api/`` and ``/media/`` only (``deps.current_user``), never for the pages' forms.

>>> from storewatch.store.db import open_database
>>> from storewatch.store.migrate import upgrade
>>> db = open_database("sqlite://"); upgrade(db)
>>> tokens = TokenService(db)
>>> made, text = tokens.create(TokenIn(name="pos feed", capabilities=[Capability.INGEST_POS], stores=["s1"]), "ana")
>>> tokens.user_for(text).stores, tokens.user_for(text).can(Capability.INGEST_POS), tokens.user_for("swt_x")
(('s1',), True, None)
>>> tokens.revoke(made.id, "ana").revoked_utc is not None, tokens.user_for(text)
(True, None)
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select, update

from storewatch.store.access_models import ApiTokenRow
from storewatch.store.db import Database
from storewatch.web.access_audit import AccessAudit
from storewatch.web.errors import ForbiddenError, InvalidError, NotFoundError
from storewatch.web.permissions import CAPABILITIES, TOKEN_CAPABILITIES, Capability, Role
from storewatch.web.scope import beyond
from storewatch.web.users import ALL_STORES, User

PREFIX = "swt_"
SHOWN_CHARS = 10
LAST_USED_EVERY_S = 60.0
"""``last_used_utc`` is written at most this often per token (not on every request)."""


class TokenIn(BaseModel):
    """A new token: its name, what it may do and where, and when it stops working."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64, description="What uses it, e.g. 'POS feed, store 12'.")
    capabilities: list[Capability] = Field(
        default_factory=lambda: sorted(CAPABILITIES[Role.INTEGRATION]),
        description="What it may do (default: the integration role's).",
    )
    stores: list[str] = Field(min_length=1, description="Store ids it may reach; ['*']: every store.")
    expires_days: int | None = Field(None, ge=1, le=3650, description="Stops working after this many days.")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("give the token a name")
        return value.strip()

    @field_validator("capabilities")
    @classmethod
    def _capabilities(cls, value: list[Capability]) -> list[Capability]:
        if not value:
            raise ValueError("choose at least one thing the token may do")
        refused = [c.value for c in value if c not in TOKEN_CAPABILITIES]
        if refused:
            raise ValueError(f"a token cannot have {', '.join(refused)}")
        return sorted(set(value))


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: str
    name: str
    prefix: str
    capabilities: tuple[Capability, ...]
    stores: tuple[str, ...]
    created_by: str
    created_utc: datetime
    expires_utc: datetime | None
    last_used_utc: datetime | None
    revoked_utc: datetime | None

    def active(self, now: datetime) -> bool:
        return self.revoked_utc is None and (self.expires_utc is None or self.expires_utc > now)

    @classmethod
    def of(cls, row: ApiTokenRow) -> ApiToken:
        caps = tuple(Capability(c) for c in row.capabilities if c in Capability.__members__.values())
        return cls(row.id, row.name, row.prefix, caps, tuple(row.stores), row.created_by, row.created_utc,
                   row.expires_utc, row.last_used_utc, row.revoked_utc)  # fmt: skip


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class TokenService:
    def __init__(self, database: Database, audit: AccessAudit | None = None) -> None:
        self.db = database
        self.audit = audit or AccessAudit()

    def create(
        self, body: TokenIn, actor: str, known_stores: set[str] | None = None, within: Sequence[str] | None = None
    ) -> tuple[ApiToken, str]:
        """The token and its text (shown once: only its hash is kept). ``within``: the stores of the administrator
        making it (a token reaching any other store is refused: nobody widens their reach through a token)."""
        outside = beyond(body.stores, within) if within is not None else []
        if outside:
            raise ForbiddenError(
                f"a token you make can reach only your own stores ({', '.join(within or ())}), not "
                f"{', '.join(outside)}",
                field="stores",
            )
        if known_stores is not None:
            unknown = sorted(s for s in body.stores if s != ALL_STORES and s not in known_stores)
            if unknown:
                raise InvalidError(f"no store {', '.join(unknown)} here", field="stores")
        text = PREFIX + secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        expires = now + timedelta(days=body.expires_days) if body.expires_days else None
        with self.db.session() as session:
            row = ApiTokenRow(
                name=body.name,
                prefix=text[:SHOWN_CHARS],
                token_sha256=digest(text),
                capabilities=[c.value for c in body.capabilities],
                stores=sorted(set(body.stores)),
                created_by=actor,
                created_utc=now,
                expires_utc=expires,
            )
            session.add(row)
            session.flush()
            token = ApiToken.of(row)
        self.audit.token_changed(actor, token.id, token.name, "created")
        return token, text

    def every(self) -> list[ApiToken]:
        with self.db.session() as session:
            rows = session.scalars(select(ApiTokenRow).order_by(ApiTokenRow.created_utc.desc()))
            return [ApiToken.of(r) for r in rows]

    def revoke(self, token_id: str, actor: str, within: Sequence[str] | None = None) -> ApiToken:
        """Revoke a token; ``within``: the revoking administrator's stores (a token reaching others is refused)."""
        now = datetime.now(UTC)
        with self.db.session() as session:
            row = session.get(ApiTokenRow, token_id)
            if row is None:
                raise NotFoundError(f"no API token {token_id!r}")
            outside = beyond(row.stores, within) if within is not None else []
            if outside:
                raise ForbiddenError(f"the token {row.name!r} reaches {', '.join(outside)}, outside your stores")
            if row.revoked_utc is None:
                row.revoked_utc = now
            token = ApiToken.of(row)
        self.audit.token_changed(actor, token.id, token.name, "revoked")
        return token

    def user_for(self, text: str) -> User | None:
        """Who a bearer token acts as (None: unknown, revoked or expired)."""
        if not text.startswith(PREFIX) or len(text) > 128:
            return None
        now = datetime.now(UTC)
        with self.db.session() as session:
            row = session.scalar(select(ApiTokenRow).where(ApiTokenRow.token_sha256 == digest(text)))
            if row is None:
                return None
            token = ApiToken.of(row)
            if not token.active(now):
                return None
            if token.last_used_utc is None or (now - token.last_used_utc).total_seconds() >= LAST_USED_EVERY_S:
                session.execute(update(ApiTokenRow).where(ApiTokenRow.id == token.id).values(last_used_utc=now))
        user = User(f"t{token.id[:31]}", f"token:{token.name}", token.name, Role.INTEGRATION, token.stores, False, "")
        return user.with_token(token.id, frozenset(token.capabilities))
