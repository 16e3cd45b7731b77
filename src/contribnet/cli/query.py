"""``contribnet query NAME --param k=v``: run a library query on Neo4j; ``--list`` lists them."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from contribnet.cli.common import add_store_option, settings_from
from contribnet.services.queries import (
    DEFAULT_MAX_ROWS,
    LibraryQuery,
    QueryResult,
    QueryService,
    get_query,
    library,
    parse_assignments,
    to_json,
)

#: The CLI shows Neo4j's notifications itself; the driver's own log lines would repeat them.
_DRIVER_NOTIFICATIONS = "neo4j.notifications"


def register(subparsers: Any) -> None:
    query = subparsers.add_parser(
        "query",
        help="run a named query of the analysts' library on Neo4j (--list shows them)",
        description="Run a named, documented query of cypher/queries/ against the Neo4j store and "
        "print a table (or JSON). Parameters are typed by the query's header: "
        "--param customer=c-1 --param from=2025-01-01T00:00:00Z --param stages=lead,reception.",
    )
    query.add_argument("name", nargs="?", help="the query's name (see --list)")
    query.add_argument(
        "--param",
        "-p",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a parameter; repeat for more",
    )
    query.add_argument("--list", action="store_true", help="list the library and exit")
    query.add_argument("--show", action="store_true", help="print the query's Cypher and exit")
    query.add_argument("--json", action="store_true", help="print JSON instead of a table")
    query.add_argument(
        "--max-rows",
        type=int,
        default=DEFAULT_MAX_ROWS,
        metavar="N",
        help=f"stop after N rows (default {DEFAULT_MAX_ROWS:,})",
    )
    query.add_argument(
        "--timeout", type=float, default=30.0, metavar="SECONDS", help="server-side timeout"
    )
    add_store_option(query)
    query.set_defaults(func=_query)


def _query(args: argparse.Namespace) -> int:
    if args.list:
        return _list(args.json)
    if not args.name:
        print(
            "contribnet: error: name a query (contribnet query --list shows them)", file=sys.stderr
        )
        return 2
    found = get_query(args.name)
    if args.show:
        print(_source(found))
        return 0
    params = found.bind(parse_assignments(args.param))
    logging.getLogger(_DRIVER_NOTIFICATIONS).addHandler(logging.NullHandler())
    with QueryService.open(settings_from(args).store_url) as service:
        result = service.run_query(found.name, params, max_rows=args.max_rows, timeout=args.timeout)
    if args.json:
        print(json.dumps(_as_json(result), indent=2, ensure_ascii=False))
    else:
        _print_table(found, result, args.max_rows)
    return 0


def _list(as_json: bool) -> int:
    queries = library()
    if as_json:
        described = [
            {
                "name": q.name,
                "question": q.question,
                "parameters": [
                    {
                        "name": p.name,
                        "type": p.type,
                        "required": p.required,
                        "default": to_json(p.default),
                        "description": p.description,
                    }
                    for p in q.parameters
                ],
                "returns": list(q.returns),
            }
            for q in queries
        ]
        print(json.dumps(described, indent=2, ensure_ascii=False))
        return 0
    table = Table(show_header=True, header_style="bold", show_lines=True)
    table.add_column("query", no_wrap=True)
    table.add_column("question")
    table.add_column("parameters")
    for q in queries:
        table.add_row(escape(q.name), escape(q.question), escape(_signature(q)))
    Console().print(table)
    return 0


def _signature(query: LibraryQuery) -> str:
    parts = []
    for p in query.parameters:
        default = "" if p.required else f" = {p.default_text()}"
        parts.append(f"${p.name} {p.type}{default}")
    return "\n".join(parts) or "(none)"


def _source(query: LibraryQuery) -> str:
    from contribnet import cypher

    return cypher.load(f"queries/{query.name}").rstrip()


def _as_json(result: QueryResult) -> dict[str, Any]:
    return {
        "columns": result.columns,
        "rows": result.rows,
        "row_count": result.row_count,
        "truncated": result.truncated,
        "notifications": result.notifications,
    }


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return ", ".join(str(v) for v in value)
    return json.dumps(value, ensure_ascii=False)


def _print_table(query: LibraryQuery, result: QueryResult, max_rows: int) -> None:
    console = Console()
    console.print(f"[bold]{escape(query.name)}[/bold]: {escape(query.question)}")
    table = Table(show_header=True, header_style="bold")
    for column in result.columns:
        table.add_column(escape(column), overflow="fold")
    for row in result.rows:
        table.add_row(*(escape(_cell(row[c])) for c in result.columns))
    console.print(table)
    shown = f"{result.row_count:,} row{'s' if result.row_count != 1 else ''}"
    if result.truncated:
        shown += f" (stopped at --max-rows {max_rows:,}; there are more)"
    console.print(shown)
    for note in result.notifications:
        Console(stderr=True).print(f"[dim]neo4j: {escape(note)}[/dim]")
