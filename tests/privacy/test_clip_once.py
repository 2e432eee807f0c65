"""Two callers asking for one clip's faces-blurred copy at once (an evidence pack and an API export) get the same
copy, made once; callers for different clips do not wait for each other."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

import storewatch.privacy.clips as clips
from storewatch.privacy.clips import ClipProtector, ProtectedClip, protected_path


def test_concurrent_requests_for_one_clip_make_one_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[Path] = []

    def slow_protect(clip: Path, **_: Any) -> ProtectedClip:
        time.sleep(0.3)
        made.append(clip)
        out = protected_path(clip)
        out.write_bytes(b"blurred")
        return ProtectedClip(out, 1, 0.3)

    monkeypatch.setattr(clips, "protect_clip", slow_protect)
    protector = ClipProtector(None)
    monkeypatch.setattr(protector, "detector", lambda: None)
    day = tmp_path / "s1" / "door" / "2026-03-01"
    day.mkdir(parents=True)
    one, two = day / "e1.mp4", day / "e2.mp4"
    one.write_bytes(b"clip")
    two.write_bytes(b"clip")
    got: list[Path] = []
    threads = [threading.Thread(target=lambda c=c: got.append(protector.protected(c))) for c in (one, one, one, two)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(made) == [one, two]  # one copy per clip
    assert sorted(got) == sorted([protected_path(one)] * 3 + [protected_path(two)])
    assert time.monotonic() - started < 0.9  # e2 was made beside e1, not after it
    assert protector._making == {}
