"""Export: the finished dataset (manifest.jsonl and audio/ of agreed or resolved clips)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from flows._runtime import migrate, task_database
from review.export import export_dataset


@flow(name="export")
def export(out_dir: str, project: str | None = None, home: str | None = None) -> dict[str, Any]:
    """Write every agreed or resolved clip (of ``project``, or all) to ``out_dir``."""
    settings = migrate(home)
    with task_database(home).session() as session:
        summary = export_dataset(session, settings.home_dir, Path(out_dir), project=project)
    create_markdown_artifact(
        f"Exported **{summary.clips}** clip(s), {summary.duration_s / 60:.1f} min of audio, "
        f"to `{summary.out_dir}` (manifest `{summary.manifest_path.name}`).",
        key="export",
        description=f"Dataset export of {project or 'all projects'}",
    )
    get_run_logger().info("exported %d clip(s) to %s", summary.clips, summary.out_dir)
    return {"clips": summary.clips, "duration_s": summary.duration_s, "out_dir": str(out_dir)}
