"""Dashboard clients for load measurements: N browsers' worth of requests and live feeds on one asyncio loop.

Each client logs in with its own session, holds the live feed (``/api/v1/stream``) open as the alerts page does,
does with alert cards what the page's script does (uses the card the feed pushed, or fetches it when the feed
pushed none and what the card shows changed), and every ``think_s`` (uniformly jittered) asks for one page or API
call, taking the kinds in turn: overview, alerts page, incidents page, an incident (one the feed named), a snapshot
(one the feed linked), the alerts API, the estate API. Every request's latency is the time to the whole body,
measured on this loop; the loop's own lag is measured too, so a client side that could not keep up shows.

What the feed brought is kept per client (each event's newest ``updated_utc``, each alert's newest status), to
compare with what the database says was raised (``Expected``): no dropped live events means every client saw every
event in its final state and every alert in its final status.

>>> percentiles_ms([0.010, 0.020, 0.030, 0.040])
{'count': 4, 'p50_ms': 25.0, 'p95_ms': 38.5, 'max_ms': 40.0}
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import numpy as np

PAGES = {
    "overview": "/",
    "alerts": "/alerts",
    "incidents": "/incidents",
    "api_alerts": "/api/v1/alerts?limit=50",
    "api_estate": "/api/v1/estate",
}
KINDS = ("overview", "alerts", "incidents", "incident", "thumbnail", "api_alerts", "api_estate")
RETRIED = (httpx.RemoteProtocolError, httpx.ReadError)
LOGIN_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
"""The login form's CSRF token in the login page."""
CARD_FIELDS = ("status", "level", "explanation", "incident_ids", "acknowledged_by", "false_alarm_reason")


@dataclass(frozen=True, slots=True)
class Expected:
    """What was raised: event id -> newest ``updated_utc``; alert id -> final status."""

    events: dict[str, datetime]
    alerts: dict[str, str]


@dataclass
class _Client:
    name: str
    http: httpx.AsyncClient
    events: dict[str, datetime] = field(default_factory=dict)
    alerts: dict[str, str] = field(default_factory=dict)
    cards: dict[str, str] = field(default_factory=dict)
    """Alert id -> what its card showed when last fetched (the page's script fetches only when that changes)."""
    pushed: set[str] = field(default_factory=set)
    """Alerts whose card the feed pushed (the page's script then fetches none)."""
    messages: int = 0
    stream_errors: int = 0
    connected: asyncio.Event = field(default_factory=asyncio.Event)

    def missing(self, expected: Expected) -> int:
        late_events = sum(1 for k, t in expected.events.items() if k not in self.events or self.events[k] < t)
        return late_events + sum(1 for k, s in expected.alerts.items() if self.alerts.get(k) != s)


def card_looks(alert: dict[str, Any]) -> str:
    """What an alert's card shows (as the page's script compares it)."""
    return json.dumps([alert.get(k) for k in CARD_FIELDS] + [(alert.get("evidence") or {}).get("snapshot")])


def percentiles_ms(seconds: Sequence[float]) -> dict[str, Any]:
    if not seconds:
        return {"count": 0, "p50_ms": None, "p95_ms": None, "max_ms": None}
    a = np.asarray(seconds) * 1000.0
    return {
        "count": len(seconds),
        "p50_ms": round(float(np.percentile(a, 50)), 1),
        "p95_ms": round(float(np.percentile(a, 95)), 1),
        "max_ms": round(float(a.max()), 1),
    }


