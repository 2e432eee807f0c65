"""The status endpoint and ``storewatch status``: a real two-camera pipeline, real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from urllib.error import HTTPError
from urllib.request import ProxyHandler, Request, build_opener

import pytest
import typer
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from storewatch import __version__
from storewatch.cli import status_cmd
from storewatch.cli.app import main
from storewatch.core import CameraId
from storewatch.errors import StorewatchError
from storewatch.runtime.camera import LiveFileSource
from storewatch.runtime.metrics import CounterWindow, parse_status_json
from storewatch.runtime.pipeline import Pipeline
from storewatch.runtime.status_server import StatusServer
from tests.conftest import write_video
from tests.helpers import CountingDetector, wait_for

CAMERAS = ("s1/a", "s1/b")
DETECT_FPS = 5.0
VIDEO_FPS = 20
OPENER = build_opener(ProxyHandler({}))  # loopback: never through an http_proxy from the environment


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Pipeline, StatusServer]]:
    path = tmp_path_factory.mktemp("status") / "clip.avi"
    write_video(path, frames=40, fps=VIDEO_FPS)
    pipeline = Pipeline(
        {CameraId(c): (lambda c=c: LiveFileSource(path, c, loop=True)) for c in CAMERAS},
        CountingDetector(),
        detect_fps=DETECT_FPS,
    )
    server = StatusServer(pipeline, port=0, rate_window_s=1.0)
    pipeline.start()
    server.start()
    try:
        wait_for(lambda: all(lane.processed >= 3 for lane in pipeline.lanes), timeout_s=10)
        yield pipeline, server
    finally:
        server.stop()
        pipeline.stop()


def get(server: StatusServer, path: str) -> tuple[str, bytes]:
    with OPENER.open(f"{server.url}{path}", timeout=5) as response:
        return response.headers["Content-Type"], response.read()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_metrics_over_http(live: tuple[Pipeline, StatusServer]) -> None:
    pipeline, server = live
    assert server.host == "127.0.0.1" and server.port > 0
    get(server, "/metrics")  # a sample for the rates to start from
    before = [lane.processed for lane in pipeline.lanes]
    wait_for(lambda: all(lane.processed >= b + 15 for lane, b in zip(pipeline.lanes, before, strict=True)), 8)
    content_type, body = get(server, "/metrics")
    assert content_type == CONTENT_TYPE_PLAIN_0_0_4  # what a scraper that sends no Accept gets
    families = {f.name: f for f in text_string_to_metric_families(body.decode())}

    def per_camera(name: str) -> dict[str, float]:
        return {s.labels["camera"]: s.value for s in families[name].samples if s.name.endswith(("_total", name))}

    detect_fps, input_fps = (
        per_camera("storewatch_detect_frames_per_second"),
        per_camera("storewatch_input_frames_per_second"),
    )
    assert sorted(detect_fps) == sorted(input_fps) == list(CAMERAS)
    assert all(3.5 <= v <= DETECT_FPS + 1 for v in detect_fps.values()), detect_fps
    assert all(0.7 * VIDEO_FPS <= v <= VIDEO_FPS + 2 for v in input_fps.values()), input_fps
    assert all(v >= b + 15 for v, b in zip(per_camera("storewatch_frames_detected").values(), before, strict=True))
    assert all(v > 0 for v in per_camera("storewatch_frames_skipped_by_rate").values())
    assert per_camera("storewatch_camera_reconnects") == {c: 0.0 for c in CAMERAS}
    assert all(0 <= v <= 4 for v in per_camera("storewatch_queue_depth").values())
    assert all(v >= 0 for v in per_camera("storewatch_frames_dropped").values())
    assert all(0 < v < 1.0 for v in per_camera("storewatch_frame_latency_p95_seconds").values())
    assert all(0 < v < 0.5 for v in per_camera("storewatch_detect_mean_seconds").values())
    assert all(v > 0 for v in per_camera("storewatch_detect_seconds").values())
    assert all(v > 0 for v in per_camera("storewatch_gate_frames").values())
    since = per_camera("storewatch_camera_health_since_timestamp_seconds").values()
    assert all(time.time() - 60 < v <= time.time() for v in since)
    health = {(s.labels["camera"], s.labels["state"]): s.value for s in families["storewatch_camera_health"].samples}
    assert {k for k, v in health.items() if v == 1.0} == {(c, "ok") for c in CAMERAS}
    reasons = families["storewatch_camera_health_reason_info"].samples
    assert {(s.labels["camera"], s.labels["state"], s.labels["reason"]) for s in reasons} == {
        (c, "ok", "streaming") for c in CAMERAS
    }
    assert 2 * 3.5 <= families["storewatch_detector_frames_per_second"].samples[0].value <= 2 * DETECT_FPS + 2
    assert 0 < families["storewatch_detector_busy_ratio"].samples[0].value < 1
    assert families["storewatch_process_resident_memory_bytes"].samples[0].value > 10 * 2**20
    assert families["storewatch_process_cpu_seconds"].samples[0].value > 0
    assert families["storewatch_process_uptime_seconds"].samples[0].value > 0
    assert families["storewatch_build_info"].samples[0].labels == {"version": __version__}


def test_status_json(live: tuple[Pipeline, StatusServer]) -> None:
    _, server = live
    content_type, body = get(server, "/status")
    assert content_type == "application/json"
    raw = json.loads(body)
    assert set(raw) == {"version", "taken_utc", "rate_window_s", "cameras", "detector", "process", "sources"}
    assert raw["sources"] == []  # no ingest sources on this pipeline alone
    assert raw["version"] == __version__ and raw["rate_window_s"] == 1.0
    assert [c["camera"] for c in raw["cameras"]] == list(CAMERAS)
    for cam in raw["cameras"]:
        assert cam["health"] == "ok" and cam["reason"] == "streaming" and cam["since_utc"].endswith("Z")
        assert cam["reconnects"] == 0 and cam["queue_capacity"] == 4 and cam["frame_latency_p95_s"] > 0
        assert cam["frames_detected"] >= 3 and cam["gate"]["frames"] >= 3
    assert raw["detector"]["frames_detected"] == sum(c["frames_detected"] for c in raw["cameras"])
    assert raw["process"]["rss_bytes"] > 0
    assert parse_status_json(body).cameras[0].camera == CAMERAS[0]


def test_other_routes(live: tuple[Pipeline, StatusServer]) -> None:
    _, server = live
    assert get(server, "/healthz") == ("text/plain; charset=utf-8", b"ok\n")
    assert get(server, "/metrics?x=1")[1].startswith(b"# HELP")
    openmetrics = Request(f"{server.url}/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    with OPENER.open(openmetrics, timeout=5) as response:
        assert response.headers["Content-Type"].startswith("application/openmetrics-text")
        assert response.read().endswith(b"# EOF\n")
    for path in ("/", "/metrics/extra", "/nope"):
        with pytest.raises(HTTPError) as err:
            get(server, path)
        assert err.value.code == 404


def test_status_command_table_and_json(live: tuple[Pipeline, StatusServer]) -> None:
    _, server = live
    cli = typer.Typer()
    cli.callback()(lambda: None)
    status_cmd.register(cli)
    runner = CliRunner()
    table = runner.invoke(cli, ["status", "--url", server.url], env={"COLUMNS": "160"})
    assert table.exit_code == 0, table.output
    rows = [line for line in table.output.splitlines() if "s1/" in line]
    assert len(rows) == 2 and all("ok" in r and "streaming" in r and "/4" in r for r in rows)
    assert "detector:" in table.output and "process: up" in table.output
    narrow = runner.invoke(cli, ["status", "--url", server.url], env={"COLUMNS": "80"})
    rows = [line for line in narrow.output.splitlines() if "s1/" in line]
    assert narrow.exit_code == 0 and len(rows) == 2 and all(" ok " in r and len(r) <= 80 for r in rows)
    as_json = runner.invoke(cli, ["status", "--json"], env={"STOREWATCH_STATUS_URL": server.url})
    assert as_json.exit_code == 0
    assert [c["camera"] for c in json.loads(as_json.output)["cameras"]] == list(CAMERAS)


def test_status_command_when_nothing_listens(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    assert main(["status", "--url", url]) == 2
    err = capsys.readouterr().err
    assert f"{url}/status" in err and "storewatch run" in err and "Traceback" not in err


@pytest.mark.parametrize("url", ["127.0.0.1:9108", "file:///etc/passwd", "http://"])
def test_status_command_rejects_non_http_urls(url: str) -> None:
    with pytest.raises(StorewatchError, match="not an http URL"):
        status_cmd.fetch_status(url)


def test_server_reports_a_taken_port(live: tuple[Pipeline, StatusServer]) -> None:
    pipeline, server = live
    with pytest.raises(StorewatchError, match=f"127.0.0.1:{server.port}"):
        StatusServer(pipeline, port=server.port).start()


def test_not_status_json() -> None:
    with pytest.raises(StorewatchError, match="http://x/status did not return storewatch status"):
        parse_status_json(b'{"hello": 1}', "http://x/status")


@pytest.mark.parametrize(
    ("samples", "expected"),
    [
        ([(0.0, (0,))], None),  # one sample is no rate
        ([(0.0, (0,)), (0.1, (5,))], None),  # younger than min_step_s
        ([(0.0, (0,)), (2.0, (10,))], (2.0, (10,))),
        ([(0.0, (0,)), (5.0, (10,)), (16.0, (40,))], (11.0, (30,))),  # base: newest sample >= 10 s old
        ([(0.0, (0,)), (5.0, (10,)), (6.0, (3,))], None),  # counter went back: a fresh window
        ([(0.0, (0,)), (5.0, (10,)), (6.0, (3,)), (8.0, (9,))], (2.0, (6,))),
    ],
)
def test_counter_window(samples: list[tuple[float, tuple[int]]], expected: object) -> None:
    window = CounterWindow(window_s=10.0)
    results = [window.delta(t, v) for t, v in samples]
    assert results[-1] == expected


def test_counter_window_memory_is_bounded() -> None:
    window = CounterWindow(window_s=10.0)
    for i in range(10_000):
        window.delta(i * 0.01, (i,))
    assert len(window._samples) <= 10.0 / window.min_step_s + 2
    with pytest.raises(ValueError, match="window_s"):
        CounterWindow(window_s=0)
