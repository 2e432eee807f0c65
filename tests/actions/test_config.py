"""The ``actions:`` section of the site file: what is accepted, and every mistake a clear error naming the action,
through the model, ``storewatch config check`` (with the YAML line) and the JSON schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from storewatch.actions.config import AudioAction, HttpAction, MqttAction, PvmAction
from storewatch.cli.app import main
from storewatch.config.loader import check_site_config
from storewatch.config.schema import site_json_schema
from tests.actions.conftest import site_config

MQTT = {"channels": [{"kind": "mqtt", "name": "ha", "host": "127.0.0.1"},
                     {"kind": "ntfy", "name": "phones", "topic": "shop-1"}]}  # fmt: skip


def test_each_kind_is_accepted_with_its_defaults(sound: Path) -> None:
    site = site_config(
        [
            {"kind": "http", "name": "speaker", "url": "http://10.0.0.7/play", "body": {"text": "${type_text}"},
             "when": {"types": ["restricted_area"], "cameras": ["s1/office"], "zones": ["safe"]}},
            {"kind": "mqtt", "name": "relay", "channel": "ha", "topic": "shop/${store}/siren", "qos": 2},
            {"kind": "audio", "name": "chime", "file": str(sound), "schedule": "always"},
            {"kind": "pvm", "name": "screen", "cameras": ["s1/door"], "show_s": 20},
        ],
        alerts=MQTT,
    )  # fmt: skip
    http, mqtt, audio, pvm = site.actions
    assert isinstance(http, HttpAction) and http.method.value == "POST" and http.cooldown_s == 30.0
    assert isinstance(mqtt, MqttAction) and (mqtt.qos, mqtt.retain, mqtt.payload) == (2, False, "ON")
    assert isinstance(audio, AudioAction) and audio.player is None and audio.timeout_s == 30.0
    assert isinstance(pvm, PvmAction) and pvm.message == "This area is monitored" and pvm.show_s == 20


def test_secret_headers_do_not_print() -> None:
    site = site_config([{"kind": "http", "name": "lock", "url": "https://lock.local/api",
                         "secret_headers": {"Authorization": "Bearer hunter2-hunter2"}}])  # fmt: skip
    assert "hunter2" not in repr(site.actions[0]) and "hunter2" not in str(site.model_dump())


def _http(**over: Any) -> dict[str, Any]:
    return {"kind": "http", "name": "speaker", "url": "http://10.0.0.7/play", **over}


CASES: list[tuple[str, list[dict[str, Any]], str]] = [
    ("unknown key", [_http(colour="red")], "action speaker: colour: unknown key"),
    ("unknown key in when", [_http(when={"camera": ["s1/door"]})], "action speaker: when.camera: unknown key"),
    ("bad URL", [_http(url="ftp://10.0.0.7/play")], "action speaker: url: must be an http:// or https:// URL"),
    ("URL with credentials", [_http(url="http://admin:pw@10.0.0.7/")], "action speaker: url: must not carry"),
    ("bad header name", [_http(headers={"X Bad": "1"})], "action speaker: headers: not valid HTTP header name"),
    ("GET with a body", [_http(method="GET", body={"a": 1})], "action speaker: a GET request carries no body"),
    ("unknown template field", [_http(body={"t": "${camra}"})], "action speaker: body: unknown field(s) camra"),
    ("unknown kind", [{"kind": "siren", "name": "s"}], "does not match any of the expected tags"),
    ("negative cool-down", [_http(cooldown_s=-1)], "action speaker: cooldown_s: Input should be greater than"),
    ("schedule the store lacks", [_http(schedule="nights")],
     "action speaker: schedule 'nights' is not defined by store(s) s1 "
     "(store s1 has: always, closed, never, night, open)"),
    ("camera the site lacks", [_http(when={"cameras": ["s1/back"]})],
     "action speaker: camera(s) ['s1/back'] not in the site (write store/camera; it has: s1/door, s1/office)"),
    ("bare camera id", [_http(when={"cameras": ["door"]})], "action speaker: camera(s) ['door'] not in the site"),
    ("pvm camera the site lacks", [{"kind": "pvm", "name": "screen", "cameras": ["s2/door"]}],
     "action screen: camera(s) ['s2/door'] not in the site"),
    ("store the site lacks", [_http(when={"stores": ["s9"]})], "action speaker: when.stores names store(s) ['s9']"),
    ("zone the site lacks", [_http(when={"zones": ["vault"]})], "action speaker: when.zones names zone(s) ['vault']"),
    ("duplicate names", [_http(), _http()], "action names must be unique; repeated: speaker"),
    ("MQTT channel missing", [{"kind": "mqtt", "name": "relay", "channel": "hass", "topic": "a/b"}],
     "action relay: channel 'hass' is not an MQTT channel of alerts.channels (MQTT channels: ha)"),
    ("MQTT channel of another kind", [{"kind": "mqtt", "name": "relay", "channel": "phones", "topic": "a/b"}],
     "action relay: channel 'phones' is not an MQTT channel"),
    ("MQTT wildcard topic", [{"kind": "mqtt", "name": "relay", "channel": "ha", "topic": "shop/#"}],
     "action relay: topic: 'shop/#': a topic to publish to cannot contain # or +"),
    ("missing audio file", [{"kind": "audio", "name": "chime", "file": "/nonexistent/monitored.wav"}],
     "action chime: file: audio file '/nonexistent/monitored.wav' does not exist"),
    ("empty player", [{"kind": "audio", "name": "chime", "file": __file__, "player": []}],
     "action chime: player: give the player command"),
    ("message too long", [{"kind": "pvm", "name": "screen", "message": "x" * 121}],
     "action screen: message: String should have at most 120 characters"),
]  # fmt: skip


@pytest.mark.parametrize(("actions", "expected"), [(a, e) for _, a, e in CASES], ids=[c[0] for c in CASES])
def test_mistakes_are_clear_errors_naming_the_action(actions: list[dict[str, Any]], expected: str) -> None:
    with pytest.raises(ValidationError) as info:
        site_config(actions, alerts=MQTT)
    assert expected in str(info.value)


def test_config_check_gives_the_line_and_the_action(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = site_config([]).model_dump(mode="json", exclude_defaults=True)
    site["actions"] = [
        {"kind": "pvm", "name": "screen"},
        {"kind": "http", "name": "speaker", "url": "ftp://10.0.0.7/play"},
    ]
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(site, sort_keys=False))
    [issue] = check_site_config(path)
    line = path.read_text().splitlines()[issue.line - 1] if issue.line else ""
    assert "action speaker: url: must be an http:// or https:// URL" in issue.message
    assert "speaker" in line or "kind: http" in line  # the YAML line of that action
    assert main(["config", "check", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"{path}:{issue.line}:" in out and "action speaker" in out


def test_the_json_schema_describes_every_kind() -> None:
    schema = site_json_schema()
    actions = schema["properties"]["actions"]
    assert actions["items"]["discriminator"]["propertyName"] == "kind"
    assert set(actions["items"]["discriminator"]["mapping"]) == {"http", "mqtt", "audio", "pvm"}
    http = schema["$defs"]["HttpAction"]
    assert http["additionalProperties"] is False
    assert all("description" in p for name, p in http["properties"].items() if name != "kind")
    assert {"topic", "payload", "qos", "retain", "channel"} <= set(schema["$defs"]["MqttAction"]["properties"])
