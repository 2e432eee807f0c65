from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from storewatch.cli.config_cmd import app
from storewatch.config import check_site_config, load_site_config
from storewatch.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "site.yaml"

VALID = """\
site: {id: demo, timezone: Europe/London}
stores:
  - id: s1
    cameras:
      - id: c1
        source: rtsp://192.0.2.1/stream
        zones:
          - id: z1
            kind: shelf
            polygon: [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "site.yaml"
    p.write_text(text)
    return p


def test_example_and_minimal_files_are_valid(tmp_path):
    assert check_site_config(EXAMPLE) == []
    cfg = load_site_config(write(tmp_path, VALID))
    assert cfg.stores[0].cameras[0].zones[0].kind == "shelf"
    assert cfg.detector.model == "nanodet" and cfg.tracker.lost_ttl_s > 0


@pytest.mark.parametrize(
    ("old", "new", "line", "path", "message"),
    [
        ("    cameras:", "    colour: red\n    cameras:", 4, "stores[0].colour", "unknown key"),
        ("source: rtsp://192.0.2.1/stream", "source: ftp://x/y", 6, "stores[0].cameras[0].source",
         "unsupported scheme"),
        ("      - id: c1\n", "      - id: c1\n        detect_fps: fast\n", 6, "stores[0].cameras[0].detect_fps",
         "valid number"),
        ("[0.5, 0.1], [0.5, 0.5]]", "[640, 0.1], [0.5, 0.5]]", 10, "stores[0].cameras[0].zones[0].polygon",
         "point 1 [640.0, 0.1] is outside the frame: coordinates are normalised 0-1"),
        ("[[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]", "[[0.1, 0.1], [0.5, 0.1]]", 10,
         "stores[0].cameras[0].zones[0].polygon", "at least 3"),
        ("[[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]", "[[0, 0], [1, 1], [1, 0], [0, 1]]", 10,
         "stores[0].cameras[0].zones[0].polygon", "cross each other"),
        ("timezone: Europe/London", "timezone: Mars/Olympus", 1, "site.timezone", "unknown time zone"),
        ("kind: shelf", "kind: sweets", 9, "stores[0].cameras[0].zones[0].kind", "Input should be"),
        ("  - id: s1\n", "  - id: S 1\n", 3, "stores[0].id", "must be a slug"),
    ],
)  # fmt: skip
def test_errors_name_line_and_key(tmp_path, old, new, line, path, message):
    assert old in VALID
    issues = check_site_config(write(tmp_path, VALID.replace(old, new)))
    assert len(issues) == 1, issues
    (issue,) = issues
    assert (issue.line, issue.key_path) == (line, path)
    assert message in issue.message
    assert issue.format().startswith(f"{tmp_path / 'site.yaml'}:{line}: {path}:")


def test_every_problem_is_reported_at_once(tmp_path):
    text = VALID.replace("timezone: Europe/London", "timezone: Nowhere").replace(
        "    cameras:", "    x: 1\n    cameras:"
    )
    assert len(check_site_config(write(tmp_path, text))) == 2


def test_duplicate_ids_and_keys(tmp_path):
    dup_cam = VALID + "      - id: c1\n        source: b.mp4\n"
    (issue,) = check_site_config(write(tmp_path, dup_cam))
    assert "duplicate camera id(s): c1" in issue.message and issue.key_path == "stores[0]"
    dup_key = VALID.replace("kind: shelf", "kind: shelf\n            kind: checkout")
    (issue,) = check_site_config(write(tmp_path, dup_key))
    assert issue.message == "duplicate key" and issue.line == 10


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "the file is empty"), ("site: [unclosed\n", "YAML syntax error"), ("- a\n- b\n", "must be a mapping")],
)
def test_unparsable_files(tmp_path, text, message):
    (issue,) = check_site_config(write(tmp_path, text))
    assert message in issue.message


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        check_site_config(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="is a directory"):
        check_site_config(tmp_path)


def test_load_raises_with_every_issue(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_site_config(write(tmp_path, VALID.replace("kind: shelf", "kind: sweets")))
    assert "1 problem(s)" in str(err.value) and "site.yaml:9" in str(err.value)


def test_cli_check(tmp_path):
    runner = CliRunner()
    ok = runner.invoke(app, ["check", str(EXAMPLE)])
    assert ok.exit_code == 0 and "OK — 1 store, 2 cameras, 5 zones, 1 line" in ok.output
    bad = runner.invoke(app, ["check", str(write(tmp_path, VALID.replace("kind: shelf", "kind: sweets")))])
    assert bad.exit_code == 1 and ":9: stores[0].cameras[0].zones[0].kind:" in bad.output
    schema = runner.invoke(app, ["schema"])
    assert schema.exit_code == 0 and '"SiteConfig"' in schema.output
