"""Incidents: alerts grouped into one case with a workflow and a timeline."""
