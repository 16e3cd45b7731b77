"""``contribnet audit ID`` and ``contribnet disputes``: the audit trail of one id, and disputes."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any

from rich.console import Console

from contribnet.cli.common import add_store_option, count, opened_store, print_rows


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _period(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="start", type=_day, metavar="DATE", help="first day")
    parser.add_argument("--to", dest="end", type=_day, metavar="DATE", help="last day (inclusive)")
    parser.add_argument("--json", action="store_true", help="JSON instead of a table")
    add_store_option(parser)


def register(subparsers: Any) -> None:
    audit = subparsers.add_parser(
        "audit",
        help="every change touching one id (the audit trail)",
        description="Every recorded change touching an id -- events written or voided, "
        "settlements, adjustments, policy versions, API keys, flag reviews, redemptions, "
        "disputes -- with when, by which key and role, and why; oldest first.",
    )
    audit.add_argument("target", metavar="ID", help="any id: deal, staff, customer, event, key…")
    _period(audit)
    audit.set_defaults(func=_audit)
    disputes = subparsers.add_parser(
        "disputes",
        help="list disputes of statement lines",
        description="Disputes on deals closed in a period, in the order opened.",
    )
    disputes.add_argument("--status", choices=("open", "resolved"), help="open or resolved")
    disputes.add_argument("--staff", help="only this staff member's disputes")
    _period(disputes)
    disputes.set_defaults(func=_disputes)


def _audit(args: argparse.Namespace) -> int:
    from contribnet.services.audit import trail

    with opened_store(args) as store:
        entries = trail(store, args.target, args.start, args.end)
    if args.json:
        json.dump([e.model_dump(mode="json") for e in entries], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    console = Console()
    rows = [
        {
            "at": e.at.isoformat(timespec="seconds"),
            "action": e.action,
            "role": e.actor_role,
            "key": e.actor_key or "",
            "targets": len(e.targets),
            "reason": e.reason or "",
        }
        for e in entries
    ]
    print_rows(
        console, ("at", "action", "role", "key", "targets", "reason"), rows, wrap=("reason",)
    )
    console.print(f"{count(len(entries))} entries touching {args.target}")
    return 0


def _disputes(args: argparse.Namespace) -> int:
    from contribnet.services.disputes import list_disputes

    with opened_store(args) as store:
        found = list_disputes(
            store, status=args.status, staff=args.staff, start=args.start, end=args.end
        )
    if args.json:
        json.dump([d.model_dump(mode="json") for d in found], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    console = Console()
    rows = [
        {
            "id": d.id,
            "deal": d.deal,
            "staff": d.staff,
            "status": d.status,
            "decision": d.resolution.decision if d.resolution else "",
            "fen": d.resolution.amount if d.resolution and d.resolution.amount else None,
            "message": d.message,
        }
        for d in found
    ]
    columns = ("id", "deal", "staff", "status", "decision", "fen", "message")
    print_rows(console, columns, rows, wrap=("message",))
    console.print(f"{count(len(found))} disputes")
    return 0
