"""Clips in the dashboard with faces blurred (``privacy.clips``): which clip a page may link, and the job that makes
a protected copy the first time someone wants to watch (or export) one.

With ``privacy.enabled`` (the default) a clip's original is never linked or served; its protected copy
``<name>.protected.mp4`` is, once made. Making it runs the detector and the face detector on every frame, so it
is a job with progress, and the models are loaded on first use (not at start: most visits need no clip).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from storewatch.privacy.clips import ClipProtector, is_protected
from storewatch.web.errors import ConflictError, NotFoundError
from storewatch.web.jobs import Job, JobRunner, JobsBusyError, Progress
from storewatch.web.media import MediaLinks, MediaNotServedError, is_clip
from storewatch.web.scope import StoreScope
from storewatch.web.users import User

if TYPE_CHECKING:
    from storewatch.config.schema import SiteConfig


class ClipPrivacy(ClipProtector):
    def __init__(self, site: SiteConfig | None, links: MediaLinks) -> None:
        super().__init__(site)
        self.links = links

    def protected(self, clip: Path, progress: Progress | None = None) -> Path:
        """As ``ClipProtector.protected``; a recorded path is taken under this server's media folder when the file is
        there (a data folder moved since keeps working)."""
        key = self.links.key(str(clip))
        if key is not None and (self.links.media_dir / key).is_file():
            clip = self.links.media_dir / key
        return super().protected(clip, progress)

    def start(self, key: str, scope: StoreScope, user: User, jobs: JobRunner, back: str | None) -> Job:
        """A job making the protected copy of the clip ``key`` (a media key of its original)."""
        if not is_clip(key) or is_protected(PurePosixPath(key)):
            raise NotFoundError(f"{key!r} is not a clip to protect")
        try:
            clip, _ = self.links.resolve(key, scope, original=True)
        except MediaNotServedError as exc:
            raise NotFoundError(f"no clip {key!r}") from exc
        store = key.split("/", 1)[0]

        def work(progress: Progress, folder: Path) -> Path:
            return self.protected(clip, progress)

        try:
            return jobs.submit("protect_clip", f"Clip {clip.stem[:8]} with faces blurred", owner=user.id, store=store,
                               work=work, link=back)  # fmt: skip
        except JobsBusyError as exc:
            raise ConflictError(exc.message) from exc


GRANT_S = 600.0
MAX_GRANTS = 1000


class UnblurGrants:
    """Who may watch which clip's original, for ten minutes: given when a user with ``media.unblurred`` typed a
    reason (the route records it in the audit log), so the player's range requests need no reason each time.
    In memory and bounded (the oldest grant goes first); a restart forgets them.

    >>> grants = UnblurGrants(clock=lambda: 0.0)
    >>> grants.give("u1", "s1/door/2026-03-01/e1.mp4"); grants.has("u1", "s1/door/2026-03-01/e1.mp4")
    True
    >>> grants.has("u2", "s1/door/2026-03-01/e1.mp4")
    False
    """

    def __init__(self, grant_s: float = GRANT_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.grant_s, self.clock = grant_s, clock
        self._until: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def give(self, user_id: str, key: str) -> None:
        with self._lock:
            self._until.pop((user_id, key), None)
            self._until[(user_id, key)] = self.clock() + self.grant_s
            while len(self._until) > MAX_GRANTS:
                self._until.pop(next(iter(self._until)))

    def has(self, user_id: str, key: str) -> bool:
        with self._lock:
            until = self._until.get((user_id, key))
            return until is not None and until > self.clock()
