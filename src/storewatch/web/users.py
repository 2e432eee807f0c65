"""Dashboard accounts in the ``users`` table: a small repository (the SQL) and the ``User`` the app passes around.

A user sees the stores in ``stores`` (``["*"]``: every store) and may do what their role's capabilities allow
(``web.permissions``); ``disabled`` users cannot log in and their sessions stop working at once. A ``User`` also
stands for an API token (``web.tokens``): then ``token_id`` is set and ``capabilities`` are the token's own.

>>> from storewatch.store.db import open_database
>>> from storewatch.store.migrate import upgrade
>>> db = open_database("sqlite://"); upgrade(db)
>>> repo = UserRepository(db)
>>> repo.create("ana", "argon2-hash", Role.GUARD, ["s1"]).stores
('s1',)
>>> repo.by_username("ana").role, repo.count()
(<Role.GUARD: 'guard'>, 1)
>>> repo.by_username("ana").can(Capability.ACKNOWLEDGE)
True
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from storewatch.errors import StorewatchError
from storewatch.store.db import Database
from storewatch.store.models import UserRow
from storewatch.web.permissions import CAPABILITIES, Capability, Role

__all__ = ["ALL_STORES", "USERNAME", "Capability", "Role", "User", "UserExistsError", "UserRepository"]

ALL_STORES = "*"
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


class UserExistsError(StorewatchError):
    """Another account has that user name."""


@dataclass(frozen=True, slots=True)
class User:
    id: str
    username: str
    display_name: str
    role: Role
    stores: tuple[str, ...]
    disabled: bool
    password_hash: str
    last_login_utc: datetime | None = None
    failed_logins: int = 0
    locked_until_utc: datetime | None = None
    session_version: int = 0
    capabilities: frozenset[Capability] | None = None
    """None: the role's (``web.permissions.CAPABILITIES``); an API token's own set otherwise."""
    token_id: str | None = None
    """Set when the request came with an API token (``Authorization: Bearer``), not a session."""

    @property
    def name(self) -> str:
        """What the timeline and the chain of custody record as the actor."""
        return self.username

    def can(self, capability: Capability) -> bool:
        allowed = CAPABILITIES[self.role] if self.capabilities is None else self.capabilities
        return capability in allowed

    def locked(self, now: datetime) -> bool:
        return self.locked_until_utc is not None and self.locked_until_utc > now

    @classmethod
    def of(cls, row: UserRow) -> User:
        try:
            role = Role(row.role)
        except ValueError:
            role = Role.INVESTIGATOR  # an unknown stored value: the role that changes nothing of the site
        return cls(
            row.id,
            row.username,
            row.display_name,
            role,
            tuple(row.stores),
            row.disabled,
            row.password_hash,
            row.last_login_utc,
            row.failed_logins or 0,
            row.locked_until_utc,
            row.session_version or 0,
        )

    def with_token(self, token_id: str, capabilities: frozenset[Capability]) -> User:
        return replace(self, token_id=token_id, capabilities=capabilities)


class UserRepository:
    def __init__(self, database: Database) -> None:
        self.db = database

    def count(self) -> int:
        with self.db.session() as session:
            return int(session.scalar(select(func.count()).select_from(UserRow)) or 0)

    def every(self) -> list[User]:
        with self.db.session() as session:
            return [User.of(r) for r in session.scalars(select(UserRow).order_by(UserRow.username))]

    def get(self, user_id: str) -> User | None:
        with self.db.session() as session:
            row = session.get(UserRow, user_id)
            return None if row is None else User.of(row)

    def by_username(self, username: str) -> User | None:
        with self.db.session() as session:
            row = session.scalar(select(UserRow).where(UserRow.username == username))
            return None if row is None else User.of(row)

    def create(
        self, username: str, password_hash: str, role: Role, stores: Sequence[str], display_name: str = ""
    ) -> User:
        if not USERNAME.fullmatch(username):
            raise StorewatchError(f"{username!r} is not a user name: 1-64 letters, digits, '.', '_', '@' or '-'")
        try:
            with self.db.session() as session:
                row = UserRow(
                    username=username,
                    display_name=display_name,
                    password_hash=password_hash,
                    role=role.value,
                    stores=list(stores),
                    disabled=False,
                    failed_logins=0,
                    session_version=0,
                )
                session.add(row)
                session.flush()
                return User.of(row)
        except IntegrityError as exc:
            raise UserExistsError(f"a user named {username!r} exists already") from exc

    def change(self, user_id: str, **values: Any) -> User | None:
        """Set columns of one user (``role`` as a ``Role``); the user as changed, None when there is none."""
        if "role" in values:
            values["role"] = Role(values["role"]).value
        if "stores" in values:
            values["stores"] = list(values["stores"])
        with self.db.session() as session:
            row = session.get(UserRow, user_id)
            if row is None:
                return None
            for key, value in values.items():
                setattr(row, key, value)
            session.flush()
            return User.of(row)

    def logged_in(self, user_id: str, at: datetime) -> None:
        with self.db.session() as session:
            session.execute(
                update(UserRow)
                .where(UserRow.id == user_id)
                .values(last_login_utc=at, failed_logins=0, locked_until_utc=None)
            )

    def failed(self, user_id: str, at: datetime, limit: int, lock_s: float) -> bool:
        """Count a wrong password; at ``limit`` the account is locked for ``lock_s`` (and the count starts over).
        True when this failure locked it."""
        with self.db.session() as session:
            row = session.get(UserRow, user_id)
            if row is None:
                return False
            row.failed_logins = (row.failed_logins or 0) + 1
            if row.failed_logins < limit:
                return False
            row.failed_logins, row.locked_until_utc = 0, at + timedelta(seconds=lock_s)
            return True

    def end_sessions(self, user_id: str) -> None:
        """Every session cookie of the user stops working (it signs the session version)."""
        with self.db.session() as session:
            session.execute(
                update(UserRow).where(UserRow.id == user_id).values(session_version=UserRow.session_version + 1)
            )
