"""Presentation helpers for the templates: times in the store's local time (UTC on hover), durations, labels.

>>> from datetime import UTC, datetime
>>> from zoneinfo import ZoneInfo
>>> t = datetime(2026, 3, 2, 12, 5, tzinfo=UTC)
>>> str(time_tag(t, ZoneInfo("Europe/Madrid"), now=t))
'<time datetime="2026-03-02T12:05:00+00:00" title="2026-03-02 12:05:00 UTC">13:05:00 <small>CET</small></time>'
>>> duration(75.0), duration(4000.0), label("false_alarm")
('1 min 15 s', '1 h 6 min', 'False alarm')
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from markupsafe import Markup


def time_tag(t: datetime | None, zone: ZoneInfo, now: datetime | None = None, *, long: bool = False) -> Markup:
    """``<time>`` showing ``t`` in ``zone`` (today: the time; this year: day and month; else the full date)."""
    if t is None:
        return Markup('<span class="muted">—</span>')
    local = t.astimezone(zone)
    today = (now or datetime.now(UTC)).astimezone(zone).date()
    if long:
        shown = local.strftime("%a %d %b %Y, %H:%M:%S")
    elif local.date() == today:
        shown = local.strftime("%H:%M:%S")
    elif local.year == today.year:
        shown = local.strftime("%d %b, %H:%M")
    else:
        shown = local.strftime("%d %b %Y, %H:%M")
    utc = t.astimezone(UTC)
    return Markup('<time datetime="{}" title="{}">{} <small>{}</small></time>').format(
        utc.isoformat(), utc.strftime("%Y-%m-%d %H:%M:%S UTC"), shown, local.tzname() or zone.key
    )


def ago(t: datetime | None, now: datetime | None = None) -> str:
    if t is None:
        return "never"
    s = max(0.0, ((now or datetime.now(UTC)) - t).total_seconds())
    if s < 60:
        return "just now"
    if s < 3600:
        return f"{int(s // 60)} min ago"
    if s < 86400:
        return f"{int(s // 3600)} h ago"
    return f"{int(s // 86400)} d ago"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "ongoing"
    d = timedelta(seconds=round(seconds))
    h, rest = divmod(int(d.total_seconds()), 3600)
    m, s = divmod(rest, 60)
    if h:
        return f"{h} h {m} min"
    return f"{m} min {s} s" if m else f"{s} s"


def label(value: object) -> str:
    """An enum value or identifier in words: ``false_alarm`` -> ``False alarm``."""
    text = str(getattr(value, "value", value)).replace("_", " ").replace(".", " ")
    return text[:1].upper() + text[1:]


def sentence(value: str) -> str:
    """First letter upper case, the rest as it is (``walk out at s1/door`` -> ``Walk out at s1/door``)."""
    return value[:1].upper() + value[1:]


def short_id(value: str) -> str:
    return value[:8]


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this site only (no ``//host``, no scheme), else ``/``.

    >>> safe_next("/incidents?state=open"), safe_next("//evil.example"), safe_next("https://x"), safe_next(None)
    ('/incidents?state=open', '/', '/', '/')
    """
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
