"""The store switcher: every page narrowed to one store, or all of the user's, chosen in the page header.

The choice is kept in a cookie (``storewatch_store``, a year; empty: all my stores), so it holds across pages and
visits of that browser. It only narrows what the user may see (``Scope``, the one place tenancy is decided): a
chosen store outside the user's scope counts as no choice. Lists use it as their store filter unless the page's
own filter says otherwise (``?store=s2``; ``?store=`` for all); pages of one item (an alert, an incident) are not
narrowed, so a link to another store's alert still opens.

>>> scope = StoreScope.of(("s1", "s2"))
>>> narrowed(scope, "s2").stores, narrowed(scope, None) is scope
(frozenset({'s2'}), True)
>>> pick(None, "s2"), pick("s1", "s2"), pick("", "s2")
('s2', 's1', None)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Request

from storewatch.core.ids import is_slug
from storewatch.web.deps import Scope, WebContext
from storewatch.web.scope import StoreScope
from storewatch.web.users import User

COOKIE = "storewatch_store"
COOKIE_MAX_AGE_S = 365 * 24 * 3600
DROPPED_ON_SWITCH = ("store", "notice")
"""Query parameters a page loses when the store is switched (its own store filter, a one-off notice)."""


async def chosen_store(request: Request, scope: Scope) -> str | None:
    """The store chosen in the header, when it is one the user may see; None: all of the user's stores. (Async:
    it does no I/O, so it is not worth a trip to the thread pool.)"""
    value = request.cookies.get(COOKIE, "")
    return value if value and is_slug(value) and scope.allows(value) else None


ChosenStore = Annotated[str | None, Depends(chosen_store)]


def narrowed(scope: StoreScope, chosen: str | None) -> StoreScope:
    """``scope`` narrowed to the chosen store (which it allows: ``chosen_store`` checked)."""
    return scope if chosen is None else StoreScope(frozenset({chosen}))


def pick(requested: str | None, chosen: str | None) -> str | None:
    """A list's store filter: the page's own (``?store=``; empty: all stores) when given, else the chosen one."""
    return (requested if requested is not None else chosen) or None


@dataclass(frozen=True, slots=True)
class Switcher:
    """What the header's store switcher shows."""

    stores: list[tuple[str, str]]
    """(id, name) of each store the user may see."""
    chosen: str | None
    here: str
    """This page (without its own store filter), to come back to after switching."""


def switcher(ctx: WebContext, request: Request, user: User | None) -> Switcher | None:
    """The switcher for a page, or None (not logged in, or only one store to see)."""
    if user is None:
        return None
    scope = StoreScope.of(user.stores)
    stores = ctx.estate.store_ids(scope)
    if len(stores) < 2:
        return None
    value = request.cookies.get(COOKIE, "")
    chosen = value if value in stores else None
    query = [(k, v) for k, v in request.query_params.multi_items() if k not in DROPPED_ON_SWITCH]
    here = request.url.path + (f"?{urlencode(query)}" if query else "")
    return Switcher([(s, ctx.directory.name(s)) for s in stores], chosen, here)
