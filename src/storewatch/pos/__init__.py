"""POS integration: till transactions from ARTS POSLog XML (2.x with NCR ACS extensions, 6.0), JSON and CSV into
one typed model (``model``), the transaction exception rules (``rules``, ``peers``) and the ones joined with the
till camera's recorded tracks (``video``), and ingest into the store (``service``; transports such as the drop
folder in ``watch`` stay thin). See docs/pos.md for the formats' mapping and the rules.

Parsers return a ``Transaction`` or a ``Quarantined`` per record and never raise for one bad record.
"""
