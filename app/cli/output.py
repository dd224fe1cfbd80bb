"""How every command prints rows: a table for people, or JSON Lines, JSON or CSV for scripts."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Sequence
from enum import Enum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

console = Console()


class TableOrJsonl(str, Enum):
    jsonl = "jsonl"
    table = "table"


class TableOrJson(str, Enum):
    table = "table"
    json = "json"


class TableCsvOrJson(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


# The ``--format`` option of each kind; every command that lists rows takes one of these.
JsonlFormat = Annotated[TableOrJsonl, typer.Option("--format", help="table or jsonl.")]
JsonFormat = Annotated[TableOrJson, typer.Option("--format", help="table or json.")]
ReportFormat = Annotated[TableCsvOrJson, typer.Option("--format", help="table, csv or json.")]

Row = dict[str, Any]


def cell_format(missing: str = "", places: int = 2) -> Callable[[Any], str]:
    """How a table shows a value: ``missing`` for None, floats to ``places`` decimals."""

    def cell(value: Any) -> str:
        if value is None:
            return missing
        if isinstance(value, float):
            return f"{value:.{places}f}"
        return str(value)

    return cell


plain_cell = cell_format()


def print_rows(
    rows: Sequence[Row],
    output: Enum,
    columns: Sequence[str],
    *,
    cell: Callable[[Any], str] = plain_cell,
    headers: Sequence[str] | None = None,
    title: str | None = None,
    right_aligned: Sequence[str] = (),
) -> None:
    """Print ``rows`` as ``output`` asks: JSON Lines, one JSON list, CSV of ``columns``, or a
    table of ``columns`` (under ``headers``, if given) with each value rendered by ``cell``."""
    if output.value == "jsonl":
        for row in rows:
            typer.echo(json.dumps(row, default=str, ensure_ascii=False))
    elif output.value == "json":
        print_json(list(rows))
    elif output.value == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows(rows)
    else:
        console.print(rows_table(rows, columns, cell, headers, title, right_aligned))


def print_json(data: Any) -> None:
    """Print ``data`` as indented JSON: the ``--format json`` of every command."""
    typer.echo(json.dumps(data, indent=2))


def rows_table(
    rows: Sequence[Row],
    columns: Sequence[str],
    cell: Callable[[Any], str] = plain_cell,
    headers: Sequence[str] | None = None,
    title: str | None = None,
    right_aligned: Sequence[str] = (),
) -> Table:
    """A rich table of ``columns`` of ``rows``; numbers people compare are ``right_aligned``."""
    table = Table(title=title)
    for column, header in zip(columns, headers or columns, strict=True):
        table.add_column(header, justify="right" if column in right_aligned else "left")
    for row in rows:
        table.add_row(*(cell(row.get(column)) for column in columns))
    return table
