"""Alembic revisions, oldest first; each runs on SQLite (batch mode) and PostgreSQL."""
