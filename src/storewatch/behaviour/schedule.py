"""Store schedules: opening hours per weekday, holidays, and named schedules that arm rules and zones.

Times are local to the store (its IANA time zone). A range may run past midnight (``22:00-06:00``). Two names are
built in: ``open`` (the store is open) and ``closed`` (it is not); others are the store's own (``night``,
``deliveries``...).

>>> from datetime import UTC, datetime
>>> s = StoreSchedule(opening_hours={"mon": ["08:00-20:00"]}, holidays=["2026-12-25"])
>>> monday_noon, monday_night = datetime(2026, 12, 7, 12, 0, tzinfo=UTC), datetime(2026, 12, 7, 21, 0, tzinfo=UTC)
>>> s.is_open(monday_noon, "UTC"), s.is_open(monday_night, "UTC")
(True, False)
>>> s.is_armed("closed", datetime(2026, 12, 8, 12, 0, tzinfo=UTC), "UTC")  # a Tuesday: no opening hours
True
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")


def _parse(r: str) -> tuple[time, time | None]:
    m = _RANGE.match(r)
    if not m:
        raise ValueError(f"{r!r}: expected HH:MM-HH:MM, e.g. 08:30-21:00")
    start = time(int(m[1]), int(m[2]))
    end = None if m[3] == "24" else time(int(m[3]), int(m[4]))
    return start, end


class Weekly(BaseModel):
    """Ranges per weekday, e.g. ``{mon: ["08:00-20:00"], sat: ["09:00-13:00", "14:00-18:00"]}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mon: list[str] = Field(default_factory=list)
    tue: list[str] = Field(default_factory=list)
    wed: list[str] = Field(default_factory=list)
    thu: list[str] = Field(default_factory=list)
    fri: list[str] = Field(default_factory=list)
    sat: list[str] = Field(default_factory=list)
    sun: list[str] = Field(default_factory=list)

    @field_validator(*DAYS)
    @classmethod
    def _ranges(cls, v: list[str]) -> list[str]:
        for r in v:
            _parse(r)
        return v

    def covers(self, local: datetime) -> bool:
        """Whether the local time falls in a range (a range past midnight counts on the next day too)."""
        t = local.time()
        today, yesterday = DAYS[local.weekday()], DAYS[(local.weekday() - 1) % 7]
        for r in getattr(self, today):
            start, end = _parse(r)
            if (end is None and t >= start) or (
                end is not None and (start <= t < end or (end <= start and t >= start))
            ):
                return True
        for r in getattr(self, yesterday):
            start, end = _parse(r)
            if end is not None and end <= start and t < end:
                return True
        return False


class StoreSchedule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    opening_hours: Weekly | None = Field(None, description="When the store is open (default: always).")
    holidays: list[date] = Field(default_factory=list, description="Days the store is closed all day.")
    schedules: dict[str, Weekly] = Field(
        default_factory=dict, description="Named schedules (e.g. night) that arm rules: a rule's `armed`."
    )

    @model_validator(mode="after")
    def _names(self) -> StoreSchedule:
        clash = {"open", "closed"} & set(self.schedules)
        if clash:
            raise ValueError(f"schedule name(s) {sorted(clash)} are built in; choose another name")
        return self

    def is_open(self, utc: datetime, timezone: str) -> bool:
        local = utc.astimezone(ZoneInfo(timezone))
        if local.date() in self.holidays:
            return False
        return self.opening_hours is None or self.opening_hours.covers(local)

    def is_armed(self, name: str | None, utc: datetime, timezone: str) -> bool:
        """Whether the schedule ``name`` covers ``utc`` (None: always); an unknown name raises ``KeyError``."""
        if name is None:
            return True
        if name == "open":
            return self.is_open(utc, timezone)
        if name == "closed":
            return not self.is_open(utc, timezone)
        return self.schedules[name].covers(utc.astimezone(ZoneInfo(timezone)))

    def names(self) -> set[str]:
        return {"open", "closed", *self.schedules}
