"""Shifts: the stretch of time a cashier worked a register, for the cashier exception dashboard and report.

A shift is read from the till itself when it can be: a cashier's **sign-on** at a register starts one, which ends at
their sign-off there, at the next sign-on of anyone at that register (a cashier who never signed off), or after
``max_shift_h``, whichever comes first. An exception of that register and cashier inside it belongs to that shift
(``kind`` ``sign-on``). Otherwise (a POS that sends no sign-on/off, an exception outside any signed-on stretch, a
cashier's period finding) the exception falls in the configured **shift hours** of its local time (``kind``
``hours``, e.g. ``early 2026-03-02``; a shift that crosses midnight belongs to the day it starts). Times outside
every configured shift are ``off-hours``.

>>> from datetime import UTC, datetime
>>> t = lambda h, m=0: datetime(2026, 3, 2, h, m, tzinfo=UTC)
>>> book = ShiftBook([SignEvent("9", "2", "E1", True, t(8)), SignEvent("9", "2", "E1", False, t(12))],
...                  PosReportConfig(), ZoneInfo("UTC"))
>>> book.shift_of("9", "2", "E1", t(9, 30)).key, book.shift_of("9", "2", "E1", t(13)).key
('9/2/E1@2026-03-02T08:00', 'early 2026-03-02')
>>> book.shift_of("9", None, None, t(23)).label
'night 2026-03-02 (22:00-06:00)'
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from storewatch.pos.config import PosReportConfig, ShiftHours


@dataclass(frozen=True, slots=True)
class SignEvent:
    """A sign-on (``on``) or sign-off at a register."""

    store: str
    register: str
    operator: str | None
    on: bool
    at_utc: datetime


@dataclass(frozen=True, slots=True)
class Shift:
    key: str
    """Stable and unique: ``store/register/operator@start`` (sign-on) or ``name YYYY-MM-DD`` (hours)."""
    kind: Literal["sign-on", "hours", "day"]
    """``day``: a cashier's period finding, over its business day."""
    label: str
    start_utc: datetime | None
    end_utc: datetime | None


class ShiftBook:
    """The signed-on shifts of a set of sign-on/off events, and the shift any moment belongs to."""

    def __init__(self, events: Iterable[SignEvent], config: PosReportConfig, tz: ZoneInfo) -> None:
        self.config, self.tz = config, tz
        by_register: dict[tuple[str, str], list[SignEvent]] = {}
        for e in sorted(events, key=lambda e: e.at_utc):
            by_register.setdefault((e.store, e.register), []).append(e)
        self._shifts: dict[tuple[str, str, str], list[Shift]] = {}
        longest = timedelta(hours=config.max_shift_h)
        for (store, register), evs in by_register.items():
            for i, e in enumerate(evs):
                if not e.on or e.operator is None:
                    continue
                end = e.at_utc + longest
                for later in evs[i + 1 :]:
                    if later.on or later.operator == e.operator:
                        end = min(end, later.at_utc)
                        break
                local = e.at_utc.astimezone(tz)
                shift = Shift(
                    key=f"{store}/{register}/{e.operator}@{local:%Y-%m-%dT%H:%M}",
                    kind="sign-on",
                    label=f"register {register} · {e.operator} · {local:%Y-%m-%d %H:%M}-{end.astimezone(tz):%H:%M}",
                    start_utc=e.at_utc,
                    end_utc=end,
                )
                self._shifts.setdefault((store, register, e.operator), []).append(shift)

    def shift_of(self, store: str, register: str | None, operator: str | None, at_utc: datetime) -> Shift:
        """The signed-on shift of ``operator`` at ``register`` holding ``at_utc``, else the shift by the clock."""
        if register is not None and operator is not None:
            shifts = self._shifts.get((store, register, operator), [])
            i = bisect.bisect_right([s.start_utc for s in shifts], at_utc) - 1  # type: ignore[type-var]
            if i >= 0 and shifts[i].end_utc is not None and at_utc < shifts[i].end_utc:  # type: ignore[operator]
                return shifts[i]
        return self.by_hours(at_utc)

    def by_hours(self, at_utc: datetime) -> Shift:
        local = at_utc.astimezone(self.tz)
        for s in self.config.shift_hours:
            if s.covers(local.time()):
                day = local.date() - timedelta(days=1) if s.end <= s.start and local.time() < s.end else local.date()
                return self._hours_shift(s, day)
        return Shift(f"off-hours {local:%Y-%m-%d}", "hours", f"off-hours {local:%Y-%m-%d}", None, None)

    def _hours_shift(self, s: ShiftHours, day: date) -> Shift:
        start = datetime.combine(day, s.start, self.tz)
        end = datetime.combine(day + timedelta(days=1) if s.end <= s.start else day, s.end, self.tz)
        label = f"{s.name} {day.isoformat()} ({s.start:%H:%M}-{s.end:%H:%M})"
        return Shift(f"{s.name} {day.isoformat()}", "hours", label, start, end)
