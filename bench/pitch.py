"""Cost of the speaker-group pitch check per recording, against the clip count.

    .venv/bin/python bench/pitch.py [--clips 10 100 400]

Writes espeak-ng clips (a high voice) as 16 kHz FLAC like collect does, then times
``audio.pitch.clips_median_f0_hz`` over 10 to 400 of them (about 1 to 40 minutes of speech):
the analysed sample is bounded, so the time should stay flat. The first call's one-off
cost (numpy and scipy warming up) is printed apart.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import soundfile as sf
import soxr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from audio.pitch import clips_median_f0_hz  # noqa: E402

TEXT = "Maya counted seven ducks on the pond and gave them some bread before lunch."


def make_clip(folder: Path) -> Path:
    wav = folder / "voice.wav"
    subprocess.run(["espeak-ng", "-v", "en-us+f4", "-p", "99", "-w", str(wav), TEXT], check=True)
    samples, rate = sf.read(wav, dtype="float32")
    clip = folder / "clip.flac"
    sf.write(clip, soxr.resample(samples, rate, 16000), 16000, subtype="PCM_16")
    return clip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clips", type=int, nargs="+", default=[10, 100, 400])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        clip = make_clip(Path(scratch))
        seconds = sf.info(clip).duration
        started = time.perf_counter()
        clips_median_f0_hz([clip])
        print(f"first call: {time.perf_counter() - started:.2f} s")
        for count in args.clips:
            paths = [clip] * count
            times = []
            for _ in range(3):
                started = time.perf_counter()
                f0 = clips_median_f0_hz(paths)
                times.append(time.perf_counter() - started)
            print(
                f"{count:4d} clips ({count * seconds / 60:5.1f} min of speech): "
                f"median F0 {f0:.0f} Hz in {statistics.median(times) * 1000:.0f} ms"
            )


if __name__ == "__main__":
    main()
