"""Evidence files over HTTP: links from an event's evidence paths, and the checks before a file is served.

Evidence lies under ``DATA/media/<store>/<camera>/<YYYY-MM-DD>/<file>`` (``runtime.evidence``). A link is
``/media/<that key>``, made from the last four parts of the recorded path (so a data folder that was moved, or a
path recorded relative to another working directory, still links). Serving checks, in order: the key is a valid
media key (``media.store.validate_key``: no ``..``, no hidden names, no backslashes), its store is one the user may
see, its suffix is an evidence type, it is not a clip's original while privacy is on (``protect_clips``), and the
resolved file is inside the resolved media folder (a symlink cannot lead out); anything else is "not found".

>>> links = MediaLinks(Path("/srv/sw/media"))
>>> links.url("/old/place/media/s1/door/2026-03-01/e1.jpg")
'/media/s1/door/2026-03-01/e1.jpg'
>>> links.url("../../etc/passwd") is None
True
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from storewatch.media.store import validate_key
from storewatch.privacy.clips import is_protected, protected_path
from storewatch.web.schemas import Evidence
from storewatch.web.scope import StoreScope

CONTENT_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".mp4": "video/mp4",
    ".mkv": "video/x-matroska",
}
KEY_PARTS = 4


class MediaNotServedError(LookupError):
    """Not a file this user may have (the reason is logged, the client only hears 'not found')."""


def is_clip(key: str) -> bool:
    return CONTENT_TYPES.get(PurePosixPath(key).suffix.lower(), "").startswith("video/")


class MediaLinks:
    def __init__(self, media_dir: Path, *, protect_clips: bool = False) -> None:
        """``protect_clips``: privacy is on; a clip is linked and served only as its protected copy
        (``privacy.clips``), and an event whose copy is not made yet says so (``Evidence.clip_to_protect``)."""
        self.media_dir = media_dir
        self.protect_clips = protect_clips

    def url(self, path: str | None) -> str | None:
        key = self.key(path)
        return None if key is None else f"/media/{key}"

    @staticmethod
    def key(path: str | None) -> str | None:
        if not path:
            return None
        parts = PurePosixPath(path.replace("\\", "/")).parts
        if len(parts) < KEY_PARTS:
            return None
        try:
            key = validate_key("/".join(parts[-KEY_PARTS:]))
        except ValueError:
            return None
        return key if PurePosixPath(key).suffix.lower() in CONTENT_TYPES else None

    def evidence(self, paths: Mapping[str, str]) -> Evidence:
        clip, to_protect, original = self.url(paths.get("clip")), None, None
        if clip is not None and self.protect_clips:
            key = original = clip.removeprefix("/media/")
            protected = str(protected_path(PurePosixPath(key)))
            clip = f"/media/{protected}" if (self.media_dir / protected).is_file() else None
            to_protect = None if clip else key
        return Evidence(
            snapshot=self.url(paths.get("snapshot")),
            clip=clip,
            clip_type=CONTENT_TYPES.get(PurePosixPath(clip).suffix.lower()) if clip else None,
            clip_to_protect=to_protect,
            clip_original=original,
            path=self.url(paths.get("path")),
        )

    def resolve(self, key: str, scope: StoreScope, *, original: bool = False) -> tuple[Path, str]:
        """The file to send for ``key`` and its content type; ``MediaNotServedError`` otherwise. ``original``: a
        clip's original is wanted by the server itself (to blur it), never to be sent as it is."""
        try:
            validate_key(key)
        except ValueError as exc:
            raise MediaNotServedError(str(exc)) from exc
        if not scope.allows(key.split("/", 1)[0]):
            raise MediaNotServedError(f"{key}: store out of the user's scope")
        content_type = CONTENT_TYPES.get(PurePosixPath(key).suffix.lower())
        if content_type is None:
            raise MediaNotServedError(f"{key}: not an evidence file type")
        if self.protect_clips and not original and is_clip(key) and not is_protected(PurePosixPath(key)):
            raise MediaNotServedError(f"{key}: a clip's original (faces not blurred)")
        root = self.media_dir.resolve()
        path = (root / key).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            raise MediaNotServedError(f"{key}: no such file under {root}")
        return path, content_type
