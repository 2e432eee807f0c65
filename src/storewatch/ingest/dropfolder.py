"""A watched drop folder: a system (the POS, the door access controller, a copy job) writes files into a folder;
each file, once it has stopped changing for ``settle_s``, is handed to an ingest callable and moved to ``done/``
(every record read) or ``quarantine/`` (some could not be read; ``<name>.errors.json`` beside it lists them and
what was accepted). Hidden files and names ending in ``.tmp``, ``.part`` or ``.partial`` are left alone, so a
writer can write under a temporary name and rename when finished.

The folder knows nothing of what the files hold: POS and door access each give their ingest (parse the file, store
what was read, quarantine the rest) and get the same behaviour and counters. A file whose ingest raises (the
database is down) stays where it is, the poll stops there, and the exception goes to the caller (the supervised
worker: ``storewatch.ingest.worker``), so the file is tried again at a later poll and nothing is lost.

>>> import tempfile
>>> from pathlib import Path
>>> from storewatch.ingest.report import Report
>>> root = Path(tempfile.mkdtemp())
>>> _ = (root / "a.jsonl").write_text("{}")
>>> folder = DropFolder(root, lambda path: Report(accepted=1), settle_s=0.0)
>>> [o.moved_to.relative_to(root).as_posix() for o in folder.poll_once()], folder.counts.done
(['done/a.jsonl'], 1)
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from storewatch.ingest.report import FileReport, IngestCounts

log = logging.getLogger(__name__)

SKIP_SUFFIXES = (".tmp", ".part", ".partial")


@dataclass(frozen=True)
class FileOutcome:
    moved_to: Path
    report: FileReport


class DropFolder:
    def __init__(self, folder: Path, ingest: Callable[[Path], FileReport], settle_s: float = 2.0) -> None:
        self.folder = folder
        self.ingest = ingest
        self.settle_s = settle_s
        self.done = folder / "done"
        self.quarantine = folder / "quarantine"
        self.counts = IngestCounts()

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
        """Ingest and move every ready file (an ingest that raises stops the poll; its file stays)."""
        if not self.folder.is_dir():
            raise FileNotFoundError(f"drop folder {self.folder} does not exist (or is not a folder)")
        outcomes = []
        for path in self.pending(now):
            report = self.ingest(path)
            outcomes.append(FileOutcome(self._move(path, report), report))
            self.counts.add(report)
            for q in report.quarantined[:20]:
                log.warning("drop folder %s: quarantined: %s", self.folder.name, q)
            log.info("drop folder %s: %s: %d accepted, %d quarantined",
                     self.folder.name, path.name, report.accepted, len(report.quarantined))  # fmt: skip
        return outcomes

    def _move(self, path: Path, report: FileReport) -> Path:
        target_dir = self.quarantine if report.quarantined else self.done
        target_dir.mkdir(parents=True, exist_ok=True)
        target = target_dir / path.name
        if target.exists():
            stamp = f"{time.strftime('%Y%m%dT%H%M%S')}-{time.monotonic_ns() % 10**6}"
            target = target_dir / f"{path.stem}.{stamp}{path.suffix}"
        shutil.move(str(path), target)
        if report.quarantined:
            errors = target.with_name(target.name + ".errors.json")
            body = report.to_dict() | {"file": target.name}
            errors.write_text(json.dumps(body, indent=2, default=str) + "\n")
        return target
