"""Storage tests: every database test runs on SQLite and on a real PostgreSQL (pgserver)."""
