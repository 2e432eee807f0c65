"""Alembic's script directory for the storewatch database (``env.py``, ``versions/``).

See ``storewatch.store.migrate``, which configures and runs Alembic in code.
"""
