"""``excessive_voids`` and ``excessive_refunds``: a cashier's rate against the other cashiers of the same store over
a period (a business day, a week). The rate is events per retail transaction (void lines; refund transactions).
The baseline is robust: the median of the peers' rates and their median absolute deviation (MAD), so one other
outlier does not hide or make a finding. A cashier is raised when the robust z-score ``0.6745 (rate - median) /
MAD`` and the ratio to the median both pass their thresholds (when every peer has the same rate, MAD is 0: the
ratio decides), with enough events and transactions to mean something. The statistics are in the values.

>>> acts = [OperatorActivity("9", op, 100, v, 0) for op, v in (("a", 2), ("b", 3), ("c", 2), ("d", 4), ("e", 15))]
>>> [(e.operator, e.values["robust_z"], e.values["peer_median_rate"]) for e in excessive_voids(acts, PeerRateConfig(),
...     datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC))]
[('e', 16.86, 0.025)]
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from storewatch.pos.config import PeerRateConfig
from storewatch.pos.exceptions import ExceptionCode, PosException
from storewatch.pos.model import Transaction, TransactionStatus, TransactionType

Z_CAP = 999.0
"""The z-score reported when the peers' MAD is 0 and the rate is above their median (JSON has no infinity)."""


@dataclass(frozen=True, slots=True)
class OperatorActivity:
    store: str
    operator: str
    transactions: int
    """Retail transactions (sale, return, exchange) completed."""
    void_lines: int
    refunds: int
    """Return or exchange transactions."""


def activity_of(transactions: Iterable[Transaction]) -> list[OperatorActivity]:
    """Each (store, operator)'s counts over ``transactions``."""
    counts: dict[tuple[str, str], list[int]] = {}
    for tx in transactions:
        if not tx.is_retail or tx.operator is None or tx.status is not TransactionStatus.COMPLETED:
            continue
        c = counts.setdefault((tx.store, tx.operator), [0, 0, 0])
        c[0] += 1
        c[1] += len(tx.void_lines)
        c[2] += tx.type in (TransactionType.RETURN, TransactionType.EXCHANGE)
    return [OperatorActivity(s, op, *c) for (s, op), c in sorted(counts.items())]


def excessive_voids(
    activity: list[OperatorActivity], cfg: PeerRateConfig, start: datetime, end: datetime
) -> list[PosException]:
    return _excessive(ExceptionCode.EXCESSIVE_VOIDS, activity, cfg, start, end, "void_lines", "void lines")


def excessive_refunds(
    activity: list[OperatorActivity], cfg: PeerRateConfig, start: datetime, end: datetime
) -> list[PosException]:
    return _excessive(ExceptionCode.EXCESSIVE_REFUNDS, activity, cfg, start, end, "refunds", "refunds")


@dataclass(frozen=True, slots=True)
class PeerStats:
    """A cashier's rate of one kind of event against the other rated cashiers of the store (``peer_stats``)."""

    events: int
    transactions: int
    rate: float
    peer_median_rate: float
    peer_mad: float
    robust_z: float
    """``0.6745 (rate - median) / MAD``; ``Z_CAP`` when MAD is 0 and the rate is above the median."""
    ratio_to_median: float
    peers: int

    def values(self) -> dict[str, float | int]:
        """The statistics rounded as findings and reports show them."""
        return {
            "events": self.events,
            "transactions": self.transactions,
            "rate": round(self.rate, 4),
            "peer_median_rate": round(self.peer_median_rate, 4),
            "peer_mad": round(self.peer_mad, 4),
            "robust_z": round(min(self.robust_z, Z_CAP), 2),
            "ratio_to_median": round(min(self.ratio_to_median, Z_CAP), 2),
            "peers": self.peers,
        }


def rated(activity: Iterable[OperatorActivity], cfg: PeerRateConfig) -> list[OperatorActivity]:
    """The cashiers with enough transactions to be rated (and to be peers)."""
    return [a for a in activity if a.transactions >= cfg.min_transactions]


def peer_stats(a: OperatorActivity, peers_of_store: Iterable[OperatorActivity], field: str) -> PeerStats | None:
    """``a``'s rate of ``field`` (``void_lines`` or ``refunds``) per transaction against the other cashiers of
    its store among ``peers_of_store`` (the rated ones): the peers' median and MAD, the robust z-score and the
    ratio to the median; None without transactions or peers."""
    peers = [p for p in peers_of_store if p.store == a.store and p.operator != a.operator]
    if not peers or a.transactions <= 0:
        return None
    events = int(getattr(a, field))
    rates = [getattr(p, field) / p.transactions for p in peers]
    rate = events / a.transactions
    median = statistics.median(rates)
    mad = statistics.median(abs(r - median) for r in rates)
    z = 0.6745 * (rate - median) / mad if mad > 0 else (Z_CAP if rate > median else 0.0)
    ratio = rate / median if median > 0 else (Z_CAP if rate > 0 else 0.0)
    return PeerStats(events, a.transactions, rate, median, mad, z, ratio, len(peers))


def _excessive(
    code: ExceptionCode,
    activity: list[OperatorActivity],
    cfg: PeerRateConfig,
    start: datetime,
    end: datetime,
    field: str,
    noun: str,
) -> list[PosException]:
    if not cfg.enabled:
        return []
    found = []
    baseline = rated(activity, cfg)
    for a in baseline:
        s = peer_stats(a, baseline, field)
        if s is None or s.peers < cfg.min_peers or s.events < cfg.min_events:
            continue
        if s.robust_z < cfg.min_robust_z or s.ratio_to_median < cfg.min_ratio_to_median:
            continue
        z = min(s.robust_z, Z_CAP)
        found.append(
            PosException.of(
                code,
                store=a.store,
                operator=a.operator,
                at_utc=end.astimezone(UTC),
                period_start_utc=start,
                period_end_utc=end,
                values=s.values(),
                explanation=f"cashier {a.operator}: {s.events} {noun} in {a.transactions} transactions "
                f"({100 * s.rate:.1f}%), peers' median {100 * s.peer_median_rate:.1f}% (robust z {z:.1f}, "
                f"{s.peers} peers)",
            )
        )
    return found
