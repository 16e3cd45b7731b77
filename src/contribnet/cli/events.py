"""``contribnet import FILE`` and ``contribnet journey CUSTOMER_ID``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from contribnet.cli.common import (
    add_store_option,
    cli_actor,
    money,
    opened_store,
    print_rows,
    settings_from,
)
from contribnet.process import fewer_gc_pauses
from contribnet.services.ingest import ingest_file
from contribnet.services.journeys import customer_journey


def register(subparsers: Any) -> None:
    imp = subparsers.add_parser(
        "import",
        help="import events from a JSON Lines, JSON or CSV file (all or nothing)",
        description="Import events. Every line is checked; an error names the line and nothing "
        "is written. Re-importing the same file changes nothing. Into SQLite, a file of 16 MiB "
        "or more is parsed and validated by two worker processes while this one writes.",
    )
    imp.add_argument("file", type=Path)
    add_store_option(imp)
    imp.set_defaults(func=_import)

    journey = subparsers.add_parser("journey", help="print a customer's journey as a timeline")
    journey.add_argument("customer")
    journey.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_store_option(journey)
    journey.set_defaults(func=_journey)


def _import(args: argparse.Namespace) -> int:
    if not args.file.is_file():
        print(f"contribnet: error: no such file: {args.file}", file=sys.stderr)
        return 2
    settings = settings_from(args)
    with opened_store(args, create=True) as store, fewer_gc_pauses():
        result = ingest_file(
            store,
            args.file,
            settings.stages,
            progress=sys.stderr.isatty(),
            actions=settings.actions,
            requested_by=cli_actor(),
        )
    print(f"accepted {result.accepted}, duplicates {result.duplicates}")
    return 0


def _journey(args: argparse.Namespace) -> int:
    with opened_store(args) as store:
        journey = customer_journey(store, args.customer)
    if args.json:
        print(json.dumps(journey.model_dump(), indent=2, ensure_ascii=False))
        return 0
    console = Console()
    customer = journey.customer or {"id": args.customer}
    city = f" — {customer['city']}" if customer.get("city") else ""
    console.print(f"[bold]Customer {escape(customer['id'])}[/bold]{escape(city)}")
    columns = ("when (UTC)", "what", "who", "where", "detail", "counts for")
    rows = []
    for when, what, who, where, detail, voided, deal in _timeline(journey.model_dump()):
        detail += " (voided)" if voided else ""
        values = (when, what, who, where, detail, deal)
        rows.append(dict(zip(columns, values, strict=True)))
    print_rows(console, columns, rows, wrap=("detail",))
    return 0


def _deal(item: dict[str, Any]) -> str:
    return item.get("counted_for") or "—"


def _timeline(journey: dict[str, Any]) -> list[tuple[str, str, str, str, str, bool, str]]:
    rows = []
    for t in journey["touches"]:
        joint = t.get("joint_event") and f"joint event {t['joint_event']}"
        detail = ", ".join(p for p in (t.get("channel"), joint) if p)
        rows.append((t["at"], t["stage"], t["staff"], t["store"], detail, t["voided"], _deal(t)))
    for r in journey["referrals"]:
        who = r.get("referrer_staff") or f"owner {r.get('referrer_customer')}"
        rows.append((r["at"], "referred", who, r["to_store"], "", r["voided"], _deal(r)))
    for h in journey["handovers"]:
        handed = f"{len(h['customers'])} customers"
        who = f"{h['from_staff']} → {h['to_staff']}"
        rows.append((h["at"], "handed over", who, "", handed, h["voided"], _deal(h)))
    for a in journey.get("lead_assignments", []):
        who = a.get("staff") or "—"
        detail = "lead back to the pool" if a["reason"] == "reclaimed" else "holds the lead"
        rows.append((a["at"], f"lead {a['reason']}", who, "", detail, a["voided"], ""))
    for d in journey["deals"]:
        detail = f"amount {money(d['amount'])}, reward pool {money(d['reward_pool'])}"
        rows.append((d["closed_at"], "DEAL", d["staff"], d["store"], detail, d["voided"], ""))
    return sorted(rows, key=lambda row: row[0])
