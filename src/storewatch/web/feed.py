"""What goes on the live feed: changed events and alerts as ``FeedMessage`` (public schemas as JSON).

An alert is sent again when its event changes (its snapshot or clip arrived, it ended), so a page showing the
alert needs to follow only ``alert`` messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from storewatch.core.events import Event
from storewatch.web.live import FeedMessage
from storewatch.web.present import Views
from storewatch.web.readmodels import ReadModels
from storewatch.web.schemas import AlertPublic
from storewatch.web.services import AlertService


class FeedReader:
    """``changes(since)`` for ``live.DatabasePoller``."""

    def __init__(self, reads: ReadModels, views: Views, alerts: AlertService, limit: int = 500) -> None:
        self.reads, self.views, self.alerts, self.limit = reads, views, alerts, limit

    def changes(self, since: datetime) -> Sequence[tuple[str, str, FeedMessage]]:
        events = self.reads.changed_events(since, self.limit)
        found: list[tuple[str, str, FeedMessage]] = []
        for row in events:
            public = self.views.event(row)
            signature = f"{row.updated_utc.isoformat()}|{row.state.value}|{sorted(row.evidence)}"
            found.append((f"event:{row.id}", signature, FeedMessage("event", row.store, public.model_dump_json())))
        alert_ids = dict.fromkeys(
            [*self.reads.changed_alerts(since, self.limit), *self.reads.alert_ids_for_events([r.id for r in events])]
        )
        for alert in self.alerts.changed(list(alert_ids)):
            found.append((f"alert:{alert.id}", alert_signature(alert), alert_message(alert)))
        return found


def alert_signature(alert: AlertPublic) -> str:
    e = alert.evidence
    return f"{alert.status.value}|{alert.level}|{alert.explanation}|{e.snapshot}|{e.clip}|{e.path}"


def alert_message(alert: AlertPublic) -> FeedMessage:
    return FeedMessage("alert", alert.store, alert.model_dump_json())


def event_message(views: Views, event: Event) -> FeedMessage:
    """The feed message of an event from the in-process bus (``live.BusSource``)."""
    return FeedMessage("event", event.store, views.event(event).model_dump_json())
