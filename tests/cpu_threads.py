"""One math thread per process for the tests (``-p tests.cpu_threads`` in pyproject's addopts,
loaded before the plugins that import numpy). The suite runs a test process per core, each
starting commands and servers: BLAS and OpenMP pools sized to the machine only wait on each
other there, and their spinning threads burn the CPU the other processes need (one pass in
the default order here: 74 s wall and 74 s CPU for the audio and review tests, 55 s and 66 s
with this)."""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
