"""Audio actions: a sound file played on this machine ("Assistance to aisle 4", a chime) by a player command.

No audio library: the machine's own player does the decoding and talks to its sound system (PulseAudio or
PipeWire through ``paplay``, ALSA through ``aplay``, anything ffmpeg reads through ``ffplay``), which is what a
shop PC already has working. The player runs in its own process group with a timeout; a player still running
then is stopped (with anything it started) and the action is ``failed``. It runs on an action worker thread,
never on the event thread.

>>> find_player(lambda name: "/usr/bin/aplay" if name == "aplay" else None)
['aplay', '-q']
>>> find_player(lambda name: None) is None
True
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable

from storewatch.actions.config import AudioAction
from storewatch.actions.executor import ActionError
from storewatch.core.events import Event

DEFAULT_PLAYERS: tuple[tuple[str, ...], ...] = (
    ("paplay",),
    ("aplay", "-q"),
    ("ffplay", "-nodisp", "-autoexit", "-loglevel", "error"),
)
"""Tried in this order when an action names no player."""


def find_player(which: Callable[[str], str | None] = shutil.which) -> list[str] | None:
    """The first of ``DEFAULT_PLAYERS`` found on PATH, or None."""
    return next((list(p) for p in DEFAULT_PLAYERS if which(p[0]) is not None), None)


class AudioExecutor:
    def __init__(self, config: AudioAction, player: list[str] | None = None) -> None:
        """``player``: the command to use when the action names none (default: ``find_player()``)."""
        self.config = config
        self.player = config.player or player or find_player()

    def run(self, event: Event) -> str:
        cfg = self.config
        if self.player is None:
            names = ", ".join(p[0] for p in DEFAULT_PLAYERS)
            raise ActionError(f"no audio player found on PATH (tried {names}); set the action's player")
        command = [*self.player, str(cfg.file)]
        started = time.monotonic()
        try:
            proc = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                start_new_session=True,
            )  # fmt: skip
        except OSError as exc:
            raise ActionError(f"cannot run the player {self.player[0]!r}: {exc.strerror or exc}") from None
        try:
            _, err = proc.communicate(timeout=cfg.timeout_s)
        except subprocess.TimeoutExpired:
            _stop(proc)
            raise ActionError(f"{self.player[0]} still playing after {cfg.timeout_s:g} s: stopped") from None
        if proc.returncode != 0:
            lines = err.decode("utf-8", "replace").strip().splitlines()
            raise ActionError(f"{self.player[0]} exited with status {proc.returncode}: {lines[-1] if lines else ''}")
        return f"played {cfg.file.name} with {self.player[0]} ({time.monotonic() - started:.1f} s)"

    def close(self) -> None:
        pass


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """End the player and whatever it started (its own process group)."""
    with contextlib.suppress(ProcessLookupError):  # it ended by itself meanwhile
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
