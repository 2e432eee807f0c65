"""Alert channel configuration: webhook, e-mail, ntfy and MQTT, one discriminated union by ``kind``.

Every channel has a ``name`` (used in the delivery log and dead-letter list), a ``min_severity`` below which it is
not sent, and a ``retry`` policy. A malformed channel is a clear error when the configuration is loaded, not when
the first alert fails: a webhook URL that is not http(s), an e-mail address that is not one, a password that would
cross the network unencrypted. Secrets are ``SecretStr``: they print as ``**********`` in repr, logs and errors.

>>> cfg = load_alerts_config({"channels": [
...     {"kind": "webhook", "name": "ops", "url": "https://hooks.example/alert", "secret": "s" * 32}]})
>>> cfg.channels[0]
WebhookChannel(name='ops', ...secret=SecretStr('**********')...)
>>> load_alerts_config({"channels": [{"kind": "webhook", "name": "ops", "url": "ftp://x", "secret": "s" * 32}]})
Traceback (most recent call last):
...
storewatch.errors.ConfigError: alerts: 1 problem(s)
  channels[0].url: must be an http:// or https:// URL with a host (got 'ftp://x')
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from storewatch.core.events import Severity
from storewatch.errors import ConfigError

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
_HOST = re.compile(r"^[A-Za-z0-9_.:\[\]-]{1,253}$")


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be an http:// or https:// URL with a host (got {value!r})")
    if parts.username or parts.password:
        raise ValueError("must not carry credentials; put them in the channel's secret/token instead")
    return value


def _email_address(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError(f"{value!r} is not an e-mail address (expected name@domain)")
    return value


def _long_secret(value: SecretStr) -> SecretStr:
    if len(value.get_secret_value()) < 16:
        raise ValueError("must be at least 16 characters; `openssl rand -hex 32` makes a good one")
    return value


def _host(value: str) -> str:
    if not _HOST.match(value):
        raise ValueError(f"{value!r} is not a host name or IP address")
    return value


HttpUrlStr = Annotated[str, AfterValidator(_http_url)]
EmailAddress = Annotated[str, AfterValidator(_email_address)]
Host = Annotated[str, AfterValidator(_host)]
Port = Annotated[int, Field(ge=1, le=65535)]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]


class RetryPolicy(BaseModel):
    """Exponential backoff with jitter between attempts; after ``max_attempts`` failures the delivery is dead.

    The default waits about 1, 2, 4, 8, 16, 30, 30, 30, 30 s: ten attempts spread over ~2.5 minutes (at least ~2
    with the jitter), so a receiver that is down for 30 s (a restart, a deploy) loses nothing.

    >>> RetryPolicy().nominal_delays_s()
    [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0, 30.0]
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_attempts: int = Field(10, ge=1, le=100, description="Attempts in all, the first included.")
    initial_delay_s: float = Field(1.0, gt=0, le=3600, description="Wait after the first failed attempt.")
    factor: float = Field(2.0, ge=1, le=10, description="Each wait is this many times the previous one...")
    max_delay_s: float = Field(30.0, gt=0, le=3600, description="...up to this.")
    jitter: float = Field(0.2, ge=0, lt=1, description="Each wait is scaled by a random factor in 1 +/- jitter.")

    @model_validator(mode="after")
    def _initial_within_max(self) -> Self:
        if self.initial_delay_s > self.max_delay_s:
            raise ValueError(f"initial_delay_s ({self.initial_delay_s}) must not exceed max_delay_s")
        return self

    def nominal_delay_s(self, failed_attempts: int) -> float:
        """The wait (without jitter) after the ``failed_attempts``-th failure (1 = after the first attempt)."""
        return min(self.initial_delay_s * self.factor ** (failed_attempts - 1), self.max_delay_s)

    def nominal_delays_s(self) -> list[float]:
        """Every wait of a delivery that fails each time: ``max_attempts - 1`` of them."""
        return [self.nominal_delay_s(n) for n in range(1, self.max_attempts)]

    def min_span_s(self) -> float:
        """The shortest time from the first to the last attempt, with the jitter at its lowest."""
        return sum(self.nominal_delays_s()) * (1 - self.jitter)


class _Channel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Slug = Field(description="Unique channel name, used in the delivery log and dead letters.")
    min_severity: Severity = Field(Severity.INFO, description="Alerts below this severity are not sent here.")
    retry: RetryPolicy = Field(default_factory=RetryPolicy, description="Retries of a failed delivery.")
    timeout_s: float = Field(10.0, gt=0, le=120, description="Network timeout of one attempt.")


