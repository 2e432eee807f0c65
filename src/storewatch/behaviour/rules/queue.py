"""Queue: too many people waiting in a queue zone, or an estimated wait too long, one episode per queue zone.

Length is the people in the zone who have stood in it at least ``min_dwell_s`` (someone crossing it is not
queuing). The estimated wait is length / service rate. The service rate is measured: people who leave the queue
zone for a checkout zone (entering it within ``handoff_s`` of leaving the queue, or while still in it), per minute
of the last ``service_window_s`` during which the queue was not empty (an idle till says nothing about its speed).
A camera without checkout zones counts everyone who leaves the queue zone after queuing. Before there is much to
measure, ``fallback_service_per_min`` stands in, weighted as ``prior_served`` people:

    rate = (served + prior_served) / (busy minutes + prior_served / fallback_service_per_min)

so the first estimate is the fallback, a few real services outweigh it, and a till that stops serving shows a
falling rate and a rising wait rather than a division by zero. ``prior_served`` = 3 is worth three minutes at the
fallback rate: a weaker prior reads the first quiet minute after start-up (when the last service is unknown) as a
stalled till; a stronger one holds a fast till's measured rate down for longer.

Defaults (why): ``max_length`` 5 people, about what fits a short queue lane before it blocks an aisle, and a common
"open another till" point; ``max_wait_s`` 300 s (5 min), around where shoppers report a queue as too long and start
to abandon it; ``fallback_service_per_min`` 1.0, one customer a minute at a staffed till (a small basket scanned
plus payment); ``service_window_s`` 600 s, some ten services: long enough that one slow customer does not swing the
rate, short enough to follow a till opening or closing; ``min_dwell_s`` 5 s (walking across a 2-3 m queue zone
takes about 2 s); ``min_duration_s`` 10 s so a group passing through does not raise; ``end_after_s`` 10 s because a
queue's length flickers as people shuffle forward. Severity ``low``: a queue is a service matter, not a security one.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from pydantic import Field

from storewatch.behaviour.geometry import ZoneGeometry
from storewatch.behaviour.rules.base import Finding, Rule, RuleConfig
from storewatch.behaviour.scene import Scene, TrackHistory
from storewatch.core.events import Severity

BUCKET_S = 5.0
"""Busy time is kept in buckets of this many seconds (bounded memory at any frame rate)."""


class QueueConfig(RuleConfig):
    severity: Severity = Field(Severity.LOW, description="Severity of a queue alert.")
    end_after_s: float = Field(
        10.0, ge=0.0, le=600.0, description="The alert ends when the queue has been under its limits this long."
    )
    max_length: int = Field(5, ge=1, le=500, description="More people than this waiting is a queue alert.")
    max_wait_s: float = Field(300.0, ge=10.0, le=7200.0, description="A longer estimated wait is a queue alert.")
    min_dwell_s: float = Field(
        5.0, ge=0.0, le=600.0, description="Time in the queue zone before a person counts as waiting."
    )
    min_duration_s: float = Field(
        10.0, ge=0.0, le=3600.0, description="How long the queue must be over a limit before it is raised."
    )
    service_window_s: float = Field(
        600.0, ge=60.0, le=7200.0, description="Time over which the service rate is measured."
    )
    fallback_service_per_min: float = Field(
        1.0, gt=0.0, le=60.0, description="Service rate (people per minute) assumed before it is measured."
    )
    prior_served: float = Field(
        3.0,
        ge=0.0,
        le=100.0,
        description="How many served people the fallback rate is worth (0: fallback only until the first service).",
    )
    handoff_s: float = Field(
        10.0, ge=0.0, le=120.0, description="Leaving the queue and entering a checkout this close together is served."
    )
    checkout_kinds: list[str] = Field(
        ["checkout"], min_length=1, max_length=20, description="Zone kinds where people are served."
    )


@dataclass
class Throughput:
    """Services and busy time of one queue zone over a sliding window.

    >>> tp = Throughput()
    >>> for t in range(0, 121):  # a queue for two minutes, one person served every 30 s
    ...     tp.tick(float(t), busy=True, window_s=600)
    ...     if t % 30 == 29:
    ...         tp.served.append(float(t))
    >>> round(tp.rate_per_min(120, 600, fallback_per_min=1.0, prior=0), 2)
    2.0
    >>> round(Throughput().rate_per_min(0, 600, fallback_per_min=1.0, prior=2), 2)  # nothing measured yet
    1.0
    """

    served: deque[float] = field(default_factory=deque)
    busy: deque[list[float]] = field(default_factory=deque)
    """[bucket start, busy seconds in it]."""
    last_s: float | None = None

    def tick(self, t_s: float, *, busy: bool, window_s: float) -> None:
        dt = 0.0 if self.last_s is None else max(0.0, min(t_s - self.last_s, BUCKET_S))
        self.last_s = t_s
        if busy and dt > 0:
            start = t_s - t_s % BUCKET_S
            if self.busy and self.busy[-1][0] == start:
                self.busy[-1][1] += dt
            else:
                self.busy.append([start, dt])
        while self.busy and self.busy[0][0] + BUCKET_S <= t_s - window_s:
            self.busy.popleft()
        while self.served and self.served[0] < t_s - window_s:
            self.served.popleft()

    def rate_per_min(self, t_s: float, window_s: float, *, fallback_per_min: float, prior: float) -> float:
        served = sum(1 for s in self.served if s >= t_s - window_s)
        busy_min = sum(b for _, b in self.busy) / 60.0
        if served == 0 and prior == 0:
            return fallback_per_min
        return (served + prior) / max(busy_min + prior / fallback_per_min, 1e-6)


class Queue(Rule):
    type = "queue"
    every_s = 1.0
    Config = QueueConfig
    zone_kinds = ("queue",)

    def __init__(self, config: RuleConfig) -> None:
        super().__init__(config)
        self._throughput: dict[str, Throughput] = {}
        self._over_since: dict[str, float] = {}

    def reset(self) -> None:
        self._throughput.clear()
        self._over_since.clear()

    def evaluate(self, scene: Scene) -> Iterable[Finding]:
        cfg = self.config
        assert isinstance(cfg, QueueConfig)
        zones = self.watched_zones(scene)
        self._count_served(scene, zones)
        for zone in zones:
            members = [p for p in scene.people() if scene.present(p) and zone.id in p.zones]
            tp = self._throughput.setdefault(zone.id, Throughput())
            tp.tick(scene.t_s, busy=bool(members), window_s=cfg.service_window_s)
            waiting = [p for p in members if _in_zone_s(p, zone.id, scene.t_s) >= cfg.min_dwell_s]
            rate = tp.rate_per_min(
                scene.t_s, cfg.service_window_s, fallback_per_min=cfg.fallback_service_per_min, prior=cfg.prior_served
            )
            wait_s = len(waiting) / rate * 60.0 if rate > 0 else (0.0 if not waiting else float("inf"))
            if len(waiting) <= cfg.max_length and wait_s <= cfg.max_wait_s:
                self._over_since.pop(zone.id, None)
                continue
            since = self._over_since.setdefault(zone.id, scene.t_s)
            if scene.t_s - since >= cfg.min_duration_s:
                yield self._finding(zone, waiting, wait_s, rate, len(tp.served))

    def _finding(
        self, zone: ZoneGeometry, waiting: list[TrackHistory], wait_s: float, rate: float, served: int
    ) -> Finding:
        cfg = self.config
        assert isinstance(cfg, QueueConfig)
        explanation = (
            f"queue at {zone.id}: {len(waiting)} people, estimated wait {wait_s / 60:.1f} min "
            f"(limit {cfg.max_length} people or {cfg.max_wait_s / 60:g} min); serving {rate:.1f} people/min"
        )
        return Finding(
            key=zone.id,
            explanation=explanation,
            track_ids=tuple(p.track_id for p in waiting[:50]),
            zone=zone.id,
            values={"length": len(waiting), "wait_s": round(min(wait_s, 1e6), 1),
                    "service_per_min": round(rate, 2), "served_in_window": served,
                    "max_length": cfg.max_length, "max_wait_s": cfg.max_wait_s},
        )  # fmt: skip

    def _count_served(self, scene: Scene, zones: list[ZoneGeometry]) -> None:
        """Record, per queue zone, the people served on this frame."""
        cfg = self.config
        assert isinstance(cfg, QueueConfig)
        has_checkout = bool(scene.zones_of_kind(*cfg.checkout_kinds))
        for person in scene.seen:
            if not person.is_person:
                continue
            for zone in zones:
                if (
                    _entered_checkout_from(person, zone.id, scene.t_s, cfg)
                    if has_checkout
                    else _left_after_queuing(person, zone.id, scene.t_s, cfg.min_dwell_s)
                ):
                    self._throughput.setdefault(zone.id, Throughput()).served.append(scene.t_s)


def _in_zone_s(person: TrackHistory, zone: str, now_s: float) -> float:
    visit = person.open_visit(zone)
    return 0.0 if visit is None else visit.dwell_s(now_s)


def _entered_checkout_from(person: TrackHistory, queue: str, now_s: float, cfg: QueueConfig) -> bool:
    """Whether the person entered a checkout zone on this frame, coming from (or still in) the queue zone."""
    entered = False
    for v in reversed(person.visits):
        if v.enter_s != now_s:
            break
        entered = entered or v.kind in cfg.checkout_kinds
    if not entered:
        return False
    return any(
        v.exit_s is None or v.exit_s >= now_s - cfg.handoff_s for v in person.visits_to(queue) if v.enter_s < now_s
    )


def _left_after_queuing(person: TrackHistory, queue: str, now_s: float, min_dwell_s: float) -> bool:
    return any(v.exit_s == now_s and v.dwell_s(now_s) >= min_dwell_s for v in person.visits_to(queue, now_s))
