"""``contribnet settle`` (a period, or one deal; ``--resettle``: settle again what changed) and
``contribnet policies`` (add, list)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from contribnet.cli.common import (
    add_store_option,
    cli_actor,
    money,
    opened_store,
    print_rows,
    settings_from,
)
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
        "Time; --to is inclusive. With --resettle, every settled deal of the period whose split "
        "changes when computed again now (under the policy version and model its settlement "
        "recorded) is listed with old and new fen per person, and superseded with --reason "
        "unless --dry-run; unchanged deals are left alone, so a second run changes nothing.",
    )
    settle.add_argument("--from", dest="start", type=_day, metavar="DATE", help="first close day")
    settle.add_argument("--to", dest="end", type=_day, metavar="DATE", help="last close day")
    settle.add_argument("--deal", metavar="ID", help="settle this one deal instead of a period")
    settle.add_argument(
        "--from-parquet",
        type=Path,
        metavar="DIR",
        help="record the splits of a recompute (contribnet recompute --out DIR) by the usual "
        "rules: unchanged deals are left alone, a settled deal is superseded only with --reason",
    )
    settle.add_argument(
        "--reason",
        help="why settlements are superseded: with --deal (if its inputs changed) or with "
        "--resettle (required unless --dry-run)",
    )
    settle.add_argument(
        "--resettle",
        action="store_true",
        help="settle again the settled deals of the period whose split changes when computed now",
    )
    settle.add_argument(
        "--dry-run",
        action="store_true",
        help="with --resettle: list the deals that would change, write nothing",
    )
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
    settle.add_argument(
        "--json",
        action="store_true",
        help="print the outcome as JSON (with --resettle: one line per changed deal, then the "
        "summary)",
    )
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


def _progress(label: str, console: Console, disable: bool) -> Progress:
    return Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=disable,
        redirect_stdout=False,  # the rows go to stdout itself, even while the bar is on stderr
    )


def _settle(args: argparse.Namespace) -> int:
    if args.from_parquet is not None:
        return _settle_from_parquet(args)
    if args.resettle:
        return _resettle(args)
    if args.dry_run:
        raise InvalidRequest.one("--dry-run", "goes with --resettle")
    console = Console(stderr=True)
    with opened_store(args) as store:
        policy_service.ensure_default_policy(store)
        if args.deal:
            settlement, created = settlement_service.settle(
                store,
                args.deal,
                requested_by=cli_actor(),
                policy=args.policy,
                model=args.model,
                reason=args.reason,
                flag_rules=settings_from(args).flag_rules,
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
            requested_by=cli_actor(),
            policy=args.policy,
            model=args.model,
            chunk=args.chunk,
            workers=args.workers,
            store_url=settings_from(args).store_url,
            flag_rules=settings_from(args).flag_rules,
        )
        progress = _progress("Settling deals", console, args.json)
        last = None
        try:
            with progress:
                last = first = next(steps)
                task = progress.add_task("settle", total=first.total)
                for last in steps:
                    progress.update(task, completed=last.done)
        except KeyboardInterrupt:
            return _interrupted(console, last)
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
        ("held by open flags", last.held),
    ):
        table.add_row(label, f"{value:,}")
    console.print(table)
    for deal, message in last.failed[:10]:
        console.print(f"  {deal}: {message}", highlight=False)
    for deal, flags in last.held_by[:10]:
        console.print(f"  {deal}: held by {', '.join(flags)} until reviewed", highlight=False)
    return 1 if last.failures else 0


def _settle_from_parquet(args: argparse.Namespace) -> int:
    from contribnet.scale.folders import read_recompute

    for option, given in (
        ("--deal", args.deal),
        ("--resettle", args.resettle),
        ("--dry-run", args.dry_run),
        ("--policy", args.policy),
        ("--model", args.model),
        ("--from", args.start),
        ("--to", args.end),
    ):
        if given:
            raise InvalidRequest.one(
                option, "does not go with --from-parquet: the recompute chose the deals"
            )
    recomputed = read_recompute(args.from_parquet)
    console = Console(stderr=True)
    with opened_store(args) as store:
        tune_gc()
        steps = settlement_service.settle_recomputed(
            store,
            recomputed.rows(args.chunk),
            recomputed.deals,
            requested_by=cli_actor(),
            reason=args.reason,
            flag_rules=settings_from(args).flag_rules,
        )
        progress = _progress("Recording recomputed splits", console, args.json)
        with progress:
            last = next(steps)
            task = progress.add_task("record", total=last.total)
            for last in steps:
                progress.update(task, completed=last.done)
    if args.json:
        print(json.dumps(vars(last), indent=2))
        return 1 if last.failures else 0
    table = Table(show_header=False, box=None)
    for label, value in (
        ("recomputed deals", last.total),
        ("settled now", last.created),
        ("superseded now", last.superseded),
        ("already recorded, unchanged", last.existing),
        ("voided since the export", last.voided),
        ("stale (changed since the export)", last.stale),
        ("settled otherwise, no --reason", last.needs_reason),
        ("settled meanwhile", last.skipped),
        ("not recorded", last.failures),
    ):
        table.add_row(label, f"{value:,}")
    console.print(table)
    for deal, message in last.failed[:10]:
        console.print(f"  {deal}: {message}", highlight=False)
    return 1 if last.failures else 0


def _interrupted(console: Console, last: settlement_service.BatchProgress | None) -> int:
    """Ctrl-C: say what was recorded (each chunk commits on its own) and how to go on."""
    settled = f"at least {last.created:,} deal(s) settled" if last else "nothing settled yet"
    console.print(
        f"interrupted: {settled}. Run the same command again to settle the rest: "
        "deals already settled are skipped.",
        highlight=False,
        soft_wrap=True,
    )
    return 130


_COLUMNS = (  # heading, width, right-aligned
    ("deal", 14, False),
    ("kind", 5, False),
    ("id", 16, False),
    ("name", 18, False),
    ("old", 14, True),
    ("new", 14, True),
    ("difference", 14, True),
    ("points", 18, False),
    ("", 0, False),
)


def _line(*cells: str) -> str:
    """One row of fixed-width columns (a wide character, as in a Chinese name, takes two)."""
    parts = []
    for cell, (_, width, right) in zip(cells, _COLUMNS, strict=True):
        pad = " " * max(width - cell_len(cell), 0)
        parts.append(pad + cell if right else cell + pad)
    return "  ".join(parts).rstrip()


def _signed(fen: int) -> str:
    """A difference in yuan with its sign: ``+¥12.50``, ``-¥3.00``, ``¥0.00``."""
    return ("+" if fen > 0 else "") + money(fen)


def _points(old: int, new: int, kind: str) -> str:
    if old == new and (kind != "owner" or old == 0):
        return ""
    return f"{old:,} → {new:,} ({new - old:+,})"


def _rows(change: settlement_service.DealChange) -> list[str]:
    """A changed deal as table rows: its people, then store credit that moves between stores."""
    if change.outcome == "superseded":
        note = f"{'voided: reversed' if change.voided else 'superseded'} by {change.superseded_by}"
    elif change.outcome == "settled meanwhile":
        note = "settled again by another request meanwhile: left as it is"
    else:
        note = "voided: to be reversed" if change.voided else ""
    rows = [
        (
            p.kind,
            p.id,
            p.name or "",
            p.old_fen,
            p.new_fen,
            _points(p.old_points, p.new_points, p.kind),
        )
        for p in change.people
    ]
    rows += [
        (
            "store",
            s.store or "-",
            f"credit of {s.contributor}",
            s.old_fen,
            s.new_fen,
            _points(s.old_points, s.new_points, s.kind),
        )
        for s in change.stores
    ]
    return [
        _line(
            change.deal,
            kind,
            who,
            name,
            *(
                (money(old), money(new), _signed(new - old))
                if old or new or not points
                else ("",) * 3
            ),
            points,
            note if i == 0 else "",
        )
        for i, (kind, who, name, old, new, points) in enumerate(rows)
    ]


def _change_json(change: settlement_service.DealChange) -> str:
    data = dataclasses.asdict(change)
    data["closed_at"] = change.closed_at.isoformat()
    for person, p in zip(data["people"], change.people, strict=True):
        person["fen_difference"], person["points_difference"] = p.fen, p.points
    return json.dumps(data, ensure_ascii=False)


def _resettle(args: argparse.Namespace) -> int:
    for option, given, hint in (
        ("--deal", args.deal, "; to settle one deal again use --deal ID --reason TEXT"),
        ("--policy", args.policy, ""),
        ("--model", args.model, ""),
    ):
        if given:
            raise InvalidRequest.one(
                option,
                "does not go with --resettle: each deal is computed again under the policy "
                f"version and model its settlement recorded{hint}",
            )
    if not args.dry_run and not (args.reason or "").strip():
        raise InvalidRequest.one(
            "--reason",
            "required with --resettle: say why the changed deals are settled again (or list "
            "them with --dry-run)",
        )
    console = Console(stderr=True)
    with opened_store(args) as store:
        tune_gc()  # this process now computes in bulk
        steps = settlement_service.resettle_period(
            store,
            args.start,
            args.end,
            requested_by=cli_actor(),
            reason=args.reason,
            dry_run=args.dry_run,
            chunk=args.chunk,
            workers=args.workers,
            store_url=settings_from(args).store_url,
            flag_rules=settings_from(args).flag_rules,
        )
        progress = _progress("Checking settled deals", console, args.json)
        write: Callable[[str], None] = print
        if progress.console.is_terminal and not args.json and sys.stdout.isatty():

            def write(text: str) -> None:  # one terminal: the rows go above the bar
                progress.console.print(text, markup=False, highlight=False, soft_wrap=True)

        headed = False
        with progress:
            last = next(steps)
            task = progress.add_task("resettle", total=last.total)
            for last in steps:
                progress.update(task, completed=last.checked, total=last.total)
                for change in last.changes:
                    if args.json:
                        write(_change_json(change))
                        continue
                    if not headed:
                        write(_line(*(heading for heading, _, _ in _COLUMNS)))
                        headed = True
                    for row in _rows(change):
                        write(row)
    summary = {
        "dry_run": last.dry_run,
        "deals_checked": last.checked,
        "deals_changed": last.changed,
        "superseded": last.superseded,
        "settled_meanwhile": last.skipped,
        "fen_moved": last.fen_moved,
        "fen_added": last.fen_added,
        "fen_removed": last.fen_removed,
        "points_added": last.points_added,
        "points_removed": last.points_removed,
        "failures": last.failures,
        "failed": last.failed,
        "held": last.held,
        "held_by": last.held_by,
    }
    if args.json:
        print(json.dumps({"summary": summary}, ensure_ascii=False))
        return 1 if last.failures else 0
    if not headed:
        print("No settled deal's split changes.")
    table = Table(show_header=False, box=None, title=None)
    rows = [
        ("deals checked", f"{last.checked:,}"),
        ("deals changed", f"{last.changed:,}"),
        (
            "superseded now",
            "none (dry run: nothing written)" if last.dry_run else f"{last.superseded:,}",
        ),
        (
            "money moved",
            f"{money(last.fen_moved)} (paid more: {money(last.fen_added)}, "
            f"less: {money(last.fen_removed)})",
        ),
    ]
    if last.points_added or last.points_removed:
        rows.append(("points moved", f"more: {last.points_added:,}, less: {last.points_removed:,}"))
    if last.skipped:
        rows.append(("settled meanwhile (left as they are)", f"{last.skipped:,}"))
    if last.failures:
        rows.append(("could not be computed", f"{last.failures:,}"))
    if last.held:
        rows.append(("held by open flags (left as they are)", f"{last.held:,}"))
    for label, value in rows:
        table.add_row(label, value)
    Console(highlight=False).print(table)
    for deal, message in last.failed[:10]:
        console.print(f"  {deal}: {message}", highlight=False)
    for deal, flags in last.held_by[:10]:
        console.print(f"  {deal}: held by {', '.join(flags)} until reviewed", highlight=False)
    return 1 if last.failures else 0


def _add_policy(args: argparse.Namespace) -> int:
    if not args.file.is_file():
        raise InvalidRequest.one("file", f"no such file: {args.file}")
    text = policy_service.read_policy_file(args.file)
    with opened_store(args, create=True) as store:
        policy_service.ensure_default_policy(store)
        record, created = policy_service.add_policy(store, text, cli_actor())
    state = "recorded" if created else "already recorded"
    print(f"{record.id} {state}: effective from {record.effective_from}, model {record.model}")
    return 0


def _list_policies(args: argparse.Namespace) -> int:
    with opened_store(args) as store:
        records = store.ledger.policies()
    columns = ("id", "effective from", "in force until", "model", "recorded (UTC)", "by")
    rows = []
    for r in records:
        ever, until = policy_service.in_force_until(records, r)
        in_force = "never (replaced)" if not ever else (until.isoformat() if until else "—")
        values = (
            r.id,
            r.effective_from.isoformat(),
            in_force,
            r.model,
            r.created_at.strftime("%Y-%m-%d %H:%M"),
            r.created_by,
        )
        rows.append(dict(zip(columns, values, strict=True)))
    console = Console()
    console.print("[bold]Policy versions[/bold]")
    print_rows(console, columns, rows)
    return 0
