"""Write the README's scenario table: every credit model against the six scenarios of the demo.

    python tools/scenario_table.py            # rewrite the table in README.md
    python tools/scenario_table.py --print    # print it only
    python tools/scenario_table.py --check    # exit 1 if README.md is not up to date

It runs the fairness check (:func:`contribnet.services.fairness.demo_fairness`): the demo network
that ``contribnet demo`` loads, and the hand-built scenario fixtures, in a temporary SQLite store;
every model of the registry splits every scenario instance the way a settlement would. The table
gives, per model and scenario, the key contributor's median and minimum share over the demo's
instances (✗: a check failed there), and whether the model may pay. It goes between the markers
``<!-- scenario-table -->`` and ``<!-- /scenario-table -->``; nothing else in the README changes.

The registry's marks (``ModelSpec.for_pay``/``fails``) are what this shows; if they disagree,
the script says so on stderr, with the mark to set, and exits 1 (``tests/credit/test_fairness.py``
fails on the same disagreement).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from contribnet.credit.fairness import Failure
from contribnet.credit.registry import MODELS
from contribnet.domain.fairness import ROLES, SCENARIO_NAMES
from contribnet.services.fairness import FairnessReport, demo_fairness

README = Path(__file__).resolve().parents[1] / "README.md"
BEGIN, END = "<!-- scenario-table -->", "<!-- /scenario-table -->"

#: The table's columns: (scenario, role), in the brief's order.
COLUMNS = (
    ("order_grabbing", "victim"),
    ("cross_brand_referral", "referrer"),
    ("cross_city_assist", "assist"),
    ("bulk_handover", "handing"),
    ("joint_event", "event_advisor"),
    ("joint_event", "organiser"),
    ("owner_referral", "owner"),
)


def _percent(x: float) -> str:
    text = f"{x:.1%}"
    return "0%" if text == "0.0%" else text


def table(demo: FairnessReport) -> str:
    """The Markdown table of ``demo``: models x (scenario, role), ``median / min``, the use."""
    head = ["model"]
    for scenario, role in COLUMNS:
        r = demo.result(demo.models[0], scenario)
        head.append(f"{ROLES[role]} ({r.instances})")
    head.append("use")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for model in demo.models:
        cells = [f"`{model}`"]
        for scenario, role in COLUMNS:
            r = demo.result(model, scenario)
            median, least = r.shares[role]
            failed = any(f.contributor.role == role for f in r.failures)
            cells.append(f"{_percent(median)} / {_percent(least)}" + (" ✗" if failed else ""))
        spec = MODELS[model]
        if spec.for_pay:
            cells.append("pay")
        else:
            cells.append(f"analysis only: {SCENARIO_NAMES.get(spec.fails or '', spec.fails)}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def block(demo: FairnessReport) -> str:
    """What goes between the markers."""
    return "\n".join(
        [
            BEGIN,
            "",
            "The key contributor's share, median / minimum over the scenario instances of the",
            f"{demo.description} (each heading gives their number); ✗: a fairness check failed",
            "there. Shares are of the pool the contributor is paid from: staff cash, owners'",
            "points, stores' cash. Written by `python tools/scenario_table.py`.",
            "",
            table(demo),
            "",
            END,
        ]
    )


def marks(demo: FairnessReport, hand: FairnessReport) -> dict[str, tuple[str, str] | None]:
    """What the registry's marks should be: per model, None (for pay) or ``(scenario, why)``.

    The scenario is the one where the largest part of the instances fail (ties: the order-grab
    scenario, then the brief's order); why is its worst failure in words.
    """
    out: dict[str, tuple[str, str] | None] = {}
    preferred = ["order_grabbing", *SCENARIO_NAMES]
    for model in demo.models:
        failures = demo.failures(model) + hand.failures(model)
        if not failures:
            out[model] = None
            continue

        part = {s: _failing(demo, hand, model, s, failures) for s in preferred}
        scenario = min(preferred, key=lambda s: (-part[s], preferred.index(s)))
        worst = min((f for f in failures if f.scenario == scenario), key=lambda f: f.share)
        out[model] = (scenario, worst.in_general)
    return out


def _failing(
    demo: FairnessReport, hand: FairnessReport, model: str, scenario: str, failures: list[Failure]
) -> float:
    """The part of ``scenario``'s instances where ``model`` fails a check."""
    instances = sum(r.result(model, scenario).instances for r in (demo, hand))
    deals = {f.deal for f in failures if f.scenario == scenario}
    return len(deals) / instances if instances else 0.0


def drift(demo: FairnessReport, hand: FairnessReport) -> list[str]:
    """The models whose registry marks disagree with what the check shows, with the mark to set."""
    problems = []
    for model, mark in marks(demo, hand).items():
        spec = MODELS[model]
        if mark is None and not spec.for_pay:
            problems.append(f"{model}: passes every check; mark it for pay")
        elif mark is not None:
            failed = {f.scenario for f in demo.failures(model) + hand.failures(model)}
            if spec.for_pay or spec.fails not in failed:
                problems.append(
                    f'{model}: set for_pay=False, fails="{mark[0]}", fails_because="{mark[1]}"'
                )
            elif spec.fails == mark[0] and spec.fails_because != mark[1]:
                problems.append(f'{model}: set fails_because="{mark[1]}"')
    return problems


def replace_block(text: str, new: str) -> str:
    """``text`` with the part from ``BEGIN`` to ``END`` replaced by ``new``."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise SystemExit(f"scenario_table: the markers {BEGIN} ... {END} are not in the README")
    return text[:start] + new + text[end + len(END) :]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--readme", type=Path, default=README, help="the README to update")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--print", action="store_true", help="print the table, change nothing")
    what.add_argument("--check", action="store_true", help="exit 1 if the README is not current")
    args = parser.parse_args(argv)

    demo, hand = demo_fairness()
    new = block(demo)
    status = 0
    for problem in drift(demo, hand):
        print(f"scenario_table: registry mark out of date: {problem}", file=sys.stderr)
        status = 1
    for model in hand.models:
        if failures := hand.failures(model):
            shown = "; ".join(str(f) for f in failures[:2]) + ("; ..." if len(failures) > 2 else "")
            print(f"scenario_table: hand-built fixtures, {model}: {shown}", file=sys.stderr)
    if args.print:
        print(new)
        return status
    text = args.readme.read_text(encoding="utf-8")
    updated = replace_block(text, new)
    if args.check:
        if updated != text:
            print(f"scenario_table: {args.readme} is not up to date", file=sys.stderr)
            return 1
        return status
    if updated != text:
        args.readme.write_text(updated, encoding="utf-8")
        print(f"scenario_table: wrote the table into {args.readme}", file=sys.stderr)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
