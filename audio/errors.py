"""Why audio could not be used, in words a coordinator can act on."""


class AudioError(Exception):
    """Base for audio refusals."""


class UnreadableAudio(AudioError):
    """The file is empty, truncated, not audio, or in an unsupported format."""
