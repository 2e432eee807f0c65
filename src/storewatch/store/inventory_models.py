"""Tables of inventory ingest (``storewatch.inventory``), on the same ``Base`` metadata as ``models``.

``inventory_adjustments`` and ``inventory_counts`` hold one row per stock adjustment and per cycle count, keyed by
a hash of the record's identity (``StockAdjustment.key``, ``CycleCount.key``); ``fingerprint`` is a hash of its
content, so a re-sent identical record changes nothing and a corrected one replaces the row. Shelf zones are not
stored with the rows: the site file maps SKUs to zones when a report is made (an adjustment's own ``zone`` is kept).
``inventory_quarantine`` keeps every record that could not be read, with its error and raw text.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storewatch.store.models import Base
from storewatch.store.types import UTCDateTime, utcnow


class _StockColumns:
    id: Mapped[str] = mapped_column(String(64), primary_key=True, doc="sha256 of the record's key.")
    store: Mapped[str] = mapped_column(String(64))
    sku: Mapped[str] = mapped_column(String(64))
    at_utc: Mapped[datetime] = mapped_column(UTCDateTime())
    unit_cost_minor: Mapped[int | None] = mapped_column(BigInteger)
    reference: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(300), default="")
    fingerprint: Mapped[str] = mapped_column(String(64), doc="sha256 of the content: same -> nothing to do.")
    ingested_utc: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_utc: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class InventoryAdjustmentRow(_StockColumns, Base):
    """A stock adjustment (``storewatch.inventory.model.StockAdjustment``)."""

    __tablename__ = "inventory_adjustments"

    qty_delta: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(32))
    zone: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_inventory_adjustments_store_at_utc", "store", "at_utc"),)


class InventoryCountRow(_StockColumns, Base):
    """A cycle count (``storewatch.inventory.model.CycleCount``)."""

    __tablename__ = "inventory_counts"

    counted_qty: Mapped[int] = mapped_column(BigInteger)
    expected_qty: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_inventory_counts_store_at_utc", "store", "at_utc"),)


class InventoryQuarantineRow(Base):
    """A stock record that could not be read (``storewatch.pos.records.Quarantined``)."""

    __tablename__ = "inventory_quarantine"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, doc="sha256 of source, record, path and error.")
    source: Mapped[str] = mapped_column(String(500))
    record: Mapped[str] = mapped_column(String(300))
    path: Mapped[str] = mapped_column(String(300))
    error: Mapped[str] = mapped_column(Text)
    raw: Mapped[str | None] = mapped_column(Text)
    received_utc: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_inventory_quarantine_received_utc", "received_utc"),)
