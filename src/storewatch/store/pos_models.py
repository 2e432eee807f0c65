"""Tables of POS ingest (``storewatch.pos``), on the same ``Base`` metadata as ``models``.

``pos_transactions`` holds one row per till transaction, unique by (store, register, business_day, sequence): the
id is ``store/register/business_day/sequence`` (``Transaction.key``; sequences often restart daily, so the day is
part of the identity, migration 0010). Its lines and tenders are one JSON text (``record``, serialised once: they
are read with their transaction, never queried on their own); the counts the period rules aggregate (void lines,
refund) are columns. ``fingerprint`` is a hash of the transaction's content: a re-sent identical transaction
changes nothing, a corrected one replaces the row. ``pos_exceptions`` holds the exception rules' findings, one row
per stable finding id (re-evaluating updates it). ``pos_quarantine`` keeps every record that could not be read,
with its error and raw text: nothing is dropped.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storewatch.store.models import Base
from storewatch.store.types import JSONType, UTCDateTime, utcnow


class PosTransactionRow(Base):
    """One till transaction (``storewatch.pos.model.Transaction``)."""

    __tablename__ = "pos_transactions"

    id: Mapped[str] = mapped_column(String(160), primary_key=True, doc="store/register/business_day/sequence")
    store: Mapped[str] = mapped_column(String(64))
    register: Mapped[str] = mapped_column(String(64))
    sequence: Mapped[int] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    business_day: Mapped[date] = mapped_column(Date, doc="The POS's, else the UTC date of end_utc.")
    start_utc: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_utc: Mapped[datetime] = mapped_column(UTCDateTime())
    operator: Mapped[str | None] = mapped_column(String(64))
    currency: Mapped[str | None] = mapped_column(String(3))
    total_minor: Mapped[int | None] = mapped_column(BigInteger)
    void_lines: Mapped[int] = mapped_column(Integer, default=0)
    refund: Mapped[bool] = mapped_column(Boolean, default=False, doc="A return or exchange.")
    record: Mapped[str] = mapped_column(Text, doc="The whole transaction as JSON text (lines, tenders, link).")
    fingerprint: Mapped[str] = mapped_column(String(64), doc="sha256 of the content: same -> nothing to do.")
    source: Mapped[str] = mapped_column(String(300), default="")
    ingested_utc: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_utc: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("store", "register", "business_day", "sequence"),
        Index("ix_pos_transactions_store_end_utc", "store", "end_utc"),
        Index("ix_pos_transactions_store_business_day_operator", "store", "business_day", "operator"),
    )


class PosExceptionRow(Base):
    """One finding of the POS exception rules (``storewatch.pos.exceptions.PosException``)."""

    __tablename__ = "pos_exceptions"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    store: Mapped[str] = mapped_column(String(64))
    register: Mapped[str | None] = mapped_column(String(64))
    sequence: Mapped[int | None] = mapped_column(BigInteger)
    business_day: Mapped[date | None] = mapped_column(Date, doc="Of a transaction's finding (with the sequence).")
    operator: Mapped[str | None] = mapped_column(String(64))
    at_utc: Mapped[datetime] = mapped_column(UTCDateTime())
    period_start_utc: Mapped[datetime | None] = mapped_column(UTCDateTime())
    period_end_utc: Mapped[datetime | None] = mapped_column(UTCDateTime())
    values: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    explanation: Mapped[str] = mapped_column(String(500))
    camera: Mapped[str | None] = mapped_column(String(128), doc="The till camera of the clip (store/camera).")
    clip_start_utc: Mapped[datetime | None] = mapped_column(UTCDateTime())
    clip_end_utc: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_utc: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        Index("ix_pos_exceptions_store_at_utc", "store", "at_utc"),
        Index("ix_pos_exceptions_code_at_utc", "code", "at_utc"),
    )


class PosQuarantineRow(Base):
    """A record that could not be read (``storewatch.pos.records.Quarantined``)."""

    __tablename__ = "pos_quarantine"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, doc="sha256 of source, record, path and error.")
    source: Mapped[str] = mapped_column(String(500))
    record: Mapped[str] = mapped_column(String(300))
    path: Mapped[str] = mapped_column(String(300))
    error: Mapped[str] = mapped_column(Text)
    raw: Mapped[str | None] = mapped_column(Text)
    received_utc: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_pos_quarantine_received_utc", "received_utc"),)
