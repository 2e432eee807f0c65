"""POS ingest: till transactions (unique by store, register and sequence), the exception rules' findings, and the
quarantine of records that could not be read.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _utc(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _str(name: str, length: int, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=length), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "pos_transactions",
        _str("id", 160),
        _str("store", 64),
        _str("register", 64),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        _str("type", 16),
        _str("status", 16),
        sa.Column("business_day", sa.Date(), nullable=True),
        _utc("start_utc", nullable=True),
        _utc("end_utc"),
        _str("operator", 64, nullable=True),
        _str("currency", 3, nullable=True),
        sa.Column("total_minor", sa.BigInteger(), nullable=True),
        sa.Column("void_lines", sa.Integer(), nullable=False),
        sa.Column("refund", sa.Boolean(), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        _str("fingerprint", 64),
        _str("source", 300),
        _utc("ingested_utc"),
        _utc("updated_utc"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pos_transactions")),
        sa.UniqueConstraint("store", "register", "sequence", name=op.f("uq_pos_transactions_store_register_sequence")),
    )
    op.create_index("ix_pos_transactions_store_end_utc", "pos_transactions", ["store", "end_utc"])
    op.create_index(
        "ix_pos_transactions_store_business_day_operator", "pos_transactions", ["store", "business_day", "operator"]
    )
    op.create_table(
        "pos_exceptions",
        _str("id", 255),
        _str("code", 40),
        _str("store", 64),
        _str("register", 64, nullable=True),
        sa.Column("sequence", sa.BigInteger(), nullable=True),
        _str("operator", 64, nullable=True),
        _utc("at_utc"),
        _utc("period_start_utc", nullable=True),
        _utc("period_end_utc", nullable=True),
        sa.Column("values", JSON, nullable=False),
        _str("explanation", 500),
        _str("camera", 128, nullable=True),
        _utc("clip_start_utc", nullable=True),
        _utc("clip_end_utc", nullable=True),
        _utc("created_utc"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pos_exceptions")),
    )
    op.create_index("ix_pos_exceptions_store_at_utc", "pos_exceptions", ["store", "at_utc"])
    op.create_index("ix_pos_exceptions_code_at_utc", "pos_exceptions", ["code", "at_utc"])
    op.create_table(
        "pos_quarantine",
        _str("id", 64),
        _str("source", 500),
        _str("record", 300),
        _str("path", 300),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=True),
        _utc("received_utc"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pos_quarantine")),
    )
    op.create_index("ix_pos_quarantine_received_utc", "pos_quarantine", ["received_utc"])


def downgrade() -> None:
    op.drop_index("ix_pos_quarantine_received_utc", table_name="pos_quarantine")
    op.drop_table("pos_quarantine")
    op.drop_index("ix_pos_exceptions_code_at_utc", table_name="pos_exceptions")
    op.drop_index("ix_pos_exceptions_store_at_utc", table_name="pos_exceptions")
    op.drop_table("pos_exceptions")
    op.drop_index("ix_pos_transactions_store_business_day_operator", table_name="pos_transactions")
    op.drop_index("ix_pos_transactions_store_end_utc", table_name="pos_transactions")
    op.drop_table("pos_transactions")
