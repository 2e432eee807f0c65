"""The audit log's table: one row per recorded action, chained by hashes (``storewatch.audit.chain``).

``seq`` is given by the one writer (the previous row's plus one), not by the database, so a gap means a removed
row. ``prev_hash`` and ``hash`` are unique: two rows can never follow the same row (the chain cannot fork even if
two writers raced past the lock). ``detail`` is the canonical JSON text that was hashed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storewatch.store.models import Base, LogId
from storewatch.store.types import UTCDateTime


class AuditRow(Base):
    """One audit entry (append-only; only retention removes the oldest rows, and records that it did)."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(LogId, primary_key=True, autoincrement=False)
    at_utc: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(128), doc="User name, token name, CLI user or 'storewatch'.")
    actor_kind: Mapped[str] = mapped_column(String(16), doc="user, token, cli or system.")
    action: Mapped[str] = mapped_column(String(32), doc="login_ok, view, search, export, config_change, ...")
    store: Mapped[str | None] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(600), doc="kind:id of what was acted on.")
    detail: Mapped[str] = mapped_column(Text, doc="Canonical JSON (sorted keys, ASCII), exactly as hashed.")
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    __table_args__ = (
        Index("ix_audit_log_at_utc", "at_utc"),
        Index("ix_audit_log_actor_at_utc", "actor", "at_utc"),
        Index("ix_audit_log_action_at_utc", "action", "at_utc"),
        Index("ix_audit_log_store_at_utc", "store", "at_utc"),
    )
