"""Managing accounts (administrators; ``permissions.Capability.MANAGE_USERS``): create with a password shown once,
change role, stores and name, disable and enable, unlock, reset the password (shown once).

The site always keeps one enabled administrator over every store: the last one cannot be disabled, demoted or
narrowed, and nobody disables themselves. Every change is reported to ``AccessAudit.user_changed``.

An administrator scoped to some stores manages only within them: they give only their own stores (never "all
stores"), and change only accounts whose stores are all theirs (``beyond``); anything else is refused (403), so
nobody can widen their own reach by making or editing an account.

>>> from storewatch.store.db import open_database
>>> from storewatch.store.migrate import upgrade
>>> db = open_database("sqlite://"); upgrade(db)
>>> accounts = UserAdminService(db)
>>> user, password = accounts.create(UserCreateIn(username="cy", role=Role.GUARD, stores=["s1"]), "ana")
>>> user.role, len(password)
(<Role.GUARD: 'guard'>, 16)
>>> accounts.edit(user.id, UserEditIn(role=Role.STORE_MANAGER, stores=["s1", "s2"]), "ana").stores
('s1', 's2')
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from storewatch.store.db import Database
from storewatch.web.access_audit import AccessAudit
from storewatch.web.auth import hash_password, new_password, password_problem
from storewatch.web.errors import ConflictError, ForbiddenError, InvalidError, NotFoundError
from storewatch.web.permissions import Role
from storewatch.web.scope import beyond
from storewatch.web.users import ALL_STORES, USERNAME, User, UserExistsError, UserRepository

STORE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def _stores(value: list[str]) -> list[str]:
    stores = sorted({s.strip() for s in value if s.strip()})
    if not stores:
        raise ValueError("choose at least one store (or all stores)")
    if ALL_STORES in stores:
        return [ALL_STORES]
    bad = [s for s in stores if not STORE_ID.fullmatch(s)]
    if bad:
        raise ValueError(f"{bad[0]!r} is not a store id")
    return stores


class UserEditIn(BaseModel):
    """What an administrator changes of an account."""

    model_config = ConfigDict(extra="forbid")

    display_name: str = Field("", max_length=128, description="The name people see.")
    role: Role = Field(description="What the user may do (see the permissions matrix).")
    stores: list[str] = Field(description="Store ids the user works in; ['*']: every store.")

    @field_validator("stores")
    @classmethod
    def _check_stores(cls, value: list[str]) -> list[str]:
        return _stores(value)


class UserCreateIn(UserEditIn):
    """A new account; without ``password`` one is made and shown once."""

    username: str = Field(min_length=1, max_length=64, description="What they log in with.")
    password: str | None = Field(None, max_length=1024, description="Typed password; none: a random one.")

    @field_validator("username")
    @classmethod
    def _username(cls, value: str) -> str:
        if not USERNAME.fullmatch(value.strip()):
            raise ValueError("use 1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit")
        return value.strip()


class UserAdminService:
    def __init__(self, database: Database, audit: AccessAudit | None = None) -> None:
        self.users = UserRepository(database)
        self.audit = audit or AccessAudit()

    def every(self) -> list[User]:
        return self.users.every()

    def get(self, user_id: str) -> User:
        user = self.users.get(user_id)
        if user is None:
            raise NotFoundError(f"no user {user_id!r}")
        return user

    def create(
        self, body: UserCreateIn, actor: User | str, known_stores: set[str] | None = None
    ) -> tuple[User, str | None]:
        """The new user and the password to show once (None when the administrator typed it)."""
        _known(body.stores, known_stores)
        _within(body.stores, actor)
        password = body.password or new_password()
        problem = password_problem(password, body.username)
        if body.password is not None and problem:
            raise InvalidError(problem, field="password")
        try:
            user = self.users.create(body.username, hash_password(password), body.role, body.stores, body.display_name)
        except UserExistsError as exc:
            raise ConflictError(str(exc), field="username") from exc
        detail = {"role": user.role.value, "stores": list(user.stores)}
        self.audit.user_changed(_name(actor), user.id, user.username, "created", detail)
        return user, None if body.password else password

    def edit(self, user_id: str, body: UserEditIn, actor: User | str, known_stores: set[str] | None = None) -> User:
        user = self.managed(user_id, actor)
        _known(body.stores, known_stores)
        _within(body.stores, actor)
        if _is_full_admin(user) and not (body.role == Role.ADMIN and body.stores == [ALL_STORES]):
            self._keep_an_admin(user, "change the role or stores of")
        changed = self.users.change(user_id, role=body.role, stores=body.stores, display_name=body.display_name)
        assert changed is not None
        detail = {"role": changed.role.value, "stores": list(changed.stores), "was": [user.role.value, *user.stores]}
        self.audit.user_changed(_name(actor), user.id, user.username, "edited", detail)
        return changed

    def managed(self, user_id: str, actor: User | str) -> User:
        """The user ``actor`` may change: ``ForbiddenError`` when they work in a store outside the actor's."""
        user = self.get(user_id)
        if isinstance(actor, User) and beyond(user.stores, actor.stores):
            raise ForbiddenError(
                f"{user.username} works in {', '.join(beyond(user.stores, actor.stores))}, outside your stores: "
                "an administrator over those stores must change this account"
            )
        return user

    def set_disabled(self, user_id: str, disabled: bool, actor: User | str) -> User:
        user = self.managed(user_id, actor)
        if disabled and isinstance(actor, User) and actor.id == user.id:
            raise ConflictError("you cannot disable your own account")
        if disabled and _is_full_admin(user):
            self._keep_an_admin(user, "disable")
        changed = self.users.change(user_id, disabled=disabled)
        assert changed is not None
        self.audit.user_changed(_name(actor), user.id, user.username, "disabled" if disabled else "enabled", {})
        return changed

    def unlock(self, user_id: str, actor: User | str) -> User:
        user = self.managed(user_id, actor)
        changed = self.users.change(user_id, failed_logins=0, locked_until_utc=None)
        assert changed is not None
        self.audit.user_changed(_name(actor), user.id, user.username, "unlocked", {})
        return changed

    def reset_password(self, user_id: str, actor: User | str) -> tuple[User, str]:
        """A new random password (shown once); the user's sessions end and a lockout is lifted."""
        user = self.managed(user_id, actor)
        password = new_password()
        changed = self.users.change(
            user_id, password_hash=hash_password(password), failed_logins=0, locked_until_utc=None
        )
        assert changed is not None
        self.audit.user_changed(_name(actor), user.id, user.username, "password_reset", {})
        return changed, password

    def _keep_an_admin(self, user: User, verb: str) -> None:
        others = [u for u in self.users.every() if u.id != user.id and _is_full_admin(u) and not u.disabled]
        if not others:
            raise ConflictError(f"you cannot {verb} the last administrator over every store: make another first")


def _is_full_admin(user: User) -> bool:
    return user.role == Role.ADMIN and ALL_STORES in user.stores and not user.disabled


def _known(stores: list[str], known: set[str] | None) -> None:
    unknown = [s for s in stores if s != ALL_STORES and known is not None and s not in known]
    if unknown:
        raise InvalidError(f"no store {', '.join(unknown)} here", field="stores")


def _within(stores: list[str], actor: User | str) -> None:
    outside = beyond(stores, actor.stores) if isinstance(actor, User) else []
    if outside:
        mine = ", ".join(actor.stores) if isinstance(actor, User) else ""
        raise ForbiddenError(f"you can give only your own stores ({mine}), not {', '.join(outside)}", field="stores")


def _name(actor: User | str) -> str:
    return actor.name if isinstance(actor, User) else actor
