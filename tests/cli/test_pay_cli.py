"""``crowdscribe rates``, ``earnings``, ``settle`` and ``export`` as a coordinator runs them."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
import soundfile

from app.cli import context, pay_cmds
from crowdscribe.errors import InvalidInput, NotFound, Refusal
from crowdscribe.settings import get_settings
from crowdscribe.storage.db import Database
from crowdscribe.storage.models import Clip, User
from tests.builders import add_recording, add_submitted
from transcribe.ledger import accrue, settle_submission
from transcribe.pricing import RateCardError, default_rate_card
from transcribe.projects import create_project

CARD = default_rate_card()


@pytest.fixture
def run(run_commands):
    return run_commands(pay_cmds)


@pytest.fixture
def db(home: Path) -> Database:
    return context.database()


def paid_work(db: Database, home: Path) -> None:
    """mei: two clips credited, one pending; jun: one clip discounted. Clip audio on disk."""
    now = datetime.now(UTC)
    with db.session() as session:
        users = {
            name: User(name=name, roles="transcriber", token_digest=name) for name in ("mei", "jun")
        }
        session.add_all(users.values())
        recording = add_recording(session, "/data/a.wav", language="yue", project="p1")
        (home / "clips").mkdir(exist_ok=True)
        for number in range(3):
            clip_id = f"clip-{number}"
            samples = np.zeros(int(1.5 * 16000), dtype=np.float32)
            samples[::50] = 0.1
            soundfile.write(home / "clips" / f"{clip_id}.flac", samples, 16000, format="FLAC")
            session.add(
                Clip(
                    id=clip_id,
                    recording_id=recording.id,
                    start_s=number * 2.0,
                    end_s=number * 2.0 + 1.5,
                    duration_s=1.5,
                    audio_path=f"clips/{clip_id}.flac",
                    language="yue",
                    speaker_group="adult",
                    project="p1",
                    status="agreed" if number < 2 else "unusable",
                    final_text="佢哋食咗飯" if number < 2 else None,
                    price=Decimal("0.58"),
                    currency="CNY",
                )
            )
        session.flush()
        work = [("mei", "clip-0", True), ("mei", "clip-1", True), ("mei", "clip-2", None)]
        work += [("jun", "clip-0", False)]
        for name, clip_id, accepted in work:
            user_id = users[name].id
            submission_id = add_submitted(session, clip_id, user_id, "佢哋食咗飯", now)
            accrue(session, submission_id, user_id, clip_id, Decimal("0.58"), "CNY", now=now)
            if accepted is not None:
                settle_submission(session, submission_id, accepted, CARD, now)


def test_rates_shows_the_default_card(run) -> None:
    result = run("rates")
    assert result.exit_code == 0, result.output
    assert "Rates in CNY (built-in default card)" in result.output
    assert "cmn-shaanxi" in result.output and "2.3333" in result.output
    assert "minimum per clip 0.10 CNY" in result.output


def test_rates_as_json_uses_the_configured_card(run, tmp_path, monkeypatch) -> None:
    card = tmp_path / "rates.toml"
    card.write_text('currency = "USD"\nminimum_per_clip = "0.02"\n[default]\namount = 0.40\n')
    monkeypatch.setenv("CROWDSCRIBE_RATES_FILE", str(card))
    get_settings.cache_clear()
    result = run("rates", "--format", "json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["currency"] == "USD"
    assert shown["minimum_per_clip"] == "0.02"
    assert shown["default"]["per_minute"] == "0.4000"
    assert shown["rates"] == []


def test_a_broken_card_is_refused_with_the_reason(run, tmp_path, monkeypatch) -> None:
    card = tmp_path / "rates.toml"
    card.write_text('currency = "CNY"\n[default]\namount = -2\n')
    monkeypatch.setenv("CROWDSCRIBE_RATES_FILE", str(card))
    get_settings.cache_clear()
    result = run("rates")
    assert isinstance(result.exception, RateCardError)
    assert isinstance(result.exception, Refusal)  # the `crowdscribe` main turns it into exit 2
    assert "amount must be zero or more" in str(result.exception)


def test_earnings_shows_a_persons_totals(run, db, home) -> None:
    paid_work(db, home)
    result = run("earnings", "mei", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "name": "mei",
        "currency": "CNY",
        "today": "1.74",
        "pending": "0.58",
        "credited": "1.16",
        "discounted": "0.00",
        "settled": "1.16",
        "paid": "0.00",
        "unpaid": "1.16",
    }
    table = run("earnings", "jun")
    assert table.exit_code == 0, table.output
    assert "Earnings of jun (CNY)" in table.output and "0.29" in table.output


def test_earnings_of_an_unknown_person_names_them(run, db) -> None:
    result = run("earnings", "nobody")
    assert isinstance(result.exception, NotFound)
    assert "no person named 'nobody'" in str(result.exception)


def test_settle_lists_what_each_person_is_owed(run, db, home) -> None:
    paid_work(db, home)
    result = run("settle", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [(row["name"], row["owed"], row["pending"], row["entries"]) for row in rows] == [
        ("jun", "0.29", "0.00", "1"),
        ("mei", "1.16", "0.58", "2"),
    ]
    table = run("settle")
    assert table.exit_code == 0, table.output
    assert "Payouts" in table.output and "1.16" in table.output
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%d")
    assert (
        list(
            csv.DictReader(
                io.StringIO(run("settle", "--since", tomorrow, "--format", "csv").output)
            )
        )
        == []
    )


def test_settle_refuses_a_bad_date(run, db) -> None:
    result = run("settle", "--since", "14/03/2025")
    assert isinstance(result.exception, InvalidInput)
    assert "not a date like" in str(result.exception)


def test_export_writes_the_final_clips(run, db, home, tmp_path) -> None:
    paid_work(db, home)
    out_dir = tmp_path / "dataset"
    result = run("export", str(out_dir), "--project", "p1")
    assert result.exit_code == 0, result.output
    assert "exported 2 clips" in result.output
    records = [json.loads(line) for line in (out_dir / "manifest.jsonl").read_text().splitlines()]
    assert [record["clip_id"] for record in records] == ["clip-0", "clip-1"]
    assert all((out_dir / record["audio_path"]).is_file() for record in records)


def test_export_writes_chinese_in_the_projects_script(run, db, home, tmp_path) -> None:
    paid_work(db, home)
    with db.session() as session:
        create_project(session, "p1", overlap=2, max_overlap=5, script="simplified")
    result = run("export", str(tmp_path / "dataset"))
    assert result.exit_code == 0, result.output
    manifest = (tmp_path / "dataset" / "manifest.jsonl").read_text(encoding="utf-8")
    assert [json.loads(line)["text"] for line in manifest.splitlines()] == ["佢哋食咗饭"] * 2
    typed = run("export", str(tmp_path / "typed"), "--script", "as-typed")
    assert typed.exit_code == 0, typed.output
    assert "佢哋食咗飯" in (tmp_path / "typed" / "manifest.jsonl").read_text(encoding="utf-8")


def test_export_in_kaldi_layout_with_a_split(run, db, home, tmp_path) -> None:
    paid_work(db, home)
    out_dir = tmp_path / "kaldi"
    result = run("export", str(out_dir), "--format", "kaldi", "--split", "0,1,0")
    assert result.exit_code == 0, result.output
    assert "as kaldi" in result.output and "dev 2" in result.output
    utt2spk = (out_dir / "data" / "dev" / "utt2spk").read_text().splitlines()
    assert [line.split()[0].split("-", 1)[1] for line in utt2spk] == ["clip-0", "clip-1"]
    assert not (out_dir / "data" / "train").exists()


def test_export_refuses_a_bad_split(run, db, tmp_path) -> None:
    result = run("export", str(tmp_path / "out"), "--split", "0.9,0.2,0.1")
    assert isinstance(result.exception, InvalidInput)
    assert "must add up to 1" in str(result.exception)
    assert not (tmp_path / "out").exists()
