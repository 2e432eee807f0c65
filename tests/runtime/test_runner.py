"""``SiteRunner`` end to end on generated H.264 cameras: a camera whose view goes dark raises a tampering event
with a JPEG snapshot and an MP4 clip cut from the ring without re-encoding; recording writes segments; the other
camera is unaffected; the status server answers; the events log has every message."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.request import ProxyHandler, build_opener

import av
import cv2
import numpy as np
import pytest

from storewatch.config.schema import SiteConfig
from storewatch.runtime.runner import SiteRunner
from storewatch.video.writer import Mp4Writer
from tests.helpers import CountingDetector, wait_for


def _camera_video(path: Path, seconds_lit: float, seconds_dark: float, fps: int = 10) -> Path:
    rng = np.random.default_rng(1)
    blocks = rng.integers(40, 200, (6, 8, 3), dtype=np.uint8)  # a shelf-like scene with large structure
    texture = cv2.resize(blocks, (320, 240), interpolation=cv2.INTER_NEAREST)
    with Mp4Writer(path, fps) as out:
        for i in range(int((seconds_lit + seconds_dark) * fps)):
            if i < seconds_lit * fps:
                img = texture.copy()
                x = 20 + 3 * i % 260
                img[100:140, x : x + 12] = 255
            else:
                img = np.full_like(texture, 3)
            out.write(img)
    return path


@pytest.fixture(params=["thread", "process"])
def site(tmp_path: Path, request: pytest.FixtureRequest) -> SiteConfig:
    # lit long enough that the main-stream reader has filled the ring before the view goes dark, even when a
    # loaded machine starts it late (the clip needs the 3 s before the event), and dark long enough that an event
    # detected late is not cut at the file's loop (which clears the ring)
    dark = _camera_video(tmp_path / "dark.mp4", 5.0, 10.0)
    lit = _camera_video(tmp_path / "lit.mp4", 9.0, 0.0)
    fast = {"persist_s": 1.0, "check_interval_s": 0.5}
    return SiteConfig.model_validate(
        {
            "site": {"id": "t"},
            "stores": [
                {
                    "id": "s1",
                    "cameras": [
                        {"id": "dark", "source": str(dark), "tampering": fast,
                         "record": {"enabled": True, "segment_s": 2.0}},
                        {"id": "lit", "source": str(lit), "tampering": fast},
                    ],
                }
            ],
            "runtime": {"data_dir": str(tmp_path / "data"), "status_port": 0, "clip_before_s": 3,
                        "clip_after_s": 1, "capture": request.param},
        }
    )  # fmt: skip


def _events(data: Path) -> list[dict]:
    return [json.loads(line) for f in sorted((data / "events").glob("*.jsonl")) for line in f.read_text().splitlines()]


def test_a_darkened_camera_raises_an_event_with_snapshot_and_clip(site: SiteConfig, tmp_path: Path):
    runner = SiteRunner(site, CountingDetector())
    data = tmp_path / "data"
    runner.start()
    try:
        wait_for(lambda: any("clip" in e["evidence"] for e in _events(data)), timeout_s=20)
        body = build_opener(ProxyHandler({})).open(f"{runner.status.url}/metrics", timeout=5).read().decode()
    finally:
        runner.stop()
    events = _events(data)
    dark = [e for e in events if e["camera"] == "s1/dark" and e["type"].startswith("camera.tampering.")]
    assert {e["type"] for e in dark} >= {"camera.tampering.too_dark"}
    assert not [e for e in events if e["camera"] == "s1/lit"]  # the other camera saw nothing wrong
    started = next(e for e in dark if e["state"] == "started" and e["type"] == "camera.tampering.too_dark")
    assert started["severity"] == "high" and "too dark" in started["explanation"]
    evidence = {k: v for e in dark if e["id"] == started["id"] for k, v in e["evidence"].items()}
    snapshot = cv2.imread(evidence["snapshot"])
    assert snapshot is not None and snapshot.shape == (240, 320, 3)
    with av.open(evidence["clip"]) as clip:
        stream = clip.streams.video[0]
        assert stream.codec_context.name == "h264"  # copied, not re-encoded
        frames = [f.to_ndarray(format="bgr24") for f in clip.decode(stream)]
    assert len(frames) >= 20  # ~3 s before + 1 s after at 10 fps, from a key frame
    assert frames[0].mean() > 40 and frames[-1].mean() < 20  # it shows the view going dark
    assert "s1/dark" in body and "storewatch_frames_detected_total" in body
    from storewatch.io.tracks import read_track_frames
    from storewatch.store import EventRepository, open_database

    with open_database(f"sqlite:///{data / 'storewatch.db'}") as db:  # the event store has every event, once
        stored = EventRepository(db).list(camera="s1/dark", limit=1000)
    assert {e.id for e in stored} == {e["id"] for e in dark}
    assert next(e for e in stored if e.id == started["id"]).evidence.keys() >= {"snapshot", "clip"}

    (track_file,) = (data / "tracks" / "s1" / "lit").glob("*.csv")  # the track history, replayable
    frames = list(read_track_frames(track_file))
    assert len(frames) >= 10 and all(f.t_s is not None for f in frames)
    assert [f.frame for f in frames] == sorted(f.frame for f in frames)
    from storewatch.cli.app import main
    from storewatch.incidents.pack import verify_pack

    pack = tmp_path / "pack.zip"  # an evidence pack of the stored event, with its snapshot and clip, checks out
    assert main(["incidents", "export", "--event", started["id"], "--out", str(pack), "--actor", "tester",
                 "--data-dir", str(data)]) in (0, None)  # fmt: skip
    check = verify_pack(pack)
    assert check.ok and check.files >= 5
    segments = sorted((data / "recordings" / "s1" / "dark").rglob("*.mp4"))
    assert segments, "continuous recording wrote no segment"
    with av.open(str(segments[0])) as seg:
        assert sum(1 for _ in seg.decode(video=0)) >= 10


def test_an_alert_reaches_a_webhook_with_a_snapshot_link_that_downloads(site: SiteConfig, tmp_path: Path):
    """Live camera -> tampering event -> signed webhook on 127.0.0.1 -> its snapshot link gives the JPEG; a
    tampered link is refused."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from storewatch.alerts.webhook import verify_signature

    if site.runtime.capture.value == "process":
        pytest.skip("alert delivery is the same for both capture modes; run once")
    received: list[tuple[bytes, dict[str, str]]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((body, dict(self.headers)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    secret = "s" * 24
    hook = {"kind": "webhook", "name": "lp-desk", "url": f"http://127.0.0.1:{server.server_address[1]}/hook",
            "secret": secret}  # fmt: skip
    site = SiteConfig.model_validate({**site.model_dump(mode="json"), "alerts": {"channels": [hook]}})
    runner = SiteRunner(site, CountingDetector())
    runner.start()
    opener = build_opener(ProxyHandler({}))
    try:
        wait_for(lambda: any(json.loads(b)["type"] == "camera.tampering.too_dark" for b, _ in received), timeout_s=20)
        body, headers = next((b, h) for b, h in received if json.loads(b)["type"] == "camera.tampering.too_dark")
        assert verify_signature(body, headers["X-Storewatch-Signature"], secret, headers["X-Storewatch-Timestamp"])
        link = json.loads(body)["links"]["snapshot"]
        assert link.startswith(runner.status.url) and "token=" in link

        def downloaded() -> bool:
            try:
                return opener.open(link, timeout=5).status == 200
            except OSError:
                return False

        wait_for(downloaded, timeout_s=10)
        reply = opener.open(link, timeout=5)
        assert reply.headers["Content-Type"] == "image/jpeg"
        image = cv2.imdecode(np.frombuffer(reply.read(), np.uint8), cv2.IMREAD_COLOR)
        assert image is not None and image.shape == (240, 320, 3)
        forged = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
        with pytest.raises(OSError, match="403"):
            opener.open(forged, timeout=5)
        # the acknowledge link: a page with a button (opening it acknowledges nothing), then the POST does
        ack = json.loads(body)["links"]["ack"]
        page = opener.open(ack, timeout=5).read().decode()
        assert "<form" in page and runner.alerting is not None and runner.alerting.acknowledged == 0
        token = ack.split("token=", 1)[1]
        done = opener.open(ack.split("?")[0], data=f"token={token}".encode(), timeout=5).read().decode()
        assert "Acknowledged after" in done and runner.alerting.acknowledged == 1
        again = opener.open(ack.split("?")[0], data=f"token={token}".encode(), timeout=5).read().decode()
        assert "acknowledged already" in again
    finally:
        runner.stop()
        server.shutdown()
    from storewatch.store import EventRepository, open_database

    with open_database(f"sqlite:///{tmp_path / 'data' / 'storewatch.db'}") as db:  # time to acknowledge, stored
        (acked,) = EventRepository(db).list(type="alert_acknowledged")
    assert acked.values["time_to_ack_s"] >= 0 and acked.values["by"] == "signed link"
