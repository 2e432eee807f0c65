"""Checking cached models: file hashes against the manifest, outputs against the conversion-time fingerprint."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from storewatch.detect.config import BackendKind
from storewatch.errors import ModelError, StorewatchError
from storewatch.models.fetch import reference_input
from storewatch.models.manifest import compare_fingerprint, fingerprint, read_manifest, sha256_file
from storewatch.models.registry import FETCH_COMMAND, model_cache_dir


@dataclass(frozen=True, slots=True)
class VerifyResult:
    name: str
    ok: bool
    max_deviation: float
    message: str


def verify_models(
    backend: BackendKind = BackendKind.ONNXRUNTIME, cache: Path | None = None, names: list[str] | None = None
) -> list[VerifyResult]:
    """One result per cached model (all of them unless ``names`` is given)."""
    from storewatch.inference.backend import open_backend

    cache = cache or model_cache_dir()
    manifest = read_manifest(cache)
    if manifest is None or not manifest.models:
        raise ModelError(f"the model cache at {cache} is empty", fix=FETCH_COMMAND)
    results = []
    for name, rec in sorted(manifest.models.items()):
        if names and name not in names:
            continue
        path = cache / rec.file
        if not path.is_file():
            results.append(VerifyResult(name, False, float("inf"), f"{path} is missing; run `{FETCH_COMMAND}`"))
            continue
        if sha256_file(path) != rec.sha256:
            msg = f"{path} does not match its recorded sha256 (corrupt); run `{FETCH_COMMAND} --force`"
            results.append(VerifyResult(name, False, float("inf"), msg))
            continue
        try:
            outputs = open_backend(path, backend, threads=2).run(reference_input(tuple(rec.input_shape)))
        except StorewatchError as exc:
            results.append(VerifyResult(name, False, float("inf"), str(exc)))
            continue
        worst, ok = 0.0, True
        for out, expected in zip(outputs, rec.fingerprint, strict=True):
            good, dev = compare_fingerprint(expected, fingerprint(out))
            ok, worst = ok and good, max(worst, dev)
        msg = (
            f"outputs match the conversion (max deviation {worst:.2e})"
            if ok
            else (f"outputs differ from the conversion (max deviation {worst:.2e}); run `{FETCH_COMMAND} --force`")
        )
        results.append(VerifyResult(name, ok, worst, msg))
    return results
