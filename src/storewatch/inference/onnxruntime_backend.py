"""onnxruntime on the CPU: the default engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from storewatch.errors import ModelError, StorewatchError


class OnnxRuntimeBackend:
    name = "onnxruntime"

    def __init__(self, path: Path, threads: int) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:  # pragma: no cover - install problem
            raise StorewatchError("onnxruntime is not installed", fix="make setup") from exc
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        try:
            self._session: Any = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types for bad files
            raise ModelError(
                f"{path}: cannot be loaded by onnxruntime ({exc})", fix="storewatch models fetch --force"
            ) from exc
        self.input_name: str = self._session.get_inputs()[0].name
        self.output_names: tuple[str, ...] = tuple(o.name for o in self._session.get_outputs())

    def run(self, tensor: NDArray[np.float32]) -> list[NDArray[np.float32]]:
        outs: list[NDArray[np.float32]] = self._session.run(list(self.output_names), {self.input_name: tensor})
        return outs
