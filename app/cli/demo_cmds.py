"""``crowdscribe demo``: the whole collection job on the bundled samples, nothing to install."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated

import typer

from app.cli import context
from app.cli.output import console, rows_table

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "samples"
DEMO_PROJECT = "samples"
DEMO_PEOPLE = (
    ("coordinator", ("coordinator",)),
    ("ada", ("transcriber",)),
    ("bo", ("transcriber",)),
    ("rev", ("reviewer",)),
)


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

    folders = tomllib.loads((samples / "samples.toml").read_text())
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
    console.print(summary)
    _print_people(_ensure_people(sorted({m["language"] for m in folders.values()})))
    home = context.settings().home_dir
    console.print(
        f"\nData home: {home}\n"
        "Next: `.venv/bin/crowdscribe serve` and log in at http://127.0.0.1:8000 "
        "with a token above;\n"
        "`.venv/bin/crowdscribe clips --format table` lists the clips."
    )


def _ensure_people(languages: list[str]) -> list[dict[str, str]]:
    """Create the demo people once; tokens can only be shown when they are created."""
    from sqlalchemy import select

    from crowdscribe.storage.models import User
    from transcribe.users import create_user

    rows = []
    with context.database().session() as session:
        existing = set(session.scalars(select(User.name)))
        for name, roles in DEMO_PEOPLE:
            if name in existing:
                rows.append(_person_row(name, roles, "(created earlier; token shown then)"))
                continue
            qualified = languages if "transcriber" in roles else ()
            _, token = create_user(session, name, roles, languages, qualified=qualified)
            rows.append(_person_row(name, roles, token))
    return rows


def _person_row(name: str, roles: tuple[str, ...], token: str) -> dict[str, str]:
    return {"name": name, "roles": ",".join(roles), "login token": token}


def _print_people(rows: list[dict[str, str]]) -> None:
    console.print(rows_table(rows, ("name", "roles", "login token"), title="Demo people"))
