"""A decoded recording kept on disk, not in memory, and read back by slices."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

_SAMPLE_BYTES = 4  # float32


class SpilledSignal:
    """A 16 kHz float32 signal appended block by block to an anonymous temporary file.

    Sliced like an array (``signal[a:b]`` reads those samples), so segmentation and clip
    writing read back only what they need. The file has no name: a killed run leaves
    nothing behind.
    """

    def __init__(self, directory: Path) -> None:
        self._file = tempfile.TemporaryFile(dir=directory, buffering=0)  # noqa: SIM115 - closed by close()
        self._length = 0

    def append(self, block: np.ndarray) -> None:
        """Add ``block`` at the end."""
        data = np.ascontiguousarray(block, dtype=np.float32)
        self._file.write(memoryview(data).cast("B"))
        self._length += len(data)

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: slice) -> np.ndarray:
        start, stop, step = index.indices(self._length)
        if step != 1:
            raise ValueError("a spilled signal is read in contiguous slices")
        samples = np.empty(max(stop - start, 0), dtype=np.float32)
        # Read straight into the array: no bytes object to copy from.
        read = os.preadv(self._file.fileno(), [samples], start * _SAMPLE_BYTES)
        return samples[: read // _SAMPLE_BYTES]

    def close(self) -> None:
        """Give the disk space back."""
        self._file.close()

    def __enter__(self) -> SpilledSignal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
