"""``contribnet verify``: compute settlements again from the events and the policy versions they
recorded, and list those that are not reproduced."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from datetime import date
from typing import Any

from rich.console import Console
from rich.table import Table

from contribnet.cli.common import add_store_option, count, money, opened_store, print_rows
from contribnet.services import verify as verify_service

#: The table's columns: one row per person paid differently (or one per settlement).
COLUMNS = (
    "settlement",
    "deal",
    "kind",
    "person",
    "name",
    "recorded",
    "recomputed",
    "difference",
    "points",
)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def register(subparsers: Any) -> None:
    verify = subparsers.add_parser(
        "verify",
        help="compute settlements again from the events; list those not reproduced",
        description="Compute the current settlement of every deal closed in a period (or one "
        "settlement, current or superseded, with --settlement) again, under the policy version "
        "and model it recorded, from the events as stored now. Prints, per settlement not "
        "reproduced, each person paid differently (recorded, recomputed, difference, in yuan) "
        "and which input changed: the input hash, events edited in the database since they were "
        "accepted, events received after the settlement. Writes nothing. Exit 0 when every "
        "settlement is reproduced, 1 when any is not (or cannot be computed). Days are China "
        "Standard Time; --to is inclusive.",
    )
    verify.add_argument("--from", dest="start", type=_day, metavar="DATE", help="first close day")
    verify.add_argument("--to", dest="end", type=_day, metavar="DATE", help="last close day")
    verify.add_argument(
        "--settlement", metavar="ID", help="verify this one settlement instead of a period"
    )
    verify.add_argument(
        "--json", action="store_true", help="one JSON line per settlement, then the summary"
    )
    add_store_option(verify)
    verify.set_defaults(func=_verify)


def _verify(args: argparse.Namespace) -> int:
    with opened_store(args) as store:
        if args.settlement:
            results: Iterable[verify_service.Verification] = [
                verify_service.verify_settlement(store, args.settlement)
            ]
        else:
            results = verify_service.verify_period(store, args.start, args.end)
        checked = reproduced = failed = 0
        rows: list[dict[str, Any]] = []
        notes: list[str] = []
        for result in results:
            checked += 1
            reproduced += result.reproduced
            failed += result.status == "failed"
            if args.json:
                print(result.model_dump_json())
                continue
            if not result.reproduced:
                rows += _rows(result)
                notes.append(f"{result.settlement} ({result.deal}): {result.message}")
    differ = checked - reproduced - failed
    if args.json:
        summary = {"checked": checked, "reproduced": reproduced, "differ": differ}
        print(json.dumps({"summary": summary | {"failed": failed}}))
        return 0 if reproduced == checked else 1
    console = Console(highlight=False)
    if rows:
        with_points = any(r.get("points") for r in rows)
        print_rows(console, COLUMNS if with_points else COLUMNS[:-1], rows)
        for note in notes:
            console.print(note, markup=False)
    elif checked:
        console.print("Every settlement is reproduced.")
    else:
        console.print("No settlement to verify.")
    table = Table(show_header=False, box=None)
    for label, value in (
        ("settlements checked", checked),
        ("reproduced", reproduced),
        ("not reproduced", differ),
        ("could not be computed", failed),
    ):
        table.add_row(label, count(value))
    console.print(table)
    return 0 if reproduced == checked else 1


def _rows(result: verify_service.Verification) -> list[dict[str, Any]]:
    """A settlement not reproduced as table rows: each person paid differently, or one row
    saying what differs when nobody's pay does."""
    base = {"settlement": result.settlement, "deal": result.deal}
    if not result.people:
        return [{**base, "kind": result.status, "name": result.message}]
    return [
        {
            **base,
            "kind": p.kind,
            "person": p.id,
            "name": p.name,
            "recorded": money(p.recorded_fen),
            "recomputed": money(p.recomputed_fen),
            "difference": ("+" if p.difference > 0 else "") + money(p.difference),
            "points": (
                f"{p.recorded_points:,} → {p.recomputed_points:,}"
                if p.recorded_points != p.recomputed_points
                else None
            ),
        }
        for p in result.people
    ]
