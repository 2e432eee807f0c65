"""Form fields made from a behaviour rule's settings model, and form text read back into setting values.

Every rule's ``Config`` (``behaviour/rules/*``) says each setting's type, bounds, default and description; the
rules editor shows each as the input that fits (a choice for on/off and severities, a number with its bounds, a
comma list for zone ids and kinds, ``zone=number`` pairs for per-zone limits), so a new rule or setting needs no
change here. The unit comes from the name (``dwell_s`` -> seconds), as the style guide asks names to carry it.

An empty field means "not set here": the value comes from the site (for a camera) or the rule's default.

>>> from storewatch.behaviour.rules.loitering import LoiteringConfig
>>> spec = next(f for f in field_specs(LoiteringConfig) if f.name == "dwell_s")
>>> spec.label, spec.unit, spec.kind.value, spec.bounds
('Dwell', 's', 'number', '> 0, ≤ 86400')
>>> parse(spec, " 20 "), show(spec, 20.0)
('20', '20')
>>> zones = next(f for f in field_specs(LoiteringConfig) if f.name == "zones")
>>> parse(zones, "shelf-1, , door"), show(zones, ["shelf-1", "door"])
(['shelf-1', 'door'], 'shelf-1, door')
"""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any, Union, get_args, get_origin

from pydantic.fields import FieldInfo

from storewatch.behaviour.rules.base import Rule, RuleConfig


class FieldKind(StrEnum):
    BOOL = "bool"
    CHOICE = "choice"
    NUMBER = "number"
    INTEGER = "integer"
    TEXT = "text"
    LIST = "list"
    MAP = "map"


COMMON = tuple(RuleConfig.model_fields)
"""Settings every rule has (on/off, severity, cool-down, end, zones, schedule): shown after the rule's own."""

UNITS = (
    ("_heights_per_s", "heights/s"),
    ("_heights_s", "heights/s"),
    ("_m_s", "m/s"),
    ("_per_min", "per min"),
    ("_heights", "body heights"),
    ("_deg", "°"),
    ("_px", "px"),
    ("_s", "s"),
)


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    label: str
    unit: str
    description: str
    kind: FieldKind
    options: tuple[str, ...]
    minimum: float | None
    maximum: float | None
    exclusive_min: bool
    exclusive_max: bool
    default: Any
    common: bool

    @property
    def bounds(self) -> str:
        parts = []
        if self.minimum is not None:
            parts.append(f"{'>' if self.exclusive_min else '≥'} {_number(self.minimum)}")
        if self.maximum is not None:
            parts.append(f"{'<' if self.exclusive_max else '≤'} {_number(self.maximum)}")
        return ", ".join(parts)

    @property
    def step(self) -> str:
        return "1" if self.kind == FieldKind.INTEGER else "any"


def field_specs(config: type[RuleConfig]) -> list[FieldSpec]:
    """The settings of a rule's config model, the rule's own first, then the common ones."""
    specs = [_spec(name, info) for name, info in config.model_fields.items()]
    return [s for s in specs if not s.common] + [s for s in specs if s.common]


def _spec(name: str, info: FieldInfo) -> FieldSpec:
    kind, options = _kind(info.annotation)
    low = high = None
    low_open = high_open = False
    for meta in info.metadata:
        if (v := getattr(meta, "ge", None)) is not None:
            low = float(v)
        if (v := getattr(meta, "gt", None)) is not None:
            low, low_open = float(v), True
        if (v := getattr(meta, "le", None)) is not None:
            high = float(v)
        if (v := getattr(meta, "lt", None)) is not None:
            high, high_open = float(v), True
    base, unit = name, ""
    for suffix, text in UNITS:
        if name.endswith(suffix):
            base, unit = name.removesuffix(suffix), text
            break
    label = base.replace("_", " ").capitalize()
    default = info.get_default(call_default_factory=True)
    return FieldSpec(
        name, label, unit, info.description or "", kind, options, low, high, low_open, high_open,
        default, name in COMMON,
    )  # fmt: skip


def _kind(annotation: Any) -> tuple[FieldKind, tuple[str, ...]]:
    if get_origin(annotation) in (Union, types.UnionType):
        rest = [a for a in get_args(annotation) if a is not type(None)]
        annotation = rest[0] if len(rest) == 1 else str
    origin = get_origin(annotation)
    if annotation is bool:
        return FieldKind.BOOL, ("true", "false")
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return FieldKind.CHOICE, tuple(str(m.value) for m in annotation)
    if annotation is int:
        return FieldKind.INTEGER, ()
    if annotation is float:
        return FieldKind.NUMBER, ()
    if origin is list:
        return FieldKind.LIST, ()
    if origin is dict:
        return FieldKind.MAP, ()
    return FieldKind.TEXT, ()


def show(spec: FieldSpec, value: Any) -> str:
    """A setting's value as its form field shows it ('' for none)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, float | int):
        return _number(float(value))
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={show(spec, v)}" for k, v in value.items())
    return str(value)


def parse(spec: FieldSpec, raw: str) -> Any:
    """The value typed into a field, for the config model to validate (``ValueError``: it cannot even be read)."""
    text = raw.strip()
    if spec.kind == FieldKind.LIST:
        return [p for p in (x.strip() for x in text.split(",")) if p]
    if spec.kind == FieldKind.MAP:
        out: dict[str, str] = {}
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            key, sep, value = part.partition("=")
            if not sep or not key.strip() or not value.strip():
                raise ValueError(f"write each as zone=number, separated by commas (not {part!r})")
            out[key.strip()] = value.strip()
        return out
    return text


def rule_title(rule: type[Rule]) -> tuple[str, str]:
    """(name in words, one line on what it finds) from the rule's module docstring."""
    doc = (sys.modules[rule.__module__].__doc__ or rule.__doc__ or "").strip().split("\n\n")[0]
    first = " ".join(doc.split()).replace("``", "")
    name, _, what = first.partition(": ")
    if not what:
        name, what = rule.type.replace("_", " ").capitalize(), first
    return name, what[:1].upper() + what[1:]


def _number(value: float) -> str:
    return f"{value:g}" if abs(value) < 1e15 else str(value)
