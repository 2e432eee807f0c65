"""Exporting a stored incident: its evidence pack, with the export itself recorded in the chain of custody."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from storewatch.errors import StorewatchError
from storewatch.incidents.cases import incident_record
from storewatch.incidents.pack import build_pack
from storewatch.store.db import Database
from storewatch.store.events import EventRepository
from storewatch.store.incidents import IncidentNotFoundError, IncidentRepository
from storewatch.store.models import CustodyAction

VIDEO_SUFFIXES = (".mp4", ".mkv")


def _rescaled(progress: Callable[[float, str], None] | None, start: float) -> Callable[[float, str], None] | None:
    """``progress`` for the rest of the work, from ``start`` to 1."""
    if progress is None:
        return None
    outer = progress
    return lambda fraction, message: outer(start + (1 - start) * fraction, message)


def export_incident(
    database: Database,
    incident_id: str,
    out: Path,
    actor: str,
    progress: Callable[[float, str], None] | None = None,
    protect_clip: Callable[[Path, Callable[[float, str], None] | None], Path] | None = None,
) -> tuple[Path, int]:
    """Write the pack of ``incident_id`` to ``out``; returns the path and how many evidence files it holds.
    Evidence files that were deleted since (retention) are listed in the record but not packed. ``progress`` as
    for ``build_pack``. ``protect_clip(clip, progress)``: the copy of a clip to pack instead of the original (its
    faces blurred, ``privacy.clips``); without it clips are packed as recorded."""
    repo = IncidentRepository(database)
    incident = repo.get(incident_id)
    if incident is None:
        raise IncidentNotFoundError(f"no incident has the id {incident_id!r}", fix="`storewatch incidents list`")
    events = [e for e in (EventRepository(database).get(i) for i in incident.event_ids) if e is not None]
    files: list[Path] = []
    missing: list[str] = []
    for event in events:
        for path in (Path(p) for p in event.evidence.values()):
            if not path.is_file():
                missing.append(str(path))
            elif path not in files:
                files.append(path)
    if not events:
        raise StorewatchError(f"incident {incident_id} has no stored events to export")
    clips = [p for p in files if p.suffix.lower() in VIDEO_SUFFIXES]
    if protect_clip is not None and clips:
        share = 0.8  # blurring every frame of the clips is most of the work
        for i, clip in enumerate(clips):

            def step(fraction: float, message: str, i: int = i) -> None:
                if progress is not None:
                    progress(share * (i + fraction) / len(clips), f"Clip {i + 1} of {len(clips)}: {message}")

            files[files.index(clip)] = protect_clip(clip, step)
        progress = _rescaled(progress, share)
    now = datetime.now(UTC)
    record = incident_record(incident, events)
    record["evidence_missing"] = missing
    build_pack(out, record, files, repo.custody(incident_id), actor=actor, now=now, progress=progress)
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    repo.record_custody(incident_id, actor, CustodyAction.EXPORTED, {"file": out.name, "sha256": digest})
    return out, len(files)
