"""What goes on the live feed: changed events and alerts as ``FeedMessage`` (public schemas as JSON).

An alert is sent again when its event changes (its snapshot or clip arrived, it ended), so a page showing the
alert needs to follow only ``alert`` messages. With a card renderer, each alert whose card changed is also sent as
an ``alert_card`` message (``{"id": ..., "html": ...}``, just before its ``alert`` message): the card is rendered
once here for every browser on the alerts page, instead of once per browser that fetches it.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import datetime

from storewatch.core.events import Event
from storewatch.web.live import FeedMessage
from storewatch.web.present import Views
from storewatch.web.readmodels import ReadModels
from storewatch.web.schemas import AlertPublic
from storewatch.web.services import AlertService

CardRenderer = Callable[[AlertPublic], str]
"""An alert's card as the alerts page shows it (HTML)."""
CARD_FIELDS = {"status", "level", "explanation", "evidence", "incident_ids", "acknowledged_by", "false_alarm_reason",
               "time_to_ack_s", "severity", "title", "camera", "store", "raised_utc"}  # fmt: skip
"""What ``_alert_card.html`` shows of an alert."""
CARDS_REMEMBERED = 2000


class FeedReader:
    """``changes(since)`` for ``live.DatabasePoller``."""

    def __init__(
        self, reads: ReadModels, views: Views, alerts: AlertService, limit: int = 500, cards: CardRenderer | None = None
    ) -> None:
        self.reads, self.views, self.alerts, self.limit, self.cards = reads, views, alerts, limit, cards
        self._rendered: OrderedDict[str, tuple[str, str, FeedMessage]] = OrderedDict()
        """Alert id -> (what its card shows, signature, message) of the card last rendered: a poll looks again at
        what changed in the last seconds, and a card is rendered again only when it shows something new."""

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
            if self.cards is not None:
                found.append(self._card(alert, self.cards))
            found.append((f"alert:{alert.id}", alert_signature(alert), alert_message(alert)))
        return found

    def _card(self, alert: AlertPublic, render: CardRenderer) -> tuple[str, str, FeedMessage]:
        shows = alert.model_dump_json(include=CARD_FIELDS)
        known = self._rendered.get(alert.id)
        if known is None or known[0] != shows:
            html = render(alert)
            message = FeedMessage("alert_card", alert.store, json.dumps({"id": alert.id, "html": html}))
            known = (shows, hashlib.sha256(html.encode()).hexdigest()[:32], message)
            self._rendered[alert.id] = known
            while len(self._rendered) > CARDS_REMEMBERED:
                self._rendered.popitem(last=False)
        self._rendered.move_to_end(alert.id)
        return f"card:{alert.id}", known[1], known[2]


def alert_signature(alert: AlertPublic) -> str:
    e = alert.evidence
    return f"{alert.status.value}|{alert.level}|{alert.explanation}|{e.snapshot}|{e.clip}|{e.path}"


def alert_message(alert: AlertPublic) -> FeedMessage:
    return FeedMessage("alert", alert.store, alert.model_dump_json())


def event_message(views: Views, event: Event) -> FeedMessage:
    """The feed message of an event from the in-process bus (``live.BusSource``)."""
    return FeedMessage("event", event.store, views.event(event).model_dump_json())
