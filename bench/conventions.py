"""How long the transcription-conventions check takes: an ordinary verbatim transcript, and the
hostile texts that once took seconds (each now checked in time linear in its length).

    .venv/bin/python bench/conventions.py [--repeats 2000]

Prints the median microseconds per ordinary text (English and Cantonese) and, for each hostile
pattern, milliseconds at 2,000 and 8,000 characters with their ratio (about 4 when linear).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from transcribe.conventions import find_problems, validate_transcript  # noqa: E402

ORDINARY = {
    "en": "so I I want the the big- [noise] dog um ((red one)) and we we went to the park uh",
    "yue": "我哋 我哋 今日 去 [noise] 公園 嗯 ((睇 雀仔)) 跟住 返 屋企",
}
# Each once made the checker quadratic or worse (tests/transcribe/test_conventions.py).
HOSTILE = {
    "open tag, then spaces": lambda n: "[" + " " * (n - 1),
    "open bracket, ideographic spaces": lambda n: "【" + "\u3000" * (n - 1),
    "guess marks": lambda n: "（" * n,
    "unknown tags": lambda n: "[ab]" * (n // 4),
    "angle brackets": lambda n: "<" * n,
    "letters and digits": lambda n: "a1" * (n // 2),
}


def per_call_s(check, text: str, language: str, repeats: int) -> float:
    samples = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(repeats):
            check(text, language)
        samples.append((time.perf_counter() - started) / repeats)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2000)
    args = parser.parse_args()
    for language, text in ORDINARY.items():
        took_s = per_call_s(validate_transcript, text, language, args.repeats)
        print(f"ordinary {language} text ({len(text)} chars): {took_s * 1e6:.0f} us per check")
    for name, make in HOSTILE.items():
        short_s, long_s = (per_call_s(find_problems, make(n), "en", 3) for n in (2000, 8000))
        print(
            f"hostile, {name}: {short_s * 1e3:.1f} ms at 2,000 chars, {long_s * 1e3:.1f} ms at "
            f"8,000 (x{long_s / short_s:.1f})"
        )


if __name__ == "__main__":
    main()
