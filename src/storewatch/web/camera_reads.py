"""The camera pages' one read the other read models lack: a camera's newest events' evidence, newest first."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import select

from storewatch.store.db import Database
from storewatch.store.models import EventRow

SNAPSHOT_SEARCH = 200
"""How many of a camera's newest events are searched for one with a snapshot."""


class CameraReads:
    def __init__(self, database: Database) -> None:
        self.db = database

    def newest_evidence(self, camera: str, limit: int = SNAPSHOT_SEARCH) -> Iterator[tuple[dict[str, str], datetime]]:
        """(evidence paths, start) of the camera's newest ``limit`` events, newest first."""
        query = (
            select(EventRow.evidence, EventRow.start_utc)
            .where(EventRow.camera == camera)
            .order_by(EventRow.start_utc.desc())
            .limit(limit)
        )
        with self.db.session() as session:
            rows = session.execute(query).all()
        for evidence, start in rows:
            yield dict(evidence or {}), start
