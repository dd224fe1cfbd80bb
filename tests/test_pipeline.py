"""The whole job once, as its users do it: a coordinator collects the bundled English samples
and publishes them, transcribers work through the JSON API, the agreement flow accepts what
agrees and escalates what does not, a reviewer settles the dispute, pay follows the verdicts,
and the export holds every final text beside its audio."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest
import soundfile
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.web.app import create_app
from crowdscribe.settings import Settings
from crowdscribe.storage.db import Database
from crowdscribe.storage.models import Clip, LedgerEntry, User
from flows.agreement import agreement
from flows.collect import collect
from flows.dispatch import dispatch
from flows.export import export as export_flow
from flows.settle import settle
from review.export import export_dataset
from transcribe.ledger import settlement_report
from transcribe.users import create_user

pytestmark = pytest.mark.usefixtures("prefect_server")

SAMPLES_EN = Path(__file__).resolve().parents[1] / "samples" / "en"
AGREED_TEXT = "the the little dog um ran to the park [noise]"
OTHER_TEXT = "a cat was sleeping on the warm red sofa all day"
THIRD_TEXT = "we went to see grandma on the bus yesterday"


def work_through_queue(client: TestClient, token: str, text_for: dict[str, str]) -> list[str]:
    """Claim and submit until the queue says there is nothing left; returns the clip ids."""
    headers = {"Authorization": f"Bearer {token}"}
    done = []
    while (claim := client.post("/api/v1/clips/next", headers=headers)).status_code == 200:
        body = claim.json()
        assert Decimal(body["price"]) > 0
        assert client.get(body["audio_url"], headers=headers).status_code == 200
        text = text_for.get(body["clip_id"], AGREED_TEXT)
        submitted = client.post(
            f"/api/v1/assignments/{body['assignment_id']}/submit",
            json={"text": text, "request_id": f"{token[:8]}-{body['clip_id']}"},
            headers=headers,
        )
        assert submitted.status_code == 201, submitted.text
        done.append(body["clip_id"])
    assert claim.status_code == 204
    return done


def statuses(database: Database) -> dict[str, str]:
    with database.session() as session:
        return {clip.id: clip.status for clip in session.scalars(select(Clip))}


def ledger_states(database: Database, name: str) -> dict[str, str]:
    with database.session() as session:
        user_id = session.scalar(select(User.id).where(User.name == name))
        entries = session.scalars(select(LedgerEntry).where(LedgerEntry.user_id == user_id))
        return {entry.clip_id: entry.state for entry in entries}


def test_samples_go_from_recordings_to_an_exported_dataset(
    settings: Settings, sqlite_database: Database, tmp_path: Path
) -> None:
    home = str(settings.home)
    collected = collect(
        paths=[str(SAMPLES_EN)],
        language="en",
        speaker_group="child",
        project="e2e",
        home=home,
    )
    assert collected["statuses"] == {"segmented": 2}
    published = dispatch(project="e2e", overlap=2, home=home)
    assert published["published"] == collected["clips"] > 1

    with sqlite_database.session() as session:
        tokens = {
            name: create_user(session, name, roles, ["en"], qualified=["en"])[1]
            for name, roles in (
                ("ada", ["transcriber"]),
                ("bo", ["transcriber"]),
                ("cy", ["transcriber"]),
                ("rev", ["reviewer"]),
            )
        }
    client = TestClient(create_app(settings, sqlite_database))

    clips = work_through_queue(client, tokens["ada"], {})
    contested = clips[0]
    assert work_through_queue(client, tokens["bo"], {contested: OTHER_TEXT}) == clips

    first = agreement(project="e2e", home=home)
    assert first["accepted"] == len(clips) - 1
    assert statuses(sqlite_database)[contested] == "published"  # one more transcription asked
    assert work_through_queue(client, tokens["cy"], {contested: THIRD_TEXT}) == [contested]
    second = agreement(project="e2e", home=home)
    assert second["disputed"] == 1

    reviewer = {"Authorization": f"Bearer {tokens['rev']}"}
    [dispute] = client.get("/api/v1/disputes", headers=reviewer).json()
    resolved = client.post(
        f"/api/v1/disputes/{dispute['id']}/resolve",
        json={"final_text": AGREED_TEXT, "reason": "reviewer_edit"},
        headers=reviewer,
    )
    assert resolved.status_code == 200, resolved.text

    final = statuses(sqlite_database)
    assert final[contested] == "resolved"
    assert {final[clip] for clip in clips if clip != contested} == {"agreed"}
    assert set(ledger_states(sqlite_database, "ada").values()) == {"credited"}
    assert ledger_states(sqlite_database, "bo")[contested] == "discounted"
    assert ledger_states(sqlite_database, "cy") == {contested: "discounted"}
    assert agreement(project="e2e", home=home)["accepted"] == 0

    with sqlite_database.session() as session:
        summary = export_dataset(session, settings.home_dir, tmp_path / "export", project="e2e")
    records = [json.loads(line) for line in summary.manifest_path.read_text().splitlines()]
    assert sorted(record["clip_id"] for record in records) == sorted(clips)
    assert {record["text"] for record in records} == {AGREED_TEXT}
    for record in records:
        audio, rate_hz = soundfile.read(tmp_path / "export" / record["audio_path"])
        assert rate_hz == 16000
        assert len(audio) / rate_hz == pytest.approx(record["duration_s"], abs=0.01)

    # The deployments' settle and export flows give what the library calls give.
    exported = export_flow(out_dir=str(tmp_path / "flow-export"), project="e2e", home=home)
    assert exported["clips"] == len(clips)
    flow_records = (tmp_path / "flow-export" / "manifest.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["clip_id"] for line in flow_records) == sorted(clips)
    settled = settle(home=home)
    with open(settled["report"], newline="") as report:
        owed = {row["name"]: Decimal(row["owed"]) for row in csv.DictReader(report)}
    with sqlite_database.session() as session:
        expected = {line.name: line.owed for line in settlement_report(session)}
    assert owed == expected and set(owed) == {"ada", "bo", "cy"}
    assert all(amount > 0 for amount in owed.values())
