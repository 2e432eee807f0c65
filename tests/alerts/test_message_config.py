"""The alert payload (stable, versioned) and channel configuration errors at load time."""

from __future__ import annotations

import json
from typing import Any

import pytest

from storewatch.alerts import SCHEMA, AlertsConfig, RetryPolicy, load_alerts_config
from storewatch.core.events import EventState, Severity
from storewatch.errors import ConfigError
from tests.alerts.conftest import make_event, make_message

PAYLOAD_KEYS_V1 = {
    "schema", "event_id", "type", "state", "severity", "store", "camera", "zone", "track_ids", "start_utc",
    "end_utc", "duration_s", "title", "text", "explanation", "values", "links",
}  # fmt: skip
SECRET = "do-not-leak-this-secret-1234"


def test_payload_is_versioned_and_stable() -> None:
    msg = make_message(make_event(track_ids=("store-1/door/7",)))
    payload = json.loads(msg.to_json())
    assert payload["schema"] == SCHEMA == "storewatch.alert/1"
    assert set(payload) == PAYLOAD_KEYS_V1  # adding a key is fine within v1: extend this set; removing is not
    assert payload["camera"] == "store-1/door" and payload["store"] == "store-1" and payload["zone"] == "exit"
    assert payload["start_utc"] == "2026-03-01T14:05:09Z" and payload["severity"] == "high"
    assert payload["links"] == {
        "snapshot": "https://sw.example/s/ev-1.jpg?sig=abc&exp=1",
        "clip": "https://sw.example/c/ev-1.mp4?sig=def&exp=1",
        "ack": "https://sw.example/ack/ev-1?sig=ghi",
    }
    assert msg.to_json() == make_message(make_event(track_ids=("store-1/door/7",))).to_json()


def test_title_and_text() -> None:
    started = make_message()
    assert started.title == "HIGH: Camera tampering blocked at store-1/door"
    assert started.text == (
        "view blocked: 92% of the image changed for 5 s (store-1/door zone exit, 2026-03-01 14:05:09 UTC)"
    )
    ended = make_message(make_event(state=EventState.ENDED))
    assert ended.title.endswith("(ended)") and "14:06:00 UTC" in ended.text and ended.duration_s == 51.0


def test_snapshot_path_is_kept_but_not_published() -> None:
    msg = make_message(make_event(evidence={"snapshot": "/var/lib/storewatch/ev-1.jpg"}))
    assert msg.snapshot_path == "/var/lib/storewatch/ev-1.jpg"
    assert b"/var/lib" not in msg.to_json()


def _webhook(**over: Any) -> dict[str, Any]:
    return {"kind": "webhook", "name": "ops", "url": "https://hooks.example/a", "secret": SECRET, **over}


def _email(**over: Any) -> dict[str, Any]:
    base = {"kind": "email", "name": "mail", "host": "smtp.example", "from_addr": "cam@example.com"}
    return {**base, "to": ["ops@example.com"], **over}


