"""The audit log: who viewed, searched, exported or changed what, when; append-only and tamper-evident.

``chain`` holds the row, its canonical encoding and the hash chain check (no database); the rows live in the
``audit_log`` table (``store.audit``), written through ``AuditLog``, one writer at a time so the chain never
forks. ``storewatch audit verify|list|export`` and the dashboard's ``/audit`` page read it.
"""

from storewatch.audit.chain import (
    GENESIS,
    ActorKind,
    AuditAction,
    AuditEntry,
    AuditRecord,
    ChainProblem,
    ChainReport,
    check_chain,
)

__all__ = [
    "GENESIS",
    "ActorKind",
    "AuditAction",
    "AuditEntry",
    "AuditRecord",
    "ChainProblem",
    "ChainReport",
    "check_chain",
]
