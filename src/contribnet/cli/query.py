"""``contribnet query NAME --param k=v``: run a library query on Neo4j; ``--list`` lists them."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.padding import Padding

from contribnet.cli.common import add_store_option, count, csv_text, print_rows, settings_from
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
    query.add_argument(
        "--format",
        choices=("table", "json", "csv"),
        default="table",
        help="a table (default; one that does not fit the terminal prints row by row), JSON, "
        "or CSV with a header row",
    )
    query.add_argument("--json", action="store_true", help="the same as --format json")
    query.add_argument(
        "--example",
        action="store_true",
        help="run with the parameters of the query's documented example (on the demo network)",
    )
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
    if args.json:
        args.format = "json"
    if args.list:
        return _list(args.format == "json")
    if not args.name:
        print(
            "contribnet: error: name a query (contribnet query --list shows them)", file=sys.stderr
        )
        return 2
    found = get_query(args.name)
    if args.show:
        print(_source(found))
        return 0
    given = dict(found.example_params) if args.example else {}
    given.update(parse_assignments(args.param))
    params = found.bind(given)
    logging.getLogger(_DRIVER_NOTIFICATIONS).addHandler(logging.NullHandler())
    with QueryService.open(settings_from(args).store_url) as service:
        result = service.run_query(found.name, params, max_rows=args.max_rows, timeout=args.timeout)
    if args.format == "json":
        print(json.dumps(_as_json(result), indent=2, ensure_ascii=False))
    elif args.format == "csv":
        sys.stdout.write(csv_text(result.columns, result.rows))
        if result.truncated:
            print(
                f"contribnet: stopped at --max-rows {args.max_rows:,}; there are more",
                file=sys.stderr,
            )
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
    # one block per query (a table squeezes the question to nothing at 80 columns): the name,
    # the question (which may wrap between words), each parameter on a line of its own
    console = Console()
    for q in queries:
        console.print(f"[bold]{escape(q.name)}[/bold]")
        console.print(Padding(escape(q.question), (0, 0, 0, 2)))
        for line in _signature(q).splitlines():
            console.print(f"    {escape(line)}", soft_wrap=True)
        console.print()
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


def _print_table(query: LibraryQuery, result: QueryResult, max_rows: int) -> None:
    console = Console()
    console.print(f"[bold]{escape(query.name)}[/bold]: {escape(query.question)}")
    print_rows(console, result.columns, result.rows)
    shown = f"{count(result.row_count)} row{'s' if result.row_count != 1 else ''}"
    if result.truncated:
        shown += f" (stopped at --max-rows {max_rows:,}; there are more)"
    console.print(shown)
    for note in result.notifications:
        Console(stderr=True).print(f"[dim]neo4j: {escape(note)}[/dim]")