BAD_CONFIGS = [
    ([_webhook(url="ftp://hooks.example/a")], "channels[0].url: must be an http:// or https:// URL"),
    ([_webhook(url="hooks.example/a")], "channels[0].url: must be an http:// or https:// URL"),
    ([_webhook(url="https://user:pw@hooks.example/")], "channels[0].url: must not carry credentials"),
    ([_webhook(secret="short")], "channels[0].secret: must be at least 16 characters"),
    ([_webhook(timeout_s=0)], "channels[0].timeout_s: Input should be greater than 0"),
    ([_webhook(colour="red")], "channels[0].colour: unknown key"),
    ([_webhook(retry={"initial_delay_s": 60, "max_delay_s": 5})], "channels[0].retry: initial_delay_s (60.0)"),
    ([_webhook(retry={"max_attempts": 0})], "channels[0].retry.max_attempts: Input should be greater than"),
    ([{"name": "x", "url": "https://a.example"}], "channels[0]: Unable to extract tag using discriminator 'kind'"),
    ([{"kind": "pager", "name": "x"}], "channels[0]: Input tag 'pager' found using 'kind' does not match"),
    ([_webhook(), _webhook()], "channel names must be unique; repeated: ops"),
    ([_webhook(name="Ops Team")], "channels[0].name: String should match pattern"),
    ([_email(to=["ops@example.com", "not an address"])], "channels[0].to[1]: 'not an address' is not an e-mail"),
    ([_email(from_addr="cam@")], "channels[0].from_addr: 'cam@' is not an e-mail address"),
    ([_email(to=[])], "channels[0].to: List should have at least 1 item"),
    ([_email(username="u")], "channels[0]: username and password go together"),
    ([_email(username="u", password="p", starttls=False)], "channels[0]: a password needs starttls: true"),
    ([_email(port=70000)], "channels[0].port: Input should be less than or equal to 65535"),
    ([_email(host="smtp example")], "channels[0].host: 'smtp example' is not a host name"),
    ([{"kind": "ntfy", "name": "p", "topic": "a/b"}], "channels[0].topic: String should match pattern"),
    ([{"kind": "ntfy", "name": "p", "topic": "t", "priority": {"high": 9}}], "channels[0].priority.high: Input"),
    ([{"kind": "ntfy", "name": "p", "topic": "t", "priority": {"urgent": 5}}], "channels[0].priority.urgent."),
    ([{"kind": "mqtt", "name": "m", "host": "b", "topic_prefix": "a/#"}], "channels[0].topic_prefix: String should"),
    ([{"kind": "mqtt", "name": "m", "host": "b", "password": "p"}], "channels[0]: a password needs a username"),
]


@pytest.mark.parametrize(("channels", "expected"), BAD_CONFIGS, ids=[e for _, e in BAD_CONFIGS])
def test_malformed_channel_is_a_clear_error_at_load(channels: list[dict[str, Any]], expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_alerts_config({"channels": channels}, source="site.yaml alerts")
    text = str(info.value)
    assert text.startswith("site.yaml alerts: ") and expected in text
    assert SECRET not in text


def test_valid_config_with_every_kind_and_secrets_hidden() -> None:
    cfg = load_alerts_config(
        {
            "channels": [
                _webhook(),
                _email(username="alerts", password=SECRET, min_severity="high"),
                {"kind": "ntfy", "name": "phones", "topic": "store-1", "token": SECRET, "priority": {"low": 1}},
                {"kind": "mqtt", "name": "ha", "host": "10.0.0.5", "username": "sw", "password": SECRET},
            ]
        }
    )
    assert [c.kind for c in cfg.channels] == ["webhook", "email", "ntfy", "mqtt"]
    assert cfg.channels[1].min_severity is Severity.HIGH
    ntfy = cfg.channels[2]
    assert ntfy.kind == "ntfy" and ntfy.priority[Severity.LOW] == 1 and ntfy.priority[Severity.CRITICAL] == 5
    for shown in (repr(cfg), str(cfg), cfg.model_dump_json(), str(cfg.model_dump())):
        assert SECRET not in shown
    assert isinstance(AlertsConfig.model_json_schema(), dict)


def test_default_retry_schedule_outlasts_a_30_s_outage() -> None:
    """The brief: a receiver down for 30 s loses nothing with default settings. The first attempt may fail at the
    very start of the outage; the attempts must still reach beyond its end even with the jitter at its lowest."""
    policy = RetryPolicy()
    assert policy.nominal_delays_s() == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0, 30.0]
    assert policy.min_span_s() > 30.0 * 3  # ~121 s: even three such outages back to back
    assert sum(policy.nominal_delays_s()) * (1 + policy.jitter) < 5 * 60  # and it gives up within minutes
    # After the receiver returns, the alert arrives within one (longest) wait.
    assert policy.max_delay_s * (1 + policy.jitter) <= 36.0
