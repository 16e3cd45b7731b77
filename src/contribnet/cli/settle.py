"""``contribnet settle`` (a period, or one deal) and ``contribnet policies`` (add, list)."""

from __future__ import annotations

import argparse
import getpass
import json
from datetime import date
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from contribnet.cli.common import add_store_option, opened_store, settings_from
from contribnet.domain.settlement import InvalidRequest
from contribnet.process import tune_gc
from contribnet.services import policies as policy_service
from contribnet.services import settlement as settlement_service


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def register(subparsers: Any) -> None:
    settle = subparsers.add_parser(
        "settle",
        help="settle every unsettled deal closed in a period (or one deal)",
        description="Record each unsettled deal's split under the policy version in force at its "
        "close (or --policy), chunk by chunk with a progress bar. Safe to stop and run again: "
        "only deals still unsettled are settled, each exactly once. Days are China Standard "
        "Time; --to is inclusive.",
    )
    settle.add_argument("--from", dest="start", type=_day, metavar="DATE", help="first close day")
    settle.add_argument("--to", dest="end", type=_day, metavar="DATE", help="last close day")
    settle.add_argument("--deal", metavar="ID", help="settle this one deal instead of a period")
    settle.add_argument("--reason", help="with --deal: why a changed settlement is superseded")
    settle.add_argument("--policy", metavar="ID", help="name@version or name (default: in force)")
    settle.add_argument("--model", metavar="NAME", help="credit model (default: the policy's)")
    settle.add_argument(
        "--chunk",
        type=int,
        default=settlement_service.CHUNK,
        metavar="N",
        help=f"deals per read and write (default {settlement_service.CHUNK})",
    )
    settle.add_argument(
        "--workers", type=int, default=1, metavar="N", help="processes computing splits (default 1)"
    )
    settle.add_argument("--json", action="store_true", help="print the outcome as JSON")
    add_store_option(settle)
    settle.set_defaults(func=_settle)

    policies = subparsers.add_parser("policies", help="add or list credit policy versions")
    actions = policies.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="record a policy version from a TOML file")
    add.add_argument("file", type=Path, metavar="FILE.toml")
    add_store_option(add)
    add.set_defaults(func=_add_policy)
    listing = actions.add_parser("list", help="every version and when it is in force")
    add_store_option(listing)
    listing.set_defaults(func=_list_policies)


def _who() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _settle(args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    with opened_store(args) as store:
        policy_service.ensure_default_policy(store)
        if args.deal:
            settlement, created = settlement_service.settle(
                store,
                args.deal,
                requested_by=_who(),
                policy=args.policy,
                model=args.model,
                reason=args.reason,
            )
            if args.json:
                print(settlement.model_dump_json(indent=2))
            else:
                verb = "settled" if created else "already settled, unchanged:"
                console.print(
                    f"{args.deal} {verb} {settlement.id} (policy {settlement.policy}, "
                    f"model {settlement.model})",
                    highlight=False,
                )
                for a in settlement.allocations:
                    console.print(f"• {a.explanation.text}", highlight=False)
            return 0
        if args.reason:
            raise InvalidRequest.one("reason", "--reason goes with --deal")
        tune_gc()  # this process now settles in bulk
        steps = settlement_service.settle_period(
            store,
            args.start,
            args.end,
            requested_by=_who(),
            policy=args.policy,
            model=args.model,
            chunk=args.chunk,
            workers=args.workers,
            store_url=settings_from(args).store_url,
        )
        progress = Progress(
            TextColumn("[bold]Settling deals"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            disable=args.json,
        )
        with progress:
            first = next(steps)
            task = progress.add_task("settle", total=first.total)
            last = first
            for last in steps:
                progress.update(task, completed=last.done)
    if args.json:
        print(json.dumps(vars(last), indent=2))
        return 0
    table = Table(show_header=False, box=None)
    for label, value in (
        ("unsettled at start", last.total),
        ("settled now", last.created),
        ("already recorded", last.existing),
        ("settled or voided meanwhile", last.skipped),
        ("could not be settled", last.failures),
    ):
        table.add_row(label, f"{value:,}")
    console.print(table)
    for deal, message in last.failed[:10]:
        console.print(f"  {deal}: {message}", highlight=False)
    return 1 if last.failures else 0


def _add_policy(args: argparse.Namespace) -> int:
    if not args.file.is_file():
        raise InvalidRequest.one("file", f"no such file: {args.file}")
    with opened_store(args) as store:
        policy_service.ensure_default_policy(store)
        record, created = policy_service.add_policy(
            store, args.file.read_text(encoding="utf-8"), _who()
        )
    state = "recorded" if created else "already recorded"
    print(f"{record.id} {state}: effective from {record.effective_from}, model {record.model}")
    return 0


def _list_policies(args: argparse.Namespace) -> int:
    with opened_store(args) as store:
        records = store.policies()
    table = Table(title="Policy versions", header_style="bold")
    for column in ("id", "effective from", "in force until", "model", "recorded", "by"):
        table.add_column(column)
    for r in records:
        ever, until = policy_service.in_force_until(records, r)
        table.add_row(
            r.id,
            r.effective_from.isoformat(),
            "never (replaced)" if not ever else (until.isoformat() if until else "—"),
            r.model,
            r.created_at.strftime("%Y-%m-%d %H:%M"),
            r.created_by,
        )
    Console().print(table)
    return 0
