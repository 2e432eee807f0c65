"""``storewatch config check|schema``: validate site files."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Validate site configuration files.", no_args_is_help=True)


@app.command("check")
def check(
    file: Annotated[Path, typer.Argument(help="Site YAML file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the problems as JSON.")] = False,
) -> None:
    """Print every problem with its YAML line and key path; exit 1 if there are any."""
    from storewatch.config import SiteConfig, check_site_config

    issues = check_site_config(file)
    if as_json:
        print(json.dumps({"file": str(file), "ok": not issues, "issues": [asdict(i) for i in issues]}))
    elif issues:
        for issue in issues:
            typer.echo(issue.format())
        typer.echo(f"{file}: {len(issues)} problem(s)")
    else:
        import yaml

        site = SiteConfig.model_validate(yaml.safe_load(file.read_text(encoding="utf-8")))
        typer.echo(f"{file}: OK — {site.summary()}")
    if issues:
        raise typer.Exit(1)


@app.command("schema")
def schema() -> None:
    """Print the site file's JSON schema (for editors and documentation)."""
    from storewatch.config.schema import site_json_schema

    print(json.dumps(site_json_schema(), indent=2))
