"""The behaviour benchmark: CAVIAR ground-truth tracks replayed through the behaviour engine, scored against the
sequences' behaviour labels for falls, fights and abandoned objects.

Each sequence folder holds ``tracks.csv`` (``frame,track_id,label,x,y,w,h``: box top-left and size in pixels of a
384x288 frame at 25 fps; label ``person`` or ``object``), ``labels.csv`` (per frame and id: movement, role,
context, situation) and ``groups.csv`` (per frame and group: members, role, context, situation). Every frame from
the first to the last of ``tracks.csv`` is fed to one ``BehaviourEngine`` per sequence, with default rules and no
zones (the whole frame is one zone), as if the tracks came from the tracker; frame *f* is at ``(f - 1) / 25`` s.

Ground-truth episodes (runs of labelled frames; gaps up to ``MERGE_GAP_S`` joined):

- ``fall``: per person, the frames whose context is ``drop down`` *and* situation ``inactive``: the person is on
  the floor. CAVIAR gives the ``drop down`` context to the victim's whole track (walking in, and walking off after
  getting up), so the context alone would make an episode of the person's whole visit; the movement labels say
  when they are down.
- ``fight``: per group, the frames whose situation is ``fighting`` (not the ``joining`` before it, nor the
  ``leaving victim`` / ``split up`` after it, though all carry the context ``fighting``).
- ``abandoned_object``: per group, a run of situation ``leaving object`` (the carrier putting the object down) is
  the leaving; the episode runs from its start to the last frame of the group's ``object`` track (the object
  taken away, or the clip's end).

Matching: an event (started ... ended, on the replay's clock) matches an episode of its type in the same sequence
when their times overlap, each widened by ``TOLERANCE_S``; an abandoned-object event must also start no later than
``ABANDON_LAG_S`` after the leaving ends (an alarm may come well after the leaving, but not after the object is
gone). ``events`` counts started events; ``false_events`` those matching no episode; ``matched`` the episodes
matched by at least one event. Precision = (events - false) / events, recall = matched / episodes (each 1.0 when
its denominator is 0), F1 their harmonic mean.

>>> _runs([1, 2, 3, 10, 11, 60], gap_frames=7)
[(1, 11), (60, 60)]
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from storewatch.behaviour.engine import BehaviourEngine
from storewatch.behaviour.scene import class_id_of
from storewatch.core.detections import Detections
from storewatch.core.events import Event, EventState
from storewatch.errors import StorewatchError

FPS = 25.0
WIDTH, HEIGHT = 384, 288
TYPES = ("fall", "fight", "abandoned_object")
TOLERANCE_S = 2.0
ABANDON_LAG_S = 60.0
MERGE_GAP_S = 1.0
T0 = datetime(2004, 1, 1, tzinfo=UTC)
FILES = ("tracks.csv", "labels.csv", "groups.csv")


@dataclass(frozen=True, slots=True)
class Episode:
    type: str
    sequence: str
    start_s: float
    end_s: float
    who: str
    """Track or group ids, for reading the result."""
    latest_start_s: float = float("inf")
    """An event starting after this does not match (abandoned objects: the leaving + ``ABANDON_LAG_S``)."""


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One event of the replay: its start and end on the replay clock."""

    type: str
    sequence: str
    start_s: float
    end_s: float
    track_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CaviarSequence:
    name: str
    tracks: list[dict[str, str]]
    labels: list[dict[str, str]]
    groups: list[dict[str, str]]


def frame_s(frame: int) -> float:
    return (frame - 1) / FPS


def load_sequence(folder: Path) -> CaviarSequence:
    missing = [f for f in FILES if not (folder / f).is_file()]
    if missing:
        raise StorewatchError(f"{folder}: no {', '.join(missing)}", fix="give a folder of CAVIAR sequences")
    rows = [list(csv.DictReader((folder / f).read_text(encoding="utf-8").splitlines())) for f in FILES]
    return CaviarSequence(folder.name, *rows)


