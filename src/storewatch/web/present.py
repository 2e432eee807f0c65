"""Rows to public schemas: evidence paths become links, dotted types become words."""

from __future__ import annotations

from collections.abc import Sequence

from storewatch.alerts.message import humanize_type
from storewatch.core.events import Event
from storewatch.store.alerts import AlertRecord
from storewatch.store.models import EventRow
from storewatch.web.media import MediaLinks
from storewatch.web.schemas import AlertPublic, EventPublic


class Views:
    """Rows to public schemas: evidence paths become links, types become words."""

    def __init__(self, links: MediaLinks) -> None:
        self.links = links

    def event(self, row: EventRow | Event) -> EventPublic:
        """A stored event (row) or one from the in-process bus."""
        duration = None if row.end_utc is None else (row.end_utc - row.start_utc).total_seconds()
        updated = row.updated_utc if isinstance(row, EventRow) else None
        return EventPublic(
            id=row.id,
            type=row.type,
            title=humanize_type(row.type),
            severity=row.severity,
            state=row.state,
            store=row.store,
            camera=str(row.camera),
            zone=row.zone,
            track_ids=list(row.track_ids),
            start_utc=row.start_utc,
            end_utc=row.end_utc,
            duration_s=duration,
            explanation=row.explanation,
            values=dict(row.values),
            evidence=self.links.evidence(row.evidence),
            updated_utc=updated,
        )

    def alert(self, a: AlertRecord, event: EventRow | None, incidents: Sequence[str]) -> AlertPublic:
        return AlertPublic(
            id=a.id,
            event_id=a.event_id,
            route=a.route,
            store=a.store,
            camera=a.camera,
            event_type=a.event_type,
            title=humanize_type(a.event_type),
            severity=a.severity,
            status=a.status,
            level=a.level,
            raised_utc=a.raised,
            acknowledged_utc=a.acknowledged,
            acknowledged_by=a.acknowledged_by,
            time_to_ack_s=a.time_to_ack_s,
            false_alarm_reason=a.false_alarm_reason,
            explanation=event.explanation if event else None,
            evidence=self.links.evidence(event.evidence if event else {}),
            incident_ids=list(incidents),
        )
