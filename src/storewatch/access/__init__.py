"""Door access: badge and door-state events from the access-control system (JSON, JSON Lines, CSV) parsed with
quarantine (``events``), and the rules that join them with the store's schedule and the door cameras' recorded
tracks (``rules``): tailgating, restricted-zone entry with no badge, after-hours badge use, forced door. See
docs/access.md.
"""
