"""The ``pos:`` section of the site file: sources, tills and rule thresholds are checked with the rest of the site
(a till naming a camera or zone the site lacks is an error naming both, with its YAML line), and the ``pos``
commands take the site file as their ``--config``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from storewatch.cli.app import main
from storewatch.config.loader import check_site_config
from storewatch.errors import ConfigError
from storewatch.pos.config import load_pos_config


def _site(pos: dict[str, Any]) -> dict[str, Any]:
    zones = [
        {"id": zid, "kind": "checkout", "polygon": [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]}
        for zid in ("cashier", "customer", "scanner")
    ]
    return {
        "site": {"id": "acme"},
        "stores": [{"id": "s9", "cameras": [{"id": "till-2", "source": "till.mp4", "zones": zones}]}],
        "pos": pos,
    }


def _write(tmp_path: Path, pos: dict[str, Any]) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(_site(pos), sort_keys=False))
    return path


TILL = {"store": "9", "register": "2", "camera": "s9/till-2", "cashier_zone": "cashier",
        "customer_zone": "customer", "scanner_zone": "scanner"}  # fmt: skip


def test_a_full_section_is_accepted(tmp_path: Path) -> None:
    pos = {
        "timezone": "America/Chicago",
        "sources": {
            "drop_folders": [{"path": "/srv/pos/drop", "settle_s": 5}],
            "http": {"enabled": True, "secret_env": "POS_SECRET"},
            "mqtt": {"host": "127.0.0.1", "topic": "pos/#", "format": "jsonl"},
        },
        "tills": [TILL],
        "rules": {"scan_gap": {"gap_s": 20}, "no_sale": {"enabled": False}},
    }
    path = _write(tmp_path, pos)
    assert check_site_config(path) == []
    cfg = load_pos_config(path)
    assert cfg.till("9", "2") is not None and cfg.rules.scan_gap.gap_s == 20 and not cfg.rules.no_sale.enabled
    assert cfg.sources.http.enabled and cfg.sources.mqtt is not None and cfg.sources.mqtt.format == "jsonl"
    assert cfg.sources.drop_folders[0].settle_s == 5


CASES = [
    ("unknown camera", {"tills": [{**TILL, "camera": "s9/till-7"}]}, "pos.tills[0].camera",
     "camera s9/till-7, which the site lacks (cameras: s9/till-2)"),
    ("unknown zone", {"tills": [{**TILL, "scanner_zone": "bagging"}]}, "pos.tills[0].scanner_zone",
     "names zone 'bagging', which camera s9/till-2 lacks (its zones: cashier, customer, scanner)"),
    ("unknown key", {"sources": {"http": {"enabled": True, "secret": "x"}}}, "pos.sources.http.secret", "unknown key"),
    ("bad threshold", {"rules": {"scan_gap": {"gap_s": 0}}}, "pos.rules.scan_gap.gap_s", "greater than or equal"),
    ("bad qos", {"sources": {"mqtt": {"qos": 3}}}, "pos.sources.mqtt.qos", "less than or equal to 2"),
]  # fmt: skip


@pytest.mark.parametrize(("pos", "key", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_mistakes_name_the_key_and_line(tmp_path: Path, pos: dict[str, Any], key: str, message: str) -> None:
    path = _write(tmp_path, pos)
    issues = check_site_config(path)
    assert len(issues) == 1, issues
    issue = issues[0]
    assert issue.key_path == key and message in issue.message and not issue.message.startswith(key)
    lines = path.read_text().splitlines()
    assert issue.line is not None and issue.line > 1 and key.split(".")[-1].split("[")[0] in lines[issue.line - 1]
    with pytest.raises(ConfigError, match="problem"):
        load_pos_config(path)


def test_config_check_command_reports_the_till(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, {"tills": [{**TILL, "camera": "s9/till-7"}]})
    assert main(["config", "check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "pos.tills[0].camera" in out and "s9/till-7" in out and "register 9/2" in out
    assert out.count("pos.tills[0].camera") == 1  # the key once, where the issue is located
