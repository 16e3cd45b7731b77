"""``contribnet export`` (journeys to Parquet), ``contribnet recompute`` and ``contribnet
simulate`` (credit on Apache Spark). The Spark commands need the ``spark`` extra."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from contribnet.cli.common import add_store_option, opened_store, settings_from
from contribnet.cli.settle import _day
from contribnet.process import tune_gc
from contribnet.scale.export import check_out
from contribnet.settings import redacted_url

_STAGES = {
    "fit": "fitting the learned models",
    "split": "splitting every deal",
    "write": "writing the tables",
}


def register(subparsers: Any) -> None:
    export = subparsers.add_parser(
        "export",
        help="write the store's journeys, paths, staff spells and stores as Parquet",
        description="Stream every live deal closed in the period (its journey as the credit "
        "engine sees it, voids applied), every customer's contribution path, every staff spell, "
        "store and policy version from the store to Parquet under --out, partitioned by close "
        "month (China Standard Time), for contribnet recompute/simulate on Spark. Memory stays "
        "bounded; --out holds a whole export or nothing.",
    )
    export.add_argument("--out", required=True, type=Path, metavar="DIR", help="a new folder")
    export.add_argument("--from", dest="start", type=_day, metavar="DATE", help="first close day")
    export.add_argument("--to", dest="end", type=_day, metavar="DATE", help="last close day")
    export.add_argument("--chunk", type=int, default=1000, metavar="N", help="deals per read")
    export.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="processes reading the store side by side (default 1)",
    )
    add_store_option(export)
    export.set_defaults(func=_export)

    recompute = subparsers.add_parser(
        "recompute",
        help="recompute every exported deal's split on Apache Spark",
        description="Fit the learned models on every exported journey and split every deal "
        "closed in the period on a Spark cluster, with the service's own credit functions: the "
        "same fen, input hashes and explanations as contribnet settle. Writes splits/, "
        "allocations/, store_totals/ and a manifest under --out (all or nothing); "
        "contribnet settle --from-parquet DIR records them.",
    )
    _spark_options(recompute)
    recompute.add_argument(
        "--policy",
        metavar="ID|FILE",
        help="a policy version of the export (name@version or name), or a TOML file "
        "(default: the version in force at each deal's close)",
    )
    recompute.add_argument("--model", metavar="NAME", help="credit model (default: the policy's)")
    recompute.set_defaults(func=_recompute)

    simulate = subparsers.add_parser(
        "simulate",
        help="compare two policies over the exported deals on Apache Spark",
        description="Split every exported deal closed in the period under policy A and policy "
        "B, and write the fen under each and the difference per staff member, store, brand and "
        "city (staff/, stores/, brands/, cities/ under --out). Writes nothing to the store.",
    )
    _spark_options(simulate)
    simulate.add_argument(
        "--policy",
        action="append",
        required=True,
        metavar="ID|FILE",
        help="policy A, then policy B: a version of the export or a TOML file",
    )
    simulate.add_argument(
        "--model",
        action="append",
        metavar="NAME",
        help="model of A, then of B (once: both; default: each policy's)",
    )
    simulate.set_defaults(func=_simulate)


def _spark_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--engine", choices=["spark"], default="spark", help="where to compute (spark)"
    )
    parser.add_argument(
        "--master",
        default="local[2]",
        metavar="URL",
        help="local[N], spark://host:7077 or sc://host:15002 (default local[2])",
    )
    parser.add_argument("--input", required=True, type=Path, metavar="DIR", help="an export")
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="a new folder")
    parser.add_argument("--from", dest="start", type=_day, metavar="DATE", help="first close day")
    parser.add_argument("--to", dest="end", type=_day, metavar="DATE", help="last close day")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


def _export(args: argparse.Namespace) -> int:
    from contribnet.scale.export import ExportProgress, export

    console = Console(stderr=True)
    progress = Progress(
        TextColumn("[bold]Exporting {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
    tasks: dict[str, Any] = {}

    def report(step: ExportProgress) -> None:
        if step.phase not in tasks:
            tasks[step.phase] = progress.add_task(step.phase, total=step.total)
        progress.update(tasks[step.phase], completed=step.done, total=step.total)

    url = settings_from(args).store_url
    with opened_store(args) as store:
        tune_gc()
        with progress:
            manifest = export(
                store,
                args.out,
                args.start,
                args.end,
                chunk=args.chunk,
                store_label=redacted_url(url),
                on_progress=report,
                workers=args.workers,
                store_url=url,
            )
    console.print(
        f"exported {manifest['deals']:,} deals ({manifest['items']:,} contribution items), "
        f"{manifest['paths']:,} customers' paths, {manifest['staff_spells']:,} staff spells, "
        f"{manifest['stores']:,} stores and {len(manifest['policies'])} policy version(s) "
        f"to {args.out}",
        highlight=False,
    )
    return 0


def _stage_bar(console: Console) -> tuple[Progress, Any]:
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
    return progress, progress.add_task("starting Spark", total=len(_STAGES))


def _recompute(args: argparse.Namespace) -> int:
    from contribnet.scale.folders import read_export
    from contribnet.scale.jobs import recompute, resolve_policy_arg
    from contribnet.scale.spark import check_master, spark_session
    from contribnet.services.credit import check_model

    export = read_export(args.input)  # every input checked before Spark starts
    if args.policy:
        resolve_policy_arg(export.policies, args.policy, "--policy")
    if args.model:
        check_model(args.model, "--model")
    check_out(args.out)
    check_master(args.master)
    console = Console(stderr=True)
    progress, task = _stage_bar(console)
    done = iter(range(1, len(_STAGES) + 1))

    def stage(name: str) -> None:
        progress.update(task, description=_STAGES[name], completed=next(done) - 1)

    with progress, spark_session(args.master, "contribnet recompute") as spark:
        report = recompute(
            spark,
            export,
            args.out,
            policy=args.policy,
            model=args.model,
            start=args.start,
            end=args.end,
            on_stage=stage,
        )
        progress.update(task, description="done", completed=len(_STAGES))
    if args.json:
        print(json.dumps(report.manifest, ensure_ascii=False))
    else:
        table = Table(show_header=False, box=None)
        table.add_row("deals split", f"{report.deals:,}")
        table.add_row("could not be split", f"{report.failures:,}")
        for name, seconds in report.seconds.items():
            table.add_row(f"{name} (s)", f"{seconds:.1f}")
        Console(highlight=False).print(table)
        print(
            f"written to {args.out}; record them with contribnet settle --from-parquet {args.out}"
        )
        for deal, message in report.failed[:10]:
            console.print(f"  {deal}: {message}", highlight=False)
    return 1 if report.failures else 0


def _simulate(args: argparse.Namespace) -> int:
    from contribnet.domain.settlement import InvalidRequest
    from contribnet.scale.folders import read_export
    from contribnet.scale.jobs import resolve_policy_arg, simulate
    from contribnet.scale.spark import check_master, spark_session
    from contribnet.services.credit import check_model

    if len(args.policy) != 2:
        raise InvalidRequest.one("--policy", "give two: --policy A --policy B")
    models = args.model or []
    if len(models) > 2:
        raise InvalidRequest.one("--model", "give at most two: that of A, then that of B")
    model_a = models[0] if models else None
    model_b = models[-1] if models else None
    export = read_export(args.input)  # every input checked before Spark starts
    for ref in args.policy:
        resolve_policy_arg(export.policies, ref, "--policy")
    for name in models:
        check_model(name, "--model")
    check_out(args.out)
    check_master(args.master)
    console = Console(stderr=True)
    progress, task = _stage_bar(console)
    done = iter(range(1, len(_STAGES) + 1))

    def stage(name: str) -> None:
        progress.update(task, description=_STAGES[name], completed=next(done) - 1)

    with progress, spark_session(args.master, "contribnet simulate") as spark:
        report = simulate(
            spark,
            export,
            args.out,
            args.policy[0],
            args.policy[1],
            model_a=model_a,
            model_b=model_b,
            start=args.start,
            end=args.end,
            on_stage=stage,
        )
        progress.update(task, description="done", completed=len(_STAGES))
    summary = {
        "deals": report.deals,
        "failures": report.failures,
        "amount_a": report.amount_a,
        "amount_b": report.amount_b,
        "delta": report.amount_b - report.amount_a,
    }
    if args.json:
        print(json.dumps(summary))
    else:
        table = Table(show_header=False, box=None)
        for label, value in summary.items():
            table.add_row(label.replace("_", " "), f"{value:,}")
        Console(highlight=False).print(table)
        print(f"per staff, store, brand and city: {args.out}")
    return 1 if report.failures else 0
