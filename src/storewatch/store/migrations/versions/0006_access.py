"""Access control: API tokens, login lockout and "sign out everywhere" on users, and the seven roles.

``users`` gains ``failed_logins``, ``locked_until_utc`` and ``session_version``; ``api_tokens`` holds scoped API
tokens (their SHA-256, never the text). Role values of earlier versions are rewritten: ``manager`` becomes
``store_manager``, ``viewer`` becomes ``investigator`` (``web.permissions.LEGACY_ROLES``; downgrade maps back, and
the roles that did not exist become ``viewer``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
RENAMED = {"manager": "store_manager", "viewer": "investigator"}
NEW_ROLES = ("regional_manager", "privacy_officer", "integration")


def _utc(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _str(name: str, length: int, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=length), nullable=nullable)


def _set_role(old: str, new: str) -> None:
    op.execute(sa.text("UPDATE users SET role = :new WHERE role = :old").bindparams(old=old, new=new))


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(_utc("locked_until_utc", nullable=True))
        batch.add_column(sa.Column("session_version", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("users") as batch:  # the defaults were for the rows already there
        batch.alter_column("failed_logins", server_default=None)
        batch.alter_column("session_version", server_default=None)
    for old, new in RENAMED.items():
        _set_role(old, new)
    op.create_table(
        "api_tokens",
        _str("id", 32),
        _str("name", 64),
        _str("prefix", 16),
        _str("token_sha256", 64),
        sa.Column("capabilities", JSON, nullable=False),
        sa.Column("stores", JSON, nullable=False),
        _str("created_by", 128),
        _utc("created_utc"),
        _utc("expires_utc", nullable=True),
        _utc("last_used_utc", nullable=True),
        _utc("revoked_utc", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_api_tokens_token_sha256")),
    )


def downgrade() -> None:
    op.drop_table("api_tokens")
    for old, new in RENAMED.items():
        _set_role(new, old)
    for role in NEW_ROLES:
        _set_role(role, "viewer")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_version")
        batch.drop_column("locked_until_utc")
        batch.drop_column("failed_logins")