def find_sequences(root: Path) -> list[Path]:
    """The sequence folders under ``root`` (folders with a ``tracks.csv``), sorted; an error if there are none."""
    if not root.is_dir():
        raise StorewatchError(
            f"--caviar {root}: no such folder", fix="give the CAVIAR data folder, e.g. ../shared/data/caviar"
        )
    found = sorted(p for p in root.iterdir() if (p / "tracks.csv").is_file())
    if not found:
        raise StorewatchError(f"--caviar {root}: no sequence folders (with tracks.csv) in it")
    return found


def _runs(frames: Iterable[int], gap_frames: int) -> list[tuple[int, int]]:
    """Sorted frames -> (first, last) runs, joining gaps of up to ``gap_frames``."""
    out: list[tuple[int, int]] = []
    for f in sorted(set(frames)):
        if out and f - out[-1][1] <= gap_frames:
            out[-1] = (out[-1][0], f)
        else:
            out.append((f, f))
    return out


def ground_truth(seq: CaviarSequence) -> list[Episode]:
    """The labelled fall, fight and abandoned-object episodes of one sequence (see the module's definitions)."""
    gap = round(MERGE_GAP_S * FPS)
    down: dict[str, list[int]] = defaultdict(list)
    for r in seq.labels:
        if r["context"] == "drop down" and r["situation"] == "inactive":
            down[r["id"]].append(int(r["frame"]))
    fighting: dict[str, list[int]] = defaultdict(list)
    leaving: dict[tuple[str, str], list[int]] = defaultdict(list)
    for r in seq.groups:
        if r["situation"] == "fighting":
            fighting[r["group_id"]].append(int(r["frame"]))
        elif r["situation"] == "leaving object":
            leaving[(r["group_id"], r["members"])].append(int(r["frame"]))
    out = [
        Episode("fall", seq.name, frame_s(a), frame_s(b), f"person {who}")
        for who, frames in down.items()
        for a, b in _runs(frames, gap)
    ]
    out += [
        Episode("fight", seq.name, frame_s(a), frame_s(b), f"group {who}")
        for who, frames in fighting.items()
        for a, b in _runs(frames, gap)
    ]
    object_end = _object_ends(seq)
    for (group, members), frames in leaving.items():
        for a, b in _runs(frames, gap):
            ends = [object_end[m] for m in members.split(",") if m in object_end]
            end = max([b, *ends])
            who = f"group {group} ({members})"
            out.append(Episode("abandoned_object", seq.name, frame_s(a), frame_s(end), who, frame_s(b) + ABANDON_LAG_S))
    return out


def _object_ends(seq: CaviarSequence) -> dict[str, int]:
    """Last frame of each ``object`` track."""
    ends: dict[str, int] = {}
    for r in seq.tracks:
        if r["label"] == "object":
            ends[r["track_id"]] = max(ends.get(r["track_id"], 0), int(r["frame"]))
    return ends


def _frames(seq: CaviarSequence) -> dict[int, Detections]:
    rows: dict[int, list[tuple[int, int, float, float, float, float]]] = defaultdict(list)
    for r in seq.tracks:
        x, y, w, h = (float(r[k]) for k in ("x", "y", "w", "h"))
        rows[int(r["frame"])].append((int(r["track_id"]), class_id_of(r["label"]), x, y, x + w, y + h))
    out: dict[int, Detections] = {}
    for frame, rs in rows.items():
        a = np.asarray(rs, np.float64)
        out[frame] = Detections(a[:, 2:6], np.ones(len(rs)), a[:, 1].astype(np.int64), a[:, 0].astype(np.int64))
    return out


def replay(seq: CaviarSequence, rules: Mapping[str, Mapping[str, Any]] | None = None) -> list[Occurrence]:
    """Feed every frame of the sequence to a fresh engine; the events it raised, with their start and end."""
    engine = BehaviourEngine(f"caviar/{seq.name}", width=WIDTH, height=HEIGHT, rules=rules)
    frames = _frames(seq)
    empty = Detections(np.zeros((0, 4)))
    events: list[Event] = []
    if frames:
        for frame in range(min(frames), max(frames) + 1):
            t = frame_s(frame)
            events += engine.process(t, T0 + timedelta(seconds=t), frames.get(frame, empty))
    events += engine.close()
    return _occurrences(seq.name, events)


