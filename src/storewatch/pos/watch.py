"""A watched drop folder: the POS (or a sync job) writes files into a folder; each file, once it has stopped
changing for ``settle_s``, is ingested and moved to ``done/`` (every record read) or ``quarantine/`` (some could
not be read; ``<name>.errors.json`` beside it lists them and what was accepted). Hidden files and names ending in
``.tmp`` or ``.part`` are left alone, so a writer can write under a temporary name and rename when finished.

A file whose ingest fails for a reason outside it (the database is down) stays where it is and is tried again
at the next poll.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from storewatch.pos.service import IngestReport, PosIngestService

log = logging.getLogger(__name__)

SKIP_SUFFIXES = (".tmp", ".part", ".partial")


@dataclass(frozen=True)
class FileOutcome:
    moved_to: Path
    report: IngestReport


class DropFolder:
    def __init__(self, folder: Path, service: PosIngestService, settle_s: float = 2.0) -> None:
        self.folder = folder
        self.service = service
        self.settle_s = settle_s
        self.done = folder / "done"
        self.quarantine = folder / "quarantine"

    def pending(self, now: float | None = None) -> list[Path]:
        """Files ready to ingest, oldest first."""
        now = time.time() if now is None else now
        ready = []
        for path in self.folder.iterdir():
            if not path.is_file() or path.name.startswith(".") or path.name.lower().endswith(SKIP_SUFFIXES):
                continue
            try:
                mtime = path.stat().st_mtime
            except FileNotFoundError:
                continue
            if now - mtime >= self.settle_s:
                ready.append((mtime, path))
        return [p for _, p in sorted(ready)]

    def poll_once(self, now: float | None = None) -> list[FileOutcome]:
        """Ingest and move every ready file."""
        outcomes = []
        for path in self.pending(now):
            report = self.service.ingest_file(path)
            outcomes.append(FileOutcome(self._move(path, report), report))
            log.info(
                "pos drop folder: %s: %d accepted (%d new), %d quarantined, %d exceptions",
                path.name, report.accepted, report.inserted, len(report.quarantined), report.exceptions,
            )  # fmt: skip
        return outcomes

    def run(self, interval_s: float = 2.0, stop: threading.Event | None = None) -> None:
        """Poll until ``stop`` is set."""
        stop = stop or threading.Event()
        while not stop.is_set():
            self.poll_once()
            stop.wait(interval_s)

    def _move(self, path: Path, report: IngestReport) -> Path:
        target_dir = self.quarantine if report.quarantined else self.done
        target_dir.mkdir(parents=True, exist_ok=True)
        target = target_dir / path.name
        if target.exists():
            target = (
                target_dir / f"{path.stem}.{time.strftime('%Y%m%dT%H%M%S')}-{time.monotonic_ns() % 10**6}{path.suffix}"
            )
        shutil.move(str(path), target)
        if report.quarantined:
            errors = target.with_name(target.name + ".errors.json")
            body = report.to_dict() | {"file": target.name}
            errors.write_text(json.dumps(body, indent=2, default=str) + "\n")
        return target
