"""Traditional-to-simplified conversion: the maintained ``opencc`` binding (C++) against
``opencc-python-reimplemented`` on the same sentences. Both install as the module ``opencc``,
so each runs in its own interpreter:

    .venv/bin/python bench/opencc_binding.py make /tmp/sentences.txt   # needs the reimplementation
    <python with one binding> bench/opencc_binding.py convert /tmp/sentences.txt /tmp/out.txt

``make`` writes sentences mixing traditional phrases and characters from OpenCC's own tables with
simplified text; ``convert`` prints the conversion time and writes the outputs to compare.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import time
from pathlib import Path

import opencc

SIMPLIFIED = "我们今天去公园看看那边的小朋友在做什么然后回家吃饭好啊嗯对"


def make(path: Path, count: int) -> None:
    """``count`` sentences of 8–40 characters, about half of them with traditional characters."""
    folder = Path(opencc.__file__).parent / "dictionary"
    phrases = [
        line.split("\t")[0]
        for line in (folder / "TSPhrases.txt").read_text(encoding="utf-8").splitlines()
    ]
    characters = [
        line.split("\t")[0]
        for line in (folder / "TSCharacters.txt").read_text(encoding="utf-8").splitlines()
    ]
    rng = random.Random(17)
    sentences = []
    for number in range(count):
        parts = []
        while sum(map(len, parts)) < rng.randint(8, 40):
            pick = rng.random()
            if number % 2 == 0 or pick < 0.6:
                parts.append("".join(rng.sample(SIMPLIFIED, rng.randint(1, 4))))
            elif pick < 0.8:
                parts.append(rng.choice(phrases))
            else:
                parts.append(rng.choice(characters))
        sentences.append("".join(parts))
    path.write_text("\n".join(sentences) + "\n", encoding="utf-8")
    print(f"wrote {count} sentences to {path}")


def convert(source: Path, target: Path) -> None:
    """Convert every sentence once (after one warm-up) and print the time per sentence."""
    sentences = source.read_text(encoding="utf-8").splitlines()
    start = time.perf_counter()
    converter = opencc.OpenCC("t2s")
    converter.convert("臺灣")
    loaded = time.perf_counter() - start
    start, cpu = time.perf_counter(), time.process_time()
    outputs = [converter.convert(sentence) for sentence in sentences]
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    text = "\n".join(outputs) + "\n"
    target.write_text(text, encoding="utf-8")
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    print(
        f"{opencc.__file__}: {len(sentences)} sentences in {elapsed:.3f} s "
        f"({elapsed / len(sentences) * 1e6:.1f} us each, CPU {cpu:.3f} s), "
        f"load {loaded * 1000:.0f} ms, outputs sha256 {digest}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    making = commands.add_parser("make")
    making.add_argument("path", type=Path)
    making.add_argument("--count", type=int, default=5000)
    converting = commands.add_parser("convert")
    converting.add_argument("source", type=Path)
    converting.add_argument("target", type=Path)
    arguments = parser.parse_args()
    if arguments.command == "make":
        make(arguments.path, arguments.count)
    else:
        convert(arguments.source, arguments.target)


if __name__ == "__main__":
    main()
