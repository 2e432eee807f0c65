"""Door access: events parsed with quarantine; the rules driven by recorded track files of a door camera
(people crossing the door's line, entering the restricted zone behind it) against the badge events, the store's
opening hours and the door states; ingest stores each event once; the site file checks each door."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from storewatch.access.events import AccessEvent, AccessKind, parse_access
from storewatch.access.rules import AccessRules, schedule_check
from storewatch.access.service import AccessIngestService, DoorTracks, check, split
from storewatch.cli.app import main
from storewatch.config.loader import check_site_config, load_site_config
from storewatch.core.detections import Detections
from storewatch.runtime.trackrec import TrackRecorder
from storewatch.store.access import AccessRepository
from storewatch.store.db import default_url, open_database
from storewatch.store.migrate import upgrade

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # 10:00 UTC, store open 08:00-22:00 UTC
OPEN = {day: ["08:00-22:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
W, H = 640, 480


def _site(doors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    camera = {
        "id": "back", "source": "back.mp4",
        "lines": [{"id": "door", "kind": "entrance", "points": [[0.2, 0.5], [0.8, 0.5]], "direction_in": "right"}],
        "zones": [{"id": "stockroom", "kind": "staff_only", "polygon": [[0, 0.6], [1, 0.6], [1, 1], [0, 1]]}],
    }  # fmt: skip
    return {
        "site": {"id": "acme"},
        "stores": [{"id": "s1", "schedule": {"opening_hours": OPEN}, "cameras": [camera]}],
        "access": {"doors": doors if doors is not None else [
            {"store": "s1", "door": "D-101", "camera": "s1/back", "line": "door", "zone": "stockroom"}]},
    }  # fmt: skip


@pytest.fixture
def site_file(tmp_path: Path) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(_site(), sort_keys=False))
    return path


def _walk(track: int, start_s: float, end_s: float, y0: float, y1: float) -> list[tuple[float, int, float]]:
    """A person walking straight down the frame from foot y0 to y1 (pixels), a frame every 0.2 s."""
    steps = int((end_s - start_s) / 0.2) + 1
    return [(start_s + i * 0.2, track, y0 + (y1 - y0) * i / (steps - 1)) for i in range(steps)]


def _record(root: Path, walks: Sequence[list[tuple[float, int, float]]], span_s: float = 60.0) -> Path:
    """The door camera's track file: the walks, and frames every 0.2 s over ``span_s`` (so the span is covered)."""
    rec = TrackRecorder(root, "s1/back")
    by_time: dict[float, list[tuple[int, float]]] = {}
    for walk in walks:
        for t, track, y in walk:
            by_time.setdefault(round(t, 1), []).append((track, y))
    for i in range(int(span_s / 0.2) + 1):
        t = round(i * 0.2, 1)
        people = by_time.get(t, [])
        dets = Detections(
            xyxy=np.array([[300, y - 120, 340, y] for _, y in people], np.float32).reshape(-1, 4),
            confidence=np.ones(len(people), np.float32),
            class_id=np.zeros(len(people), np.int64),
            track_id=np.array([k for k, _ in people], np.int64),
        )
        rec.add(T0 + timedelta(seconds=t), dets, (W, H))
    rec.close()
    return root


def _badge(t_s: float, result: str = "granted", badge: str = "B7", door: str = "D-101") -> dict[str, Any]:
    at = (T0 + timedelta(seconds=t_s)).isoformat()
    return {"store": "s1", "door": door, "kind": "badge", "badge": badge, "result": result, "at_utc": at}


def _door(t_s: float, kind: str = "door_open") -> dict[str, Any]:
    return {"store": "s1", "door": "D-101", "kind": kind, "at_utc": (T0 + timedelta(seconds=t_s)).isoformat()}


def _events(*records: dict[str, Any]) -> list[AccessEvent]:
    return [AccessEvent.model_validate(r) for r in records]


