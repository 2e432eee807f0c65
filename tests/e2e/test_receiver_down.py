"""``storewatch run`` loses no alert while the webhook receiver is down: the sample camera live, with the real
detector and a restricted-area rule over the whole floor (it fires for each person within a second or two), and a
webhook receiver on 127.0.0.1 whose port is closed for the first 30 s.

1. The receiver comes back after 30 s: every alert raised meanwhile arrives, exactly once (by delivery id and by
   event id), within one retry wait of its return; the camera kept being analysed throughout (nothing waited on
   the receiver).
2. The runner is stopped while the receiver is down, and a new runner started on the same data folder with the
   receiver up: the alerts the first run could not deliver arrive (the delivery log is in the event store).

Times are printed (``pytest -s`` shows them).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select

from storewatch.alerts.config import RetryPolicy
from storewatch.alerts.webhook import DELIVERY_HEADER, EVENT_HEADER
from storewatch.config.schema import SiteConfig
from storewatch.detect.gated import WindowDetector
from storewatch.runtime.runner import SiteRunner
from storewatch.store import default_url, open_database
from storewatch.store.models import DeliveryRow
from tests.alerts.servers import Receiver, Recorded
from tests.helpers import wait_for

pytestmark = [pytest.mark.models, pytest.mark.shared]

OUTAGE_S = 30.0
OUTAGE_POLICY = RetryPolicy(max_attempts=20, initial_delay_s=0.5, factor=2.0, max_delay_s=4.0, jitter=0.1)
"""Waits of 0.5, 1, 2, then 4 s: twenty attempts span a minute (more than the outage), and a delivery is retried
at most 4.4 s after the receiver returns."""
RETRY_WAIT_S = OUTAGE_POLICY.max_delay_s * (1 + OUTAGE_POLICY.jitter)
SLACK_S = 3.0
"""Beyond the longest retry wait: the request itself and a loaded test machine."""
CHANNEL = "lp-desk"


@pytest.fixture(scope="module")
def detector() -> WindowDetector:
    """The real detector (one for the module: loading it takes a while); skips without the models."""
    from storewatch.analysis.tracking import open_detector
    from storewatch.detect.config import DetectorConfig
    from storewatch.errors import ModelError

    try:
        return open_detector(DetectorConfig())
    except ModelError as exc:
        pytest.skip(f"{exc} (make setup obtains the models)")


@dataclass
class Inbox:
    """What the receiver got: each request with its arrival time (monotonic)."""

    arrivals: list[tuple[float, Recorded]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def respond(self, request: Recorded) -> int:
        with self.lock:
            self.arrivals.append((time.monotonic(), request))
        return 200

    def delivery_ids(self) -> Counter[str]:
        with self.lock:
            return Counter(r.headers[DELIVERY_HEADER] for _, r in self.arrivals)

    def first_arrival(self) -> dict[str, float]:
        with self.lock:
            found: dict[str, float] = {}
            for t, r in self.arrivals:
                found.setdefault(r.headers[DELIVERY_HEADER], t)
            return found


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def receiver(inbox: Inbox) -> Iterator[Receiver]:
    """The webhook receiver, not started: its port is closed until the test starts it."""
    r = Receiver(inbox.respond)
    yield r
    r.stop()


def site_config(video: Path, data_dir: Path, hook_url: str) -> SiteConfig:
    from storewatch.behaviour.rules.registry import RULES

    rules: dict[str, dict[str, object]] = {name: {"enabled": False} for name in RULES}
    rules["restricted_area"] = {"enabled": True, "min_inside_s": 0.5}
    floor = [[0.01, 0.01], [0.99, 0.01], [0.99, 0.99], [0.01, 0.99]]
    camera = {"id": "entrance", "source": str(video), "detect_fps": 5.0, "tampering": {"enabled": False},
              "zones": [{"id": "floor", "kind": "staff_only", "polygon": floor}]}  # fmt: skip
    hook = {"kind": "webhook", "name": CHANNEL, "url": f"{hook_url}/hook", "secret": "e" * 24, "timeout_s": 2.0,
            "retry": OUTAGE_POLICY.model_dump()}  # fmt: skip
    return SiteConfig.model_validate({
        "site": {"id": "e2e"}, "stores": [{"id": "s1", "cameras": [camera]}], "rules": rules,
        "alerts": {"channels": [hook]},
        "runtime": {"data_dir": str(data_dir), "status_port": 0, "record_tracks": False, "clip_before_s": 2.0,
                    "clip_after_s": 1.0},
    })  # fmt: skip


def deliveries(data_dir: Path) -> dict[str, DeliveryRow]:
    """Every delivery in the data folder's event store, by id (read in a connection of its own)."""
    with open_database(default_url(data_dir)) as db, db.session() as session:
        return {row.id: row for row in session.scalars(select(DeliveryRow))}


def attempts_by_delivery(data_dir: Path) -> dict[str, list[tuple[bool, str | None]]]:
    from storewatch.store import SqlDeliveryLog

    with open_database(default_url(data_dir)) as db:
        log = SqlDeliveryLog(db)
        return {i: [(a.ok, a.error) for a in log.attempts(i)] for i in deliveries(data_dir)}


def report(what: str, seconds: float) -> None:
    print(f"receiver-down: {what}: {seconds:.1f} s")


