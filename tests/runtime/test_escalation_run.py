"""Routing through a running site: escalation when nobody acknowledges, none once someone does, quiet hours.

A camera that goes dark every few seconds raises high-severity tampering events. Three routes, each to its own
webhook path on one receiver on 127.0.0.1:

* ``unanswered``: first level at once, the second after 2 s; nobody acknowledges -> the second level is told;
* ``answered``: the same, but its first alert is acknowledged through the signed link at once -> its second level
  hears nothing about that alert;
* ``night``: quiet hours around the clock -> high (not critical) events are never sent.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.request import ProxyHandler, build_opener

from storewatch.bench.alerts import blinking_camera
from storewatch.config.schema import SiteConfig
from storewatch.runtime.runner import SiteRunner
from tests.alerts.servers import Receiver
from tests.helpers import CountingDetector, wait_for

ALWAYS = {day: ["00:00-23:59"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def test_escalation_acknowledgement_and_quiet_hours_through_the_runner(tmp_path: Path) -> None:
    receiver = Receiver().start()
    channels = [{"kind": "webhook", "name": name, "url": f"{receiver.url}/{name}", "secret": "r" * 24}
                for name in ("u1", "u2", "a1", "a2", "n1")]  # fmt: skip
    routes = [
        {"name": "unanswered", "levels": [{"channels": ["u1"]}, {"channels": ["u2"], "after_s": 2}]},
        {"name": "answered", "levels": [{"channels": ["a1"]}, {"channels": ["a2"], "after_s": 2}]},
        {"name": "night", "quiet_hours": ALWAYS, "levels": [{"channels": ["n1"]}]},
    ]
    camera = blinking_camera(tmp_path / "blink.mp4", lit_s=3.0, dark_s=3.0)
    site = SiteConfig.model_validate({
        "site": {"id": "t"},
        "stores": [{"id": "s1", "cameras": [{"id": "back", "source": str(camera),
                                             "tampering": {"persist_s": 1.0, "check_interval_s": 0.25}}]}],
        "alerts": {"channels": channels},
        "routes": routes,
        "runtime": {"data_dir": str(tmp_path / "data"), "status_port": 0},
    })  # fmt: skip
    runner = SiteRunner(site, CountingDetector())
    opener = build_opener(ProxyHandler({}))

    def bodies(path: str) -> list[dict[str, object]]:
        return [json.loads(r.body) for r in list(receiver.requests) if r.path == f"/{path}"]

    runner.start()
    try:
        wait_for(lambda: bool(bodies("a1")) and bool(bodies("u1")), 20)
        first = bodies("a1")[0]
        links = first["links"]
        assert isinstance(links, dict)
        ack = str(links["ack"])
        token = ack.split("token=", 1)[1]
        assert b"Acknowledged after" in opener.open(ack.split("?")[0], data=f"token={token}".encode(), timeout=5).read()
        acked_at = time.monotonic()
        wait_for(lambda: any(b["event_id"] == first["event_id"] for b in bodies("u2")), 10)
        time.sleep(max(0.0, acked_at + 3.0 - time.monotonic()))  # past the answered route's 2 s
    finally:
        runner.stop()
        receiver.stop()
    assert not any(b["event_id"] == first["event_id"] for b in bodies("a2")), "escalated although acknowledged"
    assert bodies("n1") == [], "sent during quiet hours"
