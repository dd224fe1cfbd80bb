"""The peer collector: py-webrtcvad's example.py approach, written here from its description.

    .venv/bin/python bench/webrtcvad_example.py OUT_DIR FILE.wav... (16 kHz mono 16-bit PCM)

Reads the whole wave with ``wave``, makes a list of 30 ms ``Frame`` objects (as the
example's main does), collects voiced chunks with a 300 ms ring (trigger and release at
>90 %) and writes one WAV per chunk. It imports nothing but the standard library and
webrtcvad, so its memory is its own. Unlike the example, each frame is judged once.
Run as a script it collects the files into a temporary folder and prints its peak
resident memory (KiB) and CPU seconds, for bench/segment.py --memory.
"""

from __future__ import annotations

import collections
import resource
import sys
import wave
from pathlib import Path

import webrtcvad


class Frame:
    """A 30 ms piece of PCM with its timestamp, as in the example."""

    def __init__(self, data: bytes, timestamp: float, duration: float) -> None:
        self.bytes = data
        self.timestamp = timestamp
        self.duration = duration


def frame_generator(frame_ms: int, audio: bytes, rate: int):
    """Successive 30 ms frames of 16-bit PCM, as in the example."""
    n = int(rate * (frame_ms / 1000.0) * 2)
    offset, timestamp, duration = 0, 0.0, (float(n) / rate) / 2.0
    while offset + n < len(audio):
        yield Frame(audio[offset : offset + n], timestamp, duration)
        timestamp += duration
        offset += n


def vad_collector(rate: int, frame_ms: int, padding_ms: int, vad, frames):
    """Yield voiced chunks: trigger at >90% voiced in the ring, release at >90% unvoiced."""
    ring: collections.deque = collections.deque(maxlen=padding_ms // frame_ms)
    triggered, voiced = False, []
    for frame in frames:
        is_speech = vad.is_speech(frame.bytes, rate)
        if not triggered:
            ring.append((frame, is_speech))
            if len([f for f, speech in ring if speech]) > 0.9 * ring.maxlen:
                triggered = True
                voiced.extend(f for f, _ in ring)
                ring.clear()
        else:
            voiced.append(frame)
            ring.append((frame, is_speech))
            if len([f for f, speech in ring if not speech]) > 0.9 * ring.maxlen:
                triggered = False
                yield b"".join(f.bytes for f in voiced)
                ring.clear()
                voiced = []
    if voiced:
        yield b"".join(f.bytes for f in voiced)


def naive_collector(mono_wav: Path, out_dir: Path, aggressiveness: int = 2) -> int:
    """py-webrtcvad's example.py, written from its description: read 16 kHz mono PCM with
    ``wave``, 30 ms frames, 300 ms ring buffer, write each chunk as a WAV. Returns chunks."""
    with wave.open(str(mono_wav), "rb") as reader:
        rate = reader.getframerate()
        audio = reader.readframes(reader.getnframes())
    vad = webrtcvad.Vad(aggressiveness)
    frames = list(frame_generator(30, audio, rate))  # as example.py's main does
    chunks = 0
    for chunks, chunk in enumerate(vad_collector(rate, 30, 300, vad, frames), 1):
        _write_wav(out_dir / f"chunk-{chunks:05d}.wav", chunk, rate)
    return chunks


def _write_wav(path: Path, pcm: bytes, rate: int) -> None:
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(pcm)


def peak_rss_kib() -> int:
    """This process image's peak resident memory (VmHWM; ru_maxrss would carry the parent's)."""
    status = Path("/proc/self/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")))


def main() -> None:
    """Collect every file named after the output folder into it; print peak KiB and CPU s."""
    out = Path(sys.argv[1])
    for number, path in enumerate(sys.argv[2:]):
        chunks = out / str(number)
        chunks.mkdir()
        naive_collector(Path(path), chunks)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(peak_rss_kib(), usage.ru_utime + usage.ru_stime)


if __name__ == "__main__":
    main()
