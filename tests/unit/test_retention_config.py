"""The ``retention:`` section: defaults, clear errors with their lines, and the scheduler that runs the purge."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from storewatch.config import check_site_config, load_site_config
from storewatch.retention.config import DataKind, RetentionConfig
from storewatch.retention.files import classify
from storewatch.retention.schedule import RetentionScheduler, next_run
from storewatch.retention.service import RetentionReport
from tests.unit.test_config import VALID, write


def test_defaults_and_a_section_that_is_valid(tmp_path: Path) -> None:
    assert load_site_config(write(tmp_path, VALID)).retention == RetentionConfig()
    text = VALID + "retention:\n  clips_days: 7\n  events_days: null\n  audit_days: 3650\n  run_at_hour: 0\n"
    cfg = load_site_config(write(tmp_path, text)).retention
    assert (cfg.days(DataKind.CLIPS), cfg.days(DataKind.EVENTS), cfg.days(DataKind.AUDIT)) == (7, None, 3650)


@pytest.mark.parametrize(
    ("section", "line", "path", "message"),
    [
        ("  clips_days: -3\n", 12, "retention.clips_days", "greater than or equal to 1"),
        ("  clips_days: 0\n", 12, "retention.clips_days", "greater than or equal to 1"),
        ("  audit_days: 5000\n", 12, "retention.audit_days", "less than or equal to 3650"),
        ("  snapshots_days: soon\n", 12, "retention.snapshots_days", "valid integer"),
        ("  clip_days: 7\n", 12, "retention", "unknown retention kind 'clip_days': the kinds are clips_days, "
         "snapshots_days"),
        ("  clips_days: 400\n", 12, "retention", "clips_days (400 days) is longer than events_days (365)"),
        ("  events_days: 10\n", 12, "retention", "is longer than events_days (10)"),
        ("  run_at_hour: 24\n", 12, "retention.run_at_hour", "less than or equal to 23"),
    ],
)  # fmt: skip
def test_errors_name_line_key_and_the_kinds(tmp_path: Path, section: str, line: int, path: str, message: str) -> None:
    issues = check_site_config(write(tmp_path, VALID + "retention:\n" + section))
    assert len(issues) == 1, issues
    (issue,) = issues
    assert (issue.line, issue.key_path) == (line, path), issue
    assert message in issue.message


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        ("s1/door/2026-03-01/e1.jpg", DataKind.SNAPSHOTS),
        ("s1/door/2026-03-01/e1-path.jpg", DataKind.PATH_PICTURES),
        ("s1/door/2026-03-01/e1.mkv", DataKind.CLIPS),
        ("s1/door/2026-03-01/e1.txt", None),
        ("s1/door/2026-13-01/e1.jpg", None),
        ("s1/door/e1.jpg", None),
        ("s1/door/2026-03-01/-path.jpg", None),
    ],
)
def test_evidence_keys_are_classified(key: str, kind: DataKind | None) -> None:
    found = classify(key)
    assert (found.kind if found else None) == kind


def test_a_clips_faces_blurred_copy_belongs_to_its_event_like_the_clip() -> None:
    copy, clip = classify("s1/door/2026-03-01/e1.protected.mp4"), classify("s1/door/2026-03-01/e1.mkv")
    assert copy is not None and clip is not None
    assert (copy.kind, copy.event_id) == (clip.kind, clip.event_id) == (DataKind.CLIPS, "e1")


def test_next_run_is_the_next_hour_in_the_sites_zone_across_a_dst_change() -> None:
    london = ZoneInfo("Europe/London")
    # 29 March 2026: clocks go forward at 01:00 UTC; 03:00 local is 02:00 UTC on that day, 03:00 UTC the day before
    assert next_run(datetime(2026, 3, 28, 12, tzinfo=UTC), 3, london) == datetime(2026, 3, 29, 2, tzinfo=UTC)
    assert next_run(datetime(2026, 3, 27, 12, tzinfo=UTC), 3, london) == datetime(2026, 3, 28, 3, tzinfo=UTC)


def test_the_scheduler_runs_at_start_and_survives_a_failing_run() -> None:
    calls: list[int] = []
    first = threading.Event()

    def job() -> RetentionReport:
        calls.append(1)
        first.set()
        raise RuntimeError("disk on fire")

    scheduler = RetentionScheduler(job, 3, ZoneInfo("UTC"), start_delay_s=0.0)
    scheduler.start()
    try:
        assert scheduler.wait_runs(1, 10.0)
    finally:
        scheduler.stop(5.0)
    assert calls == [1] and scheduler.failures == 1 and scheduler.last_error == "RuntimeError: disk on fire"
    assert scheduler.status()["next_run_utc"] is not None
    assert scheduler._thread is not None and not scheduler._thread.is_alive()
