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


def export_incident(
    database: Database,
    incident_id: str,
    out: Path,
    actor: str,
    progress: Callable[[float, str], None] | None = None,
) -> tuple[Path, int]:
    """Write the pack of ``incident_id`` to ``out``; returns the path and how many evidence files it holds.
    Evidence files that were deleted since (retention) are listed in the record but not packed. ``progress`` as
    for ``build_pack``."""
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
    now = datetime.now(UTC)
    record = incident_record(incident, events)
    record["evidence_missing"] = missing
    build_pack(out, record, files, repo.custody(incident_id), actor=actor, now=now, progress=progress)
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    repo.record_custody(incident_id, actor, CustodyAction.EXPORTED, {"file": out.name, "sha256": digest})
    return out, len(files)
