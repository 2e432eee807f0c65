"""Door access: badge and door-state events (one row per event, keyed by a hash of its identity), the access
rules' findings, and the quarantine of records that could not be read.

Revision ID: 0009
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _utc(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _str(name: str, length: int, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=length), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "access_events",
        _str("id", 64),
        _str("store", 64),
        _str("door", 64),
        _str("kind", 16),
        _str("badge", 64, nullable=True),
        _str("person", 120, nullable=True),
        _str("result", 16, nullable=True),
        _utc("at_utc"),
        _str("source", 300),
        _utc("received_utc"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_events")),
    )
    op.create_index("ix_access_events_store_door_at_utc", "access_events", ["store", "door", "at_utc"])
    op.create_table(
        "access_exceptions",
        _str("id", 255),
        _str("code", 40),
        _str("store", 64),
        _str("door", 64),
        _utc("at_utc"),
        _str("badge", 64, nullable=True),
        _str("person", 120, nullable=True),
        sa.Column("values", JSON, nullable=False),
        _str("explanation", 500),
        _str("camera", 128, nullable=True),
        _utc("clip_start_utc", nullable=True),
        _utc("clip_end_utc", nullable=True),
        _utc("created_utc"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_exceptions")),
    )
    op.create_index("ix_access_exceptions_store_at_utc", "access_exceptions", ["store", "at_utc"])
    op.create_table(
        "access_quarantine",
        _str("id", 64),
        _str("source", 500),
        _str("record", 300),
        _str("path", 300),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=True),
        _utc("received_utc"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_quarantine")),
    )
    op.create_index("ix_access_quarantine_received_utc", "access_quarantine", ["received_utc"])


def downgrade() -> None:
    op.drop_index("ix_access_quarantine_received_utc", table_name="access_quarantine")
    op.drop_table("access_quarantine")
    op.drop_index("ix_access_exceptions_store_at_utc", table_name="access_exceptions")
    op.drop_table("access_exceptions")
    op.drop_index("ix_access_events_store_door_at_utc", table_name="access_events")
    op.drop_table("access_events")