class DashboardLoad:
    def __init__(
        self,
        url: str,
        users: Sequence[tuple[str, str]],
        clients: int,
        *,
        think_s: tuple[float, float] = (2.0, 4.0),
        seed: int = 1,
    ) -> None:
        self.url, self.users, self.think_s = url.rstrip("/"), users, think_s
        self.count = clients
        self.random = random.Random(seed)
        self.clients: list[_Client] = []
        self.samples: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.error_examples: list[str] = []
        self.delivery_s: list[float] = []
        self.lag_s: list[float] = []
        self.retries = 0
        self.incidents: set[str] = set()
        self.snapshots: set[str] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._measuring = False

    async def start(self, ramp_s: float = 5.0, timeout_s: float = 60.0) -> None:
        """Log every client in (spread over ``ramp_s``) and open its live feed; returns when all are connected."""
        self._tasks.append(asyncio.create_task(self._watch_lag()))
        for i in range(self.count):
            http = httpx.AsyncClient(base_url=self.url, follow_redirects=False, timeout=httpx.Timeout(30.0))
            client = _Client(f"client-{i + 1}", http)
            self.clients.append(client)
            self._tasks.append(asyncio.create_task(self._arrive(client, *self.users[i % len(self.users)])))
            await asyncio.sleep(ramp_s / self.count)
        await asyncio.wait_for(asyncio.gather(*(c.connected.wait() for c in self.clients)), timeout_s)

    async def drive(self, seconds: float) -> None:
        """Every client asks for pages and API calls for ``seconds``."""
        self._measuring = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        try:
            await asyncio.gather(*(self._browse(c, i, deadline) for i, c in enumerate(self.clients)))
        finally:
            self._measuring = False

    async def settle(self, expected: Callable[[], Expected], timeout_s: float = 30.0) -> tuple[Expected, float]:
        """Wait until every client saw everything ``expected()`` names (or ``timeout_s``); what was expected and
        how long it took."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        while True:
            wanted = await asyncio.to_thread(expected)
            if all(c.missing(wanted) == 0 for c in self.clients) or loop.time() - started > timeout_s:
                return wanted, loop.time() - started
            await asyncio.sleep(0.25)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for client in self.clients:
            await client.http.aclose()

    def report(self, expected: Expected) -> dict[str, Any]:
        kinds = {k: {**percentiles_ms(v), "errors": self.errors.get(k, 0)} for k, v in sorted(self.samples.items())}
        measured = [s for k, v in self.samples.items() if k != "login" for s in v]
        missing = [c.missing(expected) for c in self.clients]
        return {
            "requests": {k: v for k, v in kinds.items() if k != "login"},
            "overall": {**percentiles_ms(measured), "errors": sum(n for k, n in self.errors.items() if k != "login")},
            "login": kinds.get("login"),
            "live": {
                "events_raised": len(expected.events),
                "alerts_raised": len(expected.alerts),
                "clients": len(self.clients),
                "clients_that_saw_everything": sum(m == 0 for m in missing),
                "missed_total": sum(missing),
                "stream_errors": sum(c.stream_errors for c in self.clients),
                "messages_per_client": round(sum(c.messages for c in self.clients) / max(1, len(self.clients)), 1),
                "delivery_p50_s": _round(np.percentile(self.delivery_s, 50)) if self.delivery_s else None,
                "delivery_p95_s": _round(np.percentile(self.delivery_s, 95)) if self.delivery_s else None,
            },
            "retried_on_closed_connection": self.retries,
            "client_loop_lag_p95_ms": round(float(np.percentile(self.lag_s, 95)) * 1000, 1) if self.lag_s else None,
            "error_examples": self.error_examples[:5],
        }

    # --- one client ------------------------------------------------------------------------------------------------
    async def _browse(self, client: _Client, index: int, deadline: float) -> None:
        loop = asyncio.get_running_loop()
        kinds = itertools.islice(itertools.cycle(KINDS), index % len(KINDS), None)
        await asyncio.sleep(self.random.uniform(0, self.think_s[1]))
        while loop.time() < deadline:
            kind = next(kinds)
            path = self._path(kind)
            if path is not None:
                await self._timed(client, kind, "GET", path)
            await asyncio.sleep(self.random.uniform(*self.think_s))

    def _path(self, kind: str) -> str | None:
        if kind == "incident":
            return f"/incidents/{self.random.choice(sorted(self.incidents))}" if self.incidents else None
        if kind == "thumbnail":
            return self.random.choice(sorted(self.snapshots)) if self.snapshots else None
        return PAGES[kind]

    async def _timed(
        self, client: _Client, kind: str, method: str, path: str, ok: tuple[int, ...] = (200,), **kwargs: Any
    ) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        for attempt in (1, 2):
            try:
                response = await client.http.request(method, path, **kwargs)
                status, problem = response.status_code, f"{method} {path}: {response.status_code}"
                break
            except httpx.HTTPError as exc:
                status, problem = 0, f"{method} {path}: {type(exc).__name__} {exc}"
                if method != "GET" or attempt == 2 or not isinstance(exc, RETRIED):
                    break
                self.retries += 1  # the server closed an idle kept-alive connection as it was reused: a browser
                # sends an idempotent request again on a new connection, and so does this client
        if self._measuring or kind == "login":
            self.samples[kind].append(loop.time() - started)
        if status not in ok:
            self.errors[kind] += 1
            if len(self.error_examples) < 20:
                self.error_examples.append(problem)

    async def _arrive(self, client: _Client, username: str, password: str) -> None:
        page = await client.http.get("/login")  # as a browser: the form's CSRF token and its pre-session cookie
        token = LOGIN_TOKEN.search(page.text)
        form = {"username": username, "password": password, "next": "/", "csrf_token": token.group(1) if token else ""}
        await self._timed(client, "login", "POST", "/login", data=form, ok=(303,))
        await self._follow(client)

    async def _follow(self, client: _Client) -> None:
        """Hold the client's live feed open (reconnecting with Last-Event-ID, as a browser does)."""
        last_id = ""
        while True:
            headers = {"Last-Event-ID": last_id} if last_id else {}
            try:
                async with client.http.stream("GET", "/api/v1/stream", headers=headers, timeout=None) as response:
                    if response.status_code != 200:
                        raise httpx.HTTPStatusError("stream refused", request=response.request, response=response)
                    client.connected.set()
                    kind = data = ""
                    async for line in response.aiter_lines():
                        if line.startswith("id: "):
                            last_id = line[4:]
                        elif line.startswith("event: "):
                            kind = line[7:]
                        elif line.startswith("data: "):
                            data = line[6:]
                        elif not line and data:
                            self._received(client, kind, json.loads(data))
                            kind = data = ""
            except httpx.HTTPError:
                client.stream_errors += 1
                await asyncio.sleep(1.0)

    def _received(self, client: _Client, kind: str, item: dict[str, Any]) -> None:
        client.messages += 1
        now = datetime.now().astimezone()
        if kind == "event":
            updated = datetime.fromisoformat(item["updated_utc"]) if item.get("updated_utc") else None
            if updated is not None:
                client.events[item["id"]] = max(updated, client.events.get(item["id"], updated))
                if self._measuring:  # not what a new client is replayed when it connects
                    self.delivery_s.append((now - updated).total_seconds())
        elif kind == "alert_card":
            client.pushed.add(item["id"])
        elif kind == "alert":
            client.alerts[item["id"]] = item["status"]
            self.incidents.update(item.get("incident_ids") or ())
            looks = card_looks(item)
            if item["id"] not in client.pushed and client.cards.get(item["id"]) != looks:  # as static/app.js does
                client.cards[item["id"]] = looks
                card = f"/alerts/{item['id']}/card"
                self._tasks.append(asyncio.create_task(self._timed(client, "alert_card", "GET", card)))
        snapshot = (item.get("evidence") or {}).get("snapshot")
        if snapshot:
            self.snapshots.add(snapshot)

    async def _watch_lag(self, every_s: float = 0.1) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(every_s)
            if self._measuring:
                self.lag_s.append(max(0.0, loop.time() - before - every_s))


def _round(value: Any) -> float:
    return round(float(value), 3)
