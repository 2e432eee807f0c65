"""The model cache's manifest: where each model came from, its hashes, and a fingerprint of its outputs.

The fingerprint is a handful of numbers per output (shape, sum, mean absolute value, and values at fixed
positions) recorded when the model was converted; ``models verify`` re-runs the model on the same input and
compares, so a file that loads but computes something else (a broken conversion, a damaged file, another runtime
behaving differently) is caught.

>>> fp = fingerprint(np.arange(12, dtype=np.float32).reshape(1, 3, 4))
>>> fp["shape"], fp["sum"], len(fp["samples"])
([1, 3, 4], 66.0, 12)
>>> compare_fingerprint(fp, fingerprint(np.arange(12, dtype=np.float32).reshape(1, 3, 4) + 1e-6))
(True, ...)
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from storewatch.errors import ModelError

MANIFEST_NAME = "manifest.json"
_SAMPLES = 16


@dataclass(frozen=True, slots=True)
class ModelRecord:
    name: str
    file: str
    sha256: str
    size_bytes: int
    source_sha256: dict[str, str]
    converter_version: str
    input_name: str
    input_shape: list[int]
    output_names: list[str]
    fingerprint: list[dict[str, Any]]
    converted_at: str
    licence: str
    source: str = ""
    """Where the file came from when not from the manifest's npm package (e.g. a PyPI wheel); empty for those."""


@dataclass(frozen=True, slots=True)
class Manifest:
    package: str
    package_version: str
    integrity: str
    models: dict[str, ModelRecord] = field(default_factory=dict)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fingerprint(output: NDArray[Any]) -> dict[str, Any]:
    flat = np.asarray(output, np.float64).reshape(-1)
    idx = np.linspace(0, flat.size - 1, num=min(_SAMPLES, flat.size)).astype(np.int64)
    return {
        "shape": list(np.shape(output)),
        "sum": float(flat.sum()),
        "mean_abs": float(np.abs(flat).mean()),
        "samples": [float(v) for v in flat[idx]],
    }


def compare_fingerprint(
    expected: dict[str, Any], actual: dict[str, Any], tolerance: float = 2e-3
) -> tuple[bool, float]:
    """(ok, largest deviation) between two fingerprints; sums are compared relative to their size."""
    if expected["shape"] != actual["shape"]:
        return False, float("inf")
    dev = max(abs(a - b) for a, b in zip(expected["samples"], actual["samples"], strict=True))
    dev = max(dev, abs(expected["mean_abs"] - actual["mean_abs"]))
    count = max(int(np.prod(expected["shape"])), 1)
    dev = max(dev, abs(expected["sum"] - actual["sum"]) / count)
    return dev <= tolerance, dev


def read_manifest(cache: Path) -> Manifest | None:
    """The cache's manifest, or None when there is none; a damaged one is an error naming the fix."""
    path = cache / MANIFEST_NAME
    if not path.exists():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        models = {k: ModelRecord(**v) for k, v in doc["models"].items()}
        return Manifest(doc["package"], doc["package_version"], doc["integrity"], models)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(
            f"{path}: the model manifest is damaged ({exc})", fix="storewatch models fetch --force"
        ) from exc


def write_manifest(cache: Path, manifest: Manifest) -> None:
    path = cache / MANIFEST_NAME
    tmp = path.with_suffix(".json.partial")
    tmp.write_text(json.dumps(asdict(manifest), indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
