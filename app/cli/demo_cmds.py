"""``crowdscribe demo``: the whole collection job on the bundled samples, nothing to install."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated

import typer

from app.cli import context
from app.cli.output import console, rows_table
from transcribe.projects import check_overlap, create_project, find_project

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "samples"
DEMO_PROJECT = "samples"
DEMO_PEOPLE = (
    ("coordinator", ("coordinator",)),
    ("ada", ("transcriber",)),
    ("bo", ("transcriber",)),
    ("rev", ("reviewer",)),
    ("cai", ("transcriber",)),
)
# A newcomer: in every language, qualified in none, to try the exams on the gold clips.
NEWCOMER = "cai"


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the ``crowdscribe`` app."""
    app.command(name="demo")(demo)


def demo(
    samples: Annotated[
        Path, typer.Option(help="Folder with samples.toml and one folder per language.")
    ] = SAMPLES_DIR,
    overlap: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Independent transcriptions per clip [default: CROWDSCRIBE_DEFAULT_OVERLAP, 2].",
        ),
    ] = None,
) -> None:
    """Collect the sample recordings, publish their clips, and create demo people to log in with."""
    from flows.collect import collect
    from flows.dispatch import dispatch

    settings = context.settings()
    overlap = check_overlap(
        settings.default_overlap if overlap is None else overlap, settings.max_overlap
    )
    folders = tomllib.loads((samples / "samples.toml").read_text())
    _ensure_project(overlap)
    with context.flow_target() as target:
        for folder, meta in folders.items():
            console.rule(f"collect {folder}/ ({meta['language']}, {meta['speaker_group']})")
            collect(
                paths=[str(samples / folder)],
                language=meta["language"],
                speaker_group=meta["speaker_group"],
                project=DEMO_PROJECT,
                consent_ref=meta.get("consent_ref"),
                **target,
            )
        console.rule("dispatch")
        summary = dispatch(project=DEMO_PROJECT, overlap=overlap, **target)
    console.print(_dispatch_line(summary))
    console.rule("gold clips")
    console.print(rows_table(_add_gold(samples, folders), ("language", "gold clips")))
    _print_people(_ensure_people(sorted({m["language"] for m in folders.values()})))
    home = context.settings().home_dir
    console.print(
        f"\nData home: {home}\n"
        "Next: `.venv/bin/crowdscribe serve` and log in at http://127.0.0.1:8000 "
        "with a token above;\n"
        "`.venv/bin/crowdscribe clips --format table` lists the clips."
    )


def pair_clips_with_sentences(clip_ids: list[str], sentences: list[str]) -> list[tuple[str, str]]:
    """(clip id, sentence) for a file whose clips (in time order) are one sentence each; none
    when segmentation merged or split sentences, since then no clip's text is known."""
    if len(clip_ids) != len(sentences):
        return []
    return list(zip(clip_ids, sentences, strict=True))


def _add_gold(samples: Path, folders: dict) -> list[dict[str, str]]:
    """Make the sample clips whose spoken text is known gold, so the exams can open."""
    from sqlalchemy import select

    from crowdscribe.storage.models import Clip, Recording
    from review.gold import add_gold
    from transcribe.pricing import load_rate_card

    card = load_rate_card(context.settings().rates_file)
    counts: dict[str, int] = {}
    with context.database().session() as session:
        for folder, meta in folders.items():
            for name, sentences in meta.get("texts", {}).items():
                source = str((samples / folder / name).resolve())
                clip_ids = session.scalars(
                    select(Clip.id)
                    .join(Recording, Recording.id == Clip.recording_id)
                    .where(Recording.source_path == source)
                    .order_by(Clip.start_s)
                ).all()
                for clip_id, sentence in pair_clips_with_sentences(list(clip_ids), sentences):
                    add_gold(session, clip_id, sentence, card)
                    counts[meta["language"]] = counts.get(meta["language"], 0) + 1
    return [{"language": language, "gold clips": str(n)} for language, n in counts.items()]


def _ensure_project(overlap: int) -> None:
    """The demo's project record, made on the first run."""
    with context.database().session() as session:
        if find_project(session, DEMO_PROJECT) is None:
            create_project(
                session, DEMO_PROJECT, overlap=overlap, max_overlap=context.settings().max_overlap
            )


def _ensure_people(languages: list[str]) -> list[dict[str, str]]:
    """Create the demo people once; tokens can only be shown when they are created, so a
    second run says how to get a new one."""
    from sqlalchemy import select

    from crowdscribe.storage.models import User
    from transcribe.users import create_user

    rows = []
    with context.database().session() as session:
        existing = set(session.scalars(select(User.name)))
        for name, roles in DEMO_PEOPLE:
            if name in existing:
                hint = f"created earlier: crowdscribe users reset-token {name}"
                rows.append(_person_row(name, roles, hint))
                continue
            qualified = languages if "transcriber" in roles and name != NEWCOMER else ()
            _, token = create_user(session, name, roles, languages, qualified=qualified)
            rows.append(_person_row(name, roles, token))
    return rows


def _dispatch_line(summary: dict) -> str:
    languages = ", ".join(f"{code}: {n}" for code, n in summary["by_language"].items())
    line = f"published {summary['published']} clip(s) as {summary['slots']} slot(s)"
    return line + (f" ({languages})" if languages else "")


def _person_row(name: str, roles: tuple[str, ...], token: str) -> dict[str, str]:
    return {"name": name, "roles": ",".join(roles), "login token": token}


def _print_people(rows: list[dict[str, str]]) -> None:
    console.print(rows_table(rows, ("name", "roles", "login token"), title="Demo people"))
