"""Which stores a user may see: the one place store scoping is decided.

>>> scope = StoreScope.of(("s1", "s2"))
>>> scope.allows("s1"), scope.allows("s3"), scope.narrow(None), scope.narrow("s2")
(True, False, ['s1', 's2'], ['s2'])
>>> StoreScope.of(("*",)).narrow(None) is None
True
>>> beyond(["s1", "s3"], ("s1", "s2")), beyond(["*"], ("s1",)), beyond(["s3"], ("*",))
(['s3'], ['all stores'], [])
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from storewatch.errors import StorewatchError
from storewatch.web.users import ALL_STORES


class OutOfScopeError(StorewatchError):
    """The store is not one the user may see (shown as 'not found', so its existence is not revealed)."""


@dataclass(frozen=True, slots=True)
class StoreScope:
    stores: frozenset[str] | None
    """The stores the user may see; None: every store."""

    @classmethod
    def of(cls, stores: Sequence[str]) -> StoreScope:
        return cls(None if ALL_STORES in stores else frozenset(stores))

    @property
    def everything(self) -> bool:
        return self.stores is None

    def allows(self, store: str) -> bool:
        return self.stores is None or store in self.stores

    def narrow(self, requested: str | None) -> list[str] | None:
        """The stores a query may read: ``requested`` (when allowed) or all of the user's; None: no filter."""
        if requested is not None:
            if not self.allows(requested):
                raise OutOfScopeError(f"no store {requested!r} among yours")
            return [requested]
        return None if self.stores is None else sorted(self.stores)

    def filter(self, stores: Iterable[str]) -> list[str]:
        return [s for s in stores if self.allows(s)]


def beyond(stores: Sequence[str], own: Sequence[str]) -> list[str]:
    """The stores of ``stores`` outside ``own`` (``'all stores'`` for ``*`` unless ``own`` is every store): what an
    administrator of ``own`` may not give to an account or a token."""
    if ALL_STORES in own:
        return []
    return ["all stores" if s == ALL_STORES else s for s in stores if s not in own]
