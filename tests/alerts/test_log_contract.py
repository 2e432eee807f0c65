"""``InMemoryDeliveryLog`` against the ``DeliveryLog`` contract (``SqlDeliveryLog`` runs it in tests/store)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from storewatch.alerts import DeliveryLog, InMemoryDeliveryLog
from tests.alerts.log_contract import DeliveryLogContract


class TestInMemoryDeliveryLog(DeliveryLogContract):
    @pytest.fixture
    def log(self) -> Iterator[DeliveryLog]:
        yield InMemoryDeliveryLog()
