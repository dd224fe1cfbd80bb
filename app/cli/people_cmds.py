"""``crowdscribe users`` and ``crowdscribe gold``: people, their access, and gold references."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from app.cli import context
from app.cli.output import JsonFormat, JsonlFormat, TableOrJson, TableOrJsonl, console, print_rows
from crowdscribe.clock import utc_now
from crowdscribe.errors import InvalidInput
from crowdscribe.storage.states import QualificationStatus
from review.gold import add_gold, import_gold_csv
from transcribe import people as people_module
from transcribe.pricing import load_rate_card
from transcribe.users import ROLES, create_user, list_people

users_app = typer.Typer(
    no_args_is_help=True,
    help="People: add, list, show, edit, new tokens and passwords, deactivate.",
)
Name = Annotated[str, typer.Argument(help="The name the person signs in with.")]
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
    password = _password_from_stdin() if password_stdin else None
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
        inactive = people_module.inactive_names(session)
    if output is TableOrJsonl.jsonl:
        rows = [
            {
                "id": person.id,
                "name": person.name,
                "roles": sorted(person.roles),
                "languages": list(person.languages),
                "active": person.name not in inactive,
                "qualifications": [record.to_dict() for record in records],
            }
            for person, records in people
        ]
    else:
        rows = [
            {
                "name": person.name + (" (deactivated)" if person.name in inactive else ""),
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


@users_app.command("show")
def users_show(name: Name, output: JsonFormat = TableOrJson.table) -> None:
    """One person: roles, languages, time zone, standing per language, leases and work done."""
    with context.database().session() as session:
        details = people_module.person_details(session, name)
    if output is TableOrJson.json:
        typer.echo(json.dumps(details.to_dict(), indent=2, ensure_ascii=False))
        return
    row = details.to_dict()
    console.print(
        f"[bold]{details.name}[/bold]"
        + (f" ({details.display_name})" if details.display_name else "")
    )
    console.print(f"status: {'active' if details.active else 'deactivated'}")
    console.print(f"roles: {', '.join(details.roles)}")
    console.print(
        "languages: "
        + (", ".join(f"{lang['code']} ({lang['name']})" for lang in row["languages"]) or "none")
    )
    console.print(f"time zone: {details.time_zone or 'not set'}")
    console.print(f"web password: {'set' if details.has_password else 'not set'}")
    console.print(
        f"leases held: {details.leases_held}; transcripts submitted: {details.submissions}"
    )
    for record in details.qualifications:
        reason = f" ({record.reason})" if record.reason else ""
        console.print(f"{record.language}: {record.status}{reason}")


@users_app.command("edit")
def users_edit(
    name: Name,
    roles: Annotated[
        str | None, typer.Option("--roles", help=f"Replace roles: {', '.join(ROLES)}.")
    ] = None,
    languages: Annotated[
        str | None, typer.Option("--languages", help="Replace languages: en,yue,cmn-shaanxi")
    ] = None,
    display_name: Annotated[
        str | None, typer.Option("--display-name", help="Name shown on pages ('' clears).")
    ] = None,
    time_zone: Annotated[
        str | None, typer.Option("--time-zone", help="IANA time zone, e.g. Asia/Shanghai.")
    ] = None,
) -> None:
    """Change a person's roles, languages, display name or time zone (all checked first)."""
    if roles is None and languages is None and display_name is None and time_zone is None:
        raise InvalidInput(
            "nothing to change: give --roles, --languages, --display-name or --time-zone"
        )
    with context.database().session() as session:
        details = people_module.edit_person(
            session,
            name,
            roles=[roles] if roles is not None else None,
            languages=[languages] if languages is not None else None,
            display_name=display_name,
            time_zone=time_zone,
        )
    console.print(
        f"{details.name}: roles {', '.join(details.roles)}; "
        f"languages {', '.join(details.languages) or 'none'}; "
        f"time zone {details.time_zone or 'not set'}"
    )


@users_app.command("reset-token")
def users_reset_token(
    name: Name,
    as_json: Annotated[bool, typer.Option("--json", help='Print {"name", "token"}.')] = False,
) -> None:
    """Give a person a new API token (printed once); the old one stops working at once."""
    with context.database().session() as session:
        token = people_module.reset_token(session, name)
    if as_json:
        typer.echo(json.dumps({"name": name, "token": token}))
        return
    console.print(f"new API token for {name} (shown once; the old one no longer works):")
    typer.echo(token)


@users_app.command("set-password")
def users_set_password(
    name: Name,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
) -> None:
    """Set a person's web sign-in password (read from stdin, or asked for without echo)."""
    if password_stdin:
        password = _password_from_stdin()
    else:
        password = typer.prompt("new password", hide_input=True, confirmation_prompt=True)
    with context.database().session() as session:
        people_module.set_password_for(session, name, password)
    console.print(f"password set for {name}")


@users_app.command("deactivate")
def users_deactivate(name: Name) -> None:
    """Stop a person's access now (token and web session); clips they hold go back to the queue."""
    with context.database().session() as session:
        returned = people_module.deactivate(session, name, utc_now())
    console.print(f"deactivated {name}; {returned} leased clip(s) returned to the queue")


@users_app.command("reactivate")
def users_reactivate(name: Name) -> None:
    """Let a deactivated person work again with their token and password."""
    with context.database().session() as session:
        people_module.reactivate(session, name)
    console.print(f"reactivated {name}")


def _password_from_stdin() -> str:
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise InvalidInput("--password-stdin read an empty password")
    return password


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
