"""How much text a transcript may hold. Bounded by its clip's audio, so nobody is paid for a
novel typed against a two-second clip, and checking one request stays a few milliseconds of
work (the conventions check costs ~7 us a character)."""

from __future__ import annotations

import math

# Fast verbatim speech with tags runs ~20 characters a second; twice that leaves room.
CHARS_PER_AUDIO_S = 40
MIN_TRANSCRIPT_CHARS = 200
# Any text field of any request: a 50 s clip's worth.
MAX_TEXT_CHARS = 2_000
# A refusal lists at most this many convention problems (and says how many there were).
MAX_PROBLEMS_SHOWN = 20
# A longer transcript is checked in a worker thread, not on a web server's event loop: its
# check costs more than the hand-off (about 0.1 ms), and the loop is serving everyone else.
LOOP_CHECK_CHARS = 300


def transcript_limit_chars(duration_s: float) -> int:
    """The longest transcript a clip of ``duration_s`` seconds may have."""
    by_audio = math.ceil(CHARS_PER_AUDIO_S * max(duration_s, 0.0))
    return min(MAX_TEXT_CHARS, max(MIN_TRANSCRIPT_CHARS, by_audio))
