"""Transports shared by the integrations (POS, door access): a watched drop folder and supervised ingest workers
that the runner starts for each configured source."""
