"""``contribnet profile`` and ``contribnet leaderboard``: an advisor's profile by stage beside the
region's advisors, and advisors ranked by a metric (definitions: ``contribnet.graph.profiles``)."""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from rich.console import Console

from contribnet.cli.common import add_store_option, money, opened_store, print_rows, settings_from
from contribnet.graph.profiles import METRICS

#: The figures in money (fen, shown in yuan).
_MONEY_FIGURES = ("credit", "assists_given", "assists_received")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _period(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="start", type=_day, metavar="DATE", help="first day")
    parser.add_argument("--to", dest="end", type=_day, metavar="DATE", help="last day (inclusive)")


def register(subparsers: Any) -> None:
    profile = subparsers.add_parser(
        "profile",
        help="an advisor's profile by stage, beside the region's advisors",
        description="Per stage: touches, customers touched, deals contributed to, conversion, "
        "credit earned and assists given and received (in yuan); then each figure in all, with "
        "activity points, beside the average and top decile of the advisors of the staff "
        "member's region over the same period.",
    )
    profile.add_argument("staff", metavar="STAFF", help="the staff member's id")
    profile.add_argument(
        "--from",
        dest="start",
        type=_day,
        metavar="DATE",
        help="first day (default: 12 weeks ending on --to)",
    )
    profile.add_argument(
        "--to", dest="end", type=_day, metavar="DATE", help="last day, inclusive (default: today)"
    )
    add_store_option(profile)
    profile.set_defaults(func=_profile)

    board = subparsers.add_parser(
        "leaderboard",
        help="advisors ranked by credit, deals, touches, points or conversion",
        description="The advisors of a period ranked by a metric, highest first (credit in "
        "yuan); only a region's or a brand's if given.",
    )
    board.add_argument("--metric", choices=METRICS, required=True, help="what to rank by")
    board.add_argument("--region", help="only advisors of this region (their home store's)")
    board.add_argument("--brand", help="only advisors of this brand (their home store's)")
    board.add_argument("--limit", type=int, default=20, help="rows (default 20)")
    _period(board)
    add_store_option(board)
    board.set_defaults(func=_leaderboard)


def _shown(figure: str, value: float | None) -> Any:
    """A figure as the tables show it: money in yuan, a ratio with two decimals."""
    if value is None:
        return ""
    if figure in _MONEY_FIGURES:
        return money(round(value))
    if figure == "conversion":
        return f"{value:.2f}"
    return round(value, 2) if isinstance(value, float) and not value.is_integer() else int(value)


def _profile(args: argparse.Namespace) -> int:
    from contribnet.services.profiles import staff_profile

    settings = settings_from(args)
    with opened_store(args) as store:
        view = staff_profile(store, args.staff, args.start, args.end, settings.stages)
    console = Console()
    where = ", ".join(x for x in (view.store, view.brand, view.region) if x)
    console.print(f"{view.name or view.staff} ({view.staff}; {where})")
    figures = (
        "touches",
        "customers",
        "deals",
        "converted",
        "conversion",
        "credit",
        "assists_given",
        "assists_received",
    )
    rows = [
        {"stage": s.stage, **{f: _shown(f, getattr(s, f).value) for f in figures}}
        | {
            "credit avg": _shown("credit", s.credit.average),
            "credit top 10%": _shown("credit", s.credit.top_decile),
        }
        for s in [*view.stages, view.total]
    ]
    print_rows(console, ("stage", *figures, "credit avg", "credit top 10%"), rows)
    console.print(f"Beside the {view.peers} advisors of {view.region or 'no region'}:")
    beside = [
        {
            "figure": f,
            "value": _shown(f, getattr(view.total, f).value),
            "region average": _shown(f, getattr(view.total, f).average),
            "top decile": _shown(f, getattr(view.total, f).top_decile),
        }
        for f in figures
    ] + [
        {
            "figure": name,
            "value": _shown(name, b.value),
            "region average": _shown(name, b.average),
            "top decile": _shown(name, b.top_decile),
        }
        for name, b in (("points", view.points), ("activity", view.activities))
    ]
    print_rows(console, ("figure", "value", "region average", "top decile"), beside)
    return 0


def _leaderboard(args: argparse.Namespace) -> int:
    from contribnet.services.profiles import leaderboard

    with opened_store(args) as store:
        board = leaderboard(
            store,
            args.metric,
            args.start,
            args.end,
            region=args.region,
            brand=args.brand,
            limit=max(args.limit, 1),
        )
    rows = [
        {
            "rank": r.rank,
            "staff": r.staff,
            "name": r.name,
            "store": r.store,
            "region": r.region,
            args.metric: _shown(args.metric, r.value),
        }
        for r in board.rows
    ]
    print_rows(Console(), ("rank", "staff", "name", "store", "region", args.metric), rows)
    return 0
