"""Track files in, events out: the formats, their errors, and ``storewatch replay``."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from storewatch.errors import StorewatchError
from storewatch.io.tracks import read_track_frames


def _frames(text: str):
    return list(read_track_frames(io.StringIO(text)))


def test_mot_and_csv_files_give_the_same_frames():
    mot = _frames("1,1,10,20,30,60,0.9,-1,-1,-1\n1,2,50,20,30,60,1,-1,-1,-1\n2,1,12,20,30,60,1,-1,-1,-1\n")
    csv = _frames("frame,track_id,x,y,w,h\n1,1,10,20,30,60\n1,2,50,20,30,60\n2,1,12,20,30,60\n")
    assert [f.frame for f in mot] == [f.frame for f in csv] == [1, 2]
    assert mot[0].tracks.xyxy.tolist() == csv[0].tracks.xyxy.tolist() == [[10, 20, 40, 80], [50, 20, 80, 80]]
    assert mot[0].tracks.confidence.tolist() == pytest.approx([0.9, 1.0])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("frame,track_id,x,y,w\n1,1,2,3,4\n", r"<stream>:1: the header lacks column\(s\) h"),
        ("frame,track_id,x,y,w,h\n1,1,2,3,4,5\n1,2,2,x3,4,5\n", r"<stream>:3: column y is 'x3', not a number"),
        ("frame,track_id,x,y,w,h\n2,1,2,3,4,5\n1,1,2,3,4,5\n", r"<stream>:3: frame 1 comes after frame 2"),
        ("1,1,10,20\n", r"<stream>:1: a MOT row needs at least 6 columns, got 4"),
        ("frame,track_id,x,y,w,h\n1,1,2,3,-4,5\n", r"<stream>:2: negative box size"),
        ("", r"the track file is empty"),
    ],
)
def test_malformed_files_name_the_line_and_the_problem(text: str, message: str):
    with pytest.raises(StorewatchError, match=message):
        _frames(text)


def test_replay_command_writes_one_line_per_episode(tmp_path: Path):
    from storewatch.cli.app import main

    rows = ["frame,track_id,label,x,y,w,h"]
    rows += [f"{n},7,person,300,200,40,120" for n in range(1, 5 * 90 + 1)]  # 90 s standing at 5 fps
    tracks = tmp_path / "tracks.csv"
    tracks.write_text("\n".join(rows) + "\n")
    out = tmp_path / "events.jsonl"
    code = main(["replay", "--tracks", str(tracks), "--fps", "5", "--size", "640x480", "--events-out", str(out),
                 "-q"])  # fmt: skip
    assert code in (0, None)
    events = [json.loads(line) for line in out.read_text().splitlines()]
    loiter = [e for e in events if e["type"] == "loitering"]
    assert len(loiter) == 1
    e = loiter[0]
    assert 59.5 <= e["start_s"] <= 61 and e["end_s"] == pytest.approx(89.8, abs=0.3)
    assert e["track_ids"] == ["replay/camera/7"] and e["severity"] == "medium" and "limit 60 s" in e["explanation"]


def test_replay_command_reports_a_bad_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    from storewatch.cli.app import main

    tracks = tmp_path / "t.csv"
    tracks.write_text("frame,track_id,x,y,w,h\n1,1,2,3,4,5\n")
    code = main(["replay", "--tracks", str(tracks), "--fps", "5", "--size", "640by480", "--events-out",
                 str(tmp_path / "e.jsonl")])  # fmt: skip
    assert code == 2 and "expected WIDTHxHEIGHT" in capsys.readouterr().err
