"""Hub and edge: what a store's edge sends its hub, and what the hub sends back.

Edge -> hub: ``envelope`` (``storewatch.sync/1``), the ``outbox`` in the edge's database (store-and-forward), the
``feed`` that fills it (stored events and camera health from the event writer, incidents that changed), the
``publisher`` that drains it through a transport: NATS JetStream (``jetstream``) or signed HTTPS batches
(``http``). Hub: the ``ingest``er that applies messages idempotently, its ``registry`` of stores, cameras and
configuration versions, and the JetStream consumer (``hub``). Hub -> edge: versioned ``live_config`` that an edge
applies without a restart and acknowledges. ``edge`` puts the edge's side together for ``storewatch edge``.
"""
