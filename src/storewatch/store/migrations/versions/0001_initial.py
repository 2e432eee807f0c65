"""Initial schema: events, alerts, deliveries, incidents, incident links, incident timeline, custody log.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
LOG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _utc(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _str(name: str, length: int, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=length), nullable=nullable)


def _fk(column: str, table: str, target: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    _events()
    _incidents()
    _alerts()
    _deliveries()
    _incident_logs()


def _events() -> None:
    op.create_table(
        "events",
        _str("id", 128),
        _str("type", 128),
        _str("severity", 16),
        _str("state", 16),
        _str("store", 64),
        _str("camera", 128),
        _str("zone", 128, nullable=True),
        sa.Column("track_ids", JSON, nullable=False),
        _utc("start_utc"),
        _utc("end_utc", nullable=True),
        sa.Column("start_s", sa.Float(), nullable=True),
        sa.Column("end_s", sa.Float(), nullable=True),
        sa.Column("values", JSON, nullable=False),
        _str("explanation", 500),
        sa.Column("evidence", JSON, nullable=False),
        _utc("stored_utc"),
        _utc("updated_utc"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index("ix_events_start_utc", "events", ["start_utc"])
    op.create_index("ix_events_store_start_utc", "events", ["store", "start_utc"])
    op.create_index("ix_events_camera_start_utc", "events", ["camera", "start_utc"])
    op.create_index("ix_events_type_start_utc", "events", ["type", "start_utc"])


def _incidents() -> None:
    op.create_table(
        "incidents",
        _str("id", 32),
        _str("store", 64),
        _str("camera", 128, nullable=True),
        _str("zone", 128, nullable=True),
        _str("title", 200),
        _str("state", 16),
        _str("assignee", 128, nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("loss_value_minor", sa.BigInteger(), nullable=True),
        _str("loss_currency", 3, nullable=True),
        sa.Column("legal_hold", sa.Boolean(), nullable=False),
        _utc("created_utc"),
        _utc("updated_utc"),
        _utc("resolved_utc", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
    )
    op.create_index("ix_incidents_created_utc", "incidents", ["created_utc"])
    op.create_index("ix_incidents_store_state_created_utc", "incidents", ["store", "state", "created_utc"])


def _alerts() -> None:
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
        _fk("event_id", "alerts", "events"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("event_id", "route", "recipient", name=op.f("uq_alerts_event_id_route_recipient")),
    )
    op.create_index("ix_alerts_status_created_utc", "alerts", ["status", "created_utc"])


def _deliveries() -> None:
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
        _fk("alert_id", "deliveries", "alerts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
    )
    op.create_index(op.f("ix_deliveries_alert_id"), "deliveries", ["alert_id"])
    op.create_index("ix_deliveries_status_next_attempt_utc", "deliveries", ["status", "next_attempt_utc"])


def _incident_logs() -> None:
    op.create_table(
        "incident_events",
        _str("incident_id", 32),
        _str("event_id", 128),
        _utc("linked_utc"),
        _fk("event_id", "incident_events", "events"),
        _fk("incident_id", "incident_events", "incidents"),
        sa.PrimaryKeyConstraint("incident_id", "event_id", name=op.f("pk_incident_events")),
    )
    op.create_index(op.f("ix_incident_events_event_id"), "incident_events", ["event_id"])
    op.create_table(
        "incident_timeline",
        sa.Column("id", LOG_ID, autoincrement=True, nullable=False),
        _str("incident_id", 32),
        _utc("at_utc"),
        _str("actor", 128),
        _str("kind", 32),
        sa.Column("text", sa.Text(), nullable=False),
        _fk("incident_id", "incident_timeline", "incidents"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_timeline")),
    )
    op.create_index("ix_incident_timeline_incident_id_at_utc", "incident_timeline", ["incident_id", "at_utc"])
    op.create_table(
        "custody_log",
        sa.Column("id", LOG_ID, autoincrement=True, nullable=False),
        _str("incident_id", 32),
        _str("actor", 128),
        _str("action", 16),
        _utc("at_utc"),
        sa.Column("detail", JSON, nullable=False),
        _fk("incident_id", "custody_log", "incidents", ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custody_log")),
    )
    op.create_index("ix_custody_log_incident_id_at_utc", "custody_log", ["incident_id", "at_utc"])


def downgrade() -> None:
    for table in ("custody_log", "incident_timeline", "incident_events", "deliveries", "alerts", "incidents", "events"):
        op.drop_table(table)
