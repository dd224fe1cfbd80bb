"""The suite's processes keep one math thread each (tests/cpu_threads.py)."""

from __future__ import annotations

import numpy  # noqa: F401 - loads the BLAS whose pool is checked
import threadpoolctl


def test_numpy_math_runs_on_one_thread_in_the_tests() -> None:
    pools = threadpoolctl.threadpool_info()

    assert pools, "numpy's BLAS is not visible to threadpoolctl"
    assert {(pool["internal_api"], pool["num_threads"]) for pool in pools} == {
        (pool["internal_api"], 1) for pool in pools
    }
