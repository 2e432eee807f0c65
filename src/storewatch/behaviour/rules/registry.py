"""Every rule, found by looking in this package: a new rule is one new file with one ``Rule`` subclass.

>>> "loitering" in RULES and all(cls.type == name for name, cls in RULES.items())
True
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from storewatch.behaviour import rules as _package
from storewatch.behaviour.rules.base import Rule


def _discover() -> dict[str, type[Rule]]:
    found: dict[str, type[Rule]] = {}
    for info in pkgutil.iter_modules(_package.__path__):
        if info.name in ("base", "registry") or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{_package.__name__}.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Rule) and cls is not Rule and cls.__module__ == module.__name__:
                if cls.type in found:
                    raise RuntimeError(f"two rules raise {cls.type!r}: {found[cls.type].__name__}, {cls.__name__}")
                found[cls.type] = cls
    return dict(sorted(found.items()))


RULES: dict[str, type[Rule]] = _discover()
