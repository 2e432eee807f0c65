"""The video-joined rules on recorded track files (written by the live pipeline's own ``TrackRecorder``): each
fires on its scenario, stays quiet on the near miss, and judges nothing where the recording has a hole."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np

from storewatch.config.schema import Zone
from storewatch.core.detections import Detections
from storewatch.detect.coco import PERSON
from storewatch.pos.config import PosConfig
from storewatch.pos.exceptions import ExceptionCode
from storewatch.pos.model import LineItem, LineKind, Tender, TransactionType
from storewatch.pos.tills import TillView, load_till_view
from storewatch.pos.video import VideoRules
from storewatch.runtime.trackrec import TrackRecorder
from tests.pos.conftest import T0, make_tx, sale

CAMERA = "s9/till-2"
W, H = 200, 100
ZONES = [
    Zone(id="cashier", kind="checkout", polygon=[(0, 0), (0.4, 0), (0.4, 1), (0, 1)]),
    Zone(id="scanner", kind="custom", polygon=[(0.4, 0), (0.6, 0), (0.6, 1), (0.4, 1)], anchor="center"),
    Zone(id="customer", kind="queue", polygon=[(0.6, 0), (1, 0), (1, 1), (0.6, 1)]),
]
BOXES = {"cashier": (20, 20, 50, 95), "customer": (150, 20, 180, 95), "scanner": (85, 40, 110, 60)}
CONFIG = PosConfig.model_validate(
    {"tills": [{"store": "9", "register": "2", "camera": CAMERA, "cashier_zone": "cashier",
                "customer_zone": "customer", "scanner_zone": "scanner"}]}
)  # fmt: skip

Span = tuple[float, float, str, int, str]
"""From, to (seconds after T0), where (a key of BOXES), track id, label."""


def record(root: Path, spans: list[Span], fps: float = 5.0) -> None:
    """Track files as ``storewatch run`` records them: a frame every 1/fps s where any track is in view."""
    rec = TrackRecorder(root, CAMERA)
    start, end = min(s[0] for s in spans), max(s[1] for s in spans)
    for i in range(int((end - start) * fps) + 1):
        t = start + i / fps
        live = [s for s in spans if s[0] <= t <= s[1]]
        if not live:
            continue
        dets = Detections(
            np.array([BOXES[s[2]] for s in live], np.float32),
            np.full(len(live), 0.9, np.float32),
            np.array([PERSON if s[4] == "person" else 1000 for s in live], np.int64),
            np.array([s[3] for s in live], np.int64),
        )
        rec.add(T0 + timedelta(seconds=t), dets, size=(W, H))
    rec.close()


def view(root: Path, start_s: float = -200, end_s: float = 300) -> TillView:
    return load_till_view(root, CAMERA, ZONES, T0 + timedelta(seconds=start_s), T0 + timedelta(seconds=end_s))


def found(tx: object, root: Path) -> list[str]:
    return [e.code.value for e in VideoRules(CONFIG).check(tx, view(root))]  # type: ignore[arg-type]


CASHIER_ALL_DAY: Span = (-150.0, 250.0, "cashier", 1, "person")
REFUND = LineItem(number=1, kind=LineKind.RETURN, amount_minor=-5999)


def refund(end_s: float = 60) -> object:
    return make_tx(lines=(REFUND,), end=T0 + timedelta(seconds=end_s), duration_s=60,
                   tenders=(Tender(kind="credit", amount_minor=-5999),))  # fmt: skip


def test_recorded_files_read_back_in_utc_with_zones_from_the_site_file(tmp_path: Path) -> None:
    record(tmp_path, [CASHIER_ALL_DAY, (10.0, 20.0, "customer", 2, "person")])
    v = view(tmp_path)
    assert (tmp_path / "s9" / "till-2" / f"{T0:%Y-%m-%d}.csv").is_file()
    assert v.covers(T0 - timedelta(seconds=100), T0 + timedelta(seconds=200))
    assert not v.covers(T0 - timedelta(seconds=160), T0)
    customer = v.presence_s("customer", T0, T0 + timedelta(seconds=60), max_frame_s=1.0)
    assert 9.8 <= customer <= 10.4
    assert v.presence_s("cashier", T0, T0 + timedelta(seconds=60), max_frame_s=1.0) == 60.0


def test_refund_no_customer_fires_when_nobody_is_on_the_customer_side(tmp_path: Path) -> None:
    record(tmp_path, [CASHIER_ALL_DAY])
    (e,) = VideoRules(CONFIG).check(refund(), view(tmp_path))  # type: ignore[arg-type]
    assert e.code is ExceptionCode.REFUND_NO_CUSTOMER
    assert e.values == {"customer_present_s": 0.0, "window_s": 100.0, "zone": "customer"}
    assert e.clip is not None and e.clip.camera == CAMERA
    assert (e.clip.start_utc, e.clip.end_utc) == (T0 - timedelta(seconds=30), T0 + timedelta(seconds=70))


def test_refund_with_a_customer_is_not_raised(tmp_path: Path) -> None:
    record(tmp_path, [CASHIER_ALL_DAY, (20.0, 25.0, "customer", 2, "person")])
    assert found(refund(), tmp_path) == []


def test_refund_with_only_a_glimpse_of_a_customer_is_raised(tmp_path: Path) -> None:
    record(tmp_path, [CASHIER_ALL_DAY, (20.0, 21.0, "customer", 2, "person")])
    assert found(refund(), tmp_path) == ["refund_no_customer"]


def test_no_judgement_where_the_recording_has_a_hole(tmp_path: Path) -> None:
    record(tmp_path, [(-10.0, 250.0, "cashier", 1, "person")])  # starts after the refund's window opens
    assert found(refund(), tmp_path) == []
    assert found(make_tx(type=TransactionType.NO_SALE, tenders=(), end=T0 + timedelta(seconds=400)), tmp_path) == []


def _scanned(*at_s: float) -> object:
    lines = tuple(sale(i + 1, 100, at_utc=T0 + timedelta(seconds=s)) for i, s in enumerate(at_s))
    return make_tx(lines=lines, end=T0 + timedelta(seconds=60), duration_s=60)


def test_scan_gap_fires_on_scanner_activity_without_scans(tmp_path: Path) -> None:
    record(tmp_path, [CASHIER_ALL_DAY, (-100.0, 200.0, "customer", 2, "person"), (15.0, 30.0, "scanner", 3, "object")])
    (e,) = VideoRules(CONFIG).check(_scanned(5, 10, 40, 45), view(tmp_path))  # type: ignore[arg-type]
    assert e.code is ExceptionCode.SCAN_GAP and e.values["gap_s"] == 30.0
    assert 14.8 <= float(e.values["activity_s"]) <= 15.2
    assert e.at_utc == T0 + timedelta(seconds=10)
    assert e.clip is not None and e.clip.start_utc == T0


def test_scan_gap_near_misses(tmp_path: Path) -> None:
    record(tmp_path, [CASHIER_ALL_DAY, (-100.0, 200.0, "customer", 2, "person"), (15.0, 17.0, "scanner", 3, "object")])
    assert found(_scanned(5, 10, 40, 45), tmp_path) == []  # 2 s of activity in the gap
    busy = tmp_path / "busy"
    record(busy, [CASHIER_ALL_DAY, (-100.0, 200.0, "customer", 2, "person"), (10.5, 18.5, "scanner", 3, "object")])
    assert found(_scanned(5, 10, 19, 25), busy) == []  # busy, but scanned within 9 s
    assert found(make_tx(lines=(sale(1, 100), sale(2, 100)), end=T0 + timedelta(seconds=60)), busy) == []  # no times


def _no_sale(at_s: float) -> object:
    return make_tx(type=TransactionType.NO_SALE, tenders=(), end=T0 + timedelta(seconds=at_s))


def test_cashier_absent_drawer_open(tmp_path: Path) -> None:
    record(tmp_path, [(-150.0, 50.0, "cashier", 1, "person"), (-150.0, 250.0, "customer", 2, "person")])
    (e,) = VideoRules(CONFIG).check(_no_sale(60), view(tmp_path))  # type: ignore[arg-type]
    assert e.code is ExceptionCode.CASHIER_ABSENT_DRAWER_OPEN and e.values["cashier_present_s"] == 0.0
    assert e.at_utc == T0 + timedelta(seconds=60)
    assert found(_no_sale(40), tmp_path) == []  # the cashier was there then
    cash = make_tx(lines=(sale(1, 500),), tenders=(Tender(kind="cash", amount_minor=500),),
                   end=T0 + timedelta(seconds=60))  # fmt: skip
    card = make_tx(lines=(sale(1, 500),), end=T0 + timedelta(seconds=60))
    assert found(cash, tmp_path) == ["cashier_absent_drawer_open"]
    assert found(card, tmp_path) == []  # a card sale does not open the drawer


def test_an_unmapped_register_is_not_judged(tmp_path: Path) -> None:
    record(tmp_path, [(-150.0, 250.0, "customer", 2, "person")])
    assert VideoRules(CONFIG).check(make_tx(register="3", lines=(REFUND,)), view(tmp_path)) == []


def test_the_service_joins_video_when_recordings_are_at_hand(tmp_path: Path) -> None:
    from storewatch.pos.service import PosIngestService, TrackSource
    from storewatch.store.db import open_database
    from storewatch.store.migrate import upgrade

    record(tmp_path / "tracks", [CASHIER_ALL_DAY])
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    upgrade(url)
    with open_database(url) as db:
        service = PosIngestService(db, CONFIG, TrackSource(tmp_path / "tracks", {CAMERA: ZONES}))
        report = service.ingest([refund()], "test")  # type: ignore[list-item]
        assert report.inserted == 1
        stored = {e.code.value: e for e in service.repo.exceptions()}
    assert set(stored) == {"refund_without_receipt", "refund_no_customer"}
    clip = stored["refund_no_customer"].clip
    assert clip is not None and clip.camera == CAMERA
