"""Routes: which events go to which channels and people.

A route matches events by type, minimum severity, stores, cameras and zones (each optional: empty = any), and only
while its schedule (a store schedule name) is on and outside its quiet hours (critical events break through quiet
hours unless told not to). A matching event becomes one alert per route, sent to the route's first escalation level;
when nobody acknowledges it within that level's ``after_s``, the next level is alerted (see ``escalation``).

>>> from datetime import UTC, datetime
>>> from storewatch.core.events import Event, Severity
>>> r = Route(name="guards", types=["walk_out", "running"], min_severity="medium",
...           levels=[Level(channels=["guard-phones"]), Level(channels=["manager-email"], after_s=120)])
>>> e = Event.start("walk_out", "s1/door", datetime(2026, 3, 2, 12, tzinfo=UTC), "x", severity=Severity.HIGH)
>>> r.matches(e), r.matches(e.model_copy(update={"type": "queue"}))
(True, False)
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

from storewatch.behaviour.schedule import StoreSchedule, Weekly
from storewatch.core.events import Event, Severity

SEVERITY_ORDER = {s: i for i, s in enumerate(Severity)}


class Level(BaseModel):
    """One escalation level: who is alerted, and after how long without acknowledgement (0 for the first)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channels: list[str] = Field(min_length=1, description="Names of channels (webhook, e-mail, push...) to use.")
    people: list[str] = Field(default_factory=list, description="User names shown as who was told.")
    after_s: float = Field(0.0, ge=0.0, le=86400.0, description="Unacknowledged for this long: this level is told.")


class Route(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=80)
    types: list[str] = Field(default_factory=list, description="Event types (empty: all).")
    min_severity: Severity = Field(Severity.LOW, description="Events below this severity are not routed.")
    stores: list[str] = Field(default_factory=list, description="Store ids (empty: all).")
    cameras: list[str] = Field(default_factory=list, description="Camera ids store/camera (empty: all).")
    zones: list[str] = Field(default_factory=list, description="Zone ids (empty: any, or none).")
    schedule: str | None = Field(None, description="Store schedule name during which the route is on.")
    quiet_hours: Weekly | None = Field(None, description="Hours (store time) when only critical events go out.")
    critical_breaks_quiet: bool = Field(True, description="Critical events are sent during quiet hours too.")
    levels: list[Level] = Field(min_length=1, description="Escalation levels, the first told at once.")

    @model_validator(mode="after")
    def _levels_in_order(self) -> Route:
        if self.levels[0].after_s != 0:
            raise ValueError(f"route {self.name}: the first level is told at once (after_s 0)")
        times = [lvl.after_s for lvl in self.levels]
        if times != sorted(times) or len(set(times)) != len(times):
            raise ValueError(f"route {self.name}: levels' after_s must grow, got {times}")
        return self

    def matches(self, event: Event) -> bool:
        """Whether the event is of the kind this route carries (schedules and quiet hours aside)."""
        return (
            (not self.types or event.type in self.types)
            and SEVERITY_ORDER[event.severity] >= SEVERITY_ORDER[self.min_severity]
            and (not self.stores or event.store in self.stores)
            and (not self.cameras or str(event.camera) in self.cameras)
            and (not self.zones or event.zone in self.zones)
        )

    def on_now(self, event: Event, at: datetime, schedule: StoreSchedule, timezone: str) -> bool:
        """Whether the route sends the event now: its schedule on, and outside quiet hours (or critical)."""
        if not schedule.is_armed(self.schedule, at, timezone):
            return False
        if self.quiet_hours is None or not self.quiet_hours.covers(at.astimezone(ZoneInfo(timezone))):
            return True
        return self.critical_breaks_quiet and event.severity == Severity.CRITICAL


def routes_for(event: Event, routes: list[Route], at: datetime, schedule: StoreSchedule, timezone: str) -> list[Route]:
    """The routes that send ``event`` now."""
    return [r for r in routes if r.matches(event) and r.on_now(event, at, schedule, timezone)]
