"""Alerts as the router raises them (one per event and route, with its escalation level and acknowledgement),
and dashboard users.

``alerts`` is rebuilt: revision 0001's table was never written to. It no longer has a foreign key to ``events``:
an alert is raised the moment its event starts, before the event writer has stored the event.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _utc(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _str(name: str, length: int, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=length), nullable=nullable)


def upgrade() -> None:
    op.drop_index("ix_alerts_status_created_utc", table_name="alerts")
    op.drop_table("alerts")
    op.create_table(
        "alerts",
        _str("id", 32),
        _str("event_id", 128),
        _str("route", 80),
        _str("store", 64),
        _str("camera", 128),
        _str("event_type", 128),
        _str("severity", 16),
        _str("status", 16),
        sa.Column("level", sa.Integer(), nullable=False),
        _utc("raised_utc"),
        _utc("last_sent_utc", nullable=True),
        _utc("acknowledged_utc", nullable=True),
        _str("acknowledged_by", 128, nullable=True),
        sa.Column("time_to_ack_s", sa.Float(), nullable=True),
        _str("false_alarm_reason", 500, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("event_id", "route", name=op.f("uq_alerts_event_id_route")),
    )
    op.create_index("ix_alerts_status_raised_utc", "alerts", ["status", "raised_utc"])
    op.create_index("ix_alerts_store_raised_utc", "alerts", ["store", "raised_utc"])
    op.create_table(
        "users",
        _str("id", 32),
        _str("username", 64),
        _str("display_name", 128),
        _str("password_hash", 256),
        _str("role", 32),
        sa.Column("stores", JSON, nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        _utc("created_utc"),
        _utc("last_login_utc", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )


def downgrade() -> None:
    op.drop_table("users")
    op.drop_index("ix_alerts_store_raised_utc", table_name="alerts")
    op.drop_index("ix_alerts_status_raised_utc", table_name="alerts")
    op.drop_table("alerts")
    op.create_table(
        "alerts",
        _str("id", 32),
        _str("event_id", 128),
        _str("route", 64),
        _str("channel", 32),
        _str("recipient", 256),
        _str("status", 16),
        _utc("created_utc"),
        _utc("acknowledged_utc", nullable=True),
        _str("acknowledged_by", 128, nullable=True),
        sa.Column("ack_latency_s", sa.Float(), nullable=True),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("false_alarm", sa.Boolean(), nullable=False),
        _str("false_alarm_reason", 500, nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_alerts_event_id_events"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("event_id", "route", "recipient", name=op.f("uq_alerts_event_id_route_recipient")),
    )
    op.create_index("ix_alerts_status_created_utc", "alerts", ["status", "created_utc"])
