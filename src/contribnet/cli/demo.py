"""``contribnet generate`` (a demo network as JSON Lines) and ``contribnet demo`` (into a store)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import nullcontext
from datetime import date
from pathlib import Path
from typing import IO, Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from contribnet.cli.common import add_store_option, count, opened_store, settings_from
from contribnet.demo.activities import ActivityStream
from contribnet.demo.fraud import FraudPlanter
from contribnet.demo.generator import (
    SIZES,
    START,
    NetworkGenerator,
    Summary,
)
from contribnet.demo.leads import LeadStream
from contribnet.process import fewer_gc_pauses
from contribnet.settings import redacted_url
from contribnet.store import Store

DEFAULT_SEED = 1
_FLUSH_EVERY = 5_000


def register(subparsers: Any) -> None:
    generate = subparsers.add_parser(
        "generate",
        help="write a realistic NIO/ONVO demo network as JSON Lines",
        description="Generate a realistic collaboration network (brands, stores, staff, customers, "
        "joint events, then touches, referrals, handovers, deals, activities and voids in time "
        "order). The same size and seed give the same bytes.",
    )
    _add_size_and_seed(generate)
    generate.add_argument(
        "--out", required=True, metavar="FILE", help="the JSON Lines file to write, or - for stdout"
    )
    generate.add_argument(
        "--plant-fraud",
        action="store_true",
        help="plant known cases of every fraud flag after the network, list them on stderr and "
        "in FILE.planted.json",
    )
    generate.set_defaults(func=_generate)

    demo = subparsers.add_parser(
        "demo",
        help="fill the store with the demo network",
        description="Generate the demo network, load it into the store and settle its deals "
        "under the default policy, so that the credit queries, the statements and the leaders' "
        "page have data, and redeem a few advisors' and owners' points (idempotent: loading, "
        "settling and redeeming again changes nothing).",
    )
    _add_size_and_seed(demo)
    demo.add_argument(
        "--no-settle",
        action="store_true",
        help="load the events only; settle later with contribnet settle",
    )
    demo.add_argument(
        "--plant-fraud",
        action="store_true",
        help="after the network, load known cases of every fraud flag (listed; see flags)",
    )
    add_store_option(demo)
    demo.set_defaults(func=_demo)


def _add_size_and_seed(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--size",
        choices=tuple(SIZES),
        default="demo",
        help="tiny (tests), demo (~2,000 customers, default), m (~100k deals), l (~1M deals)",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="the random seed")


def _generate(args: argparse.Namespace) -> int:
    gen = NetworkGenerator(args.size, args.seed)
    activities = ActivityStream(args.seed)
    leads = LeadStream(args.seed)
    console = Console(stderr=True)
    to_stdout = args.out == "-"
    plant = getattr(args, "plant_fraud", False)
    with (
        nullcontext(sys.stdout) if to_stdout else Path(args.out).open("w", encoding="utf-8") as out,
        fewer_gc_pauses(),
    ):
        planter = write_json_lines(
            gen,
            out,
            console,
            activities,
            planter=FraudPlanter(args.seed) if plant else None,
            leads=leads,
        )
    if planter is not None:
        _report_planted(planter, None if to_stdout else Path(f"{args.out}.planted.json"), console)
    if not to_stdout:
        total = gen.summary.total_events + activities.total_events + leads.total_events
        console.print(f"wrote {total:,} events to {args.out}")
        console.print(summary_table(gen.summary, activities, leads))
    return 0


def write_json_lines(
    gen: NetworkGenerator,
    out: IO[str],
    console: Console,
    activities: ActivityStream | None = None,
    *,
    planter: FraudPlanter | None = None,
    leads: LeadStream | None = None,
) -> FraudPlanter | None:
    """Write each event as one JSON line (sorted keys, UTF-8), with a progress bar on a terminal;
    with ``activities``, the network's activities too (``demo/activities.py``); with
    ``planter``, planted fraud after the network (``demo/fraud.py``; returned, its cases
    filled in); with ``leads``, its lead assignments (``demo/leads.py``)."""
    lines: list[str] = []
    with _progress(console) as progress:
        task = progress.add_task(f"{gen.spec.name} network", total=gen.spec.days, day="")
        events = _events_with_progress(gen, progress, task)
        if planter is not None:
            events = planter.wrap(events)
        if leads is not None:
            events = leads.wrap(events)
        if activities is not None:
            events = activities.wrap(events)
        for n, event in enumerate(events, start=1):
            lines.append(json.dumps(event, sort_keys=True, ensure_ascii=False))
            if n % _FLUSH_EVERY == 0:
                out.write("\n".join(lines) + "\n")
                lines.clear()
        if planter is not None:
            lines += (json.dumps(e, sort_keys=True, ensure_ascii=False) for e in planter.planted())
        if lines:
            out.write("\n".join(lines) + "\n")
        progress.update(task, completed=gen.spec.days)
    return planter


def _report_planted(planter: FraudPlanter, path: Path | None, console: Console) -> None:
    """Which records were planted, per flag kind: a table on stderr, and ``path`` (JSON)."""
    table = Table(title="planted fraud", show_header=True)
    for column in ("kind", "records", "what"):
        table.add_column(column, overflow="fold")
    for case in planter.cases:
        table.add_row(case.kind, ", ".join(case.records), case.description)
    console.print(table)
    if path is not None:
        cases = [c.as_dict() for c in planter.cases]
        path.write_text(json.dumps(cases, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        console.print(f"wrote the planted cases to {path}")


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("days simulated {task.fields[day]}"),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
    )


def _events_with_progress(
    gen: NetworkGenerator, progress: Progress, task: Any
) -> Iterator[dict[str, Any]]:
    """The generator's events; every 20,000 the bar moves to the simulated date reached."""
    for n, event in enumerate(gen.events(), start=1):
        if n % 20_000 == 0 and event["type"] in ("touch", "deal"):
            day = (event.get("at") or event["closed_at"])[:10]
            days = (date.fromisoformat(day) - START).days
            progress.update(task, completed=min(days, gen.spec.days), day=day)
        yield event


