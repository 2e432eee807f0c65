"""What the web application is given: where the site's data is, which site it is, and a few knobs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from storewatch.config.schema import SiteConfig
from storewatch.media.config import S3Media


class WebSettings(BaseModel):
    """Settings of one web application (one site). Paths are derived from ``data_dir``, never stored twice.

    >>> s = WebSettings(data_dir=Path("/srv/sw"))
    >>> str(s.media_dir), str(s.secret_path)
    ('/srv/sw/media', '/srv/sw/secrets/web.key')
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    data_dir: Path = Field(description="The data folder of `storewatch run`: database, media/, secrets/.")
    database_url: str | None = Field(
        None, description="Database URL (PostgreSQL for a hub); default: the SQLite file in the data folder."
    )
    site: SiteConfig | None = Field(
        None,
        description="The site file: store names, time zones and cameras. Without it the stores and cameras are "
        "those the stored events name, shown in `timezone`.",
    )
    timezone: str | None = Field(
        None, description="IANA time zone for stores the site file does not name; None: the server's local zone."
    )
    site_path: Path | None = Field(
        None,
        description="The site file itself, for the zone and rules editors to save to (None: they only show).",
    )
    hub: bool = Field(
        False,
        description="Serve a hub's database (`storewatch hub`): stores and cameras from its registry, its "
        "configuration versions and sync streams; evidence files stay at the stores.",
    )
    nats_url: str | None = Field(
        None,
        description="At a hub: the NATS the stores' edges connect to, to fetch clips and full snapshots from them "
        "when opened, and to send acknowledgements to the store.",
    )
    media_bucket: S3Media | None = Field(
        None, description="At a hub: the bucket the stores archive evidence to (runtime.media kind s3), read first."
    )
    session_ttl_s: float = Field(12 * 3600.0, ge=60.0, le=30 * 24 * 3600.0, description="How long a login lasts.")
    secure_cookies: bool = Field(False, description="Send the session cookie over HTTPS only (behind TLS).")
    max_body_bytes: int = Field(
        2 * 1024 * 1024,
        ge=1024,
        le=1024 * 1024 * 1024,
        description="Largest request body accepted (forms, JSON); a larger one is answered 413.",
    )
    poll_interval_s: float = Field(
        1.0, gt=0.0, le=60.0, description="How often the live feed looks for new and changed events and alerts."
    )
    heartbeat_s: float = Field(15.0, gt=0.0, le=300.0, description="Comment line sent on a quiet live stream.")

    @property
    def media_dir(self) -> Path:
        """Only files under this folder are ever served."""
        return self.data_dir / "media"

    @property
    def secret_path(self) -> Path:
        """The key that signs session cookies (made on first use, owner-only)."""
        return self.data_dir / "secrets" / "web.key"


def effective_settings(
    settings: WebSettings, database_backend: str, allows: Callable[[str], bool] = lambda store: True
) -> list[tuple[str, str]]:
    """What the settings page shows of the site's configuration: labels and values, nothing secret (no database
    URL with its password, no keys), and of the stores only those ``allows`` (the reader's).

    >>> dict(effective_settings(WebSettings(data_dir=Path("/srv/sw")), "sqlite"))["Database"]
    'sqlite'
    """
    site = settings.site
    rows = [
        ("Data folder", str(settings.data_dir)),
        ("Database", database_backend),
        ("Evidence files", str(settings.media_dir)),
        ("Mode", "hub (many stores' data)" if settings.hub else "site"),
        ("Site file", str(settings.site_path) if settings.site_path else "none (editors only show)"),
        ("Session length", f"{settings.session_ttl_s / 3600:g} h"),
        ("Cookies", "HTTPS only" if settings.secure_cookies else "HTTP and HTTPS"),
    ]
    if site is not None:
        rows.append(("Face blurring", "on" if site.privacy.enabled else "off"))
        stores = [s for s in site.stores if allows(s.id)]
        rows.append(("Stores", ", ".join(s.name or s.id for s in stores)))
        for store in stores:
            for camera in store.cameras:
                if camera.record.enabled:
                    kept = camera.record.retention.model_dump(exclude_none=True)
                    text = ", ".join(f"{k.replace('_', ' ')} {v:g}" for k, v in kept.items())
                    rows.append((f"Recording retention: {store.id}/{camera.id}", text))
    return rows
