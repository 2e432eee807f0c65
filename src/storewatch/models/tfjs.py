"""Reading TensorFlow.js graph models (``model.json`` plus binary weight shards) without TensorFlow.

The format: ``modelTopology.node`` is a TensorFlow GraphDef in JSON (name, op, inputs, attributes);
``weightsManifest`` lists groups of shard files whose concatenated bytes hold the weights in order, each with a
name, shape, dtype and optional quantisation (``float16``, or ``uint8``/``uint16`` with scale and minimum).
TensorFlow.js stores int64 tensors as int32; ``Const`` nodes declared ``DT_INT64`` are widened back.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from storewatch.errors import ModelError

_DTYPES: dict[str, Any] = {"float32": np.float32, "int32": np.int32, "bool": np.bool_, "uint8": np.uint8}
_QUANT: dict[str, Any] = {"float16": np.float16, "uint8": np.uint8, "uint16": np.uint16}


@dataclass(frozen=True, slots=True)
class TfNode:
    name: str
    op: str
    inputs: tuple[str, ...]
    attr: dict[str, Any] = field(default_factory=dict)

    def attr_int_list(self, key: str) -> list[int]:
        return [int(v) for v in self.attr.get(key, {}).get("list", {}).get("i", [])]

    def attr_str(self, key: str, default: str = "") -> str:
        raw = self.attr.get(key, {}).get("s")
        return base64.b64decode(raw).decode() if raw else default

    def attr_float(self, key: str, default: float) -> float:
        return float(self.attr.get(key, {}).get("f", default))

    def attr_bool(self, key: str, default: bool = False) -> bool:
        return bool(self.attr.get(key, {}).get("b", default))

    def declared_dtype(self) -> str:
        return str(self.attr.get("dtype", {}).get("type", ""))


@dataclass(frozen=True, slots=True)
class TfjsGraph:
    nodes: tuple[TfNode, ...]
    weights: dict[str, NDArray[Any]]
    input_shapes: dict[str, tuple[int, ...]]
    """Static shapes of the graph's placeholders."""


def _decode_weights(manifest: list[dict[str, Any]], folder: Path) -> dict[str, NDArray[Any]]:
    weights: dict[str, NDArray[Any]] = {}
    for group in manifest:
        try:
            data = b"".join((folder / p).read_bytes() for p in group["paths"])
        except OSError as exc:
            raise ModelError(f"{folder}: weight shard missing or unreadable ({exc})") from exc
        offset = 0
        for spec in group["weights"]:
            shape = tuple(int(s) for s in spec["shape"])
            count = int(np.prod(shape)) if shape else 1
            quant = spec.get("quantization")
            stored = _QUANT[quant["dtype"]] if quant else _DTYPES[spec["dtype"]]
            size = count * np.dtype(stored).itemsize
            if offset + size > len(data):
                raise ModelError(f"{folder}: weight data ends before tensor {spec['name']!r} (corrupt .bin file)")
            arr = np.frombuffer(data, stored, count, offset).reshape(shape)
            offset += size
            if quant and quant["dtype"] != "float16":
                arr = arr.astype(np.float32) * float(quant["scale"]) + float(quant["min"])
            weights[spec["name"]] = arr.astype(_DTYPES[spec["dtype"]])
        if offset != len(data):
            raise ModelError(f"{folder}: {len(data) - offset} bytes of weight data left over (corrupt .bin file)")
    return weights


def load_tfjs(model_json: Path) -> TfjsGraph:
    """Parse ``model.json`` and its shards (found beside it)."""
    try:
        doc = json.loads(model_json.read_text(encoding="utf-8"))
        raw_nodes = doc["modelTopology"]["node"]
        manifest = doc["weightsManifest"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"{model_json}: not a TensorFlow.js graph model ({exc})") from exc
    weights = _decode_weights(manifest, model_json.parent)
    nodes = []
    shapes: dict[str, tuple[int, ...]] = {}
    for n in raw_nodes:
        node = TfNode(
            n["name"], n["op"], tuple(i for i in n.get("input", []) if not i.startswith("^")), n.get("attr", {})
        )
        nodes.append(node)
        if node.op == "Placeholder":
            dims = node.attr.get("shape", {}).get("shape", {}).get("dim", [])
            shapes[node.name] = tuple(int(d.get("size", -1)) for d in dims)
        if node.op == "Const" and node.name in weights and node.declared_dtype() == "DT_INT64":
            weights[node.name] = weights[node.name].astype(np.int64)
    return TfjsGraph(tuple(nodes), weights, shapes)