class WebhookChannel(_Channel):
    """POST the alert JSON, HMAC-SHA256 signed with ``secret``."""

    kind: Literal["webhook"] = "webhook"
    url: HttpUrlStr = Field(description="Receiver URL (http or https).")
    secret: Annotated[SecretStr, AfterValidator(_long_secret)] = Field(description="Shared HMAC key, 16+ characters.")


class EmailChannel(_Channel):
    """SMTP submission, STARTTLS and login when configured; the snapshot attached."""

    kind: Literal["email"] = "email"
    host: Host
    port: Port = 587
    starttls: bool = Field(True, description="Upgrade the connection with STARTTLS before anything else.")
    ca_file: Path | None = Field(None, description="CA certificate(s) to trust instead of the system's.")
    username: str | None = Field(None, min_length=1)
    password: SecretStr | None = None
    from_addr: EmailAddress
    to: list[EmailAddress] = Field(min_length=1, max_length=100)

    @model_validator(mode="after")
    def _login_pair(self) -> Self:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together: give both or neither")
        return self

    @model_validator(mode="after")
    def _no_cleartext_password(self) -> Self:
        if self.password is not None and not self.starttls:
            raise ValueError("a password needs starttls: true (it would cross the network unencrypted)")
        return self


def _default_priorities() -> dict[Severity, int]:
    return {Severity.INFO: 2, Severity.LOW: 2, Severity.MEDIUM: 3, Severity.HIGH: 4, Severity.CRITICAL: 5}


class NtfyChannel(_Channel):
    """Push to phones through an ntfy-compatible server: POST ``url/topic``."""

    kind: Literal["ntfy"] = "ntfy"
    url: HttpUrlStr = Field("https://ntfy.sh", description="Server base URL.")
    topic: str = Field(pattern=r"^[-_A-Za-z0-9]{1,64}$", description="Topic the phones subscribe to.")
    token: SecretStr | None = Field(None, description="Access token, sent as Bearer.")
    priority: dict[Severity, Annotated[int, Field(ge=1, le=5)]] = Field(
        default_factory=_default_priorities, description="ntfy priority (1 min .. 5 max) per severity."
    )

    @model_validator(mode="after")
    def _every_severity_mapped(self) -> Self:
        self.priority.update({s: p for s, p in _default_priorities().items() if s not in self.priority})
        return self


class MqttChannel(_Channel):
    """Publish to an MQTT broker, with Home Assistant discovery."""

    kind: Literal["mqtt"] = "mqtt"
    host: Host
    port: Port = 1883
    username: str | None = Field(None, min_length=1)
    password: SecretStr | None = None
    tls: bool = False
    ca_file: Path | None = Field(None, description="CA certificate(s) to trust instead of the system's (tls).")
    client_id: str | None = Field(None, max_length=64, description="MQTT client id; random when not given.")
    topic_prefix: str = Field("storewatch", pattern=r"^[^#+\s]+$", description="Alerts go to prefix/store/camera/type.")
    discovery: bool = Field(True, description="Publish Home Assistant discovery configs.")
    discovery_prefix: str = Field("homeassistant", pattern=r"^[^#+\s]+$")
    keepalive_s: int = Field(60, ge=5, le=3600)

    @model_validator(mode="after")
    def _password_needs_username(self) -> Self:
        if self.password is not None and self.username is None:
            raise ValueError("a password needs a username")
        return self


ChannelConfig = Annotated[WebhookChannel | EmailChannel | NtfyChannel | MqttChannel, Field(discriminator="kind")]


class AlertsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    channels: list[ChannelConfig] = Field(default_factory=list, max_length=64)

    @model_validator(mode="after")
    def _unique_names(self) -> Self:
        names = [c.name for c in self.channels]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"channel names must be unique; repeated: {', '.join(dupes)}")
        return self


def load_alerts_config(data: Mapping[str, Any], source: str = "alerts") -> AlertsConfig:
    """The validated alert configuration; ``ConfigError`` naming every problem (key path and message) otherwise."""
    try:
        return AlertsConfig.model_validate(data)
    except ValidationError as exc:
        lines = [f"  {_key_path(err['loc'])}: {_message(err)}" for err in exc.errors()]
        raise ConfigError(f"{source}: {len(lines)} problem(s)\n" + "\n".join(lines)) from None


def _key_path(loc: tuple[int | str, ...]) -> str:
    # pydantic puts the union's tag (webhook, email...) into the location; people wrote no such key.
    out = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
        elif not (i > 0 and isinstance(loc[i - 1], int) and part in ("webhook", "email", "ntfy", "mqtt")):
            out += f".{part}" if out else part
    return out or "(top level)"


def _message(err: Any) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown key"
    msg = str(err["msg"])
    return msg.removeprefix("Value error, ")
