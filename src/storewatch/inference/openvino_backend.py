"""OpenVINO on the CPU. The model's input size is dynamic; a compiled model is kept per input shape seen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from storewatch.errors import ModelError, StorewatchError


class OpenVinoBackend:
    name = "openvino"

    def __init__(self, path: Path, threads: int) -> None:
        try:
            import openvino as ov
        except ImportError as exc:  # pragma: no cover - install problem
            raise StorewatchError("openvino is not installed", fix="make setup") from exc
        self._core: Any = ov.Core()
        try:
            self._model: Any = self._core.read_model(str(path))
        except Exception as exc:  # OpenVINO raises RuntimeError subclasses for bad files
            raise ModelError(
                f"{path}: cannot be loaded by OpenVINO ({exc})", fix="storewatch models fetch --force"
            ) from exc
        self._config = {
            "INFERENCE_NUM_THREADS": threads,
            "PERFORMANCE_HINT": "LATENCY",
            "NUM_STREAMS": 1,
        }
        self.input_name: str = self._model.inputs[0].get_any_name()
        self.output_names: tuple[str, ...] = tuple(o.get_any_name() for o in self._model.outputs)
        self._compiled: dict[tuple[int, ...], Any] = {}

    def _request(self, shape: tuple[int, ...]) -> Any:
        request = self._compiled.get(shape)
        if request is None:
            model = self._model.clone()
            model.reshape({self.input_name: list(shape)})
            compiled = self._core.compile_model(model, "CPU", self._config)
            request = compiled.create_infer_request()
            if len(self._compiled) >= 8:  # a camera's frame size rarely changes; keep memory bounded
                self._compiled.clear()
            self._compiled[shape] = request
        return request

    def run(self, tensor: NDArray[np.float32]) -> list[NDArray[np.float32]]:
        request = self._request(tuple(tensor.shape))
        request.infer({self.input_name: tensor})
        return [np.asarray(request.get_output_tensor(i).data).copy() for i in range(len(self.output_names))]
