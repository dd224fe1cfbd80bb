"""``crowdscribe projects``, ``dispatch --dry-run`` and ``stuck`` run in-process."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.cli import context, project_cmds, stuck_cmds, work_cmds
from crowdscribe.clock import utc_now
from crowdscribe.errors import Conflict, InvalidInput, NotFound
from crowdscribe.storage.models import Clip, WorkItem
from tests.builders import add_clips, add_person
from transcribe.dispatch.holding import skip_assignment
from transcribe.dispatch.sync_runner import claim_next_clip
from transcribe.pricing import default_rate_card
from transcribe.publishing import publish_clips


@pytest.fixture
def run(run_commands):
    groups = {project_cmds: ("projects",), stuck_cmds: ("stuck",), work_cmds: ()}

    def invoke(module, *args):
        return run_commands(module)(*groups[module], *args)

    return invoke


def test_projects_are_created_listed_shown_and_typos_refused(run, home) -> None:
    made = run(
        project_cmds, "create", "market", "--overlap", "3", "--budget", "20,000",
        "--deadline", "2027-03-31", "--time-zone", "Asia/Hong_Kong", "--rate", "yue:child=9/3",
        "--script", "traditional",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    [listed] = json.loads(run(project_cmds, "list", "--format", "json").output)
    assert (listed["budget"], listed["budget_currency"], listed["overlap"]) == (
        "20000.00", "CNY", 3,
    )  # fmt: skip
    assert listed["deadline"].startswith("2027-03-31T23:59:59")
    assert listed["script"] == "traditional"
    shown = json.loads(run(project_cmds, "show", "market", "--format", "json").output)
    assert shown["rate_card"]["rates"][0] == {
        "language": "yue", "speaker_group": "child", "amount": "9", "minutes": "3",
        "per_minute": "3.0000",
    }  # fmt: skip
    again = run(project_cmds, "create", "market")
    assert isinstance(again.exception, Conflict)
    typo = run(project_cmds, "show", "markte")
    assert isinstance(typo.exception, NotFound) and "did you mean market" in str(typo.exception)
    bad_fields = (
        ["--rate", "cantonese:kid=9"], ["--budget", "lots"], ["--time-zone", "HK"],
        ["--script", "kanji"],
    )  # fmt: skip
    for bad in bad_fields:
        refused = run(project_cmds, "create", "other", *bad)
        assert isinstance(refused.exception, InvalidInput), bad
    assert [
        p["name"] for p in json.loads(run(project_cmds, "list", "--format", "json").output)
    ] == ["market"]


def test_dry_run_prices_each_project_with_its_own_card_and_publishes_nothing(run, home) -> None:
    assert run(project_cmds, "create", "market", "--rate", "yue:child=9/3").exit_code == 0
    with context.database().session() as session:
        add_clips(session, 10, project="market", language="yue", speaker_group="child")
        add_clips(session, 4, project="default", language="en")
    result = run(work_cmds, "dispatch", "--dry-run", "--json")
    plans = {plan["project"]: plan for plan in json.loads(result.output)["projects"]}
    # 10 child clips of 6 s at 9 CNY / 3 min = 0.30 each, twice; 4 adult English at 0.20, twice.
    assert plans["market"]["projected_cost"] == "6.00"
    assert (plans["market"]["slots"], plans["market"]["audio_hours"]) == (20, 0.017)
    assert plans["default"]["projected_cost"] == "1.60"
    table = run(work_cmds, "dispatch", "--dry-run", "--project", "market", "--overlap", "3")
    assert "Dry run: nothing published" in table.output and "9.00" in table.output
    with context.database().session() as session:
        assert session.scalar(select(func.count()).select_from(WorkItem)) == 0
        assert set(session.scalars(select(Clip.status))) == {"collected"}


def test_stuck_lists_relabels_and_drops(run, home) -> None:
    database = context.database()
    with database.session() as session:
        first, second = add_clips(session, 2, language="en")
        publish_clips(session, project=None, overlap=2, card=default_rate_card(), now=utc_now())
        people = [add_person(session, name).person for name in ("ann", "bo")]
    for person in people:
        for _ in range(2):
            claim = claim_next_clip(database, person.id)
            with database.session() as session:
                skip_assignment(session, claim.assignment_id, person.id, "empty", utc_now())
    rows = [json.loads(line) for line in run(stuck_cmds, "--format", "jsonl").output.splitlines()]
    assert [(row["clip_id"], row["skips"]) for row in rows] == [
        (first, {"empty": 2}), (second, {"empty": 2}),
    ]  # fmt: skip
    assert "2 stuck clip(s)" in run(stuck_cmds).output
    relabel = run(stuck_cmds, "relabel", first, "--language", "yue", "--reason", "Cantonese")
    assert relabel.exit_code == 0, relabel.output
    # Published again, but nobody works in Cantonese yet: it stays on the list, saying why.
    assert "nobody can take it yet: nobody active is qualified in yue" in relabel.output
    assert run(stuck_cmds, "drop", second).exit_code == 0
    [row] = [
        json.loads(line)
        for line in run(stuck_cmds, "list", "--format", "jsonl").output.splitlines()
    ]
    assert (row["clip_id"], row["kind"]) == (first, "unreachable")
    refused = run(stuck_cmds, "reopen", first)
    assert isinstance(refused.exception, Conflict) and "qualify someone new in yue" in str(
        refused.exception
    )
    assert run(stuck_cmds, "drop", first).exit_code == 0
    assert run(stuck_cmds, "list", "--format", "jsonl").output == ""


def test_a_projects_policy_file_is_checked_at_create_and_edit(run, home, tmp_path) -> None:
    typo = tmp_path / "typo.toml"
    typo.write_text('[escalation]\nrule = "reveiw"\n', encoding="utf-8")
    good = tmp_path / "strict.toml"
    good.write_text('wer = 0.05\n[escalation]\nrule = "review"\n', encoding="utf-8")
    refused = run(project_cmds, "create", "market", "--policy-file", str(typo))
    assert isinstance(refused.exception, InvalidInput)
    assert "did you mean review?" in str(refused.exception)
    assert run(project_cmds, "list", "--format", "json").output.strip() == "[]"

    assert run(project_cmds, "create", "market", "--policy-file", str(good)).exit_code == 0
    edited = run(project_cmds, "edit", "market", "--policy-file", str(typo), "--overlap", "3")
    assert isinstance(edited.exception, InvalidInput)
    shown = json.loads(run(project_cmds, "show", "market", "--format", "json").output)
    assert (shown["policy_file"], shown["overlap"]) == (str(good.resolve()), 2)

    misspelt = run(project_cmds, "edit", "markte", "--overlap", "3")
    assert isinstance(misspelt.exception, NotFound)
    assert "did you mean market" in str(misspelt.exception)
    changed = run(project_cmds, "edit", "market", "--overlap", "3", "--rate", "yue=8/3")
    assert changed.exit_code == 0, changed.output
    shown = json.loads(run(project_cmds, "show", "market", "--format", "json").output)
    assert shown["overlap"] == 3 and shown["rate_overrides"][0]["amount"] == "8"
    assert shown["policy_file"] == str(good.resolve())
