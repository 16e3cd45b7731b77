"""``contribnet credit --events FILE --deal ID``: split one deal's reward pool from a file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rich.console import Console, JustifyMethod
from rich.table import Table

from contribnet.credit import MODELS, Split, build_context, compute_split, needs_context
from contribnet.credit.context import encode_training_rows
from contribnet.credit.explain import money
from contribnet.domain.policy import MODEL_NAMES, default_policy, load_policy
from contribnet.settings import Settings


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "credit",
        help="split a deal's reward pool among its contributors, from an events file",
        description='Read events (JSON Lines, or a JSON document {"events": [...]}) into an '
        "in-memory store, build the deal's journey and print its credit split: who gets what "
        "share of the reward pool, in exact fen, and why. Bad input names the event and field "
        "and exits with status 2.",
    )
    parser.add_argument("--events", type=Path, required=True, metavar="FILE", help="events file")
    parser.add_argument("--deal", required=True, metavar="ID", help="the deal to split")
    parser.add_argument(
        "--model",
        default=None,
        choices=MODEL_NAMES,
        metavar="NAME",
        help="credit model (default: the policy's): "
        + ", ".join(n if MODELS[n].for_pay else f"{n} (analysis only)" for n in MODEL_NAMES)
        + ". An analysis-only model fails a fairness scenario (GET /v1/models says which): it "
        "splits here, but a settlement or stored policy refuses it unless the policy says "
        "analysis_models_for_pay = true",
    )
    parser.add_argument(
        "--policy",
        type=Path,
        default=None,
        metavar="FILE.toml",
        help="policy file (default: policies/default.toml)",
    )
    parser.add_argument("--json", action="store_true", help="print the split as JSON")
    parser.set_defaults(func=_credit)


def split_from_file(
    events: Path, deal: str, model: str | None = None, policy_path: Path | None = None
) -> Split:
    """Load ``events`` into an in-memory store and split ``deal``.

    Raises the store's ``InvalidEvents``/``NotFound``, ``InvalidPolicy`` or ``CreditError``
    (all ``ContribnetError``, which the CLI turns into exit status 2).
    """
    from contribnet.services.ingest import ingest_file
    from contribnet.store import open_store

    policy = load_policy(policy_path) if policy_path is not None else default_policy()
    name = model or policy.model
    store = open_store("sqlite://:memory:")
    try:
        settings = Settings.from_env()
        ingest_file(store, events, settings.stages, actions=settings.actions)
        journey = store.deal_journey(deal)
        paths = encode_training_rows(store.contribution_rows(), policy)
        context = build_context(paths, policy) if needs_context(name) else None
        return compute_split(journey, policy, name, context)
    finally:
        store.close()


def _credit(args: argparse.Namespace) -> int:
    if not args.events.is_file():
        print(f"contribnet: error: no such file: {args.events}", file=sys.stderr)
        return 2
    split = split_from_file(args.events, args.deal, args.model, args.policy)
    if args.json:
        print(split.model_dump_json(indent=2))
        return 0
    console = Console()
    table = Table(
        title=f"Deal {split.deal} — {split.model} — policy {split.policy.name} "
        f"v{split.policy.version} — pool {money(split.pool)}",
        show_header=True,
        header_style="bold",
    )
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("contributor", "left"),
        ("kind", "left"),
        ("store", "left"),
        ("brand", "left"),
        ("share", "right"),
        ("amount", "right"),
        ("points", "right"),
    )
    for column, justify in columns:
        table.add_column(column, justify=justify)
    for a in split.allocations:
        table.add_row(
            a.id,
            a.kind,
            a.store or "",
            a.brand or "",
            f"{a.share:.1%}",
            money(a.amount) if a.kind == "staff" else "",
            f"{a.points:,}" if a.kind == "owner" else "",
        )
    console.print(table)
    for a in split.allocations:
        console.print(f"• {a.explanation.text}", highlight=False)
    if not split.allocations:
        console.print("No one has a qualifying touch: the pool is not allocated.")
    console.print(f"[dim]input hash {split.input_hash}[/dim]")
    return 0