def _run(site_file: Path, tracks: Path | None, events: list[AccessEvent]) -> list[tuple[str, dict[str, Any]]]:
    site = load_site_config(site_file)
    rules = AccessRules(site.access, schedule_check({"s1": (site.stores[0].schedule, "UTC")}))
    cameras = {"s1/back": site.stores[0].cameras[0]}
    found = check(events, rules, DoorTracks(tracks, cameras) if tracks else None)
    return [(e.code.value, e.values) for e in found]


# foot y: 180 px is above the door line (240 px), 260 px below it, 330 px inside the stockroom (from 288 px)
SCENARIOS = [
    ("two people on one badge", [_walk(1, 10, 12, 180, 260), _walk(2, 11, 13, 180, 260)], [_badge(9.5)],
     [("tailgating", 2, 1)]),
    ("one person, one badge", [_walk(1, 10, 12, 180, 260)], [_badge(9.5)], []),
    ("two people, two badges", [_walk(1, 10, 12, 180, 260), _walk(2, 11, 13, 180, 260)],
     [_badge(9.5), _badge(10.5, badge="B8")], []),
    ("walking out is not in", [_walk(1, 10, 12, 260, 180), _walk(2, 11, 13, 260, 180)], [_badge(9.5)], []),
    ("second person long after the window", [_walk(1, 10, 12, 180, 260), _walk(2, 30, 32, 180, 260)],
     [_badge(9.5)], []),
]  # fmt: skip


@pytest.mark.parametrize(("walks", "badges", "expected"), [s[1:] for s in SCENARIOS], ids=[s[0] for s in SCENARIOS])
def test_tailgating_from_recorded_tracks(
    site_file: Path, tmp_path: Path, walks: Any, badges: Any, expected: list[tuple[str, int, int]]
) -> None:
    tracks = _record(tmp_path / "tracks", walks)
    found = [(c, v["people"], v["badges"]) for c, v in _run(site_file, tracks, _events(*badges)) if c == "tailgating"]
    assert found == expected


def test_entering_the_stockroom_without_a_badge(site_file: Path, tmp_path: Path) -> None:
    tracks = _record(tmp_path / "tracks", [_walk(1, 10, 13, 180, 330), _walk(2, 40, 43, 180, 330)])
    found = _run(site_file, tracks, _events(_badge(38.0), _door(38.5)))  # only the second person badged in
    assert [c for c, _ in found] == ["restricted_entry_no_badge"]
    assert found[0][1]["zone"] == "stockroom"


def test_no_recording_no_finding(site_file: Path, tmp_path: Path) -> None:
    tracks = _record(tmp_path / "tracks", [_walk(1, 10, 12, 180, 260), _walk(2, 11, 13, 180, 260)])
    assert _run(site_file, tmp_path / "elsewhere", _events(_badge(9.5))) == []  # no track files for the camera
    assert [c for c, _ in _run(site_file, tracks, _events(_badge(9.5)))] == ["tailgating"]


def test_after_hours_and_forced_door(site_file: Path) -> None:
    late = _badge(13 * 3600.0)  # 23:00 UTC: closed
    denied = _badge(13 * 3600.0 + 60, result="denied")
    found = _run(site_file, None, _events(late, denied, _badge(100), _door(101), _door(200), _door(300, "door_forced")))
    codes = [(c, v.get("reported_by_system")) for c, v in found]
    assert codes == [("forced_door", False), ("forced_door", True), ("after_hours_badge", None),
                     ("after_hours_badge", None)]  # fmt: skip


