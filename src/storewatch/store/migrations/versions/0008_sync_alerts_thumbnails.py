"""Sync of alerts and thumbnails: the edge's marks of what it last sent of each alert (``sync_alerts``) and the
hub's thumbnails of event snapshots (``hub_thumbnails``).

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _str(name: str, length: int, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=length), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "sync_alerts",
        _str("alert_id", 32),
        _str("fingerprint", 160),
        _utc("synced_utc"),
        sa.PrimaryKeyConstraint("alert_id", name=op.f("pk_sync_alerts")),
    )
    op.create_table(
        "hub_thumbnails",
        _str("event_id", 128),
        _str("store", 64),
        _str("camera", 128),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("jpeg", sa.LargeBinary(), nullable=False),
        _utc("received_utc"),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_hub_thumbnails")),
    )
    op.create_index("ix_hub_thumbnails_store", "hub_thumbnails", ["store"])


def downgrade() -> None:
    op.drop_index("ix_hub_thumbnails_store", table_name="hub_thumbnails")
    op.drop_table("hub_thumbnails")
    op.drop_table("sync_alerts")
