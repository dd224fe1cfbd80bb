"""A clip's audio as an HTTP answer, wherever collect stored it: a local file, or an object in a
store such as S3 read through fsspec with the server's own credentials."""

from __future__ import annotations

from fastapi.responses import FileResponse, Response

from app.web.i18n import _
from crowdscribe.clip_store import clip_exists, is_url, open_clip
from crowdscribe.errors import NotFound

MEDIA_TYPE = "audio/flac"


def clip_audio_response(location: str, headers: dict[str, str] | None = None) -> Response:
    """The FLAC at ``location`` (a path or URL); a 404 a person can act on when it is gone."""
    if not clip_exists(location):
        raise NotFound(_("The audio of this clip is missing on the server; tell your coordinator."))
    if not is_url(location):
        return FileResponse(location, media_type=MEDIA_TYPE, headers=headers)
    # Clips are at most a minute of 16 kHz FLAC (under 2 MB): read whole, sent at once.
    with open_clip(location) as clip:
        return Response(clip.read(), media_type=MEDIA_TYPE, headers=headers)
