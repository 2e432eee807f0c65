"""The ``storewatch`` command: one composition root that wires sub-commands; no work at import time."""

from __future__ import annotations

import sys

import typer

from storewatch.errors import StorewatchError

app = typer.Typer(
    name="storewatch",
    help="Camera-agnostic AI video analytics for retail loss prevention.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from storewatch import __version__

        typer.echo(f"storewatch {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", help="Print the version and exit.", callback=_version),
) -> None:
    """Camera-agnostic AI video analytics for retail loss prevention."""


def _register() -> None:
    # Sub-command modules are imported here (not at module level of their packages) so that `storewatch --help`
    # stays fast and a missing optional dependency breaks only its own command.
    from storewatch.cli import (
        access_cmd,
        alerts_cmd,
        audit_cmd,
        backtest_cmd,
        bench_cmd,
        cameras_cmd,
        config_cmd,
        demo_cmd,
        doors_cmd,
        edge_cmd,
        hub_cmd,
        incidents_cmd,
        inventory_cmd,
        models_cmd,
        pos_cmd,
        privacy_cmd,
        replay_cmd,
        retention_cmd,
        run_cmd,
        serve_cmd,
        status_cmd,
        track_cmd,
    )

    app.add_typer(models_cmd.app, name="models")
    app.add_typer(config_cmd.app, name="config")
    app.add_typer(bench_cmd.app, name="bench")
    app.add_typer(cameras_cmd.app, name="cameras")
    app.add_typer(incidents_cmd.app, name="incidents")
    app.add_typer(alerts_cmd.app, name="alerts")
    app.add_typer(hub_cmd.app, name="hub")
    app.add_typer(pos_cmd.app, name="pos")
    app.add_typer(audit_cmd.app, name="audit")
    app.add_typer(retention_cmd.app, name="retention")
    app.add_typer(privacy_cmd.app, name="privacy")
    app.add_typer(access_cmd.users_app, name="users")
    app.add_typer(access_cmd.tokens_app, name="tokens")
    app.add_typer(doors_cmd.app, name="access")
    app.add_typer(inventory_cmd.app, name="inventory")
    track_cmd.register(app)
    run_cmd.register(app)
    edge_cmd.register(app)
    replay_cmd.register(app)
    backtest_cmd.register(app)
    status_cmd.register(app)
    serve_cmd.register(app)
    demo_cmd.register(app)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; prints ``StorewatchError`` as a message and returns status 2.

    Usage errors (unknown option, bad value) are reported by typer itself with status 2.
    """
    _register()
    try:
        app(args=argv, prog_name="storewatch")
    except StorewatchError as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        return 2
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
