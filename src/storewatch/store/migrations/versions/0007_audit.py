"""Audit log: every view, search, export, change and login, in a hash chain.

Revision ID: 0007
Revises: 0005 (written beside 0006; re-pointed when both land)
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False),
        sa.Column("at_utc", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("store", sa.String(length=64), nullable=True),
        sa.Column("target", sa.String(length=600), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_log_hash")),
        sa.UniqueConstraint("prev_hash", name=op.f("uq_audit_log_prev_hash")),
    )
    op.create_index("ix_audit_log_at_utc", "audit_log", ["at_utc"])
    op.create_index("ix_audit_log_actor_at_utc", "audit_log", ["actor", "at_utc"])
    op.create_index("ix_audit_log_action_at_utc", "audit_log", ["action", "at_utc"])
    op.create_index("ix_audit_log_store_at_utc", "audit_log", ["store", "at_utc"])


def downgrade() -> None:
    for name in ("ix_audit_log_store_at_utc", "ix_audit_log_action_at_utc", "ix_audit_log_actor_at_utc",
                 "ix_audit_log_at_utc"):  # fmt: skip
        op.drop_index(name, table_name="audit_log")
    op.drop_table("audit_log")
