"""Alembic's environment script. Alembic executes this file; the work is in ``storewatch.store.migrate``.

Importing it outside an Alembic command (doctest collection, tools) does nothing: Alembic's ``context.config``
exists only while a command runs.
"""

from __future__ import annotations

from alembic import context

from storewatch.store.migrate import run_environment

if getattr(context, "config", None) is not None:
    run_environment(context.config)
