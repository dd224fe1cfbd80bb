"""Is an MP3 whole? MPEG audio has no length in its header, so a cut file decodes quietly
as a shorter recording. Two checks: a Xing/Info/VBRI header's byte count against the
bytes present, and a walk over the frame headers to see whether the last frame is whole.
"""

from __future__ import annotations

from typing import BinaryIO, NamedTuple

_BITRATES_KBPS = {
    (1, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (1, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (1, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (2, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (2, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (2, 3): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_RATES_HZ = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
_ID3V1_BYTES = 128


class FrameHeader(NamedTuple):
    """What one MPEG audio frame header says."""

    length: int
    """Bytes in the frame, header included."""
    sample_rate_hz: int
    samples: int
    """Samples per channel the frame decodes to."""
    mono: bool
    mpeg1: bool


def parse_header(head: bytes) -> FrameHeader | None:
    """The frame header in the first 4 bytes of ``head``, or None if they are not one."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return None
    version, layer_bits = (head[1] >> 3) & 3, (head[1] >> 1) & 3
    bitrate_index, rate_index = head[2] >> 4, (head[2] >> 2) & 3
    if version == 1 or layer_bits == 0 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    layer, mpeg1 = 4 - layer_bits, version == 3
    bitrate = _BITRATES_KBPS[(1 if mpeg1 else 2, layer)][bitrate_index] * 1000
    rate = _RATES_HZ[version][rate_index]
    padding = (head[2] >> 1) & 1
    if layer == 1:
        length, samples = (12 * bitrate // rate + padding) * 4, 384
    elif layer == 2 or mpeg1:
        length, samples = 144 * bitrate // rate + padding, 1152
    else:
        length, samples = 72 * bitrate // rate + padding, 576
    return FrameHeader(length, rate, samples, mono=head[3] >> 6 == 3, mpeg1=mpeg1)


def mpeg_truncation(handle: BinaryIO, size: int) -> str | None:
    """Why the MPEG audio in ``handle`` (``size`` bytes) is cut short, or None if it is whole."""
    handle.seek(0)
    first = _skip_id3v2(handle.read(10))
    handle.seek(max(size - _ID3V1_BYTES, 0))
    end = size - _ID3V1_BYTES if handle.read(3) == b"TAG" else size
    handle.seek(first)
    head = handle.read(64)
    header = parse_header(head)
    if header is None:
        return None  # not a plain frame at the start: leave the judging to the decoder
    declared = _declared_by_info_frame(head, header)
    if declared is not None:
        frames, declared_bytes = declared
        present = end - first
        if declared_bytes and present < declared_bytes * 0.99:
            total_s = frames * header.samples / header.sample_rate_hz
            return (
                f"truncated: the MP3's header declares {total_s:.1f} s of audio in "
                f"{declared_bytes} bytes but the file holds {present}"
            )
    return _last_frame_cut(handle, first, end)


def _skip_id3v2(head: bytes) -> int:
    if len(head) < 10 or not head.startswith(b"ID3"):
        return 0
    size = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]  # syncsafe
    return 10 + size + (10 if head[5] & 0x10 else 0)


def _declared_by_info_frame(head: bytes, header: FrameHeader) -> tuple[int, int] | None:
    """(frames, bytes) from a Xing/Info or VBRI header in the first frame, if it has one."""
    side_info = (17 if header.mono else 32) if header.mpeg1 else (9 if header.mono else 17)
    xing = 4 + side_info
    if head[xing : xing + 4] in (b"Xing", b"Info"):
        flags = int.from_bytes(head[xing + 4 : xing + 8], "big")
        fields, at = {}, xing + 8
        for bit, name in ((1, "frames"), (2, "bytes")):
            if flags & bit:
                fields[name] = int.from_bytes(head[at : at + 4], "big")
                at += 4
        if "frames" in fields:
            return fields["frames"], fields.get("bytes", 0)
    if head[36:40] == b"VBRI":
        return int.from_bytes(head[50:54], "big"), int.from_bytes(head[46:50], "big")
    return None


def _last_frame_cut(handle: BinaryIO, first: int, end: int) -> str | None:
    """Walk the frame headers; a last frame running past the end of the data was cut."""
    position, frames, seconds = first, 0, 0.0
    while position + 4 <= end:
        handle.seek(position)
        header = parse_header(handle.read(4))
        if header is None:
            return None  # junk or a tag after the audio: the frames that came before are whole
        if position + header.length > end:
            return (
                f"truncated: the MP3 breaks off inside a frame after {seconds:.1f} s "
                f"({frames} whole frames; the file was cut short)"
            )
        frames += 1
        seconds += header.samples / header.sample_rate_hz
        position += header.length
    return None
