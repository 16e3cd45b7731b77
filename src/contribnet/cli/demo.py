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
from contribnet.demo.generator import (
    SIZES,
    START,
    NetworkGenerator,
    Summary,
)
from contribnet.process import fewer_gc_pauses
from contribnet.settings import redacted_url

DEFAULT_SEED = 1
_FLUSH_EVERY = 5_000


def register(subparsers: Any) -> None:
    generate = subparsers.add_parser(
        "generate",
        help="write a realistic NIO/ONVO demo network as JSON Lines",
        description="Generate a realistic collaboration network (brands, stores, staff, customers, "
        "joint events, then touches, referrals, handovers, deals and voids in time order). "
        "The same size and seed give the same bytes.",
    )
    _add_size_and_seed(generate)
    generate.add_argument(
        "--out", required=True, metavar="FILE", help="the JSON Lines file to write, or - for stdout"
    )
    generate.set_defaults(func=_generate)

    demo = subparsers.add_parser(
        "demo",
        help="fill the store with the demo network",
        description="Generate the demo network, load it into the store and settle its deals "
        "under the default policy, so that the credit queries, the statements and the leaders' "
        "page have data (idempotent: loading and settling it again changes nothing).",
    )
    _add_size_and_seed(demo)
    demo.add_argument(
        "--no-settle",
        action="store_true",
        help="load the events only; settle later with contribnet settle",
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
    console = Console(stderr=True)
    to_stdout = args.out == "-"
    with (
        nullcontext(sys.stdout) if to_stdout else Path(args.out).open("w", encoding="utf-8") as out,
        fewer_gc_pauses(),
    ):
        write_json_lines(gen, out, console)
    if not to_stdout:
        console.print(f"wrote {gen.summary.total_events:,} events to {args.out}")
        console.print(summary_table(gen.summary))
    return 0


def write_json_lines(gen: NetworkGenerator, out: IO[str], console: Console) -> None:
    """Write each event as one JSON line (sorted keys, UTF-8), with a progress bar on a terminal."""
    lines: list[str] = []
    with _progress(console) as progress:
        task = progress.add_task(f"{gen.spec.name} network", total=gen.spec.days, day="")
        for n, event in enumerate(_events_with_progress(gen, progress, task), start=1):
            lines.append(json.dumps(event, sort_keys=True, ensure_ascii=False))
            if n % _FLUSH_EVERY == 0:
                out.write("\n".join(lines) + "\n")
                lines.clear()
        if lines:
            out.write("\n".join(lines) + "\n")
        progress.update(task, completed=gen.spec.days)


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
    console = Console()
    with opened_store(args, create=True) as store, fewer_gc_pauses():
        result = ingest_stream(
            store, gen.events(), progress=sys.stderr.isatty(), stages=settings.stages
        )
        console.print(
            f"loaded the {args.size} network (seed {args.seed}) into "
            f"{redacted_url(settings.store_url)}: "
            f"accepted {count(result.accepted)}, duplicates {count(result.duplicates)}"
        )
        console.print(summary_table(gen.summary))
        if args.no_settle:
            console.print("not settled (--no-settle): run contribnet settle before reading credit")
            return 0
        ensure_default_policy(store)
        *_, done = settle_period(store, None, None, requested_by="contribnet demo")
    console.print(
        f"settled {count(done.created)} deals under the default policy "
        f"({count(done.failures)} could not be settled)"
    )
    return 1 if done.failures else 0


def summary_table(summary: Summary) -> Table:
    """The scenario counts of a generated network, as a table."""
    table = Table(title=f"{summary.size} network, seed {summary.seed}", show_header=True)
    table.add_column("what")
    table.add_column("count", justify="right")
    for what, how_many in summary_rows(summary):
        table.add_row(what, how_many)
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
