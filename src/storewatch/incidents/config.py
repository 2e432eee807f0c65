"""Settings of automatic incidents (the site file's ``incidents:`` section)."""

from __future__ import annotations

from fnmatch import fnmatchcase

from pydantic import BaseModel, ConfigDict, Field

from storewatch.core.events import Event, Severity

_RANK = {s: i for i, s in enumerate(Severity)}


class IncidentsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(True, description="Open incidents from events automatically.")
    min_severity: Severity = Field(Severity.MEDIUM, description="Events below this severity open no incident.")
    exclude: list[str] = Field(
        default_factory=lambda: ["camera.*", "alert_*"],
        description="Event types (shell patterns) that never open an incident: health and bookkeeping events.",
    )
    window_s: float = Field(
        120.0, ge=0, le=24 * 3600, description="An event in the same zone within this many seconds joins the case."
    )

    def wants(self, event: Event) -> bool:
        """Whether ``event`` belongs in an incident."""
        return (
            self.enabled
            and _RANK[event.severity] >= _RANK[self.min_severity]
            and not any(fnmatchcase(event.type, p) for p in self.exclude)
        )
