"""The API tokens table (``web.tokens``), on the same ``Base`` metadata as ``models``.

A token is stored as the SHA-256 of its text (the text has 256 random bits, so a fast hash is enough: nothing to
guess); the text itself is shown once when it is made. ``prefix`` is its first characters, to tell tokens apart in a
list. Revoked tokens keep their row (who made it, when it was last used).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from storewatch.store.models import Base, new_id
from storewatch.store.types import JSONType, UTCDateTime, utcnow


class ApiTokenRow(Base):
    """A scoped API token for an integration."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(64))
    prefix: Mapped[str] = mapped_column(String(16), doc="The token's first characters, to recognise it.")
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True, doc="Hex SHA-256 of the token text.")
    capabilities: Mapped[list[str]] = mapped_column(JSONType, default=list)
    stores: Mapped[list[str]] = mapped_column(JSONType, default=list)
    created_by: Mapped[str] = mapped_column(String(128))
    created_utc: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_utc: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_utc: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_utc: Mapped[datetime | None] = mapped_column(UTCDateTime())
