"""Inventory: stock adjustments and cycle counts (one row per record, keyed by a hash of its identity, with a
fingerprint of its content), and the quarantine of records that could not be read.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _str(name: str, length: int, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=length), nullable=nullable)


def _stock_columns() -> list[sa.Column[Any]]:
    return [
        _str("id", 64),
        _str("store", 64),
        _str("sku", 64),
        _utc("at_utc"),
        sa.Column("unit_cost_minor", sa.BigInteger(), nullable=True),
        _str("reference", 64, nullable=True),
        _str("description", 200, nullable=True),
        _str("source", 300),
        _str("fingerprint", 64),
        _utc("ingested_utc"),
        _utc("updated_utc"),
    ]


def upgrade() -> None:
    op.create_table(
        "inventory_adjustments",
        *_stock_columns(),
        sa.Column("qty_delta", sa.BigInteger(), nullable=False),
        _str("reason", 32),
        _str("zone", 64, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_adjustments")),
    )
    op.create_index("ix_inventory_adjustments_store_at_utc", "inventory_adjustments", ["store", "at_utc"])
    op.create_table(
        "inventory_counts",
        *_stock_columns(),
        sa.Column("counted_qty", sa.BigInteger(), nullable=False),
        sa.Column("expected_qty", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_counts")),
    )
    op.create_index("ix_inventory_counts_store_at_utc", "inventory_counts", ["store", "at_utc"])
    op.create_table(
        "inventory_quarantine",
        _str("id", 64),
        _str("source", 500),
        _str("record", 300),
        _str("path", 300),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=True),
        _utc("received_utc"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_quarantine")),
    )
    op.create_index("ix_inventory_quarantine_received_utc", "inventory_quarantine", ["received_utc"])


def downgrade() -> None:
    op.drop_index("ix_inventory_quarantine_received_utc", table_name="inventory_quarantine")
    op.drop_table("inventory_quarantine")
    op.drop_index("ix_inventory_counts_store_at_utc", table_name="inventory_counts")
    op.drop_table("inventory_counts")
    op.drop_index("ix_inventory_adjustments_store_at_utc", table_name="inventory_adjustments")
    op.drop_table("inventory_adjustments")