class Progress:
    """Samples the camera's analysed-frame count every 0.2 s, to show the pipeline never waited."""

    def __init__(self, runner: SiteRunner) -> None:
        self.runner = runner
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="progress", daemon=True)

    def __enter__(self) -> Progress:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(2)

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.samples.append((time.monotonic(), sum(lane.processed for lane in self.runner.pipeline.lanes)))

    def longest_stall_s(self, start: float, end: float) -> float:
        """The longest time between start and end in which no frame was analysed."""
        window = [(t, n) for t, n in self.samples if start <= t <= end]
        assert len(window) >= 2, "no samples in the window"
        longest, since = 0.0, window[0][0]
        for (_, n0), (t1, n1) in itertools.pairwise(window):
            if n1 > n0:
                since = t1
            longest = max(longest, t1 - since)
        return longest

    def frames(self, start: float, end: float) -> int:
        window = [n for t, n in self.samples if start <= t <= end]
        return window[-1] - window[0]


def test_a_receiver_down_for_30_s_loses_no_alert_and_the_runner_never_waits(
    tmp_path: Path, pets_video: Path, detector: WindowDetector, receiver: Receiver, inbox: Inbox
) -> None:
    assert OUTAGE_POLICY.min_span_s() > 1.5 * OUTAGE_S  # the policy chosen outlasts the outage with room to spare
    data = tmp_path / "data"
    runner = SiteRunner(site_config(pets_video, data, receiver.url), detector)
    started = time.monotonic()
    runner.start()
    try:
        with Progress(runner) as progress:
            assert runner.alerting is not None
            deliverer = runner.alerting.deliverer
            wait_for(lambda: deliverer.counts()[CHANNEL].failed_attempts >= 1, timeout_s=20)
            report("first alert attempted (refused)", time.monotonic() - started)
            time.sleep(max(0.0, started + OUTAGE_S - time.monotonic()))  # the outage itself: a span of time
            receiver.start()
            back = time.monotonic()
            raised_while_down = set(deliveries(data))
            report(f"receiver back; {len(raised_while_down)} alert(s) raised while it was down", back - started)
            wait_for(lambda: raised_while_down <= set(inbox.delivery_ids()), timeout_s=RETRY_WAIT_S + SLACK_S)
            report("every alert raised while down received", time.monotonic() - back)
    finally:
        runner.stop()
    report("stopped", time.monotonic() - started)

    rows = deliveries(data)
    received = inbox.delivery_ids()
    assert len(raised_while_down) >= 2, "the rule should fire several times in 30 s on the sample camera"
    assert set(received) == set(rows) and all(n == 1 for n in received.values()), received  # each exactly once
    events = Counter(r.headers[EVENT_HEADER] for _, r in inbox.arrivals)
    assert set(events) == {row.event_id for row in rows.values()} and all(n == 1 for n in events.values()), events
    assert {row.status.value for row in rows.values()} == {"delivered"}
    tries = attempts_by_delivery(data)
    for i in raised_while_down:  # failed while the port was closed, then one success
        assert tries[i][-1] == (True, None) and len(tries[i]) >= 2
        assert all(not ok and "refused" in (error or "").lower() for ok, error in tries[i][:-1]), tries[i]
    late = {i: t - back for i, t in inbox.first_arrival().items() if i in raised_while_down}
    report("slowest arrival after the return", max(late.values()))
    assert max(late.values()) <= RETRY_WAIT_S + SLACK_S
    stall = progress.longest_stall_s(started + 5.0, back)
    fps = progress.frames(started + 5.0, back) / (back - started - 5.0)
    report(f"while down: {fps:.1f} frames analysed per second, longest pause", stall)
    assert stall < 2.0 and fps >= 2.0  # the camera was analysed throughout the outage (at 5 fps, 2 at least)


def test_alerts_pending_at_a_stop_are_delivered_by_the_next_run(
    tmp_path: Path, pets_video: Path, detector: WindowDetector, receiver: Receiver, inbox: Inbox
) -> None:
    data = tmp_path / "data"
    site = site_config(pets_video, data, receiver.url)
    first = SiteRunner(site, detector)
    started = time.monotonic()
    first.start()
    try:
        assert first.alerting is not None
        deliverer = first.alerting.deliverer
        wait_for(lambda: deliverer.counts()[CHANNEL].submitted >= 2, timeout_s=30)
        wait_for(lambda: deliverer.counts()[CHANNEL].failed_attempts >= 2, timeout_s=10)
    finally:
        first.stop()
    report("first run stopped with the receiver down", time.monotonic() - started)
    left = {i for i, row in deliveries(data).items() if row.status.value == "pending"}
    assert len(left) >= 2 and inbox.delivery_ids() == Counter()

    receiver.start()
    second = SiteRunner(site, detector)
    restarted = time.monotonic()
    second.start()
    try:
        wait_for(lambda: left <= set(inbox.delivery_ids()), timeout_s=10 + RETRY_WAIT_S)
        report(f"{len(left)} alert(s) of the first run received after the restart", time.monotonic() - restarted)
    finally:
        second.stop()
    received = inbox.delivery_ids()
    assert all(received[i] == 1 for i in left) and all(n == 1 for n in received.values()), received
    rows = deliveries(data)
    assert all(rows[i].status.value == "delivered" for i in left)
    tries = attempts_by_delivery(data)
    assert all(tries[i][-1] == (True, None) and not any(ok for ok, _ in tries[i][:-1]) for i in left)
