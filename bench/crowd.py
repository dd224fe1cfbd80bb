"""A crowd of transcribers that claim and submit over the JSON API at an offered rate (open loop)
while faults are injected (``bench/faults.py``). It retries as a careful client does: after a
lost connection, or a 503 after its Retry-After, with the same request_id; everything else it was
answered is kept, to be checked (``transcribe.dispatch.audit``). ``bench/load.py`` and the load
test (``tests/web/test_load_faults.py``) run it.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.scratch import TEXT, Answer, Connection
from crowdscribe.clock import utc_now
from crowdscribe.storage.db import Database
from transcribe.dispatch.audit import Acknowledged, dispatch_findings

# A request is given up (and counted as an error) after this long of retrying.
GIVE_UP_S = 60.0
# A lost connection is tried again after this pause, growing with each attempt.
RECONNECT_PAUSE_S = 0.05


@dataclass
class Tally:
    """What a crowd saw in one run: latencies in ms (a claim's from when it was due, a submit's
    from when it was sent, a pair's the two added), final answers by kind, retries by cause,
    anything a careful client should never get, and what the injected faults did."""

    seconds: float = 0.0
    claim_ms: list[float] = field(default_factory=list)
    submit_ms: list[float] = field(default_factory=list)
    pair_ms: list[float] = field(default_factory=list)
    answers: Counter = field(default_factory=Counter)
    retried: Counter = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)

    @property
    def pairs(self) -> int:
        return len(self.pair_ms)

    @property
    def requests_ms(self) -> list[float]:
        return self.claim_ms + self.submit_ms


class GaveUp(Exception):
    """A request still failed after ``GIVE_UP_S`` of retries."""


class Crowd:
    """Transcribers, each on a keep-alive connection of their own, and every submission they
    were acknowledged (201) across runs."""

    def __init__(self, url: str, people: list[tuple[int, str]], seed_value: int = 1) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.people = people
        self.connections = [Connection(host, int(port)) for _ in people]
        self.acknowledged: list[Acknowledged] = []
        self.random = random.Random(seed_value)

    def close(self) -> None:
        for connection in self.connections:
            connection.close()

    async def _ask(
        self, http: Connection, path: str, token: str, body: bytes, tally: Tally
    ) -> Answer:
        """POST until answered other than 503 or a lost connection (same body each time)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + GIVE_UP_S
        attempt = 0
        while True:
            try:
                answer = await asyncio.wait_for(http.post(path, token, body), GIVE_UP_S)
            except (OSError, EOFError, asyncio.IncompleteReadError, TimeoutError) as error:
                http.close()
                tally.retried[f"lost connection ({type(error).__name__}) on {path[8:15]}"] += 1
                pause_s = RECONNECT_PAUSE_S * (attempt + 1)
            else:
                if answer.status != 503:
                    return answer
                tally.retried[f"503 + Retry-After on {path[8:15]}: {answer.body[:120]!r}"] += 1
                pause_s = answer.retry_after_s or 1.0
            attempt += 1
            if loop.time() + pause_s > deadline:
                raise GaveUp(f"{path} still failing after {attempt} attempts")
            await asyncio.sleep(pause_s)

    async def _pair(self, index: int, due: float, think_s: float, tally: Tally) -> bool:
        """Claim, think, submit; False when there is no work left."""
        loop = asyncio.get_running_loop()
        user_id, token = self.people[index]
        http = self.connections[index]
        claim = await self._ask(http, "/api/v1/clips/next", token, b"", tally)
        claimed_at = loop.time()
        tally.answers[f"claim {claim.status}"] += 1
        if claim.status == 204:
            return False
        if claim.status != 200:
            tally.unexpected.append(f"claim answered {claim.status}: {claim.body[:200]!r}")
            return True
        assignment = json.loads(claim.body)["assignment_id"]
        await asyncio.sleep(think_s)
        request_id = f"{user_id}-{assignment}"
        body = json.dumps({"text": TEXT, "request_id": request_id}).encode()
        sent_at = loop.time()
        path = f"/api/v1/assignments/{assignment}/submit"
        sent = await self._ask(http, path, token, body, tally)
        done_at = loop.time()
        tally.answers[f"submit {sent.status}"] += 1
        if sent.status != 201:
            tally.unexpected.append(f"submit answered {sent.status}: {sent.body[:200]!r}")
            return True
        receipt = json.loads(sent.body)
        self.acknowledged.append(
            Acknowledged(user_id, assignment, request_id, receipt["submission_id"])
        )
        claim_ms, submit_ms = (claimed_at - due) * 1000, (done_at - sent_at) * 1000
        tally.claim_ms.append(claim_ms)
        tally.submit_ms.append(submit_ms)
        tally.pair_ms.append(claim_ms + submit_ms)
        return True

    async def run(
        self,
        rate: float,
        seconds: float,
        *,
        think_s: tuple[float, float] = (0.05, 0.25),
        faults: tuple[tuple[float, Callable[[], str]], ...] = (),
    ) -> Tally:
        """Offer ``rate`` pairs/s spread evenly over the crowd for ``seconds`` (open loop: a
        pair waits for nothing but its due time), each person thinking a random ``think_s``
        between claim and submit; each fault is called (in a thread) at its offset in s."""
        loop = asyncio.get_running_loop()
        tally = Tally()
        # The server closes keep-alive connections idle for 5 s, as they were between runs: a
        # lost connection should count only what happens during this run.
        self.close()
        clients = len(self.people)
        interval = clients / rate
        start = loop.time() + 0.1
        deadline = start + seconds

        async def transcriber(index: int) -> None:
            due = start + interval * index / clients
            while due < deadline:
                if due > loop.time():
                    await asyncio.sleep(due - loop.time())
                try:
                    more = await self._pair(index, due, self.random.uniform(*think_s), tally)
                except GaveUp as error:
                    tally.unexpected.append(str(error))
                    more = True
                if not more:
                    tally.unexpected.append("the queue ran dry")
                    return
                due += interval

        async def inject(offset_s: float, fault: Callable[[], str]) -> str:
            await asyncio.sleep(max(0.0, start + offset_s - loop.time()))
            return await asyncio.to_thread(fault)

        # A fault may outlast the next one (a killed worker is awaited until it serves again):
        # its report keeps its place in the schedule, not its finishing order.
        _, reports = await asyncio.gather(
            asyncio.gather(*(transcriber(index) for index in range(clients))),
            asyncio.gather(*(inject(offset_s, fault) for offset_s, fault in faults)),
        )
        tally.faults.extend(reports)
        tally.seconds = loop.time() - start
        return tally


def dispatch_check(database: Database, acknowledged: list[Acknowledged]) -> dict[str, list[str]]:
    """The invariants of ``transcribe.dispatch.audit`` on ``database``, by name."""
    with database.session() as session:
        return dispatch_findings(session, acknowledged, utc_now())
