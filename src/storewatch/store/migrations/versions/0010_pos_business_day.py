"""POS transactions keyed by their business day too: unique (store, register, business_day, sequence), id
``store/register/business_day/sequence``. Many POS systems number each register's transactions afresh every day;
keyed by the sequence alone, today's #42 replaced yesterday's. Existing rows keep their data: their ids (and the
ids of their exceptions, which gain a ``business_day`` column) are rewritten with the day they were stored with.

Downgrade refuses when two stored transactions differ only by their day (it would have to drop one).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_UQ = "uq_pos_transactions_store_register_sequence"
NEW_UQ = "uq_pos_transactions_store_register_business_day_sequence"
CHUNK = 1000

transactions = sa.table(
    "pos_transactions",
    sa.column("id", sa.String()),
    sa.column("store", sa.String()),
    sa.column("register", sa.String()),
    sa.column("business_day", sa.Date()),
    sa.column("sequence", sa.BigInteger()),
)
exceptions = sa.table(
    "pos_exceptions",
    sa.column("id", sa.String()),
    sa.column("code", sa.String()),
    sa.column("store", sa.String()),
    sa.column("register", sa.String()),
    sa.column("sequence", sa.BigInteger()),
    sa.column("business_day", sa.Date()),
)


def _key(store: str, register: str, day: date | None, sequence: int) -> str:
    return f"{store}/{register}/{day.isoformat()}/{sequence}" if day else f"{store}/{register}/{sequence}"


def _rewrite(updates: list[dict[str, object]], table: sa.TableClause, *values: str) -> None:
    """``UPDATE table SET id = :new_id (, values) WHERE id = :old_id`` for each, in chunks."""
    stmt = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("old_id"))
        .values(id=sa.bindparam("new_id"), **{v: sa.bindparam(f"new_{v}") for v in values})
    )
    for i in range(0, len(updates), CHUNK):
        op.get_bind().execute(stmt, updates[i : i + CHUNK])


def _day_of_transactions() -> dict[tuple[str, str, int], date]:
    """Each stored transaction's business day by (store, register, sequence) (unique before this revision)."""
    rows = op.get_bind().execute(
        sa.select(transactions.c.store, transactions.c.register, transactions.c.sequence, transactions.c.business_day)
    )
    return {(s, r, int(n)): d for s, r, n, d in rows}


def upgrade() -> None:
    conn = op.get_bind()
    with op.batch_alter_table("pos_exceptions") as batch:
        batch.add_column(sa.Column("business_day", sa.Date(), nullable=True))
    # Ingest always wrote business_day (the POS's, else the UTC date of end_utc); a NULL from elsewhere takes
    # that date too, so it fits the new key.
    for row_id, end in conn.execute(sa.text("SELECT id, end_utc FROM pos_transactions WHERE business_day IS NULL")):
        day = end.astimezone(UTC).date() if isinstance(end, datetime) else date.fromisoformat(str(end)[:10])
        conn.execute(sa.update(transactions).where(transactions.c.id == row_id).values(business_day=day))
    days = _day_of_transactions()
    _rewrite(
        [{"old_id": _key(s, r, None, n), "new_id": _key(s, r, d, n)} for (s, r, n), d in days.items()],
        transactions,
    )
    found = conn.execute(
        sa.select(exceptions.c.id, exceptions.c.code, exceptions.c.store, exceptions.c.register, exceptions.c.sequence)
        .where(exceptions.c.sequence.is_not(None))
    ).all()  # fmt: skip
    updates: list[dict[str, object]] = []
    for ident, code, store, register, sequence in found:
        known = days.get((store, register or "", int(sequence)))
        if known is not None:
            new_id = f"{code}:{_key(store, register, known, int(sequence))}"
            updates.append({"old_id": ident, "new_id": new_id, "new_business_day": known})
    _rewrite(updates, exceptions, "business_day")
    with op.batch_alter_table("pos_transactions") as batch:
        batch.drop_constraint(OLD_UQ, type_="unique")
        batch.alter_column("business_day", existing_type=sa.Date(), nullable=False)
        batch.create_unique_constraint(NEW_UQ, ["store", "register", "business_day", "sequence"])


def downgrade() -> None:
    conn = op.get_bind()
    t = transactions.c
    clashes = conn.execute(
        sa.select(t.store, t.register, t.sequence)
        .group_by(t.store, t.register, t.sequence)
        .having(sa.func.count() > 1)
        .limit(3)
    ).all()
    if clashes:
        named = ", ".join(f"{s}/{r}/{n}" for s, r, n in clashes)
        raise RuntimeError(
            f"cannot go below 0010: transactions with the same store, register and sequence on different business "
            f"days (e.g. {named}) would collide; export and remove the older ones first"
        )
    days = _day_of_transactions()
    _rewrite(
        [{"old_id": _key(s, r, d, n), "new_id": _key(s, r, None, n)} for (s, r, n), d in days.items()], transactions
    )
    found = conn.execute(
        sa.select(exceptions.c.id, exceptions.c.code, exceptions.c.store, exceptions.c.register, exceptions.c.sequence)
        .where(exceptions.c.sequence.is_not(None), exceptions.c.business_day.is_not(None))
    ).all()  # fmt: skip
    _rewrite([{"old_id": i, "new_id": f"{c}:{_key(s, r, None, int(n))}"} for i, c, s, r, n in found], exceptions)
    with op.batch_alter_table("pos_transactions") as batch:
        batch.drop_constraint(NEW_UQ, type_="unique")
        batch.alter_column("business_day", existing_type=sa.Date(), nullable=True)
        batch.create_unique_constraint(OLD_UQ, ["store", "register", "sequence"])
    with op.batch_alter_table("pos_exceptions") as batch:
        batch.drop_column("business_day")
