"""``contribnet leads reclaim`` and ``contribnet leads history CUSTOMER``: lead pools."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from rich.console import Console

from contribnet.cli.common import add_store_option, count, opened_store, print_rows, settings_from
from contribnet.services.leads import lead_history, load_pool_policy, reclaim


def _instant(text: str) -> datetime:
    """An ISO 8601 instant; a naive one is read as UTC, as the events' instants are."""
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 instant: {text!r}") from None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def register(subparsers: Any) -> None:
    leads = subparsers.add_parser("leads", help="lead pools: reclaim leads, holding history")
    commands = leads.add_subparsers(dest="leads_command", required=True, metavar="ACTION")
    run = commands.add_parser(
        "reclaim",
        help="reclaim the leads whose holder did not follow up in time",
        description="Reclaim into the pool every lead whose holder did not touch the customer "
        "or log an activity naming them by the deadline (the pool policy's hours for the "
        "holder's region; CONTRIBNET_POOL_POLICY). Running it again records nothing new.",
    )
    run.add_argument(
        "--at", type=_instant, metavar="TIME", help="as of this instant (ISO 8601; default now)"
    )
    run.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_store_option(run)
    run.set_defaults(func=_reclaim)

    history = commands.add_parser("history", help="who held a lead (a customer) when")
    history.add_argument("customer")
    history.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_store_option(history)
    history.set_defaults(func=_history)


def _reclaim(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    policy = load_pool_policy(settings.pool_policy)
    with opened_store(args) as store:
        result = reclaim(store, args.at, policy, settings.stages, settings.actions)
    if args.json:
        print(json.dumps(result.model_dump(mode="json"), indent=2, ensure_ascii=False))
        return 0
    console = Console()
    columns = ("lead", "taken from", "deadline (UTC)", "hours", "assignment", "event")
    rows = [
        {
            "lead": r.lead,
            "taken from": r.staff,
            "deadline (UTC)": r.at.isoformat(),
            "hours": f"{r.hours:g}",
            "assignment": r.assignment,
            "event": r.id,
        }
        for r in result.reclaimed
    ]
    print_rows(console, columns, rows)
    console.print(
        f"{count(len(result.reclaimed))} leads due as of {result.as_of.isoformat()}: "
        f"{count(result.accepted)} reclaimed now, {count(result.duplicates)} reclaimed before"
    )
    return 0


def _history(args: argparse.Namespace) -> int:
    with opened_store(args) as store:
        history = lead_history(store, args.customer)
    if args.json:
        print(json.dumps(history.model_dump(mode="json", by_alias=True), indent=2))
        return 0
    console = Console()
    columns = ("staff", "from (UTC)", "to (UTC)", "reason", "ended by")
    rows = [
        {
            "staff": h.staff,
            "from (UTC)": h.from_.isoformat(),
            "to (UTC)": h.to.isoformat() if h.to else "—",
            "reason": h.reason,
            "ended by": h.ended_by or "—",
        }
        for h in history.holdings
    ]
    print_rows(console, columns, rows)
    console.print(f"held now by {history.holder or 'nobody (in the pool)'}")
    return 0
