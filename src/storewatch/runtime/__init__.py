"""The live runtime: cameras captured in supervised threads, bounded queues, health, reconnects."""
