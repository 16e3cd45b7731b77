"""The CLI's one number format and its tables: amounts in yuan, right-aligned like counts."""

from __future__ import annotations

import io

from rich.console import Console

from contribnet.cli.common import money, print_rows


def test_money_is_yuan_with_two_decimals_from_integer_fen() -> None:
    assert money(22_600_000) == "¥226,000.00"
    assert money(-500) == "-¥5.00"
    assert money(7) == "¥0.07"


def test_amounts_and_counts_are_right_aligned_text_left() -> None:
    out = io.StringIO()
    console = Console(file=out, width=80)
    rows = [
        {"who": "sf-a", "paid": money(12_345_678), "deals": 3},
        {"who": "sf-longer-id", "paid": money(-500), "deals": 12_733},
    ]
    print_rows(console, ("who", "paid", "deals"), rows)
    lines = [line for line in out.getvalue().splitlines() if "sf-" in line]
    # right-aligned: both amounts end in the same column, both counts too
    assert lines[0].index("¥123,456.78") + len("¥123,456.78") == lines[1].index("-¥5.00") + len(
        "-¥5.00"
    ), lines
    assert lines[0].index(" 3 ") + 2 == lines[1].index("12,733") + len("12,733"), lines
    assert lines[0].index("sf-a") == lines[1].index("sf-longer-id"), lines  # text: left
