"""How fast an alert reaches someone: frame capture to webhook receipt, under the live benchmark's camera load.

The sample video runs as N live cameras (the detector busy as in ``bench pipeline``), plus one more camera whose
view goes dark for a few seconds and comes back, over and over: each darkening raises a tampering event, routed
to a webhook on 127.0.0.1. The latency of each alert is the time from the capture of the frame that made the
event fire (the event's start time) to the moment the webhook request arrives, on the same clock.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from storewatch.config.schema import SiteConfig
from storewatch.detect.gated import WindowDetector
from storewatch.runtime.runner import SiteRunner
from storewatch.video.writer import Mp4Writer


def blinking_camera(path: Path, lit_s: float = 4.0, dark_s: float = 3.0, fps: int = 10) -> Path:
    """A camera whose view is a textured scene for ``lit_s`` then dark for ``dark_s`` (looped by the runner)."""
    rng = np.random.default_rng(3)
    blocks = rng.integers(40, 200, (6, 8, 3), dtype=np.uint8)
    scene = np.asarray(cv2.resize(blocks, (320, 240), interpolation=cv2.INTER_NEAREST), np.uint8)
    dark = np.full_like(scene, 3)
    with Mp4Writer(path, fps) as out:
        for i in range(int((lit_s + dark_s) * fps)):
            out.write(scene if i < lit_s * fps else dark)
    return path


class HookReceiver:
    """A webhook receiver on 127.0.0.1 (a thread) that keeps each arrival: (time.time(), JSON body)."""

    def __init__(self) -> None:
        self.arrivals: list[tuple[float, dict[str, Any]]] = []
        arrivals = self.arrivals

        class Receiver(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                at = time.time()
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                arrivals.append((at, json.loads(body)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def bench_site(video: Path, cameras: int, work_dir: Path, hook_url: str) -> dict[str, Any]:
    """The site file (as data, secrets in clear) of N cameras on ``video`` (tampering checks off, rules off: the
    detector's load) and the blinking camera, whose darkening raises a tampering event every few seconds, alerted
    to ``hook_url``; data in work_dir/data."""
    blink = blinking_camera(work_dir / "blink.mp4")
    fast = {"persist_s": 1.0, "check_interval_s": 0.25}
    cams = [{"id": f"cam-{i + 1}", "source": str(video), "tampering": {"enabled": False}} for i in range(cameras)]
    cams.append({"id": "blink", "source": str(blink), "tampering": fast})
    return {
        "site": {"id": "bench"}, "stores": [{"id": "bench", "cameras": cams}],
        "rules": {name: {"enabled": False} for name in _rule_names()},
        "alerts": {"channels": [{"kind": "webhook", "name": "bench", "secret": "b" * 24, "url": hook_url}]},
        "runtime": {"data_dir": str(work_dir / "data"), "status_port": 0},
    }  # fmt: skip


def run_alerts_benchmark(
    video: Path, detector: WindowDetector, cameras: int, seconds: float, work_dir: Path
) -> dict[str, Any]:
    receiver = HookReceiver()
    runner = SiteRunner(SiteConfig.model_validate(bench_site(video, cameras, work_dir, receiver.url)), detector)
    runner.start()
    try:
        time.sleep(seconds)
    finally:
        runner.stop()
        receiver.close()
    latencies = [
        at - datetime.fromisoformat(p["start_utc"]).astimezone(UTC).timestamp()
        for at, p in receiver.arrivals
        if p.get("type", "").startswith("camera.tampering") and p.get("state") == "started"
    ]
    lat = np.asarray(latencies)
    lanes = [lane for lane in runner.pipeline.lanes if not str(lane.camera_id).endswith("/blink")]
    return {
        "cameras": cameras,
        "seconds": seconds,
        "alerts": len(latencies),
        "capture_to_webhook_p50_s": round(float(np.percentile(lat, 50)), 3) if lat.size else None,
        "capture_to_webhook_p95_s": round(float(np.percentile(lat, 95)), 3) if lat.size else None,
        "capture_to_webhook_max_s": round(float(lat.max()), 3) if lat.size else None,
        "per_camera_detect_fps": [round(lane.processed / seconds, 2) for lane in lanes],
    }


def _rule_names() -> list[str]:
    from storewatch.behaviour.rules.registry import RULES

    return list(RULES)
