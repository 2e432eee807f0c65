"""Evidence packs: built with a PDF and a manifest; any change to a file is caught by verify."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import pytest

from storewatch.incidents.pack import build_pack, verify_pack


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    snap = tmp_path / "e1.jpg"
    cv2.imwrite(str(snap), np.full((120, 160, 3), 128, np.uint8))
    clip = tmp_path / "e1.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(200))
    opened = {"at": "2026-03-02T12:00:01+00:00", "actor": "system", "kind": "opened", "text": ""}
    record = {"id": "inc-1", "title": "walk-out at the door (théft)", "store": "s1", "state": "open",
              "events": [{"type": "walk_out", "start_utc": "2026-03-02T12:00:00+00:00", "explanation": "x"}],
              "timeline": [opened]}  # fmt: skip
    custody = [{"action": "created", "actor": "storewatch", "at_utc": "2026-03-02T12:00:00+00:00"}]
    return build_pack(tmp_path / "out" / "pack.zip", record, [snap, clip], custody, actor="investigator-4",
                      now=datetime(2026, 3, 3, tzinfo=UTC))  # fmt: skip


def test_a_fresh_pack_verifies_and_holds_everything(pack: Path):
    check = verify_pack(pack)
    assert check.ok and check.files == 5 and check.problems == ()
    with zipfile.ZipFile(pack) as z:
        names = set(z.namelist())
        assert names == {"evidence/e1.jpg", "evidence/e1.mp4", "incident.json", "custody.json", "summary.pdf",
                         "manifest.json", "SHA256SUMS"}  # fmt: skip
        assert z.read("summary.pdf").startswith(b"%PDF-1.4") and b"/DCTDecode" in z.read("summary.pdf")
        trail = json.loads(z.read("custody.json"))
        assert [c["action"] for c in trail] == ["created", "exported"] and trail[-1]["actor"] == "investigator-4"


def _rewrite(pack: Path, change) -> None:
    with zipfile.ZipFile(pack) as z:
        files = {n: z.read(n) for n in z.namelist()}
    change(files)
    with zipfile.ZipFile(pack, "w") as z:
        for n, d in files.items():
            z.writestr(n, d)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.__setitem__("evidence/e1.jpg", f["evidence/e1.jpg"] + b"x"), "evidence/e1.jpg: changed"),
        (lambda f: f.pop("evidence/e1.mp4"), "evidence/e1.mp4: listed in the manifest but missing"),
        (lambda f: f.__setitem__("evidence/extra.jpg", b"y"), "evidence/extra.jpg: not in the manifest"),
        (lambda f: f.pop("manifest.json"), "manifest.json is missing"),
    ],
)
def test_verify_names_what_was_tampered_with(pack: Path, change, message: str):
    _rewrite(pack, change)
    check = verify_pack(pack)
    assert not check.ok and any(message in p for p in check.problems)


def test_verify_command(pack: Path, capsys: pytest.CaptureFixture[str]):
    from storewatch.cli.app import main

    assert main(["incidents", "verify", str(pack)]) in (0, None)
    assert "OK" in capsys.readouterr().out
    _rewrite(pack, lambda f: f.__setitem__("incident.json", b"{}"))
    assert main(["incidents", "verify", str(pack)]) == 1
    assert "incident.json: changed" in capsys.readouterr().out
