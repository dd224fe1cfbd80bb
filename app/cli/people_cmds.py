"""``crowdscribe users`` and ``crowdscribe gold``: people, their access, and gold references."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from app.cli import context
from app.cli.output import JsonlFormat, TableOrJsonl, console, print_rows
from crowdscribe.errors import InvalidInput
from crowdscribe.storage.models import QualificationStatus
from review.gold import add_gold, import_gold_csv
from transcribe.pricing import load_rate_card
from transcribe.users import ROLES, create_user, list_people

users_app = typer.Typer(no_args_is_help=True, help="Add and list people.")
gold_app = typer.Typer(no_args_is_help=True, help="Reference transcripts for exams and checks.")


def register(app: typer.Typer) -> None:
    """Add ``users`` and ``gold`` to the ``crowdscribe`` app."""
    app.add_typer(users_app, name="users")
    app.add_typer(gold_app, name="gold")


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="Unique name the person signs in with.")],
    role: Annotated[
        list[str], typer.Option("--role", help=f"{', '.join(ROLES)}; repeat or comma-separate.")
    ],
    languages: Annotated[
        str, typer.Option("--languages", help="Comma-separated codes: en,yue,cmn-shaanxi")
    ] = "",
    qualified: Annotated[
        str, typer.Option("--qualified", help="Languages to qualify in now, without an exam.")
    ] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read a web sign-in password from stdin.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help='Print {"name", "token"}.')] = False,
) -> None:
    """Add a person and print their API token once (it cannot be shown again)."""
    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise InvalidInput("--password-stdin read an empty password")
    with context.database().session() as session:
        person, token = create_user(
            session,
            name,
            roles=role,
            languages=[languages],
            qualified=[qualified],
            password=password,
        )
    if as_json:
        typer.echo(json.dumps({"name": person.name, "token": token}))
        return
    console.print(f"added {person.name} ({', '.join(sorted(person.roles))})")
    console.print("API token (shown once; keep it secret):")
    typer.echo(token)


@users_app.command("list")
def users_list(
    output: JsonlFormat = TableOrJsonl.table,
) -> None:
    """Everyone with their roles, languages and qualification (paused ones with the reason)."""
    with context.database().session() as session:
        people = list_people(session)
    if output is TableOrJsonl.jsonl:
        rows = [
            {
                "id": person.id,
                "name": person.name,
                "roles": sorted(person.roles),
                "languages": list(person.languages),
                "qualifications": [record.to_dict() for record in records],
            }
            for person, records in people
        ]
    else:
        rows = [
            {
                "name": person.name,
                "roles": ", ".join(sorted(person.roles)),
                "languages": ", ".join(person.languages),
                "qualified": ", ".join(
                    r.language for r in records if r.status == QualificationStatus.QUALIFIED
                ),
                "paused": "; ".join(
                    f"{r.language}: {r.reason}"
                    for r in records
                    if r.status == QualificationStatus.PAUSED
                ),
            }
            for person, records in people
        ]
    print_rows(rows, output, ("name", "roles", "languages", "qualified", "paused"))


@gold_app.command("add")
def gold_add(
    clip_id: Annotated[str, typer.Argument(help="The clip to make gold.")],
    text: Annotated[str, typer.Option("--text", help="Its reference transcript.")],
) -> None:
    """Make a clip gold with a reference transcript checked against the conventions."""
    card = load_rate_card(context.settings().rates_file)
    with context.database().session() as session:
        reference = add_gold(session, clip_id, text, card)
    console.print(f"gold {clip_id}: {reference}")


@gold_app.command("import")
def gold_import(
    path: Annotated[Path, typer.Argument(help="CSV with columns clip_id,text.")],
) -> None:
    """Add every row of a CSV as gold, or none of them if any row is wrong."""
    card = load_rate_card(context.settings().rates_file)
    with context.database().session() as session:
        count = import_gold_csv(session, path, card)
    console.print(f"imported {count} gold clip(s) from {path}")
