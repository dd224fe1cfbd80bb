"""The agreement flow under a real (temporary) Prefect server: batches, artifacts, re-runs."""

from __future__ import annotations

import os
import uuid
from unittest import mock

import pytest
from sqlalchemy import func, select

from crowdscribe.storage.db import Database
from crowdscribe.storage.models import Clip, Dispute, Qualification
from flows.agreement import agreement
from tests import review_world as world
from tests.builders import add_person

pytestmark = pytest.mark.usefixtures("prefect_server")

TRUTH = "so we went down to the the river and um we caught three fish [laugh]"
DROPPED_REPETITION = "so we went down to the river and um we caught three fish [laugh]"
OTHER = "we were going to go to the river but it rained all day so we stayed in"
CHINESE = "我们昨天去了公园，天气很好，我们玩得很开心。"
CHINESE_TRADITIONAL = "我們昨天去了公園，天氣很好，我們玩得很開心。"


def run_flow(settings, database: Database, **options) -> dict:
    # The flow finds its database in the environment, as it would on a worker.
    with mock.patch.dict(os.environ, {"CROWDSCRIBE_DATABASE_URL": database.url}):
        return agreement(home=str(settings.home), **options)


def statuses(database: Database) -> dict[str, int]:
    with database.session() as session:
        return dict(session.execute(select(Clip.status, func.count()).group_by(Clip.status)).all())


def test_agreement_flow_decides_each_clip_once(settings, sqlite_database) -> None:
    database = sqlite_database
    english = [world.add_clip(database, settings) for _ in range(4)]
    chinese = world.add_clip(database, settings, language="yue")
    world.publish(database)
    ann, bob, cat, dan = (
        add_person(database, n, languages=("en", "yue")) for n in ("ann", "bob", "cat", "dan")
    )
    # clip 1 identical, clip 2 near-identical, clip 3 disagrees, clip 4 bad audio twice. Clip 3's
    # second writer is new (nothing of theirs is scored in any batch), so one more person is
    # asked before a reviewer; known, trusted writers far apart would go to review at once.
    for text, writer in ((TRUTH, bob), (DROPPED_REPETITION, bob), (OTHER, dan)):
        world.transcribe(database, ann, TRUTH)
        world.transcribe(database, writer, text)
    world.skip(database, ann, "bad_audio")
    world.skip(database, bob, "bad_audio")
    world.transcribe(database, ann, CHINESE, "yue")
    world.transcribe(database, bob, CHINESE_TRADITIONAL, "yue")

    first = run_flow(settings, database, batch_size=2)

    assert first["batches"] == 3
    assert (first["accepted"], first["more_transcriptions"], first["unusable"]) == (3, 1, 1)
    assert sum(first["histogram"].values()) == 4  # the bad-audio clip has no agreement error
    assert statuses(database) == {"agreed": 3, "published": 1, "disputed": 1}
    assert world.clip_row(database, chinese).final_text in (CHINESE, CHINESE_TRADITIONAL)

    # Re-running while the extra slot is open decides nothing.
    second = run_flow(settings, database)
    assert second["batches"] == 0
    assert statuses(database) == {"agreed": 3, "published": 1, "disputed": 1}

    # The third transcript disagrees with both: the clip goes to a reviewer.
    assert world.transcribe(database, cat, "the weather was nice [noise]") == english[2]
    third = run_flow(settings, database)
    assert (third["accepted"], third["disputed"]) == (0, 1)
    with database.session() as session:
        kinds = dict(session.execute(select(Dispute.clip_id, Dispute.kind)).all())
    assert kinds == {english[2]: "disagreement", english[3]: "bad_audio"}


def test_the_flow_leaves_a_histogram_artifact(settings, sqlite_database) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    project = f"lake-{uuid.uuid4().hex[:8]}"  # its own artifact key: the server may be shared
    world.add_clip(sqlite_database, settings, project=project)
    world.publish(sqlite_database)
    ann, bob = add_person(sqlite_database, "ann"), add_person(sqlite_database, "bob")
    world.transcribe(sqlite_database, ann, TRUTH)
    world.transcribe(sqlite_database, bob, TRUTH)

    result = run_flow(settings, sqlite_database, project=project)

    assert result["accepted"] == 1
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[f"agreement-{project}"]))
        )
    markdown = artifacts[-1].data
    assert "| accepted | 1 |" in markdown
    assert "| 0 | 1 |" in markdown  # one clip in the zero-error bin


def test_people_below_the_bar_are_paused(settings, sqlite_database) -> None:
    database = sqlite_database
    for _ in range(10):
        world.add_clip(database, settings)
    world.publish(database, overlap=2)
    ann, bob, cat = (add_person(database, name) for name in ("ann", "bob", "cat"))
    for _ in range(10):  # bob is far off on every clip; ann and cat agree
        world.transcribe(database, ann, TRUTH)
        world.transcribe(database, bob, OTHER)
    run_flow(settings, database)
    for _ in range(10):
        world.transcribe(database, cat, TRUTH)

    result = run_flow(settings, database)

    assert result["accepted"] == 10
    assert [pause["user_id"] for pause in result["pauses"]] == [bob.person.id]
    with database.session() as session:
        standing = dict(session.execute(select(Qualification.user_id, Qualification.status)).all())
        reason = session.scalar(
            select(Qualification.reason).where(Qualification.user_id == bob.person.id)
        )
    assert standing == {
        ann.person.id: "qualified",
        bob.person.id: "paused",
        cat.person.id: "qualified",
    }
    assert "retake the en exam" in reason
