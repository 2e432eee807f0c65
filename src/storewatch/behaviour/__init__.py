"""The behaviour engine: tracks become the moments a loss-prevention team cares about (zones, lines, rules)."""
