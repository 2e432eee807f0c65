"""Evidence on demand: the hub asks an edge for a clip or a full snapshot when someone opens it.

Clips and snapshots stay at the stores (only thumbnails travel). When a user opens one at the hub, the hub sends a
NATS request on ``storewatch.<store>.media`` and the edge answers from its media folder. The edge is the one that
connects (it subscribes on its own outgoing connection), so it never accepts an inbound connection: it works behind
NAT. This is core NATS request/reply, not JetStream: a store that is offline simply does not answer, and the hub
says so within ``timeout_s`` instead of queueing the request.

A file larger than a message goes in parts: the request is ``{"key": ..., "offset": N}`` and each reply carries
at most ``CHUNK_BYTES`` from ``offset`` with the headers ``Storewatch-Status`` (``ok``, ``not_found``, ``refused``)
and ``Storewatch-Size`` (the whole file's bytes); the hub asks for the next offset until it has them all (at most
``MAX_FILE_BYTES``). The edge serves only evidence files of its own store under its media folder, with the checks
of the dashboard's ``/media`` route (valid key, evidence suffix, no way out of the folder).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from functools import partial
from pathlib import Path, PurePosixPath

import nats.errors
from nats.aio.msg import Msg

from storewatch.errors import StorewatchError
from storewatch.media.store import validate_key
from storewatch.privacy.clips import VIDEO_SUFFIXES, ClipPreparer, is_protected, original_of
from storewatch.sync.envelope import SUBJECT_PREFIX
from storewatch.sync.jetstream import NatsLink, NotConnectedError, Responder

log = logging.getLogger(__name__)

CHUNK_BYTES = 512 * 1024
MAX_FILE_BYTES = 256 * 1024 * 1024
STATUS_HEADER = "Storewatch-Status"
SIZE_HEADER = "Storewatch-Size"
EVIDENCE_SUFFIXES = (".jpg", ".jpeg", ".png", ".mp4", ".mkv")


def media_subject(store: str) -> str:
    """Where a store answers requests for its evidence files.

    >>> media_subject("s1")
    'storewatch.s1.media'
    """
    return f"{SUBJECT_PREFIX}.{store}.media"


class StoreOfflineError(StorewatchError):
    """The store did not answer (offline, or its link to NATS is down)."""


class StorePreparingError(StorewatchError):
    """The store is making the faces-blurred copy of the clip asked for: ask again in a moment."""


class RemoteMediaNotFoundError(StorewatchError):
    """The store answered: it has no such file (or will not serve it)."""


def evidence_file(root: Path, store: str, key: str, *, protect_clips: bool = False) -> Path:
    """The file under ``root`` for ``key`` of ``store``; ``RemoteMediaNotFoundError`` saying why not otherwise.
    ``protect_clips`` (privacy on at the store): a clip only as its faces-blurred copy, never the original."""
    try:
        validate_key(key)
    except ValueError as exc:
        raise RemoteMediaNotFoundError(str(exc)) from None
    if key.split("/", 1)[0] != store:
        raise RemoteMediaNotFoundError(f"{key}: not a file of store {store}")
    if PurePosixPath(key).suffix.lower() not in EVIDENCE_SUFFIXES:
        raise RemoteMediaNotFoundError(f"{key}: not an evidence file type")
    if protect_clips and PurePosixPath(key).suffix.lower() in VIDEO_SUFFIXES and not is_protected(PurePosixPath(key)):
        raise RemoteMediaNotFoundError(f"{key}: a clip's original (faces not blurred) is not sent")
    base = root.resolve()
    path = (base / key).resolve()
    if not path.is_relative_to(base) or not path.is_file():
        raise RemoteMediaNotFoundError(f"{key}: no such file")
    return path


class MediaResponder(Responder):
    """At the edge: answers the hub's requests for the store's evidence files, on the edge's NATS connection."""

    what = "requests for evidence"

    def __init__(
        self,
        link: NatsLink,
        store: str,
        root: Path,
        *,
        protect_clips: bool = False,
        prepare: ClipPreparer | None = None,
    ) -> None:
        """``protect_clips``: a clip is sent only as its faces-blurred copy, never as recorded; ``prepare``: asked
        for a copy not made yet, the store starts making it and answers ``preparing`` (the hub says "try again in
        a moment")."""
        super().__init__(link, media_subject(store))
        self.store, self.root = store, root
        self.protect_clips = protect_clips
        self.prepare = prepare
        self.served = self.refused = 0

    async def _answer(self, msg: Msg) -> None:
        if not msg.reply:
            return
        try:
            request = json.loads(msg.data)
            key, offset = str(request["key"]), int(request.get("offset", 0))
            if offset < 0:
                raise ValueError("negative offset")
        except (ValueError, KeyError, TypeError) as exc:
            await self._reply(msg.reply, "refused", 0, f"bad request: {exc}".encode())
            return
        if self.protect_clips and self._start_preparing(key):
            await self._reply(msg.reply, "preparing", 0, f"{key}: the store is blurring faces in this clip".encode())
            return
        try:
            path = evidence_file(self.root, self.store, key, protect_clips=self.protect_clips)
            size, chunk = await asyncio.to_thread(_read, path, offset)
        except RemoteMediaNotFoundError as exc:
            self.refused += 1
            log.info("sync: hub asked for %s: %s", key, exc)
            await self._reply(msg.reply, "not_found", 0, str(exc).encode())
            return
        except OSError as exc:
            await self._reply(msg.reply, "not_found", 0, f"{key}: cannot be read: {exc}".encode())
            return
        if offset + len(chunk) >= size:
            self.served += 1
        await self._reply(msg.reply, "ok", size, chunk)

    def _start_preparing(self, key: str) -> bool:
        """True when ``key`` is a faces-blurred copy not made yet (its original is here): it is being made now."""
        if self.prepare is None or not is_protected(PurePosixPath(key)) or key.split("/", 1)[0] != self.store:
            return False
        try:
            validate_key(key)
        except ValueError:
            return False
        base = self.root.resolve()
        wanted = (base / key).resolve()
        original = original_of(wanted) if wanted.is_relative_to(base) else None
        return original is not None and self.prepare.ready(original) is None

    async def _reply(self, subject: str, status: str, size: int, body: bytes) -> None:
        try:
            await self.link.client.publish(subject, body, headers={STATUS_HEADER: status, SIZE_HEADER: str(size)})
        except (nats.errors.Error, OSError) as exc:
            log.warning("sync: reply to an evidence request lost: %s", exc)


