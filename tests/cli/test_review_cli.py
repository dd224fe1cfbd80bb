"""``crowdscribe agree``, ``disputes`` and ``accuracy`` as a coordinator runs them."""

from __future__ import annotations

import json

import pytest

from app.cli import context, review_cmds
from crowdscribe.errors import NotFound
from crowdscribe.settings import get_settings
from tests import review_world as world
from tests.builders import add_person
from transcribe.users import pause_language

TRUTH = "so we went down to the the river and um we caught three fish [laugh]"
OTHER = "we were going to go to the river but it rained all day so we stayed in"
THIRD = "the weather was nice [noise]"


@pytest.fixture
def run(run_commands):
    return run_commands(review_cmds)


def test_agree_decides_and_disputes_lists_what_is_left(run, home, prefect_server) -> None:
    database, settings = context.database(), get_settings()
    agreed = world.add_clip(database, settings, project="river")
    disputed = world.add_clip(database, settings, project="river")
    lake = world.add_clip(database, settings, project="lake")
    world.publish(database)
    ann, bob, cat = (add_person(database, name) for name in ("ann", "bob", "cat"))
    for text in (TRUTH, OTHER, TRUTH):
        world.transcribe(database, ann, TRUTH)
        world.transcribe(database, bob, text)

    first = run("agree", "--project", "river")
    assert first.exit_code == 0, first.output
    assert "accepted" in first.output and "more transcriptions" in first.output
    assert world.clip_row(database, agreed).status == "agreed"
    assert world.clip_row(database, lake).status == "published"  # another project
    assert world.transcribe(database, cat, THIRD) == disputed
    everything = run("agree")
    assert everything.exit_code == 0, everything.output
    assert world.clip_row(database, lake).status == "agreed"

    listed = run("disputes", "--format", "jsonl")
    rows = [json.loads(line) for line in listed.output.splitlines()]
    assert [(row["clip_id"], row["kind"], row["transcripts"]) for row in rows] == [
        (disputed, "disagreement", 3)
    ]
    table = run("disputes")
    assert disputed in table.output and "1 open dispute(s)" in table.output


def test_accuracy_shows_who_is_paused_and_why(run, home) -> None:
    database, settings = context.database(), get_settings()
    add_person(database, "ann")
    bob = add_person(database, "bob")

    with database.session() as session:
        pause_language(session, bob.person.id, "en", "Error rate 40% over the last 12 clips")

    everyone = run("accuracy", "--format", "jsonl")
    rows = {row["name"]: row for row in map(json.loads, everyone.output.splitlines())}
    assert rows["ann"]["status"] == "qualified"
    assert (rows["bob"]["status"], rows["bob"]["reason"]) == (
        "paused",
        "Error rate 40% over the last 12 clips",
    )
    one = run("accuracy", "bob")
    assert "paused" in one.output and "ann" not in one.output
    missing = run("accuracy", "nobody")
    assert isinstance(missing.exception, NotFound)
    assert settings.accuracy_bar == 0.25 and "25%" in one.output
