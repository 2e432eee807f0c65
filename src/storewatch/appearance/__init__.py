"""Appearance descriptors of tracked people, for keeping identities apart when they cross or hide."""
