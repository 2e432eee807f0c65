"""The inventory page's reads: the shrink report (``storewatch.inventory.service``) over the user's stores (or
the one chosen) for a period of days, with the site file's ``inventory`` section (none: no shelves mapped, SKUs
then placed only by their adjustments' zone column).

>>> from datetime import date
>>> default_days(date(2026, 3, 31))
(datetime.date(2026, 3, 2), datetime.date(2026, 3, 31))
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from storewatch.config.schema import SiteConfig
from storewatch.errors import StorewatchError
from storewatch.inventory.config import InventoryConfig
from storewatch.inventory.service import InventoryService, ShrinkReport, period
from storewatch.store.db import Database
from storewatch.web.errors import InvalidError
from storewatch.web.scope import StoreScope
from storewatch.web.services import stores_of

DEFAULT_DAYS = 30
EVENTS_LISTED = 8


def default_days(today: date) -> tuple[date, date]:
    """The last ``DEFAULT_DAYS`` days up to today."""
    return today - timedelta(days=DEFAULT_DAYS - 1), today


@dataclass(frozen=True, slots=True)
class ShrinkPage:
    first: date
    last: date
    report: ShrinkReport

    @property
    def with_loss(self) -> int:
        return sum(1 for z in self.report.zones if z.shrink.unexplained)

    @property
    def events_beside(self) -> int:
        return sum(z.events.total for z in self.report.zones if z.events is not None and z.shrink.unexplained)


class InventoryReads:
    def __init__(self, db: Database, site: SiteConfig | None) -> None:
        self.config = site.inventory if site is not None else InventoryConfig()
        self.service = InventoryService(db, self.config)

    def today(self) -> date:
        return datetime.now(ZoneInfo(self.config.timezone)).date()

    def shrink(self, scope: StoreScope, store: str | None, first: date | None, last: date | None) -> ShrinkPage:
        """The report of the days (default: the last 30); ``InvalidError`` (field ``from``) for a bad span."""
        d_first, d_last = default_days(last or self.today())
        first = first or d_first
        last = last or max(d_last, first)
        try:
            start, end = period(first, last, self.config.timezone)
        except StorewatchError as exc:
            raise InvalidError(exc.message.replace("--", "").replace("to ", "To ", 1), field="from") from None
        return ShrinkPage(first, last, self.service.report(stores_of(scope, store), start, end, EVENTS_LISTED))
