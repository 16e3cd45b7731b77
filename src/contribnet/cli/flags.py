"""``contribnet flags``: the fraud rules' flags of a period, as a table, JSON or CSV."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any

from rich.console import Console

from contribnet.cli.common import add_store_option, count, opened_store, print_rows, settings_from
from contribnet.domain.flags import FLAG_KINDS


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def register(subparsers: Any) -> None:
    flags = subparsers.add_parser(
        "flags",
        help="list suspicious records (fraud signals) of a period",
        description="Run the fraud rules over a period's touches, referrals and deals and list "
        "the flags: the rule, the records involved, the suspects among them and a plain reason, "
        "with the review of each reviewed flag. Thresholds from CONTRIBNET_FLAG_RULES.",
    )
    flags.add_argument("--from", dest="start", type=_day, metavar="DATE", help="first day")
    flags.add_argument("--to", dest="end", type=_day, metavar="DATE", help="last day (inclusive)")
    flags.add_argument(
        "--kind",
        action="append",
        choices=FLAG_KINDS,
        help="only flags of this rule (repeatable; default: every rule)",
    )
    flags.add_argument(
        "--format", choices=("table", "json", "csv"), default="table", help="table (default)"
    )
    add_store_option(flags)
    flags.set_defaults(func=_flags)


def _flags(args: argparse.Namespace) -> int:
    from contribnet.services.flags import flags_csv, list_flags

    settings = settings_from(args)
    with opened_store(args) as store:
        found = list_flags(store, args.start, args.end, args.kind, settings.flag_rules)
    if args.format == "json":
        json.dump(
            {"flags": [f.model_dump(mode="json") for f in found], "total": len(found)},
            sys.stdout,
            ensure_ascii=False,
            indent=2,
        )
        sys.stdout.write("\n")
        return 0
    if args.format == "csv":
        sys.stdout.write(flags_csv(found))
        return 0
    console = Console()
    rows = [
        {
            "id": f.id,
            "kind": f.kind,
            "at": f.at.isoformat(timespec="minutes"),
            "review": f.review.decision if f.review else "",
            "reason": f.reason,
        }
        for f in found
    ]
    print_rows(console, ("id", "kind", "at", "review", "reason"), rows, wrap=("reason",))
    console.print(f"{count(len(found))} flags")
    return 0
