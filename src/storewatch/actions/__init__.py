"""Automatic response: deterrent actions fired by events (issue: "actions triggered by rules").

``config`` (the site file's ``actions:`` list, one model per kind: ``http``, ``mqtt``, ``audio``, ``pvm``),
``executor`` (one executor per action: ``http``, ``mqtt``, ``audio``, ``pvm`` modules) and ``service`` (the bus
subscriber that applies ``when``, schedule and cool-down, runs the actions on a small worker pool and writes every
outcome, done, failed or skipped, to the action log, ``storewatch.store.actions``).

This package's top level imports nothing on purpose: ``storewatch.config.schema`` imports ``actions.config``, and
the service needs the schema.
"""
