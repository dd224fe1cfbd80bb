"""Throughput of the money and export path: pricing clips, accruing and settling ledger entries
(one transaction per submission, as the web app and agreement flow do), the earnings and payout
queries, a payout of every settled entry, the campaign status, and exporting a dataset of real
FLAC clips in each format. SQLite in a temporary folder, or with
``postgres`` a throw-away database on the local server (dropped afterwards). Prints medians.

Run: .venv/bin/python bench/pay.py [entries] [runs] [sqlite|postgres]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import soundfile
from sqlalchemy import delete, select

from crowdscribe.storage.db import Database
from crowdscribe.storage.models import (
    Assignment,
    Clip,
    LedgerEntry,
    Payout,
    PayoutItem,
    Recording,
    Submission,
    User,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.scratch import scratch_database  # noqa: E402
from review.campaign_status import status_of_campaign
from review.export import export_dataset
from transcribe.ledger import accrue, earnings_for, settle_submission, settlement_report
from transcribe.payouts import create_payouts
from transcribe.pricing import default_rate_card, price_clip

CARD = default_rate_card()
NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)
LANGUAGES = [("yue", "adult"), ("cmn-shaanxi", "child"), ("en", "child"), ("cmn", "adult")]


def median_s(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def fill(database: Database, home: Path, entries: int, people: int = 20) -> list[int]:
    """Clips (with FLAC files), people and one counted submission per (clip, person)."""
    clips = entries // 2
    (home / "clips").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    with database.session() as session:
        recording = Recording(
            source="bench.wav",
            source_path="/bench.wav",
            status="segmented",
            language="yue",
            speaker_group="adult",
            project="bench",
        )
        users = [
            User(name=f"p{n}", roles="transcriber", token_digest=f"d{n}") for n in range(people)
        ]
        session.add_all([recording, *users])
        session.flush()
        for number in range(clips):
            clip_id = f"clip{number:06d}"
            duration_s = 3.0 + (number % 12)
            samples = (0.05 * rng.standard_normal(int(duration_s * 16000))).astype(np.float32)
            soundfile.write(home / "clips" / f"{clip_id}.flac", samples, 16000, format="FLAC")
            language, group = LANGUAGES[number % len(LANGUAGES)]
            session.add(
                Clip(
                    id=clip_id,
                    recording_id=recording.id,
                    start_s=number * 16.0,
                    end_s=number * 16.0 + duration_s,
                    duration_s=duration_s,
                    audio_path=f"clips/{clip_id}.flac",
                    language=language,
                    speaker_group=group,
                    project="bench",
                    status="agreed",
                    final_text="佢哋食咗飯",
                    price=price_clip(duration_s, language, group, CARD),
                    currency=CARD.currency,
                )
            )
        session.flush()
        submission_ids = []
        for number in range(entries):
            clip_id, user = f"clip{number // 2:06d}", users[number % people]
            assignment = Assignment(
                id=f"a{number}",
                clip_id=clip_id,
                user_id=user.id,
                state="submitted",
                lease_expires_at=NOW + timedelta(minutes=10),
            )
            session.add(assignment)
            session.flush()
            submission = Submission(
                assignment_id=assignment.id,
                clip_id=clip_id,
                user_id=user.id,
                text="佢哋食咗飯",
                request_id=f"r{number}",
            )
            session.add(submission)
            session.flush()
            submission_ids.append(submission.id)
    return submission_ids


def ledger_round(database: Database, submission_ids: list[int]) -> None:
    """Accrue then settle every submission, one transaction each."""
    with database.session() as session:
        session.execute(delete(LedgerEntry))
        owners = dict(session.execute(select(Submission.id, Submission.user_id)).all())
    for number, submission_id in enumerate(submission_ids):
        with database.session() as session:
            accrue(
                session,
                submission_id,
                owners[submission_id],
                f"clip{number // 2:06d}",
                Decimal("0.58"),
                "CNY",
                now=NOW,
            )
    for number, submission_id in enumerate(submission_ids):
        with database.session() as session:
            settle_submission(session, submission_id, number % 5 != 0, CARD, NOW)


def main() -> None:
    entries = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "home"
        home.mkdir()
        with scratch_database(sys.argv[3] if len(sys.argv) > 3 else "sqlite", home) as database:
            measure(database, home, Path(folder) / "export", entries, runs)


def measure(database: Database, home: Path, out_dir: Path, entries: int, runs: int) -> None:
    """Fill the database, then time each step."""
    submission_ids = fill(database, home, entries)

    durations = [0.3 + (n % 150) / 10 for n in range(100_000)]
    priced = median_s(
        lambda: [price_clip(d, "cmn-shaanxi", "child", CARD) for d in durations], runs
    )
    print(f"price_clip: {len(durations) / priced:,.0f} clips/s")

    ledger = median_s(lambda: ledger_round(database, submission_ids), max(1, runs // 2))
    print(
        f"accrue + settle, one transaction each ({database.dialect}): "
        f"{2 * entries / ledger:,.0f} operations/s over {entries} entries"
    )

    def earnings() -> None:
        with database.session() as session:
            for user_id in range(1, 21):
                earnings_for(session, user_id, NOW)

    print(f"earnings_for: {median_s(earnings, runs) / 20 * 1000:.2f} ms per person")

    def report() -> None:
        with database.session() as session:
            settlement_report(session)

    print(f"settlement_report: {median_s(report, runs) * 1000:.1f} ms for {entries} entries")

    def export() -> None:
        with database.session() as session:
            export_dataset(session, home, out_dir)

    exported = median_s(export, runs)
    print(
        f"export_dataset: {exported * 1000:.0f} ms for {entries // 2} clips "
        f"({entries // 2 / exported:,.0f} clips/s, hard links)"
    )
    for fmt in ("nemo", "kaldi", "hf", "lhotse"):

        def export_as(fmt: str = fmt) -> None:
            with database.session() as session:
                export_dataset(session, home, out_dir, fmt=fmt)

        seconds = median_s(export_as, max(1, runs // 2))
        print(f"export --format {fmt}: {seconds * 1000:.0f} ms for {entries // 2} clips")

    def payout() -> None:
        with database.session() as session:
            session.execute(delete(PayoutItem))
            session.execute(delete(Payout))
        with database.session() as session:
            create_payouts(
                session, until=NOW + timedelta(days=1), payouts_dir=out_dir.parent, now=NOW
            )

    print(f"create_payouts: {median_s(payout, runs) * 1000:.0f} ms for {entries} entries")

    def status() -> None:
        with database.session() as session:
            status_of_campaign(session, now=NOW, card=CARD, default_overlap=2)

    print(f"campaign status: {median_s(status, runs) * 1000:.0f} ms for {entries // 2} clips")


if __name__ == "__main__":
    main()