def _demo(args: argparse.Namespace) -> int:
    from contribnet.services.ingest import ingest_stream
    from contribnet.services.policies import ensure_default_policy
    from contribnet.services.settlement import settle_period

    settings = settings_from(args)
    gen = NetworkGenerator(args.size, args.seed)
    activities = ActivityStream(args.seed)
    leads = LeadStream(args.seed)
    console = Console()
    planter = FraudPlanter(args.seed) if getattr(args, "plant_fraud", False) else None
    with opened_store(args, create=True) as store, fewer_gc_pauses():
        result = ingest_stream(
            store,
            activities.wrap(leads.wrap(planter.wrap(gen.events()) if planter else gen.events())),
            progress=sys.stderr.isatty(),
            stages=settings.stages,
            actions=settings.actions,
        )
        if planter is not None:  # a batch of its own: received after the network
            result += ingest_stream(
                store, planter.planted(), stages=settings.stages, actions=settings.actions
            )
            _report_planted(planter, None, console)
        console.print(
            f"loaded the {args.size} network (seed {args.seed}) into "
            f"{redacted_url(settings.store_url)}: "
            f"accepted {count(result.accepted)}, duplicates {count(result.duplicates)}"
        )
        console.print(summary_table(gen.summary, activities, leads))
        if args.no_settle:
            _redeem_demo_points(store, activities, console)
            console.print("not settled (--no-settle): run contribnet settle before reading credit")
            return 0
        ensure_default_policy(store)
        *_, done = settle_period(store, None, None, requested_by="contribnet demo")
        console.print(
            f"settled {count(done.created)} deals under the default policy "
            f"({count(done.failures)} could not be settled)"
        )
        _redeem_demo_points(store, activities, console)
    return 1 if done.failures else 0


#: Redemptions of the demo: the advisors with the most activities redeem a quarter of what they
#: earned, the owner with the most referral points half of theirs; the last one is reversed.
_DEMO_REDEEMERS = 3


