"""Who hears about what: routes from events to channels and people, quiet hours, escalation, acknowledgement."""