def _read(path: Path, offset: int) -> tuple[int, bytes]:
    with path.open("rb") as f:
        size = f.seek(0, 2)
        f.seek(min(offset, size))
        return size, f.read(CHUNK_BYTES)


class MediaFetcher:
    """At the hub: fetches evidence files from the stores over NATS, and sends them commands
    (``sync.commands``); one connection, made on first use."""

    def __init__(self, nats_url: str, *, timeout_s: float = 4.0) -> None:
        self.nats_url, self.timeout_s = nats_url, timeout_s
        self._link: NatsLink | None = None
        self._lock = threading.Lock()

    def _connected(self) -> NatsLink:
        with self._lock:
            if self._link is None:
                self._link = NatsLink(self.nats_url, name="storewatch-hub-media", timeout_s=self.timeout_s)
            link = self._link
        if not link.wait_connected(self.timeout_s):
            raise StoreOfflineError(f"NATS at {self.nats_url} is not reachable from the hub")
        return link

    def fetch(self, store: str, key: str) -> bytes:
        """The file ``key`` of ``store``; ``StoreOfflineError`` when the store does not answer within the timeout,
        ``RemoteMediaNotFoundError`` when it says it has no such file."""
        link = self._connected()
        parts: list[bytes] = []
        got, size = 0, None
        while size is None or got < size:
            try:
                status, size, body = link.run(partial(self._request, link, store, key, got), self.timeout_s * 2)
            except (NotConnectedError, TimeoutError) as exc:
                raise StoreOfflineError(f"store {store} did not answer ({exc})") from None
            if status == "preparing":
                raise StorePreparingError(f"store {store}: {body.decode(errors='replace')}")
            if status != "ok":
                raise RemoteMediaNotFoundError(f"store {store}: {body.decode(errors='replace')}")
            if size > MAX_FILE_BYTES:
                raise RemoteMediaNotFoundError(f"{key}: {size} bytes, over the {MAX_FILE_BYTES} the hub fetches")
            if not body and got < size:
                raise StoreOfflineError(f"store {store} stopped sending {key} at {got} of {size} bytes")
            parts.append(body)
            got += len(body)
        return b"".join(parts)

    def request(self, store: str, subject: str, body: bytes) -> bytes:
        """One request to a store (e.g. a command) and its reply; ``StoreOfflineError`` when it does not answer."""
        link = self._connected()

        async def ask() -> bytes:
            reply = await self._ask(link, subject, body)
            return reply.data or b""

        try:
            return link.run(ask, self.timeout_s * 2)
        except (NotConnectedError, TimeoutError) as exc:
            raise StoreOfflineError(f"store {store} did not answer ({exc})") from None

    async def _ask(self, link: NatsLink, subject: str, body: bytes) -> Msg:
        try:
            return await link.client.request(subject, body, timeout=self.timeout_s)
        except nats.errors.NoRespondersError:
            raise TimeoutError("no edge of the store is connected") from None
        except nats.errors.TimeoutError:
            raise TimeoutError(f"no answer in {self.timeout_s:g} s") from None

    async def _request(self, link: NatsLink, store: str, key: str, offset: int) -> tuple[str, int, bytes]:
        request = json.dumps({"key": key, "offset": offset}).encode()
        reply = await self._ask(link, media_subject(store), request)
        headers = reply.headers or {}
        try:
            size = int(headers.get(SIZE_HEADER, "0"))
        except ValueError:
            size = 0
        return headers.get(STATUS_HEADER, "refused"), size, reply.data or b""

    def close(self) -> None:
        with self._lock:
            if self._link is not None:
                self._link.close()
                self._link = None
