"""Door access ingest: parsed events go into the store (a re-sent event is stored once), and the rules run over
the new events with the stored ones around them as context (a grant from an earlier file still covers a crossing
in this one) and, for doors with a camera, that camera's recorded tracks. Transports (the CLI, a drop folder, an
HTTP body) only parse and hand the results over, as for POS.

``check`` is the same without a database (``storewatch access check``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storewatch.access.config import AccessConfig
from storewatch.access.doorview import DoorView, load_door_view
from storewatch.access.events import AccessEvent, AccessResultOrBad, parse_access
from storewatch.access.rules import AccessException, AccessRules, schedule_check
from storewatch.pos.records import Quarantined

if TYPE_CHECKING:
    from storewatch.config.schema import Camera, SiteConfig
    from storewatch.store.access import AccessRepository

CONTEXT_S = 600.0
"""Stored events this long around a batch are read back as the rules' context."""


@dataclass(frozen=True)
class DoorTracks:
    """Where the door cameras' track recordings are, and the site's cameras (their lines and zones)."""

    root: Path
    cameras: Mapping[str, Camera]


@dataclass
class AccessReport:
    source: str
    accepted: int = 0
    new: int = 0
    quarantined: list[Quarantined] = field(default_factory=list)
    exceptions: list[AccessException] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "accepted": self.accepted, "new": self.new,
            "quarantined": [q.to_dict() for q in self.quarantined],
            "exceptions": [e.model_dump(mode="json") for e in self.exceptions],
        }  # fmt: skip


def split(results: Iterable[AccessResultOrBad]) -> tuple[list[AccessEvent], list[Quarantined]]:
    good: list[AccessEvent] = []
    bad: list[Quarantined] = []
    for r in results:
        if isinstance(r, Quarantined):
            bad.append(r)
        else:
            good.append(r)
    return good, bad


def door_views(
    events: Sequence[AccessEvent], config: AccessConfig, tracks: DoorTracks | None
) -> dict[tuple[str, str], DoorView]:
    """The recorded view of each mapped door with a camera, over the span of its events and ``CONTEXT_S`` around
    it (entries into a restricted zone with no event near them are what that rule is for)."""
    if tracks is None or not events:
        return {}
    margin = timedelta(seconds=CONTEXT_S)
    views = {}
    for door in config.doors:
        if door.camera is None or door.camera not in tracks.cameras:
            continue
        times = [e.at_utc for e in events if e.store == door.store and e.door == door.door]
        if not times:
            continue
        cam = tracks.cameras[door.camera]
        line = next((ln for ln in cam.lines if ln.id == door.line), None)
        zone = next((z for z in cam.zones if z.id == door.zone), None)
        views[(door.store, door.door)] = load_door_view(
            tracks.root,
            door.camera,
            (line.id, line.points, line.direction_in.value) if line else None,
            zone,
            min(times) - margin,
            max(times) + margin,
        )
    return views


def check(events: Sequence[AccessEvent], rules: AccessRules, tracks: DoorTracks | None) -> list[AccessException]:
    return rules.check(events, door_views(events, rules.config, tracks))


def site_rules(site: SiteConfig) -> AccessRules:
    """The access rules of a site: its ``access`` section and each store's opening hours."""
    schedules = {s.id: (s.schedule, s.timezone or site.site.timezone) for s in site.stores}
    return AccessRules(site.access, schedule_check(schedules))


def site_door_tracks(site: SiteConfig, root: Path) -> DoorTracks:
    """The site's cameras with their track recordings under ``root`` (``DATA/tracks``)."""
    return DoorTracks(root, {f"{s.id}/{c.id}": c for s in site.stores for c in s.cameras})


class AccessIngestService:
    def __init__(
        self, repo: AccessRepository, rules: AccessRules, tracks: DoorTracks | None = None, tz: tzinfo = UTC
    ) -> None:
        """``tz``: the zone of event times written without an offset (``access.timezone``)."""
        self.repo, self.rules, self.tracks, self.tz = repo, rules, tracks, tz

    def ingest_file(self, path: Path) -> AccessReport:
        """A JSON, JSON Lines or CSV file of events (a drop folder's)."""
        return self.ingest(parse_access(path, default_tz=self.tz), str(path))

    def ingest(self, results: Iterable[AccessResultOrBad], source: str) -> AccessReport:
        events, bad = split(results)
        report = AccessReport(source, accepted=len(events), quarantined=bad)
        self.repo.save_quarantine(bad)
        new = self.repo.save_events(events)
        report.new = len(new)
        if new:
            span = timedelta(seconds=CONTEXT_S)
            context = self.repo.events_between(
                sorted({e.store for e in new}), min(e.at_utc for e in new) - span, max(e.at_utc for e in new) + span
            )
            found = check(context, self.rules, self.tracks)
            touched = {(e.store, e.door) for e in new}
            report.exceptions = [f for f in found if (f.store, f.door) in touched]
            self.repo.save_exceptions(report.exceptions)
        return report
