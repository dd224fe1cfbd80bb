"""Dispatch: publish collected clips as transcription work, priced, ``overlap`` slots each.

One task for the whole batch (it is a few SQL statements, not per-clip work); the task commits,
so once the flow returns the clips are claimable. Each project publishes with its own rate card
and overlap (``transcribe.publish_plan``).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from crowdscribe.clock import utc_now
from flows._runtime import migrate, retry_transient, task_database
from transcribe.projects import check_overlap
from transcribe.publish_plan import project_terms, projects_to_publish
from transcribe.publishing import publish_clips


@task(
    name="publish-clips",
    retries=2,
    retry_delay_seconds=1,
    retry_condition_fn=retry_transient,
    cache_policy=NO_CACHE,
)
def publish_batch(
    home: str | None,
    project: str | None,
    overlap: int | None,
    default_overlap: int,
    rates_file: Path | None,
) -> dict[str, Any]:
    """Publish every collected clip (of one project, if given), project by project, and commit."""
    totals: Counter[str] = Counter()
    by_language: Counter[str] = Counter()
    currencies: list[str] = []
    with task_database(home).session() as session:
        for name in projects_to_publish(session, project):
            terms = project_terms(
                session,
                name,
                overlap=overlap,
                default_overlap=default_overlap,
                rates_file=rates_file,
            )
            summary = publish_clips(
                session, project=name, overlap=terms.overlap, card=terms.card, now=utc_now()
            )
            totals.update(
                published=summary.published, slots=summary.slots, gold=summary.gold_kept_back
            )
            by_language.update(summary.by_language)
            if summary.currency not in currencies:
                currencies.append(summary.currency)
    return {
        "published": totals["published"],
        "slots": totals["slots"],
        "gold_kept_back": totals["gold"],
        "currency": ",".join(currencies),
        "by_language": dict(sorted(by_language.items())),
    }


@flow(name="dispatch")
def dispatch(
    project: str | None = None,
    overlap: int | None = None,
    home: str | None = None,
) -> dict[str, Any]:
    """Publish collected clips as work and return what was published, per language; ``overlap``
    None takes each project's own; ``home`` is the data home (else ``CROWDSCRIBE_HOME``)."""
    settings = migrate(home)
    if overlap is not None:
        check_overlap(overlap, settings.max_overlap)
    summary = publish_batch(home, project, overlap, settings.default_overlap, settings.rates_file)
    create_table_artifact(
        [{"language": code, "clips": n} for code, n in summary["by_language"].items()],
        key="dispatch",
        description=(
            f"Published {summary['published']} clip(s) of {project or 'all projects'} as "
            f"{summary['slots']} slot(s) (overlap {overlap or 'per project'}); "
            f"{summary['gold_kept_back']} gold clip(s) kept back"
        ),
    )
    get_run_logger().info(
        "published %d clip(s) as %d slot(s); %d gold clip(s) kept back",
        summary["published"],
        summary["slots"],
        summary["gold_kept_back"],
    )
    return summary
