"""Commands from the hub to a store: acknowledging an alert at the hub acknowledges it at the store.

The store owns its alerts: its router escalates them, and only its ``alerts`` table can stop that. So an
acknowledgement made at the hub is a NATS request on ``storewatch.<store>.command`` that the edge answers (on its
own outgoing connection, as for evidence: nothing connects into the store): the edge acknowledges the alert in its
database exactly as its dashboard would (one conditional update: of two people acknowledging at once, one wins),
its router stops escalating within a second, the incidents of the alert's event say so, and the reply carries the
alert's new state, which the hub stores at once (the alert message the edge sends next changes nothing more). A
store that does not answer within a few seconds is offline: the hub says so and changes nothing (the
acknowledgement is not queued, so nobody is told hours later that an alert was handled).

Request: ``{"command": "acknowledge", "alert_id": ..., "by": ..., "false_alarm_reason": ...}``; reply:
``{"status": "ok" | "conflict" | "not_found" | "invalid", "message": ..., "alert": AlertPayload | null}``.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Literal

import nats.errors
from nats.aio.msg import Msg
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from storewatch.errors import StorewatchError
from storewatch.store.alerts import AlertNotFoundError, AlertNotWaitingError, AlertRepository
from storewatch.store.db import Database
from storewatch.store.incidents import IncidentRepository
from storewatch.sync.envelope import SUBJECT_PREFIX
from storewatch.sync.jetstream import NatsLink, Responder
from storewatch.sync.media import MediaFetcher
from storewatch.sync.payloads import AlertPayload

log = logging.getLogger(__name__)


def command_subject(store: str) -> str:
    """Where a store answers the hub's commands.

    >>> command_subject("s1")
    'storewatch.s1.command'
    """
    return f"{SUBJECT_PREFIX}.{store}.command"


class AcknowledgeCommand(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    command: Literal["acknowledge"] = "acknowledge"
    alert_id: str = Field(min_length=1, max_length=32)
    by: str = Field(min_length=1, max_length=128, description="Who, at the hub.")
    false_alarm_reason: str | None = Field(None, max_length=500)


class CommandReply(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    status: Literal["ok", "conflict", "not_found", "invalid"]
    message: str = ""
    alert: AlertPayload | None = None


class CommandRefusedError(StorewatchError):
    """The store answered and refused the command (``reply`` says why)."""

    def __init__(self, reply: CommandReply) -> None:
        super().__init__(reply.message)
        self.reply = reply


def acknowledge_at_edge(database: Database, store: str, command: AcknowledgeCommand) -> CommandReply:
    """Apply an acknowledgement from the hub to the edge's database (alerts, then the incidents of the event)."""
    repo = AlertRepository(database)
    found = repo.get(command.alert_id)
    if found is None or found.store != store:
        return CommandReply(status="not_found", message=f"store {store} has no alert {command.alert_id!r}")
    now = datetime.now(UTC)
    by = f"{command.by} (at the hub)"
    try:
        done = repo.acknowledge(command.alert_id, by, now, command.false_alarm_reason)
    except AlertNotWaitingError as exc:
        current = repo.get(command.alert_id)
        return CommandReply(status="conflict", message=exc.message,
                            alert=AlertPayload.of(current) if current else None)  # fmt: skip
    except AlertNotFoundError as exc:
        return CommandReply(status="not_found", message=exc.message)
    except StorewatchError as exc:  # e.g. a false alarm without a reason
        return CommandReply(status="invalid", message=exc.message)
    incidents = IncidentRepository(database)
    for incident_id in incidents.for_event(done.event_id):
        incidents.change(incident_id, lambda i: i.alert_acknowledged(done.event_id, by, now, done.false_alarm_reason,
                                                                     "from the hub"))  # fmt: skip
    log.info("sync: alert %s acknowledged from the hub by %s", command.alert_id, command.by)
    return CommandReply(status="ok", message="acknowledged at the store", alert=AlertPayload.of(done))


class CommandResponder(Responder):
    """At the edge: answers the hub's commands on the edge's NATS connection."""

    what = "commands"

    def __init__(self, link: NatsLink, store: str, database: Database) -> None:
        super().__init__(link, command_subject(store))
        self.store, self.db = store, database
        self.applied = 0

    async def _answer(self, msg: Msg) -> None:
        if not msg.reply:
            return
        try:
            command = AcknowledgeCommand.model_validate_json(msg.data)
        except ValidationError as exc:
            reply = CommandReply(status="invalid", message=f"not a command: {exc.errors()[0]['msg']}")
        else:
            try:
                reply = await asyncio.to_thread(acknowledge_at_edge, self.db, self.store, command)
            except Exception as exc:  # the database's trouble: the hub hears it instead of waiting
                log.exception("sync: command from the hub failed")
                reply = CommandReply(status="invalid", message=f"the store could not apply it: {exc}")
            if reply.status == "ok":
                self.applied += 1
        try:
            await self.link.client.publish(msg.reply, reply.model_dump_json().encode())
        except (nats.errors.Error, OSError) as exc:
            log.warning("sync: reply to a hub command lost: %s", exc)


def send_acknowledge(requests: MediaFetcher, store: str, command: AcknowledgeCommand) -> CommandReply:
    """At the hub: acknowledge an alert at its store; the reply when it is ``ok``, ``CommandRefusedError`` when the
    store refused, ``StoreOfflineError`` when it did not answer."""
    body = requests.request(store, command_subject(store), command.model_dump_json().encode())
    try:
        reply = CommandReply.model_validate_json(body)
    except ValidationError as exc:
        raise StorewatchError(f"store {store}'s answer is not understood: {exc.errors()[0]['msg']}") from None
    if reply.status != "ok":
        raise CommandRefusedError(reply)
    return reply
