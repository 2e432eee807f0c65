"""Column types that behave the same on SQLite and PostgreSQL.

* ``UTCDateTime``: always returns timezone-aware UTC datetimes. PostgreSQL stores ``timestamptz``; SQLite has no time
  zones, so values are converted to UTC and stored naive (ISO text sorts in time order), then read back as UTC.
* ``JSONType``: ``JSON`` on SQLite, ``JSONB`` on PostgreSQL (indexable, compact).
* ``StrEnumType``: a ``StrEnum`` stored as its value in a plain ``VARCHAR``: no database enum or CHECK constraint,
  so adding a member later needs no migration; Python validates on the way in and out.

>>> from datetime import timedelta, timezone
>>> t = UTCDateTime().process_bind_param(datetime(2026, 1, 1, 1, tzinfo=timezone(timedelta(hours=1))), _SQLITE)
>>> t, UTCDateTime().process_result_value(t, _SQLITE)
(datetime.datetime(2026, 1, 1, 0, 0), datetime.datetime(2026, 1, 1, 0, 0, tzinfo=datetime.timezone.utc))
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlalchemy import JSON, DateTime, String
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

E = TypeVar("E", bound=StrEnum)

_SQLITE = sqlite.dialect()

JSONType: TypeEngine[Any] = JSON().with_variant(postgresql.JSONB(), "postgresql")


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is timezone-aware UTC in Python on every backend; naive input is refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: times must carry a time zone (UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class StrEnumType(TypeDecorator[E], Generic[E]):
    """A ``StrEnum`` stored by value in ``VARCHAR(length)``."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[E], length: int = 16) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> E | None:
        return None if value is None else self.enum(value)
