"""Tasks retry a lost connection, not a refusal: a second try of bad input fails the same way."""

from __future__ import annotations

import pytest
from prefect import flow, task
from sqlalchemy.exc import OperationalError

from flows._runtime import retry_transient

pytestmark = pytest.mark.usefixtures("prefect_server")


def flaky(error: Exception) -> tuple[list[int], object]:
    calls: list[int] = []

    @task(retries=2, retry_delay_seconds=0, retry_condition_fn=retry_transient)
    def step() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise error
        return "done"

    @flow
    def run() -> str:
        return step()

    return calls, run


def test_a_dropped_connection_is_retried() -> None:
    calls, run = flaky(OperationalError("SELECT 1", {}, ConnectionResetError("reset by peer")))
    assert run() == "done"
    assert len(calls) == 2


def test_a_refusal_is_not_retried() -> None:
    calls, run = flaky(ValueError("overlap must be between 1 and 3"))
    with pytest.raises(ValueError):
        run()
    assert len(calls) == 1
