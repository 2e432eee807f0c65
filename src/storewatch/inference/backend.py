"""The inference backend interface: one model, one tensor in, its outputs out.

Two engines run ONNX here: onnxruntime (default) and OpenVINO (about 10-15% faster on Intel CPUs). Stages depend
on this protocol only, so an engine is a configuration choice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from storewatch.detect.config import BackendKind
from storewatch.errors import ModelError, StorewatchError


class InferenceBackend(Protocol):
    name: str
    input_name: str
    output_names: tuple[str, ...]

    def run(self, tensor: NDArray[np.float32]) -> list[NDArray[np.float32]]:
        """Outputs for one input tensor, in ``output_names`` order."""
        ...


def open_backend(path: Path, kind: BackendKind = BackendKind.ONNXRUNTIME, threads: int = 2) -> InferenceBackend:
    """Load the ONNX model at ``path`` on the chosen engine with ``threads`` compute threads."""
    if not path.is_file():
        raise ModelError(f"model file {path} does not exist", fix="storewatch models fetch")
    if threads < 1:
        raise StorewatchError(f"threads must be >= 1, got {threads}")
    if kind == BackendKind.ONNXRUNTIME:
        from storewatch.inference.onnxruntime_backend import OnnxRuntimeBackend

        return OnnxRuntimeBackend(path, threads)
    if kind == BackendKind.OPENVINO:
        from storewatch.inference.openvino_backend import OpenVinoBackend

        return OpenVinoBackend(path, threads)
    raise StorewatchError(f"unknown inference backend {kind!r} (choose onnxruntime or openvino)")
