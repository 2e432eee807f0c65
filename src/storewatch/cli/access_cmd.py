"""``storewatch users ...`` and ``storewatch tokens ...``: accounts and API tokens from the shell, for the first
setup, scripts, and the day the only administrator is locked out.

They work on the database of ``--data-dir`` / ``--database`` through the same services as the dashboard's pages
(the same checks: the last administrator stays, passwords are shown once); the actor recorded is ``cli``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from storewatch.cli.database import DatabaseOpt, DataDirOpt, open_store
from storewatch.errors import StorewatchError

if TYPE_CHECKING:
    from storewatch.web.users import UserRepository

users_app = typer.Typer(
    help="Dashboard accounts: list, create, reset a password, unlock, disable.", no_args_is_help=True
)
tokens_app = typer.Typer(help="API tokens for integrations: create (shown once), list, revoke.", no_args_is_help=True)
ACTOR = "cli"
StoresOpt = Annotated[list[str], typer.Option("--store", help="A store id (repeat); '*': every store.")]


def _problem(exc: ValidationError) -> StorewatchError:
    first = exc.errors()[0]
    where = ".".join(str(x) for x in first["loc"]) or "input"
    return StorewatchError(f"{where}: {str(first['msg']).removeprefix('Value error, ')}")


def _print_secret(what: str, name: str, secret: str) -> None:
    typer.echo(f"{what} of {name} (shown once, not stored):")
    typer.echo(secret)


@users_app.command("list")
def list_users(
    data_dir: DataDirOpt = None,
    database: DatabaseOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON: one object per user.")] = False,
) -> None:
    """Every account with its role, stores, last login and status."""
    from datetime import UTC, datetime

    from storewatch.web.users import UserRepository

    with open_store(data_dir, database) as db:
        users = UserRepository(db).every()
    now = datetime.now(UTC)
    rows: list[dict[str, str]] = [
        {
            "username": u.username,
            "role": u.role.value,
            "stores": ",".join(u.stores),
            "last_login_utc": u.last_login_utc.isoformat(timespec="seconds") if u.last_login_utc else "never",
            "status": "disabled" if u.disabled else "locked" if u.locked(now) else "active",
        }
        for u in users
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table("user", "role", "stores", "last login (UTC)", "status")
    for r in rows:
        table.add_row(*r.values())
    Console().print(table)


@users_app.command("create")
def create_user(
    username: str,
    role: Annotated[str, typer.Option(help="admin, regional_manager, store_manager, investigator, guard, ...")],
    store: StoresOpt,
    name: Annotated[str, typer.Option(help="The name people see.")] = "",
    data_dir: DataDirOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Make an account with a random password, printed once."""
    from storewatch.web.access_service import UserAdminService, UserCreateIn

    try:
        body = UserCreateIn.model_validate({"username": username, "role": role, "stores": store, "display_name": name})
    except ValidationError as exc:
        raise _problem(exc) from None
    with open_store(data_dir, database) as db:
        user, password = UserAdminService(db).create(body, ACTOR)
    _print_secret("password", user.username, password or "")


def _user_id(users: UserRepository, username: str) -> str:
    user = users.by_username(username)
    if user is None:
        raise StorewatchError(f"no user {username!r}", fix="`storewatch users list` shows them")
    return user.id


@users_app.command("reset-password")
def reset_password(username: str, data_dir: DataDirOpt = None, database: DatabaseOpt = None) -> None:
    """A new random password (printed once); the user's sessions end and a lockout is lifted."""
    from storewatch.web.access_service import UserAdminService

    with open_store(data_dir, database) as db:
        accounts = UserAdminService(db)
        user, password = accounts.reset_password(_user_id(accounts.users, username), ACTOR)
    _print_secret("new password", user.username, password)


@users_app.command("unlock")
def unlock(username: str, data_dir: DataDirOpt = None, database: DatabaseOpt = None) -> None:
    """Lift a login lockout now."""
    from storewatch.web.access_service import UserAdminService

    with open_store(data_dir, database) as db:
        accounts = UserAdminService(db)
        accounts.unlock(_user_id(accounts.users, username), ACTOR)
    typer.echo(f"{username} unlocked")


@users_app.command("disable")
def disable(
    username: str,
    enable: Annotated[bool, typer.Option("--enable", help="Enable instead.")] = False,
    data_dir: DataDirOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Disable an account (it cannot log in; its sessions end), or enable it again with --enable."""
    from storewatch.web.access_service import UserAdminService

    with open_store(data_dir, database) as db:
        accounts = UserAdminService(db)
        accounts.set_disabled(_user_id(accounts.users, username), not enable, ACTOR)
    typer.echo(f"{username} {'enabled' if enable else 'disabled'}")


@tokens_app.command("create")
def create_token(
    name: str,
    store: StoresOpt,
    can: Annotated[
        list[str] | None, typer.Option("--can", help="A capability (repeat), e.g. pos.ingest; default: integration's.")
    ] = None,
    expires_days: Annotated[int | None, typer.Option(help="Stops working after this many days.")] = None,
    data_dir: DataDirOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Make an API token, printed once (only its hash is stored)."""
    from storewatch.web.tokens import TokenIn, TokenService

    fields: dict[str, object] = {"name": name, "stores": store, "expires_days": expires_days}
    if can:
        fields["capabilities"] = can
    try:
        body = TokenIn.model_validate(fields)
    except ValidationError as exc:
        raise _problem(exc) from None
    with open_store(data_dir, database) as db:
        token, text = TokenService(db).create(body, ACTOR)
    _print_secret("API token", token.name, text)


@tokens_app.command("list")
def list_tokens(
    data_dir: DataDirOpt = None,
    database: DatabaseOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON: one object per token.")] = False,
) -> None:
    """Every token: id, name, first characters, what it may do, stores, last use, status."""
    from datetime import UTC, datetime

    from storewatch.web.tokens import TokenService

    with open_store(data_dir, database) as db:
        tokens = TokenService(db).every()
    now = datetime.now(UTC)
    rows = [
        {
            "id": t.id,
            "name": t.name,
            "token": t.prefix + "…",
            "may": ",".join(t.capabilities),
            "stores": ",".join(t.stores),
            "last_used_utc": t.last_used_utc.isoformat(timespec="seconds") if t.last_used_utc else "never",
            "status": "revoked" if t.revoked_utc else "active" if t.active(now) else "expired",
        }
        for t in tokens
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table("id", "name", "token", "may", "stores", "last used (UTC)", "status")
    for r in rows:
        table.add_row(*r.values())
    Console().print(table)


@tokens_app.command("revoke")
def revoke_token(token_id: str, data_dir: DataDirOpt = None, database: DatabaseOpt = None) -> None:
    """Revoke a token by its id (`storewatch tokens list`); it stops working at once."""
    from storewatch.web.tokens import TokenService

    with open_store(data_dir, database) as db:
        token = TokenService(db).revoke(token_id, ACTOR)
    typer.echo(f"token {token.name} revoked")
