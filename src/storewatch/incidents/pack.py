"""Evidence packs: everything about an incident in one zip a third party can check.

Inside: ``evidence/`` (clips and snapshots as recorded), ``incident.json`` (the record: events, timeline, values),
``summary.pdf`` (one printable page with the first snapshot), ``custody.json`` (who created, viewed and exported
it, when), and ``manifest.json`` + ``SHA256SUMS`` (the SHA-256 of every other file). ``verify_pack`` recomputes the
hashes: a changed, missing or added file is named. (A manifest proves integrity since the export, not authorship:
sign the pack with the organisation's own tools when that is needed.)
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from storewatch.errors import StorewatchError
from storewatch.incidents.pdf import summary_pdf

MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
FORMAT = "storewatch.evidence-pack/1"


@dataclass(frozen=True, slots=True)
class PackCheck:
    ok: bool
    files: int
    problems: tuple[str, ...]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build_pack(
    out: Path,
    record: dict[str, Any],
    evidence: Sequence[Path],
    custody: Sequence[dict[str, Any]],
    *,
    actor: str,
    now: datetime | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> Path:
    """Write the pack for ``record`` (JSON-ready: id, title, state, events, timeline...) with the ``evidence``
    files, the ``custody`` entries so far plus this export by ``actor``; atomic (``.partial`` then renamed).
    ``progress(fraction, message)`` hears how far it is (reading the evidence is the first 60 %, the summary the
    next 10 %, compressing the rest)."""
    say = progress or (lambda fraction, message: None)
    now = now or datetime.now(UTC)
    missing = [str(p) for p in evidence if not p.is_file()]
    if missing:
        raise StorewatchError(f"evidence file(s) missing: {', '.join(missing)}")
    entries: dict[str, bytes] = {}
    for i, path in enumerate(evidence):
        say(0.6 * i / max(1, len(evidence)), f"Reading evidence file {i + 1} of {len(evidence)}")
        name = f"evidence/{path.name}"
        if name in entries:
            raise StorewatchError(f"two evidence files are named {path.name}")
        entries[name] = path.read_bytes()
    say(0.6, "Writing the summary")
    trail = [*custody, {"action": "exported", "actor": actor, "at_utc": now.isoformat()}]
    entries["incident.json"] = json.dumps(record, indent=2, sort_keys=True, default=str).encode()
    entries["custody.json"] = json.dumps(trail, indent=2).encode()
    entries["summary.pdf"] = _summary(record, entries, trail)
    hashes = {name: _sha256(data) for name, data in sorted(entries.items())}
    manifest = {"format": FORMAT, "created_utc": now.isoformat(), "created_by": actor, "files": hashes}
    entries[MANIFEST] = json.dumps(manifest, indent=2).encode()
    entries[SUMS] = "".join(f"{h}  {n}\n" for n, h in hashes.items()).encode()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    total = sum(len(d) for d in entries.values()) or 1
    done = 0
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            say(0.7 + 0.3 * done / total, f"Compressing {name}")
            z.writestr(name, data)
            done += len(data)
    tmp.replace(out)
    return out


def _summary(record: dict[str, Any], entries: dict[str, bytes], trail: Sequence[dict[str, Any]]) -> bytes:
    lines = [f"{k}: {record[k]}" for k in ("id", "store", "state", "created_utc", "assignee") if record.get(k)]
    lines += ["", "Events:"] + [f"  {e.get('start_utc', '')}  {e.get('type', '')}  {e.get('explanation', '')}"
                                for e in record.get("events", [])]  # fmt: skip
    lines += ["", "Timeline:"] + [f"  {t.get('at', '')}  {t.get('actor', '')}  {t.get('kind', '')}  {t.get('text', '')}"
                                  for t in record.get("timeline", [])]  # fmt: skip
    lines += ["", "Custody:"] + [f"  {c.get('at_utc', '')}  {c.get('actor', '')}  {c.get('action', '')}" for c in trail]
    lines += ["", f"Evidence files: {sum(1 for n in entries if n.startswith('evidence/'))} (see SHA256SUMS)"]
    snapshot = next((d for n, d in entries.items() if n.startswith("evidence/") and n.endswith(".jpg")), None)
    size = None
    if snapshot is not None:
        img = cv2.imdecode(np.frombuffer(snapshot, np.uint8), cv2.IMREAD_COLOR)
        size = None if img is None else (int(img.shape[1]), int(img.shape[0]))
    title = f"Incident {record.get('id', '')}: {record.get('title', '')}"
    return summary_pdf(title, lines, snapshot if size else None, size)


def verify_pack(path: Path) -> PackCheck:
    """Whether every file of the pack is the one the manifest lists (and no file was added or removed)."""
    if not path.is_file():
        raise StorewatchError(f"{path}: no such file")
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            if MANIFEST not in names:
                return PackCheck(False, 0, (f"{MANIFEST} is missing: not an evidence pack, or it was rebuilt",))
            manifest = json.loads(z.read(MANIFEST))
            listed: dict[str, str] = manifest.get("files", {})
            problems = [f"{n}: listed in the manifest but missing" for n in sorted(set(listed) - names)]
            problems += [
                f"{n}: not in the manifest (added later)" for n in sorted(names - set(listed) - {MANIFEST, SUMS})
            ]
            problems += [f"{n}: changed (SHA-256 differs)" for n in sorted(set(listed) & names)
                         if _sha256(z.read(n)) != listed[n]]  # fmt: skip
            if SUMS in names:
                sums = {ln.split("  ", 1)[1]: ln.split("  ", 1)[0] for ln in z.read(SUMS).decode().splitlines() if ln}
                if sums != listed:
                    problems.append(f"{SUMS} and {MANIFEST} disagree")
    except (zipfile.BadZipFile, json.JSONDecodeError, KeyError, IndexError) as exc:
        return PackCheck(False, 0, (f"not a readable evidence pack: {exc}",))
    return PackCheck(not problems, len(listed), tuple(problems))
