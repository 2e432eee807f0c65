"""Evidence media (snapshots, clips): where it is kept and how people are given links to it.

* ``store``: the ``MediaStore`` protocol, strictly validated keys and the media errors.
* ``local``: ``LocalMediaStore``, files under a directory (the default).
* ``s3``: ``S3MediaStore``, objects in an S3-compatible bucket (boto3).
* ``config``: the ``media`` configuration section (``kind: local | s3``) and ``open_media_store``.
* ``signing``: signed, expiring tokens for media links and one-click actions (acknowledge).

The backends are imported from their modules (``storewatch.media.config.open_media_store``) so importing this
package does not import boto3.
"""

from storewatch.media.store import (
    MediaAuthError,
    MediaBucketError,
    MediaConnectionError,
    MediaData,
    MediaError,
    MediaNotFoundError,
    MediaRef,
    MediaStore,
    evidence_key,
    validate_key,
)

__all__ = [
    "MediaAuthError",
    "MediaBucketError",
    "MediaConnectionError",
    "MediaData",
    "MediaError",
    "MediaNotFoundError",
    "MediaRef",
    "MediaStore",
    "evidence_key",
    "validate_key",
]
