"""What an ingest returns for one document (a file, an HTTP body, a message) and the counters a source keeps of
them, shared by POS and door access so every transport reports the same way.

>>> counts = IngestCounts()
>>> counts.add(Report(accepted=3)); counts.add(Report(accepted=1, quarantined=[Quarantined("f", "line 2", "", "x")]))
>>> counts
IngestCounts(done=1, quarantined=1, records_accepted=4, records_quarantined=1, failures=0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from storewatch.pos.records import Quarantined
from storewatch.runtime.health import Health


class FileReport(Protocol):
    """What an ingest callable returns for one document (``IngestReport`` of POS, ``AccessReport`` of access)."""

    @property
    def accepted(self) -> int: ...

    @property
    def quarantined(self) -> Sequence[Quarantined]: ...

    def to_dict(self) -> dict[str, Any]: ...


@dataclass
class Report:
    """A minimal ``FileReport`` (tests, examples)."""

    accepted: int = 0
    quarantined: list[Quarantined] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "quarantined": [q.to_dict() for q in self.quarantined]}


@dataclass
class IngestCounts:
    """Since the source started: documents (files, messages) whose every record was read (``done``) or with some
    quarantined, the records accepted and quarantined, and the ingests that failed for a reason outside the
    document (the database away: the document is kept and tried again, so it is counted again when it goes in)."""

    done: int = 0
    quarantined: int = 0
    records_accepted: int = 0
    records_quarantined: int = 0
    failures: int = 0

    def add(self, report: FileReport) -> None:
        self.records_accepted += report.accepted
        self.records_quarantined += len(report.quarantined)
        if report.quarantined:
            self.quarantined += 1
        else:
            self.done += 1


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """One ingest source at one moment (``/status`` ``sources``; ``storewatch_ingest_*`` metrics)."""

    source: str
    kind: str
    health: Health
    reason: str
    since_utc: datetime
    done: int
    """Documents (files, messages) whose every record was read."""
    quarantined: int
    """Documents with records that could not be read (quarantined, the rest accepted)."""
    records_accepted: int
    records_quarantined: int
    failures: int
    """Steps that failed for a reason outside the documents (retried; nothing dropped)."""
    last_success_age_s: float | None
