"""Text templates of actions: an event's fields put into a URL body, an MQTT topic or payload, a monitor message.

``string.Template`` (``${camera}``, ``$type``; ``$$`` for a dollar sign) rather than ``str.format``: a format string
from a file could reach attributes (``{type.__class__}``), a ``Template`` only the names it is given. The names a
template uses are checked when the site file is loaded (``check_template``), so a typo is a configuration error and
not an action that fails when the first event comes.

>>> from datetime import UTC, datetime
>>> from storewatch.core.events import Event
>>> e = Event(id="e1", type="restricted_area", camera="s1/office", zone="safe", explanation="person in zone safe",
...           start_utc=datetime(2026, 3, 2, 21, 5, tzinfo=UTC))
>>> f = event_fields(e, "siren")
>>> render("${type_text} at ${camera} (${zone})", f)
'Restricted area at s1/office (safe)'
>>> render_json({"event": "${event_id}", "n": [1, "$severity"]}, f)
{'event': 'e1', 'n': [1, 'medium']}
>>> check_template("${camra}")
Traceback (most recent call last):
...
ValueError: unknown field(s) camra in the template (known: action, camera, camera_id, event_id, explanation, \
severity, start_utc, store, type, type_text, zone)
"""

from __future__ import annotations

from string import Template
from typing import Any

from pydantic import JsonValue

from storewatch.alerts.message import humanize_type
from storewatch.core.events import Event

FIELDS = (
    "action",
    "camera",
    "camera_id",
    "event_id",
    "explanation",
    "severity",
    "start_utc",
    "store",
    "type",
    "type_text",
    "zone",
)
"""The names a template may use: ``camera`` is ``store/camera``, ``camera_id`` the camera's own id."""


def check_template(text: str) -> str:
    """``text`` if it is a valid template using only known fields; ``ValueError`` naming the problem otherwise."""
    template = Template(text)
    if not template.is_valid():
        raise ValueError(f"{text!r} is not a valid template (write $$ for a dollar sign, ${{name}} for a field)")
    unknown = sorted(set(template.get_identifiers()) - set(FIELDS))
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(unknown)} in the template (known: {', '.join(FIELDS)})")
    return text


def check_json_template(value: JsonValue) -> JsonValue:
    """Every string inside ``value`` (keys too) checked with ``check_template``."""
    for text in _strings(value):
        check_template(text)
    return value


def event_fields(event: Event, action: str) -> dict[str, str]:
    """The values of ``FIELDS`` for ``event`` fired by the action named ``action``."""
    return {
        "action": action,
        "camera": str(event.camera),
        "camera_id": str(event.camera).split("/", 1)[-1],
        "event_id": event.id,
        "explanation": event.explanation,
        "severity": event.severity.value,
        "start_utc": event.start_utc.isoformat(),
        "store": event.store,
        "type": event.type,
        "type_text": humanize_type(event.type),
        "zone": event.zone or "",
    }


def render(text: str, fields: dict[str, str]) -> str:
    """``text`` with the fields put in (the template was checked at load time)."""
    return Template(text).substitute(fields)


def render_json(value: JsonValue, fields: dict[str, str]) -> JsonValue:
    """A copy of ``value`` with every string (keys too) rendered; numbers, booleans and null kept as they are."""
    if isinstance(value, str):
        return render(value, fields)
    if isinstance(value, list):
        return [render_json(v, fields) for v in value]
    if isinstance(value, dict):
        return {render(k, fields): render_json(v, fields) for k, v in value.items()}
    return value


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    if isinstance(value, dict):
        return [*value.keys(), *(s for v in value.values() for s in _strings(v))]
    return []
