"""Dispatch: publish collected clips as transcription work, priced, ``overlap`` slots each.

One task for the whole batch (it is a few SQL statements, not per-clip work); the task commits,
so once the flow returns the clips are claimable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from crowdscribe.clock import utc_now
from crowdscribe.errors import InvalidInput
from flows._runtime import migrate, retry_transient, task_database
from transcribe.pricing import load_rate_card
from transcribe.publishing import publish_clips


@task(
    name="publish-clips",
    retries=2,
    retry_delay_seconds=1,
    retry_condition_fn=retry_transient,
    cache_policy=NO_CACHE,
)
def publish_batch(
    home: str | None, project: str | None, overlap: int, rates_file: Path | None
) -> dict[str, Any]:
    """Publish every collected clip (of one project, if given) and commit."""
    card = load_rate_card(rates_file)
    with task_database(home).session() as session:
        summary = publish_clips(session, project=project, overlap=overlap, card=card, now=utc_now())
    return summary.to_dict()


@flow(name="dispatch")
def dispatch(
    project: str | None = None,
    overlap: int | None = None,
    home: str | None = None,
) -> dict[str, Any]:
    """Publish collected clips as work and return what was published, per language;
    ``overlap`` defaults to ``Settings.default_overlap``; ``home`` is the data home (else
    ``CROWDSCRIBE_HOME``)."""
    settings = migrate(home)
    if overlap is None:
        overlap = settings.default_overlap
    if not 1 <= overlap <= settings.max_overlap:
        raise InvalidInput(f"overlap must be between 1 and {settings.max_overlap}, not {overlap}")
    summary = publish_batch(home, project, overlap, settings.rates_file)
    create_table_artifact(
        [{"language": code, "clips": n} for code, n in summary["by_language"].items()],
        key="dispatch",
        description=(
            f"Published {summary['published']} clip(s) of {project or 'all projects'} as "
            f"{summary['slots']} slot(s) (overlap {overlap}); "
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