def _redeem_demo_points(store: Store, activities: ActivityStream, console: Console) -> None:
    """A few redemptions (and one reversal) so that the points ledgers have every kind of entry.

    Amounts are a share of what each account *earned* (not of its balance, which the demo's own
    redemptions lower), so running the demo again asks for the same ones: idempotent by id."""
    from contribnet.services.points import (
        ensure_default_points_policy,
        points_statement,
        redeem,
        reverse,
    )

    ensure_default_points_policy(store)
    made: list[tuple[str, str, int]] = []
    advisors = [staff for staff, _ in activities.by_staff.most_common(_DEMO_REDEEMERS)]
    for n, staff in enumerate(sorted(advisors), start=1):
        earned = points_statement(store, "staff", staff, None, None).earned
        points = earned // 4 // 10 * 10
        if points > 0:
            redeem(
                store,
                f"rd-demo-{n}",
                "staff",
                staff,
                points,
                "extra leads from the pool",
                "contribnet demo",
            )
            made.append((f"rd-demo-{n}", staff, points))
    owner = _top_owner(store)
    if owner is not None:
        earned = points_statement(store, "owner", owner, None, None).earned
        if earned // 2 > 0:
            redeem(
                store,
                "rd-demo-owner",
                "owner",
                owner,
                earned // 2,
                "service voucher",
                "contribnet demo",
            )
            made.append(("rd-demo-owner", owner, earned // 2))
    if made:
        reverse(store, made[0][0], "the leads were never assigned", "contribnet demo")
    described = ", ".join(f"{who} {points:,}" for _, who, points in made)
    console.print(
        f"redeemed points: {described or 'none'}" + (f" ({made[0][0]} reversed)" if made else "")
    )


def _top_owner(store: Store) -> str | None:
    """The owner credited with the most referral points by the current settlements."""
    totals: dict[str, int] = {}
    for settlement in store.ledger.current_settlements():
        for a in settlement.allocations:
            if a.kind == "owner" and a.points > 0:
                totals[a.id] = totals.get(a.id, 0) + a.points
    if not totals:
        return None
    return min(totals, key=lambda owner: (-totals[owner], owner))


def summary_table(
    summary: Summary, activities: ActivityStream | None = None, leads: LeadStream | None = None
) -> Table:
    """The scenario counts of a generated network (and of its activities and lead assignments),
    as a table."""
    table = Table(title=f"{summary.size} network, seed {summary.seed}", show_header=True)
    table.add_column("what")
    table.add_column("count", justify="right")
    for what, how_many in summary_rows(summary):
        table.add_row(what, how_many)
    if activities is not None:
        table.add_row(
            "activities (voided)",
            f"{sum(activities.actions.values()):,} ({activities.voided})",
        )
    if leads is not None:
        table.add_row(
            "leads assigned / reclaimed / reassigned",
            f"{leads.assigned:,} / {leads.reclaimed:,} / {leads.reassigned:,}",
        )
    return table


def summary_rows(summary: Summary) -> list[tuple[str, str]]:
    s = summary
    referrals = s.cross_brand_referrals
    deals = s.cross_brand_deals
    return [
        ("events", f"{s.total_events:,}"),
        ("cities / stores / shared malls", f"{s.cities} / {s.stores} / {s.mall_pairs}"),
        ("staff (moved stores)", f"{s.staff:,} ({s.staff_moves})"),
        ("customers / deals", f"{s.customers:,} / {s.deals:,} ({s.conversion:.0%})"),
        ("touches", f"{s.events['touch']:,}"),
        (
            "cross-brand referrals NIO→ONVO / ONVO→NIO (deals)",
            f"{referrals['nio->onvo']} / {referrals['onvo->nio']} "
            f"({deals['nio->onvo']} / {deals['onvo->nio']})",
        ),
        (
            "holiday assists in Hainan (deals at home)",
            f"{s.cross_city_assists} ({s.cross_city_assist_deals})",
        ),
        (
            "year-end handover: customers (deals)",
            f"{s.handover_customers:,} in {s.handover_events} handovers ({s.handover_deals})",
        ),
        (
            "joint events / touches at them (deals)",
            f"{s.joint_events} / {s.joint_event_touches} ({s.joint_event_deals})",
        ),
        ("order grabs (closed by another store)", f"{s.order_grabs}"),
        ("owner referrals (deals)", f"{s.owner_referrals:,} ({s.owner_referral_deals:,})"),
        ("voided touches / duplicate visit logs", f"{s.voids} / {s.duplicate_visits}"),
    ]
