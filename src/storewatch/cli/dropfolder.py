"""``storewatch pos watch`` and ``storewatch access watch``: one drop folder run in the foreground, supervised as
``storewatch run`` supervises it (a failed poll, e.g. the database away, is retried with backoff; the file stays)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from storewatch.errors import StorewatchError
from storewatch.ingest.report import FileReport

FolderArg = Annotated[Path, typer.Argument(help="The drop folder (done/ and quarantine/ are made inside it).")]
IntervalOpt = Annotated[float, typer.Option(min=0.1, max=3600.0, help="Seconds between polls.")]
SettleOpt = Annotated[float, typer.Option(min=0.0, max=3600.0, help="A file must be unchanged this long.")]
OnceOpt = Annotated[bool, typer.Option("--once", help="Ingest what is there now and exit.")]


def watch_folder(
    folder: Path, ingest: Callable[[Path], FileReport], kind: str, interval_s: float, settle_s: float, once: bool
) -> None:
    """Poll ``folder`` until interrupted (or once); each file to done/ or, with its errors, to quarantine/."""
    from storewatch.ingest.dropfolder import DropFolder
    from storewatch.ingest.worker import IngestWorker
    from storewatch.runtime.health import Health

    if not folder.is_dir():
        raise StorewatchError(f"{folder}: no such folder", fix="create the drop folder first")
    drop = DropFolder(folder, ingest, settle_s)
    if once:
        for outcome in drop.poll_once():
            r = outcome.report
            print(f"{outcome.moved_to}: {r.accepted} accepted, {len(r.quarantined)} quarantined")
        return
    worker = IngestWorker(f"{kind}:{folder}", kind, drop.poll_once, drop.counts, interval_s=interval_s)
    reason = ""
    try:
        while True:
            time.sleep(worker.run_once())
            status = worker.status()
            if status.health is not Health.OK and status.reason != reason:
                print(f"{status.health.value}: {status.reason}", file=sys.stderr)
            reason = status.reason
    except KeyboardInterrupt:
        c = drop.counts
        print(f"stopped: {c.done} files done, {c.quarantined} quarantined ({c.records_accepted} records accepted, "
              f"{c.records_quarantined} quarantined)", file=sys.stderr)  # fmt: skip
