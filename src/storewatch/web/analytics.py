"""What the stored events already tell a manager, while the analytics issue (footfall, heat maps, queues, learned
normal, forecasts) is to come: events per day, per hour of the day (each store's local time), per kind and per
camera, and how fast alerts were answered — over the user's stores (or the chosen one), the last ``days`` days.

Counted in Python over one query per table: fine for the months of events one site keeps; the analytics issue will
move this to pre-aggregated tables.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from storewatch.store.db import Database
from storewatch.store.models import AlertRow, AlertStatus, EventRow
from storewatch.web.directory import StoreDirectory
from storewatch.web.scope import StoreScope
from storewatch.web.services import stores_of

HEALTH_PREFIX = "camera."
MAX_ROWS = 200_000


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    count: int
    share: float
    """Of the largest bar (0..1), for drawing."""
    hint: str = ""


@dataclass(frozen=True, slots=True)
class Summary:
    days: int
    events: int
    health_events: int
    by_day: list[Bar]
    by_hour: list[Bar]
    by_type: list[Bar]
    by_camera: list[Bar]
    alerts: int
    acknowledged: int
    false_alarms: int
    median_ack_s: float | None
    truncated: bool


def _bars(counts: dict[str, int] | Counter[str], order: list[str] | None = None, limit: int | None = None) -> list[Bar]:
    keys = order if order is not None else [k for k, _ in Counter(counts).most_common(limit)]
    top = max((counts.get(k, 0) for k in keys), default=0) or 1
    return [Bar(k, counts.get(k, 0), counts.get(k, 0) / top) for k in keys]


class AnalyticsService:
    def __init__(self, database: Database, directory: StoreDirectory) -> None:
        self.db = database
        self.directory = directory

    def summary(self, scope: StoreScope, store: str | None, days: int = 14, now: datetime | None = None) -> Summary:
        stores = stores_of(scope, store)
        now = now or datetime.now(UTC)
        since = now - timedelta(days=days)
        query: Any = select(EventRow.store, EventRow.camera, EventRow.type, EventRow.start_utc)
        query = query.where(EventRow.start_utc >= since)
        if stores is not None:
            query = query.where(EventRow.store.in_(stores))
        with self.db.session() as session:
            rows = session.execute(query.order_by(EventRow.start_utc.desc()).limit(MAX_ROWS + 1)).all()
            alert_query: Any = select(AlertRow.status, AlertRow.time_to_ack_s).where(AlertRow.raised_utc >= since)
            if stores is not None:
                alert_query = alert_query.where(AlertRow.store.in_(stores))
            alert_rows = session.execute(alert_query).all()
        truncated = len(rows) > MAX_ROWS
        per_day: Counter[str] = Counter()
        per_hour: Counter[str] = Counter()
        per_type: Counter[str] = Counter()
        per_camera: Counter[str] = Counter()
        health = 0
        for row_store, camera, kind, start in rows[:MAX_ROWS]:
            if kind.startswith(HEALTH_PREFIX):
                health += 1
                continue
            utc = start if start.tzinfo else start.replace(tzinfo=UTC)
            local = utc.astimezone(self.directory.timezone(row_store))
            per_day[local.date().isoformat()] += 1
            per_hour[f"{local.hour:02d}"] += 1
            per_type[kind] += 1
            per_camera[camera] += 1
        today = now.astimezone(self.directory.timezone(store)).date() if store else now.date()
        day_keys = [(today - timedelta(days=i)).isoformat() for i in range(days - 1, -1, -1)]
        by_day = [
            Bar(f"{date.fromisoformat(b.label):%a %d}", b.count, b.share, b.label) for b in _bars(per_day, day_keys)
        ]
        name = self.directory.camera_name
        cameras = [Bar(name(b.label), b.count, b.share, b.label) for b in _bars(per_camera, limit=10)]
        waits = [float(t) for _, t in alert_rows if t is not None]
        return Summary(
            days=days,
            events=sum(per_type.values()),
            health_events=health,
            by_day=by_day,
            by_hour=_bars(per_hour, [f"{h:02d}" for h in range(24)]),
            by_type=_bars(per_type, limit=10),
            by_camera=cameras,
            alerts=len(alert_rows),
            acknowledged=sum(1 for s, _ in alert_rows if s == AlertStatus.ACKNOWLEDGED),
            false_alarms=sum(1 for s, _ in alert_rows if s == AlertStatus.FALSE_ALARM),
            median_ack_s=statistics.median(waits) if waits else None,
            truncated=truncated,
        )
