"""``storewatch track`` end to end on generated clips and the sample camera: files written, bad input reported."""

from __future__ import annotations

import json

import pytest

from storewatch.cli.app import main
from storewatch.io.mot import read_mot
from tests.conftest import write_video


@pytest.fixture(scope="module")
def has_model() -> None:
    from storewatch.errors import ModelError
    from storewatch.models.registry import model_path

    try:
        model_path("nanodet")
    except ModelError as exc:
        pytest.skip(f"{exc} (make setup obtains it)")


@pytest.mark.models
def test_track_writes_track_file_video_and_counts_a_corrupt_frame(tmp_path, capsys, has_model):
    clip = tmp_path / "damaged.mp4"
    offsets = write_video(clip, frames=30, size=(320, 240), codec="libx264")
    data = bytearray(clip.read_bytes())
    data[offsets[12] + 40 : offsets[12] + 440] = bytes(range(256)) + bytes(144)
    clip.write_bytes(bytes(data))
    out, video = tmp_path / "out" / "tracks.txt", tmp_path / "out" / "annotated.mp4"
    code = main(["track", str(clip), "--out", str(out), "--video-out", str(video), "--json", "-q"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["corrupt_frames_skipped"] >= 1
    assert summary["frames"] + summary["corrupt_frames_skipped"] == 30
    assert out.exists() and video.stat().st_size > 0
    read_mot(out)  # well-formed, even if the synthetic clip holds no people


@pytest.mark.models
@pytest.mark.shared
def test_track_sample_camera_rows_are_motchallenge(tmp_path, capsys, has_model, pets_video):
    out = tmp_path / "tracks.txt"
    assert main(["track", str(pets_video), "--out", str(out), "--frames", "1-40", "--json", "-q"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["frames"] == 40 and summary["rows"] > 40
    first = out.read_text().splitlines()[0].split(",")
    assert len(first) == 10 and first[7:] == ["-1", "-1", "-1"]
    rows = read_mot(out)
    assert rows.frame.min() >= 1 and rows.frame.max() <= 40


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing.avi", "no such file"),
        (lambda p: (p / "empty.avi").write_bytes(b"") or p / "empty.avi", "empty"),
    ],
)
def test_bad_video_is_one_clear_error(tmp_path, capsys, make, message):
    path = make(tmp_path)
    code = main(["track", str(path), "--out", str(tmp_path / "t.txt"), "-q"])
    err = capsys.readouterr().err
    assert code == 2 and str(path) in err and message in err and "Traceback" not in err


def test_bad_config_is_reported_with_its_line(tmp_path, capsys):
    cfg = tmp_path / "site.yaml"
    cfg.write_text("site: {id: s}\nstores:\n  - id: a\n    cameras: []\ndetector:\n  threads: many\n")
    code = main(["track", "x.avi", "--out", str(tmp_path / "t.txt"), "--config", str(cfg)])
    err = capsys.readouterr().err
    assert code == 2 and f"{cfg}:6: detector.threads:" in err


def test_bad_frame_range(tmp_path, capsys, make_video):
    code = main(["track", str(make_video()), "--out", str(tmp_path / "t.txt"), "--frames", "9-3"])
    assert code == 2 and "--frames" in capsys.readouterr().err


def test_models_list_on_an_empty_cache(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("STOREWATCH_MODEL_CACHE", str(tmp_path))
    assert main(["models", "list"]) == 0
    assert "is empty" in capsys.readouterr().out
    assert main(["models", "verify"]) == 2
    assert "storewatch models fetch" in capsys.readouterr().err