def _occurrences(sequence: str, events: list[Event]) -> list[Occurrence]:
    started: dict[str, Event] = {}
    ended: dict[str, Event] = {}
    for e in events:
        if e.state == EventState.STARTED:
            started[e.id] = e
        elif e.state == EventState.ENDED:
            ended[e.id] = e
    out = []
    for eid, e in started.items():
        start = e.start_s or 0.0
        last = ended.get(eid)
        end = last.end_s if last is not None and last.end_s is not None else start
        out.append(Occurrence(e.type, sequence, start, end, e.track_ids))
    return sorted(out, key=lambda o: (o.start_s, o.type))


def matches(event: Occurrence, episode: Episode) -> bool:
    """Same type and sequence, times overlapping within ``TOLERANCE_S``, and not after the latest start."""
    return (
        event.type == episode.type
        and event.sequence == episode.sequence
        and event.start_s <= episode.end_s + TOLERANCE_S
        and event.end_s >= episode.start_s - TOLERANCE_S
        and event.start_s <= episode.latest_start_s
    )


def score(episodes: list[Episode], events: list[Occurrence], types: Iterable[str] = TYPES) -> dict[str, Any]:
    """Per type: episodes, matched, events, false events, precision, recall, F1."""
    out: dict[str, Any] = {}
    for type_ in types:
        eps = [e for e in episodes if e.type == type_]
        evs = [e for e in events if e.type == type_]
        matched = sum(any(matches(ev, ep) for ev in evs) for ep in eps)
        false = sum(not any(matches(ev, ep) for ep in eps) for ev in evs)
        precision = (len(evs) - false) / len(evs) if evs else 1.0
        recall = matched / len(eps) if eps else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
        out[type_] = {
            "episodes": len(eps), "matched": matched, "events": len(evs), "false_events": false,
            "precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
        }  # fmt: skip
    return out


def run_behaviour_benchmark(root: Path, rules: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """Replay every sequence under ``root`` and score the three behaviour types; one JSON-ready dict.

    ``rules`` overrides rule settings by type (default: every rule with its defaults)."""
    episodes: list[Episode] = []
    events: list[Occurrence] = []
    names = []
    for folder in find_sequences(root):
        seq = load_sequence(folder)
        names.append(seq.name)
        episodes += ground_truth(seq)
        events += [e for e in replay(seq, rules) if e.type in TYPES]
    return {
        "dataset": "caviar",
        "sequences": names,
        "types": score(episodes, events),
        "episodes": [_rounded(asdict(e)) for e in episodes],
        "events": [{**_rounded(asdict(e)), "matched": any(matches(e, ep) for ep in episodes)} for e in events],
        "tolerance_s": TOLERANCE_S,
        "abandon_lag_s": ABANDON_LAG_S,
    }


def _rounded(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (round(v, 2) if isinstance(v, float) and np.isfinite(v) else v) for k, v in d.items() if
            not (isinstance(v, float) and not np.isfinite(v))}  # fmt: skip


def compare_with_baseline(result: dict[str, Any], baseline: dict[str, Any], tolerance: float = 0.02) -> list[str]:
    """Regressions: each type's F1 more than ``tolerance`` below the baseline's (empty list = none).

    >>> compare_with_baseline({"types": {"fall": {"f1": 0.7}}}, {"types": {"fall": {"f1": 0.8}}})
    ['fall: F1 0.7000 is more than 0.02 below the baseline 0.8000']
    """
    problems = []
    for type_, base in baseline.get("types", {}).items():
        got = result["types"].get(type_, {}).get("f1", 0.0)
        if got < base["f1"] - tolerance:
            problems.append(f"{type_}: F1 {got:.4f} is more than {tolerance} below the baseline {base['f1']:.4f}")
    return problems
