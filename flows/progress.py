"""Each recording's row, as collect finishes it, for the CLI's progress bar.

Not a flow parameter: a run's parameters stay plain values Prefect can check, store and show in
its UI. A module of its own because prefect-dask pickles the flow function by value with the
globals it names, and a context variable cannot be pickled; a module is pickled by name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

ProgressHook = Callable[[dict[str, Any]], None]

_hook: ContextVar[ProgressHook | None] = ContextVar("collect_progress", default=None)


@contextmanager
def reporting_progress(hook: ProgressHook) -> Iterator[None]:
    """Within the block, collect runs call ``hook`` with each recording's row as it finishes."""
    token = _hook.set(hook)
    try:
        yield
    finally:
        _hook.reset(token)


def report(row: dict[str, Any]) -> None:
    """Hand ``row`` to the hook of the enclosing ``reporting_progress``, if any."""
    if (hook := _hook.get()) is not None:
        hook(row)
