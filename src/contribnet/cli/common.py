"""What the sub-commands share: the ``--store`` option, opening the store it names, and the
output: one number format and tables that never cut or wrap an id, a timestamp or an amount.

Numbers: counts with thousands separators (``12,733``), money in yuan with two decimals
(``¥226,000.00``, from integer fen), shares and ratios as they are. A table that does not fit the
terminal is printed as one block of ``column: value`` lines per row (as ``psql``'s expanded
mode), so that every value stays whole.
"""

from __future__ import annotations

import argparse
import csv
import getpass
import io
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, Literal

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from contribnet.settings import Settings
from contribnet.store import Store, open_store


def add_store_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        default=None,
        metavar="URL",
        help="sqlite:///path.db or neo4j://user:pass@host:7687 (default: $CONTRIBNET_STORE, "
        "else sqlite:///./contribnet.db)",
    )


def settings_from(args: argparse.Namespace) -> Settings:
    """The environment's settings (``SettingsError``, exit 2, for a bad value), ``--store``
    overriding ``CONTRIBNET_STORE``."""
    settings = Settings.from_env()
    if getattr(args, "store", None):
        settings = settings.model_copy(update={"store_url": args.store})
    return settings


@contextmanager
def opened_store(args: argparse.Namespace, *, create: bool = False) -> Iterator[Store]:
    """The store of ``--store``; only commands that write pass ``create=True``: a read of a
    mistyped SQLite path says "no database at PATH" instead of creating it (and its folders)."""
    store = open_store(settings_from(args).store_url, create=create)
    try:
        yield store
    finally:
        store.close()


def cli_actor() -> str:
    """Who the audit trail and the ledger record for a command: ``cli:`` and the OS user
    (``cli:ops``), or ``cli`` when the user cannot be found (no passwd entry in a container)."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def count(n: int) -> str:
    """A count: ``12,733``."""
    return f"{n:,}"


def money(fen: int) -> str:
    """Integer fen as yuan: ``¥226,000.00`` (negative: ``-¥5.00``)."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}¥{yuan:,}.{cents:02d}"


def cell(value: Any) -> str:
    """A value as a table shows it: integers with thousands separators, instants in ISO 8601,
    lists comma-separated, anything else as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return count(value)
    if isinstance(value, float):
        return f"{value:,.6g}" if abs(value) < 1e15 else str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "iso_format"):  # neo4j.time types
        return str(value.iso_format())
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return ", ".join(cell(v) for v in value)
    return json.dumps(value, ensure_ascii=False, default=str)


def csv_text(columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> str:
    """Rows as CSV with a header: raw values (no thousands separators), instants in ISO 8601,
    lists ``;``-separated, anything else as JSON."""

    def raw(value: Any) -> Any:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str | int | float):
            return value
        if isinstance(value, datetime | date):
            return value.isoformat()
        if hasattr(value, "iso_format"):
            return value.iso_format()
        if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
            return ";".join(str(v) for v in value)
        return json.dumps(value, ensure_ascii=False, default=str)

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([raw(row.get(c)) for c in columns])
    return out.getvalue()


_MONEY = re.compile(r"[+-]?¥[\d,]+\.\d\d")


def _is_number(value: Any) -> bool:
    """A count, a ratio or an amount as :func:`money` writes it: right-aligned in a table."""
    if isinstance(value, str):
        return _MONEY.fullmatch(value) is not None
    return isinstance(value, int | float) and not isinstance(value, bool)


def print_rows(
    console: Console,
    columns: Sequence[str],
    rows: Sequence[Mapping[str, Any]],
    *,
    wrap: Sequence[str] = (),
) -> None:
    """Rows as a table whose cells never wrap (numbers right-aligned), or, if that is wider than
    the terminal, as expanded records. Columns in ``wrap`` hold free text that may wrap."""
    cells = [[cell(r.get(c)) for c in columns] for r in rows]
    numeric = [
        all(_is_number(r.get(c)) for r in rows if r.get(c) is not None)
        and any(r.get(c) is not None for r in rows)
        for c in columns
    ]
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(columns)]
    fixed = sum(w for w, c in zip(widths, columns, strict=True) if c not in wrap)
    free = [w for w, c in zip(widths, columns, strict=True) if c in wrap]
    needed = fixed + sum(min(w, 20) for w in free) + 3 * len(columns) + 1
    if needed <= console.width or not rows:
        table = Table(show_header=True, header_style="bold")
        for c, is_number in zip(columns, numeric, strict=True):
            if c in wrap:
                table.add_column(escape(c), overflow="fold", ratio=1)
            else:
                justify: Literal["left", "right"] = "right" if is_number else "left"
                table.add_column(escape(c), no_wrap=True, justify=justify, min_width=len(c))
        for row in cells:
            table.add_row(*(escape(x) for x in row))
        console.print(table)
        return
    label = max(len(c) for c in columns)
    for n, row in enumerate(cells, start=1):
        console.print(f"[bold]-[ row {count(n)} ]-[/bold]")
        for c, value in zip(columns, row, strict=True):
            console.print(f"{escape(c).ljust(label)} : {escape(value)}", soft_wrap=c not in wrap)
