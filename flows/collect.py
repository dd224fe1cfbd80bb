"""Collect recordings: find the files, cut each into clips in its pauses, store what became of it.

One task per recording, run in parallel; each commits its own result, so an interrupted run
loses nothing already collected and a re-run only does what is left.
"""

from __future__ import annotations

import os
import re
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.futures import PrefectFuture, as_completed
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from audio.pipeline import file_digest, process_recording
from audio.pitch import clips_median_f0_hz
from audio.segment import SegmentConfig
from crowdscribe.clip_store import ClipStore
from crowdscribe.languages import speaker_group_doubt
from crowdscribe.settings import settings_for
from crowdscribe.storage import catalog
from flows import progress
from flows._runtime import migrate, retry_transient, task_database
from transcribe import collection
from transcribe.collection import CollectRequest


@task(
    name="collect-recording",
    task_run_name="collect {source}",
    retries=2,
    retry_delay_seconds=1,
    retry_condition_fn=retry_transient,
    cache_policy=NO_CACHE,
)
def collect_recording(
    source: str, source_path: Path, request: CollectRequest, home: str | None, clips_url: str
) -> dict[str, Any]:
    """Segment one recording, write its clips and manifest to ``clips_url``, then commit it
    with its clips, unless this content is already in. Runs wherever the task runner puts it
    (a thread here, a Dask worker elsewhere): the database comes from that process's
    environment."""
    database = task_database(home)
    with database.session() as session:
        # is_file: a FIFO or device is never opened (process_recording refuses it with why).
        if source_path.is_file() and catalog.is_collected(
            session, source_path, file_digest(source_path)
        ):
            return {**catalog.recording_row(session, source_path), "already_collected": True}
    outcome = process_recording(
        source_path, clips_url, SegmentConfig(max_clip_s=request.max_clip_s)
    )
    pitch_hz = clips_median_f0_hz([clip.location for clip in outcome.clips])
    # Files first, then the rows naming them: a row never points at a clip not yet stored.
    collection.write_manifest(ClipStore(clips_url), source, request, outcome)
    home_dir = settings_for(home).home_dir
    with database.session() as session:
        collection.save_outcome(session, source, source_path, request, outcome, home_dir)
        collection.record_pitch(session, source_path, pitch_hz)
        return {**catalog.recording_row(session, source_path), "already_collected": False}


# Threads, not processes, on one machine: spawned workers re-import Prefect and the audio stack,
# which cost 26 s against 2.2 s for 8 recordings of 38 s here (bench/collect.py); a Dask
# cluster's workers (``dask_address``) are already up and pay that once.
@flow(name="collect", task_runner=ThreadPoolTaskRunner(max_workers=os.cpu_count()))
def collect(
    paths: list[str],
    language: str,
    speaker_group: str,
    project: str = "default",
    consent_ref: str | None = None,
    max_clip_s: float | None = None,
    home: str | None = None,
    clips_url: str | None = None,
    dask_address: str | None = None,
) -> dict[str, Any]:
    """Collect every recording under ``paths`` into the catalog and return counts per status.

    ``home`` is the data home (else ``CROWDSCRIBE_HOME``); the database is found where the flow
    and each task run (``flows._runtime``), never passed in; ``clips_url`` is where clip files
    and manifests go (a folder or ``s3://bucket/prefix``; else ``Settings.clips_url``, else
    ``HOME/clips``); ``dask_address`` is a Dask scheduler (``tcp://host:8786``) whose workers
    run the recordings, else this machine's threads do; ``max_clip_s`` defaults to
    ``Settings.max_clip_s``. Each recording's row goes, as it finishes, to the hook of an
    enclosing ``flows.progress.reporting_progress``."""
    logger = get_run_logger()
    settings = migrate(home)
    request = CollectRequest(
        language,
        speaker_group,
        max_clip_s if max_clip_s is not None else settings.max_clip_s,
        project,
        consent_ref,
    )
    store = ClipStore(clips_url or settings.resolved_clips_url)
    inputs = collection.find_recordings(paths)
    logger.info("collecting %d recording(s); clips go to %s", len(inputs), store.url)
    stale = store.remove_stale_temporaries(now_s=time.time())
    if stale:
        logger.info("removed %d half-written clip file(s) left by a killed run", len(stale))

    with _task_runner(dask_address) as runner:
        futures = {
            runner.submit(
                collect_recording,
                {
                    "source": source,
                    "source_path": source_path,
                    "request": request,
                    "home": home,
                    "clips_url": store.url,
                },
            ): source
            for source, source_path in inputs
        }
        rows, failures = _gather(futures)
    _publish_artifact(rows, failures, project)
    summary = _summarise(rows, failures)
    logger.info("collected: %s", summary["statuses"])
    return summary


@contextmanager
def _task_runner(dask_address: str | None) -> Iterator[TaskRunner]:
    """The flow's own thread pool, or a client of the Dask scheduler at ``dask_address``
    (imported only then: distributed takes a while to import)."""
    if dask_address is None:
        context = FlowRunContext.get()
        assert context is not None and context.task_runner is not None
        yield context.task_runner
        return
    from prefect_dask import DaskTaskRunner

    with DaskTaskRunner(address=dask_address) as runner:
        yield runner


def _gather(futures: dict[PrefectFuture, str]) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Wait for the recordings as they finish, logging progress; failures are kept, not raised."""
    logger = get_run_logger()
    rows, failures = [], []
    for done, future in enumerate(as_completed(list(futures)), start=1):
        source = futures[future]
        try:
            row = future.result()
        except Exception as error:  # noqa: BLE001 - one bad recording must not stop the rest
            failures.append({"source": source, "error": f"{type(error).__name__}: {error}"})
            logger.error("%d/%d %s failed (re-run to retry): %s", done, len(futures), source, error)
            row = {"source": source, "status": "failed", "reason": str(error), "clips": 0}
        else:
            rows.append(row)
            outcome = row["reason"] or f"{row['clips']} clip(s)"
            logger.info("%d/%d %s: %s, %s", done, len(futures), source, row["status"], outcome)
            doubt = speaker_group_doubt(row["speaker_group"], row["median_f0_hz"])
            if doubt:
                logger.warning("%s: %s", source, doubt)
        progress.report(row)
    return rows, failures


def _summarise(rows: list[dict[str, Any]], failures: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "recordings": len(rows) + len(failures),
        "statuses": dict(Counter(row["status"] for row in rows)),
        "already_collected": sum(row["already_collected"] for row in rows),
        "failed": failures,
        "clips": sum(row["clips"] for row in rows),
        "duration_s": round(sum(row["duration_s"] or 0.0 for row in rows), 3),
    }


def _publish_artifact(
    rows: list[dict[str, Any]], failures: list[dict[str, str]], project: str
) -> None:
    table = [
        {
            "source": row["source"],
            "status": row["status"],
            "reason": row["reason"] or "",
            "duration_s": row["duration_s"],
            "clips": row["clips"],
            "speech_ratio": row["speech_ratio"],
            "snr_db": row["snr_db"],
        }
        for row in rows
    ] + [{"source": f["source"], "status": "failed", "reason": f["error"]} for f in failures]
    key = "collect-" + re.sub(r"[^a-z0-9-]+", "-", project.lower()).strip("-")
    create_table_artifact(table, key=key, description=f"Recordings collected into {project}")
