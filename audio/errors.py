"""Why audio could not be used, in words a coordinator can act on."""


class AudioError(Exception):
    """Base for audio refusals."""


class UnreadableAudio(AudioError):
    """The file is empty, truncated, not audio, or in an unsupported format.

    ``reason`` is the short sentence stored with the rejected recording, e.g.
    "empty file (0 bytes)" or "truncated: header declares 12.0 s but the file holds 4.1 s".
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
