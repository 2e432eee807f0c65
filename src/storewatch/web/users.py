"""Dashboard accounts in the ``users`` table: a small repository (the SQL) and the ``User`` the app passes around.

A user sees the stores in ``stores`` (``["*"]``: every store). Roles are recorded now and enforced by the security
issue; ``disabled`` users cannot log in and their sessions stop working at once.

>>> from storewatch.store.db import open_database
>>> from storewatch.store.migrate import upgrade
>>> db = open_database("sqlite://"); upgrade(db)
>>> repo = UserRepository(db)
>>> repo.create("ana", "argon2-hash", Role.GUARD, ["s1"]).stores
('s1',)
>>> repo.by_username("ana").role, repo.count()
(<Role.GUARD: 'guard'>, 1)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from storewatch.errors import StorewatchError
from storewatch.store.db import Database
from storewatch.store.models import UserRow

ALL_STORES = "*"
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    GUARD = "guard"
    VIEWER = "viewer"


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

    @property
    def name(self) -> str:
        """What the timeline and the chain of custody record as the actor."""
        return self.username

    @classmethod
    def of(cls, row: UserRow) -> User:
        role = Role(row.role) if row.role in Role.__members__.values() else Role.VIEWER
        return cls(row.id, row.username, row.display_name, role, tuple(row.stores), row.disabled, row.password_hash)


class UserRepository:
    def __init__(self, database: Database) -> None:
        self.db = database

    def count(self) -> int:
        with self.db.session() as session:
            return int(session.scalar(select(func.count()).select_from(UserRow)) or 0)

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
                )
                session.add(row)
                session.flush()
                return User.of(row)
        except IntegrityError as exc:
            raise UserExistsError(f"a user named {username!r} exists already") from exc

    def logged_in(self, user_id: str, at: datetime) -> None:
        with self.db.session() as session:
            session.execute(update(UserRow).where(UserRow.id == user_id).values(last_login_utc=at))
