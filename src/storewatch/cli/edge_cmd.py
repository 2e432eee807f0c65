"""``storewatch edge SITE.yaml --hub URL``: ``storewatch run`` for one store, synced with a hub."""

from __future__ import annotations

from typing import Annotated

import typer

from storewatch.cli.options import BackendOpt, DataDirOpt, RunSecondsOpt, SiteArg, StatusPortOpt, ThreadsOpt


def register(app: typer.Typer) -> None:
    app.command("edge")(edge)


def edge(
    config: SiteArg,
    hub: Annotated[
        str,
        typer.Option(
            help="The hub: nats://host:4222 (NATS JetStream) or https://hub/api/v1/sync (signed HTTPS; "
            "secret in $STOREWATCH_SYNC_SECRET)."
        ),
    ],
    store: Annotated[
        str | None, typer.Option(help="The store this edge runs (needed when the site file has several).")
    ] = None,
    data_dir: DataDirOpt = None,
    status_port: StatusPortOpt = None,
    seconds: RunSecondsOpt = None,
    backend: BackendOpt = None,
    threads: ThreadsOpt = None,
) -> None:
    """Run a store's cameras, rules, database and media here, as `storewatch run` does, and keep its hub in step:
    events, camera health, incidents and configuration acknowledgements go to the hub through an outbox in the
    local database (nothing is lost while the hub is away; the store keeps working), and configuration versions
    pushed by the hub are applied without a restart."""
    from storewatch.cli.run_cmd import run_site
    from storewatch.sync.edge import EdgeSync

    run_site(config, data_dir=data_dir, status_port=status_port, seconds=seconds, backend=backend, threads=threads,
             hooks=EdgeSync(hub, store=store), name="edge")  # fmt: skip