def test_bad_records_are_quarantined_and_the_rest_read(tmp_path: Path) -> None:
    good = _badge(1)
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps({**good, "kind": "teleport"}) + "\n{oops\n"
                    + json.dumps({**_door(5), "result": None}) + "\n")  # fmt: skip
    events, bad = split(parse_access(path))
    assert [e.kind for e in events] == [AccessKind.BADGE, AccessKind.DOOR_OPEN]
    assert [(q.record.split(" ")[0] + " " + q.record.split(" ")[1], q.path) for q in bad] == [
        ("line 2", "kind"), ("line 3", "column 2")]  # fmt: skip
    csv_path = tmp_path / "events.csv"
    csv_path.write_text("store,door,kind,badge,result,at_utc\ns1,D-101,badge,B7,granted,2026-03-02T10:00:00Z\n"
                        "s1,D-101,badge,,granted,2026-03-02T10:00:05Z\n")  # fmt: skip
    events, bad = split(parse_access(csv_path))
    assert len(events) == 1 and len(bad) == 1 and "needs badge and result" in bad[0].error


def test_ingest_stores_each_event_once(site_file: Path, tmp_path: Path) -> None:
    tracks = _record(tmp_path / "tracks", [_walk(1, 10, 12, 180, 260), _walk(2, 11, 13, 180, 260)])
    files = tmp_path / "events.json"
    files.write_text(json.dumps({"events": [_badge(9.5), {"store": "s1"}]}))
    url = default_url(tmp_path / "data")
    upgrade(url)
    site = load_site_config(site_file)
    rules = AccessRules(site.access, schedule_check({"s1": (site.stores[0].schedule, "UTC")}))
    with open_database(url) as db:
        repo = AccessRepository(db)
        service = AccessIngestService(repo, rules, DoorTracks(tracks, {"s1/back": site.stores[0].cameras[0]}))
        first = service.ingest(parse_access(files), "events.json")
        again = service.ingest(parse_access(files), "events.json")
        assert (first.accepted, first.new, len(first.quarantined), [e.code.value for e in first.exceptions]) == (
            1, 1, 1, ["tailgating"])  # fmt: skip
        assert (again.new, again.exceptions) == (0, [])
        assert repo.counts() == {"events": 1, "exceptions": 1, "quarantined": 1}


def test_the_cli_checks_and_ingests(site_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tracks = _record(tmp_path / "tracks", [_walk(1, 10, 12, 180, 260), _walk(2, 11, 13, 180, 260)])
    events = tmp_path / "events.json"
    events.write_text(json.dumps([_badge(9.5)]))
    args = ["--config", str(site_file), "--tracks", str(tracks)]
    assert main(["access", "check", str(events), *args, "--json"]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(e["code"], e["values"]["people"], e["clip"]["camera"]) for e in out] == [("tailgating", 2, "s1/back")]
    upgrade(default_url(tmp_path / "data"))
    assert main(["access", "ingest", str(events), *args, "--data-dir", str(tmp_path / "data")]) == 0
    assert "1 events (1 new), 0 quarantined, 1 exceptions" in capsys.readouterr().out


DOOR_CASES = [
    ("unknown line", {"line": "gate"}, "access.doors[0].line", "names line 'gate', which camera s1/back lacks"),
    ("unknown zone", {"zone": "vault"}, "access.doors[0].zone", "names zone 'vault', which camera s1/back lacks"),
    ("unknown camera", {"camera": "s1/front"}, "access.doors[0].camera", "camera s1/front, which store s1 lacks"),
    ("unknown store", {"store": "s2", "camera": None, "line": None, "zone": None}, "access.doors[0].store",
     "the site has no store 's2'"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "key", "message"), [c[1:] for c in DOOR_CASES], ids=[c[0] for c in DOOR_CASES])
def test_the_site_file_checks_each_door(tmp_path: Path, change: dict[str, Any], key: str, message: str) -> None:
    door = {"store": "s1", "door": "D-101", "camera": "s1/back", "line": "door", "zone": "stockroom", **change}
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(_site([{k: v for k, v in door.items() if v is not None}]), sort_keys=False))
    issues = check_site_config(path)
    assert [(i.key_path, message in i.message) for i in issues] == [(key, True)], issues
    assert issues[0].line is not None and issues[0].line > 1
