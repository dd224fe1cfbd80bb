"""Agreement: decide every clip whose transcriptions are complete, in batches.

find complete clips → decide each batch (accept / one more slot / dispute; one task per batch,
each committing its own work) → score gold transcripts → pause people below the accuracy bar.
Every step is idempotent, so a re-run only decides what is newly complete.
"""

from __future__ import annotations

import re
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from crowdscribe.clock import utc_now
from crowdscribe.settings import settings_for
from flows._runtime import migrate, retry_transient, task_database
from review.accuracy import enforce_accuracy_bar
from review.processing import (
    BatchSummary,
    complete_clip_ids,
    process_clips,
    score_gold_submissions,
)
from review.project_policies import policy_book
from transcribe.pricing import load_rate_card


def _artifact_key(project: str | None) -> str:
    return "agreement-" + re.sub(r"[^a-z0-9-]+", "-", (project or "all").lower()).strip("-")


def batch_markdown(index: int, summary: dict[str, Any]) -> str:
    """The batch's counts and agreement histogram as a markdown report."""
    lines = [
        f"## Agreement batch {index}",
        "",
        "| outcome | clips |",
        "|---|---:|",
        f"| accepted | {summary['accepted']} |",
        f"| more transcriptions | {summary['more_transcriptions']} |",
        f"| disputed | {summary['disputed']} |",
        f"| unusable (bad audio ×2) | {summary['unusable']} |",
        f"| already decided | {summary['skipped']} |",
        "",
        "| agreement error | clips |",
        "|---|---:|",
    ]
    lines += [f"| {label} | {count} |" for label, count in summary["histogram"].items()]
    return "\n".join(lines) + "\n"


@task(
    name="find-complete-clips",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=1,
    retry_condition_fn=retry_transient,
)
def find_complete_clips(home: str | None, project: str | None, batch_size: int) -> list[list[str]]:
    """Every complete, undecided clip id, cut into batches of ``batch_size``."""
    batches: list[list[str]] = []
    after = None
    with task_database(home).session() as session:
        while batch := complete_clip_ids(session, project=project, after=after, limit=batch_size):
            batches.append(batch)
            after = batch[-1]
    return batches


@task(
    name="decide-batch",
    task_run_name="decide batch {index}",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=1,
    retry_condition_fn=retry_transient,
)
def decide_batch(index: int, clip_ids: list[str], home: str | None) -> dict[str, Any]:
    """Decide and apply one batch in one transaction, each clip by its project's policy; leaves
    its histogram as an artifact."""
    settings = settings_for(home)
    card = load_rate_card(settings.rates_file)
    with task_database(home).session() as session:
        summary = process_clips(
            session,
            clip_ids,
            policies=policy_book(session, settings.policy_file),
            card=card,
            max_overlap=settings.max_overlap,
            now=utc_now(),
            window=settings.accuracy_window,
            scripts=settings.final_scripts,
        )
    report = summary.to_dict()
    create_markdown_artifact(
        batch_markdown(index, report),
        key="agreement-batches",
        description=f"Agreement batch {index}: {len(clip_ids)} clip(s)",
    )
    return report


@task(
    name="score-gold",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=1,
    retry_condition_fn=retry_transient,
)
def score_gold(home: str | None, project: str | None) -> list[int]:
    """Score unscored gold transcripts against their references; returns who was scored."""
    settings = settings_for(home)
    with task_database(home).session() as session:
        scored = score_gold_submissions(
            session,
            policies=policy_book(session, settings.policy_file),
            card=load_rate_card(settings.rates_file),
            now=utc_now(),
            project=project,
        )
    return sorted(scored)


@task(
    name="check-accuracy",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=1,
    retry_condition_fn=retry_transient,
)
def check_accuracy(home: str | None, user_ids: list[int]) -> list[dict]:
    """Pause anyone scored in this run whose recent error rate is above the bar."""
    settings = settings_for(home)
    with task_database(home).session() as session:
        pauses = enforce_accuracy_bar(
            session, user_ids, bar=settings.accuracy_bar, window=settings.accuracy_window
        )
    return [pause.__dict__ for pause in pauses]


@flow(name="agreement")
def agreement(
    batch_size: int = 500,
    project: str | None = None,
    home: str | None = None,
) -> dict[str, Any]:
    """Decide every complete clip (of ``project``, or all) and return the totals.

    ``home`` is the data home (else ``CROWDSCRIBE_HOME``); tasks read their settings and
    database where they run, so no secret is ever a parameter."""
    logger = get_run_logger()
    migrate(home)

    totals = BatchSummary()
    batches = find_complete_clips(home, project, batch_size)
    logger.info("%d batch(es) of complete clips", len(batches))
    scored: set[int] = set()
    for index, clip_ids in enumerate(batches, start=1):
        report = decide_batch(index, clip_ids, home)
        _add_report(totals, report)
        scored.update(report["scored_users"])
        logger.info("batch %d: %s", index, {k: v for k, v in report.items() if k != "histogram"})
    scored.update(score_gold(home, project))
    # Only people scored in this run can have crossed the bar.
    pauses = check_accuracy(home, sorted(scored)) if scored else []
    for pause in pauses:
        logger.warning(
            "paused user %s in %s: %s", pause["user_id"], pause["language"], pause["reason"]
        )
    result = totals.to_dict()
    result.update(batches=len(batches), pauses=pauses)
    if batches:
        create_markdown_artifact(
            batch_markdown(0, result).replace("Agreement batch 0", "Agreement run totals"),
            key=_artifact_key(project),
            description=f"Agreement totals over {len(batches)} batch(es)",
        )
    return result


def _add_report(totals: BatchSummary, report: dict[str, Any]) -> None:
    totals.accepted += report["accepted"]
    totals.more_transcriptions += report["more_transcriptions"]
    totals.disputed += report["disputed"]
    totals.unusable += report["unusable"]
    totals.skipped += report["skipped"]
    totals.histogram.update({label: n for label, n in report["histogram"].items() if n})
    totals.scored_users.update(report["scored_users"])
