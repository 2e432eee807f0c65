"""Site configuration: one YAML file per site, strictly validated, errors with YAML lines."""

from storewatch.config.loader import ConfigIssue, check_site_config, load_site_config
from storewatch.config.schema import Camera, Line, SiteConfig, Store, Zone, ZoneKind

__all__ = [
    "Camera", "ConfigIssue", "Line", "SiteConfig", "Store", "Zone", "ZoneKind", "check_site_config",
    "load_site_config",
]  # fmt: skip
