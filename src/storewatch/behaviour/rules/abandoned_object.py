"""Abandoned object: a bag, backpack, suitcase or other object left standing with nobody near it, after someone
brought it.

How it is measured, per object track (classes ``OBJECT_CLASSES``):

- *attended*: some person seen in the last ``seen_within_s`` has their feet within ``near_heights`` of the object's
  base (bottom centre), in that person's body heights (their median box height). The last time this was true is
  remembered per object.
- *left by someone*: the object was attended at least once (its carrier put it down, or someone stood by it). An
  object nobody ever came near (a bin, a display a detector calls a suitcase) is furniture, not abandoned.
- *unattended for long enough*: nobody has been near it for ``unattended_s``;
- *stationary*: over the last ``stationary_s`` its box centre moved less than ``still_sizes`` of its own size
  (the larger of its width and height): a bag carried along moves with its carrier.

The finding lasts while all of that holds; someone coming back to it (or picking it up and carrying it away)
ends it.

Defaults, and why:

- ``near_heights`` 1.75: PETS 2006 and the i-LIDS abandoned-baggage scenarios call luggage unattended when its
  owner is more than 3 m from it; 3 m is 1.75 heights of a 1.7 m adult. In CAVIAR's two leavings the carrier
  stays within 1.0-1.6 heights while putting the object down and fiddling with it, then walks off (2-5 heights
  within 2 s).
- ``unattended_s`` 4 s: the time a person needs to take a few steps away and turn back for a forgotten bag is
  2-3 s; past that they have walked off. It is short for a store (PETS uses 30 s): the CAVIAR leavings give the
  object only 5 s (LeftBox) and 12 s (LeftBag) alone before the clip ends or someone picks it up, so a longer
  default could not be scored on them. A store raises it per camera.
- ``stationary_s`` 2 s, ``still_sizes`` 0.5: a carried bag swings and travels by more than its size in a second;
  a bag on the floor stays put, give or take a redrawn box (CAVIAR's left bag: 6 px on a 16x22 px box).
- ``seen_within_s`` 1 s: a person the tracker lost for a moment (hidden behind the pillar) still counts as there.

Weakness: "near" is measured in the image, so a person far behind the object but lined up with it in depth counts
as near; a bag put down beside a seated owner who is then hidden by a chair or pillar can raise it.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from pydantic import Field

from storewatch.behaviour.rules.base import Finding, Rule, RuleConfig
from storewatch.behaviour.scene import Scene, TrackHistory
from storewatch.core.events import Severity


class AbandonedObjectConfig(RuleConfig):
    severity: Severity = Field(Severity.HIGH, description="Severity of an abandoned object.")
    near_heights: float = Field(
        1.75, gt=0.0, le=20.0, description="A person within this distance (their body heights) attends the object."
    )
    unattended_s: float = Field(4.0, ge=0.0, le=3600.0, description="How long nobody may be near it.")
    stationary_s: float = Field(2.0, ge=0.0, le=600.0, description="How long it must have stood still.")
    still_sizes: float = Field(
        0.5, gt=0.0, le=10.0, description="Largest move while standing still, in the object's own box size."
    )
    seen_within_s: float = Field(
        1.0, ge=0.0, le=30.0, description="A person seen this recently still counts as near (brief occlusion)."
    )


class AbandonedObject(Rule):
    type = "abandoned_object"
    every_s = 0.5
    Config = AbandonedObjectConfig

    def __init__(self, config: RuleConfig) -> None:
        super().__init__(config)
        self._attended_s: dict[str, float] = {}
        """Per object track: the last time a person was near it."""

    def evaluate(self, scene: Scene) -> Iterable[Finding]:
        cfg = self.config
        assert isinstance(cfg, AbandonedObjectConfig)
        for hist in scene.ended:
            self._attended_s.pop(hist.track_id, None)
        people = [p for p in scene.people() if scene.t_s - p.last_s <= cfg.seen_within_s]
        for obj in scene.objects():
            if not scene.present(obj):
                continue
            nearest = min((feet_apart_heights(obj, p) for p in people), default=float("inf"))
            if nearest <= cfg.near_heights:
                self._attended_s[obj.track_id] = scene.t_s
                continue
            attended = self._attended_s.get(obj.track_id)
            if attended is None or scene.t_s - attended < cfg.unattended_s:
                continue
            if not stationary(obj, cfg.stationary_s, cfg.still_sizes):
                continue
            alone = scene.t_s - attended
            yield Finding(
                key=obj.track_id,
                explanation=f"{obj.label} left with nobody within {cfg.near_heights:g} body heights for {alone:.0f} s",
                track_ids=(obj.track_id,),
                values={
                    "unattended_s": round(alone, 1),
                    "nearest_person_heights": round(nearest, 2) if np.isfinite(nearest) else -1.0,
                    "object": obj.label,
                },
            )


def feet_apart_heights(obj: TrackHistory, person: TrackHistory) -> float:
    """Distance from the object's base to the person's feet, in the person's body heights."""
    ox, oy = obj.foot()
    px, py = person.foot()
    return float(np.hypot(ox - px, oy - py)) / max(person.height_px(), 1.0)


def stationary(obj: TrackHistory, window_s: float, still_sizes: float) -> bool:
    """The object has been seen for ``window_s`` and its box centre stayed within ``still_sizes`` of its size."""
    if obj.last_s - obj.first_s < window_s:
        return False
    _, boxes = obj.since(window_s)
    centres = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2], 1)
    size = float(np.median(np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])))
    moved = np.hypot(*(centres - np.median(centres, axis=0)).T)
    return float(np.max(moved)) <= still_sizes * max(size, 1.0)
