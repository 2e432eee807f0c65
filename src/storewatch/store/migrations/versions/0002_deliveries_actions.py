"""Delivery log and attempts, deterrent action log, incidents' false-alarm reason.

``deliveries`` is rebuilt in the shape the alert ``Deliverer`` keeps (one alert message to one channel, with its
message, due time and status pending/delivered/dead); revision 0001's table was never written to, so nothing is
lost. ``delivery_attempts`` keeps every try; ``action_log`` every deterrent action and its outcome.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
LOG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _utc(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _str(name: str, length: int, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=length), nullable=nullable)


def upgrade() -> None:
    op.drop_index("ix_deliveries_status_next_attempt_utc", table_name="deliveries")
    op.drop_index(op.f("ix_deliveries_alert_id"), table_name="deliveries")
    op.drop_table("deliveries")
    op.create_table(
        "deliveries",
        _str("id", 32),
        _str("channel", 64),
        _str("event_id", 128),
        _str("status", 16),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _utc("due_utc", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("message", JSON, nullable=False),
        _utc("created_utc"),
        _utc("updated_utc"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
    )
    op.create_index("ix_deliveries_channel_status_due_utc", "deliveries", ["channel", "status", "due_utc"])
    op.create_index(op.f("ix_deliveries_event_id"), "deliveries", ["event_id"])
    op.create_table(
        "delivery_attempts",
        sa.Column("id", LOG_ID, autoincrement=True, nullable=False),
        _str("delivery_id", 32),
        sa.Column("number", sa.Integer(), nullable=False),
        _utc("at_utc"),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_delivery_attempts_delivery_id_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_attempts")),
    )
    op.create_index(op.f("ix_delivery_attempts_delivery_id"), "delivery_attempts", ["delivery_id"])
    op.create_table(
        "action_log",
        sa.Column("id", LOG_ID, autoincrement=True, nullable=False),
        _str("action", 64),
        _str("kind", 16),
        _str("camera", 128, nullable=True),
        _str("event_id", 128, nullable=True),
        _utc("at_utc"),
        _str("status", 16),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_log")),
    )
    op.create_index("ix_action_log_at_utc", "action_log", ["at_utc"])
    op.create_index("ix_action_log_action_at_utc", "action_log", ["action", "at_utc"])
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(_str("false_alarm_reason", 500, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("false_alarm_reason")
    op.drop_table("action_log")
    op.drop_table("delivery_attempts")
    op.drop_index(op.f("ix_deliveries_event_id"), table_name="deliveries")
    op.drop_index("ix_deliveries_channel_status_due_utc", table_name="deliveries")
    op.drop_table("deliveries")
    op.create_table(
        "deliveries",
        _str("id", 32),
        _str("alert_id", 32),
        _str("channel", 32),
        _str("target", 512),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _str("status", 16),
        sa.Column("last_error", sa.Text(), nullable=True),
        _utc("next_attempt_utc", nullable=True),
        sa.Column("payload", JSON, nullable=False),
        _utc("created_utc"),
        _utc("updated_utc"),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_deliveries_alert_id_alerts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
    )
    op.create_index(op.f("ix_deliveries_alert_id"), "deliveries", ["alert_id"])
    op.create_index("ix_deliveries_status_next_attempt_utc", "deliveries", ["status", "next_attempt_utc"])
