"""What one claim costs as the crowd grows: leases held by others at the moment, and the
claimer's own history, on SQLite and PostgreSQL.

A crowd at work holds a lease each for minutes, and a regular has transcribed thousands of
clips; neither should make the next claim slower. Each case seeds a fresh database (holders
take real claims; the regular's past is written as submitted assignments of finished clips),
then times claims one after another (the domain function, no HTTP) and prints the median and
90th percentile. Usage:
    .venv/bin/python bench/claim_scaling.py [--db sqlite postgres] [--held 0 1000 5000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, text, update

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.dispatch import Scratch  # noqa: E402
from crowdscribe.clock import utc_now
from crowdscribe.storage.models import Assignment, WorkItem  # noqa: E402
from transcribe.dispatch.sequences import Claim  # noqa: E402
from transcribe.dispatch.sync_runner import claim_next_clip  # noqa: E402
from transcribe.users import create_user  # noqa: E402

CLAIMERS = 50
CLAIMS = 400


def seed_history(scratch: Scratch, user_id: int, clip_ids: list[str]) -> None:
    """``user_id`` transcribed each of ``clip_ids`` long ago: slots done, assignments submitted."""
    now = utc_now() - timedelta(days=30)
    with scratch.database.engine.begin() as connection:
        connection.execute(
            update(WorkItem).where(WorkItem.clip_id.in_(clip_ids)).values(state="done")
        )
        connection.execute(
            insert(Assignment),
            [
                {
                    "id": f"past-{user_id}-{n}",
                    "clip_id": clip_id,
                    "user_id": user_id,
                    "state": "submitted",
                    "is_gold": False,
                    "leased_at": now,
                    "lease_expires_at": now,
                }
                for n, clip_id in enumerate(clip_ids)
            ],
        )


def tidy(scratch: Scratch) -> None:
    """What a live database's maintenance would have done: fresh statistics, dead rows gone."""
    engine = scratch.database.engine
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE" if scratch.kind == "postgres" else "ANALYZE"))


def measure(kind: str, held: int, history: int) -> list[float]:
    """Claim times (ms) with ``held`` leases held by others and ``history`` past clips each."""
    with tempfile.TemporaryDirectory() as home:
        clips = held + history * CLAIMERS + CLAIMS * 2 + 100
        scratch = Scratch(kind, clips, CLAIMERS, Path(home))
        try:
            database = scratch.database
            with database.session() as session:
                holders = [
                    create_user(session, f"h{n:05d}", ["transcriber"], ["en"], qualified=["en"])
                    for n in range(held)
                ]
            for holder, _ in holders:
                assert isinstance(claim_next_clip(database, holder.id, lease_s=3600), Claim)
            if history:
                first = clips - history * CLAIMERS
                for number, (user_id, _) in enumerate(scratch.people):
                    start = first + number * history
                    past = [f"c{n:07d}" for n in range(start, start + history)]
                    seed_history(scratch, user_id, past)
            tidy(scratch)
            took = []
            for number in range(CLAIMS):
                user_id = scratch.people[number % CLAIMERS][0]
                started = time.perf_counter()
                claim = claim_next_clip(database, user_id, lease_s=3600)
                took.append((time.perf_counter() - started) * 1000)
                assert isinstance(claim, Claim)
            return took
        finally:
            scratch.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--held", nargs="+", type=int, default=[0, 1000, 5000])
    parser.add_argument("--history", nargs="+", type=int, default=[0, 2000])
    args = parser.parse_args()
    print(f"{CLAIMS} claims one after another by {CLAIMERS} people, per case")
    print(f"{'db':<9} {'held by others':>14} {'own history':>12} {'p50 ms':>8} {'p90 ms':>8}")
    for kind in args.db:
        cases = [(held, 0) for held in args.held]
        cases += [(0, history) for history in args.history if history]
        for held, history in cases:
            took = measure(kind, held, history)
            p90 = sorted(took)[int(0.9 * len(took))]
            print(f"{kind:<9} {held:>14} {history:>12} {statistics.median(took):>8.2f} {p90:>8.2f}")


if __name__ == "__main__":
    main()
