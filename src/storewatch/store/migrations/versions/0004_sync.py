"""Hub and edge sync: the edge's outbox, sequence numbers, incident marks and pushed configuration; the hub's
received sequence numbers, registry of stores and cameras, and configuration versions.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
LOG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _utc(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _str(name: str, length: int, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=length), nullable=nullable)


def _big(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "sync_outbox",
        sa.Column("id", LOG_ID, autoincrement=True, nullable=False),
        _str("msg_id", 32),
        _str("kind", 16),
        _str("store", 64),
        _str("camera", 128),
        _big("seq"),
        _utc("created_utc"),
        sa.Column("payload", JSON, nullable=False),
        _str("status", 16),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _utc("sent_utc", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_outbox")),
        sa.UniqueConstraint("msg_id", name=op.f("uq_sync_outbox_msg_id")),
    )
    op.create_index("ix_sync_outbox_status_id", "sync_outbox", ["status", "id"])
    op.create_index("ix_sync_outbox_store_camera_seq", "sync_outbox", ["store", "camera", "seq"], unique=True)
    op.create_table(
        "sync_sequences",
        _str("store", 64),
        _str("camera", 128),
        _big("last_seq"),
        sa.PrimaryKeyConstraint("store", "camera", name=op.f("pk_sync_sequences")),
    )
    op.create_table(
        "sync_incidents",
        _str("incident_id", 32),
        _str("fingerprint", 128),
        _utc("synced_utc"),
        sa.PrimaryKeyConstraint("incident_id", name=op.f("pk_sync_incidents")),
    )
    op.create_table(
        "edge_config",
        _str("store", 64),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("config", JSON, nullable=False),
        _utc("received_utc"),
        _utc("applied_utc", nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("store", name=op.f("pk_edge_config")),
    )
    op.create_table(
        "sync_received",
        _str("store", 64),
        _str("camera", 128),
        _big("last_seq"),
        _big("received"),
        _big("gaps"),
        _big("late"),
        _utc("updated_utc"),
        sa.PrimaryKeyConstraint("store", "camera", name=op.f("pk_sync_received")),
    )
    op.create_table(
        "hub_stores",
        _str("id", 64),
        _utc("first_seen_utc"),
        _utc("last_seen_utc"),
        sa.Column("config_version", sa.Integer(), nullable=True),
        sa.Column("config_ok", sa.Boolean(), nullable=False),
        sa.Column("config_error", sa.Text(), nullable=True),
        _utc("config_acked_utc", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_stores")),
    )
    op.create_table(
        "hub_cameras",
        _str("store", 64),
        _str("camera", 128),
        _str("health", 16),
        _str("health_reason", 500),
        _utc("health_since_utc", nullable=True),
        _utc("first_seen_utc"),
        _utc("last_seen_utc"),
        _utc("last_event_utc", nullable=True),
        sa.PrimaryKeyConstraint("store", "camera", name=op.f("pk_hub_cameras")),
    )
    op.create_table(
        "hub_configs",
        _str("store", 64),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("config", JSON, nullable=False),
        _utc("created_utc"),
        _str("created_by", 128),
        sa.PrimaryKeyConstraint("store", "version", name=op.f("pk_hub_configs")),
    )


def downgrade() -> None:
    for table in ("hub_configs", "hub_cameras", "hub_stores", "sync_received", "edge_config", "sync_incidents",
                  "sync_sequences"):  # fmt: skip
        op.drop_table(table)
    op.drop_index("ix_sync_outbox_store_camera_seq", table_name="sync_outbox")
    op.drop_index("ix_sync_outbox_status_id", table_name="sync_outbox")
    op.drop_table("sync_outbox")
