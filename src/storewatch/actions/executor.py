"""What runs an action: one ``Executor`` per configured action, made once when the site starts.

An executor's ``run(event)`` does the action and returns a short outcome for the action log (``HTTP 200``,
``played siren.wav with paplay (2.1 s)``), or raises ``ActionError`` with what went wrong. It may block up to its
configured timeout: the ``ActionService`` runs it on a worker thread, never on the event thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from storewatch.actions.config import ActionConfig, AudioAction, HttpAction, MqttAction, PvmAction
from storewatch.alerts.config import AlertsConfig, MqttChannel
from storewatch.core.events import Event

if TYPE_CHECKING:
    from storewatch.actions.mqtt import MqttCommander
    from storewatch.actions.pvm import MonitorTarget


class ActionError(Exception):
    """An action could not be done; the message says why (it goes into the action log)."""


class Executor(Protocol):
    def run(self, event: Event) -> str: ...

    def close(self) -> None: ...


def build_executors(
    actions: list[ActionConfig], alerts: AlertsConfig, monitors: MonitorTarget | None
) -> dict[str, Executor]:
    """An executor per action name; MQTT actions on the same channel share one broker connection (made on the
    first command). ``monitors``: where ``pvm`` actions show their message (None: they fail, saying so)."""
    from storewatch.actions.audio import AudioExecutor
    from storewatch.actions.http import HttpExecutor
    from storewatch.actions.mqtt import MqttCommander, MqttExecutor
    from storewatch.actions.pvm import PvmExecutor

    channels: Mapping[str, MqttChannel] = {c.name: c for c in alerts.channels if isinstance(c, MqttChannel)}
    commanders: dict[str, MqttCommander] = {}
    out: dict[str, Executor] = {}
    for action in actions:
        match action:
            case HttpAction():
                out[action.name] = HttpExecutor(action)
            case MqttAction():
                if action.channel not in commanders:
                    commanders[action.channel] = MqttCommander(channels[action.channel])
                out[action.name] = MqttExecutor(action, commanders[action.channel])
            case AudioAction():
                out[action.name] = AudioExecutor(action)
            case PvmAction():
                out[action.name] = PvmExecutor(action, monitors)
    return out
